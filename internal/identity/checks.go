package identity

import (
	"fmt"
	"strings"
)

// CheckMail validates a mail address the way Entra accepts one: ASCII, one @.
func CheckMail(m string) error {
	at := strings.IndexByte(m, '@')
	if at <= 0 || at != strings.LastIndexByte(m, '@') || at == len(m)-1 || !strings.Contains(m[at:], ".") {
		return fmt.Errorf("mail %q must be local@domain with exactly one @", m)
	}
	for _, r := range m {
		if r <= ' ' || r > '~' || strings.ContainsRune(`()<>[]\,;:"`, r) {
			return fmt.Errorf("mail %q contains %q, which Entra does not accept in an address", m, r)
		}
	}
	return nil
}

// CheckUPN validates a userPrincipalName the way Entra does on create.
func CheckUPN(upn string) error {
	at := strings.IndexByte(upn, '@')
	if at <= 0 || at != strings.LastIndexByte(upn, '@') || at == len(upn)-1 {
		return fmt.Errorf("userPrincipalName %q must be alias@domain with exactly one @", upn)
	}
	for _, r := range upn[:at] {
		if !validUPNRune(r) {
			return fmt.Errorf("userPrincipalName %q contains %q; Entra allows A-Z a-z 0-9 ' . - _ ! # ^ ~ (use NormalizeDiacritics and StripSpaces in the mapping)", upn, r)
		}
	}
	if strings.HasPrefix(upn, ".") || strings.Contains(upn[:at], "..") || strings.HasSuffix(upn[:at], ".") {
		return fmt.Errorf("userPrincipalName %q: the alias must not start or end with a dot or hold two in a row", upn)
	}
	if len(upn[:at]) > 64 {
		return fmt.Errorf("userPrincipalName %q: the alias is longer than 64 characters", upn)
	}
	return nil
}

// CheckMailNickname validates a mailNickname (no spaces or control characters).
func CheckMailNickname(s string) error {
	for _, r := range s {
		if r <= ' ' || r == 127 || strings.ContainsRune(`@()\[]";:<>,`, r) || r > 127 {
			return fmt.Errorf("mailNickname %q contains %q, which Entra does not allow", s, r)
		}
	}
	return nil
}

func validUPNRune(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	return strings.ContainsRune("'.-_!#^~", r)
}

// CheckSAMAccountName validates an Active Directory sAMAccountName (the
// pre-Windows 2000 logon name): at most 20 characters, none of
// " / \ [ ] : ; | = , + * ? < > @ nor control characters, not only dots
// and spaces, not ending with a dot.
func CheckSAMAccountName(s string) error {
	if n := len([]rune(s)); n > 20 {
		return fmt.Errorf("sAMAccountName %q is %d characters long; Active Directory allows at most 20 (use Left(..., 20) or SelectUniqueValue with shorter candidates)", s, n)
	}
	for _, r := range s {
		if r < ' ' || r == 127 || strings.ContainsRune(`"/\[]:;|=,+*?<>@`, r) {
			return fmt.Errorf("sAMAccountName %q contains %q, which Active Directory does not allow", s, r)
		}
	}
	if strings.Trim(s, ". ") == "" || strings.HasSuffix(s, ".") {
		return fmt.Errorf("sAMAccountName %q must not end with a dot or consist of dots and spaces only", s)
	}
	return nil
}

// CheckCN validates a common name used as a relative distinguished name:
// not empty, no control characters, at most 64 characters.
func CheckCN(s string) error {
	if strings.TrimSpace(s) == "" {
		return fmt.Errorf("cn %q is empty", s)
	}
	if n := len([]rune(s)); n > 64 {
		return fmt.Errorf("cn %q is %d characters long; at most 64 are allowed", s, n)
	}
	for _, r := range s {
		if r < ' ' || r == 127 {
			return fmt.Errorf("cn %q contains a control character", s)
		}
	}
	return nil
}

// CheckUID validates an LDAP uid as hrsync names entries by it: not
// empty, no spaces at either end, no control characters.
func CheckUID(s string) error {
	if strings.TrimSpace(s) != s || s == "" {
		return fmt.Errorf("uid %q must not be empty or start or end with a space", s)
	}
	if hasControl(s) {
		return fmt.Errorf("uid %q contains a control character", s)
	}
	return nil
}

// hasControl reports whether s holds an ASCII control character.
func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f })
}

// CheckRDNValue validates a value that names an LDAP entry: not empty, no
// control characters (the DN escapes the rest).
func CheckRDNValue(s string) error {
	if strings.TrimSpace(s) == "" {
		return fmt.Errorf("%q is empty: it names the entry", s)
	}
	if hasControl(s) {
		return fmt.Errorf("%q contains a control character", s)
	}
	return nil
}

// CheckDN validates the form of a distinguished name such as
// "OU=Sales,DC=contoso,DC=test": comma-separated attribute=value parts
// (commas inside a value escaped with a backslash).
func CheckDN(s string) error {
	if strings.TrimSpace(s) == "" {
		return fmt.Errorf("distinguished name %q is empty", s)
	}
	part := strings.Builder{}
	parts := []string{}
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s):
			part.WriteByte(s[i])
			part.WriteByte(s[i+1])
			i++
		case s[i] == ',':
			parts = append(parts, part.String())
			part.Reset()
		default:
			part.WriteByte(s[i])
		}
	}
	parts = append(parts, part.String())
	for _, p := range parts {
		k, v, ok := strings.Cut(p, "=")
		if !ok || strings.TrimSpace(k) == "" || strings.TrimSpace(v) == "" {
			return fmt.Errorf("distinguished name %q: %q is not attribute=value", s, p)
		}
	}
	return nil
}

// SameDN reports whether two distinguished names name the same entry as
// LDAP directories compare them: part by part, without regard to case or
// to spaces around the separators ("OU=Sales, DC=contoso" is
// "ou=sales,dc=Contoso").
func SameDN(a, b string) bool {
	return a == b || normDN(a) == normDN(b)
}

// normDN is a DN in lower case with the spaces around its separators
// removed (escaped characters kept as written).
func normDN(s string) string {
	var out, part strings.Builder
	flush := func() {
		k, v, _ := strings.Cut(part.String(), "=")
		out.WriteString(strings.ToLower(strings.TrimSpace(k)))
		out.WriteByte('=')
		out.WriteString(strings.ToLower(strings.TrimSpace(v)))
		part.Reset()
	}
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s):
			part.WriteByte(s[i])
			part.WriteByte(s[i+1])
			i++
		case s[i] == ',':
			flush()
			out.WriteByte(',')
		default:
			part.WriteByte(s[i])
		}
	}
	flush()
	return out.String()
}
