package entra

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/hrsync/hrsync/internal/config"
)

// echoingAuthority is an Entra sign-in endpoint, answered in process, whose
// token endpoint refuses the request and echoes it back (its form body,
// holding the client secret, and its Authorization header), as a
// misbehaving proxy or a test double might.
type echoingAuthority struct{}

func (echoingAuthority) Do(req *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	rec.Header().Set("Content-Type", "application/json")
	switch {
	case strings.HasSuffix(req.URL.Path, "/.well-known/openid-configuration"):
		base := "https://" + req.URL.Host + "/" + strings.Split(strings.TrimPrefix(req.URL.Path, "/"), "/")[0]
		_ = json.NewEncoder(rec).Encode(map[string]string{
			"token_endpoint":         base + "/oauth2/v2.0/token",
			"authorization_endpoint": base + "/oauth2/v2.0/authorize",
			"issuer":                 base + "/v2.0",
		})
	case strings.HasSuffix(req.URL.Path, "/oauth2/v2.0/token"):
		body, _ := io.ReadAll(req.Body)
		form, _ := url.ParseQuery(string(body))
		rec.WriteHeader(http.StatusUnauthorized)
		desc := fmt.Sprintf("AADSTS7000215: Invalid client secret provided. Request body: %s; secret: %s; auth: %s",
			body, form.Get("client_secret"), req.Header.Get("Authorization"))
		_ = json.NewEncoder(rec).Encode(map[string]any{"error": "invalid_client", "error_description": desc,
			"error_codes": []int{7000215}, "echo": string(body)})
	default:
		rec.WriteHeader(http.StatusNotFound)
	}
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}

// A token endpoint that echoes the client secret back in its error must
// not get it printed: the error says what failed, without the secret in
// any form (as sent in the form body, or raw).
func TestClientSecretEchoedByTheTokenEndpointIsRedacted(t *testing.T) {
	tests := []struct {
		name, secret string
	}{
		{"plain", "Abc8Q~verysecretvalue.1234567890abcdef"},
		{"form-escaped characters", `s3cr+t/V=l&u"e<x>\~y 1234`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"AZURE_CLIENT_SECRET": tc.secret}
			c, err := New(Options{GraphURL: "https://graph.microsoft.com", Auth: Auth{
				Method: config.AuthClientSecret, TenantID: "00000000-0000-0000-0000-0000000000aa", ClientID: "11111111-1111-1111-1111-111111111111",
				Getenv: func(k string) string { return env[k] }, transport: echoingAuthority{},
			}})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			_, lerr := c.ListUsers(ctx, []string{"employeeId"}, false, nil)
			_, terr := c.Tenant(ctx)
			for what, err := range map[string]error{"list users": lerr, "tenant": terr} {
				if err == nil {
					t.Fatalf("%s: no error", what)
				}
				msg := err.Error()
				if !strings.Contains(msg, "invalid_client") || !strings.Contains(msg, "401") {
					t.Errorf("%s: %q does not say what failed", what, msg)
				}
				for _, form := range secretForms(tc.secret) {
					if strings.Contains(msg, form) {
						t.Errorf("%s: the error shows the client secret (as %q):\n%s", what, form, msg)
					}
				}
				if strings.Contains(fmt.Sprintf("%+v", err), tc.secret) {
					t.Errorf("%s: %%+v shows the client secret", what)
				}
			}
		})
	}
}

func TestRedact(t *testing.T) {
	const secret = `s3cr+t/V=l&u"e<x>\~y`
	tests := []struct{ in, want string }{
		{"raw " + secret, "raw [REDACTED]"},
		{"form client_secret=s3cr%2Bt%2FV%3Dl%26u%22e%3Cx%3E%5C~y&x=1", "form client_secret=[REDACTED]&x=1"},
		{`json "s3cr+t/V=l\u0026u\"e\u003cx\u003e\\~y"`, `json "[REDACTED]"`},
		{`json "s3cr+t/V=l&u\"e<x>\\~y"`, `json "[REDACTED]"`},
		{"short ab stays", "short ab stays"},
	}
	for _, tc := range tests {
		if got := redact(tc.in, []string{secret, "ab", ""}); got != tc.want {
			t.Errorf("redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
