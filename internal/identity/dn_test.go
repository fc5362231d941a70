package identity

import "testing"

func TestDNHelpers(t *testing.T) {
	for _, c := range []struct {
		a, b string
		same bool
	}{
		{"OU=Sales,DC=contoso,DC=test", "ou=sales, dc=Contoso,DC=test", true},
		{"OU=Sales,DC=contoso,DC=test", "OU=Sales2,DC=contoso,DC=test", false},
		{`OU=a\,b,DC=x`, `ou=A\,B,dc=x`, true},
		{`OU=a\,b,DC=x`, `OU=a,OU=b,DC=x`, false},
	} {
		if got := SameDN(c.a, c.b); got != c.same {
			t.Errorf("SameDN(%q, %q) = %v", c.a, c.b, got)
		}
	}
	for in, want := range map[string]string{
		"García, José": `García\, José`, "a=b+c": `a\=b\+c`, " lead": `\ lead`, "trail ": `trail\ `, "#1": `\#1`, `x\y"z;<>`: `x\\y\"z\;\<\>`,
	} {
		if got := EscapeRDN(in); got != want {
			t.Errorf("EscapeRDN(%q) = %q, want %q", in, got, want)
		}
	}
	s := ActiveDirectorySchema()
	if got := s.EntryDN(AttrsOf(map[string]string{"cn": "Lee, Ann", "parentDistinguishedName": "OU=People,DC=contoso,DC=test"})); got != `CN=Lee\, Ann,OU=People,DC=contoso,DC=test` {
		t.Errorf("EntryDN = %q", got)
	}
	if got := EntraSchema().EntryDN(AttrsOf(map[string]string{"cn": "x", "parentDistinguishedName": "y"})); got != "" {
		t.Errorf("Entra EntryDN = %q", got)
	}
	if spec, _ := s.Lookup("parentDistinguishedName"); spec.Equal == nil || !spec.Equal("OU=A,DC=x", "ou=a,dc=X") {
		t.Error("parentDistinguishedName does not compare as a DN")
	}
}
