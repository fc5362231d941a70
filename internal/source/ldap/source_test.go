package ldap

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/hrsync/hrsync/internal/dirtest"
	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/ldapconn"
	"github.com/hrsync/hrsync/internal/mapping/expr"
	"github.com/hrsync/hrsync/internal/source"
)

func TestMain(m *testing.M) { dirtest.Main(m) }

// person is an entry to add: its RDN value (uid) and attributes.
type person struct {
	uid   string
	attrs map[string][]string
}

// add adds inetOrgPerson entries below parent.
func add(t *testing.T, conn *goldap.Conn, parent string, people ...person) {
	t.Helper()
	for _, p := range people {
		req := goldap.NewAddRequest("uid="+p.uid+","+parent, nil)
		req.Attribute("objectClass", []string{"inetOrgPerson"})
		req.Attribute("uid", []string{p.uid})
		has := map[string]bool{}
		for name, vals := range p.attrs {
			has[name] = true
			req.Attribute(name, vals)
		}
		if !has["cn"] {
			req.Attribute("cn", []string{"Person " + p.uid})
		}
		if !has["sn"] {
			req.Attribute("sn", []string{"Person"})
		}
		if err := conn.Add(req); err != nil {
			t.Fatalf("adding %s: %v", p.uid, err)
		}
	}
}

func addOU(t *testing.T, conn *goldap.Conn, dn string) {
	t.Helper()
	req := goldap.NewAddRequest(dn, nil)
	req.Attribute("objectClass", []string{"organizationalUnit"})
	if err := conn.Add(req); err != nil {
		t.Fatalf("adding %s: %v", dn, err)
	}
}

// staff returns n people p000.. with employee numbers 1000..
func staff(n int) []person {
	var out []person
	for i := range n {
		out = append(out, person{uid: fmt.Sprintf("p%03d", i), attrs: map[string][]string{
			"employeeNumber": {fmt.Sprint(1000 + i)}, "givenName": {"Given" + fmt.Sprint(i)}, "mail": {fmt.Sprintf("p%03d@example.org", i)},
		}})
	}
	return out
}

// settings are the source.ldap settings of a test: the admin over StartTLS
// on the server's CA, below base. over replaces or adds keys (nil removes).
func settings(s *dirtest.Server, base string, over map[string]any) map[string]any {
	raw := map[string]any{
		"url": s.StartTLSURL, "ca_file": s.CAFile, "bind_dn": s.BindDN, "base_dn": base,
		"filter": "(objectClass=inetOrgPerson)", "attributes": []any{"uid", "employeeNumber", "givenName", "mail"},
	}
	for k, v := range over {
		if v == nil {
			delete(raw, k)
			continue
		}
		raw[k] = v
	}
	return raw
}

