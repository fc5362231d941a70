package rest

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/source"
	"gopkg.in/yaml.v3"
)

// request is what the fake API saw.
type request struct {
	Method string
	Path   string
	Query  string // raw
	Header http.Header
	Body   string
}

// api is a fake HTTP API on loopback: handle answers the n-th request
// (0-based).
type api struct {
	srv    *httptest.Server
	mu     sync.Mutex
	reqs   []request
	handle func(w http.ResponseWriter, r *http.Request, n int, body string)
}

func newAPI(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, n int, body string)) *api {
	t.Helper()
	a := &api{handle: handle}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		a.mu.Lock()
		n := len(a.reqs)
		a.reqs = append(a.reqs, request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: string(body)})
		a.mu.Unlock()
		a.handle(w, r, n, string(body))
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *api) URL() string { return a.srv.URL }

func (a *api) requests() []request {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]request(nil), a.reqs...)
}

// fixture reads testdata/name with {{BASE}} replaced by base.
func fixture(t testing.TB, name, base string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.ReplaceAll(data, []byte("{{BASE}}"), []byte(base))
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// settings decodes YAML as the config file loader would hand it over.
func settings(t testing.TB, text string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal([]byte(text), &m); err != nil {
		t.Fatalf("yaml: %v", err)
	}
	return m
}

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func parse(t testing.TB, text string, env map[string]string) Config {
	t.Helper()
	c, err := Parse(settings(t, text), envOf(env))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

// sleeper records the waits asked for and returns at once.
type sleeper struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleeper) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeper) got() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}

// logBuf captures log output.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type result struct {
	recs []*identity.Record
	sum  source.Summary
	err  error
	src  *Source
	log  *logBuf
	slp  *sleeper
}

// read builds a Source from c and reads it whole.
func read(t testing.TB, c Config) result {
	t.Helper()
	lb := &logBuf{}
	sl := &sleeper{}
	src, err := New(c, Options{Sleep: sl.Sleep, Log: slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	var recs []*identity.Record
	sum, err := src.Read(context.Background(), func(r *identity.Record) error {
		recs = append(recs, r)
		return nil
	})
	return result{recs: recs, sum: sum, err: err, src: src, log: lb, slp: sl}
}

// rows renders records as name=value maps for comparison.
func rows(recs []*identity.Record) []map[string]string {
	var out []map[string]string
	for _, r := range recs {
		m := map[string]string{}
		for i, n := range r.Header.Names {
			m[n] = r.Values[i]
		}
		out = append(out, m)
	}
	return out
}

func sourceErr(t *testing.T, err error) *source.Error {
	t.Helper()
	if err == nil {
		t.Fatal("read succeeded, want an error")
	}
	se, ok := err.(*source.Error)
	if !ok {
		t.Fatalf("error %T %v, want *source.Error", err, err)
	}
	return se
}
