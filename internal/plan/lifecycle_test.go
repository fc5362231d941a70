package plan

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hrsync/hrsync/internal/identity"
)

var lifeAttrs = specs("displayName", "userPrincipalName", "mailNickname", "department", "accountEnabled", "employeeId", "employeeHireDate", "employeeLeaveDateTime")

// date is testNow moved by days, as a canonical date attribute.
func date(days int) string {
	n := testNow.AddDate(0, 0, days)
	return time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.UTC).Format(time.RFC3339)
}

func lifeInput(desired []identity.Desired, users []identity.User, pol func(*Policy)) Input {
	in := withAttrs(lifeAttrs, desired, users)
	in.Policy.PrehireDays = 7
	if pol != nil {
		pol(&in.Policy)
	}
	return in
}

func only(t *testing.T, p *Plan, key string) Action {
	t.Helper()
	for _, a := range p.Actions {
		if a.Key == key {
			return a
		}
	}
	t.Fatalf("no action for %s in %v (warnings %v)", key, actionsOf(p), codesOf(p))
	return Action{}
}

func TestLifecycleDates(t *testing.T) {
	tests := []struct {
		name    string
		rec     identity.Desired
		users   []identity.User
		pol     func(*Policy)
		want    string // "action lifecycle event accountEnabled", or "" for no action
		pending int
	}{
		{"future joiner outside the pre-hire window waits", person("1", 2, "Ann Lee", "Sales", "employeeHireDate", date(30)), nil, nil, "", 1},
		{"pre-hire joiner is created disabled", person("1", 2, "Ann Lee", "Sales", "employeeHireDate", date(5)), nil, nil, "create joiner prehire false", 0},
		{"pre-hire joiner created enabled by policy", person("1", 2, "Ann Lee", "Sales", "employeeHireDate", date(5)), nil,
			func(p *Policy) { p.PrehireEnabled = true }, "create joiner prehire true", 0},
		{"pre-hire window opens prehire_days ahead", person("1", 2, "Ann Lee", "Sales", "employeeHireDate", date(7)), nil, nil, "create joiner prehire false", 0},
		{"a day before the window: waits", person("1", 2, "Ann Lee", "Sales", "employeeHireDate", date(8)), nil, nil, "", 1},
		{"hire date today: created enabled", person("1", 2, "Ann Lee", "Sales", "employeeHireDate", date(0)), nil, nil, "create joiner  true", 0},
		{"pre-hire account not enabled before the hire date",
			person("1", 2, "Ann Lee", "Sales", "employeeHireDate", date(3)),
			[]identity.User{existing("u1", person("1", 2, "Ann Lee", "Sales", "employeeHireDate", date(3)), "accountEnabled", "false")}, nil, "", 0},
		{"pre-hire account enabled on the hire date",
			person("1", 2, "Ann Lee", "Sales", "employeeHireDate", date(0)),
			[]identity.User{existing("u1", person("1", 2, "Ann Lee", "Sales", "employeeHireDate", date(0)), "accountEnabled", "false")}, nil, "enable joiner hire_date true", 0},
		{"future leave date is written, nothing else",
			person("1", 2, "Ann Lee", "Sales", "employeeLeaveDateTime", date(10)),
			[]identity.User{existing("u1", person("1", 2, "Ann Lee", "Sales"))}, nil, "update update  ", 0},
		{"leave date passed disables",
			person("1", 2, "Ann Lee", "Sales", "employeeLeaveDateTime", date(-1)),
			[]identity.User{existing("u1", person("1", 2, "Ann Lee", "Sales"))}, nil, "disable leaver leave_date false", 0},
		{"leave date passed, no account: nothing", person("1", 2, "Ann Lee", "Sales", "employeeLeaveDateTime", date(-1)), nil, nil, "", 0},
		{"rehire: a leaver active again is enabled and the leave date cleared",
			person("1", 2, "Ann Lee", "Sales"),
			[]identity.User{existing("u1", person("1", 2, "Ann Lee", "Sales"), "accountEnabled", "false", "employeeLeaveDateTime", date(-40))}, nil, "enable rehire rehire true", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Compute(lifeInput([]identity.Desired{tt.rec}, tt.users, tt.pol))
			if err != nil {
				t.Fatal(err)
			}
			if p.Summary.Pending != tt.pending {
				t.Errorf("pending = %d, want %d", p.Summary.Pending, tt.pending)
			}
			if tt.want == "" {
				if len(p.Actions) != 0 {
					t.Fatalf("actions %v, want none", actionsOf(p))
				}
				return
			}
			a := only(t, p, "1")
			en := changesOf(a)["accountEnabled"][1]
			if got := strings.Join([]string{a.Action, a.Lifecycle, a.Event, en}, " "); got != tt.want {
				t.Errorf("got %q, want %q (reason %q, changes %v)", got, tt.want, a.Reason, changesOf(a))
			}
		})
	}
}

