package graphsim

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultDomain is the verified domain of a tenant that starts empty (no
// state file, no seed, no Options.Domains).
const DefaultDomain = "sandbox.onmicrosoft.com"

// maxBodyBytes bounds request bodies (Graph's own limit is 4 MB), compressed
// and decompressed.
const maxBodyBytes = 4 << 20

// Options configures a Server.
type Options struct {
	// StatePath is the JSON state file. It is loaded if it exists and written
	// by Save. "" keeps the tenant in memory only.
	StatePath string
	// SeedPath is loaded when StatePath does not exist yet (or is ""). Same
	// format as the state file.
	SeedPath string
	// Domains are the verified domains of a tenant that starts empty (neither
	// a state file nor a seed). Default: DefaultDomain.
	Domains []string
	// Token, if non-empty, is the only bearer token accepted. If empty any
	// non-empty bearer token is accepted. A missing Authorization header is
	// always 401 InvalidAuthenticationToken.
	Token string
	// Logger receives one debug record per request and errors of background
	// saves. Nil discards. Request bodies are never logged.
	Logger *slog.Logger
	// AutosaveInterval, if positive and StatePath is set, saves the state in
	// the background at this interval whenever it changed (Save is a no-op
	// otherwise). Close stops it and saves one last time. Meant for the
	// standalone sandbox server.
	AutosaveInterval time.Duration
	// Interceptor, if set, sees every request (each $batch item too) before
	// it is dispatched and may answer it instead: a seam for custom
	// throttling, latency and fault injection. It runs after the built-in
	// server-error faults (Faults.ServerErrors) and before Throttle; a
	// request it answers is not charged.
	Interceptor Interceptor
	// BatchSeed seeds the shuffling of $batch responses (Graph returns them
	// in any order). 0 picks a seed from the clock.
	BatchSeed uint64
	// KeepBatchOrder returns $batch responses in request order.
	KeepBatchOrder bool
	// Now is the clock (createdDateTime, deletedDateTime and the 30 days
	// deleted users stay restorable, error dates, throttling buckets). Nil
	// means time.Now.
	Now func() time.Time

	// Throttle, if not nil, enforces Graph's identity-and-access throttling
	// (see Throttle).
	Throttle *Throttle
	// Faults injects seeded, repeatable failures (see Faults). Zero value:
	// none.
	Faults Faults
	// Latency is added to every top-level request, plus a uniformly random
	// 0..LatencyJitter (seeded by Faults.Seed); a $batch also waits for the
	// largest of one more draw per item (Graph runs the items side by side,
	// so a batch is as slow as its slowest item). Sleeping uses real time
	// and stops when the request's context is done.
	Latency, LatencyJitter time.Duration
	// DeltaPageSize is the most users a /users/delta page holds (Graph: 200,
	// also the default; 0 means 200). "Prefer: odata.maxpagesize=n" can
	// lower it for a request, never raise it.
	DeltaPageSize int
}

// Interceptor is consulted for each request after authentication, and for
// each $batch item, before the request is handled. It may block (latency;
// honour ctx) and may return a Fault to answer the request instead. A nil
// Fault lets the request through.
type Interceptor func(ctx context.Context, c Call) *Fault

// Call describes a request about to be handled.
type Call struct {
	Method  string      // HTTP method
	Route   string      // route pattern, e.g. "PATCH /users/{id}"
	Path    string      // path below /v1.0, e.g. "/users/4f0c..."
	Header  http.Header // request (or $batch item) headers
	InBatch bool        // true for a $batch item
}

// Fault is an Interceptor's answer: a Graph error envelope with this status,
// code and message, plus extra headers (e.g. Retry-After). Inside a $batch
// it becomes that item's response, as Graph does for throttled items.
type Fault struct {
	Status  int
	Code    string
	Message string
	Header  http.Header
}

// Stats counts handled requests by route pattern ("GET /users",
// "PATCH /users/{id}", "POST /$batch", ...). $batch items are counted in
// BatchItems, not in Requests. Requests and Statuses count the requests the
// server handled: a request whose connection was dropped before handling is
// only counted in Faults; one whose response was dropped after handling is
// counted with the status it would have had.
type Stats struct {
	Requests      map[string]int64 // top-level HTTP requests by route
	BatchItems    map[string]int64 // $batch items by route
	Statuses      map[int]int64    // top-level responses by status code
	BatchStatuses map[int]int64    // $batch item responses by status code
	Throttled     int64            // 429 answers (top-level and $batch items)
	Faults        map[string]int64 // injected faults by kind: "503", "504", "drop_request", "drop_response", "slow"
	Writes        int64            // successful (2xx) write requests and items (POST, PATCH, PUT, DELETE; not POST /$batch itself)
	ResourceUnits int64            // resource units charged
}

// Total returns the number of top-level requests.
func (s Stats) Total() int64 {
	var n int64
	for _, v := range s.Requests {
		n += v
	}
	return n
}

// Server is an in-process Microsoft Graph v1.0 emulator (users, manager,
// organization, $batch). It is safe for concurrent use.
type Server struct {
	opts Options
	log  *slog.Logger
	now  func() time.Time

	mu sync.RWMutex // guards st
	st *store

	saveMu       sync.Mutex // serialises Save; guards savedVersion, saved
	savedVersion uint64
	saved        bool

	statsMu sync.Mutex
	stats   Stats

	rngMu sync.Mutex
	rng   *rand.Rand

	throttle *throttler // nil: no throttling
	faults   *faulter

	pages sync.Pool // *[]byte buffers of collection pages (see pageBuf)

	idxMu  sync.Mutex // guards upnIdx
	upnIdx *upnSorted // users by userPrincipalName, for range filters

	connMu   sync.Mutex
	newConns map[net.Conn]bool // accepted, no request read yet

	lifeMu       sync.Mutex
	httpSrv      *http.Server
	stopAutosave chan struct{}
	autosaveDone chan struct{}
	closed       bool
}

// New creates a server and loads its state: StatePath if it exists, else
// SeedPath, else an empty tenant with Options.Domains. Load errors name the
// file and what is wrong.
func New(opts Options) (*Server, error) {
	s := &Server{opts: opts, log: opts.Logger, now: opts.Now}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	seed := opts.BatchSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	s.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	s.stats = Stats{Requests: map[string]int64{}, BatchItems: map[string]int64{},
		Statuses: map[int]int64{}, BatchStatuses: map[int]int64{}, Faults: map[string]int64{}}
	if opts.Throttle != nil {
		s.throttle = newThrottler(*opts.Throttle)
	}
	if err := opts.Faults.validate(); err != nil {
		return nil, err
	}
	if opts.Latency < 0 || opts.LatencyJitter < 0 {
		return nil, errors.New("graphsim: Options.Latency and LatencyJitter must not be negative")
	}
	s.faults = newFaulter(opts.Faults, opts.Latency, opts.LatencyJitter)

	var st *State
	// upToDate: st is exactly what the state file holds. A state file whose
	// tenant or users lacked ids got new ones, which only stay stable if
	// they are saved: such a state starts dirty, like one from a seed.
	upToDate := false
	if opts.StatePath != "" {
		loaded, generated, err := loadState(opts.StatePath)
		switch {
		case err == nil:
			st, upToDate = loaded, !generated
		case errors.Is(err, fs.ErrNotExist):
		default:
			return nil, err
		}
	}
	if st == nil && opts.SeedPath != "" {
		loaded, _, err := loadState(opts.SeedPath)
		if err != nil {
			return nil, err
		}
		st = loaded
	}
	if st == nil {
		doms := opts.Domains
		if len(doms) == 0 {
			doms = []string{DefaultDomain}
		}
		st = &State{Domains: append([]string(nil), doms...)}
		if _, err := st.validate(); err != nil {
			return nil, fmt.Errorf("graphsim: Options.Domains: %w", err)
		}
	}
	s.st = newStore(st, s.now())
	if upToDate {
		s.savedVersion, s.saved = s.st.version, true
	}
	// Deleted users past Entra's 30 days are gone (the state is then dirty).
	s.st.purgeExpired(s.now())
	if opts.AutosaveInterval > 0 && opts.StatePath != "" {
		s.stopAutosave = make(chan struct{})
		s.autosaveDone = make(chan struct{})
		go s.autosave(opts.AutosaveInterval)
	}
	return s, nil
}

func (s *Server) autosave(every time.Duration) {
	defer close(s.autosaveDone)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stopAutosave:
			return
		case <-t.C:
			if err := s.Save(); err != nil {
				s.log.Error("graphsim autosave failed", "err", err)
			}
		}
	}
}

