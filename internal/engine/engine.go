// Package engine wires the stages of an hrsync run together — source,
// mapping, target, plan, apply — without any command-line concerns, so the
// CLI, tests and later commands (explain) share one code path.
package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hrsync/hrsync/internal/apply"
	"github.com/hrsync/hrsync/internal/config"
	"github.com/hrsync/hrsync/internal/directory"
	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/mapping"
	"github.com/hrsync/hrsync/internal/plan"
	"github.com/hrsync/hrsync/internal/report"
	"github.com/hrsync/hrsync/internal/source"
	csvsource "github.com/hrsync/hrsync/internal/source/csv"
	ldapsource "github.com/hrsync/hrsync/internal/source/ldap"
	restsource "github.com/hrsync/hrsync/internal/source/rest"
	xlsxsource "github.com/hrsync/hrsync/internal/source/xlsx"
)

// Progress reports progress of a long step; total is -1 when unknown.
type Progress interface {
	Start(what string, total int) Counter
}

// Counter is one running progress display.
type Counter interface {
	Set(n int)
	Done()
}

// Engine runs hrsync for one configuration.
type Engine struct {
	Cfg      *config.Config
	Schema   *identity.Schema
	Mapping  *mapping.Mapping
	Log      *slog.Logger
	Progress Progress
	Version  string
	Now      func() time.Time
	// Refresh is how plans read the directory's users: RefreshAuto (the
	// default) reads only the changes since the last plan when the user
	// cache allows it, RefreshFull reads every user (and renews the
	// cache).
	Refresh string
	// CacheDir is where the user cache lives ("" for
	// <config folder>/.hrsync/cache; NoCache turns it off).
	CacheDir string
	// wd is the working directory, for showing paths as a person typed them.
	wd string
	// open connects to the directory.
	open Opener
}

// New loads the mapping named by the configuration; open connects to the
// directory when a command needs it.
func New(cfg *config.Config, log *slog.Logger, progress Progress, version string, open Opener) (*Engine, error) {
	schema, err := identity.SchemaOf(cfg.Target.Type, cfg.Target.Directory.LDAP.RDNAttribute)
	if err != nil {
		return nil, err
	}
	m, err := mapping.Load(cfg.Mapping, schema)
	if err != nil {
		return nil, err
	}
	wd, _ := os.Getwd()
	m.File = display(wd, cfg.Mapping)
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if progress == nil {
		progress = noProgress{}
	}
	return &Engine{Cfg: cfg, Schema: schema, Mapping: m, Log: log, Progress: progress, Version: version, Now: time.Now, wd: wd, open: open}, nil
}

// display shows a path relative to the working directory wd, as a person
// would type it, unless that climbs more than two folders up; then it
// shows the absolute path.
func display(wd, p string) string {
	if wd == "" {
		return p
	}
	r, err := filepath.Rel(wd, p)
	if err != nil || strings.HasPrefix(r, filepath.Join("..", "..", "..")) {
		return p
	}
	return r
}

// Source opens the configured source.
func (e *Engine) Source() (source.Source, error) {
	switch e.Cfg.Source.Type {
	case "csv":
		return csvsource.New(csvsource.Options{Path: e.Cfg.Source.Path, Display: display(e.wd, e.Cfg.Source.Path), Delimiter: e.Cfg.Source.Delimiter})
	case "xlsx":
		return xlsxsource.New(xlsxsource.Options{Path: e.Cfg.Source.Path, Display: display(e.wd, e.Cfg.Source.Path), Sheet: e.Cfg.Source.Sheet, HeaderRow: e.Cfg.Source.HeaderRow})
	case "rest":
		rc, err := restsource.Parse(e.Cfg.Source.REST, os.Getenv)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.Cfg.Source.RESTWhere, err)
		}
		return restsource.New(rc, restsource.Options{Log: e.Log})
	case "ldap":
		lc, err := ldapsource.Parse(e.Cfg.Source.LDAP, ldapsource.Env{Dir: e.Cfg.Dir, Getenv: os.Getenv, Where: e.Cfg.Where})
		if err != nil {
			return nil, err
		}
		return ldapsource.New(lc, ldapsource.Options{Log: e.Log})
	}
	return nil, fmt.Errorf("source type %q is not supported", e.Cfg.Source.Type)
}

// SourceResult is the mapped content of the source.
type SourceResult struct {
	Name     string
	Summary  source.Summary
	Desired  []identity.Desired
	Rejected []plan.Rejected
	// Now is the clock the records were mapped with (what Now() gave):
	// the plan made from them records it as created_at.
	Now time.Time
	// Warnings are the mapping's warnings about these records (see
	// mapping.EveryRunCheck); ReadSource also logs them.
	Warnings []mapping.Warning
	// SourceWarnings are the source's warnings about single records (an
	// LDAP reference to an entry outside the read set), with the record's
	// key where it has one; plans show them.
	SourceWarnings []plan.Warning
}

// ReadSource reads and maps every record. A malformed source, or a mapping
// that names a column the source lacks, fails the whole read; a record whose
// expressions fail is rejected and reported, never dropped silently.
func (e *Engine) ReadSource(ctx context.Context) (*SourceResult, error) {
	return e.readSource(ctx, e.Now())
}

