package dirtest_test

// These tests prove that the OpenLDAP server does what hrsync will rely on, and document what it really answers.

import (
	"crypto/tls"
	"fmt"
	"testing"

	"github.com/go-ldap/ldap/v3"
	"github.com/hrsync/hrsync/internal/dirtest"
)

// addPeople adds n inetOrgPerson entries under parent.
func addPeople(t *testing.T, conn *ldap.Conn, parent string, n int) {
	t.Helper()
	for i := range n {
		uid := fmt.Sprintf("p%02d", i)
		req := ldap.NewAddRequest("uid="+uid+","+parent, nil)
		req.Attribute("objectClass", []string{"inetOrgPerson"})
		req.Attribute("uid", []string{uid})
		req.Attribute("cn", []string{"Person " + uid})
		req.Attribute("sn", []string{"Person"})
		if err := conn.Add(req); err != nil {
			t.Fatalf("adding %s: %v", uid, err)
		}
	}
}

func subtree(base, filter string, attrs ...string) *ldap.SearchRequest {
	return ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false, filter, attrs, nil)
}

func TestLDAPBind(t *testing.T) {
	s := dirtest.LDAP(t)
	conn, err := ldap.DialURL(s.URL, ldap.DialWithTLSConfig(s.TLSConfig(t, s.URL)))
	if err != nil {
		t.Fatalf("LDAPS to %s trusting only the server's CA: %v", s.URL, err)
	}
	defer conn.Close()
	if err := conn.Bind(s.BindDN, s.Password); err != nil {
		t.Fatalf("bind as %s over LDAPS: %v", s.BindDN, err)
	}
	root := readOne(t, conn, "", "namingContexts", "supportedControl", "supportedExtension")
	if got := root.GetAttributeValue("namingContexts"); got != s.BaseDN {
		t.Errorf("namingContexts %q, want %q", got, s.BaseDN)
	}
	for _, oid := range []string{ldap.ControlTypePaging, ldap.ControlTypeBeheraPasswordPolicy} {
		if !contains(root.GetAttributeValues("supportedControl"), oid) {
			t.Errorf("the root DSE does not list control %s", oid)
		}
	}

	st, err := ldap.DialURL(s.StartTLSURL)
	if err != nil {
		t.Fatalf("dialling %s: %v", s.StartTLSURL, err)
	}
	defer st.Close()
	if err := st.StartTLS(s.TLSConfig(t, s.StartTLSURL)); err != nil {
		t.Fatalf("StartTLS on %s: %v", s.StartTLSURL, err)
	}
	if err := st.Bind(s.BindDN, s.Password); err != nil {
		t.Fatalf("bind after StartTLS: %v", err)
	}

	bad, err := ldap.DialURL(s.URL, ldap.DialWithTLSConfig(&tls.Config{ServerName: "127.0.0.1"}))
	if err == nil {
		bad.Close()
		t.Fatalf("LDAPS with the system's roots succeeded; the certificate should be from the private CA")
	}
	t.Logf("LDAPS trusting the system's roots instead: %v", err)
}

func TestLDAPPlainBindAccepted(t *testing.T) {
	s := dirtest.LDAP(t)
	conn, err := ldap.DialURL(s.StartTLSURL)
	if err != nil {
		t.Fatalf("dialling %s: %v", s.StartTLSURL, err)
	}
	defer conn.Close()
	// Unlike AD, OpenLDAP takes a simple bind over unencrypted LDAP by default: the server does not protect the
	// password, so hrsync itself must refuse to send one without TLS.
	if err := conn.Bind(s.BindDN, s.Password); err != nil {
		t.Fatalf("unencrypted simple bind: %v", err)
	}
}

