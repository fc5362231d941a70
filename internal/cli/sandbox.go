package cli

import (
	"context"
	"errors"
	"fmt"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/hrsync/hrsync/internal/graphsim"
)

// sandboxServeFlags are the flags of "sandbox serve".
type sandboxServeFlags struct {
	state, seed, listen, token string
	stats, throttle            bool
	latency, jitter            time.Duration
	faultRate, dropRate        float64
	faultSeed                  uint64
}

// options turns the flags into emulator options.
func (f *sandboxServeFlags) options(a *app) (graphsim.Options, error) {
	if f.state == "" {
		return graphsim.Options{}, errors.New("--state is required: the JSON file that holds the sandbox tenant")
	}
	if f.faultRate < 0 || f.faultRate > 1 {
		return graphsim.Options{}, fmt.Errorf("--fault-rate %v: want a share from 0 to 1, e.g. 0.05", f.faultRate)
	}
	if f.dropRate < 0 || f.dropRate > 1 {
		return graphsim.Options{}, fmt.Errorf("--drop-rate %v: want a share from 0 to 1, e.g. 0.02", f.dropRate)
	}
	if f.latency < 0 {
		return graphsim.Options{}, fmt.Errorf("--latency %v: want a non-negative duration, e.g. 50ms", f.latency)
	}
	if f.jitter < 0 {
		return graphsim.Options{}, fmt.Errorf("--jitter %v: want a non-negative duration, e.g. 100ms", f.jitter)
	}
	opts := graphsim.Options{
		StatePath: f.state, SeedPath: f.seed, Token: f.token, Logger: a.log, AutosaveInterval: time.Second,
		Latency: f.latency, LatencyJitter: f.jitter,
		Faults: graphsim.Faults{
			Seed:          f.faultSeed,
			ServerErrors:  f.faultRate,
			DropRequests:  f.dropRate / 2,
			DropResponses: f.dropRate / 2,
		},
	}
	if f.throttle {
		opts.Throttle = &graphsim.Throttle{} // Graph's limits, sized by tenant
	}
	return opts, nil
}

func (a *app) sandboxCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "The sandbox tenant: a local Microsoft Graph emulator",
	}
	var f sandboxServeFlags
	serve := &cobra.Command{
		Use:   "serve",
		Short: "Serve the sandbox tenant over HTTP until interrupted",
		Long: `serve runs the Graph emulator standalone, backed by a JSON state file, so any Graph
client (hrsync with target.type entra and auth access_token, curl, scripts) can use it.
State is saved shortly after each change and on exit.

It can also behave like a busy or flaky Graph, to see how a client copes:

  --throttle        enforce Graph's identity throttling per app and tenant: 3,500 / 5,000 /
                    8,000 resource units per 10 s (tenants under 50 / 50-500 / over 500 users)
                    and 3,000 writes per 150 s. Over the limit requests get 429 with
                    Retry-After (in $batch: 429 items inside a 200 response).
  --latency 80ms    add this delay to every request.
  --jitter 40ms     add a random 0..40ms more to each request (a $batch waits for the slowest
                    of its items' draws, as Graph runs them side by side).
  --fault-rate 0.05 answer this share of requests and $batch items 503 or 504 before
                    handling them (nothing changes).
  --drop-rate 0.02  close the connection of this share of requests without an answer: half
                    before handling them, half after (the write happened, the response is
                    lost, so a client that blindly retries a create makes a duplicate).
  --fault-seed N    seed of the fault decisions: the same seed and the same order of requests
                    give the same faults.
  --stats           print request counters (by route, status, throttled, faults, writes,
                    resource units) to stderr when the server stops.`,
		Example: `  hrsync sandbox serve --state tenant.json
  hrsync sandbox serve --state tenant.json --throttle --latency 50ms --fault-rate 0.02 --stats`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.serveSandbox(cmd.Context(), &f)
		},
	}
	fl := serve.Flags()
	fl.StringVar(&f.state, "state", "", "JSON state file of the tenant (created if missing)")
	fl.StringVar(&f.seed, "seed", "", "JSON state to start from when --state does not exist yet")
	fl.StringVar(&f.listen, "listen", "127.0.0.1:8080", "address to listen on (loopback only is wise)")
	fl.StringVar(&f.token, "token", "", "require this bearer token (default: any non-empty token)")
	fl.BoolVar(&f.stats, "stats", false, "print request counters to stderr when the server stops")
	fl.BoolVar(&f.throttle, "throttle", false, "enforce Graph's identity throttling limits (429 with Retry-After)")
	fl.DurationVar(&f.latency, "latency", 0, "delay added to every request, e.g. 50ms")
	fl.DurationVar(&f.jitter, "jitter", 0, "random extra delay of up to this much per request, e.g. 40ms")
	fl.Float64Var(&f.faultRate, "fault-rate", 0, "share of requests and $batch items answered 503/504 (0-1)")
	fl.Float64Var(&f.dropRate, "drop-rate", 0, "share of requests whose connection is dropped, half before and half after handling (0-1)")
	fl.Uint64Var(&f.faultSeed, "fault-seed", 0, "seed of the fault decisions (0: a fixed default)")
	cmd.AddCommand(serve)
	return cmd
}

