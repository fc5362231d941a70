package entra

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hrsync/hrsync/internal/directory"
	"github.com/hrsync/hrsync/internal/graphsim"
	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/pacer"
)

// instantClock is a clock whose Sleep only advances virtual time, so
// retries after Retry-After run at once in tests while the pacer and the
// retry logic see the waits.
type instantClock struct {
	mu    sync.Mutex
	t     time.Time
	slept time.Duration
}

func (c *instantClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *instantClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if d > 0 {
		c.t = c.t.Add(d)
		c.slept += d
	}
	return nil
}

// simClient is newSim's client with an instant clock.
func simClient(t *testing.T, n int, icept graphsim.Interceptor) (*Client, *graphsim.Server, *instantClock) {
	t.Helper()
	clock := &instantClock{t: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)}
	c, srv := startSimWith(t, graphsim.Options{SeedPath: simSeed(t, n), Token: testToken, Interceptor: icept}, Options{Clock: clock})
	return c, srv, clock
}

func createOps(n int, offset int) []directory.Op {
	ops := make([]directory.Op, n)
	for i := range ops {
		k := offset + i
		ops[i] = directory.Op{Kind: directory.OpCreate, Password: "Initial-Passw0rd!x", Attrs: identity.AttrsOf(map[string]string{
			"displayName": fmt.Sprintf("New %d", k), "userPrincipalName": fmt.Sprintf("new%d@contoso.com", k),
			"mailNickname": fmt.Sprintf("new%d", k), "employeeId": fmt.Sprintf("n%05d", k), "department": "Ops",
		})}
	}
	return ops
}

// run calls Do and collects outcomes, failing on a second outcome for an op.
func run(t *testing.T, c *Client, ctx context.Context, ops []directory.Op, opts directory.DoOptions) []directory.Outcome {
	t.Helper()
	out := make([]directory.Outcome, len(ops))
	seen := make([]int32, len(ops))
	c.Do(ctx, ops, opts, func(i int, o directory.Outcome) {
		if atomic.AddInt32(&seen[i], 1) != 1 {
			t.Errorf("op %d got a second outcome", i)
		}
		out[i] = o
	})
	for i, n := range seen {
		if n != 1 {
			t.Fatalf("op %d got %d outcomes, want 1", i, n)
		}
	}
	return out
}

func countByEmployeeID(srv *graphsim.Server) map[string]int {
	m := map[string]int{}
	for _, u := range srv.Snapshot().Users {
		if u.EmployeeID != "" {
			m[u.EmployeeID]++
		}
	}
	return m
}

func TestDoBatchesTwentyAtATime(t *testing.T) {
	c, srv, _ := simClient(t, 3, nil)
	ops := createOps(45, 0)
	// the same batches carry updates, manager references and finds
	blank := ""
	ops = append(ops,
		directory.Op{Kind: directory.OpUpdate, UserID: "00000000-0000-0000-0000-000000000002", Set: map[string]*string{"department": nil, "jobTitle": &blank}},
		directory.Op{Kind: directory.OpSetManager, UserID: "00000000-0000-0000-0000-000000000003", ManagerID: "00000000-0000-0000-0000-000000000002"},
		directory.Op{Kind: directory.OpRemoveManager, UserID: "00000000-0000-0000-0000-000000000002"},
		directory.Op{Kind: directory.OpFind, Attr: "employeeId", Value: "k0001", Select: []string{"employeeId", "userPrincipalName"}},
	)
	before := srv.Stats()
	out := run(t, c, context.Background(), ops, directory.DoOptions{})
	for i, o := range out {
		if o.Err != nil {
			t.Fatalf("op %d: %v", i, o.Err)
		}
		if ops[i].Kind == directory.OpCreate && o.ID == "" {
			t.Fatalf("create %d: no id", i)
		}
	}
	if f := out[len(out)-1]; len(f.Users) != 1 || f.Users[0].Attrs.Get("userPrincipalName") != "u1@contoso.com" {
		t.Fatalf("find = %+v", f.Users)
	}
	after := srv.Stats()
	if got, want := after.Requests["POST /$batch"]-before.Requests["POST /$batch"], int64(3); got != want {
		t.Fatalf("POST /$batch requests = %d, want %d (ceil(49/20))", got, want)
	}
	if got := after.Total() - before.Total(); got != 3 {
		t.Fatalf("top-level requests = %d, want only the 3 batches", got)
	}
	st := srv.Snapshot()
	for _, u := range st.Users {
		switch u.ID {
		case "00000000-0000-0000-0000-000000000002":
			if u.Department != "" || u.JobTitle != "" || u.Manager != "" {
				t.Errorf("user 2 = dept %q title %q manager %q, want all cleared", u.Department, u.JobTitle, u.Manager)
			}
		case "00000000-0000-0000-0000-000000000003":
			if u.Manager != "00000000-0000-0000-0000-000000000002" {
				t.Errorf("user 3 manager = %q", u.Manager)
			}
		}
	}
	if n := len(countByEmployeeID(srv)); n != 3+45 {
		t.Fatalf("users with employeeId = %d, want 48", n)
	}
}