// Handler returns the HTTP handler serving Graph under /v1.0/.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Start listens on addr (e.g. "127.0.0.1:0") and serves in the background.
// It returns the base URL, e.g. "http://127.0.0.1:PORT" (without /v1.0).
func (s *Server) Start(addr string) (string, error) {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	if s.closed {
		return "", errors.New("graphsim: start: server is closed")
	}
	if s.httpSrv != nil {
		return "", errors.New("graphsim: start: server already started")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("graphsim: listen on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		ConnState:         s.trackConn,
	}
	s.httpSrv = srv
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("graphsim serve failed", "err", err)
		}
	}()
	return "http://" + dialableAddr(ln.Addr()), nil
}

// dialableAddr turns a listening address into one a client can dial
// (an unspecified IP becomes loopback).
func dialableAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	ip := tcp.IP
	if ip == nil || ip.IsUnspecified() {
		if ip.To4() == nil && ip != nil {
			ip = net.IPv6loopback
		} else {
			ip = net.IPv4(127, 0, 0, 1)
		}
	}
	return net.JoinHostPort(ip.String(), fmt.Sprint(tcp.Port))
}

// trackConn follows connections that have not carried a request yet.
func (s *Server) trackConn(c net.Conn, st http.ConnState) {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	if s.newConns == nil {
		s.newConns = map[net.Conn]bool{}
	}
	if st == http.StateNew {
		s.newConns[c] = true
	} else {
		delete(s.newConns, c)
	}
}

