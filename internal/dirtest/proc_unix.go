//go:build unix

package dirtest

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// heldLocks keeps the lock files open, and so locked, for the life of the process.
var heldLocks []*os.File

// lockAddr takes an exclusive lock named name for the rest of this process's life, so that test binaries running
// at once do not pick the same address; it reports false when another process holds it. The kernel drops the
// lock when the process ends, however it ends.
func lockAddr(name string) bool {
	f, err := os.OpenFile(filepath.Join(os.TempDir(), "hrsync-dirtest-"+name+".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return false
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		return false
	}
	heldLocks = append(heldLocks, f)
	return true
}

// watchdog runs `script start dir` (its output into log), writes the exit status to stdout and closes it, then
// waits for the test process to end and stops the server and removes dir and log. Starting from the watchdog
// means a test binary killed part way through a start (a test timeout, Ctrl-C) still leaves nothing behind: the
// start finishes, and its server is stopped as soon as it is up. SIGPIPE is ignored, so a reader that died does
// not kill the watchdog.
const watchdog = `trap '' PIPE HUP INT
parent=$1 script=$2 dir=$3 log=$4
bash "$script" start "$dir" >"$log" 2>&1
echo "$?"
exec </dev/null >/dev/null 2>&1
while kill -0 "$parent"; do sleep 1; done
bash "$script" stop "$dir"
rm -rf -- "$dir" "$log"`

// startWatched starts the server in dir through the watchdog and waits for the start to finish.
func startWatched(script, dir string, env []string) error {
	log := dir + ".start.log"
	cmd := exec.Command("bash", "-c", watchdog, "hrsync-dirtest-watchdog", strconv.Itoa(os.Getpid()), script, dir, log)
	cmd.Env = env
	// Its own session, so that a Ctrl-C meant for go test does not reach it, and its stderr on /dev/null: go test
	// waits for the test binary's output pipes to close, which a watchdog holding them would delay until it ends.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("starting the watchdog: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting the watchdog: %w", err)
	}
	status, err := io.ReadAll(stdout)
	_ = stdout.Close()
	// The watchdog lives on until this process ends; it is never waited for.
	_ = cmd.Process.Release()
	if err != nil {
		return fmt.Errorf("reading the watchdog: %w", err)
	}
	out, _ := os.ReadFile(log)
	_ = os.Remove(log)
	// The script prints no secret: the passwords stay in files under dir.
	if code := strings.TrimSpace(string(status)); code != "0" {
		return fmt.Errorf("%s start %s exited with status %q:\n%s", script, dir, code, out)
	}
	return nil
}
