package graphsim_test

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/hrsync/hrsync/internal/graphsim"
	abstractions "github.com/microsoft/kiota-abstractions-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
)

// The hybrid tenant of these tests: a synced user (hSynced) whose synced
// manager is hMgr, a cloud-only user (hCloud), a user no longer synced
// (hFormer, onPremisesSyncEnabled false), a deleted synced user
// (hDeleted), a cloud group and a group synced from AD.
const (
	hSynced  = "00000000-0000-0000-0000-0000000000b1"
	hMgr     = "00000000-0000-0000-0000-0000000000b2"
	hCloud   = "00000000-0000-0000-0000-0000000000b3"
	hFormer  = "00000000-0000-0000-0000-0000000000b4"
	hDeleted = "00000000-0000-0000-0000-0000000000b5"
	hGCloud  = "00000000-0000-0000-0000-0000000000c1"
	hGSynced = "00000000-0000-0000-0000-0000000000c2"

	// masteredMsg is Graph's answer to a write AD masters.
	masteredMsg = "Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration."
)

// hybridSeedJSON is written by hand, as a sandbox user would: it checks the
// seed format's property names too.
const hybridSeedJSON = `{
  "domains": ["contoso.com"],
  "users": [
    {"id": "` + hMgr + `", "accountEnabled": true, "displayName": "Mia Manager", "userPrincipalName": "mia@contoso.com",
     "mailNickname": "mia", "onPremisesSyncEnabled": true, "onPremisesImmutableId": "bWlhLWd1aWQ="},
    {"id": "` + hSynced + `", "accountEnabled": true, "displayName": "Sam Smith", "givenName": "Sam", "surname": "Smith",
     "userPrincipalName": "sam@contoso.com", "mailNickname": "sam", "department": "Sales", "employeeId": "E1",
     "usageLocation": "DE", "manager": "` + hMgr + `",
     "onPremisesSyncEnabled": true, "onPremisesImmutableId": "c2FtLWd1aWQ=", "onPremisesSamAccountName": "ssmith",
     "onPremisesDistinguishedName": "CN=Sam Smith,OU=Staff,DC=corp,DC=contoso,DC=com",
     "onPremisesDomainName": "corp.contoso.com", "onPremisesLastSyncDateTime": "2025-01-02T03:04:05Z"},
    {"id": "` + hCloud + `", "accountEnabled": true, "displayName": "Cleo Cloud", "userPrincipalName": "cleo@contoso.com",
     "mailNickname": "cleo", "department": "Sales", "usageLocation": "DE"},
    {"id": "` + hFormer + `", "accountEnabled": true, "displayName": "Fred Former", "userPrincipalName": "fred@contoso.com",
     "mailNickname": "fred", "onPremisesSyncEnabled": false, "onPremisesImmutableId": "ZnJlZC1ndWlk"}
  ],
  "deletedUsers": [
    {"id": "` + hDeleted + `", "accountEnabled": true, "displayName": "Dora Deleted", "userPrincipalName": "dora@contoso.com",
     "mailNickname": "dora", "onPremisesSyncEnabled": true}
  ],
  "groups": [
    {"id": "` + hGCloud + `", "displayName": "Cloud team", "securityEnabled": true, "members": ["` + hCloud + `", "` + hSynced + `"]},
    {"id": "` + hGSynced + `", "displayName": "AD team", "securityEnabled": true, "members": ["` + hSynced + `"],
     "onPremisesSyncEnabled": true}
  ],
  "subscribedSkus": [{"skuId": "` + skuE3 + `", "skuPartNumber": "ENTERPRISEPACK", "prepaidUnits": {"enabled": 10}}]
}`

func hybridSeed(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "hybrid-seed.json")
	writeFile(t, p, hybridSeedJSON)
	return p
}

func dirRef(id string) map[string]any {
	return map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/" + id}
}

