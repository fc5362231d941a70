package plan

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hrsync/hrsync/internal/identity"
)

var testNow = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

func specs(names ...string) []identity.AttrSpec {
	s := identity.EntraSchema()
	var out []identity.AttrSpec
	for _, n := range names {
		a, ok := s.Lookup(n)
		if !ok {
			panic(n)
		}
		out = append(out, a)
	}
	return out
}

var stdAttrs = specs("displayName", "userPrincipalName", "mailNickname", "department", "accountEnabled", "employeeId")

func rec(key string, line int, kv ...string) identity.Desired {
	d := identity.Desired{Key: key, Attrs: identity.AttrsOf(map[string]string{"employeeId": key}), Prov: identity.Provenance{File: "hr.csv", Line: line}}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i] == "manager" {
			d.ManagerKey = kv[i+1]
			continue
		}
		d.Attrs.Set(kv[i], kv[i+1])
	}
	return d
}

func person(key string, line int, name, dept string, kv ...string) identity.Desired {
	first := strings.ToLower(strings.ReplaceAll(name, " ", "."))
	return rec(key, line, append([]string{"displayName", name, "userPrincipalName", first + "@contoso.com",
		"mailNickname", first, "department", dept, "accountEnabled", "true"}, kv...)...)
}

func user(id, key string, kv ...string) identity.User {
	u := identity.User{ID: id, Attrs: identity.AttrsOf(map[string]string{})}
	if key != "" {
		u.Attrs.Set("employeeId", key)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i] == "manager" {
			u.ManagerID = kv[i+1]
			continue
		}
		u.Attrs.Set(kv[i], kv[i+1])
	}
	return u
}

func existing(id string, d identity.Desired, kv ...string) identity.User {
	u := identity.User{ID: id, Attrs: identity.AttrsOf(map[string]string{})}
	for k, v := range d.Attrs.All() {
		u.Attrs.Set(k, v)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i] == "manager" {
			u.ManagerID = kv[i+1]
			continue
		}
		u.Attrs.Set(kv[i], kv[i+1])
	}
	return u
}

func input(desired []identity.Desired, users []identity.User) Input {
	return Input{
		Records:       len(desired),
		Desired:       desired,
		Users:         users,
		Schema:        identity.EntraSchema(),
		MatchAttr:     "employeeId",
		Attrs:         stdAttrs,
		ManagerMapped: true,
		Policy:        Policy{Leavers: "disable", MaxLeavers: 100, MaxLeaversPercent: 20},
		Now:           testNow,
	}
}

func actionsOf(p *Plan) []string {
	var out []string
	for _, a := range p.Actions {
		out = append(out, a.Action+" "+a.Key)
	}
	return out
}

func codesOf(p *Plan) []string {
	var out []string
	for _, w := range p.Warnings {
		out = append(out, w.Code+" "+w.Key)
	}
	return out
}

func changesOf(a Action) map[string][2]string {
	out := map[string][2]string{}
	for _, c := range a.Changes {
		var b, f string
		if c.Before != nil {
			b = *c.Before
		} else {
			b = "<nil>"
		}
		if c.After != nil {
			f = *c.After
		} else {
			f = "<nil>"
		}
		out[c.Attribute] = [2]string{b, f}
	}
	return out
}

