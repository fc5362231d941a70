package graphsim

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Throttle models Graph's published identity-and-access limits per app and
// tenant as token buckets: each bucket holds at most its limit and refills
// evenly over its window.
//
// Every top-level request and every $batch item (the POST /$batch envelope
// itself costs nothing) is charged resource units as Graph's cost table
// says: GET /users and GET /users/delta 2, anything else 1; $select lowers
// the cost by 1, $expand raises it by 1, $top below 20 lowers it by 1, never
// below 1. A write (POST, PATCH, PUT, DELETE) also takes one token from the
// write bucket. A request whose bucket lacks tokens is answered 429 with
// Retry-After (whole seconds until enough tokens, at least 1),
// x-ms-throttle-scope and x-ms-throttle-information; it changes nothing and
// is charged nothing. Every charged answer carries x-ms-resource-unit, and
// x-ms-throttle-limit-percentage once a bucket is more than 80% used.
type Throttle struct {
	// ResourceUnits is the resource units per Window. 0 sizes it by tenant
	// as Graph does: under 50 users 3,500; 50-500 5,000; over 500 8,000.
	ResourceUnits int
	// Window is the resource-unit window. Default 10 s.
	Window time.Duration
	// Writes is the write requests per WriteWindow. 0 means 3,000.
	Writes int
	// WriteWindow is the write window. Default 150 s.
	WriteWindow time.Duration
	// OmitRetryAfter answers 429 without Retry-After (clients must fall back
	// to exponential backoff).
	OmitRetryAfter bool
}

// DefaultAppID is the application id graphsim charges requests to when the
// bearer token is not a JWT with an appid (or azp) claim.
const DefaultAppID = "6f1c3a52-8d4e-4b7a-9c20-5e8f0d3b7a19"

// Graph's identity limits per application+tenant pair.
const (
	defaultWindow      = 10 * time.Second
	defaultWrites      = 3000
	defaultWriteWindow = 150 * time.Second
	// limitWarnShare is the used share above which responses carry
	// x-ms-throttle-limit-percentage.
	limitWarnShare = 0.8
)

// resourceUnitLimit is Graph's resource units per 10 s for a tenant of n
// users.
func resourceUnitLimit(users int) int {
	switch {
	case users < 50:
		return 3500
	case users <= 500:
		return 5000
	default:
		return 8000
	}
}

// bucket is a token bucket refilled evenly: capacity tokens per window.
type bucket struct {
	tokens float64
	at     time.Time
	init   bool
}

// refill brings b up to now for a bucket of capacity cap per window.
func (b *bucket) refill(now time.Time, capacity float64, window time.Duration) {
	if !b.init {
		b.tokens, b.at, b.init = capacity, now, true
		return
	}
	if d := now.Sub(b.at); d > 0 {
		b.tokens = math.Min(capacity, b.tokens+d.Seconds()*capacity/window.Seconds())
		b.at = now
	}
	if b.tokens > capacity { // the tenant shrank below a size class
		b.tokens = capacity
	}
}

// wait returns the whole seconds until b holds need tokens (at least 1).
func (b *bucket) wait(need, capacity float64, window time.Duration) int {
	deficit := need - b.tokens
	secs := math.Ceil(deficit / (capacity / window.Seconds()))
	if secs < 1 || math.IsNaN(secs) {
		return 1
	}
	return int(secs)
}

// appBuckets are the buckets of one application in the tenant.
type appBuckets struct {
	units, writes bucket
}

// throttler applies a Throttle. It is safe for concurrent use.
type throttler struct {
	cfg Throttle
	mu  sync.Mutex
	app map[string]*appBuckets
}

func newThrottler(cfg Throttle) *throttler {
	if cfg.Window <= 0 {
		cfg.Window = defaultWindow
	}
	if cfg.Writes <= 0 {
		cfg.Writes = defaultWrites
	}
	if cfg.WriteWindow <= 0 {
		cfg.WriteWindow = defaultWriteWindow
	}
	return &throttler{cfg: cfg, app: map[string]*appBuckets{}}
}