func TestDoRetriesOnlyThrottledItems(t *testing.T) {
	var calls atomic.Int64
	// Every third create item is throttled on its first two attempts.
	attempts := sync.Map{}
	icept := func(_ context.Context, call graphsim.Call) *graphsim.Fault {
		if !call.InBatch || call.Method != http.MethodPost {
			return nil
		}
		n := calls.Add(1)
		if n%3 != 0 {
			return nil
		}
		v, _ := attempts.LoadOrStore(n, 0)
		attempts.Store(n, v.(int)+1)
		return &graphsim.Fault{Status: http.StatusTooManyRequests, Code: "TooManyRequests", Message: "throttled",
			Header: http.Header{"Retry-After": []string{"2"}}}
	}
	c, srv, clock := simClient(t, 1, icept)
	ops := createOps(60, 0)
	before := srv.Stats()
	out := run(t, c, context.Background(), ops, directory.DoOptions{})
	for i, o := range out {
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
	after := srv.Stats()
	items := after.BatchItems["POST /users"] - before.BatchItems["POST /users"]
	if items <= 60 || items > 60+40 {
		t.Fatalf("create items sent = %d; want the 60 plus retries of the throttled ones only", items)
	}
	if clock.slept < 2*time.Second {
		t.Fatalf("slept %v, want at least the Retry-After of 2s", clock.slept)
	}
	// Throttled writes that name no limit are the write budget's: the
	// pacer's model of it ran dry.
	if st := c.Pacer().Stats(); st.Throttles == 0 || st.WriteDrains == 0 || st.WriteLimited == 0 {
		t.Fatalf("the pacer was not told about throttling: %+v", st)
	}
}

func TestDoHonoursWholeRequestThrottlingAndTransientErrors(t *testing.T) {
	var batchCalls atomic.Int64
	icept := func(_ context.Context, call graphsim.Call) *graphsim.Fault {
		if call.InBatch || call.Route != "POST /$batch" {
			return nil
		}
		switch batchCalls.Add(1) {
		case 1:
			return &graphsim.Fault{Status: http.StatusTooManyRequests, Code: "TooManyRequests", Message: "slow down"} // no Retry-After: backoff
		case 2:
			return &graphsim.Fault{Status: http.StatusServiceUnavailable, Code: "serviceNotAvailable", Message: "try later",
				Header: http.Header{"Retry-After": []string{"3"}}}
		}
		return nil
	}
	c, srv, clock := simClient(t, 1, icept)
	out := run(t, c, context.Background(), createOps(5, 0), directory.DoOptions{})
	for i, o := range out {
		if o.Err != nil {
			t.Fatalf("op %d: %v", i, o.Err)
		}
	}
	if n := batchCalls.Load(); n != 3 {
		t.Fatalf("batch sent %d times, want 3 (429, 503, then through)", n)
	}
	if clock.slept < 3*time.Second+500*time.Millisecond {
		t.Fatalf("slept %v, want a backoff of at least 0.5s plus the Retry-After of 3s", clock.slept)
	}
	if n := len(countByEmployeeID(srv)); n != 6 {
		t.Fatalf("users = %d, want 6", n)
	}
}

func TestDoReportsFinalErrorsWithGraphCodes(t *testing.T) {
	c, srv, _ := simClient(t, 2, nil)
	ops := createOps(2, 0)
	ops[1].Attrs.Set("userPrincipalName", "u1@contoso.com") // taken
	ops = append(ops, directory.Op{Kind: directory.OpUpdate, UserID: "no-such-user", Set: map[string]*string{"department": nil}})
	before := srv.Stats()
	out := run(t, c, context.Background(), ops, directory.DoOptions{})
	if out[0].Err != nil {
		t.Fatalf("op 0: %v", out[0].Err)
	}
	if !IsConflict(out[1].Err) {
		t.Fatalf("duplicate UPN: %v, want a conflict", out[1].Err)
	}
	var ge *GraphError
	if !errors.As(out[1].Err, &ge) || ge.Status != 400 || ge.DetailCode != "ObjectConflict" {
		t.Fatalf("duplicate UPN error = %#v", out[1].Err)
	}
	if !IsNotFound(out[2].Err) {
		t.Fatalf("missing user: %v, want not found", out[2].Err)
	}
	if got := srv.Stats().BatchItems["POST /users"] - before.BatchItems["POST /users"]; got != 2 {
		t.Fatalf("create items = %d, want 2 (4xx is final, never retried)", got)
	}
}

func TestDoStopsSendingWhenStopped(t *testing.T) {
	c, srv, _ := simClient(t, 1, nil)
	stop, cancel := context.WithCancel(context.Background())
	cancel()
	out := run(t, c, context.Background(), createOps(30, 0), directory.DoOptions{Stop: stop})
	for i, o := range out {
		if !errors.Is(o.Err, directory.ErrNotSent) {
			t.Fatalf("op %d: %v, want directory.ErrNotSent", i, o.Err)
		}
	}
	if n := len(countByEmployeeID(srv)); n != 1 {
		t.Fatalf("users = %d, want nothing created", n)
	}
}

func TestDoGivesUpOnPersistentTransientErrors(t *testing.T) {
	icept := func(_ context.Context, call graphsim.Call) *graphsim.Fault {
		if call.InBatch && call.Method == http.MethodPost {
			return &graphsim.Fault{Status: http.StatusServiceUnavailable, Code: "serviceNotAvailable", Message: "down"}
		}
		return nil
	}
	c, _, _ := simClient(t, 1, icept)
	out := run(t, c, context.Background(), createOps(3, 0), directory.DoOptions{})
	for i, o := range out {
		var ge *GraphError
		if !errors.As(o.Err, &ge) || ge.Status != 503 {
			t.Fatalf("op %d: %v, want the final 503", i, o.Err)
		}
	}
}

// An op waiting to be retried when the run stops may already have happened
// (a 504 can follow a write): it is reported as failed, not as never sent.
func TestDoStoppedWhileRetryingIsAFailure(t *testing.T) {
	stop, cancel := context.WithCancel(context.Background())
	icept := func(_ context.Context, call graphsim.Call) *graphsim.Fault {
		if call.InBatch && call.Method == http.MethodPost {
			cancel()
			return &graphsim.Fault{Status: http.StatusGatewayTimeout, Code: "serviceNotAvailable", Message: "timed out"}
		}
		return nil
	}
	c, _, _ := simClient(t, 1, icept)
	out := run(t, c, context.Background(), createOps(2, 0), directory.DoOptions{Stop: stop})
	for i, o := range out {
		var ge *GraphError
		if errors.Is(o.Err, directory.ErrNotSent) || !errors.As(o.Err, &ge) || ge.Status != http.StatusGatewayTimeout {
			t.Fatalf("op %d: %v, want the 504 it got", i, o.Err)
		}
	}
}

// deadlineClock records whether a retry wait ran under a deadline.
type deadlineClock struct {
	instantClock
	underDeadline atomic.Bool
}

func (c *deadlineClock) Sleep(ctx context.Context, d time.Duration) error {
	if _, ok := ctx.Deadline(); ok {
		c.underDeadline.Store(true)
	}
	return c.instantClock.Sleep(ctx, d)
}

// A throttling wait is bounded by the run, not by an HTTP client timeout:
// Graph's Retry-After can be minutes.
func TestThrottlingWaitsHaveNoClientDeadline(t *testing.T) {
	var calls atomic.Int64
	icept := func(_ context.Context, c graphsim.Call) *graphsim.Fault {
		if c.Route == "GET /users" && calls.Add(1) == 1 {
			return &graphsim.Fault{Status: http.StatusTooManyRequests, Code: "Request_ThrottledTemporarily", Message: "throttled",
				Header: http.Header{"Retry-After": []string{"150"}}}
		}
		return nil
	}
	clock := &deadlineClock{instantClock: instantClock{t: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)}}
	c, _ := startSimWith(t, graphsim.Options{SeedPath: simSeed(t, 3), Token: testToken, Interceptor: icept}, Options{Clock: clock, Timeout: time.Minute})
	users, err := c.ListUsers(context.Background(), attrs, false, nil)
	if err != nil || len(users) != 4 {
		t.Fatalf("users = %d, err %v", len(users), err)
	}
	if clock.slept < 150*time.Second {
		t.Fatalf("waited %v, want the Retry-After of 150s", clock.slept)
	}
	if clock.underDeadline.Load() {
		t.Fatal("the retry wait ran under a deadline (an HTTP client timeout would cut it short)")
	}
}

