package graphsdk

import (
	"os/exec"
	"strings"
	"testing"

	absser "github.com/microsoft/kiota-abstractions-go/serialization"
	"github.com/microsoft/kiota-abstractions-go/store"

	"github.com/hrsync/hrsync/internal/testenv"
)

// newTestClient is a Client over NewAdapter with base as its base URL
// ("": none set).
func newTestClient(t *testing.T, base string) *Client {
	t.Helper()
	adapter, err := NewAdapter(testAuth(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if base != "" {
		adapter.SetBaseUrl(base)
	}
	return New(adapter)
}

// TestRequests pins the URL, method and body of each request hrsync makes.
func TestRequests(t *testing.T) {
	c := newTestClient(t, "https://graph.example/v1.0")
	want := map[string]wire{
		"list users":      {method: "GET", url: "https://graph.example/v1.0/users?$expand=manager($select=id)&$select=id,displayName&$top=999"},
		"find user":       {method: "GET", url: "https://graph.example/v1.0/users?$filter=employeeId eq '1001'&$select=id"},
		"users delta":     {method: "GET", url: "https://graph.example/v1.0/users/delta()?$select=id,manager"},
		"next link":       {method: "GET", url: "https://graph.example/v1.0/users/delta?$skiptoken=abc"},
		"get user":        {method: "GET", url: "https://graph.example/v1.0/users/u1?$expand=manager($select=id)&$select=id"},
		"create user":     {method: "POST", url: "https://graph.example/v1.0/users", body: `{"@odata.type":"#microsoft.graph.user","jobTitle":null,"accountEnabled":true,"displayName":"José García","passwordProfile":{"password":"pw"}}`},
		"update user":     {method: "PATCH", url: "https://graph.example/v1.0/users/u1", body: `{"@odata.type":"#microsoft.graph.user","department":"Sales"}`},
		"set manager":     {method: "PUT", url: "https://graph.example/v1.0/users/u1/manager/$ref", body: `{"@odata.id":"https://graph.example/v1.0/users/m1"}`},
		"remove manager":  {method: "DELETE", url: "https://graph.example/v1.0/users/u1/manager/$ref"},
		"revoke sessions": {method: "POST", url: "https://graph.example/v1.0/users/u1/revokeSignInSessions"},
		"assign license":  {method: "POST", url: "https://graph.example/v1.0/users/u1/assignLicense", body: `{"addLicenses":[],"removeLicenses":["s1"]}`},
		"delete user":     {method: "DELETE", url: "https://graph.example/v1.0/users/u1"},
		"deleted users":   {method: "GET", url: "https://graph.example/v1.0/directory/deletedItems/graph.user?$select=id&$top=999"},
		"restore user":    {method: "POST", url: "https://graph.example/v1.0/directory/deletedItems/u1/restore"},
		"list groups":     {method: "GET", url: "https://graph.example/v1.0/groups?$select=id,displayName"},
		"group members":   {method: "GET", url: "https://graph.example/v1.0/groups/g1/members/graph.user?$select=id&$top=999"},
		"add member":      {method: "POST", url: "https://graph.example/v1.0/groups/g1/members/$ref", body: `{"@odata.id":"https://graph.example/v1.0/directoryObjects/u1"}`},
		"remove member":   {method: "DELETE", url: "https://graph.example/v1.0/groups/g1/members/u1/$ref"},
		"organization":    {method: "GET", url: "https://graph.example/v1.0/organization?$select=id"},
		"subscribed skus": {method: "GET", url: "https://graph.example/v1.0/subscribedSkus"},
	}
	for _, r := range requests() {
		got := toWire(t, r, c, c.GetAdapter())
		w, ok := want[r.name]
		if !ok {
			t.Errorf("%s: no expectation", r.name)
			continue
		}
		if got.method != w.method || got.url != w.url || got.body != w.body {
			t.Errorf("%s:\n got %s %s %s\nwant %s %s %s", r.name, got.method, got.url, got.body, w.method, w.url, w.body)
		}
		if !strings.Contains(got.headers, "Authorization: Bearer t0ken") {
			t.Errorf("%s: no bearer token in\n%s", r.name, got.headers)
		}
		if got.body != "" && !strings.Contains(got.headers, "Content-Type: application/json") {
			t.Errorf("%s: body without Content-Type application/json:\n%s", r.name, got.headers)
		}
	}
}

// TestDefaults checks what New sets up as msgraphsdk.NewGraphServiceClient
// does: the base URL, the serializers and parse nodes by content type,
// behind the backing store.
func TestDefaults(t *testing.T) {
	c := newTestClient(t, "")
	if got := c.GetAdapter().GetBaseUrl(); got != DefaultBaseURL {
		t.Errorf("base URL = %q, want %q", got, DefaultBaseURL)
	}
	ser := absser.DefaultSerializationWriterFactoryInstance
	for _, ct := range []string{"application/json", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"} {
		f, ok := ser.ContentTypeAssociatedFactories[ct]
		if !ok {
			t.Errorf("no serialization writer for %s", ct)
			continue
		}
		if _, proxied := f.(*store.BackingStoreSerializationWriterProxyFactory); !proxied {
			t.Errorf("serialization writer for %s is %T, not behind the backing store", ct, f)
		}
	}
	pn := absser.DefaultParseNodeFactoryInstance
	for _, ct := range []string{"application/json", "text/plain", "application/x-www-form-urlencoded"} {
		f, ok := pn.ContentTypeAssociatedFactories[ct]
		if !ok {
			t.Errorf("no parse node for %s", ct)
			continue
		}
		if _, proxied := f.(*store.BackingStoreParseNodeFactory); !proxied {
			t.Errorf("parse node for %s is %T, not behind the backing store", ct, f)
		}
	}
}

// TestRootPackageNotLinked keeps the build small: hrsync must not import
// msgraph-sdk-go's root package (or, through it, request builders it
// never uses, such as drives).
func TestRootPackageNotLinked(t *testing.T) {
	goTool := testenv.Program(t, "go", "golang (or Go from go.dev)")
	out, err := exec.Command(goTool, "list", "-deps", "github.com/hrsync/hrsync/cmd/hrsync").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	allowed := map[string]bool{
		"github.com/microsoftgraph/msgraph-sdk-go-core":               true,
		"github.com/microsoftgraph/msgraph-sdk-go/models":             true,
		"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors": true,
		"github.com/microsoftgraph/msgraph-sdk-go/models/termstore":   true, // for groups (sites)
		"github.com/microsoftgraph/msgraph-sdk-go/users":              true,
		"github.com/microsoftgraph/msgraph-sdk-go/groups":             true,
		"github.com/microsoftgraph/msgraph-sdk-go/directory":          true,
		"github.com/microsoftgraph/msgraph-sdk-go/organization":       true,
		"github.com/microsoftgraph/msgraph-sdk-go/subscribedskus":     true,
	}
	n := 0
	for _, p := range strings.Fields(string(out)) {
		if !strings.Contains(p, "microsoftgraph/") {
			continue
		}
		n++
		if !allowed[p] {
			t.Errorf("cmd/hrsync depends on %s: import the request builders it needs (see package graphsdk), not the SDK's root package", p)
		}
	}
	t.Logf("%d msgraph packages in cmd/hrsync's dependencies", n)
}