// open parses settings with password as HRSYNC_SOURCE_PASSWORD.
func open(t *testing.T, raw map[string]any, password string) *Source {
	t.Helper()
	c, err := Parse(raw, Env{Getenv: func(name string) string {
		if name == DefaultPasswordEnv {
			return password
		}
		return ""
	}})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	src, err := New(c, Options{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return src
}

func read(t *testing.T, src *Source) ([]*identity.Record, source.Summary, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var recs []*identity.Record
	sum, err := src.Read(ctx, func(r *identity.Record) error {
		recs = append(recs, r)
		return nil
	})
	return recs, sum, err
}

func mustRead(t *testing.T, src *Source) ([]*identity.Record, source.Summary) {
	t.Helper()
	recs, sum, err := read(t, src)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return recs, sum
}

func byUID(recs []*identity.Record) map[string]*identity.Record {
	out := map[string]*identity.Record{}
	for _, r := range recs {
		uid, _ := r.Field("uid")
		out[uid] = r
	}
	return out
}

// eval evaluates an expression against a record, as a mapping does.
func eval(t *testing.T, rec *identity.Record, src string) expr.Value {
	t.Helper()
	v, err := expr.MustParse(src).Eval(rec)
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	return v
}

// 23 people in pages of 5: every one read, in 5 pages, with the entry's
// DN as provenance; the progress hook counts them as they come; the digest
// is the same for the same data and changes with it.
func TestReadAcrossPages(t *testing.T) {
	s := dirtest.LDAP(t)
	admin := s.DialAdmin(t)
	box := s.Sandbox(t)
	add(t, admin, box, staff(23)...)
	addOU(t, admin, "ou=sub,"+box)
	add(t, admin, "ou=sub,"+box, person{uid: "deep", attrs: map[string][]string{"employeeNumber": {"2000"}}})

	src := open(t, settings(s, box, map[string]any{"page_size": 5}), s.Password)
	var progress []int
	src.SetProgress(func(n int) { progress = append(progress, n) })
	recs, sum := mustRead(t, src)
	if len(recs) != 24 || sum.Records != 24 || src.pages != 5 {
		t.Fatalf("%d records (summary %d) in %d pages, want 24 in 5", len(recs), sum.Records, src.pages)
	}
	if fmt.Sprint(sum.Header) != "[uid employeeNumber givenName mail]" {
		t.Errorf("header %v", sum.Header)
	}
	if len(progress) == 0 || progress[len(progress)-1] != 24 {
		t.Errorf("progress %v", progress)
	}
	people := byUID(recs)
	p7 := people["p007"]
	if p7 == nil {
		t.Fatal("p007 not read")
	}
	wantProv := identity.Provenance{File: "ldap://" + strings.TrimPrefix(s.StartTLSURL, "ldap://") + "/" + box, DN: "uid=p007," + box}
	if p7.Prov != wantProv {
		t.Errorf("provenance %+v, want %+v", p7.Prov, wantProv)
	}
	if !strings.HasSuffix(p7.Prov.String(), " entry uid=p007,"+box) {
		t.Errorf("provenance shown as %q", p7.Prov.String())
	}
	if v, _ := p7.Field("EMPLOYEENUMBER"); v != "1007" {
		t.Errorf("employeeNumber %q", v)
	}
	if v, ok := people["deep"].Field("givenName"); ok {
		t.Errorf("an absent attribute reads as %q", v)
	}
	if people["deep"] == nil {
		t.Error("the entry in a sub-OU was not read")
	}
	if !strings.HasPrefix(sum.Digest, "sha256:") {
		t.Fatalf("digest %q", sum.Digest)
	}

	_, again := mustRead(t, open(t, settings(s, box, map[string]any{"page_size": 7}), s.Password))
	if again.Digest != sum.Digest {
		t.Error("the same entries read in other pages gave another digest")
	}
	mod := goldap.NewModifyRequest("uid=p011,"+box, nil)
	mod.Replace("givenName", []string{"Changed"})
	if err := admin.Modify(mod); err != nil {
		t.Fatal(err)
	}
	if _, changed := mustRead(t, src); changed.Digest == sum.Digest {
		t.Error("a changed givenName left the digest as it was")
	}
}

// The "dn" field is the entry's DN. An attribute no entry has is logged:
// it may be misspelt.
func TestDNField(t *testing.T) {
	s := dirtest.LDAP(t)
	box := s.Sandbox(t)
	add(t, s.DialAdmin(t), box, staff(2)...)
	src := open(t, settings(s, box, map[string]any{"attributes": []any{"dn", "emploeeNumber"}}), s.Password)
	var logged bytes.Buffer
	src.log = slog.New(slog.NewTextHandler(&logged, nil))
	recs, sum := mustRead(t, src)
	if !strings.Contains(logged.String(), "no entry read has this attribute") || !strings.Contains(logged.String(), "attribute=emploeeNumber") {
		t.Errorf("a misspelt attribute was not logged: %s", logged.String())
	}
	if len(recs) != 2 || fmt.Sprint(sum.Header) != "[dn emploeeNumber]" {
		t.Fatalf("%d records, header %v", len(recs), sum.Header)
	}
	if v, _ := recs[0].Field("dn"); v != recs[0].Prov.DN || !strings.HasSuffix(v, ","+box) {
		t.Errorf("dn %q, provenance %q", v, recs[0].Prov.DN)
	}
}

// mustPartial checks that a read failed as a partial read, emitting
// nothing, with a message naming the directory, the base and the words.
func mustPartial(t *testing.T, src *Source, box string, words ...string) error {
	t.Helper()
	recs, _, err := read(t, src)
	if err == nil {
		t.Fatalf("the read succeeded with %d records; want it to fail", len(recs))
	}
	if len(recs) != 0 {
		t.Errorf("%d records emitted before the failure", len(recs))
	}
	if !errors.Is(err, ldapconn.ErrPartial) {
		t.Errorf("error is not ErrPartial: %v", err)
	}
	var se *source.Error
	if !errors.As(err, &se) || se.Prov.File != src.Display() {
		t.Errorf("error does not name the source %s: %v", src.Display(), err)
	}
	for _, w := range append(words, box) {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q: %v", w, err)
		}
	}
	t.Logf("%v", err)
	return err
}

// A bind account whose searches stop after 5 entries fails the read of 7,
// paged or not: never 5 people and 2 leavers.
func TestSizeLimitFailsTheRead(t *testing.T) {
	s := dirtest.LDAP(t)
	box := s.Sandbox(t)
	add(t, s.DialAdmin(t), box, staff(7)...)
	raw := settings(s, box, map[string]any{"bind_dn": s.Need(t, dirtest.ExtraLimitedDN), "page_size": 2})
	err := mustPartial(t, open(t, raw, s.Need(t, dirtest.ExtraLimitedPassword)), box, "Size Limit Exceeded", "size.prtotal=unlimited")
	if strings.Contains(err.Error(), s.Need(t, dirtest.ExtraLimitedPassword)) {
		t.Error("the error shows the password")
	}
	// Five entries are within the limit.
	raw["filter"] = "(|(uid=p000)(uid=p001)(uid=p002)(uid=p003)(uid=p004))"
	if recs, _ := mustRead(t, open(t, raw, s.Need(t, dirtest.ExtraLimitedPassword))); len(recs) != 5 {
		t.Errorf("%d records within the limit", len(recs))
	}
}

// OpenLDAP's default size limit, 500 entries, applies to any bound account
// but the rootdn, and a paged search counts as a whole: reading 501 people
// fails, with what to configure.
func TestDefaultSizeLimitFailsTheRead(t *testing.T) {
	if testing.Short() {
		t.Skip("adds 501 entries")
	}
	s := dirtest.LDAP(t)
	admin := s.DialAdmin(t)
	box := s.Sandbox(t)
	people := staff(501)
	people[0].attrs["userPassword"] = []string{"Reader-pw-1"}
	add(t, admin, box, people...)
	raw := settings(s, box, map[string]any{"bind_dn": "uid=p000," + box, "page_size": 100})
	mustPartial(t, open(t, raw, "Reader-pw-1"), box, "Size Limit Exceeded", "limits dn.exact=")
	// The rootdn has no limit.
	if recs, _ := mustRead(t, open(t, settings(s, box, map[string]any{"page_size": 100}), s.Password)); len(recs) != 501 {
		t.Errorf("the rootdn read %d", len(recs))
	}
}

// A bind account that may not page is refused outright: the read fails.
func TestNoPagingFailsTheRead(t *testing.T) {
	s := dirtest.LDAP(t)
	box := s.Sandbox(t)
	add(t, s.DialAdmin(t), box, staff(3)...)
	raw := settings(s, box, map[string]any{"bind_dn": s.Need(t, dirtest.ExtraNoPagingDN)})
	mustPartial(t, open(t, raw, s.Need(t, dirtest.ExtraNoPagingPassword)), box, "pagedResults control not allowed")
}

// A referral object below the base comes back as a continuation
// reference, which hrsync does not follow: the read fails.
func TestReferralFailsTheRead(t *testing.T) {
	s := dirtest.LDAP(t)
	admin := s.DialAdmin(t)
	box := s.Sandbox(t)
	add(t, admin, box, staff(3)...)
	refDN := "ou=elsewhere," + box
	req := goldap.NewAddRequest(refDN, nil)
	req.Attribute("objectClass", []string{"referral", "extensibleObject"})
	req.Attribute("ou", []string{"elsewhere"})
	req.Attribute("ref", []string{"ldap://ldap2.example.org/ou=elsewhere,dc=example,dc=org"})
	if err := admin.Add(req); err != nil {
		t.Fatalf("adding a referral: %v", err)
	}
	t.Cleanup(func() { // before the sandbox goes: a referral is deleted with ManageDsaIT
		if err := admin.Del(goldap.NewDelRequest(refDN, []goldap.Control{goldap.NewControlManageDsaIT(true)})); err != nil {
			t.Errorf("deleting the referral: %v", err)
		}
	})
	mustPartial(t, open(t, settings(s, box, nil), s.Password), box, "ldap2.example.org", "follows no referral")
}

// Anonymous clients may read ou=people: no bind DN, no password.
func TestAnonymousBind(t *testing.T) {
	s := dirtest.LDAP(t)
	admin := s.DialAdmin(t)
	tag := "anon" + dirtest.RandomHex(t, 4)
	people := s.BaseDN
	var added []string
	for i := range 3 {
		uid := fmt.Sprintf("%s-%d", tag, i)
		add(t, admin, "ou=people,"+people, person{uid: uid, attrs: map[string][]string{"employeeNumber": {fmt.Sprint(i)}}})
		added = append(added, "uid="+uid+",ou=people,"+people)
	}
	t.Cleanup(func() {
		for _, dn := range added {
			_ = admin.Del(goldap.NewDelRequest(dn, nil))
		}
	})
	raw := settings(s, "ou=people,"+s.BaseDN, map[string]any{"bind_dn": nil, "filter": "(uid=" + tag + "-*)"})
	recs, _ := mustRead(t, open(t, raw, ""))
	if len(recs) != 3 {
		t.Fatalf("anonymous read %d entries, want 3", len(recs))
	}
	// Elsewhere an anonymous client sees nothing: the base does not exist for it.
	raw["base_dn"] = "ou=groups," + s.BaseDN
	_, _, err := read(t, open(t, raw, ""))
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("anonymous read outside ou=people: %v", err)
	}
}

