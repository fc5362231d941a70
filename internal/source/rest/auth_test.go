package rest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hrsync/hrsync/internal/identity"
)

func TestAuthHeaders(t *testing.T) {
	cases := []struct {
		name string
		auth string
		env  map[string]string
		want string
	}{
		{"none", "auth: {type: none}", nil, ""},
		{"bearer", "auth: {type: bearer, token_env: TOK}", map[string]string{"TOK": "tok-123456"}, "Bearer tok-123456"},
		{"basic literal user", "auth: {type: basic, username: isu@acme, password_env: PW}", map[string]string{"PW": "pa:ss wörd"}, basicAuth("isu@acme", "pa:ss wörd")},
		{"basic user from env", "auth: {type: basic, username_env: U, password_env: PW}", map[string]string{"U": "api", "PW": "pw-9999"}, basicAuth("api", "pw-9999")},
		{"api key", "auth: {type: basic, api_key_env: KEY}", map[string]string{"KEY": "k-abcdef"}, basicAuth("k-abcdef", "x")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int, body string) {
				writeJSON(w, 200, []byte(`[{"id": 1}]`))
			})
			res := read(t, parse(t, "url: "+a.URL()+"/x\n"+c.auth, c.env))
			if res.err != nil {
				t.Fatal(res.err)
			}
			r := a.requests()[0]
			if got := r.Header.Get("Authorization"); got != c.want {
				t.Errorf("Authorization = %q, want %q", got, c.want)
			}
			if r.Header.Get("Accept") != "application/json" || !strings.HasPrefix(r.Header.Get("User-Agent"), "hrsync") {
				t.Errorf("headers %v", r.Header)
			}
		})
	}
}

func TestHeadersQueryAndBody(t *testing.T) {
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int, body string) {
		writeJSON(w, 200, []byte(`{"data": [{"id": 1}]}`))
	})
	cfg := parse(t, `
url: `+a.URL()+`/search?fixed=1&format=xml
method: post
headers:
  X-Api-Key: ${HR_KEY}
  X-Tenant: acme
  X-Literal: costs $${HOME} nothing
query:
  format: json
  since: ${SINCE}
body:
  filter: {status: active}
  fields: [id, name]
records: data
`, map[string]string{"HR_KEY": "key-777777", "SINCE": "2024-01-01"})
	res := read(t, cfg)
	if res.err != nil {
		t.Fatal(res.err)
	}
	r := a.requests()[0]
	if r.Method != "POST" || r.Header.Get("X-Api-Key") != "key-777777" || r.Header.Get("X-Tenant") != "acme" ||
		r.Header.Get("X-Literal") != "costs ${HOME} nothing" || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("request %+v", r)
	}
	if want := "fixed=1&format=json&since=2024-01-01"; r.Query != want {
		t.Errorf("query %q, want %q (the query setting replaces the url's parameter of the same name)", r.Query, want)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(r.Body), &body); err != nil || body["fields"] == nil {
		t.Errorf("body %q: %v", r.Body, err)
	}
	// "since" came from the environment: it is not shown
	if s := res.src.String(); strings.Contains(s, "2024-01-01") || !strings.Contains(s, "format=json") {
		t.Errorf("String() = %q", s)
	}
}

// oauthServer is a token endpoint and an API that accepts only the tokens
// it issued, and can revoke them.
type oauthServer struct {
	*api
	issued  atomic.Int32
	revoked atomic.Int32 // tokens up to this number are refused
	forms   []url.Values
	auths   []string
}

func newOAuth(t *testing.T, expires string) *oauthServer {
	o := &oauthServer{}
	o.api = newAPI(t, func(w http.ResponseWriter, r *http.Request, n int, body string) {
		if r.URL.Path == "/oauth2/token" {
			f, _ := url.ParseQuery(body)
			o.forms = append(o.forms, f)
			o.auths = append(o.auths, r.Header.Get("Authorization"))
			k := o.issued.Add(1)
			writeJSON(w, 200, []byte(fmt.Sprintf(`{"access_token":"at-%d-zzzzzz","token_type":"bearer"%s}`, k, expires)))
			return
		}
		var k int32
		if _, err := fmt.Sscanf(r.Header.Get("Authorization"), "Bearer at-%d-zzzzzz", &k); err != nil || k <= o.revoked.Load() {
			writeJSON(w, 401, []byte(`{"error":"invalid_token"}`))
			return
		}
		if r.URL.Query().Get("p") == "" {
			writeJSON(w, 200, []byte(`{"items":[{"id":1}],"next":"/api?p=2"}`))
			return
		}
		writeJSON(w, 200, []byte(`{"items":[{"id":2}]}`))
	})
	return o
}