func TestHybridReads(t *testing.T) {
	_, base := startSim(t, graphsim.Options{SeedPath: hybridSeed(t)})
	adv := map[string]string{"ConsistencyLevel": "eventual"}
	onPrem := "onPremisesSyncEnabled,onPremisesImmutableId,onPremisesSamAccountName,onPremisesDistinguishedName," +
		"onPremisesDomainName,onPremisesLastSyncDateTime"
	filter := func(expr string) string { return "$filter=" + url.QueryEscape(expr) }
	tests := []struct {
		name, path string
		hdr        map[string]string
		status     int
		want       map[string]map[string]any // id -> expected properties (collections list exactly these ids)
		msg        string
	}{
		{"get synced user", "/users/" + hSynced + "?$select=id," + onPrem, nil, 200, map[string]map[string]any{hSynced: {
			"onPremisesSyncEnabled":       true,
			"onPremisesImmutableId":       "c2FtLWd1aWQ=",
			"onPremisesSamAccountName":    "ssmith",
			"onPremisesDistinguishedName": "CN=Sam Smith,OU=Staff,DC=corp,DC=contoso,DC=com",
			"onPremisesDomainName":        "corp.contoso.com",
			"onPremisesLastSyncDateTime":  "2025-01-02T03:04:05Z"}}, ""},
		{"cloud user: null", "/users/" + hCloud + "?$select=id," + onPrem, nil, 200, map[string]map[string]any{hCloud: {
			"onPremisesSyncEnabled": nil, "onPremisesImmutableId": nil, "onPremisesSamAccountName": nil,
			"onPremisesDistinguishedName": nil, "onPremisesDomainName": nil, "onPremisesLastSyncDateTime": nil}}, ""},
		{"no longer synced: false", "/users/" + hFormer + "?$select=id,onPremisesSyncEnabled", nil, 200,
			map[string]map[string]any{hFormer: {"onPremisesSyncEnabled": false}}, ""},
		{"list", "/users?$select=id,onPremisesSyncEnabled", nil, 200, map[string]map[string]any{
			hMgr: {"onPremisesSyncEnabled": true}, hSynced: {"onPremisesSyncEnabled": true},
			hCloud: {"onPremisesSyncEnabled": nil}, hFormer: {"onPremisesSyncEnabled": false}}, ""},
		{"filter eq true", "/users?$select=id&" + filter("onPremisesSyncEnabled eq true"), nil, 200,
			map[string]map[string]any{hMgr: {}, hSynced: {}}, ""},
		{"filter in", "/users?$select=id&" + filter("onPremisesSyncEnabled in (false)"), nil, 200,
			map[string]map[string]any{hFormer: {}}, ""},
		{"filter ne needs advanced", "/users?" + filter("onPremisesSyncEnabled ne true"), nil, 400, nil,
			"Filter operator 'NotEqualsMatch' is not supported."},
		{"filter ne true counts null", "/users?$count=true&$select=id&" + filter("onPremisesSyncEnabled ne true"), adv, 200,
			map[string]map[string]any{hCloud: {}, hFormer: {}}, ""},
		{"filter eq null", "/users?$count=true&$select=id&" + filter("onPremisesSyncEnabled eq null"), adv, 200,
			map[string]map[string]any{hCloud: {}}, ""},
		{"samAccountName needs advanced", "/users?" + filter("onPremisesSamAccountName eq 'ssmith'"), nil, 400, nil,
			"Unsupported or invalid query filter clause specified for property 'onPremisesSamAccountName' of resource 'User'."},
		{"samAccountName advanced", "/users?$count=true&$select=id&" + filter("startsWith(onPremisesSamAccountName,'SS')"), adv, 200,
			map[string]map[string]any{hSynced: {}}, ""},
		{"immutableId advanced", "/users?$count=true&$select=id&" + filter("onPremisesImmutableId eq 'bWlhLWd1aWQ='"), adv, 200,
			map[string]map[string]any{hMgr: {}}, ""},
		{"distinguishedName not filterable", "/users?$count=true&" + filter("onPremisesDistinguishedName eq 'x'"), adv, 400, nil,
			"Unsupported or invalid query filter clause specified for property 'onPremisesDistinguishedName' of resource 'User'."},
		{"delta", "/users/delta?$select=id,onPremisesSyncEnabled,onPremisesSamAccountName", nil, 200, map[string]map[string]any{
			hMgr: {"onPremisesSyncEnabled": true}, hSynced: {"onPremisesSyncEnabled": true, "onPremisesSamAccountName": "ssmith"},
			hCloud: {"onPremisesSyncEnabled": nil}, hFormer: {"onPremisesSyncEnabled": false}}, ""},
		{"deleted items", "/directory/deletedItems/microsoft.graph.user?$select=id,onPremisesSyncEnabled", nil, 200,
			map[string]map[string]any{hDeleted: {"onPremisesSyncEnabled": true}}, ""},
		{"groups", "/groups?$select=id,onPremisesSyncEnabled", nil, 200, map[string]map[string]any{
			hGCloud: {"onPremisesSyncEnabled": nil}, hGSynced: {"onPremisesSyncEnabled": true}}, ""},
		{"groups filter", "/groups?$select=id&" + filter("onPremisesSyncEnabled eq true"), nil, 200,
			map[string]map[string]any{hGSynced: {}}, ""},
		{"group get", "/groups/" + hGSynced + "?$select=id,onPremisesSyncEnabled", nil, 200,
			map[string]map[string]any{hGSynced: {"onPremisesSyncEnabled": true}}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, http.MethodGet, base+"/v1.0"+tc.path, nil, tc.hdr)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.status != 200 {
				if r.errCode() == "" || r.errMessage() != tc.msg {
					t.Errorf("error %s %q, want %q", r.errCode(), r.errMessage(), tc.msg)
				}
				return
			}
			objs := []map[string]any{r.obj}
			if _, ok := r.obj["value"]; ok {
				objs = values(t, r)
			}
			got := map[string]map[string]any{}
			for _, o := range objs {
				id, _ := o["id"].(string)
				got[id] = o
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d objects, want %v: %s", len(got), slices.Sorted(maps.Keys(tc.want)), r.body)
			}
			for id, props := range tc.want {
				o, ok := got[id]
				if !ok {
					t.Fatalf("%s missing from %s", id, r.body)
				}
				for k, v := range props {
					if gv, present := o[k]; !present || !reflect.DeepEqual(gv, v) {
						t.Errorf("%s: %s = %#v (present %v), want %#v", id, k, gv, present, v)
					}
				}
			}
		})
	}

	// Not in Graph's default property set.
	r := call(t, http.MethodGet, base+"/v1.0/users/"+hSynced, nil, nil)
	if _, ok := r.obj["onPremisesSyncEnabled"]; ok || r.status != 200 {
		t.Errorf("default properties include onPremisesSyncEnabled: %s", r.body)
	}
}

