package activedirectory

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/hrsync/hrsync/internal/apply"
	"github.com/hrsync/hrsync/internal/directory"
	"github.com/hrsync/hrsync/internal/dirtest"
	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/ldapconn"
	"github.com/hrsync/hrsync/internal/plan"
)

func TestOpen(t *testing.T) {
	s := dirtest.AD(t)
	box := sandbox(t, s)
	d := open(t, s, box)
	info := d.Info()
	if info.Type != "active_directory" || !strings.HasPrefix(info.TenantID, "S-1-5-21-") || info.Endpoint != s.URL {
		t.Errorf("info %+v", info)
	}
	if info.UsersPerPage != 1000 || info.LookupsPerRequest < 1 {
		t.Errorf("info %+v", info)
	}
	// Samba has no restorable deletes, with or without the Recycle Bin.
	if w := d.Schema().RestoreWindow; w != 0 {
		t.Errorf("restore window %v on Samba", w)
	}
	if _, ok := directory.Directory(d).(directory.Licensed); ok {
		t.Error("Active Directory claims to assign licenses")
	}
	// The same domain over StartTLS has the same SID.
	d2 := open(t, s, box, func(o *Options) { o.Conn.URL = s.StartTLSURL })
	if d2.Info().TenantID != info.TenantID || !d2.encrypted {
		t.Errorf("over StartTLS: %+v (encrypted %v)", d2.Info(), d2.encrypted)
	}

	cases := []struct {
		name  string
		tweak func(*Options)
		want  string
	}{
		{"wrong password", func(o *Options) { o.Conn.Password = "not-the-password-Xy9" }, "bind to " + s.URL + " as " + s.BindDN},
		{"missing base", func(o *Options) { o.BaseDN = "OU=nowhere," + s.BaseDN }, "search base OU=nowhere"},
		{"base outside the domain", func(o *Options) { o.BaseDN = "DC=fabrikam,DC=test" }, "not in the domain"},
		{"leavers outside base", func(o *Options) { o.LeaversOU = "OU=Leavers," + s.BaseDN }, "is not below base_dn"},
		{"leavers missing", func(o *Options) { o.LeaversOU = "OU=gone," + box }, "does not exist"},
		{"bad filter", func(o *Options) { o.Filter = "(department=" }, "not an LDAP filter"},
		{"plain bind", func(o *Options) { o.Conn.URL = s.StartTLSURL; o.Conn.Plain = true }, "encrypted connection"},
		{"untrusted CA", func(o *Options) { o.Conn.CAFile = "" }, "TLS"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := Options{Conn: ldapconn.Config{URL: s.URL, CAFile: s.CAFile, BindDN: s.BindDN, Password: s.Password}, BaseDN: box}
			c.tweak(&o)
			_, err := Open(context.Background(), o)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
			if strings.Contains(err.Error(), s.Password) || (o.Conn.Password != "" && strings.Contains(err.Error(), o.Conn.Password)) {
				t.Fatalf("the error shows the password: %v", err)
			}
			t.Logf("%v", err)
		})
	}
}

