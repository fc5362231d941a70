package ldapconn

import (
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// FirstRDN is dn's first RDN as the server wrote it (escapes kept).
func FirstRDN(dn string) string { return dn[:rdnEnd(dn)] }

// rdnEnd is the index of the comma that ends dn's first RDN (len(dn) for
// none).
func rdnEnd(dn string) int {
	for i := 0; i < len(dn); i++ {
		if dn[i] == '\\' {
			i++
			continue
		}
		if dn[i] == ',' {
			return i
		}
	}
	return len(dn)
}

// SplitDN returns the value of dn's first RDN (unescaped) and the rest of
// dn as the server wrote it.
func SplitDN(dn string) (rdn, parent string) {
	cut := rdnEnd(dn)
	if cut < len(dn) {
		parent = strings.TrimSpace(dn[cut+1:])
	}
	if p, err := ldap.ParseDN(dn[:cut]); err == nil && len(p.RDNs) == 1 && len(p.RDNs[0].Attributes) > 0 {
		rdn = p.RDNs[0].Attributes[0].Value
	}
	return rdn, parent
}

// SameDN compares two DNs as directories do: RDN by RDN, without regard
// to case (AD, and OpenLDAP for the attribute types hrsync names entries
// by).
func SameDN(a, b string) bool {
	pa, ea := ldap.ParseDN(a)
	pb, eb := ldap.ParseDN(b)
	if ea != nil || eb != nil {
		return strings.EqualFold(a, b)
	}
	return pa.EqualFold(pb)
}

// FoldDN is a DN as a map key.
func FoldDN(dn string) string { return strings.ToLower(dn) }

// Below reports whether dn lies strictly below base.
func Below(base *ldap.DN, dn string) bool {
	p, err := ldap.ParseDN(dn)
	return err == nil && base.AncestorOfFold(p)
}

// AtOrBelow reports whether dn is base or lies below it.
func AtOrBelow(base *ldap.DN, dn string) bool {
	p, err := ldap.ParseDN(dn)
	return err == nil && (base.EqualFold(p) || base.AncestorOfFold(p))
}