func TestHybridWrites(t *testing.T) {
	seed := hybridSeed(t)
	mastered := []struct {
		prop  string
		value any
	}{
		{"displayName", "Samuel Smith"}, {"givenName", "Samuel"}, {"surname", "Smyth"},
		{"userPrincipalName", "samuel@contoso.com"}, {"mailNickname", "samuel"}, {"mail", "samuel@contoso.com"},
		{"jobTitle", "Lead"}, {"department", "Ops"}, {"department", nil}, {"companyName", "Contoso"},
		{"officeLocation", "B1"}, {"employeeId", "E2"}, {"employeeType", "Contractor"},
		{"employeeHireDate", "2024-01-01T00:00:00Z"}, {"employeeLeaveDateTime", "2026-01-01T00:00:00Z"},
		{"employeeOrgData", map[string]any{"division": "R&D", "costCenter": "CC1"}},
		{"streetAddress", "1 Main St"}, {"city", "Berlin"}, {"state", "BE"}, {"postalCode", "10115"}, {"country", "DE"},
		{"mobilePhone", "+49 1"}, {"businessPhones", []string{"+49 2"}}, {"preferredLanguage", "de-DE"},
		{"onPremisesExtensionAttributes", map[string]any{"extensionAttribute1": "x"}},
		{"passwordProfile", map[string]any{"password": "Sup3r-Secret-Pw!", "forceChangePasswordNextSignIn": true}},
	}
	type row struct {
		name, method, path string
		body               any
		status             int
		msg                string                                // error message ("" for 2xx)
		check              func(t *testing.T, st graphsim.State) // after a 2xx
	}
	user := func(st graphsim.State, id string) graphsim.User {
		for _, u := range st.Users {
			if u.ID == id {
				return u
			}
		}
		t.Fatalf("no user %s", id)
		return graphsim.User{}
	}
	var rows []row
	for _, m := range mastered {
		rows = append(rows, row{name: "PATCH synced " + m.prop, method: "PATCH", path: "/users/" + hSynced,
			body: map[string]any{m.prop: m.value}, status: 400, msg: masteredMsg})
	}
	rows = append(rows, []row{
		{name: "PATCH synced by UPN", method: "PATCH", path: "/users/SAM@contoso.com", body: map[string]any{"jobTitle": "x"},
			status: 400, msg: masteredMsg},
		{name: "PATCH synced usageLocation", method: "PATCH", path: "/users/" + hSynced, body: map[string]any{"usageLocation": "FR"},
			status: 204, check: func(t *testing.T, st graphsim.State) {
				if u := user(st, hSynced); u.UsageLocation != "FR" {
					t.Errorf("usageLocation = %q", u.UsageLocation)
				}
			}},
		{name: "PATCH synced accountEnabled", method: "PATCH", path: "/users/" + hSynced, body: map[string]any{"accountEnabled": false},
			status: 204, check: func(t *testing.T, st graphsim.State) {
				if u := user(st, hSynced); u.AccountEnabled || !*u.OnPremisesSyncEnabled {
					t.Errorf("accountEnabled = %v, synced = %v", u.AccountEnabled, *u.OnPremisesSyncEnabled)
				}
			}},
		{name: "PATCH synced userType", method: "PATCH", path: "/users/" + hSynced, body: map[string]any{"userType": "Guest"}, status: 204},
		{name: "PATCH synced allowed and mastered: refused whole", method: "PATCH", path: "/users/" + hSynced,
			body: map[string]any{"usageLocation": "FR", "accountEnabled": false, "department": "Ops"}, status: 400, msg: masteredMsg},
		{name: "PATCH synced empty body", method: "PATCH", path: "/users/" + hSynced, body: map[string]any{}, status: 204},
		{name: "PATCH synced unknown property first", method: "PATCH", path: "/users/" + hSynced,
			body: map[string]any{"department": "Ops", "favouriteColour": "blue"}, status: 400, msg: "Invalid property 'favouriteColour'."},
		{name: "PATCH onPremisesSyncEnabled read-only", method: "PATCH", path: "/users/" + hSynced,
			body: map[string]any{"onPremisesSyncEnabled": false}, status: 400, msg: "Property 'onPremisesSyncEnabled' is read-only and cannot be set."},
		{name: "PATCH onPremisesSamAccountName read-only", method: "PATCH", path: "/users/" + hCloud,
			body: map[string]any{"onPremisesSamAccountName": "cc"}, status: 400, msg: "Property 'onPremisesSamAccountName' is read-only and cannot be set."},
		{name: "PATCH onPremisesImmutableId not emulated", method: "PATCH", path: "/users/" + hCloud,
			body: map[string]any{"onPremisesImmutableId": "Y2xlbw=="}, status: 400,
			msg: "Property 'onPremisesImmutableId' can be written in Graph, but graphsim does not emulate writing it: set it in the seed or state file."},
		{name: "POST user synced read-only", method: "POST", path: "/users",
			body: userBody("new@contoso.com", map[string]any{"onPremisesSyncEnabled": true}), status: 400,
			msg: "Property 'onPremisesSyncEnabled' is read-only and cannot be set."},
		{name: "PATCH cloud department", method: "PATCH", path: "/users/" + hCloud, body: map[string]any{"department": "Ops"},
			status: 204, check: func(t *testing.T, st graphsim.State) {
				if u := user(st, hCloud); u.Department != "Ops" {
					t.Errorf("department = %q", u.Department)
				}
			}},
		{name: "PATCH no longer synced", method: "PATCH", path: "/users/" + hFormer, body: map[string]any{"department": "Ops"}, status: 204},
		{name: "PATCH unknown user", method: "PATCH", path: "/users/" + userN(99), body: map[string]any{"department": "Ops"},
			status: 404, msg: "Resource '" + userN(99) + "' does not exist or one of its queried reference-property objects are not present."},

		{name: "PUT manager of synced user", method: "PUT", path: "/users/" + hSynced + "/manager/$ref", body: dirRef(hCloud),
			status: 400, msg: masteredMsg},
		{name: "DELETE manager of synced user", method: "DELETE", path: "/users/" + hSynced + "/manager/$ref", status: 400, msg: masteredMsg},
		{name: "DELETE missing manager of synced user", method: "DELETE", path: "/users/" + hMgr + "/manager/$ref", status: 400, msg: masteredMsg},
		{name: "PUT synced user as manager of cloud user", method: "PUT", path: "/users/" + hCloud + "/manager/$ref", body: dirRef(hSynced),
			status: 204, check: func(t *testing.T, st graphsim.State) {
				if u := user(st, hCloud); u.Manager != hSynced {
					t.Errorf("manager = %q", u.Manager)
				}
			}},

		{name: "DELETE synced user", method: "DELETE", path: "/users/" + hSynced, status: 400, msg: masteredMsg},
		{name: "DELETE no longer synced user", method: "DELETE", path: "/users/" + hFormer, status: 204,
			check: func(t *testing.T, st graphsim.State) {
				if len(st.DeletedUsers) != 2 {
					t.Errorf("deleted users = %d, want 2", len(st.DeletedUsers))
				}
			}},
		{name: "restore deleted synced user", method: "POST", path: "/directory/deletedItems/" + hDeleted + "/restore", body: map[string]any{},
			status: 200, check: func(t *testing.T, st graphsim.State) {
				if u := user(st, hDeleted); u.OnPremisesSyncEnabled == nil || !*u.OnPremisesSyncEnabled {
					t.Errorf("restored user lost onPremisesSyncEnabled: %+v", u)
				}
			}},
		{name: "purge deleted synced user", method: "DELETE", path: "/directory/deletedItems/" + hDeleted, status: 204},

		{name: "add synced user to cloud group", method: "POST", path: "/groups/" + hGCloud + "/members/$ref", body: dirRef(hMgr),
			status: 204, check: func(t *testing.T, st graphsim.State) {
				if !slices.Contains(st.Groups[0].Members, hMgr) {
					t.Errorf("cloud group members = %v", st.Groups[0].Members)
				}
			}},
		{name: "remove synced user from cloud group", method: "DELETE", path: "/groups/" + hGCloud + "/members/" + hSynced + "/$ref",
			status: 204, check: func(t *testing.T, st graphsim.State) {
				if slices.Contains(st.Groups[0].Members, hSynced) {
					t.Errorf("cloud group members = %v", st.Groups[0].Members)
				}
			}},
		{name: "add to synced group", method: "POST", path: "/groups/" + hGSynced + "/members/$ref", body: dirRef(hCloud),
			status: 400, msg: masteredMsg},
		{name: "remove from synced group", method: "DELETE", path: "/groups/" + hGSynced + "/members/" + hSynced + "/$ref",
			status: 400, msg: masteredMsg},
		{name: "remove from synced group by $id", method: "DELETE",
			path:   "/groups/" + hGSynced + "/members/$ref?$id=" + url.QueryEscape("https://graph.microsoft.com/v1.0/directoryObjects/"+hSynced),
			status: 400, msg: masteredMsg},

		{name: "assignLicense synced user", method: "POST", path: "/users/" + hSynced + "/assignLicense",
			body: map[string]any{"addLicenses": []any{map[string]any{"skuId": skuE3}}, "removeLicenses": []any{}}, status: 200,
			check: func(t *testing.T, st graphsim.State) {
				if u := user(st, hSynced); len(u.AssignedLicenses) != 1 {
					t.Errorf("licenses = %+v", u.AssignedLicenses)
				}
			}},
		{name: "revokeSignInSessions synced user", method: "POST", path: "/users/" + hSynced + "/revokeSignInSessions", status: 200,
			check: func(t *testing.T, st graphsim.State) {
				if u := user(st, hSynced); u.SignInSessionsValidFromDateTime.IsZero() {
					t.Error("sessions not revoked")
				}
			}},
	}...)

	for _, tc := range rows {
		t.Run(tc.name, func(t *testing.T) {
			srv, base := startSim(t, graphsim.Options{SeedPath: seed})
			before, _ := json.Marshal(srv.Snapshot())
			r := call(t, tc.method, base+"/v1.0"+tc.path, tc.body, nil)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			after := srv.Snapshot()
			afterJSON, _ := json.Marshal(after)
			if tc.status >= 400 {
				code := "Request_BadRequest"
				if tc.status == 404 {
					code = "Request_ResourceNotFound"
				}
				if r.errCode() != code || r.errMessage() != tc.msg {
					t.Errorf("error %s %q, want %s %q", r.errCode(), r.errMessage(), code, tc.msg)
				}
				if string(before) != string(afterJSON) {
					t.Errorf("a refused request changed the tenant:\nbefore %s\nafter  %s", before, afterJSON)
				}
				return
			}
			if tc.check != nil {
				tc.check(t, after)
			}
			if string(before) == string(afterJSON) && tc.body != nil && len(tc.body.(map[string]any)) > 0 {
				t.Error("an accepted write changed nothing")
			}
		})
	}
}

