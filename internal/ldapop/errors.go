package ldapop

import (
	"errors"
	"fmt"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/hrsync/hrsync/internal/directory"
)

// ResultName is an LDAP result code's RFC 4511 name, e.g.
// "entryAlreadyExists" (go-ldap names them "Entry Already Exists").
func ResultName(code uint16) string {
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

// Code is the Code of a *directory.Error for an LDAP result code, e.g.
// "LDAP 68 entryAlreadyExists".
func Code(code uint16) string { return fmt.Sprintf("LDAP %d %s", code, ResultName(code)) }

// Rejected is an operation the adapter refuses itself.
func Rejected(op, format string, args ...any) error {
	return &directory.Error{Op: op, Message: fmt.Sprintf(format, args...), Kinds: []error{directory.ErrRejected}}
}

// NotFound is an operation on a user (or group) that does not exist in
// hrsync's part of the directory.
func NotFound(op, what string) error {
	return &directory.Error{Op: op, Code: Code(ldap.LDAPResultNoSuchObject), Message: what, Kinds: []error{directory.ErrNotFound}}
}

// OrNotFound is err, or NotFound when err is nil (a lookup that found
// nothing).
func OrNotFound(err error, op, what string) error {
	if err != nil {
		return err
	}
	return NotFound(op, what)
}

// Hints are what a directory adds to the server's words for the results
// whose meaning differs between directories.
type Hints struct {
	// Exists is added to entryAlreadyExists (68).
	Exists string
	// Password is added to a refused password (constraintViolation or
	// unwillingToPerform whose message speaks of a password).
	Password string
	// Unique, when not nil, tells a constraintViolation (19) about a taken
	// unique value from the server's message (in lower case), and is
	// added to it.
	Unique func(lower string) bool
	// UniqueHint is added to such a conflict.
	UniqueHint string
	// Access is added to insufficientAccessRights (50).
	Access string
	// NotOnRDN is added to notAllowedOnRDN (67).
	NotOnRDN string
	// IsPassword tells a password refusal from the server's message (in
	// lower case); nil: the message mentions "password".
	IsPassword func(lower string) bool
}

// OpError turns an LDAP answer into a *directory.Error: the result code
// and name as Code ("LDAP 68 entryAlreadyExists"), the server's message
// with a hint, and the sentinel it matches. The request is never quoted:
// only the server's words and the operation's description (a DN or id).
func OpError(op string, err error, h Hints) error {
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
	e := &directory.Error{Op: op, Code: Code(le.ResultCode), Message: msg}
	lower := strings.ToLower(msg)
	isPassword := h.IsPassword
	if isPassword == nil {
		isPassword = func(lower string) bool { return strings.Contains(lower, "password") }
	}
	switch le.ResultCode {
	case ldap.LDAPResultEntryAlreadyExists:
		e.Kinds = []error{directory.ErrConflict}
		e.Message = Hint(msg, h.Exists)
	case ldap.LDAPResultConstraintViolation:
		switch {
		case isPassword(lower):
			e.Kinds = []error{directory.ErrRejected}
			e.Message = Hint(msg, h.Password)
		case h.Unique != nil && h.Unique(lower):
			e.Kinds = []error{directory.ErrConflict}
			e.Message = Hint(msg, h.UniqueHint)
		default:
			e.Kinds = []error{directory.ErrRejected}
		}
	case ldap.LDAPResultNoSuchObject:
		e.Kinds = []error{directory.ErrNotFound}
	case ldap.LDAPResultInsufficientAccessRights:
		e.Kinds = []error{directory.ErrRejected}
		e.Message = Hint(msg, h.Access)
	case ldap.LDAPResultUnwillingToPerform:
		e.Kinds = []error{directory.ErrRejected}
		if isPassword(lower) {
			e.Message = Hint(msg, h.Password)
		}
	case ldap.LDAPResultNotAllowedOnRDN:
		e.Kinds = []error{directory.ErrRejected}
		e.Message = Hint(msg, h.NotOnRDN)
	case ldap.LDAPResultObjectClassViolation, ldap.LDAPResultNamingViolation, ldap.LDAPResultInvalidAttributeSyntax,
		ldap.LDAPResultUndefinedAttributeType, ldap.LDAPResultNoSuchAttribute, ldap.LDAPResultAttributeOrValueExists,
		ldap.LDAPResultInvalidDNSyntax, ldap.LDAPResultNotAllowedOnNonLeaf, ldap.LDAPResultInappropriateMatching,
		ldap.LDAPResultAffectsMultipleDSAs, ldap.LDAPResultProtocolError:
		e.Kinds = []error{directory.ErrRejected}
	}
	return e
}

// Hint appends a hint to a server's message.
func Hint(msg, h string) string {
	switch {
	case h == "":
		return msg
	case msg == "":
		return h
	}
	return msg + " (" + h + ")"
}

// Scrub removes a secret from an error's message, should a server ever
// echo it.
func Scrub(err error, secret string) error {
	if de, ok := err.(*directory.Error); ok && secret != "" && strings.Contains(de.Message, secret) {
		c := *de
		c.Message = strings.ReplaceAll(c.Message, secret, "(redacted)")
		return &c
	}
	return err
}
