package apply

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/hrsync/hrsync/internal/directory"
	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/plan"
	"github.com/hrsync/hrsync/internal/report"
)

// fakeDir is an in-memory directory recording every call in order.
type fakeDir struct {
	mu        sync.Mutex
	users     map[string]identity.Attrs // id -> attrs
	managers  map[string]string
	calls     []string
	failOn    map[string]error // "create <upn>" / "update <id>" / "manager <id>"
	passwords []string
	next      int
	// lag makes SetManager answer 404 this many times, as Entra does
	// while a new object replicates.
	lag int
}

func newFakeDir() *fakeDir {
	return &fakeDir{users: map[string]identity.Attrs{}, managers: map[string]string{}, failOn: map[string]error{}}
}

func (f *fakeDir) CreateUser(_ context.Context, attrs identity.Attrs, pw string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "create "+attrs.Get("employeeId"))
	f.passwords = append(f.passwords, pw)
	if err := f.failOn["create "+attrs.Get("userPrincipalName")]; err != nil {
		return "", err
	}
	for _, u := range f.users {
		if strings.EqualFold(u.Get("userPrincipalName"), attrs.Get("userPrincipalName")) {
			return "", &directory.Error{Op: "create", Code: "Request_BadRequest/ObjectConflict", Message: "Another object with the same value for property userPrincipalName already exists.", Kinds: []error{directory.ErrConflict}}
		}
	}
	f.next++
	id := fmt.Sprintf("id%d", f.next)
	cp := identity.AttrsOf(map[string]string{})
	for k, v := range attrs.All() {
		cp.Set(k, v)
	}
	f.users[id] = cp
	return id, nil
}

func (f *fakeDir) UpdateUser(_ context.Context, id string, set map[string]*string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "update "+id)
	if err := f.failOn["update "+id]; err != nil {
		return err
	}
	u, ok := f.users[id]
	if !ok {
		return &directory.Error{Op: "update", Code: "Request_ResourceNotFound", Message: "gone", Kinds: []error{directory.ErrNotFound, directory.ErrNotReplicated}}
	}
	for k, v := range set {
		if v == nil {
			u.Delete(k)
		} else {
			u.Set(k, *v)
		}
	}
	return nil
}

func (f *fakeDir) SetManager(_ context.Context, id, mid string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "manager "+id+" "+mid)
	if f.lag > 0 {
		f.lag--
		return &directory.Error{Op: "set manager", Code: "Request_ResourceNotFound", Message: "Resource does not exist", Kinds: []error{directory.ErrNotFound, directory.ErrNotReplicated}}
	}
	if _, ok := f.users[mid]; !ok {
		return fmt.Errorf("no manager %s", mid)
	}
	f.managers[id] = mid
	return nil
}

func (f *fakeDir) RemoveManager(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "unmanage "+id)
	delete(f.managers, id)
	return nil
}

func (f *fakeDir) Revoke(id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "revoke "+id)
	return f.failOn["revoke "+id]
}

func (f *fakeDir) FindByAttr(_ context.Context, attr, value string, _ []string) ([]identity.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []identity.User
	for id, u := range f.users {
		if u.Get(attr) == value {
			out = append(out, identity.User{ID: id, Attrs: u})
		}
	}
	return out, nil
}

// singleOps is the directory one request at a time, as the fakes model it.
type singleOps interface {
	CreateUser(ctx context.Context, attrs identity.Attrs, password string) (string, error)
	UpdateUser(ctx context.Context, id string, set map[string]*string) error
	SetManager(ctx context.Context, id, managerID string) error
	RemoveManager(ctx context.Context, id string) error
	FindByAttr(ctx context.Context, attr, value string, attrs []string) ([]identity.User, error)
}

// batcher turns a singleOps fake into a Writer: each Do call is one phase;
// it records the ops of each call.
type batcher struct {
	d     singleOps
	mu    sync.Mutex
	calls [][]directory.OpKind
}

func asWriter(d singleOps) *batcher { return &batcher{d: d} }

