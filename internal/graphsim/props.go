package graphsim

import (
	"bytes"
	"encoding/json"
	"github.com/hrsync/hrsync/internal/iso3166"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// propKind is how a user property is stored, rendered and written.
type propKind uint8

const (
	kindString propKind = iota
	kindBool
	kindStrings
	kindTime
	kindNullableBool // a Boolean that may be null (onPremisesSyncEnabled)
	kindOrgData
	kindExtAttrs
	kindPassword
	kindLicenses      // assignedLicenses: read-only, written through assignLicense
	kindLicenseStates // licenseAssignmentStates: read-only, direct and inherited assignments
	kindNullStub      // a real Graph property graphsim does not emulate; always null
	kindEmptyStub     // a real Graph collection graphsim does not emulate; always []
)

// filterLevel is how a property may be used in $filter (see Graph's "advanced
// query capabilities" article).
type filterLevel uint8

const (
	filterNone     filterLevel = iota // not filterable
	filterDefault                     // eq, in, startsWith, ge, le work by default; ne, not and null need advanced queries
	filterAdvanced                    // every operator needs advanced query parameters
)

// propDef describes one user property.
type propDef struct {
	name     string
	kind     propKind
	maxLen   int  // in characters; 0 = no limit checked
	writable bool // may appear in POST/PATCH bodies
	required bool // must be given on create
	noClear  bool // cannot be set to null on update
	// mastered: for a user synced from Active Directory
	// (onPremisesSyncEnabled true), AD masters the property and Graph
	// refuses to update it (see hybrid.go).
	mastered bool
	// seedOnly: Graph lets clients write the property, graphsim does not
	// (only a seed or state file sets it); a write is refused as not
	// emulated rather than as read-only.
	seedOnly bool
	filter   filterLevel
	str      func(*User) *string
	boolean  func(*User) *bool
	nboolean func(*User) **bool
	strs     func(*User) *[]string
	tm       func(*User) *time.Time
	check    func(string) bool // extra validation of string values
}

// maxEmployeeIDLen is Graph's limit on employeeId.
const maxEmployeeIDLen = 16

// userProps lists the emulated user properties followed by the stubs. It and
// the tables derived from it are built once and never modified.
var userProps = buildProps()

// propByName indexes userProps by lower-cased name.
var propByName = func() map[string]*propDef {
	m := make(map[string]*propDef, len(userProps))
	for _, p := range userProps {
		m[strings.ToLower(p.name)] = p
	}
	return m
}()

// defaultProps is the property set Graph returns when there is no $select, in
// Graph's order.
var defaultProps = func() []*propDef {
	names := []string{"businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
		"officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id"}
	out := make([]*propDef, len(names))
	for i, n := range names {
		out[i] = propByName[strings.ToLower(n)]
	}
	return out
}()

func buildProps() []*propDef {
	s := func(name string, maxLen int, f filterLevel, get func(*User) *string) *propDef {
		return &propDef{name: name, kind: kindString, maxLen: maxLen, writable: true, filter: f, str: get}
	}
	t := func(name string, f filterLevel, get func(*User) *time.Time) *propDef {
		return &propDef{name: name, kind: kindTime, writable: true, filter: f, tm: get}
	}
	props := []*propDef{
		{name: "id", kind: kindString, filter: filterDefault, str: func(u *User) *string { return &u.ID }},
		{name: "accountEnabled", kind: kindBool, writable: true, required: true, noClear: true, filter: filterDefault,
			boolean: func(u *User) *bool { return &u.AccountEnabled }},
		s("displayName", 256, filterDefault, func(u *User) *string { return &u.DisplayName }),
		s("givenName", 64, filterDefault, func(u *User) *string { return &u.GivenName }),
		s("surname", 64, filterDefault, func(u *User) *string { return &u.Surname }),
		s("userPrincipalName", 113, filterDefault, func(u *User) *string { return &u.UserPrincipalName }),
		s("mailNickname", 64, filterDefault, func(u *User) *string { return &u.MailNickname }),
		s("mail", 256, filterDefault, func(u *User) *string { return &u.Mail }),
		s("userType", 0, filterDefault, func(u *User) *string { return &u.UserType }),
		s("jobTitle", 128, filterDefault, func(u *User) *string { return &u.JobTitle }),
		s("department", 64, filterDefault, func(u *User) *string { return &u.Department }),
		s("companyName", 64, filterAdvanced, func(u *User) *string { return &u.CompanyName }),
		s("officeLocation", 128, filterAdvanced, func(u *User) *string { return &u.OfficeLocation }),
		s("employeeId", maxEmployeeIDLen, filterDefault, func(u *User) *string { return &u.EmployeeID }),
		s("employeeType", 0, filterAdvanced, func(u *User) *string { return &u.EmployeeType }),
		t("employeeHireDate", filterAdvanced, func(u *User) *time.Time { return &u.EmployeeHireDate }),
		t("employeeLeaveDateTime", filterAdvanced, func(u *User) *time.Time { return &u.EmployeeLeaveDateTime }),
		{name: "employeeOrgData", kind: kindOrgData, writable: true},
		s("city", 128, filterDefault, func(u *User) *string { return &u.City }),
		s("state", 128, filterDefault, func(u *User) *string { return &u.State }),
		s("country", 128, filterDefault, func(u *User) *string { return &u.Country }),
		s("streetAddress", 1024, filterAdvanced, func(u *User) *string { return &u.StreetAddress }),
		s("postalCode", 40, filterAdvanced, func(u *User) *string { return &u.PostalCode }),
		s("usageLocation", 2, filterDefault, func(u *User) *string { return &u.UsageLocation }),
		s("mobilePhone", 64, filterAdvanced, func(u *User) *string { return &u.MobilePhone }),
		{name: "businessPhones", kind: kindStrings, writable: true, strs: func(u *User) *[]string { return &u.BusinessPhones }},
		s("preferredLanguage", 0, filterAdvanced, func(u *User) *string { return &u.PreferredLanguage }),
		{name: "onPremisesExtensionAttributes", kind: kindExtAttrs, writable: true},
		{name: "passwordProfile", kind: kindPassword, writable: true, required: true, noClear: true},
		{name: "lastPasswordChangeDateTime", kind: kindTime, tm: func(u *User) *time.Time { return &u.LastPasswordChangeDateTime }},
		// Moved by revokeSignInSessions: refresh tokens issued before it
		// are no longer valid. Read-only.
		{name: "signInSessionsValidFromDateTime", kind: kindTime, tm: func(u *User) *time.Time { return &u.SignInSessionsValidFromDateTime }},
		{name: "createdDateTime", kind: kindTime, filter: filterDefault, tm: func(u *User) *time.Time { return &u.CreatedDateTime }},
		// Set when the user is deleted (null on live users); deleted items
		// show it.
		{name: "deletedDateTime", kind: kindTime, tm: func(u *User) *time.Time { return &u.DeletedDateTime }},
		{name: "assignedLicenses", kind: kindLicenses},
		{name: "licenseAssignmentStates", kind: kindLicenseStates},
		// The on-premises properties of synced users (see hybrid.go):
		// read-only, set by the seed or state file. The filter levels are
		// those of Graph's advanced-query table for users.
		{name: "onPremisesSyncEnabled", kind: kindNullableBool, filter: filterDefault,
			nboolean: func(u *User) **bool { return &u.OnPremisesSyncEnabled }},
		{name: "onPremisesImmutableId", kind: kindString, seedOnly: true, filter: filterAdvanced,
			str: func(u *User) *string { return &u.OnPremisesImmutableID }},
		{name: "onPremisesSamAccountName", kind: kindString, filter: filterAdvanced,
			str: func(u *User) *string { return &u.OnPremisesSamAccountName }},
		{name: "onPremisesDistinguishedName", kind: kindString,
			str: func(u *User) *string { return &u.OnPremisesDistinguishedName }},
		{name: "onPremisesDomainName", kind: kindString,
			str: func(u *User) *string { return &u.OnPremisesDomainName }},
		{name: "onPremisesLastSyncDateTime", kind: kindTime, filter: filterAdvanced,
			tm: func(u *User) *time.Time { return &u.OnPremisesLastSyncDateTime }},
	}
	for _, p := range props {
		switch p.name {
		case "displayName", "userPrincipalName", "mailNickname":
			p.required, p.noClear = true, true
		case "usageLocation", "userType":
			p.noClear = true
		}
	}
	byName := map[string]*propDef{}
	for _, p := range props {
		byName[p.name] = p
	}
	byName["mail"].check = validMail
	// Graph answers 400 "Property usageLocation is invalid" for codes that
	// are not ISO 3166-1 alpha-2, such as UK.
	byName["usageLocation"].check = iso3166.Valid
	byName["userType"].check = func(v string) bool { return v == "Member" || v == "Guest" }
	byName["mailNickname"].check = validMailNickname
	for _, n := range masteredProps {
		byName[n].mastered = true
	}

	// Real v1.0 user properties that graphsim does not emulate: selecting them
	// works (null or []), writing them is rejected loudly.
	for _, n := range []string{"aboutMe", "ageGroup", "birthday", "consentProvidedForMinor", "creationType",
		"customSecurityAttributes", "externalUserState", "externalUserStateChangeDateTime",
		"faxNumber", "hireDate", "isResourceAccount", "legalAgeGroupClassification", "mailboxSettings", "mySite",
		"onPremisesSecurityIdentifier", "onPremisesUserPrincipalName", "passwordPolicies", "preferredDataLocation", "preferredName",
		"securityIdentifier", "showInAddressList", "signInActivity"} {
		props = append(props, &propDef{name: n, kind: kindNullStub})
	}
	for _, n := range []string{"assignedPlans", "identities", "imAddresses", "interests",
		"onPremisesProvisioningErrors", "otherMails", "pastProjects",
		"provisionedPlans", "proxyAddresses", "responsibilities", "schools", "serviceProvisioningErrors", "skills"} {
		props = append(props, &propDef{name: n, kind: kindEmptyStub})
	}
	return props
}

func isASCIILetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// appendProp appends `"name":value` for p of u.
func appendProp(b []byte, p *propDef, u *User) []byte {
	b = appendJSONString(b, p.name)
	b = append(b, ':')
	return appendPropValue(b, p, u)
}

func appendPropValue(b []byte, p *propDef, u *User) []byte {
	switch p.kind {
	case kindString:
		return appendNullableString(b, *p.str(u))
	case kindBool:
		return strconv.AppendBool(b, *p.boolean(u))
	case kindNullableBool:
		return appendNullableBool(b, *p.nboolean(u))
	case kindStrings:
		b = append(b, '[')
		for i, v := range *p.strs(u) {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, v)
		}
		return append(b, ']')
	case kindTime:
		return appendTime(b, *p.tm(u))
	case kindOrgData:
		if u.EmployeeOrgData == nil {
			return append(b, "null"...)
		}
		b = append(b, `{"division":`...)
		b = appendNullableString(b, u.EmployeeOrgData.Division)
		b = append(b, `,"costCenter":`...)
		b = appendNullableString(b, u.EmployeeOrgData.CostCenter)
		return append(b, '}')
	case kindExtAttrs:
		a := u.OnPremisesExtensionAttributes
		if a == nil {
			a = &OnPremisesExtensionAttributes{}
		}
		b = append(b, '{')
		for i := 1; i <= 15; i++ {
			if i > 1 {
				b = append(b, ',')
			}
			b = append(b, `"extensionAttribute`...)
			b = appendInt(b, i)
			b = append(b, `":`...)
			b = appendNullableString(b, *a.attr(i))
		}
		return append(b, '}')
	case kindPassword:
		if u.PasswordProfile == nil {
			return append(b, "null"...)
		}
		b = append(b, `{"password":null,"forceChangePasswordNextSignIn":`...)
		b = strconv.AppendBool(b, u.PasswordProfile.ForceChangePasswordNextSignIn)
		b = append(b, `,"forceChangePasswordNextSignInWithMfa":`...)
		b = strconv.AppendBool(b, u.PasswordProfile.ForceChangePasswordNextSignInWithMfa)
		return append(b, '}')
	case kindLicenses:
		return appendAssignedLicenses(b, u)
	case kindLicenseStates:
		return appendLicenseStates(b, u)
	case kindEmptyStub:
		return append(b, "[]"...)
	default:
		return append(b, "null"...)
	}
}

