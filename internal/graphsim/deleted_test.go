package graphsim_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hrsync/hrsync/internal/graphsim"
)

// testClock is a settable clock for Options.Now.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock {
	return &testClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// seedFile writes st as a seed file.
func seedFile(t *testing.T, st graphsim.State) string {
	t.Helper()
	data, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "seed.json")
	writeFile(t, p, string(data))
	return p
}

// values returns the "value" array of a collection response.
func values(t *testing.T, r rawResp) []map[string]any {
	t.Helper()
	vs, ok := r.obj["value"].([]any)
	if !ok {
		t.Fatalf("no value array in %d %s", r.status, r.body)
	}
	out := make([]map[string]any, len(vs))
	for i, v := range vs {
		out[i], _ = v.(map[string]any)
	}
	return out
}

// ids returns the id of every object of a collection response.
func ids(t *testing.T, r rawResp) []string {
	t.Helper()
	var out []string
	for _, v := range values(t, r) {
		id, _ := v["id"].(string)
		out = append(out, id)
	}
	return out
}

func TestHTTPEmployeeLeaveDateTime(t *testing.T) {
	_, base := startSim(t, graphsim.Options{})
	id := mustCreate(t, base, "leaver@contoso.com", map[string]any{"employeeLeaveDateTime": "2026-03-31T17:00:00+02:00"})
	first := call(t, http.MethodGet, base+"/v1.0/users/delta?$select=employeeLeaveDateTime", nil, nil)
	for first.obj["@odata.nextLink"] != nil {
		first = call(t, http.MethodGet, first.obj["@odata.nextLink"].(string), nil, nil)
	}
	deltaLink, _ := first.obj["@odata.deltaLink"].(string)

	steps := []struct {
		name  string
		patch any // nil: read only
		want  any // the value read back (nil = null)
		code  string
	}{
		{"created, normalised to UTC", nil, "2026-03-31T15:00:00Z", ""},
		{"patched", map[string]any{"employeeLeaveDateTime": "2026-06-30T00:00:00Z"}, "2026-06-30T00:00:00Z", ""},
		{"not a date", map[string]any{"employeeLeaveDateTime": "soon"}, "2026-06-30T00:00:00Z", "Request_BadRequest"},
		{"null clears", map[string]any{"employeeLeaveDateTime": nil}, nil, ""},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.patch != nil {
				r := call(t, http.MethodPatch, base+"/v1.0/users/"+id, st.patch, nil)
				if (st.code == "") != (r.status == http.StatusNoContent) || (st.code != "" && r.errCode() != st.code) {
					t.Fatalf("patch: %d %s", r.status, r.body)
				}
			}
			r := call(t, http.MethodGet, base+"/v1.0/users/"+id+"?$select=id,employeeLeaveDateTime", nil, nil)
			if got, ok := r.obj["employeeLeaveDateTime"]; !ok || got != st.want {
				t.Errorf("employeeLeaveDateTime = %v (present %v), want %v", got, ok, st.want)
			}
			r = call(t, http.MethodGet, base+"/v1.0/users?$filter="+url.QueryEscape("userPrincipalName eq 'leaver@contoso.com'")+
				"&$select=employeeLeaveDateTime", nil, nil)
			if vs := values(t, r); len(vs) != 1 || vs[0]["employeeLeaveDateTime"] != st.want {
				t.Errorf("list = %s", r.body)
			}
		})
	}
	// The change round reports the user with the property (now null).
	r := call(t, http.MethodGet, deltaLink, nil, nil)
	vs := values(t, r)
	if len(vs) != 1 || vs[0]["id"] != id {
		t.Fatalf("delta = %s", r.body)
	}
	if v, ok := vs[0]["employeeLeaveDateTime"]; !ok || v != nil {
		t.Errorf("delta employeeLeaveDateTime = %v (present %v)", v, ok)
	}
}

