package graphsim_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hrsync/hrsync/internal/graphsim"
)

const (
	gSales  = "00000000-0000-0000-0000-0000000000a1"
	gSales2 = "00000000-0000-0000-0000-0000000000a2"
	gOps    = "00000000-0000-0000-0000-0000000000a3"
	skuE3   = "6fd2c87f-b296-42f0-b197-1e91e994b900"
	skuE5   = "06ebc4ee-1bb5-47dd-8120-11324bc54e06"
)

func userN(i int) string { return fmt.Sprintf("00000000-0000-0000-0000-%012d", i) }

// directorySeed is a tenant with users 1..5 (user 5 without usageLocation),
// three groups (two named Sales), and two SKUs (E5 with its one unit used).
func directorySeed(t *testing.T) string {
	t.Helper()
	st := graphsim.State{Domains: []string{"contoso.com"}}
	for i := 1; i <= 5; i++ {
		u := graphsim.User{ID: userN(i), AccountEnabled: true, DisplayName: fmt.Sprintf("User %d", i),
			UserPrincipalName: fmt.Sprintf("u%d@contoso.com", i), MailNickname: fmt.Sprintf("u%d", i), UsageLocation: "DE"}
		if i == 5 {
			u.UsageLocation = ""
		}
		st.Users = append(st.Users, u)
	}
	st.Groups = []graphsim.Group{
		{ID: gSales, DisplayName: "Sales", Description: "EMEA", SecurityEnabled: true, Members: []string{userN(1)}},
		{ID: gSales2, DisplayName: "sales", SecurityEnabled: true},
		{ID: gOps, DisplayName: "Ops O'Neil", MailEnabled: true, GroupTypes: []string{"Unified"}},
	}
	st.SubscribedSkus = []graphsim.SubscribedSku{
		{SkuID: skuE3, SkuPartNumber: "ENTERPRISEPACK", PrepaidUnits: graphsim.PrepaidUnits{Enabled: 10}},
		{SkuID: skuE5, SkuPartNumber: "ENTERPRISEPREMIUM", PrepaidUnits: graphsim.PrepaidUnits{Enabled: 1}, ConsumedUnits: 1},
	}
	return seedFile(t, st)
}

func TestHTTPGroups(t *testing.T) {
	_, base := startSim(t, graphsim.Options{SeedPath: directorySeed(t)})
	adv := map[string]string{"ConsistencyLevel": "eventual"}
	tests := []struct {
		name, query string
		hdr         map[string]string
		status      int
		want        []string // ids
		msg         string
	}{
		{"all", "", nil, 200, []string{gSales, gSales2, gOps}, ""},
		{"displayName eq ignores case", "?$filter=" + url.QueryEscape("displayName eq 'SALES'"), nil, 200, []string{gSales, gSales2}, ""},
		{"quote escaped", "?$filter=" + url.QueryEscape("displayName eq 'Ops O''Neil'"), nil, 200, []string{gOps}, ""},
		{"id eq", "?$filter=" + url.QueryEscape("id eq '"+strings.ToUpper(gOps)+"'"), nil, 200, []string{gOps}, ""},
		{"id in", "?$filter=" + url.QueryEscape("id in ('"+gOps+"','"+gSales+"')"), nil, 200, []string{gSales, gOps}, ""},
		{"startsWith and flag", "?$filter=" + url.QueryEscape("startsWith(displayName,'s') and securityEnabled eq true"), nil, 200, []string{gSales, gSales2}, ""},
		{"description needs advanced", "?$filter=" + url.QueryEscape("description eq 'EMEA'"), nil, 400, nil,
			"Unsupported or invalid query filter clause specified for property 'description' of resource 'Group'."},
		{"description advanced", "?$count=true&$filter=" + url.QueryEscape("description eq 'EMEA'"), adv, 200, []string{gSales}, ""},
		{"unknown property", "?$filter=" + url.QueryEscape("shoeSize eq 'x'"), nil, 400, nil,
			"Invalid filter clause: Could not find a property named 'shoeSize' on type 'microsoft.graph.group'."},
		{"unknown select", "?$select=id,shoeSize", nil, 400, nil, "Could not find a property named 'shoeSize' on type 'microsoft.graph.group'."},
		{"top too big", "?$top=1000", nil, 400, nil, "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive."},
		{"orderby", "?$orderby=displayName", nil, 501, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, http.MethodGet, base+"/v1.0/groups"+tc.query, nil, tc.hdr)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.status == 200 && strings.Join(ids(t, r), ",") != strings.Join(tc.want, ",") {
				t.Errorf("ids = %v, want %v", ids(t, r), tc.want)
			}
			if tc.msg != "" && r.errMessage() != tc.msg {
				t.Errorf("message %q\nwant %q", r.errMessage(), tc.msg)
			}
		})
	}

	r := call(t, http.MethodGet, base+"/v1.0/groups?$select=id,displayName,groupTypes&$top=2", nil, nil)
	next, _ := r.obj["@odata.nextLink"].(string)
	if got := keys(t, firstValue(t, r.body)); strings.Join(got, ",") != "id,displayName,groupTypes" || next == "" {
		t.Fatalf("$select keys %v, nextLink %q", got, next)
	}
	r = call(t, http.MethodGet, next, nil, nil)
	if v := values(t, r); len(v) != 1 || v[0]["id"] != gOps || fmt.Sprint(v[0]["groupTypes"]) != "[Unified]" || r.obj["@odata.nextLink"] != nil {
		t.Errorf("second page = %s", r.body)
	}
	r = call(t, http.MethodGet, base+"/v1.0/groups/"+gSales, nil, nil)
	if r.status != 200 || r.obj["displayName"] != "Sales" || r.obj["securityEnabled"] != true || r.obj["mail"] != nil {
		t.Errorf("get group: %d %s", r.status, r.body)
	}
	if r := call(t, http.MethodGet, base+"/v1.0/groups/"+userN(1), nil, nil); r.status != 404 {
		t.Errorf("get a user as group: %d", r.status)
	}
	if r := call(t, http.MethodGet, base+"/v1.0/groups/"+gSales+"/owners", nil, nil); r.status != 501 {
		t.Errorf("owners: %d", r.status)
	}
}

