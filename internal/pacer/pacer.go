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
	// Writes is the write budget the service states, e.g. Graph's 3,000
	// writes per 150 s per application and tenant. Zero: none; writes are
	// then paced like any other item. See Pacer.
	Writes Budget
	// Headroom is the share of the write budget's refill rate the pacer
	// sends at once the budget ran dry (default 0.98): the rest lets the
	// service's bucket absorb the jitter of requests in flight rather
	// than answer it with 429s.
	Headroom float64
}

// Budget is a limit stated as a token bucket: a burst of Limit, refilled
// evenly at Limit per Window.
type Budget struct {
	Limit  int
	Window time.Duration
}

// Rate is the budget's refill rate per second (0 for no budget).
func (b Budget) Rate() float64 {
	if b.Limit <= 0 || b.Window <= 0 {
		return 0
	}
	return float64(b.Limit) / b.Window.Seconds()
}

// Cost is what one request spends: Items (1 for a plain request, the
// number of items of a $batch) and, of those, Writes, which also spend
// the write budget.
type Cost struct {
	Items, Writes int
}

func (c Cost) norm() Cost {
	c.Items = max(c.Items, 1)
	c.Writes = min(max(c.Writes, 0), c.Items)
	return c
}

// Ticket is a request the pacer let go. Hand it back to Done with what
// the service answered.
type Ticket struct {
	cost  Cost
	epoch uint64 // the write budget's drains when it was let go
}

// Outcome is what the service answered a ticket's request.
type Outcome struct {
	// Succeeded is the number of items the service carried out.
	Succeeded int
	// WriteLimited is the number of writes the service throttled for its
	// write budget (a 429 that names the write limit, or a throttled
	// write that names no limit).
	WriteLimited int
	// Throttled is the number of other throttled items (another limit,
	// such as resource units, or an unknown one); ThrottledWrites is how
	// many of those were writes.
	Throttled, ThrottledWrites int
	// RetryAfter is the longest Retry-After of the throttled items, or the
	// backoff the caller chose when the service sent none.
	RetryAfter time.Duration
	// Used is the share of its limit the service says the application
	// has used, after this request (Graph's x-ms-throttle-limit-percentage,
	// sent once more than 0.8 is used; 0: not said). Before the write
	// budget first runs dry, it tells the pacer how much is left.
	Used float64
}

// Pacer spaces out requests across all senders of one client.
//
// Writes are paced to the service's stated write budget (Options.Writes)
// by a model of its token bucket. The pacer starts believing the bucket
// full and lets writes go while the model holds tokens; the first 429 for
// writes tells it the bucket is empty, and from then on it lets writes go
// at Headroom times the refill rate, so the bucket stays near empty and
// nearly all of the budget is used, with few further 429s. Nobody writes
// while a Retry-After for writes runs. Writes answered after a drain but
// let go before it are part of that drain, not a new one, and bookings
// made before it are void.
//
// The answers calibrate the model. The first drain from full measures the
// burst the bucket held; two drains in a row measure the refill rate
// actually granted (what the service took between them, its bucket empty
// at both ends), e.g. when another run of the same application shares the
// budget. While a burst is spent, the share of its limit the service says
// is used (Outcome.Used, Graph's x-ms-throttle-limit-percentage, sent
// above 0.8) tells how much is left before the first 429. The rate never
// goes above the stated one, except when the service, having sent that
// header before, leaves it out while the model believes the bucket more
// than 0.8 used: the service refills faster than the model paces, so the
// pacer raises the rate by a tenth of itself per second of writes until
// the next drain measures it. A measured rate below the stated one is
// retried upwards each stated window without a drain, and a model full
// for a whole window tries the stated burst again.
//
// Everything else (reads, and throttling the answers do not attribute to
// the write budget, such as resource units) is paced by an AIMD limiter:
// it starts unlimited; the first throttling sets the rate to a share of
// the throughput measured just before, every further throttling cuts it
// (multiplicative decrease, at most once per Retry-After period) and every
// success raises it a little (additive increase). While such a Retry-After
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
	w          *writeBudget
	stats      Stats
}

type sample struct {
	at time.Time
	n  int
}

// Stats counts what the pacer saw.
type Stats struct {
	Throttles int           // throttling answers received (any limit)
	Cuts      int           // AIMD rate decreases
	Paused    time.Duration // total Retry-After time imposed
	// WriteDrains counts the times the write budget was found empty (a
	// write throttled for it, let go after the previous drain).
	WriteDrains int
	// WriteLimited counts the writes throttled for the write budget.
	WriteLimited int
}

