package entra

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/hrsync/hrsync/internal/directory"
	"github.com/hrsync/hrsync/internal/graphsim"
	"github.com/hrsync/hrsync/internal/identity"
)

// Graph's assignedLicenses lists licenses inherited from groups too; the
// reads keep the direct ones only, which is all assignLicense can change.
func TestReadsKeepOnlyDirectLicenses(t *testing.T) {
	st := graphsim.State{Domains: []string{"contoso.com"},
		Groups: []graphsim.Group{{ID: gid(1), DisplayName: "Licensed", SecurityEnabled: true, Members: []string{uid(1), uid(2)}}},
		SubscribedSkus: []graphsim.SubscribedSku{
			{SkuID: skuE3, SkuPartNumber: "ENTERPRISEPACK", PrepaidUnits: graphsim.PrepaidUnits{Enabled: 10}},
			{SkuID: skuE5, SkuPartNumber: "ENTERPRISEPREMIUM", PrepaidUnits: graphsim.PrepaidUnits{Enabled: 10}}}}
	for i := 1; i <= 3; i++ {
		st.Users = append(st.Users, seedUser(i))
	}
	st.Users[1].Manager = uid(1)
	// User 1: E3 directly and through the group; user 2: E5 through the
	// group only; user 3: E5 directly (upper-case in the seed).
	st.Users[0].AssignedLicenses = []graphsim.AssignedLicense{{SkuID: skuE3}}
	st.Users[0].InheritedLicenses = []graphsim.InheritedLicense{{SkuID: skuE3, GroupID: gid(1)}}
	st.Users[1].InheritedLicenses = []graphsim.InheritedLicense{{SkuID: skuE5, GroupID: gid(1)}}
	st.Users[2].AssignedLicenses = []graphsim.AssignedLicense{{SkuID: strings.ToUpper(skuE5)}}
	c, _ := startSeeded(t, st, nil)
	ctx := context.Background()
	attrs := []string{"employeeId", LicensesAttr}
	want := map[string][]string{uid(1): {skuE3}, uid(2): nil, uid(3): {skuE5}}
	licenses := func(us []identity.User) map[string][]string {
		got := map[string][]string{}
		for _, u := range us {
			got[u.ID] = u.Licenses
		}
		return got
	}

	for _, withManager := range []bool{false, true} {
		users, err := c.ReadUsers(ctx, attrs, withManager, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := licenses(users); !reflect.DeepEqual(got, want) {
			t.Errorf("ReadUsers (manager %v): licenses %v, want %v", withManager, got, want)
		}
		if withManager && users[1].ManagerID != uid(1) {
			t.Errorf("ReadUsers: manager of user 2 = %q", users[1].ManagerID)
		}
	}
	var ops []directory.Op
	for i := 1; i <= 3; i++ {
		ops = append(ops, directory.Op{Kind: directory.OpGet, UserID: uid(i), Select: attrs}, directory.Op{Kind: directory.OpFind, Attr: "employeeId", Value: seedUser(i).EmployeeID, Select: attrs})
	}
	for i, o := range run(t, c, ctx, ops, directory.DoOptions{}) {
		if o.Err != nil || len(o.Users) != 1 || !reflect.DeepEqual(o.Users[0].Licenses, want[o.Users[0].ID]) {
			t.Errorf("%s: %+v", describe(ops[i]), o)
		}
	}
	// Graph's delta does not return licenseAssignmentStates: the delta read
	// says so instead of reading no licenses.
	_, err := c.ListUsersDelta(ctx, attrs, true, nil)
	var ge *GraphError
	if !errors.As(err, &ge) || ge.Status != http.StatusNotImplemented || !strings.Contains(err.Error(), "licenseAssignmentStates") {
		t.Errorf("delta with licenses: %v", err)
	}
	// An inherited license cannot be removed with assignLicense.
	err = doOne(ctx, c, directory.Op{Kind: directory.OpAssignLicense, UserID: uid(2), RemoveSkus: []string{skuE5}}).Err
	if err == nil || !strings.Contains(err.Error(), "inherited from a group membership") {
		t.Errorf("remove an inherited license: %v", err)
	}

	run(t, c, ctx, []directory.Op{{Kind: directory.OpDelete, UserID: uid(1)}, {Kind: directory.OpDelete, UserID: uid(2)}}, directory.DoOptions{})
	del, err := c.ListDeletedUsers(ctx, append(attrs, "userPrincipalName"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, d := range del {
		got[d.ID] = d.Licenses
		if d.Attrs.Get("userPrincipalName") != seedUser(int(d.ID[len(d.ID)-1]-'0')).UserPrincipalName {
			t.Errorf("deleted %s: userPrincipalName %q", d.ID, d.Attrs.Get("userPrincipalName"))
		}
	}
	if !reflect.DeepEqual(got, map[string][]string{uid(1): {skuE3}, uid(2): nil}) {
		t.Errorf("deleted users' licenses = %v", got)
	}
}

func TestOriginalUPN(t *testing.T) {
	const id = "0A1B2C3D-4E5F-6071-8293-A4B5C6D7E8F9"
	tests := []struct{ upn, want string }{
		{"0a1b2c3d4e5f60718293a4b5c6d7e8f9ann@contoso.com", "ann@contoso.com"},
		{"0A1B2C3D4E5F60718293A4B5C6D7E8F9ann@contoso.com", "ann@contoso.com"},
		{"ann@contoso.com", "ann@contoso.com"},                                                                 // not renamed
		{"ffffffffffffffffffffffffffffffffann@contoso.com", "ffffffffffffffffffffffffffffffffann@contoso.com"}, // another id
		{"0a1b2c3d4e5f60718293a4b5c6d7e8f9", "0a1b2c3d4e5f60718293a4b5c6d7e8f9"},                               // nothing after the prefix
		{"", ""},
	}
	for _, tc := range tests {
		if got := originalUPN(id, tc.upn); got != tc.want {
			t.Errorf("originalUPN(%q) = %q, want %q", tc.upn, got, tc.want)
		}
	}
	// An id that is not 32 hex digits without its dashes strips nothing.
	if got := originalUPN("admin-id", "adminidann@contoso.com"); got != "adminidann@contoso.com" {
		t.Errorf("non-GUID id: %q", got)
	}
	if got := originalUPN("zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzann@contoso.com"); got != "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzann@contoso.com" {
		t.Errorf("non-hex id: %q", got)
	}
}
