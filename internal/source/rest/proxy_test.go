package rest

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// recordingProxy is an HTTP proxy that records what it is asked for and
// forwards nothing.
type recordingProxy struct {
	srv  *httptest.Server
	mu   sync.Mutex
	seen []string
}

func newRecordingProxy(t *testing.T) *recordingProxy {
	t.Helper()
	p := &recordingProxy{}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.seen = append(p.seen, r.Method+" "+r.Host)
		p.mu.Unlock()
		http.Error(w, "proxy refuses", http.StatusForbidden)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *recordingProxy) requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.seen...)
}

// setProxy points every proxy variable at p, for this test.
func setProxy(t *testing.T, p *recordingProxy) {
	t.Helper()
	for _, k := range []string{"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"} {
		t.Setenv(k, p.srv.URL)
	}
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")
}

// A loopback host in any spelling (LOCALHOST, 127.x) may be plain http and
// is never reached through HTTP_PROXY: the bearer token and the HR data
// would otherwise cross the network in plain text to the proxy (Go's own
// proxy selection skips only a lower-case "localhost"). Other hosts use
// the proxy.
func TestLoopbackNeverGoesThroughTheProxy(t *testing.T) {
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int, body string) {
		writeJSON(w, 200, []byte(`{"items": [{"id": 1}]}`))
	})
	_, port, _ := net.SplitHostPort(a.srv.Listener.Addr().String())
	p := newRecordingProxy(t)
	setProxy(t, p)
	env := map[string]string{"TOK": "bearer-secret-1234"}
	for _, host := range []string{"LOCALHOST", "LocalHost", "localhost", "127.0.0.1"} {
		t.Run(host, func(t *testing.T) {
			before := len(p.requests())
			res := read(t, parse(t, fmt.Sprintf("url: http://%s:%s/api\nrecords: items\nauth: {type: bearer, token_env: TOK}", host, port), env))
			if res.err != nil || len(res.recs) != 1 {
				t.Errorf("read through %s: %d records, %v", host, len(res.recs), res.err)
			}
			if got := p.requests()[before:]; len(got) != 0 {
				t.Errorf("the proxy was asked for %q", got)
			}
		})
	}

	// Another host goes through the proxy (which refuses: nothing leaves
	// the machine).
	before := len(p.requests())
	res := read(t, parse(t, "url: https://hr.example.test/api\nrecords: items\nretries: 0", nil))
	if res.err == nil {
		t.Fatal("a read through the refusing proxy succeeded")
	}
	if got := p.requests()[before:]; len(got) != 1 || !strings.HasPrefix(got[0], "CONNECT hr.example.test:443") {
		t.Errorf("the proxy saw %q, want the CONNECT to hr.example.test", got)
	}
}
