package main

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// header says how the results were produced.
type header struct {
	Command string
	Started time.Time
	Hrsync  string // hrsync version
	Bin     string
	Work    string
	Seed    uint64
}

// writeMarkdown renders the results.
func writeMarkdown(w io.Writer, h header, results []*result) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	p("# hrsync benchmark\n\n")
	p("Produced by `%s` on %s.\n\n", h.Command, h.Started.UTC().Format("2006-01-02 15:04 MST"))
	p("- Machine: %d CPUs%s, %s/%s, %s; `%s`.\n", runtime.NumCPU(), cpuModel(), runtime.GOOS, runtime.GOARCH,
		runtime.Version(), h.Hrsync)
	p("- Each N: a synthetic workforce (seed %d) written as workers.csv, a tenant seed loaded into graphsim in the harness "+
		"process and served over loopback HTTP, and the hrsync binary run as a child process "+
		"(`plan -c hrsync.yaml --out plan.json`; with -apply `apply plan.json --auto-approve --allow-over-thresholds`, "+
		"then `plan` again). Wall times are the child's, start to exit; peak RSS is the child's ru_maxrss, the child "+
		"being started by a small spawner process so that it does not inherit the harness's peak (Go forks with "+
		"CLONE_VM; the spawner's own peak, %s MiB, is the floor of every figure).\n", h.Seed, mibText(spawnerFloor(results)))
	p("- Request counts come from graphsim's counters. Minimum list requests: ⌈users/999⌉ pages of `GET /users` without " +
		"`$expand`; the mapping maps the manager, and Graph caps pages with `$expand=manager` at 100 users, hence " +
		"⌈users/100⌉; delta pages hold 200 users, hence ⌈users/200⌉. Minimum `$batch` requests: ⌈writes/20⌉, where " +
		"writes is the fewest the plan needs (a create or patch per action, plus a manager reference where it changes).\n\n")

	var drift, throttled []*result
	for _, r := range results {
		if r.Sc.Throttle != nil && !r.Sc.Limits {
			throttled = append(throttled, r)
		} else {
			drift = append(drift, r)
		}
	}
	if len(drift) > 0 {
		p("## Plan and apply (no throttling)\n\n")
		p("Drift: %s.\n\n", driftText(drift[0]))
		p("| N | users in tenant | plan wall s | plan peak RSS MiB | list requests (min 999 / $expand 100 / delta 200) | apply wall s | apply peak RSS MiB | $batch requests (min) | writes (in $batch / single) | 429s | converged |\n")
		p("|---:|---:|---:|---:|---|---:|---:|---|---|---:|---|\n")
		for _, r := range drift {
			p("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", num(r.Sc.Opts.N), num(r.SeedUsers),
				wall(r.Plan), rss(r.Plan), listCell(r), wall(r.Apply), rss(r.Apply), batchCell(r), writesCell(r),
				throttledCell(r), convergedCell(r))
		}
		p("\n")
	}
	if len(drift) > 0 && (drift[0].Sc.Latency > 0 || drift[0].Sc.Jitter > 0) {
		p("## Plans at Graph's latency\n\n")
		p("graphsim delays every request by %v plus a random 0–%v (a `$batch` waits for the slowest of its items' draws). "+
			"Sequential floor: the plan's top-level requests one after another, each a round trip of the base latency. "+
			"Delta floor: today's read, ⌈users/200⌉ delta pages in sequence. Budget floor: the resource units graphsim charged "+
			"the plan at Graph's rate for the tenant's size (%s per 10 s over 500 users).\n\n", drift[0].Sc.Latency, drift[0].Sc.Jitter, num(8000))
		if drift[0].Sc.Limits {
			p("graphsim enforces Graph's identity limits (-graph-limits): resource units by tenant size per 10 s, and writes.\n\n")
		}
		p("| N | step | wall s | top-level requests | sequential floor s | delta floor s | resource units | budget floor s | wall ÷ budget floor | user pages (top-level / in $batch) |\n")
		p("|---:|---|---:|---:|---:|---:|---:|---:|---:|---|\n")
		for _, r := range drift {
			for _, st := range []struct {
				name string
				run  *childRun
				t    traffic
			}{{"plan", r.Plan, r.PlanTraffic}, {"second plan", r.Replan, r.ReplanTraffic}} {
				if st.run == nil {
					continue
				}
				lat := r.Sc.Latency.Seconds()
				budget := float64(st.t.ResourceU) / (float64(ruLimit(r.SeedUsers)) / 10)
				ratio := "—"
				if budget > 0 {
					ratio = fmt.Sprintf("%.1f", st.run.Wall.Seconds()/budget)
				}
				p("| %s | %s | %.2f | %s | %.1f | %.1f | %s | %.2f | %s | %s / %s |\n", num(r.Sc.Opts.N), st.name, st.run.Wall.Seconds(),
					num64(st.t.TopLevel), float64(st.t.TopLevel)*lat, float64(ceilDiv(int64(r.SeedUsers), 200))*lat,
					num64(st.t.ResourceU), budget, ratio, num64(st.t.Reads()), num64(st.t.ListItems))
			}
		}
		p("\n")
	}
	if len(throttled) > 0 {
		p("## Apply under Graph's write throttling\n\n")
		p("graphsim enforces Graph's identity limits (token buckets): resource units by tenant size per 10 s, and " +
			"writes: a burst of B after which they refill at 20/s (Graph: B = 3,000 per 150 s). Allowed writes in the " +
			"apply's wall time t: min(writes, B + 20·t); ideal wall: the least time those writes can take, (writes − B)/20 s. " +
			"Sustained: graphsim's writes per second from the moment B writes were done to the last write (its counters " +
			"sampled every 250 ms), against the refill rate. 429s: throttled answers during apply per write sent.\n\n")
		p("| N | changes | writes done of sent (min) | apply wall s | writes/s | allowed in t | ideal wall s | sustained after the burst | $batch requests (min) | 429s (per write sent) | throttle | converged |\n")
		p("|---:|---:|---|---:|---:|---:|---:|---|---|---|---|---|\n")
		for _, r := range throttled {
			p("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", num(r.Sc.Opts.N), changes(r),
				throttleWrites(r), wall(r.Apply), writeRate(r), allowed(r), idealWall(r), sustainedCell(r), batchCell(r),
				throttleShare(r), throttleText(&r.Sc), convergedCell(r))
		}
		p("\n")
	}
	p("## Details\n\n")
	for _, r := range results {
		details(p, r)
	}
	p("Work folder: `%s` (hrsync binary `%s`).\n", h.Work, h.Bin)
	return bw.Flush()
}