// Several mail values are a list for Join, Item and Count; one value is a
// string; binary values are base64; generalized time works with CDate and
// FormatDateTime.
func TestValues(t *testing.T) {
	s := dirtest.LDAP(t)
	box := s.Sandbox(t)
	photo := []byte{0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 'J', 'F', 'I', 'F'}
	add(t, s.DialAdmin(t), box,
		person{uid: "ana", attrs: map[string][]string{
			"mail": {"ana@example.org", "ana.garcia@example.org"}, "employeeNumber": {"1"},
			"givenName": {"Ana María"}, "jpegPhoto": {string(photo)}, "departmentNumber": {"42", "7"},
		}},
		person{uid: "bo", attrs: map[string][]string{"mail": {"bo@example.org"}, "employeeNumber": {"2"}}},
	)
	raw := settings(s, box, map[string]any{"attributes": []any{"uid", "mail", "givenName", "jpegPhoto", "departmentNumber", "createTimestamp"}})
	recs, _ := mustRead(t, open(t, raw, s.Password))
	people := byUID(recs)
	ana, bo := people["ana"], people["bo"]
	if ana == nil || bo == nil {
		t.Fatalf("read %d", len(recs))
	}
	for _, c := range []struct {
		rec        *identity.Record
		expr, want string
	}{
		{ana, `Join("; ", [mail])`, "ana@example.org; ana.garcia@example.org"},
		{ana, `Item([mail], 2)`, "ana.garcia@example.org"},
		{ana, `Count([mail])`, "2"},
		{ana, `[mail]`, "ana@example.org,ana.garcia@example.org"},
		{ana, `Join("+", RemoveDuplicates([departmentNumber]))`, "42+7"},
		{bo, `Count([mail])`, "1"},
		{bo, `Item([mail], 1)`, "bo@example.org"},
		{bo, `Join("; ", [mail])`, "bo@example.org"},
		{ana, `[givenName]`, "Ana María"},
		{ana, `[jpegPhoto]`, "/9j/4AAQSkZJRg=="},
	} {
		if got := eval(t, c.rec, c.expr).String(); got != c.want {
			t.Errorf("%s = %q, want %q", c.expr, got, c.want)
		}
	}
	if eval(t, ana, `[mail]`).Kind() != expr.KindList || eval(t, bo, `[mail]`).Kind() != expr.KindString {
		t.Error("several values must be a list, one a string")
	}

	// createTimestamp is generalized time, e.g. 20261205132857Z.
	ts, _ := ana.Field("createTimestamp")
	created, err := ldapconn.GeneralizedTime(ts)
	if err != nil || time.Since(created) > time.Hour || time.Since(created) < -time.Minute {
		t.Fatalf("createTimestamp %q: %v %v", ts, created, err)
	}
	if d, ok := eval(t, ana, `CDate([createTimestamp])`).Time(); !ok || !d.Equal(created) {
		t.Errorf("CDate([createTimestamp]) = %v, want %v", d, created)
	}
	if got := eval(t, ana, `FormatDateTime([createTimestamp], , "yyyyMMddHHmmssZ", "yyyy-MM-dd")`).String(); got != created.Format("2006-01-02") {
		t.Errorf("FormatDateTime = %q", got)
	}
	if got := eval(t, ana, `DateDiff("d", CDate([createTimestamp]), DateAdd("d", 3, CDate([createTimestamp])))`).String(); got != "3" {
		t.Errorf("DateDiff = %q", got)
	}
}

