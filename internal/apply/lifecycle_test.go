package apply

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hrsync/hrsync/internal/directory"
	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/plan"
	"github.com/hrsync/hrsync/internal/report"
)

// opLog is a Writer that succeeds at everything and records each op as
// "kind user [group/manager]" with the round (Do call) it came in.
type opLog struct {
	mu     sync.Mutex
	rounds [][]string
	next   int
	// stopAfter cancels the run after this many rounds (0: never).
	stopAfter int
	// notFound answers 404 this many times to the op of this name, as
	// Entra does while a new or restored object replicates.
	notFound map[string]int
	// fail answers the op of this name with this error; reads answers
	// OpGet of a user id.
	fail   map[string]error
	reads  map[string]directory.Outcome
	cancel context.CancelFunc
}

func opName(o directory.Op) string {
	switch o.Kind {
	case directory.OpCreate:
		return "create " + o.Attrs.Get("employeeId")
	case directory.OpUpdate:
		return "update " + o.UserID
	case directory.OpSetManager:
		return "manager " + o.UserID + " " + o.ManagerID
	case directory.OpRemoveManager:
		return "unmanage " + o.UserID
	case directory.OpRevokeSessions:
		return "revoke " + o.UserID
	case directory.OpRestore:
		return "restore " + o.UserID
	case directory.OpDelete:
		return "delete " + o.UserID
	case directory.OpAddMember:
		return "join " + o.GroupID + " " + o.UserID
	case directory.OpRemoveMember:
		return "leave " + o.GroupID + " " + o.UserID
	case directory.OpAssignLicense:
		return fmt.Sprintf("license %s +%v -%v", o.UserID, o.AddSkus, o.RemoveSkus)
	case directory.OpGet:
		return "get " + o.UserID
	}
	return fmt.Sprintf("op%d", o.Kind)
}

func (l *opLog) Do(ctx context.Context, ops []directory.Op, opts directory.DoOptions, done func(int, directory.Outcome)) {
	l.mu.Lock()
	var round []string
	for _, o := range ops {
		round = append(round, opName(o))
	}
	l.rounds = append(l.rounds, round)
	n := len(l.rounds)
	l.mu.Unlock()
	for i, o := range ops {
		var out directory.Outcome
		l.mu.Lock()
		if l.notFound[opName(o)] > 0 {
			l.notFound[opName(o)]--
			out.Err = &directory.Error{Op: "update", Code: "Request_ResourceNotFound", Message: "Resource does not exist", Kinds: []error{directory.ErrNotFound, directory.ErrNotReplicated}}
		}
		if err := l.fail[opName(o)]; err != nil {
			out.Err = err
		}
		if o.Kind == directory.OpGet {
			out = l.reads[o.UserID]
		}
		l.mu.Unlock()
		if o.Kind == directory.OpCreate {
			l.next++
			out.ID = fmt.Sprintf("new%d", l.next)
		}
		done(i, out)
	}
	if l.stopAfter > 0 && n >= l.stopAfter {
		l.cancel()
	}
}

func (l *opLog) all() []string {
	var out []string
	for _, r := range l.rounds {
		out = append(out, r...)
	}
	return out
}

