package entra

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hrsync/hrsync/internal/config"
	"github.com/hrsync/hrsync/internal/directory"
	"github.com/hrsync/hrsync/internal/graphsim"
	"github.com/hrsync/hrsync/internal/identity"
)

const testToken = "test-token-value"

// newSim starts graphsim on loopback with n users k0001..kNNNN (each managed
// by k0001) plus one admin without an employeeId, and returns a Client
// talking to it through msgraph-sdk-go.
func newSim(t *testing.T, n int, icept graphsim.Interceptor) (*Client, *graphsim.Server) {
	t.Helper()
	return startSim(t, graphsim.Options{SeedPath: simSeed(t, n), Token: testToken, Interceptor: icept, KeepBatchOrder: true})
}

// simSeed writes newSim's tenant to a seed file.
func simSeed(t *testing.T, n int) string {
	t.Helper()
	st := graphsim.State{Domains: []string{"contoso.com"}}
	for i := 1; i <= n; i++ {
		u := graphsim.User{
			ID: fmt.Sprintf("00000000-0000-0000-0000-%012d", i), AccountEnabled: true,
			DisplayName: fmt.Sprintf("User %d", i), UserPrincipalName: fmt.Sprintf("u%d@contoso.com", i),
			MailNickname: fmt.Sprintf("u%d", i), EmployeeID: fmt.Sprintf("k%04d", i), Department: "Sales",
		}
		if i > 1 {
			u.Manager = "00000000-0000-0000-0000-000000000001"
		}
		st.Users = append(st.Users, u)
	}
	st.Users = append(st.Users, graphsim.User{ID: "admin-id", AccountEnabled: true, DisplayName: "Admin", UserPrincipalName: "admin@contoso.com", MailNickname: "admin"})
	seed := t.TempDir() + "/seed.json"
	data, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(seed, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return seed
}

// startSim starts graphsim with opts on loopback until the test ends and
// returns a Client that presents opts.Token.
func startSim(t *testing.T, opts graphsim.Options) (*Client, *graphsim.Server) {
	t.Helper()
	return startSimWith(t, opts, Options{})
}

// startSimWith is startSim with client options (GraphURL and Auth are set
// here).
func startSimWith(t *testing.T, opts graphsim.Options, co Options) (*Client, *graphsim.Server) {
	t.Helper()
	srv, err := graphsim.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	base, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
	})
	co.GraphURL = base
	co.Auth = Auth{Method: config.AuthAccessToken, Token: opts.Token}
	c, err := New(co)
	if err != nil {
		t.Fatal(err)
	}
	return c, srv
}

var attrs = []string{"employeeId", "userPrincipalName", "displayName", "department", "accountEnabled", "employeeHireDate", "employeeOrgData.division"}

func TestListUsersPagesAndManagers(t *testing.T) {
	tests := []struct {
		name        string
		n           int
		withManager bool
		wantPages   int64
	}{
		{"one page", 10, false, 1},
		{"999 per page", 2100, false, 3},
		{"expand caps pages at 100", 250, true, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, srv := newSim(t, tt.n, nil)
			var last int
			users, err := c.ListUsers(context.Background(), attrs, tt.withManager, func(n int) { last = n })
			if err != nil {
				t.Fatal(err)
			}
			if len(users) != tt.n+1 || last != tt.n+1 {
				t.Fatalf("users = %d (progress %d), want %d", len(users), last, tt.n+1)
			}
			if got := srv.Stats().Requests["GET /users"]; got != tt.wantPages {
				t.Errorf("GET /users requests = %d, want %d", got, tt.wantPages)
			}
			seen := map[string]bool{}
			for _, u := range users {
				if seen[u.ID] {
					t.Fatalf("user %s read twice", u.ID)
				}
				seen[u.ID] = true
				if u.ID == "00000000-0000-0000-0000-000000000002" {
					if u.Attrs.Get("employeeId") != "k0002" || u.Attrs.Get("department") != "Sales" || u.Attrs.Get("accountEnabled") != "true" {
						t.Errorf("attrs = %v", u.Attrs)
					}
					if tt.withManager != (u.ManagerID == "00000000-0000-0000-0000-000000000001") {
						t.Errorf("manager = %q (withManager %v)", u.ManagerID, tt.withManager)
					}
				}
			}
		})
	}
}

