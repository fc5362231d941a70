package mapping

import (
	"errors"
	"strings"
	"testing"

	"github.com/hrsync/hrsync/internal/identity"
)

const exampleMapping = `match:
  source: '[WorkerID]'
  target: employeeId
attributes:
  displayName: 'Join(" ", [FirstName], [LastName])'
  userPrincipalName: 'Append(ToLower(NormalizeDiacritics(StripSpaces(Join(".", [FirstName], [LastName])))), "@contoso.com")'
  mailNickname: 'ToLower(NormalizeDiacritics(StripSpaces(Join(".", [FirstName], [LastName]))))'
  department: '[Department]'
  accountEnabled: 'IIF([WorkerStatus]="Active", "True", "False")'
  employeeHireDate: '[HireDate]'
  manager: '[ManagerID]'
`

func record(line int, kv ...string) *identity.Record {
	var names, vals []string
	for i := 0; i+1 < len(kv); i += 2 {
		names = append(names, kv[i])
		vals = append(vals, kv[i+1])
	}
	return &identity.Record{Header: identity.NewHeader(names), Values: vals, Prov: identity.Provenance{File: "hr.csv", Line: line}}
}

func TestMapExample(t *testing.T) {
	m, err := Parse("example.yaml", []byte(exampleMapping), identity.EntraSchema())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		rec     *identity.Record
		want    identity.Attrs
		manager string
	}{
		{
			name: "diacritics and spaces",
			rec: record(2, "WorkerID", "1007", "FirstName", "Ana María", "LastName", "de la Cruz", "Department", " Engineering ",
				"WorkerStatus", "Active", "HireDate", "2021-03-01", "ManagerID", "1002"),
			want: identity.AttrsOf(map[string]string{"displayName": "Ana María de la Cruz", "userPrincipalName": "anamaria.delacruz@contoso.com",
				"mailNickname": "anamaria.delacruz", "department": "Engineering", "accountEnabled": "true",
				"employeeHireDate": "2021-03-01T00:00:00Z", "employeeId": "1007"}),
			manager: "1002",
		},
		{
			name: "inactive, no manager, empty department",
			rec: record(3, "WorkerID", "00123", "FirstName", "Zoë", "LastName", "Müller", "Department", "",
				"WorkerStatus", "Inactive", "HireDate", "", "ManagerID", ""),
			want: identity.AttrsOf(map[string]string{"displayName": "Zoë Müller", "userPrincipalName": "zoe.muller@contoso.com",
				"mailNickname": "zoe.muller", "accountEnabled": "false", "employeeId": "00123"}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := m.Map(tt.rec, testNow)
			if err != nil {
				t.Fatal(err)
			}
			if d.Key != tt.want.Get("employeeId") || d.ManagerKey != tt.manager || d.Prov != tt.rec.Prov {
				t.Errorf("key %q manager %q prov %v", d.Key, d.ManagerKey, d.Prov)
			}
			if d.Attrs.Len() != tt.want.Len() {
				t.Errorf("attrs = %v, want %v", d.Attrs, tt.want)
			}
			for k, v := range tt.want.All() {
				if d.Attrs.Get(k) != v {
					t.Errorf("%s = %q, want %q", k, d.Attrs.Get(k), v)
				}
			}
		})
	}
}

func TestMapRecordErrors(t *testing.T) {
	m, err := Parse("example.yaml", []byte(exampleMapping), identity.EntraSchema())
	if err != nil {
		t.Fatal(err)
	}
	base := []string{"FirstName", "A", "LastName", "B", "Department", "D", "WorkerStatus", "Active", "ManagerID", ""}
	tests := []struct {
		name, wantKey, wantAttr, wantMsg string
		kv                               []string
	}{
		{"empty key", "", "match.source", "empty", append([]string{"WorkerID", "  ", "HireDate", ""}, base...)},
		{"key too long for employeeId", "", "match.source", "at most 16", append([]string{"WorkerID", "12345678901234567", "HireDate", ""}, base...)},
		{"bad date keeps the key", "42", "employeeHireDate", "not a date", append([]string{"WorkerID", "42", "HireDate", "31/31/2020"}, base...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := m.Map(record(7, tt.kv...), testNow)
			var re *RecordError
			if !errors.As(err, &re) {
				t.Fatalf("err = %v, want *RecordError", err)
			}
			if re.Key != tt.wantKey || re.Attr != tt.wantAttr || !strings.Contains(err.Error(), tt.wantMsg) || !strings.Contains(err.Error(), "hr.csv:7") {
				t.Errorf("err = %v (key %q attr %q)", err, re.Key, re.Attr)
			}
		})
	}
}

