package plan

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hrsync/hrsync/internal/identity"
)

// Entitlement is a group or a license (subscribed SKU) in the tenant.
type Entitlement struct {
	ID   string
	Name string
}

// enablement is what the lifecycle says of a record's account.
type enablement struct {
	// want is "true", "false", or "" for no opinion (leave it as it is).
	want   string
	event  string
	reason string
	// pending: a future joiner outside the pre-hire window.
	pending bool
	// hold: a pre-hire account kept disabled until its hire date; it keeps
	// (and gets) its groups and licenses like an active one.
	hold bool
	// unsure: an active record whose disabled account hrsync cannot tell
	// it disabled itself (accountEnabled unmapped): left disabled, warned.
	unsure bool
}

// day renders a date for people.
func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

// dateAttr parses a canonical date attribute; ok is false when unset.
func dateAttr(attrs identity.Attrs, name string) (time.Time, bool) {
	v := attrs.Get(name)
	if name == "" || v == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, v)
	return t, err == nil
}

// isDate reports whether a canonical date-time is a plain date (HR gave a
// day, which canonicalises to midnight UTC).
func isDate(t time.Time) bool {
	t = t.UTC()
	return t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0
}

// dayStart is when a date begins in the policy's time zone (a plain date
// is that calendar day there); a date-time is itself.
func (c *computer) dayStart(t time.Time) time.Time {
	if !isDate(t) || c.loc == nil || c.loc == time.UTC {
		return t
	}
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, c.loc)
}

// leaveFrom is when a leave date takes effect: a date is the last working
// day, so the account goes at the end of it (midnight in the policy's
// time zone); a date with a time goes at that time.
func (c *computer) leaveFrom(l time.Time) time.Time {
	if isDate(l) {
		return c.dayStart(l).AddDate(0, 0, 1)
	}
	return l
}

// localDay renders an instant as the date it falls on in the policy's
// time zone.
func (c *computer) localDay(t time.Time) string {
	if c.loc != nil {
		t = t.In(c.loc)
	}
	return t.Format("2006-01-02")
}

// today is the plan's date in the policy's time zone, as a canonical date.
func (c *computer) today() string {
	n := c.in.Now
	if c.loc != nil {
		n = n.In(c.loc)
	}
	return time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.UTC).Format(time.RFC3339)
}

// leaveDate is the leave date in attrs (a record's or a user's), unless it
// predates the hire date there: a rehire whose record still carries the
// old leave date. Such a date is no leave date at all.
func (c *computer) leaveDate(attrs identity.Attrs) (time.Time, bool) {
	l, ok := dateAttr(attrs, c.r.LeaveDate)
	if !ok {
		return l, false
	}
	if h, hok := dateAttr(attrs, c.r.HireDate); hok && h.After(l) {
		return time.Time{}, false
	}
	return l, true
}

// HireEnableWindow is how long after its hire date a disabled account
// with that hire date is still taken for a pre-hire account to enable;
// later, a disabled account is somebody's decision.
const HireEnableWindow = 7 * 24 * time.Hour

