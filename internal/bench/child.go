package main

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// childRun is one finished hrsync child process.
type childRun struct {
	Args    []string
	Wall    time.Duration
	Code    int
	PeakRSS int64  // bytes; 0 when the platform does not report it
	Floor   int64  // the spawner's peak RSS: PeakRSS is never below it
	Stdout  string // file the child's stdout went to
	Stderr  string // file the child's stderr went to
}

// tail returns the last lines of the child's stderr, for error messages.
func (r *childRun) tail() string {
	data, err := os.ReadFile(r.Stderr)
	if err != nil {
		return fmt.Sprintf("(stderr unreadable: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return strings.Join(lines, "\n")
}

// runner starts hrsync children, through the spawner, in a scenario's
// folder with the bearer token in their environment.
type runner struct {
	sp    *spawner
	bin   string
	dir   string
	token string
}

// hrsync runs the binary with args; name names the files stdout and
// stderr are written to (name.out, name.err in the scenario folder). The
// wall time covers the process from start to exit.
func (rn *runner) hrsync(ctx context.Context, name string, args ...string) (*childRun, error) {
	r := &childRun{Args: args, Stdout: filepath.Join(rn.dir, name+".out"), Stderr: filepath.Join(rn.dir, name+".err")}
	res, err := rn.sp.run(ctx, spawnRequest{Bin: rn.bin, Args: args, Dir: rn.dir, Env: childEnv(rn.token),
		Stdout: r.Stdout, Stderr: r.Stderr})
	if err != nil {
		return nil, fmt.Errorf("hrsync %s: %w", strings.Join(args, " "), err)
	}
	r.Wall, r.Code, r.PeakRSS, r.Floor = res.Wall, res.Code, res.PeakRSS, res.Floor
	return r, nil
}

// childEnv is the harness's environment without HRSYNC_* variables (which
// would override the scenario's config), plus the access token.
func childEnv(token string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "HRSYNC_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "HRSYNC_ACCESS_TOKEN="+token)
}

// expect checks the child's exit code is one of codes.
func (r *childRun) expect(what string, codes ...int) error {
	for _, c := range codes {
		if r.Code == c {
			return nil
		}
	}
	return fmt.Errorf("%s (hrsync %s) exited %d:\n%s", what, strings.Join(r.Args, " "), r.Code, r.tail())
}

// buildHrsync builds ./cmd/hrsync of the module the harness runs in into
// dir and returns the binary's path and, when git can tell, the commit it
// was built from.
func buildHrsync(ctx context.Context, dir string) (bin, commit string, err error) {
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", "", fmt.Errorf("find the module (go env GOMOD): %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	if root == "." || root == "" || strings.TrimSpace(string(gomod)) == os.DevNull {
		return "", "", errors.New("not inside the hrsync module: run the harness from the repository, or pass -hrsync")
	}
	bin = filepath.Join(dir, "hrsync")
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/hrsync")
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", "", fmt.Errorf("go build ./cmd/hrsync in %s: %w\n%s", root, err, out.String())
	}
	return bin, gitCommit(ctx, root), nil
}

// gitCommit describes the checkout in root: "commit abc1234", plus "with
// uncommitted changes" when the tree is dirty; "" when git cannot tell.
// (Binaries built with -buildvcs=false do not record it themselves.)
func gitCommit(ctx context.Context, root string) string {
	rev, err := exec.CommandContext(ctx, "git", "-C", root, "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return ""
	}
	c := "commit " + strings.TrimSpace(string(rev))
	if st, err := exec.CommandContext(ctx, "git", "-C", root, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
		c += " with uncommitted changes"
	}
	return c
}

// hrsyncVersion asks the binary for its version and adds the commit it
// was built from (and whether the tree had uncommitted changes), as the Go
// toolchain recorded them.
func hrsyncVersion(ctx context.Context, bin string) string {
	out, err := exec.CommandContext(ctx, bin, "version").Output()
	v := strings.TrimSpace(string(out))
	if err != nil {
		v = "version unknown (" + err.Error() + ")"
	}
	bi, err := buildinfo.ReadFile(bin)
	if err != nil {
		return v
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev != "" {
		v += ", commit " + rev[:min(12, len(rev))]
		if modified == "true" {
			v += " with uncommitted changes"
		}
	}
	return v + ", " + bi.GoVersion
}
