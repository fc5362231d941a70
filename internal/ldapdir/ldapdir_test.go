package ldapdir

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/hrsync/hrsync/internal/directory"
	"github.com/hrsync/hrsync/internal/dirtest"
	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/ldapconn"
)

func TestOpen(t *testing.T) {
	s := dirtest.LDAP(t)
	tr := sandbox(t, s)
	d := open(t, options(s, tr, DisablePPolicy))
	info := d.Info()
	if info.Type != "ldap" || !strings.HasPrefix(info.TenantID, s.BaseDN+" (") || info.Endpoint != s.URL || info.UsersPerPage != PageSize {
		t.Errorf("info %+v", info)
	}
	if _, ok := directory.Directory(d).(directory.Licensed); ok {
		t.Error("an LDAP directory claims to assign licenses")
	}
	// Over StartTLS: the same directory.
	o := options(s, tr, DisableMove)
	o.Conn.URL = s.StartTLSURL
	if d2 := open(t, o); d2.Info().TenantID != info.TenantID || !d2.secure {
		t.Errorf("over StartTLS: %+v (secure %v)", d2.Info(), d2.secure)
	}

	admin := s.DialAdmin(t)
	addEntry(t, admin, "cn=nolockout,"+tr.box, map[string][]string{"objectClass": {"device", "pwdPolicy"}, "pwdAttribute": {"userPassword"}})
	cases := []struct {
		name   string
		method string
		tweak  func(*Options)
		want   string
	}{
		{"wrong password", DisablePPolicy, func(o *Options) { o.Conn.Password = "not-the-password-Xy9" }, "bind to " + s.URL + " as " + s.BindDN},
		{"missing base", DisablePPolicy, func(o *Options) { o.BaseDN = "ou=nowhere," + tr.box; o.PeopleDN = o.BaseDN }, "base_dn ou=nowhere"},
		{"base in no naming context", DisablePPolicy, func(o *Options) { o.BaseDN = "dc=elsewhere,dc=test"; o.PeopleDN = "" }, "in none of the naming contexts"},
		{"people outside base", DisablePPolicy, func(o *Options) { o.PeopleDN = s.BaseDN }, "people_dn " + s.BaseDN + " is not at or below base_dn"},
		{"disabled branch missing", DisableMove, func(o *Options) { o.Disable.DN = "ou=gone," + tr.box }, "disable.dn ou=gone"},
		{"disabled branch holds base", DisableMove, func(o *Options) { o.Disable.DN = tr.box }, "must be a branch of its own"},
		{"policy without lockout", DisablePPolicy, func(o *Options) { o.Disable.PolicyDN = "cn=nolockout," + tr.box }, "does not have pwdLockout: TRUE"},
		{"policy missing", DisablePPolicy, func(o *Options) { o.Disable.PolicyDN = "cn=gone," + tr.box }, "is not a pwdPolicy entry"},
		{"unknown method", "", nil, `disable.method ""`},
		{"attribute without value", DisableAttribute, func(o *Options) { o.Disable.DisabledValue = "" }, "disable.disabled_value are needed"},
		{"bad filter", DisablePPolicy, func(o *Options) { o.Filter = "(employeeType=" }, "not an LDAP filter"},
		{"untrusted CA", DisablePPolicy, func(o *Options) { o.Conn.CAFile = "" }, "TLS"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := options(s, tr, c.method)
			if c.tweak != nil {
				c.tweak(&o)
			}
			_, err := Open(context.Background(), o)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
			if strings.Contains(err.Error(), s.Password) {
				t.Fatalf("the error shows the password: %v", err)
			}
		})
	}
}

