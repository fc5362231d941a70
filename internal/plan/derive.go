package plan

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/hrsync/hrsync/internal/identity"
)

// Rederive checks that every action of a saved plan is one the mapping
// gives from the source now: it computes the plan again from in (the
// source as read and mapped now, the plan's users as read now) with the
// saved plan's clock, and compares. It returns the actions the mapping
// does not give, each with the reason; apply refuses a plan with any.
//
// A plan file is data anyone who can write it can change, and any digest
// in it can be recomputed, so apply trusts no field of it: an action is
// carried out only when the recomputed plan holds the same action for the
// same key and user, with every change, manager reference, group and
// license the saved one shows (the saved one may show fewer). The
// directory view the plan is recomputed on is the users as read now with
// this plan's own writes taken back (an earlier, interrupted apply of it
// may have made some), so a resumed plan derives as it did when it was
// made. Group memberships and licenses are taken to be those the saved
// plan implies (a removal means held, an addition not held): what is
// checked is that each change is one the mapping's rules give, not who
// holds what now.
//
// volatile names attributes whose mapped value is random (RandomString,
// Guid): a second evaluation gives another value, so for them only the
// presence of a value is checked.
func Rederive(saved *Plan, in Input, volatile map[string]bool) ([]Refusal, error) {
	in.Now = saved.CreatedAt
	var approx map[int]bool
	in.Users, in.Deleted, approx = beforeView(saved, in.Schema, in.Users, in.Deleted)
	var held map[string][]string
	in.Members, held = impliedEntitlements(saved)
	if len(in.Skus) > 0 {
		for i := range in.Users {
			in.Users[i].Licenses = held[in.Users[i].ID]
		}
	}
	again, err := Compute(in)
	if err != nil {
		return nil, fmt.Errorf("compute the plan again from the source: %w", err)
	}
	return compareDerived(saved, again, volatile, approx), nil
}

// beforeView is the directory as the plan saw it, for the users its
// actions touch: users and deleted as read now, with the plan's own
// writes that the directory shows taken back — a joiner it created is
// not there yet, a user it restored is still deleted, one it deleted is
// still there, a patch and a manager change it made are undone. The
// inputs are not modified. approx marks the actions whose view is only
// close to what the plan saw (a restored user's deletion time is no
// longer known): their reason is not compared.
func beforeView(p *Plan, schema *identity.Schema, users []identity.User, deleted []identity.DeletedUser) ([]identity.User, []identity.DeletedUser, map[int]bool) {
	v := newUndo(p, schema, users, deleted)
	for i, a := range p.Actions {
		v.takeBack(i, a)
	}
	return v.users(), v.deleted(), v.approx
}

// undo builds beforeView: the directory as read, indexed, and what the
// plan's actions change in it.
type undo struct {
	p          *Plan
	schema     *identity.Schema
	in         []identity.User
	inDeleted  []identity.DeletedUser
	live       map[string]int // id -> index in in (the first of an id)
	byKey      map[string][]*identity.User
	gone       map[string]int            // id -> index in inDeleted
	replace    map[string]*identity.User // id -> the user as the plan saw it
	drop       map[string]bool           // live users the plan made (joiners, restores)
	revived    []identity.User           // deleted users the plan deleted
	revivedIDs map[string]bool
	undeleted  []identity.DeletedUser // live users the plan restored
	approx     map[int]bool
}

// newUndo indexes users and deleted for the actions of p.
func newUndo(p *Plan, schema *identity.Schema, users []identity.User, deleted []identity.DeletedUser) *undo {
	v := &undo{p: p, schema: schema, in: users, inDeleted: deleted,
		live: make(map[string]int, len(users)), byKey: map[string][]*identity.User{}, gone: make(map[string]int, len(deleted)),
		replace: map[string]*identity.User{}, drop: map[string]bool{}, revivedIDs: map[string]bool{}, approx: map[int]bool{}}
	for i := range users {
		u := &users[i]
		if _, dup := v.live[u.ID]; dup {
			continue
		}
		v.live[u.ID] = i
		if k := Fold(u.Attrs.Get(p.Match.Target)); k != "" {
			v.byKey[k] = append(v.byKey[k], u)
		}
	}
	for i := range deleted {
		v.gone[deleted[i].ID] = i
	}
	return v
}

