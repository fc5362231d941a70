package main

// Scenarios that combine the lifecycle features on tenants big enough for
// the targeted stale re-read (2,000 users): managers, group and license
// rules, pre-hire joiners, leave dates, grace-period deletes, restores,
// and writes that land while their answer (or journal line) is lost. Each
// checks plan -> apply -> plan converges, nothing is refused as stale that
// nobody changed, no worker exists twice, and nothing outside the rules is
// touched. (Written as a bug hunt; the bugs it found are fixed.)

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hrsync/hrsync/internal/graphsim"
)

const (
	skuE3    = "6fd2c87f-b296-42f0-b197-1e91e994b900"
	skuE1    = "18181a46-0d4e-45cd-891e-60aabd171b4e"
	skuOther = "c7df2760-2c81-4ef7-b578-5b5392b571df"
)

const combinedMapping = `match:
  source: '[WorkerID]'
  target: employeeId
attributes:
  displayName: 'Join(" ", [First], [Last])'
  mailNickname: 'ToLower(Join(".", [First], [Last]))'
  userPrincipalName: 'Append(ToLower(Join(".", [First], [Last])), "@contoso.com")'
  department: '[Department]'
  employeeHireDate: '[HireDate]'
  employeeLeaveDateTime: '[LeaveDate]'
  accountEnabled: 'IIF([Status]="Active", "True", "False")'
  usageLocation: 'IgnoreFlowIfNullOrEmpty([Country])'
  manager: '[ManagerID]'
groups:
  - group: All Staff
  - source: '[Department]'
    map:
      Sales: Sales Team
      Engineering: Engineering Team
      Finance: Finance Team
licenses:
  - source: '[Type]'
    map:
      Employee: SPE_E3
      Contractor: SPE_E1
`

const combinedHeader = "WorkerID,Status,First,Last,Department,HireDate,LeaveDate,Country,Type,ManagerID\n"

type hw struct {
	key, status, first, dept, hire, leave, country, typ, mgr string
}

func (w hw) row() string {
	return strings.Join([]string{w.key, w.status, w.first, "Lee", w.dept, w.hire, w.leave, w.country, w.typ, w.mgr}, ",") + "\n"
}

type combinedScenario struct {
	seed    graphsim.State
	workers []hw
	policy  string
}

var depts = []string{"Sales", "Engineering", "Finance"}

func deptGroup(d string) string {
	return map[string]string{"Sales": "g-sales", "Engineering": "g-eng", "Finance": "g-fin"}[d]
}

func mgrOf(k int) string {
	if k <= 1 {
		return ""
	}
	return fmt.Sprint((k-2)/6 + 1)
}

func tm(n int) time.Time {
	t, _ := time.Parse("2006-01-02", day(n))
	return t
}

