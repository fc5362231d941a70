package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hrsync/hrsync/internal/identity"
)

// Rejected is a source record that could not be mapped.
type Rejected struct {
	Prov identity.Provenance
	// Key is the record's match key if it could be computed; "" otherwise.
	Key    string
	Reason string
}

// Input is everything Compute needs. It holds no I/O handles.
type Input struct {
	// Records is how many data records the source held.
	Records int
	// Desired are the mapped records, in source order; keys may repeat.
	Desired []identity.Desired
	// Rejected are the records the mapping failed for.
	Rejected []Rejected
	// Users are all users read from the target.
	Users []identity.User
	// Schema is the target's: its attributes, the roles they play, and
	// which values must be unique.
	Schema *identity.Schema
	// MatchAttr is the directory attribute holding the match key.
	MatchAttr string
	// AltMatchAttrs are the targets of the further match rules, in order
	// (Desired.AltKeys holds each record's values for them).
	AltMatchAttrs []string
	// Attrs are the mapped attributes to diff, in mapping order (no manager).
	Attrs []identity.AttrSpec
	// ManagerMapped says the mapping maps the manager.
	ManagerMapped bool
	Policy        Policy
	Now           time.Time
	// Deleted are the users the directory can restore: a worker whose key
	// comes back within the schema's restore window is restored, not created.
	Deleted []identity.DeletedUser
	// Groups maps each group reference of the mapping's rules, lower
	// case, to the group; Members holds each such group's member ids.
	Groups  map[string]Entitlement
	Members map[string]map[string]bool
	// Skus maps each license reference of the rules, lower case, to the
	// subscribed SKU; users' Licenses were read when it is set.
	Skus map[string]Entitlement
	// StampLeaveDate sets the leave date (role LeaveDate) to the plan's date on
	// leavers absent from the source that have none, so
	// delete_after_days can count from it.
	StampLeaveDate bool
	// Offline says no directory was read (validate): Users is empty, so
	// a record is not known to be a joiner, and a value another record
	// holds is that record's, not a joiner's. Warnings say so.
	Offline bool
}

// ErrEmptySource is returned when the source has no data records: an empty
// export would otherwise turn every managed user into a leaver.
var ErrEmptySource = errors.New("the source has no data records; refusing to plan (an empty export would disable every managed user)")

// Compute decides every change. It is pure: the same input always gives the
// same plan, and it performs no I/O.
func Compute(in Input) (*Plan, error) {
	if in.Records == 0 {
		return nil, ErrEmptySource
	}
	if in.Schema == nil {
		return nil, errors.New("plan: no target schema")
	}
	loc := time.UTC
	if tz := in.Policy.Timezone; tz != "" {
		l, err := time.LoadLocation(tz)
		if err != nil {
			return nil, fmt.Errorf("policy.timezone %q: %w", tz, err)
		}
		loc = l
	}
	c := &computer{in: in, s: in.Schema, r: in.Schema.Roles, loc: loc, p: &Plan{
		FormatVersion: FormatVersion,
		CreatedAt:     in.Now.UTC(),
		Match:         MatchInfo{Target: in.MatchAttr},
		Policy:        in.Policy,
		Actions:       []Action{},
		Warnings:      []Warning{},
	}}
	c.uniqueAttrs = c.s.UniqueAttrs()
	c.enabledF, c.matchF = identity.NewField(c.r.Enabled), identity.NewField(in.MatchAttr)
	for _, ns := range c.s.Unique {
		c.scoped = c.scoped || ns.Within != ""
	}
	c.indexUsers()
	c.indexDeleted()
	c.indexEntitlements()
	c.groupRecords()
	c.plan()
	c.leavers()
	c.deletes()
	c.guards()
	c.finish()
	return c.p, nil
}

type computer struct {
	in Input
	// s is the target's schema and r its roles.
	s *identity.Schema
	r identity.Roles
	// uniqueAttrs are the schema's unique attributes (Schema.UniqueAttrs);
	// scoped says a unique namespace is scoped by another attribute (see
	// nsKey).
	uniqueAttrs []string
	scoped      bool
	// order is the mapping's attribute order with the match attribute;
	// userF and recordF read each of its attributes of a user and of a
	// record (see attrOrder).
	order          []identity.AttrSpec
	userF, recordF []identity.Field
	// enabledF and matchF read a user's enabled flag and match key.
	enabledF, matchF identity.Field
	p                *Plan

	// byKey maps a match key to the users holding it (more than one is a conflict).
	byKey map[string][]*identity.User
	byID  map[string]*identity.User
	// userKey holds each user's match key, folded ("" for none), by its
	// index in the input's users.
	userKey []string
	// taken holds, for each unique namespace of the schema, the owner of
	// every value in use or planned: a user's id, or "key:" and a joiner's
	// key (see nsKey).
	taken []*holders
	// unique are the records with a key nobody else has, in source order.
	unique []*identity.Desired
	// seen holds every key the source mentions, including duplicates and
	// records that failed to map: none of them may become a leaver.
	seen map[string]bool
	// creating holds the keys of users this plan creates.
	creating map[string]bool
	// dupKeys holds keys used by several records.
	dupKeys map[string]bool
	// upnWantedBy maps an existing user's id to the joiner whose UPN it
	// holds: if that user is also a leaver, it is probably the same person
	// under a new key, and must not be disabled.
	upnWantedBy map[string]string
	// sameName marks the users in upnWantedBy whose joiner has their name.
	sameName map[string]bool
	unkeyed  int
	// leftScope holds the keys of records the scope filter leaves out.
	leftScope map[string]identity.Provenance
	// byAlt indexes users by each further match rule's attribute.
	byAlt []map[string][]*identity.User
	// altMatch pairs records with the user a further rule found.
	altMatch map[*identity.Desired]*identity.User
	// inCycle marks keys whose manager chain loops back to them.
	inCycle map[string]bool
	// deleted indexes restorable deleted users by key; deletedTwice holds
	// the ids for keys several deleted users hold.
	deleted      map[string]*identity.DeletedUser
	deletedTwice map[string][]string
	// managedGroups and managedSkus are the entitlements rules name.
	managedGroups, managedSkus []Entitlement
	// loc is the policy's time zone, in which plain dates are days.
	loc *time.Location
	// groupIndex maps a managed group's id to its index in managedGroups;
	// memberOf lists, per user id, the managed groups it is in.
	groupIndex map[string]int
	memberOf   map[string][]int
}

func (c *computer) warn(code, key, format string, args ...any) *Warning {
	c.p.Warnings = append(c.p.Warnings, Warning{Code: code, Key: key, Message: fmt.Sprintf(format, args...)})
	return &c.p.Warnings[len(c.p.Warnings)-1]
}

