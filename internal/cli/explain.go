package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hrsync/hrsync/internal/engine"
	"github.com/hrsync/hrsync/internal/mapping"
	"github.com/hrsync/hrsync/internal/plan"
)

// explainOptions are explain's flags and argument.
type explainOptions struct {
	key      string
	format   string
	noTarget bool
}

func (a *app) explainCmd() *cobra.Command {
	var o explainOptions
	cmd := &cobra.Command{
		Use:   "explain KEY",
		Short: "Show step by step what hrsync does with one worker (like Entra's provision on demand, without writing)",
		Long: `explain shows what hrsync does with the worker whose match key is KEY, and why.
From the source side, for each record holding KEY: the raw fields with where they came from,
the scope filter's verdict, every match rule's value and the directory users it finds, each
attribute's expression and value. From the directory side: the users holding KEY, so a leaver
no longer in the source is explained too ("why is this user being disabled?"). Then the plan's
actions and warnings for KEY. It reads the source and the directory and changes nothing;
--no-target skips the directory (no match, user or action then).`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: a.completeKeys,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.key = args[0]
			return a.runExplain(cmd, o)
		},
	}
	cmd.Flags().StringVar(&o.format, "format", "text", "output format: text or json")
	completeValues(cmd, "format", "text", "json")
	cmd.Flags().BoolVar(&o.noTarget, "no-target", false, "do not read the directory (no match result, user or action)")
	addConfigFlags(cmd.Flags())
	completeConfigFlags(cmd)
	return cmd
}

// runExplain asks the engine for the explanation and renders it.
func (a *app) runExplain(cmd *cobra.Command, o explainOptions) error {
	if o.format != "text" && o.format != "json" {
		return fmt.Errorf("unknown format %q; use text or json", o.format)
	}
	e, err := a.engine(cmd)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), e.Cfg.Timeout)
	defer cancel()
	ex, err := e.Explain(ctx, o.key, !o.noTarget)
	if err != nil {
		return err
	}
	if o.format == "json" {
		return writeJSON(a.ios.Out, ex)
	}
	return renderExplain(a.ios.Out, ex)
}