// writeRequest is a decoded POST/PATCH body.
type writeRequest struct {
	fields   map[*propDef]json.RawMessage
	password *string // passwordProfile.password, never stored
}

// decodeUserBody parses a user body and resolves its property names
// (case-insensitively, as Graph does for directory objects).
func decodeUserBody(body []byte) (*writeRequest, *graphError) {
	raw, gerr := decodeObject(body)
	if gerr != nil {
		return nil, gerr
	}
	wr := &writeRequest{fields: make(map[*propDef]json.RawMessage, len(raw))}
	for key, val := range raw {
		lk := strings.ToLower(key)
		if lk == "@odata.type" {
			var typ string
			if json.Unmarshal(val, &typ) != nil || !strings.EqualFold(strings.TrimPrefix(typ, "#"), "microsoft.graph.user") {
				return nil, newError(http.StatusBadRequest, "BadRequest",
					"A type named '"+strings.Trim(string(val), `"`)+"' could not be resolved by the model.")
			}
			continue
		}
		if strings.HasPrefix(lk, "@") || strings.Contains(lk, "@odata.") {
			if strings.HasSuffix(lk, "@odata.bind") {
				return nil, newError(http.StatusBadRequest, "Request_BadRequest", "Invalid property '"+key+"'.")
			}
			continue // other instance annotations are ignored
		}
		p := propByName[lk]
		switch {
		case p == nil:
			return nil, newError(http.StatusBadRequest, "Request_BadRequest", "Invalid property '"+key+"'.")
		case p.kind == kindNullStub || p.kind == kindEmptyStub:
			return nil, newError(http.StatusBadRequest, "Request_BadRequest",
				"Property '"+p.name+"' is a real Graph property that graphsim does not emulate, so it cannot be written.")
		case p.seedOnly:
			return nil, newError(http.StatusBadRequest, "Request_BadRequest",
				"Property '"+p.name+"' can be written in Graph, but graphsim does not emulate writing it: set it in the seed or state file.")
		case !p.writable:
			return nil, newError(http.StatusBadRequest, "Request_BadRequest",
				"Property '"+p.name+"' is read-only and cannot be set.")
		}
		wr.fields[p] = val
	}
	return wr, nil
}