// enablement decides whether the account of record d (u: its user, nil
// for none) should be enabled, from the dates and the mapping:
//
//   - a leave date that has passed (the day after it) disables; a leave
//     date before the hire date is an old one and ignored;
//   - a status the mapping maps to disabled disables;
//   - before the hire date a new account is created disabled (or enabled,
//     by policy), prehire_days ahead and not earlier; an existing disabled
//     account is not enabled before the hire date (with prehire_account
//     enabled, not before the pre-hire window);
//   - otherwise the worker is active. With accountEnabled mapped, the
//     account is enabled (a disabled user active again is a rehire). With
//     it unmapped, hrsync enables a disabled account only when it can tell
//     the lifecycle disabled it: a leave date Entra holds that has passed
//     (a leaver come back), or the hire date of a pre-hire account.
//     Any other disabled account (an admin's decision) stays disabled.
func (c *computer) enablement(d *identity.Desired, u *identity.User) enablement {
	now := c.in.Now
	if l, ok := c.leaveDate(d.Attrs); ok && !c.leaveFrom(l).After(now) {
		return enablement{want: "false", event: EventLeaveDate, reason: fmt.Sprintf("the leave date %s has passed", day(l))}
	}
	mapped, isMapped := d.Attrs.Lookup(c.r.Enabled)
	if isMapped && mapped == "false" {
		return enablement{want: "false", event: EventStatus, reason: "the mapping says the account is disabled"}
	}
	h, hasHire := dateAttr(d.Attrs, c.r.HireDate)
	if hasHire && now.Before(c.dayStart(h)) {
		window := c.dayStart(h).AddDate(0, 0, -c.in.Policy.PrehireDays)
		if u == nil {
			if now.Before(window) {
				return enablement{pending: true}
			}
			if c.in.Policy.PrehireEnabled {
				return enablement{want: "true", event: EventPrehire, reason: fmt.Sprintf("pre-hire: starts %s; created enabled (policy.prehire_account)", day(h))}
			}
			return enablement{want: "false", event: EventPrehire, reason: fmt.Sprintf("pre-hire: starts %s; created disabled, enabled on the hire date", day(h))}
		}
		if !c.enabled(u) && (!c.in.Policy.PrehireEnabled || now.Before(window)) {
			return enablement{hold: true} // held disabled until the hire date
		}
	}
	if u == nil || c.enabled(u) {
		return enablement{want: "true"}
	}
	// A disabled account whose record is active.
	if hasHire && !c.in.Policy.PrehireEnabled {
		// A pre-hire account hrsync created disabled; with prehire_account
		// enabled it created none, so a disabled one is someone's decision.
		if uh, ok := dateAttr(u.Attrs, c.r.HireDate); ok && uh.Equal(h) && u.Attrs.Get(c.r.LeaveDate) == "" && now.Sub(c.dayStart(h)) < HireEnableWindow {
			return enablement{want: "true", event: EventHireDate, reason: fmt.Sprintf("the hire date %s has come", day(h))}
		}
	}
	// A leaver come back: Entra holds a leave date (HR's, or the one hrsync
	// stamped when the worker left the source) that has come, and the
	// record no longer says so.
	if ul, ok := c.leaveDate(u.Attrs); ok && !c.dayStart(ul).After(now) {
		if rl, has := dateAttr(d.Attrs, c.r.LeaveDate); !has || !rl.Equal(ul) {
			return enablement{want: "true", event: EventRehire, reason: fmt.Sprintf("rehire: left on %s, active in HR again", day(ul))}
		}
	}
	if isMapped {
		return enablement{want: "true", event: EventRehire, reason: "rehire: the mapping says the account is enabled"}
	}
	return enablement{unsure: true}
}

// indexDeleted indexes the restorable deleted users by match key. A key
// several deleted users hold is a conflict: none of them is restored.
func (c *computer) indexDeleted() {
	c.deleted = map[string]*identity.DeletedUser{}
	c.deletedTwice = map[string][]string{}
	for i := range c.in.Deleted {
		du := &c.in.Deleted[i]
		if c.in.Now.Sub(du.DeletedAt) >= c.s.RestoreWindow {
			continue // Entra has purged it, or is about to
		}
		k := Fold(du.Attrs.Get(c.in.MatchAttr))
		if k == "" {
			continue
		}
		if prev := c.deleted[k]; prev != nil {
			if len(c.deletedTwice[k]) == 0 {
				c.deletedTwice[k] = []string{prev.ID}
			}
			c.deletedTwice[k] = append(c.deletedTwice[k], du.ID)
			continue
		}
		c.deleted[k] = du
	}
	for _, ids := range c.deletedTwice {
		sort.Strings(ids)
	}
}

