package testenv

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// A missing program skips the test without CI and fails it with CI set:
// run in a child test process so the outcome can be read.
func TestMissingSkipsOrFails(t *testing.T) {
	if os.Getenv("TESTENV_CHILD") != "" {
		Program(t, "no-such-program-hrsync", "no-such-package")
		t.Log("REACHED")
		return
	}
	for _, c := range []struct {
		ci   string
		want string
	}{
		{"", "SKIPPED: no no-such-program-hrsync on PATH (apt-get install no-such-package)"},
		{"true", "CI is set, so this test may not be skipped"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestMissingSkipsOrFails$", "-test.v")
		cmd.Env = append(os.Environ(), "TESTENV_CHILD=1", "CI="+c.ci)
		out, err := cmd.CombinedOutput()
		failed := err != nil
		if !strings.Contains(string(out), c.want) || failed != (c.ci != "") || strings.Contains(string(out), "REACHED") {
			t.Errorf("CI=%q: failed %v, output:\n%s", c.ci, failed, out)
		}
	}
}

func TestPresentProgramAndFile(t *testing.T) {
	if p := Program(t, "sh", "dash"); p == "" {
		t.Error("no path for sh")
	}
	if File(t, "testenv.go", "") != "testenv.go" {
		t.Error("File changed the path")
	}
}
