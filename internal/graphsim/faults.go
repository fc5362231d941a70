package graphsim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// Faults injects failures, seeded so that a test run is repeatable for a
// given order of requests (Seed 0 = a fixed default seed, not the clock).
// Shares are probabilities from 0 to 1, drawn per request.
//
// Dropped connections are real: the server closes the TCP connection
// (hijacking it) so the client sees a transport error (EOF or connection
// reset), not an HTTP status. Go's http.Transport silently retries an
// idempotent request (GET) whose reused keep-alive connection was closed
// before any response byte, so drops show best on writes. Drops need a
// real server (Start, or Handler behind net/http); a handler that cannot be
// hijacked panics with http.ErrAbortHandler instead.
type Faults struct {
	// Seed seeds every fault and latency-jitter decision.
	Seed uint64
	// ServerErrors is the share of requests and $batch items answered 503
	// or 504 (with Retry-After: 1 on about half of them) before they are
	// handled: nothing changes.
	ServerErrors float64
	// DropRequests is the share of top-level requests whose connection is
	// closed before they are handled: nothing changes.
	DropRequests float64
	// DropResponses is the share of top-level requests that are handled
	// (writes happen; a $batch runs all its items) but whose connection is
	// then closed without a response: the "lost response" case clients must
	// survive without duplicating creates.
	DropResponses float64
	// Slow is the share of top-level requests delayed by SlowBy.
	Slow   float64
	SlowBy time.Duration
}

// validate checks that the shares are probabilities.
func (f Faults) validate() error {
	for _, v := range []struct {
		name  string
		share float64
	}{{"ServerErrors", f.ServerErrors}, {"DropRequests", f.DropRequests}, {"DropResponses", f.DropResponses}, {"Slow", f.Slow}} {
		if v.share < 0 || v.share > 1 || v.share != v.share {
			return fmt.Errorf("graphsim: Faults.%s is %v; want a share from 0 to 1", v.name, v.share)
		}
	}
	if f.SlowBy < 0 {
		return fmt.Errorf("graphsim: Faults.SlowBy is %v; want a non-negative duration", f.SlowBy)
	}
	return nil
}

// defaultFaultSeed is the seed used when Faults.Seed is 0.
const defaultFaultSeed = 0x5eed_9a7f_31c4_d2b8

// Fault kinds counted in Stats.Faults.
const (
	FaultServiceUnavailable = "503"
	FaultGatewayTimeout     = "504"
	FaultDropRequest        = "drop_request"
	FaultDropResponse       = "drop_response"
	FaultSlow               = "slow"
)

// faulter draws the seeded fault decisions. It is safe for concurrent use.
type faulter struct {
	cfg            Faults
	latency        time.Duration
	jitter         time.Duration
	topLevelActive bool // any top-level decision to draw
	mu             sync.Mutex
	rng            *rand.Rand
}

func newFaulter(cfg Faults, latency, jitter time.Duration) *faulter {
	seed := cfg.Seed
	if seed == 0 {
		seed = defaultFaultSeed
	}
	return &faulter{
		cfg: cfg, latency: latency, jitter: jitter,
		topLevelActive: cfg.Slow > 0 || cfg.DropRequests > 0 || cfg.DropResponses > 0 || jitter > 0,
		rng:            rand.New(rand.NewPCG(seed, seed^0xda3e39cb94b95bdb)),
	}
}

// topPlan is what happens to one top-level request.
type topPlan struct {
	delay        time.Duration // latency, jitter and slowness
	slow         bool
	dropRequest  bool
	dropResponse bool
}

// planTop draws the decisions for a top-level request. Every call draws the
// same number of values, so a given order of requests always gets the same
// faults.
func (f *faulter) planTop() topPlan {
	p := topPlan{delay: f.latency}
	if !f.topLevelActive {
		return p
	}
	f.mu.Lock()
	slow, dropReq, dropResp, jit := f.rng.Float64(), f.rng.Float64(), f.rng.Float64(), f.rng.Float64()
	f.mu.Unlock()
	if f.jitter > 0 {
		p.delay += time.Duration(jit * float64(f.jitter))
	}
	if slow < f.cfg.Slow {
		p.slow = true
		p.delay += f.cfg.SlowBy
	}
	p.dropRequest = dropReq < f.cfg.DropRequests
	p.dropResponse = !p.dropRequest && dropResp < f.cfg.DropResponses
	return p
}

// batchDelay draws the extra delay of a $batch of n items: Graph runs a
// batch's items side by side, so the batch waits for the slowest item's
// jitter (the top-level request already paid the base latency and one
// draw). Zero without jitter.
func (f *faulter) batchDelay(n int) time.Duration {
	if f.jitter <= 0 || n <= 0 {
		return 0
	}
	f.mu.Lock()
	worst := 0.0
	for range n {
		worst = max(worst, f.rng.Float64())
	}
	f.mu.Unlock()
	return time.Duration(worst * float64(f.jitter))
}

// serverError draws whether a request or $batch item fails with 503 or 504
// before it is handled; nil means no.
func (f *faulter) serverError() (kind string, fault *Fault) {
	if f.cfg.ServerErrors <= 0 {
		return "", nil
	}
	f.mu.Lock()
	hit, which, retry := f.rng.Float64(), f.rng.Float64(), f.rng.Float64()
	f.mu.Unlock()
	if hit >= f.cfg.ServerErrors {
		return "", nil
	}
	fault = &Fault{Status: http.StatusServiceUnavailable, Code: "serviceNotAvailable",
		Message: "The service is temporarily unavailable. Retry the request after a delay."}
	kind = FaultServiceUnavailable
	if which < 0.5 {
		fault = &Fault{Status: http.StatusGatewayTimeout, Code: "serviceNotAvailable",
			Message: "The gateway did not receive a timely response from the service. Retry the request after a delay."}
		kind = FaultGatewayTimeout
	}
	if retry < 0.5 {
		fault.Header = http.Header{"Retry-After": {"1"}}
	}
	return kind, fault
}

// sleepCtx sleeps for d in real time; it returns false if ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// dropConnection closes the client's connection without a response: the
// client sees a transport error. Handlers that cannot be hijacked (HTTP/2,
// recorders) abort with http.ErrAbortHandler, which net/http turns into a
// reset stream or closed connection.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}