func TestLeaverStampsLeaveDateAndDeletesAfterGrace(t *testing.T) {
	ann := person("1", 2, "Ann Lee", "Sales")
	users := []identity.User{
		existing("u1", ann),
		user("u2", "2", "accountEnabled", "true", "displayName", "Bo", "userPrincipalName", "bo@contoso.com"),
		user("u3", "3", "accountEnabled", "false", "displayName", "Cy", "userPrincipalName", "cy@contoso.com", "employeeLeaveDateTime", date(-31)),
		user("u4", "4", "accountEnabled", "false", "displayName", "Di", "userPrincipalName", "di@contoso.com", "employeeLeaveDateTime", date(-29)),
		user("u5", "5", "accountEnabled", "false", "displayName", "Ed", "userPrincipalName", "ed@contoso.com"),
		user("u6", "6", "accountEnabled", "true", "displayName", "Fa", "userPrincipalName", "fa@contoso.com", "employeeLeaveDateTime", date(-60)),
	}
	in := lifeInput([]identity.Desired{ann}, users, func(p *Policy) { p.DeleteAfterDays = 30 })
	in.StampLeaveDate = true
	p, err := Compute(in)
	if err != nil {
		t.Fatal(err)
	}
	// 2: absent, disabled now and stamped; 3: disabled 31 days ago, deleted;
	// 4: not yet due; 5: no leave date, never deleted; 6: still enabled, disabled first.
	if got := strings.Join(actionsOf(p), ","); got != "disable 2,disable 6,delete 3" {
		t.Fatalf("actions = %s", got)
	}
	if got := changesOf(only(t, p, "2"))["employeeLeaveDateTime"]; got[1] != date(0) {
		t.Errorf("leave date stamped %v, want %s", got, date(0))
	}
	if _, ok := changesOf(only(t, p, "6"))["employeeLeaveDateTime"]; ok {
		t.Error("a leave date Entra holds was overwritten")
	}
	del := only(t, p, "3")
	if del.Lifecycle != Leaver || !strings.Contains(del.Reason, "Soft delete: restorable") {
		t.Errorf("delete = %+v", del)
	}
	if p.Summary.Delete != 1 {
		t.Errorf("summary %+v", p.Summary)
	}
	// Deletes count as leavers for the guards.
	in.Policy.MaxLeavers = 2
	if p, _ := Compute(in); p.Applyable {
		t.Error("3 leavers (2 disables, 1 delete) over max_leavers 2, yet applyable")
	}
}