// baseline: n managed users, all in sync with n HR rows.
func combinedBase(n int) *combinedScenario {
	s := &combinedScenario{policy: "  prehire_days: 7\n  delete_after_days: 30\n  leaver_remove_groups: true\n  leaver_remove_licenses: true\n  max_leavers: 0\n  max_leavers_percent: 0\n  max_source_drop_percent: 0\n"}
	s.seed.Domains = []string{"contoso.com"}
	hire, _ := time.Parse("2006-01-02", "2020-01-01")
	groups := map[string]*graphsim.Group{}
	for _, g := range [][2]string{{"g-all", "All Staff"}, {"g-sales", "Sales Team"}, {"g-eng", "Engineering Team"}, {"g-fin", "Finance Team"}, {"g-vip", "VIP"}, {"g-lic", "E3 users"}} {
		groups[g[0]] = &graphsim.Group{ID: g[0], DisplayName: g[1], SecurityEnabled: true}
	}
	for k := 1; k <= n; k++ {
		d := depts[k%3]
		first := fmt.Sprintf("W%d", k)
		u := graphsim.User{ID: fmt.Sprintf("u%d", k), EmployeeID: fmt.Sprint(k), AccountEnabled: true,
			DisplayName: first + " Lee", UserPrincipalName: strings.ToLower(first) + ".lee@contoso.com", MailNickname: strings.ToLower(first) + ".lee",
			Department: d, EmployeeHireDate: hire, UsageLocation: "DE"}
		if m := mgrOf(k); m != "" {
			u.Manager = "u" + m
		}
		u.AssignedLicenses = []graphsim.AssignedLicense{{SkuID: skuE3}}
		if k%50 == 0 {
			u.AssignedLicenses = append(u.AssignedLicenses, graphsim.AssignedLicense{SkuID: skuOther})
			groups["g-vip"].Members = append(groups["g-vip"].Members, u.ID)
		}
		s.seed.Users = append(s.seed.Users, u)
		groups["g-all"].Members = append(groups["g-all"].Members, u.ID)
		groups[deptGroup(d)].Members = append(groups[deptGroup(d)].Members, u.ID)
		s.workers = append(s.workers, hw{fmt.Sprint(k), "Active", first, d, "2020-01-01", "", "DE", "Employee", mgrOf(k)})
	}
	for _, id := range []string{"g-all", "g-sales", "g-eng", "g-fin", "g-vip", "g-lic"} {
		s.seed.Groups = append(s.seed.Groups, *groups[id])
	}
	s.seed.SubscribedSkus = []graphsim.SubscribedSku{
		{SkuID: skuE3, SkuPartNumber: "SPE_E3", PrepaidUnits: graphsim.PrepaidUnits{Enabled: 100000}},
		{SkuID: skuE1, SkuPartNumber: "SPE_E1", PrepaidUnits: graphsim.PrepaidUnits{Enabled: 100000}},
		{SkuID: skuOther, SkuPartNumber: "POWER_BI_PRO", PrepaidUnits: graphsim.PrepaidUnits{Enabled: 100000}},
	}
	return s
}

func (s *combinedScenario) user(key string) *graphsim.User {
	for i := range s.seed.Users {
		if s.seed.Users[i].EmployeeID == key {
			return &s.seed.Users[i]
		}
	}
	return nil
}

func (s *combinedScenario) worker(key string) *hw {
	for i := range s.workers {
		if s.workers[i].key == key {
			return &s.workers[i]
		}
	}
	return nil
}

func (s *combinedScenario) dropWorker(key string) {
	for i := range s.workers {
		if s.workers[i].key == key {
			s.workers = append(s.workers[:i], s.workers[i+1:]...)
			return
		}
	}
}

