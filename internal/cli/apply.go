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

	"github.com/hrsync/hrsync/internal/engine"
	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/plan"
	"github.com/hrsync/hrsync/internal/render"
	"github.com/hrsync/hrsync/internal/report"
	"github.com/hrsync/hrsync/internal/safefile"
)

func (a *app) applyCmd() *cobra.Command {
	var autoApprove, allowOver, allowMassLeavers bool
	var reportPath, writebackPath, passwordsPath, format string
	cmd := &cobra.Command{
		Use:   "apply [PLAN]",
		Short: "Carry out a saved plan, or plan and apply after confirmation",
		Long: `apply PLAN carries out exactly the saved, reviewed plan. It refuses a plan made for
another target, configuration or mapping.

apply without a plan file makes a plan, shows it and asks for "yes" on the terminal
(or proceeds with --auto-approve). With no terminal and no --auto-approve it refuses.

--format json prints the apply report as JSON on stdout (as --report writes it), and
the plan to approve, if any, on stderr.`,
		Args: cobra.MaximumNArgs(1),
		ValidArgsFunction: func(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return completeFiles("json")(cmd, args, "")
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o := applyOptions{autoApprove: autoApprove, allowOver: allowOver || allowMassLeavers,
				report: reportPath, writeback: writebackPath, passwords: passwordsPath, format: format}
			if len(args) == 1 {
				o.planFile = args[0]
			}
			return a.runApply(cmd, o)
		},
	}
	cmd.Flags().BoolVar(&autoApprove, "auto-approve", false, "apply without asking for confirmation")
	cmd.Flags().BoolVar(&allowOver, "allow-over-thresholds", false, "apply even when the plan exceeds a safety threshold (leavers, creates, updates, source drop)")
	cmd.Flags().BoolVar(&allowMassLeavers, "allow-mass-leavers", false, "the former name of --allow-over-thresholds")
	cmd.Flags().StringVar(&format, "format", "text", "output format of the apply report on stdout: text or json")
	completeValues(cmd, "format", "text", "json")
	cmd.Flags().StringVar(&reportPath, "report", "", "write the apply report to this file: CSV if it ends in .csv, else JSON (mode 0600)")
	_ = cmd.RegisterFlagCompletionFunc("report", completeFiles("csv", "json"))
	_ = cmd.RegisterFlagCompletionFunc("writeback", completeFiles("csv"))
	_ = cmd.RegisterFlagCompletionFunc("passwords-file", completeFiles("csv"))
	cmd.Flags().StringVar(&writebackPath, "writeback", "", "write a CSV of the joiners this apply created (key, user_principal_name, mail, object_id, created_at) to this file, for HR (mode 0600)")
	cmd.Flags().StringVar(&passwordsPath, "passwords-file", "", "write the initial passwords of the users this apply creates to this new file (CSV, mode 0600; an existing file is refused). Without it passwords are stored nowhere")
	addConfigFlags(cmd.Flags())
	completeConfigFlags(cmd)
	return cmd
}

// applyOptions are apply's flags.
type applyOptions struct {
	planFile                     string
	autoApprove, allowOver       bool
	report, writeback, passwords string
	format                       string
}

// runApply applies a saved plan (or plans and asks), writes the output
// files as joiners are created, prints the report and turns the outcome
// into an exit code.
func (a *app) runApply(cmd *cobra.Command, o applyOptions) error {
	if o.format != "text" && o.format != "json" {
		return fmt.Errorf("unknown format %q; use text or json", o.format)
	}
	e, err := a.engine(cmd)
	if err != nil {
		return err
	}
	if o.planFile == "" && !o.autoApprove && !a.ios.StdinTTY {
		return errors.New("apply without a plan file needs confirmation, and stdin is not a terminal: pass --auto-approve, or save a plan with 'hrsync plan --out plan.json' and apply that")
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), e.Cfg.Timeout)
	defer cancel()
	out := &applyOutputs{now: e.Now}
	run := engine.ApplyRun{PlanFile: o.planFile, AllowOverThresholds: o.allowOver, Notice: a.notice,
		Prepare: func(p *plan.Plan) error { return out.open(o, p.Schema()) }, Created: out.created}
	if o.planFile == "" {
		run.Approve = func(p *plan.Plan) (bool, error) {
			if err := a.showForApproval(p, o); err != nil {
				return false, err
			}
			if o.autoApprove {
				return true, nil
			}
			return a.confirm(p)
		}
	}
	res, err := e.Apply(ctx, run)
	if res.Plan != nil {
		a.noticeProblems(res.Plan)
	}
	// Closed even after Ctrl-C or failures: the joiners created so far
	// exist in the directory whatever happened to the rest. A file that
	// cannot be written does not keep the others from being written.
	outErrs := out.close(a, e, o)
	if rerr := a.printReport(e, res, err, o); rerr != nil {
		return rerr
	}
	if res.Report != nil {
		if out.report != nil {
			if werr := writeReport(out.report, res.Report); werr != nil {
				outErrs = append(outErrs, werr)
			}
		}
	}
	return applyExit(e, res, err, outErrs)
}