// addRestore plans the rehire of a soft-deleted user: restore it from
// deleted items, then write its changes, enable it and add its groups.
// A deleted user whose UPN someone took in the meantime cannot be
// restored; neither is a duplicate created.
func (c *computer) addRestore(d *identity.Desired, du *identity.DeletedUser, en enablement) {
	u := &du.User
	if l, ok := c.leaveDate(u.Attrs); c.enabled(u) || !ok || l.After(du.DeletedAt) {
		// Not deleted the way hrsync deletes (a disabled leaver, after its
		// leave date): an admin's decision, perhaps a compromised account.
		w := c.warn(WarnRestore, d.Key, "deleted user %s (%s) holds this key, but it was not deleted as a leaver (it was enabled, or had no leave date before its deletion on %s): hrsync neither restores it nor creates another account. Restore it by hand, or remove it for good to let hrsync create a new one",
			u.ID, u.Attrs.Get(c.r.SignIn), day(du.DeletedAt))
		w.Sources = []identity.Provenance{d.Prov}
		c.p.Summary.Skipped++
		return
	}
	for _, attr := range c.uniqueAttrs {
		if owner := c.owner(attr, u.Attrs.Get(attr), u.Attrs); owner != "" && owner != u.ID && c.enforced(attr) {
			w := c.warn(WarnRestore, d.Key, "cannot restore deleted user %s (%s): its %s is now held by %s; free it or restore the user by hand",
				u.ID, u.Attrs.Get(c.r.SignIn), attr, c.describe(owner))
			w.Sources = []identity.Provenance{d.Prov}
			c.p.Summary.Skipped++
			return
		}
	}
	for _, attr := range c.uniqueAttrs {
		c.claim(attr, u.Attrs.Get(attr), u.Attrs, u.ID)
	}
	a := c.diffUser(d, u, en, true)
	a.Action = Restore
	a.Event = EventRehire
	a.Reason = fmt.Sprintf("rehire: restored from deleted items (deleted %s, restorable until %s)", day(du.DeletedAt), day(du.DeletedAt.Add(c.s.RestoreWindow)))
	a.Fingerprint = Fingerprint(u)
	c.p.Actions = append(c.p.Actions, a)
}

// diffGroups adds the group changes a user needs: an active worker gains
// the groups the rules give and loses the managed groups they no longer
// give; an inactive one loses its managed groups if the policy says so.
// Groups no rule names are never touched. fresh: the user has no
// memberships yet (a joiner, or a user just restored). d may be nil for
// an inactive user without a record (a leaver absent from the source).
func (c *computer) diffGroups(d *identity.Desired, userID string, active, fresh bool, a *Action) {
	if len(c.in.Groups) == 0 {
		return
	}
	// Indexes into c.managedGroups, which is sorted: the changes come out
	// in a stable order.
	var want []int
	if active {
		for _, ref := range d.Groups() {
			g, ok := c.in.Groups[strings.ToLower(ref)]
			if !ok {
				w := c.warn(WarnRecordError, d.Key, "group %q is not in the tenant; the membership is left out", ref)
				w.Sources = []identity.Provenance{d.Prov}
				continue
			}
			want = append(want, c.groupIndex[g.ID])
		}
	} else if !c.in.Policy.LeaverRemoveGroups {
		return
	}
	var has []int
	switch {
	case userID != "" && fresh:
		// A user about to be restored gets its old memberships back, which
		// no list shows while it is deleted: every managed group the
		// rules do not give is removed ("not a member" is fine).
		wanted := make(map[int]bool, len(want))
		for _, i := range want {
			wanted[i] = true
		}
		for i := range c.managedGroups {
			if !wanted[i] {
				has = append(has, i) // removed; the wanted ones are added
			}
		}
	case !fresh:
		has = c.memberOf[userID]
	}
	if len(want) == 0 && len(has) == 0 {
		return
	}
	mark := make([]int8, len(c.managedGroups)) // 1 wanted, 2 held, 3 both
	for _, i := range want {
		mark[i] |= 1
	}
	for _, i := range has {
		mark[i] |= 2
	}
	var removed []string
	for i, m := range mark {
		g := c.managedGroups[i]
		switch m {
		case 1:
			a.Groups = append(a.Groups, GroupChange{Op: OpAdd, GroupID: g.ID, Name: g.Name})
		case 2:
			a.Groups = append(a.Groups, GroupChange{Op: OpRemove, GroupID: g.ID, Name: g.Name})
			removed = append(removed, strconv.Quote(g.Name))
		}
	}
	c.noteMisses(d, active, "groups", removed)
}

