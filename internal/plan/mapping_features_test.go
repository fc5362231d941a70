package plan

import (
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/hrsync/hrsync/internal/identity"
)

func outOfScope(d identity.Desired) identity.Desired {
	d.OutOfScope = true
	return d
}

// ownExtras gives d extras of its own (a copy of those it shares).
func ownExtras(d *identity.Desired) *identity.Extras {
	x := identity.Extras{}
	if d.Extras != nil {
		x = *d.Extras
	}
	d.Extras = &x
	return &x
}

func withAlt(d identity.Desired, alt ...string) identity.Desired {
	ownExtras(&d).AltKeys = alt
	return d
}

func withCandidates(d identity.Desired, attr string, cands ...string) identity.Desired {
	x := ownExtras(&d)
	x.Candidates = maps.Clone(x.Candidates)
	if x.Candidates == nil {
		x.Candidates = map[string][]string{}
	}
	x.Candidates[attr] = cands
	d.Attrs.Set(attr, cands[0])
	return d
}

func TestScopeLeaversAndNoCreates(t *testing.T) {
	inScope := person("1", 2, "Ann Lee", "Sales")
	gone := person("2", 3, "Bo Li", "Ops")
	never := person("3", 4, "Cy Wu", "Ops")
	in := input([]identity.Desired{inScope, outOfScope(gone), outOfScope(never)},
		[]identity.User{existing("u1", inScope), existing("u2", gone, "accountEnabled", "true")})
	p, err := Compute(in)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(actionsOf(p)); got != "[disable 2]" {
		t.Fatalf("actions = %s, want only the user whose record left scope disabled", got)
	}
	if a := p.Actions[0]; !strings.Contains(a.Reason, "left scope") || a.Source == nil || a.Source.Line != 3 {
		t.Errorf("leaver = %+v, want reason left scope with the record's line", a)
	}
}

// An in-scope and an out-of-scope record with one key are a duplicate:
// the scope filter must not decide which person owns the account.
func TestDuplicateKeyAcrossScope(t *testing.T) {
	a := person("1", 2, "Ann Lee", "Sales")
	b := outOfScope(person("1", 3, "Other Person", "Ops"))
	for _, order := range [][]identity.Desired{{a, b}, {b, a}} {
		p, err := Compute(input(order, []identity.User{existing("u1", a, "department", "Old")}))
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Actions) != 0 || fmt.Sprint(codesOf(p)) != "[duplicate_key 1]" {
			t.Errorf("actions %v warnings %v, want the user left alone and a duplicate_key", actionsOf(p), codesOf(p))
		}
	}
}

