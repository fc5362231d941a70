package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/hrsync/hrsync/internal/apply"
	"github.com/hrsync/hrsync/internal/directory"
	"github.com/hrsync/hrsync/internal/journal"
	"github.com/hrsync/hrsync/internal/plan"
	"github.com/hrsync/hrsync/internal/report"
)

// ApplyRun is one apply: of a saved plan file, or of a plan made now.
type ApplyRun struct {
	// PlanFile is the saved, reviewed plan to carry out; "" plans now.
	PlanFile string
	// AllowOverThresholds applies a plan a safety threshold blocks.
	AllowOverThresholds bool
	// Notice tells the person running hrsync something (nil: nothing).
	Notice func(format string, args ...any)
	// Approve, for a plan made now, shows it and asks; false cancels. Nil
	// approves (--auto-approve). A saved plan was approved by its review.
	Approve func(p *plan.Plan) (bool, error)
	// Prepare runs once every check has passed, right before the first
	// write (it opens the output files); an error stops the run with
	// nothing written.
	Prepare func(p *plan.Plan) error
	// Created receives each joiner created or adopted (see
	// apply.Options.Created).
	Created apply.CreatedFunc
}

// Applied is what an apply did.
type Applied struct {
	// Plan is the plan carried out (nil when none was read or made).
	Plan *plan.Plan
	// Report is each action's outcome; nil when nothing was applied.
	Report *report.Report
	// Stopped is why the run stopped early (Ctrl-C, the run's timeout),
	// nil when it ran to its end.
	Stopped error
}

// errJournalFailed is why a run stops whose journal cannot be written;
// the report's unfinished actions name it.
var errJournalFailed = errors.New("the journal could not be written")

// ErrCancelled is a plan made now that the person did not approve.
var ErrCancelled = errors.New("apply cancelled; nothing was changed")

// UnderivedError refuses a saved plan holding actions the mapping does not
// give from the source now: the plan was edited, or the source changed
// since. Nothing is applied, and no journal is begun.
type UnderivedError struct {
	Plan    *plan.Plan
	Verdict *Verdict
}

func (e *UnderivedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the plan holds %d action(s) the mapping does not give from the source now; nothing was applied:", len(e.Verdict.Underived))
	for _, r := range e.Verdict.Underived {
		a := e.Plan.Actions[r.Index]
		fmt.Fprintf(&b, "\n  %s %s: %s", a.Action, a.Key, r.Reason)
	}
	if e.Verdict.SourceChanged {
		b.WriteString("\nThe source changed since the plan was made: make a new plan, review it and apply that.")
	} else {
		b.WriteString("\nThe source is the one the plan was made from, so the plan file was edited: make a new plan, review it and apply that.")
	}
	return b.String()
}

// JournalError is a journal that could not be written: the run stopped,
// and what it did may not all be recorded (a re-run checks the directory).
type JournalError struct{ Err error }

func (e *JournalError) Error() string {
	return fmt.Sprintf("%v; a re-run checks the directory for what this one did", e.Err)
}

func (e *JournalError) Unwrap() error { return e.Err }