// noteMisses warns when an active worker loses entitlements while a table
// rule found no entry for its value: a renamed department or a new worker
// type must not take access away unnoticed.
func (c *computer) noteMisses(d *identity.Desired, active bool, what string, removed []string) {
	if !active || len(removed) == 0 || len(d.RuleMisses()) == 0 {
		return
	}
	w := c.warn(WarnRuleNoEntry, d.Key, "loses %s %s, and %s; if the map should list it, add it", what, strings.Join(removed, ", "), strings.Join(d.RuleMisses(), "; "))
	w.Sources = []identity.Provenance{d.Prov}
}

// diffLicenses adds the license changes a user needs, like diffGroups.
// Licenses need a usage location: without one (in Entra or in the same
// action) the additions are left out and reported.
func (c *computer) diffLicenses(d *identity.Desired, u *identity.User, active bool, a *Action) {
	if len(c.in.Skus) == 0 {
		return
	}
	want := map[string]Entitlement{}
	if active {
		for _, ref := range d.Licenses() {
			s, ok := c.in.Skus[strings.ToLower(ref)]
			if !ok {
				w := c.warn(WarnRecordError, d.Key, "license %q is not subscribed in the tenant; it is left out", ref)
				w.Sources = []identity.Provenance{d.Prov}
				continue
			}
			want[strings.ToLower(s.ID)] = s
		}
	} else if !c.in.Policy.LeaverRemoveLicenses {
		return
	}
	has := map[string]bool{}
	if u != nil {
		for _, id := range u.Licenses {
			has[strings.ToLower(id)] = true
		}
	}
	location := afterValue(*a, "usageLocation")
	if location == "" && u != nil {
		location = u.Attrs.Get("usageLocation")
	}
	var adds, removes []LicenseChange
	var removed []string
	for _, s := range c.managedSkus {
		id := strings.ToLower(s.ID)
		_, wanted := want[id]
		switch {
		case wanted && !has[id]:
			adds = append(adds, LicenseChange{Op: OpAdd, SkuID: s.ID, Name: s.Name})
		case !wanted && has[id]:
			removes = append(removes, LicenseChange{Op: OpRemove, SkuID: s.ID, Name: s.Name})
			removed = append(removed, s.Name)
		}
	}
	c.noteMisses(d, active, "licenses", removed)
	if len(adds) > 0 && location == "" {
		names := make([]string, len(adds))
		for i, l := range adds {
			names[i] = l.Name
		}
		w := c.warn(WarnNoUsageLocation, d.Key, "license %s not assigned: the user has no usageLocation; map usageLocation (an ISO country code)", strings.Join(names, ", "))
		w.Sources = []identity.Provenance{d.Prov}
		adds = nil
	}
	a.Licenses = append(adds, removes...)
}

// indexEntitlements lists the managed groups and SKUs once, by name.
func (c *computer) indexEntitlements() {
	seen := map[string]bool{}
	for _, g := range c.in.Groups {
		if !seen[g.ID] {
			seen[g.ID] = true
			c.managedGroups = append(c.managedGroups, g)
		}
	}
	sort.Slice(c.managedGroups, func(i, j int) bool {
		return c.managedGroups[i].Name+c.managedGroups[i].ID < c.managedGroups[j].Name+c.managedGroups[j].ID
	})
	// Who is in which managed group, by user: one pass over the members.
	c.groupIndex = make(map[string]int, len(c.managedGroups))
	c.memberOf = map[string][]int{}
	for i, g := range c.managedGroups {
		c.groupIndex[g.ID] = i
		for id, in := range c.in.Members[g.ID] {
			if in {
				c.memberOf[id] = append(c.memberOf[id], i)
			}
		}
	}
	for _, gs := range c.memberOf {
		sort.Ints(gs)
	}
	seen = map[string]bool{}
	for _, s := range c.in.Skus {
		if id := strings.ToLower(s.ID); !seen[id] {
			seen[id] = true
			c.managedSkus = append(c.managedSkus, s)
		}
	}
	sort.Slice(c.managedSkus, func(i, j int) bool {
		return c.managedSkus[i].Name+c.managedSkus[i].ID < c.managedSkus[j].Name+c.managedSkus[j].ID
	})
}