func TestRehireFromDeletedItems(t *testing.T) {
	ann := person("1", 2, "Ann Lee", "Sales")
	gone := existing("d1", person("1", 2, "Ann Lee", "Marketing"), "accountEnabled", "false", "employeeLeaveDateTime", date(-60))
	tests := []struct {
		name      string
		deletedAt time.Time
		holder    []identity.User
		want      string
	}{
		{"within 30 days: restored, enabled, updated", testNow.AddDate(0, 0, -10), nil, "restore 1"},
		{"after 30 days: a new account", testNow.AddDate(0, 0, -31), nil, "create 1"},
		{"its UPN taken since: neither restored nor duplicated", testNow.AddDate(0, 0, -10),
			[]identity.User{user("x", "", "userPrincipalName", "ann.lee@contoso.com")}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := lifeInput([]identity.Desired{ann}, tt.holder, nil)
			in.Deleted = []identity.DeletedUser{{User: gone, DeletedAt: tt.deletedAt}}
			p, err := Compute(in)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(actionsOf(p), ","); got != tt.want {
				t.Fatalf("actions = %q, want %q (warnings %v)", got, tt.want, codesOf(p))
			}
			if tt.want == "restore 1" {
				a := p.Actions[0]
				ch := changesOf(a)
				if a.ID != "d1" || a.Lifecycle != Rehire || ch["accountEnabled"][1] != "true" || ch["department"][1] != "Sales" {
					t.Errorf("restore = %+v, changes %v", a, ch)
				}
				if err := p.Validate(identity.EntraSchema()); err != nil {
					t.Errorf("validate: %v", err)
				}
			}
			if tt.want == "" && !strings.Contains(strings.Join(codesOf(p), ","), WarnUPNConflict) && !strings.Contains(strings.Join(codesOf(p), ","), WarnRestore) {
				t.Errorf("no warning: %v", codesOf(p))
			}
		})
	}
}

func TestGroupRules(t *testing.T) {
	sales := Entitlement{ID: "g-sales", Name: "Sales"}
	eng := Entitlement{ID: "g-eng", Name: "Engineering"}
	all := Entitlement{ID: "g-all", Name: "All staff"}
	withGroups := func(d identity.Desired, refs ...string) identity.Desired { ownExtras(&d).Groups = refs; return d }
	mover := withGroups(person("1", 2, "Ann Lee", "Engineering"), "Engineering", "All staff")
	joiner := withGroups(person("2", 3, "Bo Chen", "Sales"), "Sales", "All staff")
	users := []identity.User{
		existing("u1", person("1", 2, "Ann Lee", "Sales")),
		user("u9", "9", "accountEnabled", "true", "displayName", "Gone", "userPrincipalName", "gone@contoso.com"),
	}
	members := map[string]map[string]bool{
		"g-sales": {"u1": true, "u9": true},
		"g-all":   {"u1": true, "u9": true},
		"g-eng":   {},
	}
	for _, removeLeavers := range []bool{false, true} {
		in := lifeInput([]identity.Desired{mover, joiner}, users, func(p *Policy) { p.LeaverRemoveGroups = removeLeavers })
		in.Groups = map[string]Entitlement{"sales": sales, "engineering": eng, "all staff": all, "g-eng": eng}
		in.Members = members
		p, err := Compute(in)
		if err != nil {
			t.Fatal(err)
		}
		groups := func(a Action) string {
			var out []string
			for _, g := range a.Groups {
				out = append(out, g.Op+" "+g.Name)
			}
			return strings.Join(out, ",")
		}
		if got := groups(only(t, p, "1")); got != "add Engineering,remove Sales" {
			t.Errorf("mover groups = %q", got)
		}
		if got := groups(only(t, p, "2")); got != "add All staff,add Sales" {
			t.Errorf("joiner groups = %q", got)
		}
		want := ""
		if removeLeavers {
			want = "remove All staff,remove Sales"
		}
		if got := groups(only(t, p, "9")); got != want {
			t.Errorf("leaver groups = %q, want %q", got, want)
		}
		if err := p.Validate(identity.EntraSchema()); err != nil {
			t.Fatal(err)
		}
		if p.Summary.GroupAdds != 3 {
			t.Errorf("summary %+v", p.Summary)
		}
	}
	// Only group changes: still an action, classified as an update.
	in := lifeInput([]identity.Desired{withGroups(person("1", 2, "Ann Lee", "Sales"), "Sales", "All staff")},
		[]identity.User{existing("u1", person("1", 2, "Ann Lee", "Sales"))}, nil)
	in.Groups = map[string]Entitlement{"sales": sales, "all staff": all}
	in.Members = map[string]map[string]bool{"g-sales": {"u1": true}}
	p, _ := Compute(in)
	if got := strings.Join(actionsOf(p), ","); got != "update 1" || len(p.Actions[0].Groups) != 1 || len(p.Actions[0].Changes) != 0 {
		t.Fatalf("actions %v %+v", got, p.Actions)
	}
}