// readSource reads and maps the source with now as the mapping's clock
// (Now()): one instant for the whole read, the plan's.
func (e *Engine) readSource(ctx context.Context, now time.Time) (*SourceResult, error) {
	return e.readSourceWith(ctx, now, nil)
}

// readSourceWith is readSource; checked, if not nil, is called once the
// source is open and its first record (or its header, when it has none)
// passed the mapping's field check: what can be learnt of a bad source
// quickly, before anyone contacts the directory. It is not called when the
// read fails before.
func (e *Engine) readSourceWith(ctx context.Context, now time.Time, checked func()) (*SourceResult, error) {
	src, err := e.Source()
	if err != nil {
		return nil, err
	}
	res := &SourceResult{Name: display(e.wd, e.Cfg.Source.Path)}
	if e.Cfg.Source.Path == "" {
		res.Name = src.String()
	}
	bar := e.Progress.Start("reading "+res.Name, -1)
	// A source that emits only once it has read everything advances the
	// bar itself, as entries arrive.
	progress, early := src.(source.Progress)
	if early {
		progress.SetProgress(bar.Set)
	}
	res.Now = now // one clock for the plan: every record's Now(), and its created_at
	m := &recordMapper{e: e, res: res, checked: checked, bar: bar, early: early,
		everyRun: e.Mapping.NewEveryRunCheck(now), grow: newGrowth(e.Cfg.Source.Path), shared: newSharing()}
	sum, err := src.Read(ctx, m.record)
	bar.Set(m.n)
	bar.Done()
	if err != nil {
		// Source and mapping errors already name the file and line.
		var se *source.Error
		var me *mapping.Error
		if errors.As(err, &se) || errors.As(err, &me) {
			return nil, err
		}
		return nil, fmt.Errorf("read %s: %w", src, err)
	}
	if !m.fieldsChecked {
		if err := e.Mapping.CheckFields(identity.NewHeader(sum.Header), res.Name); err != nil {
			return nil, err
		}
	}
	res.Warnings = m.everyRun.Warnings()
	res.Summary = sum
	res.SourceWarnings = sourceWarnings(sum.Warnings, res)
	for _, w := range res.Warnings {
		e.Log.Warn(w.String())
	}
	if sum.Records == 0 {
		// Refused here, before any caller contacts the tenant.
		return nil, fmt.Errorf("%s: %w", res.Name, plan.ErrEmptySource)
	}
	e.Log.Info("source read", "source", res.Name, "records", sum.Records, "mapped", len(res.Desired), "rejected", len(res.Rejected))
	return res, nil
}

// recordMapper maps the records of one source read into res: checks
// the fields on the first record, advances the bar, maps each record and
// keeps it, or the reason it was rejected.
type recordMapper struct {
	e             *Engine
	res           *SourceResult
	checked       func() // see readSourceWith
	fieldsChecked bool
	bar           Counter
	early         bool // the source advances the bar itself
	n             int
	everyRun      *mapping.EveryRunCheck
	grow          *growth
	shared        *sharing
}

// record takes one record of the source.
func (m *recordMapper) record(r *identity.Record) error {
	if !m.fieldsChecked {
		if err := m.e.Mapping.CheckFields(r.Header, m.res.Name); err != nil {
			return err
		}
		m.fieldsChecked = true
		if m.checked != nil {
			m.checked()
		}
	}
	m.n++
	if m.n%1000 == 0 && !m.early {
		m.bar.Set(m.n)
	}
	m.res.Desired = m.grow.next(m.res.Desired, r)
	m.everyRun.Add(r)
	d, err := m.e.Mapping.Map(r, m.res.Now)
	if err != nil {
		var re *mapping.RecordError
		key := ""
		if errors.As(err, &re) {
			key = re.Key
		}
		m.res.Rejected = append(m.res.Rejected, plan.Rejected{Prov: r.Prov, Key: key, Reason: err.Error()})
		return nil
	}
	m.shared.desired(&d)
	m.res.Desired = append(m.res.Desired, d)
	return nil
}

// sourceWarnings turns the source's warnings into plan warnings, with the
// key of the record each is about.
func sourceWarnings(ws []source.Warning, res *SourceResult) []plan.Warning {
	if len(ws) == 0 {
		return nil
	}
	keys := make(map[identity.Provenance]string, len(res.Desired)+len(res.Rejected))
	for _, d := range res.Desired {
		keys[d.Prov] = d.Key
	}
	for _, r := range res.Rejected {
		keys[r.Prov] = r.Key
	}
	out := make([]plan.Warning, len(ws))
	for i, w := range ws {
		msg := w.Msg
		if w.Field != "" {
			msg = w.Field + ": " + msg
		}
		out[i] = plan.Warning{Code: w.Code, Key: keys[w.Prov], Message: msg, Sources: []identity.Provenance{w.Prov}}
	}
	return out
}

// Opener connects to the directory a configuration names (see package
// targets); the engine knows no adapter.
type Opener func(ctx context.Context, cfg *config.Config, log *slog.Logger) (directory.Directory, error)

