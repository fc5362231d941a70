package identity

import "testing"

func TestProvenanceString(t *testing.T) {
	tests := []struct {
		p    Provenance
		want string
	}{
		{Provenance{File: "hr.csv", Line: 12}, "hr.csv:12"},
		{Provenance{File: "hr.xlsx", Sheet: "Workers", Row: 4}, "hr.xlsx[Workers] row 4"},
		{Provenance{File: "https://hr/api", Page: 2, Index: 7}, "https://hr/api page 2 item 7"},
		{Provenance{File: "hr.csv"}, "hr.csv"},
		{Provenance{File: "ldap://dir:389/ou=people,dc=example,dc=org", DN: "uid=jdoe,ou=people,dc=example,dc=org"}, "ldap://dir:389/ou=people,dc=example,dc=org entry uid=jdoe,ou=people,dc=example,dc=org"},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("%+v = %q, want %q", tt.p, got, tt.want)
		}
	}
}

func TestRecordField(t *testing.T) {
	r := &Record{Header: NewHeader([]string{"WorkerID", "Mail", "Dept"}), Values: []string{"00123", "", "Sales"}}
	tests := []struct {
		name, want string
		present    bool
	}{
		{"WorkerID", "00123", true},
		{"workerid", "00123", true}, // columns match without regard to case
		{"Mail", "", false},         // an empty cell is no value (null)
		{"Missing", "", false},
	}
	for _, tt := range tests {
		if got, ok := r.Field(tt.name); got != tt.want || ok != tt.present {
			t.Errorf("Field(%q) = %q, %v", tt.name, got, ok)
		}
	}
	short := &Record{Header: r.Header, Values: []string{"1"}}
	if v, ok := short.Field("Dept"); v != "" || ok {
		t.Errorf("short row Field = %q, %v", v, ok)
	}
}

func TestRecordFieldValues(t *testing.T) {
	h := NewHeader([]string{"uid", "mail", "cn"})
	r := &Record{Header: h, Values: []string{"jdoe", "a@x,b@x", "John"}, Lists: [][]string{nil, {"a@x", "b@x"}, nil}}
	if vs, ok := r.FieldValues("MAIL"); !ok || len(vs) != 2 || vs[1] != "b@x" {
		t.Errorf("FieldValues(MAIL) = %q, %v", vs, ok)
	}
	if v, ok := r.Field("mail"); v != "a@x,b@x" || !ok {
		t.Errorf("Field(mail) = %q, %v", v, ok)
	}
	for _, name := range []string{"uid", "cn", "missing"} {
		if vs, ok := r.FieldValues(name); ok {
			t.Errorf("FieldValues(%s) = %q: one value is not a list", name, vs)
		}
	}
	csv := &Record{Header: h, Values: []string{"jdoe", "a@x", "John"}}
	if _, ok := csv.FieldValues("mail"); ok {
		t.Error("a record without lists has a list")
	}
}

func TestSchema(t *testing.T) {
	s := EntraSchema()
	a, ok := s.Lookup("USERPRINCIPALNAME")
	if !ok || a.Name != "userPrincipalName" || !a.CreateOnly || !a.RequiredOnCreate {
		t.Errorf("lookup = %+v, %v", a, ok)
	}
	if _, ok := s.Lookup("passwordProfile"); ok {
		t.Error("passwordProfile must not be mappable")
	}
}

func TestSchemaOf(t *testing.T) {
	cases := []struct {
		typ, naming, wantNaming string
		cnUnique, err           bool
	}{
		{TargetLDAP, "", "uid", false, false},
		{TargetLDAP, "uid", "uid", false, false},
		{TargetLDAP, "cn", "cn", true, false},
		{TargetLDAP, "mail", "", false, true},
		{TargetActiveDirectory, "uid", "cn", true, false}, // naming is the LDAP target's only
	}
	for _, c := range cases {
		s, err := SchemaOf(c.typ, c.naming)
		if (err != nil) != c.err {
			t.Errorf("%s %s: %v", c.typ, c.naming, err)
			continue
		}
		if err != nil {
			continue
		}
		if s.Roles.Naming != c.wantNaming || (s.Namespace("cn") >= 0) != c.cnUnique {
			t.Errorf("%s %s: naming %q, cn namespace %d", c.typ, c.naming, s.Roles.Naming, s.Namespace("cn"))
		}
	}
	s, _ := LDAPSchemaNamedBy("cn")
	if got := s.EntryDN(AttrsOf(map[string]string{"cn": "García, José", "parentDistinguishedName": "ou=people,dc=x"})); got != `cn=García\, José,ou=people,dc=x` {
		t.Errorf("EntryDN %s", got)
	}
	if a, _ := s.Lookup("cn"); a.Check == nil || a.Check("") == nil {
		t.Error("an empty cn passes the check")
	}
}
