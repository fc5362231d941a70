package entra

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hrsync/hrsync/internal/config"
	"github.com/hrsync/hrsync/internal/graphsim"
)

// A graph_url on a loopback host in any spelling (LOCALHOST, 127.x) may be
// plain http and is never reached through HTTP_PROXY: the bearer token
// and the directory would otherwise cross the network in plain text to the
// proxy (Go's own proxy selection skips only a lower-case "localhost").
// Another host goes through the proxy.
func TestLoopbackGraphNeverGoesThroughTheProxy(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.Host+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		http.Error(w, "proxy refuses", http.StatusForbidden)
	}))
	defer proxy.Close()
	proxied := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...)
	}
	for _, k := range []string{"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"} {
		t.Setenv(k, proxy.URL)
	}
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")

	srv, err := graphsim.New(graphsim.Options{SeedPath: simSeed(t, 2), Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	base, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
	})
	clock := &instantClock{t: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)}
	for _, host := range []string{"LOCALHOST", "LocalHost", "localhost", "127.0.0.1"} {
		t.Run(host, func(t *testing.T) {
			before := len(proxied())
			c, err := New(Options{GraphURL: strings.Replace(base, "127.0.0.1", host, 1), Clock: clock,
				Auth: Auth{Method: config.AuthAccessToken, Token: testToken}})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			users, err := c.ListUsers(context.Background(), attrs, false, nil)
			if err != nil || len(users) != 3 {
				t.Errorf("%d users, %v", len(users), err)
			}
			if got := proxied()[before:]; len(got) != 0 {
				t.Errorf("the proxy was asked for %q", got)
			}
		})
	}

	before := len(proxied())
	c, err := New(Options{GraphURL: "https://graph.example.test", Clock: clock,
		Auth: Auth{Method: config.AuthAccessToken, Token: testToken}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListUsers(context.Background(), attrs, false, nil); err == nil {
		t.Fatal("a read through the refusing proxy succeeded")
	}
	if got := proxied()[before:]; len(got) == 0 || !strings.HasPrefix(got[0], "CONNECT graph.example.test:443") {
		t.Errorf("the proxy saw %q, want the CONNECT to graph.example.test", got)
	}
}
