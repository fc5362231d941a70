package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/pacer"
	"github.com/hrsync/hrsync/internal/source"
)

// errRedirect is a redirect the default client refuses; it is not retried.
var errRedirect = errors.New("refused redirect")

// userAgent names hrsync to the API's operators.
const userAgent = "hrsync (+https://github.com/hrsync/hrsync)"

// retryableStatus reports the answers worth another try: throttling and
// server failures (pacer's list plus 500, which HR APIs also send for
// passing overload).
func retryableStatus(code int) bool {
	return pacer.Retryable(code) || code == http.StatusInternalServerError
}

// answer is one completed HTTP exchange.
type answer struct {
	status   int
	header   http.Header
	body     []byte
	attempts int
}

// failure is a request that failed for good: an HTTP status that is not
// retried (or still failing after the retries), or a transport error.
type failure struct {
	answer
	err error // transport error, when there was no answer
}

func (f *failure) Error() string {
	if f.err != nil {
		return f.err.Error()
	}
	return fmt.Sprintf("HTTP %d", f.status)
}

// Unwrap is the transport error, if any.
func (f *failure) Unwrap() error { return f.err }

// do sends the request build makes, retrying throttled, failed and
// unanswered requests (honouring Retry-After, else backing off with jitter)
// up to Retries times. unauthorized, if not nil, is called once on a 401:
// when it returns true (a fresh token is due) the request is sent again
// without counting as a retry. The body is read whole within Timeout.
func (s *Source) do(ctx context.Context, what string, build func(context.Context) (*http.Request, error), unauthorized func() bool) (answer, error) {
	refreshed := false
	retries := 0
	for {
		if err := ctx.Err(); err != nil {
			return answer{}, err
		}
		a, err := s.once(ctx, build)
		a.attempts = retries + 1
		if err != nil && ctx.Err() != nil {
			return answer{}, ctx.Err()
		}
		var se *source.Error
		var be *buildError
		if errors.As(err, &se) {
			return a, err // a token request that failed for good
		}
		if errors.As(err, &be) {
			return a, &failure{answer: a, err: be.err}
		}
		var wait time.Duration
		switch {
		case isTooLarge(err) || errors.Is(err, errRedirect):
			return a, &failure{answer: a, err: err}
		case err != nil:
			wait = s.backoff.Delay(retries + 1)
		case a.status >= 200 && a.status < 300:
			return a, nil
		case a.status == http.StatusUnauthorized && unauthorized != nil && !refreshed:
			refreshed = true
			if unauthorized() {
				s.log.Info("rest: access token refused; fetching a new one", "request", what)
				continue
			}
			return a, &failure{answer: a}
		case retryableStatus(a.status):
			if d, ok := pacer.RetryAfter(a.header.Get("Retry-After"), s.now()); ok {
				wait = d
			} else {
				wait = s.backoff.Delay(retries + 1)
			}
		default:
			return a, &failure{answer: a}
		}
		if retries >= s.c.Retries {
			return a, &failure{answer: a, err: err}
		}
		retries++
		attrs := []any{"request", what, "attempt", retries + 1, "wait", wait}
		if err != nil {
			attrs = append(attrs, "error", s.red.clean(transportError(err)))
		} else {
			attrs = append(attrs, "status", a.status)
		}
		s.log.Warn("rest: retrying", attrs...)
		if err := s.sleep(ctx, wait); err != nil {
			return answer{}, err
		}
	}
}

// once sends one request and reads its whole answer within Timeout.
func (s *Source) once(ctx context.Context, build func(context.Context) (*http.Request, error)) (answer, error) {
	// Built outside the timeout: an OAuth token request has its own.
	req, err := build(ctx)
	if err != nil {
		var se *source.Error
		if errors.As(err, &se) || ctx.Err() != nil {
			return answer{}, err
		}
		return answer{}, &buildError{err}
	}
	tctx, cancel := context.WithTimeout(ctx, s.c.Timeout)
	defer cancel()
	req = req.WithContext(tctx)
	resp, err := s.client.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	body, err := readBody(resp, s.c.MaxBody)
	a := answer{status: resp.StatusCode, header: resp.Header, body: body}
	return a, err
}

