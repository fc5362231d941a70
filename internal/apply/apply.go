// Package apply carries out a plan, exactly as reviewed. Writes go to the
// directory in dependency order, each phase as one set of independent
// requests that the Writer sends in $batch requests: first creates,
// attribute patches and the manager references that involve no new user;
// then the manager references that need a user created in the first phase.
// Each action's outcome is reported; a failure never stops unrelated
// actions.
package apply

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hrsync/hrsync/internal/directory"
	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/plan"
	"github.com/hrsync/hrsync/internal/report"
)

// Writer is what apply needs of the directory: carry out a set of
// independent operations (in $batch requests, retrying throttled ones) and
// report each one's outcome exactly once. *directory.Client is one.
type Writer interface {
	Do(ctx context.Context, ops []directory.Op, opts directory.DoOptions, done func(i int, o directory.Outcome))
}

// Options tunes an apply.
type Options struct {
	// Password makes an initial password; nil means NewPassword.
	Password func() (string, error)
	// Progress, if not nil, is called after each action step.
	Progress func(done, total int)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Grace is how long writes already sent may run on after ctx ends
	// (Ctrl-C, deadline) before they are cancelled too. Default 30 s.
	Grace time.Duration
	// LagRetries is how often a manager reference that involves a user
	// created in this apply is retried after 404: Entra replicates new
	// objects with a delay, so a fresh user can be briefly "not found".
	// Default 5 (waits of 1, 2, 4, 8 and 16 s); negative disables.
	LagRetries int
	// Sleep waits d or until ctx ends, returning false if ctx ended; nil
	// means a real timer. Tests replace it.
	Sleep func(ctx context.Context, d time.Duration) bool
	// Refused maps action indexes to the reason they must not be carried
	// out (a stale plan); they are reported, and joiners refused this way
	// count as not created for the manager references that need them.
	Refused map[int]string
	// Resume holds the steps an earlier apply of the same plan completed
	// (from its journal) or that are found already in effect: they are
	// not sent again. Keyed by action index.
	Resume map[int]Progress
	// Journal, if not nil, is called (under the executor's lock) as each
	// step completes, so an interrupted apply can be resumed.
	Journal func(action int, step, id string)
	// Schema is the directory's schema; nil means the one of the plan's
	// target type.
	Schema *identity.Schema
	// Created, if not nil, is called once for each joiner this apply
	// created, with the initial password that was sent, or adopted (found
	// already created by an earlier apply or a retry whose answer was
	// lost), with password "": that password is not known. It runs under
	// the executor's lock, so calls never overlap. upn and mail are the
	// planned values (mail "" when the plan sets none). The password is
	// handed over nowhere else: report.Result and report.Report never hold it.
	Created CreatedFunc
}

// Progress is what is already done of one action.
type Progress struct {
	// Steps are the names of the completed steps (see StepNames).
	Steps map[string]bool
	// ID is the user's object id, for a create already done.
	ID string
}

// Step names, as the journal records them.
const (
	StepRestore  = "restore"
	StepWrite    = "write" // the create, or the attribute patch
	StepDelete   = "delete"
	StepRevoke   = "revoke"
	StepManager  = "manager"
	StepLicenses = "licenses"
	// Group steps are "group:add:<id>" and "group:remove:<id>".
)

// GroupStep is the name of a group membership step.
func GroupStep(g plan.GroupChange) string { return "group:" + g.Op + ":" + strings.ToLower(g.GroupID) }

// StepNames lists the steps of an action, in the order apply runs them, in
// a directory of the given schema.
func StepNames(a plan.Action, s *identity.Schema) []string {
	var out []string
	if a.Action == plan.Restore {
		out = append(out, StepRestore)
	}
	if a.Action == plan.Create || len(patchOf(a)) > 0 {
		out = append(out, StepWrite)
	}
	if a.Action == plan.Delete {
		out = append(out, StepDelete)
	}
	if (a.Action == plan.Disable && s.RevokesSessions) || a.Revoke {
		out = append(out, StepRevoke) // revokeSignInSessions after the disable
	}
	if a.Manager != nil {
		out = append(out, StepManager)
	}
	for _, g := range a.Groups {
		out = append(out, GroupStep(g))
	}
	if len(a.Licenses) > 0 {
		out = append(out, StepLicenses)
	}
	return out
}

// CreatedFunc receives a joiner created (or adopted) by an apply. attrs
// are the attributes the plan created it with (never the password), so a
// writeback can carry what else names the user in the directory (Active
// Directory's DN and sAMAccountName).
type CreatedFunc func(key, id, upn, mail, password string, attrs identity.Attrs)

// NotePasswordSet is the note of a create that set an initial password;
// the value itself is never reported.
const NotePasswordSet = "initial password: set"

