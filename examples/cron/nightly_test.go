// Package cron_test runs examples/cron/hrsync-nightly.sh against a fake
// hrsync on PATH, for each exit code hrsync can give it.
package cron_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/hrsync/hrsync/internal/testenv"
)

// fakeHrsync stands in for hrsync: it logs its arguments, writes a plan
// for plan --out (applyable, summary.problems and warnings from
// FAKE_APPLYABLE, FAKE_PROBLEMS and FAKE_WARNINGS), and exits FAKE_PLAN_RC
// or FAKE_APPLY_RC.
const fakeHrsync = `#!/usr/bin/env bash
echo "$*" >> "$FAKE_CALLS"
cmd=$1; shift
case $cmd in
  plan)
    out=""
    while [ $# -gt 0 ]; do
      if [ "$1" = --out ]; then out=$2; shift; fi
      shift
    done
    if [ -n "$out" ]; then
      printf '{"applyable": %s, "summary": {"problems": %s}, "warnings": %s}\n' \
        "${FAKE_APPLYABLE:-true}" "${FAKE_PROBLEMS:-0}" "${FAKE_WARNINGS:-[]}" > "$out"
    fi
    echo "Plan: fake"
    exit "${FAKE_PLAN_RC:-0}" ;;
  show) echo "the plan, as text" ;;
  apply) echo "Apply complete: fake"; exit "${FAKE_APPLY_RC:-0}" ;;
  *) echo "fake hrsync: unexpected $cmd" >&2; exit 99 ;;
esac
`

type run struct {
	code        int
	stdout, log string
	calls       string
	stderr      string
}

