package entra

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/hrsync/hrsync/internal/guid"
	"net/http"
	"strings"
	"sync"

	"github.com/microsoftgraph/msgraph-sdk-go/organization"
)

// Tenant returns the id (a lower-case GUID) of the tenant whose directory the
// client talks to, so that a saved plan is applied only to the tenant it was
// made for even when the configuration names no tenant (access_token,
// azure_cli, managed_identity).
//
// It asks the cheapest source first:
//
//  1. the tid claim of the bearer token the client sends to Graph, when that
//     token is a JWT (Entra's are). The token comes from the client's own
//     authentication provider, exactly as for a Graph request, and is only
//     read, never verified (this identifies the tenant, it does not
//     authenticate anything), logged or returned;
//  2. otherwise GET /organization?$select=id, which needs
//     Organization.Read.All (or Directory.Read.All) for an application.
//
// The result is cached per Client after the first success; failures are not
// cached. Concurrent callers wait for one detection.
func (c *Client) Tenant(ctx context.Context) (string, error) {
	e := &c.tenant
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.id != "" {
		return e.id, nil
	}
	id, err := c.detectTenant(ctx)
	if err != nil {
		return "", err
	}
	e.id = id
	return id, nil
}

func (c *Client) detectTenant(ctx context.Context) (string, error) {
	tok, err := c.bearerToken(ctx)
	if err != nil {
		return "", err
	}
	if tid, ok := TenantFromToken(tok); ok {
		return tid, nil
	}
	return c.tenantFromGraph(ctx)
}

// orgIDQuery is GET /organization?$select=id.
func orgIDQuery() *organization.OrganizationRequestBuilderGetRequestConfiguration {
	return &organization.OrganizationRequestBuilderGetRequestConfiguration{
		QueryParameters: &organization.OrganizationRequestBuilderGetQueryParameters{Select: []string{"id"}},
	}
}

// bearerToken returns the bearer token the client would send with
// GET /organization, or "" if it sends none. It asks the request adapter
// to turn that request into an *http.Request (the adapter's authentication
// provider adds the Authorization header then) without sending it.
func (c *Client) bearerToken(ctx context.Context) (string, error) {
	ri, err := c.gs.Organization().ToGetRequestInformation(ctx, orgIDQuery())
	if err != nil {
		return "", fmt.Errorf("tenant id: build request: %w", err)
	}
	native, err := c.gs.GetAdapter().ConvertToNativeRequest(ctx, ri)
	if err != nil {
		return "", fmt.Errorf("tenant id: authenticate: %w", err)
	}
	req, ok := native.(*http.Request)
	if !ok {
		return "", nil
	}
	scheme, tok, _ := strings.Cut(strings.TrimSpace(req.Header.Get("Authorization")), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", nil
	}
	return strings.TrimSpace(tok), nil
}

// tenantFromGraph reads the id of the one organization object.
func (c *Client) tenantFromGraph(ctx context.Context) (string, error) {
	const op = "read tenant id (GET /organization)"
	resp, err := c.gs.Organization().Get(ctx, orgIDQuery())
	if err != nil {
		err = withPermission(wrap(op, err), PermOrganization)
		var ge *GraphError
		if errors.As(err, &ge) && ge.Status == http.StatusForbidden {
			return "", &orgForbiddenError{ge: ge}
		}
		return "", err
	}
	orgs := resp.GetValue()
	if len(orgs) != 1 {
		return "", fmt.Errorf("%s: Graph returned %d organizations, want 1", op, len(orgs))
	}
	id := deref(orgs[0].GetId())
	if !guid.Valid(id) {
		return "", fmt.Errorf("%s: the organization id %q is not a GUID", op, id)
	}
	return strings.ToLower(id), nil
}

// orgForbiddenError is a 403 from GET /organization: besides the missing
// permission, it says that setting tenant_id spares the read.
type orgForbiddenError struct{ ge *GraphError }

func (e *orgForbiddenError) Error() string {
	code := e.ge.Code
	if e.ge.DetailCode != "" {
		code += "/" + e.ge.DetailCode
	}
	return fmt.Sprintf("%s: graph %d %s: %s (reading the tenant id needs the Microsoft Graph application permission "+
		"Organization.Read.All, or set tenant_id in the config)", e.ge.Op, e.ge.Status, code, e.ge.Message)
}

func (e *orgForbiddenError) Unwrap() error { return e.ge }

// maxTokenLen bounds the tokens TenantFromToken decodes (Entra's access
// tokens are a few KB).
const maxTokenLen = 64 << 10

// TenantFromToken returns the tenant id in the tid claim of a JWT access
// token (with or without a "Bearer " prefix), lower-cased, and whether there
// was one. The signature is not checked: this identifies the tenant a token
// was issued for, it does not authenticate. Anything that is not a JWS
// compact token whose payload holds a GUID tid (opaque tokens, encrypted
// tokens, garbage) yields "", false. The token is never logged or returned.
func TenantFromToken(token string) (string, bool) {
	token = strings.TrimSpace(token)
	if len(token) > 7 && strings.EqualFold(token[:7], "bearer ") {
		token = strings.TrimSpace(token[7:])
	}
	if len(token) > maxTokenLen {
		return "", false
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", false
	}
	var header map[string]any
	if !decodeJWTPart(parts[0], &header) || header == nil {
		return "", false
	}
	var claims struct {
		Tid string `json:"tid"`
	}
	if !decodeJWTPart(parts[1], &claims) || !guid.Valid(claims.Tid) {
		return "", false
	}
	return strings.ToLower(claims.Tid), true
}

// decodeJWTPart decodes one base64url JSON part of a JWT into v.
func decodeJWTPart(part string, v any) bool {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(part, "="))
	if err != nil {
		return false
	}
	return json.Unmarshal(raw, v) == nil
}

// tenantEntry is the cached tenant id of one Client; its zero value is ready.
type tenantEntry struct {
	mu sync.Mutex // held while reading or detecting
	id string     // "" until detected
}