func TestFurtherMatchRules(t *testing.T) {
	alt := []string{"userPrincipalName"}
	ann := withAlt(person("1", 2, "Ann Lee", "Sales"), "ann.lee@contoso.com")
	tests := []struct {
		name     string
		desired  []identity.Desired
		users    []identity.User
		actions  string
		warnings string
		check    func(t *testing.T, p *Plan)
	}{
		{"takes over an account without a key", []identity.Desired{ann},
			[]identity.User{user("legacy", "", "userPrincipalName", "Ann.Lee@contoso.com", "displayName", "Ann Lee", "department", "Old", "accountEnabled", "true")},
			"[update 1]", "[takeover 1]", func(t *testing.T, p *Plan) {
				ch := changesOf(p.Actions[0])
				if p.Actions[0].ID != "legacy" || ch["employeeId"] != [2]string{"<nil>", "1"} || ch["department"] != [2]string{"Old", "Sales"} {
					t.Errorf("update = %+v", p.Actions[0])
				}
			}},
		{"several users: conflict, nothing created", []identity.Desired{ann},
			[]identity.User{user("a", "", "userPrincipalName", "ann.lee@contoso.com"), user("b", "", "userPrincipalName", "ANN.LEE@contoso.com")},
			"[]", "[match_conflict 1]", nil},
		{"user holds another key: conflict", []identity.Desired{ann},
			[]identity.User{user("x", "99", "userPrincipalName", "ann.lee@contoso.com", "accountEnabled", "true")},
			"[disable 99]", "[match_conflict 1]", nil}, // 99 is absent from the source: a leaver as ever
		{"two records, one user: both left out", []identity.Desired{ann, withAlt(person("2", 3, "Ann Leigh", "Ops"), "ann.lee@contoso.com")},
			[]identity.User{user("legacy", "", "userPrincipalName", "ann.lee@contoso.com")},
			"[]", "[match_conflict 1]", nil},
		{"the first rule wins", []identity.Desired{ann},
			[]identity.User{existing("u1", person("1", 2, "Ann Lee", "Sales")), user("other", "", "userPrincipalName", "someone@contoso.com")},
			"[]", "[]", nil},
		{"no further match: created", []identity.Desired{ann}, nil, "[create 1]", "[]", nil},
		{"a terminated worker's record never takes over a live account", []identity.Desired{withAlt(person("1", 2, "Ann Lee", "Sales", "accountEnabled", "false"), "ann.lee@contoso.com")},
			[]identity.User{user("newhire", "", "userPrincipalName", "ann.lee@contoso.com", "accountEnabled", "true")},
			"[]", "[match_conflict 1]", nil},
		{"a disabled account is never handed to someone", []identity.Desired{ann},
			[]identity.User{user("former", "", "userPrincipalName", "ann.lee@contoso.com", "accountEnabled", "false")},
			"[]", "[match_conflict 1]", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := input(tt.desired, tt.users)
			in.AltMatchAttrs = alt
			p, err := Compute(in)
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(actionsOf(p)); got != tt.actions {
				t.Errorf("actions = %s, want %s", got, tt.actions)
			}
			if got := fmt.Sprint(codesOf(p)); got != tt.warnings {
				t.Errorf("warnings = %s, want %s (%+v)", got, tt.warnings, p.Warnings)
			}
			if tt.check != nil && len(p.Actions) > 0 {
				tt.check(t, p)
			}
		})
	}
}

func TestWhenEmptyAttributes(t *testing.T) {
	attrs := specs("displayName", "userPrincipalName", "mailNickname", "department", "accountEnabled", "employeeId", "jobTitle")
	for i := range attrs {
		if attrs[i].Name == "jobTitle" {
			attrs[i].WhenEmpty = true
		}
	}
	d1 := person("1", 2, "Ann Lee", "Sales", "jobTitle", "Engineer")
	d2 := person("2", 3, "Bo Li", "Ops", "jobTitle", "Engineer")
	in := withAttrs(attrs, []identity.Desired{d1, d2}, []identity.User{
		existing("u1", d1, "jobTitle", "Principal Engineer"), // set in Entra: stays
		existing("u2", d2, "jobTitle", ""),                   // empty: filled
	})
	p, err := Compute(in)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(actionsOf(p)); got != "[update 2]" {
		t.Fatalf("actions = %s", got)
	}
	if ch := changesOf(p.Actions[0]); ch["jobTitle"] != [2]string{"<nil>", "Engineer"} {
		t.Errorf("changes = %v", ch)
	}
}