// combined drift: ~25 changes across every feature.
func (s *combinedScenario) drift() {
	n := len(s.workers)
	_ = n
	// pre-hire joiners; J2 reports to J1 (both joiners), J1 to existing 5.
	s.workers = append(s.workers,
		hw{"9001", "Active", "Jan", "Sales", day(3), "", "DE", "Employee", "5"},
		hw{"9002", "Active", "Jo", "Sales", day(4), "", "DE", "Employee", "9001"},
		hw{"9003", "Active", "Jay", "Engineering", day(-1), "", "FR", "Contractor", "9001"}, // started yesterday, manager a pre-hire joiner
		hw{"9004", "Active", "Jil", "Finance", day(30), "", "DE", "Employee", "5"},          // future joiner
		hw{"9005", "Active", "Jem", "Finance", day(0), "", "", "Contractor", "9003"},        // no usage location
	)
	// movers: dept + manager at once
	s.worker("20").dept, s.worker("20").mgr = "Engineering", "7"
	s.worker("21").dept, s.worker("21").mgr = "Finance", "9003"
	// type change -> license swap + usageLocation change
	s.worker("22").typ, s.worker("22").country = "Contractor", "FR"
	// leave date future, past
	s.worker("30").leave = day(10)
	s.worker("31").leave = day(-2)
	// a manager who leaves (leave date passed) while still a manager in HR
	s.worker("4").leave = day(-1)
	// absent from HR
	s.dropWorker("40")
	s.dropWorker("41")
	// status inactive
	s.worker("42").status = "Terminated"
	// disabled leavers past grace (absent from HR): delete
	for _, k := range []string{"50", "51"} {
		u := s.user(k)
		u.AccountEnabled = false
		u.EmployeeLeaveDateTime = tm(-40)
		s.dropWorker(k)
	}
	// disabled leaver within grace: nothing
	u := s.user("52")
	u.AccountEnabled, u.EmployeeLeaveDateTime = false, tm(-10)
	s.dropWorker("52")
	// rehire of a disabled leaver: old leave date, new hire date
	u = s.user("60")
	u.AccountEnabled, u.EmployeeLeaveDateTime = false, tm(-20)
	s.worker("60").hire, s.worker("60").leave = day(-1), day(-20)
	// rehire whose manager changes too
	u = s.user("61")
	u.AccountEnabled, u.EmployeeLeaveDateTime = false, tm(-25)
	s.worker("61").hire, s.worker("61").mgr, s.worker("61").dept = day(0), "9001", "Finance"
	// deleted users to restore (disabled, leave date past)
	now := time.Now().UTC()
	del := graphsim.User{ID: "d8001000-0000-4000-8000-000000000001", EmployeeID: "8001", AccountEnabled: false, DisplayName: "Rex Lee", UserPrincipalName: "rex.lee@contoso.com",
		MailNickname: "rex.lee", Department: "Sales", EmployeeHireDate: tm(-900), EmployeeLeaveDateTime: tm(-45), UsageLocation: "DE",
		DeletedDateTime: now.AddDate(0, 0, -5), AssignedLicenses: []graphsim.AssignedLicense{{SkuID: skuE3}}}
	s.seed.DeletedUsers = append(s.seed.DeletedUsers, del)
	s.workers = append(s.workers, hw{"8001", "Active", "Rex", "Engineering", day(-1), day(-45), "DE", "Employee", "9001"})
	del2 := del
	del2.ID, del2.EmployeeID, del2.DisplayName, del2.UserPrincipalName, del2.MailNickname = "d8002000-0000-4000-8000-000000000002", "8002", "Roy Lee", "roy.lee@contoso.com", "roy.lee"
	s.seed.DeletedUsers = append(s.seed.DeletedUsers, del2)
	s.workers = append(s.workers, hw{"8002", "Active", "Roy", "Sales", day(-1), day(-45), "DE", "Employee", "12"})
	// a worker whose manager is a restored user
	s.worker("23").mgr = "8001"
	// an existing user whose manager is to be deleted (absent leaver 50) -> new manager
	s.worker("24").mgr = "3"
}

func (s *combinedScenario) write(t *testing.T, opts graphsim.Options) (*graphsim.Server, string) {
	t.Helper()
	raw, err := json.Marshal(s.seed)
	if err != nil {
		t.Fatal(err)
	}
	seed := filepath.Join(t.TempDir(), "seed.json")
	copyBytes(t, seed, string(raw))
	opts.SeedPath = seed
	srv, base := startGraph(t, opts)
	dir := t.TempDir()
	copyBytes(t, filepath.Join(dir, "mapping.yaml"), combinedMapping)
	var b strings.Builder
	b.WriteString(combinedHeader)
	for _, w := range s.workers {
		b.WriteString(w.row())
	}
	copyBytes(t, filepath.Join(dir, "workers.csv"), b.String())
	copyBytes(t, filepath.Join(dir, "hrsync.yaml"), "source:\n  path: workers.csv\nmapping: mapping.yaml\ntarget:\n  type: entra\n  auth: access_token\n  graph_url: "+base+"\npolicy:\n"+s.policy)
	return srv, dir
}

