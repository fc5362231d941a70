package entra

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hrsync/hrsync/internal/identity"
)

// userPage is one page of GET /users (or /users/delta) as Graph sends it.
type userPage struct {
	Value     []rawUser `json:"value"`
	NextLink  string    `json:"@odata.nextLink"`
	DeltaLink string    `json:"@odata.deltaLink"`
	// Count is @odata.count, when asked for ($count=true).
	Count *int `json:"@odata.count"`
}

// rawUser holds the user properties hrsync reads, as Graph sends them.
type rawUser struct {
	ID                string  `json:"id"`
	AccountEnabled    *bool   `json:"accountEnabled"`
	DisplayName       *string `json:"displayName"`
	GivenName         *string `json:"givenName"`
	Surname           *string `json:"surname"`
	UserPrincipalName *string `json:"userPrincipalName"`
	MailNickname      *string `json:"mailNickname"`
	Mail              *string `json:"mail"`
	JobTitle          *string `json:"jobTitle"`
	Department        *string `json:"department"`
	CompanyName       *string `json:"companyName"`
	OfficeLocation    *string `json:"officeLocation"`
	EmployeeID        *string `json:"employeeId"`
	EmployeeType      *string `json:"employeeType"`
	EmployeeHireDate  *string `json:"employeeHireDate"`
	// EmployeeLeaveDateTime is canonicalised like employeeHireDate.
	EmployeeLeaveDateTime *string `json:"employeeLeaveDateTime"`
	EmployeeOrgData       *struct {
		Division   *string `json:"division"`
		CostCenter *string `json:"costCenter"`
	} `json:"employeeOrgData"`
	StreetAddress     *string `json:"streetAddress"`
	City              *string `json:"city"`
	State             *string `json:"state"`
	PostalCode        *string `json:"postalCode"`
	Country           *string `json:"country"`
	UsageLocation     *string `json:"usageLocation"`
	MobilePhone       *string `json:"mobilePhone"`
	PreferredLanguage *string `json:"preferredLanguage"`
	Manager           *struct {
		ID string `json:"id"`
	} `json:"manager"`
	// ManagerDelta is /users/delta's form of the manager.
	ManagerDelta []struct {
		ID      string          `json:"id"`
		Removed *map[string]any `json:"@removed"`
	} `json:"manager@delta"`
	// LicenseAssignmentStates are read into identity.User.Licenses, not
	// Attrs: the direct assignments (assignedByGroup null) only.
	LicenseAssignmentStates []struct {
		SkuID           string  `json:"skuId"`
		AssignedByGroup *string `json:"assignedByGroup"`
	} `json:"licenseAssignmentStates"`
	// DeletedDateTime is set on deleted items.
	DeletedDateTime *string `json:"deletedDateTime"`
	// The hybrid properties (see syncProps): a user Entra Connect or Cloud
	// Sync keeps from Active Directory, when it last did, and since when
	// its sign-in sessions are valid (revokeSignInSessions moves it).
	OnPremisesSyncEnabled           *bool   `json:"onPremisesSyncEnabled"`
	OnPremisesDistinguishedName     *string `json:"onPremisesDistinguishedName"`
	OnPremisesLastSyncDateTime      *string `json:"onPremisesLastSyncDateTime"`
	SignInSessionsValidFromDateTime *string `json:"signInSessionsValidFromDateTime"`
	// Removed marks a user deleted (or out of scope) in a delta round.
	Removed *map[string]any `json:"@removed"`
}

// LicensesAttr is the attribute name that asks the reads (ReadUsers,
// ListUsers, ListDeletedUsers, directory.OpGet, directory.OpFind) for the directly assigned
// licenses: they fill identity.User.Licenses with the sorted, lower-cased
// skuIds, not Attrs. Graph's assignedLicenses also lists licenses inherited
// from groups, which hrsync cannot remove with assignLicense, so the reads
// select licenseAssignmentStates instead and keep the assignments whose
// assignedByGroup is null. (Graph's delta does not return
// licenseAssignmentStates: ListUsersDelta cannot read licenses.)
const LicensesAttr = "assignedLicenses"

// licenseStatesProp is the property LicensesAttr selects.
const licenseStatesProp = "licenseAssignmentStates"

// canonicalTime returns a Graph DateTimeOffset in canonical form: RFC 3339
// in UTC ("" for null; an unparsable value as Graph sent it).
func canonicalTime(v *string) string {
	if v == nil || *v == "" {
		return ""
	}
	if s := *v; len(s) == len("2006-01-02T15:04:05Z") && s[len(s)-1] == 'Z' {
		if _, err := time.Parse(time.RFC3339, s); err == nil {
			return s // canonical already: keep the (shared) string
		}
	}
	if t, err := time.Parse(time.RFC3339, *v); err == nil {
		return t.UTC().Format(time.RFC3339)
	}
	return *v
}

