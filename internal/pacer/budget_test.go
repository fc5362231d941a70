package pacer

import (
	"container/heap"
	"context"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// The simulation below runs senders of $batch requests (20 writes each)
// against a server enforcing a write budget the way graphsim's Throttle
// does — a token bucket that starts full, takes a batch's items one by one
// while it holds a token, and answers the rest 429 with Retry-After in
// whole seconds (at least 1) — in simulated time, with latencies that
// vary. Throttled items are retried after their Retry-After, as
// internal/entra's queue does. It measures the sustained write rate after
// the bucket first ran dry against the bucket's refill rate, the share of
// items throttled, and the wall time against the least the budget allows.

// writeBucket is the server's write budget.
type writeBucket struct {
	capacity, refill float64 // writes, writes per second
	tokens           float64
	last             time.Time
}

// take accepts what it can of n writes at now; it returns how many, and
// the Retry-After for the rest.
func (b *writeBucket) take(now time.Time, n int) (int, time.Duration) {
	b.tokens = math.Min(b.capacity, b.tokens+now.Sub(b.last).Seconds()*b.refill)
	b.last = now
	ok := 0
	for ok < n && b.tokens >= 1 {
		b.tokens--
		ok++
	}
	if ok == n {
		return ok, 0
	}
	secs := math.Ceil((1 - b.tokens) / b.refill)
	return ok, time.Duration(max(1, secs)) * time.Second
}

type budgetSim struct {
	name     string
	noUsed   bool          // the server does not say how much of its bucket is used
	items    int           // writes to carry out
	phases   int           // the items come in this many phases, each after the previous finished
	gap      time.Duration // idle time between phases
	workers  int           // batches in flight
	latency  time.Duration // mean round trip
	jitter   float64       // the round trip varies uniformly by this share either way
	capacity float64       // the server's burst
	refill   float64       // the server's writes per second
	budget   Budget        // the pacer's stated write budget (zero: AIMD only)
}

type budgetResult struct {
	elapsed      time.Duration
	requests     int
	throttled    int
	drains       int
	firstDrain   time.Duration // the first 429, since the start; -1: never
	afterBurst   int           // writes the server took once its burst was spent
	sustainedFor time.Duration // from then to the end, without the gaps between phases
	finalRate    float64       // the pacer's write pace at the end
}

// least is the least time the writes can take: each phase spends the
// burst the bucket holds (full at first, refilled during the gap), then
// waits for the refill; plus a round trip.
func (s budgetSim) least() time.Duration {
	phases := max(1, s.phases)
	per := s.items / phases
	var secs float64
	for i := range phases {
		n, burst := per, s.capacity
		if i == phases-1 {
			n = s.items - per*(phases-1)
		}
		if i > 0 {
			burst = math.Min(s.capacity, s.gap.Seconds()*s.refill)
			secs += s.gap.Seconds()
		}
		secs += math.Max(0, float64(n)-burst) / s.refill
	}
	return time.Duration(secs*float64(time.Second)) + s.latency
}

// sustained is the share of the refill rate used once the server had
// taken a burst's worth of writes (from then on it can grant little more
// than its refill).
func (r budgetResult) sustained(refill float64) float64 {
	if r.sustainedFor <= 0 {
		return 1
	}
	return float64(r.afterBurst) / r.sustainedFor.Seconds() / refill
}

type simEvent struct {
	at     time.Time
	kind   int
	worker int
	seq    int
}

const (
	seBook = iota
	seSend
	seArrive
	seDone
	sePhase // the next phase's items arrive
)

type simQueue []simEvent

func (q simQueue) Len() int { return len(q) }
func (q simQueue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q simQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *simQueue) Push(x any)   { *q = append(*q, x.(simEvent)) }
func (q *simQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

type retryItem struct {
	at time.Time
	n  int
}

func runBudgetSim(t testing.TB, s budgetSim, seed uint64) budgetResult {
	t.Helper()
	c := newFakeClock()
	p := New(Options{Clock: c, Writes: s.budget})
	rng := rand.New(rand.NewPCG(seed, 1))
	srv := &writeBucket{capacity: s.capacity, refill: s.refill, tokens: s.capacity, last: c.t}
	start := c.t
	phases := max(1, s.phases)
	perPhase := s.items / phases
	phase, ready, done, inPhase := 1, perPhase, 0, perPhase
	if phases == 1 {
		ready, inPhase = s.items, s.items
	}
	var gaps time.Duration // idle gaps once the burst was spent
	var delayed []retryItem
	type worker struct {
		n        int
		booking  booking
		ticket   Ticket
		accepted int
		retry    time.Duration
		used     float64
		rtt      time.Duration
	}
	ws := make([]worker, s.workers)
	active := make([]bool, s.workers) // a worker has an event queued
	busy := 0
	res := budgetResult{firstDrain: -1}
	q := &simQueue{}
	seq := 0
	push := func(at time.Time, kind, w int) {
		seq++
		heap.Push(q, simEvent{at: at, kind: kind, worker: w, seq: seq})
	}
	wake := func() {
		for i := range ws {
			if !active[i] {
				active[i] = true
				push(c.t, seBook, i)
			}
		}
	}
	wake()
	burstSpent := time.Time{} // when the server had taken its burst's worth
	taken := 0
	for q.Len() > 0 {
		ev := heap.Pop(q).(simEvent)
		c.t = ev.at
		if ev.kind == sePhase {
			n := perPhase
			if phase++; phase == phases {
				n = s.items - perPhase*(phases-1)
			}
			inPhase += n
			ready += n
			if !burstSpent.IsZero() {
				gaps += s.gap
			}
			wake()
			continue
		}
		w := &ws[ev.worker]
		switch ev.kind {
		case seBook:
			// Due retries first, as entra's queue does.
			kept := delayed[:0]
			for _, d := range delayed {
				if !d.at.After(c.t) {
					ready += d.n
				} else {
					kept = append(kept, d)
				}
			}
			delayed = kept
			if ready == 0 {
				if len(delayed) > 0 || busy > 0 {
					push(c.t.Add(50*time.Millisecond), seBook, ev.worker)
				} else {
					active[ev.worker] = false
				}
				continue
			}
			w.n = min(20, ready)
			ready -= w.n
			busy++
			d, b, final := p.book(Cost{Items: w.n, Writes: w.n})
			if !final {
				ready += w.n
				busy--
				push(c.t.Add(d), seBook, ev.worker)
				continue
			}
			w.booking = b
			push(c.t.Add(d), seSend, ev.worker)
		case seSend:
			tk, ok := p.claim(w.booking)
			if !ok {
				ready += w.n
				busy--
				push(c.t, seBook, ev.worker)
				continue
			}
			w.ticket = tk
			res.requests++
			w.rtt = time.Duration(float64(s.latency) * (1 + s.jitter*(2*rng.Float64()-1)))
			push(c.t.Add(w.rtt/2), seArrive, ev.worker)
		case seArrive:
			w.accepted, w.retry = srv.take(c.t, w.n)
			// graphsim's x-ms-throttle-limit-percentage: the used share,
			// floored to hundredths, once above 0.8.
			w.used = 0
			if u := math.Floor((1-srv.tokens/srv.capacity)*100) / 100; u > 0.8 && !s.noUsed {
				w.used = u
			}
			if !burstSpent.IsZero() {
				res.afterBurst += w.accepted
			}
			if taken += w.accepted; burstSpent.IsZero() && float64(taken) >= srv.capacity {
				burstSpent = c.t
			}
			push(c.t.Add(w.rtt-w.rtt/2), seDone, ev.worker)
		case seDone:
			limited := w.n - w.accepted
			p.Done(w.ticket, Outcome{Succeeded: w.accepted, WriteLimited: limited, RetryAfter: w.retry, Used: w.used})
			done += w.accepted
			if limited > 0 {
				res.throttled += limited
				if res.firstDrain < 0 {
					res.firstDrain = c.t.Sub(start)
				}
				delayed = append(delayed, retryItem{at: c.t.Add(w.retry), n: limited})
			}
			busy--
			if done == inPhase && busy == 0 && len(delayed) == 0 && phase < phases {
				// The next phase starts after the gap.
				seq++
				heap.Push(q, simEvent{at: c.t.Add(s.gap), kind: sePhase, seq: seq})
			}
			push(c.t, seBook, ev.worker)
		}
	}
	end := c.t
	if !burstSpent.IsZero() {
		res.sustainedFor = end.Sub(burstSpent) - gaps
	}
	if done != s.items {
		t.Fatalf("%s: the simulation carried out %d of %d writes", s.name, done, s.items)
	}
	res.elapsed = end.Sub(start)
	res.drains = p.Stats().WriteDrains
	res.finalRate = p.WriteRate()
	return res
}

// graphWrites is Graph's stated identity write limit per app and tenant.
var graphWrites = Budget{Limit: 3000, Window: 150 * time.Second}

// TestSimulatedWriteBudget paces to Graph's stated write budget against
// servers enforcing 200 writes per 10 s (the scaled scenario of the
// benchmark) and Graph's own 3,000 per 150 s, with 4 and 8 batches in
// flight and round trips that vary by half; and against a server that
// grants less than Graph states (half the rate: another app run sharing
// it), where the pacer measures the rate it is granted. Each runs with
// three seeds.
func TestSimulatedWriteBudget(t *testing.T) {
	tests := []struct {
		sim          budgetSim
		minSustained float64 // share of the refill rate once the burst is spent (one phase)
		maxThrottled float64 // share of items answered 429
	}{
		{budgetSim{name: "200/10s, 4,000 writes, 4 in flight, 150ms±50%", items: 4000, workers: 4, latency: 150 * time.Millisecond,
			jitter: 0.5, capacity: 200, refill: 20, budget: graphWrites}, 0.95, 0.03},
		{budgetSim{name: "200/10s, 4,000 writes, 8 in flight, 400ms±50%", items: 4000, workers: 8, latency: 400 * time.Millisecond,
			jitter: 0.5, capacity: 200, refill: 20, budget: graphWrites}, 0.95, 0.05},
		{budgetSim{name: "200/10s, 4,000 writes in 2 phases 30s apart", items: 4000, phases: 2, gap: 30 * time.Second, workers: 4,
			latency: 150 * time.Millisecond, jitter: 0.5, capacity: 200, refill: 20, budget: graphWrites}, 0.95, 0.05},
		{budgetSim{name: "3,000/150s, 10,000 writes, 4 in flight, 100ms±50%", items: 10000, workers: 4, latency: 100 * time.Millisecond,
			jitter: 0.5, capacity: 3000, refill: 20, budget: graphWrites}, 0.95, 0.02},
		{budgetSim{name: "3,000/150s, 20,000 writes, 8 in flight, 250ms±50%", items: 20000, workers: 8, latency: 250 * time.Millisecond,
			jitter: 0.5, capacity: 3000, refill: 20, budget: graphWrites}, 0.95, 0.02},
		{budgetSim{name: "granted 10/s of the stated 20/s, 3,000 writes", items: 3000, workers: 4, latency: 150 * time.Millisecond,
			jitter: 0.5, capacity: 100, refill: 10, budget: graphWrites}, 0.90, 0.06},
	}
	for _, tt := range tests {
		t.Run(tt.sim.name, func(t *testing.T) {
			for seed := uint64(1); seed <= 3; seed++ {
				r := runBudgetSim(t, tt.sim, seed)
				ideal := tt.sim.least()
				sustained := r.sustained(tt.sim.refill)
				share := float64(r.throttled) / float64(tt.sim.items)
				first := "none"
				if r.firstDrain >= 0 {
					first = r.firstDrain.Round(time.Millisecond).String()
				}
				t.Logf("seed %d: %v (least %v, %.1f%%); first 429 %s; after the first burst's worth: %.1f%% of the refill rate; "+
					"%d batches, %d items throttled (%.2f%%) in %d drains; write pace at the end %.2f/s",
					seed, r.elapsed.Round(time.Second), ideal.Round(time.Second), 100*ideal.Seconds()/r.elapsed.Seconds(),
					first, 100*sustained, r.requests, r.throttled, 100*share, r.drains, r.finalRate)
				if eff := ideal.Seconds() / r.elapsed.Seconds(); eff < 0.95 {
					t.Errorf("seed %d: took %v, %.1f%% of the least %v; want at least 95%%", seed, r.elapsed, 100*eff, ideal)
				}
				if tt.sim.phases <= 1 && sustained < tt.minSustained {
					t.Errorf("seed %d: sustained %.1f%% of the refill rate, want at least %.0f%%", seed, 100*sustained, 100*tt.minSustained)
				}
				if share > tt.maxThrottled {
					t.Errorf("seed %d: %.2f%% of items throttled, want at most %.0f%%", seed, 100*share, 100*tt.maxThrottled)
				}
			}
		})
	}
}

// TestSimulatedFasterThanStated: a server that grants 4× Graph's stated
// rate (80 writes/s, as cmd/hrsync's throttling test configures graphsim)
// is followed above the stated budget only when it says, by leaving out
// x-ms-throttle-limit-percentage, that less than 80% of its limit is used;
// one that never sends the header is paced at the stated budget.
func TestSimulatedFasterThanStated(t *testing.T) {
	base := budgetSim{items: 2000, workers: 4, latency: 100 * time.Millisecond, jitter: 0.5, capacity: 80, refill: 80, budget: graphWrites}
	says, silent := base, base
	says.name, silent.name, silent.noUsed = "says", "silent", true
	for seed := uint64(1); seed <= 3; seed++ {
		r := runBudgetSim(t, says, seed)
		q := runBudgetSim(t, silent, seed)
		t.Logf("seed %d: with the header %v, %.1f%% of 80/s after the burst, %d throttled in %d drains, pace at the end %.1f/s; "+
			"without %v, %.1f%%, %d throttled, pace %.1f/s", seed, r.elapsed.Round(time.Second), 100*r.sustained(80), r.throttled, r.drains,
			r.finalRate, q.elapsed.Round(time.Second), 100*q.sustained(80), q.throttled, q.finalRate)
		if r.sustained(80) < 0.5 {
			t.Errorf("seed %d: with the header, %.1f%% of the server's 80/s, want at least half", seed, 100*r.sustained(80))
		}
		if q.finalRate > graphWrites.Rate() {
			t.Errorf("seed %d: without the header the pace rose to %.1f/s, above the stated %v/s", seed, q.finalRate, graphWrites.Rate())
		}
	}
}

// BenchmarkSimulatedAIMD runs the budget scenarios with the AIMD limiter
// alone (no stated budget), the behaviour before write budgets, for
// comparison: go test -run XXX -bench SimulatedAIMD ./internal/pacer.
func BenchmarkSimulatedAIMD(b *testing.B) {
	for _, s := range []budgetSim{
		{name: "200/10s", items: 4000, workers: 4, latency: 150 * time.Millisecond, jitter: 0.5, capacity: 200, refill: 20},
		{name: "3000/150s", items: 10000, workers: 4, latency: 100 * time.Millisecond, jitter: 0.5, capacity: 3000, refill: 20},
	} {
		b.Run(s.name, func(b *testing.B) {
			var r budgetResult
			for range b.N {
				r = runBudgetSim(b, s, 1)
			}
			b.ReportMetric(100*r.sustained(s.refill), "%sustained")
			b.ReportMetric(100*float64(r.throttled)/float64(s.items), "%throttled")
		})
	}
}

// TestWriteBudgetModel checks the model's bookkeeping step by step: writes
// go at once while the budget is believed to hold them, a 429 empties it
// and holds writes for the Retry-After, answers to writes let go before
// that drain neither drain it again nor cost what they did not take, and
// a booking made before a drain is void.
func TestWriteBudgetModel(t *testing.T) {
	c := newFakeClock()
	p := New(Options{Clock: c, Writes: Budget{Limit: 100, Window: 10 * time.Second}, Headroom: 1})
	ctx := context.Background()
	var ts []Ticket
	for range 5 {
		tk, err := p.Acquire(ctx, Cost{Items: 20, Writes: 20})
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, tk)
	}
	if len(c.slept) != 0 {
		t.Fatalf("a full budget of 100 made 100 writes wait %v", c.slept)
	}
	// A sixth batch is booked before the server's answers come back: it
	// waits for 20 tokens at 10/s.
	d, b, final := p.book(Cost{Items: 20, Writes: 20})
	if !final || d != 2*time.Second {
		t.Fatalf("sixth batch: wait %v final %v, want 2s", d, final)
	}
	// The first batch comes back: only 5 of its 20 were taken (the
	// server's bucket held less than believed).
	p.Done(ts[0], Outcome{Succeeded: 5, WriteLimited: 15, RetryAfter: 2 * time.Second})
	if st := p.Stats(); st.WriteDrains != 1 || st.WriteLimited != 15 {
		t.Fatalf("stats after the first 429 = %+v", st)
	}
	// The others were let go before the drain: a 429 among them is the
	// same drain.
	p.Done(ts[1], Outcome{WriteLimited: 20, RetryAfter: 2 * time.Second})
	for _, tk := range ts[2:] {
		p.Done(tk, Outcome{Succeeded: 20})
	}
	if st := p.Stats(); st.WriteDrains != 1 {
		t.Fatalf("drains = %d, want 1: the later answers were let go before the drain", st.WriteDrains)
	}
	// The sixth booking is void; reads are not held.
	c.t = c.t.Add(d)
	if _, ok := p.claim(b); ok {
		t.Fatal("a booking made before the drain was claimed")
	}
	start := c.t
	if err := p.Wait(ctx, 1); err != nil || c.t != start {
		t.Fatalf("a read waited %v (%v) during a write pause", c.t.Sub(start), err)
	}
	// At the drain the model emptied the budget of what was in flight
	// (100: four batches and the sixth booking); 20 of those came back
	// throttled and the sixth booking is void, so it stood at -60, and
	// two seconds of refill at 10/s brought it to -40. 20 more writes
	// wait for 60 tokens: 6 s.
	if _, err := p.Acquire(ctx, Cost{Items: 20, Writes: 20}); err != nil {
		t.Fatal(err)
	}
	if waited := c.t.Sub(start); waited != 6*time.Second {
		t.Fatalf("20 writes after the drain waited %v, want 6s", waited)
	}
}
