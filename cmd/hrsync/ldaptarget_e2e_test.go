package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/hrsync/hrsync/internal/dirtest"
)

// ldapTargetEnv is an LDAP target end-to-end setup: the example's config,
// the shipped mapping and the workers, pointed at a sandbox of slapd with
// the example's branches, groups and a lockout policy made inside it.
type ldapTargetEnv struct {
	s     *dirtest.Server
	admin *goldap.Conn
	box   string
	dir   string
	env   []string
}

func newLDAPTargetEnv(t *testing.T, disable, policy string) *ldapTargetEnv {
	t.Helper()
	s := dirtest.LDAP(t)
	e := &ldapTargetEnv{s: s, admin: s.DialAdmin(t), box: s.Sandbox(t), dir: t.TempDir()}
	add := func(dn string, attrs map[string][]string) {
		req := goldap.NewAddRequest(dn+","+e.box, nil)
		for k, v := range attrs {
			req.Attribute(k, v)
		}
		if err := e.admin.Add(req); err != nil {
			t.Fatalf("adding %s: %v", dn, err)
		}
	}
	ou := map[string][]string{"objectClass": {"organizationalUnit"}}
	for _, dn := range []string{"ou=people", "ou=engineering,ou=people", "ou=sales,ou=people", "ou=finance,ou=people", "ou=disabled", "ou=groups"} {
		add(dn, ou)
	}
	add("cn=staff,ou=groups", map[string][]string{"objectClass": {"groupOfNames"}, "member": {s.BindDN}})
	add("cn=engineers,ou=groups", map[string][]string{"objectClass": {"posixGroup"}, "gidNumber": {"5001"}})
	add("cn=lockout", map[string][]string{"objectClass": {"device", "pwdPolicy"}, "pwdAttribute": {"userPassword"}, "pwdLockout": {"TRUE"}})
	mapping, err := os.ReadFile("../../mappings/ldap-target-inetorgperson.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := strings.ReplaceAll(string(mapping), "ou=people,dc=example,dc=org", "ou=people,"+e.box)
	write(t, filepath.Join(e.dir, "mapping.yaml"), m)
	copyFile(t, "../../examples/ldap/workers.csv", filepath.Join(e.dir, "workers.csv"))
	// The example's config, on the sandbox (its disable block as the
	// test says).
	config, err := os.ReadFile("../../examples/ldap/hrsync-target.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := strings.NewReplacer("../../mappings/ldap-target-inetorgperson.yaml", "mapping.yaml", "ldap://127.0.0.1:3890", s.StartTLSURL,
		"/tmp/ldap/ca.pem", s.CAFile, "cn=admin,dc=example,dc=org", s.BindDN, "cn=default,ou=policies,dc=example,dc=org", "cn=lockout,"+e.box,
		",dc=example,dc=org", ","+e.box).Replace(string(config))
	if disable != "" {
		start, end := strings.Index(c, "  disable:\n"), strings.Index(c, "  password_method:")
		c = c[:start] + strings.ReplaceAll(disable, "BOX", e.box) + c[end:]
	}
	write(t, filepath.Join(e.dir, "hrsync.yaml"), c+policy)
	e.env = []string{"HRSYNC_TARGET_PASSWORD=" + s.Password}
	return e
}

func (e *ldapTargetEnv) run(t *testing.T, args ...string) result {
	t.Helper()
	r := hrsync(t, e.dir, e.env, args...)
	if strings.Contains(r.stdout+r.stderr, e.s.Password) {
		t.Fatalf("hrsync %v printed the bind password", args)
	}
	return r
}

func (e *ldapTargetEnv) noChanges(t *testing.T) {
	t.Helper()
	r := e.run(t, "plan", "-c", "hrsync.yaml", "--detailed-exitcode")
	if r.code != 0 || !strings.Contains(r.stdout, "No changes") {
		t.Fatalf("plan after apply is not empty: %s", r)
	}
}

// ldapEntry is a user as the test sees it in slapd.
type ldapEntry struct {
	dn, uuid, uid, locked, title, manager string
}

// users reads the people below the sandbox by employeeNumber; two holders
// of one number fail the test.
func (e *ldapTargetEnv) users(t *testing.T) map[string]ldapEntry {
	t.Helper()
	res, err := e.admin.SearchWithPaging(goldap.NewSearchRequest(e.box, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases, 0, 0, false,
		"(&(objectClass=inetOrgPerson)(employeeNumber=*))", []string{"employeeNumber", "entryUUID", "uid", "pwdAccountLockedTime", "title", "manager"}, nil), 500)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]ldapEntry{}
	for _, en := range res.Entries {
		key := en.GetAttributeValue("employeeNumber")
		if _, dup := out[key]; dup {
			t.Fatalf("two entries hold employeeNumber %s", key)
		}
		out[key] = ldapEntry{dn: en.DN, uuid: en.GetAttributeValue("entryUUID"), uid: en.GetAttributeValue("uid"),
			locked: en.GetAttributeValue("pwdAccountLockedTime"), title: en.GetAttributeValue("title"), manager: en.GetAttributeValue("manager")}
	}
	return out
}