// blockingClock's Sleep waits for its context: a pacer pause that never
// ends by itself.
type blockingClock struct{ now time.Time }

func (c blockingClock) Now() time.Time { return c.now }
func (c blockingClock) Sleep(ctx context.Context, _ time.Duration) error {
	<-ctx.Done()
	return ctx.Err()
}

// Ctrl-C while batches wait for the pacer: nothing more is sent, and what
// was not sent is reported so.
func TestStopWhileWaitingForThePacerSendsNothing(t *testing.T) {
	clock := blockingClock{now: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)}
	p := pacer.New(pacer.Options{Clock: clock})
	p.Throttled(time.Hour)
	c, srv := startSimWith(t, graphsim.Options{SeedPath: simSeed(t, 1), Token: testToken}, Options{Clock: clock, Pacer: p})
	stop, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	out := run(t, c, context.Background(), createOps(30, 0), directory.DoOptions{Stop: stop})
	for i, o := range out {
		if !errors.Is(o.Err, directory.ErrNotSent) {
			t.Fatalf("op %d: %v, want directory.ErrNotSent", i, o.Err)
		}
	}
	if n := srv.Stats().Requests["POST /$batch"]; n != 0 {
		t.Fatalf("%d batches sent after the stop", n)
	}
}

// An item throttled (429) when the run stops was not carried out.
func TestStoppedWhileThrottledIsNotSent(t *testing.T) {
	stop, cancel := context.WithCancel(context.Background())
	icept := func(_ context.Context, call graphsim.Call) *graphsim.Fault {
		if call.InBatch && call.Method == http.MethodPost {
			cancel()
			return &graphsim.Fault{Status: http.StatusTooManyRequests, Code: "Request_ThrottledTemporarily", Message: "throttled",
				Header: http.Header{"Retry-After": []string{"5"}}}
		}
		return nil
	}
	c, _, _ := simClient(t, 1, icept)
	for i, o := range run(t, c, context.Background(), createOps(2, 0), directory.DoOptions{Stop: stop}) {
		if !errors.Is(o.Err, directory.ErrNotSent) {
			t.Fatalf("op %d: %v, want directory.ErrNotSent", i, o.Err)
		}
	}
}

func TestRevokeSessionsThroughBatch(t *testing.T) {
	c, srv, _ := simClient(t, 2, nil)
	const id = "00000000-0000-0000-0000-000000000002"
	o := run(t, c, context.Background(), []directory.Op{{Kind: directory.OpRevokeSessions, UserID: id}, {Kind: directory.OpRevokeSessions, UserID: "missing"}}, directory.DoOptions{})
	if o[0].Err != nil || !IsNotFound(o[1].Err) {
		t.Fatalf("outcomes = %+v", o)
	}
	for _, u := range srv.Snapshot().Users {
		if (u.ID == id) == u.SignInSessionsValidFromDateTime.IsZero() {
			t.Errorf("user %s sessions valid from %v", u.ID, u.SignInSessionsValidFromDateTime)
		}
	}
}