// New returns a pacer: unlimited, with the write budget (if any) believed
// full.
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
	if o.Headroom <= 0 || o.Headroom > 1 {
		o.Headroom = 0.98
	}
	p := &Pacer{clock: o.Clock, o: o}
	if r := o.Writes.Rate(); r > 0 {
		p.w = &writeBudget{stated: r, rate: r, ceiling: r, limit: float64(o.Writes.Limit), capacity: float64(o.Writes.Limit),
			window: o.Writes.Window, headroom: o.Headroom, min: min(o.Min, r)}
	}
	return p
}

// Wait blocks until n items that are not writes may be sent: after any
// Retry-After pause, and spaced at the current rate. It returns ctx.Err()
// if ctx ends first.
func (p *Pacer) Wait(ctx context.Context, n int) error {
	_, err := p.Acquire(ctx, Cost{Items: n})
	return err
}

// Acquire blocks until a request costing c may be sent: after any
// Retry-After pause, spaced at the current rate, and, for writes, when the
// write budget holds them. It returns ctx.Err() if ctx ends first. The
// caller sends the request and hands the ticket to Done.
func (p *Pacer) Acquire(ctx context.Context, c Cost) (Ticket, error) {
	c = c.norm()
	for {
		if err := ctx.Err(); err != nil {
			return Ticket{}, err
		}
		d, b, final := p.book(c)
		if d > 0 {
			if err := p.clock.Sleep(ctx, d); err != nil {
				if final {
					p.release(b)
				}
				return Ticket{}, err
			}
		}
		if !final {
			continue
		}
		// A pause may have begun, or the write budget drained, while we
		// slept: then the slot is void.
		if t, ok := p.claim(b); ok {
			return t, nil
		}
	}
}

// booking is a slot book hands out and claim turns into a Ticket.
type booking struct {
	cost  Cost
	epoch uint64
}

// book reserves the next slot for c. It returns how long to wait and
// whether the slot is booked (final) or the caller is to wait out a pause
// and book again.
func (p *Pacer) book(c Cost) (time.Duration, booking, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock.Now()
	if now.Before(p.pauseUntil) {
		return p.pauseUntil.Sub(now), booking{}, false
	}
	w := p.writes(c)
	if w != nil && now.Before(w.pauseUntil) {
		return w.pauseUntil.Sub(now), booking{}, false
	}
	start := now
	if p.rate > 0 {
		if p.next.After(start) {
			start = p.next
		}
		p.next = start.Add(time.Duration(float64(c.Items) / p.rate * float64(time.Second)))
	}
	b := booking{cost: c}
	if w != nil {
		var slot time.Time
		slot, b.epoch = w.book(now, c.Writes)
		if slot.After(start) {
			start = slot
		}
	}
	return start.Sub(now), b, true
}

// claim turns a booking whose slot has come into a ticket, or voids it
// (false) when a pause began or the write budget drained since it was
// booked; the caller books again.
func (p *Pacer) claim(b booking) (Ticket, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock.Now()
	w := p.writes(b.cost)
	if now.Before(p.pauseUntil) || (w != nil && (now.Before(w.pauseUntil) || b.epoch != w.epoch)) {
		if w != nil {
			w.unbook(now, b.cost.Writes)
		}
		return Ticket{}, false
	}
	return Ticket(b), true
}

// release gives back a booking that will not be sent.
func (p *Pacer) release(b booking) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if w := p.writes(b.cost); w != nil {
		w.unbook(p.clock.Now(), b.cost.Writes)
	}
}

// writes is the write budget when c spends it; the caller holds p.mu.
func (p *Pacer) writes(c Cost) *writeBudget {
	if c.Writes > 0 {
		return p.w
	}
	return nil
}

// Done records what the service answered the request of t.
func (p *Pacer) Done(t Ticket, o Outcome) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock.Now()
	if o.Succeeded > 0 {
		p.succeeded(now, o.Succeeded)
	}
	w := p.writes(t.cost)
	if w == nil {
		// No write budget to charge: every throttling is the AIMD
		// limiter's.
		o.Throttled += o.WriteLimited
		o.WriteLimited = 0
	}
	if o.Throttled > 0 || o.WriteLimited > 0 {
		p.stats.Throttles++
	}
	if o.Throttled > 0 {
		p.throttled(now, o.RetryAfter)
	}
	if w != nil {
		drained := w.done(now, t, o)
		p.stats.WriteLimited += o.WriteLimited
		if drained {
			p.stats.WriteDrains++
		}
		if o.WriteLimited > 0 {
			p.stats.Paused += w.pause(now, o.RetryAfter)
		}
	}
}