func (c *computer) indexUsers() {
	c.byKey = make(map[string][]*identity.User, len(c.in.Users))
	c.byID = make(map[string]*identity.User, len(c.in.Users))
	c.userKey = make([]string, len(c.in.Users))
	c.taken = make([]*holders, len(c.s.Unique))
	for i := range c.taken {
		fields := make([]identity.Field, len(c.s.Unique[i].Attrs))
		for j, attr := range c.s.Unique[i].Attrs {
			fields[j] = identity.NewField(attr)
		}
		c.taken[i] = newHolders(c.in.Users, func(u *identity.User, yield func(string) bool) {
			for j := range fields {
				if v := fields[j].Get(u.Attrs); v != "" && !yield(c.nsKey(i, v, u.Attrs)) {
					return
				}
			}
		})
	}
	c.upnWantedBy = make(map[string]string)
	c.sameName = make(map[string]bool)
	// Every key's holders start as a slice of one backing array (cap 1: a
	// second holder reallocates), not an allocation a user.
	keyHolders := make([]*identity.User, len(c.in.Users))
	var dupKeys []string // keys several users hold, in the order found
	for i := range c.in.Users {
		u := &c.in.Users[i]
		keyHolders[i] = u
		c.byID[u.ID] = u
		for _, h := range c.taken {
			h.addAll(int32(i))
		}
		k := Fold(c.matchF.Get(u.Attrs))
		if k == "" {
			continue
		}
		c.userKey[i] = k
		c.p.Summary.Managed++
		if c.enabled(u) {
			c.p.Summary.ActiveManaged++
		}
		if us, dup := c.byKey[k]; dup {
			if len(us) == 1 {
				dupKeys = append(dupKeys, k)
			}
			c.byKey[k] = append(us, u)
		} else {
			c.byKey[k] = keyHolders[i : i+1 : i+1]
		}
	}
	c.warnSharedKeys(dupKeys)
}

// warnSharedKeys warns of each match key that several users hold.
func (c *computer) warnSharedKeys(keys []string) {
	for _, k := range keys {
		us := c.byKey[k]
		ids := make([]string, len(us))
		for i, u := range us {
			ids[i] = u.ID + " (" + u.Attrs.Get(c.r.SignIn) + ")"
		}
		sort.Strings(ids)
		c.warn(WarnTargetDuplicateKey, k, "%d users have %s %q: %s; they and the record with this key are left alone until only one holds it",
			len(us), c.in.MatchAttr, k, strings.Join(ids, ", "))
	}
}

func (c *computer) groupRecords() {
	c.seen = make(map[string]bool, len(c.in.Desired))
	c.dupKeys = make(map[string]bool)
	c.leftScope = make(map[string]identity.Provenance)
	groups := make(map[string][]*identity.Desired, len(c.in.Desired))
	firsts := make([]*identity.Desired, len(c.in.Desired)) // see indexUsers' keyHolders
	for i := range c.in.Desired {
		d := &c.in.Desired[i]
		// Out-of-scope records take part in the duplicate check: two
		// records with one key are a conflict whatever the scope says.
		k := Fold(d.Key)
		if g, dup := groups[k]; dup {
			groups[k] = append(g, d)
		} else {
			firsts[i] = d
			groups[k] = firsts[i : i+1 : i+1]
		}
		if d.OutOfScope {
			c.leftScope[k] = d.Prov
			continue
		}
		c.seen[k] = true
	}
	for _, r := range c.in.Rejected {
		if r.Key != "" {
			c.seen[Fold(r.Key)] = true
			c.p.Summary.Skipped++
			w := c.warn(WarnRecordError, r.Key, "record left out: %s", r.Reason)
			w.Sources = []identity.Provenance{r.Prov}
		} else {
			c.unkeyed++
			c.p.Summary.Skipped++
			w := c.warn(WarnNoKey, "", "record left out: %s", r.Reason)
			w.Sources = []identity.Provenance{r.Prov}
		}
	}
	rejectedKeys := map[string]bool{}
	for _, r := range c.in.Rejected {
		if r.Key != "" {
			rejectedKeys[Fold(r.Key)] = true
		}
	}
	for i := range c.in.Desired {
		d := &c.in.Desired[i]
		g := groups[Fold(d.Key)]
		if d.OutOfScope && len(g) == 1 && !rejectedKeys[Fold(d.Key)] {
			continue // out of scope: its user, if any, leaves
		}
		if len(g) == 1 && !rejectedKeys[Fold(d.Key)] {
			c.unique = append(c.unique, d)
			continue
		}
		if g[0] != d {
			continue // reported with the first record of the group
		}
		c.p.Summary.Skipped += len(g)
		provs := make([]identity.Provenance, len(g))
		lines := make([]string, len(g))
		for j, x := range g {
			provs[j] = x.Prov
			lines[j] = x.Prov.String()
		}
		extra := ""
		if rejectedKeys[Fold(d.Key)] {
			extra = " and by a record that failed to map"
		}
		c.dupKeys[Fold(d.Key)] = true
		c.seen[Fold(d.Key)] = true // the user with this key is left alone
		delete(c.leftScope, Fold(d.Key))
		w := c.warn(WarnDuplicateKey, d.Key, "match key %q is used by %d records (%s)%s; all are left out and the user with this key is left alone",
			d.Key, len(g), strings.Join(lines, ", "), extra)
		w.Sources = provs
	}
}

func (c *computer) plan() {
	c.creating = make(map[string]bool)
	c.matchFurther()
	c.findCycles()
	// First pass: decide creates so manager references can point at them.
	var creates []*identity.Desired
	var restores []*identity.Desired
	for _, d := range c.unique {
		us := c.byKey[Fold(d.Key)]
		if len(us) > 1 {
			c.p.Summary.Skipped++
			continue
		}
		if u, ok := c.altMatch[d]; ok {
			if u == nil {
				c.p.Summary.Skipped++ // a match conflict, reported
			}
			continue
		}
		if len(us) == 0 {
			en := c.enablement(d, nil)
			if en.pending {
				c.p.Summary.Pending++ // created prehire_days before the hire date
				continue
			}
			if ids := c.deletedTwice[Fold(d.Key)]; len(ids) > 0 {
				w := c.warn(WarnRestore, d.Key, "left out: deleted items hold %d users with %s %s (%s); hrsync cannot tell which to restore. Restore the right one by hand, or remove the others for good", len(ids), c.in.MatchAttr, d.Key, strings.Join(ids, ", "))
				w.Sources = []identity.Provenance{d.Prov}
				c.p.Summary.Skipped++
				continue
			}
			if du := c.deleted[Fold(d.Key)]; du != nil {
				if en.want != "false" || en.event == EventPrehire {
					restores = append(restores, d)
					c.creating[Fold(d.Key)] = true // its id is known, but it exists only after the restore
				}
				continue
			}
			if en.want == "false" && en.event != EventPrehire && !c.in.Policy.CreateDisabled {
				c.p.Summary.Skipped++ // an inactive worker without an account: nothing to do
				continue
			}
			if nd, ok := c.checkCreate(d); ok {
				creates = append(creates, nd)
				c.creating[Fold(d.Key)] = true
			} else {
				c.p.Summary.Skipped++
			}
		}
	}
	for _, d := range creates {
		c.addCreate(d)
	}
	for _, d := range restores {
		du := c.deleted[Fold(d.Key)]
		c.addRestore(d, du, c.enablement(d, &du.User))
	}
	for _, d := range c.unique {
		us := c.byKey[Fold(d.Key)]
		if len(us) == 1 {
			c.addUpdate(d, us[0])
		} else if u := c.altMatch[d]; u != nil {
			c.addUpdate(d, u)
		}
	}
}

