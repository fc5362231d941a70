// Package pacer decides when a request to a throttled service may go out
// and when a failed one may be retried: Retry-After parsing, exponential
// backoff with jitter, and an AIMD (additive increase, multiplicative
// decrease) rate limiter that slows every sender down when the service
// throttles instead of hammering it. It knows nothing about HTTP clients or
// Graph; time comes from a Clock so the logic is tested with a fake one.
package pacer

import (
	"context"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Clock is the time source. Sleep returns ctx.Err() if ctx ends first.
type Clock interface {
	Now() time.Time
	Sleep(ctx context.Context, d time.Duration) error
}

// RealClock is the wall clock.
type RealClock struct{}

// Now returns time.Now().
func (RealClock) Now() time.Time { return time.Now() }

// Sleep waits d or until ctx ends.
func (RealClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// RetryAfter parses a Retry-After header: delay-seconds or an HTTP date.
// ok is false when the header is absent or unreadable. Negative delays
// become zero.
func RetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if math.IsNaN(secs) || math.IsInf(secs, 0) {
			return 0, false
		}
		if secs < 0 {
			secs = 0
		}
		// cap absurd values at a day; the run deadline bounds waits anyway
		return time.Duration(min(secs, 86400) * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, t.Sub(now)), true
	}
	return 0, false
}

// Backoff is exponential backoff with full jitter: the wait before retry
// n (1-based) is uniformly random in [Base·2^(n-1)/2, Base·2^(n-1)],
// capped at Max. Jitter spreads clients that failed together.
type Backoff struct {
	Base, Max time.Duration
	// Rand returns a float in [0,1); nil means math/rand/v2.
	Rand func() float64
}

// DefaultBackoff starts at 1 s and caps at 60 s.
func DefaultBackoff() Backoff { return Backoff{Base: time.Second, Max: time.Minute} }

// Delay is the wait before retry attempt n (n >= 1).
func (b Backoff) Delay(n int) time.Duration {
	if n < 1 {
		n = 1
	}
	base, top := b.Base, b.Max
	if base <= 0 {
		base = time.Second
	}
	if top < base {
		top = base
	}
	d := base
	for i := 1; i < n && d < top; i++ {
		d *= 2
	}
	d = min(d, top)
	r := rand.Float64
	if b.Rand != nil {
		r = b.Rand
	}
	half := d / 2
	return half + time.Duration(r()*float64(d-half))
}

// Retryable reports whether an HTTP status is worth retrying: throttled
// (429) or a transient gateway or service failure (502, 503, 504). Other
// 4xx and 5xx answers are final.
func Retryable(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// Options tunes a Pacer.
type Options struct {
	Clock Clock // nil: RealClock
	// Min is the lowest rate the pacer falls to, in items per second
	// (default 1). Max, if positive, caps the rate once limited.
	Min, Max float64
	// Decrease multiplies the rate on throttling (default 0.6).
	Decrease float64
	// Increase is the least rate added per second of successful sending,
	// in items per second (default 0.5); a fast rate grows by 5% a second
	// when that is more. Slow growth wastes little: a throttle that lets a
	// bucket fill while the pacer is below its rate hands the capacity
	// back when the pacer catches up.
	Increase float64
	// Window is how far back the pacer looks to measure throughput when it
	// is first throttled (default 5 s).
	Window time.Duration
}

// Pacer spaces out requests across all senders of one client. It starts
// unlimited; the first throttling sets the rate to a share of the
// throughput measured just before, every further throttling cuts it
// (multiplicative decrease, at most once per Retry-After period) and every
// success raises it a little (additive increase). While a Retry-After
// period runs, nobody sends.
type Pacer struct {
	clock Clock
	o     Options

	mu         sync.Mutex
	rate       float64 // items per second; 0 = unlimited
	next       time.Time
	pauseUntil time.Time
	lastCut    time.Time
	cutHold    time.Duration
	recent     []sample // successes within Window, oldest first
	stats      Stats
}

type sample struct {
	at time.Time
	n  int
}

// Stats counts what the pacer saw.
type Stats struct {
	Throttles int           // throttling signals received
	Cuts      int           // rate decreases
	Paused    time.Duration // total Retry-After time imposed
}

// New returns an unlimited pacer.
func New(o Options) *Pacer {
	if o.Clock == nil {
		o.Clock = RealClock{}
	}
	if o.Min <= 0 {
		o.Min = 1
	}
	if o.Decrease <= 0 || o.Decrease >= 1 {
		o.Decrease = 0.6
	}
	if o.Increase <= 0 {
		o.Increase = 0.5
	}
	if o.Window <= 0 {
		o.Window = 5 * time.Second
	}
	return &Pacer{clock: o.Clock, o: o}
}

// Wait blocks until n items may be sent: after any Retry-After pause, and
// spaced at the current rate. It returns ctx.Err() if ctx ends first.
func (p *Pacer) Wait(ctx context.Context, n int) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		d, final := p.reserve(n)
		if d > 0 {
			if err := p.clock.Sleep(ctx, d); err != nil {
				return err
			}
		}
		// A pause may have begun while we slept: honour it.
		if final && !p.paused() {
			return nil
		}
	}
}