// OpenTarget connects to the configured directory. The engine adopts the
// directory's schema, which may refine the one its type names (Active
// Directory's restore window depends on its Recycle Bin).
func (e *Engine) OpenTarget(ctx context.Context) (directory.Directory, error) {
	if e.open == nil {
		return nil, errors.New("engine: no directory opener")
	}
	d, err := e.open(ctx, e.Cfg, e.Log)
	if err != nil {
		return nil, err
	}
	e.Schema = d.Schema()
	return d, nil
}

// PlanTarget identifies the directory in plans.
func PlanTarget(d directory.Directory) plan.Target {
	i := d.Info()
	return plan.Target{Type: i.Type, TenantID: i.TenantID, Endpoint: i.Endpoint, Naming: i.Naming}
}

// readAttrs are the user attributes hrsync reads: those the mapping needs,
// the leave date when leavers are deleted after a while, and the usage
// location when the mapping has license rules.
func (e *Engine) readAttrs() []string {
	attrs := e.Mapping.TargetAttrs()
	if ld := e.Schema.Roles.LeaveDate; e.stampsLeaveDate() && !slices.Contains(attrs, ld) {
		attrs = append(attrs, ld)
	}
	if len(e.Mapping.Licenses) > 0 && !slices.Contains(attrs, "usageLocation") {
		attrs = append(attrs, "usageLocation") // a license needs one
	}
	return attrs
}

// query is what a read of the directory returns of each user.
func (e *Engine) query() directory.Query {
	return directory.Query{Attrs: e.readAttrs(), Manager: e.Mapping.Manager != nil, Licenses: len(e.Mapping.Licenses) > 0}
}

// ReadTarget reads every user with the attributes the mapping needs.
func (e *Engine) ReadTarget(ctx context.Context, t directory.Directory) ([]identity.User, error) {
	bar := e.Progress.Start("reading users of "+e.Schema.Name, -1)
	users, err := t.ReadUsers(ctx, e.query(), bar.Set)
	bar.Done()
	if err != nil {
		return nil, fmt.Errorf("read target: %w", err)
	}
	e.Log.Info("target read", "endpoint", t.Info().Endpoint, "users", len(users))
	return users, nil
}

// stampsLeaveDate says whether hrsync records on leavers absent from the
// source the day it disabled them (employeeLeaveDateTime): delete_after_days
// counts from it, and without accountEnabled in the mapping it is how hrsync
// tells its own disables (a leaver who may come back) from an admin's.
func (e *Engine) stampsLeaveDate() bool {
	if e.Schema.Roles.LeaveDate == "" {
		return false
	}
	if e.Cfg.Policy.DeleteAfterDays > 0 {
		return true
	}
	for _, a := range e.Mapping.Attrs {
		if a.Spec.Name == e.Schema.Roles.Enabled {
			return false
		}
	}
	return true
}

// Snapshot is the directory as read for a plan: the users, the deleted
// users it can restore, and the groups and licenses the mapping's rules
// name.
type Snapshot struct {
	Users   []identity.User
	Deleted []identity.DeletedUser
	Groups  map[string]plan.Entitlement
	Members map[string]map[string]bool
	Skus    map[string]plan.Entitlement
	// saved is closed once the user cache holds this read (nil: nothing
	// is being saved); see WaitSaved.
	saved chan struct{}
}

// WaitSaved waits until the user cache holds the read the snapshot came
// from: the cache is written while the plan is computed.
func (d *Snapshot) WaitSaved() {
	if d != nil && d.saved != nil {
		<-d.saved
	}
}