// renderExplain writes an explanation as text.
func renderExplain(w io.Writer, ex *engine.Explanation) error {
	var b strings.Builder
	for i, r := range ex.Records {
		if i > 0 {
			b.WriteString("\n")
		}
		explainRecord(&b, ex, r)
	}
	if len(ex.Records) == 0 {
		fmt.Fprintf(&b, "No record in %s has key %s.\n", ex.Source, ex.Key)
	}
	if !ex.TargetRead {
		b.WriteString("\n(--no-target: the directory was not read)\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	explainUsers(&b, ex)
	b.WriteString("\nPlan for this key:\n")
	if len(ex.Actions) == 0 {
		b.WriteString("  no action\n")
	}
	for _, a := range ex.Actions {
		explainAction(&b, a)
	}
	for _, w := range ex.Warnings {
		fmt.Fprintf(&b, "  ! %s (%s): %s\n", w.Code, w.Severity, w.Message)
	}
	fmt.Fprintf(&b, "\nIn short: %s.\n", ex.Summary)
	_, err := io.WriteString(w, b.String())
	return err
}

// explainRecord writes one record: fields, scope, match rules, attributes.
func explainRecord(b *strings.Builder, ex *engine.Explanation, r engine.ExplainedRecord) {
	fmt.Fprintf(b, "Record %s (key %s)\n", r.Source, ex.Key)
	width := 0
	for _, n := range r.Columns {
		width = max(width, len(n))
	}
	for _, n := range r.Columns {
		fmt.Fprintf(b, "  %-*s  %s\n", width, n, quoteCell(r.Fields[n]))
	}
	tr := r.Trace
	switch {
	case tr.ScopeErr != "":
		fmt.Fprintf(b, "Scope: error: %s\n", tr.ScopeErr)
	case tr.Scope.In:
		fmt.Fprintf(b, "Scope: in (%s)\n", tr.Scope.Why)
	default:
		fmt.Fprintf(b, "Scope: OUT (%s): never created or updated; its user is a leaver\n", tr.Scope.Why)
	}
	b.WriteString("Match rules:\n")
	for _, k := range tr.Keys {
		val := quoteCell(k.Value)
		if k.Err != "" {
			val = "error: " + k.Err
		}
		fmt.Fprintf(b, "  %d. %s = %s   from %s\n", k.Rule, k.Target, val, k.Expr)
		if ex.TargetRead {
			found := 0
			for _, c := range ex.Candidates {
				if c.Rule == k.Rule && plan.Fold(c.Value) == plan.Fold(k.Value) {
					found++
					fmt.Fprintf(b, "     finds user %s <%s>%s\n", c.ID, c.UserPrincipalName, keyNote(c.Key))
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
			val = "(IgnoreFlowIfNullOrEmpty: left as it is in the directory)"
		case at.Null:
			val = "(null: not set)"
		}
		mode := ""
		if at.Apply != mapping.ApplyAlways {
			mode = " [" + at.Apply + "]"
		}
		fmt.Fprintf(b, "  %s%s = %s\n      %s\n", at.Name, mode, val, at.Expr)
		if len(at.Candidates) > 1 {
			fmt.Fprintf(b, "      candidates in order: %s (the plan takes the first one nobody holds)\n", strings.Join(at.Candidates, ", "))
		}
	}
	if tr.Err != "" {
		fmt.Fprintf(b, "Mapping error: %s\n  the record is left out of the plan, and the user with this key is left alone\n", tr.Err)
	}
}

// explainUsers writes the directory users holding the key.
func explainUsers(b *strings.Builder, ex *engine.Explanation) {
	b.WriteString("\nDirectory users with this key:\n")
	if len(ex.Users) == 0 {
		b.WriteString("  none\n")
	}
	for _, u := range ex.Users {
		fmt.Fprintf(b, "  %s", u.ID)
		if u.UserPrincipalName != "" {
			fmt.Fprintf(b, " <%s>", u.UserPrincipalName)
		}
		if u.DisplayName != "" {
			fmt.Fprintf(b, " %s", quoteCell(u.DisplayName))
		}
		var state []string
		switch {
		case u.DeletedAt != nil:
			state = append(state, "deleted "+u.DeletedAt.Format("2006-01-02"))
		case u.AccountEnabled == "true":
			state = append(state, "enabled")
		case u.AccountEnabled == "false":
			state = append(state, "disabled")
		}
		if u.LeaveDate != "" {
			state = append(state, "leave date "+u.LeaveDate)
		}
		if u.MasteredIn != "" {
			state = append(state, "mastered in "+u.MasteredIn)
		}
		if len(state) > 0 {
			fmt.Fprintf(b, " (%s)", strings.Join(state, ", "))
		}
		b.WriteString("\n")
	}
}

// explainAction writes one planned action with its reason and changes.
func explainAction(b *strings.Builder, a plan.Action) {
	fmt.Fprintf(b, "  %s %s", a.Action, a.Key)
	if a.ID != "" {
		fmt.Fprintf(b, " (user %s)", a.ID)
	}
	if a.Reason != "" {
		fmt.Fprintf(b, ": %s", a.Reason)
	}
	b.WriteString("\n")
	for _, c := range a.Changes {
		fmt.Fprintf(b, "      %s: %s -> %s\n", c.Attribute, strOrNone(c.Before), strOrNone(c.After))
	}
	for _, g := range a.Groups {
		fmt.Fprintf(b, "      group %s: %q (%s)\n", g.Op, g.Name, g.GroupID)
	}
	for _, l := range a.Licenses {
		fmt.Fprintf(b, "      license %s: %s (%s)\n", l.Op, l.Name, l.SkuID)
	}
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