func TestParseErrorsNameFileAndLine(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"unknown attribute", "match:\n  source: '[Id]'\n  target: employeeId\nattributes:\n  departmnt: '[D]'\n", "m.yaml:5: departmnt: unknown Entra ID attribute"},
		{"syntax error", "match:\n  source: '[Id]'\n  target: employeeId\nattributes:\n  displayName: 'Join(\" \", [A]'\n", "m.yaml:5: displayName:"},
		{"unknown function", "match:\n  source: '[Id]'\n  target: employeeId\nattributes:\n  displayName: 'Jion(\" \", [A])'\n", "Jion"},
		{"bad match target", "match:\n  source: '[Id]'\n  target: department\nattributes:\n  displayName: '[A]'\n", "m.yaml:3: match.target"},
		{"no attributes", "match:\n  source: '[Id]'\n  target: employeeId\n", "missing attributes"},
		{"unknown top key", "match:\n  source: '[Id]'\n  target: employeeId\nattributes:\n  displayName: '[A]'\nscoping: x\n", "m.yaml:6: unknown key \"scoping\""},
		{"mapped twice", "match:\n  source: '[Id]'\n  target: employeeId\nattributes:\n  displayName: '[A]'\n  DisplayName: '[B]'\n", "mapped twice (first at line 5)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("m.yaml", []byte(tt.src), identity.EntraSchema())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestCheckFields(t *testing.T) {
	m, err := Parse("example.yaml", []byte(exampleMapping), identity.EntraSchema())
	if err != nil {
		t.Fatal(err)
	}
	h := identity.NewHeader([]string{"WorkerID", "FirstName", "LastName", "Department", "WorkerStatus", "HireDate"})
	err = m.CheckFields(h, "hr.csv")
	if err == nil || !strings.Contains(err.Error(), "example.yaml:11: manager: field [ManagerID] is not a column of hr.csv") {
		t.Fatalf("err = %v", err)
	}
	h = identity.NewHeader([]string{"workerid", "FirstName", "LastName", "Department", "WorkerStatus", "HireDate", "ManagerID"})
	if err := m.CheckFields(h, "hr.csv"); err != nil {
		t.Fatalf("case-insensitive column match failed: %v", err)
	}
}

func TestCanonical(t *testing.T) {
	s := identity.EntraSchema()
	tests := []struct {
		attr, in, want string
		wantErr        bool
	}{
		{"accountEnabled", "True", "true", false},
		{"accountEnabled", "FALSE", "false", false},
		{"accountEnabled", "Actve", "", true},
		{"employeeHireDate", "2020-01-31", "2020-01-31T00:00:00Z", false},
		{"employeeHireDate", "2020-01-31T10:00:00+02:00", "2020-01-31T08:00:00Z", false},
		{"department", "  Sales ", "Sales", false},
		{"usageLocation", "USA", "", true},
		{"usageLocation", "UK", "", true},
		{"usageLocation", "gb", "", true},
		{"usageLocation", "GB", "GB", false},
		{"department", "", "", false},
	}
	for _, tt := range tests {
		spec, _ := s.Lookup(tt.attr)
		got, err := Canonical(spec, tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("Canonical(%s, %q) = %q, %v", tt.attr, tt.in, got, err)
		}
	}
}

