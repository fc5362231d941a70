package entra

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	kauth "github.com/microsoft/kiota-authentication-azure-go"

	"github.com/hrsync/hrsync/internal/graphsdk"
	"github.com/hrsync/hrsync/internal/graphsim"
)

// unsignedJWT builds a JWS compact token with the given header and payload
// JSON and a dummy signature.
func unsignedJWT(header, payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(header)) + "." + enc([]byte(payload)) + "." + enc([]byte("not-a-signature"))
}

const jwtHeader = `{"typ":"JWT","alg":"RS256","kid":"abc"}`

func TestTenantFromGraph(t *testing.T) {
	var orgCalls atomic.Int32
	icept := func(_ context.Context, call graphsim.Call) *graphsim.Fault {
		if call.Route == "GET /organization" {
			orgCalls.Add(1)
		}
		return nil
	}
	c, srv := newSim(t, 1, icept) // testToken is not a JWT
	ctx := context.Background()
	want := srv.TenantID()
	if want == "" {
		t.Fatal("graphsim has no tenant id")
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			got, err := c.Tenant(ctx)
			if err != nil || got != want {
				t.Errorf("Tenant() = %q, %v; want %q", got, err, want)
			}
		})
	}
	wg.Wait()
	if got, err := c.Tenant(ctx); err != nil || got != want {
		t.Errorf("cached Tenant() = %q, %v; want %q", got, err, want)
	}
	if n := orgCalls.Load(); n != 1 {
		t.Errorf("GET /organization called %d times, want 1 (cached)", n)
	}

	// Another client has its own tenant and its own cache entry.
	c2, srv2 := newSim(t, 1, nil)
	if got, err := c2.Tenant(ctx); err != nil || got != srv2.TenantID() || got == want {
		t.Errorf("second client: Tenant() = %q, %v; want %q (not %q)", got, err, srv2.TenantID(), want)
	}
}

func TestTenantFromTokenClaimSkipsGraph(t *testing.T) {
	tok := unsignedJWT(jwtHeader, `{"aud":"https://graph.microsoft.com","tid":"AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE","oid":"x"}`)
	c, srv := startSim(t, graphsim.Options{Domains: []string{"contoso.com"}, Token: tok})
	got, err := c.Tenant(context.Background())
	if err != nil || got != "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee" {
		t.Fatalf("Tenant() = %q, %v", got, err)
	}
	if n := srv.Stats().Total(); n != 0 {
		t.Errorf("Graph was called %d times; the token's tid claim should have sufficed", n)
	}
	// The client still works against Graph with the same token.
	if _, err := c.ListUsers(context.Background(), []string{"displayName"}, false, nil); err != nil {
		t.Errorf("list users: %v", err)
	}
}

// fakeCredential stands in for azidentity's credentials (azure_cli,
// managed_identity, ...).
type fakeCredential struct {
	token string
	calls atomic.Int32
}

func (f *fakeCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	f.calls.Add(1)
	return azcore.AccessToken{Token: f.token, ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// TestTenantFromAzureIdentityToken goes through the same kiota Azure
// identity provider that authProvider builds for the azidentity methods.
func TestTenantFromAzureIdentityToken(t *testing.T) {
	srv, err := graphsim.New(graphsim.Options{Domains: []string{"contoso.com"}})
	if err != nil {
		t.Fatal(err)
	}
	base, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close(context.Background()) })
	cred := &fakeCredential{token: unsignedJWT(jwtHeader, `{"tid":"0b2d4c6e-1a3f-4e5d-9c7b-8a6f4e2d0c1b"}`)}
	// kiota's allowed-hosts validator compares host names without the port.
	host, _, _ := strings.Cut(strings.TrimPrefix(base, "http://"), ":")
	ap, err := kauth.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(cred, []string{base + "/.default"}, []string{host})
	if err != nil {
		t.Fatal(err)
	}
	adapter, err := graphsdk.NewAdapter(ap, nil)
	if err != nil {
		t.Fatal(err)
	}
	adapter.SetBaseUrl(base + "/v1.0")
	c := &Client{gs: graphsdk.New(adapter), graphURL: base}
	got, err := c.Tenant(context.Background())
	if err != nil || got != "0b2d4c6e-1a3f-4e5d-9c7b-8a6f4e2d0c1b" {
		t.Fatalf("Tenant() = %q, %v", got, err)
	}
	if cred.calls.Load() != 1 || srv.Stats().Total() != 0 {
		t.Errorf("credential called %d times, Graph %d times; want 1 and 0", cred.calls.Load(), srv.Stats().Total())
	}
}