// showForApproval shows a plan made now before it is approved: on stdout,
// or on stderr when stdout carries the JSON report.
func (a *app) showForApproval(p *plan.Plan, o applyOptions) error {
	if o.format == "json" {
		return render.Text(a.ios.ErrOut, p)
	}
	return render.TextStyle(a.ios.Out, p, a.ios.style())
}

// printReport prints the apply report on stdout: as text, or as JSON. A
// JSON report is printed also when there was nothing to apply (no
// results), so a pipeline always gets one; after an error before any
// write, stdout stays empty.
func (a *app) printReport(e *engine.Engine, res *engine.Applied, err error, o applyOptions) error {
	rep := res.Report
	if o.format != "json" {
		if rep == nil {
			return nil
		}
		return render.Report(a.ios.Out, rep, render.ReportOptions{Full: o.report, Style: a.ios.style()})
	}
	if rep == nil && err == nil {
		now := e.Now().UTC()
		rep = &report.Report{StartedAt: now, FinishedAt: now, Results: []report.Result{}}
	}
	if rep == nil {
		return nil
	}
	return writeJSON(a.ios.Out, rep)
}

// noticeProblems reminds, after an apply, of the plan's unresolved
// problems: applying it resolved none of them.
func (a *app) noticeProblems(p *plan.Plan) {
	if problems := p.Problems(); len(problems) > 0 {
		a.notice("The plan has %s that no apply resolves (%s): fix the source, the mapping or the directory.\n",
			render.Count(len(problems), "unresolved problem", "unresolved problems"), render.ProblemList(problems, 5))
	}
}

// applyExit is the error (and exit code) an apply ends with.
func applyExit(e *engine.Engine, res *engine.Applied, err error, outErrs []error) error {
	var ue *engine.UnderivedError
	var je *engine.JournalError
	switch {
	case errors.As(err, &ue), errors.As(err, &je):
		return &exitError{code: ExitPartial, err: errors.Join(append([]error{err}, outErrs...)...)}
	case len(outErrs) > 0:
		return &exitError{code: ExitPartial, err: errors.Join(outErrs...)}
	}
	rep := res.Report
	switch {
	case rep != nil && res.Stopped != nil:
		why := "interrupted"
		if errors.Is(res.Stopped, context.DeadlineExceeded) {
			why = fmt.Sprintf("stopped at the run's timeout (%s)", e.Cfg.Timeout)
		}
		return &exitError{code: ExitPartial, err: fmt.Errorf("%s: %s; run plan and apply again to finish", why, render.ReportCounts(rep))}
	case err != nil:
		return err
	case rep != nil && rep.Incomplete() > 0:
		return &exitError{code: ExitPartial, err: fmt.Errorf("%d of %d actions were not fully applied; the rest were. Fix the cause and run plan and apply again: done actions will not be repeated", rep.Incomplete(), len(rep.Results))}
	}
	return nil
}

// applyOutputs are the files an apply writes besides the journal: the
// passwords and writeback files, row by row as joiners are created, and
// the report at the end. They are opened before the first write, so a bad
// path fails while nothing has been applied.
type applyOutputs struct {
	now                          func() time.Time
	passwordsFile, writebackFile *os.File
	report                       *os.File
	passwords                    *csvStream[passwordRow]
	joiners                      joinerSink
	// schema is the target's: a directory that places users in a tree
	// (Active Directory) gets dn and account_name columns.
	schema  *identity.Schema
	adopted int
}

// joinerSink takes the writeback's rows.
type joinerSink interface {
	add(writebackRow)
	close() error
}

