package rest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/loopback"
	"github.com/hrsync/hrsync/internal/pacer"
	"github.com/hrsync/hrsync/internal/source"
)

// Options are the runtime dependencies of a Source.
type Options struct {
	// HTTPClient sends the requests; nil means a client with connection
	// timeouts that refuses redirects from https to plain http.
	HTTPClient *http.Client
	// Sleep waits between retries; nil means a real timer. It returns
	// ctx.Err() if ctx ends first.
	Sleep func(ctx context.Context, d time.Duration) error
	// Log receives retries (warn) and pages read (debug); nil discards.
	// It never receives a secret.
	Log *slog.Logger
}

// Source reads the records of an HTTP JSON API. A Source may be read more
// than once and from several goroutines; an OAuth access token is shared
// between reads until it expires.
type Source struct {
	c       Config
	client  *http.Client
	sleep   func(context.Context, time.Duration) error
	log     *slog.Logger
	backoff pacer.Backoff
	now     func() time.Time
	red     *redactor

	firstURL     string          // the first page's URL, query included
	display      string          // firstURL for people
	tokenDisplay string          // the token endpoint for people
	secretParams map[string]bool // query parameters whose values are secret
	header       *identity.Header

	tokenMu  sync.Mutex // serialises token requests
	mu       sync.Mutex
	token    string
	tokenExp time.Time
	tokens   int // access tokens fetched, for tests
}

// New checks c and returns a Source. It sends nothing.
func New(c Config, opts Options) (*Source, error) {
	c, err := withDefaults(c)
	if err != nil {
		return nil, err
	}
	s := &Source{
		c:       c,
		client:  opts.HTTPClient,
		sleep:   opts.Sleep,
		log:     logger(opts.Log),
		backoff: pacer.DefaultBackoff(),
		now:     time.Now,
		red:     &redactor{},
	}
	if s.client == nil {
		s.client = defaultClient()
	}
	if s.sleep == nil {
		s.sleep = pacer.RealClock{}.Sleep
	}
	s.noteSecrets()
	s.firstURL = withParams(c.URL, queryParams(c.Query))
	s.display = s.displayOf(s.firstURL)
	if c.Auth.TokenURL != nil {
		s.tokenDisplay = displayURL(c.Auth.TokenURL, nil, s.red)
	}
	if c.Fields != nil {
		s.header = fieldsHeader(c.Fields)
	}
	return s, nil
}

// withDefaults fills in the defaults of settings left zero (a Config not
// made by Parse) and refuses a Config that cannot be read.
func withDefaults(c Config) (Config, error) {
	if c.URL == nil {
		return c, errors.New("rest source: no URL (use Parse to build the Config)")
	}
	if c.Method == "" {
		c.Method = http.MethodGet
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxPages <= 0 {
		c.MaxPages = DefaultMaxPages
	}
	if c.MaxBody <= 0 {
		c.MaxBody = DefaultMaxBody
	}
	if c.Paging.Type == "" {
		c.Paging.Type = PagingNone
	}
	if c.Auth.Type == "" {
		c.Auth.Type = AuthNone
	}
	if c.Auth.Type == AuthOAuth2 && c.Auth.TokenURL == nil {
		return c, errors.New("rest source: oauth2 needs a token URL")
	}
	return c, nil
}

// noteSecrets registers every secret of the Config with the redactor, in
// the forms it is sent in, and the query parameters whose values are
// secret: none of them is ever shown.
func (s *Source) noteSecrets() {
	s.secretParams = map[string]bool{}
	for _, q := range s.c.Query {
		if !q.Secret.IsZero() {
			s.secretParams[q.Name] = true
			s.red.add(q.Secret.Reveal())
		}
	}
	for _, h := range s.c.Headers {
		if !h.Secret.IsZero() {
			s.red.add(h.Secret.Reveal())
		}
	}
	a := s.c.Auth
	s.red.add(a.Token.Reveal(), a.ClientSecret.Reveal(), a.APIKey.Reveal())
	if !a.APIKey.IsZero() {
		s.red.addBasic(a.APIKey.Reveal(), "x")
	}
	if !a.Password.IsZero() {
		s.red.addBasic(a.Username, a.Password.Reveal())
	}
	if !a.ClientSecret.IsZero() {
		s.red.addBasic(url.QueryEscape(a.ClientID), url.QueryEscape(a.ClientSecret.Reveal()))
	}
	for _, p := range a.Params {
		if !p.Secret.IsZero() {
			s.red.add(p.Secret.Reveal())
		}
	}
}

// queryParams are the query parameters as name and value, secrets
// revealed.
func queryParams(query []Param) [][2]string {
	var params [][2]string
	for _, q := range query {
		params = append(params, [2]string{q.Name, q.value()})
	}
	return params
}

// fieldsHeader is the header of the configured columns.
func fieldsHeader(fields []Field) *identity.Header {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.Name
	}
	return identity.NewHeader(names)
}

func defaultClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	// The environment's proxy, never for a loopback host: plain http is
	// allowed to loopback only because it never leaves the machine.
	tr.Proxy = loopback.Proxy()
	tr.TLSHandshakeTimeout = 15 * time.Second
	tr.IdleConnTimeout = 90 * time.Second
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 10 {
				return fmt.Errorf("%w: stopped after 10 redirects", errRedirect)
			}
			if req.URL.Scheme != "https" && !isLoopback(req.URL.Hostname()) {
				return fmt.Errorf("%w to plain http", errRedirect)
			}
			return nil
		},
	}
}

// String names the source for messages, e.g. "rest workday https://...":
// never with credentials, user information or secret query parameters.
func (s *Source) String() string {
	if s.c.Preset != "" {
		return "rest " + s.c.Preset + " " + s.display
	}
	return "rest " + s.display
}

// displayOf renders a request URL for people.
func (s *Source) displayOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return s.display
	}
	return displayURL(u, s.secretParams, s.red)
}

// withParams returns u with params set in its query: parameters of the
// same name already there are replaced, others are kept as written.
func withParams(u *url.URL, params [][2]string) string {
	c := *u
	var parts []string
	if c.RawQuery != "" {
		for _, part := range strings.Split(c.RawQuery, "&") {
			if part == "" {
				continue
			}
			name, _, _ := strings.Cut(part, "=")
			if n, err := url.QueryUnescape(name); err == nil {
				name = n
			}
			replaced := false
			for _, p := range params {
				if p[0] == name {
					replaced = true
					break
				}
			}
			if !replaced {
				parts = append(parts, part)
			}
		}
	}
	for _, p := range params {
		parts = append(parts, escapeQuery(p[0])+"="+escapeQuery(p[1]))
	}
	c.RawQuery = strings.Join(parts, "&")
	return c.String()
}

