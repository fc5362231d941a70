package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hrsync/hrsync/internal/graphsim"
)

// day is today moved by n days, as HR writes dates.
func day(n int) string { return time.Now().UTC().AddDate(0, 0, n).Format("2006-01-02") }

// stamp is the same day as Graph holds it.
func stamp(n int) string { return day(n) + "T00:00:00Z" }

const lifeMapping = `match:
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
groups:
  - group: All Staff
  - source: '[Department]'
    map:
      Sales: Sales Team
      Engineering: Engineering Team
`

// lifeTenant starts graphsim with seed users and the groups the mapping
// names (plus one no rule names), and returns a folder with a config for it.
func lifeTenant(t *testing.T, users, deleted, policy string) (*graphsim.Server, string) {
	t.Helper()
	seed := filepath.Join(t.TempDir(), "seed.json")
	copyBytes(t, seed, fmt.Sprintf(`{"domains":["contoso.com"],"users":[%s],"deletedUsers":[%s],"groups":[
 {"id":"g-all","displayName":"All Staff","securityEnabled":true,"members":[%s]},
 {"id":"g-sales","displayName":"Sales Team","securityEnabled":true,"members":[%s]},
 {"id":"g-eng","displayName":"Engineering Team","securityEnabled":true,"members":[]},
 {"id":"g-vip","displayName":"VIP","securityEnabled":true,"members":[%s]}]}`, users, deleted, members(users, ""), members(users, "Sales"), members(users, "")))
	srv, base := startGraph(t, graphsim.Options{SeedPath: seed})
	dir := t.TempDir()
	copyBytes(t, filepath.Join(dir, "mapping.yaml"), lifeMapping)
	copyBytes(t, filepath.Join(dir, "hrsync.yaml"), "source:\n  path: workers.csv\nmapping: mapping.yaml\ntarget:\n  type: entra\n  auth: access_token\n  graph_url: "+base+"\npolicy:\n"+policy)
	return srv, dir
}

// members lists the ids of seed users (in department dept, "" for all)
// as a JSON list body.
func members(users, dept string) string {
	var ids []string
	for _, part := range strings.Split(users, "},") {
		if !strings.Contains(part, `"id":"`) || (dept != "" && !strings.Contains(part, `"department":"`+dept+`"`)) {
			continue
		}
		id := part[strings.Index(part, `"id":"`)+6:]
		ids = append(ids, `"`+id[:strings.Index(id, `"`)]+`"`)
	}
	return strings.Join(ids, ",")
}

func seedUser(id, key, first, dept string, enabled bool, extra string) string {
	name := strings.ToLower(first) + ".lee"
	return fmt.Sprintf(`{"id":"%s","employeeId":"%s","accountEnabled":%v,"displayName":"%s Lee","userPrincipalName":"%s@contoso.com","mailNickname":"%s","department":"%s"%s}`,
		id, key, enabled, first, name, name, dept, extra)
}

const lifeHeader = "WorkerID,Status,First,Last,Department,HireDate,LeaveDate\n"

func userByKey(srv *graphsim.Server, key string) (graphsim.User, int) {
	var found graphsim.User
	n := 0
	for _, u := range srv.Snapshot().Users {
		if u.EmployeeID == key {
			found = u
			n++
		}
	}
	return found, n
}

func groupHas(srv *graphsim.Server, group, id string) bool {
	for _, g := range srv.Snapshot().Groups {
		if g.ID == group {
			for _, m := range g.Members {
				if m == id {
					return true
				}
			}
		}
	}
	return false
}

// planActions plans in dir and returns "action event" per key.
func planActions(t *testing.T, dir string, args ...string) (planDoc, map[string]string, string) {
	t.Helper()
	r := hrsync(t, dir, simEnv, append([]string{"plan", "-c", "hrsync.yaml", "--out", "plan.json", "--format", "json"}, args...)...)
	mustCode(t, r, 0)
	p := parsePlan(t, r.stdout)
	text := hrsync(t, dir, simEnv, "show", "plan.json")
	return p, p.actions(), text.stdout
}