// references: {manager: employeeNumber}: a manager among the entries read
// becomes their employeeNumber; a manager outside the base, a DN that
// names nobody, and an entry without employeeNumber leave the field empty
// with a warning naming the entry; a multi-valued reference gives the keys
// it can.
func TestReferences(t *testing.T) {
	s := dirtest.LDAP(t)
	admin := s.DialAdmin(t)
	box := s.Sandbox(t)
	in, out := "ou=in,"+box, "ou=out,"+box
	addOU(t, admin, in)
	addOU(t, admin, out)
	add(t, admin, out, person{uid: "ceo", attrs: map[string][]string{"employeeNumber": {"1"}}})
	add(t, admin, in,
		person{uid: "boss", attrs: map[string][]string{"employeeNumber": {"10"}, "manager": {"uid=ceo," + out}}},
		person{uid: "nonum", attrs: map[string][]string{}},
		// The DN as someone typed it: other case, spaces after commas.
		person{uid: "ana", attrs: map[string][]string{"employeeNumber": {"11"}, "manager": {"UID=Boss, " + strings.ReplaceAll(in, ",", ", ")},
			"seeAlso": {"uid=boss," + in, "uid=ceo," + out, "uid=ana," + in}}},
		person{uid: "bo", attrs: map[string][]string{"employeeNumber": {"12"}, "manager": {"uid=ghost," + in}}},
		person{uid: "cy", attrs: map[string][]string{"employeeNumber": {"13"}, "manager": {"uid=nonum," + in}}},
	)
	raw := settings(s, in, map[string]any{
		"attributes": []any{"uid", "employeeNumber", "manager", "seeAlso"},
		"references": map[string]any{"manager": "employeeNumber", "seeAlso": "employeeNumber"},
	})
	recs, sum := mustRead(t, open(t, raw, s.Password))
	people := byUID(recs)
	for uid, want := range map[string]string{"boss": "", "ana": "10", "bo": "", "cy": "", "nonum": ""} {
		if got, _ := people[uid].Field("manager"); got != want {
			t.Errorf("%s's manager %q, want %q", uid, got, want)
		}
	}
	if got := eval(t, people["ana"], `Join(",", [seeAlso])`).String(); got != "10,11" {
		t.Errorf("ana's seeAlso %q, want 10,11", got)
	}
	type w struct{ code, uid, field, words string }
	want := []w{
		{WarnReferenceOutside, "boss", "manager", "uid=ceo," + out + " is not among the entries read (below " + in + " matching (objectClass=inetOrgPerson)); manager is left empty"},
		{WarnReferenceOutside, "ana", "seeAlso", "1 of its 3 values (uid=ceo," + out + ")"},
		{WarnReferenceOutside, "bo", "manager", "uid=ghost," + in},
		{WarnReferenceNoKey, "cy", "manager", "uid=nonum," + in + " (0 values of employeenumber) is without exactly one employeenumber"},
	}
	if len(sum.Warnings) != len(want) {
		t.Errorf("%d warnings, want %d: %+v", len(sum.Warnings), len(want), sum.Warnings)
	}
	for _, ww := range want {
		found := false
		for _, g := range sum.Warnings {
			if g.Code == ww.code && g.Prov.DN == "uid="+ww.uid+","+in && g.Field == ww.field && strings.Contains(g.Msg, ww.words) {
				found = true
				if !strings.Contains(g.String(), g.Prov.String()) {
					t.Errorf("warning %q does not name its entry", g.String())
				}
			}
		}
		if !found {
			t.Errorf("no warning %+v among %+v", ww, sum.Warnings)
		}
	}
}

