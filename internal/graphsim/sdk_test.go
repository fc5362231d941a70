package graphsim_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hrsync/hrsync/internal/graphsim"
	abstractions "github.com/microsoft/kiota-abstractions-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
)

func TestSDKUserLifecycle(t *testing.T) {
	var encMu sync.Mutex
	encodings := map[string]string{} // route -> Content-Encoding the SDK used
	srv, base := startSim(t, graphsim.Options{Interceptor: func(_ context.Context, c graphsim.Call) *graphsim.Fault {
		encMu.Lock()
		defer encMu.Unlock()
		encodings[c.Route] = c.Header.Get("Content-Encoding")
		return nil
	}})
	client, _ := newClient(t, base, testToken)
	ctx := context.Background()

	u := newUser("ada.lovelace@contoso.com", "Ada Lovelace")
	u.SetGivenName(ptr("Ada"))
	u.SetSurname(ptr("Lovelace"))
	u.SetJobTitle(ptr("Analyst"))
	u.SetDepartment(ptr("Engineering"))
	u.SetEmployeeId(ptr("E-1001"))
	u.SetEmployeeType(ptr("Employee"))
	u.SetUsageLocation(ptr("GB"))
	u.SetBusinessPhones([]string{"+44 20 7946 0000"})
	hire := time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC)
	u.SetEmployeeHireDate(&hire)
	org := models.NewEmployeeOrgData()
	org.SetDivision(ptr("R&D"))
	org.SetCostCenter(ptr("CC-42"))
	u.SetEmployeeOrgData(org)
	ext := models.NewOnPremisesExtensionAttributes()
	ext.SetExtensionAttribute1(ptr("badge-7"))
	u.SetOnPremisesExtensionAttributes(ext)

	created, err := client.Users().Post(ctx, u, nil)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	id := deref(created.GetId())
	if len(id) != 36 {
		t.Fatalf("created id = %q, want a GUID", id)
	}
	if got := deref(created.GetUserPrincipalName()); got != "ada.lovelace@contoso.com" {
		t.Errorf("created UPN = %q", got)
	}
	encMu.Lock()
	if enc := encodings["POST /users"]; enc != "gzip" {
		t.Errorf("the SDK sent POST /users with Content-Encoding %q; the gzip path is not exercised", enc)
	}
	encMu.Unlock()

	sel := []string{"id", "displayName", "givenName", "surname", "jobTitle", "department", "employeeId",
		"employeeType", "employeeHireDate", "employeeOrgData", "onPremisesExtensionAttributes", "usageLocation",
		"businessPhones", "accountEnabled", "createdDateTime", "passwordProfile", "mailNickname"}
	get := func(key string) models.Userable {
		t.Helper()
		got, err := client.Users().ByUserId(key).Get(ctx, &users.UserItemRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{Select: sel}})
		if err != nil {
			t.Fatalf("get %s: %v", key, err)
		}
		return got
	}
	got := get(id)
	checks := []struct {
		name, got, want string
	}{
		{"displayName", deref(got.GetDisplayName()), "Ada Lovelace"},
		{"givenName", deref(got.GetGivenName()), "Ada"},
		{"department", deref(got.GetDepartment()), "Engineering"},
		{"employeeId", deref(got.GetEmployeeId()), "E-1001"},
		{"employeeType", deref(got.GetEmployeeType()), "Employee"},
		{"usageLocation", deref(got.GetUsageLocation()), "GB"},
		{"mailNickname", deref(got.GetMailNickname()), "ada.lovelace"},
		{"division", deref(got.GetEmployeeOrgData().GetDivision()), "R&D"},
		{"costCenter", deref(got.GetEmployeeOrgData().GetCostCenter()), "CC-42"},
		{"extensionAttribute1", deref(got.GetOnPremisesExtensionAttributes().GetExtensionAttribute1()), "badge-7"},
		{"businessPhones", strings.Join(got.GetBusinessPhones(), ","), "+44 20 7946 0000"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if h := got.GetEmployeeHireDate(); h == nil || !h.Equal(hire) {
		t.Errorf("employeeHireDate = %v, want %v", h, hire)
	}
	if !deref(got.GetAccountEnabled()) {
		t.Error("accountEnabled = false, want true")
	}
	if c := got.GetCreatedDateTime(); c == nil || time.Since(*c) > time.Minute {
		t.Errorf("createdDateTime = %v", c)
	}
	if pp := got.GetPasswordProfile(); pp == nil || pp.GetPassword() != nil || !deref(pp.GetForceChangePasswordNextSignIn()) {
		t.Errorf("passwordProfile = %+v, want no password and forceChange=true", pp)
	}

	// Get by userPrincipalName, any case.
	if byUPN := get("ADA.LOVELACE@contoso.com"); deref(byUPN.GetId()) != id {
		t.Errorf("get by UPN returned id %q", deref(byUPN.GetId()))
	}

	// PATCH: change one property, clear others with null.
	patch := models.NewUser()
	patch.SetJobTitle(ptr("Lead Analyst"))
	patch.SetAdditionalData(map[string]any{"department": nil, "employeeOrgData": nil})
	if _, err := client.Users().ByUserId(id).Patch(ctx, patch, nil); err != nil {
		t.Fatalf("patch: %v", err)
	}
	got = get(id)
	if deref(got.GetJobTitle()) != "Lead Analyst" {
		t.Errorf("jobTitle after patch = %q", deref(got.GetJobTitle()))
	}
	if got.GetDepartment() != nil {
		t.Errorf("department after null patch = %q, want null", deref(got.GetDepartment()))
	}
	if got.GetEmployeeOrgData() != nil {
		t.Errorf("employeeOrgData after null patch = %+v, want null", got.GetEmployeeOrgData())
	}
	if deref(got.GetGivenName()) != "Ada" {
		t.Errorf("givenName changed by unrelated patch: %q", deref(got.GetGivenName()))
	}

	// The state never holds the password.
	snap := srv.Snapshot()
	raw, _ := json.Marshal(snap)
	if strings.Contains(string(raw), "Sup3r-Secret-Pw!") {
		t.Fatal("snapshot contains the password")
	}
	if len(snap.Users) != 1 || snap.Users[0].LastPasswordChangeDateTime.IsZero() {
		t.Errorf("snapshot users = %+v", snap.Users)
	}

	if err := client.Users().ByUserId(id).Delete(ctx, nil); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err = client.Users().ByUserId(id).Get(ctx, nil)
	status, code, msg, _ := odataErr(t, err)
	if status != 404 || code != "Request_ResourceNotFound" ||
		msg != "Resource '"+id+"' does not exist or one of its queried reference-property objects are not present." {
		t.Errorf("get deleted user: %d %s %q", status, code, msg)
	}
	if err := client.Users().ByUserId(id).Delete(ctx, nil); err == nil {
		t.Error("deleting twice succeeded")
	}
	if snap := srv.Snapshot(); len(snap.Users) != 0 || len(snap.DeletedUsers) != 1 || snap.DeletedUsers[0].DeletedDateTime.IsZero() {
		t.Errorf("after delete: users=%d deleted=%+v", len(snap.Users), snap.DeletedUsers)
	}
}

func TestSDKDuplicateUPN(t *testing.T) {
	_, base := startSim(t, graphsim.Options{})
	client, _ := newClient(t, base, testToken)
	ctx := context.Background()
	if _, err := client.Users().Post(ctx, newUser("grace@contoso.com", "Grace"), nil); err != nil {
		t.Fatal(err)
	}
	_, err := client.Users().Post(ctx, newUser("GRACE@Contoso.com", "Grace again"), nil)
	status, code, msg, me := odataErr(t, err)
	if status != 400 || code != "Request_BadRequest" ||
		msg != "Another object with the same value for property userPrincipalName already exists." {
		t.Fatalf("got %d %s %q", status, code, msg)
	}
	details := me.GetDetails()
	if len(details) != 1 || deref(details[0].GetCode()) != "ObjectConflict" || deref(details[0].GetTarget()) != "userPrincipalName" {
		t.Fatalf("details = %+v", details)
	}
	inner := me.GetInnerError()
	if inner == nil || deref(inner.GetRequestId()) == "" || inner.GetDate() == nil {
		t.Errorf("innerError = %+v", inner)
	}
}

func TestSDKCreateValidation(t *testing.T) {
	_, base := startSim(t, graphsim.Options{})
	client, _ := newClient(t, base, testToken)
	ctx := context.Background()
	weak := newUser("weak@contoso.com", "Weak")
	weak.GetPasswordProfile().SetPassword(ptr("password"))
	noPass := newUser("nopass@contoso.com", "No Pass")
	noPass.GetPasswordProfile().SetPassword(nil)
	noNick := newUser("nonick@contoso.com", "No Nick")
	noNick.SetMailNickname(nil)
	longEmp := newUser("emp@contoso.com", "Emp")
	longEmp.SetEmployeeId(ptr("12345678901234567"))
	badUPN := newUser("jos\u00e9@contoso.com", "Jose")
	badUPN.SetMailNickname(ptr("jose"))
	unknownProp := newUser("unk@contoso.com", "Unk")
	unknownProp.SetAdditionalData(map[string]any{"favouriteColour": "blue"})

	tests := []struct {
		name     string
		user     models.Userable
		wantCode string
		wantMsg  string
	}{
		{"missing mailNickname", noNick, "Request_BadRequest", "Property mailNickname value is required but is empty or missing."},
		{"missing password", noPass, "Request_BadRequest", "A password must be specified to create a new user."},
		{"weak password", weak, "Request_BadRequest",
			"The specified password does not comply with password complexity requirements. Please provide a different password."},
		{"bad UPN characters", badUPN, "Request_BadRequest", "Property userPrincipalName is invalid."},
		{"unverified domain", newUser("x@example.org", "X"), "Request_BadRequest",
			"The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization."},
		{"employeeId too long", longEmp, "Request_BadRequest", "Invalid value specified for property 'employeeId' of resource 'User'."},
		{"unknown property", unknownProp, "Request_BadRequest", "Invalid property 'favouriteColour'."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := client.Users().Post(ctx, tc.user, nil)
			status, code, msg, _ := odataErr(t, err)
			if status != 400 || code != tc.wantCode || msg != tc.wantMsg {
				t.Errorf("got %d %s %q, want 400 %s %q", status, code, msg, tc.wantCode, tc.wantMsg)
			}
		})
	}
}