func TestHTTPSoftDeleteAndRestore(t *testing.T) {
	clk := newTestClock()
	seed := seedFile(t, graphsim.State{
		Domains: []string{"contoso.com"},
		Users: []graphsim.User{
			{ID: "00000000-0000-0000-0000-0000000000b0", AccountEnabled: true, DisplayName: "Boss", UserPrincipalName: "boss@contoso.com", MailNickname: "boss"},
			{ID: "00000000-0000-0000-0000-0000000000a1", AccountEnabled: true, DisplayName: "Ann", UserPrincipalName: "ann@contoso.com",
				MailNickname: "ann", Mail: "ann@contoso.com", Manager: "00000000-0000-0000-0000-0000000000b0"},
			{ID: "00000000-0000-0000-0000-0000000000a2", AccountEnabled: true, DisplayName: "Bob", UserPrincipalName: "bob@contoso.com", MailNickname: "bob"},
			{ID: "00000000-0000-0000-0000-0000000000a3", AccountEnabled: true, DisplayName: "Cid", UserPrincipalName: "cid@contoso.com", MailNickname: "cid"},
		},
		Groups: []graphsim.Group{{ID: "00000000-0000-0000-0000-00000000000a", DisplayName: "Staff", SecurityEnabled: true,
			Members: []string{"00000000-0000-0000-0000-0000000000a1", "00000000-0000-0000-0000-0000000000a2"}}},
	})
	srv, base := startSim(t, graphsim.Options{SeedPath: seed, Now: clk.Now})
	const ann, bob, cid = "00000000-0000-0000-0000-0000000000a1", "00000000-0000-0000-0000-0000000000a2", "00000000-0000-0000-0000-0000000000a3"
	const group = "00000000-0000-0000-0000-00000000000a"
	deleted := base + "/v1.0/directory/deletedItems/"

	for _, id := range []string{ann, bob, cid} {
		if r := call(t, http.MethodDelete, base+"/v1.0/users/"+id, nil, nil); r.status != http.StatusNoContent {
			t.Fatalf("delete %s: %d %s", id, r.status, r.body)
		}
		clk.Advance(time.Minute)
	}
	if r := call(t, http.MethodGet, base+"/v1.0/users/"+ann, nil, nil); r.status != http.StatusNotFound {
		t.Errorf("deleted user still readable: %d", r.status)
	}
	if r := call(t, http.MethodGet, base+"/v1.0/groups/"+group+"/members", nil, nil); len(values(t, r)) != 0 {
		t.Errorf("deleted users still listed as members: %s", r.body)
	}

	t.Run("list and get", func(t *testing.T) {
		tests := []struct {
			name, query string
			hdr         map[string]string
			status      int
			want        []string
		}{
			{"all, deletion order", "microsoft.graph.user", nil, 200, []string{ann, bob, cid}},
			{"sdk alias", "graph.user?$select=id", nil, 200, []string{ann, bob, cid}},
			{"filter", "microsoft.graph.user?$filter=" + url.QueryEscape("startsWith(displayName,'b')"), nil, 200, []string{bob}},
			{"count", "microsoft.graph.user?$count=true&$filter=" + url.QueryEscape("displayName ne 'Bob'"),
				map[string]string{"ConsistencyLevel": "eventual"}, 200, []string{ann, cid}},
			{"top too big", "microsoft.graph.user?$top=1000", nil, 400, nil},
			{"expand", "microsoft.graph.user?$expand=manager", nil, 501, nil},
			{"no cast", "", nil, 400, nil},
			{"other cast", "microsoft.graph.group", nil, 501, nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := call(t, http.MethodGet, strings.TrimSuffix(deleted+tc.query, "/"), nil, tc.hdr)
				if r.status != tc.status {
					t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
				}
				if tc.status == 200 && strings.Join(ids(t, r), ",") != strings.Join(tc.want, ",") {
					t.Errorf("ids = %v, want %v", ids(t, r), tc.want)
				}
			})
		}
		// Without $select: the default properties and deletedDateTime; the
		// userPrincipalName with the id (without dashes) in front, as Entra
		// shows it.
		const annDeleted = "000000000000000000000000000000a1ann@contoso.com"
		r := call(t, http.MethodGet, deleted+"microsoft.graph.user", nil, nil)
		if v := values(t, r)[0]; v["deletedDateTime"] != "2026-03-02T09:00:00Z" || v["userPrincipalName"] != annDeleted {
			t.Errorf("first deleted user = %v", v)
		}
		r = call(t, http.MethodGet, deleted+ann+"?$select=id,userPrincipalName", nil, nil)
		if r.status != 200 || r.obj["userPrincipalName"] != annDeleted {
			t.Errorf("get deleted item: %d %s", r.status, r.body)
		}
		// $filter sees the prefixed form.
		for q, want := range map[string]string{
			"userPrincipalName eq '" + annDeleted + "'":    ann,
			"userPrincipalName eq 'ann@contoso.com'":       "",
			"startsWith(userPrincipalName,'000000000000')": ann + "," + bob + "," + cid,
		} {
			r := call(t, http.MethodGet, deleted+"microsoft.graph.user?$select=id&$filter="+url.QueryEscape(q), nil, nil)
			if got := strings.Join(ids(t, r), ","); got != want {
				t.Errorf("filter %s: ids %q, want %q", q, got, want)
			}
		}
		// The state keeps the original.
		if snap := srv.Snapshot(); snap.DeletedUsers[0].UserPrincipalName != "ann@contoso.com" {
			t.Errorf("stored deleted UPN = %q", snap.DeletedUsers[0].UserPrincipalName)
		}
		// Paging with $top.
		var got []string
		next := deleted + "microsoft.graph.user?$top=2&$select=id,deletedDateTime"
		for pages := 0; next != ""; pages++ {
			if pages > 3 {
				t.Fatal("paging does not end")
			}
			r := call(t, http.MethodGet, next, nil, nil)
			got = append(got, ids(t, r)...)
			next, _ = r.obj["@odata.nextLink"].(string)
		}
		if strings.Join(got, ",") != strings.Join([]string{ann, bob, cid}, ",") {
			t.Errorf("paged ids = %v", got)
		}
		r = call(t, http.MethodGet, deleted+bob+"?$select=id,deletedDateTime", nil, nil)
		if r.status != 200 || r.obj["@odata.type"] != "#microsoft.graph.user" || r.obj["deletedDateTime"] != "2026-03-02T09:01:00Z" {
			t.Errorf("get deleted item: %d %s", r.status, r.body)
		}
		if r := call(t, http.MethodGet, deleted+"00000000-0000-0000-0000-0000000000b0", nil, nil); r.status != 404 {
			t.Errorf("get a live user as deleted item: %d", r.status)
		}
	})

	t.Run("restore", func(t *testing.T) {
		r := call(t, http.MethodPost, deleted+ann+"/restore", nil, nil)
		if r.status != 200 || r.obj["id"] != ann || r.obj["@odata.type"] != "#microsoft.graph.user" || r.obj["userPrincipalName"] != "ann@contoso.com" {
			t.Fatalf("restore: %d %s", r.status, r.body)
		}
		if r := call(t, http.MethodGet, base+"/v1.0/users/ann@contoso.com?$select=id", nil, nil); r.status != 200 || r.obj["id"] != ann {
			t.Errorf("restored user by its original UPN: %d %s", r.status, r.body)
		}
		r = call(t, http.MethodGet, base+"/v1.0/users/"+ann+"?$select=id,deletedDateTime&$expand=manager($select=id)", nil, nil)
		if r.status != 200 || r.obj["deletedDateTime"] != nil {
			t.Fatalf("restored user: %d %s", r.status, r.body)
		}
		if m, _ := r.obj["manager"].(map[string]any); m["id"] != "00000000-0000-0000-0000-0000000000b0" {
			t.Errorf("manager not restored: %s", r.body)
		}
		r = call(t, http.MethodGet, base+"/v1.0/groups/"+group+"/members/microsoft.graph.user?$select=id", nil, nil)
		if got := ids(t, r); len(got) != 1 || got[0] != ann {
			t.Errorf("members after restore = %v", got)
		}
		// Back in its place in the paging order (after boss).
		r = call(t, http.MethodGet, base+"/v1.0/users?$select=id", nil, nil)
		if got := ids(t, r); strings.Join(got, ",") != "00000000-0000-0000-0000-0000000000b0,"+ann {
			t.Errorf("users = %v", got)
		}
		if r := call(t, http.MethodPost, deleted+ann+"/restore", nil, nil); r.status != 404 || r.errCode() != "Request_ResourceNotFound" {
			t.Errorf("restore a live user: %d %s", r.status, r.body)
		}

		// Bob's name is taken meanwhile: the restore fails like a create.
		mustCreate(t, base, "bob@contoso.com", nil)
		r = call(t, http.MethodPost, deleted+bob+"/restore", map[string]any{}, nil)
		if r.status != 400 || r.errMessage() != "Another object with the same value for property userPrincipalName already exists." {
			t.Errorf("restore over a taken UPN: %d %s", r.status, r.body)
		}
		r = call(t, http.MethodPost, deleted+bob+"/restore", map[string]any{"newUserPrincipalName": "bob2@contoso.com"}, nil)
		if r.status != 200 || r.obj["userPrincipalName"] != "bob2@contoso.com" {
			t.Errorf("restore under a new UPN: %d %s", r.status, r.body)
		}
	})

	t.Run("permanent delete", func(t *testing.T) {
		if r := call(t, http.MethodDelete, deleted+cid, nil, nil); r.status != http.StatusNoContent {
			t.Fatalf("permanent delete: %d %s", r.status, r.body)
		}
		for _, m := range []string{http.MethodGet, http.MethodDelete} {
			if r := call(t, m, deleted+cid, nil, nil); r.status != 404 {
				t.Errorf("%s after permanent delete: %d", m, r.status)
			}
		}
		if r := call(t, http.MethodPost, deleted+cid+"/restore", nil, nil); r.status != 404 {
			t.Errorf("restore after permanent delete: %d", r.status)
		}
	})

	snap := srv.Snapshot()
	if len(snap.DeletedUsers) != 0 || len(snap.Users) != 4 {
		t.Errorf("snapshot: %d users, %d deleted", len(snap.Users), len(snap.DeletedUsers))
	}
	if st := srv.Stats(); st.Requests["POST /directory/deletedItems/{id}/restore"] != 5 || st.Requests["DELETE /directory/deletedItems/{id}"] != 2 {
		t.Errorf("requests = %v", st.Requests)
	}
}

