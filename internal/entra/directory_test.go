package entra

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hrsync/hrsync/internal/directory"
	"github.com/hrsync/hrsync/internal/graphsim"
	"github.com/hrsync/hrsync/internal/identity"
)

const (
	skuE3 = "6fd2c87f-b296-42f0-b197-1e91e994b900"
	skuE5 = "06ebc4ee-1bb5-47dd-8120-11324bc54e06"
)

// simClock is a settable clock for graphsim's Options.Now.
type simClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *simClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *simClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// uid is the id of seeded user i.
func uid(i int) string { return fmt.Sprintf("00000000-0000-0000-0000-%012d", i) }

// gid is the id of seeded group i.
func gid(i int) string { return fmt.Sprintf("00000000-0000-0000-00ff-%012d", i) }

// seedUser is seeded user i.
func seedUser(i int) graphsim.User {
	return graphsim.User{ID: uid(i), AccountEnabled: true, DisplayName: fmt.Sprintf("User %d", i),
		UserPrincipalName: fmt.Sprintf("u%d@contoso.com", i), MailNickname: fmt.Sprintf("u%d", i),
		EmployeeID: fmt.Sprintf("k%04d", i), UsageLocation: "DE"}
}

// seedPath writes st to a seed file.
func seedPath(t *testing.T, st graphsim.State) string {
	t.Helper()
	data, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	seed := t.TempDir() + "/seed.json"
	if err := os.WriteFile(seed, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return seed
}

// startSeeded starts graphsim on st (and the clock, if not nil) and returns
// a client with an instant clock.
func startSeeded(t *testing.T, st graphsim.State, clk *simClock) (*Client, *graphsim.Server) {
	t.Helper()
	opts := graphsim.Options{SeedPath: seedPath(t, st), Token: testToken}
	if clk != nil {
		opts.Now = clk.Now
	}
	return startSimWith(t, opts, Options{Clock: &instantClock{t: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)}})
}

func TestLeaveDateTimeRoundTrips(t *testing.T) {
	c, _ := startSeeded(t, graphsim.State{Domains: []string{"contoso.com"}, Users: []graphsim.User{seedUser(1)}}, nil)
	ctx := context.Background()
	sel := []string{"employeeId", "employeeLeaveDateTime"}
	id := uid(1)
	steps := []struct {
		name string
		op   directory.Op
		want string
	}{
		{"create with an offset", directory.Op{Kind: directory.OpCreate, Password: "Initial-Pa55word!x", Attrs: identity.AttrsOf(map[string]string{"displayName": "Leaver",
			"userPrincipalName": "leaver@contoso.com", "mailNickname": "leaver", "employeeId": "k9",
			"employeeLeaveDateTime": "2026-03-31T17:00:00+02:00"})}, "2026-03-31T15:00:00Z"},
		{"update", directory.Op{Kind: directory.OpUpdate, Set: map[string]*string{"employeeLeaveDateTime": ptr("2026-06-30T23:59:59Z")}}, "2026-06-30T23:59:59Z"},
		{"clear", directory.Op{Kind: directory.OpUpdate, Set: map[string]*string{"employeeLeaveDateTime": nil}}, ""},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.op.Kind == directory.OpUpdate {
				st.op.UserID = id
			}
			o := doOne(ctx, c, st.op)
			if o.Err != nil {
				t.Fatal(o.Err)
			}
			if st.op.Kind == directory.OpCreate {
				id = o.ID
			}
			reads := map[string]identity.User{}
			list, err := c.ReadUsers(ctx, sel, false, nil)
			if err != nil {
				t.Fatal(err)
			}
			delta, err := c.ReadUsers(ctx, sel, true, nil)
			if err != nil {
				t.Fatal(err)
			}
			for name, us := range map[string][]identity.User{"list": list, "delta": delta} {
				for _, u := range us {
					if u.ID == id {
						reads[name] = u
					}
				}
			}
			reads["get"] = doOne(ctx, c, directory.Op{Kind: directory.OpGet, UserID: id, Select: sel}).Users[0]
			reads["find"] = doOne(ctx, c, directory.Op{Kind: directory.OpFind, Attr: "employeeId", Value: "k9", Select: sel}).Users[0]
			for name, u := range reads {
				if got := u.Attrs.Get("employeeLeaveDateTime"); got != st.want {
					t.Errorf("%s: employeeLeaveDateTime = %q, want %q", name, got, st.want)
				}
			}
		})
	}
}