func TestHybridBatch(t *testing.T) {
	srv, base := startSim(t, graphsim.Options{SeedPath: hybridSeed(t), KeepBatchOrder: true})
	jsonHdr := map[string]string{"Content-Type": "application/json"}
	item := func(id, method, u string, body any, dependsOn ...string) map[string]any {
		it := map[string]any{"id": id, "method": method, "url": u}
		if body != nil {
			it["body"], it["headers"] = body, jsonHdr
		}
		if dependsOn != nil {
			it["dependsOn"] = dependsOn
		}
		return it
	}
	r, res := postBatch(t, base, batchBody(
		item("1", "PATCH", "/users/"+hSynced, map[string]any{"department": "Ops"}),
		item("2", "PATCH", "/users/"+hSynced, map[string]any{"usageLocation": "FR"}),
		item("3", "PATCH", "/users/"+hCloud, map[string]any{"department": "Ops"}),
		item("4", "PUT", "/users/"+hSynced+"/manager/$ref", dirRef(hCloud)),
		item("5", "DELETE", "/users/"+hSynced, nil),
		item("6", "POST", "/groups/"+hGSynced+"/members/$ref", dirRef(hCloud)),
		item("7", "POST", "/groups/"+hGCloud+"/members/$ref", dirRef(hMgr)),
		item("8", "GET", "/users/"+hSynced+"?$select=id", nil, "1"),
	))
	if r.status != 200 {
		t.Fatalf("batch: %d %s", r.status, r.body)
	}
	want := map[string]int{"1": 400, "2": 204, "3": 204, "4": 400, "5": 400, "6": 400, "7": 204, "8": 424}
	for _, it := range res {
		if it.Status != want[it.ID] {
			t.Errorf("item %s: %d, want %d: %s", it.ID, it.Status, want[it.ID], it.Body)
		}
		if it.Status == 400 {
			var e struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal(it.Body, &e); err != nil || e.Error.Code != "Request_BadRequest" || e.Error.Message != masteredMsg {
				t.Errorf("item %s body %s", it.ID, it.Body)
			}
		}
	}
	if len(res) != len(want) {
		t.Fatalf("%d responses, want %d", len(res), len(want))
	}
	st := srv.Snapshot()
	for _, u := range st.Users {
		switch u.ID {
		case hSynced:
			if u.Department != "Sales" || u.UsageLocation != "FR" || u.Manager != hMgr {
				t.Errorf("synced user after batch: department %q usageLocation %q manager %q", u.Department, u.UsageLocation, u.Manager)
			}
		case hCloud:
			if u.Department != "Ops" {
				t.Errorf("cloud user department %q", u.Department)
			}
		}
	}
	if stats := srv.Stats(); stats.Writes != 3 {
		t.Errorf("writes = %d, want 3", stats.Writes)
	}
}

