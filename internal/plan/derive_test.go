package plan

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/hrsync/hrsync/internal/identity"
)

// deriveScene is a plan with one of each action: a mover (department,
// manager, group), a joiner reporting to a joiner, a leaver losing a group
// and a license, a rehire restored from deleted items, a leaver due for
// deletion, and an enable.
func deriveScene() Input {
	attrs := append(append([]identity.AttrSpec(nil), lifeAttrs...), specs("usageLocation")...)
	withGroups := func(d identity.Desired, refs ...string) identity.Desired { ownExtras(&d).Groups = refs; return d }
	mover := withGroups(person("1", 2, "Ann Lee", "Engineering", "manager", "4"), "Engineering")
	boss := person("4", 3, "Dee Boss", "Engineering")
	joiner := withGroups(person("2", 4, "Bo Chen", "Sales", "manager", "5"), "Sales")
	newBoss := person("5", 5, "Eve New", "Sales")
	rehired := person("6", 6, "Fay Back", "Sales")
	back := person("7", 7, "Gus Again", "Sales")
	users := []identity.User{
		existing("u1", person("1", 2, "Ann Lee", "Sales"), "manager", "u9"),
		existing("u4", boss),
		user("u9", "9", "accountEnabled", "true", "displayName", "Gone", "userPrincipalName", "gone@contoso.com"),
		user("u8", "8", "accountEnabled", "false", "displayName", "Long Gone", "userPrincipalName", "long.gone@contoso.com",
			"employeeLeaveDateTime", date(-100)),
		existing("u7", back, "accountEnabled", "false", "employeeLeaveDateTime", date(-3)),
	}
	users[2].Licenses = []string{"sku-e3"}
	in := withAttrs(attrs, []identity.Desired{mover, boss, joiner, newBoss, rehired, back}, users)
	in.Policy.PrehireDays = 7
	in.Policy.LeaverRemoveGroups = true
	in.Policy.LeaverRemoveLicenses = true
	in.Policy.DeleteAfterDays = 30
	in.StampLeaveDate = true
	sales, eng := Entitlement{ID: "g-sales", Name: "Sales"}, Entitlement{ID: "g-eng", Name: "Engineering"}
	in.Groups = map[string]Entitlement{"sales": sales, "engineering": eng}
	in.Members = map[string]map[string]bool{"g-sales": {"u1": true, "u9": true}}
	in.Skus = map[string]Entitlement{"spe_e3": {ID: "sku-e3", Name: "SPE_E3"}}
	gone := existing("d6", person("6", 6, "Fay Back", "Marketing"), "accountEnabled", "false", "employeeLeaveDateTime", date(-60))
	in.Deleted = []identity.DeletedUser{{User: gone, DeletedAt: testNow.AddDate(0, 0, -10)}}
	return in
}

func scenePlan(t *testing.T) (*Plan, Input) {
	t.Helper()
	in := deriveScene()
	p, err := Compute(in)
	if err != nil {
		t.Fatal(err)
	}
	p.Match = MatchInfo{Target: "employeeId"}
	want := "create 2,create 5,restore 6,enable 7,update 1,disable 9,delete 8"
	if got := strings.Join(actionsOf(p), ","); got != want {
		t.Fatalf("scene actions = %s, want %s (warnings %v)", got, want, codesOf(p))
	}
	return p, in
}

// clonePlan deep-copies a plan through its file format, as apply reads it.
func clonePlan(t *testing.T, p *Plan) *Plan {
	t.Helper()
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var c Plan
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return &c
}

func TestRederiveAcceptsTheMappingsPlan(t *testing.T) {
	p, in := scenePlan(t)
	refused, err := Rederive(clonePlan(t, p), deriveScene(), nil)
	if err != nil || len(refused) != 0 {
		t.Fatalf("an untouched plan: refused %v, err %v", refused, err)
	}
	// The caller's users are not modified.
	if in.Users[0].Attrs.Get("department") != "Sales" {
		t.Error("Rederive changed its input")
	}
}

