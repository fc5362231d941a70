package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/hrsync/hrsync/internal/dirtest"
)

// ldapPerson adds an inetOrgPerson below parent.
func ldapPerson(t *testing.T, conn *goldap.Conn, parent, uid, number, given, sn string, extra map[string][]string) string {
	t.Helper()
	dn := "uid=" + uid + "," + parent
	req := goldap.NewAddRequest(dn, nil)
	req.Attribute("objectClass", []string{"inetOrgPerson"})
	req.Attribute("uid", []string{uid})
	req.Attribute("cn", []string{given + " " + sn})
	req.Attribute("givenName", []string{given})
	req.Attribute("sn", []string{sn})
	if number != "" {
		req.Attribute("employeeNumber", []string{number})
	}
	for k, v := range extra {
		req.Attribute(k, v)
	}
	if err := conn.Add(req); err != nil {
		t.Fatalf("adding %s: %v", dn, err)
	}
	return dn
}

// ldapProject writes a project reading box through the inetorgperson
// preset and the shipped mapping, into a sandbox tenant of example.org;
// bind is the bind DN (its password comes from HRSYNC_SOURCE_PASSWORD).
func ldapProject(t *testing.T, s *dirtest.Server, box, bind string) string {
	t.Helper()
	dir := t.TempDir()
	copyFile(t, filepath.Join("..", "..", "mappings", "ldap-inetorgperson.yaml"), filepath.Join(dir, "ldap-inetorgperson.yaml"))
	copyBytes(t, filepath.Join(dir, "tenant-seed.json"), `{"tenant": {"id": "7d3c2b1a-0f9e-4d8c-b7a6-5e4d3c2b1a09", "displayName": "Example (sandbox)"},
 "domains": ["example.org"], "users": [
  {"id": "0a4c3e2f-1b5d-4e6f-8a7b-9c0d1e2f3a4b", "accountEnabled": true, "displayName": "Directory Admin",
   "userPrincipalName": "admin@example.org", "mailNickname": "admin"}]}`)
	copyBytes(t, filepath.Join(dir, "hrsync.yaml"), `source:
  type: ldap
  ldap:
    preset: inetorgperson
    url: `+s.StartTLSURL+`
    ca_file: `+s.CAFile+`
    bind_dn: `+bind+`
    base_dn: `+box+`
    page_size: 3
mapping: ldap-inetorgperson.yaml
target:
  type: sandbox
  state: .hrsync/sandbox.json
  seed: tenant-seed.json
`)
	return dir
}

