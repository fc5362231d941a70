package engine

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hrsync/hrsync/internal/config"
	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/mapping"
	"github.com/hrsync/hrsync/internal/plan"
	"github.com/hrsync/hrsync/internal/source"
	"github.com/hrsync/hrsync/internal/targets"
)

const testMapping = `match:
  source: '[WorkerID]'
  target: employeeId
attributes:
  displayName: 'Join(" ", [FirstName], [LastName])'
  userPrincipalName: 'Append(ToLower([FirstName]), "@contoso.com")'
  mailNickname: 'ToLower([FirstName])'
  department: 'Mid([Department], 1, [Len])'
`

func setup(t *testing.T, csv string) *Engine {
	t.Helper()
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cfgPath := write("hrsync.yaml", "source:\n  path: hr.csv\nmapping: m.yaml\ntarget:\n  type: sandbox\n  state: tenant.json\n")
	write("m.yaml", testMapping)
	write("hr.csv", csv)
	cfg, err := config.Load(config.Options{File: cfgPath, FileExplicit: true})
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(cfg, nil, nil, "test", targets.Open)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestReadSourceMapsAndRejects(t *testing.T) {
	e := setup(t, "WorkerID,FirstName,LastName,Department,Len\n1,Ann,Lee,Sales,3\n2,Bob,Ray,IT,x\n,Cy,Dee,IT,2\n")
	res, err := e.ReadSource(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary.Records != 3 || len(res.Desired) != 1 || len(res.Rejected) != 2 {
		t.Fatalf("records %d desired %d rejected %d", res.Summary.Records, len(res.Desired), len(res.Rejected))
	}
	if d := res.Desired[0]; d.Key != "1" || d.Attrs.Get("department") != "Sal" {
		t.Errorf("desired = %+v", d)
	}
	if r := res.Rejected[0]; r.Key != "2" || r.Prov.Line != 3 || !strings.Contains(r.Reason, "Mid") {
		t.Errorf("rejected = %+v", r)
	}
	if r := res.Rejected[1]; r.Key != "" || r.Prov.Line != 4 {
		t.Errorf("unkeyed = %+v", r)
	}
}

func TestReadSourceErrorsAreNotWrappedTwice(t *testing.T) {
	tests := []struct {
		name, csv string
		check     func(error) bool
		want      string
	}{
		{"missing column", "WorkerID,FirstName,LastName,Department\n1,A,B,C\n",
			func(err error) bool { var me *mapping.Error; return errors.As(err, &me) }, "m.yaml:8: department: field [Len] is not a column of"},
		{"missing column, no rows", "WorkerID,FirstName,LastName,Department\n",
			func(err error) bool { var me *mapping.Error; return errors.As(err, &me) }, "field [Len]"},
		{"malformed CSV", "WorkerID,FirstName,LastName,Department,Len\n1,A,B,C\n",
			func(err error) bool { var se *source.Error; return errors.As(err, &se) }, "hr.csv:2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := setup(t, tt.csv).ReadSource(context.Background())
			if err == nil || !tt.check(err) || !strings.Contains(err.Error(), tt.want) || strings.HasPrefix(err.Error(), "read csv") {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestCheckPlan(t *testing.T) {
	e := setup(t, "WorkerID,FirstName,LastName,Department,Len\n1,Ann,Lee,Sales,3\n")
	here := plan.Target{Type: "sandbox", Endpoint: "sandbox:/x.json"}
	good := &plan.Plan{Target: here, Inputs: plan.Inputs{Mapping: plan.InputFile{Digest: e.Mapping.Digest}, Config: plan.InputFile{Digest: plan.Digest(e.Cfg.Raw)}}}
	if err := e.CheckPlan(good, here); err != nil {
		t.Fatalf("matching plan refused: %v", err)
	}
	tests := []struct {
		name string
		edit func(p *plan.Plan)
		want string
	}{
		{"other endpoint", func(p *plan.Plan) { p.Target.Endpoint = "sandbox:/y.json" }, "the plan was made for sandbox sandbox:/y.json"},
		{"other tenant", func(p *plan.Plan) { p.Target.TenantID = "t2" }, `tenant "t2"`},
		{"mapping changed", func(p *plan.Plan) { p.Inputs.Mapping.Digest = "sha256:0" }, "the mapping"},
		{"config changed", func(p *plan.Plan) { p.Inputs.Config.Digest = "sha256:0" }, "the configuration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := *good
			tt.edit(&p)
			if err := e.CheckPlan(&p, here); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestDisplay(t *testing.T) {
	tests := []struct{ wd, p, want string }{
		{"/a/b", "/a/b/c.csv", "c.csv"},
		{"/a/b/c", "/a/b/m.yaml", "../m.yaml"},
		{"/a/b/c", "/a/m.yaml", "../../m.yaml"},
		{"/a/b/c", "/m.yaml", "/m.yaml"},
		{"", "/x/y", "/x/y"},
	}
	for _, tt := range tests {
		if got := display(tt.wd, tt.p); got != tt.want {
			t.Errorf("display(%q, %q) = %q, want %q", tt.wd, tt.p, got, tt.want)
		}
	}
}

// graphsimState reads the users of a sandbox state file as generic maps.
func graphsimState(path string) ([]map[string]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var st struct {
		Users []map[string]any `json:"users"`
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, err
	}
	return st.Users, nil
}

func TestReadSourceRefusesAnEmptySource(t *testing.T) {
	for name, csv := range map[string]string{
		"header only":     "WorkerID,FirstName,LastName,Department,Len\n",
		"only blank rows": "WorkerID,FirstName,LastName,Department,Len\n,,,,\n\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := setup(t, csv).ReadSource(context.Background())
			if !errors.Is(err, plan.ErrEmptySource) || !strings.Contains(err.Error(), "hr.csv") {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

type recordingProgress struct{ total, last int }

func (r *recordingProgress) Start(_ string, total int) Counter { r.total = total; return r }
func (r *recordingProgress) Set(n int)                         { r.last = n }
func (r *recordingProgress) Done()                             {}

// The apply progress bar's total is the number of writes apply makes, so it
// ends full: a manager-only update and a refused action count as apply
// counts them.
func TestApplyProgressReachesItsTotal(t *testing.T) {
	e := setup(t, "WorkerID,FirstName,LastName,Department,Len\n1,Ann,Lee,Sales,3\n")
	rec := &recordingProgress{}
	e.Progress = rec
	ctx := context.Background()
	tgt, err := e.OpenTarget(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.Close(ctx)
	s := func(v string) *string { return &v }
	p := &plan.Plan{Applyable: true, Match: plan.MatchInfo{Target: "employeeId"}, Actions: []plan.Action{
		{Action: plan.Update, Key: "9", ID: "00000000-0000-0000-0000-000000000009", Manager: &plan.ManagerRef{Key: "8", ID: "00000000-0000-0000-0000-000000000008"},
			Changes: []plan.Change{{Attribute: "manager", After: s("8")}}},
		{Action: plan.Update, Key: "7", ID: "00000000-0000-0000-0000-000000000007", Changes: []plan.Change{{Attribute: "department", After: s("x")}}},
	}}
	if _, err := e.ApplyWith(ctx, p, tgt, ApplyOptions{Refused: []plan.Refusal{{Index: 1, Reason: "stale"}}}); err != nil {
		t.Fatal(err)
	}
	if rec.total != 1 || rec.last != 1 {
		t.Errorf("progress total %d, last %d; want 1 and 1", rec.total, rec.last)
	}
}

// TestPlansLeaveClassified: the plans Plan and Validate return have every
// warning classified, the source's included, so that saving a plan (which
// classifies it) only reads it while it is rendered.
func TestPlansLeaveClassified(t *testing.T) {
	e := setup(t, "WorkerID,FirstName,LastName,Department,Len\n1,Ann,Lee,Sales,3\n")
	src, err := e.ReadSource(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	src.SourceWarnings = []plan.Warning{
		{Code: plan.WarnRecordError, Key: "1", Message: "a reference the source cannot resolve"},
		{Code: plan.WarnEveryRun, Key: "1", Message: "a note"},
	}
	planned, err := e.Plan(src, &Snapshot{Users: []identity.User{}}, plan.Target{})
	if err != nil {
		t.Fatal(err)
	}
	validated, err := e.Validate(src)
	if err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]*plan.Plan{"Plan": planned, "Validate": validated} {
		problems := 0
		for _, w := range p.Warnings {
			if w.Severity != plan.Severity(w.Code) {
				t.Errorf("%s: warning %s has severity %q, want %q", name, w.Code, w.Severity, plan.Severity(w.Code))
			}
			if w.Severity == plan.SeverityProblem {
				problems++
			}
		}
		if len(p.Warnings) < 2 || p.Summary.Problems != problems {
			t.Errorf("%s: %d warnings, summary counts %d problems, want %d", name, len(p.Warnings), p.Summary.Problems, problems)
		}
	}
}
