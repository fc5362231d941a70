package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/hrsync/hrsync/internal/bench/workforce"
	"github.com/hrsync/hrsync/internal/graphsim"
)

// Graph's write limit per app and tenant, which graphsim's Throttle
// enforces by default: 3,000 writes per 150 s.
const (
	graphWrites      = 3000
	graphWriteWindow = 150 * time.Second
)

// scenario is one measured run: a data set, a tenant, and what to do.
type scenario struct {
	Name     string // folder and label
	Opts     workforce.Options
	Apply    bool               // also apply, re-plan and check the tenant
	Throttle *graphsim.Throttle // nil: graphsim does not throttle
	Scale    float64            // the throttle's write burst and window are divided by this
	Latency  time.Duration      // graphsim's delay per request
	Jitter   time.Duration      // graphsim's random extra delay per request
	PlanArgs []string           // extra arguments of every plan
	Limits   bool               // Throttle is -graph-limits on a drift scenario
	// LimitFlag says -write-limit set the throttle's write budget.
	LimitFlag bool
}

// writeLimit returns the throttle's write burst and steady rate (per s).
func (s *scenario) writeLimit() (burst float64, rate float64) {
	if s.Throttle == nil {
		return 0, 0
	}
	n, w := s.Throttle.Writes, s.Throttle.WriteWindow
	if n == 0 {
		n = graphWrites
	}
	if w == 0 {
		w = graphWriteWindow
	}
	return float64(n), float64(n) / w.Seconds()
}

// result is what one scenario measured. A scenario that failed part way
// keeps what it measured before, and Err.
type result struct {
	Sc        scenario
	Gen       workforce.Summary
	GenWall   time.Duration
	LoadWall  time.Duration // graphsim loading the seed
	SeedUsers int

	Plan        *childRun
	PlanTraffic traffic
	PlanInfo    *planInfo

	Apply        *childRun
	ApplyTraffic traffic
	ApplyWrites  []writeSample // graphsim's write counters during apply (throttled scenarios)
	Report       *applyReport

	Replan        *childRun
	ReplanTraffic traffic
	ReplanInfo    *planInfo

	Tenant     *tenantCheck
	HarnessRSS int64 // the harness's own peak RSS so far (graphsim included)
	Err        error
}

// Converged says apply did everything, the next plan is empty and the
// tenant holds exactly the users it should.
func (r *result) Converged() bool {
	return r.Apply != nil && r.Apply.Code == 0 && r.Report != nil && r.Report.Incomplete() == 0 &&
		r.ReplanInfo != nil && r.ReplanInfo.Changes() == 0 && r.Tenant != nil && r.Tenant.OK()
}

// env is what every scenario shares.
type env struct {
	work string   // work folder
	bin  string   // hrsync binary
	sp   *spawner // starts the hrsync children
	log  io.Writer
}