// decodeObject parses a JSON object body into raw members.
func decodeObject(body []byte) (map[string]json.RawMessage, *graphError) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return nil, errUnreadableBody()
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, errUnreadableBody()
	}
	return raw, nil
}

func isNull(raw json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(raw), []byte("null")) }

// apply validates the body and applies it to u (a copy the caller owns). On
// create, missing required properties are reported. The password, if any,
// is checked for complexity and then forgotten; only the flags and the change
// time are kept.
func (wr *writeRequest) apply(u *User, create bool, now time.Time) *graphError {
	for _, p := range userProps {
		raw, ok := wr.fields[p]
		if !ok {
			continue
		}
		if gerr := wr.applyProp(u, p, raw, create); gerr != nil {
			return gerr
		}
	}
	if create {
		for _, p := range userProps {
			if !p.required {
				continue
			}
			raw, ok := wr.fields[p]
			if !ok || isNull(raw) {
				return newError(http.StatusBadRequest, "Request_BadRequest",
					"Property "+p.name+" value is required but is empty or missing.")
			}
		}
		if wr.password == nil {
			return newError(http.StatusBadRequest, "Request_BadRequest", "A password must be specified to create a new user.")
		}
	}
	if wr.password != nil {
		if !passwordComplex(*wr.password) {
			return newError(http.StatusBadRequest, "Request_BadRequest",
				"The specified password does not comply with password complexity requirements. Please provide a different password.")
		}
		wr.password = nil
		u.LastPasswordChangeDateTime = now
	}
	return nil
}