func TestDeletedUsersArePurgedAfter30Days(t *testing.T) {
	clk := newTestClock()
	now := clk.Now()
	const sku = "6fd2c87f-b296-42f0-b197-1e91e994b900"
	seed := seedFile(t, graphsim.State{
		Domains: []string{"contoso.com"},
		DeletedUsers: []graphsim.User{
			{ID: "00000000-0000-0000-0000-000000000031", DisplayName: "Old", UserPrincipalName: "old@contoso.com",
				DeletedDateTime: now.Add(-31 * 24 * time.Hour), AssignedLicenses: []graphsim.AssignedLicense{{SkuID: sku}}},
			{ID: "00000000-0000-0000-0000-000000000029", DisplayName: "Recent", UserPrincipalName: "recent@contoso.com",
				DeletedDateTime: now.Add(-29 * 24 * time.Hour)},
			{ID: "00000000-0000-0000-0000-000000000000", DisplayName: "Undated", UserPrincipalName: "undated@contoso.com"},
		},
		Groups:         []graphsim.Group{{ID: "00000000-0000-0000-0000-00000000000a", DisplayName: "G", Members: []string{"00000000-0000-0000-0000-000000000031"}}},
		SubscribedSkus: []graphsim.SubscribedSku{{SkuID: sku, SkuPartNumber: "ENTERPRISEPACK", PrepaidUnits: graphsim.PrepaidUnits{Enabled: 5}}},
	})
	srv, base := startSim(t, graphsim.Options{SeedPath: seed, Now: clk.Now})
	list := func() []string {
		return ids(t, call(t, http.MethodGet, base+"/v1.0/directory/deletedItems/microsoft.graph.user?$select=id", nil, nil))
	}
	tests := []struct {
		advance time.Duration
		listed  []string
		gone    string
	}{
		{0, []string{"00000000-0000-0000-0000-000000000029", "00000000-0000-0000-0000-000000000000"}, "00000000-0000-0000-0000-000000000031"},
		{2 * 24 * time.Hour, []string{"00000000-0000-0000-0000-000000000000"}, "00000000-0000-0000-0000-000000000029"},
		{29 * 24 * time.Hour, nil, "00000000-0000-0000-0000-000000000000"},
	}
	for _, tc := range tests {
		clk.Advance(tc.advance)
		if got := list(); strings.Join(got, ",") != strings.Join(tc.listed, ",") {
			t.Errorf("after %v: listed %v, want %v", tc.advance, got, tc.listed)
		}
		if r := call(t, http.MethodPost, base+"/v1.0/directory/deletedItems/"+tc.gone+"/restore", nil, nil); r.status != 404 {
			t.Errorf("restore purged %s: %d %s", tc.gone, r.status, r.body)
		}
	}
	snap := srv.Snapshot()
	if len(snap.DeletedUsers) != 0 || snap.Groups[0].Members != nil || snap.SubscribedSkus[0].ConsumedUnits != 0 {
		t.Errorf("after purge: deleted %v, members %v, consumed %d", snap.DeletedUsers, snap.Groups[0].Members, snap.SubscribedSkus[0].ConsumedUnits)
	}
}