// matchFurther pairs records that the first match rule pairs with nobody
// with a user through the further rules, in order: the first rule that
// finds anyone decides. A rule finding several users, a user who already
// holds another key, or a user found for several records is a conflict:
// the records are left out and the users left alone.
func (c *computer) matchFurther() {
	c.altMatch = make(map[*identity.Desired]*identity.User)
	if len(c.in.AltMatchAttrs) == 0 {
		return
	}
	c.byAlt = make([]map[string][]*identity.User, len(c.in.AltMatchAttrs))
	for j, attr := range c.in.AltMatchAttrs {
		c.byAlt[j] = make(map[string][]*identity.User)
		f := identity.NewField(attr)
		for i := range c.in.Users {
			u := &c.in.Users[i]
			if v := Fold(f.Get(u.Attrs)); v != "" {
				c.byAlt[j][v] = append(c.byAlt[j][v], u)
			}
		}
	}
	claims := map[string][]*identity.Desired{}
	for _, d := range c.unique {
		if len(c.byKey[Fold(d.Key)]) > 0 {
			continue
		}
		if u, found := c.matchAlt(d); found {
			c.altMatch[d] = u
			if u != nil {
				claims[u.ID] = append(claims[u.ID], d)
			}
		}
	}
	c.refuseShared(claims)
	// Every takeover is called out: an account that predates hrsync gets
	// a key, and from then on hrsync manages it.
	for _, d := range c.unique {
		if u := c.altMatch[d]; u != nil {
			w := c.warn(WarnTakeover, d.Key, "user %s (%s, %q) has no %s; a further match rule pairs it with this record, so it gets %s %s and hrsync manages it from now on. Check it is this worker and not an admin or service account",
				u.ID, u.Attrs.Get(c.r.SignIn), u.Attrs.Get(c.r.DisplayName), c.in.MatchAttr, c.in.MatchAttr, d.Key)
			w.Sources = []identity.Provenance{d.Prov}
		}
	}
}

// matchAlt is the user the first further rule that finds anyone finds for
// record d (found false when none does), or nil, with a warning, when
// that user cannot be d's (see altConflict).
func (c *computer) matchAlt(d *identity.Desired) (u *identity.User, found bool) {
	alt := d.AltKeys()
	for j, attr := range c.in.AltMatchAttrs {
		if j >= len(alt) || alt[j] == "" {
			continue
		}
		us := c.byAlt[j][Fold(alt[j])]
		if len(us) == 0 {
			continue
		}
		if why := c.altConflict(d, us); why != "" {
			w := c.warn(WarnMatchConflict, d.Key, "left out: %s %q (match rule %d) %s", attr, alt[j], j+2, why)
			w.Sources = []identity.Provenance{d.Prov}
			return nil, true
		}
		return us[0], true
	}
	return nil, false
}

// altConflict says why the users us a further rule finds for record d
// cannot be paired with it, "" when they can: several users, a user who
// holds another key, or a disabled record or account.
func (c *computer) altConflict(d *identity.Desired, us []*identity.User) string {
	if len(us) > 1 {
		ids := make([]string, len(us))
		for i, u := range us {
			ids[i] = u.ID
		}
		return fmt.Sprintf("matches %d users (%s)", len(us), strings.Join(ids, ", "))
	}
	u := us[0]
	if k := c.matchF.Get(u.Attrs); k != "" {
		return fmt.Sprintf("belongs to user %s, who holds %s %q; fix the source or that account", u.ID, c.in.MatchAttr, k)
	}
	if c.enablement(d, nil).want != "true" || !c.enabled(u) {
		// Never hand a disabled account to someone, nor give a terminated
		// worker's record someone's live account.
		return fmt.Sprintf("finds user %s, but the record or the account is disabled; hrsync takes over only active accounts for active records", u.ID)
	}
	return ""
}

// refuseShared unpairs the records that further rules pair with one user
// (claims, by the user's id), with a warning for each such user.
func (c *computer) refuseShared(claims map[string][]*identity.Desired) {
	ids := make([]string, 0, len(claims))
	for id := range claims {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		ds := claims[id]
		if len(ds) < 2 {
			continue
		}
		keys := make([]string, len(ds))
		provs := make([]identity.Provenance, len(ds))
		for i, d := range ds {
			keys[i] = d.Key
			provs[i] = d.Prov
			c.altMatch[d] = nil
		}
		w := c.warn(WarnMatchConflict, ds[0].Key, "left out: records %s all match user %s (%s); none is paired with it", strings.Join(keys, ", "), id, c.byID[id].Attrs.Get(c.r.SignIn))
		w.Sources = provs
	}
}

// findCycles marks records whose manager chain (through the source) comes
// back to them: their manager is left unchanged and the rest proceeds.
func (c *computer) findCycles() {
	c.inCycle = map[string]bool{}
	if !c.in.ManagerMapped {
		return
	}
	next := make(map[string]*identity.Desired, len(c.unique))
	for _, d := range c.unique {
		next[Fold(d.Key)] = d
	}
	state := make(map[string]int, len(c.unique)) // 1 visiting, 2 done
	for _, start := range c.unique {
		var path []string
		k := Fold(start.Key)
		for k != "" && state[k] == 0 {
			state[k] = 1
			path = append(path, k)
			d := next[k]
			if d == nil || Fold(d.ManagerKey) == k {
				break
			}
			k = Fold(d.ManagerKey)
		}
		if k != "" && state[k] == 1 {
			// k is on the current path: the cycle is path[from k].
			from := 0
			for i, p := range path {
				if p == k {
					from = i
				}
			}
			cycle := path[from:]
			if len(cycle) > 1 {
				provs := make([]identity.Provenance, 0, len(cycle))
				keys := make([]string, 0, len(cycle))
				for _, ck := range cycle {
					c.inCycle[ck] = true
					provs = append(provs, next[ck].Prov)
					keys = append(keys, next[ck].Key)
				}
				w := c.warn(WarnManagerCycle, keys[0], "managers form a circle (%s -> %s); their managers are left unchanged", strings.Join(keys, " -> "), keys[0])
				w.Sources = provs
			}
		}
		for _, p := range path {
			state[p] = 2
		}
	}
}

