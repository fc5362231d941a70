package graphsim_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hrsync/hrsync/internal/graphsim"
	"github.com/microsoftgraph/msgraph-sdk-go/organization"
)

var guidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func TestSDKOrganization(t *testing.T) {
	srv, base := startSim(t, graphsim.Options{Domains: []string{"contoso.com", "contoso.onmicrosoft.com"}})
	client, _ := newClient(t, base, testToken)
	ctx := context.Background()
	tid := srv.TenantID()
	if !guidRE.MatchString(tid) {
		t.Fatalf("TenantID() = %q, want a lower-case GUID", tid)
	}

	resp, err := client.Organization().Get(ctx, nil)
	if err != nil {
		t.Fatalf("list organization: %v", err)
	}
	orgs := resp.GetValue()
	if len(orgs) != 1 {
		t.Fatalf("organization collection holds %d objects, want 1", len(orgs))
	}
	org := orgs[0]
	if got := deref(org.GetId()); got != tid {
		t.Errorf("organization id = %q, want the tenant id %q", got, tid)
	}
	if got := deref(org.GetDisplayName()); got != "Contoso" {
		t.Errorf("displayName = %q, want Contoso (named after the default domain)", got)
	}
	if got := deref(org.GetTenantType()); got != "AAD" {
		t.Errorf("tenantType = %q", got)
	}
	doms := org.GetVerifiedDomains()
	if len(doms) != 2 {
		t.Fatalf("verifiedDomains = %d, want 2", len(doms))
	}
	want := []struct {
		name               string
		isDefault, initial bool
	}{{"contoso.com", true, false}, {"contoso.onmicrosoft.com", false, true}}
	for i, w := range want {
		d := doms[i]
		if deref(d.GetName()) != w.name || deref(d.GetIsDefault()) != w.isDefault || deref(d.GetIsInitial()) != w.initial ||
			deref(d.GetTypeEscaped()) != "Managed" || deref(d.GetCapabilities()) != "Email, OfficeCommunicationsOnline" {
			t.Errorf("verifiedDomains[%d] = %q default %v initial %v type %q capabilities %q", i, deref(d.GetName()),
				deref(d.GetIsDefault()), deref(d.GetIsInitial()), deref(d.GetTypeEscaped()), deref(d.GetCapabilities()))
		}
	}

	// $select=id, as hrsync asks for it.
	resp, err = client.Organization().Get(ctx, &organization.OrganizationRequestBuilderGetRequestConfiguration{
		QueryParameters: &organization.OrganizationRequestBuilderGetQueryParameters{Select: []string{"id"}}})
	if err != nil {
		t.Fatalf("list organization $select=id: %v", err)
	}
	if orgs := resp.GetValue(); len(orgs) != 1 || deref(orgs[0].GetId()) != tid || orgs[0].GetDisplayName() != nil || orgs[0].GetVerifiedDomains() != nil {
		t.Errorf("$select=id returned %+v", orgs)
	}

	// The entity by id.
	one, err := client.Organization().ByOrganizationId(strings.ToUpper(tid)).Get(ctx, nil)
	if err != nil {
		t.Fatalf("get organization by id: %v", err)
	}
	if deref(one.GetId()) != tid || len(one.GetVerifiedDomains()) != 2 {
		t.Errorf("organization by id: id %q, %d domains", deref(one.GetId()), len(one.GetVerifiedDomains()))
	}
	_, err = client.Organization().ByOrganizationId("11111111-2222-3333-4444-555555555555").Get(ctx, nil)
	if status, code, _, _ := odataErr(t, err); status != 404 || code != "Request_ResourceNotFound" {
		t.Errorf("unknown organization id: %d %s", status, code)
	}
	if got := srv.Stats().Requests["GET /organization"]; got != 2 {
		t.Errorf("GET /organization requests = %d, want 2", got)
	}
}

