package graphsim

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/hrsync/hrsync/internal/guid"
	"io"
	"os"
	"strings"
	"time"
)

// State is the persisted content of a sandbox tenant: its identity, the
// verified domains and the directory objects. It is also the format of seed
// files. New fields may be added over time; readers reject unknown fields so
// that typos in hand-written seed files are reported instead of silently
// ignored.
type State struct {
	// Tenant is the tenant's identity (Graph's organization object). A state
	// or seed without one gets one with a new random id when it is loaded;
	// the server then saves it with the next Save, so the id stays stable.
	Tenant *Tenant `json:"tenant,omitempty"`
	// Domains are the tenant's verified domains. A new user's
	// userPrincipalName must use one of them.
	Domains []string `json:"domains"`
	// Users are the live users, in creation order (the order paging uses).
	Users []User `json:"users"`
	// DeletedUsers are users removed with DELETE /users/{id}, in the order
	// they were deleted: Entra's deleted items, restorable for 30 days after
	// their deletedDateTime (a deleted user without one is taken as deleted
	// when the state is loaded). Older ones are purged when the state is
	// loaded or used. They keep their group memberships, licenses and
	// manager, which come back on restore; their license units are free
	// meanwhile. Their userPrincipalName is the original one (the deleted
	// items show it with the id in front, as Entra does; a state that stores
	// it that way is read back to the original).
	DeletedUsers []User `json:"deletedUsers,omitempty"`
	// Groups are the groups (read-only but for their members), in the
	// order GET /groups pages them.
	Groups []Group `json:"groups,omitempty"`
	// SubscribedSkus are the tenant's license subscriptions.
	SubscribedSkus []SubscribedSku `json:"subscribedSkus,omitempty"`
}

// Group is a Microsoft Graph group as the emulator stores it. Groups are
// seeded, not created through the API; only their members change.
type Group struct {
	ID              string   `json:"id"`
	DisplayName     string   `json:"displayName"`
	Description     string   `json:"description,omitempty"`
	SecurityEnabled bool     `json:"securityEnabled"`
	MailEnabled     bool     `json:"mailEnabled"`
	GroupTypes      []string `json:"groupTypes,omitempty"`
	// Members are the object ids of the member users (live or deleted), in
	// the order they were added.
	Members []string `json:"members,omitempty"`
	// OnPremisesSyncEnabled is true for a group synced from Active
	// Directory, whose membership is mastered there: Graph refuses to add
	// or remove its members. nil (null) for a cloud group.
	OnPremisesSyncEnabled *bool `json:"onPremisesSyncEnabled,omitempty"`
}

// SubscribedSku is a license subscription of the tenant (Graph's
// subscribedSku). ConsumedUnits counts the live users holding the license,
// directly or inherited from a group (once per user), plus any consumed
// outside graphsim: it must be at least the number of live users holding
// the SKU (0 in a seed means exactly that number). Deleting a user frees
// its units; restoring it takes them again even when none are left, as
// Entra does.
type SubscribedSku struct {
	SkuID         string       `json:"skuId"`
	SkuPartNumber string       `json:"skuPartNumber"`
	PrepaidUnits  PrepaidUnits `json:"prepaidUnits"`
	ConsumedUnits int          `json:"consumedUnits"`
}

// PrepaidUnits is the part of Graph's licenseUnitsDetail graphsim keeps:
// the units that may be assigned.
type PrepaidUnits struct {
	Enabled int `json:"enabled"`
}

// AssignedLicense is a license assigned to a user (Graph's
// assignedLicense).
type AssignedLicense struct {
	SkuID         string   `json:"skuId"`
	DisabledPlans []string `json:"disabledPlans,omitempty"`
}

// InheritedLicense is a license a user holds through a group (Entra's
// group-based licensing): GroupID is the group (one of State.Groups) that
// assigns SkuID. graphsim does not run group-based licensing: inherited
// licenses are part of the state as seeded and do not follow membership
// changes.
type InheritedLicense struct {
	SkuID   string `json:"skuId"`
	GroupID string `json:"groupId"`
}

// Tenant identifies the emulated tenant. It is served as the single
// organization object of GET /organization.
type Tenant struct {
	// ID is the tenant (directory) id, a GUID: the organization's id, and the
	// tid claim Entra would put in tokens for this tenant.
	ID string `json:"id"`
	// DisplayName is the organization's name ("" = null).
	DisplayName string `json:"displayName,omitempty"`
}