func TestDeleteRestoreAndListDeleted(t *testing.T) {
	clk := &simClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	st := graphsim.State{Domains: []string{"contoso.com"},
		SubscribedSkus: []graphsim.SubscribedSku{{SkuID: skuE3, SkuPartNumber: "ENTERPRISEPACK", PrepaidUnits: graphsim.PrepaidUnits{Enabled: 5000}}}}
	for i := 1; i <= 3; i++ {
		st.Users = append(st.Users, seedUser(i))
	}
	st.Users[1].AssignedLicenses = []graphsim.AssignedLicense{{SkuID: skuE3}}
	st.Users[1].EmployeeLeaveDateTime = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	// 1,000 users deleted a day ago (two pages), one 31 days ago (purged).
	for i := 100; i < 1100; i++ {
		u := seedUser(i)
		u.DeletedDateTime = clk.t.Add(-24 * time.Hour)
		st.DeletedUsers = append(st.DeletedUsers, u)
	}
	old := seedUser(5000)
	old.DeletedDateTime = clk.t.Add(-31 * 24 * time.Hour)
	st.DeletedUsers = append(st.DeletedUsers, old)
	c, srv := startSeeded(t, st, clk)
	ctx := context.Background()
	attrs := []string{"employeeId", "userPrincipalName", "employeeLeaveDateTime", LicensesAttr}

	clk.Advance(time.Hour)
	o := run(t, c, ctx, []directory.Op{{Kind: directory.OpDelete, UserID: uid(2)}, {Kind: directory.OpDelete, UserID: uid(3)}, {Kind: directory.OpDelete, UserID: uid(99)}}, directory.DoOptions{})
	if o[0].Err != nil || o[1].Err != nil || !IsNotFound(o[2].Err) {
		t.Fatalf("deletes = %+v", o)
	}
	del, err := c.ListDeletedUsers(ctx, attrs)
	if err != nil {
		t.Fatal(err)
	}
	if len(del) != 1002 || srv.Stats().Requests["GET /directory/deletedItems/microsoft.graph.user"] != 2 {
		t.Fatalf("deleted users = %d, requests %v", len(del), srv.Stats().Requests)
	}
	byID := map[string]identity.DeletedUser{}
	for _, d := range del {
		byID[d.ID] = d
	}
	d2 := byID[uid(2)]
	want := identity.DeletedUser{User: identity.User{ID: uid(2), Attrs: identity.AttrsOf(map[string]string{"employeeId": "k0002", "userPrincipalName": "u2@contoso.com",
		"employeeLeaveDateTime": "2026-03-01T00:00:00Z"}), Licenses: []string{skuE3}}, DeletedAt: clk.Now()}
	if !d2.User.Equal(want.User) || !d2.DeletedAt.Equal(want.DeletedAt) {
		t.Errorf("deleted user 2 = %+v\nwant %+v", d2, want)
	}
	if d := byID[uid(100)]; !d.DeletedAt.Equal(clk.Now().Add(-25*time.Hour)) || d.Attrs.Get("employeeId") != "k0100" {
		t.Errorf("seeded deleted user = %+v", d)
	}
	if _, listed := byID[uid(5000)]; listed {
		t.Error("a user deleted 31 days ago is listed")
	}

	o = run(t, c, ctx, []directory.Op{{Kind: directory.OpRestore, UserID: uid(2)}, {Kind: directory.OpRestore, UserID: uid(5000)}, {Kind: directory.OpRestore, UserID: uid(1)}}, directory.DoOptions{})
	if o[0].Err != nil || o[0].ID != uid(2) || !IsNotFound(o[1].Err) || !IsNotFound(o[2].Err) {
		t.Fatalf("restores = %+v", o)
	}
	got := doOne(ctx, c, directory.Op{Kind: directory.OpGet, UserID: uid(2), Select: attrs})
	if got.Err != nil || len(got.Users) != 1 || !slices.Equal(got.Users[0].Licenses, []string{skuE3}) {
		t.Errorf("restored user = %+v", got)
	}
	if del, _ := c.ListDeletedUsers(ctx, attrs); len(del) != 1001 {
		t.Errorf("deleted users after restore = %d", len(del))
	}
	// Restoring over a taken UPN is Graph's conflict.
	doOne(ctx, c, directory.Op{Kind: directory.OpCreate, Password: "Initial-Pa55word!x", Attrs: identity.AttrsOf(map[string]string{"displayName": "New 3",
		"userPrincipalName": "u3@contoso.com", "mailNickname": "u3new"})})
	if err := doOne(ctx, c, directory.Op{Kind: directory.OpRestore, UserID: uid(3)}).Err; !IsConflict(err) {
		t.Errorf("restore over a taken UPN: %v", err)
	}
}

