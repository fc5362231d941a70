package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hrsync/hrsync/internal/testenv"
)

// The report, the writeback file and the journal refuse a symbolic link
// before anything is applied, and leave the link's target as it was: a
// journal link used to cut its target's last line, a report or writeback
// link truncated its target.
func TestOutputSymlinksAreRefusedBeforeAnyWrite(t *testing.T) {
	const content = "precious data\nwithout a final newline"
	tests := []struct {
		name     string
		link     string // the file name that is a link, in a temp folder
		args     func(cfg, link string) []string
		planFile bool // apply a saved plan (plan.json) whose journal is the link
		want     string
	}{
		{"report", "report.json", func(cfg, link string) []string {
			return []string{"apply", "-c", cfg, "--auto-approve", "--report", link}
		}, false, "open report: "},
		{"csv report", "report.csv", func(cfg, link string) []string {
			return []string{"apply", "-c", cfg, "--auto-approve", "--report", link}
		}, false, "open report: "},
		{"writeback", "writeback.csv", func(cfg, link string) []string {
			return []string{"apply", "-c", cfg, "--auto-approve", "--writeback", link}
		}, false, "open writeback file: "},
		{"journal", "plan.json.journal", func(cfg, link string) []string {
			return []string{"apply", "-c", cfg, strings.TrimSuffix(link, ".journal")}
		}, true, "journal "},
	}
	for _, tc := range tests {
		for _, dangling := range []bool{false, true} {
			name := tc.name
			if dangling {
				name += " dangling"
			}
			t.Run(name, func(t *testing.T) {
				cfg := quickstart(t)
				dir := t.TempDir()
				target := filepath.Join(dir, "target.txt")
				if !dangling {
					if err := os.WriteFile(target, []byte(content), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				link := filepath.Join(dir, tc.link)
				if tc.planFile {
					s := newStreams("", false)
					if code := Main(context.Background(), []string{"plan", "-c", cfg, "--out", strings.TrimSuffix(link, ".journal")}, s.ios, testBuild); code != ExitOK {
						t.Fatalf("plan: exit %d\n%s", code, s.err)
					}
				}
				if err := os.Symlink(target, link); err != nil {
					t.Fatal(err)
				}
				args := tc.args(cfg, link)
				s := newStreams("", false)
				code := Main(context.Background(), args, s.ios, testBuild)
				if code != ExitError || !strings.Contains(s.err.String(), tc.want) || !strings.Contains(s.err.String(), "is a symbolic link") {
					t.Fatalf("exit %d, want %d and %q ... is a symbolic link:\n%s", code, ExitError, tc.want, s.err)
				}
				data, err := os.ReadFile(target)
				switch {
				case dangling && err == nil:
					t.Errorf("the dangling link's target was created: %q", data)
				case !dangling && string(data) != content:
					t.Errorf("the link's target was changed: %q", data)
				}
				state, _ := os.ReadFile(filepath.Join(filepath.Dir(cfg), ".hrsync", "sandbox.json"))
				if bytes.Contains(state, []byte(`"1046"`)) {
					t.Error("changes were applied although an output was refused")
				}
			})
		}
	}
}

// The process's own descriptors, symbolic links on Linux, stay usable as
// outputs (--report /dev/stdout worked before links were refused).
func TestOpenOutputStandardStreams(t *testing.T) {
	tests := []struct {
		path string
		want bool
	}{
		{"/dev/stdout", true},
		{"/dev/stderr", true},
		{"/dev/./stdout", true},
		{"/dev/fd/1", true},
		{"/dev/fd/63", true},
		{"/proc/self/fd/4", true},
		{"/dev/fd/", false},
		{"/dev/fd/1x", false},
		{"/dev/fd/1/x", false},
		{"/proc/1/fd/1", false},
		{"/tmp/dev/stdout", false},
		{"dev/stdout", false},
		{"/dev/stdin", false},
	}
	for _, tc := range tests {
		if got := isStdStream(tc.path); got != tc.want {
			t.Errorf("isStdStream(%q) = %v, want %v", tc.path, got, tc.want)
		}
	}

	// A pipe named by /dev/fd/N (as a shell's >(...) gives it) is written.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	path := fmt.Sprintf("/dev/fd/%d", w.Fd())
	if _, err := os.Stat(path); err != nil {
		testenv.Missing(t, path, "a Linux /dev/fd: "+err.Error())
	}
	f, err := openOutput(path)
	if err != nil {
		t.Fatalf("openOutput(%s): %v", path, err)
	}
	if _, err := io.WriteString(f, "report\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	w.Close()
	if got, _ := io.ReadAll(r); string(got) != "report\n" {
		t.Errorf("the pipe got %q", got)
	}
}