// group is the member or memberUid values of a group in the sandbox.
func (e *ldapTargetEnv) group(t *testing.T, cn, attr string) []string {
	t.Helper()
	res, err := e.admin.Search(goldap.NewSearchRequest("cn="+cn+",ou=groups,"+e.box, goldap.ScopeBaseObject, goldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", []string{attr}, nil))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("group %s: %v", cn, err)
	}
	return res.Entries[0].GetAttributeValues(attr)
}

func (e *ldapTargetEnv) editCSV(t *testing.T, edit func(string) string) {
	t.Helper()
	path := filepath.Join(e.dir, "workers.csv")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	write(t, path, edit(string(data)))
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}

// The example against a sandbox of slapd, disabling by a ppolicy lock:
// joiners created in their department's branch with passwords that bind
// (and appear only in the passwords file), in the groupOfNames and the
// posixGroup; a mover moved (entryUUID kept) and out of the posixGroup; a
// leaver locked (its bind refused) and a rehire unlocked; a mass leave
// blocked; every run converges.
func TestLDAPTargetPlanApplyConverge(t *testing.T) {
	e := newLDAPTargetEnv(t, "", "")
	r := e.run(t, "plan", "-c", "hrsync.yaml", "--out", "plan.json", "--detailed-exitcode")
	mustCode(t, r, 2)
	if !strings.Contains(r.stdout, "11 to create") || !strings.Contains(r.stdout, `parentDistinguishedName = "ou=engineering,ou=people,`+e.box+`"`) {
		t.Fatalf("plan:\n%s", r.stdout)
	}
	r = e.run(t, "apply", "-c", "hrsync.yaml", "plan.json", "--passwords-file", "passwords.csv", "--writeback", "writeback.csv", "--report", "report.json")
	mustCode(t, r, 0)
	users := e.users(t)
	if len(users) != 11 {
		t.Fatalf("%d users after apply", len(users))
	}
	jose := users["2002"]
	if jose.dn != "uid=jose.garcia,ou=engineering,ou=people,"+e.box || jose.locked != "" || !strings.HasPrefix(users["2005"].manager, "uid=jose.garcia,") {
		t.Fatalf("2002: %+v; 2005: %+v", jose, users["2005"])
	}
	if staff := e.group(t, "staff", "member"); len(staff) != 12 || !contains(staff, jose.dn) {
		t.Errorf("staff %v", staff)
	}
	if eng := e.group(t, "engineers", "memberUid"); !contains(eng, "jose.garcia") || contains(eng, "john.smith") {
		t.Errorf("engineers %v", eng)
	}
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
	pw := map[string]string{}
	for _, row := range rows[1:] {
		pw[row[0]] = row[2]
		if err := e.s.Dial(t).Bind(users[row[0]].dn, row[2]); err != nil {
			t.Errorf("bind as %s with its initial password: %v", row[1], err)
		}
		for what, text := range map[string]string{"plan": string(plan), "report": string(report), "writeback": string(writeback), "output": r.stdout + r.stderr} {
			if strings.Contains(text, row[2]) {
				t.Errorf("the %s holds %s's password", what, row[1])
			}
		}
	}
	wb, err := csv.NewReader(strings.NewReader(string(writeback))).ReadAll()
	if err != nil || len(wb) != 12 {
		t.Fatalf("writeback %q %v", wb, err)
	}
	for _, row := range wb[1:] {
		if u := users[row[0]]; u.uuid != row[3] || !strings.EqualFold(u.dn, row[5]) || row[6] != u.uid {
			t.Errorf("writeback row %q, user %+v", row, u)
		}
	}
	e.noChanges(t)

	// A mover to Sales, a new title, a leaver.
	e.editCSV(t, func(s string) string {
		s = strings.Replace(s, "2005,Active,Łukasz,Nowak,Engineering,Engineer,2002", "2005,Active,Łukasz,Nowak,Sales,Engineer,2002", 1)
		s = strings.Replace(s, "2011,Active,Chen,Wei,Finance,Controller", "2011,Active,Chen,Wei,Finance,Senior Controller", 1)
		return strings.Replace(s, "2012,Active,Fatima,Zahra,Engineering,Engineer,2002,Contoso\n", "", 1)
	})
	r = e.run(t, "plan", "-c", "hrsync.yaml", "--detailed-exitcode")
	mustCode(t, r, 2)
	for _, want := range []string{"~ update 2005", "- disable 2012", "(absent from source)", "~ update 2011"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("plan lacks %q:\n%s", want, r.stdout)
		}
	}
	mustCode(t, e.run(t, "apply", "-c", "hrsync.yaml", "--auto-approve"), 0)
	after := e.users(t)
	if u := after["2005"]; u.uuid != users["2005"].uuid || u.dn != "uid=lukasz.nowak,ou=sales,ou=people,"+e.box {
		t.Errorf("mover 2005: %+v (was %+v)", u, users["2005"])
	}
	if eng := e.group(t, "engineers", "memberUid"); contains(eng, "lukasz.nowak") || !contains(eng, "jose.garcia") {
		t.Errorf("engineers after the move %v", eng)
	}
	if u := after["2011"]; u.title != "Senior Controller" {
		t.Errorf("2011: %+v", u)
	}
	if u := after["2012"]; u.locked != "000001010000Z" || u.dn != users["2012"].dn {
		t.Errorf("leaver 2012: %+v", u)
	}
	if err := e.s.Dial(t).Bind(after["2012"].dn, pw["2012"]); !goldap.IsErrorWithCode(err, goldap.LDAPResultInvalidCredentials) {
		t.Errorf("the leaver binds: %v", err)
	}
	e.noChanges(t)

	// The leaver comes back: unlocked, binds again.
	e.editCSV(t, func(s string) string { return s + "2012,Active,Fatima,Zahra,Engineering,Engineer,2002,Contoso\n" })
	r = e.run(t, "plan", "-c", "hrsync.yaml", "--detailed-exitcode")
	if !strings.Contains(r.stdout, "~ enable 2012") {
		t.Fatalf("rehire plan:\n%s", r)
	}
	mustCode(t, e.run(t, "apply", "-c", "hrsync.yaml", "--auto-approve"), 0)
	if u := e.users(t)["2012"]; u.uuid != users["2012"].uuid || u.locked != "" {
		t.Errorf("rehire 2012: %+v", u)
	}
	if err := e.s.Dial(t).Bind(users["2012"].dn, pw["2012"]); err != nil {
		t.Errorf("the rehire cannot bind: %v", err)
	}
	e.noChanges(t)

	// Thresholds: more leavers than max_leavers (5) blocks the plan, and
	// apply refuses it.
	e.editCSV(t, func(s string) string { return strings.Join(strings.Split(s, "\n")[:4], "\n") + "\n" })
	mustCode(t, e.run(t, "plan", "-c", "hrsync.yaml", "--detailed-exitcode", "--out", "mass.json"), 4)
	if r := e.run(t, "apply", "-c", "hrsync.yaml", "mass.json"); r.code == 0 {
		t.Fatalf("a blocked plan was applied: %s", r)
	}
	for key, u := range e.users(t) {
		if u.locked != "" && key != "2010" {
			t.Errorf("%s was disabled by a refused plan: %+v", key, u)
		}
	}
}