func (wr *writeRequest) applyProp(u *User, p *propDef, raw json.RawMessage, create bool) *graphError {
	if isNull(raw) {
		if p.noClear && !create {
			return errInvalidValue(p.name)
		}
		clearProp(u, p)
		return nil
	}
	switch p.kind {
	case kindString:
		var v string
		if json.Unmarshal(raw, &v) != nil || v == "" {
			return errInvalidValue(p.name)
		}
		if p.maxLen > 0 && utf8.RuneCountInString(v) > p.maxLen {
			return errInvalidValue(p.name)
		}
		if p.check != nil && !p.check(v) {
			return errInvalidValue(p.name)
		}
		*p.str(u) = v
	case kindBool:
		var v bool
		if json.Unmarshal(raw, &v) != nil {
			return errInvalidValue(p.name)
		}
		*p.boolean(u) = v
	case kindStrings:
		var v []string
		if json.Unmarshal(raw, &v) != nil {
			return errInvalidValue(p.name)
		}
		for _, s := range v {
			if s == "" || utf8.RuneCountInString(s) > 64 {
				return errInvalidValue(p.name)
			}
		}
		if p.name == "businessPhones" && len(v) > 1 {
			// "Although this is a string collection, only one number can be set."
			return errInvalidValue(p.name)
		}
		if len(v) == 0 {
			v = nil
		}
		*p.strs(u) = v
	case kindTime:
		var v string
		if json.Unmarshal(raw, &v) != nil {
			return errInvalidValue(p.name)
		}
		tv, err := parseDateTimeOffset(v)
		if err != nil {
			return errInvalidValue(p.name)
		}
		*p.tm(u) = tv
	case kindOrgData:
		return applyOrgData(u, raw)
	case kindExtAttrs:
		return applyExtAttrs(u, raw)
	case kindPassword:
		return wr.applyPassword(u, raw)
	}
	return nil
}

