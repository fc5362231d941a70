package graphsim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/hrsync/hrsync/internal/graphsdk"
	"github.com/hrsync/hrsync/internal/graphsim"
	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoft/kiota-abstractions-go/authentication"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
)

const testToken = "test-token"

// staticToken is an AccessTokenProvider that always returns the same token.
type staticToken string

func (t staticToken) GetAuthorizationToken(context.Context, *url.URL, map[string]any) (string, error) {
	return string(t), nil
}

func (t staticToken) GetAllowedHostsValidator() *authentication.AllowedHostsValidator {
	v, _ := authentication.NewAllowedHostsValidatorErrorCheck(nil) // nil hosts: any host
	return v
}

// startSim starts a server on loopback and closes it when the test ends.
func startSim(t *testing.T, opts graphsim.Options) (*graphsim.Server, string) {
	t.Helper()
	if opts.Token == "" {
		opts.Token = testToken
	}
	if opts.Domains == nil && opts.SeedPath == "" && opts.StatePath == "" {
		opts.Domains = []string{"contoso.com", "fabrikam.com"}
	}
	s, err := graphsim.New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	base, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s, base
}

// newClient returns msgraph-sdk-go's request builders pointed at base, over
// the adapter msgraphsdk.NewGraphRequestAdapter(auth) makes, with the SDK's
// default HTTP client and middleware (see package graphsdk, which spares
// the SDK's root package and the ~80 packages it drags in).
func newClient(t *testing.T, base, token string) (*graphsdk.Client, abstractions.RequestAdapter) {
	t.Helper()
	auth := authentication.NewBaseBearerTokenAuthenticationProvider(staticToken(token))
	adapter, err := graphsdk.NewAdapter(auth, nil)
	if err != nil {
		t.Fatalf("NewAdapter: %v", err)
	}
	adapter.SetBaseUrl(base + "/v1.0")
	return graphsdk.New(adapter), adapter
}

func ptr[T any](v T) *T { return &v }

// newUser builds a valid SDK user for POST /users.
func newUser(upn, displayName string) models.Userable {
	u := models.NewUser()
	u.SetAccountEnabled(ptr(true))
	u.SetDisplayName(ptr(displayName))
	nick, _, _ := cutAt(upn)
	u.SetMailNickname(ptr(nick))
	u.SetUserPrincipalName(ptr(upn))
	pp := models.NewPasswordProfile()
	pp.SetPassword(ptr("Sup3r-Secret-Pw!"))
	pp.SetForceChangePasswordNextSignIn(ptr(true))
	u.SetPasswordProfile(pp)
	return u
}

func cutAt(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '@' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// odataErr asserts err is an ODataError and returns status, code, message.
func odataErr(t *testing.T, err error) (int, string, string, odataerrors.MainErrorable) {
	t.Helper()
	var oe *odataerrors.ODataError
	if !errors.As(err, &oe) {
		t.Fatalf("error %v (%T) is not an ODataError", err, err)
	}
	me := oe.GetErrorEscaped()
	if me == nil {
		t.Fatalf("ODataError without error body: %v", err)
	}
	return oe.ResponseStatusCode, deref(me.GetCode()), deref(me.GetMessage()), me
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// rawResp is a decoded plain-HTTP response.
type rawResp struct {
	status int
	header http.Header
	body   []byte
	obj    map[string]any
}

func (r rawResp) errCode() string {
	e, _ := r.obj["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func (r rawResp) errMessage() string {
	e, _ := r.obj["error"].(map[string]any)
	s, _ := e["message"].(string)
	return s
}

// call makes a plain HTTP request with the test token. body may be nil, a
// []byte or a value to JSON-encode. hdr adds headers.
func call(t *testing.T, method, u string, body any, hdr map[string]string) rawResp {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := rawResp{status: resp.StatusCode, header: resp.Header, body: data}
	if len(data) > 0 {
		if err := json.Unmarshal(data, &r.obj); err != nil {
			t.Fatalf("%s %s: response is not JSON: %v\n%s", method, u, err, data)
		}
	}
	return r
}

// userBody is a valid POST /users JSON body.
func userBody(upn string, extra map[string]any) map[string]any {
	nick, _, _ := cutAt(upn)
	b := map[string]any{
		"accountEnabled":    true,
		"displayName":       "User " + nick,
		"mailNickname":      nick,
		"userPrincipalName": upn,
		"passwordProfile":   map[string]any{"password": "Sup3r-Secret-Pw!", "forceChangePasswordNextSignIn": true},
	}
	for k, v := range extra {
		if v == deleteKey {
			delete(b, k)
			continue
		}
		b[k] = v
	}
	return b
}

// deleteKey in userBody's extra removes a key.
const deleteKey = "\x00delete"

// mustCreate creates a user over plain HTTP and returns its id.
func mustCreate(t *testing.T, base, upn string, extra map[string]any) string {
	t.Helper()
	r := call(t, http.MethodPost, base+"/v1.0/users", userBody(upn, extra), nil)
	if r.status != http.StatusCreated {
		t.Fatalf("create %s: status %d: %s", upn, r.status, r.body)
	}
	id, _ := r.obj["id"].(string)
	if id == "" {
		t.Fatalf("create %s: no id in %s", upn, r.body)
	}
	return id
}

func upnN(i int) string { return fmt.Sprintf("user%04d@contoso.com", i) }
