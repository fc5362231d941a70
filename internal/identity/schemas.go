package identity

import (
	"fmt"
	"time"
)

// Target types, as configurations and plans name them.
const (
	TargetEntra           = "entra"
	TargetSandbox         = "sandbox" // Entra ID emulated by graphsim
	TargetActiveDirectory = "active_directory"
	TargetLDAP            = "ldap"
)

// SchemaFor returns the schema of a target type; the adapter may refine
// it for one directory (e.g. Active Directory's restore window depends on
// whether the Recycle Bin is on).
func SchemaFor(targetType string) (*Schema, error) {
	switch targetType {
	case TargetEntra, TargetSandbox, "":
		return EntraSchema(), nil
	case TargetActiveDirectory:
		return ActiveDirectorySchema(), nil
	case TargetLDAP:
		return LDAPSchema(), nil
	}
	return nil, fmt.Errorf("unknown target type %q", targetType)
}

// entraAttrs are the Entra user attributes hrsync manages.
var entraAttrs = []AttrSpec{
	{Name: "accountEnabled", Kind: KindBool, NotNullable: true},
	{Name: "displayName", Kind: KindString, RequiredOnCreate: true, MaxLen: 256, NotNullable: true},
	{Name: "givenName", Kind: KindString, MaxLen: 64},
	{Name: "surname", Kind: KindString, MaxLen: 64},
	{Name: "userPrincipalName", Kind: KindString, CreateOnly: true, RequiredOnCreate: true, MaxLen: 113, Check: CheckUPN},
	{Name: "mailNickname", Kind: KindString, CreateOnly: true, RequiredOnCreate: true, MaxLen: 64, Check: CheckMailNickname},
	{Name: "mail", Kind: KindString, MaxLen: 256, Check: CheckMail},
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
	{Name: "usageLocation", Kind: KindString, MaxLen: 2, NotNullable: true, Cloud: true},
	{Name: "mobilePhone", Kind: KindString, MaxLen: 64},
	{Name: "preferredLanguage", Kind: KindString},
	{Name: Manager, Kind: KindRef},
}

// EntraSchema is the schema of Microsoft Entra ID users (Microsoft Graph).
func EntraSchema() *Schema {
	return NewSchema(Schema{
		Name: "Entra ID",
		Roles: Roles{Match: "employeeId", SignIn: "userPrincipalName", DisplayName: "displayName", Enabled: "accountEnabled",
			HireDate: "employeeHireDate", LeaveDate: "employeeLeaveDateTime"},
		// A UPN and a mail must not collide with each other either:
		// Entra's addresses share one namespace.
		Unique:       []Namespace{{Attrs: []string{"userPrincipalName", "mail"}, Enforced: true}, {Attrs: []string{"mailNickname"}}},
		WrittenWhole: [][]string{{"employeeOrgData.division", "employeeOrgData.costCenter"}},
		Organisational: []string{"department", "jobTitle", "companyName", "officeLocation",
			"employeeOrgData.division", "employeeOrgData.costCenter", "employeeType", Manager},
		RestoreWindow:   30 * 24 * time.Hour,
		RevokesSessions: true,
		Licenses:        true,
	}, entraAttrs)
}