// User is a Microsoft Graph user as the emulator stores it. JSON names are the
// Graph property names. An empty string means the property is null (Graph
// rejects empty strings for these properties, so the two never need to be
// told apart). The password is never stored: only the password profile flags
// and the time the password was last set are kept.
type User struct {
	ID                string    `json:"id"`
	AccountEnabled    bool      `json:"accountEnabled"`
	DisplayName       string    `json:"displayName,omitempty"`
	GivenName         string    `json:"givenName,omitempty"`
	Surname           string    `json:"surname,omitempty"`
	UserPrincipalName string    `json:"userPrincipalName"`
	MailNickname      string    `json:"mailNickname,omitempty"`
	Mail              string    `json:"mail,omitempty"`
	UserType          string    `json:"userType,omitempty"`
	JobTitle          string    `json:"jobTitle,omitempty"`
	Department        string    `json:"department,omitempty"`
	CompanyName       string    `json:"companyName,omitempty"`
	OfficeLocation    string    `json:"officeLocation,omitempty"`
	EmployeeID        string    `json:"employeeId,omitempty"`
	EmployeeType      string    `json:"employeeType,omitempty"`
	EmployeeHireDate  time.Time `json:"employeeHireDate,omitzero"`
	// SignInSessionsValidFromDateTime is set by revokeSignInSessions:
	// tokens issued before it are no longer valid.
	SignInSessionsValidFromDateTime time.Time                      `json:"signInSessionsValidFromDateTime,omitzero"`
	EmployeeLeaveDateTime           time.Time                      `json:"employeeLeaveDateTime,omitzero"`
	EmployeeOrgData                 *EmployeeOrgData               `json:"employeeOrgData,omitempty"`
	City                            string                         `json:"city,omitempty"`
	State                           string                         `json:"state,omitempty"`
	Country                         string                         `json:"country,omitempty"`
	StreetAddress                   string                         `json:"streetAddress,omitempty"`
	PostalCode                      string                         `json:"postalCode,omitempty"`
	UsageLocation                   string                         `json:"usageLocation,omitempty"`
	MobilePhone                     string                         `json:"mobilePhone,omitempty"`
	BusinessPhones                  []string                       `json:"businessPhones,omitempty"`
	PreferredLanguage               string                         `json:"preferredLanguage,omitempty"`
	OnPremisesExtensionAttributes   *OnPremisesExtensionAttributes `json:"onPremisesExtensionAttributes,omitempty"`
	PasswordProfile                 *PasswordProfile               `json:"passwordProfile,omitempty"`
	LastPasswordChangeDateTime      time.Time                      `json:"lastPasswordChangeDateTime,omitzero"`
	CreatedDateTime                 time.Time                      `json:"createdDateTime,omitzero"`
	DeletedDateTime                 time.Time                      `json:"deletedDateTime,omitzero"`
	// AssignedLicenses are the licenses assigned directly (assignLicense).
	AssignedLicenses []AssignedLicense `json:"assignedLicenses,omitempty"`
	// InheritedLicenses are the licenses the user holds through groups
	// (read-only). Graph shows them in assignedLicenses too, and tells
	// them apart in licenseAssignmentStates (assignedByGroup).
	InheritedLicenses []InheritedLicense `json:"inheritedLicenses,omitempty"`
	// Manager is the object id of the user's manager ("" = none).
	Manager string `json:"manager,omitempty"`

	// The on-premises properties of a user synced from Active Directory by
	// Entra Connect or Cloud Sync (see hybrid.go). They are read-only in
	// Graph: only a seed or state file sets them. OnPremisesSyncEnabled is
	// nil (Graph's null) for a user never synced, the cloud-only case;
	// true for a user mastered in AD, whose directory attributes, manager
	// and deletion Graph refuses; false for one that was synced and no
	// longer is (cloud-managed again).
	OnPremisesSyncEnabled       *bool     `json:"onPremisesSyncEnabled,omitempty"`
	OnPremisesImmutableID       string    `json:"onPremisesImmutableId,omitempty"`
	OnPremisesSamAccountName    string    `json:"onPremisesSamAccountName,omitempty"`
	OnPremisesDistinguishedName string    `json:"onPremisesDistinguishedName,omitempty"`
	OnPremisesDomainName        string    `json:"onPremisesDomainName,omitempty"`
	OnPremisesLastSyncDateTime  time.Time `json:"onPremisesLastSyncDateTime,omitzero"`
}