func TestHTTPGroupMembers(t *testing.T) {
	srv, base := startSim(t, graphsim.Options{SeedPath: directorySeed(t)})
	ref := func(id string) map[string]any {
		return map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/" + id}
	}
	members := base + "/v1.0/groups/" + gOps + "/members"
	steps := []struct {
		name, method, url string
		body              any
		status            int
		code, msg         string
	}{
		{"add", "POST", members + "/$ref", ref(userN(1)), 204, "", ""},
		{"add by users reference, other host", "POST", members + "/$ref",
			map[string]any{"@odata.id": "https://example.invalid/v1.0/users/" + userN(2)}, 204, "", ""},
		{"add again", "POST", members + "/$ref", ref(userN(1)), 400, "Request_BadRequest",
			"One or more added object references already exist for the following modified properties: 'members'."},
		{"add unknown user", "POST", members + "/$ref", ref(userN(99)), 404, "Request_ResourceNotFound", ""},
		{"add a group", "POST", members + "/$ref", ref(gSales), 501, "NotImplemented", ""},
		{"add to unknown group", "POST", base + "/v1.0/groups/" + userN(98) + "/members/$ref", ref(userN(1)), 404, "Request_ResourceNotFound", ""},
		{"not a reference", "POST", members + "/$ref", map[string]any{"id": userN(1)}, 400, "BadRequest", ""},
		{"add 3", "POST", members + "/$ref", ref(userN(3)), 204, "", ""},
		{"add 4", "POST", members + "/$ref", ref(userN(4)), 204, "", ""},
		{"remove", "DELETE", members + "/" + userN(2) + "/$ref", nil, 204, "", ""},
		{"remove again", "DELETE", members + "/" + userN(2) + "/$ref", nil, 404, "Request_ResourceNotFound",
			"Resource '" + gOps + "' does not exist or one of its queried reference-property objects are not present."},
		{"remove by $id", "DELETE", members + "/$ref?$id=" + url.QueryEscape("https://graph.microsoft.com/v1.0/directoryObjects/"+userN(4)), nil, 204, "", ""},
	}
	for _, st := range steps {
		r := call(t, st.method, st.url, st.body, nil)
		if r.status != st.status || (st.code != "" && r.errCode() != st.code) || (st.msg != "" && r.errMessage() != st.msg) {
			t.Errorf("%s: %d %s", st.name, r.status, r.body)
		}
	}

	tests := []struct {
		name, query string
		wantIDs     []string
		typed       bool
	}{
		{"directory objects", "", []string{userN(1), userN(3)}, true},
		{"user cast", "/microsoft.graph.user?$select=id", []string{userN(1), userN(3)}, false},
		{"sdk alias", "/graph.user?$select=id&$top=999", []string{userN(1), userN(3)}, false},
	}
	for _, tc := range tests {
		r := call(t, http.MethodGet, members+tc.query, nil, nil)
		if strings.Join(ids(t, r), ",") != strings.Join(tc.wantIDs, ",") {
			t.Errorf("%s: %s", tc.name, r.body)
		}
		if _, typed := values(t, r)[0]["@odata.type"]; typed != tc.typed {
			t.Errorf("%s: @odata.type present %v, want %v", tc.name, typed, tc.typed)
		}
	}
	// Paging.
	var got []string
	next := members + "/microsoft.graph.user?$select=id&$top=1"
	for pages := 0; next != ""; pages++ {
		if pages > 3 {
			t.Fatal("paging does not end")
		}
		r := call(t, http.MethodGet, next, nil, nil)
		got = append(got, ids(t, r)...)
		next, _ = r.obj["@odata.nextLink"].(string)
	}
	if strings.Join(got, ",") != userN(1)+","+userN(3) {
		t.Errorf("paged members = %v", got)
	}
	if r := call(t, http.MethodGet, members+"?$filter=id%20eq%20'x'", nil, nil); r.status != 501 {
		t.Errorf("$filter on members: %d", r.status)
	}
	if m := srv.Snapshot().Groups[2].Members; strings.Join(m, ",") != userN(1)+","+userN(3) {
		t.Errorf("stored members = %v", m)
	}
}

