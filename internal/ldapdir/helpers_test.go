package ldapdir

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/hrsync/hrsync/internal/directory"
	"github.com/hrsync/hrsync/internal/dirtest"
	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/ldapconn"
)

func TestMain(m *testing.M) { dirtest.Main(m) }

// tree is a test's sandbox with the branches a target uses.
type tree struct {
	box, people, disabled, groups, policy string
}

// sandbox makes the test's own branches: people, disabled, groups, and a
// password policy that locks out.
func sandbox(t *testing.T, s *dirtest.Server) tree {
	t.Helper()
	box := s.Sandbox(t)
	admin := s.DialAdmin(t)
	tr := tree{box: box, people: "ou=people," + box, disabled: "ou=disabled," + box, groups: "ou=groups," + box, policy: "cn=lockout," + box}
	for _, ou := range []string{tr.people, tr.disabled, tr.groups} {
		addEntry(t, admin, ou, map[string][]string{"objectClass": {"organizationalUnit"}})
	}
	addEntry(t, admin, tr.policy, map[string][]string{"objectClass": {"device", "pwdPolicy"}, "pwdAttribute": {"userPassword"}, "pwdLockout": {"TRUE"}})
	return tr
}

func addEntry(t *testing.T, conn *ldap.Conn, dn string, attrs map[string][]string) {
	t.Helper()
	req := ldap.NewAddRequest(dn, nil)
	for k, v := range attrs {
		req.Attribute(k, v)
	}
	if err := conn.Add(req); err != nil {
		t.Fatalf("adding %s: %v", dn, err)
	}
}

// options are a target's options on tr with method.
func options(s *dirtest.Server, tr tree, method string) Options {
	o := Options{Conn: ldapconn.Config{URL: s.URL, CAFile: s.CAFile, BindDN: s.BindDN, Password: s.Password, Timeout: 30 * time.Second},
		BaseDN: tr.box, PeopleDN: tr.people, GroupsDN: tr.groups, Disable: Disable{Method: method}}
	switch method {
	case DisablePPolicy:
		o.Disable.PolicyDN = tr.policy
	case DisableMove:
		o.BaseDN, o.Disable.DN = tr.people, tr.disabled
	case DisableAttribute:
		o.Disable.Attribute, o.Disable.DisabledValue, o.Disable.EnabledValue = "description", "DISABLED", "active"
	}
	return o
}

// open opens the adapter with o.
func open(t *testing.T, o Options) *Directory {
	t.Helper()
	d, err := Open(context.Background(), o)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = d.Close(context.Background()) })
	return d
}

// do runs ops and returns their outcomes, checking that done is called
// exactly once per op.
func do(t *testing.T, d directory.Directory, ops ...directory.Op) []directory.Outcome {
	t.Helper()
	out := make([]directory.Outcome, len(ops))
	calls := make([]int, len(ops))
	var mu sync.Mutex
	d.Do(context.Background(), ops, directory.DoOptions{}, func(i int, o directory.Outcome) {
		mu.Lock()
		defer mu.Unlock()
		calls[i]++
		out[i] = o
	})
	for i, n := range calls {
		if n != 1 {
			t.Errorf("op %d: done called %d times", i, n)
		}
	}
	return out
}

func one(t *testing.T, d directory.Directory, op directory.Op) directory.Outcome {
	t.Helper()
	return do(t, d, op)[0]
}

func must(t *testing.T, o directory.Outcome) directory.Outcome {
	t.Helper()
	if o.Err != nil {
		t.Fatalf("%v", o.Err)
	}
	return o
}

func password(t *testing.T) string { return "Pw-" + dirtest.RandomHex(t, 8) + "-Xy9" }

// person is a create's attributes for a user in branch ("": people_dn).
func person(t *testing.T, branch, name string) identity.Attrs {
	uid := "t" + dirtest.RandomHex(t, 5)
	a := identity.AttrsOf(map[string]string{"uid": uid, "cn": name, "sn": "Person", "displayName": name, "employeeNumber": "E" + dirtest.RandomHex(t, 4),
		"mail": uid + "@example.org", "accountEnabled": "true"})
	if branch != "" {
		a.Set("parentDistinguishedName", branch)
	}
	return a
}

// entry reads dn as the administrator (nil when it does not exist).
func entry(t *testing.T, conn *ldap.Conn, dn string, attrs ...string) *ldap.Entry {
	t.Helper()
	res, err := conn.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", attrs, nil))
	if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
		return nil
	}
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("reading %s: %v", dn, err)
	}
	return res.Entries[0]
}

// dnOf is the DN of the entry whose entryUUID is id, below base.
func dnOf(t *testing.T, conn *ldap.Conn, base, id string) string {
	t.Helper()
	res, err := conn.Search(ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false, "(entryUUID="+id+")", []string{"1.1"}, nil))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("finding %s below %s: %v (%d entries)", id, base, err, len(res.Entries))
	}
	return res.Entries[0].DN
}

// bind reports how a simple bind as dn with pw goes, over LDAPS.
func bind(t *testing.T, s *dirtest.Server, dn, pw string) error {
	t.Helper()
	return s.Dial(t).Bind(dn, pw)
}

func sp(s string) *string { return &s }
