package graphsim_test

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hrsync/hrsync/internal/graphsim"
)

// inheritedSeed is directorySeed's tenant where user 1 holds E3 directly
// and through Sales, user 2 holds E3 through Sales only and E5 through
// Ops, and E5 has no unit left.
func inheritedSeed(t *testing.T) string {
	t.Helper()
	var st graphsim.State
	data, err := json.Marshal(mustLoad(t, directorySeed(t)))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatal(err)
	}
	st.Users[0].AssignedLicenses = []graphsim.AssignedLicense{{SkuID: skuE3}}
	st.Users[0].InheritedLicenses = []graphsim.InheritedLicense{{SkuID: skuE3, GroupID: gSales}}
	st.Users[1].InheritedLicenses = []graphsim.InheritedLicense{{SkuID: skuE3, GroupID: gSales}, {SkuID: skuE5, GroupID: gOps}}
	st.SubscribedSkus[0].ConsumedUnits = 0 // 2 users hold E3: filled in
	st.SubscribedSkus[1].ConsumedUnits = 1 // user 2 holds the one E5 unit
	return seedFile(t, st)
}

func mustLoad(t *testing.T, path string) *graphsim.State {
	t.Helper()
	st, err := graphsim.LoadState(path)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestHTTPInheritedLicenses(t *testing.T) {
	srv, base := startSim(t, graphsim.Options{SeedPath: inheritedSeed(t)})
	consumed := func() (int, int) {
		snap := srv.Snapshot()
		return snap.SubscribedSkus[0].ConsumedUnits, snap.SubscribedSkus[1].ConsumedUnits
	}
	if e3, e5 := consumed(); e3 != 2 || e5 != 1 {
		t.Fatalf("consumed E3 %d E5 %d, want 2 1", e3, e5)
	}

	// assignedLicenses lists every SKU the user holds once;
	// licenseAssignmentStates tells direct (assignedByGroup null) from
	// inherited.
	r := call(t, http.MethodGet, base+"/v1.0/users/"+userN(2)+"?$select=id,assignedLicenses,licenseAssignmentStates", nil, nil)
	if !strings.Contains(string(r.body), `"assignedLicenses":[{"disabledPlans":[],"skuId":"`+skuE3+`"},{"disabledPlans":[],"skuId":"`+skuE5+`"}]`) {
		t.Errorf("user 2 assignedLicenses: %s", r.body)
	}
	var states struct {
		States []struct {
			AssignedByGroup *string `json:"assignedByGroup"`
			SkuID           string  `json:"skuId"`
			State           string  `json:"state"`
		} `json:"licenseAssignmentStates"`
	}
	r = call(t, http.MethodGet, base+"/v1.0/users/"+userN(1)+"?$select=id,assignedLicenses,licenseAssignmentStates", nil, nil)
	if err := json.Unmarshal(r.body, &states); err != nil {
		t.Fatal(err)
	}
	if len(states.States) != 2 || states.States[0].AssignedByGroup != nil || states.States[0].SkuID != skuE3 ||
		states.States[1].AssignedByGroup == nil || *states.States[1].AssignedByGroup != gSales || states.States[1].State != "Active" {
		t.Errorf("user 1 licenseAssignmentStates: %s", r.body)
	}
	if !strings.Contains(string(r.body), `"assignedLicenses":[{"disabledPlans":[],"skuId":"`+skuE3+`"}]`) {
		t.Errorf("user 1 assignedLicenses: %s", r.body)
	}
	if r := call(t, http.MethodPatch, base+"/v1.0/users/"+userN(1), map[string]any{"licenseAssignmentStates": []any{}}, nil); r.status != 400 {
		t.Errorf("PATCH licenseAssignmentStates: %d", r.status)
	}
	// Delta accepts licenseAssignmentStates but leaves it out, as Graph.
	r = call(t, http.MethodGet, base+"/v1.0/users/delta?$select=id,licenseAssignmentStates,assignedLicenses", nil, nil)
	if vs := values(t, r); len(vs) == 0 || vs[0]["assignedLicenses"] == nil || vs[0]["licenseAssignmentStates"] != nil {
		t.Errorf("delta: %s", r.body)
	}

	assign := func(user string) string { return base + "/v1.0/users/" + user + "/assignLicense" }
	body := func(add, remove []string) map[string]any {
		a := []map[string]any{}
		for _, id := range add {
			a = append(a, map[string]any{"skuId": id, "disabledPlans": []string{}})
		}
		return map[string]any{"addLicenses": a, "removeLicenses": append([]string{}, remove...)}
	}
	steps := []struct {
		name, user     string
		add, remove    []string
		status         int
		msg            string
		wantE3, wantE5 int
	}{
		{"remove an inherited-only license", userN(2), nil, []string{skuE3}, 400,
			"User license is inherited from a group membership and it cannot be removed directly from the user.", 2, 1},
		{"add one already inherited: no free unit needed", userN(2), []string{skuE5}, nil, 200, "", 2, 1},
		{"remove the direct one of both: the group keeps the unit", userN(1), nil, []string{skuE3}, 200, "", 2, 1},
		{"remove it again: now inherited only", userN(1), nil, []string{skuE3}, 400,
			"User license is inherited from a group membership and it cannot be removed directly from the user.", 2, 1},
		{"remove a license never held", userN(3), nil, []string{skuE3}, 400, "User does not have a corresponding license.", 2, 1},
	}
	for _, st := range steps {
		r := call(t, http.MethodPost, assign(st.user), body(st.add, st.remove), nil)
		if r.status != st.status || (st.msg != "" && (r.errMessage() != st.msg || r.errCode() != "Request_BadRequest")) {
			t.Errorf("%s: %d %s", st.name, r.status, r.body)
		}
		if e3, e5 := consumed(); e3 != st.wantE3 || e5 != st.wantE5 {
			t.Errorf("%s: consumed E3 %d E5 %d, want %d %d", st.name, e3, e5, st.wantE3, st.wantE5)
		}
	}
	r = call(t, http.MethodGet, base+"/v1.0/users/"+userN(2)+"?$select=licenseAssignmentStates", nil, nil)
	if n := strings.Count(string(r.body), skuE5); n != 2 {
		t.Errorf("user 2 E5 direct and inherited: %s", r.body)
	}

	// Deleting frees the units, restoring takes them again even with none
	// left.
	if r := call(t, http.MethodDelete, base+"/v1.0/users/"+userN(2), nil, nil); r.status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if e3, e5 := consumed(); e3 != 1 || e5 != 0 {
		t.Errorf("after delete: consumed E3 %d E5 %d, want 1 0", e3, e5)
	}
	r = call(t, http.MethodGet, base+"/v1.0/directory/deletedItems/"+userN(2)+"?$select=id,assignedLicenses", nil, nil)
	if !strings.Contains(string(r.body), skuE5) {
		t.Errorf("deleted user keeps its licenses: %s", r.body)
	}
	if r := call(t, http.MethodPost, assign(userN(3)), body([]string{skuE5}, nil), nil); r.status != 200 {
		t.Fatalf("assign the freed E5 unit: %d %s", r.status, r.body)
	}
	if r := call(t, http.MethodPost, base+"/v1.0/directory/deletedItems/"+userN(2)+"/restore", nil, nil); r.status != 200 {
		t.Fatalf("restore: %d %s", r.status, r.body)
	}
	if e3, e5 := consumed(); e3 != 2 || e5 != 2 {
		t.Errorf("after restore: consumed E3 %d E5 %d, want 2 2 (over the 1 prepaid)", e3, e5)
	}
	r = call(t, http.MethodGet, base+"/v1.0/users/"+userN(2)+"?$select=assignedLicenses", nil, nil)
	if !strings.Contains(string(r.body), skuE5) || !strings.Contains(string(r.body), skuE3) {
		t.Errorf("restored licenses: %s", r.body)
	}
	// Deleting permanently frees nothing more.
	call(t, http.MethodDelete, base+"/v1.0/users/"+userN(2), nil, nil)
	call(t, http.MethodDelete, base+"/v1.0/directory/deletedItems/"+userN(2), nil, nil)
	if e3, e5 := consumed(); e3 != 1 || e5 != 1 {
		t.Errorf("after permanent delete: consumed E3 %d E5 %d, want 1 1", e3, e5)
	}
}

func TestInheritedLicensesLoadAndSave(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	s, err := graphsim.New(graphsim.Options{SeedPath: inheritedSeed(t), StatePath: path})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	st := mustLoad(t, path)
	if l := st.Users[1].InheritedLicenses; len(l) != 2 || l[1] != (graphsim.InheritedLicense{SkuID: skuE5, GroupID: gOps}) {
		t.Errorf("saved inheritedLicenses = %v", l)
	}

	const sku = `"skuId": "6fd2c87f-b296-42f0-b197-1e91e994b900", "skuPartNumber": "E3", "prepaidUnits": {"enabled": 5}`
	const group = `"groups": [{"id": "00000000-0000-0000-0000-0000000000a1", "displayName": "G"}]`
	tests := []struct {
		name, content, want string
	}{
		{"unknown group", `{"domains": ["contoso.com"], "users": [{"userPrincipalName": "a@contoso.com", "inheritedLicenses": [{"skuId": "6fd2c87f-b296-42f0-b197-1e91e994b900", "groupId": "00000000-0000-0000-0000-0000000000ff"}]}], ` + group + `, "subscribedSkus": [{` + sku + `}]}`, "is not in groups"},
		{"unknown sku", `{"domains": ["contoso.com"], "users": [{"userPrincipalName": "a@contoso.com", "inheritedLicenses": [{"skuId": "6fd2c87f-b296-42f0-b197-1e91e994b901", "groupId": "00000000-0000-0000-0000-0000000000a1"}]}], ` + group + `, "subscribedSkus": [{` + sku + `}]}`, "not in subscribedSkus"},
		{"twice", `{"domains": ["contoso.com"], "users": [{"userPrincipalName": "a@contoso.com", "inheritedLicenses": [{"skuId": "6fd2c87f-b296-42f0-b197-1e91e994b900", "groupId": "00000000-0000-0000-0000-0000000000a1"}, {"skuId": "6fd2c87f-b296-42f0-b197-1e91e994b900", "groupId": "00000000-0000-0000-0000-0000000000A1"}]}], ` + group + `, "subscribedSkus": [{` + sku + `}]}`, "twice"},
		{"consumed below holders", `{"domains": ["contoso.com"], "users": [{"userPrincipalName": "a@contoso.com", "inheritedLicenses": [{"skuId": "6fd2c87f-b296-42f0-b197-1e91e994b900", "groupId": "00000000-0000-0000-0000-0000000000a1"}]},
			{"userPrincipalName": "b@contoso.com", "assignedLicenses": [{"skuId": "6fd2c87f-b296-42f0-b197-1e91e994b900"}]}], ` + group + `, "subscribedSkus": [{` + sku + `, "consumedUnits": 1}]}`, "2 users hold"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "seed.json")
			writeFile(t, p, tc.content)
			if _, err := graphsim.LoadState(p); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// A deleted user's licenses do not count as consumed, and a state that
// stores a deleted user's userPrincipalName as Entra shows it is read back
// to the original.
func TestDeletedUsersInState(t *testing.T) {
	p := filepath.Join(t.TempDir(), "seed.json")
	writeFile(t, p, `{"domains": ["contoso.com"], "users": [],
		"deletedUsers": [{"id": "0A1B2C3D-0000-0000-0000-0000000000d1", "userPrincipalName": "0a1b2c3d0000000000000000000000d1ann@contoso.com",
			"assignedLicenses": [{"skuId": "6fd2c87f-b296-42f0-b197-1e91e994b900"}]}],
		"subscribedSkus": [{"skuId": "6fd2c87f-b296-42f0-b197-1e91e994b900", "skuPartNumber": "E3", "prepaidUnits": {"enabled": 1}}]}`)
	st := mustLoad(t, p)
	if u := st.DeletedUsers[0].UserPrincipalName; u != "ann@contoso.com" {
		t.Errorf("deleted UPN = %q", u)
	}
	if c := st.SubscribedSkus[0].ConsumedUnits; c != 0 {
		t.Errorf("consumed = %d, want 0", c)
	}
	srv, base := startSim(t, graphsim.Options{SeedPath: p})
	r := call(t, http.MethodGet, base+"/v1.0/directory/deletedItems/microsoft.graph.user?$select=id,userPrincipalName", nil, nil)
	if vs := values(t, r); len(vs) != 1 || vs[0]["userPrincipalName"] != "0a1b2c3d0000000000000000000000d1ann@contoso.com" {
		t.Errorf("deleted items: %s", r.body)
	}
	if r := call(t, http.MethodPost, base+"/v1.0/directory/deletedItems/0a1b2c3d-0000-0000-0000-0000000000d1/restore", nil, nil); r.status != 200 ||
		r.obj["userPrincipalName"] != "ann@contoso.com" {
		t.Errorf("restore: %d %s", r.status, r.body)
	}
	if c := srv.Snapshot().SubscribedSkus[0].ConsumedUnits; c != 1 {
		t.Errorf("consumed after restore = %d, want 1", c)
	}
}