// EmployeeOrgData is Graph's employeeOrgData complex type.
type EmployeeOrgData struct {
	Division   string `json:"division,omitempty"`
	CostCenter string `json:"costCenter,omitempty"`
}

// OnPremisesExtensionAttributes is Graph's onPremisesExtensionAttributes
// complex type (Exchange custom attributes 1-15).
type OnPremisesExtensionAttributes struct {
	ExtensionAttribute1  string `json:"extensionAttribute1,omitempty"`
	ExtensionAttribute2  string `json:"extensionAttribute2,omitempty"`
	ExtensionAttribute3  string `json:"extensionAttribute3,omitempty"`
	ExtensionAttribute4  string `json:"extensionAttribute4,omitempty"`
	ExtensionAttribute5  string `json:"extensionAttribute5,omitempty"`
	ExtensionAttribute6  string `json:"extensionAttribute6,omitempty"`
	ExtensionAttribute7  string `json:"extensionAttribute7,omitempty"`
	ExtensionAttribute8  string `json:"extensionAttribute8,omitempty"`
	ExtensionAttribute9  string `json:"extensionAttribute9,omitempty"`
	ExtensionAttribute10 string `json:"extensionAttribute10,omitempty"`
	ExtensionAttribute11 string `json:"extensionAttribute11,omitempty"`
	ExtensionAttribute12 string `json:"extensionAttribute12,omitempty"`
	ExtensionAttribute13 string `json:"extensionAttribute13,omitempty"`
	ExtensionAttribute14 string `json:"extensionAttribute14,omitempty"`
	ExtensionAttribute15 string `json:"extensionAttribute15,omitempty"`
}

// attr returns a pointer to extension attribute n (1..15).
func (a *OnPremisesExtensionAttributes) attr(n int) *string {
	switch n {
	case 1:
		return &a.ExtensionAttribute1
	case 2:
		return &a.ExtensionAttribute2
	case 3:
		return &a.ExtensionAttribute3
	case 4:
		return &a.ExtensionAttribute4
	case 5:
		return &a.ExtensionAttribute5
	case 6:
		return &a.ExtensionAttribute6
	case 7:
		return &a.ExtensionAttribute7
	case 8:
		return &a.ExtensionAttribute8
	case 9:
		return &a.ExtensionAttribute9
	case 10:
		return &a.ExtensionAttribute10
	case 11:
		return &a.ExtensionAttribute11
	case 12:
		return &a.ExtensionAttribute12
	case 13:
		return &a.ExtensionAttribute13
	case 14:
		return &a.ExtensionAttribute14
	case 15:
		return &a.ExtensionAttribute15
	}
	return nil
}

func (a *OnPremisesExtensionAttributes) empty() bool {
	return *a == OnPremisesExtensionAttributes{}
}

// PasswordProfile keeps the readable part of Graph's passwordProfile. The
// password itself is write-only and never stored.
type PasswordProfile struct {
	ForceChangePasswordNextSignIn        bool `json:"forceChangePasswordNextSignIn"`
	ForceChangePasswordNextSignInWithMfa bool `json:"forceChangePasswordNextSignInWithMfa,omitempty"`
}

// clone returns a deep copy of u.
func (u *User) clone() User {
	c := *u
	if u.EmployeeOrgData != nil {
		d := *u.EmployeeOrgData
		c.EmployeeOrgData = &d
	}
	if u.OnPremisesExtensionAttributes != nil {
		a := *u.OnPremisesExtensionAttributes
		c.OnPremisesExtensionAttributes = &a
	}
	if u.PasswordProfile != nil {
		p := *u.PasswordProfile
		c.PasswordProfile = &p
	}
	if u.BusinessPhones != nil {
		c.BusinessPhones = append([]string(nil), u.BusinessPhones...)
	}
	if u.AssignedLicenses != nil {
		c.AssignedLicenses = make([]AssignedLicense, len(u.AssignedLicenses))
		for i, l := range u.AssignedLicenses {
			c.AssignedLicenses[i] = AssignedLicense{SkuID: l.SkuID, DisabledPlans: cloneStrings(l.DisabledPlans)}
		}
	}
	if u.InheritedLicenses != nil {
		c.InheritedLicenses = append([]InheritedLicense(nil), u.InheritedLicenses...)
	}
	c.OnPremisesSyncEnabled = cloneBool(u.OnPremisesSyncEnabled)
	return c
}