// Each password method sets a password the user binds with, which hrsync
// never shows; the entry reads back canonicalised.
func TestCreatePasswordAndRead(t *testing.T) {
	s := dirtest.LDAP(t)
	for _, method := range []string{PasswordModify, PasswordSSHA} {
		t.Run(method, func(t *testing.T) {
			tr := sandbox(t, s)
			admin := s.DialAdmin(t)
			o := options(s, tr, DisablePPolicy)
			o.PasswordMethod = method
			d := open(t, o)
			a := person(t, "", "José García, Jr.")
			a.Set("title", "Engineer")
			pw := password(t)
			id := must(t, one(t, d, directory.Op{Kind: directory.OpCreate, Attrs: a, Password: pw})).ID
			dn := dnOf(t, admin, tr.box, id)
			if want := "uid=" + a.Get("uid") + "," + tr.people; dn != want {
				t.Errorf("DN %s, want %s", dn, want)
			}
			e := entry(t, admin, dn, "userPassword", "pwdPolicySubentry", "objectClass")
			if hash := e.GetAttributeValue("userPassword"); !strings.HasPrefix(hash, "{SSHA}") || strings.Contains(hash, pw) {
				t.Errorf("userPassword %q, want a {SSHA} hash", hash)
			}
			if e.GetAttributeValue("pwdPolicySubentry") != tr.policy {
				t.Errorf("pwdPolicySubentry %q", e.GetAttributeValue("pwdPolicySubentry"))
			}
			if err := bind(t, s, dn, pw); err != nil {
				t.Errorf("bind with the initial password: %v", err)
			}
			if err := bind(t, s, dn, pw+"x"); !ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
				t.Errorf("bind with a wrong password: %v", err)
			}
			users, err := d.ReadUsers(context.Background(), directory.Query{Attrs: []string{"uid", "cn", "parentDistinguishedName", "accountEnabled", "employeeNumber", "title", "mail", "sn"}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			want := identity.AttrsOf(map[string]string{"uid": a.Get("uid"), "cn": a.Get("cn"), "parentDistinguishedName": tr.people, "accountEnabled": "true",
				"employeeNumber": a.Get("employeeNumber"), "title": "Engineer", "mail": a.Get("mail"), "sn": "Person"})
			if len(users) != 1 || users[0].ID != id || fmt.Sprint(users[0].Attrs) != fmt.Sprint(want) {
				t.Errorf("read %+v\nwant %s %v", users, id, want)
			}
			found := must(t, one(t, d, directory.Op{Kind: directory.OpFind, Attr: "employeeNumber", Value: a.Get("employeeNumber"), Select: []string{"uid"}}))
			if len(found.Users) != 1 || found.Users[0].ID != id {
				t.Errorf("find %+v", found.Users)
			}
			if found := must(t, one(t, d, directory.Op{Kind: directory.OpFind, Attr: "employeeNumber", Value: "*", Select: []string{"uid"}})); len(found.Users) != 0 {
				t.Errorf("find * found %d users: a value must be escaped", len(found.Users))
			}
			// The same uid again: a conflict naming the DN, never the
			// password; nothing changed.
			again := one(t, d, directory.Op{Kind: directory.OpCreate, Attrs: a, Password: pw})
			if !errors.Is(again.Err, directory.ErrConflict) || directory.Code(again.Err) != "LDAP 68 entryAlreadyExists" || strings.Contains(again.Err.Error(), pw) {
				t.Errorf("create again: %v (code %q)", again.Err, directory.Code(again.Err))
			}
			if err := bind(t, s, dn, pw); err != nil {
				t.Errorf("bind after the refused create: %v", err)
			}
		})
	}
}

// A password is never sent in clear text to another machine; to this
// machine (a test directory) it may be.
func TestPasswordOnlyWhenSecure(t *testing.T) {
	s := dirtest.LDAP(t)
	tr := sandbox(t, s)
	d := open(t, options(s, tr, DisablePPolicy))
	d.secure = false
	o := one(t, d, directory.Op{Kind: directory.OpCreate, Attrs: person(t, "", "Plain Text"), Password: password(t)})
	if !errors.Is(o.Err, directory.ErrRejected) || !strings.Contains(o.Err.Error(), "unencrypted") {
		t.Errorf("create over plain: %v", o.Err)
	}
	if n := d.Requests()["add"]; n != 0 {
		t.Errorf("%d adds sent", n)
	}
}

// Each disable method disables and enables, idempotently, reads back as
// the account state, and (ppolicy) keeps the user from binding.
func TestDisableMethods(t *testing.T) {
	s := dirtest.LDAP(t)
	for _, method := range []string{DisablePPolicy, DisableMove, DisableAttribute} {
		t.Run(method, func(t *testing.T) {
			tr := sandbox(t, s)
			admin := s.DialAdmin(t)
			d := open(t, options(s, tr, method))
			pw := password(t)
			id := must(t, one(t, d, directory.Op{Kind: directory.OpCreate, Attrs: person(t, tr.people, "Leaving Soon"), Password: pw})).ID
			state := func() string {
				t.Helper()
				u := must(t, one(t, d, directory.Op{Kind: directory.OpGet, UserID: id, Select: []string{"accountEnabled", "parentDistinguishedName"}})).Users[0]
				return u.Attrs.Get("accountEnabled") + " " + u.Attrs.Get("parentDistinguishedName")
			}
			steps := []struct {
				name   string
				set    map[string]*string
				want   string
				canUse bool
			}{
				{"disable", map[string]*string{"accountEnabled": sp("false")}, "false", false},
				{"disable again (a retry)", map[string]*string{"accountEnabled": sp("false")}, "false", false},
				{"enable", map[string]*string{"accountEnabled": sp("true"), "parentDistinguishedName": sp(tr.people)}, "true", true},
				{"enable again", map[string]*string{"accountEnabled": sp("true")}, "true", true},
			}
			for _, st := range steps {
				must(t, one(t, d, directory.Op{Kind: directory.OpUpdate, UserID: id, Set: st.set}))
				got := state()
				wantPlace := tr.people
				if method == DisableMove && st.want == "false" {
					wantPlace = tr.disabled
				}
				if got != st.want+" "+wantPlace {
					t.Errorf("%s: %s, want %s %s", st.name, got, st.want, wantPlace)
				}
				dn := dnOf(t, admin, tr.box, id)
				err := bind(t, s, dn, pw)
				if method == DisablePPolicy && (err == nil) != st.canUse {
					t.Errorf("%s: bind %v", st.name, err)
				}
			}
			// Created disabled (a pre-hire): disabled from the start.
			a := person(t, tr.people, "Pre Hire")
			a.Set("accountEnabled", "false")
			prePW := password(t)
			pre := must(t, one(t, d, directory.Op{Kind: directory.OpCreate, Attrs: a, Password: prePW})).ID
			if err := bind(t, s, dnOf(t, admin, tr.box, pre), prePW); method == DisablePPolicy && err == nil {
				t.Errorf("a user created disabled binds")
			}
			u := must(t, one(t, d, directory.Op{Kind: directory.OpGet, UserID: pre, Select: []string{"accountEnabled"}})).Users[0]
			if u.Attrs.Get("accountEnabled") != "false" {
				t.Errorf("created disabled: %v", u.Attrs)
			}
			if method == DisableMove && !strings.HasSuffix(dnOf(t, admin, tr.box, pre), ","+tr.disabled) {
				t.Errorf("a disabled joiner is not in the disabled branch")
			}
		})
	}
}

// ppolicy: only the permanent lock is a disable; a lockout after failed
// binds is not hrsync's to lift.
func TestPPolicyTemporaryLockout(t *testing.T) {
	s := dirtest.LDAP(t)
	tr := sandbox(t, s)
	admin := s.DialAdmin(t)
	d := open(t, options(s, tr, DisablePPolicy))
	id := must(t, one(t, d, directory.Op{Kind: directory.OpCreate, Attrs: person(t, "", "Locked Out"), Password: password(t)})).ID
	m := ldap.NewModifyRequest(dnOf(t, admin, tr.box, id), nil)
	m.Replace("pwdAccountLockedTime", []string{"20260101120000Z"})
	if err := admin.Modify(m); err != nil {
		t.Fatal(err)
	}
	u := must(t, one(t, d, directory.Op{Kind: directory.OpGet, UserID: id, Select: []string{"accountEnabled"}})).Users[0]
	if u.Attrs.Get("accountEnabled") != "true" {
		t.Errorf("a temporary lockout reads as %v", u.Attrs)
	}
	must(t, one(t, d, directory.Op{Kind: directory.OpUpdate, UserID: id, Set: map[string]*string{"accountEnabled": sp("false")}}))
	if v := entry(t, admin, dnOf(t, admin, tr.box, id), "pwdAccountLockedTime").GetAttributeValue("pwdAccountLockedTime"); v != lockedForever {
		t.Errorf("disabled: pwdAccountLockedTime %q", v)
	}
}

// Moves keep the entryUUID; the manager is a DN; attributes are replaced
// and cleared; updates are safe to repeat.
func TestUpdatesMovesAndManager(t *testing.T) {
	s := dirtest.LDAP(t)
	tr := sandbox(t, s)
	admin := s.DialAdmin(t)
	other := "ou=other," + tr.people
	addEntry(t, admin, other, map[string][]string{"objectClass": {"organizationalUnit"}})
	d := open(t, options(s, tr, DisablePPolicy))
	boss := must(t, one(t, d, directory.Op{Kind: directory.OpCreate, Attrs: person(t, tr.people, "Boss Person")})).ID
	worker := must(t, one(t, d, directory.Op{Kind: directory.OpCreate, Attrs: person(t, tr.people, "Worker Person")})).ID
	must(t, one(t, d, directory.Op{Kind: directory.OpSetManager, UserID: worker, ManagerID: boss}))
	addEntry(t, admin, "cn=staff,"+tr.groups, map[string][]string{"objectClass": {"groupOfNames"}, "member": {dnOf(t, admin, tr.box, boss)}})
	set := map[string]*string{"parentDistinguishedName": sp(other), "title": sp("Director"), "mail": nil, "cn": sp("Boss Renamed")}
	must(t, one(t, d, directory.Op{Kind: directory.OpUpdate, UserID: boss, Set: set}))
	must(t, one(t, d, directory.Op{Kind: directory.OpUpdate, UserID: boss, Set: set})) // a retry is a no-op
	if dn := dnOf(t, admin, tr.box, boss); !strings.HasSuffix(dn, ","+other) {
		t.Errorf("boss at %s", dn)
	}
	got := must(t, one(t, d, directory.Op{Kind: directory.OpGet, UserID: boss, Select: []string{"title", "mail", "cn", "parentDistinguishedName"}})).Users[0]
	if want := (identity.AttrsOf(map[string]string{"title": "Director", "cn": "Boss Renamed", "parentDistinguishedName": other})); fmt.Sprint(got.Attrs) != fmt.Sprint(want) {
		t.Errorf("boss %v, want %v", got.Attrs, want)
	}
	// The worker's manager DN and the group's member DN follow the move
	// (hrsync rewrites them, as the refint overlay would).
	w := must(t, one(t, d, directory.Op{Kind: directory.OpGet, UserID: worker, Select: []string{"uid"}, Expand: true})).Users[0]
	if w.ManagerID != boss {
		t.Errorf("manager %q after the move, want %s", w.ManagerID, boss)
	}
	if m := entry(t, admin, "cn=staff,"+tr.groups, "member").GetAttributeValues("member"); len(m) != 1 || !strings.HasSuffix(m[0], ","+other) {
		t.Errorf("group members after the move: %v", m)
	}
	must(t, one(t, d, directory.Op{Kind: directory.OpSetManager, UserID: worker, ManagerID: boss}))
	users, err := d.ReadUsers(context.Background(), directory.Query{Attrs: []string{"uid"}, Manager: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if u.ID == worker && u.ManagerID != boss {
			t.Errorf("worker's manager %q, want %s", u.ManagerID, boss)
		}
	}
	must(t, one(t, d, directory.Op{Kind: directory.OpRemoveManager, UserID: worker}))
	must(t, one(t, d, directory.Op{Kind: directory.OpRemoveManager, UserID: worker}))

	// Out of scope or unknown: not found; a branch outside the base, the
	// uid: refused before anything is sent.
	cases := []struct {
		name string
		op   directory.Op
		kind error
	}{
		{"unknown id", directory.Op{Kind: directory.OpUpdate, UserID: "00000000-0000-0000-0000-000000000000", Set: set}, directory.ErrNotFound},
		{"not an id", directory.Op{Kind: directory.OpDelete, UserID: "uid=x"}, directory.ErrNotFound},
		{"move out of scope", directory.Op{Kind: directory.OpUpdate, UserID: worker, Set: map[string]*string{"parentDistinguishedName": sp(s.BaseDN)}}, directory.ErrRejected},
		{"rename uid", directory.Op{Kind: directory.OpUpdate, UserID: worker, Set: map[string]*string{"uid": sp("new")}}, directory.ErrRejected},
		{"revoke", directory.Op{Kind: directory.OpRevokeSessions, UserID: worker}, directory.ErrRejected},
		{"restore", directory.Op{Kind: directory.OpRestore, UserID: worker}, directory.ErrRejected},
	}
	for _, c := range cases {
		if o := one(t, d, c.op); !errors.Is(o.Err, c.kind) {
			t.Errorf("%s: %v, want %v", c.name, o.Err, c.kind)
		}
	}
	must(t, one(t, d, directory.Op{Kind: directory.OpDelete, UserID: worker}))
	if o := one(t, d, directory.Op{Kind: directory.OpDelete, UserID: worker}); !errors.Is(o.Err, directory.ErrNotFound) {
		t.Errorf("delete again: %v", o.Err)
	}
}

// groupOfNames and posixGroup memberships: added and removed idempotently,
// read back as the users' ids; groups resolve by cn, DN and entryUUID.
func TestGroups(t *testing.T) {
	s := dirtest.LDAP(t)
	tr := sandbox(t, s)
	admin := s.DialAdmin(t)
	d := open(t, options(s, tr, DisablePPolicy))
	a := must(t, one(t, d, directory.Op{Kind: directory.OpCreate, Attrs: person(t, "", "Member A")})).ID
	b := must(t, one(t, d, directory.Op{Kind: directory.OpCreate, Attrs: person(t, "", "Member B")})).ID
	staff, posix := "cn=staff,"+tr.groups, "cn=unix,"+tr.groups
	addEntry(t, admin, staff, map[string][]string{"objectClass": {"groupOfNames"}, "member": {"cn=placeholder," + tr.box}})
	addEntry(t, admin, posix, map[string][]string{"objectClass": {"posixGroup"}, "gidNumber": {"5000"}})
	groups, err := d.ResolveGroups(context.Background(), []string{"staff", posix})
	if err != nil {
		t.Fatal(err)
	}
	byUUID, err := d.ResolveGroups(context.Background(), []string{groups["staff"].ID})
	if err != nil || byUUID[groups["staff"].ID].DisplayName != "staff" {
		t.Errorf("by entryUUID: %v %v", byUUID, err)
	}
	if _, err := d.ResolveGroups(context.Background(), []string{"nobody"}); err == nil || !strings.Contains(err.Error(), `no group "nobody"`) {
		t.Errorf("unknown group: %v", err)
	}
	for _, g := range []string{groups["staff"].ID, groups[posix].ID} {
		for _, kind := range []directory.OpKind{directory.OpAddMember, directory.OpAddMember} {
			do(t, d, directory.Op{Kind: kind, UserID: a, GroupID: g}, directory.Op{Kind: kind, UserID: b, GroupID: g})
		}
		if _, err := d.ReadUsers(context.Background(), directory.Query{Attrs: []string{"uid"}}, nil); err != nil {
			t.Fatal(err)
		}
		ids, err := d.GroupMembers(context.Background(), g)
		if err != nil || fmt.Sprint(sorted(ids)) != fmt.Sprint(sorted([]string{a, b})) {
			t.Errorf("members %v %v, want %s %s", ids, err, a, b)
		}
		for range 2 {
			if o := one(t, d, directory.Op{Kind: directory.OpRemoveMember, UserID: a, GroupID: g}); o.Err != nil {
				t.Errorf("remove: %v", o.Err)
			}
		}
		if ids, _ := d.GroupMembers(context.Background(), g); fmt.Sprint(ids) != fmt.Sprint([]string{b}) {
			t.Errorf("members after a removal %v", ids)
		}
	}
	if uids := entry(t, admin, posix, "memberUid").GetAttributeValues("memberUid"); len(uids) != 1 {
		t.Errorf("memberUid %v", uids)
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// Reads page past the server's size limit, and fail closed for an
// account whose searches are cut short.
func TestReadPagesAndFailsClosed(t *testing.T) {
	s := dirtest.LDAP(t)
	tr := sandbox(t, s)
	admin := s.DialAdmin(t)
	const n = 1100
	for i := range n {
		addEntry(t, admin, fmt.Sprintf("uid=p%04d,%s", i, tr.people), map[string][]string{"objectClass": {"inetOrgPerson"},
			"uid": {fmt.Sprintf("p%04d", i)}, "cn": {"P"}, "sn": {"P"}, "employeeNumber": {fmt.Sprint(i)}})
	}
	d := open(t, options(s, tr, DisablePPolicy))
	var calls int
	users, err := d.ReadUsers(context.Background(), directory.Query{Attrs: []string{"employeeNumber"}}, func(int) { calls++ })
	if err != nil || len(users) != n {
		t.Fatalf("read %d users: %v", len(users), err)
	}
	if p := d.Requests()["search page"]; p != 3 || calls < 3 {
		t.Errorf("%d pages, %d progress calls", p, calls)
	}
	o := options(s, tr, DisablePPolicy)
	o.Conn.BindDN, o.Conn.Password = s.Need(t, dirtest.ExtraLimitedDN), s.Need(t, dirtest.ExtraLimitedPassword)
	limited := open(t, o)
	if users, err := limited.ReadUsers(context.Background(), directory.Query{Attrs: []string{"employeeNumber"}}, nil); err == nil {
		t.Fatalf("a size-limited read returned %d users", len(users))
	} else if !strings.Contains(err.Error(), "Size Limit") && !strings.Contains(err.Error(), "size limit") {
		t.Errorf("size-limited read: %v", err)
	}
}

// Writes go straight to the DN the adapter last saw, asserting the
// entryUUID: an entry moved behind its back is found again, one replaced
// at the same DN is never written to.
func TestKnownDNsAreAsserted(t *testing.T) {
	s := dirtest.LDAP(t)
	tr := sandbox(t, s)
	admin := s.DialAdmin(t)
	d := open(t, options(s, tr, DisablePPolicy))
	if !d.assert {
		t.Fatal("slapd does not take the assertion control")
	}
	moved := must(t, one(t, d, directory.Op{Kind: directory.OpCreate, Attrs: person(t, "", "Moved Away")})).ID
	a := person(t, "", "Replaced Person")
	replaced := must(t, one(t, d, directory.Op{Kind: directory.OpCreate, Attrs: a})).ID
	other := "ou=other," + tr.people
	addEntry(t, admin, other, map[string][]string{"objectClass": {"organizationalUnit"}})
	movedDN := dnOf(t, admin, tr.box, moved)
	rdn, _, _ := strings.Cut(movedDN, ",")
	if err := admin.ModifyDN(ldap.NewModifyDNRequest(movedDN, rdn, true, other)); err != nil {
		t.Fatal(err)
	}
	dn := dnOf(t, admin, tr.box, replaced)
	if err := admin.Del(ldap.NewDelRequest(dn, nil)); err != nil {
		t.Fatal(err)
	}
	addEntry(t, admin, dn, map[string][]string{"objectClass": {"inetOrgPerson"}, "uid": {a.Get("uid")}, "cn": {"Impostor"}, "sn": {"I"}})

	must(t, one(t, d, directory.Op{Kind: directory.OpUpdate, UserID: moved, Set: map[string]*string{"title": sp("Found")}}))
	if got := entry(t, admin, rdn+","+other, "title").GetAttributeValue("title"); got != "Found" {
		t.Errorf("the moved entry's title %q", got)
	}
	for _, op := range []directory.Op{
		{Kind: directory.OpUpdate, UserID: replaced, Set: map[string]*string{"title": sp("Wrong")}},
		{Kind: directory.OpSetManager, UserID: replaced, ManagerID: moved},
	} {
		if o := one(t, d, op); !errors.Is(o.Err, directory.ErrNotFound) {
			t.Errorf("op %d on a replaced entry: %v", op.Kind, o.Err)
		}
	}
	if e := entry(t, admin, dn, "title", "manager"); e.GetAttributeValue("title") != "" || e.GetAttributeValue("manager") != "" {
		t.Errorf("the impostor was written to: %v", e.Attributes)
	}
	// A group replaced at the same DN is not the group the plan named.
	g := "cn=team," + tr.groups
	addEntry(t, admin, g, map[string][]string{"objectClass": {"posixGroup"}, "gidNumber": {"7"}})
	groups, err := d.ResolveGroups(context.Background(), []string{"team"})
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.Del(ldap.NewDelRequest(g, nil)); err != nil {
		t.Fatal(err)
	}
	addEntry(t, admin, g, map[string][]string{"objectClass": {"posixGroup"}, "gidNumber": {"8"}})
	if o := one(t, d, directory.Op{Kind: directory.OpAddMember, UserID: moved, GroupID: groups["team"].ID}); !errors.Is(o.Err, directory.ErrNotFound) {
		t.Errorf("add to a replaced group: %v", o.Err)
	}
	if m := entry(t, admin, g, "memberUid").GetAttributeValues("memberUid"); len(m) != 0 {
		t.Errorf("the new group got members %v", m)
	}
}

// With rdn_attribute cn, entries are named cn=<cn>: a new cn renames the
// entry (ModifyDN, entryUUID kept), with a move at once if the branch
// changes too; a cn taken in the branch is a conflict.
func TestNamedByCN(t *testing.T) {
	s := dirtest.LDAP(t)
	tr := sandbox(t, s)
	admin := s.DialAdmin(t)
	other := "ou=other," + tr.people
	addEntry(t, admin, other, map[string][]string{"objectClass": {"organizationalUnit"}})
	o := options(s, tr, DisablePPolicy)
	o.RDNAttribute = "cn"
	d := open(t, o)
	if d.Info().Naming != "cn" || d.Schema().Roles.Naming != "cn" {
		t.Fatalf("naming %q, schema %q", d.Info().Naming, d.Schema().Roles.Naming)
	}
	a := person(t, tr.people, "José García, Jr.")
	id := must(t, one(t, d, directory.Op{Kind: directory.OpCreate, Attrs: a, Password: password(t)})).ID
	if dn := dnOf(t, admin, tr.box, id); !ldapconn.SameDN(dn, `cn=José García\, Jr.,`+tr.people) {
		t.Errorf("DN %s", dn)
	}
	steps := []struct {
		name string
		set  map[string]*string
		dn   string
	}{
		{"rename", map[string]*string{"cn": sp("José García")}, "cn=José García," + tr.people},
		{"rename again (a retry)", map[string]*string{"cn": sp("José García")}, "cn=José García," + tr.people},
		{"rename and move", map[string]*string{"cn": sp("Jose Garcia"), "parentDistinguishedName": sp(other), "title": sp("Lead")}, "cn=Jose Garcia," + other},
		{"move back", map[string]*string{"parentDistinguishedName": sp(tr.people)}, "cn=Jose Garcia," + tr.people},
	}
	for _, st := range steps {
		must(t, one(t, d, directory.Op{Kind: directory.OpUpdate, UserID: id, Set: st.set}))
		if dn := dnOf(t, admin, tr.box, id); !ldapconn.SameDN(dn, st.dn) {
			t.Errorf("%s: DN %s, want %s", st.name, dn, st.dn)
		}
	}
	u := must(t, one(t, d, directory.Op{Kind: directory.OpGet, UserID: id, Select: []string{"cn", "uid", "title"}})).Users[0]
	if want := (identity.AttrsOf(map[string]string{"cn": "Jose Garcia", "uid": a.Get("uid"), "title": "Lead"})); fmt.Sprint(u.Attrs) != fmt.Sprint(want) {
		t.Errorf("read %v, want %v", u.Attrs, want)
	}
	if o := one(t, d, directory.Op{Kind: directory.OpUpdate, UserID: id, Set: map[string]*string{"cn": nil}}); !errors.Is(o.Err, directory.ErrRejected) {
		t.Errorf("clearing cn: %v", o.Err)
	}
	twin := person(t, tr.people, "Jose Garcia")
	if o := one(t, d, directory.Op{Kind: directory.OpCreate, Attrs: twin}); !errors.Is(o.Err, directory.ErrConflict) {
		t.Errorf("a cn taken in the branch: %v", o.Err)
	}
	if _, err := Open(context.Background(), func() Options { o := o; o.RDNAttribute = "mail"; return o }()); err == nil || !strings.Contains(err.Error(), "rdn_attribute") {
		t.Errorf("rdn_attribute mail: %v", err)
	}
}