// escapeQuery escapes a query name or value: spaces as %20 (OData servers
// do not all read "+"), and the characters OData queries are written with
// ($ ' ( ) , / : @) left readable.
func escapeQuery(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			strings.IndexByte("-._~$'(),/:@!*", c) >= 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// Read fetches every page and streams its records to emit, in order. All
// records share one *identity.Header: the configured columns, or the leaf
// paths of the first page's records. A read is all or nothing: an HTTP
// error that retries did not cure, a body that is not JSON or not of the
// configured shape, a column found in no record of the first page, or
// more pages than max_pages fail the whole read with a *source.Error;
// records emitted before must be discarded. An error from emit is
// returned as is.
func (s *Source) Read(ctx context.Context, emit func(*identity.Record) error) (source.Summary, error) {
	r := &reader{s: s, ctx: ctx, emit: emit, hash: sha256.New(), header: s.header}
	if err := r.run(); err != nil {
		return source.Summary{}, err
	}
	names := []string{}
	if r.header != nil {
		names = slices.Clone(r.header.Names)
	}
	return source.Summary{
		Header:  names,
		Records: r.count,
		Digest:  "sha256:" + hex.EncodeToString(r.hash.Sum(nil)),
	}, nil
}

// reader is the state of one Read.
type reader struct {
	s    *Source
	ctx  context.Context
	emit func(*identity.Record) error
	hash hash.Hash

	header *identity.Header
	count  int // records emitted

	// first page
	buffered [][]string // the first page's records, held until checked
	reachedF []bool     // per field: some first-page record has the path
	firstRec any        // the first page's first record, for hints
	autoCols map[string]int
	autoNew  map[string]bool // columns met after the first page (warned once)
}

// ctxEvery is how many records are handled between checks for
// cancellation.
const ctxEvery = 1024

// pager is where a read stands in the API's pages.
type pager struct {
	pageURL string            // the URL the next request is made from
	pageNum int               // page paging: the next page number
	offset  int               // offset paging: the next offset
	total   int64             // the total the API reports, -1 before it is known
	seen    map[string]bool   // the URLs requested, for links that loop
	prevSum [sha256.Size]byte // the previous page's body, hashed
}

// numbered reports page and offset paging, whose URLs never repeat.
func numbered(paging string) bool {
	return paging == PagingPage || paging == PagingOffset
}

// run reads page after page until the API has no next page: each page is
// fetched, its records emitted, and the next page's URL worked out from it.
// Any failure, and a read longer than max_pages, fails the whole read.
func (r *reader) run() error {
	p := &pager{pageURL: r.s.firstURL, pageNum: r.s.c.Paging.FirstPage, total: -1, seen: map[string]bool{}}
	for page := 1; ; page++ {
		if err := r.mayRead(page); err != nil {
			return err
		}
		reqURL := p.requestURL(r.s.c.Paging)
		pr, err := r.readPage(page, reqURL, p)
		if err != nil {
			return err
		}
		next, err := r.nextURL(pr, p)
		if err != nil || next == "" {
			return err
		}
		p.pageURL = next
	}
}

// mayRead checks, before a page is requested, that the read is not
// cancelled and that the page is within max_pages.
func (r *reader) mayRead(page int) error {
	s := r.s
	if err := r.ctx.Err(); err != nil {
		return fmt.Errorf("read %s: %w", s.display, err)
	}
	if page > s.c.MaxPages {
		return &source.Error{Prov: identity.Provenance{File: s.display},
			Msg: fmt.Sprintf("stopped after %d pages (source.rest.max_pages) with more to read: the read failed, nothing of it is used (%d records were read)",
				s.c.MaxPages, r.count),
			Hint: "if the API really has that many pages, raise source.rest.max_pages or ask for bigger pages (paging.size); " +
				"if not, its paging never ends: check source.rest.paging"}
	}
	return nil
}

// requestURL is the URL of the next request: the page URL with the page
// number, offset or page size the paging sends. URLs of link and cursor
// paging are remembered, to catch paging that loops.
func (p *pager) requestURL(pg Paging) string {
	reqURL := p.pageURL
	switch pg.Type {
	case PagingPage:
		reqURL = withParamsRaw(p.pageURL, [][2]string{{pg.PageParam, strconv.Itoa(p.pageNum)}, {pg.SizeParam, strconv.Itoa(pg.Size)}})
	case PagingOffset:
		reqURL = withParamsRaw(p.pageURL, [][2]string{{pg.OffsetParam, strconv.Itoa(p.offset)}, {pg.SizeParam, strconv.Itoa(pg.Size)}})
	case PagingCursor:
		if pg.SizeParam != "" {
			reqURL = withParamsRaw(reqURL, [][2]string{{pg.SizeParam, strconv.Itoa(pg.Size)}})
		}
	}
	if !numbered(pg.Type) {
		p.seen[reqURL] = true
	}
	return reqURL
}

// pageRead is a page read: its number and URL, how many records it held,
// the scalars the paging reads, and the answer.
type pageRead struct {
	page   int
	reqURL string
	n      int
	info   pageInfo
	ans    answer
}

// readPage fetches one page and handles its records: the first page's are
// emitted once the page is checked whole.
func (r *reader) readPage(page int, reqURL string, p *pager) (pageRead, error) {
	start := time.Now()
	ans, err := r.fetch(page, reqURL, p)
	if err != nil {
		return pageRead{}, err
	}
	n, info, err := r.page(page, reqURL, ans)
	if err != nil {
		return pageRead{}, err
	}
	if err := r.finishFirst(page); err != nil {
		return pageRead{}, err
	}
	r.s.log.Debug("rest: page read", "page", page, "records", n, "bytes", len(ans.body),
		"url", r.s.displayOf(reqURL), "took", time.Since(start).Round(time.Millisecond))
	return pageRead{page: page, reqURL: reqURL, n: n, info: info, ans: ans}, nil
}

// fetch requests one page and adds its body to the read's digest. A page
// whose body is the same as the previous page's fails the read: the API
// ignores the paging.
func (r *reader) fetch(page int, reqURL string, p *pager) (answer, error) {
	s := r.s
	ans, err := s.do(r.ctx, fmt.Sprintf("page %d of %s", page, s.displayOf(reqURL)), s.dataRequest(reqURL), s.unauthorized)
	if err != nil {
		if r.ctx.Err() != nil {
			return answer{}, fmt.Errorf("read %s: %w", s.display, r.ctx.Err())
		}
		return answer{}, s.pageError(page, reqURL, err)
	}
	sum := sha256.Sum256(ans.body)
	if page > 1 && sum == p.prevSum {
		return answer{}, &source.Error{Prov: identity.Provenance{File: s.displayOf(reqURL)},
			Msg:  fmt.Sprintf("page %d is the same as page %d: the API ignores the paging", page, page-1),
			Hint: "check source.rest.paging (parameter names, type)"}
	}
	p.prevSum = sum
	r.hash.Write(ans.body)
	return ans, nil
}

// nextURL works out the next page's URL from the page just read: "" when
// the read is complete. Links are resolved and must stay on the API's
// server, and must not lead back to a page already read.
func (r *reader) nextURL(pr pageRead, p *pager) (string, error) {
	page, reqURL, n, info, ans := pr.page, pr.reqURL, pr.n, pr.info, pr.ans
	pg := r.s.c.Paging
	next := ""
	var err error
	switch pg.Type {
	case PagingNone:
	case PagingNextLink:
		next, err = r.bodyLink(page, reqURL, info)
	case PagingLinkHeader:
		next = nextLink(ans.header.Values("Link"))
	case PagingPage, PagingOffset:
		next, err = r.nextNumbered(page, reqURL, n, info, p)
	case PagingCursor:
		next, err = r.nextCursor(page, reqURL, info, p)
	}
	if err != nil || next == "" {
		return "", err
	}
	if pg.Type == PagingNextLink || pg.Type == PagingLinkHeader {
		if next, err = r.followLink(page, reqURL, next); err != nil {
			return "", err
		}
	}
	if !numbered(pg.Type) && p.seen[next] {
		return "", &source.Error{Prov: identity.Provenance{File: r.s.displayOf(reqURL)},
			Msg:  fmt.Sprintf("page %d links back to a page already read", page),
			Hint: "the API's paging loops; check source.rest.paging"}
	}
	return next, nil
}

// bodyLink reads the next link from the body (next_link paging): "" for
// none.
func (r *reader) bodyLink(page int, reqURL string, info pageInfo) (string, error) {
	at := r.s.c.Paging.Next
	switch x := info.values[at].(type) {
	case nil:
		return "", nil
	case string:
		return strings.TrimSpace(x), nil
	default:
		return "", r.shapeError(page, reqURL, fmt.Sprintf("the next link at %s is %s, not a URL", at, kindOf(x)), "check source.rest.paging.next")
	}
}

// nextNumbered moves page and offset paging on by a page: "" once the
// records are all read, by the total if the API reports one, else when a
// page comes back short.
func (r *reader) nextNumbered(page int, reqURL string, n int, info pageInfo, p *pager) (string, error) {
	pg := r.s.c.Paging
	if pg.Total != "" {
		done, err := r.checkTotal(page, reqURL, n, info, p)
		if err != nil || done {
			return "", err
		}
	} else if n == 0 || n < pg.Size {
		return "", nil
	}
	if pg.Type == PagingPage {
		p.pageNum++
	} else {
		p.offset += n
	}
	return p.pageURL, nil
}

// checkTotal reads the total the page reports and reports whether every
// record is read. The total is required on page 1; a total that changes,
// more records than it, or an empty page before it is reached fail the
// read.
func (r *reader) checkTotal(page int, reqURL string, n int, info pageInfo, p *pager) (bool, error) {
	at := r.s.c.Paging.Total
	t, ok := totalOf(info.values[at])
	switch {
	case !ok && page == 1:
		return false, r.shapeError(page, reqURL, fmt.Sprintf("no total at %s", at), "check source.rest.paging.total, or leave it out")
	case ok && p.total >= 0 && t != p.total:
		return false, r.changedError(page, reqURL, fmt.Sprintf("the total changed from %d to %d while reading", p.total, t))
	case ok:
		p.total = t
	}
	if int64(r.count) >= p.total {
		if int64(r.count) > p.total {
			return false, r.changedError(page, reqURL, fmt.Sprintf("read %d records but the API reports %d", r.count, p.total))
		}
		return true, nil
	}
	if n == 0 {
		return false, r.changedError(page, reqURL, fmt.Sprintf("page %d is empty after %d of %d records", page, r.count, p.total))
	}
	return false, nil
}

// nextCursor is the next page's URL for cursor paging: the page URL with
// the cursor the page reports in its cursor parameter, or "" when it
// reports none.
func (r *reader) nextCursor(page int, reqURL string, info pageInfo, p *pager) (string, error) {
	pg := r.s.c.Paging
	cur, ok := cursorOf(info.values[pg.Cursor])
	if !ok {
		return "", r.shapeError(page, reqURL, fmt.Sprintf("the cursor at %s is %s, not text", pg.Cursor, kindOf(info.values[pg.Cursor])), "check source.rest.paging.cursor")
	}
	if cur == "" {
		return "", nil
	}
	return withParamsRaw(p.pageURL, [][2]string{{pg.CursorParam, cur}}), nil
}

// withParamsRaw is withParams on a URL in text form.
func withParamsRaw(raw string, params [][2]string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return withParams(u, params)
}

// followLink resolves a next link against the page it came from and
// refuses to send the credentials to another server.
func (r *reader) followLink(page int, from, link string) (string, error) {
	base, err := url.Parse(from)
	if err != nil {
		return "", err
	}
	ref, err := url.Parse(link)
	if err != nil {
		return "", r.shapeError(page, from, "the next link is not a URL", "check source.rest.paging")
	}
	u := base.ResolveReference(ref)
	first := r.s.c.URL
	if !strings.EqualFold(u.Host, first.Host) || (u.Scheme != first.Scheme && u.Scheme != "https") {
		return "", &source.Error{Prov: identity.Provenance{File: r.s.displayOf(from)},
			Msg:  fmt.Sprintf("page %d links to another server (%s); hrsync does not send the credentials there", page, u.Scheme+"://"+u.Host),
			Hint: "set source.rest.url to the server the API pages on"}
	}
	u.User = nil
	return u.String(), nil
}

// nextLink finds rel="next" in Link headers (RFC 8288).
func nextLink(values []string) string {
	for _, v := range values {
		for _, link := range splitLinks(v) {
			link = strings.TrimSpace(link)
			if !strings.HasPrefix(link, "<") {
				continue
			}
			end := strings.IndexByte(link, '>')
			if end < 0 {
				continue
			}
			target := link[1:end]
			for _, param := range strings.Split(link[end+1:], ";") {
				k, val, ok := strings.Cut(strings.TrimSpace(param), "=")
				if !ok || !strings.EqualFold(strings.TrimSpace(k), "rel") {
					continue
				}
				val = strings.Trim(strings.TrimSpace(val), `"`)
				for _, rel := range strings.Fields(val) {
					if strings.EqualFold(rel, "next") {
						return target
					}
				}
			}
		}
	}
	return ""
}

// splitLinks splits a Link header at the commas between links (not those
// inside <...> or quotes).
func splitLinks(v string) []string {
	var out []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '<':
			if !quoted {
				depth++
			}
		case '>':
			if !quoted && depth > 0 {
				depth--
			}
		case '"':
			if depth == 0 {
				quoted = !quoted
			}
		case ',':
			if depth == 0 && !quoted {
				out = append(out, v[start:i])
				start = i + 1
			}
		}
	}
	return append(out, v[start:])
}