// closeNewConns closes connections that never carried a request.
func (s *Server) closeNewConns() {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	for c := range s.newConns {
		_ = c.Close()
		delete(s.newConns, c)
	}
}

// Close stops serving (waiting for in-flight requests until ctx is done),
// stops autosave, then saves. Calling it again is a no-op.
func (s *Server) Close(ctx context.Context) error {
	s.lifeMu.Lock()
	if s.closed {
		s.lifeMu.Unlock()
		return nil
	}
	s.closed = true
	srv := s.httpSrv
	s.lifeMu.Unlock()

	var errs []error
	if srv != nil {
		// Shutdown waits for connections that never carried a request
		// (a client's spare dial) until they are 5 s old; no request is
		// lost by closing them now.
		s.closeNewConns()
		if err := srv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("graphsim: shutdown: %w", err))
		}
	}
	if s.stopAutosave != nil {
		close(s.stopAutosave)
		<-s.autosaveDone
	}
	if err := s.Save(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Save writes the state to Options.StatePath atomically (temporary file,
// mode 0600, rename). It is a no-op without a StatePath or when nothing
// changed since the last save or load. Writers wait while it runs.
func (s *Server) Save() error {
	if s.opts.StatePath == "" {
		return nil
	}
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	s.purgeExpired()
	s.mu.RLock()
	v := s.st.version
	if s.saved && v == s.savedVersion {
		s.mu.RUnlock()
		return nil
	}
	err := s.st.writeFile(s.opts.StatePath)
	s.mu.RUnlock()
	if err != nil {
		return fmt.Errorf("graphsim: save %s: %w", s.opts.StatePath, err)
	}
	s.savedVersion, s.saved = v, true
	return nil
}

// Dirty reports whether the state changed since the last save or load.
func (s *Server) Dirty() bool {
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	s.mu.RLock()
	defer s.mu.RUnlock()
	return !s.saved || s.st.version != s.savedVersion
}

// Stats returns a copy of the request counters.
func (s *Server) Stats() Stats {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	return Stats{
		Requests:      maps.Clone(s.stats.Requests),
		BatchItems:    maps.Clone(s.stats.BatchItems),
		Statuses:      maps.Clone(s.stats.Statuses),
		BatchStatuses: maps.Clone(s.stats.BatchStatuses),
		Throttled:     s.stats.Throttled,
		Faults:        maps.Clone(s.stats.Faults),
		Writes:        s.stats.Writes,
		ResourceUnits: s.stats.ResourceUnits,
	}
}

// TenantID returns the tenant's id (a lower-case GUID): the id of the
// organization object and what a real token's tid claim would hold.
func (s *Server) TenantID() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.st.tenant.ID
}

// Snapshot returns a deep copy of the current state.
func (s *Server) Snapshot() State {
	s.purgeExpired()
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.st.snapshot()
}

// purgeExpired permanently deletes the deleted users past Entra's 30 days
// of retention. It is called before deleted items, groups or licenses are
// used; it takes the write lock only when there is something to purge.
func (s *Server) purgeExpired() {
	now := s.now()
	s.mu.RLock()
	due := s.st.hasExpired(now)
	s.mu.RUnlock()
	if due {
		s.mu.Lock()
		s.st.purgeExpired(now)
		s.mu.Unlock()
	}
}

func (s *Server) count(method, route string, status int, inBatch bool) {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	if status == http.StatusTooManyRequests {
		s.stats.Throttled++
	}
	if status >= 200 && status < 300 && isWriteMethod(method) && route != "POST /$batch" {
		s.stats.Writes++
	}
	if inBatch {
		s.stats.BatchItems[route]++
		s.stats.BatchStatuses[status]++
	} else {
		s.stats.Requests[route]++
		s.stats.Statuses[status]++
	}
}

func (s *Server) countFault(kind string) {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	s.stats.Faults[kind]++
}

func (s *Server) chargeUnits(cost int) {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	s.stats.ResourceUnits += int64(cost)
}

// request is one request to handle: a top-level HTTP request or a $batch
// item.
type request struct {
	ctx             context.Context
	method          string
	path            string   // below /v1.0, escaped, e.g. "/users/a%40b.com"
	segs            []string // unescaped path segments below /v1.0
	rawQuery        string
	query           url.Values // keys of $-options lower-cased
	header          http.Header
	body            []byte
	base            string // scheme://host of this server as the client sees it
	requestID       string
	clientRequestID string
	inBatch         bool
	appID           string // application the bearer token belongs to (throttling)
}

// fail renders a Graph error for this request.
func (s *Server) fail(r *request, e *graphError) *response {
	return e.render(r.requestID, r.clientRequestID, s.now())
}

func (s *Server) serveHTTP(w http.ResponseWriter, hr *http.Request) {
	start := time.Now()
	plan := s.faults.planTop()
	if plan.slow {
		s.countFault(FaultSlow)
	}
	var body *bodyResult
	if plan.delay > 0 {
		// Read the body first: net/http notices a client that hangs up (and
		// cancels the context) only once the body has been consumed.
		b, gerr := readBody(hr)
		body = &bodyResult{b, gerr}
		if !sleepCtx(hr.Context(), plan.delay) {
			return // the client gave up; nothing was handled
		}
	}
	if plan.dropRequest {
		s.countFault(FaultDropRequest)
		s.log.Debug("graphsim dropped request", "method", hr.Method, "path", hr.URL.EscapedPath())
		dropConnection(w)
		return
	}
	r := &request{
		ctx:       hr.Context(),
		method:    hr.Method,
		header:    hr.Header,
		requestID: newGUID(),
	}
	r.clientRequestID = hr.Header.Get("client-request-id")
	if r.clientRequestID == "" {
		r.clientRequestID = r.requestID
	}
	scheme := "http"
	if hr.TLS != nil {
		scheme = "https"
	}
	r.base = scheme + "://" + hr.Host

	route, resp := s.handleTop(hr, r, body)
	s.count(r.method, route, resp.status, false)
	if plan.dropResponse {
		s.countFault(FaultDropResponse)
		s.log.Debug("graphsim dropped response", "method", hr.Method, "path", hr.URL.EscapedPath(), "route", route,
			"status", resp.status)
		s.releasePage(resp)
		dropConnection(w)
		return
	}
	writeHTTP(w, r, resp)
	s.releasePage(resp)
	s.log.Debug("graphsim request", "method", hr.Method, "path", hr.URL.EscapedPath(), "route", route,
		"status", resp.status, "duration", time.Since(start), "request_id", r.requestID)
}

// bodyResult is a request body read ahead of handling.
type bodyResult struct {
	body []byte
	gerr *graphError
}

// handleTop authenticates, routes and dispatches a top-level request. body
// is the request body if it was already read, else nil.
func (s *Server) handleTop(hr *http.Request, r *request, body *bodyResult) (string, *response) {
	tok, gerr := s.authenticate(hr.Header.Get("Authorization"))
	if gerr != nil {
		return hr.Method + " (unauthenticated)", s.fail(r, gerr)
	}
	r.appID = appIDFromToken(tok)
	escaped := hr.URL.EscapedPath()
	rest, ok := strings.CutPrefix(escaped, "/v1.0")
	if !ok || (rest != "" && rest[0] != '/') {
		version, _, _ := strings.Cut(strings.TrimPrefix(escaped, "/"), "/")
		return hr.Method + " (unmatched)", s.fail(r, newError(http.StatusBadRequest, "BadRequest", "Invalid version: "+version))
	}
	r.path = rest
	if r.segs, gerr = splitPath(rest); gerr != nil {
		return hr.Method + " (unmatched)", s.fail(r, gerr)
	}
	r.rawQuery = hr.URL.RawQuery
	if r.query, gerr = parseQueryString(r.rawQuery); gerr != nil {
		return hr.Method + " (unmatched)", s.fail(r, gerr)
	}
	route, h := s.route(r.method, r.segs)
	if body == nil {
		b, gerr := readBody(hr)
		body = &bodyResult{b, gerr}
	}
	if body.gerr != nil {
		return route, s.fail(r, body.gerr)
	}
	r.body = body.body
	return route, s.dispatch(r, route, h)
}

// dispatch answers a routed request (or $batch item): injected server
// errors first, then the Interceptor, then throttling, then the handler.
// Only requests that reach the handler are charged.
func (s *Server) dispatch(r *request, route string, h handlerFunc) *response {
	if kind, f := s.faults.serverError(); f != nil {
		s.countFault(kind)
		return s.failFault(r, f)
	}
	if s.opts.Interceptor != nil {
		c := Call{Method: r.method, Route: route, Path: r.path, Header: r.header, InBatch: r.inBatch}
		if f := s.opts.Interceptor(r.ctx, c); f != nil {
			return s.failFault(r, f)
		}
	}
	cost := requestCost(r, route)
	if cost == 0 {
		return h(s, r)
	}
	write := isWriteMethod(r.method)
	var v verdict
	var tenantID string
	if s.throttle != nil {
		s.mu.RLock()
		users := len(s.st.byID)
		tenantID = s.st.tenant.ID
		s.mu.RUnlock()
		v = s.throttle.take(r.appID, cost, write, s.now(), users)
	}
	var resp *response
	if v.throttled {
		e := errThrottled(v.retry, s.throttle.cfg.OmitRetryAfter)
		e.header = http.Header{}
		e.header.Set("x-ms-throttle-scope", "Tenant_Application/"+v.limit+"/"+r.appID+"/"+tenantID)
		e.header.Set("x-ms-throttle-information", v.reason)
		if !s.throttle.cfg.OmitRetryAfter {
			e.header.Set("Retry-After", strconv.Itoa(v.retry))
		}
		resp = s.fail(r, e)
	} else {
		s.chargeUnits(cost)
		resp = h(s, r)
	}
	hdr := resp.header.Clone()
	if hdr == nil {
		hdr = http.Header{}
	}
	hdr.Set("x-ms-resource-unit", strconv.Itoa(cost))
	if v.used > limitWarnShare {
		hdr.Set("x-ms-throttle-limit-percentage", formatShare(v.used))
	}
	resp.header = hdr
	return resp
}

// failFault renders an injected Fault as a Graph error.
func (s *Server) failFault(r *request, f *Fault) *response {
	e := newError(f.Status, f.Code, f.Message)
	e.header = f.Header.Clone()
	return s.fail(r, e)
}

// authenticate checks the bearer token and returns it.
func (s *Server) authenticate(authz string) (string, *graphError) {
	scheme, tok, _ := strings.Cut(strings.TrimSpace(authz), " ")
	tok = strings.TrimSpace(tok)
	switch {
	case authz == "":
		return "", newError(http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty.")
	case !strings.EqualFold(scheme, "Bearer") || tok == "":
		return "", newError(http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token validation failure.")
	case s.opts.Token != "" && tok != s.opts.Token:
		return "", newError(http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.")
	}
	return tok, nil
}

// readBody reads a request body, decompressing gzip.
func readBody(hr *http.Request) ([]byte, *graphError) {
	if hr.Body == nil || hr.Body == http.NoBody {
		return nil, nil
	}
	raw, err := io.ReadAll(io.LimitReader(hr.Body, maxBodyBytes+1))
	if err != nil {
		return nil, newError(http.StatusBadRequest, "BadRequest", "Unable to read the request body.")
	}
	if len(raw) > maxBodyBytes {
		return nil, newError(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "The request body is larger than 4 MB.")
	}
	switch enc := strings.ToLower(strings.TrimSpace(hr.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
		return raw, nil
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, newError(http.StatusBadRequest, "BadRequest", "The gzip request body is not valid.")
		}
		out, err := io.ReadAll(io.LimitReader(zr, maxBodyBytes+1))
		if err != nil {
			return nil, newError(http.StatusBadRequest, "BadRequest", "The gzip request body is not valid.")
		}
		if len(out) > maxBodyBytes {
			return nil, newError(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "The request body is larger than 4 MB.")
		}
		return out, nil
	default:
		return nil, newError(http.StatusUnsupportedMediaType, "UnsupportedMediaType",
			"Content-Encoding '"+enc+"' is not supported.")
	}
}

// writeHTTP writes a response to the wire with Graph's headers.
func writeHTTP(w http.ResponseWriter, r *request, resp *response) {
	h := w.Header()
	for k, vs := range resp.header {
		h[k] = vs
	}
	h.Set("request-id", r.requestID)
	h.Set("client-request-id", r.clientRequestID)
	h.Set("Cache-Control", "no-cache")
	if resp.body != nil {
		h.Set("Content-Type", jsonContentType)
		h.Set("OData-Version", "4.0")
		h.Set("Content-Length", fmt.Sprint(len(resp.body)))
	}
	w.WriteHeader(resp.status)
	if resp.body != nil {
		_, _ = w.Write(resp.body)
	}
}

// splitPath splits an escaped path into unescaped segments.
func splitPath(escaped string) ([]string, *graphError) {
	escaped = strings.Trim(escaped, "/")
	if escaped == "" {
		return nil, nil
	}
	parts := strings.Split(escaped, "/")
	for i, p := range parts {
		u, err := url.PathUnescape(p)
		if err != nil {
			return nil, newError(http.StatusBadRequest, "BadRequest", "The request URI is not valid.")
		}
		parts[i] = u
	}
	return parts, nil
}

// parseQueryString parses a query string, lower-casing system query option
// names ($select, $filter, ...), which OData treats case-insensitively.
func parseQueryString(raw string) (url.Values, *graphError) {
	v, err := url.ParseQuery(raw)
	if err != nil {
		return nil, newError(http.StatusBadRequest, "BadRequest", "The query specified in the URI is not valid.")
	}
	out := make(url.Values, len(v))
	for k, vals := range v {
		if strings.HasPrefix(k, "$") {
			k = strings.ToLower(k)
		}
		out[k] = append(out[k], vals...)
	}
	return out, nil
}

// handlerFunc handles a routed request.
type handlerFunc func(s *Server, r *request) *response

func errorHandler(e *graphError) handlerFunc {
	return func(s *Server, r *request) *response { return s.fail(r, e) }
}

// route maps a method and path to a route pattern and handler.
func (s *Server) route(method string, segs []string) (string, handlerFunc) {
	lower := func(i int) string { return strings.ToLower(segs[i]) }
	if len(segs) == 0 {
		return method + " /", errorHandler(newError(http.StatusBadRequest, "BadRequest", "The request URI is not valid."))
	}
	byMethod := func(pattern string, hs map[string]handlerFunc) (string, handlerFunc) {
		if h, ok := hs[method]; ok {
			return method + " " + pattern, h
		}
		return method + " " + pattern, errorHandler(errMethod())
	}
	switch lower(0) {
	case "users":
		switch {
		case len(segs) == 1:
			return byMethod("/users", map[string]handlerFunc{
				http.MethodGet: (*Server).listUsers, http.MethodPost: (*Server).createUser})
		case len(segs) == 2:
			switch lower(1) {
			case "delta", "delta()", "microsoft.graph.delta", "microsoft.graph.delta()":
				return byMethod("/users/delta", map[string]handlerFunc{http.MethodGet: (*Server).deltaUsers})
			case "$count":
				return method + " /users/" + lower(1), errorHandler(errNotImplemented("/users/" + segs[1]))
			}
			return byMethod("/users/{id}", map[string]handlerFunc{
				http.MethodGet: (*Server).getUser, http.MethodPatch: (*Server).patchUser,
				http.MethodDelete: (*Server).deleteUser})
		case len(segs) == 3 && (lower(2) == "revokesigninsessions" || lower(2) == "microsoft.graph.revokesigninsessions"):
			return byMethod("/users/{id}/revokeSignInSessions", map[string]handlerFunc{http.MethodPost: (*Server).revokeSessions})
		case len(segs) == 3 && (lower(2) == "assignlicense" || lower(2) == "microsoft.graph.assignlicense"):
			return byMethod("/users/{id}/assignLicense", map[string]handlerFunc{http.MethodPost: (*Server).assignLicense})
		case len(segs) == 3 && lower(2) == "manager":
			return byMethod("/users/{id}/manager", map[string]handlerFunc{http.MethodGet: (*Server).getManager})
		case len(segs) == 4 && lower(2) == "manager" && lower(3) == "$ref":
			return byMethod("/users/{id}/manager/$ref", map[string]handlerFunc{
				http.MethodGet: (*Server).getManagerRef, http.MethodPut: (*Server).putManager,
				http.MethodDelete: (*Server).deleteManager})
		case len(segs) >= 3 && isKnownUserNavigation(lower(2)):
			return method + " /users/{id}/" + lower(2), errorHandler(errNotImplemented("/users/{id}/" + segs[2]))
		default:
			return method + " (unmatched)", errorHandler(errSegment(segs[len(segs)-1]))
		}
	case "organization":
		switch {
		case len(segs) == 1:
			return byMethod("/organization", map[string]handlerFunc{http.MethodGet: (*Server).listOrganization})
		case len(segs) == 2:
			switch lower(1) {
			case "delta", "$count", "delta()", "getbyids", "validateproperties", "getavailableextensionproperties":
				return method + " /organization/" + lower(1), errorHandler(errNotImplemented("/organization/" + segs[1]))
			}
			return byMethod("/organization/{id}", map[string]handlerFunc{
				http.MethodGet: (*Server).getOrganization, http.MethodPatch: errorHandler(errNotImplemented("PATCH /organization/{id}"))})
		default:
			return method + " /organization/{id}/" + lower(2), errorHandler(errNotImplemented("/organization/{id}/" + segs[2]))
		}
	case "groups":
		return s.routeGroups(method, segs, byMethod)
	case "directory":
		return s.routeDirectory(method, segs, byMethod)
	case "subscribedskus":
		switch len(segs) {
		case 1:
			return byMethod("/subscribedSkus", map[string]handlerFunc{http.MethodGet: (*Server).listSkus})
		case 2:
			return byMethod("/subscribedSkus/{id}", map[string]handlerFunc{http.MethodGet: (*Server).getSku})
		}
		return method + " (unmatched)", errorHandler(errSegment(segs[2]))
	case "$batch":
		if len(segs) != 1 {
			return method + " (unmatched)", errorHandler(errSegment(segs[1]))
		}
		return byMethod("/$batch", map[string]handlerFunc{http.MethodPost: (*Server).batch})
	default:
		return method + " (unmatched)", errorHandler(errSegment(segs[0]))
	}
}

// routeGroups routes /groups requests.
func (s *Server) routeGroups(method string, segs []string,
	byMethod func(string, map[string]handlerFunc) (string, handlerFunc)) (string, handlerFunc) {
	lower := func(i int) string { return strings.ToLower(segs[i]) }
	notImpl := func(pattern string) (string, handlerFunc) {
		return method + " " + pattern, errorHandler(errNotImplemented(method + " " + pattern))
	}
	switch {
	case len(segs) == 1:
		return byMethod("/groups", map[string]handlerFunc{http.MethodGet: (*Server).listGroups,
			http.MethodPost: errorHandler(errNotImplemented("creating groups"))})
	case len(segs) == 2:
		switch lower(1) {
		case "delta", "delta()", "microsoft.graph.delta", "microsoft.graph.delta()", "$count", "getbyids", "validateproperties":
			return notImpl("/groups/" + lower(1))
		}
		return byMethod("/groups/{id}", map[string]handlerFunc{http.MethodGet: (*Server).getGroup,
			http.MethodPatch:  errorHandler(errNotImplemented("updating groups")),
			http.MethodDelete: errorHandler(errNotImplemented("deleting groups"))})
	case lower(2) != "members":
		if isKnownGroupNavigation(lower(2)) {
			return notImpl("/groups/{id}/" + lower(2))
		}
		return method + " (unmatched)", errorHandler(errSegment(segs[2]))
	case len(segs) == 3:
		return byMethod("/groups/{id}/members", map[string]handlerFunc{http.MethodGet: (*Server).listMembers})
	case len(segs) == 4 && lower(3) == "$ref":
		return byMethod("/groups/{id}/members/$ref", map[string]handlerFunc{http.MethodPost: (*Server).addMember,
			http.MethodDelete: (*Server).removeMember})
	case len(segs) == 4 && isUserCast(lower(3)):
		return byMethod("/groups/{id}/members/microsoft.graph.user", map[string]handlerFunc{http.MethodGet: (*Server).listMembers})
	case len(segs) == 4 && lower(3) == "$count":
		return notImpl("/groups/{id}/members/$count")
	case len(segs) == 4 && (strings.HasPrefix(lower(3), "microsoft.graph.") || strings.HasPrefix(lower(3), "graph.")):
		return notImpl("/groups/{id}/members/" + lower(3))
	case len(segs) == 5 && lower(4) == "$ref":
		return byMethod("/groups/{id}/members/{id}/$ref", map[string]handlerFunc{http.MethodDelete: (*Server).removeMember})
	}
	return method + " (unmatched)", errorHandler(errSegment(segs[len(segs)-1]))
}

// isKnownGroupNavigation reports real Graph group sub-resources graphsim
// does not emulate.
func isKnownGroupNavigation(seg string) bool {
	switch seg {
	case "owners", "memberof", "transitivemembers", "transitivememberof", "approleassignments", "extensions",
		"photo", "settings", "conversations", "threads", "calendar", "drive", "sites", "team", "onenote",
		"planner", "permissiongrants", "memberswithlicenseerrors", "assignlicense", "checkmembergroups",
		"checkmemberobjects", "getmembergroups", "getmemberobjects", "restore", "addfavorite", "removefavorite":
		return true
	}
	return false
}

// routeDirectory routes /directory requests: the deleted items.
func (s *Server) routeDirectory(method string, segs []string,
	byMethod func(string, map[string]handlerFunc) (string, handlerFunc)) (string, handlerFunc) {
	lower := func(i int) string { return strings.ToLower(segs[i]) }
	if len(segs) < 2 || lower(1) != "deleteditems" {
		if len(segs) < 2 {
			return method + " /directory", errorHandler(errNotImplemented("/directory"))
		}
		return method + " /directory/" + lower(1), errorHandler(errNotImplemented("/directory/" + segs[1]))
	}
	switch {
	case len(segs) == 2:
		return method + " /directory/deletedItems", errorHandler(newError(http.StatusBadRequest, "BadRequest",
			"The OData cast type is required: use /directory/deletedItems/microsoft.graph.user."))
	case len(segs) == 3 && isUserCast(lower(2)):
		return byMethod("/directory/deletedItems/microsoft.graph.user", map[string]handlerFunc{http.MethodGet: (*Server).listDeletedUsers})
	case len(segs) == 3 && (strings.HasPrefix(lower(2), "microsoft.graph.") || strings.HasPrefix(lower(2), "graph.") ||
		lower(2) == "$count" || lower(2) == "getbyids"):
		return method + " /directory/deletedItems/" + lower(2), errorHandler(errNotImplemented("/directory/deletedItems/" + segs[2]))
	case len(segs) == 3:
		return byMethod("/directory/deletedItems/{id}", map[string]handlerFunc{http.MethodGet: (*Server).getDeletedItem,
			http.MethodDelete: (*Server).deleteDeletedItem})
	case len(segs) == 4 && (lower(3) == "restore" || lower(3) == "microsoft.graph.restore"):
		return byMethod("/directory/deletedItems/{id}/restore", map[string]handlerFunc{http.MethodPost: (*Server).restoreDeletedItem})
	}
	return method + " (unmatched)", errorHandler(errSegment(segs[len(segs)-1]))
}

// isKnownUserNavigation reports real Graph user sub-resources graphsim does
// not emulate (answered with 501 rather than a misleading 400).
func isKnownUserNavigation(seg string) bool {
	switch seg {
	case "directreports", "memberof", "transitivememberof", "ownedobjects", "registereddevices", "owneddevices",
		"createdobjects", "approleassignments", "extensions", "photo", "licensedetails", "revokesigninsessions",
		"changepassword", "manager/$ref":
		return true
	}
	return false
}
