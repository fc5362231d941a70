package graphsim_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/hrsync/hrsync/internal/graphsdk"
	"github.com/hrsync/hrsync/internal/graphsim"
)

// deltaUser is what a delta page said about one user.
type deltaUser struct {
	id, displayName, jobTitle string
	removed                   bool   // @removed
	manager                   string // manager@delta id
	managerRemoved            bool   // manager@delta entry with @removed
	hasManagerDelta           bool
}

// deltaRound follows a delta round from its first URL ("" = the initial
// request with sel) to the deltaLink, through the SDK. It returns the users,
// the number of pages and the deltaLink.
func deltaRound(t *testing.T, client *graphsdk.Client, first string, sel []string,
	hdr map[string]string) ([]deltaUser, int, string) {
	t.Helper()
	ctx := context.Background()
	cfg := &users.DeltaRequestBuilderGetRequestConfiguration{Headers: abstractions.NewRequestHeaders()}
	for k, v := range hdr {
		cfg.Headers.Add(k, v)
	}
	if first == "" {
		cfg.QueryParameters = &users.DeltaRequestBuilderGetQueryParameters{Select: sel}
	}
	var out []deltaUser
	pages := 0
	next := first
	for {
		b := client.Users().Delta()
		if next != "" {
			b = b.WithUrl(next)
		}
		resp, err := b.GetAsDeltaGetResponse(ctx, cfg)
		if err != nil {
			t.Fatalf("delta page %d (%s): %v", pages+1, next, err)
		}
		pages++
		for _, u := range resp.GetValue() {
			out = append(out, toDeltaUser(t, u))
		}
		if n := resp.GetOdataNextLink(); n != nil {
			if resp.GetOdataDeltaLink() != nil {
				t.Fatal("a page carries both nextLink and deltaLink")
			}
			next = *n
			cfg.QueryParameters = nil
			continue
		}
		d := resp.GetOdataDeltaLink()
		if d == nil {
			t.Fatalf("page %d has neither nextLink nor deltaLink", pages)
		}
		return out, pages, *d
	}
}

func toDeltaUser(t *testing.T, u models.Userable) deltaUser {
	t.Helper()
	du := deltaUser{id: deref(u.GetId()), displayName: deref(u.GetDisplayName()), jobTitle: deref(u.GetJobTitle())}
	ad := u.GetAdditionalData()
	if _, ok := ad["@removed"]; ok {
		du.removed = true
	}
	if md, ok := ad["manager@delta"]; ok {
		du.hasManagerDelta = true
		entries := rawSlice(t, md)
		if len(entries) != 1 {
			t.Fatalf("manager@delta of %s has %d entries: %#v", du.id, len(entries), md)
		}
		m := rawMap(t, entries[0])
		du.manager = rawString(t, m["id"])
		if typ := rawString(t, m["@odata.type"]); typ != "#microsoft.graph.user" {
			t.Errorf("manager@delta @odata.type = %q", typ)
		}
		_, du.managerRemoved = m["@removed"]
	}
	return du
}

// The SDK keeps unknown members as untyped nodes; these unwrap them.

func rawSlice(t *testing.T, v any) []any {
	t.Helper()
	switch x := v.(type) {
	case []any:
		return x
	case interface{ GetValue() []any }:
		return x.GetValue()
	}
	if n, ok := v.(interface{ GetValue() any }); ok {
		if s, ok := n.GetValue().([]any); ok {
			return s
		}
	}
	t.Fatalf("not an array: %#v", v)
	return nil
}

func rawMap(t *testing.T, v any) map[string]any {
	t.Helper()
	switch x := v.(type) {
	case map[string]any:
		return x
	case interface{ GetValue() map[string]any }:
		return x.GetValue()
	}
	if n, ok := v.(interface{ GetValue() any }); ok {
		if m, ok := n.GetValue().(map[string]any); ok {
			return m
		}
	}
	t.Fatalf("not an object: %#v", v)
	return nil
}

func rawString(t *testing.T, v any) string {
	t.Helper()
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case *string:
		return deref(x)
	case interface{ GetValue() *string }:
		return deref(x.GetValue())
	}
	if n, ok := v.(interface{ GetValue() any }); ok {
		return rawString(t, n.GetValue())
	}
	t.Fatalf("not a string: %#v", v)
	return ""
}

func byID(us []deltaUser) map[string]deltaUser {
	m := make(map[string]deltaUser, len(us))
	for _, u := range us {
		m[u.id] = u
	}
	return m
}

