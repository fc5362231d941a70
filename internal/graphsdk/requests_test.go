package graphsdk

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoft/kiota-abstractions-go/authentication"
	"github.com/microsoftgraph/msgraph-sdk-go/directory"
	"github.com/microsoftgraph/msgraph-sdk-go/groups"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/organization"
	"github.com/microsoftgraph/msgraph-sdk-go/subscribedskus"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
)

// This file is shared by graphsdk_test.go and, with -tags rootsdk,
// rootsdk_test.go: the requests hrsync makes, built through anything that
// hands out the request builders.

// builders is what both *Client and msgraphsdk.GraphServiceClient offer.
type builders interface {
	Users() *users.UsersRequestBuilder
	Groups() *groups.GroupsRequestBuilder
	Directory() *directory.DirectoryRequestBuilder
	Organization() *organization.OrganizationRequestBuilder
	SubscribedSkus() *subscribedskus.SubscribedSkusRequestBuilder
}

type request struct {
	name  string
	build func(context.Context, builders) (*abs.RequestInformation, error)
}

func ptr[T any](v T) *T { return &v }

// requests are one of each request hrsync's internal/entra builds.
func requests() []request {
	top := int32(999)
	filter := "employeeId eq '1001'"
	return []request{
		{"list users", func(ctx context.Context, b builders) (*abs.RequestInformation, error) {
			return b.Users().ToGetRequestInformation(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
				QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Select: []string{"id", "displayName"}, Top: &top,
					Expand: []string{"manager($select=id)"}}})
		}},
		{"find user", func(ctx context.Context, b builders) (*abs.RequestInformation, error) {
			return b.Users().ToGetRequestInformation(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
				QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Select: []string{"id"}, Filter: &filter}})
		}},
		{"users delta", func(ctx context.Context, b builders) (*abs.RequestInformation, error) {
			return b.Users().Delta().ToGetRequestInformation(ctx, &users.DeltaRequestBuilderGetRequestConfiguration{
				QueryParameters: &users.DeltaRequestBuilderGetQueryParameters{Select: []string{"id", "manager"}}})
		}},
		{"next link", func(ctx context.Context, b builders) (*abs.RequestInformation, error) {
			return b.Users().Delta().WithUrl("https://graph.example/v1.0/users/delta?$skiptoken=abc").ToGetRequestInformation(ctx, nil)
		}},
		{"get user", func(ctx context.Context, b builders) (*abs.RequestInformation, error) {
			return b.Users().ByUserId("u1").ToGetRequestInformation(ctx, &users.UserItemRequestBuilderGetRequestConfiguration{
				QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{Select: []string{"id"}, Expand: []string{"manager($select=id)"}}})
		}},
		{"create user", func(ctx context.Context, b builders) (*abs.RequestInformation, error) {
			u := models.NewUser()
			u.SetDisplayName(ptr("José García"))
			u.SetAccountEnabled(ptr(true))
			u.SetAdditionalData(map[string]any{"jobTitle": nil})
			pp := models.NewPasswordProfile()
			pp.SetPassword(ptr("pw"))
			u.SetPasswordProfile(pp)
			return b.Users().ToPostRequestInformation(ctx, u, nil)
		}},
		{"update user", func(ctx context.Context, b builders) (*abs.RequestInformation, error) {
			u := models.NewUser()
			u.SetDepartment(ptr("Sales"))
			return b.Users().ByUserId("u1").ToPatchRequestInformation(ctx, u, nil)
		}},
		{"set manager", func(ctx context.Context, b builders) (*abs.RequestInformation, error) {
			ref := models.NewReferenceUpdate()
			ref.SetOdataId(ptr("https://graph.example/v1.0/users/m1"))
			return b.Users().ByUserId("u1").Manager().Ref().ToPutRequestInformation(ctx, ref, nil)
		}},
		{"remove manager", func(ctx context.Context, b builders) (*abs.RequestInformation, error) {
			return b.Users().ByUserId("u1").Manager().Ref().ToDeleteRequestInformation(ctx, nil)
		}},
		{"revoke sessions", func(ctx context.Context, b builders) (*abs.RequestInformation, error) {
			return b.Users().ByUserId("u1").RevokeSignInSessions().ToPostRequestInformation(ctx, nil)
		}},
		{"assign license", func(ctx context.Context, b builders) (*abs.RequestInformation, error) {
			body := users.NewItemAssignLicensePostRequestBody()
			body.SetAddLicenses([]models.AssignedLicenseable{})
			body.SetAdditionalData(map[string]any{"removeLicenses": []string{"s1"}})
			return b.Users().ByUserId("u1").AssignLicense().ToPostRequestInformation(ctx, body, nil)
		}},
		{"delete user", func(ctx context.Context, b builders) (*abs.RequestInformation, error) {
			return b.Users().ByUserId("u1").ToDeleteRequestInformation(ctx, nil)
		}},
		{"deleted users", func(ctx context.Context, b builders) (*abs.RequestInformation, error) {
			return b.Directory().DeletedItems().GraphUser().ToGetRequestInformation(ctx,
				&directory.DeletedItemsGraphUserRequestBuilderGetRequestConfiguration{
					QueryParameters: &directory.DeletedItemsGraphUserRequestBuilderGetQueryParameters{Select: []string{"id"}, Top: &top}})
		}},
		{"restore user", func(ctx context.Context, b builders) (*abs.RequestInformation, error) {
			return b.Directory().DeletedItems().ByDirectoryObjectId("u1").Restore().ToPostRequestInformation(ctx, nil)
		}},
		{"list groups", func(ctx context.Context, b builders) (*abs.RequestInformation, error) {
			return b.Groups().ToGetRequestInformation(ctx, &groups.GroupsRequestBuilderGetRequestConfiguration{
				QueryParameters: &groups.GroupsRequestBuilderGetQueryParameters{Select: []string{"id", "displayName"}}})
		}},
		{"group members", func(ctx context.Context, b builders) (*abs.RequestInformation, error) {
			return b.Groups().ByGroupId("g1").Members().GraphUser().ToGetRequestInformation(ctx,
				&groups.ItemMembersGraphUserRequestBuilderGetRequestConfiguration{
					QueryParameters: &groups.ItemMembersGraphUserRequestBuilderGetQueryParameters{Select: []string{"id"}, Top: &top}})
		}},
		{"add member", func(ctx context.Context, b builders) (*abs.RequestInformation, error) {
			ref := models.NewReferenceCreate()
			ref.SetOdataId(ptr("https://graph.example/v1.0/directoryObjects/u1"))
			return b.Groups().ByGroupId("g1").Members().Ref().ToPostRequestInformation(ctx, ref, nil)
		}},
		{"remove member", func(ctx context.Context, b builders) (*abs.RequestInformation, error) {
			return b.Groups().ByGroupId("g1").Members().ByDirectoryObjectId("u1").Ref().ToDeleteRequestInformation(ctx, nil)
		}},
		{"organization", func(ctx context.Context, b builders) (*abs.RequestInformation, error) {
			return b.Organization().ToGetRequestInformation(ctx, &organization.OrganizationRequestBuilderGetRequestConfiguration{
				QueryParameters: &organization.OrganizationRequestBuilderGetQueryParameters{Select: []string{"id"}}})
		}},
		{"subscribed skus", func(ctx context.Context, b builders) (*abs.RequestInformation, error) {
			return b.SubscribedSkus().ToGetRequestInformation(ctx, nil)
		}},
	}
}

