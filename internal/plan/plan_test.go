package plan

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/hrsync/hrsync/internal/identity"
)

func TestWriteReadRoundTrip(t *testing.T) {
	in := input([]identity.Desired{person("1001", 2, "Ann Lee", "Sales"), person("1002", 3, "Bob Ray", "IT", "manager", "1001")},
		[]identity.User{user("u9", "1009", "accountEnabled", "true")})
	p, err := Compute(in)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "plan.json")
	if err := Write(path, p); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode = %v, %v", fi.Mode().Perm(), err)
	}
	got, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, p) {
		t.Errorf("round trip differs:\n%+v\n%+v", got, p)
	}
}

func TestReadRejects(t *testing.T) {
	tests := map[string]string{
		"not json":       "hello",
		"no version":     `{"actions":[]}`,
		"future version": `{"format_version":"2.1"}`,
	}
	for name, body := range tests {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "p.json")
			if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := Read(path); !errors.Is(err, ErrFormat) {
				t.Errorf("err = %v, want ErrFormat", err)
			}
		})
	}
}

// Encode streams the plan action by action, byte for byte what
// json.Encoder with SetIndent writes, and Parse reads it back identically.
func TestEncodeStreamsTheSameBytes(t *testing.T) {
	after, before := "Sales & <Ops>", "x"
	in := input([]identity.Desired{person("1001", 2, "Ann Lee", "Sales & <Ops>"), person("1002", 3, "Bob Ray", "IT", "manager", "1001")},
		[]identity.User{user("u9", "1009", "accountEnabled", "true")})
	computed, err := Compute(in)
	if err != nil {
		t.Fatal(err)
	}
	plans := []*Plan{
		computed,
		{FormatVersion: FormatVersion, Target: Target{Type: "entra", Endpoint: "https://graph.microsoft.com"}},
		{FormatVersion: FormatVersion, Target: Target{Type: "entra", Endpoint: "e"}, Actions: []Action{}, Warnings: []Warning{}, Blocked: []string{"a"}},
		{FormatVersion: FormatVersion, CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Target: Target{Type: "entra", Endpoint: "e"},
			Actions: []Action{{Action: Update, Key: "1", ID: "u1", Changes: []Change{{Attribute: "department", Before: &before, After: &after}}},
				{Action: Create, Key: "2\u2028"}},
			Warnings: []Warning{{Code: WarnEveryRun, Message: "m <b>"}}, Applyable: true},
	}
	for i, p := range plans {
		var want, got bytes.Buffer
		p.classify() // Encode classifies the warnings first
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		if err := enc.Encode(p); err != nil {
			t.Fatal(err)
		}
		if err := Encode(&got, p); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Fatalf("plan %d:\ngot  %s\nwant %s", i, got.String(), want.String())
		}
		if p == computed {
			back, err := Parse("p.json", got.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back.Actions, p.Actions) || !reflect.DeepEqual(back.Warnings, p.Warnings) {
				t.Fatalf("plan %d read back differently: %+v", i, back)
			}
		}
	}
}

// TestEncodeOnlyReadsThePlan: Encode writes every warning's severity and
// the count of problems, derived from the codes, without changing the
// plan it encodes (a plan is saved while it is rendered).
func TestEncodeOnlyReadsThePlan(t *testing.T) {
	p := &Plan{FormatVersion: FormatVersion, Actions: []Action{}, Warnings: []Warning{
		{Code: WarnRecordError, Key: "1", Message: "a problem", Severity: SeverityNote}, // a wrong severity, as a file may hold
		{Code: WarnEveryRun, Key: "2", Message: "a note"},
	}}
	p.Summary.Problems = 7
	before, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := Encode(&b, p); err != nil {
		t.Fatal(err)
	}
	if after, _ := json.Marshal(p); !bytes.Equal(before, after) {
		t.Errorf("Encode changed the plan:\nbefore %s\nafter  %s", before, after)
	}
	var got Plan
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Summary.Problems != 1 || got.Warnings[0].Severity != SeverityProblem || got.Warnings[1].Severity != Severity(WarnEveryRun) {
		t.Errorf("encoded: problems %d, severities %q, %q", got.Summary.Problems, got.Warnings[0].Severity, got.Warnings[1].Severity)
	}
}
