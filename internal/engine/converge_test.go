package engine

import (
	"context"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hrsync/hrsync/internal/config"
	"github.com/hrsync/hrsync/internal/plan"
	"github.com/hrsync/hrsync/internal/targets"
)

type worker struct {
	id, status, first, last, dept, title, manager, hire string
}

var (
	firsts = []string{"José", "Zoë", "Łukasz", "Seán", "Ana María", "Björn", "Chloé", "Priya", "Wei", "Olusegun", "Inés", "Jürgen"}
	lasts  = []string{"García", "Müller", "Nowak", "O'Brien", "de la Cruz", "Ångström", "Lefèvre", "Natarajan", "Zhang", "Adeyemi"}
	depts  = []string{"Sales", "Engineering", "Finance", "People", "Marketing", ""}
)

// letters makes a per-worker surname suffix so generated names stay unique.
func letters(n int) string {
	s := ""
	for n >= 0 {
		s = string(rune('a'+n%26)) + s
		n = n/26 - 1
	}
	return s
}

func writeWorkers(t *testing.T, path string, ws []*worker) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(f)
	_ = w.Write([]string{"WorkerID", "WorkerStatus", "FirstName", "LastName", "Department", "JobTitle", "ManagerID", "HireDate"})
	for _, x := range ws {
		_ = w.Write([]string{x.id, x.status, x.first, x.last, x.dept, x.title, x.manager, x.hire})
	}
	w.Flush()
	if err := f.Close(); err != nil || w.Error() != nil {
		t.Fatal(err, w.Error())
	}
}