func TestComputeActions(t *testing.T) {
	ann := person("1001", 2, "Ann Lee", "Sales")
	bob := person("1002", 3, "Bob Ray", "IT", "manager", "1001")
	tests := []struct {
		name     string
		in       Input
		actions  []string
		warnings []string
		check    func(t *testing.T, p *Plan)
	}{
		{
			name:    "joiner is created with every mapped attribute and enabled",
			in:      input([]identity.Desired{ann}, nil),
			actions: []string{"create 1001"},
			check: func(t *testing.T, p *Plan) {
				ch := changesOf(p.Actions[0])
				if ch["userPrincipalName"][1] != "ann.lee@contoso.com" || ch["accountEnabled"][1] != "true" || ch["employeeId"][1] != "1001" {
					t.Errorf("create changes = %v", ch)
				}
				if p.Actions[0].Source == nil || p.Actions[0].Source.Line != 2 {
					t.Errorf("create source = %v, want line 2", p.Actions[0].Source)
				}
			},
		},
		{
			name:    "matched user with equal attributes is unchanged",
			in:      input([]identity.Desired{ann}, []identity.User{existing("u1", ann)}),
			actions: nil,
			check: func(t *testing.T, p *Plan) {
				if p.Summary.Unchanged != 1 || p.Summary.Changes() != 0 {
					t.Errorf("summary = %+v", p.Summary)
				}
			},
		},
		{
			name:    "department change is one update with before and after",
			in:      input([]identity.Desired{ann}, []identity.User{existing("u1", ann, "department", "Marketing")}),
			actions: []string{"update 1001"},
			check: func(t *testing.T, p *Plan) {
				ch := changesOf(p.Actions[0])
				if len(ch) != 1 || ch["department"] != [2]string{"Marketing", "Sales"} {
					t.Errorf("changes = %v", ch)
				}
				if p.Actions[0].ID != "u1" || p.Actions[0].Fingerprint == "" {
					t.Errorf("action = %+v", p.Actions[0])
				}
			},
		},
		{
			name:    "create-only attributes are never patched",
			in:      input([]identity.Desired{ann}, []identity.User{existing("u1", ann, "userPrincipalName", "ann.old@contoso.com", "mailNickname", "annold")}),
			actions: nil,
		},
		{
			name:    "empty HR value clears an Entra value, and unset equals empty",
			in:      input([]identity.Desired{rec("1001", 2, "displayName", "Ann", "department", "")}, []identity.User{user("u1", "1001", "displayName", "Ann", "department", "Sales")}),
			actions: []string{"update 1001"},
			check: func(t *testing.T, p *Plan) {
				if ch := changesOf(p.Actions[0]); ch["department"] != [2]string{"Sales", "<nil>"} || len(ch) != 1 {
					t.Errorf("changes = %v", ch)
				}
			},
		},
		{
			name: "user absent from the source is disabled, admins and disabled users left alone",
			in: input([]identity.Desired{ann}, []identity.User{
				existing("u1", ann), user("u2", "1009", "accountEnabled", "true", "displayName", "Gone"),
				user("u3", "1010", "accountEnabled", "false"), user("admin", "", "accountEnabled", "true"),
			}),
			actions: []string{"disable 1009"},
			check: func(t *testing.T, p *Plan) {
				if a := p.Actions[0]; a.Reason != "absent from source" || a.ID != "u2" || changesOf(a)["accountEnabled"][1] != "false" {
					t.Errorf("leaver = %+v", a)
				}
				if p.Summary.Managed != 3 {
					t.Errorf("managed = %d, want 3", p.Summary.Managed)
				}
			},
		},
		{
			name: "leaver policy ignore plans no disables",
			in: func() Input {
				in := input([]identity.Desired{ann}, []identity.User{existing("u1", ann), user("u2", "1009", "accountEnabled", "true")})
				in.Policy.Leavers = "ignore"
				return in
			}(),
			actions: nil,
		},
		{
			name: "duplicate keys are reported with every line, left out, and their user is not a leaver",
			in: input([]identity.Desired{person("1005", 4, "X One", "A"), ann, person("1005", 9, "X Two", "B")},
				[]identity.User{existing("u1", ann), user("u5", "1005", "accountEnabled", "true")}),
			actions:  nil,
			warnings: []string{"duplicate_key 1005"},
			check: func(t *testing.T, p *Plan) {
				w := p.Warnings[0]
				if len(w.Sources) != 2 || w.Sources[0].Line != 4 || w.Sources[1].Line != 9 || !strings.Contains(w.Message, "hr.csv:4, hr.csv:9") {
					t.Errorf("warning = %+v", w)
				}
				if p.Summary.Skipped != 2 {
					t.Errorf("skipped = %d", p.Summary.Skipped)
				}
			},
		},
		{
			name: "a record that failed to map protects its user from becoming a leaver",
			in: func() Input {
				in := input([]identity.Desired{ann}, []identity.User{existing("u1", ann), user("u7", "1007", "accountEnabled", "true")})
				in.Rejected = []Rejected{{Prov: identity.Provenance{File: "hr.csv", Line: 7}, Key: "1007", Reason: "hr.csv:7: displayName: boom"}}
				in.Records = 2
				return in
			}(),
			actions:  nil,
			warnings: []string{"record_error 1007"},
		},
		{
			name: "a record without a key suppresses every leaver",
			in: func() Input {
				in := input([]identity.Desired{ann}, []identity.User{existing("u1", ann), user("u7", "1007", "accountEnabled", "true")})
				in.Rejected = []Rejected{{Prov: identity.Provenance{File: "hr.csv", Line: 7}, Reason: "match key empty"}}
				in.Records = 2
				return in
			}(),
			actions:  nil,
			warnings: []string{"leavers_suppressed ", "no_match_key "},
		},
		{
			name:    "manager created in the same plan is referenced by key",
			in:      input([]identity.Desired{bob, ann}, nil),
			actions: []string{"create 1001", "create 1002"},
			check: func(t *testing.T, p *Plan) {
				if m := p.Actions[1].Manager; m == nil || m.Key != "1001" || m.ID != "" {
					t.Errorf("manager = %+v", m)
				}
			},
		},
		{
			name:    "manager resolved to the existing user's id; unchanged manager is no change",
			in:      input([]identity.Desired{bob, ann}, []identity.User{existing("u1", ann), existing("u2", bob, "manager", "u1")}),
			actions: nil,
		},
		{
			name:    "manager change shows keys before and after",
			in:      input([]identity.Desired{bob, ann, person("1003", 4, "Cy Dee", "IT")}, []identity.User{existing("u1", ann), existing("u2", bob, "manager", "u3"), existing("u3", person("1003", 4, "Cy Dee", "IT"))}),
			actions: []string{"update 1002"},
			check: func(t *testing.T, p *Plan) {
				if ch := changesOf(p.Actions[0]); ch["manager"] != [2]string{"1003", "1001"} {
					t.Errorf("changes = %v", ch)
				}
				if m := p.Actions[0].Manager; m == nil || m.ID != "u1" {
					t.Errorf("manager = %+v", m)
				}
			},
		},
		{
			name:     "dangling and self manager references are reported and leave the manager alone",
			in:       input([]identity.Desired{person("1001", 2, "Ann Lee", "Sales", "manager", "1001"), person("1002", 3, "Bob Ray", "IT", "manager", "9999")}, nil),
			actions:  []string{"create 1001", "create 1002"},
			warnings: []string{"manager_not_found 1002", "manager_self 1001"},
			check: func(t *testing.T, p *Plan) {
				for _, a := range p.Actions {
					if a.Manager != nil {
						t.Errorf("%s has manager %+v", a.Key, a.Manager)
					}
				}
			},
		},
		{
			name:     "joiner whose UPN an existing account holds is left out",
			in:       input([]identity.Desired{ann}, []identity.User{user("x", "", "userPrincipalName", "Ann.Lee@contoso.com")}),
			actions:  nil,
			warnings: []string{"upn_conflict 1001"},
		},
		{
			name:     "two joiners with one UPN: the second is left out",
			in:       input([]identity.Desired{ann, person("1002", 3, "Ann Lee", "IT")}, nil),
			actions:  []string{"create 1001"},
			warnings: []string{"upn_conflict 1002"},
		},
		{
			name:     "joiner with an invalid UPN is left out",
			in:       input([]identity.Desired{rec("1001", 2, "displayName", "Zoë", "mailNickname", "zoe", "userPrincipalName", "zoë@contoso.com")}, nil),
			actions:  nil,
			warnings: []string{"cannot_create 1001"},
		},
		{
			name:    "inactive worker without an account is not created",
			in:      input([]identity.Desired{person("1001", 2, "Ann Lee", "Sales", "accountEnabled", "false")}, nil),
			actions: nil,
			check: func(t *testing.T, p *Plan) {
				if p.Summary.Skipped != 1 {
					t.Errorf("skipped = %d", p.Summary.Skipped)
				}
			},
		},
		{
			name: "inactive worker is created disabled when the policy says so",
			in: func() Input {
				in := input([]identity.Desired{person("1001", 2, "Ann Lee", "Sales", "accountEnabled", "false")}, nil)
				in.Policy.CreateDisabled = true
				return in
			}(),
			actions: []string{"create 1001"},
		},
		{
			name:    "status change to inactive disables, back to active enables",
			in:      input([]identity.Desired{person("1001", 2, "Ann Lee", "Sales", "accountEnabled", "false"), bob}, []identity.User{existing("u1", ann), existing("u2", bob, "accountEnabled", "false", "manager", "u1")}),
			actions: []string{"enable 1002", "disable 1001"},
		},
		{
			name:    "keys match without regard to case and spaces",
			in:      input([]identity.Desired{person("a1001", 2, "Ann Lee", "Sales")}, []identity.User{existing("u1", person("A1001 ", 2, "Ann Lee", "Sales"))}),
			actions: []string{"update a1001"},
			check: func(t *testing.T, p *Plan) {
				if ch := changesOf(p.Actions[0]); len(ch) != 1 || ch["employeeId"] != [2]string{"A1001 ", "a1001"} {
					t.Errorf("changes = %v", ch)
				}
			},
		},
		{
			name:     "a leaver whose UPN a joiner wants is probably re-keyed, and not disabled",
			in:       input([]identity.Desired{person("00123", 2, "Ann Lee", "Sales")}, []identity.User{existing("u1", person("123", 2, "Ann Lee", "Sales"))}),
			actions:  nil,
			warnings: []string{"possible_rekey 123", "upn_conflict 00123"},
		},
		{
			name: "same name, other hire date (rehire or namesake): held, with a warning",
			in: withAttrs(specs("displayName", "userPrincipalName", "mailNickname", "department", "accountEnabled", "employeeId", "employeeHireDate"),
				[]identity.Desired{person("1048", 2, "John Smith", "IT", "employeeHireDate", "2026-11-02T00:00:00Z")},
				[]identity.User{existing("u3", person("1003", 2, "John Smith", "Sales", "employeeHireDate", "2019-08-05T00:00:00Z"))}),
			actions:  nil,
			warnings: []string{"possible_rekey 1003", "upn_conflict 1048"},
		},
		{
			name: "another name wanting the address: disabled, with a warning",
			in: input([]identity.Desired{rec("2003", 2, "displayName", "Joan Smith", "userPrincipalName", "john.smith@contoso.com", "mailNickname", "jsmith", "accountEnabled", "true")},
				[]identity.User{existing("u3", person("1003", 2, "John Smith", "Sales"))}),
			actions:  []string{"disable 1003"},
			warnings: []string{"possible_rekey 1003", "upn_conflict 2003"},
		},
		{
			name: "a re-keyed worker found through the mail is held",
			in: withAttrs(specs("displayName", "userPrincipalName", "mailNickname", "department", "accountEnabled", "employeeId", "mail"),
				[]identity.Desired{rec("2005", 2, "displayName", "Ann Lee", "userPrincipalName", "w2005@contoso.com", "mailNickname", "w2005", "mail", "ann.lee@contoso.com", "accountEnabled", "true")},
				[]identity.User{user("u5", "1005", "displayName", "Ann Lee", "userPrincipalName", "w1005@contoso.com", "mail", "ann.lee@contoso.com", "accountEnabled", "true")}),
			actions:  nil,
			warnings: []string{"mail_conflict 2005", "possible_rekey 1005"},
		},
		{
			name:     "an attribute Entra cannot clear is left as it is",
			in:       input([]identity.Desired{rec("1001", 2, "department", "X")}, []identity.User{user("u1", "1001", "displayName", "Ann", "department", "X")}),
			actions:  nil,
			warnings: []string{"cannot_clear 1001"},
		},
		{
			name: "IgnoreFlowIfNullOrEmpty leaves the attribute alone",
			in: func() Input {
				d := person("1001", 2, "Ann Lee", "")
				d.Attrs.Delete("department")
				d.More().Ignored = map[string]bool{"department": true}
				return input([]identity.Desired{d}, []identity.User{existing("u1", person("1001", 2, "Ann Lee", "Sales"))})
			}(),
			actions: nil,
		},
		{
			name: "a joiner whose mail is in use is left out; an update to a used mail keeps the old one",
			in: withAttrs(specs("displayName", "userPrincipalName", "mailNickname", "department", "accountEnabled", "employeeId", "mail"), []identity.Desired{
				person("1001", 2, "Ann Lee", "Sales", "mail", "bob@contoso.com"),
				person("1003", 4, "Cy Dee", "IT", "mail", "BOB@contoso.com"),
			}, []identity.User{
				existing("u1", person("1001", 2, "Ann Lee", "Sales", "mail", "ann@contoso.com")),
				user("u2", "1002", "mail", "bob@contoso.com", "accountEnabled", "false"),
			}),
			actions:  nil,
			warnings: []string{"mail_conflict 1001", "mail_conflict 1003"},
		},
		{
			name:     "a manager key used by two records resolves to its Entra user, with a warning",
			in:       input([]identity.Desired{person("1002", 3, "Bob Ray", "IT", "manager", "1001"), person("1001", 2, "Ann Lee", "Sales"), person("1001", 9, "Ann Other", "Sales")}, []identity.User{existing("u1", person("1001", 2, "Ann Lee", "Sales")), existing("u2", person("1002", 3, "Bob Ray", "IT"))}),
			actions:  []string{"update 1002"},
			warnings: []string{"duplicate_key 1001", "manager_ambiguous 1002"},
		},
		{
			name:     "two Entra users with one key: both and the record are left alone",
			in:       input([]identity.Desired{ann}, []identity.User{existing("u1", ann, "department", "X"), existing("u9", ann, "userPrincipalName", "other@contoso.com")}),
			actions:  nil,
			warnings: []string{"target_duplicate_key 1001"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Compute(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := actionsOf(p); strings.Join(got, ",") != strings.Join(tt.actions, ",") {
				t.Errorf("actions = %q, want %q", got, tt.actions)
			}
			if got := codesOf(p); strings.Join(got, ",") != strings.Join(tt.warnings, ",") {
				t.Errorf("warnings = %q, want %q\n%+v", got, tt.warnings, p.Warnings)
			}
			if tt.check != nil {
				tt.check(t, p)
			}
		})
	}
}

func TestComputeRefusesEmptySource(t *testing.T) {
	in := input(nil, []identity.User{user("u1", "1001", "accountEnabled", "true")})
	if _, err := Compute(in); !errors.Is(err, ErrEmptySource) {
		t.Fatalf("err = %v, want ErrEmptySource", err)
	}
}

func TestComputeLeaverThresholds(t *testing.T) {
	var users []identity.User
	for i := 0; i < 40; i++ {
		users = append(users, user(fmt.Sprintf("u%02d", i), fmt.Sprintf("k%02d", i), "accountEnabled", "true"))
	}
	keep := []identity.Desired{}
	for i := 0; i < 25; i++ {
		keep = append(keep, existingDesired(users[i]))
	}
	tests := []struct {
		name      string
		policy    Policy
		applyable bool
	}{
		{"count over max", Policy{Leavers: "disable", MaxLeavers: 10}, false},
		{"count at max", Policy{Leavers: "disable", MaxLeavers: 15}, true},
		{"percent over max", Policy{Leavers: "disable", MaxLeaversPercent: 30}, false},
		{"percent under max", Policy{Leavers: "disable", MaxLeaversPercent: 50}, true},
		{"no limits", Policy{Leavers: "disable"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := input(keep, users)
			in.Attrs = specs("employeeId")
			in.Policy = tt.policy
			p, err := Compute(in)
			if err != nil {
				t.Fatal(err)
			}
			if p.Summary.Disable != 15 {
				t.Fatalf("disables = %d, want 15", p.Summary.Disable)
			}
			if p.Applyable != tt.applyable || (len(p.Blocked) == 0) != tt.applyable {
				t.Errorf("applyable = %v blocked = %q", p.Applyable, p.Blocked)
			}
		})
	}
}

func existingDesired(u identity.User) identity.Desired {
	return identity.Desired{Key: u.Attrs.Get("employeeId"), Attrs: identity.AttrsOf(map[string]string{"employeeId": u.Attrs.Get("employeeId")})}
}

func TestComputeIsDeterministic(t *testing.T) {
	in := input([]identity.Desired{person("1003", 4, "Cy Dee", "IT", "manager", "1001"), person("1001", 2, "Ann Lee", "Sales"), person("1002", 3, "Bob Ray", "IT", "manager", "7")},
		[]identity.User{user("u5", "1005", "accountEnabled", "true"), user("u6", "1006", "accountEnabled", "true")})
	a, _ := Compute(in)
	b, _ := Compute(in)
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Fatalf("two computes differ:\n%s\n%s", ja, jb)
	}
	if got := strings.Join(actionsOf(a), ","); got != "create 1001,create 1002,create 1003,disable 1005,disable 1006" {
		t.Errorf("order = %s", got)
	}
}

