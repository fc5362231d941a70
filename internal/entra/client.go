// Package entra reads and writes Entra ID users through Microsoft Graph with
// msgraph-sdk-go: users (also deleted ones, which it restores), their
// managers, group memberships and licenses. It translates between Graph's
// user model and hrsync's canonical identity.Attrs, and Graph's errors into
// *GraphError.
package entra

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	khttp "github.com/microsoft/kiota-http-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/hrsync/hrsync/internal/directory"
	"github.com/hrsync/hrsync/internal/graphsdk"
	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/loopback"
	"github.com/hrsync/hrsync/internal/pacer"
)

// Options configures a Client.
type Options struct {
	// GraphURL is the Graph endpoint without /v1.0, e.g. https://graph.microsoft.com.
	GraphURL string
	Auth     Auth
	// Timeout bounds each attempt of an HTTP request (0: no bound but the
	// context's). Waits between retries are bounded by the context only.
	Timeout time.Duration
	// Concurrency is how many $batch requests Do keeps in flight
	// (default 4).
	Concurrency int
	// Pacer spaces requests out when Graph throttles; nil makes a default
	// one that paces writes to GraphWriteBudget (see package pacer).
	Pacer *pacer.Pacer
	// Clock is the time source for retries; nil is the wall clock.
	Clock pacer.Clock
	// Log receives debug records of retries; nil discards.
	Log *slog.Logger
}

// DefaultConcurrency is the number of $batch requests in flight: Graph's
// write limit (3,000 per 150 s per app and tenant) is reached with a few
// batches of 20, and more only earns 429s.
const DefaultConcurrency = 4

// GraphWriteBudget is the write limit Microsoft Graph states for identity
// and access per application and tenant: 3,000 writes per 150 s, a token
// bucket (a burst of 3,000, then 20 writes a second). The default pacer
// paces writes to it; a 429 that names the write limit
// (x-ms-throttle-information: WriteLimitExceeded) tells it the bucket ran
// dry, and the drains that follow measure what the tenant actually grants.
var GraphWriteBudget = pacer.Budget{Limit: 3000, Window: 150 * time.Second}

// Client talks to one Graph endpoint.
type Client struct {
	gs          *graphsdk.Client
	adapter     abs.RequestAdapter
	graphURL    string
	tenant      tenantEntry // cached tenant id, see Tenant
	pacer       *pacer.Pacer
	clock       pacer.Clock
	retry       *retryHandler
	concurrency int
	log         *slog.Logger
	hc          *http.Client
	scheme      ReadScheme // how full reads fetch pages (see partition.go)
}