// checkCreate validates what the directory requires of a new user and
// reserves its unique values (its sign-in name among them), so two joiners
// (or a joiner and an existing account) never collide at apply time.
// Attributes mapped with SelectUniqueValue get their first candidate
// nobody holds; the record returned carries the choice.
func (c *computer) checkCreate(d *identity.Desired) (*identity.Desired, bool) {
	if len(d.Candidates()) > 0 {
		nd := *d
		nd.Attrs = d.Attrs.Clone()
		for _, attr := range c.uniqueAttrs {
			cands := d.Candidates()[attr]
			if len(cands) == 0 {
				continue
			}
			v, ok := c.pickUnique(attr, cands, "", nd.Attrs)
			if !ok {
				by := ""
				if c.in.Offline {
					by = " by other records of the source"
				}
				w := c.warn(WarnUPNConflict, d.Key, "%severy %s SelectUniqueValue offers is taken%s (%s)", c.cannotCreate(), attr, by, strings.Join(cands, ", "))
				w.Sources = []identity.Provenance{d.Prov}
				return d, false
			}
			nd.Attrs.Set(attr, v)
		}
		d = &nd
	}
	if !c.checkCreateAttrs(d) {
		return d, false
	}
	for _, attr := range c.uniqueAttrs {
		if v := d.Attrs.Get(attr); v != "" {
			c.claim(attr, v, d.Attrs, "key:"+d.Key)
		}
	}
	return d, true
}

// nsKey is the key under which value v of an attribute in namespace i is
// held: the value without regard to case, within the value of the
// namespace's scoping attribute in attrs (a cn within its OU).
func (c *computer) nsKey(i int, v string, attrs identity.Attrs) string {
	k := strings.ToLower(v)
	if w := c.s.Unique[i].Within; w != "" {
		k = strings.ToLower(attrs.Get(w)) + "\x00" + k
	}
	return k
}

// owner returns who holds value v of attr ("" for nobody): a user's id,
// or "key:" and the key of a joiner this plan creates.
func (c *computer) owner(attr, v string, attrs identity.Attrs) string {
	i := c.s.Namespace(attr)
	if i < 0 || v == "" {
		return ""
	}
	return c.taken[i].owner(c.nsKey(i, v, attrs))
}

// claim records that who holds value v of attr.
func (c *computer) claim(attr, v string, attrs identity.Attrs, who string) {
	if i := c.s.Namespace(attr); i >= 0 && v != "" {
		c.taken[i].claim(c.nsKey(i, v, attrs), who)
	}
}

// enforced reports whether the directory refuses a value of attr that
// someone else holds.
func (c *computer) enforced(attr string) bool {
	i := c.s.Namespace(attr)
	return i >= 0 && c.s.Unique[i].Enforced
}

// pickUnique returns the first candidate no user (other than self) and no
// planned joiner holds, in the attribute's namespace (Entra's UPNs and
// mails share one); attrs scope it (see nsKey).
func (c *computer) pickUnique(attr string, cands []string, self string, attrs identity.Attrs) (string, bool) {
	spec, _ := c.s.Lookup(attr)
	for _, v := range cands {
		if spec.Check != nil && spec.Check(v) != nil {
			continue // not a value the directory would accept: try the next
		}
		if o := c.owner(attr, v, attrs); o == "" || o == self {
			return v, true
		}
	}
	return "", false
}

func (c *computer) checkCreateAttrs(d *identity.Desired) bool {
	var missing []string
	for _, a := range c.s.Required() {
		if d.Attrs.Get(a) == "" {
			missing = append(missing, a)
		}
	}
	if len(missing) > 0 {
		w := c.warn(WarnCannotCreate, d.Key, "%s%s requires %s, and the mapping gave none", c.cannotCreate(), c.s.Name, strings.Join(missing, ", "))
		w.Sources = []identity.Provenance{d.Prov}
		return false
	}
	for _, spec := range c.attrOrder() {
		if v := d.Attrs.Get(spec.Name); v != "" && spec.Check != nil {
			if err := spec.Check(v); err != nil {
				w := c.warn(WarnCannotCreate, d.Key, "%s%v", c.cannotCreate(), err)
				w.Sources = []identity.Provenance{d.Prov}
				return false
			}
		}
	}
	for _, ns := range c.s.Unique {
		if !ns.Enforced {
			continue
		}
		for _, attr := range ns.Attrs {
			v := d.Attrs.Get(attr)
			owner := c.owner(attr, v, d.Attrs)
			if owner == "" {
				continue
			}
			if u := c.byID[owner]; u != nil {
				c.noteRekey(d, u)
			}
			var w *Warning
			switch {
			case c.in.Offline:
				code := WarnMailConflict
				if attr == c.r.SignIn {
					code = WarnUPNConflict
				}
				w = c.warn(code, d.Key, "%s %s is also mapped for %s, and %s holds it only once: if this record has no account yet, it cannot be created; if they are different people, change the mapping or the source so they differ",
					attr, v, c.describe(owner), c.s.Name)
			case attr == c.r.SignIn:
				w = c.warn(WarnUPNConflict, d.Key, "cannot create: %s %s is already taken by %s; change the mapping or the source so they differ", attr, v, c.describeOwner(owner))
			default:
				w = c.warn(WarnMailConflict, d.Key, "cannot create: %s %s is already used by %s; %s requires it to be unique", attr, v, c.describe(owner), c.s.Name)
			}
			w.Sources = []identity.Provenance{d.Prov}
			return false
		}
	}
	return true
}

// describeOwner names who holds a sign-in name, for a conflict.
// cannotCreate begins a warning about a joiner that is not created; with
// no directory read (validate) the record is not known to be a joiner.
func (c *computer) cannotCreate() string {
	if c.in.Offline {
		return "if this record has no account yet, it cannot be created: "
	}
	return "cannot create: "
}

func (c *computer) describeOwner(owner string) string {
	if u := c.byID[owner]; u != nil {
		who := fmt.Sprintf("existing user %s", u.ID)
		if k := u.Attrs.Get(c.in.MatchAttr); k != "" {
			who += fmt.Sprintf(" (%s %s)", c.in.MatchAttr, k)
		}
		return who
	}
	if k, ok := strings.CutPrefix(owner, "key:"); ok {
		return "the joiner with key " + k
	}
	return "another planned joiner"
}