func applyAndConverge(t *testing.T, dir string, args ...string) {
	t.Helper()
	mustCode(t, hrsync(t, dir, simEnv, append([]string{"apply", "-c", "hrsync.yaml", "plan.json"}, args...)...), 0)
	again := hrsync(t, dir, simEnv, "plan", "-c", "hrsync.yaml", "--detailed-exitcode")
	if again.code&^8 != 0 { // no changes; a scenario's deliberate problems (+8) stay
		t.Fatalf("the plan after apply is not empty:\n%s", again)
	}
}

func TestLifecyclePreHireAndHireDate(t *testing.T) {
	srv, dir := lifeTenant(t, seedUser("u1", "1", "Ann", "Sales", false, `,"employeeHireDate":"`+stamp(0)+`"`), "", "  prehire_days: 7\n")
	copyBytes(t, filepath.Join(dir, "workers.csv"), lifeHeader+
		"1,Active,Ann,Lee,Sales,"+day(0)+",\n"+ // created pre-hire earlier; the hire date is today
		"2,Active,Bo,Lee,Sales,"+day(5)+",\n"+ // within prehire_days: created disabled
		"3,Active,Cy,Lee,Sales,"+day(30)+",\n") // too early: nothing yet
	p, acts, text := planActions(t, dir)
	if acts["1"] != "enable" || acts["2"] != "create" || acts["3"] != "" || p.Summary["pending"] != 1 {
		t.Fatalf("actions %v pending %d\n%s", acts, p.Summary["pending"], text)
	}
	if !strings.Contains(text, "joiner") || !strings.Contains(text, "pre-hire: starts "+day(5)) || !strings.Contains(text, "the hire date "+day(0)+" has come") {
		t.Errorf("plan text:\n%s", text)
	}
	applyAndConverge(t, dir)
	ann, _ := userByKey(srv, "1")
	bo, n := userByKey(srv, "2")
	if !ann.AccountEnabled || n != 1 || bo.AccountEnabled || bo.EmployeeHireDate.Format("2006-01-02") != day(5) {
		t.Fatalf("ann enabled %v; bo %d users, enabled %v, hire %v", ann.AccountEnabled, n, bo.AccountEnabled, bo.EmployeeHireDate)
	}
	if !groupHas(srv, "g-all", bo.ID) || !groupHas(srv, "g-sales", bo.ID) {
		t.Error("the pre-hire joiner did not get its groups")
	}
}

func TestLifecycleLeaveDates(t *testing.T) {
	users := strings.Join([]string{
		seedUser("u1", "1", "Ann", "Sales", true, ""),
		seedUser("u2", "2", "Bo", "Sales", true, ""),
	}, ",")
	srv, dir := lifeTenant(t, users, "", "  leaver_remove_groups: true\n")
	copyBytes(t, filepath.Join(dir, "workers.csv"), lifeHeader+
		"1,Active,Ann,Lee,Sales,2020-01-01,"+day(10)+"\n"+ // leaving in 10 days: the date is written, nothing else
		"2,Active,Bo,Lee,Sales,2020-01-01,"+day(-1)+"\n") // left yesterday: disabled, sessions revoked, groups removed
	p, acts, text := planActions(t, dir)
	if acts["1"] != "update" || acts["2"] != "disable" {
		t.Fatalf("actions %v\n%s", acts, text)
	}
	for _, a := range p.Actions {
		if a.Key == "2" && !strings.Contains(a.Reason, "the leave date "+day(-1)+" has passed") {
			t.Errorf("reason %q", a.Reason)
		}
	}
	if !strings.Contains(text, `- group "Sales Team"`) || !strings.Contains(text, "revokeSignInSessions") {
		t.Errorf("plan text:\n%s", text)
	}
	applyAndConverge(t, dir)
	ann, _ := userByKey(srv, "1")
	bo, _ := userByKey(srv, "2")
	if !ann.AccountEnabled || ann.EmployeeLeaveDateTime.Format("2006-01-02") != day(10) {
		t.Errorf("ann: enabled %v, leave %v", ann.AccountEnabled, ann.EmployeeLeaveDateTime)
	}
	if bo.AccountEnabled || groupHas(srv, "g-sales", "u2") || groupHas(srv, "g-all", "u2") {
		t.Errorf("bo: enabled %v, still in groups", bo.AccountEnabled)
	}
	if !groupHas(srv, "g-vip", "u2") {
		t.Error("a group no rule names was changed")
	}
	if bo.SignInSessionsValidFromDateTime.IsZero() {
		t.Error("the leaver's sessions were not revoked")
	}
}