// listAll pages through GET /users following @odata.nextLink verbatim, and
// calls between(page) after each page.
func listAll(t *testing.T, client interface {
	Users() *users.UsersRequestBuilder
}, cfg *users.UsersRequestBuilderGetRequestConfiguration, between func(page int)) ([]models.Userable, int) {
	t.Helper()
	ctx := context.Background()
	resp, err := client.Users().Get(ctx, cfg)
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	var all []models.Userable
	pages := 0
	for {
		pages++
		all = append(all, resp.GetValue()...)
		if between != nil {
			between(pages)
		}
		next := resp.GetOdataNextLink()
		if next == nil {
			return all, pages
		}
		resp, err = client.Users().WithUrl(*next).Get(ctx, nil)
		if err != nil {
			t.Fatalf("next page %s: %v", *next, err)
		}
	}
}

func TestSDKPagingStableUnderCreates(t *testing.T) {
	_, base := startSim(t, graphsim.Options{})
	client, _ := newClient(t, base, testToken)
	for i := 0; i < 250; i++ {
		mustCreate(t, base, upnN(i), nil)
	}
	created := 0
	all, pages := listAll(t, client, &users.UsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Top: ptr(int32(60)), Select: []string{"id", "userPrincipalName"}},
	}, func(page int) {
		// Users created (and one deleted) between page fetches must not make
		// pages skip or repeat anyone.
		if page == 1 {
			for i := 0; i < 5; i++ {
				mustCreate(t, base, upnN(1000+created), nil)
				created++
			}
		}
	})
	seen := map[string]bool{}
	for _, u := range all {
		id := deref(u.GetId())
		if seen[id] {
			t.Fatalf("user %s returned twice", deref(u.GetUserPrincipalName()))
		}
		seen[id] = true
	}
	if len(all) != 255 {
		t.Errorf("got %d users over %d pages, want 250 + 5 created while paging", len(all), pages)
	}
	if pages != 5 { // 255 / 60 = 4.25
		t.Errorf("pages = %d, want 5", pages)
	}

	// The default page size is 100.
	resp, err := client.Users().Get(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(resp.GetValue()); n != 100 {
		t.Errorf("default page size = %d, want 100", n)
	}
	next := deref(resp.GetOdataNextLink())
	if !strings.HasPrefix(next, base+"/v1.0/users?") || !strings.Contains(next, "$skiptoken=") {
		t.Errorf("nextLink %q is not an absolute link to this server", next)
	}

	// The SDK's PageIterator follows the links too.
	_, adapter := newClient(t, base, testToken)
	it, err := msgraphcore.NewPageIterator[models.Userable](resp, adapter, models.CreateUserCollectionResponseFromDiscriminatorValue)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := it.Iterate(context.Background(), func(models.Userable) bool { n++; return true }); err != nil {
		t.Fatal(err)
	}
	if n != 255 {
		t.Errorf("PageIterator saw %d users, want 255", n)
	}
}

