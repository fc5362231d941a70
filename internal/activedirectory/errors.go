package activedirectory

import (
	"strings"

	"github.com/hrsync/hrsync/internal/ldapop"
)

// resultName is an LDAP result code's RFC 4511 name.
func resultName(code uint16) string { return ldapop.ResultName(code) }

// rejected is an operation the adapter refuses itself.
func rejected(op, format string, args ...any) error { return ldapop.Rejected(op, format, args...) }

// notFound is an operation on a user (or group) that does not exist in
// hrsync's part of the directory.
func notFound(op, what string) error { return ldapop.NotFound(op, what) }

// hints are Active Directory's words on the results whose meaning differs
// between directories.
var hints = ldapop.Hints{
	Exists:   "an entry with this DN or sAMAccountName already exists",
	Password: "the initial password does not meet the domain's password policy (length, complexity, history), or was not sent over an encrypted connection; the password is not shown",
	Unique: func(lower string) bool {
		return strings.Contains(lower, "userprincipalname") || strings.Contains(lower, "already in use") ||
			strings.Contains(lower, "000021c8") || strings.Contains(lower, "samaccountname")
	},
	UniqueHint: "a unique value (userPrincipalName, sAMAccountName) is already taken",
	Access:     "the bind account lacks the permission for this (see README: Active Directory permissions)",
	NotOnRDN:   "cn is the entry's name: it changes with ModifyDN only",
	IsPassword: isPasswordRefusal,
}

// opError turns an LDAP answer into a *directory.Error (see
// ldapop.OpError).
func opError(op string, err error) error { return ldapop.OpError(op, err, hints) }

// isPasswordRefusal tells a refused password (AD's 0000052D,
// "check_password_restrictions", unicodePwd) from other constraints.
func isPasswordRefusal(lower string) bool {
	return strings.Contains(lower, "0000052d") || strings.Contains(lower, "password") || strings.Contains(lower, "unicodepwd")
}
