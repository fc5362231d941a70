package main

import (
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/hrsync/hrsync/internal/graphsim"
)

// Route patterns graphsim counts requests under.
const (
	routeList  = "GET /users"
	routeDelta = "GET /users/delta"
	routeBatch = "POST /$batch"
)

// traffic is what graphsim saw during one step: the difference of two
// Stats snapshots, classified.
type traffic struct {
	Requests      map[string]int64 // top-level requests by route
	BatchItems    map[string]int64 // $batch items by route
	Statuses      map[int]int64
	BatchStatuses map[int]int64

	ListPages    int64 // GET /users (full reads and $filter look-ups alike)
	ListItems    int64 // GET /users and GET /users/delta as $batch items (pages of a batched read, look-ups)
	TopLevel     int64 // every top-level request: each is one round trip
	DeltaPages   int64 // GET /users/delta
	Batches      int64 // POST /$batch
	Items        int64 // $batch items, all routes
	ItemWrites   int64 // $batch items that write
	SingleWrites int64 // top-level writes outside $batch
	Other        int64 // every other top-level request
	Throttled    int64 // 429 answers, top-level and items
	Writes2xx    int64 // writes graphsim carried out (2xx)
	ResourceU    int64 // resource units charged (throttling only)
}

// Reads is the number of top-level read requests that page users.
func (t traffic) Reads() int64 { return t.ListPages + t.DeltaPages }

// Writes is every write request issued, whether in a $batch or not,
// successful or not.
func (t traffic) Writes() int64 { return t.ItemWrites + t.SingleWrites }

// isWrite says the route changes something.
func isWrite(route string) bool {
	method, _, _ := strings.Cut(route, " ")
	switch method {
	case http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete:
		return route != routeBatch
	}
	return false
}

// diffStats returns what happened between before and after.
func diffStats(before, after graphsim.Stats) traffic {
	t := traffic{
		Requests:      diffMap(before.Requests, after.Requests),
		BatchItems:    diffMap(before.BatchItems, after.BatchItems),
		Statuses:      diffMap(before.Statuses, after.Statuses),
		BatchStatuses: diffMap(before.BatchStatuses, after.BatchStatuses),
		Throttled:     after.Throttled - before.Throttled,
		Writes2xx:     after.Writes - before.Writes,
		ResourceU:     after.ResourceUnits - before.ResourceUnits,
	}
	for route, n := range t.Requests {
		t.TopLevel += n
		switch {
		case route == routeList:
			t.ListPages += n
		case route == routeDelta:
			t.DeltaPages += n
		case route == routeBatch:
			t.Batches += n
		case isWrite(route):
			t.SingleWrites += n
		default:
			t.Other += n
		}
	}
	for route, n := range t.BatchItems {
		t.Items += n
		if route == routeList || route == routeDelta {
			t.ListItems += n
		}
		if isWrite(route) {
			t.ItemWrites += n
		}
	}
	return t
}

// diffMap subtracts before from after, keeping the keys that changed.
func diffMap[K comparable](before, after map[K]int64) map[K]int64 {
	out := make(map[K]int64, len(after))
	for k, v := range after {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

// routes lists the routes of t, sorted.
func (t traffic) routes() []string {
	set := maps.Clone(t.Requests)
	if set == nil {
		set = map[string]int64{}
	}
	for r := range t.BatchItems {
		set[r] += 0
	}
	return slices.Sorted(maps.Keys(set))
}

// ceilDiv is ⌈a/b⌉ for a >= 0, b > 0.
func ceilDiv(a, b int64) int64 {
	if a <= 0 {
		return 0
	}
	return (a + b - 1) / b
}

// writeSample is graphsim's write counters at one moment of an apply.
type writeSample struct {
	At        time.Duration // since sampling started
	Writes    int64         // writes carried out (2xx) since then
	Throttled int64         // 429 answers since then
}

// sampleWrites reads srv's counters every interval until the returned
// function is called, which returns the samples (the last one taken then).
func sampleWrites(srv *graphsim.Server, every time.Duration) func() []writeSample {
	start, first := time.Now(), srv.Stats()
	take := func() writeSample {
		st := srv.Stats()
		return writeSample{At: time.Since(start), Writes: st.Writes - first.Writes, Throttled: st.Throttled - first.Throttled}
	}
	var out []writeSample
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				out = append(out, take())
			}
		}
	}()
	return func() []writeSample {
		close(done)
		<-finished
		return append(out, take())
	}
}

// sustainedWrites is the write rate from the moment burst writes were done
// to the moment the last write was done (the first sample holding the
// final count), and that span; ok is false when the apply did not get
// past the burst or took less than a second after it.
func sustainedWrites(samples []writeSample, burst float64) (rate float64, span time.Duration, ok bool) {
	if len(samples) == 0 {
		return 0, 0, false
	}
	final := samples[len(samples)-1].Writes
	from, to := -1, -1
	for i, s := range samples {
		if from < 0 && float64(s.Writes) >= burst {
			from = i
		}
		if to < 0 && s.Writes == final {
			to = i
		}
	}
	if from < 0 || to <= from {
		return 0, 0, false
	}
	span = samples[to].At - samples[from].At
	if span < time.Second {
		return 0, 0, false
	}
	return float64(samples[to].Writes-samples[from].Writes) / span.Seconds(), span, true
}