func oauthConfig(base, extra string) string {
	return `
url: ` + base + `/api
records: items
paging: {type: next_link, next: next}
auth:
  type: oauth2
  token_url: ` + base + `/oauth2/token
  client_id: my-client
  client_secret_env: CS
  scope: [api://hr/.default, read]
  params: {resource: "urn:sap:identity:application:provider:name:hr"}
` + extra
}

var csEnv = map[string]string{"CS": "client-secret-&=+"}

func TestOAuth2(t *testing.T) {
	t.Run("fetch once, cache across pages, client_secret_basic", func(t *testing.T) {
		o := newOAuth(t, `,"expires_in":3600`)
		res := read(t, parse(t, oauthConfig(o.URL(), ""), csEnv))
		if res.err != nil {
			t.Fatal(res.err)
		}
		if n := o.issued.Load(); n != 1 {
			t.Errorf("%d tokens fetched, want 1", n)
		}
		f := o.forms[0]
		if f.Get("grant_type") != "client_credentials" || f.Get("scope") != "api://hr/.default read" ||
			f.Get("resource") != "urn:sap:identity:application:provider:name:hr" || f.Get("client_secret") != "" {
			t.Errorf("token form %v", f)
		}
		// RFC 6749 2.3.1: id and secret form-encoded inside basic auth
		if want := basicAuth("my-client", url.QueryEscape("client-secret-&=+")); o.auths[0] != want {
			t.Errorf("token request Authorization %q, want %q", o.auths[0], want)
		}
		// a second read reuses the token
		if _, err := res.src.Read(context.Background(), func(*identity.Record) error { return nil }); err != nil {
			t.Fatal(err)
		}
		if n := o.issued.Load(); n != 1 {
			t.Errorf("%d tokens after a second read, want 1", n)
		}
		// once it is about to expire, a new one is fetched
		res.src.now = func() time.Time { return time.Now().Add(time.Hour - 30*time.Second) }
		if _, err := res.src.Read(context.Background(), func(*identity.Record) error { return nil }); err != nil {
			t.Fatal(err)
		}
		if n := o.issued.Load(); n != 2 {
			t.Errorf("%d tokens after expiry, want 2", n)
		}
	})
	t.Run("client_secret_post", func(t *testing.T) {
		o := newOAuth(t, `,"expires_in":"3600"`)
		res := read(t, parse(t, oauthConfig(o.URL(), "  client_auth: post\n"), csEnv))
		if res.err != nil {
			t.Fatal(res.err)
		}
		f := o.forms[0]
		if f.Get("client_id") != "my-client" || f.Get("client_secret") != "client-secret-&=+" || o.auths[0] != "" {
			t.Errorf("form %v, Authorization %q", f, o.auths[0])
		}
	})
	t.Run("refresh on 401 once", func(t *testing.T) {
		o := newOAuth(t, `,"expires_in":3600`)
		c := parse(t, oauthConfig(o.URL(), ""), csEnv)
		src, err := New(c, Options{Sleep: (&sleeper{}).Sleep})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		_, err = src.Read(context.Background(), func(r *identity.Record) error {
			got = append(got, r.Values[0])
			o.revoked.Store(o.issued.Load()) // the token is revoked after page 1
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, []string{"1", "2"}) || o.issued.Load() != 2 {
			t.Errorf("records %v, %d tokens; want both records with 2 tokens", got, o.issued.Load())
		}
	})
	t.Run("a second 401 fails", func(t *testing.T) {
		o := newOAuth(t, `,"expires_in":3600`)
		o.revoked.Store(1000) // no token is ever accepted
		res := read(t, parse(t, oauthConfig(o.URL(), ""), csEnv))
		se := sourceErr(t, res.err)
		if !strings.Contains(se.Msg, "page 1: HTTP 401") || !strings.Contains(se.Hint, "credentials") {
			t.Errorf("error %v", se)
		}
		if n := o.issued.Load(); n != 2 {
			t.Errorf("%d tokens fetched, want 2 (one refresh)", n)
		}
	})
	t.Run("token endpoint refuses", func(t *testing.T) {
		a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int, body string) {
			writeJSON(w, 401, []byte(`{"error":"invalid_client","error_description":"Client secret client-secret-&=+ is wrong"}`))
		})
		res := read(t, parse(t, oauthConfig(a.URL(), ""), csEnv))
		se := sourceErr(t, res.err)
		if !strings.Contains(se.Msg, "OAuth token request failed: HTTP 401") || !strings.Contains(se.Msg, "invalid_client") ||
			strings.Contains(se.Error(), "client-secret") || !strings.Contains(se.Hint, "client_secret_env") {
			t.Errorf("error %q", se.Error())
		}
		if len(a.requests()) != 1 {
			t.Errorf("%d requests: a refused token request is not retried", len(a.requests()))
		}
	})
	t.Run("token response without a token", func(t *testing.T) {
		a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int, body string) {
			writeJSON(w, 200, []byte(`{"token":"x"}`))
		})
		se := sourceErr(t, read(t, parse(t, oauthConfig(a.URL(), ""), csEnv)).err)
		if !strings.Contains(se.Msg, "no access_token") {
			t.Errorf("error %v", se)
		}
	})
}