// Succeeded records n items the service accepted, outside of a ticket.
func (p *Pacer) Succeeded(n int) {
	if n <= 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.succeeded(p.clock.Now(), n)
}

func (p *Pacer) succeeded(now time.Time, n int) {
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

// Throttled records a throttling answer that is not the write budget's.
// retryAfter is the service's Retry-After (or the backoff the caller
// chose when it sent none): nobody sends until it has passed.
func (p *Pacer) Throttled(retryAfter time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stats.Throttles++
	p.throttled(p.clock.Now(), retryAfter)
}

func (p *Pacer) throttled(now time.Time, retryAfter time.Duration) {
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

// Rate is the AIMD limit in items per second (0: unlimited).
func (p *Pacer) Rate() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rate
}

// WriteRate is the rate writes are paced at once the write budget ran
// dry, per second: Headroom times the refill rate the pacer believes in
// (the stated one unless drains measured otherwise). 0 without a write
// budget.
func (p *Pacer) WriteRate() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.w == nil {
		return 0
	}
	return p.w.pace()
}

// Stats returns what the pacer saw so far.
func (p *Pacer) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// writeBudget is the pacer's model of the service's write bucket. Tokens
// are what the bucket is believed to hold once every write let go (or
// booked) so far has reached it: negative while bookings wait for the
// refill.
type writeBudget struct {
	stated   float64       // the stated refill rate, per second
	limit    float64       // the stated burst
	window   time.Duration // the stated window
	headroom float64
	min      float64 // the lowest refill rate believed

	rate     float64 // refill rate believed
	ceiling  float64 // the most rate may be: stated, unless the service said it grants more
	capacity float64 // burst believed (≤ limit)

	started    bool
	tokens     float64
	at         time.Time // tokens as of
	inFlight   int       // writes booked or let go, not answered yet
	epoch      uint64    // drains so far: a booking of an older epoch is void
	pauseUntil time.Time

	wasFull    bool      // the model was full since the last drain (or the start)
	fullSince  time.Time // when the model last became full
	lastDrain  time.Time // the last drain, zero when it cannot start a rate measurement
	refilled   float64   // the model's refill since lastDrain
	lastChange time.Time // the last drain or recovery step
	heardUsed  bool      // the service said how much of its limit is used (Outcome.Used)
}

// pace is the rate writes go at once the bucket is empty.
func (w *writeBudget) pace() float64 { return w.headroom * w.rate }

// belief is what the model believes the service's bucket holds now,
// before the writes in flight reach it.
func (w *writeBudget) belief() float64 { return w.tokens + float64(w.inFlight) }

// refill brings the model up to now.
func (w *writeBudget) refill(now time.Time) {
	if !w.started {
		w.started, w.tokens, w.at = true, w.capacity, now
		w.wasFull, w.fullSince, w.lastChange = true, now, now
		return
	}
	if d := now.Sub(w.at); d > 0 {
		before := w.tokens
		w.tokens += w.pace() * d.Seconds()
		w.refilled += w.pace() * d.Seconds()
		if before < w.capacity && w.tokens >= w.capacity {
			// When it filled up, between the two.
			w.fullSince = w.at.Add(time.Duration((w.capacity - before) / w.pace() * float64(time.Second)))
		}
		w.at = now
	}
	if w.tokens >= w.capacity {
		w.tokens = w.capacity
		w.wasFull = true
		if w.fullSince.IsZero() {
			w.fullSince = now
		}
		// Full for a whole stated window: the service's bucket is full
		// too, whatever its size; try the stated burst again.
		if w.capacity < w.limit && now.Sub(w.fullSince) >= w.window {
			w.capacity, w.tokens, w.fullSince = w.limit, w.limit, now
		}
	} else {
		w.fullSince = time.Time{}
	}
	// A refill rate measured below the stated one is retried upwards,
	// a quarter of the gap each stated window without a drain: the other
	// consumer that shared the budget may be gone.
	if w.rate < w.stated && now.Sub(w.lastChange) >= w.window {
		w.rate = min(w.stated, w.rate+(w.stated-w.rate)/4+0.01*w.stated)
		w.lastChange = now
		w.lastDrain = time.Time{} // the model's tokens no longer start from empty
	}
}

