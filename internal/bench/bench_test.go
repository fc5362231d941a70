package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hrsync/hrsync/internal/graphsim"

	"github.com/hrsync/hrsync/internal/testenv"
)

func TestReadPlan(t *testing.T) {
	const planJSON = `{"format_version":"1","summary":{"create":1,"update":2,"disable":1,"enable":0,"delete":0,"unchanged":5,"skipped":0,"managed":9},
	"applyable":false,"blocked":["too many leavers"],
	"actions":[
	  {"action":"create","key":"1","changes":[{"attribute":"displayName","before":null,"after":"A"},{"attribute":"manager","before":null,"after":"2"}],"manager":{"key":"2","id":"x"}},
	  {"action":"update","key":"2","changes":[{"attribute":"manager","before":"3","after":"4"}],"manager":{"key":"4","id":"y"}},
	  {"action":"update","key":"3","changes":[{"attribute":"department","before":"a","after":"b"}]},
	  {"action":"disable","key":"5","changes":[{"attribute":"accountEnabled","before":"true","after":"false"}],"manager":null}
	],
	"warnings":[{"code":"cannot_clear","message":"m"},{"code":"cannot_clear","message":"n"},{"code":"possible_rekey","message":"o"}]}`
	path := filepath.Join(t.TempDir(), "plan.json")
	if err := os.WriteFile(path, []byte(planJSON), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := readPlan(path)
	if err != nil {
		t.Fatal(err)
	}
	if p.Changes() != 4 || p.Summary.Unchanged != 5 || p.Applyable || len(p.Blocked) != 1 {
		t.Errorf("summary %+v, applyable %v, blocked %v", p.Summary, p.Applyable, p.Blocked)
	}
	// create + its manager, a manager alone, a patch, a patch.
	if p.MinWrites != 5 {
		t.Errorf("MinWrites = %d, want 5", p.MinWrites)
	}
	if p.Warnings["cannot_clear"] != 2 || p.Warnings["possible_rekey"] != 1 {
		t.Errorf("warnings %v", p.Warnings)
	}
	if err := os.WriteFile(path, []byte(planJSON[:200]), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := readPlan(path); err == nil {
		t.Error("a truncated plan was read without error")
	}
}

func TestReadReport(t *testing.T) {
	const report = `{"started_at":"2026-01-01T00:00:00Z","done":2,"failed":1,"partial":0,"refused":1,"not_started":0,
	"results":[{"action":"create","key":"1","status":"done","attributes":[]},
	{"action":"update","key":"2","status":"failed","error_code":"Request_ResourceNotFound","error":"gone"},
	{"action":"update","key":"3","status":"refused","error":"stale"}]}`
	path := filepath.Join(t.TempDir(), "report.json")
	if err := os.WriteFile(path, []byte(report), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := readReport(path)
	if err != nil {
		t.Fatal(err)
	}
	if r.Done != 2 || r.Incomplete() != 2 || r.Errors["Request_ResourceNotFound"] != 1 || r.Errors["other"] != 1 || len(r.FirstErrors) != 2 {
		t.Errorf("report %+v", r)
	}
}

func TestDiffStats(t *testing.T) {
	before := graphsim.Stats{
		Requests:   map[string]int64{"GET /users": 3, "POST /$batch": 1},
		BatchItems: map[string]int64{"PATCH /users/{id}": 5},
		Statuses:   map[int]int64{200: 4}, BatchStatuses: map[int]int64{204: 5},
		Throttled: 1, Writes: 5,
	}
	after := graphsim.Stats{
		Requests: map[string]int64{"GET /users": 13, "POST /$batch": 4, "GET /organization": 1, "GET /users/delta": 2,
			"PATCH /users/{id}": 2, "PUT /users/{id}/manager/$ref": 1},
		BatchItems: map[string]int64{"PATCH /users/{id}": 40, "POST /users": 10, "GET /users/{id}": 3},
		Statuses:   map[int]int64{200: 20}, BatchStatuses: map[int]int64{204: 40, 429: 3},
		Throttled: 4, Writes: 50,
	}
	d := diffStats(before, after)
	for _, c := range []struct {
		name      string
		got, want int64
	}{
		{"list pages", d.ListPages, 10}, {"delta pages", d.DeltaPages, 2}, {"reads", d.Reads(), 12},
		{"batches", d.Batches, 3}, {"items", d.Items, 48}, {"item writes", d.ItemWrites, 45},
		{"single writes", d.SingleWrites, 3}, {"writes", d.Writes(), 48}, {"other", d.Other, 1},
		{"throttled", d.Throttled, 3}, {"writes 2xx", d.Writes2xx, 45},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	want := "GET /organization|GET /users|GET /users/delta|GET /users/{id}|PATCH /users/{id}|POST /$batch|POST /users|PUT /users/{id}/manager/$ref"
	if got := strings.Join(d.routes(), "|"); got != want {
		t.Errorf("routes %s, want %s", got, want)
	}
}

func TestCeilDiv(t *testing.T) {
	for _, c := range []struct{ a, b, want int64 }{{0, 999, 0}, {1, 999, 1}, {999, 999, 1}, {1000, 999, 2}, {98981, 100, 990}} {
		if got := ceilDiv(c.a, c.b); got != c.want {
			t.Errorf("ceilDiv(%d, %d) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestFlags(t *testing.T) {
	for _, c := range []struct {
		args  []string
		ok    bool
		sizes int
		scen  int
	}{
		{[]string{}, true, 3, 3},
		{[]string{"-n", "10000,100_000", "-apply"}, true, 2, 2},
		{[]string{"-n", "0", "-throttle", "-throttle-scale", "10"}, true, 0, 1},
		{[]string{"-n", "0"}, false, 0, 0},
		{[]string{"-n", "ten"}, false, 0, 0},
		{[]string{"-throttle", "-changes", "90000"}, false, 0, 0},
		{[]string{"-throttle-scale", "0"}, false, 0, 0},
		{[]string{"-n", "0", "-throttle", "-write-limit", "200/10s"}, true, 0, 1},
		{[]string{"-n", "0", "-throttle", "-write-limit", "200"}, false, 0, 0},
		{[]string{"-n", "0", "-throttle", "-write-limit", "200/10ms"}, false, 0, 0},
		{[]string{"-n", "0", "-throttle", "-write-limit", "200/10s", "-throttle-scale", "2"}, false, 0, 0},
		{[]string{"extra"}, false, 0, 0},
	} {
		o, err := parseFlags(c.args, io.Discard)
		if (err == nil) != c.ok {
			t.Errorf("%v: error %v", c.args, err)
			continue
		}
		if err != nil {
			continue
		}
		if len(o.sizes) != c.sizes || len(o.scenarios()) != c.scen {
			t.Errorf("%v: %d sizes, %d scenarios", c.args, len(o.sizes), len(o.scenarios()))
		}
	}
	o, err := parseFlags([]string{"-n", "0", "-throttle", "-throttle-scale", "10"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	sc := o.scenarios()[0]
	burst, rate := sc.writeLimit()
	if burst != 300 || rate != 20 || sc.Throttle.WriteWindow != 15*time.Second {
		t.Errorf("scaled throttle: burst %v, rate %v, window %v", burst, rate, sc.Throttle.WriteWindow)
	}
}

func TestWriteLimitFlag(t *testing.T) {
	o, err := parseFlags([]string{"-n", "0", "-throttle", "-write-limit", "200/10s"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	sc := o.scenarios()[0]
	if burst, rate := sc.writeLimit(); burst != 200 || rate != 20 || !strings.Contains(throttleText(&sc), "-write-limit") {
		t.Errorf("write limit: burst %v, rate %v, %q", burst, rate, throttleText(&sc))
	}
}

func TestSustainedWrites(t *testing.T) {
	s := func(ms int, w int64) writeSample {
		return writeSample{At: time.Duration(ms) * time.Millisecond, Writes: w}
	}
	// A burst of 200 done in half a second, then 19 writes/s for 10 s,
	// then nothing more while apply finishes.
	samples := []writeSample{s(250, 150), s(500, 200)}
	for i := 1; i <= 40; i++ {
		samples = append(samples, s(500+250*i, 200+int64(19*i/4)))
	}
	samples = append(samples, s(10750, 390), s(11000, 390))
	rate, span, ok := sustainedWrites(samples, 200)
	if !ok || span != 10*time.Second || rate < 18.9 || rate > 19.1 {
		t.Errorf("sustainedWrites = %v over %v (%v), want 19/s over 10s", rate, span, ok)
	}
	if _, _, ok := sustainedWrites(samples[:1], 200); ok {
		t.Error("an apply that never got past the burst has a sustained rate")
	}
}

func TestCommandLine(t *testing.T) {
	got := commandLine([]string{"-n", "10000", "-out", "my results.md", ""})
	if want := `go run ./internal/bench -n 10000 -out 'my results.md' ''`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestSpawner(t *testing.T) {
	sh := testenv.Program(t, "sh", "dash")
	dir := t.TempDir()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- runSpawner(inR, outW) }()
	enc, dec := json.NewEncoder(inW), json.NewDecoder(outR)
	req := spawnRequest{Bin: sh, Args: []string{"-c", "echo out; echo err >&2; exit 3"}, Dir: dir,
		Stdout: filepath.Join(dir, "x.out"), Stderr: filepath.Join(dir, "x.err")}
	if err := enc.Encode(req); err != nil {
		t.Fatal(err)
	}
	var res spawnResult
	if err := dec.Decode(&res); err != nil {
		t.Fatal(err)
	}
	if res.Code != 3 || res.Err != "" || res.Wall <= 0 {
		t.Errorf("result %+v", res)
	}
	if b, _ := os.ReadFile(req.Stdout); string(b) != "out\n" {
		t.Errorf("stdout %q", b)
	}
	// Closing the input kills a running child and ends the spawner.
	req.Args = []string{"-c", "sleep 30"}
	if err := enc.Encode(req); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	go func() { _ = dec.Decode(&res) }()
	time.Sleep(200 * time.Millisecond)
	inW.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the spawner did not stop")
	}
	if time.Since(start) > 10*time.Second {
		t.Error("the child was not killed")
	}
	outW.Close()
}
