package plan

import (
	"testing"

	"github.com/hrsync/hrsync/internal/identity"
)

// In a directory with placement (Active Directory's OU), a leaver moves to
// the policy's leavers OU with the disable, and a rehire back to where the
// mapping places it.
func TestLeaverPlacement(t *testing.T) {
	const leavers, sales = "OU=Leavers,DC=contoso,DC=test", "OU=Sales,OU=People,DC=contoso,DC=test"
	s := identity.ActiveDirectorySchema()
	spec := func(n string) identity.AttrSpec { a, _ := s.Lookup(n); return a }
	attrs := []identity.AttrSpec{spec("cn"), spec("parentDistinguishedName"), spec("sAMAccountName"), spec("displayName"), spec("accountEnabled"), spec("employeeID")}
	person := func(key, name string, enabled string) identity.Desired {
		return identity.Desired{Key: key, Attrs: identity.AttrsOf(map[string]string{"employeeID": key, "cn": name, "displayName": name, "sAMAccountName": "u" + key,
			"parentDistinguishedName": sales, "accountEnabled": enabled})}
	}
	user := func(id string, d identity.Desired, kv ...string) identity.User {
		u := identity.User{ID: id, Attrs: identity.AttrsOf(map[string]string{})}
		for k, v := range d.Attrs.All() {
			u.Attrs.Set(k, v)
		}
		for i := 0; i+1 < len(kv); i += 2 {
			u.Attrs.Set(kv[i], kv[i+1])
		}
		return u
	}
	active, inactive, back := person("1", "Ann Lee", "true"), person("2", "Bo Chen", "false"), person("3", "Cy Doe", "true")
	gone := person("4", "Di Roe", "true")
	in := Input{Records: 3, Desired: []identity.Desired{active, inactive, back}, Schema: s, MatchAttr: "employeeID", Attrs: attrs,
		Users:  []identity.User{user("g1", active), user("g2", inactive, "accountEnabled", "true"), user("g3", back, "accountEnabled", "false", "parentDistinguishedName", leavers), user("g4", gone)},
		Policy: Policy{Leavers: "disable", LeaverPlacement: leavers}, Now: testNow}
	p, err := Compute(in)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct{ action, placement string }{
		"2": {Disable, leavers}, // inactive in HR: disabled and moved
		"3": {Enable, sales},    // back in HR: enabled and moved back
		"4": {Disable, leavers}, // absent: disabled and moved
	}
	if len(p.Actions) != len(want) {
		t.Fatalf("actions %v", actionsOf(p))
	}
	for _, a := range p.Actions {
		w := want[a.Key]
		if a.Action != w.action || changesOf(a)["parentDistinguishedName"][1] != w.placement {
			t.Errorf("%s %s: placement %v, want %s %s", a.Action, a.Key, changesOf(a)["parentDistinguishedName"], w.action, w.placement)
		}
	}
	if err := p.Validate(s); err != nil {
		t.Errorf("validate: %v", err)
	}
}
