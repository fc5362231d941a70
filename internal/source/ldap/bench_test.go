package ldap

import (
	"context"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/source"
	csvsource "github.com/hrsync/hrsync/internal/source/csv"
)

// The read benchmarks run against a directory and a CSV file of the same
// people that examples/ldap/bench.sh prepares (100,000 by default):
//
//	examples/ldap/bench.sh 100000
//
// It loads the people into a throwaway slapd with slapadd, writes the CSV,
// and runs these benchmarks and hrsync validate on both. By hand, set
// HRSYNC_BENCH_LDAP_URL, _CA, _BIND_DN, _PASSWORD, _BASE (and _PAGE_SIZE)
// and HRSYNC_BENCH_CSV. Without them the benchmarks skip.

// peakHeap samples the live heap while a read runs.
type peakHeap struct {
	stop chan struct{}
	done sync.WaitGroup
	peak uint64
}

func watchHeap() *peakHeap {
	runtime.GC()
	p := &peakHeap{stop: make(chan struct{})}
	p.done.Add(1)
	go func() {
		defer p.done.Done()
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			p.peak = max(p.peak, s[0].Value.Uint64())
			select {
			case <-p.stop:
				return
			case <-t.C:
			}
		}
	}()
	return p
}

func (p *peakHeap) mib() float64 {
	close(p.stop)
	p.done.Wait()
	return float64(p.peak) / (1 << 20)
}

// drain reads src whole and lets each record go, as the engine does once
// it has mapped it: what stays is what the source itself holds.
func drain(b *testing.B, src source.Source) int {
	b.Helper()
	n := 0
	sum, err := src.Read(context.Background(), func(*identity.Record) error { n++; return nil })
	if err != nil {
		b.Fatal(err)
	}
	if sum.Records != n || n == 0 {
		b.Fatalf("%d records, summary %d", n, sum.Records)
	}
	return n
}

func BenchmarkReadLDAP(b *testing.B) {
	get := os.Getenv
	if get("HRSYNC_BENCH_LDAP_URL") == "" {
		b.Skip("HRSYNC_BENCH_LDAP_URL is unset: run examples/ldap/bench.sh")
	}
	raw := map[string]any{
		"url": get("HRSYNC_BENCH_LDAP_URL"), "ca_file": get("HRSYNC_BENCH_LDAP_CA"), "bind_dn": get("HRSYNC_BENCH_LDAP_BIND_DN"),
		"base_dn": get("HRSYNC_BENCH_LDAP_BASE"), "preset": "inetorgperson",
	}
	if ps := get("HRSYNC_BENCH_LDAP_PAGE_SIZE"); ps != "" {
		n, err := strconv.Atoi(ps)
		if err != nil {
			b.Fatal(err)
		}
		raw["page_size"] = n
	}
	c, err := Parse(raw, Env{Getenv: func(string) string { return get("HRSYNC_BENCH_LDAP_PASSWORD") }})
	if err != nil {
		b.Fatal(err)
	}
	src, err := New(c, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	n, peak := 0, 0.0
	for range b.N {
		w := watchHeap()
		n = drain(b, src)
		peak = max(peak, w.mib())
	}
	b.ReportMetric(float64(n), "entries")
	b.ReportMetric(float64(src.pages), "pages")
	b.ReportMetric(peak, "peak-heap-MiB")
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}

func BenchmarkReadCSV(b *testing.B) {
	path := os.Getenv("HRSYNC_BENCH_CSV")
	if path == "" {
		b.Skip("HRSYNC_BENCH_CSV is unset: run examples/ldap/bench.sh")
	}
	src, err := csvsource.New(csvsource.Options{Path: path, Display: path, Delimiter: ","})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	n, peak := 0, 0.0
	for range b.N {
		w := watchHeap()
		n = drain(b, src)
		peak = max(peak, w.mib())
	}
	b.ReportMetric(float64(n), "entries")
	b.ReportMetric(peak, "peak-heap-MiB")
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}
