package entra

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	khttp "github.com/microsoft/kiota-http-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"

	"github.com/hrsync/hrsync/internal/pacer"
)

// Retry limits. A throttled request is retried for as long as Graph keeps
// asking (the run's deadline bounds it); a transient failure (502, 503,
// 504, a dropped connection) a few times only.
const (
	maxThrottledAttempts = 50
	maxTransientAttempts = 6
)

// middlewares is msgraph-sdk-go's default pipeline in a fixed order, with
// kiota's retry handler replaced by retryHandler, which paces every request
// through the client's pacer and reports throttling to it.
func middlewares(rh *retryHandler) []khttp.Middleware {
	opts := &msgraphcore.GraphClientOptions{GraphServiceVersion: "v1.0"}
	return []khttp.Middleware{
		msgraphcore.NewGraphTelemetryHandler(opts),
		khttp.NewUrlReplaceHandler(true, msgraphcore.ReplacementPairs),
		rh,
		khttp.NewRedirectHandler(),
		khttp.NewCompressionHandler(),
		khttp.NewParametersNameDecodingHandler(),
		khttp.NewUserAgentHandler(),
		khttp.NewHeadersInspectionHandler(),
	}
}

// retryHandler is a kiota middleware: it waits for the pacer before each
// attempt, retries 429 after Retry-After (or jittered exponential backoff
// when Graph sends none), retries 502/503/504 and dropped connections a
// few times, and tells the pacer about throttling. Every write hrsync
// makes is safe to repeat: a create whose response was lost comes back as
// a conflict and is adopted by apply, patches and manager references are
// idempotent.
type retryHandler struct {
	pacer   *pacer.Pacer
	clock   pacer.Clock
	backoff pacer.Backoff
	log     *slog.Logger
	// attemptTimeout bounds each attempt (0: none); the waits between
	// attempts are bounded by the caller's context only.
	attemptTimeout time.Duration
}

type costKey struct{}

// requestCost is what a request costs the pacer, and for a $batch, where
// its ticket is.
type requestCost struct {
	cost  pacer.Cost
	batch *batchTicket // nil: not a $batch whose caller paces and settles it
}

// batchTicket is the pacer ticket of a $batch's latest attempt. sendBatch
// acquires the first one and settles the ticket of the attempt answered
// with each item's outcome; the retry handler settles the attempts it
// retries (or gives up on) itself and acquires the next ones.
type batchTicket struct {
	t       pacer.Ticket
	settled bool
}

// withBatchCost marks ctx's request as a $batch costing cost whose caller
// already acquired bt's ticket for the first attempt and settles the
// ticket of the attempt answered, unless bt says it is settled.
func withBatchCost(ctx context.Context, cost pacer.Cost, bt *batchTicket) context.Context {
	return context.WithValue(ctx, costKey{}, requestCost{cost: cost, batch: bt})
}

// costOf is the cost of a request sent with ctx: a $batch's, or one item,
// a write for POST, PATCH, PUT and DELETE (as Graph counts writes).
func costOf(ctx context.Context, method string) requestCost {
	if c, ok := ctx.Value(costKey{}).(requestCost); ok && c.batch != nil {
		return c
	}
	c := pacer.Cost{Items: 1}
	if isWriteMethod(method) {
		c.Writes = 1
	}
	return requestCost{cost: c}
}