// New builds a client; it does not contact Graph.
func New(opts Options) (*Client, error) {
	graphURL := strings.TrimRight(opts.GraphURL, "/")
	ap, err := authProvider(opts.Auth, graphURL)
	if err != nil {
		return nil, err
	}
	c := &Client{graphURL: graphURL, pacer: opts.Pacer, clock: opts.Clock, concurrency: opts.Concurrency}
	if c.clock == nil {
		c.clock = pacer.RealClock{}
	}
	if c.pacer == nil {
		c.pacer = pacer.New(pacer.Options{Clock: c.clock, Writes: GraphWriteBudget})
	}
	if c.concurrency <= 0 {
		c.concurrency = DefaultConcurrency
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c.log = log
	c.retry = &retryHandler{pacer: c.pacer, clock: c.clock, backoff: pacer.DefaultBackoff(), log: log, attemptTimeout: opts.Timeout}
	hc := khttp.GetDefaultClient()
	hc.Transport = khttp.NewCustomTransportWithParentTransport(parentTransport(), middlewares(c.retry)...)
	// kiota's client gives up after 100 s, which would cut throttling
	// waits and retries short: attempts have their own timeout, and the
	// run's deadline bounds the rest.
	hc.Timeout = 0
	c.hc = hc
	// msgraph-sdk-go-core creates its error registry lazily without a
	// lock; the first $batch responses would race for it.
	_, _ = msgraphcore.GetErrorFactoryFromRegistry(msgraphcore.BatchRequestErrorRegistryKey)
	// The adapter and request builders msgraph-sdk-go's own constructors
	// make, without its root package (see package graphsdk).
	adapter, err := graphsdk.NewAdapter(ap, hc)
	if err != nil {
		return nil, fmt.Errorf("graph client: %w", err)
	}
	adapter.SetBaseUrl(graphURL + "/v1.0")
	c.adapter = adapter
	c.gs = graphsdk.New(adapter)
	return c, nil
}

// parentTransport is kiota's default transport with the environment's
// proxy, never for a loopback host: graph_url may be plain http only for
// loopback, because such requests never leave the machine (Go's own proxy
// selection skips only a lower-case "localhost").
func parentTransport() http.RoundTripper {
	tr, ok := khttp.GetDefaultTransport().(*http.Transport)
	if !ok {
		return khttp.GetDefaultTransport()
	}
	tr.Proxy = loopback.Proxy()
	return tr
}

// Close closes the client's idle connections. A server shutting down
// (the sandbox) would otherwise wait for connections the client dialled
// but never used.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// Pacer is the client's pacer (for its statistics).
func (c *Client) Pacer() *pacer.Pacer { return c.pacer }

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
	// Permission names the Microsoft Graph application permission(s) the
	// operation needs, e.g. "GroupMember.ReadWrite.All"; a 403's message
	// suggests it ("" suggests PermUsers).
	Permission string
}

func (e *GraphError) Error() string {
	code := e.Code
	if e.DetailCode != "" {
		code += "/" + e.DetailCode
	}
	if e.Status > 0 {
		if code != "" {
			code = " " + code
		}
		return fmt.Sprintf("%s: graph %d%s: %s%s", e.Op, e.Status, code, e.Message, hint(e.Status, e.Permission))
	}
	return fmt.Sprintf("%s: %s", e.Op, e.Message)
}

// The Microsoft Graph application permissions hrsync's operations need;
// the hint of a 403 names the one of the operation that failed. (Graph
// also accepts broader ones, such as Directory.ReadWrite.All, and for some
// operations narrower ones: User.RevokeSessions.All for
// revokeSignInSessions, LicenseAssignment.Read.All for subscribedSkus.)
const (
	// PermUsers: users (read, create, update, manager, revoke sessions),
	// deleted items, restore, delete.
	PermUsers = "User.ReadWrite.All"
	// PermLifecycleWrite: writing employeeLeaveDateTime, besides PermUsers.
	PermLifecycleWrite = "User.ReadWrite.All and User-LifeCycleInfo.ReadWrite.All"
	// PermLifecycleRead: reading employeeLeaveDateTime, besides PermUsers.
	PermLifecycleRead = "User.ReadWrite.All and User-LifeCycleInfo.Read.All"
	// PermGroupsRead: reading groups and their members.
	PermGroupsRead = "GroupMember.Read.All"
	// PermGroupsWrite: adding and removing group members.
	PermGroupsWrite = "GroupMember.ReadWrite.All"
	// PermLicenses: assignLicense.
	PermLicenses = "LicenseAssignment.ReadWrite.All (or User.ReadWrite.All)"
	// PermOrganization: subscribedSkus and /organization.
	PermOrganization = "Organization.Read.All"
)

// hint says what to do about authentication and permission failures; perm
// is the permission the operation needs ("" = PermUsers).
func hint(status int, perm string) string {
	switch status {
	case http.StatusUnauthorized:
		return " (the token was refused: check the credentials, tenant_id and client_id, or mint a fresh token)"
	case http.StatusForbidden:
		if perm == "" {
			perm = PermUsers
		}
		noun := "permission"
		if strings.Contains(perm, " and ") {
			noun = "permissions"
		}
		return fmt.Sprintf(" (the app needs the Microsoft Graph application %s %s with admin consent)", noun, perm)
	}
	return ""
}