// People in OpenLDAP, read through the inetorgperson preset, planned into
// the sandbox tenant, applied, and planned again: no changes. A manager
// outside the base is warned about in the plan; explain and validate read
// the directory too; a read cut short by a size limit fails the plan and
// never disables anyone; a person removed from the directory is one leaver.
func TestLDAPSourceEndToEnd(t *testing.T) {
	s := dirtest.LDAP(t)
	admin := s.DialAdmin(t)
	box := s.Sandbox(t)
	people, elsewhere := "ou=people,"+box, "ou=elsewhere,"+box
	for _, ou := range []string{people, elsewhere} {
		req := goldap.NewAddRequest(ou, nil)
		req.Attribute("objectClass", []string{"organizationalUnit"})
		if err := admin.Add(req); err != nil {
			t.Fatal(err)
		}
	}
	board := ldapPerson(t, admin, elsewhere, "board", "9000", "Board", "Chair", nil)
	ceo := ldapPerson(t, admin, people, "amelia", "1001", "Amelia", "Hart", map[string][]string{
		"manager": {board}, "title": {"Chief Executive Officer"}, "departmentNumber": {"100"}, "mail": {"amelia.hart@example.org"}})
	cto := ldapPerson(t, admin, people, "jose", "1002", "José", "García", map[string][]string{
		"manager": {ceo}, "title": {"CTO"}, "departmentNumber": {"200"},
		"mail": {"jose.garcia@example.org", "jgarcia@example.org"}, "employeeType": {"Employee"}})
	for i, who := range [][2]string{{"Zoë", "Müller"}, {"Łukasz", "Nowak"}, {"Seán", "O'Brien"}, {"Priya", "Natarajan"}} {
		uid := strings.ToLower(strings.NewReplacer("ü", "ue", "'", "").Replace(who[1]))
		ldapPerson(t, admin, people, uid, fmt.Sprint(1003+i), who[0], who[1], map[string][]string{
			"manager": {cto}, "departmentNumber": {"200"}, "title": {"Engineer"}})
	}
	ldapPerson(t, admin, people, "printer", "", "Print", "Service", nil) // no employeeNumber: not a person to sync

	dir := ldapProject(t, s, people, s.BindDN)
	env := []string{"HRSYNC_SOURCE_PASSWORD=" + s.Password}

	v := hrsync(t, dir, env, "validate", "-c", "hrsync.yaml")
	mustCode(t, v, 0)
	if !strings.Contains(v.stdout, "(6 records, 10 columns)") || !strings.Contains(v.stdout, "reference_outside_source 1001 (note): manager: uid=board,") {
		t.Errorf("validate:\n%s", v)
	}

	plan := hrsync(t, dir, env, "plan", "-c", "hrsync.yaml", "--out", "plan.json", "--detailed-exitcode", "--log-level", "debug")
	mustCode(t, plan, 2)
	for _, want := range []string{"+ create 1001", "+ create 1006", "reference_outside_source 1001", "uid=board," + elsewhere,
		"Plan: 6 to create, 0 to update, 0 to enable, 0 to disable"} {
		if !strings.Contains(plan.stdout, want) {
			t.Errorf("plan lacks %q:\n%s", want, plan.stdout)
		}
	}
	if !strings.Contains(plan.stderr, "entries=6 pages=2") {
		t.Errorf("the debug log does not show 6 entries in 2 pages of 3:\n%s", plan.stderr)
	}
	doc := parsePlan(t, readFile(t, filepath.Join(dir, "plan.json")))
	for _, a := range doc.Actions {
		if a.Key == "1002" {
			for _, c := range a.Changes {
				if c.Attribute == "mail" && (c.After == nil || *c.After != "jose.garcia@example.org") {
					t.Errorf("1002's mail %v: want the first of its two", c.After)
				}
			}
		}
	}
	if !strings.Contains(readFile(t, filepath.Join(dir, "plan.json")), `"dn": "uid=jose,`+people+`"`) {
		t.Error("the plan file does not name the entries' DNs")
	}

	ex := hrsync(t, dir, env, "explain", "-c", "hrsync.yaml", "1002", "--no-target")
	mustCode(t, ex, 0)
	if !strings.Contains(ex.stdout, "entry uid=jose,"+people) || !strings.Contains(ex.stdout, "jose.garcia@example.org,jgarcia@example.org") {
		t.Errorf("explain:\n%s", ex)
	}

	mustCode(t, hrsync(t, dir, env, "apply", "-c", "hrsync.yaml", "plan.json"), 0)
	state := filepath.Join(dir, ".hrsync", "sandbox.json")
	users := readState(t, state)
	if users["1002"]["manager"] != users["1001"]["id"] || users["1003"]["manager"] != users["1002"]["id"] {
		t.Errorf("managers not set: %v %v", users["1002"]["manager"], users["1003"]["manager"])
	}
	if users["1001"]["manager"] != nil {
		t.Errorf("1001 has a manager: %v", users["1001"]["manager"])
	}
	if users["1004"]["userPrincipalName"] != "nowak@example.org" || users["1004"]["givenName"] != "Łukasz" {
		t.Errorf("1004 = %v", users["1004"])
	}
	again := hrsync(t, dir, env, "plan", "-c", "hrsync.yaml", "--detailed-exitcode")
	mustCode(t, again, 0)
	if !strings.Contains(again.stdout, "No changes.") {
		t.Errorf("second plan:\n%s", again)
	}
	for _, r := range []result{v, plan, ex, again} {
		if strings.Contains(r.stdout+r.stderr, s.Password) {
			t.Fatal("the bind password appeared in hrsync's output")
		}
	}

	// Read as an account limited to 5 entries: the read fails, the plan
	// with it; nobody is disabled.
	before := readFile(t, state)
	limited := ldapProject(t, s, people, s.Need(t, dirtest.ExtraLimitedDN))
	copyFile(t, state, filepath.Join(limited, ".hrsync", "sandbox.json"))
	cut := hrsync(t, limited, []string{"HRSYNC_SOURCE_PASSWORD=" + s.Need(t, dirtest.ExtraLimitedPassword)}, "plan", "-c", "hrsync.yaml", "--detailed-exitcode")
	mustCode(t, cut, 1)
	if cut.stdout != "" || !strings.Contains(cut.stderr, "Size Limit Exceeded") || !strings.Contains(cut.stderr, people) {
		t.Errorf("plan from a cut read:\n%s", cut)
	}
	t.Logf("plan from a cut read: %s", cut.stderr)
	applyCut := hrsync(t, limited, []string{"HRSYNC_SOURCE_PASSWORD=" + s.Need(t, dirtest.ExtraLimitedPassword)}, "apply", "-c", "hrsync.yaml", "--auto-approve")
	mustCode(t, applyCut, 1)
	if readFile(t, filepath.Join(limited, ".hrsync", "sandbox.json")) != before {
		t.Error("an apply from a cut read changed the tenant")
	}

	// A wrong password names the bind, not the password.
	bad := hrsync(t, dir, []string{"HRSYNC_SOURCE_PASSWORD=not-the-password"}, "plan", "-c", "hrsync.yaml")
	mustCode(t, bad, 1)
	if !strings.Contains(bad.stderr, "as "+s.BindDN) || !strings.Contains(bad.stderr, "Invalid Credentials") || strings.Contains(bad.stderr, "not-the-password") {
		t.Errorf("wrong password:\n%s", bad)
	}

	// Someone who left: removed from the branch, one leaver.
	if err := admin.Del(goldap.NewDelRequest("uid=natarajan,"+people, nil)); err != nil {
		t.Fatal(err)
	}
	gone := hrsync(t, dir, env, "plan", "-c", "hrsync.yaml", "--format", "json")
	mustCode(t, gone, 0)
	if acts := parsePlan(t, gone.stdout).actions(); len(acts) != 1 || acts["1006"] != "disable" {
		t.Errorf("after a removal: %v", acts)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// adPerson adds an AD user below parent (a password, so that 512 is
// allowed) and returns its DN.
func adPerson(t *testing.T, conn *goldap.Conn, parent, cn, employeeID string, uac int, manager string) string {
	t.Helper()
	sam := "u" + dirtest.RandomHex(t, 5)
	dn := "CN=" + cn + "," + parent
	req := goldap.NewAddRequest(dn, nil)
	req.Attribute("objectClass", []string{"top", "person", "organizationalPerson", "user"})
	req.Attribute("sAMAccountName", []string{sam})
	req.Attribute("userPrincipalName", []string{sam + "@contoso.test"})
	first, last, _ := strings.Cut(cn, " ")
	req.Attribute("givenName", []string{first})
	req.Attribute("sn", []string{last})
	req.Attribute("displayName", []string{cn})
	req.Attribute("department", []string{"Engineering"})
	req.Attribute("title", []string{"Engineer"})
	req.Attribute("employeeID", []string{employeeID})
	if manager != "" {
		req.Attribute("manager", []string{manager})
	}
	pw := utf16le(`"Pw-` + dirtest.RandomHex(t, 8) + `-Xy9"`)
	req.Attribute("unicodePwd", []string{pw})
	req.Attribute("userAccountControl", []string{fmt.Sprint(uac)})
	if err := conn.Add(req); err != nil {
		t.Fatalf("adding %s: %v", dn, err)
	}
	return dn
}

func utf16le(s string) string {
	var b strings.Builder
	for _, r := range s { // ASCII only here
		b.WriteByte(byte(r))
		b.WriteByte(0)
	}
	return b.String()
}

// Active Directory as the source, through the active_directory preset and
// mappings/active-directory-source.yaml: enabled users are created with
// their manager, a disabled one is not; after apply the next plan is
// empty; a user disabled in AD (userAccountControl 514) is disabled in
// Entra.
func TestActiveDirectorySourceEndToEnd(t *testing.T) {
	s := dirtest.AD(t)
	admin := s.DialAdmin(t)
	box := s.Sandbox(t)
	boss := adPerson(t, admin, box, "Zoë Müller", "A100", 512, "")
	jose := adPerson(t, admin, box, "José García", "A101", 512, boss)
	adPerson(t, admin, box, "Seán OBrien", "A102", 514, boss)

	dir := t.TempDir()
	copyFile(t, filepath.Join("..", "..", "mappings", "active-directory-source.yaml"), filepath.Join(dir, "ad.yaml"))
	copyBytes(t, filepath.Join(dir, "tenant-seed.json"), `{"tenant": {"id": "5e4d3c2b-1a09-4f8e-9d7c-6b5a4f3e2d1c", "displayName": "Contoso (sandbox)"},
 "domains": ["contoso.test"], "users": []}`)
	copyBytes(t, filepath.Join(dir, "hrsync.yaml"), `source:
  type: ldap
  ldap:
    preset: active_directory
    url: `+s.URL+`
    ca_file: `+s.CAFile+`
    bind_dn: `+s.BindDN+`
    base_dn: "`+box+`"
mapping: ad.yaml
target:
  type: sandbox
  state: .hrsync/sandbox.json
  seed: tenant-seed.json
`)
	env := []string{"HRSYNC_SOURCE_PASSWORD=" + s.Password}
	plan := hrsync(t, dir, env, "plan", "-c", "hrsync.yaml", "--out", "plan.json", "--detailed-exitcode")
	mustCode(t, plan, 2)
	if acts := parsePlan(t, readFile(t, filepath.Join(dir, "plan.json"))).actions(); len(acts) != 2 || acts["A100"] != "create" || acts["A101"] != "create" {
		t.Fatalf("plan: %v\n%s", acts, plan)
	}
	mustCode(t, hrsync(t, dir, env, "apply", "-c", "hrsync.yaml", "plan.json"), 0)
	users := readState(t, filepath.Join(dir, ".hrsync", "sandbox.json"))
	if users["A101"]["manager"] != users["A100"]["id"] || users["A101"]["companyName"] != nil || users["A101"]["jobTitle"] != "Engineer" {
		t.Errorf("A101 = %v", users["A101"])
	}
	mustCode(t, hrsync(t, dir, env, "plan", "-c", "hrsync.yaml", "--detailed-exitcode"), 0)

	disable := goldap.NewModifyRequest(jose, nil)
	disable.Replace("userAccountControl", []string{"514"})
	if err := admin.Modify(disable); err != nil {
		t.Fatal(err)
	}
	again := hrsync(t, dir, env, "plan", "-c", "hrsync.yaml", "--format", "json")
	mustCode(t, again, 0)
	if acts := parsePlan(t, again.stdout).actions(); len(acts) != 1 || acts["A101"] != "disable" {
		t.Errorf("after disabling A101 in AD: %v", acts)
	}
}