func combinedInvariants(t *testing.T, srv *graphsim.Server, s *combinedScenario) {
	t.Helper()
	st := srv.Snapshot()
	active := map[string]hw{}
	for _, w := range s.workers {
		active[w.key] = w
	}
	cnt := map[string]int{}
	byID := map[string]graphsim.User{}
	for _, u := range st.Users {
		byID[u.ID] = u
		if u.EmployeeID != "" {
			cnt[u.EmployeeID]++
		}
	}
	for k, c := range cnt {
		if c > 1 {
			t.Errorf("INV3: key %s exists %d times", k, c)
		}
	}
	for _, u := range st.Users {
		if u.EmployeeID == "" {
			continue
		}
		w, inHR := active[u.EmployeeID]
		wantActive := inHR && w.status == "Active" && (w.leave == "" || w.leave >= day(0) || w.leave < w.hire) && w.hire <= day(0)
		if wantActive && !u.AccountEnabled {
			t.Errorf("INV3: active worker %s disabled", u.EmployeeID)
		}
		if !inHR && u.AccountEnabled {
			t.Errorf("INV3: absent worker %s enabled", u.EmployeeID)
		}
	}
	for _, w := range s.workers {
		if w.status == "Active" && w.hire <= day(7) && cnt[w.key] == 0 {
			t.Errorf("INV3: active worker %s has no account", w.key)
		}
	}
	// unmanaged group/license untouched
	vip := map[string]bool{}
	for _, g := range st.Groups {
		if g.ID == "g-vip" {
			for _, m := range g.Members {
				vip[m] = true
			}
		}
	}
	for _, g := range s.seed.Groups {
		if g.ID == "g-vip" {
			for _, m := range g.Members {
				if !vip[m] {
					t.Errorf("INV5: %s lost VIP", m)
				}
			}
			if len(g.Members) != len(vip) {
				t.Errorf("INV5: VIP has %d members, seed %d", len(vip), len(g.Members))
			}
		}
	}
	for _, su := range s.seed.Users {
		had := false
		for _, l := range su.AssignedLicenses {
			had = had || l.SkuID == skuOther
		}
		if !had {
			continue
		}
		u, ok := byID[su.ID]
		if !ok {
			continue
		}
		has := false
		for _, l := range u.AssignedLicenses {
			has = has || l.SkuID == skuOther
		}
		if !has {
			t.Errorf("INV5: %s lost POWER_BI_PRO", su.ID)
		}
	}
}

func planOut(t *testing.T, dir, out string) result {
	t.Helper()
	r := hrsync(t, dir, simEnv, "plan", "-c", "hrsync.yaml", "--out", out, "--detailed-exitcode")
	if c := r.code &^ 8; c != 2 && c != 0 { // a scenario's deliberate problems add 8
		t.Fatalf("plan: %s", r)
	}
	for _, l := range strings.Split(r.stderr, "\n") {
		if strings.Contains(l, "DEBUG") {
			t.Log(l)
		}
	}
	return r
}

func expectNoChanges(t *testing.T, dir, what string) {
	t.Helper()
	r := hrsync(t, dir, simEnv, "plan", "-c", "hrsync.yaml", "--detailed-exitcode")
	if r.code&^8 != 0 { // no changes; a scenario's deliberate problems add 8
		t.Errorf("INV1 (%s): plan after apply not empty:\n%s", what, r)
	}
}

func TestCombinedLifecycleConverges(t *testing.T) {
	for _, n := range []int{2000, 100} { // targeted and full re-read
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			s := combinedBase(n)
			s.drift()
			srv, dir := s.write(t, graphsim.Options{})
			p := planOut(t, dir, "plan.json")
			t.Logf("plan:\n%s", p.stdout)
			a := hrsync(t, dir, simEnv, "apply", "-c", "hrsync.yaml", "plan.json", "--report", "rep.csv", "--log-level", "info")
			rep, _ := os.ReadFile(filepath.Join(dir, "rep.csv"))
			if a.code != 0 || !strings.Contains(a.stdout, " 0 refused as stale") {
				t.Errorf("INV2: apply:\n%s\nreport:\n%s", a, rep)
			}
			t.Logf("apply stderr:\n%s", a.stderr)
			expectNoChanges(t, dir, "combined")
			combinedInvariants(t, srv, s)
		})
	}
}

