package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hrsync/hrsync/internal/config"
	"github.com/hrsync/hrsync/internal/directory"
	"github.com/hrsync/hrsync/internal/graphsim"
	"github.com/hrsync/hrsync/internal/targets"
)

// A plan with a few changes in a larger tenant is rechecked by reading
// only its users again, in $batch requests, and still refuses an action
// whose user someone edited since the plan.
func TestRecheckReadsOnlyThePlansUsers(t *testing.T) {
	const n = 1000
	var users, rows []string
	rows = append(rows, "WorkerID,WorkerStatus,FirstName,LastName,Department,JobTitle,ManagerID,HireDate")
	for i := 1; i <= n; i++ {
		dept := "Sales"
		if i <= 3 {
			dept = "Old" // three movers
		}
		users = append(users, fmt.Sprintf(`{"id":"u%d","employeeId":"%d","accountEnabled":true,"displayName":"W%d Lee","givenName":"W%d","surname":"Lee","userPrincipalName":"w%d.lee@contoso.com","mailNickname":"w%d.lee","department":"%s","jobTitle":"Engineer","companyName":"Contoso","usageLocation":"DE","employeeHireDate":"2020-01-01T00:00:00Z"%s}`, i, i, i, i, i, i, dept, managerOf(i)))
		mgr := ""
		if i > 1 {
			mgr = "1"
		}
		rows = append(rows, fmt.Sprintf("%d,Active,W%d,Lee,Sales,Engineer,%s,2020-01-01", i, i, mgr))
	}
	dir := t.TempDir()
	seed := filepath.Join(dir, "seed.json")
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("seed.json", `{"domains":["contoso.com"],"users":[`+strings.Join(users, ",")+`]}`)
	write("hr.csv", strings.Join(rows, "\n")+"\n")
	write("m.yaml", `match:
  source: '[WorkerID]'
  target: employeeId
attributes:
  displayName: 'Join(" ", [FirstName], [LastName])'
  givenName: '[FirstName]'
  surname: '[LastName]'
  mailNickname: 'ToLower(Join(".", [FirstName], [LastName]))'
  userPrincipalName: 'Append(ToLower(Join(".", [FirstName], [LastName])), "@contoso.com")'
  department: '[Department]'
  jobTitle: '[JobTitle]'
  employeeHireDate: '[HireDate]'
  manager: '[ManagerID]'
`)
	srv, err := graphsim.New(graphsim.Options{SeedPath: seed, Token: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	base, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close(context.Background())
	write("hrsync.yaml", "source:\n  path: hr.csv\nmapping: m.yaml\ntarget:\n  type: entra\n  auth: access_token\n  graph_url: "+base+"\n")
	t.Setenv("HRSYNC_ACCESS_TOKEN", "tok")
	cfg, err := config.Load(config.Options{File: filepath.Join(dir, "hrsync.yaml"), FileExplicit: true})
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(cfg, nil, nil, "test", targets.Open)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	src, err := e.ReadSource(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tgt, err := e.OpenTarget(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.Close(ctx)
	dir2, err := e.ReadDirectory(ctx, tgt)
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.Plan(src, dir2, PlanTarget(tgt))
	if err != nil {
		t.Fatal(err)
	}
	if p.Summary.Update != 3 || len(p.Actions) != 3 {
		t.Fatalf("plan %+v", p.Summary)
	}
	// Someone edits the second mover in Entra after the plan.
	var editErr error
	tgt.Do(ctx, []directory.Op{{Kind: directory.OpUpdate, UserID: p.Actions[1].ID, Set: map[string]*string{"jobTitle": ptr("Edited")}}},
		directory.DoOptions{}, func(_ int, o directory.Outcome) { editErr = o.Err })
	if editErr != nil {
		t.Fatal(editErr)
	}
	before := srv.Stats()
	rc, err := e.Recheck(ctx, p, tgt, nil)
	if err != nil {
		t.Fatal(err)
	}
	after := srv.Stats()
	if len(rc.Refused) != 1 || rc.Refused[0].Index != 1 || !strings.Contains(rc.Refused[0].Reason, "changed in the directory") {
		t.Fatalf("refused %+v", rc.Refused)
	}
	delta := func(m1, m2 map[string]int64, k string) int64 { return m2[k] - m1[k] }
	if got := delta(before.BatchItems, after.BatchItems, "GET /users/{id}"); got != 3 {
		t.Errorf("users read by id: %d, want 3 (%v)", got, after.BatchItems)
	}
	if got := delta(before.Requests, after.Requests, "GET /users/delta") + delta(before.Requests, after.Requests, "GET /users"); got != 0 {
		t.Errorf("the recheck listed the directory: %d pages", got)
	}
	if got := delta(before.Requests, after.Requests, "POST /$batch"); got > 2 {
		t.Errorf("%d $batch requests for 6 lookups", got)
	}
}

func ptr(s string) *string { return &s }

// managerOf gives every seeded user but the first user u1 as manager.
func managerOf(i int) string {
	if i == 1 {
		return ""
	}
	return `,"manager":"u1"`
}