func totalOf(v any) (int64, bool) {
	switch x := v.(type) {
	case json.Number:
		n, err := strconv.ParseInt(formatNumber(string(x)), 10, 64)
		return n, err == nil && n >= 0
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		return n, err == nil && n >= 0
	}
	return 0, false
}

func cursorOf(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", true
	case string:
		return strings.TrimSpace(x), true
	case json.Number:
		return formatNumber(string(x)), true
	case bool:
		if !x {
			return "", true
		}
	}
	return "", false
}

func (r *reader) shapeError(page int, pageURL, msg, hint string) error {
	return &source.Error{Prov: identity.Provenance{File: r.s.displayOf(pageURL)},
		Msg: fmt.Sprintf("page %d: %s", page, r.s.red.clean(msg)), Hint: hint}
}

func (r *reader) changedError(page int, pageURL, msg string) error {
	return &source.Error{Prov: identity.Provenance{File: r.s.displayOf(pageURL)},
		Msg:  fmt.Sprintf("page %d: %s: the data changed while it was read", page, msg),
		Hint: "run again; paging by offset can skip or repeat records when workers are added or removed meanwhile"}
}

// page decodes one response and handles its records.
func (r *reader) page(page int, pageURL string, ans answer) (int, pageInfo, error) {
	s := r.s
	c := s.c
	spec := pageSpec{records: c.Records, ordered: c.Fields == nil}
	for _, p := range []string{c.Paging.Next, c.Paging.Cursor, c.Paging.Total} {
		if p != "" {
			spec.scalars = append(spec.scalars, p)
		}
	}
	n := 0
	info, err := decodePage(ans.body, spec, func(v any) error {
		n++
		if n%ctxEvery == 0 {
			if err := r.ctx.Err(); err != nil {
				return err
			}
		}
		return r.record(page, n, v)
	})
	if err != nil {
		if r.ctx.Err() != nil {
			return 0, info, fmt.Errorf("read %s: %w", s.display, r.ctx.Err())
		}
		var se *source.Error
		var ej *errJSON
		var es *errShape
		switch {
		case errors.As(err, &se):
			return 0, info, err
		case errors.As(err, &ej):
			return 0, info, r.jsonError(page, pageURL, ans, ej)
		case errors.As(err, &es):
			return 0, info, r.shapeError(page, pageURL, es.msg, "check source.rest.records")
		}
		return 0, info, err // from emit
	}
	if !info.found {
		hint := "check source.rest.records"
		if len(info.topKeys) > 0 {
			hint += "; the body's top-level keys are " + strings.Join(info.topKeys, ", ")
		}
		where := "the body is not a list"
		if c.Records != "" {
			where = "no records at " + c.Records
		}
		return 0, info, r.shapeError(page, pageURL, where, hint)
	}
	return n, info, nil
}