// nightly runs the wrapper with a fake hrsync first on PATH and env set.
func nightly(t *testing.T, env map[string]string, hold bool) run {
	t.Helper()
	testenv.Program(t, "flock", "util-linux")
	testenv.Program(t, "jq", "jq")
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "hrsync"), []byte(fakeHrsync), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "hrsync.yaml")
	if err := os.WriteFile(cfg, []byte("# fake\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	calls := filepath.Join(dir, "calls")
	if hold {
		if err := os.MkdirAll(data, 0o700); err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(filepath.Join(data, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("bash", "hrsync-nightly.sh")
	cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "HRSYNC_CRON_CONFIG="+cfg, "HRSYNC_CRON_DATA_DIR="+data,
		"HRSYNC_CRON_ENV_FILE="+filepath.Join(dir, "none.env"), "HRSYNC_CRON_NOTIFY=", "HRSYNC_CRON_BIN=", "FAKE_CALLS="+calls)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := run{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	logs, _ := filepath.Glob(filepath.Join(data, "*", "hrsync.log"))
	for _, l := range logs {
		b, _ := os.ReadFile(l)
		r.log += string(b)
	}
	c, _ := os.ReadFile(calls)
	r.calls = string(c)
	return r
}

// problem is the environment of a plan exiting rc with one unresolved
// problem.
func problem(rc string) map[string]string {
	return map[string]string{"FAKE_PLAN_RC": rc, "FAKE_PROBLEMS": "1",
		"FAKE_WARNINGS": `[{"code":"upn_conflict","severity":"problem","key":"1048","message":"cannot create: john.smith@contoso.com is taken"},` +
			`{"code":"manager_not_found","severity":"note","key":"1007","message":"a note, not mailed as a problem"}]`}
}

func with(env map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for a, b := range env {
		if a != k {
			out[a] = b
		}
	}
	return out
}

func TestNightly(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		hold    bool
		code    int
		log     []string // in the run's log
		notLog  []string
		stdout  []string // what cron mails; "" for nothing
		notOut  []string
		applied bool
		silent  bool
	}{
		{name: "no changes", env: map[string]string{"FAKE_PLAN_RC": "0"}, code: 0,
			log: []string{"no changes"}, silent: true},
		{name: "changes", env: map[string]string{"FAKE_PLAN_RC": "2"}, code: 0,
			log: []string{"plan has changes: "}, notLog: []string{"exit 4", "safety threshold"},
			stdout: []string{"hrsync: changes waiting for review", "apply -c", "the plan, as text"}},
		{name: "blocked", env: map[string]string{"FAKE_PLAN_RC": "4", "FAKE_APPLYABLE": "false"}, code: 0,
			log: []string{"a safety threshold blocks them (exit 4)"}, stdout: []string{"blocked by a safety threshold"}},
		{name: "plan failed", env: map[string]string{"FAKE_PLAN_RC": "1"}, code: 1,
			log: []string{"plan failed (exit 1)"}, stdout: []string{"hrsync: plan FAILED"}},
		{name: "auto apply", env: map[string]string{"FAKE_PLAN_RC": "2", "HRSYNC_CRON_AUTO_APPLY": "1"}, code: 0,
			log: []string{"applying", "applied: every action done"}, stdout: []string{"hrsync: applied"}, applied: true},
		{name: "auto apply incomplete", env: map[string]string{"FAKE_PLAN_RC": "2", "HRSYNC_CRON_AUTO_APPLY": "1", "FAKE_APPLY_RC": "3"}, code: 3,
			log: []string{"apply incomplete (exit 3)"}, stdout: []string{"hrsync: apply INCOMPLETE"}, applied: true},
		{name: "auto apply never over a threshold", env: map[string]string{"FAKE_PLAN_RC": "4", "FAKE_APPLYABLE": "false", "HRSYNC_CRON_AUTO_APPLY": "1"}, code: 0,
			log: []string{"blocked by a safety threshold"}, stdout: []string{"changes waiting for review"}},
		{name: "another run holds the lock", hold: true, code: 4, silent: true},
		// Unresolved problems (+8) are mailed, also with nothing to apply.
		{name: "no changes, but a joiner that cannot be created", env: problem("8"), code: 6,
			log:    []string{"no changes to apply, but 1 unresolved problem(s)"},
			stdout: []string{"hrsync: 1 unresolved problem(s)", "! upn_conflict 1048: cannot create: john.smith@contoso.com is taken"},
			notOut: []string{"manager_not_found"}},
		{name: "changes and a problem", env: problem("10"), code: 6,
			log:    []string{"plan has changes: ", "1 unresolved problem(s)"},
			stdout: []string{"hrsync: changes waiting for review on", ", and 1 unresolved problem(s)", "! upn_conflict 1048"}},
		{name: "blocked and a problem", env: with(problem("12"), "FAKE_APPLYABLE", "false"), code: 6,
			log: []string{"(exit 4)"}, stdout: []string{"blocked by a safety threshold", "! upn_conflict 1048"}},
		{name: "auto apply with a problem", env: with(problem("10"), "HRSYNC_CRON_AUTO_APPLY", "1"), code: 6,
			log: []string{"applied: every action done"}, stdout: []string{"hrsync: applied on", "applying did not fix them", "! upn_conflict 1048"}, applied: true},
		{name: "auto apply incomplete with a problem", env: with(with(problem("10"), "HRSYNC_CRON_AUTO_APPLY", "1"), "FAKE_APPLY_RC", "3"), code: 3,
			stdout: []string{"hrsync: apply INCOMPLETE", "! upn_conflict 1048"}, applied: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := nightly(t, tt.env, tt.hold)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s\nlog:\n%s", r.code, tt.code, r.stdout, r.stderr, r.log)
			}
			for _, w := range tt.log {
				if !strings.Contains(r.log, w) {
					t.Errorf("log lacks %q:\n%s", w, r.log)
				}
			}
			for _, w := range tt.notLog {
				if strings.Contains(r.log, w) {
					t.Errorf("log says %q:\n%s", w, r.log)
				}
			}
			for _, w := range tt.stdout {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("output (mailed by cron) lacks %q:\n%s", w, r.stdout)
				}
			}
			for _, w := range tt.notOut {
				if strings.Contains(r.stdout, w) {
					t.Errorf("output (mailed by cron) has %q:\n%s", w, r.stdout)
				}
			}
			if tt.silent && r.stdout != "" {
				t.Errorf("output (mailed by cron) should be empty:\n%s", r.stdout)
			}
			if got := strings.Contains(r.calls, "apply "); got != tt.applied {
				t.Errorf("applied = %v, want %v; calls:\n%s", got, tt.applied, r.calls)
			}
		})
	}
}
