package ldap

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/hrsync/hrsync/internal/dirtest"
	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/ldapconn"
	"github.com/hrsync/hrsync/internal/mapping"
)

// adUser adds a user below parent: employeeID (none when ""), the
// userAccountControl and the manager's DN (none when "").
func adUser(t *testing.T, conn *goldap.Conn, parent, cn, employeeID string, uac int, manager string) string {
	t.Helper()
	sam := "t" + dirtest.RandomHex(t, 6)
	dn := "CN=" + cn + "," + parent
	req := goldap.NewAddRequest(dn, nil)
	req.Attribute("objectClass", []string{"top", "person", "organizationalPerson", "user"})
	req.Attribute("sAMAccountName", []string{sam})
	req.Attribute("userPrincipalName", []string{sam + "@contoso.test"})
	req.Attribute("givenName", []string{strings.Fields(cn)[0]})
	req.Attribute("sn", []string{cn[strings.LastIndex(cn, " ")+1:]})
	req.Attribute("displayName", []string{cn})
	req.Attribute("department", []string{"Engineering"})
	if employeeID != "" {
		req.Attribute("employeeID", []string{employeeID})
	}
	if manager != "" {
		req.Attribute("manager", []string{manager})
	}
	req.Attribute("unicodePwd", []string{unicodePwd("Pw-" + dirtest.RandomHex(t, 8) + "-Xy9")})
	req.Attribute("userAccountControl", []string{fmt.Sprint(uac)})
	if err := conn.Add(req); err != nil {
		t.Fatalf("adding %s: %v", dn, err)
	}
	return dn
}

// unicodePwd is a password as AD takes it: in double quotes, UTF-16LE.
func unicodePwd(password string) string {
	u := utf16.Encode([]rune(`"` + password + `"`))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return string(b)
}

func adSettings(s *dirtest.Server, base string, over map[string]any) map[string]any {
	raw := map[string]any{"preset": "active_directory", "url": s.URL, "ca_file": s.CAFile, "bind_dn": s.BindDN, "base_dn": base}
	for k, v := range over {
		raw[k] = v
	}
	return raw
}

// The active_directory preset against a Samba DC: people with an
// employeeID only (not the user without one, a contact or a computer);
// the manager resolved to its employeeID or, outside the base, warned
// about; objectGUID and objectSid in their text forms; whenCreated for
// CDate; userAccountControl's ACCOUNTDISABLE bit through the shipped
// mapping (mappings/active-directory-source.yaml).
func TestActiveDirectoryPreset(t *testing.T) {
	s := dirtest.AD(t)
	admin := s.DialAdmin(t)
	box := s.Sandbox(t)
	outsider := "CN=Administrator,CN=Users," + s.BaseDN
	boss := adUser(t, admin, box, "Zoë Müller", "E100", 512, outsider)
	adUser(t, admin, box, "José García", "E101", 512, boss)
	adUser(t, admin, box, "Seán O'Brien", "E102", 514, boss) // disabled
	adUser(t, admin, box, "Service Account", "", 512, "")
	contact := goldap.NewAddRequest("CN=A Contact,"+box, nil)
	contact.Attribute("objectClass", []string{"top", "person", "organizationalPerson", "contact"})
	contact.Attribute("employeeID", []string{"E900"})
	if err := admin.Add(contact); err != nil {
		t.Fatalf("adding a contact: %v", err)
	}
	computer := goldap.NewAddRequest("CN=PC1,"+box, nil)
	computer.Attribute("objectClass", []string{"top", "person", "organizationalPerson", "user", "computer"})
	computer.Attribute("sAMAccountName", []string{"PC1-" + dirtest.RandomHex(t, 3) + "$"})
	computer.Attribute("employeeID", []string{"E901"})
	if err := admin.Add(computer); err != nil {
		t.Fatalf("adding a computer: %v", err)
	}

	c, err := Parse(adSettings(s, box, nil), Env{Getenv: func(string) string { return s.Password }})
	if err != nil {
		t.Fatal(err)
	}
	c.Attributes = append(c.Attributes, "objectSid", "whenCreated")
	src, err := New(c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	recs, sum := mustRead(t, src)
	people := map[string]*identity.Record{}
	for _, r := range recs {
		id, _ := r.Field("employeeID")
		people[id] = r
	}
	if len(recs) != 3 || people["E100"] == nil || people["E101"] == nil || people["E102"] == nil {
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range people {
				if !yield(k) {
					return
				}
			}
		})
		t.Fatalf("read %v, want E100, E101 and E102 only", keys)
	}
	if m, _ := people["E101"].Field("manager"); m != "E100" {
		t.Errorf("E101's manager %q, want E100", m)
	}
	if m, ok := people["E100"].Field("manager"); ok {
		t.Errorf("E100's manager (outside the base) %q, want none", m)
	}
	if len(sum.Warnings) != 1 || sum.Warnings[0].Code != WarnReferenceOutside || !strings.Contains(sum.Warnings[0].Msg, outsider) ||
		!strings.EqualFold(sum.Warnings[0].Prov.DN, boss) {
		t.Errorf("warnings %+v", sum.Warnings)
	}

	// Binary values in their usual forms, checked against the raw bytes.
	e, err := admin.Search(goldap.NewSearchRequest(boss, goldap.ScopeBaseObject, 0, 0, 0, false, "(objectClass=*)", []string{"objectGUID", "objectSid"}, nil))
	if err != nil || len(e.Entries) != 1 {
		t.Fatalf("reading %s: %v", boss, err)
	}
	zoe := people["E100"]
	if g, _ := zoe.Field("objectGUID"); g != ldapconn.GUIDString(e.Entries[0].GetRawAttributeValue("objectGUID")) || len(g) != 36 {
		t.Errorf("objectGUID %q", g)
	}
	if sid, _ := zoe.Field("objectSid"); sid != ldapconn.SIDString(e.Entries[0].GetRawAttributeValue("objectSid")) || !strings.HasPrefix(sid, "S-1-5-21-") {
		t.Errorf("objectSid %q", sid)
	}
	// whenCreated is generalized time with a fraction: 20261205132857.0Z.
	if d, ok := eval(t, zoe, `CDate([whenCreated])`).Time(); !ok || time.Since(d) > time.Hour {
		t.Errorf("CDate([whenCreated]) = %v", d)
	}
	if got := eval(t, zoe, `FormatDateTime([whenCreated], , "yyyyMMddHHmmss.fZ", "yyyy-MM-dd")`).String(); got != time.Now().UTC().Format("2006-01-02") &&
		got != time.Now().UTC().Add(-time.Hour).Format("2006-01-02") {
		t.Errorf("FormatDateTime([whenCreated]) = %q", got)
	}

	// The shipped mapping: accountEnabled from the ACCOUNTDISABLE bit, the
	// manager by its employeeID.
	m, err := mapping.Load(filepath.Join("..", "..", "..", "mappings", "active-directory-source.yaml"), identity.EntraSchema())
	if err != nil {
		t.Fatal(err)
	}
	if err := m.CheckFields(identity.NewHeader(sum.Header), "ad"); err != nil {
		t.Fatalf("the mapping names an attribute the preset lacks: %v", err)
	}
	for id, enabled := range map[string]string{"E100": "true", "E101": "true", "E102": "false"} {
		d, err := m.Map(people[id], time.Now())
		if err != nil {
			t.Fatalf("mapping %s: %v", id, err)
		}
		if d.Key != id || d.Attrs.Get("accountEnabled") != enabled || d.Attrs.Get("department") != "Engineering" {
			t.Errorf("%s maps to key %q accountEnabled %q department %q", id, d.Key, d.Attrs.Get("accountEnabled"), d.Attrs.Get("department"))
		}
		if id == "E101" && d.ManagerKey != "E100" {
			t.Errorf("E101's mapped manager %q", d.ManagerKey)
		}
	}
}

