// Package engine wires the stages of an hrsync run together — source,
// mapping, target, plan, apply — without any command-line concerns, so the
// CLI, tests and later commands (explain) share one code path.
package engine

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hrsync/hrsync/internal/apply"
	"github.com/hrsync/hrsync/internal/config"
	"github.com/hrsync/hrsync/internal/entra"
	"github.com/hrsync/hrsync/internal/graphsim"
	"github.com/hrsync/hrsync/internal/guid"
	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/mapping"
	"github.com/hrsync/hrsync/internal/plan"
	"github.com/hrsync/hrsync/internal/source"
	csvsource "github.com/hrsync/hrsync/internal/source/csv"
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
	// wd is the working directory, for showing paths as a person typed them.
	wd string
}

// New loads the mapping named by the configuration.
func New(cfg *config.Config, log *slog.Logger, progress Progress, version string) (*Engine, error) {
	schema := identity.DefaultSchema()
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
	return &Engine{Cfg: cfg, Schema: schema, Mapping: m, Log: log, Progress: progress, Version: version, Now: time.Now, wd: wd}, nil
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
	}
	return nil, fmt.Errorf("source type %q is not supported", e.Cfg.Source.Type)
}

// SourceResult is the mapped content of the source.
type SourceResult struct {
	Name     string
	Summary  source.Summary
	Desired  []identity.Desired
	Rejected []plan.Rejected
}

// ReadSource reads and maps every record. A malformed source, or a mapping
// that names a column the source lacks, fails the whole read; a record whose
// expressions fail is rejected and reported, never dropped silently.
func (e *Engine) ReadSource(ctx context.Context) (*SourceResult, error) {
	src, err := e.Source()
	if err != nil {
		return nil, err
	}
	res := &SourceResult{Name: display(e.wd, e.Cfg.Source.Path)}
	if e.Cfg.Source.Path == "" {
		res.Name = src.String()
	}
	bar := e.Progress.Start("reading "+res.Name, -1)
	checked := false
	n := 0
	sum, err := src.Read(ctx, func(r *identity.Record) error {
		if !checked {
			if err := e.Mapping.CheckFields(r.Header, res.Name); err != nil {
				return err
			}
			checked = true
		}
		n++
		if n%1000 == 0 {
			bar.Set(n)
		}
		d, err := e.Mapping.Map(r)
		if err != nil {
			var re *mapping.RecordError
			key := ""
			if errors.As(err, &re) {
				key = re.Key
			}
			res.Rejected = append(res.Rejected, plan.Rejected{Prov: r.Prov, Key: key, Reason: err.Error()})
			return nil
		}
		res.Desired = append(res.Desired, d)
		return nil
	})
	bar.Set(n)
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
	if !checked {
		if err := e.Mapping.CheckFields(identity.NewHeader(sum.Header), res.Name); err != nil {
			return nil, err
		}
	}
	res.Summary = sum
	if sum.Records == 0 {
		// Refused here, before any caller contacts the tenant.
		return nil, fmt.Errorf("%s: %w", res.Name, plan.ErrEmptySource)
	}
	e.Log.Info("source read", "source", res.Name, "records", sum.Records, "mapped", len(res.Desired), "rejected", len(res.Rejected))
	return res, nil
}

// Target is an open connection to the directory.
type Target struct {
	Client *entra.Client
	// Info identifies the directory in plans.
	Info plan.Target
	// Close releases the target; for the sandbox it stops the emulator and
	// saves its state.
	Close func(context.Context) error
}

// OpenTarget connects to the configured directory. For the sandbox it
// starts the Graph emulator in-process on loopback, so the very same
// msgraph-sdk-go code path runs as against Entra ID.
func (e *Engine) OpenTarget(ctx context.Context) (*Target, error) {
	t := e.Cfg.Target
	switch t.Type {
	case "sandbox":
		if err := os.MkdirAll(filepath.Dir(t.State), 0o700); err != nil {
			return nil, fmt.Errorf("sandbox state folder: %w", err)
		}
		tok := make([]byte, 24)
		if _, err := rand.Read(tok); err != nil {
			return nil, fmt.Errorf("sandbox token: %w", err)
		}
		token := hex.EncodeToString(tok)
		srv, err := graphsim.New(graphsim.Options{StatePath: t.State, SeedPath: t.Seed, Token: token})
		if err != nil {
			return nil, fmt.Errorf("sandbox: %w", err)
		}
		base, err := srv.Start("127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("sandbox: %w", err)
		}
		c, err := entra.New(entra.Options{GraphURL: base, Auth: entra.Auth{Method: config.AuthAccessToken, Token: token}, Timeout: requestTimeout, Concurrency: t.Concurrency, Log: e.Log})
		if err != nil {
			_ = srv.Close(ctx)
			return nil, err
		}
		closeAll := func(ctx context.Context) error {
			c.Close()
			return srv.Close(ctx)
		}
		tgt := &Target{Client: c, Info: plan.Target{Type: "sandbox", Endpoint: "sandbox:" + t.State}, Close: closeAll}
		if tgt.Info.TenantID, err = c.Tenant(ctx); err != nil {
			_ = closeAll(ctx)
			return nil, err
		}
		return tgt, nil
	case "entra":
		c, err := entra.New(entra.Options{GraphURL: t.GraphURL, Auth: entra.Auth{Method: t.Auth, TenantID: t.TenantID, ClientID: t.ClientID}, Timeout: requestTimeout, Concurrency: t.Concurrency, Log: e.Log})
		if err != nil {
			return nil, err
		}
		// The tenant comes from the credentials themselves, so a plan is
		// tied to the directory it was made for whatever the config says.
		tenant, err := c.Tenant(ctx)
		if err != nil {
			return nil, err
		}
		// (A tenant named by its domain cannot be compared with a tid.)
		if want := cmp.Or(t.TenantID, os.Getenv("AZURE_TENANT_ID")); want != "" && !strings.EqualFold(want, tenant) && guid.Valid(want) {
			return nil, fmt.Errorf("target.tenant_id is %s, but the credentials are for tenant %s", want, tenant)
		}
		return &Target{Client: c, Info: plan.Target{Type: "entra", TenantID: tenant, Endpoint: t.GraphURL}, Close: func(context.Context) error { c.Close(); return nil }}, nil
	}
	return nil, fmt.Errorf("target type %q is not supported", t.Type)
}