func (b *batcher) Do(ctx context.Context, ops []directory.Op, opts directory.DoOptions, done func(int, directory.Outcome)) {
	kinds := make([]directory.OpKind, len(ops))
	for i, o := range ops {
		kinds[i] = o.Kind
	}
	b.mu.Lock()
	b.calls = append(b.calls, kinds)
	b.mu.Unlock()
	for i, o := range ops {
		if opts.Stop != nil && opts.Stop.Err() != nil {
			done(i, directory.Outcome{Err: directory.ErrNotSent})
			continue
		}
		var out directory.Outcome
		switch o.Kind {
		case directory.OpCreate:
			out.ID, out.Err = b.d.CreateUser(ctx, o.Attrs, o.Password)
		case directory.OpUpdate:
			out.Err = b.d.UpdateUser(ctx, o.UserID, o.Set)
		case directory.OpSetManager:
			out.Err = b.d.SetManager(ctx, o.UserID, o.ManagerID)
		case directory.OpRemoveManager:
			out.Err = b.d.RemoveManager(ctx, o.UserID)
		case directory.OpFind:
			out.Users, out.Err = b.d.FindByAttr(ctx, o.Attr, o.Value, o.Select)
		case directory.OpRevokeSessions:
			if r, ok := b.d.(interface{ Revoke(id string) error }); ok {
				out.Err = r.Revoke(o.UserID)
			}
		}
		done(i, out)
	}
}

func sp(s string) *string { return &s }

func createAction(key, upn, managerKey string) plan.Action {
	a := plan.Action{Action: plan.Create, Key: key, Changes: []plan.Change{
		{Attribute: "displayName", After: sp("N " + key)},
		{Attribute: "userPrincipalName", After: sp(upn)},
		{Attribute: "employeeId", After: sp(key)},
	}}
	if managerKey != "" {
		a.Manager = &plan.ManagerRef{Key: managerKey}
		a.Changes = append(a.Changes, plan.Change{Attribute: "manager", After: sp(managerKey)})
	}
	return a
}

func testPlan(actions ...plan.Action) *plan.Plan {
	return &plan.Plan{Applyable: true, Match: plan.MatchInfo{Target: "employeeId"}, Actions: actions}
}