func TestSDKDelta(t *testing.T) {
	var mu sync.Mutex
	var paths []string
	srv, base := startSim(t, graphsim.Options{DeltaPageSize: 2,
		Interceptor: func(_ context.Context, c graphsim.Call) *graphsim.Fault {
			mu.Lock()
			defer mu.Unlock()
			if c.Route == "GET /users/delta" {
				paths = append(paths, c.Path)
			}
			return nil
		}})
	client, _ := newClient(t, base, testToken)
	ids := make([]string, 5)
	for i := range ids {
		ids[i] = mustCreate(t, base, upnN(i), map[string]any{"jobTitle": "Job " + fmt.Sprint(i)})
	}
	setManager := func(user, manager string) {
		t.Helper()
		r := call(t, http.MethodPut, base+"/v1.0/users/"+user+"/manager/$ref",
			map[string]any{"@odata.id": base + "/v1.0/users/" + manager}, nil)
		if r.status != http.StatusNoContent {
			t.Fatalf("set manager: %d %s", r.status, r.body)
		}
	}
	setManager(ids[1], ids[0])
	setManager(ids[2], ids[0])

	// Initial round: every user, pages of 2, manager@delta where set.
	got, pages, deltaLink := deltaRound(t, client, "", []string{"displayName", "jobTitle", "manager"}, nil)
	if len(got) != 5 || pages != 3 {
		t.Fatalf("initial round: %d users in %d pages, want 5 in 3", len(got), pages)
	}
	mu.Lock()
	if len(paths) == 0 || paths[0] != "/users/delta()" {
		t.Errorf("the SDK called %v; expected /users/delta()", paths)
	}
	mu.Unlock()
	m := byID(got)
	for i, id := range ids {
		u, ok := m[id]
		if !ok {
			t.Fatalf("user %d missing from the initial round", i)
		}
		if u.jobTitle != "Job "+fmt.Sprint(i) || u.removed {
			t.Errorf("user %d = %+v", i, u)
		}
		wantMgr := ""
		if i == 1 || i == 2 {
			wantMgr = ids[0]
		}
		if u.manager != wantMgr || u.hasManagerDelta != (wantMgr != "") {
			t.Errorf("user %d manager@delta = %q (present %v), want %q", i, u.manager, u.hasManagerDelta, wantMgr)
		}
	}
	if !strings.HasPrefix(deltaLink, base+"/v1.0/users/delta?$deltatoken=") {
		t.Errorf("deltaLink = %s", deltaLink)
	}

	// Nothing changed: the deltaLink returns nothing and a new deltaLink.
	got, _, again := deltaRound(t, client, deltaLink, nil, nil)
	if len(got) != 0 || again == "" {
		t.Errorf("unchanged tenant: %+v, deltaLink %q", got, again)
	}

	// Changes: update 3, delete 4, create 5, remove 2's manager.
	if r := call(t, http.MethodPatch, base+"/v1.0/users/"+ids[3], map[string]any{"jobTitle": "Changed"}, nil); r.status != 204 {
		t.Fatalf("patch: %d", r.status)
	}
	if r := call(t, http.MethodDelete, base+"/v1.0/users/"+ids[4], nil, nil); r.status != 204 {
		t.Fatalf("delete: %d", r.status)
	}
	newID := mustCreate(t, base, upnN(5), nil)
	if r := call(t, http.MethodDelete, base+"/v1.0/users/"+ids[2]+"/manager/$ref", nil, nil); r.status != 204 {
		t.Fatalf("remove manager: %d", r.status)
	}
	got, pages, deltaLink2 := deltaRound(t, client, deltaLink, nil, nil)
	m = byID(got)
	if len(got) != 4 || pages != 2 {
		t.Fatalf("change round: %d users in %d pages: %+v", len(got), pages, got)
	}
	if u := m[ids[3]]; u.jobTitle != "Changed" || u.displayName == "" || u.removed {
		t.Errorf("updated user = %+v (selected properties expected)", u)
	}
	if u := m[ids[4]]; !u.removed || u.displayName != "" {
		t.Errorf("deleted user = %+v, want only id and @removed", u)
	}
	if u := m[newID]; u.removed || u.displayName == "" {
		t.Errorf("created user = %+v", u)
	}
	if u := m[ids[2]]; !u.managerRemoved || u.manager != ids[0] {
		t.Errorf("user whose manager was removed = %+v", u)
	}

	// The old deltaLink still works (Graph keeps sync state for 7 days) and
	// the new one sees only later changes.
	if got, _, _ := deltaRound(t, client, deltaLink, nil, nil); len(got) != 4 {
		t.Errorf("old deltaLink replayed %d users, want 4", len(got))
	}
	setManager(ids[3], newID)
	got, _, _ = deltaRound(t, client, deltaLink2, nil, nil)
	if len(got) != 1 || got[0].id != ids[3] || got[0].manager != newID {
		t.Errorf("after setting a manager: %+v", got)
	}

	// A token this server never issued: 410 syncStateNotFound.
	bad := base + "/v1.0/users/delta?$deltatoken=bm90LWEtdG9rZW4"
	_, err := client.Users().Delta().WithUrl(bad).GetAsDeltaGetResponse(context.Background(), nil)
	if err == nil {
		t.Fatal("a garbled deltatoken was accepted")
	}
	status, code, _, _ := odataErr(t, err)
	if status != http.StatusGone || code != "syncStateNotFound" {
		t.Errorf("garbled token: %d %s", status, code)
	}

	// A token from another server process (a restart without delta state).
	_, otherBase := startSim(t, graphsim.Options{SeedPath: statePath(t, srv)})
	otherClient, _ := newClient(t, otherBase, testToken)
	moved := strings.Replace(deltaLink2, base, otherBase, 1)
	if _, err := otherClient.Users().Delta().WithUrl(moved).GetAsDeltaGetResponse(context.Background(), nil); err == nil {
		t.Error("a deltaLink from another server process was accepted")
	} else if status, _, _, _ := odataErr(t, err); status != http.StatusGone {
		t.Errorf("foreign token: %d", status)
	}
}