func TestDeltaReportsDeleteRestoreAndPurge(t *testing.T) {
	_, base := startSim(t, graphsim.Options{})
	id := mustCreate(t, base, "d@contoso.com", nil)
	link := func(r rawResp) string {
		for r.obj["@odata.nextLink"] != nil {
			r = call(t, http.MethodGet, r.obj["@odata.nextLink"].(string), nil, nil)
		}
		return r.obj["@odata.deltaLink"].(string)
	}
	dl := link(call(t, http.MethodGet, base+"/v1.0/users/delta?$select=displayName", nil, nil))
	steps := []struct {
		method, path string
		want         string // the removed reason, or "" for the user itself
	}{
		{http.MethodDelete, "/v1.0/users/" + id, "changed"},
		{http.MethodPost, "/v1.0/directory/deletedItems/" + id + "/restore", ""},
		{http.MethodDelete, "/v1.0/users/" + id, "changed"},
		{http.MethodDelete, "/v1.0/directory/deletedItems/" + id, "deleted"},
	}
	for _, st := range steps {
		if r := call(t, st.method, base+st.path, nil, nil); r.status >= 300 {
			t.Fatalf("%s %s: %d %s", st.method, st.path, r.status, r.body)
		}
		r := call(t, http.MethodGet, dl, nil, nil)
		vs := values(t, r)
		if len(vs) != 1 || vs[0]["id"] != id {
			t.Fatalf("after %s %s: %s", st.method, st.path, r.body)
		}
		removed, _ := vs[0]["@removed"].(map[string]any)
		if reason, _ := removed["reason"].(string); reason != st.want || (st.want == "" && vs[0]["displayName"] == nil) {
			t.Errorf("after %s %s: %s", st.method, st.path, r.body)
		}
		dl = link(r)
	}
}

