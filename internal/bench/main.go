// Command bench measures hrsync end to end, through the CLI, against a
// Graph emulator over loopback HTTP.
//
// Run it from the repository root:
//
//	go run ./internal/bench                                 # plan only, at 10k, 100k and 500k workers (about a minute)
//	go run ./internal/bench -n 10000,100000 -apply          # plan, apply, plan again at 10k and 100k
//	go run ./internal/bench -n 10000 -apply -out bench.md   # also save the markdown results
//	go run ./internal/bench -n 0 -throttle                  # only the throttled apply: ~14 min
//	go run ./internal/bench -n 0 -throttle -throttle-n 20000 -changes 1000 -throttle-scale 10   # ~1.5 min
//	go run ./internal/bench -n 100000 -latency 200ms -jitter 50ms -apply -drift 0.02   # at Graph's round trip
//
// For each N it generates a reproducible synthetic workforce
// (internal/bench/workforce: names from many cultures, 6–8 digit IDs,
// departments, titles, countries, hire dates, a manager hierarchy) as an HR
// export, and a tenant that holds most of it with drift — 5% movers, 2%
// leavers, 3% joiners, plus admin accounts without employeeId. It loads the
// tenant into graphsim (internal/graphsim) in this process, serves it on
// 127.0.0.1, builds ./cmd/hrsync (or takes -hrsync) and runs it as a child
// process: `plan`, and with -apply `apply --auto-approve`, a second `plan`
// that must find no changes, and a check that the tenant holds every worker
// once, nothing more. It reports wall times, the child's peak RSS (its own:
// children are started by a small spawner process, see spawner.go), Graph
// requests by route against the fewest possible (⌈users/999⌉ list pages,
// ⌈users/100⌉ with $expand=manager, ⌈users/200⌉ delta pages, ⌈writes/20⌉
// $batch requests) and 429s, as markdown on stdout (and in -out).
//
// -throttle adds a scenario with about -changes joiners (default 10,000, in
// a workforce of -throttle-n, default 100,000) applied against graphsim
// with Graph's write throttling (3,000 writes per 150 s: a burst of 3,000,
// then 20 writes/s; each joiner takes two writes, its create and its
// manager), which takes about 14 minutes. For a quicker run give fewer
// -changes and -throttle-scale F, which divides the burst and its window by
// F (the rate stays 20/s, so the burst does not swallow the smaller run);
// the results say so. -write-limit N/D sets the write budget outright,
// e.g. 200/10s, the scaled scenario issue 13 measured (a burst of 200,
// then 20 writes/s).
//
// For throttled scenarios the harness samples graphsim's counters during
// apply (every 250 ms) and reports the sustained write rate once the
// burst's worth of writes is done, against the budget's refill rate, and
// the share of write items answered 429.
//
// -latency and -jitter make graphsim answer each request after a delay, as
// Graph does over the internet (a $batch waits for its slowest item); the
// results then compare each plan's wall time with the sequential floor
// (its requests one after another, each a round trip) and with Graph's
// budget floor (the resource units it was charged at Graph's rate for the
// tenant's size, 8,000 per 10 s over 500 users).
//
// Data and logs stay in -dir (default: a temporary folder, removed unless
// -keep). The same -seed gives the same data.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hrsync/hrsync/internal/bench/workforce"
	"github.com/hrsync/hrsync/internal/graphsim"
)

