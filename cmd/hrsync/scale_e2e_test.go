package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hrsync/hrsync/internal/graphsim"
)

const simToken = "e2e-sim-token"

// workforce writes n workers (worker 1 heads the company, each next one
// reports to an earlier one) with the example mapping and a config that
// targets a Graph endpoint at base, and returns the config's folder.
func workforce(t *testing.T, n int, base string) string {
	t.Helper()
	root := t.TempDir()
	copyFile(t, filepath.Join("..", "..", "mappings", "example.yaml"), filepath.Join(root, "mappings", "example.yaml"))
	dir := filepath.Join(root, "hr")
	var b strings.Builder
	b.WriteString("WorkerID,WorkerStatus,FirstName,LastName,Department,JobTitle,ManagerID,HireDate,Company,CountryCode\n")
	depts := []string{"Engineering", "Sales", "Finance", "Support"}
	for i := 1; i <= n; i++ {
		mgr := ""
		if i > 1 {
			mgr = fmt.Sprint(100000 + 1 + (i-2)/6)
		}
		fmt.Fprintf(&b, "%d,Active,Worker,N%05d,%s,Engineer,%s,2020-01-%02d,Contoso,GB\n", 100000+i, i, depts[i%len(depts)], mgr, 1+i%28)
	}
	copyBytes(t, filepath.Join(dir, "workers.csv"), b.String())
	cfg := fmt.Sprintf(`source:
  type: csv
  path: workers.csv
mapping: ../mappings/example.yaml
target:
  type: entra
  auth: access_token
  graph_url: %s
policy:
  max_leavers: 100000
  max_leavers_percent: 100
`, base)
	copyBytes(t, filepath.Join(dir, "hrsync.yaml"), cfg)
	return dir
}

func copyBytes(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

// startGraph runs graphsim in the test process with an empty contoso.com
// tenant.
func startGraph(t *testing.T, opts graphsim.Options) (*graphsim.Server, string) {
	t.Helper()
	opts.Domains = []string{"contoso.com"}
	opts.Token = simToken
	srv, err := graphsim.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	base, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
	})
	return srv, base
}

var simEnv = []string{"HRSYNC_ACCESS_TOKEN=" + simToken}

// byEmployeeID counts the tenant's users per employeeId.
func byEmployeeID(srv *graphsim.Server) map[string]int {
	m := map[string]int{}
	for _, u := range srv.Snapshot().Users {
		if u.EmployeeID != "" {
			m[u.EmployeeID]++
		}
	}
	return m
}

