package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gocarina/gocsv"
	"github.com/spf13/cobra"

	"github.com/hrsync/hrsync/internal/apply"
	"github.com/hrsync/hrsync/internal/directory"
	"github.com/hrsync/hrsync/internal/engine"
	"github.com/hrsync/hrsync/internal/journal"
	"github.com/hrsync/hrsync/internal/plan"
	"github.com/hrsync/hrsync/internal/render"
	"github.com/hrsync/hrsync/internal/report"
	"github.com/hrsync/hrsync/internal/safefile"
)

func (a *app) applyCmd() *cobra.Command {
	var autoApprove, allowOver, allowMassLeavers bool
	var reportPath, writebackPath, passwordsPath string
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
			var done journal.Done
			var digest string
			var jw *journal.Writer
			begun := false
			defer func() {
				if jw == nil {
					return
				}
				if !begun { // nothing was applied: leave no empty journal behind
					_ = jw.Discard()
					return
				}
				if jerr := jw.Close(); jerr != nil && err == nil {
					err = &exitError{code: ExitPartial, err: fmt.Errorf("%w; a re-run checks the directory for what this one did", jerr)}
				}
			}()
			if len(args) == 1 {
				raw, err := os.ReadFile(args[0])
				if err != nil {
					return fmt.Errorf("read plan: %w", err)
				}
				if p, err = plan.Parse(args[0], raw); err != nil {
					return err
				}
				digest = plan.Digest(raw)
				// One apply of a plan at a time; then what an earlier,
				// interrupted apply of it did.
				if jw, err = journal.Lock(journal.Path(args[0]), e.Now); err != nil {
					return err
				}
				if done, err = journal.Load(journal.Path(args[0]), digest, func(i int) string {
					if i < 0 || i >= len(p.Actions) {
						return ""
					}
					return p.Actions[i].Key
				}); err != nil {
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
			resume := map[int]apply.Progress{}
			if p != nil {
				if err := e.CheckPlan(p, engine.PlanTarget(t)); err != nil {
					return err
				}
				age := e.Now().Sub(p.CreatedAt)
				if age < -5*time.Minute {
					return fmt.Errorf("the plan is dated %s, in the future (clock skew, or an edited plan); make a new plan", p.CreatedAt.Format(time.RFC3339))
				}
				tooOld := e.Cfg.Policy.MaxPlanAge > 0 && age > e.Cfg.Policy.MaxPlanAge
				if tooOld && len(done) == 0 {
					return fmt.Errorf("the plan was made %s ago (%s), over policy.max_plan_age (%s): hire and leave dates have moved on since; make a new plan",
						age.Round(time.Minute), p.CreatedAt.Format(time.RFC3339), e.Cfg.Policy.MaxPlanAge)
				}
				skip := map[int]bool{}
				for i, d := range done {
					skip[i] = true
					resume[i] = apply.Progress{Steps: d.Steps, ID: d.ID}
				}
				if len(done) > 0 {
					a.notice("Resuming: an earlier apply of this plan did %d of its actions in part or whole (journal %s); done steps are not repeated.\n", len(done), journal.Path(args[0]))
				}
				// Every action must be one the mapping gives from the source
				// now, and the directory may have changed since the plan:
				// refuse every action whose user is no longer as the plan saw it.
				rc, err := e.VerifyPlan(ctx, p, t, skip)
				if err != nil {
					return err
				}
				if len(rc.Underived) > 0 {
					return underived(p, rc)
				}
				refused = rc.Refused
				if tooOld {
					// Only what an earlier apply began is finished; the rest
					// was decided on dates that have moved on.
					for i := range p.Actions {
						if _, begun := done[i]; !begun {
							refused = append(refused, plan.Refusal{Index: i, Reason: fmt.Sprintf("the plan is older than policy.max_plan_age (%s); an earlier apply did not begin this action: make a new plan", e.Cfg.Policy.MaxPlanAge)})
						}
					}
				}
				for _, r := range refused {
					act := p.Actions[r.Index]
					a.notice("Refusing %s %s: %s.\n", act.Action, act.Key, r.Reason)
				}
				for _, ie := range rc.InEffect {
					steps := map[string]bool{}
					for _, st := range ie.Steps {
						steps[st] = true
					}
					resume[ie.Index] = apply.Progress{Steps: steps, ID: ie.ID}
				}
			} else {
				dir, err := e.ReadDirectory(ctx, t)
				if err != nil {
					return err
				}
				if p, err = e.Plan(src, dir, engine.PlanTarget(t)); err != nil {
					return err
				}
				if err := render.Text(a.ios.Out, p); err != nil {
					return err
				}
			}
			if p.Summary.Changes() == 0 {
				a.notice("No changes to apply.\n")
				return nil
			}
			if !p.Applyable {
				if !allowOver && !allowMassLeavers {
					return fmt.Errorf("the plan is blocked by a safety threshold: %s; review it, then pass --allow-over-thresholds to apply anyway", strings.Join(p.Blocked, "; "))
				}
				a.notice("Warning: applying a plan over a safety threshold because it was allowed: %s\n", strings.Join(p.Blocked, "; "))
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
			// Open the output files before the first write: a bad path must
			// fail while nothing has been applied yet.
			var passwordsFile, writebackFile, reportFile *os.File
			if passwordsPath != "" {
				if passwordsFile, err = createSecretFile(passwordsPath); err != nil {
					return err
				}
			}
			if writebackPath != "" {
				if writebackFile, err = openOutput(writebackPath); err != nil {
					discardSecretFile(passwordsFile)
					return fmt.Errorf("open writeback file: %w", err)
				}
			}
			if reportPath != "" {
				if reportFile, err = openOutput(reportPath); err != nil {
					discardSecretFile(passwordsFile)
					if writebackFile != nil {
						writebackFile.Close()
					}
					return fmt.Errorf("open report: %w", err)
				}
			}
			now := time.Now
			if e.Now != nil {
				now = e.Now
			}
			// Each joiner reaches the writeback and passwords files as it is
			// created, so a run killed half way loses none of them.
			passwords := newCSVStream[passwordRow](passwordsFile)
			joiners := newCSVStream[writebackRow](writebackFile)
			adopted := 0
			created := func(key, id, upn, mail, password string) {
				joiners.add(writebackRow{Key: key, UPN: upn, Mail: mail, ObjectID: id, CreatedAt: now().UTC().Format(time.RFC3339)})
				if password == "" {
					adopted++
					return
				}
				passwords.add(passwordRow{Key: key, UPN: upn, Password: password})
			}
			ao := engine.ApplyOptions{Refused: refused, Resume: resume}
			if jw != nil {
				if err := jw.Begin(digest); err != nil {
					discardSecretFile(passwordsFile)
					return err
				}
				begun = true
				// A journal that cannot be written stops the run like Ctrl-C:
				// going on would make steps a re-run cannot know about.
				jctx, stop := context.WithCancel(ctx)
				defer stop()
				ctx = jctx
				ao.Journal = func(i int, step, id string) {
					jw.Step(i, p.Actions[i].Key, step, id)
					if jw.Err() != nil {
						stop()
					}
				}
			}
			rep, err := e.ApplyWith(ctx, p, t, ao, created)
			// Closed even after Ctrl-C or failures: the joiners created so
			// far exist in Entra whatever happened to the rest. A file that
			// cannot be written does not keep the others from being written.
			var outErrs []error
			if passwordsFile != nil {
				if adopted > 0 {
					e.Log.Info("adopted users keep the initial password an earlier apply set; they are not in the passwords file", "adopted", adopted)
				}
				if werr := passwords.close(); werr != nil {
					outErrs = append(outErrs, fmt.Errorf("write passwords file: %w; the %d users created in this run have initial passwords that were not all saved: reset their passwords", werr, passwords.n))
				} else {
					a.notice("Initial passwords of %d created users written to %s (mode 0600).\n", passwords.n, passwordsPath)
				}
			}
			if writebackFile != nil {
				if werr := joiners.close(); werr != nil {
					outErrs = append(outErrs, fmt.Errorf("write writeback file %s: %w", writebackPath, werr))
				}
			}
			if rep != nil {
				if rerr := render.Report(a.ios.Out, rep); rerr != nil {
					return rerr
				}
				if reportFile != nil {
					if werr := writeReport(reportFile, rep); werr != nil {
						outErrs = append(outErrs, werr)
					}
				}
			}
			if jw != nil && jw.Err() != nil {
				outErrs = append(outErrs, fmt.Errorf("the run stopped: %w; a re-run checks the directory for what this one did", jw.Err()))
			}
			if len(outErrs) > 0 {
				return &exitError{code: ExitPartial, err: errors.Join(outErrs...)}
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
	cmd.Flags().BoolVar(&allowOver, "allow-over-thresholds", false, "apply even when the plan exceeds a safety threshold (leavers, creates, updates, source drop)")
	cmd.Flags().BoolVar(&allowMassLeavers, "allow-mass-leavers", false, "the former name of --allow-over-thresholds")
	cmd.Flags().StringVar(&reportPath, "report", "", "write the apply report to this file: CSV if it ends in .csv, else JSON (mode 0600)")
	cmd.Flags().StringVar(&writebackPath, "writeback", "", "write a CSV of the joiners this apply created (key, user_principal_name, mail, object_id, created_at) to this file, for HR (mode 0600)")
	cmd.Flags().StringVar(&passwordsPath, "passwords-file", "", "write the initial passwords of the users this apply creates to this new file (CSV, mode 0600; an existing file is refused). Without it passwords are stored nowhere")
	addConfigFlags(cmd.Flags())
	return cmd
}

// underived refuses a plan holding actions the mapping does not give from
// the source now: the plan was edited, or the source changed since. Nothing
// is applied, and no journal is begun.
func underived(p *plan.Plan, v *engine.Verdict) error {
	var b strings.Builder
	fmt.Fprintf(&b, "the plan holds %d action(s) the mapping does not give from the source now; nothing was applied:", len(v.Underived))
	for _, r := range v.Underived {
		a := p.Actions[r.Index]
		fmt.Fprintf(&b, "\n  %s %s: %s", a.Action, a.Key, r.Reason)
	}
	if v.SourceChanged {
		b.WriteString("\nThe source changed since the plan was made: make a new plan, review it and apply that.")
	} else {
		b.WriteString("\nThe source is the one the plan was made from, so the plan file was edited: make a new plan, review it and apply that.")
	}
	return &exitError{code: ExitPartial, err: errors.New(b.String())}
}

// closeTarget releases the target even after Ctrl-C, so the sandbox state
// is saved; a failure to save is an error, since nothing was persisted.
func closeTarget(ctx context.Context, t directory.Directory, err error) error {
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
func writeReport(f *os.File, rep *report.Report) error {
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

// openOutput opens an output file (--report, --writeback) before the
// apply, truncating it, with mode 0600. A symbolic link at path is refused
// (see safefile): a link planted where the report is expected would make
// hrsync truncate the file it points at.
//
// The standard streams are the exception: /dev/stdout, /dev/stderr,
// /dev/fd/N and /proc/self/fd/N are symbolic links on Linux (to the
// process's own descriptors), and `--report /dev/stdout` worked before
// links were refused, so scripts may rely on it. These names live in
// folders only the system controls, so nobody can plant a link there, and
// they lead to a descriptor the caller chose; they are opened as before.
// A pipe or device given by its own path is no link and works as well.
func openOutput(path string) (*os.File, error) {
	open := safefile.OpenFile
	if isStdStream(path) {
		open = os.OpenFile
	}
	f, err := open(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if errors.Is(err, safefile.ErrSymlink) {
		return nil, fmt.Errorf("%s %w, which hrsync does not follow (it would truncate the file the link points at): give the path of the file itself", path, safefile.ErrSymlink)
	}
	if err != nil {
		return nil, err
	}
	// An existing regular file keeps its mode otherwise; a device or pipe
	// (/dev/stdout) is left as it is.
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		if err := f.Chmod(0o600); err != nil {
			f.Close()
			return nil, err
		}
	}
	return f, nil
}

// isStdStream reports the names of the process's own descriptors that
// openOutput follows although they are symbolic links.
func isStdStream(path string) bool {
	p := filepath.Clean(path)
	if p == "/dev/stdout" || p == "/dev/stderr" {
		return true
	}
	for _, dir := range []string{"/dev/fd/", "/proc/self/fd/"} {
		if n, ok := strings.CutPrefix(p, dir); ok && n != "" && strings.Trim(n, "0123456789") == "" {
			return true
		}
	}
	return false
}

// createSecretFile creates the passwords file: a new regular file, mode
// 0600. An existing file or a symbolic link (even a dangling one) is
// refused, so secrets never land in a file someone else prepared.
func createSecretFile(path string) (*os.File, error) {
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSymlink != 0 {
			return nil, fmt.Errorf("passwords file %s is a symbolic link; give the path of a new file", path)
		}
		return nil, fmt.Errorf("passwords file %s already exists; hrsync never overwrites it: move it away or give a new path", path)
	}
	// O_EXCL also fails on a symbolic link, closing the race after Lstat.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create passwords file: %w", err)
	}
	if err := f.Chmod(0o600); err != nil { // the umask may have narrowed it only
		discardSecretFile(f)
		return nil, fmt.Errorf("create passwords file: %w", err)
	}
	return f, nil
}

// discardSecretFile removes a passwords file created by this run before
// anything was written to it.
func discardSecretFile(f *os.File) {
	if f != nil {
		f.Close()
		os.Remove(f.Name())
	}
}

// writebackRow is one joiner for HR's writeback.
type writebackRow struct {
	Key       string `csv:"key"`
	UPN       string `csv:"user_principal_name"`
	Mail      string `csv:"mail"`
	ObjectID  string `csv:"object_id"`
	CreatedAt string `csv:"created_at"`
}

// csvSafe is the row with every cell made safe for spreadsheets (see
// render.CSVCell): key, UPN and mail come from HR.
func (r writebackRow) csvSafe() writebackRow {
	return writebackRow{Key: render.CSVCell(r.Key), UPN: render.CSVCell(r.UPN), Mail: render.CSVCell(r.Mail),
		ObjectID: render.CSVCell(r.ObjectID), CreatedAt: render.CSVCell(r.CreatedAt)}
}

// passwordRow is one created user's initial password.
type passwordRow struct {
	Key      string `csv:"key"`
	UPN      string `csv:"user_principal_name"`
	Password string `csv:"initial_password"`
}

// csvSafe makes the key and UPN safe for spreadsheets (see
// render.CSVCell). The password is written exactly as it was set: a quote
// in front would be read out as part of it. apply.NewPassword never starts
// a password with a formula character, so none needs escaping.
func (r passwordRow) csvSafe() passwordRow {
	return passwordRow{Key: render.CSVCell(r.Key), UPN: render.CSVCell(r.UPN), Password: r.Password}
}

// csvRow is a row type of a csvStream: csvSafe returns it ready to write.
type csvRow[T any] interface {
	csvSafe() T
}

// csvStream writes CSV rows to a file as they come: the header at once,
// then each row, written through, its cells made safe for spreadsheets
// (csvSafe). Its errors never carry a row's values (a password). A nil
// file takes rows and writes nothing.
type csvStream[T csvRow[T]] struct {
	f   *os.File
	n   int
	err error
}

func newCSVStream[T csvRow[T]](f *os.File) *csvStream[T] {
	s := &csvStream[T]{f: f}
	if f != nil {
		if err := gocsv.Marshal([]T{}, f); err != nil {
			s.err = fmt.Errorf("write %s: %w", f.Name(), err)
		}
	}
	return s
}

func (s *csvStream[T]) add(row T) {
	if s.f == nil {
		return
	}
	s.n++
	if s.err != nil {
		return
	}
	if err := gocsv.MarshalWithoutHeaders([]T{row.csvSafe()}, s.f); err != nil {
		s.err = fmt.Errorf("write %s: row %d failed", s.f.Name(), s.n)
	}
}

// close syncs and closes the file.
func (s *csvStream[T]) close() error {
	if s.f == nil {
		return nil
	}
	if err := s.f.Sync(); err != nil && s.err == nil {
		s.err = err
	}
	if err := s.f.Close(); err != nil && s.err == nil {
		s.err = err
	}
	return s.err
}
