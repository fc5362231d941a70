package ldapconn

import (
	"testing"

	"github.com/go-ldap/ldap/v3"
)

func TestDNs(t *testing.T) {
	splits := []struct{ dn, rdn, parent string }{
		{`uid=jdoe,ou=people,dc=example,dc=org`, "jdoe", "ou=people,dc=example,dc=org"},
		{`CN=García\, José,OU=Sales,DC=x`, "García, José", "OU=Sales,DC=x"},
		{`dc=org`, "org", ""},
	}
	for _, c := range splits {
		if rdn, parent := SplitDN(c.dn); rdn != c.rdn || parent != c.parent {
			t.Errorf("SplitDN(%q) = %q, %q", c.dn, rdn, parent)
		}
	}
	same := []struct {
		a, b string
		want bool
	}{
		{"OU=Sales, DC=x", "ou=sales,dc=X", true},
		{"ou=a,dc=x", "ou=b,dc=x", false},
		{"not a dn", "NOT A DN", true},
	}
	for _, c := range same {
		if SameDN(c.a, c.b) != c.want {
			t.Errorf("SameDN(%q, %q) != %v", c.a, c.b, c.want)
		}
	}
	base, _ := ldap.ParseDN("ou=people,dc=x")
	for dn, want := range map[string][2]bool{
		"uid=a,ou=people,dc=x": {true, true}, "ou=people,dc=x": {false, true}, "ou=other,dc=x": {false, false}, "bad": {false, false},
	} {
		if Below(base, dn) != want[0] || AtOrBelow(base, dn) != want[1] {
			t.Errorf("%s: below %v, at or below %v", dn, Below(base, dn), AtOrBelow(base, dn))
		}
	}
}