func TestHTTPLicenses(t *testing.T) {
	srv, base := startSim(t, graphsim.Options{SeedPath: directorySeed(t)})
	r := call(t, http.MethodGet, base+"/v1.0/subscribedSkus", nil, nil)
	skus := values(t, r)
	if len(skus) != 2 || skus[0]["skuId"] != skuE3 || skus[0]["skuPartNumber"] != "ENTERPRISEPACK" || skus[1]["consumedUnits"] != 1.0 {
		t.Fatalf("subscribedSkus = %s", r.body)
	}
	if pu, _ := skus[0]["prepaidUnits"].(map[string]any); pu["enabled"] != 10.0 {
		t.Errorf("prepaidUnits = %v", skus[0]["prepaidUnits"])
	}
	if r := call(t, http.MethodGet, base+"/v1.0/subscribedSkus/"+skus[0]["id"].(string)+"?$select=skuId,consumedUnits", nil, nil); r.status != 200 || len(r.obj) != 3 {
		t.Errorf("get sku: %d %s", r.status, r.body)
	}

	assign := func(user string) string { return base + "/v1.0/users/" + user + "/assignLicense" }
	add := func(ids ...string) map[string]any {
		var a []map[string]any
		for _, id := range ids {
			a = append(a, map[string]any{"skuId": id, "disabledPlans": []string{}})
		}
		return map[string]any{"addLicenses": a, "removeLicenses": []string{}}
	}
	remove := func(ids ...string) map[string]any {
		return map[string]any{"addLicenses": []any{}, "removeLicenses": ids}
	}
	const unknown = "11111111-2222-3333-4444-555555555555"
	steps := []struct {
		name, url string
		body      any
		status    int
		msg       string
	}{
		{"no usage location", assign(userN(5)), add(skuE3), 400, "License assignment cannot be done for user with invalid usage location."},
		{"unknown sku", assign(userN(1)), add(unknown), 400, "License " + unknown + " does not correspond to a valid company License."},
		{"no units left", assign(userN(1)), add(skuE5), 400, "Subscription " + skuE5 + " does not have any available licenses."},
		{"remove not held", assign(userN(1)), remove(skuE3), 400, "User does not have a corresponding license."},
		{"not a guid", assign(userN(1)), add("E3"), 400, ""},
		{"missing user", assign(userN(99)), add(skuE3), 404, ""},
		{"assign", assign(userN(1)), add(strings.ToUpper(skuE3)), 200, ""},
		{"assign again keeps one unit", assign(userN(1)), add(skuE3), 200, ""},
		{"assign by UPN", assign("u2@contoso.com"), add(skuE3), 200, ""},
		{"remove", assign(userN(2)), remove(skuE3), 200, ""},
	}
	for _, st := range steps {
		r := call(t, http.MethodPost, st.url, st.body, nil)
		if r.status != st.status || (st.msg != "" && r.errMessage() != st.msg) {
			t.Errorf("%s: %d %s", st.name, r.status, r.body)
		}
		if st.status == 400 && st.msg != "" && r.errCode() != "Request_BadRequest" {
			t.Errorf("%s: code %s", st.name, r.errCode())
		}
		if st.status == 200 && (r.obj["id"] == nil || !strings.Contains(r.obj["@odata.context"].(string), "users/$entity")) {
			t.Errorf("%s: answer %s", st.name, r.body)
		}
	}
	r = call(t, http.MethodGet, base+"/v1.0/users/"+userN(1)+"?$select=id,assignedLicenses", nil, nil)
	if !strings.Contains(string(r.body), `"assignedLicenses":[{"disabledPlans":[],"skuId":"`+skuE3+`"}]`) {
		t.Errorf("assignedLicenses = %s", r.body)
	}
	if r := call(t, http.MethodPatch, base+"/v1.0/users/"+userN(1), map[string]any{"assignedLicenses": []any{}}, nil); r.status != 400 {
		t.Errorf("PATCH assignedLicenses: %d", r.status)
	}
	snap := srv.Snapshot()
	if c := snap.SubscribedSkus[0].ConsumedUnits; c != 1 {
		t.Errorf("E3 consumed = %d, want 1", c)
	}
	if l := snap.Users[1].AssignedLicenses; l != nil {
		t.Errorf("user 2 licenses = %v", l)
	}
}