// Every change lands exactly once while Graph throttles hard, answers
// 503/504, drops requests and loses responses of writes it carried out.
func TestApplyConvergesUnderThrottlingAndFaults(t *testing.T) {
	const n = 200
	srv, base := startGraph(t, graphsim.Options{
		// A small throttle at Graph's write rate: 20 writes at once, then 20
		// a second. The first requests (several $batch of 20 writes in
		// flight) exceed it however many of them the faults drop, so the
		// run is throttled whatever the timing (a burst of 80 let runs
		// slowed by dropped requests pass without a 429).
		Throttle: &graphsim.Throttle{Writes: 20, WriteWindow: time.Second, ResourceUnits: 400, Window: time.Second},
		Faults:   graphsim.Faults{Seed: 11, ServerErrors: 0.05, DropRequests: 0.15, DropResponses: 0.15},
	})
	dir := workforce(t, n, base)
	plan := hrsync(t, dir, simEnv, "plan", "-c", "hrsync.yaml", "--out", "plan.json", "--detailed-exitcode")
	mustCode(t, plan, 2)
	apply := hrsync(t, dir, simEnv, "apply", "plan.json", "--auto-approve", "--report", "report.json", "--log-level", "info")
	mustCode(t, apply, 0)

	st := srv.Stats()
	t.Logf("requests %v; throttled %d; faults %v; writes %d", st.Requests, st.Throttled, st.Faults, st.Writes)
	if st.Throttled == 0 {
		t.Error("the throttle never answered 429: the test does not test throttling")
	}
	if st.Faults[graphsim.FaultDropResponse] == 0 || st.Faults[graphsim.FaultDropRequest] == 0 {
		t.Errorf("faults %v: want dropped requests and lost responses injected", st.Faults)
	}
	if !strings.Contains(apply.stderr, "graph throttled this run") {
		t.Errorf("the log does not say the run was throttled:\n%s", apply.stderr)
	}
	counts := byEmployeeID(srv)
	if len(counts) != n {
		t.Fatalf("tenant holds %d workers, want %d", len(counts), n)
	}
	for id, c := range counts {
		if c != 1 {
			t.Errorf("employeeId %s exists %d times", id, c)
		}
	}
	var rep struct {
		Done    int `json:"done"`
		Results []struct {
			Status string `json:"status"`
			Note   string `json:"note"`
		} `json:"results"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Done != n {
		t.Errorf("report: %d done, want %d", rep.Done, n)
	}
	// Creates whose response was lost come back as conflicts and are
	// adopted, never duplicated; the report says so.
	adopted := 0
	for _, r := range rep.Results {
		if strings.Contains(r.Note, "adopted") {
			adopted++
		}
	}
	t.Logf("%d creates adopted after a lost response", adopted)

	// Faults off: the next plan is empty.
	again := hrsync(t, dir, simEnv, "plan", "-c", "hrsync.yaml", "--detailed-exitcode")
	mustCode(t, again, 0)
}

// Unthrottled, writes go 20 to a $batch request, with at most one partial
// batch per phase; reads are the minimum the chosen strategy allows: a full
// read takes a sample of userPrincipalNames, a deltaLink and the pages of
// its partitions in $batch; the next plan, from the user cache, reads only
// the changes, 200 a delta page.
func TestApplyUsesFullBatches(t *testing.T) {
	const n = 230
	srv, base := startGraph(t, graphsim.Options{})
	dir := workforce(t, n, base)
	mustCode(t, hrsync(t, dir, simEnv, "plan", "-c", "hrsync.yaml", "--out", "plan.json"), 0)
	read := srv.Stats()
	// A deltaLink, then a $batch of samples (one per stratum of
	// userPrincipalNames), then a $batch with the one page of the one
	// partition an empty tenant needs.
	if d, s, b, p := read.Requests["GET /users/delta"], read.Requests["GET /users"], read.Requests["POST /$batch"], read.BatchItems["GET /users"]; d != 1 || s != 0 || b != 2 || p < 2 || p > 21 {
		t.Errorf("plan of an empty tenant: %d delta requests, %d single reads, %d $batch with %d pages and samples; want 1, 0, 2, 2-21", d, s, b, p)
	}
	mustCode(t, hrsync(t, dir, simEnv, "apply", "plan.json", "--auto-approve"), 0)
	st := srv.Stats()
	batches := st.Requests["POST /$batch"] - read.Requests["POST /$batch"]
	// 230 creates, then 229 manager references: ceil(230/20) + ceil(229/20),
	// and the stale recheck's read of the (empty) tenant: the samples and
	// one page.
	if want := int64(12 + 12 + 2); batches != want {
		t.Errorf("apply sent %d $batch requests, want %d", batches, want)
	}
	for route, c := range st.Requests {
		if route != "POST /$batch" && !strings.HasPrefix(route, "GET ") {
			t.Errorf("%d single %s requests: every write should go through $batch", c, route)
		}
	}
	mustCode(t, hrsync(t, dir, simEnv, "plan", "-c", "hrsync.yaml", "--detailed-exitcode"), 0)
	after := srv.Stats()
	if pages := after.Requests["GET /users/delta"] - st.Requests["GET /users/delta"]; pages != 2 {
		t.Errorf("plan of a %d-user tenant read %d delta pages, want ceil(%d/200) = 2", n, pages, n)
	}
}

// A write Graph refuses for good (4xx) is reported with Graph's code and
// message and never retried; everything else still lands.
func TestRefusedWriteIsReportedAndOthersLand(t *testing.T) {
	const n = 30
	var refusals atomic.Int64
	srv, base := startGraph(t, graphsim.Options{Interceptor: func(_ context.Context, c graphsim.Call) *graphsim.Fault {
		if c.InBatch && c.Route == "POST /users" && refusals.Load() == 0 {
			refusals.Add(1)
			return &graphsim.Fault{Status: http.StatusForbidden, Code: "Authorization_RequestDenied", Message: "Insufficient privileges to complete the operation."}
		}
		return nil
	}})
	dir := workforce(t, n, base)
	mustCode(t, hrsync(t, dir, simEnv, "plan", "-c", "hrsync.yaml", "--out", "plan.json"), 0)
	apply := hrsync(t, dir, simEnv, "apply", "plan.json", "--auto-approve", "--report", "report.csv")
	mustCode(t, apply, 3)
	data, err := os.ReadFile(filepath.Join(dir, "report.csv"))
	if err != nil {
		t.Fatal(err)
	}
	report := string(data)
	if !strings.Contains(report, "Authorization_RequestDenied") || !strings.Contains(report, "Insufficient privileges") {
		t.Errorf("report does not carry Graph's code and message:\n%s", report)
	}
	if got := srv.Stats().BatchItems["POST /users"]; got != n {
		t.Errorf("create items sent = %d, want %d: a 403 is final", got, n)
	}
	if got := len(byEmployeeID(srv)); got != n-1 {
		t.Errorf("tenant holds %d workers, want all but the refused one (%d)", got, n-1)
	}
	// Once the cause is fixed, a new plan and apply finish the job.
	mustCode(t, hrsync(t, dir, simEnv, "plan", "-c", "hrsync.yaml", "--out", "plan2.json", "--detailed-exitcode"), 2)
	mustCode(t, hrsync(t, dir, simEnv, "apply", "plan2.json", "--auto-approve"), 0)
	mustCode(t, hrsync(t, dir, simEnv, "plan", "-c", "hrsync.yaml", "--detailed-exitcode"), 0)
}
