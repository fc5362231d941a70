package rest

import (
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/hrsync/hrsync/internal/loopback"
)

// Secret holds a credential read from the environment. It never prints:
// fmt's verbs, JSON, text marshalling and slog all show "[REDACTED]", so a
// Config can be logged or dumped without leaking it.
type Secret struct{ v string }

// NewSecret wraps a credential.
func NewSecret(v string) Secret { return Secret{v: v} }

// Reveal returns the credential itself, for the request that needs it.
func (s Secret) Reveal() string { return s.v }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.v == "" }

const redacted = "[REDACTED]"

func (s Secret) String() string {
	if s.v == "" {
		return ""
	}
	return redacted
}

// GoString keeps %#v from printing the credential.
func (s Secret) GoString() string { return `rest.Secret("` + s.String() + `")` }

// MarshalText keeps encoders from printing the credential.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// LogValue keeps slog from printing the credential.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// redactor replaces every known secret, and the forms it travels in (basic
// credentials are base64), in text that may be shown to a person.
type redactor struct {
	mu      sync.RWMutex
	secrets []string // longest first, so a secret containing another is replaced whole
}

// minSecretLen is the shortest value redacted: shorter "secrets" (BambooHR's
// password "x") would shred every message and protect nothing.
const minSecretLen = 4

func (r *redactor) add(vals ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.addLocked(vals...)
}

func (r *redactor) addLocked(vals ...string) {
	for _, v := range vals {
		if len(v) < minSecretLen {
			continue
		}
		// a secret also travels query-escaped and path-escaped, and an API
		// echoing it in a JSON body escapes it (Go's encoder also escapes
		// <, > and &)
		for _, form := range []string{v, url.QueryEscape(v), url.PathEscape(v), jsonEscaped(v, true), jsonEscaped(v, false)} {
			if !slices.Contains(r.secrets, form) {
				r.secrets = append(r.secrets, form)
			}
		}
	}
	sort.SliceStable(r.secrets, func(i, j int) bool { return len(r.secrets[i]) > len(r.secrets[j]) })
}

// jsonEscaped is v as it stands inside a JSON string, with or without
// HTML characters escaped.
func jsonEscaped(v string, html bool) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(html)
	if err := enc.Encode(v); err != nil {
		return v
	}
	s := strings.TrimSpace(b.String())
	return s[1 : len(s)-1]
}

// addBasic registers a user name and password and their Authorization form.
func (r *redactor) addBasic(user, pass string) {
	r.add(pass)
	r.add(base64.StdEncoding.EncodeToString([]byte(user + ":" + pass)))
}

func (r *redactor) clean(s string) string {
	if r == nil {
		return s
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, v := range r.secrets {
		if strings.Contains(s, v) {
			s = strings.ReplaceAll(s, v, redacted)
		}
	}
	return s
}

// secretParamNames are query parameters whose values are credentials by
// their name; they are never shown. Matched without regard to case, with
// "-" and "_" ignored.
var secretParamNames = map[string]bool{
	"apikey": true, "key": true, "token": true, "accesstoken": true, "authtoken": true,
	"secret": true, "clientsecret": true, "password": true, "pass": true, "pwd": true,
	"sig": true, "signature": true, "code": true, "auth": true, "authorization": true,
	"sessionid": true, "session": true, "credential": true, "credentials": true,
	"xapikey": true, "subscriptionkey": true, "apitoken": true, "privatekey": true,
}

func isSecretParam(name string) bool {
	n := strings.ToLower(strings.NewReplacer("-", "", "_", "", ".", "").Replace(name))
	return secretParamNames[n]
}

// displayURL renders u for people: without user information, and without
// the query parameters that are secret by name, by origin (taken from the
// environment) or by value.
func displayURL(u *url.URL, secretParams map[string]bool, r *redactor) string {
	if u == nil {
		return ""
	}
	c := *u
	c.User = nil
	c.Fragment = ""
	c.RawFragment = ""
	if c.RawQuery != "" {
		var kept []string
		for _, part := range strings.Split(c.RawQuery, "&") {
			if part == "" {
				continue
			}
			name, val, _ := strings.Cut(part, "=")
			if n, err := url.QueryUnescape(name); err == nil {
				name = n
			}
			if isSecretParam(name) || secretParams[name] {
				continue
			}
			if v, err := url.QueryUnescape(val); err == nil && r.clean(v) != v {
				continue
			}
			kept = append(kept, part)
		}
		c.RawQuery = strings.Join(kept, "&")
		c.ForceQuery = false
	}
	return r.clean(c.String())
}

// isLoopback reports whether host (without port) is a loopback address or
// localhost, where plain http cannot be intercepted on the way; such a host
// is also never reached through a proxy (see defaultClient).
func isLoopback(host string) bool { return loopback.IsLoopback(host) }
