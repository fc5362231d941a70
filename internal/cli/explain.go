package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hrsync/hrsync/internal/engine"
	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/mapping"
	"github.com/hrsync/hrsync/internal/plan"
)

// explanation is what `hrsync explain` shows for one key.
type explanation struct {
	Key     string          `json:"key"`
	Records []recordExplain `json:"records"`
	// Candidates are the directory users each match rule finds.
	Candidates []candidate    `json:"candidates,omitempty"`
	Actions    []plan.Action  `json:"actions"`
	Warnings   []plan.Warning `json:"warnings"`
	// Target is false with --no-target: no directory was read.
	Target bool `json:"target_read"`
}

type recordExplain struct {
	Source identity.Provenance `json:"source"`
	Fields map[string]string   `json:"fields"`
	order  []string
	Trace  mapping.Trace `json:"trace"`
}

type candidate struct {
	Rule   int    `json:"rule"`
	Target string `json:"target"`
	Value  string `json:"value"`
	ID     string `json:"id"`
	UPN    string `json:"userPrincipalName"`
	Key    string `json:"key,omitempty"` // the user's match attribute
}

func (a *app) explainCmd() *cobra.Command {
	var format string
	var noTarget bool
	cmd := &cobra.Command{
		Use:   "explain KEY",
		Short: "Show step by step what hrsync does with one worker (like Entra's provision on demand, without writing)",
		Long: `explain finds the source records whose match key is KEY and shows, for each: the raw
fields with where they came from, the scope filter's verdict, every match rule's value and the
directory users it finds, each attribute's expression and value, and the actions and warnings the
plan has for KEY. It reads the source and the directory and changes nothing; --no-target skips
the directory (no match or action then).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "text" && format != "json" {
				return fmt.Errorf("unknown format %q; use text or json", format)
			}
			e, err := a.engine(cmd)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), e.Cfg.Timeout)
			defer cancel()
			ex, err := explain(ctx, e, args[0], !noTarget)
			if err != nil {
				return err
			}
			if format == "json" {
				enc := json.NewEncoder(a.ios.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(ex)
			}
			return renderExplain(a.ios.Out, ex)
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	cmd.Flags().BoolVar(&noTarget, "no-target", false, "do not read the directory (no match result or action)")
	addConfigFlags(cmd.Flags())
	return cmd
}

func explain(ctx context.Context, e *engine.Engine, key string, withTarget bool) (*explanation, error) {
	ex := &explanation{Key: key, Actions: []plan.Action{}, Warnings: []plan.Warning{}}
	src, err := e.Source()
	if err != nil {
		return nil, err
	}
	want := plan.Fold(key)
	// Source fields read by Redact-ed attributes are not shown either.
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
	now := e.Now()
	if _, err := src.Read(ctx, func(r *identity.Record) error {
		v, err := e.Mapping.Match.Source.Eval(r)
		if err != nil {
			return nil
		}
		k, err := mapping.Canonical(e.Mapping.Match.Target, v.String())
		if err != nil || plan.Fold(k) != want {
			return nil
		}
		re := recordExplain{Source: r.Prov, Fields: map[string]string{}, Trace: e.Mapping.Explain(r, now)}
		for i, name := range r.Header.Names {
			if i < len(r.Values) {
				re.Fields[name] = r.Values[i]
				if masked[strings.ToLower(name)] && r.Values[i] != "" {
					re.Fields[name] = "(redacted)"
				}
				re.order = append(re.order, name)
			}
		}
		ex.Records = append(ex.Records, re)
		return nil
	}); err != nil {
		return nil, err
	}
	if len(ex.Records) == 0 {
		return nil, fmt.Errorf("no record in %s has the match key %q (%s)", src, key, e.Mapping.Match.Source.Source())
	}
	if !withTarget {
		return ex, nil
	}
	p, dir, err := e.MakePlan(ctx)
	if err != nil {
		return nil, err
	}
	users := dir.Users
	ex.Target = true
	for _, rec := range ex.Records {
		for _, k := range rec.Trace.Keys {
			if k.Value == "" {
				continue
			}
			for _, u := range users {
				if plan.Fold(u.Attrs[k.Target]) == plan.Fold(k.Value) {
					ex.Candidates = append(ex.Candidates, candidate{Rule: k.Rule, Target: k.Target, Value: k.Value, ID: u.ID,
						UPN: u.Attrs[e.Schema.Roles.SignIn], Key: u.Attrs[e.Mapping.Match.Target.Name]})
				}
			}
		}
	}
	hidden := "(redacted)"
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
			ex.Warnings = append(ex.Warnings, w)
		}
	}
	return ex, nil
}

func renderExplain(w io.Writer, ex *explanation) error {
	var b strings.Builder
	for i, r := range ex.Records {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "Record %s (key %s)\n", r.Source, ex.Key)
		width := 0
		for _, n := range r.order {
			width = max(width, len(n))
		}
		for _, n := range r.order {
			fmt.Fprintf(&b, "  %-*s  %s\n", width, n, quoteCell(r.Fields[n]))
		}
		tr := r.Trace
		switch {
		case tr.ScopeErr != "":
			fmt.Fprintf(&b, "Scope: error: %s\n", tr.ScopeErr)
		case tr.Scope.In:
			fmt.Fprintf(&b, "Scope: in (%s)\n", tr.Scope.Why)
		default:
			fmt.Fprintf(&b, "Scope: OUT (%s): never created or updated; its user is a leaver\n", tr.Scope.Why)
		}
		b.WriteString("Match rules:\n")
		for _, k := range tr.Keys {
			val := quoteCell(k.Value)
			if k.Err != "" {
				val = "error: " + k.Err
			}
			fmt.Fprintf(&b, "  %d. %s = %s   from %s\n", k.Rule, k.Target, val, k.Expr)
			if ex.Target {
				found := 0
				for _, c := range ex.Candidates {
					if c.Rule == k.Rule && plan.Fold(c.Value) == plan.Fold(k.Value) {
						found++
						fmt.Fprintf(&b, "     finds user %s <%s>%s\n", c.ID, c.UPN, keyNote(c.Key))
					}
				}
				if found == 0 && k.Value != "" {
					b.WriteString("     finds no user\n")
				}
			}
		}
		b.WriteString("Attributes:\n")
		for _, at := range tr.Attrs {
			val := quoteCell(at.Value)
			switch {
			case at.Err != "":
				val = "error: " + at.Err
			case at.Ignored:
				val = "(IgnoreFlowIfNullOrEmpty: left as it is in Entra)"
			case at.Null:
				val = "(null: not set)"
			}
			mode := ""
			if at.Apply != mapping.ApplyAlways {
				mode = " [" + at.Apply + "]"
			}
			fmt.Fprintf(&b, "  %s%s = %s\n      %s\n", at.Name, mode, val, at.Expr)
			if len(at.Candidates) > 1 {
				fmt.Fprintf(&b, "      candidates in order: %s (the plan takes the first one nobody holds)\n", strings.Join(at.Candidates, ", "))
			}
		}
		if tr.Err != "" {
			fmt.Fprintf(&b, "Mapping error: %s\n  the record is left out of the plan, and the user with this key is left alone\n", tr.Err)
		}
	}
	if ex.Target {
		b.WriteString("\nPlan for this key:\n")
		if len(ex.Actions) == 0 {
			b.WriteString("  no action\n")
		}
		for _, a := range ex.Actions {
			fmt.Fprintf(&b, "  %s %s", a.Action, a.Key)
			if a.ID != "" {
				fmt.Fprintf(&b, " (user %s)", a.ID)
			}
			if a.Reason != "" {
				fmt.Fprintf(&b, ": %s", a.Reason)
			}
			b.WriteString("\n")
			for _, c := range a.Changes {
				fmt.Fprintf(&b, "      %s: %s -> %s\n", c.Attribute, strOrNone(c.Before), strOrNone(c.After))
			}
			for _, g := range a.Groups {
				fmt.Fprintf(&b, "      group %s: %q (%s)\n", g.Op, g.Name, g.GroupID)
			}
			for _, l := range a.Licenses {
				fmt.Fprintf(&b, "      license %s: %s (%s)\n", l.Op, l.Name, l.SkuID)
			}
		}
		for _, w := range ex.Warnings {
			fmt.Fprintf(&b, "  ! %s: %s\n", w.Code, w.Message)
		}
	} else {
		b.WriteString("\n(--no-target: the directory was not read)\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func keyNote(k string) string {
	if k == "" {
		return ", no key yet"
	}
	return ", key " + k
}

func quoteCell(s string) string {
	if s == "" {
		return `""`
	}
	b, err := json.Marshal(s)
	if err != nil {
		return s
	}
	// JSON quoting escapes control characters, so a cell cannot forge lines.
	return string(b)
}

func strOrNone(p *string) string {
	if p == nil {
		return "(none)"
	}
	return quoteCell(*p)
}