func TestRederiveRefusesEveryKindOfEdit(t *testing.T) {
	find := func(p *Plan, key string) *Action {
		for i := range p.Actions {
			if p.Actions[i].Key == key {
				return &p.Actions[i]
			}
		}
		t.Fatalf("no action %s", key)
		return nil
	}
	change := func(a *Action, attr string) *Change {
		for i := range a.Changes {
			if a.Changes[i].Attribute == attr {
				return &a.Changes[i]
			}
		}
		t.Fatalf("no change of %s in %s %s", attr, a.Action, a.Key)
		return nil
	}
	s := func(v string) *string { return &v }
	tests := []struct {
		name, key, want string
		edit            func(p *Plan)
	}{
		{"a mover turned into a leaver", "1", "the mapping gives update for key 1 from the source now, not disable", func(p *Plan) {
			a := find(p, "1")
			a.Action = Disable
			a.Changes = []Change{{Attribute: "accountEnabled", Before: s("true"), After: s("false")}}
			a.Manager, a.Groups = nil, nil
		}},
		{"an attribute value", "1", `department: the mapping gives "Engineering", not "Finance"`, func(p *Plan) {
			change(find(p, "1"), "department").After = s("Finance")
		}},
		{"an attribute added", "1", "jobTitle: the mapping gives no change of it", func(p *Plan) {
			a := find(p, "1")
			a.Changes = append(a.Changes, Change{Attribute: "jobTitle", After: s("CEO")})
		}},
		{"a joiner's UPN", "2", `the user is "Bo Chen" <bo.chen@contoso.com>`, func(p *Plan) {
			a := find(p, "2")
			a.UserPrincipalName = "root@contoso.com"
			change(a, "userPrincipalName").After = s("root@contoso.com")
		}},
		{"the target id", "1", "key 1 belongs to user u1, not u4", func(p *Plan) {
			find(p, "1").ID = "u4"
		}},
		{"the key", "4", "the mapping gives no action for key 4", func(p *Plan) {
			find(p, "9").Key = "4"
		}},
		{"a group", "1", "do not give the addition of group g-sales", func(p *Plan) {
			a := find(p, "1")
			a.Groups[0] = GroupChange{Op: OpAdd, GroupID: "g-sales", Name: "Sales"}
		}},
		{"a license", "9", "do not give the addition of license sku-e3", func(p *Plan) {
			find(p, "9").Licenses[0].Op = OpAdd
		}},
		{"a manager", "1", `manager: the mapping gives "4", not "9"`, func(p *Plan) {
			a := find(p, "1")
			a.Manager.Key, a.Manager.ID = "9", "u9"
			change(a, "manager").After = s("9")
		}},
		{"a disable of an active worker", "4", "the mapping gives no action for key 4", func(p *Plan) {
			p.Actions = append(p.Actions, Action{Action: Disable, Key: "4", ID: "u4", DisplayName: "Dee Boss",
				UserPrincipalName: "dee.boss@contoso.com", Changes: []Change{{Attribute: "accountEnabled", Before: s("true"), After: s("false")}}})
		}},
		{"a manager reference behind the change shown", "1", `the manager reference (key "4", id "u9")`, func(p *Plan) {
			find(p, "1").Manager.ID = "u9"
		}},
		{"a reason", "9", "the reason is", func(p *Plan) {
			find(p, "9").Reason = "requested by HR"
		}},
		{"a restore turned into a create", "6", "the mapping gives restore for key 6 from the source now, not create", func(p *Plan) {
			a := find(p, "6")
			a.Action, a.ID = Create, ""
		}},
		{"a redacted value shown plainly", "1", "Redact", func(p *Plan) {
			change(find(p, "1"), "department").Redacted = true
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := scenePlan(t)
			edited := clonePlan(t, p)
			tt.edit(edited)
			refused, err := Rederive(edited, deriveScene(), nil)
			if err != nil {
				t.Fatal(err)
			}
			var hit bool
			for _, r := range refused {
				a := edited.Actions[r.Index]
				if a.Key == tt.key && strings.Contains(r.Reason, tt.want) {
					hit = true
				}
			}
			if !hit {
				t.Errorf("refused %+v, want action %s refused with %q", refused, tt.key, tt.want)
			}
		})
	}
}