func TestLicenseRules(t *testing.T) {
	e3 := Entitlement{ID: "sku-e3", Name: "SPE_E3"}
	withLic := func(d identity.Desired, refs ...string) identity.Desired { ownExtras(&d).Licenses = refs; return d }
	attrs := append(append([]identity.AttrSpec(nil), lifeAttrs...), specs("usageLocation")...)
	noLoc := withLic(person("1", 2, "Ann Lee", "Sales"), "SPE_E3")
	withLoc := withLic(person("2", 3, "Bo Chen", "Sales", "usageLocation", "DE"), "SPE_E3")
	leaver := user("u9", "9", "accountEnabled", "true", "displayName", "Gone", "userPrincipalName", "gone@contoso.com")
	leaver.Licenses = []string{"sku-e3", "sku-other"}
	in := withAttrs(attrs, []identity.Desired{noLoc, withLoc}, []identity.User{leaver})
	in.Policy.LeaverRemoveLicenses = true
	in.Skus = map[string]Entitlement{"spe_e3": e3}
	p, err := Compute(in)
	if err != nil {
		t.Fatal(err)
	}
	if got := only(t, p, "1").Licenses; len(got) != 0 {
		t.Errorf("license assigned without usageLocation: %v", got)
	}
	if !strings.Contains(strings.Join(codesOf(p), ","), WarnNoUsageLocation) {
		t.Errorf("warnings %v", codesOf(p))
	}
	if got := only(t, p, "2").Licenses; len(got) != 1 || got[0].Op != OpAdd || got[0].SkuID != "sku-e3" {
		t.Errorf("joiner licenses %v", got)
	}
	// The leaver loses the managed SKU only; sku-other is not the rules'.
	if got := only(t, p, "9").Licenses; len(got) != 1 || got[0].Op != OpRemove || got[0].SkuID != "sku-e3" {
		t.Errorf("leaver licenses %v", got)
	}
}

