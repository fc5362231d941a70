package graphsim

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock for Options.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// simResp is a response served through the handler.
type simResp struct {
	status int
	header http.Header
	body   string
}

// serve sends one request through s's handler with token "t".
func serve(t *testing.T, s *Server, method, target, body string) simResp {
	t.Helper()
	var req *http.Request
	if body != "" {
		req = httptest.NewRequest(method, "http://sim.test/v1.0"+target, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
	} else {
		req = httptest.NewRequest(method, "http://sim.test/v1.0"+target, nil)
	}
	req.Header.Set("Authorization", "Bearer t")
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	return simResp{status: rec.Code, header: rec.Header(), body: rec.Body.String()}
}

// newThrottled returns a server with one user (id returned) and the given
// throttle, on a fake clock.
func newThrottled(t *testing.T, th Throttle) (*Server, *fakeClock, string) {
	t.Helper()
	clk := newFakeClock()
	s, err := New(Options{Domains: []string{"contoso.com"}, Token: "t", Now: clk.Now, Throttle: &th, KeepBatchOrder: true})
	if err != nil {
		t.Fatal(err)
	}
	// Create the user without throttling (it still counts one unit).
	saved := s.throttle
	s.throttle = nil
	r := serve(t, s, http.MethodPost, "/users", userJSON("ada@contoso.com"))
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	s.throttle = saved
	var u struct{ ID string }
	if err := json.Unmarshal([]byte(r.body), &u); err != nil {
		t.Fatal(err)
	}
	return s, clk, u.ID
}

func userJSON(upn string) string {
	nick, _, _ := strings.Cut(upn, "@")
	return fmt.Sprintf(`{"accountEnabled":true,"displayName":"User %s","mailNickname":%q,"userPrincipalName":%q,`+
		`"passwordProfile":{"password":"Sup3r-Secret-Pw!"}}`, nick, nick, upn)
}

func TestThrottleCosts(t *testing.T) {
	s, _, id := newThrottled(t, Throttle{ResourceUnits: 1_000_000, Writes: 1_000_000})
	batch := `{"requests":[{"id":"1","method":"GET","url":"/users"},{"id":"2","method":"GET","url":"/users/` + id +
		`?$select=id"},{"id":"3","method":"PATCH","url":"/users/` + id + `","headers":{"Content-Type":"application/json"},"body":{"jobTitle":"B"}}]}`
	tests := []struct {
		method, target, body string
		cost                 int
		write                bool
	}{
		{"GET", "/users", "", 2, false},
		{"GET", "/users?$select=id,displayName", "", 1, false},
		{"GET", "/users?$expand=manager", "", 3, false},
		{"GET", "/users?$select=id&$expand=manager", "", 2, false},
		{"GET", "/users?$top=5", "", 1, false},
		{"GET", "/users?$top=5&$select=id", "", 1, false},
		{"GET", "/users?$top=999&$select=id", "", 1, false},
		{"GET", "/users/" + id, "", 1, false},
		{"GET", "/users/" + id + "?$select=id", "", 1, false},
		{"GET", "/users/" + id + "?$expand=manager", "", 2, false},
		{"GET", "/users/" + id + "/manager", "", 1, false},
		{"GET", "/users/delta", "", 2, false},
		{"GET", "/users/delta?$select=id", "", 1, false},
		{"GET", "/users/delta?$top=5", "", 2, false}, // $top is ignored on delta
		{"GET", "/organization", "", 1, false},
		{"PATCH", "/users/" + id, `{"jobTitle":"A"}`, 1, true},
		{"POST", "/users", userJSON("bob@contoso.com"), 1, true},
		{"PUT", "/users/" + id + "/manager/$ref", `{"@odata.id":"https://graph.microsoft.com/v1.0/users/bob@contoso.com"}`, 1, true},
		{"DELETE", "/users/bob@contoso.com", "", 1, true},
		{"POST", "/$batch", batch, 2 + 1 + 1, false}, // the items; the envelope is free
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.target, func(t *testing.T) {
			before := s.Stats()
			r := serve(t, s, tc.method, tc.target, tc.body)
			if r.status >= 400 && r.status != http.StatusNotFound { // a 404 (no manager) is charged too
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			after := s.Stats()
			if got := after.ResourceUnits - before.ResourceUnits; got != int64(tc.cost) {
				t.Errorf("charged %d units, want %d", got, tc.cost)
			}
			if tc.method == "POST" && tc.target == "/$batch" {
				if h := r.header.Get("x-ms-resource-unit"); h != "" {
					t.Errorf("the $batch envelope carries x-ms-resource-unit %s", h)
				}
				if !strings.Contains(r.body, `"x-ms-resource-unit":"2"`) || strings.Count(r.body, `"x-ms-resource-unit":"1"`) != 2 {
					t.Errorf("batch items lack their costs: %s", r.body)
				}
				if after.Writes-before.Writes != 1 {
					t.Errorf("writes %d, want 1 (the PATCH item)", after.Writes-before.Writes)
				}
				return
			}
			if h := r.header.Get("x-ms-resource-unit"); h != fmt.Sprint(tc.cost) {
				t.Errorf("x-ms-resource-unit = %q, want %d", h, tc.cost)
			}
			wantWrites := int64(0)
			if tc.write {
				wantWrites = 1
			}
			if got := after.Writes - before.Writes; got != wantWrites {
				t.Errorf("writes %d, want %d", got, wantWrites)
			}
		})
	}
}

func TestThrottleResourceUnitBucket(t *testing.T) {
	// 10 units per 10 s: one unit per second.
	s, clk, id := newThrottled(t, Throttle{ResourceUnits: 10, Window: 10 * time.Second})
	get := func() simResp { return serve(t, s, http.MethodGet, "/users/"+id, "") }
	for i := 1; i <= 10; i++ {
		r := get()
		if r.status != http.StatusOK {
			t.Fatalf("request %d: %d %s", i, r.status, r.body)
		}
		// Used share after request i is i/10; the header appears above 0.8.
		want := ""
		if i > 8 {
			want = fmt.Sprintf("%g", float64(i)/10)
		}
		if got := r.header.Get("x-ms-throttle-limit-percentage"); got != want {
			t.Errorf("request %d: x-ms-throttle-limit-percentage = %q, want %q", i, got, want)
		}
	}
	r := get()
	if r.status != http.StatusTooManyRequests {
		t.Fatalf("11th request: %d %s", r.status, r.body)
	}
	checks := map[string]string{
		"Retry-After":               "1",
		"x-ms-throttle-information": "ResourceUnitLimitExceeded",
		"x-ms-throttle-scope":       "Tenant_Application/ReadWrite/" + DefaultAppID + "/" + s.TenantID(),
		"x-ms-resource-unit":        "1",
	}
	for k, want := range checks {
		if got := r.header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if !strings.Contains(r.body, `"code":"Request_ThrottledTemporarily"`) {
		t.Errorf("429 body: %s", r.body)
	}

	// GET /users costs 2: with an empty bucket that is 2 s away.
	if r := serve(t, s, http.MethodGet, "/users", ""); r.status != 429 || r.header.Get("Retry-After") != "2" {
		t.Errorf("GET /users on empty bucket: %d Retry-After %q", r.status, r.header.Get("Retry-After"))
	}
	clk.Advance(time.Second)
	if r := serve(t, s, http.MethodGet, "/users", ""); r.status != 429 || r.header.Get("Retry-After") != "1" {
		t.Errorf("GET /users after 1 s: %d Retry-After %q", r.status, r.header.Get("Retry-After"))
	}
	clk.Advance(time.Second)
	if r := serve(t, s, http.MethodGet, "/users", ""); r.status != 200 {
		t.Errorf("GET /users after 2 s: %d %s", r.status, r.body)
	}

	// Refill never exceeds the capacity.
	clk.Advance(time.Hour)
	for i := 1; i <= 11; i++ {
		r := get()
		if (i <= 10) != (r.status == 200) {
			t.Fatalf("after a long pause, request %d: %d", i, r.status)
		}
	}

	// A throttled request changes nothing and charges nothing.
	before, snap := s.Stats(), s.Snapshot()
	for _, w := range []struct{ method, target, body string }{
		{"POST", "/users", userJSON("new@contoso.com")},
		{"PATCH", "/users/" + id, `{"jobTitle":"Changed"}`},
		{"DELETE", "/users/" + id, ""},
	} {
		if r := serve(t, s, w.method, w.target, w.body); r.status != 429 {
			t.Fatalf("%s %s: %d", w.method, w.target, r.status)
		}
	}
	after := s.Stats()
	if after.ResourceUnits != before.ResourceUnits || after.Writes != before.Writes || after.Throttled != before.Throttled+3 {
		t.Errorf("throttled writes changed counters: before %+v after %+v", before, after)
	}
	if got := s.Snapshot(); len(got.Users) != len(snap.Users) || got.Users[0].JobTitle != snap.Users[0].JobTitle {
		t.Errorf("a throttled write changed the tenant: %+v", got.Users)
	}
}

func TestThrottleWriteBucket(t *testing.T) {
	// 2 writes per 150 s: one write token every 75 s.
	s, clk, id := newThrottled(t, Throttle{ResourceUnits: 1000, Writes: 2, WriteWindow: 150 * time.Second})
	for i := range 2 {
		if r := serve(t, s, http.MethodPatch, "/users/"+id, `{"jobTitle":"T`+fmt.Sprint(i)+`"}`); r.status != 204 {
			t.Fatalf("write %d: %d %s", i, r.status, r.body)
		}
	}
	r := serve(t, s, http.MethodPatch, "/users/"+id, `{"jobTitle":"T3"}`)
	if r.status != 429 || r.header.Get("Retry-After") != "75" || r.header.Get("x-ms-throttle-information") != "WriteLimitExceeded" ||
		!strings.HasPrefix(r.header.Get("x-ms-throttle-scope"), "Tenant_Application/Write/") {
		t.Fatalf("third write: %d %v %s", r.status, r.header, r.body)
	}
	if got := r.header.Get("x-ms-throttle-limit-percentage"); got != "1" {
		t.Errorf("x-ms-throttle-limit-percentage on an empty write bucket = %q, want 1", got)
	}
	// Reads are not writes: they still pass.
	if r := serve(t, s, http.MethodGet, "/users/"+id, ""); r.status != 200 {
		t.Errorf("read while writes are throttled: %d", r.status)
	}
	clk.Advance(74 * time.Second)
	if r := serve(t, s, http.MethodPatch, "/users/"+id, `{"jobTitle":"T3"}`); r.status != 429 || r.header.Get("Retry-After") != "1" {
		t.Errorf("after 74 s: %d Retry-After %q", r.status, r.header.Get("Retry-After"))
	}
	clk.Advance(time.Second)
	if r := serve(t, s, http.MethodPatch, "/users/"+id, `{"jobTitle":"T3"}`); r.status != 204 {
		t.Errorf("after 75 s: %d %s", r.status, r.body)
	}
	if got := s.Snapshot().Users[0].JobTitle; got != "T3" {
		t.Errorf("jobTitle = %q", got)
	}
}

func TestThrottleBatchItems(t *testing.T) {
	s, _, id := newThrottled(t, Throttle{ResourceUnits: 3})
	var items []string
	for i := range 5 {
		items = append(items, fmt.Sprintf(`{"id":"%d","method":"GET","url":"/users/%s"}`, i, id))
	}
	r := serve(t, s, http.MethodPost, "/$batch", `{"requests":[`+strings.Join(items, ",")+`]}`)
	if r.status != 200 {
		t.Fatalf("batch: %d %s", r.status, r.body)
	}
	var env struct {
		Responses []struct {
			ID      string            `json:"id"`
			Status  int               `json:"status"`
			Headers map[string]string `json:"headers"`
			Body    json.RawMessage   `json:"body"`
		} `json:"responses"`
	}
	if err := json.Unmarshal([]byte(r.body), &env); err != nil {
		t.Fatal(err)
	}
	for i, it := range env.Responses {
		want := 200
		if i >= 3 {
			want = 429
		}
		if it.Status != want {
			t.Errorf("item %s: status %d, want %d", it.ID, it.Status, want)
		}
		// 3 units per 10 s refill 0.3 per second: a unit is 4 s away.
		if want == 429 && (it.Headers["Retry-After"] != "4" || it.Headers["x-ms-throttle-information"] != "ResourceUnitLimitExceeded" ||
			!strings.Contains(string(it.Body), "Request_ThrottledTemporarily")) {
			t.Errorf("throttled item %s: %+v %s", it.ID, it.Headers, it.Body)
		}
	}
	if st := s.Stats(); st.Throttled != 2 || st.ResourceUnits != 1+3 || st.BatchStatuses[429] != 2 {
		t.Errorf("stats = %+v", st)
	}
}

func TestThrottleOmitRetryAfter(t *testing.T) {
	s, _, id := newThrottled(t, Throttle{ResourceUnits: 1, OmitRetryAfter: true})
	serve(t, s, http.MethodGet, "/users/"+id, "")
	r := serve(t, s, http.MethodGet, "/users/"+id, "")
	if r.status != 429 {
		t.Fatalf("status %d", r.status)
	}
	if _, ok := r.header["Retry-After"]; ok {
		t.Errorf("Retry-After sent: %v", r.header)
	}
	if r.header.Get("x-ms-throttle-scope") == "" || r.header.Get("x-ms-throttle-information") == "" {
		t.Errorf("throttle headers missing: %v", r.header)
	}
}

func TestResourceUnitLimitByTenantSize(t *testing.T) {
	for users, want := range map[int]int{0: 3500, 49: 3500, 50: 5000, 500: 5000, 501: 8000, 500_000: 8000} {
		if got := resourceUnitLimit(users); got != want {
			t.Errorf("resourceUnitLimit(%d) = %d, want %d", users, got, want)
		}
	}
	// The default limit follows the tenant: 3,500 units with one user.
	s, _, id := newThrottled(t, Throttle{})
	n := 0
	for serve(t, s, http.MethodGet, "/users/"+id, "").status == 200 {
		n++
		if n > 10_000 {
			t.Fatal("never throttled")
		}
	}
	if n != 3500 {
		t.Errorf("%d requests passed, want 3500", n)
	}
}

func TestAppIDFromToken(t *testing.T) {
	jwt := func(claims string) string {
		enc := base64.RawURLEncoding.EncodeToString
		return enc([]byte(`{"alg":"none"}`)) + "." + enc([]byte(claims)) + ".sig"
	}
	for tok, want := range map[string]string{
		"opaque-token": DefaultAppID,
		jwt(`{"appid":"11111111-2222-3333-4444-555555555555"}`): "11111111-2222-3333-4444-555555555555",
		jwt(`{"azp":"AAAAAAAA-2222-3333-4444-555555555555"}`):   "aaaaaaaa-2222-3333-4444-555555555555",
		jwt(`{"sub":"x"}`):     DefaultAppID,
		"a.b.c":                DefaultAppID,
		jwt(`{"appid":"a/b"}`): DefaultAppID,
		jwt(`not json`):        DefaultAppID,
	} {
		if got := appIDFromToken(tok); got != want {
			t.Errorf("appIDFromToken(%q) = %q, want %q", tok, got, want)
		}
	}
}

// Group member and license writes take from the write bucket like any
// write, and a throttled one changes nothing.
func TestThrottleGroupAndLicenseWrites(t *testing.T) {
	const user, group, sku = "00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-00000000000a", "6fd2c87f-b296-42f0-b197-1e91e994b900"
	seed, err := json.Marshal(State{Domains: []string{"contoso.com"},
		Users:          []User{{ID: user, AccountEnabled: true, DisplayName: "A", UserPrincipalName: "a@contoso.com", MailNickname: "a", UsageLocation: "DE"}},
		Groups:         []Group{{ID: group, DisplayName: "G"}},
		SubscribedSkus: []SubscribedSku{{SkuID: sku, SkuPartNumber: "E3", PrepaidUnits: PrepaidUnits{Enabled: 5}}}})
	if err != nil {
		t.Fatal(err)
	}
	path := t.TempDir() + "/seed.json"
	if err := os.WriteFile(path, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	clk := newFakeClock()
	s, err := New(Options{SeedPath: path, Token: "t", Now: clk.Now, Throttle: &Throttle{ResourceUnits: 1000, Writes: 2}})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		method, target, body string
		status               int
	}{
		{"POST", "/groups/" + group + "/members/$ref", `{"@odata.id":"https://graph.microsoft.com/v1.0/directoryObjects/` + user + `"}`, 204},
		{"DELETE", "/groups/" + group + "/members/" + user + "/$ref", "", 204},
		{"POST", "/users/" + user + "/assignLicense", `{"addLicenses":[{"skuId":"` + sku + `"}],"removeLicenses":[]}`, 429},
		{"GET", "/groups/" + group + "/members", "", 200},
	}
	for _, st := range steps {
		r := serve(t, s, st.method, st.target, st.body)
		if r.status != st.status || r.header.Get("x-ms-resource-unit") == "" {
			t.Errorf("%s %s: %d %v %s", st.method, st.target, r.status, r.header, r.body)
		}
	}
	snap := s.Snapshot()
	if snap.Users[0].AssignedLicenses != nil || snap.SubscribedSkus[0].ConsumedUnits != 0 {
		t.Errorf("a throttled assignLicense changed the state: %+v", snap)
	}
	if st := s.Stats(); st.Writes != 2 || st.Throttled != 1 {
		t.Errorf("stats: writes %d, throttled %d", st.Writes, st.Throttled)
	}
}
