package engine

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/hrsync/hrsync/internal/bench/workforce"
	"github.com/hrsync/hrsync/internal/config"
	"github.com/hrsync/hrsync/internal/graphsim"
	"github.com/hrsync/hrsync/internal/plan"
	"github.com/hrsync/hrsync/internal/render"
	"github.com/hrsync/hrsync/internal/targets"
)

// BenchmarkMakePlan runs what `hrsync plan --out plan.json` does, in
// process, against the benchmark harness's workforce (HRSYNC_BENCH_N
// workers, default 100,000) served by graphsim over loopback with
// HRSYNC_BENCH_LATENCY per request (default 0): read, plan, write the plan
// file, render the text plan. Every read is a full one (no user cache).
// For profiles:
//
//	HRSYNC_BENCH_N=500000 go test -run '^$' -bench MakePlan -benchtime 1x -cpuprofile cpu.out -memprofile mem.out ./internal/engine
func BenchmarkMakePlan(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("HRSYNC_BENCH_N")); err == nil && v > 0 {
		n = v
	}
	lat, _ := time.ParseDuration(os.Getenv("HRSYNC_BENCH_LATENCY"))
	dir := b.TempDir()
	g, err := workforce.New(workforce.DefaultOptions(n, 1))
	if err != nil {
		b.Fatal(err)
	}
	files, err := g.WriteFiles(context.Background(), dir)
	if err != nil {
		b.Fatal(err)
	}
	const token = "bench-token"
	srv, err := graphsim.New(graphsim.Options{SeedPath: files.Seed, Token: token, Latency: lat, LatencyJitter: lat / 4})
	if err != nil {
		b.Fatal(err)
	}
	base, err := srv.Start("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = srv.Close(context.Background()) })
	b.Setenv("HRSYNC_ACCESS_TOKEN", token)
	cfgPath := filepath.Join(dir, "hrsync.yaml")
	conf := "source:\n  type: csv\n  path: " + workforce.CSVFile + "\nmapping: " + workforce.MappingFile +
		"\ntarget:\n  type: entra\n  auth: access_token\n  graph_url: " + base + "\npolicy:\n  max_leavers: 0\n  max_leavers_percent: 0\n"
	if err := os.WriteFile(cfgPath, []byte(conf), 0o600); err != nil {
		b.Fatal(err)
	}
	cfg, err := config.Load(config.Options{File: cfgPath, FileExplicit: true})
	if err != nil {
		b.Fatal(err)
	}
	e, err := New(cfg, nil, nil, "bench", targets.Open)
	if err != nil {
		b.Fatal(err)
	}
	e.CacheDir = NoCache
	b.ReportAllocs()
	for b.Loop() {
		p, _, err := e.MakePlan(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if err := plan.Write(filepath.Join(dir, "plan.json"), p); err != nil {
			b.Fatal(err)
		}
		if err := render.Plan(io.Discard, p, "text"); err != nil {
			b.Fatal(err)
		}
	}
}