// Cases a review found, each once wrong.
func TestLifecycleSafety(t *testing.T) {
	noStatus := func(key string, kv ...string) identity.Desired {
		d := person(key, 2, "Ann Lee", "Sales", kv...)
		d.Attrs.Delete("accountEnabled") // the mapping does not map accountEnabled
		return d
	}
	disabled := func(d identity.Desired, kv ...string) identity.User {
		u := existing("u1", d, append([]string{"accountEnabled", "false"}, kv...)...)
		return u
	}
	tests := []struct {
		name   string
		rec    identity.Desired
		user   identity.User
		pol    func(*Policy)
		attrs  []identity.AttrSpec
		want   string // "action event" for key 1, or "" for none
		warn   string
		change string // an attribute change "attr before->after" the action must hold
	}{
		{"unmapped status: an account disabled by an admin stays disabled", noStatus("1"), disabled(noStatus("1")), nil, nil, "", WarnDisabledAccount, ""},
		{"unmapped status: a leaver back (leave date in Entra) is enabled, hrsync's stamp cleared",
			noStatus("1"), disabled(noStatus("1"), "employeeLeaveDateTime", date(-200)),
			func(p *Policy) { p.DeleteAfterDays = 30 }, specs("displayName", "userPrincipalName", "mailNickname", "department", "employeeId"),
			"enable rehire", "", "employeeLeaveDateTime " + date(-200) + "-><nil>"},
		{"a leave date before the hire date is an old one", person("1", 2, "Ann Lee", "Sales", "employeeHireDate", date(-10), "employeeLeaveDateTime", date(-400)),
			existing("u1", person("1", 2, "Ann Lee", "Sales", "employeeHireDate", date(-10), "employeeLeaveDateTime", date(-400))), nil, nil,
			"update ", "", "employeeLeaveDateTime " + date(-400) + "-><nil>"}, // not a leaver; the old date is cleared in Entra
		{"prehire_account enabled waits for the window before enabling an existing account",
			person("1", 2, "Ann Lee", "Sales", "employeeHireDate", date(180)), disabled(person("1", 2, "Ann Lee", "Sales", "employeeHireDate", date(180))),
			func(p *Policy) { p.PrehireEnabled = true }, nil, "", "", ""},
		{"the leave date is the last working day: still enabled on it", person("1", 2, "Ann Lee", "Sales", "employeeLeaveDateTime", date(0)),
			existing("u1", person("1", 2, "Ann Lee", "Sales", "employeeLeaveDateTime", date(0))), nil, nil, "", "", ""},
		{"a hire-date account disabled by someone weeks after the hire date stays disabled", noStatus("1", "employeeHireDate", date(-20)),
			disabled(noStatus("1", "employeeHireDate", date(-20))), nil, nil, "", WarnDisabledAccount, ""},
		{"an absent leaver back the same day (hrsync's stamp is today) is enabled", noStatus("1"),
			disabled(noStatus("1"), "employeeLeaveDateTime", date(0)), func(p *Policy) { p.DeleteAfterDays = 30 },
			specs("displayName", "userPrincipalName", "mailNickname", "department", "employeeId"), "enable rehire", "", ""},
		{"a leave date with a time disables at that time", person("1", 2, "Ann Lee", "Sales", "employeeLeaveDateTime", testNow.Add(-time.Hour).Format(time.RFC3339)),
			existing("u1", person("1", 2, "Ann Lee", "Sales", "employeeLeaveDateTime", testNow.Add(-time.Hour).Format(time.RFC3339))), nil, nil, "disable leave_date", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := lifeInput([]identity.Desired{tt.rec}, []identity.User{tt.user}, tt.pol)
			if tt.attrs != nil {
				in.Attrs = tt.attrs
			}
			in.StampLeaveDate = in.Policy.DeleteAfterDays > 0
			p, err := Compute(in)
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			for _, a := range p.Actions {
				if a.Key == "1" {
					got = a.Action + " " + a.Event
					if tt.change != "" {
						found := false
						for attr, ch := range changesOf(a) {
							found = found || attr+" "+ch[0]+"->"+ch[1] == tt.change
						}
						if !found {
							t.Errorf("changes %v, want %s", changesOf(a), tt.change)
						}
					}
				}
			}
			if got != tt.want {
				t.Errorf("action %q, want %q (warnings %v)", got, tt.want, codesOf(p))
			}
			if tt.warn != "" && !strings.Contains(strings.Join(codesOf(p), ","), tt.warn) {
				t.Errorf("warnings %v, want %s", codesOf(p), tt.warn)
			}
		})
	}
}

func TestHeldPrehireKeepsItsGroups(t *testing.T) {
	rec := person("1", 2, "Ann Lee", "Sales", "employeeHireDate", date(3))
	rec.More().Groups = []string{"Sales"}
	in := lifeInput([]identity.Desired{rec}, []identity.User{existing("u1", rec, "accountEnabled", "false")}, func(p *Policy) { p.LeaverRemoveGroups = true })
	in.Groups = map[string]Entitlement{"sales": {ID: "g-sales", Name: "Sales"}}
	in.Members = map[string]map[string]bool{"g-sales": {"u1": true}}
	p, err := Compute(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Actions) != 0 {
		t.Fatalf("a pre-hire account held until its hire date churned: %v %+v", actionsOf(p), p.Actions)
	}
}

func TestTwoDeletedUsersWithOneKeyAreAConflict(t *testing.T) {
	ann := person("1", 2, "Ann Lee", "Sales")
	in := lifeInput([]identity.Desired{ann}, nil, nil)
	in.Deleted = []identity.DeletedUser{
		{User: existing("d1", ann, "accountEnabled", "false", "employeeLeaveDateTime", date(-60)), DeletedAt: testNow.AddDate(0, 0, -3)},
		{User: user("d2", "1", "userPrincipalName", "test@contoso.com"), DeletedAt: testNow.AddDate(0, 0, -1)},
	}
	p, err := Compute(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Actions) != 0 || !strings.Contains(strings.Join(codesOf(p), ","), WarnRestore) {
		t.Fatalf("actions %v warnings %v", actionsOf(p), codesOf(p))
	}
}