func TestResolveGroupsAndMembers(t *testing.T) {
	st := graphsim.State{Domains: []string{"contoso.com"}}
	for i := 1; i <= 1200; i++ {
		st.Users = append(st.Users, seedUser(i))
	}
	members := make([]string, 1100)
	for i := range members {
		members[i] = uid(i + 1)
	}
	st.Groups = []graphsim.Group{
		{ID: gid(1), DisplayName: "Sales", Members: members},
		{ID: gid(2), DisplayName: "sales"},
		{ID: gid(3), DisplayName: "Team"},
		{ID: gid(4), DisplayName: "team"},
		{ID: gid(5), DisplayName: "Team"},
		{ID: gid(6), DisplayName: "O'Brien's"},
	}
	for i := 10; i < 30; i++ {
		st.Groups = append(st.Groups, graphsim.Group{ID: gid(i), DisplayName: fmt.Sprintf("Dept %d", i)})
	}
	c, srv := startSeeded(t, st, nil)
	ctx := context.Background()

	tests := []struct {
		name string
		refs []string
		want map[string]string // ref -> group id
		errs []string
	}{
		{"by id, any case", []string{strings.ToUpper(gid(1))}, map[string]string{strings.ToUpper(gid(1)): gid(1)}, nil},
		{"exact case decides", []string{"Sales", "sales"}, map[string]string{"Sales": gid(1), "sales": gid(2)}, nil},
		{"case-insensitive when unique", []string{"o'brien's"}, map[string]string{"o'brien's": gid(6)}, nil},
		{"many names", deptRefs(10, 30), deptWant(10, 30), nil},
		{"missing and ambiguous", []string{"Nobody", gid(99), "Team", "Sales"}, nil,
			[]string{`no group matches "Nobody", "` + gid(99) + `"`, `several groups are named "Team" (` + gid(3) + ", " + gid(5) + ")", "by its object id"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.ResolveGroups(ctx, tc.refs)
			if tc.errs != nil {
				for _, e := range tc.errs {
					if err == nil || !strings.Contains(err.Error(), e) {
						t.Errorf("error %v does not say %q", err, e)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ids := map[string]string{}
			for ref, g := range got {
				ids[ref] = g.ID
			}
			if !reflect.DeepEqual(ids, tc.want) {
				t.Errorf("resolved %v, want %v", ids, tc.want)
			}
		})
	}

	ids, err := c.GroupMembers(ctx, gid(1))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ids, members) || srv.Stats().Requests["GET /groups/{id}/members/microsoft.graph.user"] != 2 {
		t.Fatalf("members = %d, requests %v", len(ids), srv.Stats().Requests)
	}
	if _, err := c.GroupMembers(ctx, gid(99)); !IsNotFound(err) {
		t.Errorf("members of a missing group: %v", err)
	}

	ops := []directory.Op{
		{Kind: directory.OpAddMember, GroupID: gid(3), UserID: uid(1)},
		{Kind: directory.OpAddMember, GroupID: gid(1), UserID: uid(1)}, // already a member: fine
		{Kind: directory.OpRemoveMember, GroupID: gid(1), UserID: uid(2)},
		{Kind: directory.OpRemoveMember, GroupID: gid(1), UserID: uid(1150)}, // not a member: fine
		{Kind: directory.OpRemoveMember, GroupID: gid(99), UserID: uid(1)},   // 404: fine
		{Kind: directory.OpAddMember, GroupID: gid(3), UserID: uid(9999)},
		{Kind: directory.OpAddMember, GroupID: gid(99), UserID: uid(1)},
		{Kind: directory.OpAddMember, UserID: uid(1)},
	}
	o := run(t, c, ctx, ops, directory.DoOptions{})
	for i := 0; i < 5; i++ {
		if o[i].Err != nil {
			t.Errorf("%s: %v", describe(ops[i]), o[i].Err)
		}
	}
	if !IsNotFound(o[5].Err) || !IsNotFound(o[6].Err) || o[7].Err == nil || !strings.Contains(o[6].Err.Error(), "add user "+uid(1)+" to group "+gid(99)) {
		t.Errorf("failures = %v / %v / %v", o[5].Err, o[6].Err, o[7].Err)
	}
	if ids, _ := c.GroupMembers(ctx, gid(3)); !slices.Equal(ids, []string{uid(1)}) {
		t.Errorf("members of Team = %v", ids)
	}
	if ids, _ := c.GroupMembers(ctx, gid(1)); len(ids) != 1099 || slices.Contains(ids, uid(2)) {
		t.Errorf("members of Sales = %d", len(ids))
	}
}

func deptRefs(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("Dept %d", i))
	}
	return out
}

