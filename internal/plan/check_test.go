package plan

import (
	"strings"
	"testing"

	"github.com/hrsync/hrsync/internal/identity"
)

// basePlan is a real plan: one joiner (1003, managed by 1001), one mover
// (1001), one leaver (1009).
func basePlan(t *testing.T) (*Plan, []identity.User) {
	t.Helper()
	ann := person("1001", 2, "Ann Lee", "Sales")
	users := []identity.User{existing("u1", ann, "department", "Old"), user("u9", "1009", "accountEnabled", "true", "userPrincipalName", "gone@contoso.com")}
	p, err := Compute(input([]identity.Desired{ann, person("1003", 4, "Cy Dee", "IT", "manager", "1001")}, users))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(actionsOf(p), ","); got != "create 1003,update 1001,disable 1009" {
		t.Fatalf("base plan = %s", got)
	}
	return p, users
}

func TestValidateRejectsEditedPlans(t *testing.T) {
	tests := []struct {
		name string
		edit func(p *Plan)
		want string
	}{
		{"rename a user's UPN", func(p *Plan) {
			p.Actions[1].Changes = append(p.Actions[1].Changes, Change{Attribute: "userPrincipalName", After: strPtr("pwned@contoso.com")})
		}, "userPrincipalName is set on create only"},
		{"disable through an update", func(p *Plan) {
			p.Actions[1].Changes = append(p.Actions[1].Changes, Change{Attribute: "accountEnabled", After: strPtr("false")})
		}, "an update does not change accountEnabled"},
		{"a disable that enables", func(p *Plan) { p.Actions[2].Changes[0].After = strPtr("true") }, "must set accountEnabled to false"},
		{"update without id", func(p *Plan) { p.Actions[1].ID = "" }, "no user id"},
		{"create with id", func(p *Plan) { p.Actions[0].ID = "x" }, "a create has no id"},
		{"unknown action", func(p *Plan) { p.Actions[1].Action = "purge" }, `unknown action "purge"`},
		{"unknown attribute", func(p *Plan) {
			p.Actions[1].Changes = append(p.Actions[1].Changes, Change{Attribute: "passwordProfile", After: strPtr("x")})
		}, `unknown attribute "passwordProfile"`},
		{"change the match attribute", func(p *Plan) {
			p.Actions[1].Changes = append(p.Actions[1].Changes, Change{Attribute: "employeeId", After: strPtr("2000")})
		}, "changes the match attribute"},
		{"two actions for one key", func(p *Plan) { p.Actions[2].Key = "1001" }, "the key also has action 2"},
		{"manager reference without change", func(p *Plan) { p.Actions[1].Manager = &ManagerRef{Key: "1009", ID: "u9"} }, "manager change and the manager reference disagree"},
		{"manager shown is not the manager set", func(p *Plan) { p.Actions[0].Manager.Key = "1009" }, `the manager change shows "1001" but the reference is "1009"`},
		{"manager removal shown as a change", func(p *Plan) { p.Actions[0].Manager.Key = "" }, "disagree"},
		{"create shown under another name", func(p *Plan) { p.Actions[0].UserPrincipalName = "" }, "the joiner is shown as"},
		{"create without its key", func(p *Plan) { p.Actions[0].Key = "2000" }, "a create must set employeeId to its key"},
		{"an attribute changed twice", func(p *Plan) {
			p.Actions[1].Changes = append(p.Actions[1].Changes, p.Actions[1].Changes[0])
		}, "department is changed twice"},
		{"a change shown as no change", func(p *Plan) {
			p.Actions[1].Changes = append(p.Actions[1].Changes, Change{Attribute: "companyName", Before: strPtr("Evil"), After: strPtr("Evil")})
		}, "the change of companyName changes nothing"},
		{"a clear shown as null -> null", func(p *Plan) {
			p.Actions[1].Changes = append(p.Actions[1].Changes, Change{Attribute: "jobTitle"})
		}, "the change of jobTitle changes nothing"},
		{"a create that does not say whether it is enabled", func(p *Plan) {
			var keep []Change
			for _, c := range p.Actions[0].Changes {
				if c.Attribute != "accountEnabled" {
					keep = append(keep, c)
				}
			}
			p.Actions[0].Changes = keep
		}, "a create must say whether the account is enabled"},
		{"key differing only in case", func(p *Plan) { p.Actions[2].Key = "1003"; p.Actions[0].Key = "1003" }, "the key also has action"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := basePlan(t)
			tt.edit(p)
			err := p.Validate(identity.EntraSchema())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestValidateRecomputesSummaryAndGuards(t *testing.T) {
	p, _ := basePlan(t)
	p.Summary.Create, p.Summary.Update, p.Summary.Disable = 0, 0, 0 // a forged "no changes"
	if err := p.Validate(identity.EntraSchema()); err != nil {
		t.Fatal(err)
	}
	if p.Summary.Create != 1 || p.Summary.Update != 1 || p.Summary.Disable != 1 || !p.Applyable {
		t.Errorf("summary = %+v applyable %v", p.Summary, p.Applyable)
	}

	r, _ := basePlan(t) // a forged "applyable" over the plan's own limit
	r.Policy.MaxLeavers = 1
	r.Actions = append(r.Actions, Action{Action: Disable, Key: "1010", ID: "u10", Changes: []Change{{Attribute: "accountEnabled", Before: strPtr("true"), After: strPtr("false")}}})
	r.Applyable, r.Blocked = true, nil
	if err := r.Validate(identity.EntraSchema()); err != nil {
		t.Fatal(err)
	}
	if r.Applyable || len(r.Blocked) != 1 {
		t.Errorf("a plan over max_leavers passed as applyable: %v %q", r.Applyable, r.Blocked)
	}
}

func TestRecheck(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(users []identity.User) []identity.User
		pol   Policy
		want  map[int]string // action index -> reason fragment
		block bool
	}{
		{"unchanged directory refuses nothing", func(u []identity.User) []identity.User { return u }, Policy{Leavers: "disable"}, nil, false},
		{"joiner's key now taken", func(u []identity.User) []identity.User {
			return append(u, user("u3", "1003", "userPrincipalName", "cy.other@contoso.com"))
		}, Policy{Leavers: "disable"}, map[int]string{0: "already holds employeeId 1003"}, false},
		{"joiner's UPN now taken", func(u []identity.User) []identity.User {
			return append(u, user("x", "", "userPrincipalName", "Cy.Dee@contoso.com"))
		}, Policy{Leavers: "disable"}, map[int]string{0: "userPrincipalName cy.dee@contoso.com is now held"}, false},
		{"mover edited in Entra", func(u []identity.User) []identity.User {
			u[0].Attrs.Set("department", "Edited")
			return u
		}, Policy{Leavers: "disable"}, map[int]string{1: "changed in the directory"}, false},
		{"leaver edited by an admin", func(u []identity.User) []identity.User {
			u[1].Attrs.Set("displayName", "Renamed")
			return u
		}, Policy{Leavers: "disable"}, map[int]string{2: "the plan names user u9"}, false},
		{"leaver's department edited", func(u []identity.User) []identity.User {
			u[1].Attrs.Set("department", "Edited")
			return u
		}, Policy{Leavers: "disable"}, map[int]string{2: "changed in the directory"}, false},
		{"leaver deleted", func(u []identity.User) []identity.User { return u[:1] }, Policy{Leavers: "disable"}, map[int]string{2: "no longer exists"}, false},
		{"joiner's key now taken in another case", func(u []identity.User) []identity.User {
			return append(u, user("u3", " 1003 ", "userPrincipalName", "x@contoso.com"))
		}, Policy{Leavers: "disable"}, map[int]string{0: "already holds"}, false},
		{"leaver's key removed", func(u []identity.User) []identity.User {
			u[1].Attrs.Delete("employeeId")
			return u
		}, Policy{Leavers: "disable"}, map[int]string{2: "does not hold employeeId 1009"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, users := basePlan(t)
			cp := make([]identity.User, len(users))
			for i, u := range users {
				attrs := identity.AttrsOf(map[string]string{})
				for k, v := range u.Attrs.All() {
					attrs.Set(k, v)
				}
				cp[i] = identity.User{ID: u.ID, Attrs: attrs, ManagerID: u.ManagerID}
			}
			got := Recheck(p, tt.edit(cp), tt.pol)
			if len(got) != len(tt.want) {
				t.Fatalf("refusals = %+v, want %v", got, tt.want)
			}
			for _, r := range got {
				if frag, ok := tt.want[r.Index]; !ok || !strings.Contains(r.Reason, frag) {
					t.Errorf("refusal %+v, want %q at %d", r, tt.want[r.Index], r.Index)
				}
			}
			if p.Applyable == tt.block {
				t.Errorf("applyable = %v", p.Applyable)
			}
		})
	}
	// The policy in force at apply time decides, not the one in the file.
	p, users := basePlan(t)
	p.Actions = append(p.Actions, p.Actions[2], p.Actions[2])
	Recheck(p, users, Policy{Leavers: "disable", MaxLeavers: 2})
	if p.Applyable {
		t.Error("a tightened policy did not block at apply time")
	}
	Recheck(p, users, Policy{Leavers: "disable"})
	if !p.Applyable {
		t.Error("no limits, yet blocked")
	}
}

// Edits a reviewer cannot see in show must not survive Recheck.
func TestRecheckRefusesRelabelledActions(t *testing.T) {
	tests := []struct {
		name string
		edit func(p *Plan, users []identity.User)
		want map[int]string
	}{
		{"manager id of someone else", func(p *Plan, u []identity.User) {
			p.Actions[0].Manager.ID = "u9" // shown as manager 1001, would set the leaver
		}, map[int]string{0: "is not the user holding employeeId 1001"}},
		{"manager created by nobody", func(p *Plan, u []identity.User) {
			p.Actions[0].Manager.ID = ""
			p.Actions[0].Manager.Key = "7777"
			for j := range p.Actions[0].Changes {
				if p.Actions[0].Changes[j].Attribute == "manager" {
					p.Actions[0].Changes[j].After = strPtr("7777")
				}
			}
		}, map[int]string{0: "neither in the directory nor created by the plan"}},
		{"leaver shown under another person's name", func(p *Plan, u []identity.User) {
			p.Actions[2].DisplayName = "Ann Lee"
		}, map[int]string{2: "the plan names user u9 as"}},
		{"a before that is not the directory's", func(p *Plan, u []identity.User) {
			p.Actions[1].Changes[0].Before = strPtr("Marketing") // the directory holds "Old"
		}, map[int]string{1: `the plan shows department of user u1 as "Marketing", but the directory holds "Old"`}},
		{"a lone employeeOrgData part that would clear the other", func(p *Plan, u []identity.User) {
			u[0].Attrs.Set("employeeOrgData.costCenter", "CC1")
			p.Actions[1].Fingerprint = Fingerprint(&u[0])
			p.Actions[1].Changes = append(p.Actions[1].Changes, Change{Attribute: "employeeOrgData.division", After: strPtr("Labs")})
		}, map[int]string{1: "would clear employeeOrgData.costCenter"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, users := basePlan(t)
			tt.edit(p, users)
			if err := p.Validate(identity.EntraSchema()); err != nil {
				t.Fatalf("validate: %v", err)
			}
			got := Recheck(p, users, Policy{Leavers: "disable"})
			if len(got) != len(tt.want) {
				t.Fatalf("refusals = %+v", got)
			}
			for _, r := range got {
				if !strings.Contains(r.Reason, tt.want[r.Index]) {
					t.Errorf("refusal %+v, want %q", r, tt.want[r.Index])
				}
			}
		})
	}
}

// What an earlier, interrupted apply already did is in effect, not stale.
func TestRecheckFindsWritesInEffect(t *testing.T) {
	p, users := basePlan(t)
	users[0].Attrs.Set("department", "Sales")                                        // the mover's patch went through
	users[1].Attrs.Set("accountEnabled", "false")                                    // so did the leaver's disable
	created := identity.User{ID: "n3", Attrs: identity.AttrsOf(map[string]string{})} // and the joiner's create
	for _, c := range p.Actions[0].Changes {
		if c.After != nil && c.Attribute != "manager" {
			created.Attrs.Set(c.Attribute, *c.After)
		}
	}
	users = append(users, created)
	got := RecheckWith(p, RecheckInput{Users: users, Policy: Policy{Leavers: "disable"}})
	if len(got.Refused) != 0 {
		t.Fatalf("refused %+v", got.Refused)
	}
	want := map[int]string{0: "write n3", 1: "write ", 2: "write "}
	if len(got.InEffect) != len(want) {
		t.Fatalf("in effect = %+v", got.InEffect)
	}
	for _, e := range got.InEffect {
		if g := strings.Join(e.Steps, ",") + " " + e.ID; g != want[e.Index] {
			t.Errorf("action %d in effect %q, want %q", e.Index, g, want[e.Index])
		}
	}
	// Another attribute edited as well: someone else changed the user,
	// so the action is stale even though its own values are in place.
	p, users = basePlan(t)
	users[0].Attrs.Set("department", "Sales")
	users[0].Attrs.Set("jobTitle", "Edited")
	got = RecheckWith(p, RecheckInput{Users: users, Policy: Policy{Leavers: "disable"}})
	if len(got.Refused) != 1 || got.Refused[0].Index != 1 || len(got.InEffect) != 0 {
		t.Fatalf("refused %+v, in effect %+v", got.Refused, got.InEffect)
	}
	// A joiner someone else created with other attributes is not adopted.
	p, users = basePlan(t)
	users = append(users, user("n3", "1003", "userPrincipalName", "cy.dee@contoso.com", "displayName", "SVC test"))
	got = RecheckWith(p, RecheckInput{Users: users, Policy: Policy{Leavers: "disable"}})
	if len(got.Refused) != 1 || got.Refused[0].Index != 0 {
		t.Fatalf("refused %+v, in effect %+v", got.Refused, got.InEffect)
	}
	// Actions the journal says an earlier apply began are not rechecked.
	p, users = basePlan(t)
	users[0].Attrs.Set("jobTitle", "Edited")
	got = RecheckWith(p, RecheckInput{Users: users, Policy: Policy{Leavers: "disable"}, Skip: map[int]bool{1: true}})
	if len(got.Refused) != 0 {
		t.Fatalf("refused %+v", got.Refused)
	}
}
