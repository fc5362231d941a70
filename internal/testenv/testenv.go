// Package testenv lets a test depend on something outside the repository (a
// program such as jq or cmark-gfm, the shared fixtures beside the
// checkout) without ever passing silently: when it is missing the test is
// skipped with a loud SKIPPED message, or fails when the CI variable is
// set, since .ci/run provides everything the tests need.
// (internal/dirtest does the same for the directory servers.)
package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// Missing skips the test loudly, or fails it when CI is set: what is
// missing, and how to provide it.
func Missing(tb testing.TB, what, how string) {
	tb.Helper()
	if os.Getenv("CI") != "" {
		tb.Fatalf("no %s, and CI is set, so this test may not be skipped: %s", what, how)
	}
	tb.Skipf("SKIPPED: no %s (%s). This test did NOT run.", what, how)
}

// Program returns the path of the named program on PATH; without it the
// test is skipped, or fails under CI (see Missing). pkg is the Debian
// package that provides it.
func Program(tb testing.TB, name, pkg string) string {
	tb.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		Missing(tb, fmt.Sprintf("%s on PATH", name), "apt-get install "+pkg)
	}
	return path
}

// File returns path when it exists; otherwise the test is skipped, or
// fails under CI (see Missing). how says where the file comes from.
func File(tb testing.TB, path, how string) string {
	tb.Helper()
	if _, err := os.Stat(path); err != nil {
		Missing(tb, path, how)
	}
	return path
}
