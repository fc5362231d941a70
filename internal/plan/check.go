package plan

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hrsync/hrsync/internal/identity"
)

// Validate checks that a plan is consistent with itself and recomputes what
// derives from its actions — the summary counts and the leaver guards — so
// a hand-edited file cannot show one thing and do another. Only actions
// Compute could have produced pass: no create-only attribute on an existing
// user, no change of the match attribute, an id on every non-create, an
// enablement change only in enable and disable actions.
func (p *Plan) Validate(schema *identity.Schema) error {
	var errs []error
	match := p.Match.Target
	if spec, ok := schema.Lookup(match); !ok || !spec.Matchable {
		errs = append(errs, fmt.Errorf("match.target %q is not a match attribute", match))
	}
	keys := make(map[string]int, len(p.Actions))
	for i, a := range p.Actions {
		v := actionCheck{schema: schema, match: match, i: i, a: a, errs: &errs}
		if a.Key == "" {
			v.bad("no key")
		}
		if prev, dup := keys[Fold(a.Key)]; dup {
			v.bad("the key also has action %d", prev+1)
		}
		keys[Fold(a.Key)] = i
		v.check()
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	p.recount(schema)
	p.Blocked = guards(p.Actions, p.Policy, p.Summary.Managed, p.Summary.ActiveManaged, p.Inputs.Source.Records)
	p.Applyable = len(p.Blocked) == 0
	return nil
}

// actionCheck validates action i of a plan, adding what is wrong with it
// to errs.
type actionCheck struct {
	schema *identity.Schema
	match  string // the plan's match attribute
	i      int
	a      Action
	errs   *[]error
}

// bad records a problem of the action.
func (v actionCheck) bad(format string, args ...any) {
	*v.errs = append(*v.errs, fmt.Errorf("action %d (%s %s): %s", v.i+1, v.a.Action, v.a.Key, fmt.Sprintf(format, args...)))
}

// written is what an action's changes write, as the checks of its kind
// need it.
type written struct {
	enabled *string           // the account state it sets, if it does
	manager *Change           // its manager change, if any
	after   map[string]string // the values it sets
}

// check checks everything of one action but its key: its changes, its
// manager, entitlements and revocation, and what its kind must do.
func (v actionCheck) check() {
	a, r := v.a, v.schema.Roles
	w := v.changes()
	v.manager(w.manager)
	validateEntitlements(a, v.bad)
	if a.Revoke && (a.Action != Update || w.enabled != nil || !v.schema.RevokesSessions) {
		v.bad("only an update of a disabled user revokes its sessions, where the directory has any")
	}
	switch a.Action {
	case Create:
		v.create(w)
	case Delete:
		if a.ID == "" {
			v.bad("no user id")
		}
		if len(a.Changes) > 0 || len(a.Groups) > 0 || len(a.Licenses) > 0 || a.Manager != nil {
			v.bad("a delete changes nothing else")
		}
	case Restore:
		if a.ID == "" {
			v.bad("no id of the deleted user")
		}
	case Update, Enable, Disable:
		if a.ID == "" {
			v.bad("no user id")
		}
		want := map[string]string{Enable: "true", Disable: "false"}[a.Action]
		switch {
		case want == "" && w.enabled != nil:
			v.bad("an update does not change %s", r.Enabled)
		case want != "" && (w.enabled == nil || *w.enabled != want):
			v.bad("must set %s to %s", r.Enabled, want)
		}
	default:
		v.bad("unknown action %q", a.Action)
	}
}

// changes checks the attribute changes of the action, each on its own:
// a known attribute, changed once, to a value it may take in this kind
// of action.
func (v actionCheck) changes() written {
	a, r := v.a, v.schema.Roles
	w := written{after: map[string]string{}}
	seen := map[string]bool{}
	for j, c := range a.Changes {
		if seen[c.Attribute] {
			v.bad("%s is changed twice", c.Attribute)
		}
		seen[c.Attribute] = true
		if c.After != nil {
			w.after[c.Attribute] = *c.After
		}
		switch {
		case c.Before == nil && c.After == nil && a.Action != Create:
			v.bad("the change of %s changes nothing", c.Attribute)
		case c.Before != nil && c.After != nil && *c.Before == *c.After && v.schema.WholeWith(c.Attribute) == nil:
			v.bad("the change of %s changes nothing", c.Attribute)
		}
		if c.Attribute == identity.Manager {
			w.manager = &a.Changes[j]
			continue
		}
		spec, ok := v.schema.Lookup(c.Attribute)
		if !ok || spec.Name != c.Attribute {
			v.bad("unknown attribute %q", c.Attribute)
			continue
		}
		if c.Attribute == r.Enabled {
			w.enabled = c.After
			if c.After == nil || (*c.After != "true" && *c.After != "false") {
				v.bad("%s must become true or false", r.Enabled)
			}
		}
		if a.Action != Create && spec.CreateOnly {
			v.bad("%s is set on create only", c.Attribute)
		}
		if c.Attribute == v.match && (c.After == nil || *c.After != a.Key) {
			v.bad("changes the match attribute %s", v.match)
		}
	}
	return w
}

// manager checks that the manager change shown agrees with the manager
// reference apply sets.
func (v actionCheck) manager(change *Change) {
	ref := v.a.Manager
	// What a reviewer reads (the change) must be what apply does (the reference).
	switch {
	case (change != nil) != (ref != nil):
		v.bad("the manager change and the manager reference disagree")
	case ref != nil && (change.After == nil) != (ref.Key == ""):
		v.bad("the manager change and the manager reference disagree")
	case ref != nil && change.After != nil && *change.After != ref.Key:
		v.bad("the manager change shows %q but the reference is %q", *change.After, ref.Key)
	}
}

// create checks that a create is shown as what it creates, with its key
// and its account state.
func (v actionCheck) create(w written) {
	a, r := v.a, v.schema.Roles
	if a.ID != "" {
		v.bad("a create has no id")
	}
	if a.UserPrincipalName != w.after[r.SignIn] || a.DisplayName != w.after[r.DisplayName] {
		v.bad("the joiner is shown as %q <%s> but would be created as %q <%s>", a.DisplayName, a.UserPrincipalName, w.after[r.DisplayName], w.after[r.SignIn])
	}
	if Fold(w.after[v.match]) != Fold(a.Key) {
		v.bad("a create must set %s to its key", v.match)
	}
	if w.enabled == nil {
		v.bad("a create must say whether the account is enabled")
	}
}

// validateEntitlements checks an action's group and license changes:
// known operations, ids, nothing twice, and only additions for a joiner.
func validateEntitlements(a Action, bad func(format string, args ...any)) {
	groups := map[string]bool{}
	for _, g := range a.Groups {
		switch {
		case g.Op != OpAdd && g.Op != OpRemove:
			bad("unknown group operation %q", g.Op)
		case g.GroupID == "":
			bad("a group change without a group id")
		case groups[strings.ToLower(g.GroupID)]:
			bad("group %s is changed twice", g.GroupID)
		case g.Op == OpRemove && a.Action == Create:
			bad("a create only adds groups")
		case g.Op == OpAdd && a.Action == Disable:
			bad("a disable only removes groups")
		}
		groups[strings.ToLower(g.GroupID)] = true
	}
	skus := map[string]bool{}
	for _, l := range a.Licenses {
		switch {
		case l.Op != OpAdd && l.Op != OpRemove:
			bad("unknown license operation %q", l.Op)
		case l.SkuID == "":
			bad("a license change without a sku id")
		case skus[strings.ToLower(l.SkuID)]:
			bad("license %s is changed twice", l.SkuID)
		case l.Op == OpRemove && a.Action == Create:
			bad("a create only adds licenses")
		case l.Op == OpAdd && a.Action == Disable:
			bad("a disable only removes licenses")
		}
		skus[strings.ToLower(l.SkuID)] = true
	}
}

// recount sets the action counts of the summary from the actions.
func (p *Plan) recount(schema *identity.Schema) {
	s := &p.Summary
	s.Create, s.Update, s.Enable, s.Disable, s.Delete, s.Restore = 0, 0, 0, 0, 0, 0
	s.GroupAdds, s.GroupRemoves, s.LicenseChanges = 0, 0, 0
	for i := range p.Actions {
		// Derived, never trusted from a plan file.
		p.Actions[i].Lifecycle = classify(p.Actions[i], schema)
	}
	p.classify()
	for _, a := range p.Actions {
		switch a.Action {
		case Create:
			s.Create++
		case Update:
			s.Update++
		case Enable:
			s.Enable++
		case Disable:
			s.Disable++
		case Delete:
			s.Delete++
		case Restore:
			s.Restore++
		}
		for _, g := range a.Groups {
			if g.Op == OpAdd {
				s.GroupAdds++
			} else {
				s.GroupRemoves++
			}
		}
		s.LicenseChanges += len(a.Licenses)
	}
}

// guards lists why a plan must not be applied: more leavers than the
// policy allows, as a count or a share of the managed users (in the spirit
// of Entra's accidental-deletion threshold), more creates or updates than
// allowed, or a source much smaller than the managed users (records is 0
// when unknown).
func guards(actions []Action, pol Policy, managed, active, records int) []string {
	leavers, creates, updates := 0, 0, 0
	for _, a := range actions {
		switch {
		case a.Action == Update && takesAccessOnly(a):
			leavers++ // a leaver's leftover groups and licenses
			continue
		}
		switch a.Action {
		case Disable, Delete:
			leavers++
		case Create:
			creates++
		case Update, Enable, Restore:
			updates++
		}
	}
	var blocked []string
	if pol.MaxSourceDropPercent > 0 && records > 0 && active > LeaverPercentFloor {
		if drop := 100 * float64(active-records) / float64(active); drop > pol.MaxSourceDropPercent {
			blocked = append(blocked, fmt.Sprintf("the source holds %d records, %.1f%% fewer than the %d enabled managed users, over policy.max_source_drop_percent (%g%%): is the export truncated?", records, drop, active, pol.MaxSourceDropPercent))
		}
	}
	if pol.MaxCreates > 0 && creates > pol.MaxCreates {
		blocked = append(blocked, fmt.Sprintf("%d creates exceed policy.max_creates (%d)", creates, pol.MaxCreates))
	}
	if pol.MaxUpdates > 0 && updates > pol.MaxUpdates {
		blocked = append(blocked, fmt.Sprintf("%d updates exceed policy.max_updates (%d)", updates, pol.MaxUpdates))
	}
	if pol.MaxLeavers > 0 && leavers > pol.MaxLeavers {
		blocked = append(blocked, fmt.Sprintf("%d leavers exceed policy.max_leavers (%d)", leavers, pol.MaxLeavers))
	}
	if pol.MaxLeaversPercent > 0 && managed > 0 && leavers > LeaverPercentFloor {
		if pct := 100 * float64(leavers) / float64(managed); pct > pol.MaxLeaversPercent {
			blocked = append(blocked, fmt.Sprintf("%d leavers are %.1f%% of %d managed users, over policy.max_leavers_percent (%g%%)", leavers, pct, managed, pol.MaxLeaversPercent))
		}
	}
	return blocked
}

// takesAccessOnly reports whether an action only removes group
// memberships and licenses: what is left of a leaver.
func takesAccessOnly(a Action) bool {
	if len(a.Changes) > 0 || a.Manager != nil || (len(a.Groups)+len(a.Licenses) == 0 && !a.Revoke) {
		return false
	}
	for _, g := range a.Groups {
		if g.Op != OpRemove {
			return false
		}
	}
	for _, l := range a.Licenses {
		if l.Op != OpRemove {
			return false
		}
	}
	return true
}

// setsKey reports whether an update gives its user the match key (a
// takeover of an account that had none).
func setsKey(a Action, match string) bool {
	for _, c := range a.Changes {
		if c.Attribute == match && c.Before == nil && c.After != nil && Fold(*c.After) == Fold(a.Key) {
			return true
		}
	}
	return false
}

// checkBefore verifies that every "before" the plan shows is what the
// directory holds now, so a reviewer saw the change apply makes, and that
// an update touching one part of a group of attributes the directory
// writes whole (Entra's employeeOrgData) does not clear the others.
func checkBefore(a Action, u *identity.User, byID map[string]*identity.User, match string, schema *identity.Schema) string {
	shown := map[string]bool{}
	for _, c := range a.Changes {
		shown[c.Attribute] = true
		now := u.Attrs.Get(c.Attribute)
		if c.Attribute == identity.Manager {
			now = ""
			if u.ManagerID != "" {
				now = managerLabel(byID, match, schema.Roles.SignIn, u.ManagerID)
			}
		}
		before := ""
		if c.Before != nil {
			before = *c.Before
		}
		if before != now {
			return fmt.Sprintf("the plan shows %s of user %s as %q, but the directory holds %q", c.Attribute, a.ID, before, now)
		}
	}
	for _, group := range schema.WrittenWhole {
		touched := false
		for _, part := range group {
			touched = touched || shown[part]
		}
		for _, part := range group {
			if touched && !shown[part] && u.Attrs.Get(part) != "" {
				return fmt.Sprintf("the plan would clear %s of user %s (the directory writes %s whole) without showing it", part, a.ID, strings.Join(group, " and "))
			}
		}
	}
	return ""
}

// Refusal is a plan action apply must not carry out because the directory
// changed since the plan was made.
type Refusal struct {
	Index  int
	Reason string
}

// Steps of an action that Recheck can find already in effect.
const (
	StepRestore  = "restore"
	StepWrite    = "write"
	StepDelete   = "delete"
	StepManager  = "manager"
	StepLicenses = "licenses"
)

// InEffect is an action whose main write the directory already shows:
// an earlier apply of this plan made it but was killed before it could
// record it. Apply does not send those steps again.
type InEffect struct {
	Index int
	Steps []string
	// ID is the user's object id, for a create found done.
	ID string
}

// RecheckInput is the directory as read again just before apply.
type RecheckInput struct {
	Users   []identity.User
	Deleted []identity.DeletedUser
	// Schema is the target's; nil means the one of the plan's target type.
	Schema *identity.Schema
	Policy Policy
	// Partial says Users holds only the users the plan touches (a
	// targeted re-read), so the managed counts stay the plan's.
	Partial bool
	// Skip holds actions an earlier apply of this plan began (its journal
	// says so): hrsync's own writes changed them, so they are not rechecked.
	Skip map[int]bool
}

// RecheckResult says which actions apply must refuse, and which are
// already in effect.
type RecheckResult struct {
	Refused  []Refusal
	InEffect []InEffect
}

// Recheck compares a saved plan with all the users read again just before
// apply; see RecheckWith.
func Recheck(p *Plan, users []identity.User, pol Policy) []Refusal {
	return RecheckWith(p, RecheckInput{Users: users, Policy: pol}).Refused
}

// RecheckWith compares a saved plan with the users read again just before
// apply. Every action whose user changed since the plan — edited, deleted,
// moved out of scope, or (for a create) whose key or UPN someone now holds
// — is refused, so apply never acts on a picture that is no longer true.
// An action whose result the directory already shows (an earlier,
// interrupted apply made it) is in effect, not refused. The guards are
// recomputed with the policy in force now.
func RecheckWith(p *Plan, in RecheckInput) RecheckResult {
	schema := in.Schema
	if schema == nil {
		schema = p.Schema()
	}
	c := newRechecker(p, in, schema)
	for i, a := range p.Actions {
		if in.Skip[i] {
			continue
		}
		var ok bool // false: refused, so its manager is not checked
		switch a.Action {
		case Create:
			ok = c.create(i, a)
		case Restore:
			ok = c.restore(i, a)
		default:
			ok = c.existing(i, a)
		}
		if ok {
			c.manager(i, a)
		}
	}
	c.res.InEffect = unlessRefused(c.res)
	p.Policy = in.Policy
	if !in.Partial {
		p.Summary.Managed, p.Summary.ActiveManaged = c.managed, c.active
	}
	p.Blocked = guards(p.Actions, in.Policy, p.Summary.Managed, p.Summary.ActiveManaged, p.Inputs.Source.Records)
	p.Applyable = len(p.Blocked) == 0
	return c.res
}

// rechecker owns one RecheckWith: the directory as read again, indexed
// the ways the actions are checked, and the verdicts found so far.
type rechecker struct {
	schema                 *identity.Schema
	match, signIn, enabled string

	byID    map[string]*identity.User
	byKey   map[string][]*identity.User // folded match key -> its holders
	upns    map[string]*identity.User   // lower-cased sign-in name -> its holder
	deleted map[string]*identity.DeletedUser
	// creating holds the folded keys the plan creates or restores.
	creating        map[string]bool
	managed, active int

	res RecheckResult
}

// newRechecker indexes the users and deleted users of in for plan p.
func newRechecker(p *Plan, in RecheckInput, schema *identity.Schema) *rechecker {
	c := &rechecker{
		schema: schema, match: p.Match.Target,
		signIn: schema.Roles.SignIn, enabled: schema.Roles.Enabled,
		byID:     make(map[string]*identity.User, len(in.Users)),
		byKey:    make(map[string][]*identity.User),
		upns:     make(map[string]*identity.User, len(in.Users)),
		deleted:  make(map[string]*identity.DeletedUser, len(in.Deleted)),
		creating: map[string]bool{},
	}
	for i := range in.Users {
		u := &in.Users[i]
		if c.byID[u.ID] != nil {
			continue // read twice by a targeted re-read
		}
		c.byID[u.ID] = u
		if upn := u.Attrs.Get(c.signIn); upn != "" {
			c.upns[strings.ToLower(upn)] = u
		}
		if k := Fold(u.Attrs.Get(c.match)); k != "" {
			c.byKey[k] = append(c.byKey[k], u)
			c.managed++
			if u.Attrs.Get(c.enabled) != "false" {
				c.active++
			}
		}
	}
	for i := range in.Deleted {
		c.deleted[in.Deleted[i].ID] = &in.Deleted[i]
	}
	for _, a := range p.Actions {
		if a.Action == Create || a.Action == Restore {
			c.creating[Fold(a.Key)] = true
		}
	}
	return c
}

// refuse records that apply must not carry out action i.
func (c *rechecker) refuse(i int, format string, args ...any) {
	c.res.Refused = append(c.res.Refused, Refusal{Index: i, Reason: fmt.Sprintf(format, args...)})
}

// inEffect records steps of action i the directory already shows.
func (c *rechecker) inEffect(i int, id string, steps ...string) {
	c.res.InEffect = append(c.res.InEffect, InEffect{Index: i, Steps: steps, ID: id})
}

// create rechecks a create: nobody may hold its key or UPN now, unless an
// earlier apply created the very user. It reports false when it refused
// the action.
func (c *rechecker) create(i int, a Action) bool {
	if us := c.byKey[Fold(a.Key)]; len(us) > 0 {
		if len(us) == 1 && a.UserPrincipalName != "" && strings.EqualFold(us[0].Attrs.Get(c.signIn), a.UserPrincipalName) && afterHolds(a, us[0], c.enabled) {
			// An earlier apply created it (every attribute as the
			// plan says); its answer or journal line was lost.
			c.inEffect(i, us[0].ID, StepWrite)
			return true
		}
		c.refuse(i, "user %s already holds %s %s; the plan is stale", us[0].ID, c.match, a.Key)
		return false
	}
	if u := c.upns[strings.ToLower(a.UserPrincipalName)]; u != nil && a.UserPrincipalName != "" {
		c.refuse(i, "%s %s is now held by user %s; the plan is stale", c.signIn, a.UserPrincipalName, u.ID)
		return false
	}
	return true
}

// restore rechecks a restore: the deleted user is still in deleted items
// as the plan saw it, and its key and UPN are free, or an earlier apply
// restored it. It reports false when it refused the action.
func (c *rechecker) restore(i int, a Action) bool {
	if holder := otherHolder(c.byKey[Fold(a.Key)], a.ID); holder != nil {
		c.refuse(i, "user %s now holds %s %s; restoring %s would give the key to two users", holder.ID, c.match, a.Key, a.ID)
		return false
	}
	du := c.deleted[a.ID]
	if du == nil {
		return c.restored(i, a)
	}
	if Fold(du.Attrs.Get(c.match)) != Fold(a.Key) {
		c.refuse(i, "deleted user %s does not hold %s %s", a.ID, c.match, a.Key)
		return false
	}
	if a.Fingerprint == "" || Fingerprint(&du.User) != a.Fingerprint {
		c.refuse(i, "deleted user %s changed since the plan was made", a.ID)
		return false
	}
	if u := c.upns[strings.ToLower(du.Attrs.Get(c.signIn))]; u != nil && u.ID != a.ID {
		c.refuse(i, "%s %s of deleted user %s is now held by user %s", c.signIn, du.Attrs.Get(c.signIn), a.ID, u.ID)
		return false
	}
	return true
}

// restored rechecks a restore whose user is no longer in deleted items:
// in effect if an earlier apply of this plan restored it, else refused.
func (c *rechecker) restored(i int, a Action) bool {
	u := c.byID[a.ID]
	if u == nil || Fold(u.Attrs.Get(c.match)) != Fold(a.Key) {
		c.refuse(i, "deleted user %s is no longer in deleted items (restored or purged since the plan)", a.ID)
		return false
	}
	// Restored since the plan: by an earlier apply of this plan
	// only if, without the plan's own writes, it is as the plan
	// saw it.
	patched := afterHolds(a, u, c.enabled)
	rolled := rollBack(a, u, patched, false)
	rolled.ManagerID = "" // deleted items show no manager
	if Fingerprint(rolled) != a.Fingerprint {
		c.refuse(i, "user %s was restored and changed since the plan was made", a.ID)
		return false
	}
	steps := []string{StepRestore}
	if patched {
		steps = append(steps, StepWrite)
	}
	c.inEffect(i, "", steps...)
	return true
}

// existing rechecks an action on an existing user (update, enable,
// disable, delete): the user still holds the key and is as the plan saw
// it, or shows the action's own writes. It reports false when it refused
// the action.
func (c *rechecker) existing(i int, a Action) bool {
	match, signIn := c.match, c.signIn
	u := c.byID[a.ID]
	if u == nil && a.Action == Delete {
		if du := c.deleted[a.ID]; du != nil && Fold(du.Attrs.Get(match)) == Fold(a.Key) {
			c.inEffect(i, "", StepDelete) // deleted by an earlier apply of this plan
			return true
		}
	}
	// A takeover by a further match rule gives the user the key.
	takeover := u != nil && u.Attrs.Get(match) == "" && setsKey(a, match)
	holders := c.byKey[Fold(a.Key)]
	switch {
	case u == nil:
		c.refuse(i, "user %s no longer exists", a.ID)
		return false
	case takeover && len(holders) > 0:
		c.refuse(i, "user %s now holds %s %s; the plan is stale", holders[0].ID, match, a.Key)
		return false
	case !takeover && Fold(u.Attrs.Get(match)) != Fold(a.Key) && !(setsKey(a, match) && afterHolds(a, u, c.enabled)):
		c.refuse(i, "user %s does not hold %s %s", a.ID, match, a.Key)
		return false
	case len(holders) > 1:
		c.refuse(i, "%d users now hold %s %s", len(holders), match, a.Key)
		return false
	case !strings.EqualFold(a.UserPrincipalName, u.Attrs.Get(signIn)) || a.DisplayName != u.Attrs.Get(c.schema.Roles.DisplayName):
		if steps := stepsInEffect(a, u, c.byKey, c.enabled); len(steps) > 0 && strings.EqualFold(a.UserPrincipalName, u.Attrs.Get(signIn)) {
			c.inEffect(i, "", steps...) // the new display name is the plan's own
			return true
		}
		c.refuse(i, "the plan names user %s as %q <%s>, but the directory says %q <%s>", a.ID, a.DisplayName, a.UserPrincipalName, u.Attrs.Get(c.schema.Roles.DisplayName), u.Attrs.Get(signIn))
		return false
	case a.Fingerprint == "" || Fingerprint(u) != a.Fingerprint:
		if steps := stepsInEffect(a, u, c.byKey, c.enabled); len(steps) > 0 {
			c.inEffect(i, "", steps...)
			return true
		}
		c.refuse(i, "user %s changed in the directory since the plan was made", a.ID)
		return false
	}
	if reason := checkBefore(a, u, c.byID, match, c.schema); reason != "" {
		c.refuse(i, "%s", reason)
		return false
	}
	return true
}

// manager rechecks the manager an action sets: in the directory as the
// user holding its key, or created by the plan.
func (c *rechecker) manager(i int, a Action) {
	m := a.Manager
	if m == nil || m.Key == "" {
		return
	}
	switch mgr := c.byID[m.ID]; {
	case m.ID == "" && !c.creating[Fold(m.Key)]:
		c.refuse(i, "manager %s is neither in the directory nor created by the plan", m.Key)
	case m.ID != "" && mgr == nil:
		c.refuse(i, "manager %s (%s) no longer exists", m.Key, m.ID)
	case m.ID != "" && Fold(mgr.Attrs.Get(c.match)) != Fold(m.Key):
		c.refuse(i, "the manager reference %s is not the user holding %s %s", m.ID, c.match, m.Key)
	}
}

// unlessRefused drops the in-effect verdicts of refused actions: a
// refusal found after an in-effect verdict (the manager) wins.
func unlessRefused(res RecheckResult) []InEffect {
	refused := map[int]bool{}
	for _, r := range res.Refused {
		refused[r.Index] = true
	}
	kept := res.InEffect[:0]
	for _, e := range res.InEffect {
		if !refused[e.Index] {
			kept = append(kept, e)
		}
	}
	return kept
}

// afterHolds reports whether the user already holds every attribute value
// the action writes (the manager aside: its own step is idempotent);
// enabled names the account-state attribute, which unset reads as "true".
func afterHolds(a Action, u *identity.User, enabled string) bool {
	n := 0
	for _, c := range a.Changes {
		if c.Attribute == identity.Manager {
			continue
		}
		n++
		want := ""
		if c.After != nil {
			want = *c.After
		}
		now := u.Attrs.Get(c.Attribute)
		if c.Attribute == enabled && now == "" {
			now = "true"
		}
		if now == want {
			continue
		}
		tw, e1 := time.Parse(time.RFC3339, want)
		tn, e2 := time.Parse(time.RFC3339, now)
		if e1 != nil || e2 != nil || !tw.Equal(tn) {
			return false
		}
	}
	return n > 0
}

// stepsInEffect lists the steps of an update whose result the user
// already shows — the patch when every value it writes is in place, the
// manager when it is the one the plan sets — provided that the user,
// with those writes taken back, is exactly as the plan saw it. Anything
// else means someone else changed the user: nothing is in effect then,
// and the action is refused as stale.
func stepsInEffect(a Action, u *identity.User, byKey map[string][]*identity.User, enabled string) []string {
	patched := len(patchOf(a)) > 0 && afterHolds(a, u, enabled)
	managed := false
	if m := a.Manager; m != nil {
		switch {
		case m.Key == "":
			managed = u.ManagerID == ""
		case m.ID != "":
			managed = u.ManagerID == m.ID
		default:
			// A manager the plan creates (or restores): the one user
			// holding its key now.
			if hs := byKey[Fold(m.Key)]; len(hs) == 1 {
				managed = u.ManagerID == hs[0].ID
			}
		}
	}
	licensed := len(a.Licenses) > 0 && licensesHold(a, u)
	if !patched && !managed && !licensed {
		return nil
	}
	if Fingerprint(rollBack(a, u, patched, managed)) != a.Fingerprint {
		return nil
	}
	var steps []string
	if patched {
		steps = append(steps, StepWrite)
	}
	if managed {
		steps = append(steps, StepManager)
	}
	if licensed {
		steps = append(steps, StepLicenses)
	}
	return steps
}

// licensesHold reports whether the user's direct licenses are already as
// the action leaves them.
func licensesHold(a Action, u *identity.User) bool {
	has := map[string]bool{}
	for _, l := range u.Licenses {
		has[strings.ToLower(l)] = true
	}
	for _, l := range a.Licenses {
		if has[strings.ToLower(l.SkuID)] != (l.Op == OpAdd) {
			return false
		}
	}
	return true
}

// rollBack is u as it was before the action's patch (if patched) and
// manager change (if managed).
func rollBack(a Action, u *identity.User, patched, managed bool) *identity.User {
	r := new(identity.User)
	*r = *u // what the directory says of it besides its attributes stays
	r.Attrs = u.Attrs.Clone()
	if patched {
		for _, c := range a.Changes {
			if c.Attribute == identity.Manager {
				continue
			}
			if c.Before == nil {
				r.Attrs.Delete(c.Attribute)
			} else {
				r.Attrs.Set(c.Attribute, *c.Before)
			}
		}
	}
	if managed && a.Manager != nil {
		r.ManagerID = a.Manager.BeforeID
	}
	return r
}

// otherHolder returns a user in us other than id.
func otherHolder(us []*identity.User, id string) *identity.User {
	for _, u := range us {
		if u.ID != id {
			return u
		}
	}
	return nil
}

// patchOf lists the attributes an action patches (the manager aside).
func patchOf(a Action) []string {
	var out []string
	for _, c := range a.Changes {
		if c.Attribute != identity.Manager {
			out = append(out, c.Attribute)
		}
	}
	return out
}