func TestTenantErrors(t *testing.T) {
	var fail atomic.Bool
	fail.Store(true)
	icept := func(_ context.Context, call graphsim.Call) *graphsim.Fault {
		if call.Route == "GET /organization" && fail.Load() {
			return &graphsim.Fault{Status: 403, Code: "Authorization_RequestDenied", Message: "Insufficient privileges to complete the operation."}
		}
		return nil
	}
	c, srv := newSim(t, 1, icept)
	ctx := context.Background()
	_, err := c.Tenant(ctx)
	var ge *GraphError
	if err == nil || !errors.As(err, &ge) || ge.Status != 403 {
		t.Fatalf("403: err = %v", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "Organization.Read.All") || !strings.Contains(msg, "tenant_id") ||
		!strings.Contains(msg, "Insufficient privileges") || strings.Contains(msg, "User.ReadWrite.All") || strings.Contains(msg, testToken) {
		t.Errorf("403 message = %q", msg)
	}
	// Failures are not cached.
	fail.Store(false)
	if got, err := c.Tenant(ctx); err != nil || got != srv.TenantID() {
		t.Errorf("after the failure: Tenant() = %q, %v", got, err)
	}

	// Other Graph errors come through wrap.
	c2, _ := newSim(t, 1, func(_ context.Context, call graphsim.Call) *graphsim.Fault {
		return &graphsim.Fault{Status: 401, Code: "InvalidAuthenticationToken", Message: "Access token has expired."}
	})
	if _, err := c2.Tenant(ctx); err == nil || !strings.Contains(err.Error(), "read tenant id") ||
		!strings.Contains(err.Error(), "check the credentials") || strings.Contains(err.Error(), testToken) {
		t.Errorf("401: err = %v", err)
	}
}

func TestTenantFromToken(t *testing.T) {
	const tid = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	good := unsignedJWT(jwtHeader, `{"aud":"00000003-0000-0000-c000-000000000000","tid":"`+tid+`","ver":"1.0"}`)
	tests := []struct {
		name, token string
		want        string
		ok          bool
	}{
		{"jwt", good, tid, true},
		{"bearer prefix", "Bearer " + good, tid, true},
		{"upper-case tid", unsignedJWT(jwtHeader, `{"tid":"`+strings.ToUpper(tid)+`"}`), tid, true},
		{"padded base64", strings.Replace(good, ".", "==.", 1), tid, true},
		{"no tid", unsignedJWT(jwtHeader, `{"aud":"x","oid":"y"}`), "", false},
		{"tid not a guid", unsignedJWT(jwtHeader, `{"tid":"contoso.onmicrosoft.com"}`), "", false},
		{"tid a number", unsignedJWT(jwtHeader, `{"tid":42}`), "", false},
		{"payload not json", unsignedJWT(jwtHeader, `tid=`+tid), "", false},
		{"header not json", unsignedJWT(`nope`, `{"tid":"`+tid+`"}`), "", false},
		{"payload not base64", "eyJhbGciOiJSUzI1NiJ9.***.sig", "", false},
		{"two parts", strings.Join(strings.Split(good, ".")[:2], "."), "", false},
		{"encrypted (five parts)", good + ".a.b", "", false},
		{"opaque", testToken, "", false},
		{"empty", "", "", false},
		{"dots", "..", "", false},
		{"huge", unsignedJWT(jwtHeader, `{"tid":"`+tid+`","x":"`+strings.Repeat("a", maxTokenLen)+`"}`), "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := TenantFromToken(tt.token)
			if got != tt.want || ok != tt.ok {
				t.Errorf("TenantFromToken = %q, %v; want %q, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}
