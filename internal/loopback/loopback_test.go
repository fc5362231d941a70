package loopback

import (
	"net/http"
	"testing"
)

func TestIsLoopback(t *testing.T) {
	tests := []struct {
		host string
		want bool
	}{
		{"localhost", true},
		{"LOCALHOST", true},
		{"LocalHost", true},
		{"127.0.0.1", true},
		{"127.1.2.3", true},
		{"::1", true},
		{"::ffff:127.0.0.1", true},
		{"", false},
		{"localhost.", false},
		{"localhost.example.com", false},
		{"128.0.0.1", false},
		{"10.0.0.1", false},
		{"::2", false},
		{"127.1", false},
	}
	for _, tc := range tests {
		if got := IsLoopback(tc.host); got != tc.want {
			t.Errorf("IsLoopback(%q) = %v, want %v", tc.host, got, tc.want)
		}
	}
}

// Every host IsLoopback accepts bypasses the environment's proxy; others
// use it.
func TestProxyAgreesWithIsLoopback(t *testing.T) {
	t.Setenv("HTTP_PROXY", "http://proxy.test:3128")
	t.Setenv("HTTPS_PROXY", "http://proxy.test:3128")
	t.Setenv("NO_PROXY", "")
	t.Setenv("http_proxy", "")
	t.Setenv("https_proxy", "")
	t.Setenv("no_proxy", "")
	proxy := Proxy()
	tests := []struct {
		url     string
		proxied bool
	}{
		{"http://localhost:8080/x", false},
		{"http://LOCALHOST:8080/x", false},
		{"http://LocalHost/x", false},
		{"http://127.0.0.1:1/x", false},
		{"http://127.9.9.9/x", false},
		{"http://[::1]:8080/x", false},
		{"https://LOCALHOST/x", false},
		{"http://hr.example.test/x", true},
		{"https://graph.microsoft.com/v1.0", true},
	}
	for _, tc := range tests {
		req, err := http.NewRequest(http.MethodGet, tc.url, nil)
		if err != nil {
			t.Fatal(err)
		}
		u, err := proxy(req)
		if err != nil {
			t.Fatal(err)
		}
		if got := u != nil; got != tc.proxied {
			t.Errorf("%s: proxy %v, want proxied %v", tc.url, u, tc.proxied)
		}
		if !tc.proxied && !IsLoopback(req.URL.Hostname()) {
			t.Errorf("%s bypasses the proxy but is not loopback", tc.url)
		}
	}
}