func TestHTTPOrganization(t *testing.T) {
	srv, base := startSim(t, graphsim.Options{})
	tid := srv.TenantID()

	r := call(t, http.MethodGet, base+"/v1.0/organization?$select=id,displayName", nil, nil)
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if ctxURL := r.obj["@odata.context"]; ctxURL != base+"/v1.0/$metadata#organization(id,displayName)" {
		t.Errorf("@odata.context = %v", ctxURL)
	}
	vals, _ := r.obj["value"].([]any)
	if len(vals) != 1 {
		t.Fatalf("value = %s", r.body)
	}
	if o := vals[0].(map[string]any); len(o) != 2 || o["id"] != tid || o["displayName"] != "Contoso" {
		t.Errorf("selected organization = %v", o)
	}

	r = call(t, http.MethodGet, base+"/v1.0/organization", nil, nil)
	o := r.obj["value"].([]any)[0].(map[string]any)
	for _, k := range []string{"id", "displayName", "verifiedDomains", "tenantType", "businessPhones", "city", "assignedPlans"} {
		if _, ok := o[k]; !ok {
			t.Errorf("default properties lack %s: %s", k, r.body)
		}
	}
	doms := o["verifiedDomains"].([]any)
	// startSim's tenant has contoso.com and fabrikam.com and no
	// onmicrosoft.com domain: the first is both default and initial.
	if d := doms[0].(map[string]any); len(doms) != 2 || d["name"] != "contoso.com" || d["isDefault"] != true || d["isInitial"] != true {
		t.Errorf("verifiedDomains = %v", doms)
	}
	if d := doms[1].(map[string]any); d["isDefault"] != false || d["isInitial"] != false {
		t.Errorf("verifiedDomains[1] = %v", d)
	}

	r = call(t, http.MethodGet, base+"/v1.0/organization/"+tid+"?$select=id", nil, nil)
	if r.status != 200 || r.obj["id"] != tid || r.obj["@odata.context"] != base+"/v1.0/$metadata#organization(id)/$entity" || len(r.obj) != 2 {
		t.Errorf("get by id: %d %s", r.status, r.body)
	}

	tests := []struct {
		method, path string
		status       int
		code, msg    string
	}{
		{"GET", "/v1.0/organization?$select=bogus", 400, "Request_BadRequest", "Could not find a property named 'bogus' on type 'microsoft.graph.organization'."},
		{"GET", "/v1.0/organization?$filter=id%20eq%20'x'", 501, "NotImplemented", ""},
		{"GET", "/v1.0/organization?$bogus=1", 400, "BadRequest", "The query parameter '$bogus' is not supported."},
		{"POST", "/v1.0/organization", 405, "Request_BadRequest", ""},
		{"PATCH", "/v1.0/organization/" + tid, 501, "NotImplemented", ""},
		{"GET", "/v1.0/organization/" + tid + "/branding", 501, "NotImplemented", ""},
		{"GET", "/v1.0/organization/delta", 501, "NotImplemented", ""},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := call(t, tc.method, base+tc.path, nil, nil)
			if r.status != tc.status || r.errCode() != tc.code || (tc.msg != "" && r.errMessage() != tc.msg) {
				t.Errorf("got %d %s %q, want %d %s %q", r.status, r.errCode(), r.errMessage(), tc.status, tc.code, tc.msg)
			}
		})
	}

	// In a $batch too.
	_, items := postBatch(t, base, map[string]any{"requests": []any{getItem("1", "/organization?$select=id")}})
	if len(items) != 1 || items[0].Status != 200 || !strings.Contains(string(items[0].Body), tid) {
		t.Errorf("batch item = %+v", items)
	}
}