func main() {
	if os.Getenv(spawnerEnv) == "1" {
		// The harness re-executed as the spawner of hrsync children.
		signal.Ignore(os.Interrupt) // Ctrl-C reaches the harness, which closes our input
		if err := runSpawner(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "bench spawner:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// options are the command-line flags.
type options struct {
	sizes         []int
	dir           string
	keep          bool
	seed          uint64
	apply         bool
	throttle      bool
	throttleN     int
	changes       int
	throttleScale float64
	writeLimit    string // N/D, e.g. 200/10s: the throttle's write budget ("": Graph's, or scaled)
	drift         float64
	out           string
	hrsync        string
	latency       time.Duration
	jitter        time.Duration
	planArgs      []string
	limits        bool
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run ./internal/bench [flags]\n\nMeasures hrsync plan and apply against graphsim over loopback HTTP; see the package documentation.\n\nFlags:")
		fs.PrintDefaults()
	}
	sizes := fs.String("n", "10000,100000,500000", "workforce sizes to measure, comma-separated (0 or \"\": none)")
	fs.StringVar(&o.dir, "dir", "", "work folder for data, plans and logs (default: a temporary folder, removed unless -keep)")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary work folder")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the generated data")
	fs.BoolVar(&o.apply, "apply", false, "also apply each plan, plan again and check the tenant")
	fs.BoolVar(&o.throttle, "throttle", false, "add the throttled apply scenario (several minutes at Graph's limits)")
	fs.IntVar(&o.throttleN, "throttle-n", 100_000, "workers in the throttled scenario")
	fs.IntVar(&o.changes, "changes", 10_000, "joiners (changes) in the throttled scenario")
	fs.Float64Var(&o.throttleScale, "throttle-scale", 1, "divide the write throttle's burst (3,000) and window (150 s) by this; the rate stays 20 writes/s")
	fs.StringVar(&o.writeLimit, "write-limit", "", "the throttled scenario's write budget as writes/window, e.g. 200/10s (default Graph's 3000/150s; not with -throttle-scale)")
	fs.Float64Var(&o.drift, "drift", 1, "scale the standard drift (5% movers, 3% joiners, 2% leavers) by this factor, e.g. 0.02 for a nightly run's few changes")
	fs.StringVar(&o.out, "out", "", "also write the markdown results to this file")
	fs.StringVar(&o.hrsync, "hrsync", "", "hrsync binary to measure (default: go build ./cmd/hrsync into the work folder)")
	fs.DurationVar(&o.latency, "latency", 0, "graphsim adds this delay to every request, e.g. 200ms (Graph's round trip)")
	fs.DurationVar(&o.jitter, "jitter", 0, "graphsim adds a random 0..jitter more per request (a $batch: its slowest item's)")
	fs.BoolVar(&o.limits, "graph-limits", false, "graphsim enforces Graph's identity limits (resource units by tenant size, writes) in every scenario, not only -throttle's")
	planArgs := fs.String("plan-args", "", "extra arguments of every `hrsync plan`, space-separated (e.g. --refresh=full)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	o.planArgs = strings.Fields(*planArgs)
	if o.latency < 0 || o.jitter < 0 {
		return nil, fmt.Errorf("-latency %v, -jitter %v: give non-negative durations", o.latency, o.jitter)
	}
	for _, f := range strings.Split(*sizes, ",") {
		f = strings.TrimSpace(strings.ReplaceAll(f, "_", ""))
		if f == "" || f == "0" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-n: %q is not a positive number", f)
		}
		o.sizes = append(o.sizes, n)
	}
	if o.throttleScale <= 0 || o.throttleScale > graphWrites {
		return nil, fmt.Errorf("-throttle-scale %v: give a factor from 1 to %d", o.throttleScale, graphWrites)
	}
	if o.writeLimit != "" {
		if o.throttleScale != 1 {
			return nil, errors.New("-write-limit and -throttle-scale: give one")
		}
		if _, _, err := parseWriteLimit(o.writeLimit); err != nil {
			return nil, err
		}
	}
	if o.throttle && (o.changes < 1 || o.throttleN < 2 || float64(o.changes) > 0.7*float64(o.throttleN)) {
		return nil, fmt.Errorf("-changes %d with -throttle-n %d: give 1 to 70%% of the workers", o.changes, o.throttleN)
	}
	if o.drift <= 0 || o.drift > 5 {
		return nil, fmt.Errorf("-drift %v: give a factor above 0, at most 5", o.drift)
	}
	if len(o.sizes) == 0 && !o.throttle {
		return nil, errors.New("nothing to measure: give -n sizes or -throttle")
	}
	return o, nil
}

// scenarios lists what to measure, in order.
func (o *options) scenarios() []scenario {
	var out []scenario
	for _, n := range o.sizes {
		opts := workforce.DefaultOptions(n, o.seed)
		name := fmt.Sprintf("n%d", n)
		if o.drift != 1 {
			opts.Movers *= o.drift
			opts.Joiners *= o.drift
			opts.Leavers *= o.drift
			name += fmt.Sprintf("-drift%g", o.drift)
		}
		sc := scenario{Name: name, Opts: opts, Apply: o.apply, Latency: o.latency, Jitter: o.jitter, PlanArgs: o.planArgs}
		if o.limits {
			sc.Throttle, sc.Scale, sc.Limits = &graphsim.Throttle{}, 1, true
		}
		out = append(out, sc)
	}
	if o.throttle {
		// A tenant that lacks some workers: every change is a create
		// (and the manager reference that goes with it).
		opts := workforce.DefaultOptions(o.throttleN, o.seed)
		opts.Movers, opts.Leavers = 0, 0
		opts.Joiners = float64(o.changes) / float64(o.throttleN)
		th := &graphsim.Throttle{}
		name := fmt.Sprintf("throttle-n%d-c%d", o.throttleN, o.changes)
		if o.throttleScale != 1 {
			th.Writes = max(1, int(float64(graphWrites)/o.throttleScale))
			th.WriteWindow = time.Duration(float64(graphWriteWindow) * float64(th.Writes) / graphWrites)
		}
		if o.writeLimit != "" {
			th.Writes, th.WriteWindow, _ = parseWriteLimit(o.writeLimit)
			name += fmt.Sprintf("-w%d-%v", th.Writes, th.WriteWindow)
		}
		out = append(out, scenario{Name: name, Opts: opts, Apply: true, Throttle: th, Scale: o.throttleScale,
			LimitFlag: o.writeLimit != "", Latency: o.latency, Jitter: o.jitter, PlanArgs: o.planArgs})
	}
	return out
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	h := header{Command: commandLine(args), Started: time.Now(), Seed: o.seed}
	// Start the spawner while this process is still small (see spawner.go).
	sp, err := startSpawner(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := sp.close(); cerr != nil && err == nil && ctx.Err() == nil {
			err = cerr
		}
	}()

	work := o.dir
	if work == "" {
		if work, err = os.MkdirTemp("", "hrsync-bench-"); err != nil {
			return fmt.Errorf("work folder: %w", err)
		}
		if !o.keep {
			defer func() {
				if rerr := os.RemoveAll(work); rerr != nil && err == nil {
					err = fmt.Errorf("remove work folder: %w", rerr)
				}
			}()
		}
	} else if err := os.MkdirAll(work, 0o755); err != nil {
		return fmt.Errorf("work folder: %w", err)
	}
	if work, err = filepath.Abs(work); err != nil {
		return fmt.Errorf("work folder: %w", err)
	}
	h.Work = work
	e := &env{work: work, sp: sp, log: stderr}
	e.logf("work folder %s", work)

	commit := ""
	if e.bin = o.hrsync; e.bin == "" {
		e.logf("building ./cmd/hrsync")
		if e.bin, commit, err = buildHrsync(ctx, work); err != nil {
			return err
		}
	} else if e.bin, err = filepath.Abs(e.bin); err != nil {
		return fmt.Errorf("-hrsync: %w", err)
	}
	h.Bin, h.Hrsync = e.bin, hrsyncVersion(ctx, e.bin)
	if commit != "" && !strings.Contains(h.Hrsync, "commit ") {
		h.Hrsync += ", built from " + commit
	}

	var results []*result
	for _, sc := range o.scenarios() {
		if ctx.Err() != nil {
			break
		}
		results = append(results, e.runScenario(ctx, sc))
	}

	var md strings.Builder
	if err := writeMarkdown(&md, h, results); err != nil {
		return fmt.Errorf("render results: %w", err)
	}
	if _, err := io.WriteString(stdout, md.String()); err != nil {
		return fmt.Errorf("print results: %w", err)
	}
	if o.out != "" {
		if err := os.WriteFile(o.out, []byte(md.String()), 0o644); err != nil {
			return fmt.Errorf("write -out: %w", err)
		}
	}
	var failed []string
	for _, r := range results {
		if r.Err != nil || (r.Sc.Apply && !r.Converged()) {
			failed = append(failed, r.Sc.Name)
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("interrupted: %w", err)
	}
	if len(failed) > 0 {
		return fmt.Errorf("scenarios failed or did not converge: %s", strings.Join(failed, ", "))
	}
	return nil
}

// parseWriteLimit reads -write-limit: writes/window, e.g. 200/10s.
func parseWriteLimit(v string) (int, time.Duration, error) {
	n, d, ok := strings.Cut(strings.TrimSpace(v), "/")
	writes, err := strconv.Atoi(strings.TrimSpace(n))
	if !ok || err != nil || writes < 1 {
		return 0, 0, fmt.Errorf("-write-limit %q: give writes/window, e.g. 200/10s", v)
	}
	window, err := time.ParseDuration(strings.TrimSpace(d))
	if err != nil || window < time.Second {
		return 0, 0, fmt.Errorf("-write-limit %q: give writes/window, e.g. 200/10s, with a window of at least 1s", v)
	}
	return writes, window, nil
}

// commandLine shows how the harness was run, quoting what needs it.
func commandLine(args []string) string {
	parts := []string{"go run ./internal/bench"}
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\"'$`\\*?;&|<>()") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}
