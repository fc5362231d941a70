package ldapop

import (
	"fmt"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// Scope parses the configured base DN and builds the search filter of the
// users in scope: class (the objects a directory's users are, e.g.
// "(objectClass=inetOrgPerson)") narrowed by the configured filter, which
// may omit its outer parentheses. Errors name the key that is wrong.
func Scope(baseDN, class, filter string) (*ldap.DN, string, error) {
	base, err := ldap.ParseDN(baseDN)
	if err != nil || len(base.RDNs) == 0 {
		return nil, "", fmt.Errorf("base_dn %q is not a distinguished name", baseDN)
	}
	f := strings.TrimSpace(filter)
	if f == "" {
		return base, class, nil
	}
	if !strings.HasPrefix(f, "(") {
		f = "(" + f + ")"
	}
	if _, err := ldap.CompileFilter(f); err != nil {
		return nil, "", fmt.Errorf("target.filter %q is not an LDAP filter: %v", filter, err)
	}
	return base, "(&" + class + f + ")", nil
}