func TestExecuteCreatesManagersBeforeReferences(t *testing.T) {
	d := newFakeDir()
	// The report is listed before its manager in the plan on purpose.
	p := testPlan(createAction("2", "b@x.com", "1"), createAction("1", "a@x.com", ""))
	rep, err := Execute(context.Background(), p, asWriter(d), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Done != 2 || rep.Failed != 0 {
		t.Fatalf("report = %+v", rep)
	}
	mgr := d.managers[rep.Results[0].ID]
	if mgr == "" || mgr != rep.Results[1].ID {
		t.Errorf("manager of 2 = %q, want id of 1 (%q)", mgr, rep.Results[1].ID)
	}
	last := d.calls[len(d.calls)-1]
	if !strings.HasPrefix(last, "manager ") {
		t.Errorf("manager reference not set after creates: %v", d.calls)
	}
	if _, ok := d.users[rep.Results[0].ID].Lookup("manager"); ok {
		t.Error("manager written as an attribute")
	}
}

func TestExecuteAdoptsUserCreatedByEarlierApply(t *testing.T) {
	d := newFakeDir()
	p := testPlan(createAction("1", "a@x.com", ""), createAction("2", "b@x.com", "1"))
	if _, err := Execute(context.Background(), p, asWriter(d), Options{}); err != nil {
		t.Fatal(err)
	}
	// Re-running the same plan (e.g. after a crash) must converge without duplicates.
	rep, err := Execute(context.Background(), p, asWriter(d), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.users) != 2 {
		t.Fatalf("users = %d, want 2 (no duplicates)", len(d.users))
	}
	if rep.Done != 2 || rep.Failed != 0 || !strings.Contains(rep.Results[0].Note, "adopted") {
		t.Errorf("report = %+v", rep)
	}
}

func TestExecuteConflictWithSomeoneElseFails(t *testing.T) {
	d := newFakeDir()
	d.users["other"] = identity.AttrsOf(map[string]string{"userPrincipalName": "a@x.com"}) // an unmanaged account holds the UPN
	rep, err := Execute(context.Background(), testPlan(createAction("1", "a@x.com", ""), createAction("2", "b@x.com", "1")), asWriter(d), Options{})
	if err != nil {
		t.Fatal(err)
	}
	// 1 failed outright; 2 was created but its manager could not be set.
	if rep.Failed != 1 || rep.Partial != 1 || rep.Done != 0 || rep.Results[1].Status != report.StatusPartial || rep.Results[1].ID == "" {
		t.Fatalf("report = %+v", rep)
	}
	if rep.Results[0].ErrorCode != "Request_BadRequest/ObjectConflict" {
		t.Errorf("error code = %q", rep.Results[0].ErrorCode)
	}
	if !strings.Contains(rep.Results[1].Error, "manager 1 was not created") {
		t.Errorf("dependent failure = %q", rep.Results[1].Error)
	}
	if len(d.users) != 2 { // "other" and user 2
		t.Errorf("users = %v", d.users)
	}
}

func TestExecuteFailuresDoNotStopOthers(t *testing.T) {
	d := newFakeDir()
	d.users["u1"] = identity.AttrsOf(map[string]string{"department": "A"})
	d.users["u3"] = identity.AttrsOf(map[string]string{"accountEnabled": "true"})
	p := testPlan(
		plan.Action{Action: plan.Update, Key: "1", ID: "u1", Changes: []plan.Change{{Attribute: "department", Before: sp("A"), After: nil}}},
		plan.Action{Action: plan.Update, Key: "2", ID: "u2-deleted", Changes: []plan.Change{{Attribute: "department", After: sp("B")}}},
		plan.Action{Action: plan.Disable, Key: "3", ID: "u3", Changes: []plan.Change{{Attribute: "accountEnabled", Before: sp("true"), After: sp("false")}}},
	)
	rep, err := Execute(context.Background(), p, asWriter(d), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Done != 2 || rep.Failed != 1 || rep.Results[1].Status != report.StatusFailed || rep.Results[1].ErrorCode != "Request_ResourceNotFound" {
		t.Fatalf("report = %+v", rep)
	}
	if _, ok := d.users["u1"].Lookup("department"); ok {
		t.Error("null did not clear department")
	}
	if d.users["u3"].Get("accountEnabled") != "false" {
		t.Error("leaver not disabled")
	}
}

func TestExecuteRefusesBlockedPlan(t *testing.T) {
	p := testPlan()
	p.Applyable, p.Blocked = false, []string{"too many leavers"}
	if _, err := Execute(context.Background(), p, asWriter(newFakeDir()), Options{}); err == nil {
		t.Fatal("blocked plan applied")
	}
}

func TestExecuteStopsOnCancel(t *testing.T) {
	d := newFakeDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rep, err := Execute(ctx, testPlan(createAction("1", "a@x.com", "")), asWriter(d), Options{})
	if err == nil || rep.NotStarted != 1 || len(d.users) != 0 {
		t.Fatalf("err = %v report = %+v users = %d", err, rep, len(d.users))
	}
	if got := rep.Results[0].Error; got != "stopped before this action was sent" {
		t.Errorf("not started without a reason: %q", got)
	}
}

// Every result that is not done says why, in words the report groups: the
// cause that stopped the run and the steps that did not run.
func TestEveryUnfinishedResultHasAReason(t *testing.T) {
	tests := []struct {
		name  string
		cause error
		want  string
	}{
		{"Ctrl-C", errors.New("interrupt signal received"), "stopped (interrupt signal received) before setting its manager reference"},
		{"timeout", context.DeadlineExceeded, "stopped at the run's timeout before setting its manager reference"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancelCause(context.Background())
			w := &cancelAfterCreate{fakeDir: newFakeDir(), cancel: func() { cancel(tt.cause) }}
			rep, _ := Execute(ctx, testPlan(createAction("1", "a@x.com", ""), createAction("2", "b@x.com", "1")), asWriter(w), Options{})
			r := rep.Results[1]
			if r.Status != report.StatusPartial || r.Error != tt.want {
				t.Errorf("result = %+v, want partial: %q", r, tt.want)
			}
			for _, r := range rep.Results {
				if r.Status != report.StatusDone && r.Error == "" {
					t.Errorf("%s %s %s without a reason", r.Action, r.Key, r.Status)
				}
			}
		})
	}
}

func TestNewPassword(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		pw, err := NewPassword()
		if err != nil {
			t.Fatal(err)
		}
		var up, lo, dg, sy bool
		for _, r := range pw {
			switch {
			case unicode.IsUpper(r):
				up = true
			case unicode.IsLower(r):
				lo = true
			case unicode.IsDigit(r):
				dg = true
			default:
				sy = true
			}
		}
		if len(pw) != 20 || !up || !lo || !dg || !sy {
			t.Fatalf("weak password shape %d %v %v %v %v", len(pw), up, lo, dg, sy)
		}
		if seen[pw] {
			t.Fatal("repeated password")
		}
		seen[pw] = true
	}
}