// takeBack takes back what action i, a, shows in the directory.
func (v *undo) takeBack(i int, a Action) {
	signIn := v.schema.Roles.SignIn
	switch a.Action {
	case Create:
		for _, u := range v.byKey[Fold(a.Key)] {
			if a.UserPrincipalName != "" && strings.EqualFold(u.Attrs.Get(signIn), a.UserPrincipalName) {
				v.drop[u.ID] = true
			}
		}
		return
	case Delete:
		if _, ok := v.live[a.ID]; !ok {
			if j, ok := v.gone[a.ID]; ok {
				v.revived = append(v.revived, liveAgain(v.inDeleted[j].User, signIn, a.UserPrincipalName))
				v.revivedIDs[a.ID] = true
			}
		}
		return
	}
	j, ok := v.live[a.ID]
	if !ok {
		return
	}
	u := &v.in[j]
	patched := len(patchOf(a)) > 0 && afterHolds(a, u, v.schema.Roles.Enabled)
	rolled := rollBack(a, u, patched, managerHolds(a, u, v.byKey))
	if a.Action == Restore {
		rolled.ManagerID = "" // deleted items show no manager
		v.undeleted = append(v.undeleted, identity.DeletedUser{User: *rolled, DeletedAt: v.p.CreatedAt})
		v.drop[u.ID] = true
		v.approx[i] = true
		return
	}
	v.replace[u.ID] = rolled
}

// users are the live users as the plan saw them.
func (v *undo) users() []identity.User {
	out := make([]identity.User, 0, len(v.in)+len(v.revived))
	for i := range v.in {
		u := v.in[i]
		if v.drop[u.ID] {
			continue
		}
		if r := v.replace[u.ID]; r != nil {
			u = *r
		}
		out = append(out, u)
	}
	return append(out, v.revived...)
}

// deleted are the deleted users as the plan saw them.
func (v *undo) deleted() []identity.DeletedUser {
	out := make([]identity.DeletedUser, 0, len(v.inDeleted)+len(v.undeleted))
	for _, du := range v.inDeleted {
		if _, isLive := v.live[du.ID]; !isLive && !v.revivedIDs[du.ID] {
			out = append(out, du)
		}
	}
	return append(out, v.undeleted...)
}

// liveAgain is deleted user u as it was before the delete: Entra renames a
// deleted user's userPrincipalName with a prefix (its object id), which
// the reader strips only where it can tell it; upn is the sign-in name
// (attribute signIn) the plan showed.
func liveAgain(u identity.User, signIn, upn string) identity.User {
	now := u.Attrs.Get(signIn)
	if upn == "" || strings.EqualFold(now, upn) || !strings.HasSuffix(strings.ToLower(now), strings.ToLower(upn)) {
		return u
	}
	attrs := u.Attrs.Clone()
	attrs.Set(signIn, upn)
	u.Attrs = attrs
	return u
}

// managerHolds reports whether user u's manager is already the one action
// a sets.
func managerHolds(a Action, u *identity.User, byKey map[string][]*identity.User) bool {
	m := a.Manager
	switch {
	case m == nil:
		return false
	case m.Key == "":
		return u.ManagerID == ""
	case m.ID != "":
		return u.ManagerID == m.ID
	}
	hs := byKey[Fold(m.Key)]
	return len(hs) == 1 && u.ManagerID == hs[0].ID
}

// impliedEntitlements lists the group memberships (group id -> member
// ids) and direct licenses (user id -> sku ids) the saved plan implies
// its users hold: a removal means held, anything else not held.
func impliedEntitlements(p *Plan) (map[string]map[string]bool, map[string][]string) {
	members := map[string]map[string]bool{}
	licenses := map[string][]string{}
	for _, a := range p.Actions {
		if a.ID == "" {
			continue
		}
		for _, g := range a.Groups {
			if g.Op != OpRemove {
				continue
			}
			if members[g.GroupID] == nil {
				members[g.GroupID] = map[string]bool{}
			}
			members[g.GroupID][a.ID] = true
		}
		for _, l := range a.Licenses {
			if l.Op == OpRemove {
				licenses[a.ID] = append(licenses[a.ID], l.SkuID)
			}
		}
	}
	for _, ids := range licenses {
		sort.Strings(ids)
	}
	return members, licenses
}

// compareDerived lists the saved actions the recomputed plan does not
// hold: each must be there for the same key, of the same kind, for the
// same user, with the same lifecycle event and reason and every change,
// manager reference, group and license the saved one shows.
func compareDerived(saved, again *Plan, volatile map[string]bool, approx map[int]bool) []Refusal {
	byKey := make(map[string]*Action, len(again.Actions))
	for i := range again.Actions {
		byKey[Fold(again.Actions[i].Key)] = &again.Actions[i]
	}
	var out []Refusal
	for i, a := range saved.Actions {
		b := byKey[Fold(a.Key)]
		if why := derivedDiff(a, b, volatile, approx[i]); why != "" {
			out = append(out, Refusal{Index: i, Reason: why})
		}
	}
	return out
}

