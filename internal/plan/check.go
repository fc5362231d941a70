package plan

import (
	"errors"
	"fmt"
	"strings"

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
	bad := func(i int, a Action, format string, args ...any) {
		errs = append(errs, fmt.Errorf("action %d (%s %s): %s", i+1, a.Action, a.Key, fmt.Sprintf(format, args...)))
	}
	match := p.Match.Target
	if spec, ok := schema.Lookup(match); !ok || !spec.Matchable {
		errs = append(errs, fmt.Errorf("match.target %q is not a match attribute", match))
	}
	keys := make(map[string]int, len(p.Actions))
	for i, a := range p.Actions {
		if a.Key == "" {
			bad(i, a, "no key")
		}
		if prev, dup := keys[Fold(a.Key)]; dup {
			bad(i, a, "the key also has action %d", prev+1)
		}
		keys[Fold(a.Key)] = i
		var enabled *string
		var managerChange *Change
		after := map[string]string{}
		seen := map[string]bool{}
		for j, c := range a.Changes {
			if seen[c.Attribute] {
				bad(i, a, "%s is changed twice", c.Attribute)
			}
			seen[c.Attribute] = true
			if c.After != nil {
				after[c.Attribute] = *c.After
			}
			switch {
			case c.Before == nil && c.After == nil && a.Action != Create:
				bad(i, a, "the change of %s changes nothing", c.Attribute)
			case c.Before != nil && c.After != nil && *c.Before == *c.After && !strings.HasPrefix(c.Attribute, identity.OrgDataPrefix):
				bad(i, a, "the change of %s changes nothing", c.Attribute)
			}
			if c.Attribute == identity.Manager {
				managerChange = &a.Changes[j]
				continue
			}
			spec, ok := schema.Lookup(c.Attribute)
			if !ok || spec.Name != c.Attribute {
				bad(i, a, "unknown attribute %q", c.Attribute)
				continue
			}
			if c.Attribute == "accountEnabled" {
				enabled = c.After
				if c.After == nil || (*c.After != "true" && *c.After != "false") {
					bad(i, a, "accountEnabled must become true or false")
				}
			}
			if a.Action != Create && spec.CreateOnly {
				bad(i, a, "%s is set on create only", c.Attribute)
			}
			if c.Attribute == match && (c.After == nil || *c.After != a.Key) {
				bad(i, a, "changes the match attribute %s", match)
			}
		}
		// What a reviewer reads (the change) must be what apply does (the reference).
		switch {
		case (managerChange != nil) != (a.Manager != nil):
			bad(i, a, "the manager change and the manager reference disagree")
		case a.Manager != nil && (managerChange.After == nil) != (a.Manager.Key == ""):
			bad(i, a, "the manager change and the manager reference disagree")
		case a.Manager != nil && managerChange.After != nil && *managerChange.After != a.Manager.Key:
			bad(i, a, "the manager change shows %q but the reference is %q", *managerChange.After, a.Manager.Key)
		}
		switch a.Action {
		case Create:
			if a.ID != "" {
				bad(i, a, "a create has no id")
			}
			if a.UserPrincipalName != after["userPrincipalName"] || a.DisplayName != after["displayName"] {
				bad(i, a, "the joiner is shown as %q <%s> but would be created as %q <%s>", a.DisplayName, a.UserPrincipalName, after["displayName"], after["userPrincipalName"])
			}
			if Fold(after[match]) != Fold(a.Key) {
				bad(i, a, "a create must set %s to its key", match)
			}
			if enabled == nil {
				bad(i, a, "a create must say whether the account is enabled")
			}
		case Update, Enable, Disable:
			if a.ID == "" {
				bad(i, a, "no user id")
			}
			want := map[string]string{Enable: "true", Disable: "false"}[a.Action]
			switch {
			case want == "" && enabled != nil:
				bad(i, a, "an update does not change accountEnabled")
			case want != "" && (enabled == nil || *enabled != want):
				bad(i, a, "must set accountEnabled to %s", want)
			}
		default:
			bad(i, a, "unknown action %q", a.Action)
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	p.recount()
	p.Blocked = guards(p.Actions, p.Policy, p.Summary.Managed, p.Summary.ActiveManaged, p.Inputs.Source.Records)
	p.Applyable = len(p.Blocked) == 0
	return nil
}

// recount sets the action counts of the summary from the actions.
func (p *Plan) recount() {
	s := &p.Summary
	s.Create, s.Update, s.Enable, s.Disable, s.Delete = 0, 0, 0, 0, 0
	for i := range p.Actions {
		// Derived, never trusted from a plan file.
		p.Actions[i].Lifecycle = classify(p.Actions[i])
	}
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
		}
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
		switch a.Action {
		case Disable, Delete:
			leavers++
		case Create:
			creates++
		case Update, Enable:
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
// an update touching one part of employeeOrgData does not clear the other.
func checkBefore(a Action, u *identity.User, byID map[string]*identity.User, match string) string {
	orgParts := 0
	for _, c := range a.Changes {
		now := u.Attrs[c.Attribute]
		if c.Attribute == identity.Manager {
			now = ""
			if u.ManagerID != "" {
				now = managerLabel(byID, match, u.ManagerID)
			}
		}
		if strings.HasPrefix(c.Attribute, identity.OrgDataPrefix) {
			orgParts++
		}
		before := ""
		if c.Before != nil {
			before = *c.Before
		}
		if before != now {
			return fmt.Sprintf("the plan shows %s of user %s as %q, but the directory holds %q", c.Attribute, a.ID, before, now)
		}
	}
	if orgParts == 1 {
		for _, part := range []string{identity.OrgDataPrefix + "division", identity.OrgDataPrefix + "costCenter"} {
			mentioned := false
			for _, c := range a.Changes {
				mentioned = mentioned || c.Attribute == part
			}
			if !mentioned && u.Attrs[part] != "" {
				return fmt.Sprintf("the plan would clear %s of user %s (Graph writes employeeOrgData whole) without showing it", part, a.ID)
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

// Recheck compares a saved plan with the users read again just before
// apply. Every action whose user changed since the plan — edited, deleted,
// moved out of scope, or (for a create) whose key or UPN someone now holds
// — is refused, so apply never acts on a picture that is no longer true.
// The leaver guards are recomputed with the policy in force now and the
// managed users as they are now.
func Recheck(p *Plan, users []identity.User, pol Policy) []Refusal {
	match := p.Match.Target
	byID := make(map[string]*identity.User, len(users))
	byKey := make(map[string][]*identity.User)
	upns := make(map[string]*identity.User, len(users))
	managed, active := 0, 0
	for i := range users {
		u := &users[i]
		byID[u.ID] = u
		if upn := u.Attrs["userPrincipalName"]; upn != "" {
			upns[strings.ToLower(upn)] = u
		}
		if k := Fold(u.Attrs[match]); k != "" {
			byKey[k] = append(byKey[k], u)
			managed++
			if u.Attrs["accountEnabled"] != "false" {
				active++
			}
		}
	}
	creating := map[string]bool{}
	for _, a := range p.Actions {
		if a.Action == Create {
			creating[Fold(a.Key)] = true
		}
	}
	var out []Refusal
	refuse := func(i int, format string, args ...any) {
		out = append(out, Refusal{Index: i, Reason: fmt.Sprintf(format, args...)})
	}
	for i, a := range p.Actions {
		if a.Action == Create {
			if us := byKey[Fold(a.Key)]; len(us) > 0 {
				refuse(i, "user %s already holds %s %s; the plan is stale", us[0].ID, match, a.Key)
				continue
			}
			if u := upns[strings.ToLower(a.UserPrincipalName)]; u != nil && a.UserPrincipalName != "" {
				refuse(i, "userPrincipalName %s is now held by user %s; the plan is stale", a.UserPrincipalName, u.ID)
				continue
			}
		} else {
			u := byID[a.ID]
			// A takeover by a further match rule gives the user the key.
			takeover := u != nil && u.Attrs[match] == "" && setsKey(a, match)
			switch {
			case u == nil:
				refuse(i, "user %s no longer exists", a.ID)
				continue
			case takeover && len(byKey[Fold(a.Key)]) > 0:
				refuse(i, "user %s now holds %s %s; the plan is stale", byKey[Fold(a.Key)][0].ID, match, a.Key)
				continue
			case !takeover && Fold(u.Attrs[match]) != Fold(a.Key):
				refuse(i, "user %s does not hold %s %s", a.ID, match, a.Key)
				continue
			case len(byKey[Fold(a.Key)]) > 1:
				refuse(i, "%d users now hold %s %s", len(byKey[Fold(a.Key)]), match, a.Key)
				continue
			case !strings.EqualFold(a.UserPrincipalName, u.Attrs["userPrincipalName"]) || a.DisplayName != u.Attrs["displayName"]:
				refuse(i, "the plan names user %s as %q <%s>, but the directory says %q <%s>", a.ID, a.DisplayName, a.UserPrincipalName, u.Attrs["displayName"], u.Attrs["userPrincipalName"])
				continue
			case a.Fingerprint == "" || Fingerprint(u) != a.Fingerprint:
				refuse(i, "user %s changed in the directory since the plan was made", a.ID)
				continue
			}
			if reason := checkBefore(a, u, byID, match); reason != "" {
				refuse(i, "%s", reason)
				continue
			}
		}
		if m := a.Manager; m != nil && m.Key != "" {
			switch mgr := byID[m.ID]; {
			case m.ID == "" && !creating[Fold(m.Key)]:
				refuse(i, "manager %s is neither in the directory nor created by the plan", m.Key)
			case m.ID != "" && mgr == nil:
				refuse(i, "manager %s (%s) no longer exists", m.Key, m.ID)
			case m.ID != "" && Fold(mgr.Attrs[match]) != Fold(m.Key):
				refuse(i, "the manager reference %s is not the user holding %s %s", m.ID, match, m.Key)
			}
		}
	}
	p.Policy = pol
	p.Summary.Managed, p.Summary.ActiveManaged = managed, active
	p.Blocked = guards(p.Actions, pol, managed, active, p.Inputs.Source.Records)
	p.Applyable = len(p.Blocked) == 0
	return out
}