// spawnerFloor is the largest spawner peak RSS any child reported.
func spawnerFloor(results []*result) int64 {
	var f int64
	for _, r := range results {
		for _, c := range []*childRun{r.Plan, r.Apply, r.Replan} {
			if c != nil {
				f = max(f, c.Floor)
			}
		}
	}
	return f
}

func details(p func(string, ...any), r *result) {
	s, g := &r.Sc, r.Gen
	p("### %s\n\n", s.Name)
	if r.Err != nil {
		p("**Failed:** %s\n\n", strings.ReplaceAll(r.Err.Error(), "\n", "\n> "))
	}
	p("- Data: %s workers (%s inactive, %s managers, %d levels); tenant %s users (%s managed, %d without employeeId); "+
		"%s joiners, %s movers (%s with another manager), %s leavers. Generated in %.1f s; graphsim loaded the seed in %.1f s.\n",
		num(g.Workers), num(g.Inactive), num(g.Managers), g.Depth, num(g.TenantUsers), num(g.Managed), g.Admins,
		num(g.Joiners), num(g.Movers), num(g.ManagerMoves), num(g.Leavers), r.GenWall.Seconds(), r.LoadWall.Seconds())
	if s.Throttle != nil {
		p("- Throttle: %s.\n", throttleText(s))
	}
	if r.PlanInfo != nil {
		pi := r.PlanInfo
		create, update, disable := g.Expected()
		p("- Plan: %s create, %s update, %s disable, %s enable, %s unchanged, %s skipped; expected %s / %s / %s%s. %s.\n",
			num(pi.Summary.Create), num(pi.Summary.Update), num(pi.Summary.Disable), num(pi.Summary.Enable),
			num(pi.Summary.Unchanged), num(pi.Summary.Skipped), num(create), num(update), num(disable),
			warningsText(pi.Warnings), runText(r.Plan))
	}
	if r.Report != nil {
		rep := r.Report
		p("- Apply: %s done, %s failed, %s partial, %s refused, %s not started. %s.", num(rep.Done), num(rep.Failed),
			num(rep.Partial), num(rep.Refused), num(rep.NotStarted), runText(r.Apply))
		if len(rep.Errors) > 0 {
			p(" Errors by code: %s; first: %s.", countsText(rep.Errors), strings.Join(rep.FirstErrors, "; "))
		}
		p("\n")
	}
	if r.ReplanInfo != nil {
		p("- Second plan: %s changes. %s.\n", num(r.ReplanInfo.Changes()), runText(r.Replan))
	}
	if r.Tenant != nil {
		verdict := "PASS"
		if !r.Tenant.OK() {
			verdict = "FAIL"
		}
		p("- Tenant after apply: %s — %s.\n", r.Tenant, verdict)
	}
	p("- Harness peak RSS so far (generator, graphsim and its tenant): %s MiB.\n\n", mibText(r.HarnessRSS))
	type step struct {
		name string
		t    traffic
	}
	var steps []step
	if r.Plan != nil {
		steps = append(steps, step{"plan", r.PlanTraffic})
	}
	if r.Apply != nil {
		steps = append(steps, step{"apply", r.ApplyTraffic})
	}
	if r.Replan != nil {
		steps = append(steps, step{"second plan", r.ReplanTraffic})
	}
	if len(steps) == 0 {
		return
	}
	p("| step | route | requests | $batch items |\n|---|---|---:|---:|\n")
	for _, st := range steps {
		for _, route := range st.t.routes() {
			p("| %s | `%s` | %s | %s |\n", st.name, route, num64(st.t.Requests[route]), num64(st.t.BatchItems[route]))
		}
		codes := slices.Sorted(maps.Keys(st.t.Statuses))
		for c := range st.t.BatchStatuses {
			if _, ok := st.t.Statuses[c]; !ok {
				codes = append(codes, c)
			}
		}
		slices.Sort(codes)
		var parts []string
		for _, c := range codes {
			parts = append(parts, fmt.Sprintf("%d: %s / %s", c, num64(st.t.Statuses[c]), num64(st.t.BatchStatuses[c])))
		}
		p("| %s | statuses (requests / items) | %s | |\n", st.name, strings.Join(parts, ", "))
		if st.t.ResourceU > 0 {
			p("| %s | resource units charged | %s | |\n", st.name, num64(st.t.ResourceU))
		}
	}
	p("\n")
}