func postDirect(base, path string) {
	req, _ := http.NewRequest(http.MethodPost, base+"/v1.0"+path, strings.NewReader("{}"))
	req.Header.Set("Authorization", "Bearer "+simToken)
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
}

// The restore of d8001 lands, but its answer is lost (503 after the fact).
func TestCombinedRestoreLostAnswer(t *testing.T) {
	for _, n := range []int{2000, 100} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			s := combinedBase(n)
			s.drift()
			var once atomic.Bool
			var base string
			srv, dir := s.write(t, graphsim.Options{Interceptor: func(ctx context.Context, c graphsim.Call) *graphsim.Fault {
				if c.InBatch && strings.HasSuffix(c.Route, "/restore") && strings.Contains(c.Path, "d8001") && once.CompareAndSwap(false, true) {
					postDirect(base, c.Path)
					return &graphsim.Fault{Status: 503, Code: "ServiceUnavailable", Message: "lost"}
				}
				return nil
			}})
			base = strings.TrimSuffix(strings.TrimSuffix(readGraphURL(t, dir), "/"), "/v1.0")
			planOut(t, dir, "plan.json")
			a := hrsync(t, dir, simEnv, "apply", "-c", "hrsync.yaml", "plan.json", "--report", "rep.csv")
			rep, _ := os.ReadFile(filepath.Join(dir, "rep.csv"))
			if a.code != 0 {
				t.Errorf("apply with lost restore answer:\n%s\nreport:\n%s", a, rep)
				a = hrsync(t, dir, simEnv, "apply", "-c", "hrsync.yaml", "plan.json", "--report", "rep2.csv")
				rep, _ = os.ReadFile(filepath.Join(dir, "rep2.csv"))
				t.Logf("re-apply:\n%s\n%s", a, rep)
			}
			expectNoChanges(t, dir, "restore lost answer")
			combinedInvariants(t, srv, s)
		})
	}
}

// The restore of d8001 lands, then the apply is SIGKILLed before the
// journal records it.
func TestCombinedRestoreKilled(t *testing.T) {
	for _, n := range []int{2000, 100} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			s := combinedBase(n)
			s.drift()
			var once atomic.Bool
			var base string
			restored := make(chan struct{})
			srv, dir := s.write(t, graphsim.Options{Interceptor: func(ctx context.Context, c graphsim.Call) *graphsim.Fault {
				if c.InBatch && strings.HasSuffix(c.Route, "/restore") && strings.Contains(c.Path, "d8001") && once.CompareAndSwap(false, true) {
					postDirect(base, c.Path)
					close(restored)
					<-ctx.Done()
					return &graphsim.Fault{Status: 503, Code: "ServiceUnavailable", Message: "lost"}
				}
				return nil
			}})
			base = strings.TrimSuffix(readGraphURL(t, dir), "/")
			planOut(t, dir, "plan.json")
			cmd := exec.Command(binary, "apply", "-c", "hrsync.yaml", "plan.json")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), simEnv...)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			select {
			case <-restored:
			case <-time.After(30 * time.Second):
				t.Fatal("no restore")
			}
			time.Sleep(200 * time.Millisecond)
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Logf("journal lines %d", lines(filepath.Join(dir, "plan.json.journal")))
			r := hrsync(t, dir, simEnv, "apply", "-c", "hrsync.yaml", "plan.json", "--report", "rep2.csv")
			rep, _ := os.ReadFile(filepath.Join(dir, "rep2.csv"))
			if r.code != 0 {
				t.Errorf("INV4: re-apply after kill post-restore:\n%s\nreport:\n%s", r, rep)
			}
			expectNoChanges(t, dir, "restore killed")
			combinedInvariants(t, srv, s)
		})
	}
}