// An action the saved plan shows with fewer changes than the mapping gives
// does less, never something else: it is accepted.
func TestRederiveAcceptsFewerChanges(t *testing.T) {
	p, _ := scenePlan(t)
	edited := clonePlan(t, p)
	for i := range edited.Actions {
		if edited.Actions[i].Key == "9" {
			edited.Actions[i].Groups = nil
		}
	}
	if refused, err := Rederive(edited, deriveScene(), nil); err != nil || len(refused) != 0 {
		t.Fatalf("refused %v, err %v", refused, err)
	}
}

// A volatile attribute (RandomString, Guid) is checked for presence only.
func TestRederiveVolatileAttribute(t *testing.T) {
	p, _ := scenePlan(t)
	edited := clonePlan(t, p)
	for i := range edited.Actions {
		a := &edited.Actions[i]
		for j := range a.Changes {
			if a.Key == "2" && a.Changes[j].Attribute == "mailNickname" {
				v := "r4nd0m"
				a.Changes[j].After = &v
			}
		}
	}
	if refused, _ := Rederive(edited, deriveScene(), nil); len(refused) != 1 {
		t.Fatalf("without volatile: refused %v", refused)
	}
	if refused, _ := Rederive(edited, deriveScene(), map[string]bool{"mailNickname": true}); len(refused) != 0 {
		t.Fatalf("volatile: refused %v", refused)
	}
}

// A plan an earlier apply carried out in part (or whole) still derives:
// the view takes its own writes back.
func TestRederiveAfterTheseWritesLanded(t *testing.T) {
	p, _ := scenePlan(t)
	for n := 0; n <= len(p.Actions); n++ {
		part := clonePlan(t, p)
		part.Actions = part.Actions[:n] // an apply killed after n actions
		in := deriveScene()
		in.Users, in.Deleted = landed(part, in.Users, in.Deleted)
		refused, err := Rederive(clonePlan(t, p), in, nil)
		if err != nil || len(refused) != 0 {
			t.Fatalf("after %d actions landed: refused %v, err %v", n, refused, err)
		}
	}
}

// landed is the directory after every action of p was carried out.
func landed(p *Plan, users []identity.User, deleted []identity.DeletedUser) ([]identity.User, []identity.DeletedUser) {
	out := make([]identity.User, 0, len(users))
	for _, u := range users {
		c := u
		c.Attrs = identity.AttrsOf(map[string]string{})
		for k, v := range u.Attrs.All() {
			c.Attrs.Set(k, v)
		}
		out = append(out, c)
	}
	idOf := map[string]string{}
	for _, u := range out {
		idOf[Fold(u.Attrs.Get("employeeId"))] = u.ID
	}
	for _, a := range p.Actions {
		if a.Action == Create {
			idOf[Fold(a.Key)] = "new-" + a.Key
		}
		if a.Action == Restore {
			idOf[Fold(a.Key)] = a.ID
		}
	}
	var keptDeleted []identity.DeletedUser
	for _, du := range deleted {
		restored := false
		for _, a := range p.Actions {
			restored = restored || (a.Action == Restore && a.ID == du.ID)
		}
		if restored {
			out = append(out, du.User)
			continue
		}
		keptDeleted = append(keptDeleted, du)
	}
	for _, a := range p.Actions {
		var u *identity.User
		if a.Action == Create {
			out = append(out, identity.User{ID: "new-" + a.Key, Attrs: identity.AttrsOf(map[string]string{})})
		}
		for i := range out {
			if out[i].ID == a.ID || (a.Action == Create && out[i].ID == "new-"+a.Key) {
				u = &out[i]
			}
		}
		if a.Action == Delete {
			for i := range out {
				if out[i].ID == a.ID {
					keptDeleted = append(keptDeleted, identity.DeletedUser{User: out[i], DeletedAt: testNow})
					out = append(out[:i], out[i+1:]...)
					break
				}
			}
			continue
		}
		for _, c := range a.Changes {
			if c.Attribute == identity.Manager {
				continue
			}
			if c.After == nil {
				u.Attrs.Delete(c.Attribute)
			} else {
				u.Attrs.Set(c.Attribute, *c.After)
			}
		}
		if a.Manager != nil {
			u.ManagerID = idOf[Fold(a.Manager.Key)]
		}
	}
	return out, keptDeleted
}