// derivedDiff says how saved action a differs from b, what the mapping
// gives for its key now ("" when a is one b holds).
func derivedDiff(a Action, b *Action, volatile map[string]bool, approx bool) string {
	if b == nil {
		return fmt.Sprintf("the mapping gives no action for key %s from the source now", a.Key)
	}
	switch {
	case a.Action != b.Action:
		return fmt.Sprintf("the mapping gives %s for key %s from the source now, not %s", b.Action, a.Key, a.Action)
	case a.Key != b.Key:
		return fmt.Sprintf("the key is %q in the source, not %q", b.Key, a.Key)
	case a.ID != b.ID:
		return fmt.Sprintf("key %s belongs to user %s, not %s", a.Key, cmp.Or(b.ID, "(none)"), cmp.Or(a.ID, "(none)"))
	case a.DisplayName != b.DisplayName || !strings.EqualFold(a.UserPrincipalName, b.UserPrincipalName):
		return fmt.Sprintf("the user is %q <%s>, not %q <%s>", b.DisplayName, b.UserPrincipalName, a.DisplayName, a.UserPrincipalName)
	case a.Event != b.Event:
		return fmt.Sprintf("the lifecycle event is %q, not %q", b.Event, a.Event)
	case a.Reason != b.Reason && !approx:
		return fmt.Sprintf("the reason is %q, not %q", b.Reason, a.Reason)
	}
	for _, c := range a.Changes {
		if why := changeDiff(c, b.Changes, volatile[c.Attribute]); why != "" {
			return why
		}
	}
	if m := a.Manager; m != nil {
		// A reference without an id is to the user the plan creates with
		// that key: apply takes the id from the create, so it can only be
		// that manager (or none, when the create is refused).
		n := b.Manager
		if n == nil || n.Key != m.Key || (m.ID != "" && n.ID != m.ID) || n.BeforeID != m.BeforeID {
			return fmt.Sprintf("the manager reference (key %q, id %q) is not the one the mapping gives (%s)", m.Key, m.ID, describeRef(n))
		}
	}
	for _, g := range a.Groups {
		if !slices.ContainsFunc(b.Groups, func(h GroupChange) bool {
			return h.Op == g.Op && strings.EqualFold(h.GroupID, g.GroupID) && h.Name == g.Name
		}) {
			return fmt.Sprintf("the mapping's rules do not give %s of group %s (%q)", opNoun(g.Op), g.GroupID, g.Name)
		}
	}
	for _, l := range a.Licenses {
		if !slices.ContainsFunc(b.Licenses, func(h LicenseChange) bool {
			return h.Op == l.Op && strings.EqualFold(h.SkuID, l.SkuID) && h.Name == l.Name
		}) {
			return fmt.Sprintf("the mapping's rules do not give %s of license %s (%s)", opNoun(l.Op), l.SkuID, l.Name)
		}
	}
	return ""
}

// changeDiff says how change c differs from the one in given for its
// attribute ("" when the same).
func changeDiff(c Change, given []Change, volatile bool) string {
	for _, g := range given {
		if g.Attribute != c.Attribute {
			continue
		}
		hide := c.Redacted || g.Redacted
		switch {
		case volatile && (c.After != nil) == (g.After != nil) && sameValue(c.Before, g.Before):
			return ""
		case !sameValue(c.After, g.After):
			return fmt.Sprintf("%s: the mapping gives %s, not %s", c.Attribute, showValue(g.After, hide), showValue(c.After, hide))
		case !sameValue(c.Before, g.Before):
			return fmt.Sprintf("%s: the directory holds %s, not %s", c.Attribute, showValue(g.Before, hide), showValue(c.Before, hide))
		case c.Redacted != g.Redacted:
			return fmt.Sprintf("%s: the mapping's Redact is %v, not %v", c.Attribute, g.Redacted, c.Redacted)
		}
		return ""
	}
	return fmt.Sprintf("%s: the mapping gives no change of it", c.Attribute)
}

func sameValue(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// showValue quotes a value for a refusal, unless the mapping redacts it.
func showValue(v *string, redacted bool) string {
	switch {
	case v == nil:
		return "(unset)"
	case redacted:
		return "(redacted)"
	}
	return fmt.Sprintf("%q", *v)
}

func describeRef(m *ManagerRef) string {
	if m == nil {
		return "none"
	}
	return fmt.Sprintf("key %q, id %q", m.Key, m.ID)
}

func opNoun(op string) string {
	if op == OpRemove {
		return "the removal"
	}
	return "the addition"
}