// adAttrs are the Active Directory user attributes hrsync manages, named as
// Microsoft's AD provisioning schema (Workday, SuccessFactors and
// API-driven provisioning to AD) names them, so admins reuse their mappings.
var adAttrs = []AttrSpec{
	// accountEnabled is the ACCOUNTDISABLE bit (0x2) of userAccountControl,
	// the other bits kept; accountDisabled, Microsoft's name, is its
	// negation.
	{Name: "accountEnabled", Kind: KindBool, NotNullable: true},
	{Name: "accountDisabled", Kind: KindBool, Inverts: "accountEnabled"},
	// cn is the entry's relative name and parentDistinguishedName its OU:
	// changing either moves the entry (ModifyDN), keeping its objectGUID.
	{Name: "cn", Kind: KindString, RequiredOnCreate: true, MaxLen: 64, NotNullable: true, Check: CheckCN},
	{Name: "parentDistinguishedName", Kind: KindString, RequiredOnCreate: true, NotNullable: true, Check: CheckDN, Equal: SameDN},
	{Name: "sAMAccountName", Kind: KindString, CreateOnly: true, RequiredOnCreate: true, MaxLen: 20, Check: CheckSAMAccountName},
	{Name: "userPrincipalName", Kind: KindString, CreateOnly: true, MaxLen: 1024, Check: CheckUPN},
	{Name: "displayName", Kind: KindString, MaxLen: 256},
	{Name: "givenName", Kind: KindString, MaxLen: 64},
	{Name: "sn", Kind: KindString, MaxLen: 64},
	{Name: "initials", Kind: KindString, MaxLen: 6},
	{Name: "mail", Kind: KindString, MaxLen: 256, Check: CheckMail},
	{Name: "department", Kind: KindString, MaxLen: 64},
	{Name: "title", Kind: KindString, MaxLen: 128},
	{Name: "company", Kind: KindString, MaxLen: 64},
	{Name: "division", Kind: KindString, MaxLen: 256},
	{Name: "physicalDeliveryOfficeName", Kind: KindString, MaxLen: 128},
	{Name: "employeeID", Kind: KindString, MaxLen: 16, Matchable: true},
	{Name: "employeeNumber", Kind: KindString, MaxLen: 512, Matchable: true},
	{Name: "employeeType", Kind: KindString, MaxLen: 256},
	{Name: "telephoneNumber", Kind: KindString, MaxLen: 64},
	{Name: "mobile", Kind: KindString, MaxLen: 64},
	{Name: "facsimileTelephoneNumber", Kind: KindString, MaxLen: 64},
	{Name: "streetAddress", Kind: KindString, MaxLen: 1024},
	{Name: "l", Kind: KindString, MaxLen: 128},
	{Name: "st", Kind: KindString, MaxLen: 128},
	{Name: "postalCode", Kind: KindString, MaxLen: 40},
	{Name: "c", Kind: KindString, MaxLen: 2},
	{Name: "co", Kind: KindString, MaxLen: 128},
	{Name: "countryCode", Kind: KindString, MaxLen: 10},
	{Name: "description", Kind: KindString, MaxLen: 1024},
	{Name: "preferredLanguage", Kind: KindString},
	// accountExpires is when the account stops working: HR's leave date
	// (Microsoft's mappings fill it with NumFromDate). Canonical as a date;
	// the adapter writes Windows file time.
	{Name: "accountExpires", Kind: KindDate},
	{Name: "extensionAttribute1", Kind: KindString, MaxLen: 1024},
	{Name: "extensionAttribute2", Kind: KindString, MaxLen: 1024},
	{Name: "extensionAttribute3", Kind: KindString, MaxLen: 1024},
	{Name: "extensionAttribute4", Kind: KindString, MaxLen: 1024},
	{Name: "extensionAttribute5", Kind: KindString, MaxLen: 1024},
	{Name: "extensionAttribute6", Kind: KindString, MaxLen: 1024},
	{Name: "extensionAttribute7", Kind: KindString, MaxLen: 1024},
	{Name: "extensionAttribute8", Kind: KindString, MaxLen: 1024},
	{Name: "extensionAttribute9", Kind: KindString, MaxLen: 1024},
	{Name: "extensionAttribute10", Kind: KindString, MaxLen: 1024},
	{Name: "extensionAttribute11", Kind: KindString, MaxLen: 1024},
	{Name: "extensionAttribute12", Kind: KindString, MaxLen: 1024},
	{Name: "extensionAttribute13", Kind: KindString, MaxLen: 1024},
	{Name: "extensionAttribute14", Kind: KindString, MaxLen: 1024},
	{Name: "extensionAttribute15", Kind: KindString, MaxLen: 1024},
	{Name: Manager, Kind: KindRef},
}

// ActiveDirectorySchema is the schema of on-premises Active Directory users.
// Deleted users cannot be restored unless the adapter finds the AD Recycle
// Bin on (it sets RestoreWindow then).
func ActiveDirectorySchema() *Schema {
	return NewSchema(Schema{
		Name: "Active Directory",
		Roles: Roles{Match: "employeeID", SignIn: "userPrincipalName", DisplayName: "displayName", Enabled: "accountEnabled", LeaveDate: "accountExpires", Placement: "parentDistinguishedName",
			Naming: "cn", RDNType: "CN", AccountName: "sAMAccountName"},
		Unique: []Namespace{
			{Attrs: []string{"sAMAccountName"}, Enforced: true},
			{Attrs: []string{"userPrincipalName"}, Enforced: true},
			{Attrs: []string{"cn"}, Within: "parentDistinguishedName", Enforced: true},
			{Attrs: []string{"mail"}},
		},
		Organisational: []string{"department", "title", "company", "division", "physicalDeliveryOfficeName", "employeeType",
			"parentDistinguishedName", Manager},
	}, adAttrs)
}