// Execute applies the plan. It returns an error only when the plan cannot
// be applied at all; per-action failures are in the report.
func Execute(ctx context.Context, p *plan.Plan, w Writer, opts Options) (*report.Report, error) {
	if !p.Applyable {
		return nil, fmt.Errorf("the plan is blocked: %v", p.Blocked)
	}
	opts = opts.withDefaults(p)
	wctx, wcancel := writeContext(ctx, opts.Grace)
	defer wcancel()
	e := newExecutor(ctx, wctx, p, w, opts)
	rep := &report.Report{StartedAt: opts.Now().UTC()}
	e.restorePhase()
	e.restoreWritePhase()
	if err := e.firstPhase(); err != nil {
		return nil, err
	}
	e.adoptConflicts()
	e.revokePhase()
	e.latePhase()
	e.mu.Lock()
	done, total := e.done, e.total
	e.mu.Unlock()
	if opts.Progress != nil {
		opts.Progress(done, total) // totals shrink when steps cannot run
	}
	for i := range e.results {
		e.finalStatus(i)
		tally(rep, e.results[i].Status)
	}
	rep.Results = e.results
	rep.FinishedAt = opts.Now().UTC()
	if ctx.Err() != nil {
		rep.Stopped = e.stopped()
	}
	return rep, ctx.Err()
}