// noteRekey records that joiner d wants the UPN or mail of existing user u.
// If u is also a leaver, it may be d under a new key (a rehire, a transfer,
// an export that lost leading zeros) or a namesake: hrsync cannot tell, so
// the plan says so either way and a person decides. With the same display
// name the account is held (not disabled), since the joiner cannot be
// created until someone acts anyway; with another name it is disabled, with
// the same warning.
func (c *computer) noteRekey(d *identity.Desired, u *identity.User) {
	c.upnWantedBy[u.ID] = d.Key
	if strings.EqualFold(d.Attrs.Get(c.r.DisplayName), u.Attrs.Get(c.r.DisplayName)) {
		c.sameName[u.ID] = true
	}
}

// describe names the owner of a UPN or mail: an existing user or a joiner
// (offline, with no directory read: the record with that key).
func (c *computer) describe(owner string) string {
	if k, ok := strings.CutPrefix(owner, "key:"); ok {
		if c.in.Offline {
			return "the record with key " + k
		}
		return "the joiner with key " + k
	}
	if u := c.byID[owner]; u != nil {
		if k := u.Attrs.Get(c.in.MatchAttr); k != "" {
			return fmt.Sprintf("user %s (%s %s)", u.ID, c.in.MatchAttr, k)
		}
		return "user " + u.ID
	}
	return owner
}

func (c *computer) addCreate(d *identity.Desired) {
	a := Action{
		Action:            Create,
		Key:               d.Key,
		DisplayName:       d.Attrs.Get(c.r.DisplayName),
		UserPrincipalName: d.Attrs.Get(c.r.SignIn),
		Source:            provPtr(d.Prov),
		Changes:           []Change{},
	}
	en := c.enablement(d, nil)
	if en.event == EventPrehire {
		a.Event, a.Reason = en.event, en.reason
	}
	for _, spec := range c.attrOrder() {
		v := d.Attrs.Get(spec.Name)
		if spec.Name == c.r.Enabled {
			v = en.want
		}
		if _, ok := c.leaveDate(d.Attrs); spec.Name == c.r.LeaveDate && !ok {
			v = "" // an old leave date, before the hire date: none
		}
		if v != "" {
			a.Changes = append(a.Changes, Change{Attribute: spec.Name, After: strPtr(v), Redacted: d.IsRedacted(spec.Name)})
		}
	}
	if _, mapped := d.Attrs.Lookup(c.r.Enabled); !mapped {
		a.Changes = append(a.Changes, Change{Attribute: c.r.Enabled, After: strPtr(en.want)})
	}
	active := en.want == "true" || en.event == EventPrehire
	c.diffGroups(d, "", active, true, &a)
	c.diffLicenses(d, nil, active, &a)
	if c.in.ManagerMapped && d.ManagerKey != "" {
		if ref, ok := c.resolveManager(d); ok {
			a.Manager = ref
			a.Changes = append(a.Changes, Change{Attribute: identity.Manager, After: strPtr(ref.Key)})
		}
	}
	c.p.Actions = append(c.p.Actions, a)
}

// attrOrder is the mapping order with the match attribute included.
func (c *computer) attrOrder() []identity.AttrSpec {
	if c.order != nil {
		return c.order
	}
	c.order = c.in.Attrs
	if !slices.ContainsFunc(c.order, func(s identity.AttrSpec) bool { return s.Name == c.in.MatchAttr }) {
		c.order = append(append([]identity.AttrSpec(nil), c.in.Attrs...), identity.AttrSpec{Name: c.in.MatchAttr})
	}
	c.userF, c.recordF = make([]identity.Field, len(c.order)), make([]identity.Field, len(c.order))
	for i, s := range c.order {
		c.userF[i], c.recordF[i] = identity.NewField(s.Name), identity.NewField(s.Name)
	}
	return c.order
}

func (c *computer) addUpdate(d *identity.Desired, u *identity.User) {
	en := c.enablement(d, u)
	a := c.diffUser(d, u, en, false)
	if len(a.Changes) == 0 && len(a.Groups) == 0 && len(a.Licenses) == 0 && !a.Revoke {
		c.p.Summary.Unchanged++
		return
	}
	a.Fingerprint = Fingerprint(u)
	a.Action = Update
	for _, ch := range a.Changes {
		if ch.Attribute != c.r.Enabled {
			continue
		}
		if ch.After != nil && *ch.After == "true" {
			a.Action, a.Reason, a.Event = Enable, en.reason, en.event
			if a.Reason == "" {
				a.Reason = "the mapping says the account is enabled"
			}
		} else if ch.After != nil && *ch.After == "false" {
			a.Action, a.Reason, a.Event = Disable, en.reason, en.event
		}
	}
	c.p.Actions = append(c.p.Actions, a)
}

// diffUser builds the changes that make user u what record d says: its
// attributes, manager, groups and licenses. restored: u is a deleted user
// about to be restored (it is in no group yet).
func (c *computer) diffUser(d *identity.Desired, u *identity.User, en enablement, restored bool) Action {
	a := Action{
		Key:               d.Key,
		ID:                u.ID,
		DisplayName:       u.Attrs.Get(c.r.DisplayName), // as the directory names them, so apply can check it
		UserPrincipalName: u.Attrs.Get(c.r.SignIn),
		Source:            provPtr(d.Prov),
		Changes:           []Change{},
	}
	// The user as the action leaves it scopes its unique values (a cn
	// within the OU it moves to), where a namespace is scoped; otherwise
	// the record's own attributes, only read.
	scope := d.Attrs
	if c.scoped {
		scope = u.Attrs.Clone()
		for k, v := range d.Attrs.All() {
			scope.Set(k, v)
		}
	}
	for i := range c.attrOrder() {
		if ch, ok := c.diffAttr(d, u, i, en, scope); ok {
			a.Changes = append(a.Changes, ch)
		}
	}
	if before := u.Attrs.Get(c.r.Enabled); enablementChanges(en.want, before) {
		if _, mapped := d.Attrs.Lookup(c.r.Enabled); !mapped {
			a.Changes = append(a.Changes, Change{Attribute: c.r.Enabled, Before: optPtr(before), After: strPtr(en.want)})
		}
	}
	if ld := c.r.LeaveDate; en.want == "true" && !c.enabled(u) && c.in.StampLeaveDate && ld != "" && !c.maps(ld) && u.Attrs.Get(ld) != "" {
		// A leaver back: the leave date hrsync stamped no longer holds, and
		// must not shorten the grace period of a later departure.
		a.Changes = append(a.Changes, Change{Attribute: ld, Before: strPtr(u.Attrs.Get(ld))})
	}
	c.keepWhole(&a, u)
	if c.in.ManagerMapped && !d.IsIgnored(identity.Manager) {
		c.diffManager(d, u, &a)
	}
	if u.MasteredIn != "" {
		c.holdMastered(d, u, &a, en)
	}
	if en.unsure {
		w := c.warn(WarnDisabledAccount, d.Key, "the worker is active in HR, but user %s (%s) is disabled and the mapping does not map %s: hrsync leaves it disabled, since it may have been disabled on purpose. Enable it by hand, or map %s from the HR status", u.ID, u.Attrs.Get(c.r.SignIn), c.r.Enabled, c.r.Enabled)
		w.Sources = []identity.Provenance{d.Prov}
		return a // entitlements unchanged too
	}
	active := en.want == "true" || en.hold || (en.want == "" && c.enabled(u))
	c.diffGroups(d, u.ID, active, restored, &a)
	c.diffLicenses(d, u, active, &a)
	return a
}