// Two new John Smiths get distinct UPNs, and nobody collides with an
// existing account: candidates are tried against the tenant and the plan.
func TestSelectUniqueValue(t *testing.T) {
	cands := []string{"john.smith@contoso.com", "john.smith2@contoso.com", "john.smith3@contoso.com"}
	j1 := withCandidates(person("10", 2, "John Smith", "Sales"), "userPrincipalName", cands...)
	j2 := withCandidates(person("11", 3, "John Smith", "Ops"), "userPrincipalName", cands...)
	j3 := withCandidates(person("12", 4, "John Smith", "HR"), "userPrincipalName", cands...)
	old := user("old", "", "userPrincipalName", "john.smith@contoso.com", "displayName", "John Smith (admin)")
	mailHolder := user("mh", "", "userPrincipalName", "x@contoso.com", "mail", "John.Smith2@contoso.com")
	in := input([]identity.Desired{j1, j2, j3}, []identity.User{old, mailHolder})
	p, err := Compute(in)
	if err != nil {
		t.Fatal(err)
	}
	upns := map[string]string{}
	for _, a := range p.Actions {
		upns[a.Key] = a.UserPrincipalName
	}
	if upns["10"] != "john.smith3@contoso.com" || len(p.Actions) != 1 {
		t.Fatalf("UPNs = %v, want the first free one for the first joiner only (the rest are taken)", upns)
	}
	if got := fmt.Sprint(codesOf(p)); got != "[upn_conflict 11 upn_conflict 12]" {
		t.Errorf("warnings = %s", got)
	}
	// With a free fourth candidate, every joiner gets its own.
	more := append(cands, "john.smith4@contoso.com", "john.smith5@contoso.com")
	in = input([]identity.Desired{
		withCandidates(person("10", 2, "John Smith", "Sales"), "userPrincipalName", more...),
		withCandidates(person("11", 3, "John Smith", "Ops"), "userPrincipalName", more...),
		withCandidates(person("12", 4, "John Smith", "HR"), "userPrincipalName", more...),
	}, []identity.User{old, mailHolder})
	if p, err = Compute(in); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, a := range p.Actions {
		if seen[a.UserPrincipalName] {
			t.Fatalf("UPN %s planned twice", a.UserPrincipalName)
		}
		seen[a.UserPrincipalName] = true
		if ch := changesOf(a); ch["userPrincipalName"][1] != a.UserPrincipalName {
			t.Errorf("action and its change disagree: %+v", a)
		}
	}
	if len(seen) != 3 || !seen["john.smith5@contoso.com"] {
		t.Errorf("UPNs = %v", seen)
	}
	// A user that already holds one of its candidates keeps it.
	m := withCandidates(person("20", 5, "Mo Ali", "Sales"), "mail", "mo.ali@contoso.com", "mo.ali2@contoso.com")
	attrs := specs("displayName", "userPrincipalName", "mailNickname", "department", "accountEnabled", "employeeId", "mail")
	p, err = Compute(withAttrs(attrs, []identity.Desired{m}, []identity.User{existing("u20", m, "mail", "mo.ali2@contoso.com")}))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Actions) != 0 {
		t.Errorf("a user holding one of its candidates was changed: %+v", p.Actions)
	}
}

func TestManagerCycleIsReportedAndTheRestProceeds(t *testing.T) {
	a := person("1", 2, "Ann Lee", "Sales", "manager", "2")
	b := person("2", 3, "Bo Li", "Sales", "manager", "3")
	c := person("3", 4, "Cy Wu", "Sales", "manager", "1")
	d := person("4", 5, "Di Ng", "Sales", "manager", "1")
	p, err := Compute(input([]identity.Desired{a, b, c, d}, nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(codesOf(p)); got != "[manager_cycle 1]" {
		t.Fatalf("warnings = %s", got)
	}
	if w := p.Warnings[0]; len(w.Sources) != 3 || !strings.Contains(w.Message, "1 -> 2 -> 3 -> 1") {
		t.Errorf("warning = %+v", w)
	}
	for _, act := range p.Actions {
		if (act.Manager != nil) != (act.Key == "4") {
			t.Errorf("%s manager = %+v; only the one outside the circle gets one", act.Key, act.Manager)
		}
	}
}

func TestCreateUpdateAndSourceDropGuards(t *testing.T) {
	var desired []identity.Desired
	var users []identity.User
	for i := range 40 {
		d := person(fmt.Sprint(100+i), i+2, fmt.Sprintf("Worker %d", i), "Sales")
		desired = append(desired, d)
		users = append(users, existing(fmt.Sprintf("u%d", i), d, "department", "Old"))
	}
	tests := []struct {
		name   string
		pol    Policy
		keep   int // records kept in the source
		want   string
		inUser bool
	}{
		{"updates over the cap", Policy{Leavers: "disable", MaxUpdates: 10}, 40, "40 updates exceed policy.max_updates (10)", true},
		{"updates within the cap", Policy{Leavers: "disable", MaxUpdates: 40}, 40, "", true},
		{"creates over the cap", Policy{Leavers: "disable", MaxCreates: 5}, 40, "40 creates exceed policy.max_creates (5)", false},
		{"a truncated source", Policy{Leavers: "ignore", MaxSourceDropPercent: 20}, 25, "the source holds 25 records, 37.5% fewer than the 40 enabled managed users", true},
		{"a slightly smaller source", Policy{Leavers: "ignore", MaxSourceDropPercent: 20}, 35, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			us := users
			if !tt.inUser {
				us = nil
			}
			in := input(desired[:tt.keep], us)
			in.Policy = tt.pol
			p, err := Compute(in)
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(p.Blocked, "; ")
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Fatalf("blocked = %q, want %q", got, tt.want)
			}
			if p.Applyable != (tt.want == "") {
				t.Errorf("applyable = %v", p.Applyable)
			}
		})
	}
}