// serveSandbox runs the sandbox tenant's server as f says until SIGINT or
// SIGTERM, then saves its state (and prints its counters with --stats).
func (a *app) serveSandbox(ctx context.Context, f *sandboxServeFlags) error {
	opts, err := f.options(a)
	if err != nil {
		return err
	}
	srv, err := graphsim.New(opts)
	if err != nil {
		return err
	}
	base, err := srv.Start(f.listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", f.listen, err)
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	fmt.Fprintf(a.ios.ErrOut, "Sandbox tenant serving Microsoft Graph at %s/v1.0 (state %s). Ctrl-C stops it.\n", base, f.state)
	fmt.Fprintf(a.ios.ErrOut, "Point hrsync at it with target.type: entra, target.graph_url: %s, target.auth: access_token and HRSYNC_ACCESS_TOKEN set to %s.\n",
		base, tokenHint(f.token))
	if mode := behaviour(f); mode != "" {
		fmt.Fprintf(a.ios.ErrOut, "Behaving like a troubled Graph: %s.\n", mode)
	}
	<-ctx.Done()
	shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	closeErr := srv.Close(shut)
	if f.stats {
		fmt.Fprintln(a.ios.ErrOut, "\nRequest counters:")
		if err := srv.Stats().WriteText(a.ios.ErrOut); err != nil {
			return fmt.Errorf("print stats: %w", err)
		}
	}
	if closeErr != nil {
		return fmt.Errorf("save sandbox state: %w", closeErr)
	}
	fmt.Fprintln(a.ios.ErrOut, "Sandbox stopped; state saved.")
	return nil
}

// behaviour describes the enabled throttling and faults ("" for none).
func behaviour(f *sandboxServeFlags) string {
	var parts []string
	if f.throttle {
		parts = append(parts, "throttling on")
	}
	if f.latency > 0 || f.jitter > 0 {
		l := fmt.Sprintf("latency %v", f.latency)
		if f.jitter > 0 {
			l += fmt.Sprintf(" + up to %v jitter", f.jitter)
		}
		parts = append(parts, l)
	}
	if f.faultRate > 0 {
		parts = append(parts, fmt.Sprintf("%g of requests fail with 503/504", f.faultRate))
	}
	if f.dropRate > 0 {
		parts = append(parts, fmt.Sprintf("%g of connections dropped", f.dropRate))
	}
	if len(parts) > 0 && (f.faultRate > 0 || f.dropRate > 0) {
		parts = append(parts, fmt.Sprintf("fault seed %d", f.faultSeed))
	}
	return strings.Join(parts, ", ")
}

func tokenHint(token string) string {
	if token == "" {
		return "any value"
	}
	return "the --token value"
}