func TestSDKFilterAndCount(t *testing.T) {
	_, base := startSim(t, graphsim.Options{})
	client, _ := newClient(t, base, testToken)
	mustCreate(t, base, "a@contoso.com", map[string]any{"employeeId": "100", "department": "Sales", "accountEnabled": false})
	mustCreate(t, base, "b@contoso.com", map[string]any{"employeeId": "200", "department": "Sales"})
	mustCreate(t, base, "c@contoso.com", map[string]any{"department": "IT", "surname": "O'Brien"})

	get := func(filter string, advanced bool) ([]string, *int64, error) {
		cfg := &users.UsersRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Filter: ptr(filter)},
		}
		if advanced {
			cfg.QueryParameters.Count = ptr(true)
			h := abstractions.NewRequestHeaders()
			h.Add("ConsistencyLevel", "eventual")
			cfg.Headers = h
		}
		resp, err := client.Users().Get(context.Background(), cfg)
		if err != nil {
			return nil, nil, err
		}
		var out []string
		for _, u := range resp.GetValue() {
			nick, _, _ := cutAt(deref(u.GetUserPrincipalName()))
			out = append(out, nick)
		}
		return out, resp.GetOdataCount(), nil
	}
	tests := []struct {
		filter   string
		advanced bool
		want     string
	}{
		{"department eq 'sales'", false, "a,b"},
		{"employeeId ne null", true, "a,b"},
		{"accountEnabled eq false", false, "a"},
		{"surname eq 'O''Brien'", false, "c"},
		{"employeeId in ('100', '300')", false, "a"},
		{"startswith(userPrincipalName,'B')", false, "b"},
		{"(department eq 'IT' or employeeId eq '200') and accountEnabled eq true", false, "b,c"},
		{"not (department eq 'Sales')", true, "c"},
		{"endswith(userPrincipalName,'@contoso.com') and department ne 'IT'", true, "a,b"},
	}
	for _, tc := range tests {
		got, count, err := get(tc.filter, tc.advanced)
		if err != nil {
			t.Errorf("%s: %v", tc.filter, err)
			continue
		}
		if strings.Join(got, ",") != tc.want {
			t.Errorf("%s: got %v, want %s", tc.filter, got, tc.want)
		}
		if tc.advanced && (count == nil || int(*count) != len(got)) {
			t.Errorf("%s: @odata.count = %v, want %d", tc.filter, count, len(got))
		}
	}

	// Graph refuses advanced-only filters without the advanced query parameters.
	_, _, err := get("employeeId ne null", false)
	status, code, msg, _ := odataErr(t, err)
	if status != 400 || code != "Request_UnsupportedQuery" || msg != "Filter operator 'NotEqualsMatch' is not supported." {
		t.Errorf("ne without advanced query: %d %s %q", status, code, msg)
	}
	_, _, err = get("nosuchprop eq 'x'", false)
	if status, code, _, _ := odataErr(t, err); status != 400 || code != "Request_BadRequest" {
		t.Errorf("unknown property: %d %s", status, code)
	}
}

