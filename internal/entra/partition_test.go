package entra

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hrsync/hrsync/internal/config"
	"github.com/hrsync/hrsync/internal/directory"
	"github.com/hrsync/hrsync/internal/graphsim"
	"github.com/hrsync/hrsync/internal/identity"
)

// randomUPNTenant writes a tenant of n users whose userPrincipalNames use
// every character Entra allows, in both cases, with the manager set.
func randomUPNTenant(t *testing.T, n int, seed uint64) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'.-_!#^~"
	st := graphsim.State{Domains: []string{"contoso.com", "fabrikam.com"}}
	seen := map[string]bool{}
	for i := 1; i <= n; i++ {
		var local string
		for {
			b := make([]byte, 1+rng.IntN(8))
			for j := range b {
				b[j] = chars[rng.IntN(len(chars))]
			}
			local = string(b)
			if !seen[strings.ToLower(local)] && local[0] != '.' && local[len(local)-1] != '.' && !strings.Contains(local, "..") {
				break
			}
		}
		seen[strings.ToLower(local)] = true
		dom := "contoso.com"
		if rng.IntN(3) == 0 {
			dom = "fabrikam.com"
		}
		u := graphsim.User{ID: fmt.Sprintf("00000000-0000-0000-0000-%012d", i), AccountEnabled: true,
			DisplayName: local, UserPrincipalName: local + "@" + dom, MailNickname: fmt.Sprintf("m%d", i),
			EmployeeID: fmt.Sprintf("e%d", i)}
		if i > 1 {
			u.Manager = fmt.Sprintf("00000000-0000-0000-0000-%012d", 1+rng.IntN(i-1))
		}
		st.Users = append(st.Users, u)
	}
	path := t.TempDir() + "/seed.json"
	data, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// A partitioned read returns exactly the users (and managers) of a
// sequential read, whatever the boundaries: from a sample, from an earlier
// read, from random strings, none at all.
func TestPartitionedReadMatchesTheSequentialRead(t *testing.T) {
	for _, n := range []int{0, 1, 150, 2500, 8000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			c, srv := startSim(t, graphsim.Options{SeedPath: randomUPNTenant(t, n, uint64(n)), Token: testToken})
			ctx := context.Background()
			attrs := []string{"employeeId", "userPrincipalName"}
			want, err := c.ListUsers(ctx, attrs, true, nil)
			if err != nil {
				t.Fatal(err)
			}
			key := func(us []identity.User) []string {
				out := make([]string, len(us))
				for i, u := range us {
					out[i] = u.ID + "|" + u.Attrs.Get("employeeId") + "|" + u.ManagerID
				}
				slices.Sort(out)
				return out
			}
			rng := rand.New(rand.NewPCG(1, uint64(n)))
			var randomSample []string
			for range 40 {
				randomSample = append(randomSample, fmt.Sprintf("%c%c@x", 'A'+rng.IntN(60), 'a'+rng.IntN(26)))
			}
			for _, tc := range []struct {
				name   string
				sample []string
				mgr    bool
			}{{"sampled", nil, true}, {"sampled without manager", nil, false}, {"from users", upnsOf(want), true},
				{"random boundaries", randomSample, true}, {"one partition", []string{}, true}} {
				before := srv.Stats()
				var got []identity.User
				if tc.sample == nil {
					got, err = c.ReadUsers(ctx, attrs, tc.mgr, nil)
				} else {
					got, err = c.ReadUsersWithSample(ctx, attrs, tc.mgr, tc.sample, nil)
				}
				if err != nil {
					t.Fatalf("%s: %v", tc.name, err)
				}
				w := want
				if !tc.mgr {
					w = slices.Clone(want)
					for i := range w {
						w[i].ManagerID = ""
					}
				}
				if !slices.Equal(key(got), key(w)) {
					t.Fatalf("%s: %d users, want %d", tc.name, len(got), len(w))
				}
				after := srv.Stats()
				if n > 0 && after.Requests["POST /$batch"] == before.Requests["POST /$batch"] {
					t.Errorf("%s: no $batch request", tc.name)
				}
			}
		})
	}
}

