package mapping

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hrsync/hrsync/internal/identity"
)

func mustParse(t *testing.T, src string) *Mapping {
	t.Helper()
	m, err := Parse("m.yaml", []byte(src), identity.EntraSchema())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestScopeOperators(t *testing.T) {
	tests := []struct {
		op, value, field string // field "" means the cell is empty
		want             bool
	}{
		{"EQUALS", "Active", "Active", true},
		{"EQUALS", "Active", "active", false}, // case-sensitive, as Entra
		{"NOT EQUALS", "Active", "Leave", true},
		{"IS NULL", "", "", true},
		{"IS NULL", "", "x", false},
		{"IS NOT NULL", "", "x", true},
		{"IS TRUE", "", "true", true},
		{"IS TRUE", "", "1", true},
		{"IS TRUE", "", "", false},
		{"IS FALSE", "", "False", true},
		{"REGEX MATCH", "^E[0-9]+$", "E123", true},
		{"REGEX MATCH", "^E[0-9]+$", "C123", false},
		{"NOT REGEX MATCH", "^C", "E1", true},
		{"Greater_Than", "5", "6", true},
		{"Greater_Than", "5", "5", false},
		{"Greater_Than_OR_EQUALS", "5", "5", true},
		{"Less_Than", "5", "4", true},
		{"Less_Than_OR_EQUALS", "5", "6", false},
		{"Less_Than", "5", "", false},
		{"Includes", "Sales", "Inside Sales EMEA", true},
		{"Includes", "sales", "Inside Sales", false},
		{"ENDS_WITH", "@contoso.com", "a@contoso.com", true},
		{"ends with", "x", "xy", false},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%s %q on %q", tt.op, tt.value, tt.field)
		t.Run(name, func(t *testing.T) {
			clause := fmt.Sprintf("  - field: F\n    operator: %s\n", tt.op)
			if needs, _ := canonicalOperator(tt.op); needsValue(needs) {
				clause += fmt.Sprintf("    value: '%s'\n", tt.value)
			}
			m := mustParse(t, "match:\n  source: '[Id]'\n  target: employeeId\nscope:\n"+clause+"attributes:\n  displayName: '[Id]'\n")
			got, err := m.InScope(record(2, "Id", "1", "F", tt.field))
			if err != nil {
				t.Fatal(err)
			}
			if got.In != tt.want {
				t.Fatalf("in scope = %v (%s), want %v", got.In, got.Why, tt.want)
			}
		})
	}
}

func TestScopeGroupsAreOrOfAnds(t *testing.T) {
	m := mustParse(t, `match:
  source: '[Id]'
  target: employeeId
scope:
  - - {field: Type, operator: EQUALS, value: Employee}
    - {field: Country, operator: NOT EQUALS, value: US}
  - - {field: Contractor, operator: IS TRUE}
attributes:
  displayName: '[Id]'
`)
	tests := []struct {
		typ, country, contractor string
		want                     bool
	}{
		{"Employee", "GB", "false", true},
		{"Employee", "US", "false", false},
		{"Intern", "GB", "false", false},
		{"Intern", "US", "true", true},
	}
	for _, tt := range tests {
		r, err := m.InScope(record(2, "Id", "1", "Type", tt.typ, "Country", tt.country, "Contractor", tt.contractor))
		if err != nil {
			t.Fatal(err)
		}
		if r.In != tt.want {
			t.Errorf("%v: in = %v (%s)", tt, r.In, r.Why)
		}
	}
}

func TestScopeExpressionAndOutOfScopeRecords(t *testing.T) {
	m := mustParse(t, `match:
  source: '[Id]'
  target: employeeId
scope: 'IIF([Status]="Active", "True", "False")'
attributes:
  displayName: '[Missing]'
`)
	d, err := m.Map(record(3, "Id", "7", "Status", "Left", "Missing", ""), testNow)
	if err != nil {
		t.Fatal(err)
	}
	if !d.OutOfScope || d.Key != "7" {
		t.Fatalf("desired = %+v, want key 7 out of scope", d)
	}
	// Kept like an in-scope record's: the key in the match attribute, sealed
	// (the key a copy, not a slice of the record it came from).
	if d.Attrs.Get("employeeId") != "7" || d.Attrs.String() != "map[employeeId:7]" {
		t.Errorf("out-of-scope attributes = %v, want only employeeId 7", d.Attrs)
	}
	if _, err := m.InScope(record(3, "Id", "7", "Status", "Active")); err != nil {
		t.Fatal(err)
	}
	bad := mustParse(t, "match:\n  source: '[Id]'\n  target: employeeId\nscope: '[Status]'\nattributes:\n  displayName: '[Id]'\n")
	if _, err := bad.Map(record(4, "Id", "8", "Status", "maybe"), testNow); err == nil || !strings.Contains(err.Error(), "True or False") {
		t.Fatalf("non-boolean scope: %v", err)
	}
}

func TestAltKeysApplyModesAndCandidates(t *testing.T) {
	m := mustParse(t, `match:
  - source: '[Id]'
    target: employeeId
  - source: 'Append(ToLower([First]), "@contoso.com")'
    target: userPrincipalName
attributes:
  displayName: '[First]'
  userPrincipalName: 'SelectUniqueValue(Append(ToLower([First]), "@contoso.com"), Append(ToLower([First]), "1@contoso.com"), Append(ToLower([First]), "@contoso.com"))'
  jobTitle:
    expression: '[Title]'
    apply: when_empty
  department:
    expression: '[Dept]'
    apply: on_create
`)
	d, err := m.Map(record(2, "Id", "1", "First", "Ann", "Title", "Dev", "Dept", "R&D"), testNow)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(d.AltKeys()) != "[ann@contoso.com]" {
		t.Errorf("alt keys = %v", d.AltKeys())
	}
	if got := fmt.Sprint(d.Candidates()["userPrincipalName"]); got != "[ann@contoso.com ann1@contoso.com]" {
		t.Errorf("candidates = %s (duplicates dropped, order kept)", got)
	}
	if d.Attrs.Get("userPrincipalName") != "ann@contoso.com" {
		t.Errorf("provisional UPN = %q", d.Attrs.Get("userPrincipalName"))
	}
	modes := map[string]string{}
	for _, a := range m.Attrs {
		modes[a.Spec.Name] = fmt.Sprintf("%s create_only=%v when_empty=%v", a.Apply, a.Spec.CreateOnly, a.Spec.WhenEmpty)
	}
	if modes["jobTitle"] != "when_empty create_only=false when_empty=true" || modes["department"] != "on_create create_only=true when_empty=false" {
		t.Errorf("modes = %v", modes)
	}
	if len(m.Rules) != 2 || m.Match.Target.Name != "employeeId" {
		t.Errorf("rules = %+v", m.Rules)
	}
}

func TestRedactIsRecorded(t *testing.T) {
	m := mustParse(t, "match:\n  source: '[Id]'\n  target: employeeId\nattributes:\n  displayName: '[Id]'\n  employeeType: 'Redact([Type])'\n")
	d, err := m.Map(record(2, "Id", "1", "Type", "Secret"), testNow)
	if err != nil {
		t.Fatal(err)
	}
	if !d.IsRedacted("employeeType") || d.Attrs.Get("employeeType") != "Secret" || d.IsRedacted("displayName") {
		t.Fatalf("desired = %+v", d)
	}
}

func TestRedactedValueNotInErrors(t *testing.T) {
	m := mustParse(t, "match:\n  source: '[Id]'\n  target: employeeId\nattributes:\n  displayName: '[Id]'\n  employeeType: 'Redact([Type])'\n")
	_, err := m.Map(record(2, "Id", "1", "Type", "Secret\x01Value"), testNow)
	if err == nil || strings.Contains(err.Error(), "Secret") || !strings.Contains(err.Error(), "redacted") {
		t.Fatalf("err = %v", err)
	}
}