// verdict is the throttler's answer for one request.
type verdict struct {
	throttled bool
	reason    string  // x-ms-throttle-information
	limit     string  // Read, Write or ReadWrite (x-ms-throttle-scope)
	retry     int     // seconds
	used      float64 // highest used share of the buckets after the request
}

// take charges cost units (and a write) to app at now, or refuses. users is
// the tenant size (for the default resource-unit limit).
func (t *throttler) take(app string, cost int, write bool, now time.Time, users int) verdict {
	units := t.cfg.ResourceUnits
	if units <= 0 {
		units = resourceUnitLimit(users)
	}
	ucap, wcap := float64(units), float64(t.cfg.Writes)

	t.mu.Lock()
	defer t.mu.Unlock()
	ab := t.app[app]
	if ab == nil {
		ab = &appBuckets{}
		t.app[app] = ab
	}
	ab.units.refill(now, ucap, t.cfg.Window)
	ab.writes.refill(now, wcap, t.cfg.WriteWindow)
	used := func() float64 {
		u := 1 - ab.units.tokens/ucap
		if w := 1 - ab.writes.tokens/wcap; w > u {
			u = w
		}
		return u
	}
	c := float64(cost)
	switch {
	case ab.units.tokens < c:
		return verdict{throttled: true, reason: "ResourceUnitLimitExceeded", limit: "ReadWrite",
			retry: ab.units.wait(c, ucap, t.cfg.Window), used: used()}
	case write && ab.writes.tokens < 1:
		return verdict{throttled: true, reason: "WriteLimitExceeded", limit: "Write",
			retry: ab.writes.wait(1, wcap, t.cfg.WriteWindow), used: used()}
	}
	ab.units.tokens -= c
	if write {
		ab.writes.tokens--
	}
	return verdict{used: used()}
}

// isWriteMethod reports whether Graph's identity throttling counts method as
// a write.
func isWriteMethod(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// requestCost is the resource-unit cost of a request to route (Graph's
// identity-and-access cost table; see Throttle). The $batch envelope costs
// nothing: its items are charged one by one.
func requestCost(r *request, route string) int {
	if route == "POST /$batch" {
		return 0
	}
	cost := 1
	hasSelect := r.query.Has("$select")
	if r.method == http.MethodGet {
		switch route {
		case "GET /users":
			cost = 2
		case "GET /users/delta":
			cost = 2
			// Follow-up pages carry the initial $select inside the token.
			for _, k := range []string{"$skiptoken", "$deltatoken"} {
				if t, ok := decodeDeltaToken(r.query.Get(k)); ok && t.sel != "" {
					hasSelect = true
				}
			}
		}
	}
	if hasSelect {
		cost--
	}
	if r.query.Has("$expand") {
		cost++
	}
	if top, err := strconv.Atoi(strings.TrimSpace(r.query.Get("$top"))); err == nil && top < 20 && route != "GET /users/delta" {
		cost--
	}
	return max(cost, 1)
}

// appIDFromToken returns the application a bearer token belongs to: the
// appid (v1) or azp (v2) claim of a JWT, else DefaultAppID. The signature is
// not checked: graphsim does not validate tokens.
func appIDFromToken(tok string) string {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return DefaultAppID
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return DefaultAppID
	}
	var claims struct {
		AppID string `json:"appid"`
		AZP   string `json:"azp"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return DefaultAppID
	}
	for _, id := range []string{claims.AppID, claims.AZP} {
		if id != "" && len(id) <= 64 && !strings.ContainsAny(id, "/ \t\r\n") {
			return strings.ToLower(id)
		}
	}
	return DefaultAppID
}

// formatShare renders a used share for x-ms-throttle-limit-percentage, e.g.
// 0.85.
func formatShare(v float64) string {
	return strconv.FormatFloat(math.Floor(v*100)/100, 'f', -1, 64)
}

func errThrottled(retry int, omitRetryAfter bool) *graphError {
	msg := "Your request is throttled temporarily. Please try after " + strconv.Itoa(retry) + " seconds."
	if omitRetryAfter {
		msg = "Your request is throttled temporarily. Please try again later."
	}
	return newError(http.StatusTooManyRequests, "Request_ThrottledTemporarily", msg)
}