// readBody reads resp's body, at most limit bytes. A body announced (by
// Content-Length) or found to be larger fails with a *tooLargeError:
// before it is read in the first case, as soon as the limit is passed in
// the other, so a huge answer costs about limit bytes of memory at most,
// never the size of the answer. Compressed bodies count as they
// decompress.
func readBody(resp *http.Response, limit int64) ([]byte, error) {
	if resp.ContentLength > limit {
		return nil, &tooLargeError{size: resp.ContentLength, limit: limit}
	}
	if resp.ContentLength >= 0 {
		// net/http holds the body to its Content-Length: one allocation.
		buf := make([]byte, resp.ContentLength)
		n, err := io.ReadFull(resp.Body, buf)
		return buf[:n], err
	}
	// Of unknown length: read in chunks growing from 64 KiB to 8 MiB and
	// join them once the end is reached. Growing one slice by doubling
	// would hold up to three times the body (old and new arrays) and
	// overshoot the limit.
	r := io.LimitReader(resp.Body, limit+1)
	var chunks [][]byte
	total := int64(0)
	for size := 64 << 10; ; size = min(2*size, 8<<20) {
		c := make([]byte, size)
		n, err := io.ReadFull(r, c)
		if n > 0 {
			chunks = append(chunks, c[:n])
			total += int64(n)
		}
		if total > limit {
			return nil, &tooLargeError{size: -1, limit: limit}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return slices.Concat(chunks...), err
		}
	}
	if len(chunks) == 1 {
		return chunks[0], nil
	}
	return slices.Concat(chunks...), nil
}

// tooLargeError is a response body over source.rest.max_body; it is not
// retried.
type tooLargeError struct {
	size  int64 // the announced size, or -1
	limit int64
}

func (e *tooLargeError) Error() string {
	if e.size >= 0 {
		return fmt.Sprintf("the response is %s, more than source.rest.max_body (%s)", sizeText(e.size), sizeText(e.limit))
	}
	return fmt.Sprintf("the response is larger than source.rest.max_body (%s)", sizeText(e.limit))
}

// isTooLarge reports a *tooLargeError in err.
func isTooLarge(err error) bool {
	var te *tooLargeError
	return errors.As(err, &te)
}

// buildError is a request that could not be made at all; it is not
// retried.
type buildError struct{ err error }

func (e *buildError) Error() string { return e.err.Error() }

// transportError describes a failed exchange without its URL (which may
// hold secrets; the caller names the request itself).
func transportError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "no complete answer within the timeout"
	}
	return err.Error()
}

// dataRequest builds a request for a page.
func (s *Source) dataRequest(rawURL string) func(context.Context) (*http.Request, error) {
	return func(ctx context.Context) (*http.Request, error) {
		var body io.Reader
		if s.c.Body != nil {
			body = bytes.NewReader(s.c.Body)
		}
		req, err := http.NewRequestWithContext(ctx, s.c.Method, rawURL, body)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", userAgent)
		if s.c.Body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		for _, h := range s.c.Headers {
			req.Header.Set(h.Name, h.value())
		}
		if err := s.authorize(ctx, req); err != nil {
			return nil, err
		}
		return req, nil
	}
}