// requestTimeout bounds each attempt of a Graph request; retries after
// throttling are bounded by the run's timeout.
const requestTimeout = 60 * time.Second

// ReadTarget reads every user with the attributes the mapping needs.
func (e *Engine) ReadTarget(ctx context.Context, t *Target) ([]identity.User, error) {
	bar := e.Progress.Start("reading Entra users", -1)
	users, err := t.Client.ReadUsers(ctx, e.Mapping.TargetAttrs(), e.Mapping.Manager != nil, bar.Set)
	bar.Done()
	if err != nil {
		return nil, fmt.Errorf("read target: %w", err)
	}
	e.Log.Info("target read", "endpoint", t.Info.Endpoint, "users", len(users))
	return users, nil
}

// Plan computes the plan from a mapped source and the target's users.
func (e *Engine) Plan(src *SourceResult, users []identity.User, t plan.Target) (*plan.Plan, error) {
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
	p, err := plan.Compute(plan.Input{
		Records:       src.Summary.Records,
		Desired:       src.Desired,
		Rejected:      src.Rejected,
		Users:         users,
		MatchAttr:     e.Mapping.Match.Target.Name,
		AltMatchAttrs: alt,
		Attrs:         specs,
		ManagerMapped: e.Mapping.Manager != nil,
		Policy:        e.Policy(),
		Now:           e.Now(),
	})
	if err != nil {
		if errors.Is(err, plan.ErrEmptySource) {
			return nil, fmt.Errorf("%s: %w", src.Name, err)
		}
		return nil, err
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

// Policy is the plan policy from the configuration.
func (e *Engine) Policy() plan.Policy {
	pol := e.Cfg.Policy
	return plan.Policy{Leavers: pol.Leavers, MaxLeavers: pol.MaxLeavers, MaxLeaversPercent: pol.MaxLeaversPercent,
		MaxCreates: pol.MaxCreates, MaxUpdates: pol.MaxUpdates, MaxSourceDropPercent: pol.MaxSourceDropPercent,
		CreateDisabled: pol.CreateDisabled}
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
	if p.Target.Type != t.Type || p.Target.Endpoint != t.Endpoint || p.Target.TenantID != t.TenantID {
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

// Recheck reads the target again and compares it with a saved plan: it
// returns the actions to refuse because their users changed since the plan,
// and recomputes the leaver guards with the policy in force now.
func (e *Engine) Recheck(ctx context.Context, p *plan.Plan, t *Target) ([]plan.Refusal, error) {
	users, err := e.ReadTarget(ctx, t)
	if err != nil {
		return nil, err
	}
	return plan.Recheck(p, users, e.Policy()), nil
}

// Apply carries out the plan against the target, except the refused actions.
//
// created, if given, is called for each joiner created or adopted (see
// apply.Options.Created).
func (e *Engine) Apply(ctx context.Context, p *plan.Plan, t *Target, refused []plan.Refusal, created ...apply.CreatedFunc) (*apply.Report, error) {
	ref := make(map[int]string, len(refused))
	for _, r := range refused {
		ref[r.Index] = r.Reason
	}
	total := 0
	for i, a := range p.Actions {
		if _, skip := ref[i]; !skip {
			total += apply.Steps(a)
		}
	}
	bar := e.Progress.Start("applying", total)
	defer bar.Done()
	opts := apply.Options{Progress: func(done, _ int) { bar.Set(done) }, Now: e.Now, Refused: ref}
	if len(created) > 0 {
		opts.Created = func(key, id, upn, mail, password string) {
			for _, f := range created {
				f(key, id, upn, mail, password)
			}
		}
	}
	rep, err := apply.Execute(ctx, p, t.Client, opts)
	if rep != nil {
		e.Log.Info("apply finished", "done", rep.Done, "failed", rep.Failed, "partial", rep.Partial, "refused", rep.Refused, "not_started", rep.NotStarted,
			"duration", rep.FinishedAt.Sub(rep.StartedAt).Round(time.Millisecond))
	}
	if st := t.Client.Pacer().Stats(); st.Throttles > 0 {
		e.Log.Info("graph throttled this run; hrsync slowed down", "throttled_answers", st.Throttles, "rate_cuts", st.Cuts,
			"waited", st.Paused.Round(time.Second), "final_rate_per_s", int(t.Client.Pacer().Rate()))
	}
	return rep, err
}

type noProgress struct{}

func (noProgress) Start(string, int) Counter { return noCounter{} }

type noCounter struct{}

func (noCounter) Set(int) {}
func (noCounter) Done()   {}
