// Package entra reads and writes Entra ID users through Microsoft Graph with
// msgraph-sdk-go. It translates between Graph's user model and hrsync's
// canonical identity.Attrs, and Graph's errors into *GraphError.
package entra

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/hrsync/hrsync/internal/identity"
)

// Options configures a Client.
type Options struct {
	// GraphURL is the Graph endpoint without /v1.0, e.g. https://graph.microsoft.com.
	GraphURL string
	Auth     Auth
	// Timeout bounds each HTTP request (default 100 s).
	Timeout time.Duration
}

// Client talks to one Graph endpoint.
type Client struct {
	gs       *msgraphsdk.GraphServiceClient
	graphURL string
	tenant   tenantEntry // cached tenant id, see Tenant
}

// New builds a client; it does not contact Graph.
func New(opts Options) (*Client, error) {
	graphURL := strings.TrimRight(opts.GraphURL, "/")
	ap, err := authProvider(opts.Auth, graphURL)
	if err != nil {
		return nil, err
	}
	hc := msgraphcore.GetDefaultClient(&msgraphcore.GraphClientOptions{GraphServiceVersion: "v1.0"})
	if opts.Timeout > 0 {
		hc.Timeout = opts.Timeout
	}
	adapter, err := msgraphsdk.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(ap, nil, nil, hc)
	if err != nil {
		return nil, fmt.Errorf("graph client: %w", err)
	}
	adapter.SetBaseUrl(graphURL + "/v1.0")
	return &Client{gs: msgraphsdk.NewGraphServiceClient(adapter), graphURL: graphURL}, nil
}

// Endpoint is the Graph URL the client talks to.
func (c *Client) Endpoint() string { return c.graphURL }

// GraphError is an error Graph returned, reduced to what a person needs:
// the HTTP status, Graph's code, detail code and message. It never holds
// request bodies, so no password or token can leak through it.
type GraphError struct {
	Op         string
	Status     int
	Code       string
	DetailCode string
	Message    string
}

func (e *GraphError) Error() string {
	code := e.Code
	if e.DetailCode != "" {
		code += "/" + e.DetailCode
	}
	if e.Status > 0 {
		return fmt.Sprintf("%s: graph %d %s: %s%s", e.Op, e.Status, code, e.Message, hint(e.Status))
	}
	return fmt.Sprintf("%s: %s", e.Op, e.Message)
}

// hint says what to do about authentication and permission failures.
func hint(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return " (the token was refused: check the credentials, tenant_id and client_id, or mint a fresh token)"
	case http.StatusForbidden:
		return " (the app needs the Microsoft Graph application permission User.ReadWrite.All with admin consent)"
	}
	return ""
}

// IsConflict reports a create that failed because the UPN (or another
// unique property) is already taken.
func IsConflict(err error) bool {
	var ge *GraphError
	return errors.As(err, &ge) && (ge.DetailCode == "ObjectConflict" || strings.Contains(ge.Message, "already exists"))
}

// IsNotFound reports Graph's 404 Request_ResourceNotFound.
func IsNotFound(err error) bool {
	var ge *GraphError
	return errors.As(err, &ge) && (ge.Status == http.StatusNotFound || ge.Code == "Request_ResourceNotFound")
}

func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var oe *odataerrors.ODataError
	if errors.As(err, &oe) {
		ge := &GraphError{Op: op, Status: oe.ResponseStatusCode}
		if me := oe.GetErrorEscaped(); me != nil {
			ge.Code = deref(me.GetCode())
			ge.Message = deref(me.GetMessage())
			for _, d := range me.GetDetails() {
				if dc := deref(d.GetCode()); dc != "" {
					ge.DetailCode = dc
					break
				}
			}
		}
		if ge.Message == "" {
			ge.Message = oe.Error()
		}
		return ge
	}
	var ae *abs.ApiError
	if errors.As(err, &ae) {
		return &GraphError{Op: op, Status: ae.ResponseStatusCode, Message: ae.Error()}
	}
	return fmt.Errorf("%s: %w", op, err)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// PageSize is the largest page Graph serves for users.
const PageSize = 999

// ListUsers reads every user with the given attributes (and the manager's
// id when withManager), following nextLinks verbatim. A read that fails
// part way fails whole: a partial directory must never be diffed.
// progress, if not nil, is called with the running count.
func (c *Client) ListUsers(ctx context.Context, attrs []string, withManager bool, progress func(int)) ([]identity.User, error) {
	sel := selectFor(attrs)
	top := int32(PageSize)
	q := &users.UsersRequestBuilderGetQueryParameters{Select: sel, Top: &top}
	if withManager {
		q.Expand = []string{"manager($select=id)"}
	}
	resp, err := c.gs.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{QueryParameters: q})
	if err != nil {
		return nil, wrap("list users", err)
	}
	var out []identity.User
	for page := 1; ; page++ {
		for _, u := range resp.GetValue() {
			out = append(out, toUser(u, attrs))
		}
		if progress != nil {
			progress(len(out))
		}
		next := resp.GetOdataNextLink()
		if next == nil || *next == "" {
			return out, nil
		}
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		resp, err = c.gs.Users().WithUrl(*next).Get(ctx, nil)
		if err != nil {
			return nil, wrap(fmt.Sprintf("list users (page %d)", page+1), err)
		}
	}
}