// authorize sets the request's credentials.
func (s *Source) authorize(ctx context.Context, req *http.Request) error {
	a := s.c.Auth
	switch a.Type {
	case AuthBearer:
		req.Header.Set("Authorization", "Bearer "+a.Token.Reveal())
	case AuthBasic:
		if !a.APIKey.IsZero() {
			req.SetBasicAuth(a.APIKey.Reveal(), "x")
		} else {
			req.SetBasicAuth(a.Username, a.Password.Reveal())
		}
	case AuthOAuth2:
		tok, err := s.accessToken(ctx)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return nil
}

// unauthorized drops the cached access token after a 401, so the next
// attempt fetches a new one. It returns false for other kinds of auth.
func (s *Source) unauthorized() bool {
	if s.c.Auth.Type != AuthOAuth2 {
		return false
	}
	s.mu.Lock()
	s.token, s.tokenExp = "", time.Time{}
	s.mu.Unlock()
	return true
}

// accessToken returns a cached OAuth 2.0 access token, or gets a new one
// with the client credentials grant (RFC 6749 section 4.4).
func (s *Source) accessToken(ctx context.Context) (string, error) {
	s.tokenMu.Lock() // one token request at a time
	defer s.tokenMu.Unlock()
	if tok, ok := s.cachedToken(); ok {
		return tok, nil
	}
	build := s.tokenRequest()
	started := s.now()
	ans, err := s.do(ctx, "OAuth token", build, nil)
	if err != nil {
		return "", s.tokenFailure(ctx, err)
	}
	tok, expires, err := s.tokenOf(ans.body)
	if err != nil {
		return "", err
	}
	s.keepToken(tok, expires, started)
	return tok, nil
}

// cachedToken is the access token fetched before, if it has not expired.
func (s *Source) cachedToken() (string, bool) {
	s.mu.Lock()
	tok, exp := s.token, s.tokenExp
	s.mu.Unlock()
	if tok != "" && (exp.IsZero() || s.now().Before(exp)) {
		return tok, true
	}
	return "", false
}

// tokenRequest builds the token request: a form with the grant, scope and
// extra parameters, and the client's credentials in the form or (RFC 6749
// section 2.3.1) as basic auth.
func (s *Source) tokenRequest() func(context.Context) (*http.Request, error) {
	a := s.c.Auth
	form := url.Values{"grant_type": {"client_credentials"}}
	if a.Scope != "" {
		form.Set("scope", a.Scope)
	}
	for _, p := range a.Params {
		form.Set(p.Name, p.value())
	}
	if a.ClientAuth == "post" {
		form.Set("client_id", a.ClientID)
		form.Set("client_secret", a.ClientSecret.Reveal())
	}
	payload := form.Encode()
	return func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.TokenURL.String(), strings.NewReader(payload))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", userAgent)
		if a.ClientAuth != "post" {
			// RFC 6749 section 2.3.1: both form-encoded, then basic auth
			req.SetBasicAuth(url.QueryEscape(a.ClientID), url.QueryEscape(a.ClientSecret.Reveal()))
		}
		return req, nil
	}
}

// tokenFailure is the error for a token request that failed for good:
// the OAuth error the endpoint answered, if any, or what went wrong,
// secrets redacted. A cancelled request gives the error as is.
func (s *Source) tokenFailure(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return err
	}
	where := identity.Provenance{File: s.tokenDisplay}
	var f *failure
	if errors.As(err, &f) && f.err == nil {
		msg := fmt.Sprintf("the OAuth token request failed: HTTP %d %s", f.status, http.StatusText(f.status))
		var oe struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if json.Unmarshal(f.body, &oe) == nil && oe.Error != "" {
			msg += " (" + oe.Error
			if oe.Description != "" {
				msg += ": " + excerpt([]byte(oe.Description), 200)
			}
			msg += ")"
		}
		return &source.Error{Prov: where, Msg: s.red.clean(msg),
			Hint: "check auth.token_url, client_id, client_secret_env, scope and client_auth (basic or post) against the API's documentation"}
	}
	return &source.Error{Prov: where, Msg: s.red.clean("the OAuth token request failed: " + describeFailure(err)),
		Hint: "check auth.token_url and the network"}
}

