package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hrsync/hrsync/internal/buildinfo"
	"github.com/hrsync/hrsync/internal/plan"
)

// quickstart copies the quick start into a temp folder and returns the
// config path.
func quickstart(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for _, f := range []string{"examples/quickstart/hrsync.yaml", "examples/quickstart/workers.csv", "examples/quickstart/tenant-seed.json", "mappings/example.yaml"} {
		data, err := os.ReadFile(filepath.Join("..", "..", f))
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(root, f)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(root, "examples", "quickstart", "hrsync.yaml")
}

type streams struct {
	ios      *IOStreams
	out, err *bytes.Buffer
}

func newStreams(stdin string, tty bool) streams {
	var out, errb bytes.Buffer
	return streams{ios: &IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errb, StdinTTY: tty}, out: &out, err: &errb}
}

func TestApplyConfirmation(t *testing.T) {
	tests := []struct {
		name     string
		stdin    string
		tty      bool
		code     int
		applied  bool
		inStderr string
	}{
		{"yes applies", "yes\n", true, ExitOK, true, "Only 'yes' will be accepted"},
		{"anything else cancels", "y\n", true, ExitError, false, "apply cancelled; nothing was changed"},
		{"closed stdin cancels", "", true, ExitError, false, "read confirmation"},
		{"no terminal refuses before planning", "yes\n", false, ExitError, false, "stdin is not a terminal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := quickstart(t)
			s := newStreams(tt.stdin, tt.tty)
			code := Main(context.Background(), []string{"apply", "-c", cfg}, s.ios, testBuild)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, s.out, s.err)
			}
			if !strings.Contains(s.err.String(), tt.inStderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.inStderr, s.err)
			}
			if tt.tty && !strings.Contains(s.out.String(), "+ create 1046") {
				t.Errorf("the plan was not shown before asking:\n%s", s.out)
			}
			state, _ := os.ReadFile(filepath.Join(filepath.Dir(cfg), ".hrsync", "sandbox.json"))
			if got := bytes.Contains(state, []byte(`"1046"`)); got != tt.applied {
				t.Errorf("applied = %v, want %v", got, tt.applied)
			}
		})
	}
}

func TestJSONLogsGoToStderr(t *testing.T) {
	cfg := quickstart(t)
	s := newStreams("", false)
	code := Main(context.Background(), []string{"plan", "-c", cfg, "--format", "json", "--log-format", "json", "--log-level", "info"}, s.ios, testBuild)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, s.err)
	}
	var doc map[string]any
	if err := json.Unmarshal(s.out.Bytes(), &doc); err != nil {
		t.Fatalf("stdout is not only the plan: %v\n%s", err, s.out)
	}
	lines := strings.Split(strings.TrimSpace(s.err.String()), "\n")
	var msgs []string
	for _, l := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("stderr line is not JSON: %q", l)
		}
		msgs = append(msgs, rec["msg"].(string))
	}
	// The source and the directory are read side by side: either may end
	// first.
	slices.Sort(msgs)
	if strings.Join(msgs, ",") != "source read,target read" {
		t.Errorf("log messages = %v", msgs)
	}
}

func TestUsageErrors(t *testing.T) {
	cfg := quickstart(t)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"plan", "-c", cfg, "--format", "yaml"}, "unknown format"},
		{[]string{"plan", "-c", filepath.Join(t.TempDir(), "missing.yaml")}, "missing.yaml"},
		{[]string{"show", filepath.Join(t.TempDir(), "nope.json")}, "read plan"},
		{[]string{"plan", "--log-format", "xml"}, "--log-format"},
		{[]string{"sandbox", "serve"}, "--state is required"},
		{[]string{"frobnicate"}, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args[:1], " "), func(t *testing.T) {
			s := newStreams("", false)
			if code := Main(context.Background(), tt.args, s.ios, testBuild); code != ExitError {
				t.Fatalf("exit %d, want 1", code)
			}
			if !strings.Contains(s.err.String(), tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, s.err)
			}
		})
	}
}