func (r *reader) jsonError(page int, pageURL string, ans answer, ej *errJSON) error {
	s := r.s
	msg := "the answer is not valid JSON: " + ej.Error()
	if len(bytes.TrimSpace(ans.body)) == 0 {
		msg = "the answer is empty, not JSON"
	}
	hint := "is the API set to answer JSON?"
	if p := presets[s.c.Preset]; p != nil && p.hintJSON != "" {
		hint = p.hintJSON
	}
	trimmed := bytes.TrimSpace(ans.body)
	if ct := ans.header.Get("Content-Type"); ct != "" && !strings.Contains(strings.ToLower(ct), "json") {
		msg += " (Content-Type " + ct + ")"
	}
	if len(trimmed) > 0 && trimmed[0] == '<' {
		hint = "the server answered with HTML or XML: often a login page or a proxy, or a report not set to JSON; " + hint
	}
	return &source.Error{Prov: identity.Provenance{File: s.displayOf(pageURL)},
		Msg: fmt.Sprintf("page %d: %s", page, s.red.clean(msg)), Hint: hint}
}

// record turns one decoded record into values and emits it (the first
// page's are held until the page is checked).
func (r *reader) record(page, idx int, v any) error {
	prov := identity.Provenance{File: r.s.display, Page: page, Index: idx}
	if r.s.c.Fields == nil {
		return r.autoRecord(prov, v)
	}
	return r.fieldRecord(prov, v)
}