// Failures of the connection, TLS, the bind and the base each say what
// failed, naming the URL, the bind DN or the base, never the password.
func TestConnectionErrors(t *testing.T) {
	s := dirtest.LDAP(t)
	box := s.Sandbox(t)
	add(t, s.DialAdmin(t), box, staff(1)...)
	for _, c := range []struct {
		name     string
		over     map[string]any
		password string
		words    []string
	}{
		{"bad base DN", map[string]any{"base_dn": "ou=nowhere," + s.BaseDN}, s.Password, []string{"ou=nowhere," + s.BaseDN, "does not exist", "base_dn"}},
		{"bad password", nil, "wrong-password", []string{"bind to " + s.StartTLSURL + " as " + s.BindDN, "Invalid Credentials", "password is wrong"}},
		{"TLS without the CA", map[string]any{"ca_file": nil, "url": s.URL}, s.Password, []string{s.URL, "certificate signed by unknown authority", "ca_file"}},
		{"StartTLS without the CA", map[string]any{"ca_file": nil}, s.Password, []string{"StartTLS with " + s.StartTLSURL, "unknown authority"}},
		{"nobody listening", map[string]any{"url": "ldaps://127.0.0.1:1"}, s.Password, []string{"connect to ldaps://127.0.0.1:1", "refused"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := read(t, open(t, settings(s, box, c.over), c.password))
			if err == nil {
				t.Fatal("the read succeeded")
			}
			for _, w := range c.words {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
			if strings.Contains(err.Error(), s.Password) || strings.Contains(err.Error(), "wrong-password") {
				t.Errorf("the error shows the password: %v", err)
			}
			t.Logf("%v", err)
		})
	}
	// Plain LDAP to this machine, when asked for.
	recs, _ := mustRead(t, open(t, settings(s, box, map[string]any{"start_tls": false, "ca_file": nil}), s.Password))
	if len(recs) != 1 {
		t.Errorf("plain read: %d", len(recs))
	}
}