// ldapAttrs are the inetOrgPerson attributes hrsync manages in an LDAP
// directory (OpenLDAP, 389 Directory Server).
var ldapAttrs = []AttrSpec{
	// accountEnabled is virtual: the adapter keeps it by the configured
	// disable method (a permanent ppolicy lock, the disabled branch, or a
	// status attribute).
	{Name: "accountEnabled", Kind: KindBool, NotNullable: true},
	// uid names the entry (uid=<uid>,<parentDistinguishedName>) and signs
	// in; it is never renamed by a sync.
	{Name: "uid", Kind: KindString, CreateOnly: true, RequiredOnCreate: true, MaxLen: 256, Check: CheckUID},
	{Name: "cn", Kind: KindString, RequiredOnCreate: true, NotNullable: true},
	{Name: "sn", Kind: KindString, RequiredOnCreate: true, NotNullable: true},
	// parentDistinguishedName is the entry's branch: changing it moves the
	// entry (ModifyDN, entryUUID kept); without it joiners go to
	// target.people_dn.
	{Name: "parentDistinguishedName", Kind: KindString, NotNullable: true, Check: CheckDN, Equal: SameDN},
	{Name: "givenName", Kind: KindString},
	{Name: "displayName", Kind: KindString},
	{Name: "initials", Kind: KindString},
	{Name: "mail", Kind: KindString, Check: CheckMail},
	{Name: "employeeNumber", Kind: KindString, Matchable: true},
	{Name: "uniqueIdentifier", Kind: KindString, Matchable: true},
	{Name: "employeeType", Kind: KindString},
	{Name: "departmentNumber", Kind: KindString},
	{Name: "ou", Kind: KindString},
	{Name: "o", Kind: KindString},
	{Name: "title", Kind: KindString},
	{Name: "telephoneNumber", Kind: KindString},
	{Name: "mobile", Kind: KindString},
	{Name: "street", Kind: KindString},
	{Name: "l", Kind: KindString},
	{Name: "st", Kind: KindString},
	{Name: "postalCode", Kind: KindString},
	{Name: "description", Kind: KindString},
	{Name: "preferredLanguage", Kind: KindString},
	{Name: "roomNumber", Kind: KindString},
	{Name: "businessCategory", Kind: KindString},
	{Name: Manager, Kind: KindRef},
}

// SchemaOf returns the schema of a target type whose entries are named by
// the attribute naming, where the directory's naming is configurable (an
// LDAP directory's rdn_attribute: "uid", the default, or "cn"); "" is the
// type's default.
func SchemaOf(targetType, naming string) (*Schema, error) {
	if targetType == TargetLDAP && naming != "" {
		return LDAPSchemaNamedBy(naming)
	}
	return SchemaFor(targetType)
}

// LDAPSchemaNamedBy is LDAPSchema with entries named by rdn: "uid"
// (uid=<uid>,<branch>) or "cn" (cn=<cn>,<branch>: a cn is then unique
// within its branch, and changing it renames the entry).
func LDAPSchemaNamedBy(rdn string) (*Schema, error) {
	switch rdn {
	case "uid":
		return LDAPSchema(), nil
	case "cn":
	default:
		return nil, fmt.Errorf("an LDAP directory names entries by uid or cn, not %q", rdn)
	}
	s := LDAPSchema()
	s.Roles.Naming, s.Roles.RDNType = "cn", "cn"
	s.Unique = append(s.Unique, Namespace{Attrs: []string{"cn"}, Within: "parentDistinguishedName", Enforced: true})
	attrs := make([]AttrSpec, 0, len(ldapAttrs))
	for _, a := range ldapAttrs {
		if a.Name == "cn" {
			a.Check = CheckRDNValue
		}
		attrs = append(attrs, a)
	}
	return NewSchema(*s, attrs), nil
}

// LDAPSchema is the schema of inetOrgPerson entries in an LDAP directory
// (OpenLDAP, 389 Directory Server): named uid=<uid> below their branch,
// identified by entryUUID. Deleted entries cannot be restored.
func LDAPSchema() *Schema {
	return NewSchema(Schema{
		Name: "the LDAP directory",
		Roles: Roles{Match: "employeeNumber", SignIn: "uid", DisplayName: "displayName", Enabled: "accountEnabled", Placement: "parentDistinguishedName",
			Naming: "uid", RDNType: "uid", AccountName: "uid"},
		Unique:         []Namespace{{Attrs: []string{"uid"}, Enforced: true}, {Attrs: []string{"mail"}}},
		Organisational: []string{"departmentNumber", "ou", "o", "title", "employeeType", "parentDistinguishedName", Manager},
	}, ldapAttrs)
}