// notObject is the error for a record that is not a JSON object.
func notObject(prov identity.Provenance, v any) error {
	return &source.Error{Prov: prov, Msg: fmt.Sprintf("the record is %s, not an object", kindOf(v)), Hint: "check source.rest.records"}
}

// autoRecord handles a record read with the automatic columns: every
// scalar leaf, named by its path. The first page's records make the
// columns; later records fit their values to them.
func (r *reader) autoRecord(prov identity.Provenance, v any) error {
	obj, ok := v.(orderedObject)
	if !ok {
		return notObject(prov, v)
	}
	pairs := flatten(obj, "", r.s.c.ODataDates, nil)
	if prov.Page == 1 {
		r.buffered = append(r.buffered, r.addAutoColumns(pairs))
		return nil
	}
	return r.out(r.autoValues(pairs, prov), prov)
}

// addAutoColumns adds the leaves of a first-page record to the automatic
// columns and returns its values, one per column known so far.
func (r *reader) addAutoColumns(pairs []pair) []string {
	if r.autoCols == nil {
		r.autoCols = map[string]int{}
	}
	vals := make([]string, 0, len(r.autoCols))
	for _, p := range pairs {
		i, ok := r.autoCols[p.name]
		if !ok {
			i = len(r.autoCols)
			r.autoCols[p.name] = i
		}
		for len(vals) <= i {
			vals = append(vals, "")
		}
		vals[i] = p.value
	}
	return vals
}