func TestLifecycleClasses(t *testing.T) {
	joiner := person("1", 2, "Ann Lee", "Sales")
	mover := person("2", 3, "Bo Li", "Ops")
	renamed := person("3", 4, "Cy Wu", "Ops")
	back := person("4", 5, "Di Ng", "Ops")
	leaver := person("5", 6, "Ed Po", "Ops")
	p, err := Compute(input([]identity.Desired{joiner, mover, renamed, back}, []identity.User{
		existing("u2", mover, "department", "Sales"),
		existing("u3", renamed, "displayName", "Cy Woo"),
		existing("u4", back, "accountEnabled", "false"),
		existing("u5", leaver, "accountEnabled", "true"),
	}))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, a := range p.Actions {
		got[a.Key] = a.Lifecycle
	}
	want := map[string]string{"1": Joiner, "2": Mover, "3": Other, "4": Rehire, "5": Leaver}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("lifecycle = %v, want %v", got, want)
	}
}

// TestFurtherMatchConflictMessages pins what a further rule's conflicts
// tell the admin.
func TestFurtherMatchConflictMessages(t *testing.T) {
	ann := withAlt(person("1", 2, "Ann Lee", "Sales"), "ann.lee@contoso.com")
	const rule = `left out: userPrincipalName "ann.lee@contoso.com" (match rule 2) `
	tests := []struct {
		name    string
		desired []identity.Desired
		users   []identity.User
		want    string
	}{
		{"several users", []identity.Desired{ann},
			[]identity.User{user("a", "", "userPrincipalName", "ann.lee@contoso.com"), user("b", "", "userPrincipalName", "ANN.LEE@contoso.com")},
			rule + "matches 2 users (a, b)"},
		{"another key", []identity.Desired{ann},
			[]identity.User{user("x", "99", "userPrincipalName", "ann.lee@contoso.com")},
			rule + `belongs to user x, who holds employeeId "99"; fix the source or that account`},
		{"a disabled account", []identity.Desired{ann},
			[]identity.User{user("former", "", "userPrincipalName", "ann.lee@contoso.com", "accountEnabled", "false")},
			rule + "finds user former, but the record or the account is disabled; hrsync takes over only active accounts for active records"},
		{"two records", []identity.Desired{ann, withAlt(person("2", 3, "Ann Leigh", "Ops"), "ann.lee@contoso.com")},
			[]identity.User{user("legacy", "", "userPrincipalName", "ann.lee@contoso.com")},
			"left out: records 1, 2 all match user legacy (ann.lee@contoso.com); none is paired with it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := input(tt.desired, tt.users)
			in.AltMatchAttrs = []string{"userPrincipalName"}
			p, err := Compute(in)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range p.Warnings {
				if w.Code == WarnMatchConflict {
					got = append(got, w.Message)
				}
			}
			if len(got) != 1 || got[0] != tt.want {
				t.Errorf("match_conflict messages = %q\nwant [%q]", got, tt.want)
			}
		})
	}
}
