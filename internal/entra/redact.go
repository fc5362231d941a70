package entra

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// minSecretLen is the shortest value redacted: shorter ones would shred
// every message and protect nothing.
const minSecretLen = 4

// secretForms is every form a secret may take in an error text: as it is,
// form- and path-escaped (a token request's body), and JSON-escaped (an
// echo of it in a JSON error body).
func secretForms(secret string) []string {
	if len(secret) < minSecretLen {
		return nil
	}
	forms := []string{secret, url.QueryEscape(secret), url.PathEscape(secret)}
	if js, err := json.Marshal(secret); err == nil {
		forms = append(forms, string(js[1:len(js)-1]))
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if enc.Encode(secret) == nil {
		s := strings.TrimSpace(b.String())
		forms = append(forms, s[1:len(s)-1])
	}
	// longest first, so a form containing another is replaced whole
	slices.SortFunc(forms, func(a, b string) int { return len(b) - len(a) })
	return slices.Compact(forms)
}

// redact replaces every form of every secret in s.
func redact(s string, secrets []string) string {
	var forms []string
	for _, sec := range secrets {
		forms = append(forms, secretForms(sec)...)
	}
	slices.SortFunc(forms, func(a, b string) int { return len(b) - len(a) })
	for _, f := range forms {
		s = strings.ReplaceAll(s, f, "[REDACTED]")
	}
	return s
}

// safeCredential is a TokenCredential whose errors hold no secret.
// azidentity's AuthenticationFailedError prints the token endpoint's whole
// response body, and an endpoint (or a proxy in front of it) that echoes
// the request puts the client secret there; the error then reached
// hrsync's output through every Graph request. safeCredential keeps the
// status and the OAuth error code and description, with the secrets
// redacted.
type safeCredential struct {
	cred   azcore.TokenCredential
	method string
	// secrets returns the credentials the token request may carry, read
	// when an error is to be shown (a federated token file may rotate).
	secrets func() []string
}

// GetToken implements azcore.TokenCredential.
func (c *safeCredential) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	tok, err := c.cred.GetToken(ctx, opts)
	if err != nil {
		return tok, authError(c.method, err, c.secrets())
	}
	return tok, nil
}

// credentialSecrets lists what a token request may carry.
func credentialSecrets(getenv func(string) string) func() []string {
	return func() []string {
		out := []string{getenv("AZURE_CLIENT_SECRET"), getenv("AZURE_CLIENT_CERTIFICATE_PASSWORD")}
		if path := getenv("AZURE_FEDERATED_TOKEN_FILE"); path != "" {
			if data, err := os.ReadFile(path); err == nil && len(data) < 1<<20 {
				out = append(out, strings.TrimSpace(string(data)))
			}
		}
		return out
	}
}

// tokenError is a failed token request, described without secrets. It
// unwraps to the context's error only, so nothing reaches the original
// error's text.
type tokenError struct {
	msg   string
	cause error // context.Canceled or DeadlineExceeded, else nil
}

func (e *tokenError) Error() string { return e.msg }
func (e *tokenError) Unwrap() error { return e.cause }

// authError describes a failed token request of method: for a refusal by
// the token endpoint, its HTTP status and the OAuth error and description
// (of at most 400 characters); for anything else the error's text. Every
// form of every secret is redacted either way.
func authError(method string, err error, secrets []string) error {
	te := &tokenError{}
	if errors.Is(err, context.Canceled) {
		te.cause = context.Canceled
	} else if errors.Is(err, context.DeadlineExceeded) {
		te.cause = context.DeadlineExceeded
	}
	var afe *azidentity.AuthenticationFailedError
	if errors.As(err, &afe) && afe.RawResponse != nil {
		resp := afe.RawResponse
		msg := fmt.Sprintf("auth %s: the token request failed: HTTP %d %s", method, resp.StatusCode, http.StatusText(resp.StatusCode))
		if body, rerr := runtime.Payload(resp); rerr == nil {
			var oe struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
			}
			if json.Unmarshal(body, &oe) == nil && oe.Error != "" {
				msg += " (" + oe.Error
				if d := oneLine(oe.Description, 400); d != "" {
					msg += ": " + d
				}
				msg += ")"
			}
		}
		if resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusUnauthorized {
			msg += "; check tenant_id, client_id and the credential in the environment"
		}
		te.msg = redact(msg, secrets)
		return te
	}
	te.msg = redact(fmt.Sprintf("auth %s: %s", method, err.Error()), secrets)
	return te
}

// oneLine is s on one line, cut to n characters.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > n {
		s = string([]rune(s)[:n]) + "…"
	}
	return s
}