func TestLifecycleStepsRunInDependencyOrder(t *testing.T) {
	join := []plan.GroupChange{{Op: plan.OpAdd, GroupID: "g1", Name: "Sales"}}
	p := testPlan(
		plan.Action{Action: plan.Restore, Key: "1", ID: "d1", Groups: join,
			Changes: []plan.Change{{Attribute: "accountEnabled", Before: sp("false"), After: sp("true")}}},
		plan.Action{Action: plan.Update, Key: "2", ID: "u2",
			Changes:  []plan.Change{{Attribute: "usageLocation", After: sp("DE")}},
			Licenses: []plan.LicenseChange{{Op: plan.OpAdd, SkuID: "e3"}}},
		plan.Action{Action: plan.Disable, Key: "3", ID: "u3",
			Changes: []plan.Change{{Attribute: "accountEnabled", Before: sp("true"), After: sp("false")}},
			Groups:  []plan.GroupChange{{Op: plan.OpRemove, GroupID: "g1"}}},
		plan.Action{Action: plan.Delete, Key: "4", ID: "u4", Changes: []plan.Change{}},
	)
	l := &opLog{}
	var journal []string
	rep, err := Execute(context.Background(), p, l, Options{Journal: func(i int, step, id string) {
		journal = append(journal, fmt.Sprintf("%d %s", i, step))
	}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Done != 4 {
		t.Fatalf("report %+v", rep)
	}
	got := fmt.Sprint(l.rounds)
	want := "[[restore d1] [update d1] [update u2 update u3 delete u4] [revoke u3] [join g1 d1 license u2 +[e3] -[] leave g1 u3]]"
	if got != want {
		t.Errorf("rounds\n got %s\nwant %s", got, want)
	}
	if len(journal) != 9 {
		t.Errorf("journal %v", journal)
	}
}

// A run stopped half way, then resumed from its journal: nothing is sent
// twice, nothing is left out.
func TestResumeFromJournal(t *testing.T) {
	mk := func() *plan.Plan {
		c := createAction("1", "a@x.com", "")
		c.Groups = []plan.GroupChange{{Op: plan.OpAdd, GroupID: "g1"}}
		return testPlan(c, createAction("2", "b@x.com", "1"),
			plan.Action{Action: plan.Disable, Key: "3", ID: "u3", Changes: []plan.Change{{Attribute: "accountEnabled", Before: sp("true"), After: sp("false")}}})
	}
	ctx, cancel := context.WithCancel(context.Background())
	first := &opLog{stopAfter: 1, cancel: cancel}
	done := map[int]Progress{}
	record := func(i int, step, id string) {
		pr, ok := done[i]
		if !ok {
			pr = Progress{Steps: map[string]bool{}}
		}
		pr.Steps[step] = true
		if id != "" {
			pr.ID = id
		}
		done[i] = pr
	}
	rep, _ := Execute(ctx, mk(), first, Options{Journal: record})
	if rep.Done != 0 || rep.Partial+rep.NotStarted != 3 {
		t.Fatalf("first run %+v", rep.Results)
	}
	second := &opLog{}
	rep, err := Execute(context.Background(), mk(), second, Options{Journal: record, Resume: done})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Done != 3 || rep.Incomplete() != 0 {
		t.Fatalf("second run %+v", rep.Results)
	}
	for _, op := range second.all() {
		if strings.HasPrefix(op, "create") || strings.HasPrefix(op, "update") {
			t.Errorf("resumed run repeated %q", op)
		}
	}
	if got := strings.Join(second.all(), ","); got != "revoke u3,join g1 new1,manager new2 new1" {
		t.Errorf("resumed run sent %s", got)
	}
	// A third run finds everything done and sends nothing.
	third := &opLog{}
	rep, err = Execute(context.Background(), mk(), third, Options{Resume: done})
	if err != nil || rep.Done != 3 || len(third.all()) != 0 {
		t.Fatalf("third run %+v sent %v (err %v)", rep, third.all(), err)
	}
	if !strings.Contains(rep.Results[0].Note, "earlier apply") {
		t.Errorf("note %q", rep.Results[0].Note)
	}
}

func TestStepNames(t *testing.T) {
	a := plan.Action{Action: plan.Disable, Manager: &plan.ManagerRef{},
		Changes:  []plan.Change{{Attribute: "accountEnabled", After: sp("false")}, {Attribute: "manager", Before: sp("1")}},
		Groups:   []plan.GroupChange{{Op: plan.OpRemove, GroupID: "G1"}},
		Licenses: []plan.LicenseChange{{Op: plan.OpRemove, SkuID: "s"}}}
	if got := strings.Join(StepNames(a, identity.EntraSchema()), ","); got != "write,revoke,manager,group:remove:g1,licenses" {
		t.Errorf("steps %s", got)
	}
	if got := strings.Join(StepNames(plan.Action{Action: plan.Restore}, identity.EntraSchema()), ","); got != "restore" {
		t.Errorf("restore steps %s", got)
	}
}

// A restored user can be briefly "not found": its patch is retried.
func TestRestoredUserPatchWaitsForReplication(t *testing.T) {
	p := testPlan(plan.Action{Action: plan.Restore, Key: "1", ID: "d1",
		Changes: []plan.Change{{Attribute: "accountEnabled", Before: sp("false"), After: sp("true")}}})
	l := &opLog{notFound: map[string]int{"update d1": 2}}
	var waits int
	rep, err := Execute(context.Background(), p, l, Options{Sleep: func(context.Context, time.Duration) bool { waits++; return true }})
	if err != nil || rep.Done != 1 || waits != 2 {
		t.Fatalf("report %+v waits %d err %v", rep.Results, waits, err)
	}
}

// An action an earlier run began and this run could not carry on is
// partial, not "not started"; a create journalled by it reaches the
// writeback as adopted.
func TestResumedButStoppedIsPartial(t *testing.T) {
	c := createAction("1", "a@x.com", "")
	c.Groups = []plan.GroupChange{{Op: plan.OpAdd, GroupID: "g1"}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var created []string
	rep, _ := Execute(ctx, testPlan(c), &opLog{}, Options{
		Resume:  map[int]Progress{0: {Steps: map[string]bool{StepWrite: true}, ID: "new1"}},
		Created: func(key, id, upn, mail, pw string, _ identity.Attrs) { created = append(created, key+" "+id+" "+pw) },
	})
	if rep.Results[0].Status != report.StatusPartial {
		t.Errorf("status %s", rep.Results[0].Status)
	}
	if strings.Join(created, ",") != "1 new1 " {
		t.Errorf("created %v", created)
	}
}

// A retry after a lost answer finds its write already made: the restore
// "not found" in deleted items, the delete "not found", the license to
// remove "not held". Apply reads the user and counts the step done when
// the directory shows it; otherwise the failure stands.
func TestDoubtfulFailuresAreSettledByARead(t *testing.T) {
	notFound := &directory.Error{Code: "Request_ResourceNotFound", Message: "Resource does not exist", Kinds: []error{directory.ErrNotFound, directory.ErrNotReplicated}}
	notHeld := &directory.Error{Code: "Request_BadRequest", Message: "User does not have a corresponding license.", Kinds: []error{directory.ErrRejected}}
	mk := func() *plan.Plan {
		return testPlan(
			plan.Action{Action: plan.Restore, Key: "1", ID: "d1"},
			plan.Action{Action: plan.Delete, Key: "2", ID: "u2", Changes: []plan.Change{}},
			plan.Action{Action: plan.Update, Key: "3", ID: "u3", Licenses: []plan.LicenseChange{{Op: plan.OpAdd, SkuID: "E1"}, {Op: plan.OpRemove, SkuID: "e3"}}},
		)
	}
	fails := map[string]error{"restore d1": notFound, "delete u2": notFound, "license u3 +[E1] -[e3]": notHeld}
	done := &opLog{fail: fails, reads: map[string]directory.Outcome{
		"d1": {Users: []identity.User{{ID: "d1", Attrs: identity.AttrsOf(map[string]string{"employeeId": "1"})}}},
		"u2": {Err: notFound},
		"u3": {Users: []identity.User{{ID: "u3", Licenses: []string{"e1"}}}},
	}}
	rep, err := Execute(context.Background(), mk(), done, Options{})
	if err != nil || rep.Done != 3 {
		t.Fatalf("writes already in place: %+v (%v)", rep.Results, err)
	}
	notDone := &opLog{fail: fails, reads: map[string]directory.Outcome{
		"d1": {Err: notFound},
		"u2": {Users: []identity.User{{ID: "u2"}}},
		"u3": {Users: []identity.User{{ID: "u3", Licenses: []string{"e3"}}}},
	}}
	var waits []time.Duration
	rep, err = Execute(context.Background(), mk(), notDone, Options{Sleep: func(_ context.Context, d time.Duration) bool { waits = append(waits, d); return true }})
	if fmt.Sprint(waits) != "[1s 2s 4s 1s 2s 4s 1s 2s 4s]" { // one round per phase: restore, delete, licenses
		t.Errorf("settling reads waited %v, want 1s 2s 4s per phase for replication", waits)
	}
	if err != nil || rep.Failed != 3 {
		t.Fatalf("writes not in place: %+v (%v)", rep.Results, err)
	}
}

// A directory without sign-in sessions (Active Directory) gets no revoke
// after a disable: the step does not exist there.
func TestNoRevokeWithoutSessions(t *testing.T) {
	d := newFakeDir()
	d.users["u1"] = identity.AttrsOf(map[string]string{"employeeID": "1", "accountEnabled": "true"})
	p := testPlan(plan.Action{Action: plan.Disable, Key: "1", ID: "u1", Changes: []plan.Change{{Attribute: "accountEnabled", After: sp("false")}}})
	for _, tc := range []struct {
		schema *identity.Schema
		revoke bool
	}{{identity.ActiveDirectorySchema(), false}, {identity.EntraSchema(), true}} {
		d.calls = nil
		rep, err := Execute(context.Background(), p, asWriter(d), Options{Schema: tc.schema})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Done != 1 || rep.Results[0].Status != "done" {
			t.Fatalf("%s: report %+v", tc.schema.Name, rep.Results)
		}
		revoked := strings.Contains(strings.Join(d.calls, ","), "revoke")
		if revoked != tc.revoke {
			t.Errorf("%s: calls %v", tc.schema.Name, d.calls)
		}
	}
}
