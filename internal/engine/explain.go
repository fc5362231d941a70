package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/mapping"
	"github.com/hrsync/hrsync/internal/plan"
)

// Explanation is what hrsync does with one key, step by step, from the
// source side (the records holding the key: fields, scope, match rules,
// attributes) and from the directory side (the users holding it), with the
// plan's actions and warnings for it: what `hrsync explain` shows. Its
// JSON keys are snake_case, like the plan file's.
type Explanation struct {
	Key string `json:"key"`
	// Source names the source read.
	Source string `json:"source"`
	// Records are the source records whose match key is Key.
	Records []ExplainedRecord `json:"records"`
	// TargetRead is false with --no-target: no directory was read, and
	// Users, Candidates, Actions and Warnings are empty.
	TargetRead bool `json:"target_read"`
	// Users are the directory users holding Key in the match attribute,
	// deleted ones included: a leaver absent from the source has only
	// these.
	Users []ExplainedUser `json:"users"`
	// Candidates are the users each match rule finds for the records.
	Candidates []Candidate `json:"candidates"`
	// Actions and Warnings are the plan's for Key (Redact-ed values
	// hidden).
	Actions  []plan.Action  `json:"actions"`
	Warnings []plan.Warning `json:"warnings"`
	// Summary says in a sentence what happens to Key and why.
	Summary string `json:"summary"`
}

// ExplainedRecord is one source record holding the key.
type ExplainedRecord struct {
	Source identity.Provenance `json:"source"`
	// Fields are the record's raw fields (those a Redact-ed attribute
	// reads are "(redacted)"); Columns is their order in the source.
	Fields  map[string]string `json:"fields"`
	Columns []string          `json:"columns"`
	Trace   mapping.Trace     `json:"trace"`
}

// ExplainedUser is a directory user holding the key.
type ExplainedUser struct {
	ID                string `json:"id"`
	UserPrincipalName string `json:"user_principal_name,omitempty"`
	DisplayName       string `json:"display_name,omitempty"`
	// AccountEnabled is "true" or "false" ("" where the directory has no
	// such state).
	AccountEnabled string `json:"account_enabled,omitempty"`
	LeaveDate      string `json:"leave_date,omitempty"`
	// DeletedAt is set for a user in deleted items.
	DeletedAt *time.Time `json:"deleted_at,omitempty"`
	// MasteredIn names the directory that masters the user, if another.
	MasteredIn string `json:"mastered_in,omitempty"`
}

// Candidate is a user a match rule finds for a record.
type Candidate struct {
	Rule              int    `json:"rule"`
	Target            string `json:"target"`
	Value             string `json:"value"`
	ID                string `json:"id"`
	UserPrincipalName string `json:"user_principal_name"`
	// Key is the user's match attribute ("" for none yet).
	Key string `json:"key,omitempty"`
}

// Explain explains what hrsync does with key. It reads the source and,
// withTarget, the directory, and plans; it changes nothing. A key that no
// record holds is explained from the directory side: the users holding it
// and the plan's actions for them (a leaver absent from the source, or out
// of scope). A key neither side knows is an error.
func (e *Engine) Explain(ctx context.Context, key string, withTarget bool) (*Explanation, error) {
	ex := &Explanation{Key: key, Records: []ExplainedRecord{}, Users: []ExplainedUser{}, Candidates: []Candidate{},
		Actions: []plan.Action{}, Warnings: []plan.Warning{}}
	if err := e.explainRecords(ctx, ex); err != nil {
		return nil, err
	}
	src := ex.Source
	if !withTarget {
		if len(ex.Records) == 0 {
			return nil, fmt.Errorf("no record in %s has the match key %q (%s); without --no-target explain also looks for it in the directory", src, key, e.Mapping.Match.Source.Source())
		}
		ex.Summary = "the directory was not read (--no-target): no match result or action"
		return ex, nil
	}
	p, dir, err := e.MakePlan(ctx)
	if err != nil {
		return nil, err
	}
	ex.TargetRead = true
	e.explainUsers(ex, dir)
	if len(ex.Records) == 0 && len(ex.Users) == 0 {
		return nil, fmt.Errorf("no record in %s has the match key %q (%s), and no user in %s holds it in %s",
			src, key, e.Mapping.Match.Source.Source(), e.Schema.Name, e.Mapping.Match.Target.Name)
	}
	e.explainCandidates(ex, dir.Users)
	explainPlan(ex, p)
	ex.Summary = e.explainSummary(ex, p)
	return ex, nil
}