func deptWant(from, to int) map[string]string {
	out := map[string]string{}
	for i := from; i < to; i++ {
		out[fmt.Sprintf("Dept %d", i)] = gid(i)
	}
	return out
}

// directory.OpGet reads a user exactly as ReadUsers lists it: the same attributes
// in the same canonical form, the manager and the licenses.
func TestOpGetReadsLikeReadUsers(t *testing.T) {
	st := graphsim.State{Domains: []string{"contoso.com"},
		SubscribedSkus: []graphsim.SubscribedSku{
			{SkuID: skuE3, SkuPartNumber: "ENTERPRISEPACK", PrepaidUnits: graphsim.PrepaidUnits{Enabled: 10}},
			{SkuID: skuE5, SkuPartNumber: "ENTERPRISEPREMIUM", PrepaidUnits: graphsim.PrepaidUnits{Enabled: 10}}}}
	for i := 1; i <= 4; i++ {
		u := seedUser(i)
		if i > 1 {
			u.Manager = uid(1)
		}
		st.Users = append(st.Users, u)
	}
	u := &st.Users[1]
	u.EmployeeHireDate = time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)
	u.EmployeeLeaveDateTime = time.Date(2026, 3, 31, 15, 30, 0, 0, time.UTC)
	u.EmployeeOrgData = &graphsim.EmployeeOrgData{Division: "Labs", CostCenter: "CC1"}
	u.AssignedLicenses = []graphsim.AssignedLicense{{SkuID: skuE5}, {SkuID: skuE3}}
	u.Department, u.Mail, u.AccountEnabled = "R&D", "u2.mail@contoso.com", false
	c, _ := startSeeded(t, st, nil)
	ctx := context.Background()
	attrs := []string{LicensesAttr}
	for _, name := range identity.EntraSchema().Names() {
		if name != identity.Manager {
			attrs = append(attrs, name)
		}
	}
	for _, withManager := range []bool{false, true} {
		t.Run(fmt.Sprintf("manager %v", withManager), func(t *testing.T) {
			all, err := c.ReadUsers(ctx, attrs, withManager, nil)
			if err != nil {
				t.Fatal(err)
			}
			var ops []directory.Op
			for _, u := range all {
				ops = append(ops, directory.Op{Kind: directory.OpGet, UserID: u.ID, Select: attrs, Expand: withManager})
			}
			ops = append(ops, directory.Op{Kind: directory.OpGet, UserID: uid(404), Select: attrs, Expand: withManager})
			out := run(t, c, ctx, ops, directory.DoOptions{})
			for i, u := range all {
				if out[i].Err != nil || len(out[i].Users) != 1 {
					t.Fatalf("get %s: %+v", u.ID, out[i])
				}
				if !out[i].Users[0].Equal(u) {
					t.Errorf("get %s:\n%+v\nlist:\n%+v", u.ID, out[i].Users[0], u)
				}
			}
			if !IsNotFound(out[len(all)].Err) {
				t.Errorf("get a missing user: %v", out[len(all)].Err)
			}
			two := all[slices.IndexFunc(all, func(u identity.User) bool { return u.ID == uid(2) })]
			// Sorted: E5's skuId sorts before E3's.
			if !slices.Equal(two.Licenses, []string{skuE5, skuE3}) {
				t.Errorf("licenses = %v", two.Licenses)
			}
			if two.Attrs.Get(LicensesAttr) != "" || (two.ManagerID == uid(1)) != withManager ||
				two.Attrs.Get("employeeLeaveDateTime") != "2026-03-31T15:30:00Z" {
				t.Errorf("user 2 = %+v", two)
			}
		})
	}
}