func TestLifecycleGracePeriodDeleteAndRehire(t *testing.T) {
	users := strings.Join([]string{
		seedUser("u1", "1", "Ann", "Sales", true, ""),
		seedUser("u2", "2", "Bo", "Sales", false, `,"employeeLeaveDateTime":"`+stamp(-40)+`"`), // left 40 days ago
		seedUser("u3", "3", "Cy", "Sales", false, `,"employeeLeaveDateTime":"`+stamp(-10)+`"`), // left 10 days ago
	}, ",")
	now := time.Now().UTC()
	deleted := strings.Join([]string{
		seedUser("d4", "4", "Di", "Marketing", false, `,"employeeLeaveDateTime":"`+stamp(-50)+`","deletedDateTime":"`+now.AddDate(0, 0, -10).Format(time.RFC3339)+`"`),
		seedUser("d5", "5", "Ed", "Sales", false, `,"employeeLeaveDateTime":"`+stamp(-70)+`","deletedDateTime":"`+now.AddDate(0, 0, -31).Format(time.RFC3339)+`"`),
		seedUser("d6", "6", "Fa", "Sales", true, `,"deletedDateTime":"`+now.AddDate(0, 0, -5).Format(time.RFC3339)+`"`), // deleted by an admin while enabled
	}, ",")
	srv, dir := lifeTenant(t, users, deleted, "  delete_after_days: 30\n")
	copyBytes(t, filepath.Join(dir, "workers.csv"), lifeHeader+
		"1,Active,Ann,Lee,Sales,2020-01-01,\n"+
		"4,Active,Di,Lee,Sales,2020-01-01,\n"+ // rehired within 30 days of the delete: restored
		"5,Active,Ed,Lee,Sales,2020-01-01,\n"+ // rehired after Entra purged the account: a new one
		"6,Active,Fa,Lee,Sales,2020-01-01,\n") // its account deleted by an admin: neither restored nor recreated
	p, acts, text := planActions(t, dir)
	if acts["2"] != "delete" || acts["3"] != "" || acts["4"] != "restore" || acts["5"] != "create" || acts["6"] != "" {
		t.Fatalf("actions %v\n%s", acts, text)
	}
	if !strings.Contains(text, "it was not deleted as a leaver") {
		t.Errorf("no warning about the account an admin deleted:\n%s", text)
	}
	for _, a := range p.Actions {
		if a.Key == "2" && !strings.Contains(a.Reason, "restorable from deleted items for 30 days") {
			t.Errorf("delete reason %q", a.Reason)
		}
		if a.Key == "4" && a.ID != "d4" {
			t.Errorf("restore of %q, want d4", a.ID)
		}
	}
	applyAndConverge(t, dir)
	st := srv.Snapshot()
	if _, n := userByKey(srv, "2"); n != 0 {
		t.Error("the leaver past its grace period was not deleted")
	}
	found := false
	for _, u := range st.DeletedUsers {
		found = found || u.ID == "u2"
	}
	if !found {
		t.Error("the delete was not a soft delete")
	}
	di, n := userByKey(srv, "4")
	if n != 1 || di.ID != "d4" || !di.AccountEnabled || di.Department != "Sales" || !groupHas(srv, "g-sales", "d4") {
		t.Errorf("restored user: %d users, %+v", n, di)
	}
	ed, n := userByKey(srv, "5")
	if n != 1 || ed.ID == "d5" || !ed.AccountEnabled {
		t.Errorf("rehire after 30 days: %d users, %+v", n, ed)
	}
}

