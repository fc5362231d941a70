package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/hrsync/hrsync/internal/dirtest"
	"github.com/hrsync/hrsync/internal/ldapconn"
)

// adEnv is an Active Directory end-to-end setup: the example's config,
// mapping and workers, pointed at a sandbox OU of the Samba DC (base_dn)
// with the example's OUs and groups made inside it.
type adEnv struct {
	s      *dirtest.Server
	admin  *ldap.Conn
	box    string // the sandbox OU, as AD spells it
	dir    string // where hrsync.yaml is
	env    []string
	groups map[string]string // the example's group name -> this test's group name
}

func newADEnv(t *testing.T, policy string) *adEnv {
	t.Helper()
	s := dirtest.AD(t)
	raw := s.Sandbox(t)
	admin := s.DialAdmin(t)
	res, err := admin.Search(ldap.NewSearchRequest(raw, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", []string{"1.1"}, nil))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("sandbox: %v", err)
	}
	e := &adEnv{s: s, admin: admin, box: res.Entries[0].DN, dir: t.TempDir(), groups: map[string]string{}}
	for _, ou := range []string{"OU=People", "OU=Engineering,OU=People", "OU=Sales,OU=People", "OU=Finance,OU=People", "OU=Leavers", "OU=Groups"} {
		req := ldap.NewAddRequest(ou+","+e.box, nil)
		req.Attribute("objectClass", []string{"top", "organizationalUnit"})
		if err := admin.Add(req); err != nil {
			t.Fatal(err)
		}
	}
	suffix := dirtest.RandomHex(t, 3)
	for _, g := range []string{"All Staff", "Engineering Staff", "Sales Staff"} {
		name := g + " " + suffix
		e.groups[g] = name
		req := ldap.NewAddRequest("CN="+name+",OU=Groups,"+e.box, nil)
		req.Attribute("objectClass", []string{"top", "group"})
		req.Attribute("sAMAccountName", []string{strings.ReplaceAll(name, " ", "")})
		if err := admin.Add(req); err != nil {
			t.Fatal(err)
		}
	}
	mapping, err := os.ReadFile("../../examples/active-directory/mapping.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := strings.ReplaceAll(string(mapping), "OU=People,DC=contoso,DC=test", "OU=People,"+e.box)
	for g, name := range e.groups {
		m = strings.ReplaceAll(m, ": "+g+"\n", ": "+name+"\n")
	}
	// sAMAccountName and userPrincipalName are unique in the whole domain,
	// and the plan sees only base_dn: each test gets names of its own.
	tok := "t" + suffix[:3]
	m = strings.ReplaceAll(m, "Left(ToLower(", `Left(Join("", "`+tok+`", ToLower(`)
	m = strings.ReplaceAll(m, ")))), 20)", "))))), 20)")
	m = strings.ReplaceAll(m, "@contoso.test", "@"+tok+".contoso.test")
	if !strings.Contains(m, e.groups["All Staff"]) || strings.Count(m, e.box) != 4 {
		t.Fatalf("the example mapping did not take the sandbox:\n%s", m)
	}
	write(t, filepath.Join(e.dir, "mapping.yaml"), m)
	copyFile(t, "../../examples/active-directory/workers.csv", filepath.Join(e.dir, "workers.csv"))
	write(t, filepath.Join(e.dir, "hrsync.yaml"), fmt.Sprintf(`source:
  type: csv
  path: workers.csv
mapping: mapping.yaml
target:
  type: active_directory
  url: %s
  ca_file: %s
  bind_dn: %s
  base_dn: %s
  leavers_ou: OU=Leavers,%s
policy:
  leavers: disable
%s`, s.URL, s.CAFile, s.BindDN, e.box, e.box, policy))
	e.env = []string{"HRSYNC_TARGET_PASSWORD=" + s.Password}
	return e
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (e *adEnv) run(t *testing.T, args ...string) result {
	t.Helper()
	r := hrsync(t, e.dir, e.env, args...)
	// The bind password never shows.
	if strings.Contains(r.stdout+r.stderr, e.s.Password) {
		t.Fatalf("hrsync %v printed the bind password", args)
	}
	return r
}

// adUser is a user as the test sees it in AD.
type adUser struct {
	dn, guid, uac, department, manager string
	groups                             []string
}

// users reads the users below the sandbox by employeeID.
func (e *adEnv) users(t *testing.T) map[string]adUser {
	t.Helper()
	res, err := e.admin.SearchWithPaging(ldap.NewSearchRequest(e.box, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		"(&(objectClass=user)(employeeID=*))", []string{"employeeID", "objectGUID", "userAccountControl", "department", "manager", "memberOf"}, nil), 500)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]adUser{}
	for _, en := range res.Entries {
		key := en.GetAttributeValue("employeeID")
		if _, dup := out[key]; dup {
			t.Fatalf("two users hold employeeID %s", key)
		}
		var groups []string
		for _, g := range en.GetAttributeValues("memberOf") {
			rdn, _, _ := strings.Cut(strings.TrimPrefix(g, "CN="), ",")
			groups = append(groups, rdn)
		}
		out[key] = adUser{dn: en.DN, guid: ldapconn.GUIDString(en.GetRawAttributeValue("objectGUID")), uac: en.GetAttributeValue("userAccountControl"),
			department: en.GetAttributeValue("department"), manager: en.GetAttributeValue("manager"), groups: groups}
	}
	return out
}

func (e *adEnv) editCSV(t *testing.T, edit func(string) string) {
	t.Helper()
	path := filepath.Join(e.dir, "workers.csv")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	write(t, path, edit(string(data)))
}

func (e *adEnv) modify(t *testing.T, dn string, f func(*ldap.ModifyRequest)) {
	t.Helper()
	m := ldap.NewModifyRequest(dn, nil)
	f(m)
	if err := e.admin.Modify(m); err != nil {
		t.Fatalf("modify %s: %v", dn, err)
	}
}

func hasGroup(u adUser, name string) bool {
	for _, g := range u.groups {
		if g == name {
			return true
		}
	}
	return false
}

func noChanges(t *testing.T, e *adEnv) {
	t.Helper()
	r := e.run(t, "plan", "-c", "hrsync.yaml", "--detailed-exitcode")
	if r.code != 0 || !strings.Contains(r.stdout, "No changes") {
		t.Fatalf("plan after apply is not empty: %s", r)
	}
}

// The example against a sandbox OU: joiners created with passwords that
// bind and a writeback naming their DN and sAMAccountName; a mover
// changes department, OU and group, keeping its objectGUID; a rename; a
// leaver disabled (only bit 0x2) and moved to the leavers OU, then rehired
// back; an account without employeeID never touched; every run converges.
func TestADPlanApplyConverge(t *testing.T) {
	e := newADEnv(t, "  max_leavers: 5\n")
	// An account without employeeID among them: never touched.
	svc := "CN=svc-print,OU=Sales,OU=People," + e.box
	add := ldap.NewAddRequest(svc, nil)
	add.Attribute("objectClass", []string{"top", "person", "organizationalPerson", "user"})
	add.Attribute("sAMAccountName", []string{"svcprint" + dirtest.RandomHex(t, 2)})
	add.Attribute("department", []string{"Sales"})
	add.Attribute("userAccountControl", []string{"514"})
	if err := e.admin.Add(add); err != nil {
		t.Fatal(err)
	}
	usn := func() string {
		res, err := e.admin.Search(ldap.NewSearchRequest(svc, ldap.ScopeBaseObject, 0, 0, 0, false, "(objectClass=*)", []string{"uSNChanged"}, nil))
		if err != nil {
			t.Fatal(err)
		}
		return res.Entries[0].GetAttributeValue("uSNChanged")
	}
	svcUSN := usn()

	r := e.run(t, "plan", "-c", "hrsync.yaml", "--out", "plan.json", "--detailed-exitcode")
	mustCode(t, r, 2)
	if !strings.Contains(r.stdout, "11 to create") || !strings.Contains(r.stdout, `cn                      = "John Smith 2008"`) {
		t.Fatalf("plan:\n%s", r.stdout)
	}
	r = e.run(t, "apply", "-c", "hrsync.yaml", "plan.json", "--passwords-file", "passwords.csv", "--writeback", "writeback.csv", "--report", "report.json")
	mustCode(t, r, 0)
	users := e.users(t)
	if len(users) != 11 {
		t.Fatalf("%d users after apply", len(users))
	}
	jose := users["2002"]
	if jose.dn != "CN=José García,OU=Engineering,OU=People,"+e.box || jose.uac != "512" || !hasGroup(jose, e.groups["Engineering Staff"]) || !hasGroup(jose, e.groups["All Staff"]) {
		t.Fatalf("2002: %+v", jose)
	}
	if !strings.HasPrefix(users["2005"].manager, "CN=José García,") {
		t.Errorf("2005's manager %q", users["2005"].manager)
	}
	// The passwords file holds the passwords set: each one is right (AD
	// answers "must change at first sign-in", data 773, not 52e), and one
	// binds once that is lifted. They appear nowhere else.
	pwData, err := os.ReadFile(filepath.Join(e.dir, "passwords.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(string(pwData))).ReadAll()
	if err != nil || len(rows) != 12 {
		t.Fatalf("passwords file: %d rows, %v", len(rows), err)
	}
	plan, _ := os.ReadFile(filepath.Join(e.dir, "plan.json"))
	report, _ := os.ReadFile(filepath.Join(e.dir, "report.json"))
	writeback, _ := os.ReadFile(filepath.Join(e.dir, "writeback.csv"))
	for _, row := range rows[1:] {
		upn, pw := row[1], row[2]
		if err := e.s.Dial(t).Bind(upn, pw); err == nil || !strings.Contains(err.Error(), "data 773") {
			t.Errorf("bind as %s with its initial password: %v, want data 773 (right password, must change it)", upn, err)
		}
		for what, text := range map[string]string{"plan": string(plan), "report": string(report), "writeback": string(writeback), "output": r.stdout + r.stderr} {
			if strings.Contains(text, pw) {
				t.Errorf("the %s holds %s's password", what, upn)
			}
		}
	}
	e.modify(t, jose.dn, func(m *ldap.ModifyRequest) { m.Replace("pwdLastSet", []string{"-1"}) })
	for _, row := range rows[1:] {
		if row[0] == "2002" {
			if err := e.s.Dial(t).Bind(row[1], row[2]); err != nil {
				t.Errorf("bind as %s: %v", row[1], err)
			}
		}
	}
	wb, err := csv.NewReader(strings.NewReader(string(writeback))).ReadAll()
	if err != nil || len(wb) != 12 || strings.Join(wb[0], ",") != "key,user_principal_name,mail,object_id,created_at,dn,account_name" {
		t.Fatalf("writeback %q %v", wb, err)
	}
	for _, row := range wb[1:] {
		if u := users[row[0]]; u.guid != row[3] || u.dn != row[5] || row[6] == "" {
			t.Errorf("writeback row %q, user %+v", row, u)
		}
	}
	noChanges(t, e)

	// A mover (department, so OU and groups), a rename, a leaver whose
	// account an admin had set never to expire its password (0x10000).
	e.modify(t, users["2012"].dn, func(m *ldap.ModifyRequest) { m.Replace("userAccountControl", []string{strconv.Itoa(0x10200)}) })
	e.editCSV(t, func(s string) string {
		s = strings.Replace(s, "2005,Active,Łukasz,Nowak,Engineering,Engineer,2002", "2005,Active,Łukasz,Nowak,Sales,Engineer,2002", 1)
		s = strings.Replace(s, "2011,Active,Chen,Wei,", "2011,Active,Chen,Wei-Lin,", 1)
		return strings.Replace(s, "2012,Active,Fatima,Zahra,Engineering,Engineer,2002,Contoso\n", "", 1)
	})
	r = e.run(t, "plan", "-c", "hrsync.yaml", "--detailed-exitcode")
	mustCode(t, r, 2)
	for _, want := range []string{"~ update 2005", "- disable 2012", "(absent from source)", `"OU=Leavers,` + e.box + `"`, "~ update 2011", `"Chen Wei-Lin"`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("plan lacks %q:\n%s", want, r.stdout)
		}
	}
	mustCode(t, e.run(t, "apply", "-c", "hrsync.yaml", "--auto-approve"), 0)
	after := e.users(t)
	if u := after["2005"]; u.guid != users["2005"].guid || u.dn != "CN=Łukasz Nowak,OU=Sales,OU=People,"+e.box || u.department != "Sales" ||
		!hasGroup(u, e.groups["Sales Staff"]) || hasGroup(u, e.groups["Engineering Staff"]) {
		t.Errorf("mover 2005: %+v (was %+v)", u, users["2005"])
	}
	if u := after["2011"]; u.guid != users["2011"].guid || u.dn != "CN=Chen Wei-Lin,OU=Finance,OU=People,"+e.box {
		t.Errorf("renamed 2011: %+v", u)
	}
	if u := after["2012"]; u.guid != users["2012"].guid || u.uac != strconv.Itoa(0x10202) || u.dn != "CN=Fatima Zahra,OU=Leavers,"+e.box {
		t.Errorf("leaver 2012: %+v", u)
	}
	noChanges(t, e)

	// The leaver comes back: enabled (0x2 cleared, 0x10000 kept) and moved
	// back to the OU the mapping gives.
	e.editCSV(t, func(s string) string { return s + "2012,Active,Fatima,Zahra,Engineering,Engineer,2002,Contoso\n" })
	r = e.run(t, "plan", "-c", "hrsync.yaml", "--detailed-exitcode")
	if !strings.Contains(r.stdout, "~ enable 2012") {
		t.Fatalf("rehire plan:\n%s", r)
	}
	mustCode(t, e.run(t, "apply", "-c", "hrsync.yaml", "--auto-approve"), 0)
	if u := e.users(t)["2012"]; u.guid != users["2012"].guid || u.uac != strconv.Itoa(0x10200) || u.dn != "CN=Fatima Zahra,OU=Engineering,OU=People,"+e.box {
		t.Errorf("rehire 2012: %+v", u)
	}
	noChanges(t, e)

	// Thresholds: more leavers than max_leavers blocks the plan (exit 4)
	// and apply refuses it.
	e.editCSV(t, func(s string) string {
		lines := strings.Split(s, "\n")
		return strings.Join(lines[:4], "\n") + "\n"
	})
	mustCode(t, e.run(t, "plan", "-c", "hrsync.yaml", "--detailed-exitcode", "--out", "mass.json"), 4)
	r = e.run(t, "apply", "-c", "hrsync.yaml", "mass.json")
	if r.code == 0 {
		t.Fatalf("a blocked plan was applied: %s", r)
	}
	if n := len(e.users(t)); n != 11 {
		t.Fatalf("%d users after the refused mass leave", n)
	}
	for key, u := range e.users(t) {
		if u.uac != "512" && key != "2012" && key != "2010" {
			t.Errorf("%s was disabled by a refused plan: %+v", key, u)
		}
	}
	if usn() != svcUSN {
		t.Error("the account without employeeID was changed")
	}
}

// An admin's edit between plan and apply refuses that action (stale); a
// forged plan is refused whole; an apply killed half way through its
// creates converges when run again, without a duplicate account.
func TestADStaleForgedAndKilled(t *testing.T) {
	e := newADEnv(t, "")
	mustCode(t, e.run(t, "apply", "-c", "hrsync.yaml", "--auto-approve"), 0)
	users := e.users(t)

	// Stale: the plan moves 2006 to Sales; an admin edits 2006 meanwhile.
	e.editCSV(t, func(s string) string {
		return strings.Replace(s, "2006,Active,Seán,O'Brien,Engineering,", "2006,Active,Seán,O'Brien,Sales,", 1)
	})
	mustCode(t, e.run(t, "plan", "-c", "hrsync.yaml", "--out", "stale.json", "--detailed-exitcode"), 2)
	e.modify(t, users["2006"].dn, func(m *ldap.ModifyRequest) { m.Replace("title", []string{"Edited by an admin"}) })
	r := e.run(t, "apply", "-c", "hrsync.yaml", "stale.json", "--report", "stale-report.json")
	mustCode(t, r, 3)
	var rep struct {
		Results []struct {
			Key       string `json:"key"`
			Status    string `json:"status"`
			ErrorCode string `json:"error_code"`
		} `json:"results"`
	}
	data, _ := os.ReadFile(filepath.Join(e.dir, "stale-report.json"))
	if err := json.Unmarshal(data, &rep); err != nil || len(rep.Results) != 1 || rep.Results[0].ErrorCode != "stale_plan" {
		t.Fatalf("report %s (%v)", data, err)
	}
	if u := e.users(t)["2006"]; u.dn != users["2006"].dn {
		t.Fatalf("a stale action moved 2006 to %s", u.dn)
	}

	// Forged: a plan whose department value the mapping does not give.
	mustCode(t, e.run(t, "plan", "-c", "hrsync.yaml", "--out", "forged.json", "--detailed-exitcode"), 2)
	raw, _ := os.ReadFile(filepath.Join(e.dir, "forged.json"))
	if !strings.Contains(string(raw), `"after": "Sales"`) {
		t.Fatalf("plan:\n%s", raw)
	}
	write(t, filepath.Join(e.dir, "forged.json"), strings.Replace(string(raw), `"after": "Sales"`, `"after": "Finance"`, 1))
	r = e.run(t, "apply", "-c", "hrsync.yaml", "forged.json")
	if r.code == 0 || !strings.Contains(r.stdout+r.stderr, "2006") {
		t.Fatalf("a forged plan: %s", r)
	}
	if u := e.users(t)["2006"]; u.department != "Engineering" {
		t.Fatalf("the forged plan wrote: %+v", u)
	}
	mustCode(t, e.run(t, "apply", "-c", "hrsync.yaml", "--auto-approve"), 0)
	noChanges(t, e)

	// Killed: 40 joiners; apply is SIGKILLed once a few are created (the
	// writeback gets a row per joiner as it is created).
	e.editCSV(t, func(s string) string {
		var b strings.Builder
		b.WriteString(s)
		for i := range 40 {
			fmt.Fprintf(&b, "%d,Active,Kim%02d,Lee,Sales,Rep,2003,Contoso\n", 3000+i, i)
		}
		return b.String()
	})
	mustCode(t, e.run(t, "plan", "-c", "hrsync.yaml", "--out", "joiners.json", "--detailed-exitcode"), 2)
	cmd := exec.Command(binary, "apply", "-c", "hrsync.yaml", "joiners.json", "--writeback", "killed.csv")
	cmd.Dir, cmd.Env = e.dir, append(os.Environ(), e.env...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if n := lines(filepath.Join(e.dir, "killed.csv")); n >= 4 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	made := len(e.users(t)) - 11
	t.Logf("killed after %d of 40 creates", made)
	if made == 40 {
		t.Log("the apply finished before it was killed; the re-run below checks convergence only")
	}
	r = e.run(t, "apply", "-c", "hrsync.yaml", "joiners.json")
	mustCode(t, r, 0)
	if n := len(e.users(t)); n != 51 {
		t.Fatalf("%d users after the re-run, want 51 (no duplicates: users() fails on two holders of a key)", n)
	}
	noChanges(t, e)
}