func TestHTTPBatchGroupsLicensesAndDeletedItems(t *testing.T) {
	srv, base := startSim(t, graphsim.Options{SeedPath: directorySeed(t), KeepBatchOrder: true})
	jsonHdr := map[string]string{"Content-Type": "application/json"}
	item := func(id, method, u string, body any) map[string]any {
		it := map[string]any{"id": id, "method": method, "url": u}
		if body != nil {
			it["body"], it["headers"] = body, jsonHdr
		}
		return it
	}
	ref := map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/" + userN(2)}
	_, res := postBatch(t, base, batchBody(
		item("1", "POST", "/groups/"+gSales+"/members/$ref", ref),
		item("2", "POST", "/groups/"+gSales+"/members/$ref", map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/" + userN(1)}),
		item("3", "DELETE", "/groups/"+gSales+"/members/"+userN(3)+"/$ref", nil),
		item("4", "POST", "/users/"+userN(3)+"/assignLicense", map[string]any{"addLicenses": []any{map[string]any{"skuId": skuE3}}, "removeLicenses": []any{}}),
		item("5", "DELETE", "/users/"+userN(4), nil),
		item("6", "GET", "/directory/deletedItems/graph.user?$select=id", nil),
		item("7", "POST", "/directory/deletedItems/"+userN(4)+"/restore", map[string]any{}),
		item("8", "GET", "/users/"+userN(2)+"?$select=id,employeeId&$expand=manager($select=id)", nil),
		item("9", "GET", "/groups/"+gSales+"/members/microsoft.graph.user?$select=id&$top=999", nil),
		item("10", "GET", "/subscribedSkus", nil),
	))
	want := []int{204, 400, 404, 200, 204, 200, 200, 200, 200, 200}
	for i, it := range res {
		if it.Status != want[i] {
			t.Errorf("item %s: %d, want %d: %s", it.ID, it.Status, want[i], it.Body)
		}
	}
	if !strings.Contains(string(res[5].Body), userN(4)) || !strings.Contains(string(res[8].Body), userN(2)) {
		t.Errorf("deleted items %s; members %s", res[5].Body, res[8].Body)
	}
	st := srv.Stats()
	if st.Writes != 4 || st.BatchItems["POST /groups/{id}/members/$ref"] != 2 || st.BatchItems["POST /users/{id}/assignLicense"] != 1 ||
		st.BatchItems["DELETE /groups/{id}/members/{id}/$ref"] != 1 {
		t.Errorf("stats: writes %d, items %v", st.Writes, st.BatchItems)
	}
}