// book takes n writes from the model; it returns when they may go and the
// epoch they belong to.
func (w *writeBudget) book(now time.Time, n int) (time.Time, uint64) {
	w.refill(now)
	w.tokens -= float64(n)
	w.inFlight += n
	slot := now
	if w.tokens < 0 {
		slot = now.Add(time.Duration(-w.tokens / w.pace() * float64(time.Second)))
	}
	if w.pauseUntil.After(slot) {
		slot = w.pauseUntil
	}
	return slot, w.epoch
}

// unbook gives n booked writes back.
func (w *writeBudget) unbook(now time.Time, n int) {
	w.refill(now)
	w.inFlight -= n
	w.tokens = min(w.capacity, w.tokens+float64(n))
}

// pause holds writes until now+d; it returns how much longer they are
// held than they were.
func (w *writeBudget) pause(now time.Time, d time.Duration) time.Duration {
	until := now.Add(d)
	if !until.After(w.pauseUntil) {
		return 0
	}
	from := now
	if w.pauseUntil.After(now) {
		from = w.pauseUntil
	}
	w.pauseUntil = until
	return until.Sub(from)
}

// used takes in the service's word that share u of its bucket is used,
// while the model spends a burst from full: it spent capacity-belief of
// it, so the bucket holds spent/u·(1-u). If that is less than the model
// believes, the model believes the service.
func (w *writeBudget) used(u float64) {
	u = min(u, 1)
	belief := w.belief()
	spent := w.capacity - belief
	if u <= 0 || spent <= 0 {
		return
	}
	if left := spent / u * (1 - u); left < belief {
		w.capacity = min(w.capacity, max(1, spent/u))
		w.tokens = left - float64(w.inFlight)
	}
}

// done settles the writes of t; it reports whether the answer was a new
// drain.
func (w *writeBudget) done(now time.Time, t Ticket, o Outcome) bool {
	w.refill(now)
	w.inFlight -= t.cost.Writes
	// Throttled writes took nothing from the service's bucket.
	w.tokens = min(w.capacity, w.tokens+float64(o.WriteLimited+o.ThrottledWrites))
	if o.WriteLimited == 0 {
		w.heard(o, t.cost.Writes-o.ThrottledWrites)
		return false
	}
	if t.epoch != w.epoch {
		// Let go before the last drain: that drain counted it.
		return false
	}
	// The service's bucket is empty now; the model believed it held
	// belief (once the writes still in flight reach it).
	belief := w.belief()
	switch {
	case w.wasFull:
		// Drained from full: the burst was what the model spent.
		w.capacity = min(w.limit, max(1, w.capacity-belief))
	case !w.lastDrain.IsZero() && now.Sub(w.lastDrain) >= time.Second:
		// Empty at both ends: what the service took in between is what
		// its bucket refilled. The model refilled by refilled, and what
		// it believes left is what it took less than that.
		granted := (w.refilled - belief) / now.Sub(w.lastDrain).Seconds()
		w.rate = min(w.ceiling, max(w.min, granted))
	}
	w.tokens = -float64(w.inFlight)
	w.epoch++
	w.wasFull = false
	w.fullSince = time.Time{}
	w.lastDrain, w.lastChange, w.refilled = now, now, 0
	return true
}

// heard takes in what an answer that throttled no write said about the
// service's limit. Graph sends x-ms-throttle-limit-percentage once more
// than 0.8 of a limit is used: while the model spends a burst from full,
// that says how much is left (used); and once the model believes the
// bucket is more than 0.8 used, pacing after a drain, a service that has
// sent the header before and leaves it out says it refills faster than
// the model — faster than the stated budget, then, when the model paces
// at it. Only then is the rate raised above the stated one: by a tenth
// of itself per second of writes, until the next drain measures it.
func (w *writeBudget) heard(o Outcome, writes int) {
	switch {
	case o.Used > 0:
		w.heardUsed = true
		if w.wasFull {
			w.used(o.Used)
		}
	case w.heardUsed && !w.lastDrain.IsZero() && writes > 0 && w.belief() <= 0.2*w.capacity:
		w.rate += 0.1 * float64(writes)
		w.ceiling = max(w.ceiling, w.rate)
	}
}