// TestOAuth2TokenFailures pins the errors of a token request that fails
// for good, whole.
func TestOAuth2TokenFailures(t *testing.T) {
	cases := []struct {
		name   string
		answer func(w http.ResponseWriter)
		want   string // after the token endpoint
	}{
		{"not a bearer token", func(w http.ResponseWriter) {
			writeJSON(w, 200, []byte(`{"access_token":"at-1-zzzzzz","token_type":"mac"}`))
		}, `: the OAuth token is of type "mac"; hrsync sends bearer tokens only`},
		{"not JSON", func(w http.ResponseWriter) { writeJSON(w, 200, []byte(`access_token=x`)) },
			": the OAuth token response has no access_token (is auth.token_url the OAuth 2.0 token endpoint (client credentials grant)?)"},
		{"HTTP error, not OAuth", func(w http.ResponseWriter) { writeJSON(w, 403, []byte(`{"message":"no"}`)) },
			": the OAuth token request failed: HTTP 403 Forbidden (check auth.token_url, client_id, client_secret_env, scope and client_auth (basic or post) against the API's documentation)"},
		{"OAuth error without description", func(w http.ResponseWriter) { writeJSON(w, 400, []byte(`{"error":"invalid_scope"}`)) },
			": the OAuth token request failed: HTTP 400 Bad Request (invalid_scope) (check auth.token_url, client_id, client_secret_env, scope and client_auth (basic or post) against the API's documentation)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int, body string) { c.answer(w) })
			res := read(t, parse(t, oauthConfig(a.URL(), "retries: 0\n"), csEnv))
			se := sourceErr(t, res.err)
			if want := a.URL() + "/oauth2/token" + c.want; se.Error() != want {
				t.Errorf("error %q\nwant  %q", se.Error(), want)
			}
			if len(a.requests()) != 1 || len(res.recs) != 0 {
				t.Errorf("%d requests, %d records", len(a.requests()), len(res.recs))
			}
		})
	}
	t.Run("no answer", func(t *testing.T) {
		a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int, body string) {})
		base := a.URL()
		a.srv.Close()
		res := read(t, parse(t, oauthConfig(base, "retries: 0\n"), csEnv))
		se := sourceErr(t, res.err)
		prefix := base + "/oauth2/token: the OAuth token request failed: "
		if !strings.HasPrefix(se.Error(), prefix) || !strings.HasSuffix(se.Error(), " (check auth.token_url and the network)") ||
			strings.Contains(se.Error(), "attempts") || se.Prov.File != base+"/oauth2/token" {
			t.Errorf("error %q", se.Error())
		}
	})
	t.Run("cancelled while fetching", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int, body string) {
			cancel()
			<-r.Context().Done()
		})
		src, err := New(parse(t, oauthConfig(a.URL(), ""), csEnv), Options{Sleep: (&sleeper{}).Sleep})
		if err != nil {
			t.Fatal(err)
		}
		_, err = src.Read(ctx, func(*identity.Record) error { return nil })
		if want := "read " + a.URL() + "/api: context canceled"; err == nil || err.Error() != want || !errors.Is(err, context.Canceled) {
			t.Errorf("err %v, want %s", err, want)
		}
		if src.tokens != 0 || len(a.requests()) != 1 {
			t.Errorf("%d tokens, %d requests", src.tokens, len(a.requests()))
		}
	})
}