func (e *env) logf(format string, args ...any) {
	fmt.Fprintf(e.log, "%s  "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

// runScenario generates the data, serves the tenant from graphsim in this
// process and runs hrsync against it.
func (e *env) runScenario(ctx context.Context, sc scenario) (res *result) {
	res = &result{Sc: sc}
	defer func() {
		res.HarnessRSS = selfPeakRSS()
		// Give the next scenario (and its child) the memory back.
		runtime.GC()
		debug.FreeOSMemory()
	}()
	if err := e.scenarioSteps(ctx, sc, res); err != nil {
		res.Err = err
		e.logf("%s: FAILED: %v", sc.Name, err)
	}
	return res
}

func (e *env) scenarioSteps(ctx context.Context, sc scenario, res *result) (err error) {
	dir := filepath.Join(e.work, sc.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("scenario folder: %w", err)
	}

	e.logf("%s: generating %d workers", sc.Name, sc.Opts.N)
	start := time.Now()
	g, err := workforce.New(sc.Opts)
	if err != nil {
		return err
	}
	files, err := g.WriteFiles(ctx, dir)
	if err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	res.GenWall, res.Gen, res.SeedUsers = time.Since(start), g.Summary(), g.Summary().TenantUsers

	token, err := newToken()
	if err != nil {
		return err
	}
	e.logf("%s: loading %d users into graphsim", sc.Name, res.SeedUsers)
	start = time.Now()
	srv, err := graphsim.New(graphsim.Options{SeedPath: files.Seed, Token: token, Throttle: sc.Throttle,
		Latency: sc.Latency, LatencyJitter: sc.Jitter})
	if err != nil {
		return fmt.Errorf("graphsim: %w", err)
	}
	res.LoadWall = time.Since(start)
	base, err := srv.Start("127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("graphsim: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if cerr := srv.Close(cctx); cerr != nil && err == nil {
			err = fmt.Errorf("close graphsim: %w", cerr)
		}
	}()
	if err := writeConfig(filepath.Join(dir, "hrsync.yaml"), base); err != nil {
		return err
	}
	rn := &runner{sp: e.sp, bin: e.bin, dir: dir, token: token}

	e.logf("%s: hrsync plan", sc.Name)
	before := srv.Stats()
	if res.Plan, err = rn.hrsync(ctx, "plan", append([]string{"plan", "-c", "hrsync.yaml", "--out", "plan.json", "--detailed-exitcode"}, sc.PlanArgs...)...); err != nil {
		return err
	}
	res.PlanTraffic = diffStats(before, srv.Stats())
	if err := res.Plan.expect("plan", 0, 2); err != nil {
		return err
	}
	if res.PlanInfo, err = readPlan(filepath.Join(dir, "plan.json")); err != nil {
		return err
	}
	e.logf("%s: plan took %.1fs, %d changes", sc.Name, res.Plan.Wall.Seconds(), res.PlanInfo.Changes())
	if !sc.Apply {
		return nil
	}

	e.logf("%s: hrsync apply (%d actions, at least %d writes)", sc.Name, res.PlanInfo.Changes(), res.PlanInfo.MinWrites)
	before = srv.Stats()
	stopSampling := func() []writeSample { return nil }
	if sc.Throttle != nil {
		stopSampling = sampleWrites(srv, 250*time.Millisecond)
	}
	res.Apply, err = rn.hrsync(ctx, "apply", "apply", "-c", "hrsync.yaml", "plan.json", "--auto-approve",
		"--allow-over-thresholds", "--report", "apply-report.json")
	res.ApplyWrites = stopSampling()
	if err != nil {
		return err
	}
	res.ApplyTraffic = diffStats(before, srv.Stats())
	if err := res.Apply.expect("apply", 0, 3); err != nil {
		return err
	}
	if res.Report, err = readReport(filepath.Join(dir, "apply-report.json")); err != nil {
		return err
	}
	e.logf("%s: apply took %.1fs: %d done, %d incomplete", sc.Name, res.Apply.Wall.Seconds(), res.Report.Done, res.Report.Incomplete())

	e.logf("%s: hrsync plan again", sc.Name)
	before = srv.Stats()
	if res.Replan, err = rn.hrsync(ctx, "replan", append([]string{"plan", "-c", "hrsync.yaml", "--out", "replan.json", "--detailed-exitcode"}, sc.PlanArgs...)...); err != nil {
		return err
	}
	res.ReplanTraffic = diffStats(before, srv.Stats())
	if err := res.Replan.expect("second plan", 0, 2); err != nil {
		return err
	}
	if res.ReplanInfo, err = readPlan(filepath.Join(dir, "replan.json")); err != nil {
		return err
	}
	if res.Tenant, err = checkTenant(ctx, base, token, g); err != nil {
		return err
	}
	e.logf("%s: second plan: %d changes; tenant: %s", sc.Name, res.ReplanInfo.Changes(), res.Tenant)
	return nil
}

// writeConfig writes the scenario's hrsync.yaml: the generated export and
// mapping, Entra over loopback HTTP with a bearer token, no leaver limits
// (the drift disables 2% of the tenant, over the default thresholds).
func writeConfig(path, graphURL string) error {
	conf := fmt.Sprintf(`# Written by internal/bench.
source:
  type: csv
  path: %s
mapping: %s
target:
  type: entra
  auth: access_token          # HRSYNC_ACCESS_TOKEN, set by the harness
  graph_url: %s
policy:
  leavers: disable
  max_leavers: 0
  max_leavers_percent: 0
`, workforce.CSVFile, workforce.MappingFile, graphURL)
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return nil
}

// newToken makes the bearer token graphsim accepts for one scenario.
func newToken() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("make a token: %w", err)
	}
	return "bench-" + hex.EncodeToString(b), nil
}