func clearProp(u *User, p *propDef) {
	switch p.kind {
	case kindString:
		*p.str(u) = ""
	case kindStrings:
		*p.strs(u) = nil
	case kindTime:
		*p.tm(u) = time.Time{}
	case kindOrgData:
		u.EmployeeOrgData = nil
	case kindExtAttrs:
		u.OnPremisesExtensionAttributes = nil
	case kindPassword:
		u.PasswordProfile = nil
	}
}

// parseDateTimeOffset accepts the DateTimeOffset forms Graph clients send.
func parseDateTimeOffset(v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC().Truncate(time.Second), nil
}

// applyOrgData replaces u's employeeOrgData with the object sent. Graph
// documents it: "Include both property values when updating
// employeeOrgData; if you omit any, the system sets them to null."
func applyOrgData(u *User, raw json.RawMessage) *graphError {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return errInvalidValue("employeeOrgData")
	}
	d := EmployeeOrgData{}
	for k, v := range m {
		var dst *string
		switch strings.ToLower(k) {
		case "division":
			dst = &d.Division
		case "costcenter":
			dst = &d.CostCenter
		case "@odata.type":
			continue
		default:
			return newError(http.StatusBadRequest, "Request_BadRequest", "Invalid property '"+k+"'.")
		}
		if gerr := setNullableString(dst, v, "employeeOrgData", 0); gerr != nil {
			return gerr
		}
	}
	if d == (EmployeeOrgData{}) {
		u.EmployeeOrgData = nil
	} else {
		u.EmployeeOrgData = &d
	}
	return nil
}

// applyExtAttrs merges an onPremisesExtensionAttributes object into u.
func applyExtAttrs(u *User, raw json.RawMessage) *graphError {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return errInvalidValue("onPremisesExtensionAttributes")
	}
	a := OnPremisesExtensionAttributes{}
	if u.OnPremisesExtensionAttributes != nil {
		a = *u.OnPremisesExtensionAttributes
	}
	for k, v := range m {
		lk := strings.ToLower(k)
		if lk == "@odata.type" {
			continue
		}
		n, err := strconv.Atoi(strings.TrimPrefix(lk, "extensionattribute"))
		if !strings.HasPrefix(lk, "extensionattribute") || err != nil || n < 1 || n > 15 {
			return newError(http.StatusBadRequest, "Request_BadRequest", "Invalid property '"+k+"'.")
		}
		if gerr := setNullableString(a.attr(n), v, "onPremisesExtensionAttributes", 1024); gerr != nil {
			return gerr
		}
	}
	if a.empty() {
		u.OnPremisesExtensionAttributes = nil
	} else {
		u.OnPremisesExtensionAttributes = &a
	}
	return nil
}