// TestCancelWhileFetchingAPage: a read cancelled during a page's request
// fails whole with the context's error, not as a page error.
func TestCancelWhileFetchingAPage(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int, body string) {
		if n == 0 {
			writeJSON(w, 200, []byte(`{"items": [{"id": 1}], "next": "/api?p=2"}`))
			return
		}
		cancel()
		<-r.Context().Done()
	})
	src, err := New(parse(t, "url: "+a.URL()+"/api\nrecords: items\npaging: {type: next_link, next: next}", nil), Options{Sleep: (&sleeper{}).Sleep})
	if err != nil {
		t.Fatal(err)
	}
	emitted := 0
	sum, err := src.Read(ctx, func(*identity.Record) error { emitted++; return nil })
	if want := "read " + a.URL() + "/api: context canceled"; err == nil || err.Error() != want || !errors.Is(err, context.Canceled) {
		t.Errorf("err %v, want %s", err, want)
	}
	if sum.Records != 0 || sum.Digest != "" || emitted != 1 || len(a.requests()) != 2 {
		t.Errorf("summary %+v, %d emitted, %d requests", sum, emitted, len(a.requests()))
	}
}

func TestRetries(t *testing.T) {
	type tc struct {
		name     string
		retries  string
		answers  []func(w http.ResponseWriter) // then 200
		err      []string
		attempts int
		waits    func(t *testing.T, waits []time.Duration)
	}
	status := func(code int, retryAfter string) func(w http.ResponseWriter) {
		return func(w http.ResponseWriter) {
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			writeJSON(w, code, []byte(`{"error": "busy"}`))
		}
	}
	hangUp := func(w http.ResponseWriter) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}
	cases := []tc{
		{
			name:     "429 with Retry-After",
			answers:  []func(http.ResponseWriter){status(429, "7"), status(429, "2")},
			attempts: 3,
			waits: func(t *testing.T, w []time.Duration) {
				if !reflect.DeepEqual(w, []time.Duration{7 * time.Second, 2 * time.Second}) {
					t.Errorf("waits %v, want [7s 2s]", w)
				}
			},
		},
		{
			name:     "503 without Retry-After backs off with jitter",
			answers:  []func(http.ResponseWriter){status(503, ""), status(502, ""), status(500, "")},
			attempts: 4,
			waits: func(t *testing.T, w []time.Duration) {
				if len(w) != 3 {
					t.Fatalf("waits %v", w)
				}
				for i, d := range w {
					hi := time.Second << i
					if d < hi/2 || d > hi {
						t.Errorf("wait %d = %v, want in [%v, %v]", i+1, d, hi/2, hi)
					}
				}
			},
		},
		{
			name:     "connection dropped",
			answers:  []func(http.ResponseWriter){hangUp},
			attempts: 2,
		},
		{
			name:     "gives up after retries",
			retries:  "retries: 2\n",
			answers:  []func(http.ResponseWriter){status(503, "1"), status(503, "1"), status(503, "1"), status(503, "1")},
			attempts: 3,
			err:      []string{"page 1: HTTP 503 Service Unavailable (after 3 attempts)", "busy", "run again later"},
		},
		{
			name:     "throttled to the end",
			retries:  "retries: 1\n",
			answers:  []func(http.ResponseWriter){status(429, "0"), status(429, "0")},
			attempts: 2,
			err:      []string{"HTTP 429", "still throttling after 1 retries"},
		},
		{
			name:     "404 is not retried",
			answers:  []func(http.ResponseWriter){status(404, "")},
			attempts: 1,
			err:      []string{"HTTP 404 Not Found", "check source.rest.url"},
		},
		{
			name:     "retries: 0",
			retries:  "retries: 0\n",
			answers:  []func(http.ResponseWriter){status(503, "")},
			attempts: 1,
			err:      []string{"HTTP 503"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int, body string) {
				if n < len(c.answers) {
					c.answers[n](w)
					return
				}
				writeJSON(w, 200, []byte(`[{"id": 1}]`))
			})
			res := read(t, parse(t, "url: "+a.URL()+"/x\n"+c.retries, nil))
			if got := len(a.requests()); got != c.attempts {
				t.Errorf("%d attempts, want %d", got, c.attempts)
			}
			if c.err == nil {
				if res.err != nil {
					t.Fatalf("Read: %v", res.err)
				}
				if res.sum.Records != 1 {
					t.Errorf("records %d", res.sum.Records)
				}
			} else {
				se := sourceErr(t, res.err)
				for _, w := range c.err {
					if !strings.Contains(se.Error(), w) {
						t.Errorf("error %q lacks %q", se.Error(), w)
					}
				}
			}
			if c.waits != nil {
				c.waits(t, res.slp.got())
			}
			if len(res.slp.got()) != c.attempts-1 {
				t.Errorf("%d waits for %d attempts", len(res.slp.got()), c.attempts)
			}
			if c.attempts > 1 && !strings.Contains(res.log.String(), "rest: retrying") {
				t.Errorf("retries not logged: %s", res.log.String())
			}
		})
	}
}

