package pacer

import (
	"container/heap"
	"context"
	"errors"
	"math"
	"net/http"
	"testing"
	"time"
)

// fakeClock is a clock whose Sleep advances time at once.
type fakeClock struct {
	t     time.Time
	slept []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time { return c.t }

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.slept = append(c.slept, d)
	c.t = c.t.Add(d)
	return nil
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"", 0, false},
		{"  ", 0, false},
		{"0", 0, true},
		{"7", 7 * time.Second, true},
		{" 2 ", 2 * time.Second, true},
		{"1.5", 1500 * time.Millisecond, true},
		{"-3", 0, true},
		{"NaN", 0, false},
		{"soon", 0, false},
		{"999999999", 24 * time.Hour, true},
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
	}
	for _, tt := range tests {
		got, ok := RetryAfter(tt.in, now)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("RetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestBackoffBounds(t *testing.T) {
	tests := []struct {
		name     string
		r        float64
		attempt  int
		min, max time.Duration
	}{
		{"first, low jitter", 0, 1, 500 * time.Millisecond, 500 * time.Millisecond},
		{"first, high jitter", 0.999999, 1, 999 * time.Millisecond, time.Second},
		{"third doubles twice", 0, 3, 2 * time.Second, 2 * time.Second},
		{"capped", 0.999999, 30, 59 * time.Second, time.Minute},
		{"attempt 0 is 1", 0, 0, 500 * time.Millisecond, 500 * time.Millisecond},
	}
	for _, tt := range tests {
		b := DefaultBackoff()
		b.Rand = func() float64 { return tt.r }
		got := b.Delay(tt.attempt)
		if got < tt.min || got > tt.max {
			t.Errorf("%s: Delay(%d) = %v, want in [%v, %v]", tt.name, tt.attempt, got, tt.min, tt.max)
		}
	}
}

func TestRetryable(t *testing.T) {
	for status, want := range map[int]bool{200: false, 400: false, 404: false, 409: false, 429: true, 500: false, 502: true, 503: true, 504: true} {
		if got := Retryable(status); got != want {
			t.Errorf("Retryable(%d) = %v, want %v", status, got, want)
		}
	}
}

func TestUnlimitedUntilThrottled(t *testing.T) {
	c := newFakeClock()
	p := New(Options{Clock: c})
	for range 100 {
		if err := p.Wait(context.Background(), 20); err != nil {
			t.Fatal(err)
		}
		p.Succeeded(20)
	}
	if len(c.slept) != 0 || p.Rate() != 0 {
		t.Fatalf("an unthrottled pacer waited %v (rate %v)", c.slept, p.Rate())
	}
}

func TestThrottledPausesEveryoneAndCutsOncePerEpisode(t *testing.T) {
	c := newFakeClock()
	p := New(Options{Clock: c, Window: 5 * time.Second})
	// 500 items accepted over the last 5 s: 100/s measured.
	for range 5 {
		p.Succeeded(100)
		c.t = c.t.Add(time.Second)
	}
	p.Throttled(3 * time.Second)
	if got, want := p.Rate(), 100*0.6; math.Abs(got-want) > 1e-9 {
		t.Fatalf("rate after first throttle = %v, want %v", got, want)
	}
	// More 429s from requests already in flight: no further cut.
	p.Throttled(3 * time.Second)
	p.Throttled(2 * time.Second)
	if got := p.Stats().Cuts; got != 1 {
		t.Fatalf("cuts = %d, want 1", got)
	}
	start := c.t
	if err := p.Wait(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	if waited := c.t.Sub(start); waited < 3*time.Second {
		t.Fatalf("Wait returned after %v, inside the Retry-After pause of 3s", waited)
	}
	// A throttle after the episode cuts again.
	c.t = c.t.Add(5 * time.Second)
	p.Throttled(time.Second)
	if got, want := p.Rate(), 100*0.6*0.6; math.Abs(got-want) > 1e-6 {
		t.Fatalf("rate after second episode = %v, want %v", got, want)
	}
}

func TestRateSpacingAndIncrease(t *testing.T) {
	c := newFakeClock()
	p := New(Options{Clock: c, Min: 10, Increase: 2})
	p.Throttled(0) // nothing measured: falls to Min
	if p.Rate() != 10 {
		t.Fatalf("rate = %v, want the floor 10", p.Rate())
	}
	start := c.t
	for range 5 {
		if err := p.Wait(context.Background(), 20); err != nil {
			t.Fatal(err)
		}
	}
	// 100 items at 10/s: the fifth batch may start at 8 s.
	if got := c.t.Sub(start); got != 8*time.Second {
		t.Fatalf("5 batches of 20 at 10/s took %v, want 8s", got)
	}
	before := p.Rate()
	p.Succeeded(10) // one second's worth at 10/s adds Increase
	if got := p.Rate() - before; math.Abs(got-2) > 1e-9 {
		t.Fatalf("increase after a second of successes = %v, want 2", got)
	}
}

func TestMaxCapsTheRate(t *testing.T) {
	c := newFakeClock()
	p := New(Options{Clock: c, Min: 5, Max: 6, Increase: 50})
	p.Throttled(0)
	p.Succeeded(100)
	if p.Rate() != 6 {
		t.Fatalf("rate = %v, want capped at 6", p.Rate())
	}
}

func TestWaitHonoursContext(t *testing.T) {
	c := newFakeClock()
	p := New(Options{Clock: c})
	p.Throttled(time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Wait(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait on a cancelled context = %v", err)
	}
}

// The simulation below runs senders against a server that throttles like
// Graph's write limit (a token bucket of 3,000 writes refilled at 20/s)
// in simulated time, and checks that the pacer keeps throughput near what
// the throttle allows without flooding it with requests that get 429.

type event struct {
	at     time.Time
	worker int
	kind   int // evReserve, evSend, evDone
	seq    int
}

const (
	evReserve = iota
	evSend
	evDone
)

type eventQueue []event

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(event)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

type bucket struct {
	capacity, refill float64 // tokens, tokens per second
	tokens           float64
	last             time.Time
}

// take accepts up to n requests now; it returns how many, and the
// Retry-After for the rest.
func (b *bucket) take(now time.Time, n int) (int, time.Duration) {
	b.tokens = math.Min(b.capacity, b.tokens+now.Sub(b.last).Seconds()*b.refill)
	b.last = now
	ok := min(n, int(b.tokens))
	b.tokens -= float64(ok)
	if ok == n {
		return ok, 0
	}
	secs := math.Ceil((1 - (b.tokens - math.Floor(b.tokens))) / b.refill)
	return ok, time.Duration(max(1, secs)) * time.Second
}

type simResult struct {
	elapsed   time.Duration
	requests  int
	throttled int
}

func simulate(t *testing.T, items, workers int, latency time.Duration, capacity, refill float64) simResult {
	t.Helper()
	c := newFakeClock()
	p := New(Options{Clock: c})
	srv := &bucket{capacity: capacity, refill: refill, tokens: capacity, last: c.t}
	pending := items
	inFlight := make([]int, workers)
	booked := make([]booking, workers)
	var res simResult
	q := &eventQueue{}
	seq := 0
	push := func(at time.Time, w, kind int) {
		seq++
		heap.Push(q, event{at: at, worker: w, kind: kind, seq: seq})
	}
	start := c.t
	for w := range workers {
		push(start, w, evReserve)
	}
	done := 0
	for q.Len() > 0 && done < items {
		ev := heap.Pop(q).(event)
		c.t = ev.at
		switch ev.kind {
		case evReserve:
			if pending == 0 {
				continue // nothing left for this worker; it stops
			}
			n := min(20, pending)
			pending -= n
			inFlight[ev.worker] = n
			d, b, final := p.book(Cost{Items: n})
			if !final {
				pending += n
				inFlight[ev.worker] = 0
				push(c.t.Add(d), ev.worker, evReserve)
				continue
			}
			booked[ev.worker] = b
			push(c.t.Add(d), ev.worker, evSend)
		case evSend:
			if _, ok := p.claim(booked[ev.worker]); !ok {
				pending += inFlight[ev.worker]
				inFlight[ev.worker] = 0
				push(c.t, ev.worker, evReserve)
				continue
			}
			res.requests++
			ok, ra := srv.take(c.t.Add(latency/2), inFlight[ev.worker])
			c.t = c.t.Add(latency)
			p.Succeeded(ok)
			done += ok
			if back := inFlight[ev.worker] - ok; back > 0 {
				res.throttled += back
				pending += back
				p.Throttled(ra)
			}
			inFlight[ev.worker] = 0
			push(c.t, ev.worker, evReserve)
		}
	}
	if done != items {
		t.Fatalf("simulation delivered %d of %d items", done, items)
	}
	res.elapsed = c.t.Sub(start)
	return res
}

func TestSimulatedGraphWriteThrottle(t *testing.T) {
	tests := []struct {
		name     string
		items    int
		workers  int
		latency  time.Duration
		capacity float64
	}{
		{"10k writes, 4 batches in flight", 10000, 4, 150 * time.Millisecond, 3000},
		{"10k writes, 8 batches in flight, slow", 10000, 8, 400 * time.Millisecond, 3000},
		{"30k writes, 4 batches in flight", 30000, 4, 100 * time.Millisecond, 3000},
		{"small bucket", 5000, 4, 100 * time.Millisecond, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const refill = 20
			capacity := tt.capacity
			r := simulate(t, tt.items, tt.workers, tt.latency, capacity, refill)
			// The throttle allows capacity at once, then refill per second.
			ideal := time.Duration((float64(tt.items)-capacity)/refill*float64(time.Second)) + tt.latency
			efficiency := ideal.Seconds() / r.elapsed.Seconds()
			t.Logf("elapsed %v (ideal %v): %.1f%% of the throttle's allowance; %d batch requests, %d items throttled",
				r.elapsed.Round(time.Second), ideal.Round(time.Second), 100*efficiency, r.requests, r.throttled)
			if efficiency < 0.9 {
				t.Errorf("throughput %.1f%% of what the throttle allows, want at least 90%%", 100*efficiency)
			}
			// Without pacing every batch in flight would be throttled
			// most of the time; with it, throttled items stay a small
			// share of the work.
			if share := float64(r.throttled) / float64(tt.items); share > 0.1 {
				t.Errorf("%.0f%% of items were throttled, want at most 10%%", 100*share)
			}
		})
	}
}