func TestLicenses(t *testing.T) {
	st := graphsim.State{Domains: []string{"contoso.com"},
		SubscribedSkus: []graphsim.SubscribedSku{
			{SkuID: skuE3, SkuPartNumber: "ENTERPRISEPACK", PrepaidUnits: graphsim.PrepaidUnits{Enabled: 10}},
			{SkuID: skuE5, SkuPartNumber: "ENTERPRISEPREMIUM", PrepaidUnits: graphsim.PrepaidUnits{Enabled: 1}, ConsumedUnits: 1}}}
	for i := 1; i <= 3; i++ {
		st.Users = append(st.Users, seedUser(i))
	}
	st.Users[2].UsageLocation = ""
	c, _ := startSeeded(t, st, nil)
	ctx := context.Background()
	skus, err := c.ListSkus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []Sku{{ID: skuE3, PartNumber: "ENTERPRISEPACK", Enabled: 10}, {ID: skuE5, PartNumber: "ENTERPRISEPREMIUM", Enabled: 1, Consumed: 1}}
	if !reflect.DeepEqual(skus, want) {
		t.Errorf("skus = %+v", skus)
	}

	tests := []struct {
		name string
		op   directory.Op
		msg  string // "" = success
	}{
		{"add", directory.Op{UserID: uid(1), AddSkus: []string{strings.ToUpper(skuE3)}}, ""},
		{"no usage location", directory.Op{UserID: uid(3), AddSkus: []string{skuE3}}, "License assignment cannot be done for user with invalid usage location."},
		{"no units", directory.Op{UserID: uid(2), AddSkus: []string{skuE5}}, "does not have any available licenses"},
		{"unknown sku", directory.Op{UserID: uid(2), AddSkus: []string{"11111111-2222-3333-4444-555555555555"}}, "does not correspond to a valid company License"},
		{"remove not held", directory.Op{UserID: uid(2), RemoveSkus: []string{skuE3}}, "User does not have a corresponding license."},
		{"not a GUID", directory.Op{UserID: uid(2), AddSkus: []string{"E3"}}, `license skuId "E3" is not a GUID`},
		{"missing user", directory.Op{UserID: uid(99), AddSkus: []string{skuE3}}, "does not exist"},
		{"add to another", directory.Op{UserID: uid(2), AddSkus: []string{skuE3}}, ""},
		{"remove", directory.Op{UserID: uid(2), RemoveSkus: []string{skuE3}}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.op.Kind = directory.OpAssignLicense
			err := doOne(ctx, c, tc.op).Err
			if (tc.msg == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.msg)) {
				t.Errorf("err = %v, want %q", err, tc.msg)
			}
			var ge *GraphError
			if err != nil && errors.As(err, &ge) && !strings.Contains(ge.Op, "assign licenses to "+tc.op.UserID) {
				t.Errorf("op = %q", ge.Op)
			}
		})
	}
	users, err := c.ReadUsers(ctx, []string{"employeeId", LicensesAttr}, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, u := range users {
		got[u.ID] = u.Licenses
	}
	if !reflect.DeepEqual(got, map[string][]string{uid(1): {skuE3}, uid(2): nil, uid(3): nil}) {
		t.Errorf("licenses = %v", got)
	}
	if skus, _ := c.ListSkus(ctx); skus[0].Consumed != 1 {
		t.Errorf("E3 consumed = %d", skus[0].Consumed)
	}
}