// statePath writes a snapshot of srv as a seed file.
func statePath(t *testing.T, srv *graphsim.Server) string {
	t.Helper()
	data, err := json.Marshal(srv.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "seed.json")
	writeFile(t, p, string(data))
	return p
}

func TestDeltaPagingOptions(t *testing.T) {
	_, base := startSim(t, graphsim.Options{})
	for i := range 450 {
		mustCreate(t, base, upnN(i), nil)
	}
	client, _ := newClient(t, base, testToken)
	count := func(r rawResp) int {
		v, _ := r.obj["value"].([]any)
		return len(v)
	}
	// Graph's default page is 200; $top is ignored.
	r := call(t, http.MethodGet, base+"/v1.0/users/delta?$top=5&$select=id", nil, nil)
	if r.status != 200 || count(r) != 200 {
		t.Errorf("first page: %d with %d users", r.status, count(r))
	}
	next, _ := r.obj["@odata.nextLink"].(string)
	if !strings.Contains(next, "$skiptoken=") || strings.Contains(next, "$select") {
		t.Errorf("nextLink = %s (the token should carry the query)", next)
	}
	// Prefer: odata.maxpagesize lowers the page, never raises it.
	r = call(t, http.MethodGet, base+"/v1.0/users/delta", nil, map[string]string{"Prefer": "odata.maxpagesize=50"})
	if count(r) != 50 || r.header.Get("Preference-Applied") != "odata.maxpagesize=50" {
		t.Errorf("maxpagesize=50: %d users, Preference-Applied %q", count(r), r.header.Get("Preference-Applied"))
	}
	r = call(t, http.MethodGet, base+"/v1.0/users/delta", nil, map[string]string{"Prefer": "odata.maxpagesize=500"})
	if count(r) != 200 || r.header.Get("Preference-Applied") != "" {
		t.Errorf("maxpagesize=500: %d users", count(r))
	}
	// Through the SDK with the preference on every page.
	got, pages, _ := deltaRound(t, client, "", []string{"id"}, map[string]string{"Prefer": "odata.maxpagesize=100"})
	if len(got) != 450 || pages != 5 {
		t.Errorf("SDK round: %d users in %d pages", len(got), pages)
	}
	ids := make([]string, len(got))
	for i, u := range got {
		ids[i] = u.id
	}
	sort.Strings(ids)
	if len(slices.Compact(ids)) != 450 {
		t.Error("the round returned duplicates")
	}

	// $deltatoken=latest: no users, a deltaLink for later changes.
	r = call(t, http.MethodGet, base+"/v1.0/users/delta?$deltatoken=latest&$select=displayName", nil, nil)
	latest, _ := r.obj["@odata.deltaLink"].(string)
	if r.status != 200 || count(r) != 0 || latest == "" {
		t.Fatalf("latest: %d %s", r.status, r.body)
	}
	id := mustCreate(t, base, "late@contoso.com", nil)
	r = call(t, http.MethodGet, latest, nil, nil)
	if v, _ := r.obj["value"].([]any); len(v) != 1 || v[0].(map[string]any)["id"] != id ||
		len(v[0].(map[string]any)) != 2 {
		t.Errorf("changes after latest: %s", r.body)
	}
}

func TestDeltaTokenExpires(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	_, base := startSim(t, graphsim.Options{Now: clock})
	mustCreate(t, base, "a@contoso.com", nil)
	r := call(t, http.MethodGet, base+"/v1.0/users/delta", nil, nil)
	link, _ := r.obj["@odata.deltaLink"].(string)
	mu.Lock()
	now = now.Add(7*24*time.Hour - time.Second)
	mu.Unlock()
	if r := call(t, http.MethodGet, link, nil, nil); r.status != 200 {
		t.Errorf("6.99 days old token: %d %s", r.status, r.body)
	}
	mu.Lock()
	now = now.Add(2 * time.Second)
	mu.Unlock()
	if r := call(t, http.MethodGet, link, nil, nil); r.status != http.StatusGone || r.errCode() != "syncStateNotFound" {
		t.Errorf("7 days old token: %d %s", r.status, r.body)
	}
}
