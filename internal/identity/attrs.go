package identity

import (
	"sort"
	"strings"
	"time"
)

// Kind is the value type of a user attribute.
type Kind int

// Attribute kinds. All values travel through hrsync as canonical strings;
// the kind says how to canonicalise them, and the directory's adapter how
// to write them.
const (
	KindString Kind = iota
	KindBool        // canonical "true" / "false"
	KindDate        // canonical RFC 3339 UTC, e.g. "2025-01-31T00:00:00Z"
	KindRef         // a reference to another user, by that user's match key
)

// AttrSpec describes one user attribute hrsync can manage in a directory.
type AttrSpec struct {
	// Name is the directory's attribute name (nested ones as
	// "employeeOrgData.division").
	Name string
	Kind Kind
	// CreateOnly attributes are set when a user is created and never patched
	// afterwards (renaming someone's sign-in is never a side effect of a sync).
	CreateOnly bool
	// RequiredOnCreate attributes must have a value for a user to be created.
	RequiredOnCreate bool
	// MaxLen is the directory's length limit, 0 for none checked here.
	MaxLen int
	// NotNullable attributes cannot be cleared once set.
	NotNullable bool
	// WhenEmpty attributes are written only while the user has no value
	// (Entra's "only when empty"); a value someone set in the directory stays.
	WhenEmpty bool
	// Matchable attributes can serve as the match key. Only attributes that
	// admin and service accounts do not normally carry qualify: the target
	// scope is "users whose match attribute is set", so matching on the
	// sign-in name would put every account, admins included, in scope.
	Matchable bool
	// Check, if not nil, validates a value the way the directory does
	// before it is written; its error says what is wrong and what to do.
	Check func(string) error
	// Cloud attributes are the directory's own even for a user another
	// directory masters (Entra's usageLocation for a user synced from
	// Active Directory): hrsync writes them; it writes no other attribute
	// of such a user.
	Cloud bool
	// Equal, if not nil, tells whether two values are the same the way
	// the directory compares them (a DN without regard to case); nil
	// compares them exactly.
	Equal func(a, b string) bool
	// Inverts, when set, makes the attribute an alias: its value is the
	// negation of the named boolean attribute, under which it is stored
	// (Active Directory's accountDisabled for accountEnabled).
	Inverts string
}

// Manager is the name of the reference attribute for the user's manager.
const Manager = "manager"

// Roles names the attributes that play a part in hrsync's decisions, so
// the plan decides by role, not by one directory's names. An empty role is
// one the directory does not have.
type Roles struct {
	// Match is the attribute a mapping matches on by default.
	Match string
	// SignIn is the user's sign-in name, shown in plans and unique.
	SignIn string
	// DisplayName names the user for people.
	DisplayName string
	// Enabled is the boolean account state, canonical "true" for an
	// enabled account (virtual in directories that keep it otherwise).
	Enabled string
	// HireDate and LeaveDate carry the lifecycle dates.
	HireDate, LeaveDate string
	// Placement is where a user lives in the directory tree, e.g. Active
	// Directory's parentDistinguishedName (the OU).
	Placement string
	// Naming is the attribute whose value names the user within its
	// placement (the RDN: Active Directory's cn), and RDNType its type in
	// the DN ("CN").
	Naming, RDNType string
	// AccountName is the user's logon name besides the sign-in name
	// (Active Directory's sAMAccountName), for HR's writeback.
	AccountName string
}

// EntryDN is the distinguished name a user with attrs has in a directory
// that places users in a tree: RDNType=<escaped Naming value>,<Placement>;
// "" when the schema does not place users or attrs lack either part.
func (s *Schema) EntryDN(attrs Attrs) string {
	r := s.Roles
	if r.Placement == "" || r.Naming == "" || r.RDNType == "" || attrs.Get(r.Naming) == "" || attrs.Get(r.Placement) == "" {
		return ""
	}
	return r.RDNType + "=" + EscapeRDN(attrs.Get(r.Naming)) + "," + attrs.Get(r.Placement)
}