func readGraphURL(t *testing.T, dir string) string {
	raw, _ := os.ReadFile(filepath.Join(dir, "hrsync.yaml"))
	s := string(raw)
	i := strings.Index(s, "graph_url: ")
	s = s[i+len("graph_url: "):]
	return strings.TrimSpace(s[:strings.Index(s, "\n")])
}

// A leaver's group removal fails once: plan and apply again converge.
func TestCombinedLeaverGroupRemovalFails(t *testing.T) {
	for _, key := range []string{"40", "42", "31"} { // absent, terminated, leave date passed
		t.Run(key, func(t *testing.T) {
			s := combinedBase(2000)
			s.drift()
			var once atomic.Bool
			srv, dir := s.write(t, graphsim.Options{Interceptor: func(ctx context.Context, c graphsim.Call) *graphsim.Fault {
				if c.InBatch && c.Method == "DELETE" && strings.Contains(c.Path, "/groups/g-all/members/u"+key+"/") && once.CompareAndSwap(false, true) {
					return &graphsim.Fault{Status: 403, Code: "Authorization_RequestDenied", Message: "no"}
				}
				return nil
			}})
			planOut(t, dir, "plan.json")
			a := hrsync(t, dir, simEnv, "apply", "-c", "hrsync.yaml", "plan.json")
			if a.code != 3 {
				t.Fatalf("want exit 3: %s", a)
			}
			r := planOut(t, dir, "plan2.json")
			if r.code&^8 == 2 {
				mustCode(t, hrsync(t, dir, simEnv, "apply", "-c", "hrsync.yaml", "plan2.json"), 0)
			} else {
				t.Logf("second plan is empty")
			}
			expectNoChanges(t, dir, "after failed group removal")
			combinedInvariants(t, srv, s)
			if groupHas(srv, "g-all", "u"+key) {
				t.Errorf("leaver u%s still in All Staff after plan+apply again (leaver_remove_groups: true)", key)
			}
		})
	}
}

// A write lands but its answer is lost (503 after the fact), for each kind
// of write; then the same plan is applied again, without faults.
func TestCombinedLostAnswerPerRoute(t *testing.T) {
	cases := []struct{ name, route, path, body string }{
		{"assignLicense-remove", "assignLicense", "/users/u40/", `{"addLicenses":[],"removeLicenses":["` + skuE3 + `"]}`},
		{"delete", "DELETE /users/{id}", "/users/u50", ""},
		{"restore", "/restore", "d8001", "{}"},
		{"revoke", "revokeSignInSessions", "/users/u40/", "{}"},
		{"setManager", "PUT /users/{id}/manager/$ref", "/users/u20/", ""},
		{"groupRemove", "DELETE /groups/{id}/members/{id}/$ref", "/groups/g-all/members/u40/", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := combinedBase(2000)
			s.drift()
			var once atomic.Bool
			var base string
			var srv *graphsim.Server
			srv, dir := s.write(t, graphsim.Options{Interceptor: func(ctx context.Context, c graphsim.Call) *graphsim.Fault {
				if c.InBatch && strings.Contains(c.Route, tc.route) && strings.Contains(c.Path, tc.path) && once.CompareAndSwap(false, true) {
					method := c.Method
					var body *strings.Reader
					b := tc.body
					if tc.name == "setManager" {
						b = `{"@odata.id":"` + base + `/v1.0/users/u7"}`
					}
					body = strings.NewReader(b)
					req, _ := http.NewRequest(method, base+"/v1.0"+c.Path, body)
					req.Header.Set("Authorization", "Bearer "+simToken)
					if b != "" {
						req.Header.Set("Content-Type", "application/json")
					}
					if resp, err := http.DefaultClient.Do(req); err == nil {
						t.Logf("direct %s %s: %d", method, c.Path, resp.StatusCode)
						resp.Body.Close()
					}
					return &graphsim.Fault{Status: 503, Code: "ServiceUnavailable", Message: "lost"}
				}
				return nil
			}})
			_ = srv
			base = strings.TrimSuffix(readGraphURL(t, dir), "/")
			planOut(t, dir, "plan.json")
			for i := 0; i < 3; i++ {
				a := hrsync(t, dir, simEnv, "apply", "-c", "hrsync.yaml", "plan.json", "--report", fmt.Sprintf("rep%d.csv", i))
				rep, _ := os.ReadFile(filepath.Join(dir, fmt.Sprintf("rep%d.csv", i)))
				var bad []string
				for _, l := range strings.Split(string(rep), "\n") {
					if strings.Contains(l, ",failed,") || strings.Contains(l, ",refused,") || strings.Contains(l, ",partial,") {
						bad = append(bad, l)
					}
				}
				if a.code == 0 {
					break
				}
				t.Errorf("apply #%d exit %d:\n%s", i+1, a.code, strings.Join(bad, "\n"))
			}
			expectNoChanges(t, dir, tc.name)
			combinedInvariants(t, srv, s)
		})
	}
}