func TestStateRoundtripWithGroupsSkusAndDeletedUsers(t *testing.T) {
	clk := newTestClock()
	const sku = "6fd2c87f-b296-42f0-b197-1e91e994b900"
	seed := seedFile(t, graphsim.State{
		Domains: []string{"contoso.com"},
		Users: []graphsim.User{{ID: "00000000-0000-0000-0000-0000000000a1", AccountEnabled: true, DisplayName: "A",
			UserPrincipalName: "a@contoso.com", UsageLocation: "DE",
			AssignedLicenses: []graphsim.AssignedLicense{{SkuID: strings.ToUpper(sku), DisabledPlans: []string{"11b0131d-43c8-4bbb-b2c8-e80f9a50834a"}}}}},
		DeletedUsers: []graphsim.User{{ID: "00000000-0000-0000-0000-0000000000d1", DisplayName: "D", UserPrincipalName: "d@contoso.com"}},
		Groups: []graphsim.Group{{ID: "00000000-0000-0000-0000-00000000000A", DisplayName: "G", Description: "desc", MailEnabled: true,
			GroupTypes: []string{"Unified"}, Members: []string{"00000000-0000-0000-0000-0000000000a1", "00000000-0000-0000-0000-0000000000d1"}}},
		SubscribedSkus: []graphsim.SubscribedSku{{SkuID: sku, SkuPartNumber: "ENTERPRISEPACK", PrepaidUnits: graphsim.PrepaidUnits{Enabled: 3}}},
	})
	statePath := filepath.Join(t.TempDir(), "state.json")
	s, err := graphsim.New(graphsim.Options{SeedPath: seed, StatePath: statePath, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	before := s.Snapshot()
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	if got := before.DeletedUsers[0].DeletedDateTime; !got.Equal(clk.Now()) {
		t.Errorf("undated deleted user: deletedDateTime %v, want the load time", got)
	}
	if before.SubscribedSkus[0].ConsumedUnits != 1 || before.Groups[0].ID != "00000000-0000-0000-0000-00000000000a" {
		t.Errorf("normalised state = %+v", before)
	}
	s2, err := graphsim.New(graphsim.Options{StatePath: statePath, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	after := s2.Snapshot()
	b1, _ := json.Marshal(before)
	b2, _ := json.Marshal(after)
	if string(b1) != string(b2) {
		t.Errorf("state changed across save/load:\nbefore %s\nafter  %s", b1, b2)
	}
	if s2.Dirty() {
		t.Error("freshly loaded state is dirty")
	}
}

func TestLoadStateErrorsForGroupsSkusAndDeletedUsers(t *testing.T) {
	const sku = `"skuId": "6fd2c87f-b296-42f0-b197-1e91e994b900", "skuPartNumber": "E3", "prepaidUnits": {"enabled": 1}`
	tests := []struct {
		name, content string
		want          string
	}{
		{"group member unknown", `{"domains": ["contoso.com"], "users": [], "groups": [{"displayName": "G", "members": ["nobody"]}]}`, "member nobody"},
		{"group without name", `{"domains": [], "users": [], "groups": [{"id": "g1"}]}`, "displayName is missing"},
		{"group id taken by a user", `{"domains": ["contoso.com"], "users": [{"id": "x", "userPrincipalName": "a@contoso.com"}], "groups": [{"id": "X", "displayName": "G"}]}`, "already used by a user"},
		{"deleted id taken", `{"domains": ["contoso.com"], "users": [{"id": "x", "userPrincipalName": "a@contoso.com"}], "deletedUsers": [{"id": "x", "userPrincipalName": "b@contoso.com"}]}`, "already used by users[0]"},
		{"sku not a guid", `{"domains": [], "users": [], "subscribedSkus": [{"skuId": "e3", "skuPartNumber": "E3"}]}`, "is not a GUID"},
		{"unknown license", `{"domains": ["contoso.com"], "users": [{"userPrincipalName": "a@contoso.com", "assignedLicenses": [{"skuId": "6fd2c87f-b296-42f0-b197-1e91e994b901"}]}], "subscribedSkus": [{` + sku + `}]}`, "not in subscribedSkus"},
		{"consumed below holders", `{"domains": ["contoso.com"], "users": [{"userPrincipalName": "a@contoso.com", "assignedLicenses": [{"skuId": "6fd2c87f-b296-42f0-b197-1e91e994b900"}]},
			{"userPrincipalName": "b@contoso.com", "assignedLicenses": [{"skuId": "6fd2c87f-b296-42f0-b197-1e91e994b900"}]}], "subscribedSkus": [{` + sku + `, "consumedUnits": 1}]}`, "2 users hold"},
		{"unknown group field", `{"domains": [], "users": [], "groups": [{"displayName": "G", "owner": "x"}]}`, "owner"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "seed.json")
			writeFile(t, path, tc.content)
			_, err := graphsim.New(graphsim.Options{SeedPath: path})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("error %v, want it to mention %q and the file", err, tc.want)
			}
		})
	}
}