// explainRecords reads the source for the records holding ex.Key, with
// their mapping traces.
func (e *Engine) explainRecords(ctx context.Context, ex *Explanation) error {
	src, err := e.Source()
	if err != nil {
		return err
	}
	ex.Source = src.String()
	want := plan.Fold(ex.Key)
	masked := e.redactedFields()
	now := e.Now()
	_, err = src.Read(ctx, func(r *identity.Record) error {
		v, err := e.Mapping.Match.Source.Eval(r)
		if err != nil {
			return nil
		}
		k, err := mapping.Canonical(e.Mapping.Match.Target, v.String())
		if err != nil || plan.Fold(k) != want {
			return nil
		}
		re := ExplainedRecord{Source: r.Prov, Fields: map[string]string{}, Columns: []string{}, Trace: e.Mapping.Explain(r, now)}
		for i, name := range r.Header.Names {
			if i < len(r.Values) {
				re.Fields[name] = r.Values[i]
				if masked[strings.ToLower(name)] && r.Values[i] != "" {
					re.Fields[name] = redacted
				}
				re.Columns = append(re.Columns, name)
			}
		}
		ex.Records = append(ex.Records, re)
		return nil
	})
	return err
}

// redacted stands for a value Redact hides.
const redacted = "(redacted)"

// redactedFields are the source fields (lower case) read by an attribute
// whose expression uses Redact: explain hides them too.
func (e *Engine) redactedFields() map[string]bool {
	masked := map[string]bool{}
	for _, a := range e.Mapping.Attrs {
		for _, f := range a.Prog.Functions() {
			if f == "Redact" {
				for _, field := range a.Prog.Fields() {
					masked[strings.ToLower(field)] = true
				}
			}
		}
	}
	return masked
}

// explainUsers finds the users, deleted ones included, holding ex.Key in
// the match attribute.
func (e *Engine) explainUsers(ex *Explanation, dir *Snapshot) {
	want, attr, r := plan.Fold(ex.Key), e.Mapping.Match.Target.Name, e.Schema.Roles
	user := func(u identity.User) ExplainedUser {
		return ExplainedUser{ID: u.ID, UserPrincipalName: u.Attrs.Get(r.SignIn), DisplayName: u.Attrs.Get(r.DisplayName),
			AccountEnabled: u.Attrs.Get(r.Enabled), LeaveDate: u.Attrs.Get(r.LeaveDate), MasteredIn: u.MasteredIn}
	}
	for _, u := range dir.Users {
		if plan.Fold(u.Attrs.Get(attr)) == want {
			ex.Users = append(ex.Users, user(u))
		}
	}
	for _, d := range dir.Deleted {
		if plan.Fold(d.Attrs.Get(attr)) == want {
			eu := user(d.User)
			at := d.DeletedAt
			eu.DeletedAt = &at
			ex.Users = append(ex.Users, eu)
		}
	}
}

// explainCandidates lists the users each match rule finds for the records.
func (e *Engine) explainCandidates(ex *Explanation, users []identity.User) {
	for _, rec := range ex.Records {
		for _, k := range rec.Trace.Keys {
			if k.Value == "" {
				continue
			}
			for _, u := range users {
				if plan.Fold(u.Attrs.Get(k.Target)) == plan.Fold(k.Value) {
					ex.Candidates = append(ex.Candidates, Candidate{Rule: k.Rule, Target: k.Target, Value: k.Value, ID: u.ID,
						UserPrincipalName: u.Attrs.Get(e.Schema.Roles.SignIn), Key: u.Attrs.Get(e.Mapping.Match.Target.Name)})
				}
			}
		}
	}
}

// explainPlan takes the plan's actions and warnings for ex.Key: by key,
// or, for warnings, by a record's provenance. Redact-ed values are hidden.
func explainPlan(ex *Explanation, p *plan.Plan) {
	want := plan.Fold(ex.Key)
	hidden := redacted
	for _, a := range p.Actions {
		if plan.Fold(a.Key) != want {
			continue
		}
		changes := make([]plan.Change, len(a.Changes))
		for i, c := range a.Changes {
			if c.Redacted {
				if c.Before != nil {
					c.Before = &hidden
				}
				if c.After != nil {
					c.After = &hidden
				}
			}
			changes[i] = c
		}
		a.Changes = changes
		ex.Actions = append(ex.Actions, a)
	}
	provs := map[identity.Provenance]bool{}
	for _, r := range ex.Records {
		provs[r.Source] = true
	}
	for _, w := range p.Warnings {
		about := plan.Fold(w.Key) == want
		for _, s := range w.Sources {
			about = about || provs[s]
		}
		if about {
			w.Severity = plan.Severity(w.Code)
			ex.Warnings = append(ex.Warnings, w)
		}
	}
	sort.SliceStable(ex.Warnings, func(i, j int) bool { return ex.Warnings[i].Problem() && !ex.Warnings[j].Problem() })
}