// A license change lands; the apply is SIGKILLed before its journal
// records it; apply plan.json again (twice).
func TestCombinedLicenseKilled(t *testing.T) {
	s := combinedBase(2000)
	s.drift()
	killAfterDirect(t, s, func(c graphsim.Call) bool { return strings.Contains(c.Path, "/users/u22/assignLicense") },
		func(_ *graphsim.Server, base string, c graphsim.Call) (string, string) {
			return "POST", `{"addLicenses":[{"skuId":"` + skuE1 + `","disabledPlans":[]}],"removeLicenses":["` + skuE3 + `"]}`
		})
}

// The manager reference of u21 to joiner 9003 lands; the apply is
// SIGKILLed before the journal records it; apply plan.json again.
func TestCombinedJoinerManagerKilled(t *testing.T) {
	s := combinedBase(2000)
	s.drift()
	killAfterDirect(t, s, func(c graphsim.Call) bool { return c.Method == "PUT" && strings.Contains(c.Path, "/users/u21/manager") },
		func(srv *graphsim.Server, base string, c graphsim.Call) (string, string) {
			u, _ := userByKey(srv, "9003")
			return "PUT", `{"@odata.id":"` + base + `/v1.0/users/` + u.ID + `"}`
		})
}

// killAfterDirect makes the first $batch item match selects land (sent
// directly to the emulator by direct) while its answer never comes, kills
// the apply (SIGKILL) right after, and checks that applying the same plan
// again, twice, converges.
func killAfterDirect(t *testing.T, s *combinedScenario, match func(c graphsim.Call) bool, direct func(srv *graphsim.Server, base string, c graphsim.Call) (string, string)) (*graphsim.Server, string) {
	var once atomic.Bool
	var base string
	var srv *graphsim.Server
	landed := make(chan struct{})
	srv, dir := s.write(t, graphsim.Options{KeepBatchOrder: true, Interceptor: func(ctx context.Context, c graphsim.Call) *graphsim.Fault {
		if c.InBatch && match(c) && once.CompareAndSwap(false, true) {
			m, body := direct(srv, base, c)
			req, _ := http.NewRequest(m, base+"/v1.0"+c.Path, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+simToken)
			req.Header.Set("Content-Type", "application/json")
			if resp, err := http.DefaultClient.Do(req); err == nil {
				t.Logf("direct %s %s: %d", m, c.Path, resp.StatusCode)
				resp.Body.Close()
			}
			close(landed)
			<-ctx.Done()
			return &graphsim.Fault{Status: 503, Code: "ServiceUnavailable", Message: "lost"}
		}
		return nil
	}})
	base = strings.TrimSuffix(readGraphURL(t, dir), "/")
	p := planOut(t, dir, "plan.json")
	t.Logf("plan:\n%s", p.stdout)
	cmd := exec.Command(binary, "apply", "-c", "hrsync.yaml", "plan.json")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), simEnv...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-landed:
	case <-time.After(30 * time.Second):
		t.Fatal("never matched")
	}
	time.Sleep(300 * time.Millisecond)
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	for i := 0; i < 2; i++ {
		r := hrsync(t, dir, simEnv, "apply", "-c", "hrsync.yaml", "plan.json")
		if r.code != 0 {
			t.Errorf("INV4: re-apply #%d after kill:\n%s", i+1, r)
		}
	}
	expectNoChanges(t, dir, "killed")
	combinedInvariants(t, srv, s)
	return srv, dir
}