// A large member attribute comes in parts (AD sends member;range=0-1499
// unasked; here the parts are asked for, 10 values each, which Samba
// answers as AD does): every part is read, to the end, and the members
// resolve to their employeeIDs.
func TestRangedMember(t *testing.T) {
	s := dirtest.AD(t)
	admin := s.DialAdmin(t)
	box := s.Sandbox(t)
	var members, ids []string
	for i := range 25 {
		id := fmt.Sprintf("M%03d", i)
		members = append(members, adUser(t, admin, box, fmt.Sprintf("Member %03d", i), id, 514, ""))
		ids = append(ids, id)
	}
	group := goldap.NewAddRequest("CN=Big Group,"+box, nil)
	group.Attribute("objectClass", []string{"top", "group"})
	group.Attribute("member", members)
	if err := admin.Add(group); err != nil {
		t.Fatalf("adding the group: %v", err)
	}
	raw := adSettings(s, box, map[string]any{
		"preset": nil, "filter": "(|(objectClass=group)(&(objectClass=user)(employeeID=*)))",
		"attributes": []any{"cn", "employeeID", "member"}, "references": map[string]any{"member": "employeeID"},
	})
	delete(raw, "preset")
	for _, step := range []int{10, 5, 25, 1000} {
		src := open(t, raw, s.Password)
		src.rangeStep = map[string]int{"member": step}
		var logged bytes.Buffer
		src.log = slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))
		recs, sum := mustRead(t, src)
		if want := map[bool]string{true: "ranged=1", false: "ranged=0"}[step < 25]; !strings.Contains(logged.String(), want) {
			t.Errorf("step %d: the log does not say %s: %s", step, want, logged.String())
		}
		var g *identity.Record
		for _, r := range recs {
			if cn, _ := r.Field("cn"); cn == "Big Group" {
				g = r
			}
		}
		if len(recs) != 26 || g == nil {
			t.Fatalf("step %d: %d records", step, len(recs))
		}
		got, _ := g.FieldValues("member")
		if !slices.Equal(slices.Sorted(slices.Values(got)), ids) {
			t.Errorf("step %d: members %v, want %v", step, got, ids)
		}
		if len(sum.Warnings) != 0 {
			t.Errorf("step %d: warnings %+v", step, sum.Warnings)
		}
	}
}