func TestShowRefusesOtherFormatVersions(t *testing.T) {
	p := filepath.Join(t.TempDir(), "plan.json")
	if err := os.WriteFile(p, []byte(`{"format_version":"2.0","actions":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	s := newStreams("", false)
	if code := Main(context.Background(), []string{"show", p}, s.ios, testBuild); code != ExitError || !strings.Contains(s.err.String(), "format_version 2.0") {
		t.Fatalf("exit %d: %s", code, s.err)
	}
}

func TestBadReportPathFailsBeforeAnyWrite(t *testing.T) {
	cfg := quickstart(t)
	s := newStreams("", false)
	code := Main(context.Background(), []string{"apply", "-c", cfg, "--auto-approve", "--report", filepath.Join(t.TempDir(), "missing", "r.csv")}, s.ios, testBuild)
	if code != ExitError || !strings.Contains(s.err.String(), "open report") {
		t.Fatalf("exit %d: %s", code, s.err)
	}
	state, _ := os.ReadFile(filepath.Join(filepath.Dir(cfg), ".hrsync", "sandbox.json"))
	if bytes.Contains(state, []byte(`"1046"`)) {
		t.Error("changes were applied before the report path was checked")
	}
}

// testBuild identifies the binary in tests.
var testBuild = buildinfo.Info{Version: "test"}

func TestColorFor(t *testing.T) {
	tests := []struct {
		env  map[string]string
		tty  bool
		want bool
	}{
		{nil, true, true},
		{nil, false, false},
		{map[string]string{"NO_COLOR": "1"}, true, false},
		{map[string]string{"NO_COLOR": ""}, true, true},
		{map[string]string{"TERM": "dumb"}, true, false},
		{map[string]string{"CLICOLOR_FORCE": "1"}, false, true},
		{map[string]string{"CLICOLOR_FORCE": "0"}, false, false},
		{map[string]string{"CLICOLOR_FORCE": "1", "NO_COLOR": "1"}, true, false},
	}
	for _, tt := range tests {
		if got := ColorFor(func(k string) string { return tt.env[k] }, tt.tty); got != tt.want {
			t.Errorf("ColorFor(%v, tty %v) = %v, want %v", tt.env, tt.tty, got, tt.want)
		}
	}
}

// A plan on a colour terminal is coloured; the same plan elsewhere (a
// file, a pipe, NO_COLOR) is plain.
func TestPlanColorOnATerminalOnly(t *testing.T) {
	cfg := quickstart(t)
	for _, color := range []bool{true, false} {
		s := newStreams("", false)
		s.ios.Color = color
		if code := Main(context.Background(), []string{"plan", "-c", cfg}, s.ios, testBuild); code != ExitOK {
			t.Fatalf("exit %d: %s", code, s.err)
		}
		if got := strings.Contains(s.out.String(), "\x1b[32m+ create 1046\x1b[0m"); got != color {
			t.Errorf("color %v: coloured = %v:\n%q", color, got, s.out.String())
		}
		if !color && strings.Contains(s.out.String(), "\x1b") {
			t.Errorf("escapes without colour:\n%q", s.out.String())
		}
	}
}

// TestPlanOutShownOnlyOnceSaved: plan --out shows the plan (rendered while
// it is saved) only once the file holds it; when it cannot be saved,
// nothing of it is shown and the exit is an error.
func TestPlanOutShownOnlyOnceSaved(t *testing.T) {
	for _, format := range []string{"text", "json", "markdown"} {
		t.Run(format, func(t *testing.T) {
			cfg := quickstart(t)
			out := filepath.Join(t.TempDir(), "plan.json")
			s := newStreams("", false)
			if code := Main(context.Background(), []string{"plan", "-c", cfg, "--format", format, "--out", out}, s.ios, testBuild); code != ExitOK {
				t.Fatalf("plan: exit %d\n%s", code, s.err)
			}
			saved, err := plan.Read(out)
			if err != nil {
				t.Fatal(err)
			}
			if len(saved.Actions) == 0 || !strings.Contains(s.out.String(), saved.Actions[0].Key) {
				t.Errorf("the saved plan's first action (%+v) is not shown:\n%.2000s", saved.Actions, s.out)
			}
			if !strings.Contains(s.err.String(), "Saved the plan to "+out) {
				t.Errorf("stderr lacks the saved notice:\n%s", s.err)
			}

			missing := filepath.Join(t.TempDir(), "no such folder", "plan.json")
			s = newStreams("", false)
			code := Main(context.Background(), []string{"plan", "-c", cfg, "--format", format, "--out", missing}, s.ios, testBuild)
			if code != ExitError || s.out.Len() != 0 || !strings.Contains(s.err.String(), "write plan "+missing) || strings.Contains(s.err.String(), "Saved the plan") {
				t.Errorf("unsaved plan: exit %d (want %d), stdout %d bytes (want 0), stderr:\n%s", code, ExitError, s.out.Len(), s.err)
			}
		})
	}
}