// cloneBool copies a nullable bool, keeping nil nil.
func cloneBool(b *bool) *bool {
	if b == nil {
		return nil
	}
	v := *b
	return &v
}

// heldSkus returns the skuIds u holds, directly or through a group, each
// once: the units u consumes.
func (u *User) heldSkus() []string {
	if len(u.InheritedLicenses) == 0 {
		out := make([]string, len(u.AssignedLicenses))
		for i, l := range u.AssignedLicenses {
			out[i] = l.SkuID
		}
		return out
	}
	var out []string
	seen := make(map[string]bool, len(u.AssignedLicenses)+len(u.InheritedLicenses))
	add := func(id string) {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	for _, l := range u.AssignedLicenses {
		add(l.SkuID)
	}
	for _, l := range u.InheritedLicenses {
		add(l.SkuID)
	}
	return out
}

// holdsDirectly reports whether skuID is assigned to u directly.
func (u *User) holdsDirectly(skuID string) bool {
	for _, l := range u.AssignedLicenses {
		if l.SkuID == skuID {
			return true
		}
	}
	return false
}

// inherits reports whether u holds skuID through a group.
func (u *User) inherits(skuID string) bool {
	for _, l := range u.InheritedLicenses {
		if l.SkuID == skuID {
			return true
		}
	}
	return false
}

// deletedUPN is a deleted user's userPrincipalName as Entra shows it in
// the deleted items: the object id without dashes in front of the
// original.
func deletedUPN(u *User) string {
	return strings.ReplaceAll(u.ID, "-", "") + u.UserPrincipalName
}

// originalUPN undoes deletedUPN: a state written from Entra's deleted
// items may store the prefixed form.
func originalUPN(u *User) string {
	prefix := strings.ReplaceAll(u.ID, "-", "")
	if len(prefix) == 32 && len(u.UserPrincipalName) > len(prefix) && strings.EqualFold(u.UserPrincipalName[:len(prefix)], prefix) {
		return u.UserPrincipalName[len(prefix):]
	}
	return u.UserPrincipalName
}

// clone returns a deep copy of g.
func (g *Group) clone() Group {
	c := *g
	c.GroupTypes = cloneStrings(g.GroupTypes)
	c.Members = cloneStrings(g.Members)
	c.OnPremisesSyncEnabled = cloneBool(g.OnPremisesSyncEnabled)
	return c
}

// cloneStrings copies s, keeping nil nil.
func cloneStrings(s []string) []string {
	if s == nil {
		return nil
	}
	return append([]string(nil), s...)
}

// Clone returns a deep copy of the state.
func (st *State) Clone() State {
	c := State{Domains: append([]string(nil), st.Domains...)}
	if st.Tenant != nil {
		t := *st.Tenant
		c.Tenant = &t
	}
	c.Users = make([]User, len(st.Users))
	for i := range st.Users {
		c.Users[i] = st.Users[i].clone()
	}
	if st.DeletedUsers != nil {
		c.DeletedUsers = make([]User, len(st.DeletedUsers))
		for i := range st.DeletedUsers {
			c.DeletedUsers[i] = st.DeletedUsers[i].clone()
		}
	}
	if st.Groups != nil {
		c.Groups = make([]Group, len(st.Groups))
		for i := range st.Groups {
			c.Groups[i] = st.Groups[i].clone()
		}
	}
	if st.SubscribedSkus != nil {
		c.SubscribedSkus = append([]SubscribedSku(nil), st.SubscribedSkus...)
	}
	return c
}

// LoadState reads and checks a state (or seed) file. Users without an id get
// a newly generated one, and so does a tenant without an id; a file without
// a tenant gets one. Errors name the file and what is wrong, with the line
// and column for JSON errors.
func LoadState(path string) (*State, error) {
	st, _, err := loadState(path)
	return st, err
}

// loadState is LoadState that also reports whether ids were generated (the
// loaded state then differs from the file). The file is decoded as a stream,
// one user at a time, so a large tenant is never held twice in memory; it is
// read again only to place an error.
func loadState(path string) (*State, bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, fmt.Errorf("graphsim: %w", err)
	}
	st, derr := decodeState(bufio.NewReaderSize(f, 1<<20))
	_ = f.Close()
	if derr != nil {
		data, rerr := os.ReadFile(path)
		if rerr != nil {
			data = nil // place the error as well as we can
		}
		return nil, false, fmt.Errorf("graphsim: %s: %w", path, describeJSONError(data, derr))
	}
	generated, err := st.validate()
	if err != nil {
		return nil, false, fmt.Errorf("graphsim: %s: %w", path, err)
	}
	return st, generated, nil
}

