package cli

import (
	"io"
	"os"

	"golang.org/x/term"

	"github.com/hrsync/hrsync/internal/render"
)

// IOStreams are the standard streams of a command and what they are
// connected to, so commands can be tested without a terminal.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// StdinTTY says stdin is an interactive terminal (confirmation prompts).
	StdinTTY bool
	// StdoutTTY says stdout is a terminal.
	StdoutTTY bool
	// StderrTTY says stderr is a terminal (progress bars).
	StderrTTY bool
	// Color says plans and reports written to stdout are coloured (see
	// ColorFor).
	Color bool
}

// System returns the process's streams.
func System() *IOStreams {
	out := term.IsTerminal(int(os.Stdout.Fd()))
	return &IOStreams{
		In:        os.Stdin,
		Out:       os.Stdout,
		ErrOut:    os.Stderr,
		StdinTTY:  term.IsTerminal(int(os.Stdin.Fd())),
		StdoutTTY: out,
		StderrTTY: term.IsTerminal(int(os.Stderr.Fd())),
		Color:     ColorFor(os.Getenv, out),
	}
}

// ColorFor decides whether stdout gets colour: never when NO_COLOR is set
// to anything (no-color.org) or TERM is dumb; always when CLICOLOR_FORCE is
// set to anything but 0 (for a pager such as less -R); otherwise only on a
// terminal, so files, pipes and CI logs stay plain.
func ColorFor(getenv func(string) string, stdoutTTY bool) bool {
	switch {
	case getenv("NO_COLOR") != "":
		return false
	case getenv("CLICOLOR_FORCE") != "" && getenv("CLICOLOR_FORCE") != "0":
		return true
	case getenv("TERM") == "dumb":
		return false
	}
	return stdoutTTY
}

// style is how plans and reports on stdout are written.
func (s *IOStreams) style() render.Style { return render.Style{Color: s.Color} }
