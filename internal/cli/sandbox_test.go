package cli

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var servingAt = regexp.MustCompile(`serving Microsoft Graph at (http://\S+)/v1\.0`)

func TestSandboxServeThrottleAndStats(t *testing.T) {
	var stderr syncBuffer
	ios := &IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: &stderr}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	state := filepath.Join(t.TempDir(), "tenant.json")
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"sandbox", "serve", "--state", state, "--listen", "127.0.0.1:0", "--stats",
			"--throttle", "--latency", "1ms", "--fault-rate", "0", "--drop-rate", "0", "--fault-seed", "7"}, ios, testBuild)
	}()
	var base string
	for deadline := time.Now().Add(10 * time.Second); base == ""; {
		if m := servingAt.FindStringSubmatch(stderr.String()); m != nil {
			base = m[1]
			break
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited with %d:\n%s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not start:\n%s", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	for range 3 {
		req, _ := http.NewRequest(http.MethodGet, base+"/v1.0/users?$select=id", nil)
		req.Header.Set("Authorization", "Bearer x")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("x-ms-resource-unit") != "1" {
			t.Fatalf("GET /users: %d, x-ms-resource-unit %q", resp.StatusCode, resp.Header.Get("x-ms-resource-unit"))
		}
	}
	cancel()
	select {
	case code := <-done:
		if code != ExitOK {
			t.Fatalf("exit %d:\n%s", code, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
	out := stderr.String()
	for _, want := range []string{"throttling on", "latency 1ms", "Request counters:", "GET /users", "resource units",
		"throttled (429)", "Sandbox stopped; state saved."} {
		if !strings.Contains(out, want) {
			t.Errorf("stderr lacks %q:\n%s", want, out)
		}
	}
	t.Logf("stderr:\n%s", out)
	if !regexp.MustCompile(`GET /users\s+3`).MatchString(out) {
		t.Errorf("stats table does not count 3 GET /users:\n%s", out)
	}
}

func TestSandboxServeFlagValidation(t *testing.T) {
	state := filepath.Join(t.TempDir(), "tenant.json")
	for _, tc := range []struct {
		flags []string
		want  string
	}{
		{[]string{"--fault-rate", "1.5"}, "--fault-rate"},
		{[]string{"--drop-rate", "-0.1"}, "--drop-rate"},
		{[]string{"--latency", "-1s"}, "--latency"},
		{[]string{"--fault-seed", "x"}, "fault-seed"},
	} {
		t.Run(tc.flags[0], func(t *testing.T) {
			s := newStreams("", false)
			args := append([]string{"sandbox", "serve", "--state", state, "--listen", "127.0.0.1:0"}, tc.flags...)
			if code := Main(context.Background(), args, s.ios, testBuild); code != ExitError {
				t.Fatalf("exit %d", code)
			}
			if !strings.Contains(s.err.String(), tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, s.err)
			}
		})
	}
}
