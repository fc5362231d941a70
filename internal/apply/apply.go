// Package apply carries out a plan, exactly as reviewed: creates first (so
// managers exist), then attribute patches, then manager references. Each
// action's outcome is reported; a failure never stops unrelated actions.
package apply

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/hrsync/hrsync/internal/entra"
	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/plan"
)

// Writer is what apply needs of the directory.
type Writer interface {
	CreateUser(ctx context.Context, attrs identity.Attrs, password string) (string, error)
	UpdateUser(ctx context.Context, id string, set map[string]*string) error
	SetManager(ctx context.Context, id, managerID string) error
	RemoveManager(ctx context.Context, id string) error
	FindByAttr(ctx context.Context, attr, value string, attrs []string) ([]identity.User, error)
}

// Options tunes an apply.
type Options struct {
	// Concurrency is how many writes are in flight at once (default 4).
	Concurrency int
	// Password makes an initial password; nil means NewPassword.
	Password func() (string, error)
	// Progress, if not nil, is called after each action step.
	Progress func(done, total int)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Grace is how long writes already sent may run on after ctx ends
	// (Ctrl-C) before they are cancelled too. Default 30 s.
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
}

// Status of an action in the report.
const (
	StatusDone       = "done"
	StatusFailed     = "failed"
	StatusPartial    = "partial" // some steps done (e.g. created), a later one failed (e.g. the manager)
	StatusRefused    = "refused" // not attempted: the user changed since the plan
	StatusNotStarted = "not_started"
)

// Result is the outcome of one plan action.
type Result struct {
	Action string `json:"action"`
	Key    string `json:"key"`
	ID     string `json:"id,omitempty"`
	// Attributes lists the attributes written.
	Attributes []string `json:"attributes"`
	Status     string   `json:"status"`
	// Note says how an action converged, e.g. that a create found the user
	// already there from an earlier, interrupted apply.
	Note      string `json:"note,omitempty"`
	ErrorCode string `json:"error_code,omitempty"`
	Error     string `json:"error,omitempty"`
}

// Report is the outcome of one apply.
type Report struct {
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	Done       int       `json:"done"`
	Failed     int       `json:"failed"`
	Partial    int       `json:"partial"`
	Refused    int       `json:"refused"`
	NotStarted int       `json:"not_started"`
	Results    []Result  `json:"results"`
}

// Incomplete is the number of actions not fully carried out.
func (r *Report) Incomplete() int { return r.Failed + r.Partial + r.Refused + r.NotStarted }