// diffAttr is the change of attribute spec that makes user u what record
// d says, if it needs one. A value the directory would not take (empty
// where it cannot clear, invalid, or unique and held by another user) is
// left as it is, with a warning. scope is the user as the action leaves
// it (see diffUser). i is the attribute's index in attrOrder.
func (c *computer) diffAttr(d *identity.Desired, u *identity.User, i int, en enablement, scope identity.Attrs) (Change, bool) {
	spec := c.order[i]
	if spec.CreateOnly {
		return Change{}, false
	}
	before, after := c.userF[i].Get(u.Attrs), c.recordF[i].Get(d.Attrs)
	if spec.Name == c.r.Placement && en.want == "false" && c.in.Policy.LeaverPlacement != "" {
		after = c.in.Policy.LeaverPlacement // a leaver goes to the leavers' place
	}
	if _, ok := c.leaveDate(d.Attrs); spec.Name == c.r.LeaveDate && !ok {
		after = "" // an old leave date, before the hire date: cleared, not written
	}
	if spec.Name == c.r.Enabled {
		// Decided by the lifecycle; shown in mapping order.
		if !enablementChanges(en.want, before) {
			return Change{}, false
		}
		return Change{Attribute: spec.Name, Before: optPtr(before), After: strPtr(en.want)}, true
	}
	if spec.WhenEmpty && before != "" {
		return Change{}, false // "only when empty": what the directory holds stays
	}
	if cands := d.Candidates()[spec.Name]; len(cands) > 0 {
		var ok bool
		if after, ok = c.uniqueValue(d, u, spec.Name, before, cands); !ok {
			return Change{}, false
		}
	}
	if d.IsIgnored(spec.Name) {
		return Change{}, false // IgnoreFlowIfNullOrEmpty: leave the attribute as it is
	}
	if equal(spec, before, after) {
		return Change{}, false
	}
	if after == "" && spec.NotNullable {
		w := c.warn(WarnCannotClear, d.Key, "%s is empty in the source, but %s cannot clear it; it stays %q", spec.Name, c.s.Name, before)
		w.Sources = []identity.Provenance{d.Prov}
		return Change{}, false
	}
	if after != "" && spec.Check != nil {
		if err := spec.Check(after); err != nil {
			w := c.warn(WarnRecordError, d.Key, "%s left unchanged: %v", spec.Name, err)
			w.Sources = []identity.Provenance{d.Prov}
			return Change{}, false
		}
	}
	if after != "" && c.s.Namespace(spec.Name) >= 0 {
		if owner := c.owner(spec.Name, after, scope); owner != "" && owner != u.ID && c.enforced(spec.Name) {
			w := c.warn(WarnMailConflict, d.Key, "%s left unchanged: %s is already used by %s", spec.Name, after, c.describe(owner))
			w.Sources = []identity.Provenance{d.Prov}
			return Change{}, false
		}
		c.claim(spec.Name, after, scope, u.ID)
	}
	return Change{Attribute: spec.Name, Before: optPtr(before), After: optPtr(after), Redacted: d.IsRedacted(spec.Name)}, true
}

// uniqueValue is the value of a SelectUniqueValue attribute for user u:
// the one it holds (before) if that is one of its candidates, else the
// first free one. With none free it warns and reports false: the
// attribute is left unchanged.
func (c *computer) uniqueValue(d *identity.Desired, u *identity.User, attr, before string, cands []string) (string, bool) {
	kept := ""
	for _, cand := range cands {
		if strings.EqualFold(cand, before) {
			kept = before
		}
	}
	if kept != "" {
		return kept, true
	}
	if v, ok := c.pickUnique(attr, cands, u.ID, d.Attrs); ok {
		return v, true
	}
	w := c.warn(WarnMailConflict, d.Key, "%s left unchanged: every value SelectUniqueValue offers is taken (%s)", attr, strings.Join(cands, ", "))
	w.Sources = []identity.Provenance{d.Prov}
	return "", false
}

// holdMastered keeps, of the changes to a user another directory masters,
// only those this directory accepts for it (its cloud attributes, groups,
// licenses): the rest are left to the master, with one warning naming
// them. A leaver there whose sessions predate its disable has them
// revoked.
func (c *computer) holdMastered(d *identity.Desired, u *identity.User, a *Action, en enablement) {
	kept := a.Changes[:0]
	var held []string
	for _, ch := range a.Changes {
		if spec, ok := c.s.Lookup(ch.Attribute); ok && spec.Cloud {
			kept = append(kept, ch)
			continue
		}
		if !(ch.Before != nil && ch.After != nil && *ch.Before == *ch.After) {
			held = append(held, ch.Attribute)
		}
	}
	a.Changes = kept
	a.Manager = nil
	a.Revoke = en.want == "false" && u.SessionsStale && !c.enabled(u)
	if len(held) == 0 {
		return
	}
	c.p.Summary.Mastered++
	what := "change " + strings.Join(held, ", ")
	if slices.Contains(held, c.r.Enabled) && en.want == "false" {
		what = "disable the account"
	}
	w := c.warn(WarnMastered, d.Key, "user %s (%s) is mastered in %s: hrsync does not %s here; do it there, or plan against that directory (target.type: active_directory)",
		u.ID, u.Attrs.Get(c.r.SignIn), u.MasteredIn, what)
	w.Sources = []identity.Provenance{d.Prov}
}

// maps reports whether the mapping maps the attribute.
func (c *computer) maps(attr string) bool {
	for _, s := range c.in.Attrs {
		if s.Name == attr {
			return true
		}
	}
	return false
}

func (c *computer) diffManager(d *identity.Desired, u *identity.User, a *Action) {
	before := ""
	if u.ManagerID != "" {
		before = c.managerLabel(u.ManagerID)
	}
	if d.ManagerKey == "" {
		if u.ManagerID != "" {
			a.Manager = &ManagerRef{BeforeID: u.ManagerID}
			a.Changes = append(a.Changes, Change{Attribute: identity.Manager, Before: strPtr(before)})
		}
		return
	}
	ref, ok := c.resolveManager(d)
	if !ok {
		return
	}
	if ref.ID != "" && ref.ID == u.ManagerID {
		return
	}
	ref.BeforeID = u.ManagerID
	a.Manager = ref
	a.Changes = append(a.Changes, Change{Attribute: identity.Manager, Before: optPtr(before), After: strPtr(ref.Key)})
}