func TestTimeoutIsRetried(t *testing.T) {
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int, body string) {
		if n == 0 {
			time.Sleep(300 * time.Millisecond)
		}
		writeJSON(w, 200, []byte(`[{"id": 1}]`))
	})
	res := read(t, parse(t, "url: "+a.URL()+"/x\ntimeout: 0.1", nil))
	if res.err != nil || res.sum.Records != 1 || len(a.requests()) != 2 {
		t.Errorf("err %v, %d records, %d requests", res.err, res.sum.Records, len(a.requests()))
	}
	if !strings.Contains(res.log.String(), "timeout") {
		t.Errorf("log %s", res.log.String())
	}
}

func TestCancel(t *testing.T) {
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int, body string) {
		w.Header().Set("Retry-After", "1")
		writeJSON(w, 503, nil)
	})
	src, err := New(parse(t, "url: "+a.URL()+"/x", nil), Options{Sleep: func(ctx context.Context, d time.Duration) error {
		return context.Canceled
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = src.Read(ctx, func(*identity.Record) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err %v, want context.Canceled", err)
	}
}

// TestFailureOnPage2 fails the whole read, naming the page.
func TestFailureOnPage2(t *testing.T) {
	cases := []struct {
		name string
		page func(w http.ResponseWriter)
		want []string
	}{
		{"HTTP 500", func(w http.ResponseWriter) { writeJSON(w, 500, []byte(`{"message":"NullPointerException"}`)) },
			[]string{"page 2: HTTP 500 Internal Server Error", "NullPointerException", "p=2"}},
		{"truncated JSON", func(w http.ResponseWriter) { writeJSON(w, 200, []byte(`{"items": [{"id": 3}, {"id":`)) },
			[]string{"page 2: the answer is not valid JSON", "answer JSON"}},
		{"HTML login page", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte("<html><body>Sign in</body></html>"))
		}, []string{"page 2: the answer is not valid JSON", "Content-Type text/html", "HTML or XML"}},
		{"records missing", func(w http.ResponseWriter) { writeJSON(w, 200, []byte(`{"error": {"code": "x"}, "value": []}`)) },
			[]string{"page 2: no records at items", "top-level keys are error, value"}},
		{"records not a list", func(w http.ResponseWriter) { writeJSON(w, 200, []byte(`{"items": "none"}`)) },
			[]string{"page 2: the records are text, not a list of objects"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int, body string) {
				if n == 0 {
					writeJSON(w, 200, []byte(`{"items": [{"id": 1}, {"id": 2}], "next": "/api?p=2"}`))
					return
				}
				c.page(w)
			})
			var emitted int
			src, err := New(parse(t, "url: "+a.URL()+"/api\nrecords: items\nretries: 0\npaging: {type: next_link, next: next}", nil), Options{})
			if err != nil {
				t.Fatal(err)
			}
			sum, err := src.Read(context.Background(), func(*identity.Record) error { emitted++; return nil })
			se := sourceErr(t, err)
			for _, w := range c.want {
				if !strings.Contains(se.Error(), w) {
					t.Errorf("error %q lacks %q", se.Error(), w)
				}
			}
			if sum.Records != 0 || sum.Digest != "" {
				t.Errorf("summary of a failed read: %+v", sum)
			}
			if !strings.HasPrefix(se.Prov.File, a.URL()) {
				t.Errorf("provenance %+v", se.Prov)
			}
		})
	}
}