func TestLifecycleMoverGroupChanges(t *testing.T) {
	hired := `,"employeeHireDate":"2020-01-01T00:00:00Z"`
	users := strings.Join([]string{
		seedUser("u1", "1", "Ann", "Sales", true, hired),
		seedUser("u2", "2", "Bo", "Sales", true, hired),
	}, ",")
	srv, dir := lifeTenant(t, users, "", "")
	copyBytes(t, filepath.Join(dir, "workers.csv"), lifeHeader+
		"1,Active,Ann,Lee,Engineering,2020-01-01,\n"+
		"2,Active,Bo,Lee,Sales,2020-01-01,\n")
	p, acts, text := planActions(t, dir)
	if acts["1"] != "update" || acts["2"] != "" || p.Summary["group_adds"] != 1 || p.Summary["group_removes"] != 1 {
		t.Fatalf("actions %v summary %v\n%s", acts, p.Summary, text)
	}
	if !strings.Contains(text, "mover") || !strings.Contains(text, `+ group "Engineering Team" (g-eng)`) || !strings.Contains(text, `- group "Sales Team" (g-sales)`) {
		t.Errorf("plan text:\n%s", text)
	}
	md := hrsync(t, dir, nil, "show", "plan.json", "--format", "markdown")
	if !strings.Contains(md.stdout, "| group | — | `Engineering Team` |") {
		t.Errorf("markdown:\n%s", md.stdout)
	}
	applyAndConverge(t, dir)
	if !groupHas(srv, "g-eng", "u1") || groupHas(srv, "g-sales", "u1") || !groupHas(srv, "g-all", "u1") || !groupHas(srv, "g-vip", "u1") {
		t.Error("the mover's memberships are wrong")
	}
	if !groupHas(srv, "g-sales", "u2") {
		t.Error("a worker who did not move lost a group")
	}
}

func TestGroupRuleNamingAMissingGroupFailsThePlan(t *testing.T) {
	_, dir := lifeTenant(t, seedUser("u1", "1", "Ann", "Sales", true, ""), "", "")
	copyBytes(t, filepath.Join(dir, "mapping.yaml"), strings.Replace(lifeMapping, "Engineering Team", "Engineering Teem", 1))
	copyBytes(t, filepath.Join(dir, "workers.csv"), lifeHeader+"1,Active,Ann,Lee,Sales,2020-01-01,\n")
	r := hrsync(t, dir, simEnv, "plan", "-c", "hrsync.yaml")
	mustCode(t, r, 1)
	if !strings.Contains(r.stderr, "Engineering Teem") {
		t.Errorf("error does not name the group:\n%s", r)
	}
}

func TestGuardsTripAndOverride(t *testing.T) {
	users := strings.Join([]string{
		seedUser("u1", "1", "Ann", "Sales", true, ""),
		seedUser("u2", "2", "Bo", "Sales", true, ""),
		seedUser("u3", "3", "Cy", "Sales", true, ""),
	}, ",")
	tests := []struct {
		name, policy, csv, blocked string
	}{
		{"max_updates", "  max_updates: 1\n", "1,Active,Ann,Lee,Engineering,2020-01-01,\n2,Active,Bo,Lee,Engineering,2020-01-01,\n3,Active,Cy,Lee,Sales,2020-01-01,\n", "updates exceed policy.max_updates"},
		{"max_leavers", "  max_leavers: 1\n", "1,Active,Ann,Lee,Sales,2020-01-01,\n", "leavers exceed policy.max_leavers"},
		{"max_source_drop_percent", "  max_leavers: 0\n  max_leavers_percent: 0\n", "1,Active,Ann,Lee,Sales,2020-01-01,\n", "fewer than the 12 enabled managed users"},
		{"max_creates", "  max_creates: 1\n", "1,Active,Ann,Lee,Sales,2020-01-01,\n2,Active,Bo,Lee,Sales,2020-01-01,\n3,Active,Cy,Lee,Sales,2020-01-01,\n4,Active,Di,Lee,Sales,2020-01-01,\n5,Active,Ed,Lee,Sales,2020-01-01,\n", "creates exceed policy.max_creates"},
	}
	more := users
	for i := 4; i <= 12; i++ {
		more += "," + seedUser(fmt.Sprintf("u%d", i), fmt.Sprint(i), fmt.Sprintf("W%d", i), "Sales", true, "")
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seed := users
			if tt.name == "max_source_drop_percent" {
				seed = more // the drop guard counts once over 10 managed users
			}
			_, dir := lifeTenant(t, seed, "", tt.policy)
			copyBytes(t, filepath.Join(dir, "workers.csv"), lifeHeader+tt.csv)
			r := hrsync(t, dir, simEnv, "plan", "-c", "hrsync.yaml", "--out", "plan.json", "--detailed-exitcode")
			mustCode(t, r, 4)
			if !strings.Contains(r.stdout, tt.blocked) {
				t.Errorf("plan does not name the threshold:\n%s", r)
			}
			r = hrsync(t, dir, simEnv, "apply", "-c", "hrsync.yaml", "plan.json")
			mustCode(t, r, 1)
			if !strings.Contains(r.stderr, tt.blocked) || !strings.Contains(r.stderr, "--allow-over-thresholds") {
				t.Errorf("apply refusal does not name the threshold and the override:\n%s", r)
			}
			applyAndConverge(t, dir, "--allow-over-thresholds")
		})
	}
}

