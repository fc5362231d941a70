package mapping

import (
	"strings"
	"testing"

	"github.com/hrsync/hrsync/internal/identity"
)

const ruleHead = "match:\n  source: '[Id]'\n  target: employeeId\nattributes:\n  displayName: '[Id]'\n"

func TestEntitlementRules(t *testing.T) {
	m := mustParse(t, ruleHead+`groups:
  - group: All Staff
  - group: Contractors
    when: 'IIF([Type]="Contractor", "True", "False")'
  - source: '[Dept]'
    map:
      Sales: Sales Team
      Engineering: 0b8c4a53-5f7e-4d3c-9a0e-2d1b1c6b7a10
  - group: all staff
licenses:
  - source: '[Type]'
    map:
      Employee: SPE_E3
`)
	if got := strings.Join(m.GroupRefs(), "|"); got != "All Staff|Contractors|Sales Team|0b8c4a53-5f7e-4d3c-9a0e-2d1b1c6b7a10" {
		t.Errorf("group refs %s", got)
	}
	tests := []struct {
		name, typ, dept, groups, licenses string
		misses                            int
	}{
		{"employee in sales", "Employee", "Sales", "All Staff|Sales Team", "SPE_E3", 0},
		{"contractor in engineering, department in another case", "Contractor", "engineering", "All Staff|Contractors|0b8c4a53-5f7e-4d3c-9a0e-2d1b1c6b7a10", "", 1},
		{"a department the map does not list", "Employee", "Marketing", "All Staff", "SPE_E3", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := m.Map(record(2, "Id", "7", "Type", tt.typ, "Dept", tt.dept), testNow)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(d.Groups(), "|"); got != tt.groups {
				t.Errorf("groups %s, want %s", got, tt.groups)
			}
			if got := strings.Join(d.Licenses(), "|"); got != tt.licenses {
				t.Errorf("licenses %s, want %s", got, tt.licenses)
			}
			if len(d.RuleMisses()) != tt.misses {
				t.Errorf("misses %v", d.RuleMisses())
			}
		})
	}
	if err := m.CheckFields(identity.NewHeader([]string{"Id", "Type"}), "hr.csv"); err == nil || !strings.Contains(err.Error(), "[Dept]") {
		t.Errorf("a rule's missing column: %v", err)
	}
}

func TestEntitlementRuleErrors(t *testing.T) {
	tests := []struct{ rules, want string }{
		{"groups:\n  - group: A\n    source: '[X]'\n    map: {a: b}\n", "either group or source and map"},
		{"groups:\n  - source: '[X]'\n", "needs group, or both source and map"},
		{"groups:\n  - group: ''\n", "must name one group"},
		{"groups:\n  - group: A\n    colour: red\n", `unknown key "colour"`},
		{"groups: All Staff\n", "is a list of rules"},
		{"licenses:\n  - source: '[X]'\n    map:\n      a: ''\n", `map entry "a" must name one license`},
		{"groups:\n  - group: A\n    when: 'Bad('\n", "groups when"},
		{"groups:\n  - All Staff\n", "a rule has the keys group, or source and map, and optionally when"},
		{"licenses:\n  - sku: [a, b]\n", "sku must name one license by id or name"},
		{"groups:\n  - source: [X]\n    map: {a: b}\n", "m.yaml:7: groups: YAML read this value as a list: quote the expression"},
		{"groups:\n  - source: 'Join(\"-\", [X]'\n    map: {a: b}\n", `m.yaml:7: groups: col 1: Join: missing ")" to close the call`},
		{"groups:\n  - source: '[X]'\n    map:\n      a: A\n      a: B\n", `m.yaml:10: groups: map entry "a" is listed twice`},
		{"groups:\n  - source: '[X]'\n    map: [a, b]\n", "map lists source values and the group each one gets"},
		{"groups:\n  - source: '[X]'\n    map: {}\n", "map lists source values and the group each one gets"},
		// Every mistake of a rule is reported, not only the first.
		{"groups:\n  - source: '[X]'\n    map:\n      a: ''\n      b: ''\n    colour: red\n", `map entry "b" must name one group`},
		{"groups:\n  - source: '[X]'\n    map:\n      a: ''\n      b: ''\n    colour: red\n", `unknown key "colour"`},
	}
	for _, tt := range tests {
		_, err := Parse("m.yaml", []byte(ruleHead+tt.rules), identity.EntraSchema())
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: err = %v, want %q", tt.rules, err, tt.want)
		}
		if err != nil && !strings.Contains(err.Error(), "m.yaml:") {
			t.Errorf("%q: error without a line: %v", tt.rules, err)
		}
	}
}