func TestEmitErrorStops(t *testing.T) {
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int, body string) {
		writeJSON(w, 200, []byte(`{"items": [{"id": 1}, {"id": 2}], "next": "/api?p=2"}`))
	})
	src, _ := New(parse(t, "url: "+a.URL()+"/api\nrecords: items\npaging: {type: next_link, next: next}", nil), Options{})
	stop := errors.New("stop")
	_, err := src.Read(context.Background(), func(*identity.Record) error { return stop })
	if err != stop || len(a.requests()) != 1 {
		t.Errorf("err %v after %d requests, want the emit error after 1", err, len(a.requests()))
	}
}

func TestRedirectToPlainHTTPRefused(t *testing.T) {
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int, body string) {
		http.Redirect(w, r, "http://hr.example.com/x", http.StatusFound)
	})
	res := read(t, parse(t, "url: "+a.URL()+"/x", nil))
	se := sourceErr(t, res.err)
	if !strings.Contains(se.Msg, "refused redirect to plain http") || len(a.requests()) != 1 {
		t.Errorf("error %q after %d requests", se.Error(), len(a.requests()))
	}
}

// A token endpoint that echoes the request (its form body with the client
// secret, its Authorization header) in its error never gets the secret
// printed, however it is encoded, with either client_auth.
func TestOAuth2TokenEndpointEchoIsRedacted(t *testing.T) {
	const secret = `cs-s3cr+t/V=l&u"e<x>\~y`
	for _, tc := range []struct {
		name, clientAuth string
		status           int
		body             func(form, auth string) string
	}{
		{"JSON error, basic", "", 400, func(form, auth string) string {
			js, _ := json.Marshal(map[string]string{"error": "invalid_client", "error_description": "got " + form + " with " + auth})
			return string(js)
		}},
		{"JSON error, post", "  client_auth: post\n", 401, func(form, auth string) string {
			js, _ := json.Marshal(map[string]string{"error": "invalid_client", "error_description": "got " + form})
			return string(js)
		}},
		{"not an OAuth error, 500 retried", "  client_auth: post\n", 500, func(form, auth string) string {
			return `{"message": "echo ` + form + `"}`
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int, body string) {
				writeJSON(w, tc.status, []byte(tc.body(body, r.Header.Get("Authorization"))))
			})
			cfg := parse(t, oauthConfig(a.URL(), tc.clientAuth), map[string]string{"CS": secret})
			res := read(t, cfg)
			se := sourceErr(t, res.err)
			if !strings.Contains(se.Msg, fmt.Sprintf("HTTP %d", tc.status)) {
				t.Errorf("error %q does not say what failed", se.Error())
			}
			for _, text := range []string{se.Error(), res.log.String()} {
				for _, form := range []string{secret, url.QueryEscape(secret), jsonEscaped(secret, true), jsonEscaped(secret, false),
					base64.StdEncoding.EncodeToString([]byte("my-client:" + url.QueryEscape(secret)))} {
					if strings.Contains(text, form) {
						t.Errorf("the secret shows (as %q):\n%s", form, text)
					}
				}
			}
		})
	}
}
