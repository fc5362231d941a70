package plan

import (
	"os"
	"regexp"
	"testing"
)

// Every warning code is classified on purpose: a new one must be added to
// severities (and to README's table).
func TestEveryWarningCodeIsClassified(t *testing.T) {
	src, err := os.ReadFile("plan.go")
	if err != nil {
		t.Fatal(err)
	}
	codes := regexp.MustCompile(`(?m)^\s*Warn\w+\s*=\s*"(\w+)"`).FindAllStringSubmatch(string(src), -1)
	if len(codes) < 20 {
		t.Fatalf("found only %d warning codes in plan.go", len(codes))
	}
	for _, c := range codes {
		if _, ok := severities[c[1]]; !ok {
			t.Errorf("warning code %q has no severity", c[1])
		}
	}
	if Severity("a_code_from_the_future") != SeverityProblem {
		t.Error("an unknown code must count as a problem")
	}
}

// Severity and the count of problems are derived from the codes when a
// plan file is read, never trusted from it.
func TestSeverityIsDerivedOnRead(t *testing.T) {
	in := input(nil, nil)
	in.Records = 1
	in.Rejected = []Rejected{{Key: "1048", Reason: "boom"}}
	p, err := Compute(in)
	if err != nil {
		t.Fatal(err)
	}
	p.Target = Target{Type: "entra", Endpoint: "https://graph.microsoft.com"}
	if p.Summary.Problems != 1 || p.Warnings[0].Severity != SeverityProblem {
		t.Fatalf("summary %+v warnings %+v", p.Summary, p.Warnings)
	}
	p.Warnings[0].Severity = SeverityNote
	p.Warnings = append(p.Warnings, Warning{Code: WarnManagerCycle, Severity: SeverityProblem, Message: "m"})
	p.Summary.Problems = 0
	path := t.TempDir() + "/plan.json"
	if err := Write(path, p); err != nil {
		t.Fatal(err)
	}
	got, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Summary.Problems != 1 || got.Warnings[0].Severity != SeverityProblem || got.Warnings[1].Severity != SeverityNote {
		t.Errorf("read back: summary %+v warnings %+v", got.Summary, got.Warnings)
	}
	if len(got.Problems()) != 1 || len(got.Notes()) != 1 {
		t.Errorf("problems %v notes %v", got.Problems(), got.Notes())
	}
}