// Apply carries out one apply run: for a saved plan, it checks the plan
// against the target, the configuration, the mapping, its age, the source
// (every action must derive again) and the directory (stale actions are
// refused), and resumes what an earlier, interrupted apply of it began;
// for a plan made now, it reads, plans and asks. Then it writes, recording
// each step in the plan's journal.
func (e *Engine) Apply(ctx context.Context, run ApplyRun) (out *Applied, err error) {
	out = &Applied{}
	notice := run.Notice
	if notice == nil {
		notice = func(string, ...any) {}
	}
	saved, err := e.loadSaved(run.PlanFile)
	if err != nil {
		return out, err
	}
	if saved != nil {
		out.Plan = saved.plan
		defer func() { err = saved.release(err) }()
	}
	// Without a plan file, read the source first: a bad or empty source is
	// refused before the directory is contacted.
	var src *SourceResult
	if saved == nil {
		if src, err = e.ReadSource(ctx); err != nil {
			return out, err
		}
	}
	t, err := e.OpenTarget(ctx)
	if err != nil {
		return out, err
	}
	defer func() { err = CloseTarget(ctx, t, err) }()
	ao := ApplyOptions{Resume: map[int]apply.Progress{}}
	p, err := e.planToApply(ctx, saved, src, t, &ao, notice)
	if err != nil {
		return out, err
	}
	out.Plan = p
	if p.Summary.Changes() == 0 {
		notice("No changes to apply.\n")
		return out, nil
	}
	if err := authorize(run, p, saved == nil, notice); err != nil {
		return out, err
	}
	if saved != nil {
		// A journal that cannot be written stops the run like Ctrl-C:
		// going on would make steps a re-run cannot know about.
		jctx, stop := context.WithCancelCause(ctx)
		defer stop(nil)
		if ao.Journal, err = saved.begin(func() { stop(errJournalFailed) }); err != nil {
			return out, err
		}
		ctx = jctx
	}
	var created []apply.CreatedFunc
	if run.Created != nil {
		created = append(created, run.Created)
	}
	out.Report, err = e.ApplyWith(ctx, p, t, ao, created...)
	if saved != nil && saved.journal.Err() != nil {
		return out, &JournalError{Err: fmt.Errorf("the run stopped: %w", saved.journal.Err())}
	}
	if out.Report != nil && ctx.Err() != nil {
		out.Stopped = ctx.Err()
	}
	return out, err
}

// planToApply is the plan a run applies: the saved plan, checked against
// the directory (ao.Refused gets its stale actions, ao.Resume what an
// earlier run of it began), or, without one, a plan made now from src.
func (e *Engine) planToApply(ctx context.Context, saved *savedPlan, src *SourceResult, t directory.Directory, ao *ApplyOptions, notice func(string, ...any)) (*plan.Plan, error) {
	if saved != nil {
		var err error
		ao.Refused, err = e.checkSaved(ctx, saved, t, ao.Resume, notice)
		return saved.plan, err
	}
	dir, err := e.ReadDirectory(ctx, t)
	if err != nil {
		return nil, err
	}
	p, err := e.Plan(src, dir, PlanTarget(t))
	dir.WaitSaved()
	return p, err
}

// authorize lets a run apply plan p: over a safety threshold only when
// the run allows it (and says so), a plan made now (fresh) only once
// approved, and after run.Prepare.
func authorize(run ApplyRun, p *plan.Plan, fresh bool, notice func(string, ...any)) error {
	if !p.Applyable {
		if !run.AllowOverThresholds {
			return fmt.Errorf("the plan is blocked by a safety threshold: %s; review it, then pass --allow-over-thresholds to apply anyway", strings.Join(p.Blocked, "; "))
		}
		notice("Warning: applying a plan over a safety threshold because it was allowed: %s\n", strings.Join(p.Blocked, "; "))
		p.Applyable = true
	}
	if fresh && run.Approve != nil {
		ok, err := run.Approve(p)
		if err != nil {
			return err
		}
		if !ok {
			return ErrCancelled
		}
	}
	if run.Prepare != nil {
		return run.Prepare(p)
	}
	return nil
}

// savedPlan is a plan file being applied, with its journal.
type savedPlan struct {
	path    string
	plan    *plan.Plan
	digest  string
	journal *journal.Writer
	done    journal.Done
	begun   bool
}