// ReadDirectory reads the users (from the user cache and the changes
// since, when it can: see readUsers; the cache is renewed in the
// background, see Snapshot.WaitSaved) and, for the lifecycle, the
// restorable deleted users, the groups the rules name with their members,
// and the subscribed SKUs the license rules name, all side by side. A
// group or SKU a rule names that the tenant lacks fails the read: the
// mapping is wrong. The first failure cancels the other reads.
func (e *Engine) ReadDirectory(ctx context.Context, t directory.Directory) (*Snapshot, error) {
	d := &Snapshot{}
	g := newGroup(ctx)
	var read *userRead
	g.Go(func(ctx context.Context) (err error) {
		if read, err = e.readUsers(ctx, t); err == nil {
			newSharing().managerIDs(read.users)
		}
		return err
	})
	g.Go(func(ctx context.Context) (err error) {
		d.Deleted, err = e.readDeleted(ctx, t)
		return err
	})
	g.Go(func(ctx context.Context) (err error) {
		if d.Groups, d.Skus, err = e.resolveEntitlements(ctx, t); err != nil {
			return err
		}
		d.Members, err = e.readMembers(ctx, t, d.Groups)
		return err
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var save func()
	var err error
	if d.Users, save, err = e.settle(ctx, t, read, d.Deleted); err != nil {
		return nil, err
	}
	if save != nil {
		// Plan computes while the cache is written (neither changes the
		// users); the caller waits with WaitSaved.
		d.saved = make(chan struct{})
		go func() {
			defer close(d.saved)
			save()
		}()
	}
	return d, nil
}

// readMembers reads the members of the groups side by side (a few at a
// time).
func (e *Engine) readMembers(ctx context.Context, t directory.Directory, groups map[string]plan.Entitlement) (map[string]map[string]bool, error) {
	if len(groups) == 0 {
		return nil, nil
	}
	out := map[string]map[string]bool{}
	var mu sync.Mutex
	g := newGroup(ctx)
	sem := make(chan struct{}, 4)
	for _, gr := range groups {
		if _, dup := out[gr.ID]; dup {
			continue
		}
		out[gr.ID] = nil
		g.Go(func(ctx context.Context) error {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return ctx.Err()
			}
			defer func() { <-sem }()
			ids, err := t.GroupMembers(ctx, gr.ID)
			if err != nil {
				return fmt.Errorf("read members of group %q (%s): %w", gr.Name, gr.ID, err)
			}
			set := make(map[string]bool, len(ids))
			for _, id := range ids {
				set[id] = true
			}
			mu.Lock()
			out[gr.ID] = set
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	e.Log.Info("groups read", "groups", len(out))
	return out, nil
}

// readDeleted reads the users in deleted items, with the attributes the
// plan diffs, so a returning worker is restored rather than duplicated.
func (e *Engine) readDeleted(ctx context.Context, t directory.Directory) ([]identity.DeletedUser, error) {
	del, err := t.ReadDeleted(ctx, e.query())
	if err != nil {
		return nil, fmt.Errorf("read deleted users: %w", err)
	}
	return del, nil
}

// MakePlan reads the source and the directory side by side, and plans;
// it also returns the directory as read. The directory is contacted only
// once the source is open and its first record passed the mapping's field
// check (or the source ended): a missing, unreadable or empty source, or
// one without the columns the mapping needs, is reported without
// contacting it. A source that fails later cancels the directory read and
// is the error reported, whatever the directory did; a directory that
// fails cancels the source read.
func (e *Engine) MakePlan(ctx context.Context) (*plan.Plan, *Snapshot, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	type sourceRead struct {
		res *SourceResult
		err error
	}
	srcDone := make(chan sourceRead, 1)
	ready := make(chan struct{})
	var once sync.Once
	open := func() { once.Do(func() { close(ready) }) }
	go func() {
		res, err := e.readSourceWith(ctx, e.Now(), open)
		if err != nil {
			cancel(errSourceFailed)
		}
		open()
		srcDone <- sourceRead{res, err}
	}()
	<-ready
	if context.Cause(ctx) == errSourceFailed {
		r := <-srcDone
		return nil, nil, r.err
	}
	dir, t, dirErr := e.openAndRead(ctx)
	if dirErr != nil && context.Cause(ctx) != errSourceFailed {
		cancel(errDirectoryFailed)
	}
	r := <-srcDone
	if r.err != nil && !errors.Is(context.Cause(ctx), errDirectoryFailed) {
		return nil, nil, r.err // the source's own failure wins
	}
	if dirErr != nil {
		return nil, nil, dirErr
	}
	if r.err != nil {
		return nil, nil, r.err
	}
	p, err := e.Plan(r.res, dir, PlanTarget(t))
	dir.WaitSaved()
	return p, dir, err
}

var (
	errSourceFailed    = errors.New("the source read failed")
	errDirectoryFailed = errors.New("the directory read failed")
)

// openAndRead connects to the directory, reads it and closes it.
func (e *Engine) openAndRead(ctx context.Context) (*Snapshot, directory.Directory, error) {
	t, err := e.OpenTarget(ctx)
	if err != nil {
		return nil, nil, err
	}
	dir, err := e.ReadDirectory(ctx, t)
	if err = CloseTarget(ctx, t, err); err != nil {
		return nil, nil, err
	}
	return dir, t, nil
}

// Plan computes the plan from a mapped source and the target's directory.
func (e *Engine) Plan(src *SourceResult, dir *Snapshot, t plan.Target) (*plan.Plan, error) {
	p, err := plan.Compute(e.input(src, dir, cmp.Or(src.Now, e.Now())))
	if err != nil {
		if errors.Is(err, plan.ErrEmptySource) {
			return nil, fmt.Errorf("%s: %w", src.Name, err)
		}
		return nil, err
	}
	p.Warn(src.SourceWarnings...)
	for _, w := range src.Warnings {
		p.Warn(plan.Warning{Code: plan.WarnEveryRun, Message: w.String()})
	}
	p.ToolVersion = e.Version
	p.Target = t
	p.Match = plan.MatchInfo{Source: e.Mapping.Match.Source.Source(), Target: e.Mapping.Match.Target.Name}
	p.Inputs = plan.Inputs{
		Config:  plan.InputFile{Path: e.Cfg.File, Digest: digest(e.Cfg.Raw)},
		Mapping: plan.InputFile{Path: e.Mapping.File, Digest: e.Mapping.Digest},
		Source:  plan.InputFile{Path: src.Name, Digest: src.Summary.Digest, Records: src.Summary.Records},
	}
	return p, nil
}

// Validate computes the plan of a mapped source against an empty directory,
// without leavers: that surfaces every record-level problem and nothing
// else, for "hrsync validate", which contacts no directory.
func (e *Engine) Validate(src *SourceResult) (*plan.Plan, error) {
	in := e.input(src, &Snapshot{Users: []identity.User{}}, cmp.Or(src.Now, e.Now()))
	in.Policy.Leavers = "ignore"
	in.Offline = true
	p, err := plan.Compute(in)
	if err != nil {
		return nil, err
	}
	p.Warn(src.SourceWarnings...)
	for _, w := range src.Warnings {
		p.Warn(plan.Warning{Code: plan.WarnEveryRun, Message: w.String()})
	}
	return p, nil
}

// input is what plan.Compute needs, from the mapped source and the
// directory, with now as the plan's clock.
func (e *Engine) input(src *SourceResult, dir *Snapshot, now time.Time) plan.Input {
	var specs []identity.AttrSpec
	for _, a := range e.Mapping.Attrs {
		if a.Spec.Kind != identity.KindRef {
			specs = append(specs, a.Spec)
		}
	}
	var alt []string
	for _, r := range e.Mapping.Rules[1:] {
		alt = append(alt, r.Target.Name)
	}
	return plan.Input{
		Records:        src.Summary.Records,
		Desired:        src.Desired,
		Rejected:       src.Rejected,
		Users:          dir.Users,
		Schema:         e.Schema,
		Deleted:        dir.Deleted,
		Groups:         dir.Groups,
		Members:        dir.Members,
		Skus:           dir.Skus,
		StampLeaveDate: e.stampsLeaveDate(),
		MatchAttr:      e.Mapping.Match.Target.Name,
		AltMatchAttrs:  alt,
		Attrs:          specs,
		ManagerMapped:  e.Mapping.Manager != nil,
		Policy:         e.Policy(),
		Now:            now,
	}
}

// Policy is the plan policy from the configuration.
func (e *Engine) Policy() plan.Policy {
	pol := e.Cfg.Policy
	return plan.Policy{Leavers: pol.Leavers, MaxLeavers: pol.MaxLeavers, MaxLeaversPercent: pol.MaxLeaversPercent,
		MaxCreates: pol.MaxCreates, MaxUpdates: pol.MaxUpdates, MaxSourceDropPercent: pol.MaxSourceDropPercent,
		CreateDisabled: pol.CreateDisabled, PrehireDays: pol.PrehireDays, PrehireEnabled: pol.PrehireAccount == "enabled",
		DeleteAfterDays: pol.DeleteAfterDays, LeaverRemoveGroups: pol.LeaverRemoveGroups, LeaverRemoveLicenses: pol.LeaverRemoveLicenses,
		Timezone: pol.Timezone, LeaverPlacement: e.Cfg.Target.Directory.LeaversOU}
}

func digest(b []byte) string {
	if b == nil {
		return ""
	}
	return plan.Digest(b)
}

// CheckPlan refuses a saved plan that was made for another directory, or
// with another configuration or mapping than the one in force now.
func (e *Engine) CheckPlan(p *plan.Plan, t plan.Target) error {
	if p.Target.Type != t.Type || p.Target.Endpoint != t.Endpoint || p.Target.TenantID != t.TenantID || p.Target.Naming != t.Naming {
		return fmt.Errorf("the plan was made for %s %s (tenant %q), but the configuration targets %s %s (tenant %q); make a new plan",
			p.Target.Type, p.Target.Endpoint, p.Target.TenantID, t.Type, t.Endpoint, t.TenantID)
	}
	if p.Inputs.Mapping.Digest != e.Mapping.Digest {
		return fmt.Errorf("the mapping %s changed since the plan was made; make a new plan", e.Mapping.File)
	}
	if d := digest(e.Cfg.Raw); p.Inputs.Config.Digest != d {
		return fmt.Errorf("the configuration %s changed since the plan was made; make a new plan", e.Cfg.File)
	}
	return nil
}

// Verdict is what apply learns of a saved plan before it writes anything.
type Verdict struct {
	// Underived are the actions the mapping does not give from the source
	// now (an edited plan, or a source that changed since): apply refuses
	// the whole plan.
	Underived []plan.Refusal
	// SourceChanged says the source's digest is not the plan's.
	SourceChanged bool
	// Refused and InEffect are the recheck's: actions whose users changed
	// since the plan, and those an earlier apply already carried out.
	plan.RecheckResult
}

// VerifyPlan checks a saved plan against what holds now, before apply
// writes anything: the groups and licenses it changes must be the ones
// the mapping's rules name; every action must be one the mapping gives
// from the source, read again now with the plan's clock (see
// plan.Rederive); and each action's user must be as the plan saw it (see
// plan.RecheckWith). skip holds actions an earlier apply of this plan
// began (see journal): hrsync's own writes changed their users, so they
// are not rechecked for staleness (their derivation is still checked).
// Only the users the plan touches are read again, in $batch requests,
// unless reading the whole directory takes fewer requests.
func (e *Engine) VerifyPlan(ctx context.Context, p *plan.Plan, t directory.Directory, skip map[int]bool) (*Verdict, error) {
	groups, skus, err := e.CheckEntitlements(ctx, p, t)
	if err != nil {
		return nil, err
	}
	src, err := e.readSource(ctx, p.CreatedAt)
	if err != nil {
		return nil, fmt.Errorf("read the source again to check the plan: %w", err)
	}
	dir, partial, err := e.reread(ctx, p, t, src)
	if err != nil {
		return nil, err
	}
	dir.Groups, dir.Skus = groups, skus
	v := &Verdict{SourceChanged: src.Summary.Digest != p.Inputs.Source.Digest}
	v.RecheckResult = plan.RecheckWith(p, plan.RecheckInput{Users: dir.Users, Deleted: dir.Deleted, Policy: e.Policy(), Partial: partial, Skip: skip})
	underived, err := plan.Rederive(p, e.input(src, dir, p.CreatedAt), e.volatile())
	if err != nil {
		return nil, err
	}
	// An action refused as stale is not carried out whatever it says; the
	// directory changed under it, so it need not derive either.
	stale := make(map[int]bool, len(v.Refused))
	for _, r := range v.Refused {
		stale[r.Index] = true
	}
	for _, r := range underived {
		if !stale[r.Index] {
			v.Underived = append(v.Underived, r)
		}
	}
	return v, nil
}

// volatile names the attributes whose mapped value is random.
func (e *Engine) volatile() map[string]bool {
	out := map[string]bool{}
	for _, a := range e.Mapping.Attrs {
		if a.Volatile {
			out[a.Spec.Name] = true
		}
	}
	return out
}

// Recheck reads the target again and compares it with a saved plan (see
// plan.RecheckWith); VerifyPlan does this and more.
func (e *Engine) Recheck(ctx context.Context, p *plan.Plan, t directory.Directory, skip map[int]bool) (plan.RecheckResult, error) {
	dir, partial, err := e.reread(ctx, p, t, nil)
	if err != nil {
		return plan.RecheckResult{}, err
	}
	return plan.RecheckWith(p, plan.RecheckInput{Users: dir.Users, Deleted: dir.Deleted, Policy: e.Policy(), Partial: partial, Skip: skip}), nil
}

// reread reads again the part of the directory a saved plan needs: its
// users (or all users, when that takes fewer requests; partial says which)
// and, when it creates, restores or deletes users, the deleted items. src,
// if not nil, is the source as read now: the values its records would
// pick with SelectUniqueValue are looked up too, so the plan can be
// derived again.
func (e *Engine) reread(ctx context.Context, p *plan.Plan, t directory.Directory, src *SourceResult) (*Snapshot, bool, error) {
	dir := &Snapshot{}
	var err error
	for _, a := range p.Actions {
		if a.Action == plan.Restore || a.Action == plan.Delete || a.Action == plan.Create {
			if dir.Deleted, err = e.readDeleted(ctx, t); err != nil {
				return nil, false, err
			}
			break
		}
	}
	// Users of actions an earlier apply began are read too: the recheck
	// passes them over, but the plan is derived again with them.
	if !targeted(p, t.Info()) {
		dir.Users, err = e.ReadTarget(ctx, t)
		return dir, false, err
	}
	dir.Users, err = e.readTouched(ctx, p, t, candidateFinds(p, src, e.readAttrs(), e.Schema))
	return dir, true, err
}

// candidateFinds looks up the values SelectUniqueValue offers the plan's
// records, up to the one the plan chose: who holds them now decides which
// one the mapping gives. Each candidate is looked up in every attribute of
// its unique namespace (Entra's userPrincipalName and mail share one).
func candidateFinds(p *plan.Plan, src *SourceResult, attrs []string, schema *identity.Schema) []directory.Op {
	if src == nil {
		return nil
	}
	byKey := make(map[string]*identity.Desired, len(src.Desired))
	for i := range src.Desired {
		if len(src.Desired[i].Candidates()) > 0 {
			byKey[plan.Fold(src.Desired[i].Key)] = &src.Desired[i]
		}
	}
	if len(byKey) == 0 {
		return nil
	}
	var ops []directory.Op
	seen := map[string]bool{}
	find := func(attr, v string) {
		if k := attr + "\x00" + strings.ToLower(v); !seen[k] {
			seen[k] = true
			ops = append(ops, directory.Op{Kind: directory.OpFind, Attr: attr, Value: v, Select: attrs})
		}
	}
	for _, a := range p.Actions {
		d := byKey[plan.Fold(a.Key)]
		if d == nil {
			continue
		}
		for attr, cands := range d.Candidates() {
			holders := []string{attr}
			if i := schema.Namespace(attr); i >= 0 {
				holders = schema.Unique[i].Attrs
			}
			for _, v := range cands {
				for _, h := range holders {
					find(h, v)
				}
				if strings.EqualFold(v, afterOf(a, attr)) {
					break
				}
			}
		}
	}
	return ops
}

// afterOf is the value action a gives attr ("" for none).
func afterOf(a plan.Action, attr string) string {
	for _, c := range a.Changes {
		if c.Attribute == attr && c.After != nil {
			return *c.After
		}
	}
	return ""
}

// resolveEntitlements finds the groups and subscribed SKUs the mapping's
// rules name, keyed by the reference in lower case. A reference matching
// nothing (or, for a group name, several groups) is an error naming it.
func (e *Engine) resolveEntitlements(ctx context.Context, t directory.Directory) (groups, skus map[string]plan.Entitlement, err error) {
	if refs := e.Mapping.GroupRefs(); len(refs) > 0 {
		found, err := t.ResolveGroups(ctx, refs)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: group rules: %w", e.Mapping.File, err)
		}
		groups = make(map[string]plan.Entitlement, len(refs))
		for _, ref := range refs {
			g := found[ref]
			groups[strings.ToLower(ref)] = plan.Entitlement{ID: g.ID, Name: g.DisplayName}
		}
	}
	if refs := e.Mapping.LicenseRefs(); len(refs) > 0 {
		licensed, ok := t.(directory.Licensed)
		if !ok {
			return nil, nil, fmt.Errorf("%s: license rules: %s assigns no licenses", e.Mapping.File, e.Schema.Name)
		}
		subscribed, err := licensed.Skus(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("read subscribed SKUs: %w", err)
		}
		skus = make(map[string]plan.Entitlement, len(refs))
		var missing []string
		for _, ref := range refs {
			i := slices.IndexFunc(subscribed, func(s directory.Sku) bool {
				return strings.EqualFold(s.ID, ref) || strings.EqualFold(s.PartNumber, ref)
			})
			if i < 0 {
				missing = append(missing, ref)
				continue
			}
			skus[strings.ToLower(ref)] = plan.Entitlement{ID: subscribed[i].ID, Name: subscribed[i].PartNumber}
		}
		if len(missing) > 0 {
			names := make([]string, len(subscribed))
			for i, s := range subscribed {
				names[i] = s.PartNumber
			}
			return nil, nil, fmt.Errorf("%s: license rules name %s, which the tenant does not subscribe to (subscribed: %s)", e.Mapping.File, strings.Join(missing, ", "), strings.Join(names, ", "))
		}
	}
	return groups, skus, nil
}

// CheckEntitlements refuses a plan whose group or license changes are not
// the ones the mapping's rules name now: a hand-edited plan must not add
// someone to a group it shows under another name. It returns the groups
// and SKUs the rules name.
func (e *Engine) CheckEntitlements(ctx context.Context, p *plan.Plan, t directory.Directory) (groups, skus map[string]plan.Entitlement, err error) {
	groups, skus, err = e.resolveEntitlements(ctx, t)
	if err != nil {
		return nil, nil, err
	}
	named := func(set map[string]plan.Entitlement, id, name string) bool {
		for _, x := range set {
			if strings.EqualFold(x.ID, id) && x.Name == name {
				return true
			}
		}
		return false
	}
	for _, a := range p.Actions {
		for _, g := range a.Groups {
			if !named(groups, g.GroupID, g.Name) {
				return nil, nil, fmt.Errorf("the plan changes the membership of group %s (%q) for %s, which is not a group the mapping's rules name; make a new plan", g.GroupID, g.Name, a.Key)
			}
		}
		for _, l := range a.Licenses {
			if !named(skus, l.SkuID, l.Name) {
				return nil, nil, fmt.Errorf("the plan changes license %s (%s) for %s, which is not a license the mapping's rules name; make a new plan", l.SkuID, l.Name, a.Key)
			}
		}
	}
	return groups, skus, nil
}

// targeted says whether re-reading the plan's users one by one (as many
// per request as the directory takes, 20 per $batch in Graph) takes fewer
// requests than reading the whole directory.
func targeted(p *plan.Plan, info directory.Info) bool {
	lookups := 0
	for _, a := range p.Actions {
		lookups += 2 // by id and by key, or a joiner's key and UPN
		if a.Action == plan.Restore {
			lookups++
		}
	}
	per, page := max(info.LookupsPerRequest, 1), max(info.UsersPerPage, 1)
	batches := (lookups + per - 1) / per
	pages := (p.Summary.Managed + page - 1) / page
	return batches <= pages
}

// readTouched reads again, in $batch requests, the users the plan's
// actions touch: each user by id, each joiner's key and UPN, each manager
// the plan sets and each manager it replaces.
func (e *Engine) readTouched(ctx context.Context, p *plan.Plan, t directory.Directory, extra []directory.Op) ([]identity.User, error) {
	attrs := e.readAttrs()
	withManager := e.Mapping.Manager != nil
	match := p.Match.Target
	ops := extra
	seen := map[string]bool{}
	get := func(id string) {
		if id != "" && !seen[id] {
			seen[id] = true
			ops = append(ops, directory.Op{Kind: directory.OpGet, UserID: id, Select: attrs, Expand: withManager})
		}
	}
	for _, a := range p.Actions {
		switch a.Action {
		case plan.Create:
			ops = append(ops, directory.Op{Kind: directory.OpFind, Attr: match, Value: a.Key, Select: attrs})
			if a.UserPrincipalName != "" {
				ops = append(ops, directory.Op{Kind: directory.OpFind, Attr: e.Schema.Roles.SignIn, Value: a.UserPrincipalName, Select: attrs})
			}
		default:
			get(a.ID)
			// Does anyone else hold the key now (a takeover, a restore,
			// a key given to a second account)?
			ops = append(ops, directory.Op{Kind: directory.OpFind, Attr: match, Value: a.Key, Select: attrs})
			if a.Action == plan.Restore && a.UserPrincipalName != "" {
				ops = append(ops, directory.Op{Kind: directory.OpFind, Attr: e.Schema.Roles.SignIn, Value: a.UserPrincipalName, Select: attrs})
			}
		}
		if a.Manager != nil {
			// The manager it sets, and the one it replaces (an earlier
			// apply of the plan may have replaced it already).
			get(a.Manager.ID)
			get(a.Manager.BeforeID)
		}
	}
	gets, finds, err := e.runLookups(ctx, t, ops)
	if err != nil {
		return nil, err
	}
	// The managers being replaced, so the plan's "before" can be checked.
	ops = ops[:0]
	for _, u := range gets {
		if u.ManagerID != "" {
			get(u.ManagerID)
		}
	}
	moreGets, moreFinds, err := e.runLookups(ctx, t, ops)
	if err != nil {
		return nil, err
	}
	// A user read by id carries its manager; the same user found by a
	// filter does not: the first copy of a user, the one read by id, is
	// kept.
	all := append(append(gets, moreGets...), append(finds, moreFinds...)...)
	users := make([]identity.User, 0, len(all))
	kept := make(map[string]bool, len(all))
	for _, u := range all {
		if !kept[u.ID] {
			kept[u.ID] = true
			users = append(users, u)
		}
	}
	e.Log.Info("plan's users read again", "lookups", len(all), "users", len(users))
	return users, nil
}

// runLookups sends reads and gathers the users found, those read by id
// apart from those found by a filter; a user not found is simply absent,
// any other failure fails the recheck.
func (e *Engine) runLookups(ctx context.Context, t directory.Directory, ops []directory.Op) (gets, finds []identity.User, err error) {
	if len(ops) == 0 {
		return nil, nil, nil
	}
	var mu sync.Mutex
	var errs []error
	bar := e.Progress.Start("reading the plan's users again", len(ops))
	n := 0
	t.Do(ctx, ops, directory.DoOptions{}, func(i int, o directory.Outcome) {
		mu.Lock()
		defer mu.Unlock()
		n++
		bar.Set(n)
		switch {
		case o.Err == nil && ops[i].Kind == directory.OpGet:
			gets = append(gets, o.Users...)
		case o.Err == nil:
			finds = append(finds, o.Users...)
		case errors.Is(o.Err, directory.ErrNotFound):
		default:
			errs = append(errs, o.Err)
		}
	})
	bar.Done()
	if len(errs) > 0 {
		return nil, nil, fmt.Errorf("read the plan's users again: %w", errors.Join(errs...))
	}
	return gets, finds, ctx.Err()
}

// ApplyOptions are the extras of a resumable apply.
type ApplyOptions struct {
	Refused []plan.Refusal
	// Resume holds what an earlier apply of this plan did (journal) or
	// what the recheck found in effect.
	Resume map[int]apply.Progress
	// Journal records each completed step.
	Journal func(action int, step, id string)
}

// ApplyWith carries out the plan, skipping the refused actions and the
// steps already done.
func (e *Engine) ApplyWith(ctx context.Context, p *plan.Plan, t directory.Directory, ao ApplyOptions, created ...apply.CreatedFunc) (*report.Report, error) {
	ref := make(map[int]string, len(ao.Refused))
	for _, r := range ao.Refused {
		ref[r.Index] = r.Reason
	}
	total := 0
	for i, a := range p.Actions {
		if _, skip := ref[i]; !skip {
			total += apply.Steps(a, t.Schema()) - len(ao.Resume[i].Steps)
		}
	}
	bar := e.Progress.Start("applying", total)
	defer bar.Done()
	opts := apply.Options{Progress: func(done, _ int) { bar.Set(done) }, Now: e.Now, Refused: ref, Resume: ao.Resume, Journal: ao.Journal, Schema: t.Schema()}
	if len(created) > 0 {
		opts.Created = func(key, id, upn, mail, password string, attrs identity.Attrs) {
			for _, f := range created {
				f(key, id, upn, mail, password, attrs)
			}
		}
	}
	rep, err := apply.Execute(ctx, p, t, opts)
	if rep != nil {
		e.Log.Info("apply finished", "done", rep.Done, "failed", rep.Failed, "partial", rep.Partial, "refused", rep.Refused, "not_started", rep.NotStarted,
			"duration", rep.FinishedAt.Sub(rep.StartedAt).Round(time.Millisecond))
	}
	return rep, err
}

type noProgress struct{}

func (noProgress) Start(string, int) Counter { return noCounter{} }

type noCounter struct{}

func (noCounter) Set(int) {}
func (noCounter) Done()   {}