func TestListUsersFailsWholeOnAFailedPage(t *testing.T) {
	var gets atomic.Int32
	icept := func(_ context.Context, c graphsim.Call) *graphsim.Fault {
		if c.Route == "GET /users" && gets.Add(1) == 2 {
			return &graphsim.Fault{Status: 400, Code: "Request_BadRequest", Message: "injected"}
		}
		return nil
	}
	c, _ := newSim(t, 1500, icept)
	users, err := c.ListUsers(context.Background(), attrs, false, nil)
	if err == nil || users != nil {
		t.Fatalf("partial read returned %d users, err %v", len(users), err)
	}
	if !strings.Contains(err.Error(), "page 2") || !strings.Contains(err.Error(), "injected") {
		t.Errorf("err = %v", err)
	}
}

func TestWriteRoundTrip(t *testing.T) {
	c, _ := newSim(t, 2, nil)
	ctx := context.Background()
	o := doOne(ctx, c, directory.Op{Kind: directory.OpCreate, Attrs: identity.AttrsOf(map[string]string{
		"displayName": "Zoë Müller", "userPrincipalName": "zoe.muller@contoso.com", "mailNickname": "zoe.muller",
		"employeeId": "k9", "department": "R&D", "employeeHireDate": "2024-02-01T00:00:00Z", "employeeOrgData.division": "Labs",
	}), Password: "Initial-Pa55word!x"})
	id, err := o.ID, o.Err
	if err != nil {
		t.Fatal(err)
	}
	o = doOne(ctx, c, directory.Op{Kind: directory.OpFind, Attr: "employeeId", Value: "k9", Select: attrs})
	found, err := o.Users, o.Err
	if err != nil || len(found) != 1 || found[0].ID != id {
		t.Fatalf("find = %v, %v", found, err)
	}
	u := found[0]
	want := identity.AttrsOf(map[string]string{"displayName": "Zoë Müller", "userPrincipalName": "zoe.muller@contoso.com", "employeeId": "k9",
		"department": "R&D", "accountEnabled": "true", "employeeHireDate": "2024-02-01T00:00:00Z", "employeeOrgData.division": "Labs"})
	for k, v := range want.All() {
		if u.Attrs.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, u.Attrs.Get(k), v)
		}
	}
	// Clearing: null, not "".
	if err := doOne(ctx, c, directory.Op{Kind: directory.OpUpdate, UserID: id, Set: map[string]*string{"department": nil, "employeeOrgData.division": nil, "accountEnabled": ptr("false")}}).Err; err != nil {
		t.Fatal(err)
	}
	found = doOne(ctx, c, directory.Op{Kind: directory.OpFind, Attr: "employeeId", Value: "k9", Select: attrs}).Users
	if a := found[0].Attrs; a.Get("department") != "" || a.Get("employeeOrgData.division") != "" || a.Get("accountEnabled") != "false" {
		t.Errorf("after clear: %v", a)
	}
	if err := doOne(ctx, c, directory.Op{Kind: directory.OpSetManager, UserID: id, ManagerID: "00000000-0000-0000-0000-000000000001"}).Err; err != nil {
		t.Fatal(err)
	}
	users, _ := c.ListUsers(ctx, attrs, true, nil)
	for _, x := range users {
		if x.ID == id && x.ManagerID != "00000000-0000-0000-0000-000000000001" {
			t.Errorf("manager = %q", x.ManagerID)
		}
	}
	if err := doOne(ctx, c, directory.Op{Kind: directory.OpRemoveManager, UserID: id}).Err; err != nil {
		t.Fatal(err)
	}
	// Removing an absent manager is Graph's 404, which apply treats as done.
	if err := doOne(ctx, c, directory.Op{Kind: directory.OpRemoveManager, UserID: id}).Err; !IsNotFound(err) {
		t.Errorf("removing an absent manager: %v", err)
	}
}

// doOne runs a single op through Do.
func doOne(ctx context.Context, c *Client, op directory.Op) directory.Outcome {
	var out directory.Outcome
	c.Do(ctx, []directory.Op{op}, directory.DoOptions{}, func(_ int, o directory.Outcome) { out = o })
	return out
}

func ptr(s string) *string { return &s }

