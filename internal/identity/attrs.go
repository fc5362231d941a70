package identity

import (
	"sort"
	"strings"
)

// Kind is the value type of an Entra user attribute.
type Kind int

// Attribute kinds. All values travel through hrsync as canonical strings;
// the kind says how to canonicalise and how to write them to Graph.
const (
	KindString Kind = iota
	KindBool        // canonical "true" / "false"
	KindDate        // canonical RFC 3339 UTC, e.g. "2025-01-31T00:00:00Z"
	KindRef         // a reference to another user, by that user's match key
)

// AttrSpec describes one Entra user attribute hrsync can manage.
type AttrSpec struct {
	// Name is the Graph property name (nested ones as "employeeOrgData.division").
	Name string
	Kind Kind
	// CreateOnly attributes are set when a user is created and never patched
	// afterwards (renaming someone's sign-in is never a side effect of a sync).
	CreateOnly bool
	// RequiredOnCreate attributes must have a value for a user to be created.
	RequiredOnCreate bool
	// MaxLen is Graph's length limit, 0 for none checked here.
	MaxLen int
	// NotNullable attributes cannot be cleared once set (Graph refuses null).
	NotNullable bool
	// WhenEmpty attributes are written only while the user has no value
	// (Entra's "only when empty"); a value someone set in Entra stays.
	WhenEmpty bool
	// Matchable attributes can serve as the match key. Only attributes that
	// admin and service accounts do not normally carry qualify: the target
	// scope is "users whose match attribute is set", so matching on
	// userPrincipalName would put every account, admins included, in scope.
	Matchable bool
}

// Manager is the name of the reference attribute for the user's manager.
const Manager = "manager"

// OrgDataPrefix starts the names of the employeeOrgData parts, which Graph
// writes as one object: a part left out of an update is set to null.
const OrgDataPrefix = "employeeOrgData."

var attrTable = []AttrSpec{
	{Name: "accountEnabled", Kind: KindBool, NotNullable: true},
	{Name: "displayName", Kind: KindString, RequiredOnCreate: true, MaxLen: 256, NotNullable: true},
	{Name: "givenName", Kind: KindString, MaxLen: 64},
	{Name: "surname", Kind: KindString, MaxLen: 64},
	{Name: "userPrincipalName", Kind: KindString, CreateOnly: true, RequiredOnCreate: true, MaxLen: 113},
	{Name: "mailNickname", Kind: KindString, CreateOnly: true, RequiredOnCreate: true, MaxLen: 64},
	{Name: "mail", Kind: KindString, MaxLen: 256},
	{Name: "jobTitle", Kind: KindString, MaxLen: 128},
	{Name: "department", Kind: KindString, MaxLen: 64},
	{Name: "companyName", Kind: KindString, MaxLen: 64},
	{Name: "officeLocation", Kind: KindString, MaxLen: 128},
	{Name: "employeeId", Kind: KindString, MaxLen: 16, Matchable: true},
	{Name: "employeeType", Kind: KindString, MaxLen: 64},
	{Name: "employeeHireDate", Kind: KindDate},
	{Name: "employeeLeaveDateTime", Kind: KindDate},
	{Name: "employeeOrgData.division", Kind: KindString},
	{Name: "employeeOrgData.costCenter", Kind: KindString},
	{Name: "streetAddress", Kind: KindString, MaxLen: 1024},
	{Name: "city", Kind: KindString, MaxLen: 128},
	{Name: "state", Kind: KindString, MaxLen: 128},
	{Name: "postalCode", Kind: KindString, MaxLen: 40},
	{Name: "country", Kind: KindString, MaxLen: 128},
	{Name: "usageLocation", Kind: KindString, MaxLen: 2, NotNullable: true},
	{Name: "mobilePhone", Kind: KindString, MaxLen: 64},
	{Name: "preferredLanguage", Kind: KindString},
	{Name: Manager, Kind: KindRef},
}

// Schema is the set of attributes hrsync knows how to read, diff and write.
type Schema struct {
	byName map[string]AttrSpec
	names  []string
}

// DefaultSchema returns the built-in Entra user attribute schema.
func DefaultSchema() *Schema {
	s := &Schema{byName: make(map[string]AttrSpec, len(attrTable))}
	for _, a := range attrTable {
		s.byName[strings.ToLower(a.Name)] = a
		s.names = append(s.names, a.Name)
	}
	return s
}

// Lookup finds an attribute by name, ignoring case, and returns its spec
// with the canonical spelling.
func (s *Schema) Lookup(name string) (AttrSpec, bool) {
	a, ok := s.byName[strings.ToLower(name)]
	return a, ok
}

// Names lists the known attribute names in a stable order.
func (s *Schema) Names() []string {
	out := append([]string(nil), s.names...)
	sort.Strings(out)
	return out
}

// Attrs maps canonical attribute names to canonical string values. An
// attribute that is absent or "" is unset: Graph treats an empty string and
// null alike for hrsync's purposes, and clearing is done by writing null.
type Attrs map[string]string

// Desired is the identity a source record should become in Entra.
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
	// Ignored names attributes the mapping said not to flow for this record
	// (IgnoreFlowIfNullOrEmpty): they are left as they are in Entra.
	Ignored map[string]bool
	// AltKeys are the record's keys for the mapping's further match rules,
	// in rule order ("" when a rule gives no value).
	AltKeys []string
	// Candidates holds, for attributes mapped with SelectUniqueValue, the
	// candidate values in order; Attrs holds the first. The plan picks the
	// first one nobody in the tenant or the plan holds.
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
	// OutOfScope marks a record the mapping's scope filter leaves out: it
	// is never created or updated, and its user is a leaver ("left scope").
	OutOfScope bool
}

// User is a user as read from the target directory.
type User struct {
	// ID is the directory object id.
	ID string
	// Attrs holds the attributes read, canonicalised like Desired.Attrs.
	Attrs Attrs
	// ManagerID is the object id of the user's manager, "" for none.
	ManagerID string
	// Licenses are the skuIds of the licenses assigned to the user
	// directly (not through a group), sorted; read only when the mapping
	// has license rules.
	Licenses []string
}