// TestConvergesUnderRandomChanges evolves a workforce through random HR
// changes; after every apply the next plan must be empty and the tenant
// must be exactly what the source says.
func TestConvergesUnderRandomChanges(t *testing.T) {
	const rounds, start = 8, 120
	rng := rand.New(rand.NewPCG(7, 11))
	dir := t.TempDir()
	mapping, err := os.ReadFile(filepath.Join("..", "..", "mappings", "example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"m.yaml":      string(mapping),
		"seed.json":   `{"domains":["contoso.com"],"users":[]}`,
		"hrsync.yaml": "source:\n  path: hr.csv\nmapping: m.yaml\ntarget:\n  type: sandbox\n  state: tenant.json\n  seed: seed.json\npolicy:\n  max_leavers: 0\n  max_leavers_percent: 0\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := config.Load(config.Options{File: filepath.Join(dir, "hrsync.yaml"), FileExplicit: true})
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(cfg, nil, nil, "test", targets.Open)
	if err != nil {
		t.Fatal(err)
	}
	e.Now = func() time.Time { return time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC) }

	next := 0
	newWorker := func(ws []*worker) *worker {
		next++
		w := &worker{id: fmt.Sprintf("E%04d", next), status: "Active", first: firsts[rng.IntN(len(firsts))],
			last: lasts[rng.IntN(len(lasts))] + " " + letters(next), dept: depts[rng.IntN(len(depts))], title: "Engineer",
			hire: fmt.Sprintf("20%02d-%02d-%02d", 10+rng.IntN(16), 1+rng.IntN(12), 1+rng.IntN(28))}
		if len(ws) > 0 && rng.IntN(10) > 0 {
			w.manager = ws[rng.IntN(len(ws))].id
		}
		return w
	}
	var ws []*worker
	for range start {
		ws = append(ws, newWorker(ws))
	}
	ctx := context.Background()
	run := func(round int, apply bool) *plan.Plan {
		t.Helper()
		src, err := e.ReadSource(ctx)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		tgt, err := e.OpenTarget(ctx)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		defer func() {
			if err := tgt.Close(ctx); err != nil {
				t.Fatal(err)
			}
		}()
		dir, err := e.ReadDirectory(ctx, tgt)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		p, err := e.Plan(src, dir, PlanTarget(tgt))
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if apply && p.Summary.Changes() > 0 {
			rep, err := e.ApplyWith(ctx, p, tgt, ApplyOptions{})
			if err != nil || rep.Incomplete() > 0 {
				t.Fatalf("round %d: apply: %v %+v", round, err, rep)
			}
		}
		return p
	}
	for round := 0; round < rounds; round++ {
		if round > 0 {
			for i := 0; i < len(ws); i++ {
				switch w := ws[i]; rng.IntN(20) {
				case 0: // leaver
					ws = append(ws[:i], ws[i+1:]...)
					i--
				case 1, 2: // mover
					w.dept = depts[rng.IntN(len(depts))]
					w.title = []string{"Engineer", "Senior Engineer", "Manager", ""}[rng.IntN(4)]
				case 3: // new manager (possibly none)
					w.manager = ""
					if rng.IntN(4) > 0 {
						w.manager = ws[rng.IntN(len(ws))].id
					}
				case 4: // status flip
					w.status = map[string]string{"Active": "Inactive", "Inactive": "Active"}[w.status]
				case 5: // HR re-types the key in another case
					w.id = strings.ToLower(w.id)
					for _, r := range ws {
						if strings.EqualFold(r.manager, w.id) {
							r.manager = w.id
						}
					}
				}
			}
			for range 1 + rng.IntN(8) {
				ws = append(ws, newWorker(ws))
			}
		}
		writeWorkers(t, filepath.Join(dir, "hr.csv"), ws)
		first := run(round, true)
		if again := run(round, false); again.Summary.Changes() != 0 {
			t.Fatalf("round %d: plan after apply is not empty: %+v\nfirst: %+v", round, actionsSummary(again), first.Summary)
		}
		checkTenant(t, round, filepath.Join(dir, "tenant.json"), ws)
	}
}

func actionsSummary(p *plan.Plan) []string {
	var out []string
	for _, a := range p.Actions {
		var ch []string
		for _, c := range a.Changes {
			ch = append(ch, c.Attribute)
		}
		out = append(out, a.Action+" "+a.Key+" "+strings.Join(ch, ","))
	}
	return out
}

// checkTenant asserts the invariants: one user per key; every active worker
// enabled with the source's department and manager; every user whose key
// left the source disabled.
func checkTenant(t *testing.T, round int, path string, ws []*worker) {
	t.Helper()
	st, err := graphsimState(path)
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]map[string]any{}
	idKey := map[string]string{}
	for _, u := range st {
		k, _ := u["employeeId"].(string)
		if k == "" {
			continue
		}
		if _, dup := byKey[plan.Fold(k)]; dup {
			t.Fatalf("round %d: two users hold key %s", round, k)
		}
		byKey[plan.Fold(k)] = u
		idKey[u["id"].(string)] = plan.Fold(k)
	}
	inSource := map[string]bool{}
	for _, w := range ws {
		inSource[plan.Fold(w.id)] = true
		u := byKey[plan.Fold(w.id)]
		if w.status != "Active" {
			if u != nil && u["accountEnabled"] != false {
				t.Errorf("round %d: inactive %s is enabled", round, w.id)
			}
			continue
		}
		if u == nil {
			t.Errorf("round %d: active %s has no account", round, w.id)
			continue
		}
		dept, _ := u["department"].(string)
		mgr, _ := u["manager"].(string)
		if u["accountEnabled"] != true || dept != w.dept || u["employeeId"] != w.id {
			t.Errorf("round %d: %s = enabled %v dept %q id %v, want dept %q", round, w.id, u["accountEnabled"], dept, u["employeeId"], w.dept)
		}
		wantMgr := ""
		if w.manager != "" && byKey[plan.Fold(w.manager)] != nil {
			wantMgr = plan.Fold(w.manager)
		}
		if idKey[mgr] != wantMgr && !(wantMgr == "" && mgr == "") {
			t.Errorf("round %d: manager of %s is %q, want %q", round, w.id, idKey[mgr], wantMgr)
		}
	}
	for k, u := range byKey {
		if !inSource[k] && u["accountEnabled"] != false {
			t.Errorf("round %d: leaver %s is still enabled", round, k)
		}
	}
}