func TestGraphErrors(t *testing.T) {
	c, _ := newSim(t, 2, nil)
	ctx := context.Background()
	const pw = "Secret-Pa55word!z"
	err := doOne(ctx, c, directory.Op{Kind: directory.OpCreate, Attrs: identity.AttrsOf(map[string]string{"displayName": "Dup", "userPrincipalName": "u1@contoso.com", "mailNickname": "dup"}), Password: pw}).Err
	if !IsConflict(err) {
		t.Fatalf("duplicate UPN: %v", err)
	}
	var ge *GraphError
	if !errors.As(err, &ge) || ge.Status != 400 || ge.Code != "Request_BadRequest" || ge.DetailCode != "ObjectConflict" {
		t.Errorf("graph error = %+v", ge)
	}
	if strings.Contains(err.Error(), pw) {
		t.Error("the password leaked into an error")
	}
	// Graph refuses usageLocation codes that are not ISO 3166-1, such as UK.
	err = doOne(ctx, c, directory.Op{Kind: directory.OpCreate, Attrs: identity.AttrsOf(map[string]string{"displayName": "Uk", "userPrincipalName": "uk@contoso.com", "mailNickname": "uk", "usageLocation": "UK"}), Password: pw}).Err
	if !errors.As(err, &ge) || ge.Status != 400 || !strings.Contains(ge.Message, "usageLocation") {
		t.Errorf("usageLocation UK: %v", err)
	}
	err = doOne(ctx, c, directory.Op{Kind: directory.OpUpdate, UserID: "11111111-2222-3333-4444-555555555555", Set: map[string]*string{"department": ptr("x")}}).Err
	if !IsNotFound(err) {
		t.Errorf("unknown id: %v", err)
	}
}

func TestAccessTokenIsRequiredAndChecked(t *testing.T) {
	if _, err := New(Options{GraphURL: "https://graph.microsoft.com", Auth: Auth{Method: config.AuthAccessToken, Getenv: func(string) string { return "" }}}); err == nil || !strings.Contains(err.Error(), "HRSYNC_ACCESS_TOKEN") {
		t.Errorf("missing token: %v", err)
	}
	st := &staticToken{token: "t", host: "graph.microsoft.com"}
	for _, tt := range []struct {
		url, want string
		err       bool
	}{
		{"https://graph.microsoft.com/v1.0/users", "t", false},
		{"https://evil.example.com/v1.0/users", "", false},
		{"http://graph.microsoft.com/v1.0/users", "", true},
	} {
		u, _ := url.Parse(tt.url)
		got, err := st.GetAuthorizationToken(context.Background(), u, nil)
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("%s: token %q err %v", tt.url, got, err)
		}
	}
	if _, err := New(Options{GraphURL: "https://graph.microsoft.com", Auth: Auth{Method: config.AuthClientSecret, TenantID: "t", ClientID: "c", Getenv: func(string) string { return "" }}}); err == nil || !strings.Contains(err.Error(), "AZURE_CLIENT_SECRET") {
		t.Errorf("missing secret: %v", err)
	}
}

func TestAuthFailuresSayWhatToDo(t *testing.T) {
	tests := []struct {
		status int
		want   string
	}{
		{401, "check the credentials"},
		{403, "User.ReadWrite.All"},
	}
	for _, tt := range tests {
		icept := func(_ context.Context, c graphsim.Call) *graphsim.Fault {
			return &graphsim.Fault{Status: tt.status, Code: "Authorization_RequestDenied", Message: "Insufficient privileges to complete the operation."}
		}
		c, _ := newSim(t, 1, icept)
		_, err := c.ListUsers(context.Background(), attrs, false, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), testToken) {
			t.Errorf("%d: %v", tt.status, err)
		}
	}
}

// Graph: "Include both property values when updating employeeOrgData; if
// you omit any, the system sets them to null." The sandbox must behave so,
// or hrsync could pass its tests and wipe cost centers in a real tenant.
func TestOrgDataIsReplacedWhole(t *testing.T) {
	c, _ := newSim(t, 1, nil)
	ctx := context.Background()
	const user = "00000000-0000-0000-0000-000000000001"
	both := map[string]*string{"employeeOrgData.division": ptr("Labs"), "employeeOrgData.costCenter": ptr("CC1")}
	if err := doOne(ctx, c, directory.Op{Kind: directory.OpUpdate, UserID: user, Set: both}).Err; err != nil {
		t.Fatal(err)
	}
	if err := doOne(ctx, c, directory.Op{Kind: directory.OpUpdate, UserID: user, Set: map[string]*string{"employeeOrgData.division": ptr("Research")}}).Err; err != nil {
		t.Fatal(err)
	}
	o := doOne(ctx, c, directory.Op{Kind: directory.OpFind, Attr: "employeeId", Value: "k0001", Select: []string{"employeeId", "employeeOrgData.division", "employeeOrgData.costCenter"}})
	found, err := o.Users, o.Err
	if err != nil || len(found) != 1 {
		t.Fatal(found, err)
	}
	if a := found[0].Attrs; a.Get("employeeOrgData.division") != "Research" || a.Get("employeeOrgData.costCenter") != "" {
		t.Errorf("after a one-part update: %v (Graph nulls the part left out)", a)
	}
}