// A stale plan stays stale even when some of its values happen to hold.
func TestRecheckRefusesStaleLifecycleActions(t *testing.T) {
	// A restore planned a week ago; since then the user was restored and
	// disabled again by someone.
	ann := person("1", 2, "Ann Lee", "Sales")
	gone := existing("d1", person("1", 2, "Ann Lee", "Marketing"), "accountEnabled", "false", "employeeLeaveDateTime", date(-60))
	in := lifeInput([]identity.Desired{ann}, nil, nil)
	in.Deleted = []identity.DeletedUser{{User: gone, DeletedAt: testNow.AddDate(0, 0, -3)}}
	p, err := Compute(in)
	if err != nil || len(p.Actions) != 1 || p.Actions[0].Action != Restore {
		t.Fatalf("plan %v %v", actionsOf(p), err)
	}
	live := existing("d1", person("1", 2, "Ann Lee", "Sales"), "accountEnabled", "false")
	got := RecheckWith(p, RecheckInput{Users: []identity.User{live}, Policy: in.Policy})
	if len(got.Refused) != 1 || len(got.InEffect) != 0 {
		t.Fatalf("restored-and-changed user: refused %+v in effect %+v", got.Refused, got.InEffect)
	}
	// Restored by an earlier apply exactly as planned: in effect.
	live = existing("d1", person("1", 2, "Ann Lee", "Sales"), "accountEnabled", "true")
	got = RecheckWith(p, RecheckInput{Users: []identity.User{live}, Policy: in.Policy})
	if len(got.Refused) != 0 || len(got.InEffect) != 1 || strings.Join(got.InEffect[0].Steps, ",") != "restore,write" {
		t.Fatalf("restored as planned: refused %+v in effect %+v", got.Refused, got.InEffect)
	}
	// Still deleted, but someone else now holds the key.
	other := user("x", "1", "userPrincipalName", "other@contoso.com")
	got = RecheckWith(p, RecheckInput{Users: []identity.User{other}, Deleted: in.Deleted, Policy: in.Policy})
	if len(got.Refused) != 1 {
		t.Fatalf("restore next to a new key holder: refused %+v", got.Refused)
	}
}

func TestLostGroupsOfAnUnlistedValueAreWarned(t *testing.T) {
	rec := person("1", 2, "Ann Lee", "Marketing")
	rec.More().Groups = nil
	rec.More().RuleMisses = []string{`[Department] (line 9) gives "Marketing", which its map does not list`}
	in := lifeInput([]identity.Desired{rec}, []identity.User{existing("u1", rec)}, nil)
	in.Groups = map[string]Entitlement{"sales": {ID: "g-sales", Name: "Sales"}}
	in.Members = map[string]map[string]bool{"g-sales": {"u1": true}}
	p, err := Compute(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Actions) != 1 || len(p.Actions[0].Groups) != 1 || !strings.Contains(strings.Join(codesOf(p), ","), WarnRuleNoEntry) {
		t.Fatalf("actions %+v warnings %v", p.Actions, p.Warnings)
	}
}

// A disabled absent leaver still in a managed group (its removal failed
// in an earlier run) loses it in the next plan.
func TestDisabledLeaverLosesLeftoverGroups(t *testing.T) {
	ann := person("1", 2, "Ann Lee", "Sales")
	gone := user("u9", "9", "accountEnabled", "false", "displayName", "Gone", "userPrincipalName", "gone@contoso.com")
	in := lifeInput([]identity.Desired{ann}, []identity.User{existing("u1", ann), gone}, func(p *Policy) { p.LeaverRemoveGroups = true })
	in.Groups = map[string]Entitlement{"sales": {ID: "g-sales", Name: "Sales"}}
	in.Members = map[string]map[string]bool{"g-sales": {"u9": true}}
	p, err := Compute(in)
	if err != nil {
		t.Fatal(err)
	}
	a := only(t, p, "9")
	if a.Action != Update || len(a.Groups) != 1 || a.Groups[0].Op != OpRemove || len(a.Changes) != 0 {
		t.Fatalf("action %+v", a)
	}
	if err := p.Validate(identity.EntraSchema()); err != nil {
		t.Fatal(err)
	}
	// Without the policy, nothing.
	in.Policy.LeaverRemoveGroups = false
	if p, _ := Compute(in); len(p.Actions) != 0 {
		t.Fatalf("actions %v", actionsOf(p))
	}
}