// wire is a request as the adapter would send it: method, URL, headers
// (without the per-request client-request-id), body.
type wire struct {
	method, url, headers, body string
}

// toWire builds r through b and has adapter turn it into an *http.Request.
func toWire(t *testing.T, r request, b builders, adapter abs.RequestAdapter) wire {
	t.Helper()
	ctx := context.Background()
	ri, err := r.build(ctx, b)
	if err != nil {
		t.Fatalf("%s: build: %v", r.name, err)
	}
	native, err := adapter.ConvertToNativeRequest(ctx, ri)
	if err != nil {
		t.Fatalf("%s: convert: %v", r.name, err)
	}
	req := native.(*http.Request)
	var hdr []string
	for k, vs := range req.Header {
		hdr = append(hdr, k+": "+strings.Join(vs, ", "))
	}
	sort.Strings(hdr)
	var body []byte
	if req.Body != nil {
		if body, err = io.ReadAll(req.Body); err != nil {
			t.Fatalf("%s: body: %v", r.name, err)
		}
	}
	u, _ := url.PathUnescape(req.URL.String())
	return wire{method: req.Method, url: u, headers: strings.Join(hdr, "\n"), body: string(body)}
}

// staticToken is an AccessTokenProvider with a fixed token.
type staticToken string

func (s staticToken) GetAuthorizationToken(context.Context, *url.URL, map[string]any) (string, error) {
	return string(s), nil
}

func (s staticToken) GetAllowedHostsValidator() *authentication.AllowedHostsValidator {
	v, _ := authentication.NewAllowedHostsValidatorErrorCheck(nil)
	return v
}

func testAuth() authentication.AuthenticationProvider {
	return authentication.NewBaseBearerTokenAuthenticationProvider(staticToken("t0ken"))
}
