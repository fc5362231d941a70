package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hrsync/hrsync/internal/apply"
	"github.com/hrsync/hrsync/internal/engine"
	"github.com/hrsync/hrsync/internal/plan"
	"github.com/hrsync/hrsync/internal/render"
)

func (a *app) applyCmd() *cobra.Command {
	var autoApprove, allowMassLeavers bool
	var reportPath string
	cmd := &cobra.Command{
		Use:   "apply [PLAN]",
		Short: "Carry out a saved plan, or plan and apply after confirmation",
		Long: `apply PLAN carries out exactly the saved, reviewed plan. It refuses a plan made for
another target, configuration or mapping.

apply without a plan file makes a plan, shows it and asks for "yes" on the terminal
(or proceeds with --auto-approve). With no terminal and no --auto-approve it refuses.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			e, err := a.engine(cmd)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), e.Cfg.Timeout)
			defer cancel()
			var p *plan.Plan
			if len(args) == 1 {
				if p, err = plan.Read(args[0]); err != nil {
					return err
				}
			}
			if p == nil && !autoApprove && !a.ios.StdinTTY {
				return errors.New("apply without a plan file needs confirmation, and stdin is not a terminal: pass --auto-approve, or save a plan with 'hrsync plan --out plan.json' and apply that")
			}
			// Without a plan file, read the source first: a bad or empty
			// source is refused before the tenant is contacted.
			var src *engine.SourceResult
			if p == nil {
				if src, err = e.ReadSource(ctx); err != nil {
					return err
				}
			}
			t, err := e.OpenTarget(ctx)
			if err != nil {
				return err
			}
			defer func() { err = closeTarget(ctx, t, err) }()
			var refused []plan.Refusal
			if p != nil {
				if err := e.CheckPlan(p, t.Info); err != nil {
					return err
				}
				// The directory may have changed since the plan: refuse
				// every action whose user is no longer as the plan saw it.
				if refused, err = e.Recheck(ctx, p, t); err != nil {
					return err
				}
				for _, r := range refused {
					act := p.Actions[r.Index]
					fmt.Fprintf(a.ios.ErrOut, "Refusing %s %s: %s.\n", act.Action, act.Key, r.Reason)
				}
			} else {
				users, err := e.ReadTarget(ctx, t)
				if err != nil {
					return err
				}
				if p, err = e.Plan(src, users, t.Info); err != nil {
					return err
				}
				if err := render.Text(a.ios.Out, p); err != nil {
					return err
				}
			}
			if p.Summary.Changes() == 0 {
				fmt.Fprintln(a.ios.ErrOut, "No changes to apply.")
				return nil
			}
			if !p.Applyable {
				if !allowMassLeavers {
					return fmt.Errorf("the plan is blocked by a safety threshold: %s; review it, then pass --allow-mass-leavers to apply anyway", strings.Join(p.Blocked, "; "))
				}
				fmt.Fprintf(a.ios.ErrOut, "Warning: applying a plan over the leaver threshold because --allow-mass-leavers was given: %s\n", strings.Join(p.Blocked, "; "))
				p.Applyable = true
			}
			if len(args) == 0 && !autoApprove {
				ok, err := a.confirm(p)
				if err != nil {
					return err
				}
				if !ok {
					return errors.New("apply cancelled; nothing was changed")
				}
			}
			// Open the report before the first write: a bad path must fail
			// while nothing has been applied yet.
			var reportFile *os.File
			if reportPath != "" {
				if reportFile, err = os.OpenFile(reportPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600); err != nil {
					return fmt.Errorf("open report: %w", err)
				}
				// An existing regular file keeps its mode otherwise; a device
				// or pipe (/dev/stdout) is left as it is.
				if fi, err := reportFile.Stat(); err == nil && fi.Mode().IsRegular() {
					if err := reportFile.Chmod(0o600); err != nil {
						reportFile.Close()
						return fmt.Errorf("open report: %w", err)
					}
				}
			}
			rep, err := e.Apply(ctx, p, t, refused)
			if rep != nil {
				if rerr := render.Report(a.ios.Out, rep); rerr != nil {
					return rerr
				}
				if reportFile != nil {
					if werr := writeReport(reportFile, rep); werr != nil {
						return &exitError{code: ExitPartial, err: werr}
					}
				}
			}
			switch {
			case rep != nil && ctx.Err() != nil:
				why := "interrupted"
				if errors.Is(ctx.Err(), context.DeadlineExceeded) {
					why = fmt.Sprintf("stopped at the run's timeout (%s)", e.Cfg.Timeout)
				}
				return &exitError{code: ExitPartial, err: fmt.Errorf("%s: %d actions done, %d not started; run plan and apply again to finish", why, rep.Done, rep.NotStarted)}
			case err != nil:
				return err
			case rep.Incomplete() > 0:
				return &exitError{code: ExitPartial, err: fmt.Errorf("%d of %d actions were not fully applied; the rest were. Fix the cause and run plan and apply again: done actions will not be repeated", rep.Incomplete(), len(rep.Results))}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&autoApprove, "auto-approve", false, "apply without asking for confirmation")
	cmd.Flags().BoolVar(&allowMassLeavers, "allow-mass-leavers", false, "apply even when the plan exceeds the leaver thresholds")
	cmd.Flags().StringVar(&reportPath, "report", "", "write the apply report to this file: CSV if it ends in .csv, else JSON (mode 0600)")
	addConfigFlags(cmd.Flags())
	return cmd
}

// closeTarget releases the target even after Ctrl-C, so the sandbox state
// is saved; a failure to save is an error, since nothing was persisted.
func closeTarget(ctx context.Context, t *engine.Target, err error) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if cerr := t.Close(cctx); cerr != nil {
		cerr = fmt.Errorf("close target %s: %w (changes made in this run may not be saved)", t.Info.Endpoint, cerr)
		if err == nil {
			return cerr
		}
		return errors.Join(err, cerr)
	}
	return err
}

func (a *app) confirm(p *plan.Plan) (bool, error) {
	fmt.Fprintf(a.ios.ErrOut, "\nDo you want to perform these %d actions?\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ", p.Summary.Changes())
	line, err := bufio.NewReader(a.ios.In).ReadString('\n')
	if err != nil && line == "" {
		return false, fmt.Errorf("read confirmation: %w", err)
	}
	return strings.TrimSpace(line) == "yes", nil
}

// writeReport writes the apply report to f and closes it: CSV when the
// file's name ends in .csv, JSON otherwise.
func writeReport(f *os.File, rep *apply.Report) error {
	path := f.Name()
	var err error
	if strings.HasSuffix(strings.ToLower(path), ".csv") {
		err = render.ReportCSV(f, rep)
	} else {
		enc := json.NewEncoder(f)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	return nil
}