func (w *applyOutputs) open(o applyOptions, schema *identity.Schema) error {
	w.schema = schema
	var err error
	if o.passwords != "" {
		if w.passwordsFile, err = createSecretFile(o.passwords); err != nil {
			return err
		}
	}
	if o.writeback != "" {
		if w.writebackFile, err = openOutput(o.writeback); err != nil {
			discardSecretFile(w.passwordsFile)
			w.passwordsFile = nil
			return fmt.Errorf("open writeback file: %w", err)
		}
	}
	if o.report != "" {
		if w.report, err = openOutput(o.report); err != nil {
			discardSecretFile(w.passwordsFile)
			w.passwordsFile = nil
			if w.writebackFile != nil {
				w.writebackFile.Close()
				w.writebackFile = nil
			}
			return fmt.Errorf("open report: %w", err)
		}
	}
	// Each joiner reaches the writeback and passwords files as it is
	// created, so a run killed half way loses none of them.
	w.passwords = newCSVStream[passwordRow](w.passwordsFile)
	if schema != nil && schema.Roles.Placement != "" {
		w.joiners = dirJoiners{newCSVStream[dirWritebackRow](w.writebackFile)}
	} else {
		w.joiners = newCSVStream[writebackRow](w.writebackFile)
	}
	return nil
}

// created records a joiner created (with its initial password) or adopted
// (password "").
func (w *applyOutputs) created(key, id, upn, mail, password string, attrs identity.Attrs) {
	if w.joiners == nil {
		return
	}
	row := writebackRow{Key: key, UPN: upn, Mail: mail, ObjectID: id, CreatedAt: w.now().UTC().Format(time.RFC3339)}
	if w.schema != nil {
		row.DN, row.AccountName = w.schema.EntryDN(attrs), attrs.Get(w.schema.Roles.AccountName)
	}
	w.joiners.add(row)
	if password == "" {
		w.adopted++
		return
	}
	w.passwords.add(passwordRow{Key: key, UPN: upn, Password: password})
}

// close closes the passwords and writeback files and returns what failed.
func (w *applyOutputs) close(a *app, e *engine.Engine, o applyOptions) []error {
	var errs []error
	if w.passwordsFile != nil {
		if w.adopted > 0 {
			e.Log.Info("adopted users keep the initial password an earlier apply set; they are not in the passwords file", "adopted", w.adopted)
		}
		if werr := w.passwords.close(); werr != nil {
			errs = append(errs, fmt.Errorf("write passwords file: %w; the %d users created in this run have initial passwords that were not all saved: reset their passwords", werr, w.passwords.n))
		} else {
			a.notice("Initial passwords of %d created users written to %s (mode 0600).\n", w.passwords.n, o.passwords)
		}
	}
	if w.writebackFile != nil {
		if werr := w.joiners.close(); werr != nil {
			errs = append(errs, fmt.Errorf("write writeback file %s: %w", o.writeback, werr))
		}
	}
	return errs
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
	// DN and AccountName are written by dirWritebackRow only.
	DN          string `csv:"-"`
	AccountName string `csv:"-"`
}

// dirWritebackRow is a joiner of a directory that places users in a tree:
// the writeback row with the user's DN and account name (Active
// Directory's sAMAccountName), which HR systems keep too.
type dirWritebackRow struct {
	Key         string `csv:"key"`
	UPN         string `csv:"user_principal_name"`
	Mail        string `csv:"mail"`
	ObjectID    string `csv:"object_id"`
	CreatedAt   string `csv:"created_at"`
	DN          string `csv:"dn"`
	AccountName string `csv:"account_name"`
}

func (r dirWritebackRow) csvSafe() dirWritebackRow {
	return dirWritebackRow{Key: render.CSVCell(r.Key), UPN: render.CSVCell(r.UPN), Mail: render.CSVCell(r.Mail),
		ObjectID: render.CSVCell(r.ObjectID), CreatedAt: render.CSVCell(r.CreatedAt), DN: render.CSVCell(r.DN), AccountName: render.CSVCell(r.AccountName)}
}

// dirJoiners writes writeback rows with the directory's columns.
type dirJoiners struct{ s *csvStream[dirWritebackRow] }

func (j dirJoiners) add(r writebackRow) {
	j.s.add(dirWritebackRow(r))
}

func (j dirJoiners) close() error { return j.s.close() }

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