func TestLDAPInetOrgPerson(t *testing.T) {
	s := dirtest.LDAP(t)
	conn := s.DialAdmin(t)
	box := s.Sandbox(t)
	for _, ou := range []string{"from", "to"} {
		req := ldap.NewAddRequest("ou="+ou+","+box, nil)
		req.Attribute("objectClass", []string{"organizationalUnit"})
		req.Attribute("ou", []string{ou})
		if err := conn.Add(req); err != nil {
			t.Fatalf("adding ou=%s: %v", ou, err)
		}
	}
	password := "Pw-" + dirtest.RandomHex(t, 8)
	dn := "uid=lnowak,ou=from," + box
	req := ldap.NewAddRequest(dn, nil)
	req.Attribute("objectClass", []string{"inetOrgPerson"})
	req.Attribute("uid", []string{"lnowak"})
	req.Attribute("cn", []string{"Łukasz Nowak"})
	req.Attribute("sn", []string{"Nowak"})
	req.Attribute("givenName", []string{"Łukasz"})
	req.Attribute("mail", []string{"lukasz.nowak@example.org"})
	req.Attribute("employeeNumber", []string{"10042"})
	req.Attribute("userPassword", []string{password})
	if err := conn.Add(req); err != nil {
		t.Fatalf("adding an inetOrgPerson: %v", err)
	}
	e := readOne(t, conn, dn, "cn", "employeeNumber", "entryUUID", "entryCSN", "modifyTimestamp")
	if e.GetAttributeValue("cn") != "Łukasz Nowak" || e.GetAttributeValue("employeeNumber") != "10042" {
		t.Errorf("read back cn %q employeeNumber %q", e.GetAttributeValue("cn"), e.GetAttributeValue("employeeNumber"))
	}
	uuid := e.GetAttributeValue("entryUUID")
	if uuid == "" || e.GetAttributeValue("entryCSN") == "" {
		t.Errorf("no entryUUID or entryCSN")
	}
	if err := s.Dial(t).Bind(dn, password); err != nil {
		t.Fatalf("bind as the new person: %v", err)
	}

	// The RDN value cannot be removed by a modify (OpenLDAP answers 64, naming violation, where AD answers 67);
	// ModifyDN renames and moves, and keeps entryUUID.
	rename := ldap.NewModifyRequest(dn, nil)
	rename.Replace("uid", []string{"lnowak2"})
	mustCode(t, "replacing the RDN attribute uid", conn.Modify(rename), ldap.LDAPResultNamingViolation)
	if err := conn.ModifyDN(ldap.NewModifyDNRequest(dn, "uid=lnowak2", true, "ou=to,"+box)); err != nil {
		t.Fatalf("ModifyDN: %v", err)
	}
	moved := readOne(t, conn, "uid=lnowak2,ou=to,"+box, "entryUUID", "uid")
	if moved.GetAttributeValue("entryUUID") != uuid {
		t.Errorf("ModifyDN changed entryUUID")
	}
	if got := moved.GetAttributeValues("uid"); len(got) != 1 || got[0] != "lnowak2" {
		t.Errorf("uid after ModifyDN with deleteoldrdn: %q", got)
	}
}

func TestLDAPSizeLimit(t *testing.T) {
	s := dirtest.LDAP(t)
	box := s.Sandbox(t)
	addPeople(t, s.DialAdmin(t), box, 7)

	conn := s.Dial(t)
	if err := conn.Bind(s.Need(t, dirtest.ExtraLimitedDN), s.Need(t, dirtest.ExtraLimitedPassword)); err != nil {
		t.Fatalf("bind as the limited user: %v", err)
	}
	// A search over the limit ends with result 4 after 5 entries: a partial read that must fail, never a shrunken
	// workforce.
	res, err := conn.Search(subtree(box, "(objectClass=inetOrgPerson)", "uid"))
	mustCode(t, "search of 7 entries with a size limit of 5", err, ldap.LDAPResultSizeLimitExceeded)
	if entries(res) != 5 {
		t.Errorf("%d entries before the size limit, want 5", entries(res))
	}
	// Paging does not get round it: the whole paged search is bound by the same hard limit.
	res, err = conn.SearchWithPaging(subtree(box, "(objectClass=inetOrgPerson)", "uid"), 2)
	mustCode(t, "paged search (pages of 2) of 7 entries with a size limit of 5", err, ldap.LDAPResultSizeLimitExceeded)
	if entries(res) != 5 {
		t.Errorf("%d entries before the size limit, want 5", entries(res))
	}
	// The rootdn has no limits.
	all, err := s.DialAdmin(t).Search(subtree(box, "(objectClass=inetOrgPerson)", "uid"))
	if err != nil || entries(all) != 7 {
		t.Fatalf("rootdn search: %d entries, %v", entries(all), err)
	}
}