// Execute applies the plan. It returns an error only when the plan cannot
// be applied at all; per-action failures are in the report.
func Execute(ctx context.Context, p *plan.Plan, w Writer, opts Options) (*Report, error) {
	if !p.Applyable {
		return nil, fmt.Errorf("the plan is blocked: %v", p.Blocked)
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	if opts.Password == nil {
		opts.Password = NewPassword
	}
	if opts.LagRetries == 0 {
		opts.LagRetries = 5
	}
	if opts.Grace == 0 {
		opts.Grace = 30 * time.Second
	}
	// Writes run on their own context: when ctx ends nothing new starts, and
	// writes already sent get Grace to finish, so the report can tell their
	// outcome; after that they are cancelled as well.
	wctx, wcancel := context.WithCancel(context.WithoutCancel(ctx))
	defer wcancel()
	go func() {
		select {
		case <-ctx.Done():
			t := time.NewTimer(opts.Grace)
			defer t.Stop()
			select {
			case <-t.C:
				wcancel()
			case <-wctx.Done():
			}
		case <-wctx.Done():
		}
	}()
	if opts.Sleep == nil {
		opts.Sleep = sleep
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	e := &executor{p: p, w: w, opts: opts, schema: identity.DefaultSchema(), stop: ctx, write: wctx, stepsDone: map[int]int{},
		created: map[string]string{}, failedKeys: map[string]bool{}, progressed: map[int]bool{}, started: map[int]bool{}}
	e.results = make([]Result, len(p.Actions))
	for i, a := range p.Actions {
		e.results[i] = Result{Action: a.Action, Key: a.Key, ID: a.ID, Status: StatusNotStarted, Attributes: []string{}}
		for _, c := range a.Changes {
			e.results[i].Attributes = append(e.results[i].Attributes, c.Attribute)
		}
		if reason, refused := opts.Refused[i]; refused {
			e.results[i].Status = StatusRefused
			e.results[i].ErrorCode = "stale_plan"
			e.results[i].Error = reason
			if a.Action == plan.Create {
				e.failedKeys[plan.Fold(a.Key)] = true
			}
			continue
		}
		e.total += Steps(a)
	}
	rep := &Report{StartedAt: now().UTC()}
	e.phase(ctx, func(a plan.Action) bool { return a.Action == plan.Create }, e.create)
	e.phase(ctx, func(a plan.Action) bool { return a.Action != plan.Create && len(patchOf(a)) > 0 }, e.patch)
	e.phase(ctx, func(a plan.Action) bool { return a.Manager != nil }, e.manager)
	for i := range e.results {
		r := &e.results[i]
		if r.Status == StatusNotStarted && e.started[i] {
			r.Status = StatusDone
			if e.stepsDone[i] < Steps(p.Actions[i]) {
				// Interrupted between steps, e.g. created but the manager
				// reference not yet set.
				r.Status = StatusPartial
				r.Note = "interrupted before all its steps ran"
			}
		}
		switch r.Status {
		case StatusDone:
			rep.Done++
		case StatusFailed:
			rep.Failed++
		case StatusPartial:
			rep.Partial++
		case StatusRefused:
			rep.Refused++
		default:
			rep.NotStarted++
		}
	}
	rep.Results = e.results
	rep.FinishedAt = now().UTC()
	return rep, ctx.Err()
}

type executor struct {
	p    *plan.Plan
	w    Writer
	opts Options

	schema *identity.Schema
	// stop is the caller's context: once it ends nothing new starts and
	// retry waits end. write is the context writes run on (see Grace).
	stop, write context.Context
	// stepsDone counts the steps each action completed.
	stepsDone map[int]int

	mu         sync.Mutex
	results    []Result
	started    map[int]bool
	progressed map[int]bool      // actions with at least one step done
	created    map[string]string // folded key -> id of users created (or found) in this apply
	failedKeys map[string]bool   // folded keys whose create failed or was refused
	total      int
	done       int
}

// Steps is the number of writes an action takes: its create or patch, and
// its manager reference. Progress displays count these.
func Steps(a plan.Action) int {
	n := 0
	if a.Action == plan.Create || len(patchOf(a)) > 0 {
		n++
	}
	if a.Manager != nil {
		n++
	}
	return n
}

// phase runs step for every action sel picks, Concurrency at a time.
func (e *executor) phase(ctx context.Context, sel func(plan.Action) bool, step func(context.Context, int) error) {
	sem := make(chan struct{}, e.opts.Concurrency)
	var wg sync.WaitGroup
	for i, a := range e.p.Actions {
		if !sel(a) {
			continue
		}
		e.mu.Lock()
		st := e.results[i].Status
		e.mu.Unlock()
		if st == StatusFailed || st == StatusPartial || st == StatusRefused {
			continue // refused, or an earlier step of this action failed
		}
		if ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case sem <- struct{}{}:
		}
		if ctx.Err() != nil {
			break
		}
		e.mu.Lock()
		e.started[i] = true
		e.mu.Unlock()
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			err := step(e.write, i)
			e.mu.Lock()
			if err != nil {
				e.fail(i, err)
			} else {
				e.progressed[i] = true
				e.stepsDone[i]++
			}
			e.done++
			done, total := e.done, e.total
			e.mu.Unlock()
			if e.opts.Progress != nil {
				e.opts.Progress(done, total)
			}
		}(i)
	}
	wg.Wait()
}

// fail records an error; the caller holds e.mu.
func (e *executor) fail(i int, err error) {
	r := &e.results[i]
	r.Status = StatusFailed
	if e.progressed[i] {
		r.Status = StatusPartial
	}
	r.Error = err.Error()
	var ge *entra.GraphError
	if errors.As(err, &ge) {
		r.ErrorCode = ge.Code
		if ge.DetailCode != "" {
			r.ErrorCode += "/" + ge.DetailCode
		}
	}
	if e.p.Actions[i].Action == plan.Create {
		e.failedKeys[plan.Fold(e.p.Actions[i].Key)] = true
	}
}