// EscapeRDN escapes a value for a DN as RFC 4514 says (a backslash before
// " + , ; < > \\ and =, a leading # or space, a trailing space; NUL as \\00),
// as Active Directory wants it.
func EscapeRDN(v string) string {
	var b strings.Builder
	for i, r := range v {
		switch {
		case r == 0:
			b.WriteString(`\00`)
			continue
		case strings.ContainsRune(`"+,;<>\=`, r),
			i == 0 && (r == ' ' || r == '#'),
			i == len(v)-1 && r == ' ':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Namespace is a set of attributes whose values must be unique together:
// no value may be held twice, by one attribute or another (Entra's
// userPrincipalName and mail share one). Within, when set, scopes the
// uniqueness to users with the same value of that attribute (a cn is
// unique within its OU). SelectUniqueValue picks values free in the
// namespace; when Enforced, the directory refuses a taken value, so a
// joiner with one is not created and an update to one is left out.
type Namespace struct {
	Attrs    []string
	Within   string
	Enforced bool
}

// Schema is what a directory says of its users: the attributes hrsync can
// read, diff and write, the roles they play, which values must be unique,
// and what the directory can do. Each adapter supplies one.
type Schema struct {
	// Name names the directory for people, e.g. "Entra ID".
	Name  string
	Roles Roles
	// Unique lists the namespaces whose values must be unique.
	Unique []Namespace
	// WrittenWhole lists groups of attributes the directory writes as one
	// object: an update of one part must carry the others.
	WrittenWhole [][]string
	// Organisational attributes make an update a mover.
	Organisational []string
	// RestoreWindow is how long a deleted user can be restored; 0 when
	// deleted users cannot be restored.
	RestoreWindow time.Duration
	// RevokesSessions says the directory can end a user's sign-in
	// sessions (revokeSignInSessions after a disable).
	RevokesSessions bool
	// Licenses says the directory assigns licenses.
	Licenses bool

	byName map[string]AttrSpec
	names  []string
}

// NewSchema builds a schema from its attribute table.
func NewSchema(s Schema, attrs []AttrSpec) *Schema {
	s.byName = make(map[string]AttrSpec, len(attrs))
	s.names = nil
	for _, a := range attrs {
		s.byName[strings.ToLower(a.Name)] = a
		s.names = append(s.names, a.Name)
	}
	return &s
}

// Lookup finds an attribute by name, ignoring case, and returns its spec
// with the canonical spelling.
func (s *Schema) Lookup(name string) (AttrSpec, bool) {
	a, ok := s.byName[strings.ToLower(name)]
	return a, ok
}

// Names lists the known attribute names in a stable order (aliases
// included).
func (s *Schema) Names() []string {
	out := append([]string(nil), s.names...)
	sort.Strings(out)
	return out
}

// Namespace returns the index in Unique of the namespace attr belongs to,
// or -1.
func (s *Schema) Namespace(attr string) int {
	for i, ns := range s.Unique {
		for _, a := range ns.Attrs {
			if a == attr {
				return i
			}
		}
	}
	return -1
}

// UniqueAttrs lists the attributes of every unique namespace, in order.
func (s *Schema) UniqueAttrs() []string {
	var out []string
	for _, ns := range s.Unique {
		out = append(out, ns.Attrs...)
	}
	return out
}

// Required lists the attributes a user must have to be created, in the
// table's order.
func (s *Schema) Required() []string {
	var out []string
	for _, n := range s.names {
		if a := s.byName[strings.ToLower(n)]; a.RequiredOnCreate {
			out = append(out, a.Name)
		}
	}
	return out
}

// Organises reports whether a change of attr makes an update a mover.
func (s *Schema) Organises(attr string) bool {
	for _, a := range s.Organisational {
		if a == attr {
			return true
		}
	}
	return false
}

// WholeWith returns the group of attributes written as one object that
// attr belongs to, or nil.
func (s *Schema) WholeWith(attr string) []string {
	for _, g := range s.WrittenWhole {
		for _, a := range g {
			if a == attr {
				return g
			}
		}
	}
	return nil
}

// Desired is the identity a source record should become in the directory.
// What few records have is kept aside (Extras), so the many in a large
// read stay small.
type Desired struct {
	// Key is the value of the match attribute (e.g. the worker ID).
	Key string
	// Attrs holds every mapped attribute except the manager, canonicalised.
	Attrs Attrs
	// ManagerKey is the match key of the manager, "" for none; only
	// meaningful when the mapping maps the manager.
	ManagerKey string
	// Prov is where the record came from.
	Prov Provenance
	// OutOfScope marks a record the mapping's scope filter leaves out: it
	// is never created or updated, and its user is a leaver ("left scope").
	OutOfScope bool
	// Extras is nil for a record with none of them; read them with the
	// methods below, write them through More. Like Attrs, a copy of a
	// Desired shares them: give a copy its own before writing to them.
	Extras *Extras
}

// Extras are the parts of a Desired that most records do not have.
type Extras struct {
	// Ignored names attributes the mapping said not to flow for this record
	// (IgnoreFlowIfNullOrEmpty): they are left as they are in the directory.
	Ignored map[string]bool
	// AltKeys are the record's keys for the mapping's further match rules,
	// in rule order ("" when a rule gives no value).
	AltKeys []string
	// Candidates holds, for attributes mapped with SelectUniqueValue, the
	// candidate values in order; Attrs holds the first. The plan picks the
	// first one nobody in the directory or the plan holds.
	Candidates map[string][]string
	// Redacted names attributes whose value the mapping wrapped in Redact:
	// plans show them as "(redacted)".
	Redacted map[string]bool
	// Groups and Licenses are the group and SKU references (id or name)
	// the mapping's entitlement rules give the record.
	Groups   []string
	Licenses []string
	// RuleMisses says which table rules found no entry for the record's
	// value (a department the map does not list).
	RuleMisses []string
}

// More returns d's extras for writing, making them if d has none.
func (d *Desired) More() *Extras {
	if d.Extras == nil {
		d.Extras = &Extras{}
	}
	return d.Extras
}

// IsIgnored reports whether the mapping said not to flow attr for d.
func (d *Desired) IsIgnored(attr string) bool { return d.Extras != nil && d.Extras.Ignored[attr] }

// IsRedacted reports whether the mapping wrapped attr's value in Redact.
func (d *Desired) IsRedacted(attr string) bool { return d.Extras != nil && d.Extras.Redacted[attr] }

// AltKeys returns d's keys for the further match rules.
func (d *Desired) AltKeys() []string {
	if d.Extras == nil {
		return nil
	}
	return d.Extras.AltKeys
}

// Candidates returns the SelectUniqueValue candidates by attribute (nil
// for none).
func (d *Desired) Candidates() map[string][]string {
	if d.Extras == nil {
		return nil
	}
	return d.Extras.Candidates
}

// Groups returns the group references of d.
func (d *Desired) Groups() []string {
	if d.Extras == nil {
		return nil
	}
	return d.Extras.Groups
}

// Licenses returns the license references of d.
func (d *Desired) Licenses() []string {
	if d.Extras == nil {
		return nil
	}
	return d.Extras.Licenses
}

// RuleMisses returns the table rules that found no entry for d.
func (d *Desired) RuleMisses() []string {
	if d.Extras == nil {
		return nil
	}
	return d.Extras.RuleMisses
}

// User is a user as read from the target directory.
type User struct {
	// ID is the directory's stable object id (Entra's object id, Active
	// Directory's objectGUID, an LDAP entry's entryUUID).
	ID string
	// Attrs holds the attributes read, canonicalised like Desired.Attrs.
	Attrs Attrs
	// ManagerID is the object id of the user's manager, "" for none.
	ManagerID string
	// Licenses are the skuIds of the licenses assigned to the user
	// directly (not through a group), sorted; read only when the mapping
	// has license rules.
	Licenses []string
	// MasteredIn, when not empty, names the directory that masters the
	// user's attributes (a user Entra Connect syncs from Active Directory):
	// the target refuses writes to them, and the plan makes none.
	MasteredIn string
	// SessionsStale says a disabled user mastered elsewhere may still hold
	// sign-in sessions from before its disable reached this directory:
	// revoking them is due (a leaver disabled in Active Directory).
	SessionsStale bool
}

// DeletedUser is a deleted user the directory can still restore.
type DeletedUser struct {
	User
	DeletedAt time.Time
}