func TestLDAPNoPaging(t *testing.T) {
	s := dirtest.LDAP(t)
	box := s.Sandbox(t)
	addPeople(t, s.DialAdmin(t), box, 7)

	conn := s.Dial(t)
	if err := conn.Bind(s.Need(t, dirtest.ExtraNoPagingDN), s.Need(t, dirtest.ExtraNoPagingPassword)); err != nil {
		t.Fatalf("bind as the nopaging user: %v", err)
	}
	// size.prtotal=disabled: the paged results control is refused outright (not ignored), with no entries.
	res, err := conn.SearchWithPaging(subtree(box, "(objectClass=inetOrgPerson)", "uid"), 2)
	mustCode(t, "paged search as a user without paging", err, ldap.LDAPResultAdminLimitExceeded)
	if entries(res) != 0 {
		t.Errorf("%d entries with the refused paged search", entries(res))
	}
	// The same search without the control works.
	res, err = conn.Search(subtree(box, "(objectClass=inetOrgPerson)", "uid"))
	if err != nil || entries(res) != 7 {
		t.Fatalf("search without paging: %d entries, %v", entries(res), err)
	}
}

func TestLDAPAnonymous(t *testing.T) {
	s := dirtest.LDAP(t)
	admin := s.DialAdmin(t)
	uid := "anon-" + dirtest.RandomHex(t, 4)
	dn := "uid=" + uid + ",ou=people," + s.BaseDN
	req := ldap.NewAddRequest(dn, nil)
	req.Attribute("objectClass", []string{"inetOrgPerson"})
	req.Attribute("uid", []string{uid})
	req.Attribute("cn", []string{"Anonymous Test"})
	req.Attribute("sn", []string{"Test"})
	req.Attribute("userPassword", []string{"Pw-" + dirtest.RandomHex(t, 8)})
	if err := admin.Add(req); err != nil {
		t.Fatalf("adding %s: %v", dn, err)
	}
	t.Cleanup(func() {
		if err := s.DeleteTree(dn); err != nil {
			t.Errorf("deleting %s: %v", dn, err)
		}
	})
	box := s.Sandbox(t)
	addPeople(t, admin, box, 1)

	anon := s.Dial(t) // no bind: anonymous
	res, err := anon.Search(subtree("ou=people,"+s.BaseDN, "(uid="+ldap.EscapeFilter(uid)+")", "cn", "userPassword"))
	if err != nil || entries(res) != 1 {
		t.Fatalf("anonymous search of ou=people: %d entries, %v", entries(res), err)
	}
	if res.Entries[0].GetAttributeValue("userPassword") != "" {
		t.Errorf("anonymous read userPassword")
	}
	// Outside ou=people an anonymous client sees nothing, not even that the entries exist.
	res, err = anon.Search(subtree(box, "(objectClass=*)"))
	mustCode(t, "anonymous search outside ou=people", err, ldap.LDAPResultNoSuchObject)
	if entries(res) != 0 {
		t.Errorf("anonymous search outside ou=people found %d entries", entries(res))
	}
	// And it may not write.
	add := ldap.NewAddRequest("uid=anon-write,ou=people,"+s.BaseDN, nil)
	add.Attribute("objectClass", []string{"inetOrgPerson"})
	add.Attribute("uid", []string{"anon-write"})
	add.Attribute("cn", []string{"x"})
	add.Attribute("sn", []string{"x"})
	mustCode(t, "anonymous add", anon.Add(add), ldap.LDAPResultStrongAuthRequired)
}