func upnsOf(us []identity.User) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.Attrs.Get("userPrincipalName")
	}
	return out
}

// Every string falls in exactly one partition, checked with graphsim's own
// $filter evaluation: the ranges cover the whole key space.
func TestPartitionFiltersCoverEveryStringOnce(t *testing.T) {
	bounds := PartitionBounds([]string{"m@x", "B@x", "zz@y", "a'b@x", "~t@x", "0@x", "b.c@x", "M@x"}, 8)
	if !slices.IsSorted(bounds) || len(bounds) == 0 {
		t.Fatalf("bounds %q", bounds)
	}
	for _, b := range bounds {
		if strings.Contains(b, "@") {
			t.Fatalf("boundary %q holds an @", b)
		}
	}
	filters := PartitionFilters(bounds)
	c, _ := startSim(t, graphsim.Options{SeedPath: randomUPNTenant(t, 400, 3), Token: testToken})
	ctx := context.Background()
	all, err := c.ListUsers(ctx, []string{"userPrincipalName"}, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, f := range filters {
		ids, err := listWhere(ctx, c, f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, id := range ids {
			count[id]++
		}
	}
	for _, u := range all {
		if count[u.ID] != 1 {
			t.Errorf("%s is in %d partitions", u.Attrs.Get("userPrincipalName"), count[u.ID])
		}
	}
}

// listWhere lists the ids of the users a $filter matches.
func listWhere(ctx context.Context, c *Client, filter string) ([]string, error) {
	var ids []string
	next := c.graphURL + "/v1.0/users?$select=id&$top=999&$filter=" + queryEscape(filter)
	for next != "" {
		ri, err := c.gs.Users().WithUrl(next).ToGetRequestInformation(ctx, nil)
		if err != nil {
			return nil, err
		}
		var pg userPage
		if err := c.getJSON(ctx, ri, &pg); err != nil {
			return nil, err
		}
		for _, u := range pg.Value {
			ids = append(ids, u.ID)
		}
		next = pg.NextLink
	}
	return ids, nil
}

// failServer answers the sample and every $batch of a partitioned read the
// way mode says.
func failServer(t *testing.T, mode string) *Client {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodGet {
			_, _ = io.WriteString(w, `{"@odata.count":100000,"value":[{"userPrincipalName":"a@x"},{"userPrincipalName":"b@x"},{"userPrincipalName":"c@x"},{"userPrincipalName":"d@x"}]}`)
			return
		}
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				t.Error(err)
				return
			}
			body = zr
		}
		var in struct {
			Requests []struct {
				ID, URL string
			} `json:"requests"`
		}
		if err := json.NewDecoder(body).Decode(&in); err != nil {
			t.Error(err)
			return
		}
		var out []string
		for _, it := range in.Requests {
			user := fmt.Sprintf(`{"id":"%s"}`, strings.ReplaceAll(it.URL, `"`, ""))
			page := fmt.Sprintf(`{"value":[%s]}`, user)
			status := 200
			if strings.Contains(it.URL, "$count=true") {
				// The stratified sample is refused: the read falls back
				// to one page of userPrincipalNames (GET above).
				out = append(out, fmt.Sprintf(`{"id":%q,"status":400,"body":{"error":{"code":"Request_UnsupportedQuery","message":"no"}}}`, it.ID))
				continue
			}
			switch mode {
			case "overlap":
				page = `{"value":[{"id":"same"}]}`
			case "loop":
				next := "A"
				if strings.Contains(it.URL, "skiptoken=A") {
					next = "B"
				}
				page = fmt.Sprintf(`{"value":[%s],"@odata.nextLink":"%s/v1.0/users?$skiptoken=%s"}`, user, srv.URL, next)
				if next == "B" {
					page = fmt.Sprintf(`{"value":[],"@odata.nextLink":"%s/v1.0/users?$skiptoken=B"}`, srv.URL)
				}
				if strings.Contains(it.URL, "skiptoken=B") {
					page = fmt.Sprintf(`{"value":[],"@odata.nextLink":"%s/v1.0/users?$skiptoken=A"}`, srv.URL)
				}
			case "offhost":
				page = `{"value":[],"@odata.nextLink":"https://evil.example/v1.0/users?$skiptoken=A"}`
			case "forbidden":
				status, page = 403, `{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges"}}`
			case "unanswered":
				continue
			}
			out = append(out, fmt.Sprintf(`{"id":%q,"status":%d,"headers":{"Content-Type":"application/json"},"body":%s}`, it.ID, status, page))
		}
		fmt.Fprintf(w, `{"responses":[%s]}`, strings.Join(out, ","))
	}))
	t.Cleanup(srv.Close)
	c, err := New(Options{GraphURL: srv.URL, Auth: Auth{Method: config.AuthAccessToken, Token: "tok"}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A partitioned read fails closed: a user in two partitions, a partition
// whose pages loop, a nextLink to another host, a failed page and a page
// Graph left unanswered each fail the whole read.
func TestPartitionedReadFailsClosed(t *testing.T) {
	for mode, want := range map[string]string{
		"ok":         "",
		"overlap":    "partitions overlap",
		"loop":       ErrPagingLoop.Error(),
		"offhost":    "outside",
		"forbidden":  "403",
		"unanswered": "did not answer",
	} {
		t.Run(mode, func(t *testing.T) {
			c := failServer(t, mode)
			users, err := c.ReadUsers(context.Background(), []string{"displayName"}, true, nil)
			if want == "" {
				if err != nil || len(users) < 2 {
					t.Fatalf("users %d, err %v", len(users), err)
				}
				return
			}
			if err == nil || users != nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("users %v, err %v; want an error with %q", users, err, want)
			}
			if mode == "loop" && !errors.Is(err, ErrPagingLoop) {
				t.Errorf("err %v is not ErrPagingLoop", err)
			}
		})
	}
}

// A throttled page (429 inside the $batch) is fetched again after its
// Retry-After, and nothing is lost or read twice.
func TestPartitionedReadRetriesThrottledPages(t *testing.T) {
	var n atomic.Int64 // graphsim runs a batch's items side by side
	icept := func(_ context.Context, c graphsim.Call) *graphsim.Fault {
		if c.InBatch && c.Route == "GET /users" {
			if n.Add(1)%3 == 0 {
				return &graphsim.Fault{Status: 429, Code: "TooManyRequests", Message: "slow down", Header: http.Header{"Retry-After": {"0"}}}
			}
		}
		return nil
	}
	c, _ := newSim(t, 1200, icept)
	users, err := c.ReadUsers(context.Background(), []string{"employeeId"}, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, u := range users {
		ids[u.ID] = true
	}
	if len(users) != 1201 || len(ids) != 1201 || n.Load() < 3 {
		t.Fatalf("%d users (%d distinct) after %d page requests", len(users), len(ids), n.Load())
	}
}

// LatestDeltaLink returns a link that reads the changes made after it.
func TestLatestDeltaLink(t *testing.T) {
	c, _ := newSim(t, 30, nil)
	ctx := context.Background()
	link, err := c.LatestDeltaLink(ctx, []string{"employeeId", "department"}, true)
	if err != nil || !strings.Contains(link, "deltatoken") {
		t.Fatalf("link %q, err %v", link, err)
	}
	set := map[string]*string{"department": ptr("Ops")}
	if err := doOne(ctx, c, directory.Op{Kind: directory.OpUpdate, UserID: "00000000-0000-0000-0000-000000000005", Set: set}).Err; err != nil {
		t.Fatal(err)
	}
	ch, err := c.ReadChanges(ctx, []string{"employeeId", "department"}, true, link, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.Users) != 1 || ch.Users[0].User.Attrs.Get("department") != "Ops" || ch.Link == "" || ch.Link == link {
		t.Fatalf("changes %+v", ch)
	}
}