// withPermission records on a *GraphError in err the permission its
// operation needs, unless one is set; it returns err.
func withPermission(err error, perm string) error {
	var ge *GraphError
	if errors.As(err, &ge) && ge.Permission == "" {
		ge.Permission = perm
	}
	return err
}

// readPermission is the permission a read of attrs needs.
func readPermission(attrs []string) string {
	if slices.Contains(attrs, "employeeLeaveDateTime") {
		return PermLifecycleRead
	}
	return PermUsers
}

// ErrorCode is Graph's code and detail code, e.g.
// "Request_BadRequest/ObjectConflict", as reports show it.
func (e *GraphError) ErrorCode() string {
	if e.DetailCode != "" {
		return e.Code + "/" + e.DetailCode
	}
	return e.Code
}

// Is matches the directory port's sentinel errors: a 404 is
// directory.ErrNotFound, a duplicate unique value directory.ErrConflict,
// an answer about an object Graph has not replicated yet
// directory.ErrNotReplicated, any other 400 directory.ErrRejected.
func (e *GraphError) Is(target error) bool {
	switch target {
	case directory.ErrNotFound:
		return e.Status == http.StatusNotFound || e.Code == "Request_ResourceNotFound"
	case directory.ErrConflict:
		return e.DetailCode == "ObjectConflict" || strings.Contains(e.Message, "already exists")
	case directory.ErrNotReplicated:
		return notReplicated(e)
	case directory.ErrRejected:
		return e.Status == http.StatusBadRequest && !notReplicated(e)
	case directory.ErrStateLost:
		return e.Status == http.StatusGone || strings.EqualFold(e.Code, "syncStateNotFound")
	}
	return false
}

// IsConflict reports a create that failed because the UPN (or another
// unique property) is already taken.
func IsConflict(err error) bool { return errors.Is(err, directory.ErrConflict) }

// IsNotFound reports Graph's 404 Request_ResourceNotFound.
func IsNotFound(err error) bool { return errors.Is(err, directory.ErrNotFound) }

// IsNotReplicated reports the answers Graph gives when an object it was
// just told about has not reached the replica serving the request yet
// (Entra is eventually consistent): 404 Request_ResourceNotFound ("Resource
// '...' does not exist or one of its queried reference-property objects
// are not present."), and 400 "The source resource object or one of the
// objects being referenced don't exist." (Graph's documented wording; "do
// not exist" is matched too). Such a request may succeed when retried a
// little later; other errors are false.
func IsNotReplicated(err error) bool { return errors.Is(err, directory.ErrNotReplicated) }

func notReplicated(ge *GraphError) bool {
	switch ge.Status {
	case http.StatusNotFound:
		return ge.Code == "Request_ResourceNotFound"
	case http.StatusBadRequest:
		m := strings.ToLower(ge.Message)
		return strings.Contains(m, "one of the objects being referenced") &&
			(strings.Contains(m, "don't exist") || strings.Contains(m, "do not exist") || strings.Contains(m, "don’t exist"))
	}
	return false
}

// wrap turns an error from the SDK into a *GraphError naming op, or wraps
// it with op. It never calls the SDK error's Error method: kiota's
// ODataError.Error dereferences error.message and panics on a body
// without one (500 {}, {"error":null}, {"error":{"code":"x"}}), so the
// GraphError is built from whatever status, code and message are there.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var oe *odataerrors.ODataError
	if errors.As(err, &oe) {
		ge := &GraphError{Op: op, Status: oe.ResponseStatusCode}
		ge.Code, ge.DetailCode, ge.Message = odataFields(oe)
		if ge.Message == "" {
			ge.Message = noMessage(ge.Status)
		}
		return ge
	}
	var ae *abs.ApiError
	if errors.As(err, &ae) {
		// ApiError.Error is safe: it falls back on a fixed text.
		return &GraphError{Op: op, Status: ae.ResponseStatusCode, Message: ae.Error()}
	}
	return fmt.Errorf("%s: %w", op, err)
}