func withAttrs(attrs []identity.AttrSpec, desired []identity.Desired, users []identity.User) Input {
	in := input(desired, users)
	in.Attrs = attrs
	return in
}

func TestOrgDataIsResentWhole(t *testing.T) {
	attrs := specs("displayName", "employeeId", "employeeOrgData.division")
	d := rec("1001", 2, "displayName", "Ann", "employeeOrgData.division", "Labs")
	u := user("u1", "1001", "displayName", "Ann", "employeeOrgData.division", "Sales", "employeeOrgData.costCenter", "CC1")
	p, err := Compute(withAttrs(attrs, []identity.Desired{d}, []identity.User{u}))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Actions) != 1 {
		t.Fatalf("actions = %v", actionsOf(p))
	}
	ch := changesOf(p.Actions[0])
	if ch["employeeOrgData.division"] != [2]string{"Sales", "Labs"} || ch["employeeOrgData.costCenter"] != [2]string{"CC1", "CC1"} {
		t.Errorf("changes = %v; the unmapped costCenter must be resent or Graph clears it", ch)
	}
	if err := p.Validate(identity.EntraSchema()); err != nil {
		t.Errorf("validate: %v", err)
	}
}

// Without a directory read (validate), a value two records map is not
// said to be taken by a joiner: neither is known to be one.
func TestOfflineWordingClaimsNoJoiner(t *testing.T) {
	tests := []struct {
		name    string
		offline bool
		want    string
	}{
		{"plan", false, "cannot create: userPrincipalName john.smith@contoso.com is already taken by the joiner with key 1003"},
		{"validate", true, "userPrincipalName john.smith@contoso.com is also mapped for the record with key 1003, and Entra ID holds it only once: if this record has no account yet, it cannot be created"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := input([]identity.Desired{person("1003", 4, "John Smith", "Sales"), person("1048", 49, "John Smith", "Engineering")}, nil)
			in.Offline = tt.offline
			p, err := Compute(in)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Warnings) != 1 || p.Warnings[0].Code != WarnUPNConflict || !strings.HasPrefix(p.Warnings[0].Message, tt.want) {
				t.Fatalf("warnings = %+v, want upn_conflict %q", p.Warnings, tt.want)
			}
			if tt.offline && strings.Contains(p.Warnings[0].Message, "joiner") {
				t.Errorf("offline warning claims a joiner: %s", p.Warnings[0].Message)
			}
		})
	}
}