// FindByAttr returns the users whose attribute equals value.
func (c *Client) FindByAttr(ctx context.Context, attr, value string, attrs []string) ([]identity.User, error) {
	filter := fmt.Sprintf("%s eq '%s'", attr, strings.ReplaceAll(value, "'", "''"))
	q := &users.UsersRequestBuilderGetQueryParameters{Select: selectFor(attrs), Filter: &filter}
	resp, err := c.gs.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{QueryParameters: q})
	if err != nil {
		return nil, wrap("find user", err)
	}
	var out []identity.User
	for _, u := range resp.GetValue() {
		out = append(out, toUser(u, attrs))
	}
	return out, nil
}

func selectFor(attrs []string) []string {
	set := map[string]bool{"id": true}
	sel := []string{"id"}
	for _, a := range attrs {
		top := a
		if i := strings.IndexByte(a, '.'); i > 0 {
			top = a[:i]
		}
		if !set[top] {
			set[top] = true
			sel = append(sel, top)
		}
	}
	return sel
}

// CreateUser creates a user with the given attributes and initial password
// (the user must change it at first sign-in). It returns the new object id.
func (c *Client) CreateUser(ctx context.Context, attrs identity.Attrs, password string) (string, error) {
	u := models.NewUser()
	for name, v := range attrs {
		if err := setAttr(u, name, &v); err != nil {
			return "", fmt.Errorf("create user: %w", err)
		}
	}
	if _, ok := attrs["accountEnabled"]; !ok {
		t := true
		u.SetAccountEnabled(&t)
	}
	pp := models.NewPasswordProfile()
	pp.SetPassword(&password)
	force := true
	pp.SetForceChangePasswordNextSignIn(&force)
	u.SetPasswordProfile(pp)
	created, err := c.gs.Users().Post(ctx, u, nil)
	if err != nil {
		return "", wrap("create user "+attrs["userPrincipalName"], err)
	}
	return deref(created.GetId()), nil
}

// UpdateUser patches the given attributes; a nil value clears one.
func (c *Client) UpdateUser(ctx context.Context, id string, set map[string]*string) error {
	u := models.NewUser()
	for name, v := range set {
		if err := setAttr(u, name, v); err != nil {
			return fmt.Errorf("update user %s: %w", id, err)
		}
	}
	_, err := c.gs.Users().ByUserId(id).Patch(ctx, u, nil)
	return wrap("update user "+id, err)
}

// SetManager points the user's manager reference at managerID.
func (c *Client) SetManager(ctx context.Context, id, managerID string) error {
	ref := models.NewReferenceUpdate()
	odataID := c.graphURL + "/v1.0/users/" + managerID
	ref.SetOdataId(&odataID)
	return wrap("set manager of "+id, c.gs.Users().ByUserId(id).Manager().Ref().Put(ctx, ref, nil))
}

// RemoveManager removes the user's manager; a user without one is fine.
func (c *Client) RemoveManager(ctx context.Context, id string) error {
	err := wrap("remove manager of "+id, c.gs.Users().ByUserId(id).Manager().Ref().Delete(ctx, nil))
	if IsNotFound(err) {
		return nil
	}
	return err
}

// toUser converts a Graph user into canonical attributes.
func toUser(u models.Userable, attrs []string) identity.User {
	out := identity.User{ID: deref(u.GetId()), Attrs: make(identity.Attrs, len(attrs))}
	for _, a := range attrs {
		if v := getAttr(u, a); v != "" {
			out.Attrs[a] = v
		}
	}
	if m := u.GetManager(); m != nil {
		out.ManagerID = deref(m.GetId())
	}
	return out
}

type accessor struct {
	get func(models.Userable) *string
	set func(models.Userable, *string)
}

func str(get func(models.Userable) *string, set func(models.Userable, *string)) accessor {
	return accessor{get: get, set: set}
}