// tokenOf reads the access token and its expires_in from a token
// response; a response without a token, or with a token that is not a
// bearer token, is an error.
func (s *Source) tokenOf(body []byte) (string, json.RawMessage, error) {
	where := identity.Provenance{File: s.tokenDisplay}
	var tr struct {
		AccessToken string          `json:"access_token"`
		TokenType   string          `json:"token_type"`
		ExpiresIn   json.RawMessage `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &tr); err != nil || tr.AccessToken == "" {
		return "", nil, &source.Error{Prov: where, Msg: "the OAuth token response has no access_token",
			Hint: "is auth.token_url the OAuth 2.0 token endpoint (client credentials grant)?"}
	}
	if tr.TokenType != "" && !strings.EqualFold(tr.TokenType, "bearer") {
		return "", nil, &source.Error{Prov: where, Msg: fmt.Sprintf("the OAuth token is of type %q; hrsync sends bearer tokens only", tr.TokenType)}
	}
	return tr.AccessToken, tr.ExpiresIn, nil
}

// keepToken registers a new access token with the redactor and caches
// it until a little before it expires (it was requested at started).
func (s *Source) keepToken(tok string, expires json.RawMessage, started time.Time) {
	s.red.add(tok)
	var expiry time.Time
	if secs, ok := expiresIn(expires); ok {
		// renew a little early: a token must not expire between pages
		life := time.Duration(secs) * time.Second
		life -= min(time.Minute, life/10)
		expiry = started.Add(life)
	}
	s.mu.Lock()
	s.token, s.tokenExp = tok, expiry
	s.tokens++
	s.mu.Unlock()
	s.log.Debug("rest: got an OAuth access token", "expires", expiry)
}

// expiresIn reads expires_in, a number (or, from some servers, a string) of
// seconds.
func expiresIn(raw json.RawMessage) (int64, bool) {
	if len(raw) == 0 {
		return 0, false
	}
	s := strings.Trim(string(raw), `"`)
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n <= 0 || n > 10*365*86400 {
		return 0, false
	}
	return int64(n), true
}

// describeFailure renders a failed exchange for a message.
func describeFailure(err error) string {
	var f *failure
	if errors.As(err, &f) {
		attempts := ""
		if f.attempts > 1 {
			attempts = fmt.Sprintf(" (after %d attempts)", f.attempts)
		}
		if f.err != nil {
			return transportError(f.err) + attempts
		}
		msg := fmt.Sprintf("HTTP %d %s%s", f.status, http.StatusText(f.status), attempts)
		if ex := excerpt(f.body, 300); ex != "" {
			msg += ": " + ex
		}
		return msg
	}
	return transportError(err)
}

// excerpt is the start of a response body on one line, if it is text.
func excerpt(body []byte, n int) string {
	if len(body) == 0 || !utf8.Valid(body) {
		return ""
	}
	s := strings.Join(strings.Fields(string(body)), " ")
	if r := []rune(s); len(r) > n {
		s = string(r[:n]) + "…"
	}
	return s
}

// statusHint says what to do about a final HTTP status.
func (s *Source) statusHint(status int) string {
	p := presets[s.c.Preset]
	with := func(h, extra string) string {
		if extra != "" {
			return h + "; " + extra
		}
		return h
	}
	var extraAuth, extraNotFound string
	if p != nil {
		extraAuth, extraNotFound = p.hintAuth, p.hintNotFound
	}
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return with("check the credentials and the API user's permissions", extraAuth)
	case status == http.StatusNotFound:
		return with("check source.rest.url (tenant, company, report or entity name)", extraNotFound)
	case status == http.StatusMethodNotAllowed:
		return "check source.rest.method"
	case status == http.StatusTooManyRequests:
		return fmt.Sprintf("the API is still throttling after %d retries; run again later, or raise source.rest.retries", s.c.Retries)
	case status >= 500:
		return "the HR service failed; run again later"
	case status >= 400:
		return "the API refused the request: check source.rest.query, body and fields"
	}
	return ""
}

// pageError is the error for a page that could not be fetched.
func (s *Source) pageError(page int, pageURL string, err error) error {
	var se *source.Error
	if errors.As(err, &se) {
		return err
	}
	msg := fmt.Sprintf("page %d: %s", page, describeFailure(err))
	hint := "check the network, any proxy, and the host in source.rest.url"
	var f *failure
	if errors.As(err, &f) && f.err == nil {
		hint = s.statusHint(f.status)
	} else if isTooLarge(err) {
		hint = "ask for fewer records per page (paging) or fewer fields, or raise source.rest.max_body " +
			"(the body is held in memory while it is read); a partial read is never used"
	}
	return &source.Error{Prov: identity.Provenance{File: s.displayOf(pageURL)}, Msg: s.red.clean(msg), Hint: hint}
}

// logger returns opts.Log or a logger that discards.
func logger(l *slog.Logger) *slog.Logger {
	if l != nil {
		return l
	}
	return slog.New(slog.DiscardHandler)
}