func TestMappingFileSlips(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"unquoted match source", "match:\n  source: [WorkerID]\n  target: employeeId\nattributes:\n  displayName: '[A]'\n", "m.yaml:2: match.source: YAML read this value as a list: quote the expression"},
		{"unquoted attribute", "match:\n  source: '[Id]'\n  target: employeeId\nattributes:\n  displayName: [A]\n", "m.yaml:5: displayName: YAML read this value as a list"},
		{"a random value on every run", "match:\n  source: '[Id]'\n  target: employeeId\nattributes:\n  jobTitle: 'Append([T], RandomString(4, 0, 0, 0, 4))'\n", "m.yaml:5: jobTitle: RandomString gives a new value on every evaluation"},
		{"unique values only for addresses", "match:\n  source: '[Id]'\n  target: employeeId\nattributes:\n  department: 'SelectUniqueValue([A], [B])'\n", "m.yaml:5: department: SelectUniqueValue only picks values for userPrincipalName, mail, mailNickname"},
		{"unique values only at the top", "match:\n  source: '[Id]'\n  target: employeeId\nattributes:\n  userPrincipalName: 'ToLower(SelectUniqueValue([A], [B]))'\n", "m.yaml:5: userPrincipalName"},
		{"unique value cannot be a key", "match:\n  - source: '[Id]'\n    target: employeeId\n  - source: 'SelectUniqueValue([A], [B])'\n    target: mail\nattributes:\n  displayName: '[A]'\n", "SelectUniqueValue cannot give a match key"},
		{"UPN as a second rule is fine, twice is not", "match:\n  - source: '[Id]'\n    target: employeeId\n  - source: '[Mail]'\n    target: userPrincipalName\n  - source: '[Mail2]'\n    target: userPrincipalName\nattributes:\n  displayName: '[A]'\n", "m.yaml:6: match: a second rule on userPrincipalName (first at line 4)"},
		{"department is no match attribute", "match:\n  - source: '[Id]'\n    target: employeeId\n  - source: '[D]'\n    target: department\nattributes:\n  displayName: '[A]'\n", "\"department\" cannot be a match attribute; use one of employeeId, userPrincipalName, mail, mailNickname"},
		{"unknown apply mode", "match:\n  source: '[Id]'\n  target: employeeId\nattributes:\n  jobTitle:\n    expression: '[T]'\n    apply: sometimes\n", "m.yaml:7: jobTitle: unknown apply mode \"sometimes\""},
		{"when_empty on accountEnabled", "match:\n  source: '[Id]'\n  target: employeeId\nattributes:\n  accountEnabled:\n    expression: 'True'\n    apply: when_empty\n", "when_empty does not suit"},
		{"scope operator unknown", "match:\n  source: '[Id]'\n  target: employeeId\nscope:\n  - field: Status\n    operator: LIKE\n    value: A\nattributes:\n  displayName: '[A]'\n", "m.yaml:6: scope: unknown operator \"LIKE\""},
		{"scope value missing", "match:\n  source: '[Id]'\n  target: employeeId\nscope:\n  - field: Status\n    operator: EQUALS\nattributes:\n  displayName: '[A]'\n", "m.yaml:5: scope: EQUALS needs a value"},
		{"scope number", "match:\n  source: '[Id]'\n  target: employeeId\nscope:\n  - field: Grade\n    operator: Greater_Than\n    value: high\nattributes:\n  displayName: '[A]'\n", "GREATER_THAN compares whole numbers"},
		{"scope regex", "match:\n  source: '[Id]'\n  target: employeeId\nscope:\n  - field: Grade\n    operator: REGEX MATCH\n    value: '('\nattributes:\n  displayName: '[A]'\n", "bad regular expression"},
		{"UPN cannot be the match attribute", "match:\n  source: '[Mail]'\n  target: userPrincipalName\nattributes:\n  displayName: '[A]'\n", "cannot be a match attribute for the first rule"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("m.yaml", []byte(tt.src), identity.EntraSchema())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestCanonicalRejectsControlCharacters(t *testing.T) {
	spec, _ := identity.EntraSchema().Lookup("surname")
	for _, v := range []string{"Cruz\n\n  - disable 1001", "a\x1b[31mred", "tab\there", "line\u2028sep"} {
		if _, err := Canonical(spec, v); err == nil || !strings.Contains(err.Error(), "control character") {
			t.Errorf("Canonical(%q) = %v", v, err)
		}
	}
}

func TestMapEnablementAndIgnoredFlow(t *testing.T) {
	src := `match:
  source: '[WorkerID]'
  target: employeeId
attributes:
  displayName: '[Name]'
  department: 'IgnoreFlowIfNullOrEmpty([Dept])'
  accountEnabled: 'Switch([Status], "", "Active", "True", "Inactive", "False")'
`
	m, err := Parse("m.yaml", []byte(src), identity.EntraSchema())
	if err != nil {
		t.Fatal(err)
	}
	d, err := m.Map(record(2, "WorkerID", "1", "Name", "Jose\u0301", "Dept", "", "Status", "Active"), testNow)
	if err != nil {
		t.Fatal(err)
	}
	if !d.IsIgnored("department") || d.Attrs.Get("department") != "" || d.Attrs.Get("accountEnabled") != "true" {
		t.Errorf("desired = %+v", d)
	}
	if d.Attrs.Get("displayName") != "José" {
		t.Errorf("displayName %q is not NFC", d.Attrs.Get("displayName"))
	}
	_, err = m.Map(record(3, "WorkerID", "2", "Name", "X", "Dept", "IT", "Status", "Terminated"), testNow)
	if err == nil || !strings.Contains(err.Error(), "accountEnabled") || !strings.Contains(err.Error(), "must give True or False") {
		t.Errorf("unknown status: %v", err)
	}
}

func TestIgnoredEnablementIsStillAnError(t *testing.T) {
	src := "match:\n  source: '[Id]'\n  target: employeeId\nattributes:\n  accountEnabled: 'IgnoreFlowIfNullOrEmpty(Switch([S], \"\", \"Active\", \"True\"))'\n  manager: 'IgnoreFlowIfNullOrEmpty([M])'\n"
	m, err := Parse("m.yaml", []byte(src), identity.EntraSchema())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Map(record(2, "Id", "1", "S", "Terminated", "M", ""), testNow); err == nil || !strings.Contains(err.Error(), "must give True or False") {
		t.Errorf("err = %v", err)
	}
	d, err := m.Map(record(3, "Id", "2", "S", "Active", "M", ""), testNow)
	if err != nil || !d.IsIgnored("manager") {
		t.Errorf("manager not ignored: %+v %v", d, err)
	}
}

// A mis-indented line is reported where it is, not where the YAML parser
// noticed it.
func TestMisindentedLineIsNamed(t *testing.T) {
	src := "match:\n  source: '[Id]'\n  target: employeeId\nattributes:\n  displayName: '[A]'\n  givenName: '[B]'\n  surname: '[C]'\n   jobTitle: '[D]'\n  department: '[E]'\n"
	_, err := Parse("m.yaml", []byte(src), identity.EntraSchema())
	if err == nil || !strings.Contains(err.Error(), "m.yaml:8: ") || !strings.Contains(err.Error(), "noticed it at line 4") {
		t.Fatalf("err = %v", err)
	}
}