// isWriteMethod reports whether Graph counts a request with method as a
// write.
func isWriteMethod(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// writeLimited reports whether a 429 (or a throttled $batch item) is the
// write budget's. Graph names the limit in x-ms-throttle-information
// (WriteLimitExceeded; ResourceUnitLimitExceeded for resource units) and
// in x-ms-throttle-scope (Tenant_Application/Write/{app}/{tenant}; Read or
// ReadWrite for resource units). A throttled write whose answer names no
// limit is taken as the write budget's.
func writeLimited(hdr http.Header, write bool) bool {
	if !write {
		return false
	}
	if info := strings.TrimSpace(hdr.Get("x-ms-throttle-information")); info != "" {
		return strings.Contains(strings.ToLower(info), "writelimitexceeded")
	}
	if scope := hdr.Get("x-ms-throttle-scope"); scope != "" {
		parts := strings.Split(scope, "/")
		return len(parts) > 1 && strings.EqualFold(strings.TrimSpace(parts[1]), "Write")
	}
	return true
}

// limitUsed reads x-ms-throttle-limit-percentage, the share of its limit
// Graph says the application has used (0.8 to 1.8, sent above 0.8); 0
// when absent or unreadable.
func limitUsed(hdr http.Header) float64 {
	v, err := strconv.ParseFloat(strings.TrimSpace(hdr.Get("x-ms-throttle-limit-percentage")), 64)
	if err != nil || v <= 0 || v > 100 {
		return 0
	}
	return v
}

// throttledOutcome is a whole request's 429 for the pacer.
func throttledOutcome(c pacer.Cost, hdr http.Header, retryAfter time.Duration) pacer.Outcome {
	o := pacer.Outcome{RetryAfter: retryAfter}
	if writeLimited(hdr, c.Writes > 0) {
		o.WriteLimited = c.Writes
	} else {
		o.Throttled, o.ThrottledWrites = c.Items, c.Writes
	}
	return o
}

// Intercept implements khttp.Middleware.
func (h *retryHandler) Intercept(pl khttp.Pipeline, idx int, req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	rc := costOf(ctx, req.Method)
	for attempt := 1; ; attempt++ {
		tk, err := h.ticket(ctx, rc, attempt)
		if err != nil {
			return nil, err
		}
		// settle hands the attempt's outcome to the pacer.
		settle := func(o pacer.Outcome) {
			h.pacer.Done(tk, o)
			if rc.batch != nil {
				rc.batch.settled = true
			}
		}
		if attempt > 1 && !rewind(req) {
			settle(pacer.Outcome{})
			return nil, fmt.Errorf("%s %s: cannot resend the request body", req.Method, req.URL.Path)
		}
		resp, err := h.send(pl, idx, req)
		var delay time.Duration
		switch {
		case err != nil:
			// Sent or not, carried out or not: nothing to tell the pacer.
			settle(pacer.Outcome{})
			if ctx.Err() != nil || attempt >= maxTransientAttempts {
				return nil, err
			}
			delay = h.backoff.Delay(attempt)
			h.log.Debug("graph request failed; retrying", "method", req.Method, "path", req.URL.Path, "attempt", attempt, "wait", delay, "error", err)
		case resp.StatusCode == http.StatusTooManyRequests:
			delay = h.retryDelay(resp.Header, attempt)
			settle(throttledOutcome(rc.cost, resp.Header, delay))
			if attempt >= maxThrottledAttempts {
				return normalizeErrorBody(resp), nil
			}
			h.log.Debug("graph throttled the request; waiting", "method", req.Method, "path", req.URL.Path, "attempt", attempt, "wait", delay,
				"limit", resp.Header.Get("x-ms-throttle-information"))
		case pacer.Retryable(resp.StatusCode):
			settle(pacer.Outcome{})
			if attempt >= maxTransientAttempts {
				return normalizeErrorBody(resp), nil
			}
			delay = h.retryDelay(resp.Header, attempt)
			h.log.Debug("graph answered a transient error; retrying", "method", req.Method, "path", req.URL.Path, "status", resp.StatusCode, "attempt", attempt, "wait", delay)
		default:
			if rc.batch == nil {
				o := pacer.Outcome{Used: limitUsed(resp.Header)}
				if resp.StatusCode < 400 {
					o.Succeeded = rc.cost.Items
				}
				settle(o)
			}
			// A $batch's items are settled by its caller.
			return normalizeErrorBody(resp), nil
		}
		if resp != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
			_ = resp.Body.Close()
		}
		if err := h.clock.Sleep(ctx, delay); err != nil {
			return nil, err
		}
	}
}