// loadSaved reads a plan file and locks its journal (one apply of a plan
// at a time), then reads what an earlier, interrupted apply of it did.
// path "" is no plan file.
func (e *Engine) loadSaved(path string) (*savedPlan, error) {
	if path == "" {
		return nil, nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	s := &savedPlan{path: path, digest: plan.Digest(raw)}
	if s.plan, err = plan.Parse(path, raw); err != nil {
		return nil, err
	}
	if s.journal, err = journal.Lock(journal.Path(path), e.Now); err != nil {
		return nil, err
	}
	if s.done, err = journal.Load(journal.Path(path), s.digest, func(i int) string {
		if i < 0 || i >= len(s.plan.Actions) {
			return ""
		}
		return s.plan.Actions[i].Key
	}); err != nil {
		_ = s.journal.Discard()
		return nil, err
	}
	return s, nil
}

// begin writes the run's journal header and returns the step recorder;
// stop ends the run when the journal cannot be written.
func (s *savedPlan) begin(stop func()) (func(action int, step, id string), error) {
	if err := s.journal.Begin(s.digest); err != nil {
		return nil, err
	}
	s.begun = true
	return func(i int, step, id string) {
		s.journal.Step(i, s.plan.Actions[i].Key, step, id)
		if s.journal.Err() != nil {
			stop()
		}
	}, nil
}

// release closes the journal: one of a run that wrote nothing is removed
// (no empty journal is left behind).
func (s *savedPlan) release(err error) error {
	if !s.begun {
		_ = s.journal.Discard()
		return err
	}
	if jerr := s.journal.Close(); jerr != nil && err == nil {
		return &JournalError{Err: jerr}
	}
	return err
}

// checkSaved checks a saved plan before anything is written: made for this
// directory, configuration and mapping, not older than policy.max_plan_age
// (unless an earlier apply began it, and then only what was begun is
// finished), and every action derived again from the source and rechecked
// against the directory. It fills resume with what is already done and
// returns the actions to refuse.
func (e *Engine) checkSaved(ctx context.Context, s *savedPlan, t directory.Directory, resume map[int]apply.Progress, notice func(string, ...any)) ([]plan.Refusal, error) {
	p := s.plan
	if err := e.CheckPlan(p, PlanTarget(t)); err != nil {
		return nil, err
	}
	age := e.Now().Sub(p.CreatedAt)
	if age < -5*time.Minute {
		return nil, fmt.Errorf("the plan is dated %s, in the future (clock skew, or an edited plan); make a new plan", p.CreatedAt.Format(time.RFC3339))
	}
	maxAge := e.Cfg.Policy.MaxPlanAge
	tooOld := maxAge > 0 && age > maxAge
	if tooOld && len(s.done) == 0 {
		return nil, fmt.Errorf("the plan was made %s ago (%s), over policy.max_plan_age (%s): hire and leave dates have moved on since; make a new plan",
			age.Round(time.Minute), p.CreatedAt.Format(time.RFC3339), maxAge)
	}
	skip := map[int]bool{}
	for i, d := range s.done {
		skip[i] = true
		resume[i] = apply.Progress{Steps: d.Steps, ID: d.ID}
	}
	if len(s.done) > 0 {
		notice("Resuming: an earlier apply of this plan did %d of its actions in part or whole (journal %s); done steps are not repeated.\n", len(s.done), journal.Path(s.path))
	}
	// Every action must be one the mapping gives from the source now, and
	// the directory may have changed since the plan: every action whose
	// user is no longer as the plan saw it is refused.
	v, err := e.VerifyPlan(ctx, p, t, skip)
	if err != nil {
		return nil, err
	}
	if len(v.Underived) > 0 {
		return nil, &UnderivedError{Plan: p, Verdict: v}
	}
	refused := v.Refused
	if tooOld {
		// Only what an earlier apply began is finished; the rest was
		// decided on dates that have moved on.
		for i := range p.Actions {
			if _, begun := s.done[i]; !begun {
				refused = append(refused, plan.Refusal{Index: i, Reason: fmt.Sprintf("the plan is older than policy.max_plan_age (%s); an earlier apply did not begin this action: make a new plan", maxAge)})
			}
		}
	}
	for _, r := range refused {
		a := p.Actions[r.Index]
		notice("Refusing %s %s: %s.\n", a.Action, a.Key, r.Reason)
	}
	for _, ie := range v.InEffect {
		steps := map[string]bool{}
		for _, st := range ie.Steps {
			steps[st] = true
		}
		resume[ie.Index] = apply.Progress{Steps: steps, ID: ie.ID}
	}
	return refused, nil
}

// CloseTarget releases the directory even after Ctrl-C, so the sandbox
// state is saved; a failure to save is an error, since nothing was
// persisted.
func CloseTarget(ctx context.Context, t directory.Directory, err error) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if cerr := t.Close(cctx); cerr != nil {
		cerr = fmt.Errorf("close target %s: %w (changes made in this run may not be saved)", t.Info().Endpoint, cerr)
		if err == nil {
			return cerr
		}
		return errors.Join(err, cerr)
	}
	return err
}