// odataFields reads Graph's code, first detail code and message from a
// parsed error body; what the body lacks is "". The SDK's generated
// getters panic on a backing store that does not hold what they expect,
// so a panic here is taken as "nothing there" rather than end the run.
func odataFields(oe *odataerrors.ODataError) (code, detail, message string) {
	defer func() {
		if recover() != nil {
			code, detail, message = "", "", ""
		}
	}()
	me := oe.GetErrorEscaped()
	if me == nil {
		return "", "", ""
	}
	code, message = deref(me.GetCode()), deref(me.GetMessage())
	for _, d := range me.GetDetails() {
		if d == nil {
			continue
		}
		if dc := deref(d.GetCode()); dc != "" {
			detail = dc
			break
		}
	}
	return code, detail, message
}

// noMessage is a GraphError's message when Graph's answer carried none.
func noMessage(status int) string {
	if status <= 0 {
		return "Graph returned an error with no error message"
	}
	if t := http.StatusText(status); t != "" {
		return fmt.Sprintf("Graph returned %d (%s) with no error message", status, t)
	}
	return fmt.Sprintf("Graph returned %d with no error message", status)
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
// id when withManager; LicensesAttr reads the licenses into
// identity.User.Licenses), following nextLinks verbatim (a nextLink Graph
// repeats fails the read with ErrPagingLoop). A read that fails part way
// fails whole: a partial directory must never be diffed.
// progress, if not nil, is called with the running count.
//
// Requests are built by msgraph-sdk-go and sent through its adapter (auth,
// pacing, retries), but pages are decoded straight into a lean struct:
// kiota's generic parse tree costs about ten times as much per user, which
// is most of a plan at 100k users.
func (c *Client) ListUsers(ctx context.Context, attrs []string, withManager bool, progress func(int)) ([]identity.User, error) {
	l := identity.NewLayout(attrs) // shared by the users read
	sel := selectFor(attrs)
	top := int32(PageSize)
	q := &users.UsersRequestBuilderGetQueryParameters{Select: sel, Top: &top}
	if withManager {
		q.Expand = []string{"manager($select=id)"}
	}
	ri, err := c.gs.Users().ToGetRequestInformation(ctx, &users.UsersRequestBuilderGetRequestConfiguration{QueryParameters: q})
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	perm := readPermission(attrs)
	var out []identity.User
	followed := linkGuard{}
	for page := 1; ; page++ {
		var pg userPage
		if err := c.getJSON(ctx, ri, &pg); err != nil {
			if page == 1 {
				return nil, withPermission(wrap("list users", err), perm)
			}
			return nil, withPermission(wrap(fmt.Sprintf("list users (page %d)", page), err), perm)
		}
		if out == nil {
			out = make([]identity.User, 0, len(pg.Value))
		}
		for i := range pg.Value {
			out = append(out, pg.Value[i].toUser(attrs, l))
		}
		if progress != nil {
			progress(len(out))
		}
		if pg.NextLink == "" {
			return out, nil
		}
		if err := followed.follow(pg.NextLink, page); err != nil {
			return nil, fmt.Errorf("list users (page %d): %w", page, err)
		}
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		if ri, err = c.gs.Users().WithUrl(pg.NextLink).ToGetRequestInformation(ctx, nil); err != nil {
			return nil, fmt.Errorf("list users (page %d): %w", page+1, err)
		}
	}
}

// ReadUsers reads every user: by default in userPrincipalName partitions
// read side by side, their pages batched 20 to a $batch (see partition.go),
// with the manager through $expand=manager (pages of 100) when withManager,
// in pages of 999 without. A read that fails part way fails whole.
//
// With SchemeSequential it reads as before partitions: without the
// manager, /users pages of 999; with it, /users/delta pages of 200 with
// manager@delta, unless attrs hold a property Graph documents its delta
// query does not return (see deltaReturns): then $expand pages of 100. If
// Graph refuses the delta query (400 or 501), the $expand read is used
// instead.
func (c *Client) ReadUsers(ctx context.Context, attrs []string, withManager bool, progress func(int)) ([]identity.User, error) {
	if c.scheme != SchemeSequential {
		return c.readPartitioned(ctx, attrs, withManager, nil, nil, progress)
	}
	if !withManager || !deltaReturns(attrs) {
		return c.ListUsers(ctx, attrs, withManager, progress)
	}
	out, err := c.ListUsersDelta(ctx, attrs, true, progress)
	var ge *GraphError
	if err != nil && errors.As(err, &ge) && (ge.Status == http.StatusBadRequest || ge.Status == http.StatusNotImplemented) {
		c.log.Warn("graph refused the delta read; reading with $expand=manager instead (more requests)", "error", err)
		return c.ListUsers(ctx, attrs, true, progress)
	}
	return out, err
}

// ReadUsersWithSample reads every user as ReadUsers does, drawing the
// partitions' boundaries from sample, the userPrincipalNames of an earlier
// read, instead of reading a sample first.
func (c *Client) ReadUsersWithSample(ctx context.Context, attrs []string, withManager bool, sample []string, progress func(int)) ([]identity.User, error) {
	if sample == nil {
		sample = []string{}
	}
	return c.readPartitioned(ctx, attrs, withManager, sample, nil, progress)
}

// deltaUnsupported are the properties hrsync reads that Graph's delta
// query on users does not return, as Graph documents it:
// licenseAssignmentStates (microsoftgraph/microsoft-graph-docs#16690).
// Properties Graph refuses in a delta $select outright ("$expand/$select
// is not supported for the following properties") are refused with 400,
// which ReadUsers answers with an $expand read. Whether delta returns a
// property is decided from this documented list, never from the data:
// Graph leaves properties that are null out of delta pages
// (microsoftgraph/microsoft-graph-docs#4946), so a user without an
// employeeId says nothing about support.
var deltaUnsupported = []string{licenseStatesProp}

// deltaReturns says whether Graph's delta query returns every property
// attrs read.
func deltaReturns(attrs []string) bool {
	for _, p := range selectFor(attrs) {
		if slices.Contains(deltaUnsupported, p) {
			return false
		}
	}
	return true
}

// ListUsersDelta reads every user as ListUsers does, through
// /users/delta, which returns the manager as manager@delta on pages of up
// to 200 users (twice what $expand=manager allows). The initial round of a
// delta query may list a user twice; the later entry wins. Graph does not
// return licenseAssignmentStates (LicensesAttr) from delta: a read of it
// is refused with a 501 *GraphError before any request (see deltaReturns).
func (c *Client) ListUsersDelta(ctx context.Context, attrs []string, withManager bool, progress func(int)) ([]identity.User, error) {
	l := identity.NewLayout(attrs) // shared by the users read
	if !deltaReturns(attrs) {
		return nil, &GraphError{Op: "list users (delta)", Status: http.StatusNotImplemented, Code: "PropertyNotReturned",
			Message: "Graph's delta query does not return licenseAssignmentStates"}
	}
	sel := selectFor(attrs)
	if withManager {
		sel = append(sel, "manager")
	}
	q := &users.DeltaRequestBuilderGetQueryParameters{Select: sel}
	ri, err := c.gs.Users().Delta().ToGetRequestInformation(ctx, &users.DeltaRequestBuilderGetRequestConfiguration{QueryParameters: q})
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	var out []identity.User
	at := map[string]int{}
	removed := 0
	followed := linkGuard{}
	for page := 1; ; page++ {
		var pg userPage
		if err := c.getJSON(ctx, ri, &pg); err != nil {
			return nil, withPermission(wrap(fmt.Sprintf("list users (delta page %d)", page), err), readPermission(attrs))
		}
		for i := range pg.Value {
			u := &pg.Value[i]
			j, seen := at[u.ID]
			switch {
			case u.Removed != nil && seen:
				// Listed, then deleted while the round was read.
				out[j].ID = ""
				delete(at, u.ID)
				removed++
			case u.Removed != nil:
			case seen:
				// The initial round may list a user twice: the later entry
				// wins, but the manager only changes with manager@delta.
				mgr := out[j].ManagerID
				out[j] = u.toUser(attrs, l)
				if u.ManagerDelta == nil {
					out[j].ManagerID = mgr
				}
			default:
				at[u.ID] = len(out)
				out = append(out, u.toUser(attrs, l))
			}
		}
		if progress != nil {
			progress(len(out))
		}
		if pg.NextLink == "" {
			if pg.DeltaLink == "" {
				return nil, fmt.Errorf("list users (delta page %d): Graph ended the round without a deltaLink; the read may be incomplete", page)
			}
			if removed > 0 {
				kept := out[:0]
				for _, u := range out {
					if u.ID != "" {
						kept = append(kept, u)
					}
				}
				out = kept
			}
			return out, nil
		}
		if err := followed.follow(pg.NextLink, page); err != nil {
			return nil, fmt.Errorf("list users (delta page %d): %w", page, err)
		}
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		if ri, err = c.gs.Users().Delta().WithUrl(pg.NextLink).ToGetRequestInformation(ctx, nil); err != nil {
			return nil, fmt.Errorf("list users (delta page %d): %w", page+1, err)
		}
	}
}

// getJSON sends a GET through the SDK's adapter and decodes the body.
func (c *Client) getJSON(ctx context.Context, ri *abs.RequestInformation, v any) error {
	res, err := c.adapter.SendPrimitive(ctx, ri, "[]byte", abs.ErrorMappings{"XXX": odataerrors.CreateODataErrorFromDiscriminatorValue})
	if err != nil {
		return err
	}
	body, _ := res.([]byte)
	if pg, ok := v.(*userPage); ok {
		if err := decodePage(body, pg, interner{}); err != nil {
			return fmt.Errorf("unreadable response from Graph: %w", err)
		}
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("unreadable response from Graph: %w", err)
	}
	return nil
}

// selectFor is the $select that reads attrs: id, the top-level property
// of each attribute, and licenseAssignmentStates for LicensesAttr.
func selectFor(attrs []string) []string {
	set := map[string]bool{"id": true}
	sel := []string{"id"}
	for _, a := range append(slices.Clip(attrs), syncProps...) {
		top := a
		if i := strings.IndexByte(a, '.'); i > 0 {
			top = a[:i]
		}
		if a == LicensesAttr {
			top = licenseStatesProp
		}
		if !set[top] {
			set[top] = true
			sel = append(sel, top)
		}
	}
	return sel
}

// newUserBody is a create's body: the attributes, accountEnabled true
// unless given, and the initial password, to be changed at first sign-in.
func newUserBody(attrs identity.Attrs, password string) (models.Userable, error) {
	u := models.NewUser()
	for name, v := range attrs.All() {
		if err := setAttr(u, name, &v); err != nil {
			return nil, err
		}
	}
	if _, ok := attrs.Lookup("accountEnabled"); !ok {
		t := true
		u.SetAccountEnabled(&t)
	}
	pp := models.NewPasswordProfile()
	pp.SetPassword(&password)
	force := true
	pp.SetForceChangePasswordNextSignIn(&force)
	u.SetPasswordProfile(pp)
	return u, nil
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
	case "employeeHireDate", "employeeLeaveDateTime":
		if v == nil {
			setNull(u, name)
			return nil
		}
		t, err := time.Parse(time.RFC3339, *v)
		if err != nil {
			return fmt.Errorf("%s %q: %w", name, *v, err)
		}
		t = t.UTC()
		if name == "employeeHireDate" {
			u.SetEmployeeHireDate(&t)
		} else {
			u.SetEmployeeLeaveDateTime(&t)
		}
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