// ruLimit is Graph's resource units per 10 s for a tenant of n users.
func ruLimit(users int) int {
	switch {
	case users < 50:
		return 3500
	case users <= 500:
		return 5000
	}
	return 8000
}

func driftText(r *result) string {
	o := r.Sc.Opts
	return fmt.Sprintf("%s movers (%s of them also with another manager), %s leavers, %s joiners, %s inactive workers, %d accounts without employeeId",
		pct(o.Movers), pct(o.ManagerMoves), pct(o.Leavers), pct(o.Joiners), pct(o.Inactive), o.Admins)
}

func throttleText(s *scenario) string {
	burst, rate := s.writeLimit()
	ru := "resource units sized by tenant"
	if s.Throttle.ResourceUnits > 0 {
		ru = fmt.Sprintf("%d resource units per %v", s.Throttle.ResourceUnits, s.Throttle.Window)
	}
	text := fmt.Sprintf("writes: burst %s, %.0f/s (%s per %v); %s", num(int(burst)), rate, num(int(burst)),
		time.Duration(burst/rate*float64(time.Second)).Round(time.Second), ru)
	switch {
	case s.LimitFlag:
		text += " (-write-limit)"
	case s.Scale != 1:
		text += fmt.Sprintf("; scaled down ×%g from Graph's 3,000 per 150 s (-throttle-scale)", s.Scale)
	}
	return text
}

func listCell(r *result) string {
	if r.Plan == nil {
		return "—"
	}
	t, u := r.PlanTraffic, int64(r.SeedUsers)
	cell := fmt.Sprintf("%s (min %s / %s / %s)", num64(t.Reads()), num64(ceilDiv(u, 999)), num64(ceilDiv(u, 100)), num64(ceilDiv(u, 200)))
	if t.DeltaPages > 0 {
		cell += fmt.Sprintf(" [%s list, %s delta]", num64(t.ListPages), num64(t.DeltaPages))
	}
	if t.ListItems > 0 {
		cell += fmt.Sprintf(" + %s pages in %s `$batch`", num64(t.ListItems), num64(t.Batches))
	}
	if t.Other > 0 {
		cell += fmt.Sprintf(" +%s other", num64(t.Other))
	}
	return cell
}

func batchCell(r *result) string {
	if r.Apply == nil || r.PlanInfo == nil {
		return "—"
	}
	return fmt.Sprintf("%s (%s)", num64(r.ApplyTraffic.Batches), num64(ceilDiv(r.PlanInfo.MinWrites, 20)))
}

func writesCell(r *result) string {
	if r.Apply == nil {
		return "—"
	}
	t := r.ApplyTraffic
	cell := fmt.Sprintf("%s (%s / %s)", num64(t.Writes()), num64(t.ItemWrites), num64(t.SingleWrites))
	if r.PlanInfo != nil {
		cell += fmt.Sprintf(", min %s", num64(r.PlanInfo.MinWrites))
	}
	return cell
}

func throttledCell(r *result) string {
	n := r.PlanTraffic.Throttled + r.ApplyTraffic.Throttled + r.ReplanTraffic.Throttled
	return num64(n)
}