// A manager reference to a joiner the plan creates, already set by an
// earlier (killed) apply, is in effect, not stale.
func TestRecheckManagerToANewJoinerInEffect(t *testing.T) {
	boss := person("2", 3, "Bo Chen", "Sales")
	ann := person("1", 2, "Ann Lee", "Sales")
	ann.ManagerKey = "2"
	in := lifeInput([]identity.Desired{ann, boss}, []identity.User{existing("u1", ann)}, nil)
	p, err := Compute(in)
	if err != nil || strings.Join(actionsOf(p), ",") != "create 2,update 1" {
		t.Fatalf("plan %v %v", actionsOf(p), err)
	}
	created := identity.User{ID: "n2", Attrs: identity.AttrsOf(map[string]string{})}
	for _, c := range p.Actions[0].Changes {
		if c.After != nil {
			created.Attrs.Set(c.Attribute, *c.After)
		}
	}
	moved := existing("u1", ann, "manager", "n2")
	got := RecheckWith(p, RecheckInput{Users: []identity.User{moved, created}, Policy: in.Policy})
	if len(got.Refused) != 0 || len(got.InEffect) != 2 {
		t.Fatalf("refused %+v in effect %+v", got.Refused, got.InEffect)
	}
	// Pointing at someone else is someone else's edit.
	moved.ManagerID = "x9"
	got = RecheckWith(p, RecheckInput{Users: []identity.User{moved, created}, Policy: in.Policy})
	if len(got.Refused) != 1 {
		t.Fatalf("refused %+v in effect %+v", got.Refused, got.InEffect)
	}
}

// A leaver due for deletion is deleted in the same plan that would take
// its leftover groups away: the delete makes the removal moot.
func TestDeleteReplacesLeftoverGroupRemoval(t *testing.T) {
	ann := person("1", 2, "Ann Lee", "Sales")
	gone := user("u9", "9", "accountEnabled", "false", "displayName", "Gone", "userPrincipalName", "gone@contoso.com", "employeeLeaveDateTime", date(-40))
	in := lifeInput([]identity.Desired{ann}, []identity.User{existing("u1", ann), gone}, func(p *Policy) { p.LeaverRemoveGroups, p.DeleteAfterDays = true, 30 })
	in.Groups = map[string]Entitlement{"sales": {ID: "g-sales", Name: "Sales"}}
	in.Members = map[string]map[string]bool{"g-sales": {"u9": true}}
	p, err := Compute(in)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(actionsOf(p), ","); got != "delete 9" {
		t.Fatalf("actions %s", got)
	}
}