// enablementChanges reports whether want ("" for no opinion) changes an
// account whose accountEnabled reads before ("" counts as enabled, as
// Graph never leaves it unset).
func enablementChanges(want, before string) bool {
	return want != "" && (want == "true") != (before != "false")
}

// keepWhole adds, to an update that changes part of a group of attributes
// the directory writes as one object (Entra's employeeOrgData), the
// unchanged parts, with before = after: the directory replaces the object
// whole, and would otherwise clear the parts left out.
func (c *computer) keepWhole(a *Action, u *identity.User) {
	changed := map[string]bool{}
	for _, ch := range a.Changes {
		changed[ch.Attribute] = true
	}
	for _, group := range c.s.WrittenWhole {
		n := 0
		for _, part := range group {
			if changed[part] {
				n++
			}
		}
		if n == 0 || n == len(group) {
			continue
		}
		for _, part := range group {
			if v := u.Attrs.Get(part); !changed[part] && v != "" {
				a.Changes = append(a.Changes, Change{Attribute: part, Before: strPtr(v), After: strPtr(v)})
			}
		}
	}
}

// enabled reports whether user u's account is enabled (unset counts as
// enabled, as directories never leave it unset).
func (c *computer) enabled(u *identity.User) bool { return c.enabledF.Get(u.Attrs) != "false" }

// managerLabel names a current manager by match key, or by sign-in name
// or id when the manager is outside the target scope.
func (c *computer) managerLabel(id string) string {
	return managerLabel(c.byID, c.in.MatchAttr, c.r.SignIn, id)
}

func managerLabel(byID map[string]*identity.User, match, signIn, id string) string {
	if m := byID[id]; m != nil {
		if k := m.Attrs.Get(match); k != "" {
			return k
		}
		if n := m.Attrs.Get(signIn); n != "" {
			return n
		}
	}
	return "id:" + id
}

// resolveManager finds the user the manager key refers to: an existing
// user holding the key, or a joiner this plan creates. Unresolvable
// references are reported and leave the manager untouched.
func (c *computer) resolveManager(d *identity.Desired) (*ManagerRef, bool) {
	if c.inCycle[Fold(d.Key)] {
		return nil, false // reported once for the whole circle
	}
	k := Fold(d.ManagerKey)
	if k == Fold(d.Key) {
		w := c.warn(WarnManagerSelf, d.Key, "the record names itself as its own manager; the manager is left unchanged")
		w.Sources = []identity.Provenance{d.Prov}
		return nil, false
	}
	us := c.byKey[k]
	switch {
	case len(us) == 1:
		if c.dupKeys[k] {
			w := c.warn(WarnManagerAmbiguous, d.Key, "manager %q is the key of several records in the source; the user %s holding it is used", d.ManagerKey, us[0].ID)
			w.Sources = []identity.Provenance{d.Prov}
		}
		return &ManagerRef{Key: d.ManagerKey, ID: us[0].ID}, true
	case len(us) > 1:
		w := c.warn(WarnManagerUnresolved, d.Key, "manager %q is held by %d users; the manager is left unchanged", k, len(us))
		w.Sources = []identity.Provenance{d.Prov}
		return nil, false
	case c.creating[k]:
		return &ManagerRef{Key: d.ManagerKey}, true
	case c.seen[k]:
		w := c.warn(WarnManagerUnresolved, d.Key, "manager %q has no account and none is planned (their record was left out or is inactive); the manager is left unchanged", k)
		w.Sources = []identity.Provenance{d.Prov}
		return nil, false
	default:
		w := c.warn(WarnManagerNotFound, d.Key, "manager %q is neither in the source nor in %s; the manager is left unchanged", k, c.s.Name)
		w.Sources = []identity.Provenance{d.Prov}
		return nil, false
	}
}

func (c *computer) leavers() {
	if c.in.Policy.Leavers != "disable" {
		return
	}
	if c.unkeyed > 0 {
		c.warn(WarnLeaversSuppressed, "", "%d record(s) have no usable match key, so hrsync cannot tell whose they are; no leavers are planned until they are fixed", c.unkeyed)
		return
	}
	// In directory order: finish sorts the actions and the warnings.
	for i, k := range c.userKey {
		u := &c.in.Users[i]
		if k == "" || c.seen[k] || len(c.byKey[k]) != 1 {
			continue // not managed, in the source, or held by several users
		}
		switch {
		case u.MasteredIn != "" && c.enabled(u):
			c.p.Summary.Mastered++
			c.warn(WarnMastered, strings.TrimSpace(c.matchF.Get(u.Attrs)), "user %s (%s) is a leaver (%s), but it is mastered in %s: hrsync does not disable it here; disable it there (hrsync then revokes its sessions once the disable has reached this directory), or plan against that directory (target.type: active_directory)",
				u.ID, u.Attrs.Get(c.r.SignIn), c.leaverReason(k), u.MasteredIn)
		case !c.enabled(u):
			c.disabledLeaver(u, k)
		default:
			c.disableLeaver(u, k)
		}
	}
}

// disabledLeaver plans what remains for a leaver already disabled: the
// managed groups and licenses it still holds go (a removal that failed in
// an earlier run, or a leaver disabled before the policy said so), and
// the sessions of one disabled in the directory that masters it.
func (c *computer) disabledLeaver(u *identity.User, k string) {
	if _, rekey := c.upnWantedBy[u.ID]; rekey {
		return // perhaps the same person under a new key: held, as in disableLeaver
	}
	a := Action{Action: Update, Key: strings.TrimSpace(c.matchF.Get(u.Attrs)), ID: u.ID,
		DisplayName: u.Attrs.Get(c.r.DisplayName), UserPrincipalName: u.Attrs.Get(c.r.SignIn),
		Reason: c.leaverReason(k) + "; its managed groups and licenses are removed", Event: EventAbsent,
		Source: c.leftScopeProv(k), Changes: []Change{}, Fingerprint: Fingerprint(u)}
	if _, ok := c.leftScope[k]; ok {
		a.Event = EventLeftScope
	}
	c.leaverAccess(u, &a)
	if a.Revoke = u.MasteredIn != "" && u.SessionsStale; a.Revoke {
		a.Reason = c.leaverReason(k) + "; disabled in " + u.MasteredIn + ", and its sign-in sessions predate that: they are revoked"
	}
	if len(a.Groups)+len(a.Licenses) > 0 || a.Revoke {
		c.p.Actions = append(c.p.Actions, a)
	}
}

