// Package loopback decides which hosts are this machine: plain http is
// allowed only to them, and requests to them never go through a proxy.
// Both decisions use IsLoopback, so they cannot disagree: Go's proxy
// selection (net/http.ProxyFromEnvironment) skips "localhost" only in
// lower case, so http://LOCALHOST counted as loopback for the https rule
// yet went through HTTP_PROXY, in plain text.
package loopback

import (
	"net"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/net/http/httpproxy"
)

// IsLoopback reports whether host (a URL's host name, without port or
// brackets) names this machine: "localhost" in any case, an address in
// 127.0.0.0/8, or ::1 (also as ::ffff:127.x.y.z).
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Proxy returns a proxy function for http.Transport.Proxy: the proxy the
// environment names (HTTP_PROXY, HTTPS_PROXY, NO_PROXY and their lower-case
// forms, read now), and none for a loopback host, whatever NO_PROXY says.
func Proxy() func(*http.Request) (*url.URL, error) {
	env := httpproxy.FromEnvironment().ProxyFunc()
	return func(req *http.Request) (*url.URL, error) {
		if IsLoopback(req.URL.Hostname()) {
			return nil, nil
		}
		return env(req.URL)
	}
}