// Disabling by moving to the disabled branch: a leaver moves there and a
// rehire back; an admin's edit between plan and apply refuses that action
// (stale); an apply killed half way through its creates converges when
// run again, without a duplicate entry.
func TestLDAPTargetMoveStaleKilled(t *testing.T) {
	e := newLDAPTargetEnv(t, "  disable:\n    method: move\n    dn: ou=disabled,BOX\n", "")
	mustCode(t, e.run(t, "apply", "-c", "hrsync.yaml", "--auto-approve"), 0)
	users := e.users(t)
	e.noChanges(t)

	e.editCSV(t, func(s string) string {
		return strings.Replace(s, "2012,Active,Fatima,Zahra,Engineering,Engineer,2002,Contoso\n", "", 1)
	})
	mustCode(t, e.run(t, "apply", "-c", "hrsync.yaml", "--auto-approve"), 0)
	if u := e.users(t)["2012"]; u.uuid != users["2012"].uuid || u.dn != "uid=fatima.zahra,ou=disabled,"+e.box {
		t.Errorf("leaver 2012: %+v", u)
	}
	e.noChanges(t)
	e.editCSV(t, func(s string) string { return s + "2012,Active,Fatima,Zahra,Engineering,Engineer,2002,Contoso\n" })
	mustCode(t, e.run(t, "apply", "-c", "hrsync.yaml", "--auto-approve"), 0)
	if u := e.users(t)["2012"]; u.uuid != users["2012"].uuid || u.dn != "uid=fatima.zahra,ou=engineering,ou=people,"+e.box {
		t.Errorf("rehire 2012: %+v", u)
	}
	e.noChanges(t)

	// Stale: the plan moves 2006 to Sales; an admin edits 2006 meanwhile.
	e.editCSV(t, func(s string) string {
		return strings.Replace(s, "2006,Active,Seán,O'Brien,Engineering,", "2006,Active,Seán,O'Brien,Sales,", 1)
	})
	mustCode(t, e.run(t, "plan", "-c", "hrsync.yaml", "--out", "stale.json", "--detailed-exitcode"), 2)
	m := goldap.NewModifyRequest(users["2006"].dn, nil)
	m.Replace("title", []string{"Edited by an admin"})
	if err := e.admin.Modify(m); err != nil {
		t.Fatal(err)
	}
	mustCode(t, e.run(t, "apply", "-c", "hrsync.yaml", "stale.json", "--report", "stale-report.json"), 3)
	var rep struct {
		Results []struct {
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
	mustCode(t, e.run(t, "apply", "-c", "hrsync.yaml", "--auto-approve"), 0)
	e.noChanges(t)

	// Killed: 60 joiners; apply is SIGKILLed once a few are created.
	e.editCSV(t, func(s string) string {
		var b strings.Builder
		b.WriteString(s)
		for i := range 60 {
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
	for lines(filepath.Join(e.dir, "killed.csv")) < 4 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	t.Logf("killed after %d of 60 creates", len(e.users(t))-11)
	mustCode(t, e.run(t, "apply", "-c", "hrsync.yaml", "joiners.json"), 0)
	if n := len(e.users(t)); n != 71 {
		t.Fatalf("%d users after the re-run, want 71", n)
	}
	e.noChanges(t)
}

// Entries named by cn, disabled by a status attribute: the writeback's DN
// is the entry's; a new name renames the entry (entryUUID kept, its
// manager links and group membership follow); a leaver gets the disabled
// value and a rehire loses it; every run converges.
func TestLDAPTargetNamedByCNDisabledByAttribute(t *testing.T) {
	e := newLDAPTargetEnv(t, "  disable:\n    method: attribute\n    attribute: description\n    disabled_value: Disabled by hrsync\n", "")
	cfg, _ := os.ReadFile(filepath.Join(e.dir, "hrsync.yaml"))
	if !strings.Contains(string(cfg), "  rdn_attribute: uid ") {
		t.Fatalf("the example config names no rdn_attribute:\n%s", cfg)
	}
	write(t, filepath.Join(e.dir, "hrsync.yaml"), strings.Replace(string(cfg), "  rdn_attribute: uid ", "  rdn_attribute: cn ", 1))
	// Named by cn, two John Smiths in Sales need different cns, as the
	// mapping's comment says.
	mapping, _ := os.ReadFile(filepath.Join(e.dir, "mapping.yaml"))
	const plain = `cn: 'Join(" ", [FirstName], [LastName])'`
	if !strings.Contains(string(mapping), plain) {
		t.Fatal("the mapping's cn changed")
	}
	write(t, filepath.Join(e.dir, "mapping.yaml"), strings.Replace(string(mapping), plain,
		`cn: 'SelectUniqueValue(Join(" ", [FirstName], [LastName]), Join(" ", [FirstName], [LastName], [WorkerID]))'`, 1))
	mustCode(t, e.run(t, "apply", "-c", "hrsync.yaml", "--auto-approve", "--writeback", "writeback.csv"), 0)
	users := e.users(t)
	if u := users["2011"]; u.dn != "cn=Chen Wei,ou=finance,ou=people,"+e.box {
		t.Fatalf("2011 at %s", u.dn)
	}
	writeback, _ := os.ReadFile(filepath.Join(e.dir, "writeback.csv"))
	wb, err := csv.NewReader(strings.NewReader(string(writeback))).ReadAll()
	if err != nil || len(wb) != 12 {
		t.Fatalf("writeback %q %v", wb, err)
	}
	for _, row := range wb[1:] {
		if u := users[row[0]]; !strings.EqualFold(u.dn, row[5]) || row[6] != u.uid {
			t.Errorf("writeback row %q, user %+v", row, u)
		}
	}
	e.noChanges(t)

	// 2004 (the manager of 2011) is renamed, 2012 leaves.
	e.editCSV(t, func(s string) string {
		s = strings.Replace(s, "2004,Active,Zoë,Müller,", "2004,Active,Zoë,Müller-Lang,", 1)
		return strings.Replace(s, "2012,Active,Fatima,Zahra,Engineering,Engineer,2002,Contoso\n", "", 1)
	})
	mustCode(t, e.run(t, "apply", "-c", "hrsync.yaml", "--auto-approve"), 0)
	after := e.users(t)
	renamed := "cn=Zoë Müller-Lang,ou=finance,ou=people," + e.box
	if u := after["2004"]; u.uuid != users["2004"].uuid || u.dn != renamed {
		t.Errorf("renamed 2004: %+v", u)
	}
	if m := after["2011"].manager; !strings.EqualFold(m, renamed) {
		t.Errorf("2011's manager %q after the rename", m)
	}
	if staff := e.group(t, "staff", "member"); !contains(staff, renamed) {
		t.Errorf("staff after the rename: %v", staff)
	}
	desc := func(key string) string {
		t.Helper()
		res, err := e.admin.Search(goldap.NewSearchRequest(e.users(t)[key].dn, goldap.ScopeBaseObject, goldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", []string{"description"}, nil))
		if err != nil || len(res.Entries) != 1 {
			t.Fatal(err)
		}
		return res.Entries[0].GetAttributeValue("description")
	}
	if got := desc("2012"); got != "Disabled by hrsync" {
		t.Errorf("leaver 2012: description %q", got)
	}
	e.noChanges(t)
	e.editCSV(t, func(s string) string { return s + "2012,Active,Fatima,Zahra,Engineering,Engineer,2002,Contoso\n" })
	mustCode(t, e.run(t, "apply", "-c", "hrsync.yaml", "--auto-approve"), 0)
	if got := desc("2012"); got != "" {
		t.Errorf("rehire 2012: description %q", got)
	}
	e.noChanges(t)
}