// Every attribute the schema knows is written by the batch path and read
// back by the lean page reader in the same canonical form: an attribute
// that read back empty would be re-sent on every run.
func TestEveryAttributeRoundTrips(t *testing.T) {
	c, _ := newSim(t, 1, nil)
	ctx := context.Background()
	const user = "00000000-0000-0000-0000-000000000001"
	values := map[string]string{
		"accountEnabled": "false", "employeeHireDate": "2024-02-01T00:00:00Z", "usageLocation": "DE",
		"mail": "k1.mail@contoso.com", "userPrincipalName": "k1.new@contoso.com", "mailNickname": "k1new",
		"employeeId": "k0001", "preferredLanguage": "de-DE",
	}
	var names []string
	set := map[string]*string{}
	schema := identity.EntraSchema()
	for _, name := range schema.Names() {
		if name == identity.Manager {
			continue
		}
		v, ok := values[name]
		switch spec, _ := schema.Lookup(name); {
		case ok:
		case spec.Kind == identity.KindDate:
			v = "2026-03-31T15:30:00Z"
		case spec.Kind == identity.KindBool:
			v = "true"
		default:
			v = "Value of " + name
		}
		set[name] = ptr(v)
		names = append(names, name)
	}
	if err := doOne(ctx, c, directory.Op{Kind: directory.OpUpdate, UserID: user, Set: set}).Err; err != nil {
		t.Fatal(err)
	}
	users, err := c.ListUsers(ctx, names, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if u.ID != user {
			continue
		}
		for _, name := range names {
			if got := u.Attrs.Get(name); got != *set[name] {
				t.Errorf("%s read back as %q, want %q", name, got, *set[name])
			}
		}
		return
	}
	t.Fatal("user not listed")
}

// The sequential scheme (the read before partitions) picks the cheapest
// sequence of pages.
func TestReadUsersPicksTheCheapestRead(t *testing.T) {
	tests := []struct {
		name        string
		n           int
		withManager bool
		refuseDelta bool
		want        map[string]int64 // requests by route
	}{
		{"no manager: pages of 999", 2100, false, false, map[string]int64{"GET /users": 3}},
		{"manager: delta pages of 200", 450, true, false, map[string]int64{"GET /users/delta": 3}},
		{"delta refused: $expand pages of 100", 450, true, true, map[string]int64{"GET /users/delta": 1, "GET /users": 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			icept := func(_ context.Context, c graphsim.Call) *graphsim.Fault {
				if tt.refuseDelta && strings.Contains(c.Route, "delta") {
					return &graphsim.Fault{Status: 400, Code: "Request_UnsupportedQuery", Message: "Unsupported query."}
				}
				return nil
			}
			c, srv := newSim(t, tt.n, icept)
			c.SetReadScheme(SchemeSequential)
			users, err := c.ReadUsers(context.Background(), attrs, tt.withManager, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(users) != tt.n+1 {
				t.Fatalf("users = %d, want %d", len(users), tt.n+1)
			}
			got := srv.Stats().Requests
			for route, n := range tt.want {
				if got[route] != n {
					t.Errorf("%s requests = %d, want %d (all: %v)", route, got[route], n, got)
				}
			}
			managed := 0
			for _, u := range users {
				if u.ManagerID == "00000000-0000-0000-0000-000000000001" {
					managed++
				}
				if u.ID == "00000000-0000-0000-0000-000000000002" && (u.Attrs.Get("employeeId") != "k0002" || u.Attrs.Get("department") != "Sales") {
					t.Errorf("attrs = %v", u.Attrs)
				}
			}
			if want := map[bool]int{true: tt.n - 1, false: 0}[tt.withManager]; managed != want {
				t.Errorf("users with the manager = %d, want %d", managed, want)
			}
		})
	}
}