// deletes plans the soft delete of disabled leavers whose leave date is
// delete_after_days past. The leave date is the record's (a leaver by
// date or status still in HR) or the one Entra holds (hrsync stamps it on
// leavers absent from the source). Users without a leave date, users
// enabled now, and users with another action in this plan are not
// deleted in this run — except an action that only takes managed groups
// and licenses away, which the delete makes moot: it is replaced.
func (c *computer) deletes() {
	days := c.in.Policy.DeleteAfterDays
	if days <= 0 || c.in.Policy.Leavers != "disable" || c.unkeyed > 0 {
		return
	}
	acted := make(map[string]int, len(c.p.Actions))
	for i, a := range c.p.Actions {
		acted[Fold(a.Key)] = i
	}
	replaced := map[int]bool{}
	record := make(map[string]*identity.Desired, len(c.unique))
	for _, d := range c.unique {
		record[Fold(d.Key)] = d
	}
	// In directory order: finish sorts the actions.
	for j, k := range c.userKey {
		u := &c.in.Users[j]
		if k == "" || len(c.byKey[k]) != 1 {
			continue
		}
		if i, ok := acted[k]; ok {
			if a := c.p.Actions[i]; a.Action != Update || len(a.Changes) > 0 || a.Manager != nil {
				continue
			}
		}
		leave, due, ok := c.deleteDue(k, u, record[k], days)
		if !ok {
			continue
		}
		if i, ok := acted[k]; ok {
			replaced[i] = true
		}
		c.p.Actions = append(c.p.Actions, Action{
			Action:            Delete,
			Key:               strings.TrimSpace(u.Attrs.Get(c.in.MatchAttr)),
			ID:                u.ID,
			DisplayName:       u.Attrs.Get(c.r.DisplayName),
			UserPrincipalName: u.Attrs.Get(c.r.SignIn),
			Event:             EventDeleteAfter,
			Reason:            fmt.Sprintf("left on %s; policy.delete_after_days (%d) passed on %s. %s", day(leave), days, c.localDay(due), c.undo()),
			Changes:           []Change{},
			Fingerprint:       Fingerprint(u),
		})
	}
	if len(replaced) > 0 {
		kept := c.p.Actions[:0]
		for i, a := range c.p.Actions {
			if !replaced[i] {
				kept = append(kept, a)
			}
		}
		c.p.Actions = kept
	}
}

// deleteDue says when disabled user u (key k, record d if the source has
// one) left and when delete_after_days (days) ends; false when it is not
// to be deleted now: enabled, mastered elsewhere, not a leaver, without a
// leave date, or not yet due.
func (c *computer) deleteDue(k string, u *identity.User, d *identity.Desired, days int) (leave, due time.Time, ok bool) {
	if c.enabled(u) || u.MasteredIn != "" {
		return leave, due, false // (its master deletes a user it masters)
	}
	leave, ok = c.leaveDate(u.Attrs)
	if c.seen[k] {
		if d == nil {
			return leave, due, false // a duplicate, rejected or conflicting record: left alone
		}
		if en := c.enablement(d, u); en.want != "false" {
			return leave, due, false // not a leaver
		}
		if l, has := c.leaveDate(d.Attrs); has {
			leave, ok = l, true
		}
	}
	if !ok {
		return leave, due, false
	}
	due = c.dayStart(leave).AddDate(0, 0, days)
	return leave, due, !c.in.Now.Before(due)
}

// leaverAccess takes a leaver (absent from the source, no record) out of
// its managed groups and licenses when the policy says so: the inactive
// case of diffGroups and diffLicenses.
func (c *computer) leaverAccess(u *identity.User, a *Action) {
	c.diffGroups(nil, u.ID, false, false, a)
	c.diffLicenses(nil, u, false, a)
}

// undo says whether and how long a delete can be undone.
func (c *computer) undo() string {
	w := c.s.RestoreWindow
	if w <= 0 {
		return fmt.Sprintf("%s cannot restore deleted users here: the delete cannot be undone with the user's attributes intact", c.s.Name)
	}
	return fmt.Sprintf("Soft delete: restorable from deleted items for %d days, until %s", int(w/(24*time.Hour)), c.localDay(c.in.Now.Add(w)))
}

func afterValue(a Action, attr string) string {
	for _, ch := range a.Changes {
		if ch.Attribute == attr && ch.After != nil {
			return *ch.After
		}
	}
	return ""
}