// No password starts with a character that makes a spreadsheet read the
// passwords file's cell as a formula (=, +, -, @, tab, carriage return):
// about 6% did, and escaping the cell would change the password read out.
// The first character is a letter or a digit.
func TestNewPasswordNeverStartsLikeAFormula(t *testing.T) {
	const n = 2000 // at 6% a bad start, 1 - 0.94^2000: never missed
	firsts := map[byte]bool{}
	for range n {
		pw, err := NewPassword()
		if err != nil {
			t.Fatal(err)
		}
		c := pw[0]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			t.Fatalf("password starts with %q, want a letter or digit", c)
		}
		firsts[c] = true
	}
	if len(firsts) < 40 { // 57 letters and digits are possible
		t.Errorf("only %d distinct first characters in %d passwords", len(firsts), n)
	}
}

func TestExecuteSkipsRefusedActions(t *testing.T) {
	d := newFakeDir()
	d.users["u3"] = identity.AttrsOf(map[string]string{"accountEnabled": "true"})
	p := testPlan(
		createAction("1", "a@x.com", ""),
		createAction("2", "b@x.com", "1"),
		plan.Action{Action: plan.Disable, Key: "3", ID: "u3", Changes: []plan.Change{{Attribute: "accountEnabled", Before: sp("true"), After: sp("false")}}},
	)
	rep, err := Execute(context.Background(), p, asWriter(d), Options{Refused: map[int]string{0: "user x already holds employeeId 1", 2: "user u3 changed"}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Refused != 2 || rep.Partial != 1 || rep.Results[0].ErrorCode != "stale_plan" || rep.Incomplete() != 3 {
		t.Fatalf("report = %+v", rep)
	}
	if d.users["u3"].Get("accountEnabled") != "true" {
		t.Error("a refused leaver was disabled")
	}
	for _, c := range d.calls {
		if c == "create 1" {
			t.Error("a refused create was attempted")
		}
	}
	if !strings.Contains(rep.Results[1].Error, "manager 1 was not created") {
		t.Errorf("dependent of a refused create: %+v", rep.Results[1])
	}
}

func TestManagerOfNewUsersIsRetriedThroughReplicationLag(t *testing.T) {
	tests := []struct {
		name     string
		lag      int
		existing bool // both users existed before this apply
		status   string
		waits    []time.Duration
	}{
		{"new users, lag recovers", 2, false, report.StatusDone, []time.Duration{time.Second, 2 * time.Second}},
		{"new users, lag outlasts retries", 9, false, report.StatusPartial, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second}},
		{"existing users: a 404 is real, no retry", 1, true, report.StatusFailed, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newFakeDir()
			d.lag = tt.lag
			var waits []time.Duration
			opts := Options{Sleep: func(_ context.Context, w time.Duration) bool { waits = append(waits, w); return true }}
			var p *plan.Plan
			if tt.existing {
				d.users["u1"], d.users["u2"] = identity.AttrsOf(map[string]string{}), identity.AttrsOf(map[string]string{})
				p = testPlan(plan.Action{Action: plan.Update, Key: "2", ID: "u2", Manager: &plan.ManagerRef{Key: "1", ID: "u1"},
					Changes: []plan.Change{{Attribute: "manager", After: sp("1")}}})
			} else {
				p = testPlan(createAction("1", "a@x.com", ""), createAction("2", "b@x.com", "1"))
			}
			rep, err := Execute(context.Background(), p, asWriter(d), opts)
			if err != nil {
				t.Fatal(err)
			}
			last := rep.Results[len(rep.Results)-1]
			if last.Status != tt.status {
				t.Errorf("status = %s (%s)", last.Status, last.Error)
			}
			if fmt.Sprint(waits) != fmt.Sprint(tt.waits) {
				t.Errorf("waits = %v, want %v", waits, tt.waits)
			}
		})
	}
}

