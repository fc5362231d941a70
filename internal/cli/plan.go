package cli

import (
	"bytes"
	"cmp"
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/hrsync/hrsync/internal/engine"
	"github.com/hrsync/hrsync/internal/journal"
	"github.com/hrsync/hrsync/internal/plan"
	"github.com/hrsync/hrsync/internal/render"
)

func (a *app) planCmd() *cobra.Command {
	var out, format, refresh string
	var detailed bool
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show the changes that would bring Entra ID in line with the HR source",
		Long: `plan reads the source, maps it, reads the target and prints what apply would do:
+ create (joiners), ~ update (movers, enables), - disable (leavers). Nothing is changed.
With --out the plan is saved (mode 0600) for "hrsync apply PLAN" after review.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := render.CheckFormat(format); err != nil {
				return err
			}
			e, err := a.engine(cmd)
			if err != nil {
				return err
			}
			if refresh != engine.RefreshAuto && refresh != engine.RefreshFull {
				return fmt.Errorf("--refresh %q: want auto or full", refresh)
			}
			e.Refresh = refresh
			p, err := a.makePlan(cmd, e)
			if err != nil {
				return err
			}
			if err := a.saveAndShow(p, out, format); err != nil {
				return err
			}
			if code := detailedExit(p); detailed && code != ExitOK {
				return &exitError{code: code}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "save the plan to this file (JSON, mode 0600)")
	cmd.Flags().StringVar(&format, "format", "text", "output format: text, json or markdown")
	cmd.Flags().StringVar(&refresh, "refresh", engine.RefreshAuto, "auto: read only the users changed since the last plan when the user cache allows it; full: read every user")
	completeValues(cmd, "refresh", engine.RefreshAuto, engine.RefreshFull)
	completeValues(cmd, "format", "text", "json", "markdown")
	_ = cmd.RegisterFlagCompletionFunc("out", completeFiles("json"))
	cmd.Flags().BoolVar(&detailed, "detailed-exitcode", false, "exit 2 when the plan has changes, 4 when a safety threshold blocks them, plus 8 when it has unresolved problems (0: none of these, 1: error)")
	addConfigFlags(cmd.Flags())
	completeConfigFlags(cmd)
	return cmd
}

// saveAndShow saves the plan to out (when set) and shows it in format.
// The plan is rendered while it is saved (a plan of many changes takes a
// while to encode and to render), but shown only once it is saved: a plan
// that could not be saved is not shown as if it could be applied.
func (a *app) saveAndShow(p *plan.Plan, out, format string) error {
	if out == "" {
		return render.PlanStyle(a.ios.Out, p, format, a.ios.style())
	}
	type saved struct {
		kept engine.Kept
		err  error
	}
	done := make(chan saved, 1)
	go func() {
		kept, err := engine.SavePlan(out, p)
		done <- saved{kept, err}
	}()
	var shown bytes.Buffer
	rerr := render.PlanStyle(&shown, p, format, a.ios.style())
	s := <-done
	if s.err != nil {
		return s.err
	}
	a.noticeKept(out, s.kept)
	if rerr != nil {
		return rerr
	}
	if _, err := a.ios.Out.Write(shown.Bytes()); err != nil {
		return fmt.Errorf("show the plan: %w", err)
	}
	a.notice("Saved the plan to %s. Apply exactly this plan with: hrsync apply -c %s %s\n", out, a.configArg(), out)
	return nil
}

// detailedExit is plan --detailed-exitcode's exit code: ExitChanges when
// the plan has changes, ExitBlocked instead when a safety threshold
// blocks them, ExitOK for neither; plus ExitProblems when it has
// unresolved problems, which no apply resolves (0, 2, 4, 8, 10 or 12).
func detailedExit(p *plan.Plan) int {
	code := ExitOK
	switch {
	case !p.Applyable:
		code = ExitBlocked
	case p.Summary.Changes() > 0:
		code = ExitChanges
	}
	if len(p.Problems()) > 0 {
		code |= ExitProblems
	}
	return code
}

// noticeKept says where SavePlan kept the plan and journal a new plan
// replaced.
func (a *app) noticeKept(out string, k engine.Kept) {
	switch {
	case k.Plan != "":
		a.notice("%s held a plan that was applied (%s): kept it as %s, with its journal %s, the record of that apply. The new plan starts with no journal.\n", out, short(k.Digest), k.Plan, k.Journal)
	case k.Journal != "":
		a.notice("%s belonged to an earlier plan (%s): kept it as %s, the record of that apply. The new plan starts with no journal.\n", journal.Path(out), cmp.Or(short(k.Digest), "no header"), k.Journal)
	}
}

// short is a digest cut for people: sha256: and 12 hex digits.
func short(digest string) string {
	if len(digest) > len("sha256:")+12 {
		return digest[:len("sha256:")+12] + "…"
	}
	return digest
}

func (a *app) configArg() string {
	if a.configFile == "" {
		return "hrsync.yaml"
	}
	return a.configFile
}

// makePlan runs source -> mapping -> target -> plan.
func (a *app) makePlan(cmd *cobra.Command, e *engine.Engine) (*plan.Plan, error) {
	ctx, cancel := context.WithTimeout(cmd.Context(), e.Cfg.Timeout)
	defer cancel()
	p, _, err := e.MakePlan(ctx)
	return p, err
}

func (a *app) showCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "show PLAN",
		Short: "Show a saved plan",
		Args:  cobra.ExactArgs(1),
		ValidArgsFunction: func(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return completeFiles("json")(cmd, args, "")
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := render.CheckFormat(format); err != nil {
				return err
			}
			p, err := plan.Read(args[0])
			if err != nil {
				return err
			}
			return render.PlanStyle(a.ios.Out, p, format, a.ios.style())
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text, json or markdown")
	completeValues(cmd, "format", "text", "json", "markdown")
	return cmd
}