func TestStateTenantID(t *testing.T) {
	dir := t.TempDir()

	t.Run("stable across save and load", func(t *testing.T) {
		statePath := filepath.Join(dir, "new.json")
		s, err := graphsim.New(graphsim.Options{StatePath: statePath, Domains: []string{"contoso.com"}})
		if err != nil {
			t.Fatal(err)
		}
		tid := s.TenantID()
		if !guidRE.MatchString(tid) || s.Snapshot().Tenant == nil || s.Snapshot().Tenant.ID != tid {
			t.Fatalf("new tenant id %q, snapshot %+v", tid, s.Snapshot().Tenant)
		}
		if err := s.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		st, err := graphsim.LoadState(statePath)
		if err != nil {
			t.Fatal(err)
		}
		if st.Tenant == nil || st.Tenant.ID != tid || st.Tenant.DisplayName != "Contoso" {
			t.Fatalf("saved tenant = %+v, want id %s", st.Tenant, tid)
		}
		s2, err := graphsim.New(graphsim.Options{StatePath: statePath})
		if err != nil {
			t.Fatal(err)
		}
		if got := s2.TenantID(); got != tid {
			t.Errorf("tenant id after reload = %q, want %q", got, tid)
		}
		if s2.Dirty() {
			t.Error("a reloaded state with a tenant is dirty")
		}
		_ = s2.Close(context.Background())
	})

	t.Run("seed without tenant", func(t *testing.T) {
		seed := filepath.Join(dir, "seed.json")
		content := `{"domains": ["contoso.com"], "users": [{"id": "11111111-1111-1111-1111-111111111111", "userPrincipalName": "a@contoso.com"}]}`
		writeFile(t, seed, content)
		statePath := filepath.Join(dir, "from-seed.json")
		s, err := graphsim.New(graphsim.Options{StatePath: statePath, SeedPath: seed})
		if err != nil {
			t.Fatal(err)
		}
		tid := s.TenantID()
		if !guidRE.MatchString(tid) || !s.Dirty() {
			t.Fatalf("tenant id %q, dirty %v", tid, s.Dirty())
		}
		if err := s.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if data, _ := os.ReadFile(seed); string(data) != content {
			t.Errorf("the seed file was rewritten:\n%s", data)
		}
		s2, err := graphsim.New(graphsim.Options{StatePath: statePath, SeedPath: seed})
		if err != nil {
			t.Fatal(err)
		}
		if got := s2.TenantID(); got != tid {
			t.Errorf("tenant id after reload = %q, want %q", got, tid)
		}
		_ = s2.Close(context.Background())
		// Two servers started from the same seed are different tenants.
		s3, err := graphsim.New(graphsim.Options{SeedPath: seed})
		if err != nil {
			t.Fatal(err)
		}
		if s3.TenantID() == tid {
			t.Error("two tenants made from one seed share a tenant id")
		}
	})

	t.Run("state file without tenant", func(t *testing.T) {
		// A state file written before tenants had ids: it is given one, and
		// the state is dirty so that the id is saved and stays stable.
		statePath := filepath.Join(dir, "legacy.json")
		writeFile(t, statePath, `{"domains": ["contoso.com"], "users": [{"userPrincipalName": "noid@contoso.com"}]}`)
		s, err := graphsim.New(graphsim.Options{StatePath: statePath})
		if err != nil {
			t.Fatal(err)
		}
		tid, uid := s.TenantID(), s.Snapshot().Users[0].ID
		if !s.Dirty() {
			t.Error("a state file given new ids is not dirty")
		}
		if err := s.Save(); err != nil {
			t.Fatal(err)
		}
		s2, err := graphsim.New(graphsim.Options{StatePath: statePath})
		if err != nil {
			t.Fatal(err)
		}
		if s2.TenantID() != tid || s2.Snapshot().Users[0].ID != uid || s2.Dirty() {
			t.Errorf("after save and reload: tenant %q (want %q), user %q (want %q), dirty %v",
				s2.TenantID(), tid, s2.Snapshot().Users[0].ID, uid, s2.Dirty())
		}
	})

	t.Run("seed with tenant", func(t *testing.T) {
		seed := filepath.Join(dir, "tenant-seed.json")
		writeFile(t, seed, `{"tenant": {"id": "AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE", "displayName": "Fabrikam Ltd"}, "domains": ["fabrikam.com"], "users": []}`)
		s, base := startSim(t, graphsim.Options{SeedPath: seed})
		if got := s.TenantID(); got != "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee" {
			t.Errorf("tenant id = %q", got)
		}
		r := call(t, http.MethodGet, base+"/v1.0/organization?$select=displayName", nil, nil)
		if !bytes.Contains(r.body, []byte(`"displayName":"Fabrikam Ltd"`)) {
			t.Errorf("organization = %s", r.body)
		}
		// A tenant without an id gets one and keeps its name.
		writeFile(t, seed, `{"tenant": {"displayName": "Fabrikam Ltd"}, "domains": ["fabrikam.com"], "users": []}`)
		st, err := graphsim.LoadState(seed)
		if err != nil || st.Tenant == nil || !guidRE.MatchString(st.Tenant.ID) || st.Tenant.DisplayName != "Fabrikam Ltd" {
			t.Errorf("tenant without id: %+v, %v", st.Tenant, err)
		}
	})

	t.Run("invalid tenant", func(t *testing.T) {
		for name, content := range map[string]string{
			"tenant.id is not a GUID": `{"tenant": {"id": "contoso"}, "domains": [], "users": []}`,
			"tenantId":                `{"tenant": {"id": "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee", "tenantId": "x"}, "domains": [], "users": []}`,
		} {
			path := filepath.Join(dir, "bad.json")
			writeFile(t, path, content)
			_, err := graphsim.New(graphsim.Options{SeedPath: path})
			if err == nil || !strings.Contains(err.Error(), strings.TrimSuffix(name, " is not a GUID")) || !strings.Contains(err.Error(), path) {
				t.Errorf("%s: err = %v", name, err)
			}
		}
	})
}