func setNullableString(dst *string, raw json.RawMessage, prop string, maxLen int) *graphError {
	if isNull(raw) {
		*dst = ""
		return nil
	}
	var s string
	if json.Unmarshal(raw, &s) != nil || s == "" || (maxLen > 0 && utf8.RuneCountInString(s) > maxLen) {
		return errInvalidValue(prop)
	}
	*dst = s
	return nil
}

// applyPassword reads a passwordProfile object. The password goes to
// wr.password for the complexity check and is never stored.
func (wr *writeRequest) applyPassword(u *User, raw json.RawMessage) *graphError {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return errInvalidValue("passwordProfile")
	}
	pp := PasswordProfile{}
	if u.PasswordProfile != nil {
		pp = *u.PasswordProfile
	}
	for k, v := range m {
		switch strings.ToLower(k) {
		case "password":
			if isNull(v) {
				continue
			}
			var s string
			if json.Unmarshal(v, &s) != nil {
				return errInvalidValue("passwordProfile")
			}
			wr.password = &s
		case "forcechangepasswordnextsignin":
			if !isNull(v) && json.Unmarshal(v, &pp.ForceChangePasswordNextSignIn) != nil {
				return errInvalidValue("passwordProfile")
			}
		case "forcechangepasswordnextsigninwithmfa":
			if !isNull(v) && json.Unmarshal(v, &pp.ForceChangePasswordNextSignInWithMfa) != nil {
				return errInvalidValue("passwordProfile")
			}
		case "@odata.type":
		default:
			return newError(http.StatusBadRequest, "Request_BadRequest", "Invalid property '"+k+"'.")
		}
	}
	u.PasswordProfile = &pp
	return nil
}

// passwordComplex applies Entra's default cloud password policy: 8 to 256
// characters from three of the four classes (lower case, upper case, digits,
// symbols), no spaces or other characters.
func passwordComplex(p string) bool {
	n := utf8.RuneCountInString(p)
	if n < 8 || n > 256 {
		return false
	}
	const symbols = "@#$%^&*-_!+=[]{}|\\:',.?/`~\"();<>"
	var lower, upper, digit, symbol bool
	for _, r := range p {
		switch {
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= '0' && r <= '9':
			digit = true
		case r < utf8.RuneSelf && strings.ContainsRune(symbols, r):
			symbol = true
		default:
			return false
		}
	}
	classes := 0
	for _, ok := range []bool{lower, upper, digit, symbol} {
		if ok {
			classes++
		}
	}
	return classes >= 3
}

// validUPNSyntax checks the characters and shape of a userPrincipalName:
// A-Z a-z 0-9 ' . - _ ! # ^ ~ in the user name, exactly one @, a user name of
// at most 64 characters that does not end with a period, and a domain.
func validUPNSyntax(upn string) bool {
	at := strings.IndexByte(upn, '@')
	if at <= 0 || at != strings.LastIndexByte(upn, '@') || at == len(upn)-1 || len(upn) > 113 {
		return false
	}
	local, domain := upn[:at], upn[at+1:]
	if len(local) > 64 || local[len(local)-1] == '.' || local[0] == '.' {
		return false
	}
	for i := 0; i < len(local); i++ {
		c := local[i]
		if !(isASCIILetter(c) || c >= '0' && c <= '9' || strings.IndexByte("'.-_!#^~", c) >= 0) {
			return false
		}
	}
	return validDomainSyntax(domain)
}

func validDomainSyntax(d string) bool {
	if d == "" || len(d) > 253 || d[0] == '.' || d[len(d)-1] == '.' || strings.Contains(d, "..") {
		return false
	}
	for i := 0; i < len(d); i++ {
		c := d[i]
		if !(isASCIILetter(c) || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// validMail accepts a plain ASCII SMTP address (Graph rejects accents in mail).
func validMail(m string) bool {
	at := strings.IndexByte(m, '@')
	if at <= 0 || at != strings.LastIndexByte(m, '@') {
		return false
	}
	for i := 0; i < at; i++ {
		c := m[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),:;<>[\]`, c) >= 0 {
			return false
		}
	}
	return validDomainSyntax(m[at+1:])
}

// validMailNickname rejects the characters Graph refuses in mail aliases.
func validMailNickname(n string) bool {
	for i := 0; i < len(n); i++ {
		c := n[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`@()\[]";:<>,`, c) >= 0 {
			return false
		}
	}
	return true
}