// autoValues fits the leaves of a record after the first page to the
// automatic columns. A leaf no first-page record had is left out, with a
// warning (once per leaf, for the first 100).
func (r *reader) autoValues(pairs []pair, prov identity.Provenance) []string {
	vals := make([]string, len(r.header.Names))
	for _, p := range pairs {
		i, ok := r.autoCols[p.name]
		if !ok {
			if r.autoNew == nil {
				r.autoNew = map[string]bool{}
			}
			if !r.autoNew[p.name] && len(r.autoNew) < 100 {
				r.autoNew[p.name] = true
				r.s.log.Warn("rest: a field not in the first page is ignored; list the columns in source.rest.fields to read it",
					"field", p.name, "page", prov.Page, "item", prov.Index)
			}
			continue
		}
		vals[i] = p.value
	}
	return vals
}

// fieldRecord handles a record read with the configured fields. On the
// first page it notes which paths some record has, for finishFirst.
func (r *reader) fieldRecord(prov identity.Provenance, v any) error {
	c := &r.s.c
	obj, ok := v.(map[string]any)
	if !ok {
		return notObject(prov, v)
	}
	first := prov.Page == 1
	if first && r.reachedF == nil {
		r.reachedF = make([]bool, len(c.Fields))
		r.firstRec = obj
	}
	vals := make([]string, len(c.Fields))
	for i, f := range c.Fields {
		val, o := resolve(obj, f.Path)
		if first && o != missing {
			r.reachedF[i] = true
		}
		if o != reached {
			continue
		}
		str, err := leafString(val, c.ODataDates)
		if err != nil {
			return fieldError(prov, f, err)
		}
		vals[i] = str
	}
	if first {
		r.buffered = append(r.buffered, vals)
		return nil
	}
	return r.out(vals, prov)
}

// fieldError is the error for a field whose value is not one: an object
// the path should go on into, or a value nested too deeply.
func fieldError(prov identity.Provenance, f Field, err error) error {
	var eo *errObject
	hint := "extend the path in source.rest.fields to a value"
	if errors.As(err, &eo) && len(eo.keys) > 0 {
		hint = fmt.Sprintf("extend the path in source.rest.fields to one of its keys, e.g. %s.%s", f.Path, eo.keys[0])
	}
	return &source.Error{Prov: prov, Column: f.Name, Msg: fmt.Sprintf("%s: %v", f.Path, err), Hint: hint}
}

