// Package cli implements hrsync's commands on cobra. It maps every error to
// an exit code in one place (Main); only cmd/hrsync calls os.Exit.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/hrsync/hrsync/internal/buildinfo"
	"github.com/hrsync/hrsync/internal/config"
	"github.com/hrsync/hrsync/internal/engine"
	"github.com/hrsync/hrsync/internal/targets"
)

// Exit codes.
const (
	ExitOK      = 0
	ExitError   = 1
	ExitChanges = 2 // plan --detailed-exitcode found changes
	ExitPartial = 3 // apply finished with some actions failed
	ExitBlocked = 4 // plan --detailed-exitcode: changes, but a safety threshold blocks them
	// ExitProblems is added to plan --detailed-exitcode's 0, 2 or 4 when
	// the plan has unresolved problems (see plan.SeverityProblem): 8, 10
	// or 12. Applying does not resolve them; a person must act.
	ExitProblems = 8
)

// exitError carries a specific exit code; err may be nil when the command
// already said everything.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// app is the state shared by the commands of one invocation.
type app struct {
	ios        *IOStreams
	build      buildinfo.Info
	configFile string
	logFormat  string
	logLevel   string
	log        *slog.Logger
}

// Main runs hrsync with args (without the program name) and returns the
// process exit code; build identifies the binary (hrsync version).
func Main(ctx context.Context, args []string, ios *IOStreams, build buildinfo.Info) int {
	a := &app{ios: ios, build: build}
	root := a.rootCmd()
	args, err := terraformArgs(root, args)
	if err != nil {
		fmt.Fprintf(ios.ErrOut, "Error: %s\n", err)
		return ExitError
	}
	root.SetArgs(args)
	root.SetIn(ios.In)
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	err = root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	code, shown := ExitError, err
	var ee *exitError
	if errors.As(err, &ee) {
		code, shown = ee.code, ee.err
	}
	if shown != nil {
		if a.logFormat == "json" && a.log != nil {
			// Pipelines parse stderr as JSON lines: the error is one too.
			a.log.Error(shown.Error(), "exit_code", code)
		} else {
			fmt.Fprintf(ios.ErrOut, "Error: %s\n", strings.ReplaceAll(shown.Error(), "\n", "\n  "))
		}
	}
	return code
}

// notice tells the person running hrsync something on stderr; under
// --log-format json it is a log record, so stderr stays JSON lines.
func (a *app) notice(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if a.logFormat == "json" && a.log != nil {
		a.log.Info(strings.TrimSpace(msg))
		return
	}
	fmt.Fprint(a.ios.ErrOut, msg)
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "hrsync",
		Short: "Keep Microsoft Entra ID in step with the HR system",
		Long: `hrsync reads the workforce from an HR export, maps each worker to the Entra user
they should be, compares that with Entra ID, and shows a plan of joiners to create,
movers to update and leavers to disable. "hrsync apply" carries out exactly the plan.`,
		Version:       a.build.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return a.setupLog()
		},
	}
	pf := root.PersistentFlags()
	pf.StringVarP(&a.configFile, "config", "c", "", "config file (default ./hrsync.yaml)")
	pf.StringVar(&a.logFormat, "log-format", "text", "log format on stderr: text or json")
	pf.StringVar(&a.logLevel, "log-level", "warn", "log level: debug, info, warn, error")
	a.completeRoot(root)
	root.SetVersionTemplate(a.build.String())
	root.AddCommand(a.validateCmd(), a.planCmd(), a.showCmd(), a.applyCmd(), a.explainCmd(), a.sandboxCmd(), a.versionCmd())
	return root
}

func (a *app) setupLog() error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(a.logLevel)); err != nil {
		return fmt.Errorf("--log-level %q: use debug, info, warn or error", a.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch a.logFormat {
	case "text":
		a.log = slog.New(slog.NewTextHandler(a.ios.ErrOut, opts))
	case "json":
		a.log = slog.New(slog.NewJSONHandler(a.ios.ErrOut, opts))
	default:
		return fmt.Errorf("--log-format %q: use text or json", a.logFormat)
	}
	return nil
}

// addConfigFlags adds the flags that override configuration keys.
func addConfigFlags(fs *pflag.FlagSet) {
	fs.String(config.FlagName("source.path"), "", "override source.path")
	fs.String(config.FlagName("target.type"), "", "override target.type (entra or sandbox)")
	fs.String(config.FlagName("target.state"), "", "override target.state (sandbox state file)")
	fs.String(config.FlagName("target.graph_url"), "", "override target.graph_url")
	fs.String(config.FlagName("timeout"), "", "override timeout: the deadline for the whole run, e.g. 90m (default 6h)")
}

func (a *app) loadConfig(cmd *cobra.Command) (*config.Config, error) {
	return config.Load(config.Options{File: a.configFile, FileExplicit: a.configFile != "", Flags: cmd.Flags()})
}

func (a *app) engine(cmd *cobra.Command) (*engine.Engine, error) {
	cfg, err := a.loadConfig(cmd)
	if err != nil {
		return nil, err
	}
	var prog engine.Progress
	if a.ios.StderrTTY {
		prog = barProgress{w: a.ios.ErrOut}
	}
	return engine.New(cfg, a.log, prog, a.build.Version, targets.Open)
}

func (a *app) versionCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and build date",
		Long: `version prints hrsync's version, the commit it was built from and the build date: those a
release build stamps in, else those the Go toolchain recorded (the module version of
go install ...@version; the checkout's commit, its date and whether it had changes).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if asJSON {
				return writeJSON(a.ios.Out, a.build)
			}
			_, err := io.WriteString(a.ios.Out, a.build.String())
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print version, commit, date, modified, go_version and platform as JSON")
	return cmd
}

// writeJSON writes v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
