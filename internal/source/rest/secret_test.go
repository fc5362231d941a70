package rest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The secrets of TestSecretsNeverShown, and the forms they travel in.
var testSecrets = map[string]string{
	"BEARER":   "s3cr3t-bearer-token",
	"PASSWORD": "hunter2-Pa$$w0rd",
	"APIKEY":   "key-in-query-123456",
	"HDR":      "header-secret-456789",
	"CS":       "oauth-client-secret-1",
}

func secretForms() []string {
	var out []string
	for _, v := range testSecrets {
		out = append(out, v, url.QueryEscape(v))
	}
	out = append(out,
		base64.StdEncoding.EncodeToString([]byte("isu:"+testSecrets["PASSWORD"])),
		"issued-access-token-9")
	return out
}

func assertNoSecret(t *testing.T, what, s string) {
	t.Helper()
	for _, sec := range secretForms() {
		if strings.Contains(s, sec) {
			t.Errorf("%s shows the secret %q:\n%s", what, sec, s)
		}
	}
}

// echo answers with everything the request carried, as a careless API's
// error page might.
func echo(w http.ResponseWriter, r *http.Request, body string, status int) {
	w.Header().Set("Retry-After", "0")
	writeJSON(w, status, []byte(fmt.Sprintf(`{"error":"denied","url":%q,"auth":%q,"key":%q,"body":%q}`,
		r.URL.String(), r.Header.Get("Authorization"), r.Header.Get("X-Api-Key"), body)))
}

func TestSecretsNeverShown(t *testing.T) {
	cases := []struct {
		name   string
		auth   string
		status int
	}{
		{"bearer, 401", "auth: {type: bearer, token_env: BEARER}", 401},
		{"basic, 403", "auth: {type: basic, username: isu, password_env: PASSWORD}", 403},
		{"bearer, 503 retried then failed", "auth: {type: bearer, token_env: BEARER}", 503},
		{"oauth2, 400", "auth: {type: oauth2, token_url: {{BASE}}/token, client_id: c, client_secret_env: CS}", 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int, body string) {
				if r.URL.Path == "/token" {
					writeJSON(w, 200, []byte(`{"access_token":"issued-access-token-9","expires_in":60}`))
					return
				}
				echo(w, r, body, c.status)
			})
			text := `
url: ` + a.URL() + `/api/workers?format=json
method: POST
body: '{"q": "all"}'
headers: {X-Api-Key: "${HDR}"}
query: {api_key: "${APIKEY}", tenant: acme}
retries: 1
` + strings.ReplaceAll(c.auth, "{{BASE}}", a.URL())
			cfg := parse(t, text, testSecrets)
			res := read(t, cfg)
			se := sourceErr(t, res.err)
			if !strings.Contains(se.Error(), fmt.Sprintf("HTTP %d", c.status)) || !strings.Contains(se.Error(), "denied") {
				t.Errorf("error %q does not say what happened", se.Error())
			}
			assertNoSecret(t, "the error", se.Error())
			assertNoSecret(t, "String()", res.src.String())
			assertNoSecret(t, "the log", res.log.String())
			if !strings.Contains(res.src.String(), "tenant=acme") || !strings.Contains(res.src.String(), "format=json") {
				t.Errorf("String() = %q lost the plain parameters", res.src.String())
			}
			for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
				assertNoSecret(t, "fmt "+f+" of the Config", fmt.Sprintf(f, cfg))
			}
			js, err := json.Marshal(cfg)
			if err != nil {
				t.Fatal(err)
			}
			assertNoSecret(t, "the Config as JSON", string(js))
		})
	}
}

func TestString(t *testing.T) {
	cfg := parse(t, `
preset: workday
url: https://wd2-impl-services1.workday.com/ccx/service/customreport2/acme/ISU/Workers?Effective_Date=2024-01-01&format=json
query: {token: '${TOK}'}
auth: {username: ISU, password_env: P}
`, map[string]string{"P": "pw-secret-1", "TOK": "tok-secret-22"})
	src, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := "rest workday https://wd2-impl-services1.workday.com/ccx/service/customreport2/acme/ISU/Workers?Effective_Date=2024-01-01&format=json"
	if got := src.String(); got != want {
		t.Errorf("String() =\n %q\nwant %q", got, want)
	}
}

func TestRedactor(t *testing.T) {
	r := &redactor{}
	r.add("abc", "s3cret/with space", "s3cret")
	got := r.clean("a s3cret/with space b s3cret%2Fwith+space c s3cret%2Fwith%20space abc")
	if want := "a [REDACTED] b [REDACTED] c [REDACTED] abc"; got != want {
		t.Errorf("clean = %q, want %q", got, want)
	}
	r.add(`p&w<"x>\y`)
	if got := r.clean(`raw p&w<"x>\y json p\u0026w\u003c\"x\u003e\\y plain-json p&w<\"x>\\y`); got != "raw [REDACTED] json [REDACTED] plain-json [REDACTED]" {
		t.Errorf("clean of JSON-escaped forms = %q", got)
	}
	if s := fmt.Sprint(NewSecret("x"), NewSecret("")); s != "[REDACTED] " {
		t.Errorf("Secret prints %q", s)
	}
}