// posError is a decoding error at a byte offset of the document: at the
// token that follows off, or (valueStart) rel bytes into the value that
// begins after off.
type posError struct {
	off        int64
	valueStart bool
	rel        int64
	err        error
	field      string // path of a mistyped value, e.g. users[3].employeeId
}

func (e *posError) Error() string { return e.err.Error() }
func (e *posError) Unwrap() error { return e.err }

// offset resolves the absolute offset in data.
func (e *posError) offset(data []byte) int64 {
	off := e.off
	if e.valueStart {
		// Decoder.Decode first consumes the separator (':' or ',') before
		// the value, if there is one; offsets inside the value count from
		// just after it (or from off when there is none).
		sep := off
		for sep < int64(len(data)) && isJSONSpace(data[sep]) {
			sep++
		}
		if sep < int64(len(data)) && (data[sep] == ':' || data[sep] == ',') {
			off = sep + 1
		}
		return off + e.rel
	}
	// The next token: skip whitespace and a separator.
	for off < int64(len(data)) && (isJSONSpace(data[off]) || data[off] == ',' || data[off] == ':') {
		off++
	}
	return off
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// decodeState reads a state document from r, rejecting unknown fields (also
// inside users) and anything after the top-level object. Users are decoded
// one by one, so memory holds the users, not the document.
func decodeState(r io.Reader) (*State, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	st := new(State)
	if err := expectDelim(dec, '{'); err != nil {
		return nil, err
	}
	for dec.More() {
		off := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		// encoding/json matches field names case-insensitively; so do we.
		switch {
		case strings.EqualFold(key, "tenant"):
			err = decodeValue(dec, &st.Tenant, "tenant")
		case strings.EqualFold(key, "domains"):
			err = decodeValue(dec, &st.Domains, "domains")
		case strings.EqualFold(key, "users"):
			st.Users, err = decodeUsers(dec, "users")
		case strings.EqualFold(key, "deletedUsers"):
			st.DeletedUsers, err = decodeUsers(dec, "deletedUsers")
		case strings.EqualFold(key, "groups"):
			err = decodeValue(dec, &st.Groups, "groups")
		case strings.EqualFold(key, "subscribedSkus"):
			err = decodeValue(dec, &st.SubscribedSkus, "subscribedSkus")
		default:
			return nil, &posError{off: off, err: fmt.Errorf("json: unknown field %q", key)}
		}
		if err != nil {
			return nil, err
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return nil, err
	}
	off := dec.InputOffset()
	if tok, err := dec.Token(); err != io.EOF {
		if err != nil {
			return nil, err
		}
		return nil, &posError{off: off, err: fmt.Errorf("unexpected %v after the top-level object", tok)}
	}
	return st, nil
}

// expectDelim reads the next token and checks it is delim.
func expectDelim(dec *json.Decoder, delim json.Delim) error {
	off := dec.InputOffset()
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != delim {
		return &posError{off: off, err: fmt.Errorf("JSON syntax error: expected %v, found %v", delim, tok)}
	}
	return nil
}

// decodeValue decodes the next value into v; field names it in errors.
func decodeValue(dec *json.Decoder, v any, field string) error {
	off := dec.InputOffset()
	err := dec.Decode(v)
	var typ *json.UnmarshalTypeError
	var syn *json.SyntaxError
	switch {
	case err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return err
	case errors.As(err, &typ):
		path := field
		if typ.Field != "" {
			path += "." + typ.Field
		}
		return &posError{off: off, valueStart: true, rel: typ.Offset, err: err, field: path}
	case errors.As(err, &syn):
		return err // its offset is not absolute; describeJSONError places it
	default: // e.g. an unknown field: placed at the start of the value
		return &posError{off: off, valueStart: true, err: fmt.Errorf("%s: %w", field, err)}
	}
}

// decodeUsers decodes a users array (or null) element by element.
func decodeUsers(dec *json.Decoder, field string) ([]User, error) {
	off := dec.InputOffset()
	tok, err := dec.Token()
	if err != nil || tok == nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, &posError{off: off, err: fmt.Errorf("%s has the wrong type: got %v, want an array of users", field, tok)}
	}
	var users []User
	for dec.More() {
		users = append(users, User{})
		if err := decodeValue(dec, &users[len(users)-1], fmt.Sprintf("%s[%d]", field, len(users)-1)); err != nil {
			return nil, err
		}
	}
	if _, err := dec.Token(); err != nil { // ']'
		return nil, err
	}
	return users, nil
}

// describeJSONError turns a decoding error into one that carries a line and
// column (data is the document; nil if it could not be read again).
func describeJSONError(data []byte, err error) error {
	var pos *posError
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	if errors.As(err, &syn) && data != nil {
		// A streaming decoder's syntax error offsets are not absolute:
		// validate the whole document to place the error.
		var raw json.RawMessage
		if verr := json.Unmarshal(data, &raw); errors.As(verr, &syn) {
			line, col := lineCol(data, max(syn.Offset-1, 0)) // Offset counts the offending byte
			return fmt.Errorf("line %d, column %d: JSON syntax error: %w", line, col, syn)
		}
	}
	switch {
	case errors.As(err, &pos):
		line, col := lineCol(data, pos.offset(data))
		if errors.As(pos.err, &typ) {
			return fmt.Errorf("line %d, column %d: %s has the wrong type: got JSON %s, want %s",
				line, col, pos.field, typ.Value, typ.Type)
		}
		return fmt.Errorf("line %d, column %d: %w", line, col, pos.err)
	case errors.As(err, &syn):
		line, col := lineCol(data, max(syn.Offset-1, 0))
		return fmt.Errorf("line %d, column %d: JSON syntax error: %w", line, col, err)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return fmt.Errorf("unexpected end of file: %w", err)
	default:
		return err
	}
}

// lineCol converts a byte offset into a 1-based line and column.
func lineCol(data []byte, off int64) (int, int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	prefix := data[:off]
	line := bytes.Count(prefix, []byte{'\n'}) + 1
	col := int(off) - bytes.LastIndexByte(prefix, '\n')
	return line, col
}

// validate checks the invariants the emulator relies on and fills in missing
// ids (and a missing tenant); generated reports whether it did. It reports the
// first problem found.
func (st *State) validate() (generated bool, err error) {
	domains := make(map[string]bool, len(st.Domains))
	for i, d := range st.Domains {
		d = strings.TrimSpace(d)
		if d == "" || strings.ContainsAny(d, "@ /") {
			return false, fmt.Errorf("domains[%d]: %q is not a domain name", i, st.Domains[i])
		}
		domains[strings.ToLower(d)] = true
	}
	if st.Tenant == nil {
		st.Tenant = &Tenant{DisplayName: defaultTenantName(st.Domains)}
	}
	if st.Tenant.ID == "" {
		st.Tenant.ID = newGUID()
		generated = true
	}
	if !guid.Valid(st.Tenant.ID) {
		return false, fmt.Errorf("tenant.id: %q is not a GUID", st.Tenant.ID)
	}
	st.Tenant.ID = strings.ToLower(st.Tenant.ID)
	ids := make(map[string]int, len(st.Users))
	deletedIDs := make(map[string]int, len(st.DeletedUsers))
	upns := make(map[string]int, len(st.Users))
	for i := range st.Users {
		u := &st.Users[i]
		where := fmt.Sprintf("users[%d]", i)
		if u.ID == "" {
			u.ID = newGUID()
			generated = true
		}
		u.ID = strings.ToLower(u.ID)
		if j, dup := ids[u.ID]; dup {
			return false, fmt.Errorf("%s: id %s is already used by users[%d]", where, u.ID, j)
		}
		ids[u.ID] = i
		if u.UserPrincipalName == "" {
			return false, fmt.Errorf("%s (id %s): userPrincipalName is missing", where, u.ID)
		}
		if !validUPNSyntax(u.UserPrincipalName) {
			return false, fmt.Errorf("%s (id %s): userPrincipalName %q is not a valid user principal name", where, u.ID, u.UserPrincipalName)
		}
		dom := strings.ToLower(u.UserPrincipalName[strings.IndexByte(u.UserPrincipalName, '@')+1:])
		if !domains[dom] {
			return false, fmt.Errorf("%s (id %s): the domain of userPrincipalName %q is not in domains", where, u.ID, u.UserPrincipalName)
		}
		key := strings.ToLower(u.UserPrincipalName)
		if j, dup := upns[key]; dup {
			return false, fmt.Errorf("%s (id %s): userPrincipalName %q is already used by users[%d]", where, u.ID, u.UserPrincipalName, j)
		}
		upns[key] = i
		if n := len(u.EmployeeID); n > maxEmployeeIDLen {
			return false, fmt.Errorf("%s (id %s): employeeId is %d characters long; Graph allows at most %d", where, u.ID, n, maxEmployeeIDLen)
		}
	}
	for i := range st.Users {
		u := &st.Users[i]
		if u.Manager == "" {
			continue
		}
		u.Manager = strings.ToLower(u.Manager)
		if u.Manager == u.ID {
			return false, fmt.Errorf("users[%d] (id %s): a user cannot be their own manager", i, u.ID)
		}
		if _, ok := ids[u.Manager]; !ok {
			return false, fmt.Errorf("users[%d] (id %s): manager %s is not a user in this file", i, u.ID, u.Manager)
		}
	}
	for i := range st.DeletedUsers {
		u := &st.DeletedUsers[i]
		where := fmt.Sprintf("deletedUsers[%d]", i)
		if u.ID == "" {
			return false, fmt.Errorf("%s: id is missing", where)
		}
		u.ID = strings.ToLower(u.ID)
		if j, dup := ids[u.ID]; dup {
			return false, fmt.Errorf("%s: id %s is already used by users[%d]", where, u.ID, j)
		}
		if j, dup := deletedIDs[u.ID]; dup {
			return false, fmt.Errorf("%s: id %s is already used by deletedUsers[%d]", where, u.ID, j)
		}
		deletedIDs[u.ID] = i
		u.UserPrincipalName = originalUPN(u)
		if !validUPNSyntax(u.UserPrincipalName) {
			return false, fmt.Errorf("%s (id %s): userPrincipalName %q is not a valid user principal name", where, u.ID, u.UserPrincipalName)
		}
		u.Manager = strings.ToLower(u.Manager)
	}
	g, err := st.validateDirectoryExtras(ids, deletedIDs)
	if err != nil {
		return false, err
	}
	generated = generated || g
	return generated, nil
}

// validateDirectoryExtras checks the groups, the subscribed SKUs and the
// users' licenses (ids and deletedIDs index the users and deleted users),
// fills in missing group ids and consumed units left at 0, and normalises
// empty lists to nil.
func (st *State) validateDirectoryExtras(ids, deletedIDs map[string]int) (generated bool, err error) {
	skus := make(map[string]int, len(st.SubscribedSkus))
	for i := range st.SubscribedSkus {
		k := &st.SubscribedSkus[i]
		where := fmt.Sprintf("subscribedSkus[%d]", i)
		if !guid.Valid(k.SkuID) {
			return false, fmt.Errorf("%s: skuId %q is not a GUID", where, k.SkuID)
		}
		k.SkuID = strings.ToLower(k.SkuID)
		if j, dup := skus[k.SkuID]; dup {
			return false, fmt.Errorf("%s: skuId %s is already used by subscribedSkus[%d]", where, k.SkuID, j)
		}
		skus[k.SkuID] = i
		if k.SkuPartNumber == "" {
			return false, fmt.Errorf("%s (skuId %s): skuPartNumber is missing", where, k.SkuID)
		}
		if k.PrepaidUnits.Enabled < 0 || k.ConsumedUnits < 0 {
			return false, fmt.Errorf("%s (skuId %s): prepaidUnits.enabled and consumedUnits must not be negative", where, k.SkuID)
		}
	}
	groupIDs, generated, err := st.validateGroups(ids, deletedIDs)
	if err != nil {
		return false, err
	}

	holders := make([]int, len(st.SubscribedSkus))
	checkLicenses := func(where string, u *User, live bool) error {
		if len(u.AssignedLicenses) == 0 {
			u.AssignedLicenses = nil
		}
		if len(u.InheritedLicenses) == 0 {
			u.InheritedLicenses = nil
		}
		seen := map[string]bool{}
		for j := range u.AssignedLicenses {
			l := &u.AssignedLicenses[j]
			l.SkuID = strings.ToLower(l.SkuID)
			if _, ok := skus[l.SkuID]; !ok {
				return fmt.Errorf("%s (id %s): assignedLicenses[%d]: skuId %q is not in subscribedSkus", where, u.ID, j, l.SkuID)
			}
			if seen[l.SkuID] {
				return fmt.Errorf("%s (id %s): assignedLicenses[%d]: skuId %s is assigned twice", where, u.ID, j, l.SkuID)
			}
			seen[l.SkuID] = true
			if len(l.DisabledPlans) == 0 {
				l.DisabledPlans = nil
			}
		}
		paths := map[InheritedLicense]bool{}
		for j := range u.InheritedLicenses {
			l := &u.InheritedLicenses[j]
			l.SkuID, l.GroupID = strings.ToLower(l.SkuID), strings.ToLower(l.GroupID)
			if _, ok := skus[l.SkuID]; !ok {
				return fmt.Errorf("%s (id %s): inheritedLicenses[%d]: skuId %q is not in subscribedSkus", where, u.ID, j, l.SkuID)
			}
			if _, ok := groupIDs[l.GroupID]; !ok {
				return fmt.Errorf("%s (id %s): inheritedLicenses[%d]: groupId %q is not in groups", where, u.ID, j, l.GroupID)
			}
			if paths[*l] {
				return fmt.Errorf("%s (id %s): inheritedLicenses[%d]: skuId %s is inherited from group %s twice", where, u.ID, j, l.SkuID, l.GroupID)
			}
			paths[*l] = true
		}
		if live {
			for _, id := range u.heldSkus() {
				holders[skus[id]]++
			}
		}
		return nil
	}
	for i := range st.Users {
		if err := checkLicenses(fmt.Sprintf("users[%d]", i), &st.Users[i], true); err != nil {
			return false, err
		}
	}
	for i := range st.DeletedUsers {
		if err := checkLicenses(fmt.Sprintf("deletedUsers[%d]", i), &st.DeletedUsers[i], false); err != nil {
			return false, err
		}
	}
	for i := range st.SubscribedSkus {
		k := &st.SubscribedSkus[i]
		switch {
		case k.ConsumedUnits == 0 && holders[i] > 0:
			k.ConsumedUnits = holders[i]
			generated = true
		case k.ConsumedUnits < holders[i]:
			return false, fmt.Errorf("subscribedSkus[%d] (skuId %s): consumedUnits is %d but %d users hold the license",
				i, k.SkuID, k.ConsumedUnits, holders[i])
		}
	}
	return generated, nil
}

// validateGroups checks the groups and fills in missing ids; it returns
// the groups' indexes by id.
func (st *State) validateGroups(ids, deletedIDs map[string]int) (groupIDs map[string]int, generated bool, err error) {
	groupIDs = make(map[string]int, len(st.Groups))
	for i := range st.Groups {
		g := &st.Groups[i]
		where := fmt.Sprintf("groups[%d]", i)
		if g.ID == "" {
			g.ID = newGUID()
			generated = true
		}
		g.ID = strings.ToLower(g.ID)
		if j, dup := groupIDs[g.ID]; dup {
			return nil, false, fmt.Errorf("%s: id %s is already used by groups[%d]", where, g.ID, j)
		}
		_, isUser := ids[g.ID]
		_, isDeleted := deletedIDs[g.ID]
		if isUser || isDeleted {
			return nil, false, fmt.Errorf("%s: id %s is already used by a user", where, g.ID)
		}
		groupIDs[g.ID] = i
		if strings.TrimSpace(g.DisplayName) == "" {
			return nil, false, fmt.Errorf("%s (id %s): displayName is missing", where, g.ID)
		}
		if len(g.GroupTypes) == 0 {
			g.GroupTypes = nil
		}
		if len(g.Members) == 0 {
			g.Members = nil
		}
		members := make(map[string]bool, len(g.Members))
		for j, m := range g.Members {
			m = strings.ToLower(m)
			g.Members[j] = m
			_, live := ids[m]
			_, deleted := deletedIDs[m]
			if !live && !deleted {
				return nil, false, fmt.Errorf("%s (id %s): member %s is not a user in this file", where, g.ID, m)
			}
			if members[m] {
				return nil, false, fmt.Errorf("%s (id %s): member %s is listed twice", where, g.ID, m)
			}
			members[m] = true
		}
	}
	return groupIDs, generated, nil
}

// defaultTenantName names a new tenant after the first label of its default
// (first) domain, e.g. "Contoso" for contoso.com; "Sandbox" without domains.
func defaultTenantName(domains []string) string {
	name := "sandbox"
	if len(domains) > 0 {
		name, _, _ = strings.Cut(strings.TrimSpace(domains[0]), ".")
	}
	if name == "" {
		return ""
	}
	return strings.ToUpper(name[:1]) + name[1:]
}