// withDefaults fills in the options left unset.
func (opts Options) withDefaults(p *plan.Plan) Options {
	if opts.Password == nil {
		opts.Password = NewPassword
	}
	if opts.Schema == nil {
		opts.Schema = p.Schema()
	}
	if opts.LagRetries == 0 {
		opts.LagRetries = 5
	}
	if opts.Grace == 0 {
		opts.Grace = 30 * time.Second
	}
	if opts.Sleep == nil {
		opts.Sleep = sleep
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return opts
}

// writeContext is the context writes run on: when ctx ends nothing new is
// sent, and requests already sent get grace to finish, so the report can
// tell their outcome; after that they are cancelled as well.
func writeContext(ctx context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	wctx, wcancel := context.WithCancel(context.WithoutCancel(ctx))
	go func() {
		select {
		case <-ctx.Done():
			t := time.NewTimer(grace)
			defer t.Stop()
			select {
			case <-t.C:
				wcancel()
			case <-wctx.Done():
			}
		case <-wctx.Done():
		}
	}()
	return wctx, wcancel
}

// newExecutor sets up the run of plan p: each action's result, what an
// earlier apply already did of it, and the steps left to take.
func newExecutor(stop, write context.Context, p *plan.Plan, w Writer, opts Options) *executor {
	e := &executor{p: p, w: w, opts: opts, schema: opts.Schema, stop: stop, write: write,
		stepsDone: make([]int, len(p.Actions)), started: make([]bool, len(p.Actions)),
		created: map[string]string{}, failedKeys: map[string]bool{}, conflicts: map[int]error{}, resumed: map[int]bool{}}
	e.results = make([]report.Result, len(p.Actions))
	e.doneSteps = make([]map[string]bool, len(p.Actions))
	for i, a := range p.Actions {
		e.results[i] = newResult(a)
		e.doneSteps[i] = map[string]bool{}
		if pr, ok := opts.Resume[i]; ok && e.resume(i, a, pr) {
			continue
		}
		if reason, refused := opts.Refused[i]; refused {
			e.results[i].Status = report.StatusRefused
			e.results[i].ErrorCode = "stale_plan"
			e.results[i].Error = reason
			if a.Action == plan.Create {
				e.failedKeys[plan.Fold(a.Key)] = true
			}
			continue
		}
		e.total += Steps(a, e.schema) - e.stepsDone[i]
	}
	return e
}

// newResult is the result of an action not started yet, listing what it
// changes.
func newResult(a plan.Action) report.Result {
	r := report.Result{Action: a.Action, Key: a.Key, ID: a.ID, Status: report.StatusNotStarted, Attributes: []string{}}
	for _, c := range a.Changes {
		r.Attributes = append(r.Attributes, c.Attribute)
	}
	for _, g := range a.Groups {
		r.Attributes = append(r.Attributes, "group "+g.Op+" "+cmpOr(g.Name, g.GroupID))
	}
	for _, l := range a.Licenses {
		r.Attributes = append(r.Attributes, "license "+l.Op+" "+cmpOr(l.Name, l.SkuID))
	}
	return r
}

// resume takes over the steps of action i an earlier apply completed (or
// that are in effect), pr. It reports whether nothing is left to do.
func (e *executor) resume(i int, a plan.Action, pr Progress) bool {
	for st := range pr.Steps {
		e.doneSteps[i][st] = true
	}
	e.stepsDone[i] = len(e.doneSteps[i])
	if pr.ID != "" {
		e.results[i].ID = pr.ID
		if a.Action == plan.Create || a.Action == plan.Restore {
			e.created[plan.Fold(a.Key)] = pr.ID
		}
		if a.Action == plan.Create && pr.Steps[StepWrite] && e.opts.Created != nil {
			// Created by an earlier run: HR's writeback still needs
			// it; its initial password is not known here.
			e.opts.Created(a.Key, pr.ID, afterOf(a, e.schema.Roles.SignIn), afterOf(a, "mail"), "", createAttrs(a))
		}
	}
	if a.Action == plan.Restore && e.doneSteps[i][StepRestore] {
		e.created[plan.Fold(a.Key)] = a.ID
	}
	if e.stepsDone[i] >= Steps(a, e.schema) {
		e.results[i].Status = report.StatusDone
		e.results[i].Note = "already done by an earlier apply of this plan"
		e.resumed[i] = true
		return true
	}
	return false
}

// finalStatus settles the status of action i once the run is over, from
// the steps it completed in this run and earlier ones.
func (e *executor) finalStatus(i int) {
	r := &e.results[i]
	steps := Steps(e.p.Actions[i], e.schema)
	if r.Status == report.StatusFailed && e.stepsDone[i] > 0 {
		r.Status = report.StatusPartial // a step that ran alongside the failed one succeeded
	}
	if r.Status == report.StatusNotStarted && !e.started[i] && e.stepsDone[i] > 0 && e.stepsDone[i] < steps {
		// Begun by an earlier run, not carried on in this one.
		r.Status = report.StatusPartial
		r.Error = "begun by an earlier apply; " + e.unfinished(i)
	}
	if r.Status == report.StatusNotStarted && (e.started[i] || (e.stepsDone[i] > 0 && e.stepsDone[i] >= steps)) {
		r.Status = report.StatusDone
		if e.stepsDone[i] < steps {
			// Interrupted between steps, e.g. created but the manager
			// reference not yet set.
			r.Status = report.StatusPartial
			r.Error = e.unfinished(i)
		}
	}
	if r.Status == report.StatusNotStarted {
		r.Error = e.stopped() + " before this action was sent"
	}
}

// tally adds an action's final status to the report's totals.
func tally(rep *report.Report, status string) {
	switch status {
	case report.StatusDone:
		rep.Done++
	case report.StatusFailed:
		rep.Failed++
	case report.StatusPartial:
		rep.Partial++
	case report.StatusRefused:
		rep.Refused++
	default:
		rep.NotStarted++
	}
}

// stopped says why the run ended before all its writes were sent: the
// cause of its context (Ctrl-C's "interrupt signal received", the run's
// timeout, a journal that could not be written).
func (e *executor) stopped() string {
	cause := context.Cause(e.stop)
	switch {
	case cause == nil:
		return "the run ended"
	case errors.Is(cause, context.DeadlineExceeded):
		return "stopped at the run's timeout"
	case cause == context.Canceled: // a plain cancel (a signal's cause also "is" Canceled)
		return "stopped"
	default:
		return "stopped (" + cause.Error() + ")"
	}
}

// unfinished is the reason of action i, begun but cut between its steps:
// why the run stopped and which steps did not run, e.g. "stopped
// (interrupt signal received) before setting its manager reference".
func (e *executor) unfinished(i int) string {
	a := e.p.Actions[i]
	var left []string
	for _, st := range StepNames(a, e.schema) {
		if !e.doneSteps[i][st] {
			left = append(left, stepWords(a, st))
		}
	}
	return e.stopped() + " before " + andList(left)
}

// stepWords names a step of action a for people.
func stepWords(a plan.Action, step string) string {
	switch step {
	case StepWrite:
		if a.Action == plan.Create {
			return "creating the user"
		}
		return "writing its changes"
	case StepRestore:
		return "restoring it from deleted items"
	case StepDelete:
		return "deleting it"
	case StepRevoke:
		return "revoking its sign-in sessions"
	case StepManager:
		return "setting its manager reference"
	case StepLicenses:
		return "changing its licenses"
	}
	for _, g := range a.Groups {
		if GroupStep(g) == step {
			if g.Op == plan.OpAdd {
				return fmt.Sprintf("adding it to group %q", cmpOr(g.Name, g.GroupID))
			}
			return fmt.Sprintf("removing it from group %q", cmpOr(g.Name, g.GroupID))
		}
	}
	return step
}

// andList joins "a", "a and b", "a, b and c".
func andList(items []string) string {
	switch len(items) {
	case 0:
		return "its last step"
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

type executor struct {
	p    *plan.Plan
	w    Writer
	opts Options

	schema *identity.Schema
	// stop is the caller's context: once it ends nothing new is sent and
	// retry waits end. write is the context writes run on (see Grace).
	stop, write context.Context

	mu         sync.Mutex
	results    []report.Result
	stepsDone  []int             // steps each action completed
	started    []bool            // actions with a request sent
	created    map[string]string // folded key -> id of users created (or found) in this apply
	failedKeys map[string]bool   // folded keys whose create failed or was refused
	conflicts  map[int]error     // creates answered "already exists", to look into
	doneSteps  []map[string]bool // names of each action's completed steps
	resumed    map[int]bool      // actions an earlier apply completed
	total      int
	done       int
}

// isDone reports whether action i's step already completed; the caller
// holds e.mu or runs between phases.
func (e *executor) isDone(i int, name string) bool { return e.doneSteps[i][name] }

// stepDone records a completed step; the caller holds e.mu.
func (e *executor) stepDone(i int, name, id string) {
	if e.doneSteps[i][name] {
		return
	}
	e.doneSteps[i][name] = true
	e.stepsDone[i]++
	if e.opts.Journal != nil {
		e.opts.Journal(i, name, id)
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Steps is the number of writes an action takes (see StepNames).
// Progress displays count these.
func Steps(a plan.Action, s *identity.Schema) int { return len(StepNames(a, s)) }

// step is one write of one action.
type step struct {
	action int
	// name is the step's journal name (StepWrite, ...); "" for lookups
	// that are not steps of their own.
	name string
	op   directory.Op
	// onOK runs (under e.mu) when the write succeeded; it may turn the
	// outcome into an error (nil: success).
	onOK func(o directory.Outcome) error
	// onErr runs (under e.mu) on failure; returning true means handled
	// (e.g. queued for another look), not failed.
	onErr func(err error) bool
	// check, if set, tells an answer that may only mean an earlier attempt
	// already did the write (a retry after a lost answer: the restore or
	// delete is "not found", the license to remove is "not held"): it
	// returns the read that settles it and whether the read shows the
	// write in place.
	check func(err error) (read directory.Op, holds func(directory.Outcome) bool, ok bool)
}

// doubt is a step whose failure may mean it already happened.
type doubt struct {
	s     step
	err   error
	holds func(directory.Outcome) bool
}

// run sends steps as one set of independent requests and settles each.
func (e *executor) run(steps []step) {
	if len(steps) == 0 || e.stop.Err() != nil {
		return
	}
	ops := make([]directory.Op, len(steps))
	for i, s := range steps {
		ops[i] = s.op
	}
	var doubts []doubt
	e.w.Do(e.write, ops, directory.DoOptions{Stop: e.stop}, func(j int, o directory.Outcome) {
		s := steps[j]
		if errors.Is(o.Err, directory.ErrNotSent) {
			return // never sent: the action stays not started (or partial)
		}
		e.mu.Lock()
		e.started[s.action] = true
		err := o.Err
		if err == nil && s.onOK != nil {
			err = s.onOK(o)
		}
		switch {
		case err == nil && s.name != "":
			id := o.ID
			if id == "" && (s.name == StepWrite || s.name == StepRestore) {
				id = e.results[s.action].ID
			}
			e.stepDone(s.action, s.name, id)
		case err == nil:
			e.stepsDone[s.action]++
		case s.onErr != nil && s.onErr(err):
		default:
			if s.check != nil {
				if read, holds, ok := s.check(err); ok {
					doubts = append(doubts, doubt{s: step{action: s.action, name: s.name, op: read}, err: err, holds: holds})
					break
				}
			}
			e.fail(s.action, err)
		}
		e.done++
		done, total := e.done, e.total
		e.mu.Unlock()
		if e.opts.Progress != nil {
			e.opts.Progress(done, total)
		}
	})
	e.settleDoubts(doubts)
}

// settleDoubts reads the directory for each doubtful failure: a write the
// directory shows in place is done (an earlier attempt made it), anything
// else is the failure it seemed.
func (e *executor) settleDoubts(doubts []doubt) {
	// The write may have landed seconds ago: a replica can still show the
	// old state, so a read that does not show it yet is repeated (1, 2, 4 s)
	// before the failure stands.
	for attempt := 0; len(doubts) > 0; attempt++ {
		ops := make([]directory.Op, len(doubts))
		for i, d := range doubts {
			ops[i] = d.s.op
		}
		last := attempt >= 3 || e.stop.Err() != nil
		var again []doubt
		answered := make([]bool, len(doubts))
		e.w.Do(e.write, ops, directory.DoOptions{}, func(j int, o directory.Outcome) {
			d := doubts[j]
			e.mu.Lock()
			defer e.mu.Unlock()
			answered[j] = true
			switch {
			case d.holds(o):
				e.stepDone(d.s.action, d.s.name, "")
				if e.results[d.s.action].Note == "" {
					e.results[d.s.action].Note = "found already done (an earlier attempt's answer was lost)"
				}
			case last:
				e.fail(d.s.action, d.err)
			default:
				again = append(again, d)
			}
		})
		e.mu.Lock()
		for j, d := range doubts {
			if !answered[j] {
				e.fail(d.s.action, d.err)
			}
		}
		e.mu.Unlock()
		if len(again) == 0 {
			return
		}
		if !e.opts.Sleep(e.stop, time.Second<<attempt) {
			e.mu.Lock()
			for _, d := range again {
				e.fail(d.s.action, d.err)
			}
			e.mu.Unlock()
			return
		}
		doubts = again
	}
}

// settled reports whether action i already failed or was refused; the
// caller holds e.mu.
func (e *executor) settled(i int) bool {
	st := e.results[i].Status
	return st == report.StatusFailed || st == report.StatusPartial || st == report.StatusRefused
}

// fail records an error; the caller holds e.mu.
func (e *executor) fail(i int, err error) {
	r := &e.results[i]
	r.Status = report.StatusFailed
	if e.stepsDone[i] > 0 {
		r.Status = report.StatusPartial
	}
	r.Error = err.Error()
	r.ErrorCode = directory.Code(err)
	if e.p.Actions[i].Action == plan.Create {
		e.failedKeys[plan.Fold(e.p.Actions[i].Key)] = true
	}
}

// needsNewUser reports whether an action's manager step involves a user
// created (or restored) in this apply, so it must wait for the first phase.
func needsNewUser(a plan.Action) bool {
	return a.Action == plan.Create || a.Action == plan.Restore || (a.Manager != nil && a.Manager.Key != "" && a.Manager.ID == "")
}

// restorePhase brings back the soft-deleted users of rehires: their
// patches, managers and groups follow in the later phases.
func (e *executor) restorePhase() {
	var steps []step
	for i, a := range e.p.Actions {
		if a.Action != plan.Restore || e.results[i].Status == report.StatusRefused || e.resumed[i] || e.isDone(i, StepRestore) {
			continue
		}
		target := e.p.Match.Target
		steps = append(steps, step{action: i, name: StepRestore, op: directory.Op{Kind: directory.OpRestore, UserID: a.ID},
			onOK: func(directory.Outcome) error {
				e.created[plan.Fold(a.Key)] = a.ID
				e.results[i].Note = "restored from deleted items"
				return nil
			},
			check: func(err error) (directory.Op, func(directory.Outcome) bool, bool) {
				if !errors.Is(err, directory.ErrNotFound) {
					return directory.Op{}, nil, false
				}
				// No longer in deleted items: restored already?
				return directory.Op{Kind: directory.OpGet, UserID: a.ID, Select: []string{target}}, func(o directory.Outcome) bool {
					if o.Err == nil && len(o.Users) == 1 && plan.Fold(o.Users[0].Attrs.Get(target)) == plan.Fold(a.Key) {
						e.created[plan.Fold(a.Key)] = a.ID
						return true
					}
					return false
				}, true
			}})
	}
	e.run(steps)
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, a := range e.p.Actions {
		if a.Action == plan.Restore && !e.isDone(i, StepRestore) && e.results[i].Status != report.StatusRefused && !e.settled(i) && e.stop.Err() == nil {
			e.fail(i, errors.New("restore: no answer"))
		}
		if a.Action == plan.Restore && !e.isDone(i, StepRestore) {
			e.failedKeys[plan.Fold(a.Key)] = true
		}
	}
}

// licensesInPlace checks a refused assignLicense ("User does not have a
// corresponding license" when a retry after a lost answer removes a license
// again): done if the user's direct licenses are already as planned.
func licensesInPlace(id string, add, remove []string) func(error) (directory.Op, func(directory.Outcome) bool, bool) {
	return func(err error) (directory.Op, func(directory.Outcome) bool, bool) {
		if !errors.Is(err, directory.ErrRejected) {
			return directory.Op{}, nil, false
		}
		return directory.Op{Kind: directory.OpGet, UserID: id, Licenses: true}, func(o directory.Outcome) bool {
			if o.Err != nil || len(o.Users) != 1 {
				return false
			}
			has := map[string]bool{}
			for _, l := range o.Users[0].Licenses {
				has[strings.ToLower(l)] = true
			}
			for _, l := range add {
				if !has[strings.ToLower(l)] {
					return false
				}
			}
			for _, l := range remove {
				if has[strings.ToLower(l)] {
					return false
				}
			}
			return true
		}, true
	}
}

// restoreWritePhase patches and enables the users just restored, retrying
// through replication lag: a restored object can be briefly "not found".
func (e *executor) restoreWritePhase() {
	var todo []pending
	e.mu.Lock()
	for i, a := range e.p.Actions {
		if a.Action != plan.Restore || len(patchOf(a)) == 0 || e.isDone(i, StepWrite) || e.results[i].Status == report.StatusRefused || e.resumed[i] {
			continue
		}
		if !e.live(i) || e.stop.Err() != nil {
			if !e.isDone(i, StepRestore) && e.results[i].Status != report.StatusRefused {
				e.total-- // the restore failed: no patch
			}
			continue
		}
		todo = append(todo, pending{i: i, name: StepWrite, op: directory.Op{Kind: directory.OpUpdate, UserID: a.ID, Set: patchOf(a)}, fresh: true})
	}
	e.mu.Unlock()
	e.runLagged(todo)
}

// pending is a step that may meet Entra's replication lag.
type pending struct {
	i     int
	name  string
	op    directory.Op
	fresh bool // the user (or its manager) was created or restored in this run
	// notFound handles a final 404 (nil: a failure).
	notFound func(err error) bool
	// check is the step's check of a doubtful failure (see step.check).
	check func(err error) (directory.Op, func(directory.Outcome) bool, bool)
}

// runLagged sends steps, retrying those about fresh users that answer 404
// (1, 2, 4, 8, 16 s) while Entra replicates them.
func (e *executor) runLagged(todo []pending) {
	for attempt := 0; len(todo) > 0; attempt++ {
		var lagged []pending
		var steps []step
		for _, t := range todo {
			t := t
			s := step{action: t.i, name: t.name, op: t.op, check: t.check}
			s.onErr = func(err error) bool {
				if t.fresh && attempt < e.opts.LagRetries && errors.Is(err, directory.ErrNotReplicated) && t.op.Kind != directory.OpRemoveManager {
					lagged = append(lagged, t)
					e.done-- // counted again when retried
					return true
				}
				if t.notFound != nil {
					return t.notFound(err)
				}
				return false
			}
			steps = append(steps, s)
		}
		e.run(steps)
		if len(lagged) == 0 {
			return
		}
		if !e.opts.Sleep(e.stop, time.Second<<attempt) {
			// Stopped while waiting: those steps stay undone.
			return
		}
		todo = lagged
	}
}

// live reports whether action i may run its next steps: not refused,
// not failed, not already complete, and (a restore) its user restored.
// The caller holds e.mu or runs between phases.
func (e *executor) live(i int) bool {
	a := e.p.Actions[i]
	if e.results[i].Status == report.StatusRefused || e.resumed[i] || e.settled(i) {
		return false
	}
	return a.Action != plan.Restore || e.isDone(i, StepRestore)
}

// firstPhase sends every create, every patch, every delete and the manager
// references between existing users: none depends on another.
func (e *executor) firstPhase() error {
	var steps []step
	for i, a := range e.p.Actions {
		if !e.live(i) {
			continue
		}
		switch {
		case e.isDone(i, StepWrite), e.isDone(i, StepDelete), a.Action == plan.Restore:
			// (A restore's patch ran in restoreWritePhase.)
		case a.Action == plan.Create:
			attrs := createAttrs(a)
			pw, err := e.opts.Password()
			if err != nil {
				return fmt.Errorf("generate password: %w", err)
			}
			steps = append(steps, step{action: i, name: StepWrite, op: directory.Op{Kind: directory.OpCreate, Attrs: attrs, Password: pw},
				onOK: func(o directory.Outcome) error {
					e.created[plan.Fold(a.Key)] = o.ID
					e.results[i].ID = o.ID
					e.results[i].Note = NotePasswordSet
					if e.opts.Created != nil {
						e.opts.Created(a.Key, o.ID, afterOf(a, e.schema.Roles.SignIn), afterOf(a, "mail"), pw, createAttrs(a))
					}
					return nil
				},
				onErr: func(err error) bool {
					if !errors.Is(err, directory.ErrConflict) {
						return false
					}
					// The UPN is taken: maybe by this very user, created by an
					// earlier apply or by a retry whose first answer was lost.
					e.conflicts[i] = err
					return true
				}})
		case a.Action == plan.Delete:
			steps = append(steps, step{action: i, name: StepDelete, op: directory.Op{Kind: directory.OpDelete, UserID: a.ID},
				onOK: func(directory.Outcome) error {
					e.results[i].Note = e.deleteNote()
					return nil
				},
				check: func(err error) (directory.Op, func(directory.Outcome) bool, bool) {
					if !errors.Is(err, directory.ErrNotFound) {
						return directory.Op{}, nil, false
					}
					// Gone already: the goal holds.
					return directory.Op{Kind: directory.OpGet, UserID: a.ID, Select: []string{"id"}}, func(o directory.Outcome) bool {
						return errors.Is(o.Err, directory.ErrNotFound)
					}, true
				}})
		case len(patchOf(a)) > 0:
			steps = append(steps, step{action: i, name: StepWrite, op: directory.Op{Kind: directory.OpUpdate, UserID: a.ID, Set: patchOf(a)}})
		}
		if a.Manager != nil && !needsNewUser(a) && !e.isDone(i, StepManager) {
			steps = append(steps, e.managerStep(i, a.ID, a.Manager.ID))
		}
	}
	e.run(steps)
	return nil
}

// managerStep sets (or, with an empty managerID and key, removes) action
// i's manager reference.
func (e *executor) managerStep(i int, id, managerID string) step {
	if e.p.Actions[i].Manager.Key == "" {
		return step{action: i, name: StepManager, op: directory.Op{Kind: directory.OpRemoveManager, UserID: id},
			onErr: func(err error) bool {
				if errors.Is(err, directory.ErrNotFound) { // no manager to remove: the goal holds
					e.stepDone(i, StepManager, "")
					return true
				}
				return false
			}}
	}
	return step{action: i, name: StepManager, op: directory.Op{Kind: directory.OpSetManager, UserID: id, ManagerID: managerID}}
}

// adoptConflicts looks at creates whose UPN was taken. If the user holding
// both the key and the UPN exists, an earlier apply created it (or a retry
// did): adopt it and write the rest of its attributes, never create a
// duplicate. Anyone else holding the UPN is a real conflict, reported.
func (e *executor) adoptConflicts() {
	e.mu.Lock()
	var conflicts []int
	for i := range e.p.Actions {
		if _, ok := e.conflicts[i]; ok {
			conflicts = append(conflicts, i)
		}
	}
	e.mu.Unlock()
	if len(conflicts) == 0 {
		return
	}
	adopted := e.findOwners(conflicts)
	e.run(e.adoptions(conflicts, adopted))
	e.mu.Lock()
	for i := range adopted {
		if !e.isDone(i, StepWrite) && !e.settled(i) {
			e.fail(i, fmt.Errorf("a user with this key and %s already exists (an earlier apply created it); the run stopped before it was adopted: run plan and apply again", e.schema.Roles.SignIn))
		}
	}
	e.mu.Unlock()
}

// findOwners looks up, for each create in conflicts, the user holding its
// key, and returns the ids of those that hold its UPN too (by action); the
// others fail with their conflict.
func (e *executor) findOwners(conflicts []int) map[int]string {
	target, signIn := e.p.Match.Target, e.schema.Roles.SignIn
	var finds []step
	adopted := map[int]string{} // written by onOK, under e.mu
	for _, i := range conflicts {
		a := e.p.Actions[i]
		upn := afterOf(a, signIn)
		conflictErr := e.conflicts[i]
		finds = append(finds, step{action: i,
			op: directory.Op{Kind: directory.OpFind, Attr: target, Value: a.Key, Select: []string{target, signIn}},
			onOK: func(o directory.Outcome) error {
				if len(o.Users) != 1 || plan.Fold(o.Users[0].Attrs.Get(target)) != plan.Fold(a.Key) ||
					!strings.EqualFold(o.Users[0].Attrs.Get(signIn), upn) {
					return conflictErr
				}
				adopted[i] = o.Users[0].ID
				return nil
			}})
	}
	e.mu.Lock()
	e.total += len(finds)
	e.mu.Unlock()
	e.run(finds)
	// Stopped before the look: the create stands refused by its conflict.
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, i := range conflicts {
		if _, ok := adopted[i]; !ok && !e.settled(i) {
			e.fail(i, fmt.Errorf("%w (the run stopped before hrsync could check whether the existing user is this worker; run plan and apply again)", e.conflicts[i]))
		}
	}
	return adopted
}

// adoptions are the updates that write the rest of each adopted user's
// attributes: the create's step, done as an update of the user found.
func (e *executor) adoptions(conflicts []int, adopted map[int]string) []step {
	var updates []step
	for _, i := range conflicts {
		id, ok := adopted[i]
		if !ok {
			continue
		}
		a := e.p.Actions[i]
		rest := map[string]*string{}
		for _, c := range a.Changes {
			if spec, ok := e.schema.Lookup(c.Attribute); ok && !spec.CreateOnly && c.After != nil && c.Attribute != identity.Manager {
				rest[c.Attribute] = c.After
			}
		}
		e.mu.Lock()
		// The find counted as a step; the create step is this update.
		e.stepsDone[i]--
		e.total++
		e.results[i].ID = id
		e.mu.Unlock()
		updates = append(updates, step{action: i, name: StepWrite, op: directory.Op{Kind: directory.OpUpdate, UserID: id, Set: rest},
			onOK: func(directory.Outcome) error {
				e.created[plan.Fold(a.Key)] = id
				e.results[i].Note = "already created by an earlier apply; adopted"
				if e.opts.Created != nil {
					e.opts.Created(a.Key, id, afterOf(a, e.schema.Roles.SignIn), afterOf(a, "mail"), "", createAttrs(a))
				}
				return nil
			}})
	}
	return updates
}

// deleteNote says what a delete did: a soft delete, or one that cannot be
// undone.
func (e *executor) deleteNote() string {
	if w := e.schema.RestoreWindow; w > 0 {
		return fmt.Sprintf("deleted: restorable for %d days", int(w.Hours()/24))
	}
	return "deleted: it cannot be restored with its attributes"
}

// createAttrs are the attributes a create writes (the manager aside).
func createAttrs(a plan.Action) identity.Attrs {
	attrs := identity.AttrsOf(map[string]string{})
	for _, c := range a.Changes {
		if c.Attribute == identity.Manager || c.After == nil {
			continue
		}
		attrs.Set(c.Attribute, *c.After)
	}
	return attrs
}

func afterOf(a plan.Action, attr string) string {
	for _, c := range a.Changes {
		if c.Attribute == attr && c.After != nil {
			return *c.After
		}
	}
	return ""
}

// revokePhase ends the sign-in sessions of every user this apply
// disabled: a disabled account keeps its refresh tokens until then. It
// runs after the disables, so no new session can start in between.
func (e *executor) revokePhase() {
	if !e.schema.RevokesSessions {
		return // no such step (see StepNames): Active Directory has no sessions to end
	}
	var steps []step
	e.mu.Lock()
	for i, a := range e.p.Actions {
		if !slices.Contains(StepNames(a, e.schema), StepRevoke) || e.results[i].Status == report.StatusRefused || e.resumed[i] || e.isDone(i, StepRevoke) {
			continue
		}
		if e.settled(i) || (a.Action == plan.Disable && !e.isDone(i, StepWrite)) {
			if e.started[i] || e.settled(i) {
				e.total-- // the disable failed: no revoke
			}
			continue
		}
		steps = append(steps, step{action: i, name: StepRevoke, op: directory.Op{Kind: directory.OpRevokeSessions, UserID: a.ID}})
	}
	e.mu.Unlock()
	e.run(steps)
}

// latePhase sets the manager references that involve users created or
// restored in this apply, then every group membership and license change
// (after the patches, so a license finds its usageLocation), retrying
// through Entra's replication lag for new users.
func (e *executor) latePhase() {
	var todo []pending
	e.mu.Lock()
	stopped := e.stop.Err() != nil
	for i, a := range e.p.Actions {
		if e.results[i].Status == report.StatusRefused || e.resumed[i] {
			continue
		}
		late := e.lateSteps(i, a)
		if len(late) == 0 || stopped {
			continue // interrupted: those steps stay undone, reported partial or not started
		}
		id, ok := e.lateUser(i, a, len(late))
		if !ok {
			continue
		}
		fresh := a.Action == plan.Create || a.Action == plan.Restore
		for _, name := range late {
			todo = append(todo, e.latePending(i, a, id, name, fresh)...)
		}
	}
	e.mu.Unlock()
	e.runLagged(todo)
}

// lateSteps are action i's steps of the late phase not yet done: its
// licenses, groups, and a manager reference involving a new user. Called
// with e.mu held.
func (e *executor) lateSteps(i int, a plan.Action) []string {
	var late []string
	for _, name := range StepNames(a, e.schema) {
		if !e.isDone(i, name) && (name == StepLicenses || strings.HasPrefix(name, "group:") || (name == StepManager && needsNewUser(a))) {
			late = append(late, name)
		}
	}
	return late
}

// lateUser is the id of action i's user for its n late steps; false when
// they cannot run (the user's own write failed, was never sent, or made
// no user): they are then taken off the total. Called with e.mu held.
func (e *executor) lateUser(i int, a plan.Action, n int) (string, bool) {
	mainDone := true
	switch a.Action {
	case plan.Create:
		mainDone = e.isDone(i, StepWrite)
	case plan.Restore:
		mainDone = e.isDone(i, StepRestore)
	}
	if e.settled(i) || !mainDone {
		e.total -= n
		return "", false
	}
	id := a.ID
	if a.Action == plan.Create {
		id = e.created[plan.Fold(a.Key)]
	}
	if id == "" {
		e.total -= n
		e.fail(i, errors.New("the user was not created"))
		return "", false
	}
	return id, true
}

// latePending is what late step name of action i (user id) sends: none
// when its manager was not created (the action fails). fresh says the
// user is new, so a not-found is replication lag. Called with e.mu held.
func (e *executor) latePending(i int, a plan.Action, id, name string, fresh bool) []pending {
	switch {
	case name == StepManager:
		mid := a.Manager.ID
		if mid == "" && a.Manager.Key != "" {
			mid = e.created[plan.Fold(a.Manager.Key)]
		}
		switch {
		case mid == "" && e.failedKeys[plan.Fold(a.Manager.Key)]:
			e.total--
			e.fail(i, fmt.Errorf("set manager: manager %s was not created (its create failed or was refused)", a.Manager.Key))
			return nil
		case mid == "" && a.Manager.Key != "":
			e.total--
			e.fail(i, fmt.Errorf("set manager: manager %s was not created", a.Manager.Key))
			return nil
		}
		s := e.managerStep(i, id, mid)
		return []pending{{i: i, name: name, op: s.op, fresh: true, notFound: s.onErr}}
	case name == StepLicenses:
		var add, remove []string
		for _, l := range a.Licenses {
			if l.Op == plan.OpAdd {
				add = append(add, l.SkuID)
			} else {
				remove = append(remove, l.SkuID)
			}
		}
		return []pending{{i: i, name: name, op: directory.Op{Kind: directory.OpAssignLicense, UserID: id, AddSkus: add, RemoveSkus: remove}, fresh: fresh,
			check: licensesInPlace(id, add, remove)}}
	}
	var out []pending
	for _, g := range a.Groups {
		if GroupStep(g) != name {
			continue
		}
		kind := directory.OpAddMember
		if g.Op == plan.OpRemove {
			kind = directory.OpRemoveMember
		}
		out = append(out, pending{i: i, name: name, op: directory.Op{Kind: kind, GroupID: g.GroupID, UserID: id}, fresh: fresh})
	}
	return out
}

// patchOf is the attribute patch of an update, enable or disable.
func patchOf(a plan.Action) map[string]*string {
	set := map[string]*string{}
	for _, c := range a.Changes {
		if c.Attribute == identity.Manager {
			continue
		}
		set[c.Attribute] = c.After
	}
	return set
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// NewPassword makes a random 20-character initial password with upper and
// lower case letters, digits and symbols, from crypto/rand. It is sent to
// Graph once and never printed, logged or saved, unless the caller asks
// for it through Options.Created (hrsync apply --passwords-file).
//
// It never starts with a symbol: a passwords file opened in a spreadsheet
// would take a password starting with =, +, - or @ for a formula and show
// something else than the password set (about 6% of passwords did), and
// escaping the cell would change what the service desk reads out. The
// first character is a letter or digit; the symbol and the other classes
// are among the other 19.
func NewPassword() (string, error) {
	const (
		upper  = "ABCDEFGHJKLMNPQRSTUVWXYZ"
		lower  = "abcdefghijkmnopqrstuvwxyz"
		digits = "23456789"
		symbol = "!#$%&*+-=?@^_~"
	)
	all := upper + lower + digits + symbol
	classes := []string{upper, lower, digits, symbol}
	pick := func(set string) (byte, error) {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(set))))
		if err != nil {
			return 0, err
		}
		return set[n.Int64()], nil
	}
	out := make([]byte, 20)
	var err error
	if out[0], err = pick(upper + lower + digits); err != nil {
		return "", err
	}
	rest := out[1:]
	for i := range rest {
		set := all
		if i < len(classes) {
			set = classes[i]
		}
		if rest[i], err = pick(set); err != nil {
			return "", err
		}
	}
	// shuffle the rest so the classes are not at fixed positions
	for i := len(rest) - 1; i > 0; i-- {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		if err != nil {
			return "", err
		}
		j := n.Int64()
		rest[i], rest[j] = rest[j], rest[i]
	}
	return string(out), nil
}