// HR's plain dates are days in policy.timezone: a leave date ends, a hire
// date starts, at midnight there — not at midnight UTC.
func TestDatesAreDaysInThePolicyTimeZone(t *testing.T) {
	// 07:00 UTC on the 26th is still the 25th, 23:00, in Los Angeles.
	now := time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)
	leave := "2026-11-25T00:00:00Z"
	hire := "2026-11-26T00:00:00Z"
	for _, tt := range []struct {
		tz        string
		disabled  bool
		hireCome  bool
		stampWant string
	}{
		{"", true, true, "2026-11-26T00:00:00Z"},
		{"America/Los_Angeles", false, false, "2026-11-25T00:00:00Z"},
	} {
		t.Run("tz="+tt.tz, func(t *testing.T) {
			leaver := person("1", 2, "Ann Lee", "Sales", "employeeLeaveDateTime", leave)
			joiner := person("2", 3, "Bo Chen", "Sales", "employeeHireDate", hire)
			held := existing("u2", joiner, "accountEnabled", "false")
			gone := user("u9", "9", "accountEnabled", "true", "displayName", "Gone", "userPrincipalName", "gone@contoso.com")
			in := lifeInput([]identity.Desired{leaver, joiner}, []identity.User{existing("u1", person("1", 2, "Ann Lee", "Sales")), held, gone}, func(p *Policy) {
				p.Timezone = tt.tz
				p.DeleteAfterDays = 30
			})
			in.Now = now
			in.StampLeaveDate = true
			p, err := Compute(in)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]Action{}
			for _, a := range p.Actions {
				got[a.Key] = a
			}
			if (got["1"].Action == Disable) != tt.disabled {
				t.Errorf("leaver: %+v", got["1"])
			}
			if (got["2"].Action == Enable) != tt.hireCome {
				t.Errorf("hire: %+v", got["2"])
			}
			if ch := changesOf(got["9"])["employeeLeaveDateTime"]; ch[1] != tt.stampWant {
				t.Errorf("stamp %v, want %s", ch, tt.stampWant)
			}
		})
	}
	in := lifeInput([]identity.Desired{person("1", 2, "Ann Lee", "Sales")}, nil, func(p *Policy) { p.Timezone = "Mars/Olympus" })
	if _, err := Compute(in); err == nil {
		t.Error("an unknown time zone was accepted")
	}
}

// A restored user gets its old memberships back from Entra, which no list
// shows while it is deleted: the restore takes every managed group the
// rules do not give away, and adds the ones they give.
func TestRestoreSettlesAllManagedGroups(t *testing.T) {
	ann := person("1", 2, "Ann Lee", "Sales")
	ann.More().Groups = []string{"Sales"}
	gone := existing("d1", ann, "accountEnabled", "false", "employeeLeaveDateTime", date(-60))
	in := lifeInput([]identity.Desired{ann}, nil, nil)
	in.Deleted = []identity.DeletedUser{{User: gone, DeletedAt: testNow.AddDate(0, 0, -3)}}
	in.Groups = map[string]Entitlement{"sales": {ID: "g-sales", Name: "Sales"}, "eng": {ID: "g-eng", Name: "Engineering"}}
	in.Members = map[string]map[string]bool{"g-sales": {}, "g-eng": {}}
	p, err := Compute(in)
	if err != nil {
		t.Fatal(err)
	}
	a := only(t, p, "1")
	var got []string
	for _, g := range a.Groups {
		got = append(got, g.Op+" "+g.Name)
	}
	if a.Action != Restore || strings.Join(got, ",") != "remove Engineering,add Sales" {
		t.Fatalf("restore %s groups %v", a.Action, got)
	}
	if err := p.Validate(identity.EntraSchema()); err != nil {
		t.Fatal(err)
	}
}

// Taking a leaver's leftover groups away counts as a leaver for the guards.
func TestLeftoverRemovalsCountAsLeavers(t *testing.T) {
	ann := person("1", 2, "Ann Lee", "Sales")
	users := []identity.User{existing("u1", ann)}
	members := map[string]bool{}
	for i := 0; i < 3; i++ {
		id := fmt.Sprintf("g%d", i)
		users = append(users, user(id, fmt.Sprint(100+i), "accountEnabled", "false", "displayName", id, "userPrincipalName", id+"@contoso.com"))
		members[id] = true
	}
	in := lifeInput([]identity.Desired{ann}, users, func(p *Policy) { p.LeaverRemoveGroups, p.MaxLeavers = true, 2 })
	in.Groups = map[string]Entitlement{"sales": {ID: "g-sales", Name: "Sales"}}
	in.Members = map[string]map[string]bool{"g-sales": members}
	p, err := Compute(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Actions) != 3 || p.Applyable {
		t.Fatalf("actions %v applyable %v blocked %v", actionsOf(p), p.Applyable, p.Blocked)
	}
}