func TestCreateWithPasswordAndRead(t *testing.T) {
	s := dirtest.AD(t)
	box := sandbox(t, s)
	admin := s.DialAdmin(t)
	d := open(t, s, box)
	a := person(t, box, "José García, Jr.")
	a.Set("accountExpires", "2031-06-30T00:00:00Z")
	a.Set("department", "Engineering")
	pw := password(t)
	o := must(t, one(t, d, directory.Op{Kind: directory.OpCreate, Attrs: a, Password: pw}))
	dn := dnOf(t, admin, o.ID)
	if dn != `CN=José García\, Jr.,`+box {
		t.Errorf("DN %s", dn)
	}
	e := entry(t, admin, dn, "userAccountControl", "pwdLastSet", "accountExpires", "objectClass")
	if e.GetAttributeValue("userAccountControl") != "512" || e.GetAttributeValue("pwdLastSet") != "0" {
		t.Errorf("userAccountControl %s pwdLastSet %s, want 512 and 0 (change at first sign-in)", e.GetAttributeValue("userAccountControl"), e.GetAttributeValue("pwdLastSet"))
	}
	if want := ldapconn.ToFileTime(time.Date(2031, 6, 30, 0, 0, 0, 0, time.UTC)); e.GetAttributeValue("accountExpires") != want {
		t.Errorf("accountExpires %s, want %s", e.GetAttributeValue("accountExpires"), want)
	}

	// The password is the one set: AD answers "must change it" (data
	// 773), not "wrong password" (52e)...
	err := s.Dial(t).Bind(a.Get("userPrincipalName"), pw)
	if err == nil || !strings.Contains(err.Error(), "data 773") {
		t.Errorf("bind with the initial password: %v, want 49 with data 773 (must change at first sign-in)", err)
	}
	if err := s.Dial(t).Bind(a.Get("userPrincipalName"), pw+"x"); err == nil || !strings.Contains(err.Error(), "data 52e") {
		t.Errorf("bind with a wrong password: %v, want data 52e", err)
	}
	// ...and once the change is no longer required, it binds.
	m := ldap.NewModifyRequest(dn, nil)
	m.Replace("pwdLastSet", []string{"-1"})
	if err := admin.Modify(m); err != nil {
		t.Fatal(err)
	}
	if err := s.Dial(t).Bind(a.Get("userPrincipalName"), pw); err != nil {
		t.Errorf("bind with the initial password: %v", err)
	}

	// Read back, canonicalised, with only the attributes asked.
	users, err := d.ReadUsers(context.Background(), directory.Query{Attrs: []string{"cn", "parentDistinguishedName", "accountEnabled", "accountDisabled", "accountExpires", "employeeID", "department", "sAMAccountName"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 1 {
		t.Fatalf("%d users", len(users))
	}
	u := users[0]
	want := identity.AttrsOf(map[string]string{"cn": "José García, Jr.", "parentDistinguishedName": box, "accountEnabled": "true", "accountDisabled": "false",
		"accountExpires": "2031-06-30T00:00:00Z", "employeeID": a.Get("employeeID"), "department": "Engineering", "sAMAccountName": a.Get("sAMAccountName")})
	if u.ID != o.ID || fmt.Sprint(u.Attrs) != fmt.Sprint(want) {
		t.Errorf("read %s %v\nwant %s %v", u.ID, u.Attrs, o.ID, want)
	}
	// Never set: accountExpires "never" is no value; the GUID finds it.
	got := must(t, one(t, d, directory.Op{Kind: directory.OpGet, UserID: o.ID, Select: []string{"accountExpires", "mail"}}))
	if len(got.Users) != 1 || got.Users[0].Attrs.Get("accountExpires") != "2031-06-30T00:00:00Z" || got.Users[0].Attrs.Get("mail") != "" {
		t.Errorf("get %+v", got.Users)
	}
	found := must(t, one(t, d, directory.Op{Kind: directory.OpFind, Attr: "employeeID", Value: a.Get("employeeID"), Select: []string{"employeeID"}}))
	if len(found.Users) != 1 || found.Users[0].ID != o.ID {
		t.Errorf("find %+v", found.Users)
	}
	// A filter value is escaped, never a filter of its own.
	if found := must(t, one(t, d, directory.Op{Kind: directory.OpFind, Attr: "employeeID", Value: "*", Select: []string{"employeeID"}})); len(found.Users) != 0 {
		t.Errorf("find * found %d users", len(found.Users))
	}
}

func TestUpdates(t *testing.T) {
	s := dirtest.AD(t)
	box := sandbox(t, s)
	admin := s.DialAdmin(t)
	from, to := addOU(t, admin, "OU=From,"+box), addOU(t, admin, "OU=To,"+box)
	d := open(t, s, box)
	boss := must(t, one(t, d, directory.Op{Kind: directory.OpCreate, Attrs: person(t, from, "Boss Person"), Password: password(t)})).ID
	worker := must(t, one(t, d, directory.Op{Kind: directory.OpCreate, Attrs: person(t, from, "Worker Person"), Password: password(t)})).ID
	must(t, one(t, d, directory.Op{Kind: directory.OpSetManager, UserID: worker, ManagerID: boss}))
	// An admin set DONT_EXPIRE_PASSWORD (0x10000): flipping the disable
	// bit must keep it.
	m := ldap.NewModifyRequest(dnOf(t, admin, worker), nil)
	m.Replace("userAccountControl", []string{strconv.Itoa(0x10200)})
	if err := admin.Modify(m); err != nil {
		t.Fatal(err)
	}
	uac := func(id string) string {
		return entry(t, admin, dnOf(t, admin, id), "userAccountControl").GetAttributeValue("userAccountControl")
	}
	sp := func(s string) *string { return &s }

	steps := []struct {
		name string
		set  map[string]*string
		uac  string
	}{
		{"disable", map[string]*string{"accountEnabled": sp("false")}, strconv.Itoa(0x10202)},
		{"disable again (a retry)", map[string]*string{"accountEnabled": sp("false")}, strconv.Itoa(0x10202)},
		{"enable by accountDisabled", map[string]*string{"accountDisabled": sp("false")}, strconv.Itoa(0x10200)},
		{"attributes, a clear", map[string]*string{"department": sp("Sales"), "title": sp("Rep"), "mail": nil, "accountExpires": nil}, strconv.Itoa(0x10200)},
	}
	for _, st := range steps {
		must(t, one(t, d, directory.Op{Kind: directory.OpUpdate, UserID: worker, Set: st.set}))
		if got := uac(worker); got != st.uac {
			t.Errorf("%s: userAccountControl %s, want %s", st.name, got, st.uac)
		}
	}

	// The boss moves and is renamed: one ModifyDN, the objectGUID stays,
	// and AD updates the worker's manager link.
	set := map[string]*string{"cn": sp("Boss Renamed"), "parentDistinguishedName": sp(to), "department": sp("Board")}
	must(t, one(t, d, directory.Op{Kind: directory.OpUpdate, UserID: boss, Set: set}))
	must(t, one(t, d, directory.Op{Kind: directory.OpUpdate, UserID: boss, Set: set})) // a retry is a no-op
	if dn := dnOf(t, admin, boss); dn != "CN=Boss Renamed,"+to {
		t.Errorf("boss at %s", dn)
	}
	if got := entry(t, admin, dnOf(t, admin, worker), "manager").GetAttributeValue("manager"); got != "CN=Boss Renamed,"+to {
		t.Errorf("the worker's manager is %q after the move", got)
	}
	got := must(t, one(t, d, directory.Op{Kind: directory.OpGet, UserID: worker, Select: []string{"department", "title", "mail", "accountEnabled"}, Expand: true})).Users[0]
	if got.ManagerID != boss || got.Attrs.Get("department") != "Sales" || got.Attrs.Get("title") != "Rep" || got.Attrs.Get("mail") != "" || got.Attrs.Get("accountEnabled") != "true" {
		t.Errorf("worker %+v", got)
	}
	users, err := d.ReadUsers(context.Background(), directory.Query{Attrs: []string{"cn", "parentDistinguishedName"}, Manager: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if u.ID == worker && u.ManagerID != boss {
			t.Errorf("read: worker's manager %q, want %q", u.ManagerID, boss)
		}
		if u.ID == boss && (u.Attrs.Get("cn") != "Boss Renamed" || u.Attrs.Get("parentDistinguishedName") != to) {
			t.Errorf("read: boss %v", u.Attrs)
		}
	}
	// Only a rename, only a move.
	must(t, one(t, d, directory.Op{Kind: directory.OpUpdate, UserID: boss, Set: map[string]*string{"cn": sp("Boss Again")}}))
	must(t, one(t, d, directory.Op{Kind: directory.OpUpdate, UserID: boss, Set: map[string]*string{"parentDistinguishedName": sp(from)}}))
	if dn := dnOf(t, admin, boss); dn != "CN=Boss Again,"+from {
		t.Errorf("boss at %s", dn)
	}
	// Removing the manager, twice.
	for range 2 {
		must(t, one(t, d, directory.Op{Kind: directory.OpRemoveManager, UserID: worker}))
	}
	if got := entry(t, admin, dnOf(t, admin, worker), "manager").GetAttributeValue("manager"); got != "" {
		t.Errorf("manager %q after removal", got)
	}
	// A cn taken in the target OU is a conflict; a move out of the base
	// is refused.
	other := must(t, one(t, d, directory.Op{Kind: directory.OpCreate, Attrs: person(t, to, "Taken Name"), Password: password(t)})).ID
	_ = other
	err = one(t, d, directory.Op{Kind: directory.OpUpdate, UserID: boss, Set: map[string]*string{"cn": sp("Taken Name"), "parentDistinguishedName": sp(to)}}).Err
	isKind(t, "rename onto a taken cn", err, directory.ErrConflict)
	err = one(t, d, directory.Op{Kind: directory.OpUpdate, UserID: boss, Set: map[string]*string{"parentDistinguishedName": sp("OU=Leavers," + s.BaseDN)}}).Err
	isKind(t, "move out of base_dn", err, directory.ErrRejected)
}

func TestConflictsAndRefusals(t *testing.T) {
	s := dirtest.AD(t)
	box := sandbox(t, s)
	d := open(t, s, box)
	first := person(t, box, "First User")
	must(t, one(t, d, directory.Op{Kind: directory.OpCreate, Attrs: first, Password: password(t)}))

	sameSAM := person(t, box, "Second User")
	sameSAM.Set("sAMAccountName", first.Get("sAMAccountName"))
	sameUPN := person(t, box, "Third User")
	sameUPN.Set("userPrincipalName", first.Get("userPrincipalName"))
	sameCN := person(t, box, "First User")
	outside := person(t, "OU=Leavers,"+s.BaseDN, "Outside User")
	weak := "abc"
	cases := []struct {
		name  string
		attrs identity.Attrs
		pw    string
		kind  error
	}{
		{"duplicate sAMAccountName", sameSAM, password(t), directory.ErrConflict},
		{"duplicate userPrincipalName", sameUPN, password(t), directory.ErrConflict},
		{"duplicate cn in the OU", sameCN, password(t), directory.ErrConflict},
		{"weak password", person(t, box, "Weak Password"), weak, directory.ErrRejected},
		{"outside base_dn", outside, password(t), directory.ErrRejected},
	}
	for _, c := range cases {
		err := one(t, d, directory.Op{Kind: directory.OpCreate, Attrs: c.attrs, Password: c.pw}).Err
		isKind(t, c.name, err, c.kind)
		if err != nil && (strings.Contains(err.Error(), c.pw) || strings.Contains(err.Error(), unicodePwd(c.pw))) {
			t.Errorf("%s: the error shows the password: %v", c.name, err)
		}
		if c.name == "weak password" && !strings.Contains(err.Error(), "password policy") {
			t.Errorf("weak password: %v", err)
		}
	}
	if code := directory.Code(one(t, d, directory.Op{Kind: directory.OpCreate, Attrs: sameSAM, Password: password(t)}).Err); code != "LDAP 68 entryAlreadyExists" {
		t.Errorf("code %q", code)
	}
	for _, k := range []directory.OpKind{directory.OpRevokeSessions, directory.OpAssignLicense} {
		err := one(t, d, directory.Op{Kind: k, UserID: "00000000-0000-0000-0000-000000000000"}).Err
		isKind(t, describe(directory.Op{Kind: k}), err, directory.ErrRejected)
	}
	// No password over an unencrypted connection: refused before sending.
	d.encrypted = false
	err := one(t, d, directory.Op{Kind: directory.OpCreate, Attrs: person(t, box, "Plain Text"), Password: password(t)}).Err
	isKind(t, "password over plain LDAP", err, directory.ErrRejected)
}

func TestNotFound(t *testing.T) {
	s := dirtest.AD(t)
	box := sandbox(t, s)
	d := open(t, s, box)
	admin := s.DialAdmin(t)
	// A user that exists, but outside base_dn, is not hrsync's.
	svc := ldapconn.GUIDString(entry(t, admin, "CN=svc-backup,OU=Engineering,OU=People,"+s.BaseDN, "objectGUID").GetRawAttributeValue("objectGUID"))
	me := must(t, one(t, d, directory.Op{Kind: directory.OpCreate, Attrs: person(t, box, "Some One"), Password: password(t)})).ID
	group := must(t, one(t, d, directory.Op{Kind: directory.OpCreate, Attrs: person(t, box, "Not A Group"), Password: password(t)})).ID
	for _, id := range []string{"3f2504e0-4f89-11d3-9a0c-0305e82c3301", svc, "not-a-guid"} {
		ops := []directory.Op{
			{Kind: directory.OpGet, UserID: id, Select: []string{"cn"}},
			{Kind: directory.OpUpdate, UserID: id, Set: map[string]*string{"department": nil}},
			{Kind: directory.OpDelete, UserID: id},
			{Kind: directory.OpSetManager, UserID: id, ManagerID: me},
			{Kind: directory.OpSetManager, UserID: me, ManagerID: id},
			{Kind: directory.OpRemoveManager, UserID: id},
			{Kind: directory.OpAddMember, UserID: me, GroupID: group},
			{Kind: directory.OpRestore, UserID: id},
		}
		for i, o := range do(t, d, ops...) {
			want := directory.ErrNotFound
			if ops[i].Kind == directory.OpRestore {
				want = directory.ErrRejected // no restore on Samba
			}
			if ops[i].Kind == directory.OpSetManager && ops[i].UserID == me && id == svc {
				continue // a manager outside base_dn is allowed
			}
			isKind(t, describe(ops[i]), o.Err, want)
		}
	}
	// Deleting: once, then not found.
	must(t, one(t, d, directory.Op{Kind: directory.OpDelete, UserID: me}))
	isKind(t, "delete again", one(t, d, directory.Op{Kind: directory.OpDelete, UserID: me}).Err, directory.ErrNotFound)
	if del, err := d.ReadDeleted(context.Background(), directory.Query{Attrs: []string{"employeeID"}}); err != nil || len(del) != 0 {
		t.Errorf("deleted users %v, %v: without restore there are none", del, err)
	}
}

func TestStopNotSent(t *testing.T) {
	s := dirtest.AD(t)
	box := sandbox(t, s)
	d := open(t, s, box)
	stop, cancel := context.WithCancel(context.Background())
	cancel()
	var ops []directory.Op
	for range 20 {
		ops = append(ops, directory.Op{Kind: directory.OpCreate, Attrs: person(t, box, "Never "+dirtest.RandomHex(t, 3)), Password: password(t)})
	}
	for i, o := range doWith(t, d, directory.DoOptions{Stop: stop}, ops...) {
		if !errors.Is(o.Err, directory.ErrNotSent) {
			t.Errorf("op %d: %v, want not sent", i, o.Err)
		}
	}
	users, err := d.ReadUsers(context.Background(), directory.Query{Attrs: []string{"cn"}}, nil)
	if err != nil || len(users) != 0 {
		t.Errorf("%d users created after stop (%v)", len(users), err)
	}
	// Stop while running: every op is answered once, each either done or
	// not sent, and what was done is in the directory.
	stop, cancel = context.WithCancel(context.Background())
	var mu sync.Mutex // done is called from several goroutines
	n := 0
	outs := make([]directory.Outcome, len(ops))
	d.Do(context.Background(), ops, directory.DoOptions{Stop: stop}, func(i int, o directory.Outcome) {
		mu.Lock()
		defer mu.Unlock()
		outs[i] = o
		if n++; n == 3 {
			cancel()
		}
	})
	created := 0
	for i, o := range outs {
		switch {
		case o.Err == nil:
			created++
		case errors.Is(o.Err, directory.ErrNotSent):
		default:
			t.Errorf("op %d: %v", i, o.Err)
		}
	}
	users, _ = d.ReadUsers(context.Background(), directory.Query{Attrs: []string{"cn"}}, nil)
	if created == len(ops) || created < 3 || len(users) != created {
		t.Errorf("%d created, %d in the directory, of %d", created, len(users), len(ops))
	}
}

// A create whose answer is lost is sent again on a new connection, comes
// back "already exists", and apply adopts the user: no duplicate.
func TestLostAddAnswerAdopted(t *testing.T) {
	s := dirtest.AD(t)
	box := sandbox(t, s)
	p, url := newProxy(t, s.URL)
	d := open(t, s, box, func(o *Options) { o.Conn.URL = url; o.Concurrency = 1 })
	a := person(t, box, "Lost Answer")
	var changes []plan.Change
	for _, k := range []string{"cn", "parentDistinguishedName", "sAMAccountName", "userPrincipalName", "displayName", "employeeID", "accountEnabled"} {
		v := a.Get(k)
		changes = append(changes, plan.Change{Attribute: k, After: &v})
	}
	pl := &plan.Plan{Applyable: true, Target: plan.Target{Type: identity.TargetActiveDirectory}, Match: plan.MatchInfo{Target: "employeeID"},
		Actions: []plan.Action{{Action: plan.Create, Key: a.Get("employeeID"), UserPrincipalName: a.Get("userPrincipalName"), DisplayName: a.Get("displayName"), Changes: changes}}}
	var adopted []string
	p.armed.Store(true)
	rep, err := apply.Execute(context.Background(), pl, d, apply.Options{Schema: d.Schema(), Created: func(key, id, upn, mail, pw string, _ identity.Attrs) {
		adopted = append(adopted, id+" "+pw)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if p.dropped.Load() != 1 {
		t.Fatalf("the proxy dropped %d answers", p.dropped.Load())
	}
	r := rep.Results[0]
	if r.Status != "done" || !strings.Contains(r.Note, "adopted") {
		t.Fatalf("result %+v", r)
	}
	users, err := d.ReadUsers(context.Background(), directory.Query{Attrs: []string{"employeeID"}}, nil)
	if err != nil || len(users) != 1 || users[0].ID != r.ID {
		t.Fatalf("users %v (%v), want exactly the adopted %s", users, err, r.ID)
	}
	if len(adopted) != 1 || adopted[0] != r.ID+" " {
		t.Errorf("created callbacks %q: the adopted user's password is not known", adopted)
	}
}

// More than a page of users, a group with more members than one answer
// carries, memberships added and removed twice, groups found by DN, GUID
// and name, and reads that fail closed.
func TestPagingGroupsAndRanges(t *testing.T) {
	s := dirtest.AD(t)
	box := sandbox(t, s)
	admin := s.DialAdmin(t)
	people := addOU(t, admin, "OU=People,"+box)
	const n = 1601 // two pages of 1,000; two member ranges of 1,500
	start := time.Now()
	dns := bulkUsers(t, s, people, "pg"+dirtest.RandomHex(t, 2), n)
	t.Logf("%d users added in %v", n, time.Since(start).Round(time.Millisecond))
	d := open(t, s, box)

	before := d.Requests()["search page"]
	progress := 0
	users, err := d.ReadUsers(context.Background(), directory.Query{Attrs: []string{"employeeID", "accountEnabled"}}, func(k int) { progress = k })
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != n || progress != n {
		t.Fatalf("read %d users (progress %d), want %d", len(users), progress, n)
	}
	if pages := d.Requests()["search page"] - before; pages != 2 {
		t.Errorf("%d pages for %d users, want 2", pages, n)
	}
	seen := map[string]bool{}
	for _, u := range users {
		if seen[u.ID] || u.Attrs.Get("accountEnabled") != "false" || u.Attrs.Get("employeeID") == "" {
			t.Fatalf("user %+v (seen %v)", u, seen[u.ID])
		}
		seen[u.ID] = true
	}

	// A group of all of them, added in one modify.
	groupDN := "CN=Big Group " + dirtest.RandomHex(t, 3) + "," + box
	add := ldap.NewAddRequest(groupDN, nil)
	add.Attribute("objectClass", []string{"top", "group"})
	add.Attribute("member", dns)
	if err := admin.Add(add); err != nil {
		t.Fatal(err)
	}
	// Deleted before the sandbox: each user deleted while in it would
	// have Samba rewrite its 1,601 links.
	t.Cleanup(func() {
		start := time.Now()
		_ = s.DialAdmin(t).Del(ldap.NewDelRequest(groupDN, nil))
		t.Logf("big group deleted in %v", time.Since(start).Round(time.Millisecond))
	})
	groups, err := d.ResolveGroups(context.Background(), []string{groupDN})
	if err != nil {
		t.Fatal(err)
	}
	g := groups[groupDN]
	t.Logf("read and group made by %v", time.Since(start).Round(time.Millisecond))
	lookups := d.Requests()["lookup"]
	ids, err := d.GroupMembers(context.Background(), g.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != n {
		t.Fatalf("%d members, want %d", len(ids), n)
	}
	for _, id := range ids {
		if !seen[id] {
			t.Fatalf("member %s is not a user read", id)
		}
	}
	if reqs := d.Requests()["lookup"] - lookups; reqs != 3 { // the group, two ranges
		t.Errorf("%d lookups for %d members: the ranges were not followed", reqs, n)
	}

	t.Logf("members read by %v", time.Since(start).Round(time.Millisecond))
	// Membership changes are idempotent.
	me := users[0].ID
	small := "CN=Small Group " + dirtest.RandomHex(t, 3) + "," + box
	add = ldap.NewAddRequest(small, nil)
	add.Attribute("objectClass", []string{"top", "group"})
	add.Attribute("sAMAccountName", []string{"small" + dirtest.RandomHex(t, 3)})
	if err := admin.Add(add); err != nil {
		t.Fatal(err)
	}
	refs := []string{small, entry(t, admin, small, "sAMAccountName").GetAttributeValue("sAMAccountName")}
	found, err := d.ResolveGroups(context.Background(), refs)
	if err != nil {
		t.Fatal(err)
	}
	gid := found[small].ID
	if found[refs[1]].ID != gid || !strings.HasPrefix(found[small].DisplayName, "Small Group") {
		t.Fatalf("resolved %+v", found)
	}
	if byGUID, err := d.ResolveGroups(context.Background(), []string{gid}); err != nil || byGUID[gid].ID != gid {
		t.Fatalf("by GUID: %v %v", byGUID, err)
	}
	members := func() int {
		ids, err := d.GroupMembers(context.Background(), gid)
		if err != nil {
			t.Fatal(err)
		}
		return len(ids)
	}
	for _, st := range []struct {
		kind directory.OpKind
		want int
	}{{directory.OpAddMember, 1}, {directory.OpAddMember, 1}, {directory.OpRemoveMember, 0}, {directory.OpRemoveMember, 0}} {
		must(t, one(t, d, directory.Op{Kind: st.kind, GroupID: gid, UserID: me}))
		if got := members(); got != st.want {
			t.Errorf("after %s: %d members, want %d", describe(directory.Op{Kind: st.kind}), got, st.want)
		}
	}
	// Unknown and ambiguous names.
	twin := "CN=Twin,OU=People," + box
	for _, dn := range []string{"CN=Twin," + box, twin} {
		add = ldap.NewAddRequest(dn, nil)
		add.Attribute("objectClass", []string{"top", "group"})
		if err := admin.Add(add); err != nil {
			t.Fatal(err)
		}
	}
	for ref, want := range map[string]string{"No Such Group " + dirtest.RandomHex(t, 3): "no group", "Twin": "2 groups are named"} {
		if _, err := d.ResolveGroups(context.Background(), []string{ref}); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), ref) {
			t.Errorf("resolving %q: %v, want %q", ref, err, want)
		}
	}

	// A read whose connection breaks is read again whole on a new one; if
	// no new connection can be had, it fails, never returns part.
	p, url := newProxy(t, s.URL)
	pd := open(t, s, box, func(o *Options) { o.Conn.URL = url })
	p.armed.Store(true)
	again, err := pd.ReadUsers(context.Background(), directory.Query{Attrs: []string{"employeeID"}}, nil)
	if err != nil || len(again) != n || p.dropped.Load() != 1 {
		t.Errorf("read across a broken connection: %d users, %v (dropped %d)", len(again), err, p.dropped.Load())
	}
	p.armed.Store(true)
	p.refuse.Store(true)
	partial, err := pd.ReadUsers(context.Background(), directory.Query{Attrs: []string{"employeeID"}}, nil)
	if err == nil || partial != nil {
		t.Errorf("read with the connection gone: %d users, %v; want an error and nothing", len(partial), err)
	}
	t.Logf("read with the connection gone: %v", err)
}