// TestComputeAlikeHoweverAttrsAreKept plans one workforce against one
// directory with the attributes kept in the slots of layouts (as a
// mapping and a read keep them), in maps, and half one way, half the
// other: the plans are the same.
func TestComputeAlikeHoweverAttrsAreKept(t *testing.T) {
	slotted := benchInput(3000)
	// Users the directory holds twice or three times under one key, a user
	// without a key, disabled users.
	extra := []identity.User{
		user("twin-a", "0000150", "userPrincipalName", "twin-a@contoso.com"),
		user("twin-b", "0000150", "userPrincipalName", "twin-b@contoso.com", "accountEnabled", "false"),
		user("trip-a", "0000260"), user("trip-b", "0000260"), user("trip-c", "0000260"),
		user("nokey", "", "userPrincipalName", "nokey@contoso.com"),
	}
	l := identity.NewLayout([]string{"employeeId", "userPrincipalName", "accountEnabled"})
	for _, u := range extra {
		u.Attrs = packed(l, u.Attrs)
		slotted.Users = append(slotted.Users, u)
	}
	for i := range slotted.Users {
		if i%7 == 0 {
			slotted.Users[i].Attrs.Set("accountEnabled", "false")
		}
	}
	inMaps := func(every int) Input {
		in := slotted
		in.Desired = slices.Clone(slotted.Desired)
		in.Users = slices.Clone(slotted.Users)
		for i := range in.Desired {
			if i%every == 0 {
				in.Desired[i].Attrs = identity.AttrsOf(in.Desired[i].Attrs.Map())
			}
		}
		for i := range in.Users {
			if i%every == 0 {
				in.Users[i].Attrs = identity.AttrsOf(in.Users[i].Attrs.Map())
			}
		}
		return in
	}
	want := encoded(t, slotted)
	if !strings.Contains(want, `"target_duplicate_key"`) || !strings.Contains(want, `"update"`) || !strings.Contains(want, `"disable"`) {
		t.Fatalf("the input does not exercise what it should:\n%.2000s", want)
	}
	for _, every := range []int{1, 2} {
		if got := encoded(t, inMaps(every)); got != want {
			t.Errorf("attributes in maps (every %d): the plan differs from the one of slotted attributes", every)
		}
	}
}