func TestCombinedMinimalJoinerManager(t *testing.T) {
	for _, n := range []int{2000, 30} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			s := combinedBase(n)
			s.workers = append(s.workers, hw{"9001", "Active", "Jan", "Sales", "2020-01-01", "", "DE", "Employee", "1"})
			s.worker("23").mgr = "9001"
			killAfterDirect(t, s, func(c graphsim.Call) bool { return c.Method == "PUT" && strings.Contains(c.Path, "/users/u23/manager") },
				func(srv *graphsim.Server, base string, c graphsim.Call) (string, string) {
					u, _ := userByKey(srv, "9001")
					return "PUT", `{"@odata.id":"` + base + `/v1.0/users/` + u.ID + `"}`
				})
		})
	}
}

func TestCombinedMinimalLicense(t *testing.T) {
	for _, n := range []int{2000, 30} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			s := combinedBase(n)
			s.worker("22").typ = "Contractor"
			killAfterDirect(t, s, func(c graphsim.Call) bool { return strings.Contains(c.Route, "assignLicense") },
				func(_ *graphsim.Server, base string, c graphsim.Call) (string, string) {
					return "POST", `{"addLicenses":[{"skuId":"` + skuE1 + `","disabledPlans":[]}],"removeLicenses":["` + skuE3 + `"]}`
				})
		})
	}
}

func TestCombinedTargetedOddManagers(t *testing.T) {
	for _, n := range []int{2000, 30} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			s := combinedBase(n)
			s.seed.Users = append(s.seed.Users, graphsim.User{ID: "admin1", AccountEnabled: true, DisplayName: "Admin", UserPrincipalName: "admin@contoso.com", MailNickname: "admin"},
				graphsim.User{ID: "uab7", EmployeeID: "AB7", AccountEnabled: true, DisplayName: "Ab Lee", UserPrincipalName: "ab.lee@contoso.com", MailNickname: "ab.lee", Department: "Sales", EmployeeHireDate: tm(-2000).AddDate(0, 0, 0), UsageLocation: "DE", Manager: "admin1", AssignedLicenses: []graphsim.AssignedLicense{{SkuID: skuE3}}})
			s.user("25").Manager = "admin1"
			s.user("26").Manager = "uab7"
			s.workers = append(s.workers, hw{"ab7", "Active", "Ab", "Engineering", day(-2000), "", "DE", "Employee", "1"})
			s.worker("25").mgr = "3"
			s.worker("26").mgr, s.worker("26").dept = "Ab7", "Sales"
			s.worker("27").mgr = "ab7"
			srv, dir := s.write(t, graphsim.Options{})
			p := planOut(t, dir, "plan.json")
			t.Logf("plan:\n%s", p.stdout)
			a := hrsync(t, dir, simEnv, "apply", "-c", "hrsync.yaml", "plan.json")
			if a.code != 0 {
				t.Errorf("INV2: %s", a)
			}
			expectNoChanges(t, dir, "odd managers")
			combinedInvariants(t, srv, s)
		})
	}
}