func TestHybridStateRoundTrip(t *testing.T) {
	statePath := filepath.Join(t.TempDir(), "state.json")
	srv, base := startSim(t, graphsim.Options{SeedPath: hybridSeed(t), StatePath: statePath})
	// A change, so that the state is written.
	if r := call(t, http.MethodPatch, base+"/v1.0/users/"+hSynced, map[string]any{"usageLocation": "FR"}, nil); r.status != 204 {
		t.Fatalf("patch: %d %s", r.status, r.body)
	}
	if err := srv.Save(); err != nil {
		t.Fatal(err)
	}
	st, err := graphsim.LoadState(statePath)
	if err != nil {
		t.Fatal(err)
	}
	want := srv.Snapshot()
	if !reflect.DeepEqual(st.Users, want.Users) || !reflect.DeepEqual(st.Groups, want.Groups) ||
		!reflect.DeepEqual(st.DeletedUsers[0].OnPremisesSyncEnabled, want.DeletedUsers[0].OnPremisesSyncEnabled) {
		t.Fatalf("state file differs from the tenant:\nfile   %+v\ntenant %+v", st.Users, want.Users)
	}
	var synced graphsim.User
	for _, u := range st.Users {
		if u.ID == hSynced {
			synced = u
		}
	}
	if synced.OnPremisesSyncEnabled == nil || !*synced.OnPremisesSyncEnabled || synced.OnPremisesSamAccountName != "ssmith" ||
		synced.OnPremisesLastSyncDateTime.IsZero() || synced.UsageLocation != "FR" {
		t.Errorf("synced user read back: %+v", synced)
	}
	if st.Groups[1].OnPremisesSyncEnabled == nil || st.Groups[0].OnPremisesSyncEnabled != nil {
		t.Errorf("groups read back: %+v", st.Groups)
	}

	// Snapshot is a deep copy: changing it changes nothing.
	*want.Users[1].OnPremisesSyncEnabled = false
	if again := srv.Snapshot(); !*again.Users[1].OnPremisesSyncEnabled {
		t.Error("Snapshot shares onPremisesSyncEnabled with the tenant")
	}

	// The type is checked like every other field.
	bad := filepath.Join(t.TempDir(), "bad.json")
	writeFile(t, bad, `{"domains":["contoso.com"],"users":[{"userPrincipalName":"a@contoso.com","onPremisesSyncEnabled":"yes"}]}`)
	if _, err := graphsim.LoadState(bad); err == nil {
		t.Error("onPremisesSyncEnabled \"yes\" was accepted")
	}
}