// ticket is the pacer's ticket for an attempt of a request of cost rc:
// the one its $batch's caller took for the first attempt, else a new one
// (which a $batch's caller then settles).
func (h *retryHandler) ticket(ctx context.Context, rc requestCost, attempt int) (pacer.Ticket, error) {
	if attempt == 1 && rc.batch != nil {
		return rc.batch.t, nil
	}
	t, err := h.pacer.Acquire(ctx, rc.cost)
	if err != nil {
		return t, err
	}
	if rc.batch != nil {
		rc.batch.t, rc.batch.settled = t, false
	}
	return t, nil
}

// send sends one attempt of req down the pipeline, within the attempt
// timeout: later middleware (compression) changes the request's headers
// in place, so each attempt starts from a pristine copy.
func (h *retryHandler) send(pl khttp.Pipeline, idx int, req *http.Request) (*http.Response, error) {
	ctx, cancel := req.Context(), context.CancelFunc(func() {})
	if h.attemptTimeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, h.attemptTimeout)
	}
	resp, err := pl.Next(req.Clone(ctx), idx)
	if err != nil {
		cancel()
		return resp, err // (a response with an error is drained by the caller)
	}
	// The body is read after we return: cancel when it is closed.
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// cancelOnClose ends an attempt's context when its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// retryDelay is Graph's Retry-After, else backoff for this attempt.
func (h *retryHandler) retryDelay(hdr http.Header, attempt int) time.Duration {
	if d, ok := pacer.RetryAfter(hdr.Get("Retry-After"), h.clock.Now()); ok {
		return d
	}
	return h.backoff.Delay(attempt)
}

// rewind resets a request body for another attempt. kiota's bodies
// (plain and gzipped) are seekable.
func rewind(req *http.Request) bool {
	if req.Body == nil || req.Body == http.NoBody {
		return true
	}
	if s, ok := req.Body.(io.Seeker); ok {
		_, err := s.Seek(0, io.SeekStart)
		return err == nil
	}
	if req.GetBody != nil {
		b, err := req.GetBody()
		if err != nil {
			return false
		}
		req.Body = b
		return true
	}
	return false
}

// maxErrorBody is the most of an error response's body that is read.
// Graph's error envelopes are a few hundred bytes.
const maxErrorBody = 64 << 10

// normalizeErrorBody rewrites the body of an error response (4xx, 5xx)
// into the OData error envelope the SDK parses, {"error":{"code":...,
// "message":..., "details":[{"code":...}]}}, keeping Graph's code, message
// and detail codes where they are strings. A body that is not such an
// envelope (empty, not JSON, "message" missing, null or not a string, an
// HTML page from a gateway) would otherwise make the SDK fail to parse it
// and lose the status, or panic in ODataError.Error; it gets a message
// saying what happened instead. Other responses pass unchanged.
func normalizeErrorBody(resp *http.Response) *http.Response {
	if resp == nil || resp.StatusCode < 400 || resp.Body == nil {
		return resp
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	type detail struct {
		Code string `json:"code"`
	}
	type mainError struct {
		Code    string   `json:"code,omitempty"`
		Message string   `json:"message"`
		Details []detail `json:"details,omitempty"`
	}
	var in struct {
		Error map[string]any `json:"error"`
	}
	_ = json.Unmarshal(raw, &in) // anything unreadable is "no message"
	var out mainError
	out.Code, _ = in.Error["code"].(string)
	out.Message, _ = in.Error["message"].(string)
	if ds, ok := in.Error["details"].([]any); ok {
		for _, d := range ds {
			if dm, ok := d.(map[string]any); ok {
				if c, ok := dm["code"].(string); ok && c != "" {
					out.Details = append(out.Details, detail{Code: c})
				}
			}
		}
	}
	if strings.TrimSpace(out.Message) == "" {
		out.Message = noMessage(resp.StatusCode)
	}
	body, err := json.Marshal(struct {
		Error mainError `json:"error"`
	}{out})
	if err != nil { // cannot happen: strings only
		body = []byte(`{"error":{"message":"Graph returned an error with no error message"}}`)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header = resp.Header.Clone()
	if resp.Header == nil {
		resp.Header = http.Header{}
	}
	resp.Header.Set("Content-Type", "application/json")
	resp.Header.Del("Content-Encoding")
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return resp
}