// accessors maps attribute names to the SDK's typed getters and setters.
func accessors(name string) (accessor, bool) {
	switch name {
	case "displayName":
		return str(models.Userable.GetDisplayName, models.Userable.SetDisplayName), true
	case "givenName":
		return str(models.Userable.GetGivenName, models.Userable.SetGivenName), true
	case "surname":
		return str(models.Userable.GetSurname, models.Userable.SetSurname), true
	case "userPrincipalName":
		return str(models.Userable.GetUserPrincipalName, models.Userable.SetUserPrincipalName), true
	case "mailNickname":
		return str(models.Userable.GetMailNickname, models.Userable.SetMailNickname), true
	case "mail":
		return str(models.Userable.GetMail, models.Userable.SetMail), true
	case "jobTitle":
		return str(models.Userable.GetJobTitle, models.Userable.SetJobTitle), true
	case "department":
		return str(models.Userable.GetDepartment, models.Userable.SetDepartment), true
	case "companyName":
		return str(models.Userable.GetCompanyName, models.Userable.SetCompanyName), true
	case "officeLocation":
		return str(models.Userable.GetOfficeLocation, models.Userable.SetOfficeLocation), true
	case "employeeId":
		return str(models.Userable.GetEmployeeId, models.Userable.SetEmployeeId), true
	case "employeeType":
		return str(models.Userable.GetEmployeeType, models.Userable.SetEmployeeType), true
	case "streetAddress":
		return str(models.Userable.GetStreetAddress, models.Userable.SetStreetAddress), true
	case "city":
		return str(models.Userable.GetCity, models.Userable.SetCity), true
	case "state":
		return str(models.Userable.GetState, models.Userable.SetState), true
	case "postalCode":
		return str(models.Userable.GetPostalCode, models.Userable.SetPostalCode), true
	case "country":
		return str(models.Userable.GetCountry, models.Userable.SetCountry), true
	case "usageLocation":
		return str(models.Userable.GetUsageLocation, models.Userable.SetUsageLocation), true
	case "mobilePhone":
		return str(models.Userable.GetMobilePhone, models.Userable.SetMobilePhone), true
	case "preferredLanguage":
		return str(models.Userable.GetPreferredLanguage, models.Userable.SetPreferredLanguage), true
	}
	return accessor{}, false
}

// getAttr reads one attribute in canonical form ("" when unset).
func getAttr(u models.Userable, name string) string {
	switch name {
	case "accountEnabled":
		if b := u.GetAccountEnabled(); b != nil {
			return strconv.FormatBool(*b)
		}
		return ""
	case "employeeHireDate":
		if t := u.GetEmployeeHireDate(); t != nil {
			return t.UTC().Format(time.RFC3339)
		}
		return ""
	case "employeeOrgData.division", "employeeOrgData.costCenter":
		od := u.GetEmployeeOrgData()
		if od == nil {
			return ""
		}
		if name == "employeeOrgData.division" {
			return deref(od.GetDivision())
		}
		return deref(od.GetCostCenter())
	}
	if acc, ok := accessors(name); ok {
		return deref(acc.get(u))
	}
	return ""
}

// setAttr writes one attribute; nil clears it (Graph wants null, not "").
func setAttr(u models.Userable, name string, v *string) error {
	if v != nil && *v == "" {
		v = nil
	}
	switch name {
	case "accountEnabled":
		if v == nil {
			return errors.New("accountEnabled cannot be cleared")
		}
		b, err := strconv.ParseBool(*v)
		if err != nil {
			return fmt.Errorf("accountEnabled %q: %w", *v, err)
		}
		u.SetAccountEnabled(&b)
		return nil
	case "employeeHireDate":
		if v == nil {
			setNull(u, name)
			return nil
		}
		t, err := time.Parse(time.RFC3339, *v)
		if err != nil {
			return fmt.Errorf("employeeHireDate %q: %w", *v, err)
		}
		u.SetEmployeeHireDate(&t)
		return nil
	case "employeeOrgData.division", "employeeOrgData.costCenter":
		od := u.GetEmployeeOrgData()
		if od == nil {
			od = models.NewEmployeeOrgData()
			u.SetEmployeeOrgData(od)
		}
		field := strings.TrimPrefix(name, "employeeOrgData.")
		if v == nil {
			ad := od.GetAdditionalData()
			if ad == nil {
				ad = map[string]any{}
			}
			ad[field] = nil
			od.SetAdditionalData(ad)
			return nil
		}
		if field == "division" {
			od.SetDivision(v)
		} else {
			od.SetCostCenter(v)
		}
		return nil
	}
	acc, ok := accessors(name)
	if !ok {
		return fmt.Errorf("attribute %s cannot be written", name)
	}
	if v == nil {
		setNull(u, name)
		return nil
	}
	acc.set(u, v)
	return nil
}

// setNull makes the serialised body carry "name": null.
func setNull(u models.Userable, name string) {
	ad := u.GetAdditionalData()
	if ad == nil {
		ad = map[string]any{}
	}
	ad[name] = nil
	u.SetAdditionalData(ad)
}