// encoded is the plan of in, encoded.
func encoded(t *testing.T, in Input) string {
	t.Helper()
	p, err := Compute(in)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := Encode(&b, p); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestComputeCountsManagedUsers checks the counts the leaver guards
// divide by, and that a key three users hold is reported once.
func TestComputeCountsManagedUsers(t *testing.T) {
	ann := person("1001", 2, "Ann Lee", "Sales")
	in := input([]identity.Desired{ann, person("1002", 3, "Bob Ray", "IT")}, []identity.User{
		existing("u1", ann),
		user("u2", "1002", "accountEnabled", "false"),
		user("u3", "2000"), user("u4", "2000", "accountEnabled", "false"), user("u5", "2000"),
		user("u6", ""),
	})
	p, err := Compute(in)
	if err != nil {
		t.Fatal(err)
	}
	if p.Summary.Managed != 5 || p.Summary.ActiveManaged != 3 {
		t.Errorf("managed %d, active %d; want 5, 3", p.Summary.Managed, p.Summary.ActiveManaged)
	}
	var dup []string
	for _, w := range p.Warnings {
		if w.Code == WarnTargetDuplicateKey {
			dup = append(dup, w.Message)
		}
	}
	if len(dup) != 1 || !strings.Contains(dup[0], "3 users have employeeId \"2000\": u3 (), u4 (), u5 ()") {
		t.Errorf("target_duplicate_key warnings = %q", dup)
	}
}

// TestComputeIgnoresTheDirectorysOrder: the directory may list its users
// in any order (Graph's partitions, the user cache's merge, an LDAP
// server's); the plan is the same whatever the order, with leavers of
// keys that are numbers, text, and text that starts with a digit.
func TestComputeIgnoresTheDirectorysOrder(t *testing.T) {
	in := benchInput(2000)
	l := identity.NewLayout([]string{"employeeId", "userPrincipalName", "accountEnabled", "displayName"})
	for i, k := range []string{"10", "2", "1a", "abc", "0099", "99", "B7"} {
		u := user(fmt.Sprintf("extra%d", i), k, "userPrincipalName", "x"+k+"@contoso.com", "accountEnabled", "true", "displayName", "X "+k)
		if i%3 == 2 {
			u.MasteredIn = "Active Directory"
		}
		u.Attrs = packed(l, u.Attrs)
		in.Users = append(in.Users, u)
	}
	want := encoded(t, in)
	if !strings.Contains(want, `"key": "1a"`) || !strings.Contains(want, `"mastered_elsewhere"`) {
		t.Fatalf("the input does not exercise what it should:\n%.3000s", want)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 5 {
		shuffled := in
		shuffled.Users = slices.Clone(in.Users)
		rng.Shuffle(len(shuffled.Users), func(i, j int) { shuffled.Users[i], shuffled.Users[j] = shuffled.Users[j], shuffled.Users[i] })
		if got := encoded(t, shuffled); got != want {
			t.Fatalf("round %d: the plan differs with the users in another order", round)
		}
	}
}

// TestKeyLessIsAnOrder checks keyLess is a strict total order on keys of
// every kind: irreflexive, one of a<b and b<a for distinct keys, and
// transitive.
func TestKeyLessIsAnOrder(t *testing.T) {
	keys := []string{"", "0", "00", "007", "1", "10", "1a", "2", "20", "9", "99", "0099", "a", "A", "a1", "abc", "B7", " 1", "1 "}
	for _, a := range keys {
		if keyLess(a, a) {
			t.Errorf("keyLess(%q, %q)", a, a)
		}
		for _, b := range keys {
			if a != b && keyLess(a, b) == keyLess(b, a) {
				t.Errorf("keyLess(%q, %q) = keyLess(%q, %q) = %v", a, b, b, a, keyLess(a, b))
			}
			for _, c := range keys {
				if keyLess(a, b) && keyLess(b, c) && !keyLess(a, c) {
					t.Errorf("%q < %q < %q but not %q < %q", a, b, c, a, c)
				}
			}
		}
	}
}
