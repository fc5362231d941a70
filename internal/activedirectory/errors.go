package activedirectory

import (
	"errors"
	"fmt"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/hrsync/hrsync/internal/directory"
)

// resultName is an LDAP result code's RFC 4511 name, e.g.
// "entryAlreadyExists" (go-ldap names them "Entry Already Exists").
func resultName(code uint16) string {
	words := strings.Fields(ldap.LDAPResultCodeMap[code])
	if len(words) == 0 {
		return "unknown"
	}
	var b strings.Builder
	for i, w := range words {
		if i == 0 {
			b.WriteString(strings.ToLower(w[:1]) + w[1:])
			continue
		}
		b.WriteString(strings.ToUpper(w[:1]) + w[1:])
	}
	return b.String()
}

// rejected is an operation the adapter refuses itself.
func rejected(op, format string, args ...any) error {
	return &directory.Error{Op: op, Message: fmt.Sprintf(format, args...), Kinds: []error{directory.ErrRejected}}
}

// notFound is an operation on a user (or group) that does not exist in
// hrsync's part of the directory.
func notFound(op, what string) error {
	return &directory.Error{Op: op, Code: "LDAP 32 " + resultName(ldap.LDAPResultNoSuchObject), Message: what, Kinds: []error{directory.ErrNotFound}}
}

// opError turns an LDAP answer into a *directory.Error: the result code
// and name as Code ("LDAP 68 entryAlreadyExists"), the server's message
// with a hint, and the sentinel it matches. The request is never quoted:
// only the server's words and the operation's description (a DN or id).
func opError(op string, err error) error {
	if err == nil {
		return nil
	}
	var de *directory.Error
	if errors.As(err, &de) {
		return err
	}
	var le *ldap.Error
	if !errors.As(err, &le) {
		return &directory.Error{Op: op, Message: err.Error()}
	}
	msg := ""
	if le.Err != nil {
		msg = strings.TrimSpace(le.Err.Error())
	}
	e := &directory.Error{Op: op, Code: fmt.Sprintf("LDAP %d %s", le.ResultCode, resultName(le.ResultCode)), Message: msg}
	lower := strings.ToLower(msg)
	switch le.ResultCode {
	case ldap.LDAPResultEntryAlreadyExists:
		e.Kinds = []error{directory.ErrConflict}
		e.Message = hint(msg, "an entry with this DN or sAMAccountName already exists")
	case ldap.LDAPResultConstraintViolation:
		switch {
		case isPasswordRefusal(lower):
			e.Kinds = []error{directory.ErrRejected}
			e.Message = hint(msg, "the initial password does not meet the domain's password policy (length, complexity, history); the password is not shown")
		case strings.Contains(lower, "userprincipalname") || strings.Contains(lower, "already in use") ||
			strings.Contains(lower, "000021c8") || strings.Contains(lower, "samaccountname"):
			e.Kinds = []error{directory.ErrConflict}
			e.Message = hint(msg, "a unique value (userPrincipalName, sAMAccountName) is already taken")
		default:
			e.Kinds = []error{directory.ErrRejected}
		}
	case ldap.LDAPResultNoSuchObject:
		e.Kinds = []error{directory.ErrNotFound}
	case ldap.LDAPResultInsufficientAccessRights:
		e.Kinds = []error{directory.ErrRejected}
		e.Message = hint(msg, "the bind account lacks the permission for this (see README: Active Directory permissions)")
	case ldap.LDAPResultUnwillingToPerform:
		e.Kinds = []error{directory.ErrRejected}
		if isPasswordRefusal(lower) {
			e.Message = hint(msg, "the server refused the password: it must be set over an encrypted connection and meet the password policy")
		}
	case ldap.LDAPResultNotAllowedOnRDN:
		e.Kinds = []error{directory.ErrRejected}
		e.Message = hint(msg, "cn is the entry's name: it changes with ModifyDN only")
	case ldap.LDAPResultObjectClassViolation, ldap.LDAPResultNamingViolation, ldap.LDAPResultInvalidAttributeSyntax,
		ldap.LDAPResultUndefinedAttributeType, ldap.LDAPResultNoSuchAttribute, ldap.LDAPResultAttributeOrValueExists,
		ldap.LDAPResultInvalidDNSyntax, ldap.LDAPResultNotAllowedOnNonLeaf, ldap.LDAPResultInappropriateMatching,
		ldap.LDAPResultAffectsMultipleDSAs, ldap.LDAPResultProtocolError:
		e.Kinds = []error{directory.ErrRejected}
	}
	return e
}

// isPasswordRefusal tells a refused password (AD's 0000052D,
// "check_password_restrictions", unicodePwd) from other constraints.
func isPasswordRefusal(lower string) bool {
	return strings.Contains(lower, "0000052d") || strings.Contains(lower, "password") || strings.Contains(lower, "unicodepwd")
}

func hint(msg, h string) string {
	if msg == "" {
		return h
	}
	return msg + " (" + h + ")"
}