// disableLeaver plans the disable of an enabled leaver, unless a joiner
// with its name wants its address (perhaps the same person under a new
// key); a joiner with another name wanting it is only warned of.
func (c *computer) disableLeaver(u *identity.User, k string) {
	if joiner, ok := c.upnWantedBy[u.ID]; ok {
		if c.sameName[u.ID] {
			c.warn(WarnPossibleRekey, c.matchF.Get(u.Attrs), "NOT disabled: %s (%s) is absent from the source, but the joiner with key %s has the same name and wants its address. If it is the same person under a new key, put the new key on this account (%s); if it is a namesake, change the joiner's address in the mapping or the source. Until then neither changes",
				c.matchF.Get(u.Attrs), u.Attrs.Get(c.r.SignIn), joiner, c.in.MatchAttr)
			return
		}
		c.warn(WarnPossibleRekey, c.matchF.Get(u.Attrs), "disabled as absent from the source, but the joiner with key %s wants its address %s. If they are the same person under a new key and a new name, put the new key on this account (%s) before applying",
			joiner, u.Attrs.Get(c.r.SignIn), c.in.MatchAttr)
	}
	a := Action{
		Action:            Disable,
		Key:               strings.TrimSpace(c.matchF.Get(u.Attrs)),
		ID:                u.ID,
		DisplayName:       u.Attrs.Get(c.r.DisplayName),
		UserPrincipalName: u.Attrs.Get(c.r.SignIn),
		Reason:            c.leaverReason(k),
		Event:             EventAbsent,
		Source:            c.leftScopeProv(k),
		Changes:           []Change{{Attribute: c.r.Enabled, Before: optPtr(u.Attrs.Get(c.r.Enabled)), After: strPtr("false")}},
		Fingerprint:       Fingerprint(u),
	}
	if pl, to := c.r.Placement, c.in.Policy.LeaverPlacement; pl != "" && to != "" && !strings.EqualFold(u.Attrs.Get(pl), to) {
		a.Changes = append(a.Changes, Change{Attribute: pl, Before: optPtr(u.Attrs.Get(pl)), After: strPtr(to)})
	}
	if _, ok := c.leftScope[k]; ok {
		a.Event = EventLeftScope
	}
	today := c.today()
	// The day hrsync saw them go: delete_after_days counts from it. A
	// date HR gave (the attribute is mapped) stays; one hrsync stamped
	// on an earlier departure is replaced.
	_, current := c.leaveDate(u.Attrs) // a date before the hire date is a stale one
	if ld := c.r.LeaveDate; ld != "" && c.in.StampLeaveDate && (!current || (!c.maps(ld) && u.Attrs.Get(ld) != today)) {
		a.Changes = append(a.Changes, Change{Attribute: ld, Before: optPtr(u.Attrs.Get(ld)), After: strPtr(today)})
	}
	c.leaverAccess(u, &a)
	c.p.Actions = append(c.p.Actions, a)
}

// leaverReason says why a managed user is a leaver.
func (c *computer) leaverReason(k string) string {
	if _, ok := c.leftScope[k]; ok {
		return "left scope: the record is outside the mapping's scope filter"
	}
	return "absent from source"
}

func (c *computer) leftScopeProv(k string) *identity.Provenance {
	if p, ok := c.leftScope[k]; ok {
		return provPtr(p)
	}
	return nil
}

// guards marks the plan not applyable when it would disable more users than
// the policy allows.
func (c *computer) guards() {
	c.p.Blocked = guards(c.p.Actions, c.in.Policy, c.p.Summary.Managed, c.p.Summary.ActiveManaged, c.in.Records)
	for _, b := range c.p.Blocked {
		code := WarnThreshold
		if strings.Contains(b, "leavers") {
			code = WarnLeaverThreshold
		}
		c.warn(code, "", "plan blocked: %s; review the source, then raise the limit or pass --allow-over-thresholds to apply", b)
	}
}

// LeaverPercentFloor is the number of leavers at or below which the
// percentage threshold does not apply: on small tenants one leaver would
// otherwise trip it.
const LeaverPercentFloor = 10

func (c *computer) finish() {
	rank := map[string]int{Create: 0, Restore: 1, Enable: 2, Update: 3, Disable: 4, Delete: 5}
	sort.SliceStable(c.p.Actions, func(i, j int) bool {
		a, b := c.p.Actions[i], c.p.Actions[j]
		if rank[a.Action] != rank[b.Action] {
			return rank[a.Action] < rank[b.Action]
		}
		return keyLess(a.Key, b.Key)
	})
	c.p.recount(c.s)
	sort.SliceStable(c.p.Warnings, func(i, j int) bool {
		a, b := c.p.Warnings[i], c.p.Warnings[j]
		if a.Code != b.Code {
			return a.Code < b.Code
		}
		return keyLess(a.Key, b.Key)
	})
	c.p.classify()
	c.p.Applyable = len(c.p.Blocked) == 0
}

// Fold is the form in which match keys are compared: trimmed and without
// regard to case, as Graph compares employeeId in $filter.
func Fold(k string) string {
	return strings.ToLower(strings.TrimSpace(k))
}

// keyLess orders keys: numbers first, by value (shorter first, then as
// text: keys keep their leading zeros), then the others as text. It is a
// total order, so a sort gives one result whatever order the directory
// listed users in (ordering 2 < 10 by value but 10 < 1a < 2 as text was
// not: the result depended on the input's order).
func keyLess(a, b string) bool {
	da, db := isDigits(a), isDigits(b)
	switch {
	case da != db:
		return da
	case da && len(a) != len(b):
		return len(a) < len(b)
	}
	return a < b
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// equal compares canonical values; text compares exactly, since Entra
// stores what it is given and a case change is a real change to a name.
func equal(spec identity.AttrSpec, a, b string) bool {
	if a == b || (spec.Equal != nil && spec.Equal(a, b)) {
		return true
	}
	if spec.Kind == identity.KindDate && a != "" && b != "" {
		ta, ea := time.Parse(time.RFC3339, a)
		tb, eb := time.Parse(time.RFC3339, b)
		if ea == nil && eb == nil {
			return ta.Equal(tb)
		}
	}
	return a == b
}

// Fingerprint digests the attributes of a user as read.
func Fingerprint(u *identity.User) string {
	keys := make([]string, 0, u.Attrs.Len())
	for k := range u.Attrs.All() {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	var b []byte // each line as fmt's "%s=%q\n" writes it, without fmt's cost
	for _, k := range keys {
		b = append(append(b[:0], k...), '=')
		b = append(strconv.AppendQuote(b, u.Attrs.Get(k)), '\n')
		h.Write(b)
	}
	b = append(strconv.AppendQuote(append(b[:0], "manager="...), u.ManagerID), '\n')
	h.Write(b)
	return "sha256:" + hex.EncodeToString(h.Sum(nil))[:16]
}

func strPtr(s string) *string { return &s }

func optPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func provPtr(p identity.Provenance) *identity.Provenance {
	if p == (identity.Provenance{}) {
		return nil
	}
	return &p
}