// explainSummary says in a sentence what happens to the key and why:
// the answer to "why is this user being disabled?" as much as to "why is
// this joiner not created?".
func (e *Engine) explainSummary(ex *Explanation, p *plan.Plan) string {
	var why []string
	for _, a := range ex.Actions {
		s := a.Action
		if a.Reason != "" {
			s += ": " + a.Reason
		}
		why = append(why, s)
	}
	var problems []string
	for _, w := range ex.Warnings {
		if w.Problem() {
			problems = append(problems, w.Code)
		}
	}
	noRecord := len(ex.Records) == 0
	switch {
	case len(why) > 0 && noRecord:
		return fmt.Sprintf("no record in the source has key %s, so its user is a leaver: %s", ex.Key, strings.Join(why, "; "))
	case len(why) > 0:
		return strings.Join(why, "; ")
	case len(problems) > 0:
		return fmt.Sprintf("nothing is planned: unresolved problem %s (see the warnings above)", strings.Join(problems, ", "))
	case noRecord && p.Policy.Leavers == "ignore":
		return fmt.Sprintf("no record in the source has key %s, but policy.leavers is ignore: leavers are left alone", ex.Key)
	case noRecord && allDisabled(ex.Users):
		return fmt.Sprintf("no record in the source has key %s, and its user is disabled already (or deleted): nothing to do", ex.Key)
	case noRecord:
		return fmt.Sprintf("no record in the source has key %s, yet nothing is planned for its user (see the warnings)", ex.Key)
	case len(ex.Users) == 0:
		return fmt.Sprintf("no user in %s holds key %s, and none is created now (see the records: out of scope, inactive, or a hire date further ahead)", e.Schema.Name, ex.Key)
	default:
		return "the user matches the source: no change"
	}
}

// allDisabled says every user is disabled or deleted.
func allDisabled(us []ExplainedUser) bool {
	for _, u := range us {
		if u.DeletedAt == nil && u.AccountEnabled != "false" {
			return false
		}
	}
	return true
}

// SourceKey is a record's match key and, for people, its display name.
type SourceKey struct {
	Key  string
	Name string
}

// SourceKeys reads the source for the match keys starting with prefix
// (without regard to case), at most limit of them, each with the display
// name the mapping gives (none when it is Redact-ed): what a shell
// completes `hrsync explain` with.
func (e *Engine) SourceKeys(ctx context.Context, prefix string, limit int) ([]SourceKey, error) {
	src, err := e.Source()
	if err != nil {
		return nil, err
	}
	name := e.displayNameAttr()
	now := e.Now()
	seen := map[string]bool{}
	var out []SourceKey
	_, err = src.Read(ctx, func(r *identity.Record) error {
		if len(out) >= limit {
			return nil
		}
		v, err := e.Mapping.Match.Source.Eval(r)
		if err != nil {
			return nil
		}
		k, err := mapping.Canonical(e.Mapping.Match.Target, v.String())
		if err != nil || k == "" || seen[plan.Fold(k)] || !strings.HasPrefix(plan.Fold(k), plan.Fold(prefix)) {
			return nil
		}
		seen[plan.Fold(k)] = true
		sk := SourceKey{Key: k}
		if name != "" {
			if d, err := e.Mapping.Map(r, now); err == nil {
				sk.Name = d.Attrs.Get(name)
			}
		}
		out = append(out, sk)
		return nil
	})
	return out, err
}

// displayNameAttr is the attribute that names users for people, when the
// mapping maps it without Redact.
func (e *Engine) displayNameAttr() string {
	for _, a := range e.Mapping.Attrs {
		if a.Spec.Name != e.Schema.Roles.DisplayName {
			continue
		}
		for _, f := range a.Prog.Functions() {
			if f == "Redact" {
				return ""
			}
		}
		return a.Spec.Name
	}
	return ""
}