// An apply killed half way (SIGKILL, no chance to clean up) or stopped by
// Ctrl-C (SIGINT) is run again from its journal: every worker exists
// exactly once, nothing is lost.
func TestResumeAfterKilledApply(t *testing.T) {
	for _, sig := range []os.Signal{os.Kill, os.Interrupt} {
		t.Run(sig.String(), func(t *testing.T) { resumeAfter(t, sig) })
	}
}

func resumeAfter(t *testing.T, sig os.Signal) {
	srv, base := startGraph(t, graphsim.Options{Latency: 40 * time.Millisecond})
	dir := t.TempDir()
	var csv strings.Builder
	csv.WriteString(lifeHeader)
	const n = 300
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&csv, "%d,Active,W%d,Lee,Sales,2020-01-01,\n", i, i)
	}
	copyBytes(t, filepath.Join(dir, "workers.csv"), csv.String())
	noGroups := lifeMapping[:strings.Index(lifeMapping, "groups:")]
	copyBytes(t, filepath.Join(dir, "mapping.yaml"), noGroups)
	copyBytes(t, filepath.Join(dir, "hrsync.yaml"), "source:\n  path: workers.csv\nmapping: mapping.yaml\ntarget:\n  type: entra\n  auth: access_token\n  concurrency: 1\n  graph_url: "+base+"\n")
	mustCode(t, hrsync(t, dir, simEnv, "plan", "-c", "hrsync.yaml", "--out", "plan.json"), 0)

	cmd := exec.Command(binary, "apply", "-c", "hrsync.yaml", "plan.json")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), simEnv...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	journalPath := filepath.Join(dir, "plan.json.journal")
	deadline := time.Now().Add(60 * time.Second)
	for lines(journalPath) < 60 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	_ = cmd.Process.Signal(sig)
	err := cmd.Wait()
	if sig == os.Interrupt {
		// Ctrl-C: writes in flight finish, the report says what was done.
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 3 || !strings.Contains(out.String(), "interrupted") {
			t.Fatalf("after Ctrl-C: %v\n%s", err, out.String())
		}
		// A summary, not a line per action; every outcome with its reason;
		// the last lines count every status.
		text := out.String()
		for _, l := range strings.Split(text, "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), "x ") && strings.HasSuffix(strings.TrimSpace(l), ":") {
				t.Errorf("an outcome without a reason: %q", l)
			}
		}
		if n := strings.Count(text, "\n  x "); n > 6 {
			t.Errorf("%d outcome lines for %d actions:\n%s", n, n, text)
		}
		if !strings.Contains(text, "Apply stopped (interrupt signal received): ") || !strings.Contains(text, " partly done, ") ||
			!strings.Contains(text, "interrupted: ") || !strings.Contains(text, " not started; run plan and apply again") ||
			!strings.Contains(text, "before this action was sent") {
			t.Errorf("after Ctrl-C:\n%s", text)
		}
	}
	got := lines(journalPath) - 1
	if got < 59 || got >= n {
		t.Fatalf("stopped after %d steps; the test needs it stopped half way\n%s", got, out.String())
	}
	t.Logf("stopped after %d journalled steps, %d users created", got, len(byEmployeeID(srv)))

	r := hrsync(t, dir, simEnv, "apply", "-c", "hrsync.yaml", "plan.json")
	mustCode(t, r, 0)
	if !strings.Contains(r.stderr, "Resuming") {
		t.Errorf("second apply:\n%s", r)
	}
	counts := byEmployeeID(srv)
	if len(counts) != n {
		t.Fatalf("%d workers exist, want %d", len(counts), n)
	}
	for k, c := range counts {
		if c != 1 {
			t.Errorf("worker %s exists %d times", k, c)
		}
	}
	again := hrsync(t, dir, simEnv, "plan", "-c", "hrsync.yaml", "--detailed-exitcode")
	mustCode(t, again, 0)
}

