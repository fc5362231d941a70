package entra

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hrsync/hrsync/internal/directory"
	"github.com/hrsync/hrsync/internal/graphsim"
	"github.com/hrsync/hrsync/internal/pacer"
)

func TestWriteLimited(t *testing.T) {
	h := func(kv ...string) http.Header {
		out := http.Header{}
		for i := 0; i+1 < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}
	tests := []struct {
		name  string
		hdr   http.Header
		write bool
		want  bool
	}{
		{"write limit named", h("x-ms-throttle-information", "WriteLimitExceeded"), true, true},
		{"write scope", h("x-ms-throttle-scope", "Tenant_Application/Write/app/tenant"), true, true},
		{"resource units named", h("x-ms-throttle-information", "ResourceUnitLimitExceeded",
			"x-ms-throttle-scope", "Tenant_Application/ReadWrite/app/tenant"), true, false},
		{"read/write scope", h("x-ms-throttle-scope", "Tenant_Application/ReadWrite/app/tenant"), true, false},
		{"a write, no limit named", h(), true, true},
		{"a read, no limit named", h(), false, false},
		{"a read, write limit named", h("x-ms-throttle-information", "WriteLimitExceeded"), false, false},
	}
	for _, tt := range tests {
		if got := writeLimited(tt.hdr, tt.write); got != tt.want {
			t.Errorf("%s: writeLimited = %v, want %v", tt.name, got, tt.want)
		}
	}
	for v, want := range map[string]float64{"": 0, "0.85": 0.85, " 1.2 ": 1.2, "abc": 0, "-1": 0} {
		if got := limitUsed(http.Header{"X-Ms-Throttle-Limit-Percentage": {v}}); got != want {
			t.Errorf("limitUsed(%q) = %v, want %v", v, got, want)
		}
	}
}

// graphsim's write throttle, with its clock the test's: the pacer's model
// of the write budget runs dry on graphsim's WriteLimitExceeded answers,
// not the AIMD limiter, and every user is created once.
func TestDoPacesWritesToTheWriteBudget(t *testing.T) {
	clock := &instantClock{t: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)}
	c, srv := startSimWith(t, graphsim.Options{SeedPath: simSeed(t, 1), Token: testToken, Now: clock.Now,
		Throttle: &graphsim.Throttle{Writes: 100, WriteWindow: 5 * time.Second}}, Options{Clock: clock})
	ops := createOps(400, 0)
	for i, o := range run(t, c, context.Background(), ops, directory.DoOptions{}) {
		if o.Err != nil {
			t.Fatalf("op %d: %v", i, o.Err)
		}
	}
	got := countByEmployeeID(srv)
	for _, op := range ops {
		if n := got[op.Attrs.Get("employeeId")]; n != 1 {
			t.Fatalf("%s exists %d times, want once", op.Attrs.Get("employeeId"), n)
		}
	}
	st := c.Pacer().Stats()
	t.Logf("pacer %+v; graphsim throttled %d", st, srv.Stats().Throttled)
	if st.WriteDrains == 0 && srv.Stats().Throttled > 0 {
		t.Errorf("graphsim throttled %d writes but the write budget never ran dry: %+v", srv.Stats().Throttled, st)
	}
	if st.Cuts != 0 || c.Pacer().Rate() != 0 {
		t.Errorf("the AIMD limiter was cut (%d cuts, rate %v) for the write budget's 429s", st.Cuts, c.Pacer().Rate())
	}
}

// Items throttled for resource units are the AIMD limiter's, not the
// write budget's.
func TestDoResourceUnitThrottlingIsNotTheWriteBudget(t *testing.T) {
	var n atomic.Int64 // graphsim runs a batch's items side by side
	icept := func(_ context.Context, call graphsim.Call) *graphsim.Fault {
		if !call.InBatch || call.Method != http.MethodPost {
			return nil
		}
		if n.Add(1)%4 != 0 {
			return nil
		}
		return &graphsim.Fault{Status: http.StatusTooManyRequests, Code: "Request_ThrottledTemporarily", Message: "throttled",
			Header: http.Header{"Retry-After": {"1"}, "x-ms-throttle-information": {"ResourceUnitLimitExceeded"},
				"x-ms-throttle-scope": {"Tenant_Application/ReadWrite/app/tenant"}}}
	}
	c, _, _ := simClient(t, 1, icept)
	for i, o := range run(t, c, context.Background(), createOps(40, 0), directory.DoOptions{}) {
		if o.Err != nil {
			t.Fatalf("op %d: %v", i, o.Err)
		}
	}
	st := c.Pacer().Stats()
	if st.Cuts == 0 || st.WriteDrains != 0 || st.WriteLimited != 0 {
		t.Errorf("resource-unit throttling: %+v; want AIMD cuts and no write budget drain", st)
	}
}

// The default pacer knows Graph's write budget.
func TestDefaultPacerHasGraphsWriteBudget(t *testing.T) {
	c, _, _ := simClient(t, 1, nil)
	if got, want := c.Pacer().WriteRate(), 0.98*GraphWriteBudget.Rate(); got != want {
		t.Errorf("write pace %v, want %v (Headroom × 3,000/150 s)", got, want)
	}
	if GraphWriteBudget != (pacer.Budget{Limit: 3000, Window: 150 * time.Second}) {
		t.Errorf("GraphWriteBudget = %+v", GraphWriteBudget)
	}
}