// get returns one attribute in canonical form ("" when unset).
func (u *rawUser) get(name string) string {
	var p *string
	switch name {
	case "accountEnabled":
		if u.AccountEnabled == nil {
			return ""
		}
		return strconv.FormatBool(*u.AccountEnabled)
	case "employeeHireDate":
		return canonicalTime(u.EmployeeHireDate)
	case "employeeLeaveDateTime":
		return canonicalTime(u.EmployeeLeaveDateTime)
	case "employeeOrgData.division":
		if u.EmployeeOrgData != nil {
			p = u.EmployeeOrgData.Division
		}
	case "employeeOrgData.costCenter":
		if u.EmployeeOrgData != nil {
			p = u.EmployeeOrgData.CostCenter
		}
	case "displayName":
		p = u.DisplayName
	case "givenName":
		p = u.GivenName
	case "surname":
		p = u.Surname
	case "userPrincipalName":
		p = u.UserPrincipalName
	case "mailNickname":
		p = u.MailNickname
	case "mail":
		p = u.Mail
	case "jobTitle":
		p = u.JobTitle
	case "department":
		p = u.Department
	case "companyName":
		p = u.CompanyName
	case "officeLocation":
		p = u.OfficeLocation
	case "employeeId":
		p = u.EmployeeID
	case "employeeType":
		p = u.EmployeeType
	case "streetAddress":
		p = u.StreetAddress
	case "city":
		p = u.City
	case "state":
		p = u.State
	case "postalCode":
		p = u.PostalCode
	case "country":
		p = u.Country
	case "usageLocation":
		p = u.UsageLocation
	case "mobilePhone":
		p = u.MobilePhone
	case "preferredLanguage":
		p = u.PreferredLanguage
	}
	if p == nil {
		return ""
	}
	return *p
}

// toUser converts to canonical attributes (and, when attrs has
// LicensesAttr, the sorted skuIds of the assigned licenses), kept in the
// slots of l: a read's users share the layout of its attributes (nil
// for a single user, whose attributes are then kept in a map).
func (u *rawUser) toUser(attrs []string, l *identity.Layout) identity.User {
	out := identity.User{ID: u.ID}
	if l != nil {
		var buf [64]string // on the stack for up to 64 attributes: PackNamed keeps none of it
		vals := buf[:0]
		for _, a := range attrs {
			vals = append(vals, u.get(a)) // "" for LicensesAttr: licenses are kept aside
		}
		out.Attrs = identity.PackNamed(l, attrs, vals)
	} else {
		out.Attrs = identity.MakeAttrs(len(attrs))
		for _, a := range attrs {
			if v := u.get(a); v != "" && a != LicensesAttr {
				out.Attrs.Set(a, v)
			}
		}
	}
	if slices.Contains(attrs, LicensesAttr) {
		out.Licenses = u.licenses()
	}
	if u.Manager != nil {
		out.ManagerID = u.Manager.ID
	}
	for _, m := range u.ManagerDelta {
		if m.Removed == nil {
			out.ManagerID = m.ID
		}
	}
	if u.OnPremisesSyncEnabled != nil && *u.OnPremisesSyncEnabled {
		out.MasteredIn = "Active Directory"
		if dn := deref(u.OnPremisesDistinguishedName); dn != "" {
			out.MasteredIn += " (" + dn + ")"
		}
		out.SessionsStale = u.AccountEnabled != nil && !*u.AccountEnabled && sessionsPredate(u)
	}
	return out
}

// syncProps are the hybrid properties every user read selects.
var syncProps = []string{"onPremisesSyncEnabled", "onPremisesDistinguishedName", "onPremisesLastSyncDateTime", "signInSessionsValidFromDateTime"}

// sessionsPredate reports whether a synced user's sign-in sessions were
// last revoked before the sync that last changed it (e.g. brought its
// disable from Active Directory): refresh tokens issued before then still
// work until they expire.
func sessionsPredate(u *rawUser) bool {
	synced, err := time.Parse(time.RFC3339, canonicalTime(u.OnPremisesLastSyncDateTime))
	if err != nil {
		return false // no sync time: nothing to compare with
	}
	valid, err := time.Parse(time.RFC3339, canonicalTime(u.SignInSessionsValidFromDateTime))
	return err != nil || valid.Before(synced)
}

// licenses returns the skuIds assigned directly (assignedByGroup null),
// lower-cased and sorted (nil for none).
func (u *rawUser) licenses() []string {
	var out []string
	for _, l := range u.LicenseAssignmentStates {
		if l.SkuID != "" && l.AssignedByGroup == nil {
			out = append(out, strings.ToLower(l.SkuID))
		}
	}
	if len(out) == 0 {
		return nil
	}
	slices.Sort(out)
	return slices.Compact(out)
}
