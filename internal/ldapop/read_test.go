package ldapop

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/hrsync/hrsync/internal/identity"
)

// RequestAttrs puts the id first, maps the schema's names, drops repeats
// (whatever their case) and adds the manager when asked.
func TestRequestAttrs(t *testing.T) {
	schema := identity.ActiveDirectorySchema()
	got := RequestAttrs(schema, "objectGUID", []string{"id", "givenName", "accountEnabled", "accountDisabled", "OBJECTGUID", "manager"}, true, func(name string) []string {
		switch name {
		case "accountEnabled", "accountDisabled":
			return []string{"userAccountControl"}
		case identity.Manager:
			return nil
		}
		return []string{name}
	})
	want := []string{"objectGUID", "givenName", "userAccountControl", "manager"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// DNIDs answers from the read, then from what it looked up (a DN naming
// nothing too), and looks each other DN up once.
func TestDNIDs(t *testing.T) {
	var gets []string
	ids := NewDNIDs(map[string]string{"cn=a,dc=x": "1"}, func(dn string) (*ldap.Entry, error) {
		gets = append(gets, dn)
		switch dn {
		case "CN=B,DC=x":
			return &ldap.Entry{DN: dn, Attributes: []*ldap.EntryAttribute{{Name: "id", Values: []string{"2"}}}}, nil
		case "CN=Broken,DC=x":
			return nil, errors.New("boom")
		}
		return nil, nil
	}, func(e *ldap.Entry) string { return e.GetEqualFoldAttributeValue("id") })
	for _, c := range []struct{ dn, id string }{{"CN=A,DC=x", "1"}, {"CN=B,DC=x", "2"}, {"cn=b,dc=X", "2"}, {"CN=Gone,DC=x", ""}, {"CN=Gone,DC=x", ""}} {
		if id, err := ids.ID(c.dn); err != nil || id != c.id {
			t.Errorf("ID(%s) = %q, %v; want %q", c.dn, id, err, c.id)
		}
	}
	if _, err := ids.ID("CN=Broken,DC=x"); err == nil {
		t.Error("a failed lookup is no error")
	}
	if want := []string{"CN=B,DC=x", "CN=Gone,DC=x", "CN=Broken,DC=x"}; !slices.Equal(gets, want) {
		t.Errorf("looked up %q, want %q", gets, want)
	}
}

// ResolveGroups names every reference that matches no group or several,
// and fails at once on a failed lookup.
func TestResolveGroups(t *testing.T) {
	entry := func(dn, id string) *ldap.Entry {
		return &ldap.Entry{DN: dn, Attributes: []*ldap.EntryAttribute{{Name: "id", Values: []string{id}}, {Name: "cn", Values: []string{"G " + id}}}}
	}
	find := func(ref string) ([]*ldap.Entry, error) {
		switch ref {
		case "one":
			return []*ldap.Entry{entry("cn=one", "1")}, nil
		case "two":
			return []*ldap.Entry{entry("cn=two,ou=a", "2"), entry("cn=two,ou=b", "3")}, nil
		case "broken":
			return nil, errors.New("boom")
		}
		return nil, nil
	}
	id := func(e *ldap.Entry) string { return e.GetEqualFoldAttributeValue("id") }
	none := func(ref string) string { return "no group " + ref }
	got, err := ResolveGroups([]string{"one"}, find, id, none)
	if err != nil || got["one"].ID != "1" || got["one"].DisplayName != "G 1" {
		t.Errorf("one: %v, %v", got, err)
	}
	_, err = ResolveGroups([]string{"one", "none", "two"}, find, id, none)
	if err == nil || err.Error() != `no group none; 2 groups are named "two" (cn=two,ou=a; cn=two,ou=b): name it by its DN` {
		t.Errorf("problems: %v", err)
	}
	if _, err := ResolveGroups([]string{"none", "broken"}, find, id, none); err == nil || !strings.HasPrefix(err.Error(), `group "broken": boom`) {
		t.Errorf("broken: %v", err)
	}
}

// NewUser sets what value gives, skips "" and names the schema does not
// know, and fails with value's error.
func TestNewUser(t *testing.T) {
	schema := identity.ActiveDirectorySchema()
	u, err := NewUser(schema, "7", []string{"givenName", "sn", "nonsense"}, nil, func(name string) (string, error) {
		if name == "givenName" {
			return "Ada", nil
		}
		return "", nil
	})
	if err != nil || u.ID != "7" || u.Attrs.Get("givenName") != "Ada" || u.Attrs.Get("sn") != "" {
		t.Errorf("%+v, %v", u, err)
	}
	if _, err := NewUser(schema, "7", []string{"sn"}, nil, func(string) (string, error) { return "", errors.New("bad") }); err == nil {
		t.Error("value's error is lost")
	}
}
