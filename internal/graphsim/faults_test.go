package graphsim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hrsync/hrsync/internal/graphsim"
)

// rawDo sends one request with its own connection (no keep-alive, so the
// transport never retries a dropped request behind our back) and returns the
// status, or the transport error.
func rawDo(ctx context.Context, method, u, body string) (int, http.Header, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header, err
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// faultRun sends n GETs one after another and returns the outcome of each
// ("200", "503", "504", "drop").
func faultRun(t *testing.T, f graphsim.Faults, n int) ([]string, graphsim.Stats) {
	t.Helper()
	srv, base := startSim(t, graphsim.Options{Faults: f})
	out := make([]string, n)
	for i := range out {
		status, _, err := rawDo(context.Background(), http.MethodGet, base+"/v1.0/organization", "")
		if err != nil {
			out[i] = "drop"
			continue
		}
		out[i] = fmt.Sprint(status)
	}
	return out, srv.Stats()
}

func TestFaultsRepeatableAndProportional(t *testing.T) {
	const n = 400
	f := graphsim.Faults{Seed: 42, ServerErrors: 0.2, DropRequests: 0.05, DropResponses: 0.05}
	a, st := faultRun(t, f, n)
	b, _ := faultRun(t, f, n)
	if strings.Join(a, ",") != strings.Join(b, ",") {
		t.Error("the same seed and order of requests gave different faults")
	}
	f.Seed = 43
	c, _ := faultRun(t, f, n)
	if strings.Join(a, ",") == strings.Join(c, ",") {
		t.Error("another seed gave the same faults")
	}

	counts := map[string]int{}
	for _, o := range a {
		counts[o]++
	}
	// A request dropped before handling draws no server error, so the
	// expected shares are: drops 0.05 + 0.95*0.05, errors 0.95*0.95*0.2.
	within := func(name string, got int, want float64) {
		t.Helper()
		share := float64(got) / n
		if share < want*0.6 || share > want*1.4 {
			t.Errorf("%s: %d of %d (%.3f), want about %.3f", name, got, n, share, want)
		}
	}
	within("drops", counts["drop"], 0.05+0.95*0.05)
	within("server errors", counts["503"]+counts["504"], 0.95*0.95*0.2)
	if counts["503"] == 0 || counts["504"] == 0 {
		t.Errorf("want both 503 and 504: %v", counts)
	}
	// A server error whose response is then dropped is counted as both.
	seen := int64(counts["503"] + counts["504"])
	if got := st.Faults[graphsim.FaultServiceUnavailable] + st.Faults[graphsim.FaultGatewayTimeout]; got < seen ||
		got > seen+st.Faults[graphsim.FaultDropResponse] {
		t.Errorf("Stats.Faults server errors = %d, saw %d", got, seen)
	}
	if got := st.Faults[graphsim.FaultDropRequest] + st.Faults[graphsim.FaultDropResponse]; got != int64(counts["drop"]) {
		t.Errorf("Stats.Faults drops = %d, saw %d (%v)", got, counts["drop"], st.Faults)
	}
}

func TestFaultsServerErrorsRetryAfterAndBatchItems(t *testing.T) {
	srv, base := startSim(t, graphsim.Options{Faults: graphsim.Faults{Seed: 7, ServerErrors: 0.5}, KeepBatchOrder: true})
	withRetry, without := 0, 0
	for range 100 {
		status, hdr, err := rawDo(context.Background(), http.MethodGet, base+"/v1.0/organization", "")
		if err != nil {
			t.Fatal(err)
		}
		if status == 503 || status == 504 {
			if hdr.Get("Retry-After") == "1" {
				withRetry++
			} else {
				without++
			}
		}
	}
	if withRetry < 10 || without < 10 {
		t.Errorf("Retry-After on %d server errors, missing on %d; want about half", withRetry, without)
	}

	// $batch items fail one by one inside a 200 envelope; failed writes
	// change nothing.
	var items []map[string]any
	for i := range 20 {
		items = append(items, map[string]any{"id": fmt.Sprint(i), "method": "POST", "url": "/users",
			"headers": map[string]string{"Content-Type": "application/json"}, "body": userBody(upnN(i), nil)})
	}
	for attempt := 0; ; attempt++ {
		if attempt == 20 {
			t.Fatal("every $batch envelope failed")
		}
		r, res := postBatch(t, base, map[string]any{"requests": items})
		if r.status != 200 {
			continue // the envelope itself drew a server error
		}
		created := 0
		faulted := 0
		for _, it := range res {
			switch it.Status {
			case 201:
				created++
			case 503, 504:
				faulted++
			}
		}
		if faulted == 0 || created == 0 {
			t.Errorf("batch items: %d created, %d faulted", created, faulted)
		}
		if n := len(srv.Snapshot().Users); n != created {
			t.Errorf("%d users exist, %d items succeeded", n, created)
		}
		break
	}
}

func TestFaultsDropRequestChangesNothing(t *testing.T) {
	srv, base := startSim(t, graphsim.Options{Faults: graphsim.Faults{DropRequests: 1}})
	_, _, err := rawDo(context.Background(), http.MethodPost, base+"/v1.0/users", mustJSON(t, userBody("a@contoso.com", nil)))
	if err == nil {
		t.Fatal("a dropped request got a response")
	}
	if n := len(srv.Snapshot().Users); n != 0 {
		t.Errorf("a dropped request created %d users", n)
	}
	st := srv.Stats()
	if st.Faults[graphsim.FaultDropRequest] != 1 || st.Total() != 0 || st.Writes != 0 {
		t.Errorf("stats = %+v", st)
	}
}

func TestFaultsDropResponsePerformsTheWrite(t *testing.T) {
	srv, base := startSim(t, graphsim.Options{Faults: graphsim.Faults{DropResponses: 1}})
	_, _, err := rawDo(context.Background(), http.MethodPost, base+"/v1.0/users", mustJSON(t, userBody("a@contoso.com", nil)))
	if err == nil {
		t.Fatal("a dropped response arrived")
	}
	var uerr interface{ Timeout() bool }
	if errors.As(err, &uerr) && uerr.Timeout() {
		t.Errorf("want a connection error, got a timeout: %v", err)
	}
	if snap := srv.Snapshot(); len(snap.Users) != 1 || snap.Users[0].UserPrincipalName != "a@contoso.com" {
		t.Errorf("the write did not happen: %+v", snap.Users)
	}
	// A client that retries the create blindly makes a conflict (here: the
	// duplicate UPN is refused).
	st := srv.Stats()
	if st.Faults[graphsim.FaultDropResponse] != 1 || st.Writes != 1 || st.Statuses[201] != 1 {
		t.Errorf("stats = %+v", st)
	}

	// A $batch runs completely, then its response is lost.
	body := mustJSON(t, batchBody(
		map[string]any{"id": "1", "method": "POST", "url": "/users", "headers": map[string]string{"Content-Type": "application/json"},
			"body": userBody("b@contoso.com", nil)},
		map[string]any{"id": "2", "method": "POST", "url": "/users", "headers": map[string]string{"Content-Type": "application/json"},
			"body": userBody("c@contoso.com", nil)}))
	if _, _, err := rawDo(context.Background(), http.MethodPost, base+"/v1.0/$batch", body); err == nil {
		t.Fatal("a dropped $batch response arrived")
	}
	if n := len(srv.Snapshot().Users); n != 3 {
		t.Errorf("%d users after the dropped batch, want 3", n)
	}
}

func TestFaultsSlowAndLatency(t *testing.T) {
	srv, base := startSim(t, graphsim.Options{Latency: 20 * time.Millisecond, LatencyJitter: 10 * time.Millisecond,
		Faults: graphsim.Faults{Slow: 1, SlowBy: 30 * time.Millisecond}})
	start := time.Now()
	if status, _, err := rawDo(context.Background(), http.MethodGet, base+"/v1.0/organization", ""); err != nil || status != 200 {
		t.Fatalf("%d %v", status, err)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("request took %v, want at least 50ms", d)
	}
	if srv.Stats().Faults[graphsim.FaultSlow] != 1 {
		t.Errorf("faults = %v", srv.Stats().Faults)
	}
}

func TestLatencyHonoursContext(t *testing.T) {
	srv, base := startSim(t, graphsim.Options{Latency: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err := rawDo(ctx, http.MethodPost, base+"/v1.0/users", mustJSON(t, userBody("a@contoso.com", nil)))
	if err == nil {
		t.Fatal("no error")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	// Close (in cleanup) must not wait for the hour either; the write never
	// happens.
	deadline := time.Now().Add(2 * time.Second)
	for srv.Stats().Total() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := len(srv.Snapshot().Users); n != 0 {
		t.Errorf("%d users created by an abandoned request", n)
	}
}

func TestFaultsValidation(t *testing.T) {
	for _, f := range []graphsim.Faults{{ServerErrors: -0.1}, {DropRequests: 1.5}, {Slow: 0.5, SlowBy: -time.Second}} {
		if _, err := graphsim.New(graphsim.Options{Faults: f}); err == nil {
			t.Errorf("New accepted %+v", f)
		}
	}
}

func TestStatsCounters(t *testing.T) {
	srv, base := startSim(t, graphsim.Options{KeepBatchOrder: true, Throttle: &graphsim.Throttle{ResourceUnits: 6}})
	id := mustCreate(t, base, "a@contoso.com", nil)                                         // 1 unit, write
	call(t, http.MethodPatch, base+"/v1.0/users/"+id, map[string]any{"jobTitle": "X"}, nil) // 1 unit, write
	call(t, http.MethodGet, base+"/v1.0/users", nil, nil)                                   // 2 units
	call(t, http.MethodGet, base+"/v1.0/users/nobody@contoso.com", nil, nil)                // 1 unit, 404
	// 1 unit left: the batch's first item passes, the second is throttled.
	postBatch(t, base, batchBody(getItem("1", "/users/"+id), getItem("2", "/users/"+id)))
	st := srv.Stats()
	if st.Writes != 2 || st.ResourceUnits != 6 || st.Throttled != 1 || st.BatchStatuses[429] != 1 ||
		st.Requests["GET /users"] != 1 || st.Requests["POST /$batch"] != 1 || st.BatchItems["GET /users/{id}"] != 2 ||
		st.Statuses[404] != 1 {
		t.Errorf("stats = %+v", st)
	}
	var buf bytes.Buffer
	if err := st.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"GET /users/{id}", "POST /$batch", "throttled (429)", "writes (2xx)", "resource units", "429"} {
		if !strings.Contains(out, want) {
			t.Errorf("stats table lacks %q:\n%s", want, out)
		}
	}
	t.Logf("\n%s", out)
}