func TestManagerKeysMatchWithoutRegardToCase(t *testing.T) {
	d := newFakeDir()
	rep, err := Execute(context.Background(), testPlan(createAction("A100", "a@x.com", ""), createAction("A101", "b@x.com", "a100")), asWriter(d), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Done != 2 || d.managers[rep.Results[1].ID] != rep.Results[0].ID {
		t.Fatalf("report = %+v managers = %v", rep, d.managers)
	}
}

// blockingDir answers creates, then blocks every later write until its
// context ends, like a Graph call that never returns.
type blockingDir struct {
	*fakeDir
	started chan struct{}
}

func (b *blockingDir) UpdateUser(ctx context.Context, id string, set map[string]*string) error {
	close(b.started)
	<-ctx.Done()
	return ctx.Err()
}

func TestCtrlCLetsWritesFinishWithinGrace(t *testing.T) {
	d := &blockingDir{fakeDir: newFakeDir(), started: make(chan struct{})}
	d.users["u1"] = identity.AttrsOf(map[string]string{"department": "A"})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-d.started; cancel() }()
	p := testPlan(plan.Action{Action: plan.Update, Key: "1", ID: "u1", Changes: []plan.Change{{Attribute: "department", Before: sp("A"), After: sp("B")}}})
	done := make(chan *report.Report)
	go func() {
		rep, _ := Execute(ctx, p, asWriter(d), Options{Grace: 50 * time.Millisecond})
		done <- rep
	}()
	select {
	case rep := <-done:
		if rep.Failed != 1 {
			t.Errorf("report = %+v", rep)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a write that never returns held apply past its grace period")
	}
}

func TestInterruptedBetweenStepsIsPartial(t *testing.T) {
	d := newFakeDir()
	ctx, cancel := context.WithCancel(context.Background())
	w := &cancelAfterCreate{fakeDir: d, cancel: cancel}
	rep, _ := Execute(ctx, testPlan(createAction("1", "a@x.com", ""), createAction("2", "b@x.com", "1")), asWriter(w), Options{})
	if rep.Results[1].Status != report.StatusPartial || rep.Results[0].Status != report.StatusDone {
		t.Fatalf("results = %+v", rep.Results)
	}
}

// cancelAfterCreate cancels the apply once both users are created, before
// the manager phase.
type cancelAfterCreate struct {
	*fakeDir
	cancel func()
	n      int
}

func (c *cancelAfterCreate) CreateUser(ctx context.Context, attrs identity.Attrs, pw string) (string, error) {
	id, err := c.fakeDir.CreateUser(ctx, attrs, pw)
	if c.n++; c.n == 2 {
		c.cancel()
	}
	return id, err
}

func TestSteps(t *testing.T) {
	mgr := &plan.ManagerRef{Key: "1", ID: "u1"}
	tests := []struct {
		name string
		a    plan.Action
		want int
	}{
		{"create", createAction("2", "b@x.com", ""), 1},
		{"create with manager", createAction("2", "b@x.com", "1"), 2},
		{"update", plan.Action{Action: plan.Update, Changes: []plan.Change{{Attribute: "department", After: sp("x")}}}, 1},
		{"manager-only update", plan.Action{Action: plan.Update, Manager: mgr, Changes: []plan.Change{{Attribute: "manager", After: sp("1")}}}, 1},
		{"update and manager", plan.Action{Action: plan.Update, Manager: mgr, Changes: []plan.Change{{Attribute: "department", After: sp("x")}, {Attribute: "manager", After: sp("1")}}}, 2},
	}
	for _, tt := range tests {
		if got := Steps(tt.a, identity.EntraSchema()); got != tt.want {
			t.Errorf("%s: Steps = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestPhasesGroupIndependentWrites(t *testing.T) {
	d := newFakeDir()
	d.users["u1"], d.users["u2"], d.users["u3"] = identity.AttrsOf(map[string]string{}), identity.AttrsOf(map[string]string{}), identity.AttrsOf(map[string]string{})
	p := testPlan(
		createAction("10", "a@x.com", "1"),  // new user, existing manager: manager waits for the create
		createAction("11", "b@x.com", "10"), // new user, new manager
		plan.Action{Action: plan.Update, Key: "2", ID: "u2", Manager: &plan.ManagerRef{Key: "1", ID: "u1"},
			Changes: []plan.Change{{Attribute: "department", After: sp("B")}, {Attribute: "manager", After: sp("1")}}},
		plan.Action{Action: plan.Update, Key: "3", ID: "u3", Manager: &plan.ManagerRef{Key: "10"}, // existing user, new manager
			Changes: []plan.Change{{Attribute: "manager", After: sp("10")}}},
	)
	p.Actions[0].Manager.ID = "u1"
	w := asWriter(d)
	rep, err := Execute(context.Background(), p, w, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Done != 4 {
		t.Fatalf("report = %+v", rep.Results)
	}
	want := fmt.Sprint([][]directory.OpKind{
		{directory.OpCreate, directory.OpCreate, directory.OpUpdate, directory.OpSetManager},
		{directory.OpSetManager, directory.OpSetManager, directory.OpSetManager},
	})
	if got := fmt.Sprint(w.calls); got != want {
		t.Fatalf("phases = %s, want %s", got, want)
	}
	if d.managers["u3"] != rep.Results[0].ID || d.managers[rep.Results[1].ID] != rep.Results[0].ID || d.managers["u2"] != "u1" {
		t.Fatalf("managers = %v", d.managers)
	}
}

// Progress reaches its total even when steps cannot run because the
// user's create failed.
func TestProgressReachesTotalWhenStepsAreSkipped(t *testing.T) {
	d := newFakeDir()
	d.failOn["create a@x.com"] = &directory.Error{Op: "create", Code: "Request_BadRequest", Message: "bad", Kinds: []error{directory.ErrRejected}}
	var done, total int
	opts := Options{Progress: func(dn, tt int) { done, total = dn, tt }}
	rep, err := Execute(context.Background(), testPlan(createAction("1", "a@x.com", "2"), createAction("2", "b@x.com", ""), createAction("3", "c@x.com", "1")), asWriter(d), opts)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed != 1 || rep.Partial != 1 || rep.Done != 1 {
		t.Fatalf("report = %+v", rep.Results)
	}
	if done != total {
		t.Fatalf("progress ended at %d of %d", done, total)
	}
}

// stopOnCreate cancels the run during a create that conflicts.
type stopOnCreate struct {
	*fakeDir
	cancel context.CancelFunc
}

func (s *stopOnCreate) CreateUser(ctx context.Context, attrs identity.Attrs, pw string) (string, error) {
	id, err := s.fakeDir.CreateUser(ctx, attrs, pw)
	if err != nil {
		s.cancel()
	}
	return id, err
}

// Stopped after a create met a conflict, before hrsync could look at the
// user holding the UPN: the create reports the conflict, nothing is said
// to be partly done, and its report's manager is not called "not created".
func TestStopAfterConflictReportsTheConflict(t *testing.T) {
	d := newFakeDir()
	d.users["old"] = identity.AttrsOf(map[string]string{"employeeId": "1", "userPrincipalName": "a@x.com"})
	ctx, cancel := context.WithCancel(context.Background())
	w := &stopOnCreate{fakeDir: d, cancel: cancel}
	rep, _ := Execute(ctx, testPlan(createAction("1", "a@x.com", ""), createAction("2", "b@x.com", "1")), asWriter(w), Options{})
	r0, r1 := rep.Results[0], rep.Results[1]
	if r0.Status != report.StatusFailed || !strings.Contains(r0.Error, "stopped before") || r0.ErrorCode != "Request_BadRequest/ObjectConflict" {
		t.Errorf("conflicting create = %+v", r0)
	}
	if r1.Status == report.StatusPartial && strings.Contains(r1.Error, "not created") {
		t.Errorf("its report = %+v: the manager may well exist", r1)
	}
	for _, c := range d.calls {
		if strings.HasPrefix(c, "manager ") {
			t.Errorf("a manager reference was written after the stop: %v", d.calls)
		}
	}
}

// A leaver is disabled, then its sign-in sessions are revoked; a failed
// disable revokes nothing.
func TestLeaversSessionsAreRevokedAfterTheDisable(t *testing.T) {
	d := newFakeDir()
	d.users["u1"], d.users["u2"] = identity.AttrsOf(map[string]string{"accountEnabled": "true"}), identity.AttrsOf(map[string]string{"accountEnabled": "true"})
	d.failOn["update u2"] = &directory.Error{Op: "update", Code: "Authorization_RequestDenied", Message: "no"}
	disable := func(key, id string) plan.Action {
		return plan.Action{Action: plan.Disable, Key: key, ID: id, Changes: []plan.Change{{Attribute: "accountEnabled", Before: sp("true"), After: sp("false")}}}
	}
	var done, total int
	rep, err := Execute(context.Background(), testPlan(disable("1", "u1"), disable("2", "u2")), asWriter(d), Options{Progress: func(dn, tt int) { done, total = dn, tt }})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(d.calls, ","); got != "update u1,update u2,revoke u1" {
		t.Fatalf("calls = %s", got)
	}
	if rep.Results[0].Status != report.StatusDone || rep.Results[1].Status != report.StatusFailed || done != total {
		t.Fatalf("results = %+v, progress %d/%d", rep.Results, done, total)
	}
	d.failOn["revoke u1"] = &directory.Error{Op: "revoke", Code: "x", Message: "down"}
	rep, _ = Execute(context.Background(), testPlan(disable("1", "u1")), asWriter(d), Options{})
	if rep.Results[0].Status != report.StatusPartial {
		t.Errorf("disabled but not revoked = %s, want partial", rep.Results[0].Status)
	}
}