func convergedCell(r *result) string {
	switch {
	case r.Err != nil && r.Apply == nil && r.Sc.Apply:
		return "FAIL (error)"
	case !r.Sc.Apply:
		return "— (plan only)"
	case r.Converged():
		return fmt.Sprintf("PASS (0 changes; %s users)", num(r.Tenant.Users))
	}
	var why []string
	if r.Apply != nil && r.Apply.Code != 0 {
		why = append(why, fmt.Sprintf("apply exit %d", r.Apply.Code))
	}
	if r.Report != nil && r.Report.Incomplete() > 0 {
		why = append(why, fmt.Sprintf("%s actions incomplete", num(r.Report.Incomplete())))
	}
	if r.ReplanInfo != nil && r.ReplanInfo.Changes() > 0 {
		why = append(why, fmt.Sprintf("%s changes left", num(r.ReplanInfo.Changes())))
	}
	if r.Tenant != nil && !r.Tenant.OK() {
		why = append(why, r.Tenant.String())
	}
	if r.Err != nil {
		why = append(why, "error")
	}
	return "FAIL (" + strings.Join(why, "; ") + ")"
}

func changes(r *result) string {
	if r.PlanInfo == nil {
		return "—"
	}
	return num(r.PlanInfo.Changes())
}

// throttleWrites is the writes carried out, those sent (429s included),
// and the plan's minimum.
func throttleWrites(r *result) string {
	if r.Apply == nil || r.PlanInfo == nil {
		return "—"
	}
	t := r.ApplyTraffic
	return fmt.Sprintf("%s done of %s sent (%s)", num64(t.Writes2xx), num64(t.Writes()), num64(r.PlanInfo.MinWrites))
}

func writeRate(r *result) string {
	if r.Apply == nil || r.Apply.Wall <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f", float64(r.ApplyTraffic.Writes2xx)/r.Apply.Wall.Seconds())
}

func allowed(r *result) string {
	if r.Apply == nil {
		return "—"
	}
	burst, rate := r.Sc.writeLimit()
	done := float64(r.ApplyTraffic.Writes2xx)
	a := math.Min(done, burst+rate*r.Apply.Wall.Seconds())
	return fmt.Sprintf("%s (%.0f%% used)", num(int(a)), 100*done/math.Max(a, 1))
}

// sustainedCell is the write rate after the burst, and its share of the
// refill rate.
func sustainedCell(r *result) string {
	burst, rate := r.Sc.writeLimit()
	got, span, ok := sustainedWrites(r.ApplyWrites, burst)
	if !ok {
		return "—"
	}
	return fmt.Sprintf("%.2f/s over %.0f s (%.1f%%)", got, span.Seconds(), 100*got/rate)
}

// throttleShare is the apply's 429s, and their share of the writes sent.
func throttleShare(r *result) string {
	if r.Apply == nil {
		return "—"
	}
	t := r.ApplyTraffic
	if t.Writes() == 0 {
		return num64(t.Throttled)
	}
	return fmt.Sprintf("%s (%.1f%%)", num64(t.Throttled), 100*float64(t.Throttled)/float64(t.Writes()))
}

func idealWall(r *result) string {
	if r.Apply == nil {
		return "—"
	}
	burst, rate := r.Sc.writeLimit()
	return fmt.Sprintf("%.0f", math.Max(0, float64(r.ApplyTraffic.Writes2xx)-burst)/rate)
}

func warningsText(w map[string]int) string {
	if len(w) == 0 {
		return "; no warnings"
	}
	return "; warnings " + countsText(w)
}

func countsText(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s ×%s", k, num(m[k])))
	}
	return strings.Join(parts, ", ")
}

func runText(r *childRun) string {
	if r == nil {
		return ""
	}
	return fmt.Sprintf("Wall %.2f s, peak RSS %s MiB, exit %d", r.Wall.Seconds(), mibText(r.PeakRSS), r.Code)
}

func wall(r *childRun) string {
	if r == nil {
		return "—"
	}
	return fmt.Sprintf("%.2f", r.Wall.Seconds())
}

func rss(r *childRun) string {
	if r == nil {
		return "—"
	}
	return mibText(r.PeakRSS)
}

func mibText(b int64) string {
	if b <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f", float64(b)/(1<<20))
}

func pct(f float64) string { return strconv.FormatFloat(100*f, 'f', -1, 64) + "%" }

func num(n int) string { return num64(int64(n)) }

// num64 renders n with thousands separators.
func num64(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// cpuModel is ", <model name>" from /proc/cpuinfo where there is one.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return " (" + strings.TrimSpace(v) + ")"
		}
	}
	return ""
}