func (e *executor) create(ctx context.Context, i int) error {
	a := e.p.Actions[i]
	attrs := identity.Attrs{}
	for _, c := range a.Changes {
		if c.Attribute == identity.Manager || c.After == nil {
			continue
		}
		attrs[c.Attribute] = *c.After
	}
	pw, err := e.opts.Password()
	if err != nil {
		return fmt.Errorf("generate password: %w", err)
	}
	id, err := e.w.CreateUser(ctx, attrs, pw)
	note := ""
	if err != nil {
		if !entra.IsConflict(err) {
			return err
		}
		// The UPN is taken. If the user holding our key exists, an earlier
		// apply created it (or its response was lost): adopt it, never
		// create a duplicate.
		found, ferr := e.w.FindByAttr(ctx, e.p.Match.Target, a.Key, []string{e.p.Match.Target, "userPrincipalName"})
		if ferr != nil {
			return fmt.Errorf("%w (looking for an earlier create: %v)", err, ferr)
		}
		// Adopt only the user holding both this key and this UPN: anyone
		// else is a real conflict, reported as such.
		if len(found) != 1 || plan.Fold(found[0].Attrs[e.p.Match.Target]) != plan.Fold(a.Key) ||
			!strings.EqualFold(found[0].Attrs["userPrincipalName"], attrs["userPrincipalName"]) {
			return err
		}
		id = found[0].ID
		note = "already created by an earlier apply; adopted"
		rest := map[string]*string{}
		for k, v := range attrs {
			if spec, ok := e.schema.Lookup(k); ok && !spec.CreateOnly {
				rest[k] = &v
			}
		}
		if err := e.w.UpdateUser(ctx, id, rest); err != nil {
			return err
		}
	}
	e.mu.Lock()
	e.created[plan.Fold(a.Key)] = id
	e.results[i].ID = id
	e.results[i].Note = note
	e.mu.Unlock()
	return nil
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

func (e *executor) patch(ctx context.Context, i int) error {
	a := e.p.Actions[i]
	return e.w.UpdateUser(ctx, a.ID, patchOf(a))
}

func (e *executor) manager(ctx context.Context, i int) error {
	a := e.p.Actions[i]
	e.mu.Lock()
	id := a.ID
	if id == "" {
		id = e.created[plan.Fold(a.Key)]
	}
	mid := a.Manager.ID
	if mid == "" && a.Manager.Key != "" {
		mid = e.created[plan.Fold(a.Manager.Key)]
	}
	managerFailed := e.failedKeys[plan.Fold(a.Manager.Key)]
	_, userNew := e.created[plan.Fold(a.Key)]
	_, managerNew := e.created[plan.Fold(a.Manager.Key)]
	e.mu.Unlock()
	switch {
	case id == "":
		return errors.New("set manager: the user was not created")
	case a.Manager.Key == "":
		return e.w.RemoveManager(ctx, id)
	case mid == "" && managerFailed:
		return fmt.Errorf("set manager: manager %s was not created (its create failed or was refused)", a.Manager.Key)
	case mid == "":
		return fmt.Errorf("set manager: manager %s was not created", a.Manager.Key)
	}
	for attempt := 0; ; attempt++ {
		err := e.w.SetManager(ctx, id, mid)
		if err == nil || !entra.IsNotFound(err) || !(userNew || managerNew) || attempt >= e.opts.LagRetries {
			return err
		}
		if !e.opts.Sleep(e.stop, time.Second<<attempt) {
			return err
		}
	}
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
// Graph once and never printed, logged or saved.
func NewPassword() (string, error) {
	const (
		upper  = "ABCDEFGHJKLMNPQRSTUVWXYZ"
		lower  = "abcdefghijkmnopqrstuvwxyz"
		digits = "23456789"
		symbol = "!#$%&*+-=?@^_~"
	)
	all := upper + lower + digits + symbol
	classes := []string{upper, lower, digits, symbol}
	out := make([]byte, 20)
	for i := range out {
		set := all
		if i < len(classes) {
			set = classes[i]
		}
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(set))))
		if err != nil {
			return "", err
		}
		out[i] = set[n.Int64()]
	}
	// shuffle so the classes are not at fixed positions
	for i := len(out) - 1; i > 0; i-- {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		if err != nil {
			return "", err
		}
		j := n.Int64()
		out[i], out[j] = out[j], out[i]
	}
	return string(out), nil
}