func TestSDKExpandManagerCapsPage(t *testing.T) {
	_, base := startSim(t, graphsim.Options{})
	client, _ := newClient(t, base, testToken)
	ctx := context.Background()
	boss := mustCreate(t, base, "boss@contoso.com", map[string]any{"displayName": "The Boss"})
	for i := 0; i < 150; i++ {
		id := mustCreate(t, base, upnN(i), nil)
		ref := map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/users/" + boss}
		if r := call(t, http.MethodPut, base+"/v1.0/users/"+id+"/manager/$ref", ref, nil); r.status != 204 {
			t.Fatalf("set manager: %d %s", r.status, r.body)
		}
	}
	resp, err := client.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UsersRequestBuilderGetQueryParameters{
			Top: ptr(int32(999)), Select: []string{"id", "displayName"},
			Expand: []string{"manager($select=id,displayName)"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(resp.GetValue()); n != 100 {
		t.Errorf("page with $expand has %d users, want 100 (Graph caps $expand pages)", n)
	}
	if resp.GetOdataNextLink() == nil {
		t.Error("no nextLink after a capped page")
	}
	withManager := 0
	for _, u := range resp.GetValue() {
		m := u.GetManager()
		if deref(u.GetId()) == boss {
			if m != nil {
				t.Error("boss has a manager")
			}
			continue
		}
		mu, ok := m.(models.Userable)
		if !ok {
			t.Fatalf("manager of %s is %T, want a user", deref(u.GetId()), m)
		}
		if deref(mu.GetId()) != boss || deref(mu.GetDisplayName()) != "The Boss" {
			t.Errorf("manager = %s %q", deref(mu.GetId()), deref(mu.GetDisplayName()))
		}
		withManager++
	}
	if withManager != 99 {
		t.Errorf("%d users with manager on the first page, want 99", withManager)
	}
	all, _ := listAll(t, client, &users.UsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Top: ptr(int32(999)), Expand: []string{"manager"}},
	}, nil)
	if len(all) != 151 {
		t.Errorf("expand paging returned %d users, want 151", len(all))
	}
}