func kindOf(v any) string {
	switch v.(type) {
	case orderedObject, map[string]any:
		return "an object"
	case []any:
		return "a list"
	case string:
		return "text"
	case json.Number, float64:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

func (r *reader) out(vals []string, prov identity.Provenance) error {
	rec := &identity.Record{Header: r.header, Values: vals, Prov: prov}
	r.count++
	return r.emit(rec)
}

// finishFirst checks the first page once it is whole, fixes the automatic
// columns and emits the records it held.
func (r *reader) finishFirst(page int) error {
	if page != 1 {
		return nil
	}
	s := r.s
	c := s.c
	if c.Fields == nil {
		names := make([]string, len(r.autoCols))
		for n, i := range r.autoCols {
			names[i] = n
		}
		r.header = identity.NewHeader(names)
	} else if len(r.buffered) > 0 {
		var bad []string
		var first string
		for i, ok := range r.reachedF {
			if ok {
				continue
			}
			f := c.Fields[i]
			bad = append(bad, fmt.Sprintf("%s (%s)", f.Name, f.Path))
			if first == "" {
				first = explainMissing(r.firstRec, f.Path)
			}
		}
		if len(bad) > 0 {
			col, what := "", "the columns "+strings.Join(bad, ", ")+" are"
			if len(bad) == 1 {
				f := c.Fields[indexOfMissing(r.reachedF)]
				col, what = f.Name, "the path "+f.Path+" is"
			}
			hint := "check the spelling in source.rest.fields (paths are dotted, e.g. manager.id, emails.0.address)"
			if p := presets[c.Preset]; p != nil && p.hintMissing != "" {
				hint += "; " + p.hintMissing
			}
			return &source.Error{Prov: identity.Provenance{File: s.display},
				Column: col, Msg: fmt.Sprintf("%s in no record of page 1 (%d records): %s", what, len(r.buffered), first), Hint: hint}
		}
	}
	for i, vals := range r.buffered {
		for len(vals) < len(r.header.Names) {
			vals = append(vals, "")
		}
		if i%ctxEvery == ctxEvery-1 {
			if err := r.ctx.Err(); err != nil {
				return fmt.Errorf("read %s: %w", s.display, err)
			}
		}
		if err := r.out(vals, identity.Provenance{File: s.display, Page: 1, Index: i + 1}); err != nil {
			return err
		}
	}
	r.buffered = nil
	return nil
}

func indexOfMissing(reached []bool) int {
	for i, ok := range reached {
		if !ok {
			return i
		}
	}
	return 0
}

// explainMissing says where path leaves rec: the key not found and the
// keys that are there.
func explainMissing(rec any, path string) string {
	v := rec
	done := ""
	for path != "" {
		seg, rest, _ := strings.Cut(path, ".")
		switch x := v.(type) {
		case map[string]any:
			next, ok := x[seg]
			if !ok {
				for _, k := range sortedKeys(x) {
					if strings.EqualFold(k, seg) {
						next, ok = x[k], true
						break
					}
				}
			}
			if !ok {
				keys := sortedKeys(x)
				if len(keys) > 30 {
					keys = append(keys[:30], "…")
				}
				at := "the record"
				if done != "" {
					at = done
				}
				return fmt.Sprintf("%s has no key %q (its keys: %s)", at, seg, strings.Join(keys, ", "))
			}
			v = next
		case []any:
			if len(x) == 0 {
				return fmt.Sprintf("%s is an empty list", done)
			}
			if _, _, isIdx := index(seg); isIdx {
				v = x[0]
			} else {
				v = x[0]
				continue
			}
		default:
			at := done
			if at == "" {
				at = "the record"
			}
			return fmt.Sprintf("%s is %s, not an object with key %q", at, kindOf(x), seg)
		}
		if done == "" {
			done = seg
		} else {
			done += "." + seg
		}
		path = rest
	}
	return "the path is not in this record"
}