// TestHybridSDK drives the hybrid tenant through the real msgraph-sdk-go
// client: it reads the on-premises properties and gets Graph's refusals as
// ODataErrors, directly and inside a $batch.
func TestHybridSDK(t *testing.T) {
	srv, base := startSim(t, graphsim.Options{SeedPath: hybridSeed(t)})
	client, adapter := newClient(t, base, testToken)
	ctx := context.Background()

	got, err := client.Users().ByUserId(hSynced).Get(ctx, &users.UserItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{Select: []string{"id", "onPremisesSyncEnabled",
			"onPremisesImmutableId", "onPremisesSamAccountName", "onPremisesDistinguishedName", "onPremisesDomainName",
			"onPremisesLastSyncDateTime"}}})
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	last := got.GetOnPremisesLastSyncDateTime()
	if !deref(got.GetOnPremisesSyncEnabled()) || deref(got.GetOnPremisesImmutableId()) != "c2FtLWd1aWQ=" ||
		deref(got.GetOnPremisesSamAccountName()) != "ssmith" || deref(got.GetOnPremisesDomainName()) != "corp.contoso.com" ||
		deref(got.GetOnPremisesDistinguishedName()) != "CN=Sam Smith,OU=Staff,DC=corp,DC=contoso,DC=com" ||
		last == nil || !last.Equal(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Errorf("synced user as the SDK reads it: %+v", got)
	}
	cloud, err := client.Users().ByUserId(hCloud).Get(ctx, &users.UserItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{Select: []string{"id", "onPremisesSyncEnabled"}}})
	if err != nil || cloud.GetOnPremisesSyncEnabled() != nil {
		t.Errorf("cloud user: %v, onPremisesSyncEnabled %v", err, cloud.GetOnPremisesSyncEnabled())
	}
	group, err := client.Groups().ByGroupId(hGSynced).Get(ctx, nil)
	if err != nil || !deref(group.GetOnPremisesSyncEnabled()) {
		t.Errorf("synced group: %v, %+v", err, group)
	}

	patch := func(set func(models.Userable)) error {
		u := models.NewUser()
		set(u)
		_, err := client.Users().ByUserId(hSynced).Patch(ctx, u, nil)
		return err
	}
	ref := func(id string) *models.ReferenceUpdate {
		r := models.NewReferenceUpdate()
		r.SetOdataId(ptr("https://graph.microsoft.com/v1.0/directoryObjects/" + id))
		return r
	}
	create := func(id string) *models.ReferenceCreate {
		r := models.NewReferenceCreate()
		r.SetOdataId(ptr("https://graph.microsoft.com/v1.0/directoryObjects/" + id))
		return r
	}
	tests := []struct {
		name    string
		do      func() error
		refused bool
	}{
		{"patch department", func() error { return patch(func(u models.Userable) { u.SetDepartment(ptr("Ops")) }) }, true},
		{"patch employeeHireDate", func() error {
			return patch(func(u models.Userable) { u.SetEmployeeHireDate(ptr(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))) })
		}, true},
		{"patch usageLocation and jobTitle", func() error {
			return patch(func(u models.Userable) { u.SetUsageLocation(ptr("FR")); u.SetJobTitle(ptr("Lead")) })
		}, true},
		{"put manager", func() error { return client.Users().ByUserId(hSynced).Manager().Ref().Put(ctx, ref(hCloud), nil) }, true},
		{"delete manager", func() error { return client.Users().ByUserId(hSynced).Manager().Ref().Delete(ctx, nil) }, true},
		{"delete user", func() error { return client.Users().ByUserId(hSynced).Delete(ctx, nil) }, true},
		{"add to synced group", func() error {
			return client.Groups().ByGroupId(hGSynced).Members().Ref().Post(ctx, create(hCloud), nil)
		}, true},
		{"remove from synced group", func() error {
			return client.Groups().ByGroupId(hGSynced).Members().ByDirectoryObjectId(hSynced).Ref().Delete(ctx, nil)
		}, true},
		{"patch usageLocation", func() error { return patch(func(u models.Userable) { u.SetUsageLocation(ptr("FR")) }) }, false},
		{"add synced user to cloud group", func() error {
			return client.Groups().ByGroupId(hGCloud).Members().Ref().Post(ctx, create(hMgr), nil)
		}, false},
		{"revoke sessions", func() error {
			_, err := client.Users().ByUserId(hSynced).RevokeSignInSessions().PostAsRevokeSignInSessionsPostResponse(ctx, nil)
			return err
		}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.do()
			if !tc.refused {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			status, code, msg, _ := odataErr(t, err)
			if status != 400 || code != "Request_BadRequest" || msg != masteredMsg {
				t.Errorf("got %d %s %q", status, code, msg)
			}
		})
	}
	if st := srv.Snapshot(); st.Users[1].Department != "Sales" || st.Users[1].UsageLocation != "FR" || st.Users[1].JobTitle != "" {
		t.Errorf("synced user after the SDK calls: %+v", st.Users[1])
	}

	// A $batch with a refused PATCH next to an accepted one.
	batch := msgraphcore.NewBatchRequest(adapter)
	add := func(info *abstractions.RequestInformation, err error) msgraphcore.BatchItem {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		item, err := batch.AddBatchRequestStep(*info)
		if err != nil {
			t.Fatal(err)
		}
		return item
	}
	refusedPatch := models.NewUser()
	refusedPatch.SetDisplayName(ptr("Samuel Smith"))
	acceptedPatch := models.NewUser()
	acceptedPatch.SetUsageLocation(ptr("AT"))
	cloudPatch := models.NewUser()
	cloudPatch.SetDisplayName(ptr("Cleo Cloud-Smith"))
	refused := add(client.Users().ByUserId(hSynced).ToPatchRequestInformation(ctx, refusedPatch, nil))
	accepted := add(client.Users().ByUserId(hSynced).ToPatchRequestInformation(ctx, acceptedPatch, nil))
	cloudOK := add(client.Users().ByUserId(hCloud).ToPatchRequestInformation(ctx, cloudPatch, nil))
	resp, err := batch.Send(ctx, adapter)
	if err != nil {
		t.Fatalf("send batch: %v", err)
	}
	codes := resp.GetStatusCodes()
	if codes[*refused.GetId()] != 400 || codes[*accepted.GetId()] != 204 || codes[*cloudOK.GetId()] != 204 {
		t.Errorf("batch statuses %v", codes)
	}
	item := resp.GetResponseById(*refused.GetId())
	var body struct {
		Error struct{ Code, Message string }
	}
	if item == nil {
		t.Fatal("no response for the refused item")
	}
	raw, _ := json.Marshal(item.GetBody())
	if json.Unmarshal(raw, &body) != nil || body.Error.Code != "Request_BadRequest" || body.Error.Message != masteredMsg {
		t.Errorf("refused item body: %+v", body)
	}
	st := srv.Snapshot()
	if st.Users[1].DisplayName != "Sam Smith" || st.Users[1].UsageLocation != "AT" || st.Users[2].DisplayName != "Cleo Cloud-Smith" {
		t.Errorf("after batch: synced %q %q, cloud %q", st.Users[1].DisplayName, st.Users[1].UsageLocation, st.Users[2].DisplayName)
	}
}