func lines(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
	}
	return n
}

// Licenses follow the rules, after the usageLocation they need; a license
// no rule names is never removed.
func TestLicenseRulesEndToEnd(t *testing.T) {
	const e3, e1, other = skuE3, skuE1, skuOther
	seed := filepath.Join(t.TempDir(), "seed.json")
	copyBytes(t, seed, `{"domains":["contoso.com"],"users":[
 {"id":"u1","employeeId":"1","accountEnabled":true,"displayName":"Ann Lee","userPrincipalName":"ann.lee@contoso.com","mailNickname":"ann.lee","usageLocation":"DE","assignedLicenses":[{"skuId":"`+e1+`"},{"skuId":"`+other+`"}]},
 {"id":"u2","employeeId":"2","accountEnabled":true,"displayName":"Bo Lee","userPrincipalName":"bo.lee@contoso.com","mailNickname":"bo.lee","inheritedLicenses":[{"skuId":"`+e3+`","groupId":"g-lic"}]}],
 "groups":[{"id":"g-lic","displayName":"E3 users","securityEnabled":true,"members":["u2"]}],
 "subscribedSkus":[
 {"skuId":"`+e3+`","skuPartNumber":"SPE_E3","prepaidUnits":{"enabled":10}},
 {"skuId":"`+e1+`","skuPartNumber":"SPE_E1","prepaidUnits":{"enabled":10}},
 {"skuId":"`+other+`","skuPartNumber":"POWER_BI_PRO","prepaidUnits":{"enabled":10}}]}`)
	srv, base := startGraph(t, graphsim.Options{SeedPath: seed})
	dir := t.TempDir()
	copyBytes(t, filepath.Join(dir, "workers.csv"), "WorkerID,First,Last,Type,Country\n1,Ann,Lee,Employee,DE\n2,Bo,Lee,Contractor,FR\n")
	copyBytes(t, filepath.Join(dir, "mapping.yaml"), `match:
  source: '[WorkerID]'
  target: employeeId
attributes:
  displayName: 'Join(" ", [First], [Last])'
  mailNickname: 'ToLower(Join(".", [First], [Last]))'
  userPrincipalName: 'Append(ToLower(Join(".", [First], [Last])), "@contoso.com")'
  usageLocation: '[Country]'
licenses:
  - source: '[Type]'
    map:
      Employee: SPE_E3
      Contractor: SPE_E1
`)
	copyBytes(t, filepath.Join(dir, "hrsync.yaml"), "source:\n  path: workers.csv\nmapping: mapping.yaml\ntarget:\n  type: entra\n  auth: access_token\n  graph_url: "+base+"\n")
	_, acts, text := planActions(t, dir)
	if acts["1"] != "update" || acts["2"] != "update" {
		t.Fatalf("actions %v\n%s", acts, text)
	}
	if !strings.Contains(text, "+ license SPE_E3") || !strings.Contains(text, "- license SPE_E1") || strings.Contains(text, "POWER_BI_PRO") {
		t.Errorf("plan text:\n%s", text)
	}
	applyAndConverge(t, dir)
	skus := map[string][]string{}
	for _, u := range srv.Snapshot().Users {
		for _, l := range u.AssignedLicenses {
			skus[u.ID] = append(skus[u.ID], l.SkuID)
		}
	}
	if got := strings.Join(skus["u1"], ","); !strings.Contains(got, e3) || strings.Contains(got, e1) || !strings.Contains(got, other) {
		t.Errorf("u1 licenses %s", got)
	}
	if got := strings.Join(skus["u2"], ","); got != e1 {
		t.Errorf("u2 (usageLocation set in the same apply; E3 inherited from a group, never removed) licenses %s", got)
	}
}