func TestSDKManager(t *testing.T) {
	_, base := startSim(t, graphsim.Options{})
	client, _ := newClient(t, base, testToken)
	ctx := context.Background()
	emp := mustCreate(t, base, "emp@contoso.com", nil)
	mgr := mustCreate(t, base, "mgr@contoso.com", map[string]any{"displayName": "Manager One"})

	_, err := client.Users().ByUserId(emp).Manager().Get(ctx, nil)
	if status, code, msg, _ := odataErr(t, err); status != 404 || code != "Request_ResourceNotFound" ||
		msg != "Resource 'manager' does not exist or one of its queried reference-property objects are not present." {
		t.Errorf("no manager: %d %s %q", status, code, msg)
	}

	ref := models.NewReferenceUpdate()
	ref.SetOdataId(ptr("https://graph.microsoft.com/v1.0/directoryObjects/" + mgr))
	if err := client.Users().ByUserId(emp).Manager().Ref().Put(ctx, ref, nil); err != nil {
		t.Fatalf("put manager: %v", err)
	}
	got, err := client.Users().ByUserId("emp@contoso.com").Manager().Get(ctx, nil)
	if err != nil {
		t.Fatalf("get manager: %v", err)
	}
	mu, ok := got.(models.Userable)
	if !ok || deref(mu.GetId()) != mgr || deref(mu.GetDisplayName()) != "Manager One" {
		t.Fatalf("manager = %T %+v", got, got)
	}

	bad := models.NewReferenceUpdate()
	bad.SetOdataId(ptr("https://graph.microsoft.com/v1.0/users/00000000-0000-0000-0000-000000000000"))
	err = client.Users().ByUserId(emp).Manager().Ref().Put(ctx, bad, nil)
	if status, code, _, _ := odataErr(t, err); status != 404 || code != "Request_ResourceNotFound" {
		t.Errorf("unknown manager: %d %s", status, code)
	}
	self := models.NewReferenceUpdate()
	self.SetOdataId(ptr(base + "/v1.0/users/" + emp))
	err = client.Users().ByUserId(emp).Manager().Ref().Put(ctx, self, nil)
	if status, _, _, _ := odataErr(t, err); status != 400 {
		t.Errorf("self as manager: status %d, want 400", status)
	}

	if err := client.Users().ByUserId(emp).Manager().Ref().Delete(ctx, nil); err != nil {
		t.Fatalf("delete manager: %v", err)
	}
	if _, err := client.Users().ByUserId(emp).Manager().Get(ctx, nil); err == nil {
		t.Error("manager still set after delete")
	}
	err = client.Users().ByUserId(emp).Manager().Ref().Delete(ctx, nil)
	if status, _, _, _ := odataErr(t, err); status != 404 {
		t.Errorf("deleting a missing manager: status %d, want 404", status)
	}

	// Deleting a manager removes the link from their reports.
	if err := client.Users().ByUserId(emp).Manager().Ref().Put(ctx, ref, nil); err != nil {
		t.Fatal(err)
	}
	if err := client.Users().ByUserId(mgr).Delete(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Users().ByUserId(emp).Manager().Get(ctx, nil); err == nil {
		t.Error("manager link survived the manager's deletion")
	}
}

func TestSDKBatch(t *testing.T) {
	srv, base := startSim(t, graphsim.Options{BatchSeed: 7})
	client, adapter := newClient(t, base, testToken)
	ctx := context.Background()
	mustCreate(t, base, "taken@contoso.com", nil)

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
	okCreate := add(client.Users().ToPostRequestInformation(ctx, newUser("new1@contoso.com", "New One"), nil))
	dupCreate := add(client.Users().ToPostRequestInformation(ctx, newUser("taken@contoso.com", "Dup"), nil))
	afterDup := add(client.Users().ToGetRequestInformation(ctx, nil))
	afterDup.DependsOnItem(dupCreate)
	afterOK := add(client.Users().ByUserId("new1@contoso.com").ToGetRequestInformation(ctx, nil))
	afterOK.DependsOnItem(okCreate)
	list := add(client.Users().ToGetRequestInformation(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Select: []string{"id"}, Top: ptr(int32(1))}}))

	resp, err := batch.Send(ctx, adapter)
	if err != nil {
		t.Fatalf("send batch: %v", err)
	}
	codes := resp.GetStatusCodes()
	want := map[string]int32{
		*okCreate.GetId(): 201, *dupCreate.GetId(): 400, *afterDup.GetId(): 424, *afterOK.GetId(): 200, *list.GetId(): 200,
	}
	for id, w := range want {
		if codes[id] != w {
			t.Errorf("item %s status %d, want %d (all: %v)", id, codes[id], w, codes)
		}
	}
	created, err := msgraphcore.GetBatchResponseById[models.Userable](resp, *okCreate.GetId(), models.CreateUserFromDiscriminatorValue)
	if err != nil {
		t.Fatalf("batch create body: %v", err)
	}
	if deref(created.GetUserPrincipalName()) != "new1@contoso.com" {
		t.Errorf("batch-created user = %q", deref(created.GetUserPrincipalName()))
	}
	_, err = msgraphcore.GetBatchResponseById[models.Userable](resp, *dupCreate.GetId(), models.CreateUserFromDiscriminatorValue)
	if err == nil {
		t.Error("GetBatchResponseById of the failed create returned no error")
	}
	st := srv.Stats()
	if st.Requests["POST /$batch"] != 1 || st.BatchItems["POST /users"] != 2 || st.BatchItems["GET /users"] != 2 ||
		st.BatchItems["GET /users/{id}"] != 1 {
		t.Errorf("stats = %+v", st)
	}
}

func TestSDKWrongToken(t *testing.T) {
	_, base := startSim(t, graphsim.Options{})
	client, _ := newClient(t, base, "not-the-token")
	_, err := client.Users().Get(context.Background(), nil)
	status, code, _, _ := odataErr(t, err)
	if status != 401 || code != "InvalidAuthenticationToken" {
		t.Errorf("got %d %s, want 401 InvalidAuthenticationToken", status, code)
	}
}