// reserve books the next slot for n items. It returns how long to wait
// and whether the slot is booked (final) or the caller is to wait out a
// pause and ask again.
func (p *Pacer) reserve(n int) (wait time.Duration, final bool) {
	if n < 1 {
		n = 1
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock.Now()
	if now.Before(p.pauseUntil) {
		return p.pauseUntil.Sub(now), false
	}
	if p.rate <= 0 {
		return 0, true
	}
	start := now
	if p.next.After(start) {
		start = p.next
	}
	p.next = start.Add(time.Duration(float64(n) / p.rate * float64(time.Second)))
	return start.Sub(now), true
}

func (p *Pacer) paused() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.clock.Now().Before(p.pauseUntil)
}

// Succeeded records n items the service accepted.
func (p *Pacer) Succeeded(n int) {
	if n <= 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock.Now()
	p.recent = append(p.recent, sample{now, n})
	p.trim(now)
	if p.rate > 0 {
		// +step items/s per second of sending: each item adds step/rate.
		step := max(p.o.Increase, p.rate*0.05)
		p.rate += step * float64(n) / p.rate
		if p.o.Max > 0 && p.rate > p.o.Max {
			p.rate = p.o.Max
		}
	}
}

// Throttled records a throttling answer. retryAfter is the service's
// Retry-After (or the backoff the caller chose when it sent none): nobody
// sends until it has passed.
func (p *Pacer) Throttled(retryAfter time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock.Now()
	p.stats.Throttles++
	if until := now.Add(retryAfter); until.After(p.pauseUntil) {
		if p.pauseUntil.After(now) {
			p.stats.Paused += until.Sub(p.pauseUntil)
		} else {
			p.stats.Paused += retryAfter
		}
		p.pauseUntil = until
	}
	// One cut per throttling episode: the answers to requests that were
	// already in flight when the first 429 came say nothing new.
	hold := max(retryAfter, time.Second)
	if !p.lastCut.IsZero() && now.Sub(p.lastCut) < p.cutHold {
		return
	}
	p.trim(now)
	if p.rate <= 0 {
		total := 0
		for _, s := range p.recent {
			total += s.n
		}
		// Throughput over the time the samples span (a run that just
		// started has less than a window of them), at least a second.
		span := p.o.Window
		if len(p.recent) > 0 {
			span = min(span, max(time.Second, now.Sub(p.recent[0].at)))
		}
		measured := float64(total) / span.Seconds()
		p.rate = max(p.o.Min, measured*p.o.Decrease)
	} else {
		p.rate = max(p.o.Min, p.rate*p.o.Decrease)
	}
	if p.o.Max > 0 && p.rate > p.o.Max {
		p.rate = p.o.Max
	}
	// Reservations made at the old rate are void.
	p.next = time.Time{}
	p.lastCut = now
	p.cutHold = hold
	p.stats.Cuts++
}

// trim drops samples older than the window; the caller holds p.mu.
func (p *Pacer) trim(now time.Time) {
	cut := 0
	for cut < len(p.recent) && now.Sub(p.recent[cut].at) > p.o.Window {
		cut++
	}
	if cut > 0 {
		p.recent = append(p.recent[:0], p.recent[cut:]...)
	}
}

// Rate is the current limit in items per second (0: unlimited).
func (p *Pacer) Rate() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rate
}

// Stats returns what the pacer saw so far.
func (p *Pacer) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}