// A plan edited to add someone to another group than the one it shows is
// refused whole.
func TestEditedGroupChangeIsRefused(t *testing.T) {
	hired := `,"employeeHireDate":"2020-01-01T00:00:00Z"`
	srv, dir := lifeTenant(t, seedUser("u1", "1", "Ann", "Sales", true, hired), "", "")
	copyBytes(t, filepath.Join(dir, "workers.csv"), lifeHeader+"1,Active,Ann,Lee,Engineering,2020-01-01,\n")
	planActions(t, dir)
	raw, err := os.ReadFile(filepath.Join(dir, "plan.json"))
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(raw), `"group_id": "g-eng"`, `"group_id": "g-vip"`, 1)
	if edited == string(raw) {
		t.Fatal("the plan has no g-eng membership to edit")
	}
	copyBytes(t, filepath.Join(dir, "plan.json"), edited)
	r := hrsync(t, dir, simEnv, "apply", "-c", "hrsync.yaml", "plan.json")
	mustCode(t, r, 1)
	if !strings.Contains(r.stderr, "g-vip") || !strings.Contains(r.stderr, "not a group the mapping's rules name") {
		t.Errorf("refusal:\n%s", r)
	}
	if u, _ := userByKey(srv, "1"); u.Department != "Sales" {
		t.Error("the edited plan was applied in part")
	}
	if _, err := os.Stat(filepath.Join(dir, "plan.json.journal")); err == nil {
		t.Error("a refused apply left a journal")
	}
}

// A plan older than policy.max_plan_age is refused: the dates it was
// decided by have moved on.
func TestOldPlanIsRefused(t *testing.T) {
	_, dir := lifeTenant(t, seedUser("u1", "1", "Ann", "Sales", true, ""), "", "  max_plan_age: 24h\n")
	copyBytes(t, filepath.Join(dir, "workers.csv"), lifeHeader+"1,Active,Ann,Lee,Engineering,2020-01-01,\n")
	p, _, _ := planActions(t, dir)
	if len(p.Actions) == 0 {
		t.Fatal("no changes to apply")
	}
	raw, err := os.ReadFile(filepath.Join(dir, "plan.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	doc["created_at"] = time.Now().UTC().Add(-50 * time.Hour).Format(time.RFC3339)
	old, _ := json.Marshal(doc)
	copyBytes(t, filepath.Join(dir, "plan.json"), string(old))
	r := hrsync(t, dir, simEnv, "apply", "-c", "hrsync.yaml", "plan.json")
	mustCode(t, r, 1)
	if !strings.Contains(r.stderr, "over policy.max_plan_age (24h0m0s)") {
		t.Errorf("refusal:\n%s", r)
	}
}

// An old plan an earlier apply began is finished for what that apply
// began, and refuses the rest.
func TestOldResumedPlanFinishesOnlyWhatWasBegun(t *testing.T) {
	hired := `,"employeeHireDate":"2020-01-01T00:00:00Z"`
	users := seedUser("u1", "1", "Ann", "Sales", true, hired) + "," + seedUser("u2", "2", "Bo", "Sales", true, hired)
	srv, dir := lifeTenant(t, users, "", "  max_plan_age: 24h\n")
	copyBytes(t, filepath.Join(dir, "workers.csv"), lifeHeader+"1,Active,Ann,Lee,Engineering,2020-01-01,\n2,Active,Bo,Lee,Engineering,2020-01-01,\n")
	p, _, _ := planActions(t, dir)
	if len(p.Actions) != 2 {
		t.Fatalf("actions %v", p.actions())
	}
	raw, err := os.ReadFile(filepath.Join(dir, "plan.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	doc["created_at"] = time.Now().UTC().Add(-50 * time.Hour).Format(time.RFC3339)
	old, _ := json.MarshalIndent(doc, "", "  ")
	copyBytes(t, filepath.Join(dir, "plan.json"), string(old))
	sum := sha256.Sum256(old)
	// The earlier apply patched user 1 and was stopped before its groups.
	copyBytes(t, filepath.Join(dir, "plan.json.journal"), `{"plan":"sha256:`+hex.EncodeToString(sum[:])+`"}`+"\n"+
		`{"action":0,"key":"1","step":"write"}`+"\n")
	r := hrsync(t, dir, simEnv, "apply", "-c", "hrsync.yaml", "plan.json")
	mustCode(t, r, 3)
	if !strings.Contains(r.stdout, "older than policy.max_plan_age") || !strings.Contains(r.stderr, "Resuming") {
		t.Errorf("apply:\n%s", r)
	}
	if !groupHas(srv, "g-eng", "u1") {
		t.Error("the begun action was not finished")
	}
	if groupHas(srv, "g-eng", "u2") {
		t.Error("an action no earlier apply began was carried out from an old plan")
	}
}
