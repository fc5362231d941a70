package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/hrsync/hrsync/internal/testenv"
)

// quickstartSequence runs the README's quick start from the folder holding
// examples/ (as a person in a checkout does) and returns what it printed.
func quickstartSequence(t *testing.T, root string) {
	t.Helper()
	cfg := filepath.Join("examples", "quickstart", "hrsync.yaml")
	r := hrsync(t, root, nil, "plan", "-c", cfg)
	mustCode(t, r, 0)
	if !strings.Contains(r.stdout, "+ create 1046") {
		t.Fatalf("plan:\n%s", r)
	}
	r = hrsync(t, root, nil, "plan", "-c", cfg, "--out", "plan.json")
	mustCode(t, r, 0)
	if !strings.Contains(r.stdout, "+ create 1046") || !strings.Contains(r.stderr, "Saved the plan to plan.json") {
		t.Fatalf("plan:\n%s", r)
	}
	mustCode(t, hrsync(t, root, nil, "show", "plan.json", "--format", "markdown"), 0)
	r = hrsync(t, root, nil, "apply", "-c", cfg, "plan.json")
	mustCode(t, r, 0)
	if !strings.Contains(r.stdout, "11 done") {
		t.Fatalf("apply:\n%s", r)
	}
	r = hrsync(t, root, nil, "plan", "-c", cfg)
	mustCode(t, r, 0)
	if !strings.Contains(r.stdout, "No changes, but 1 unresolved problem (upn_conflict 1048)") {
		t.Fatalf("plan after apply:\n%s", r)
	}
	// The README: --detailed-exitcode exits 8, never 0, while 1048 cannot be created.
	mustCode(t, hrsync(t, root, nil, "plan", "-c", cfg, "--detailed-exitcode"), 8)
	// The README's reset.
	if err := os.RemoveAll(filepath.Join(root, "examples", "quickstart", ".hrsync")); err != nil {
		t.Fatal(err)
	}
}

// The quick start run twice in a row, with the README's reset between:
// the second plan --out replaces an applied plan, whose journal would
// refuse the new plan; it is kept beside it as the record of that apply
// instead, and the second apply goes through.
func TestQuickstartTwiceInARow(t *testing.T) {
	root := filepath.Dir(filepath.Dir(quickstart(t)))
	quickstartSequence(t, root)
	first, err := os.ReadFile(filepath.Join(root, "plan.json.journal"))
	if err != nil {
		t.Fatal(err)
	}
	firstPlan, _ := os.ReadFile(filepath.Join(root, "plan.json"))

	cfg := filepath.Join("examples", "quickstart", "hrsync.yaml")
	r := hrsync(t, root, nil, "plan", "-c", cfg, "--out", "plan.json")
	mustCode(t, r, 0)
	kept, _ := filepath.Glob(filepath.Join(root, "plan.*.json"))
	keptJournals, _ := filepath.Glob(filepath.Join(root, "plan.*.json.journal"))
	if len(kept) != 1 || len(keptJournals) != 1 || keptJournals[0] != kept[0]+".journal" {
		t.Fatalf("kept %v and %v, want one plan with its journal\n%s", kept, keptJournals, r)
	}
	if got, _ := os.ReadFile(keptJournals[0]); string(got) != string(first) {
		t.Error("the kept journal is not the first apply's")
	}
	if got, _ := os.ReadFile(kept[0]); string(got) != string(firstPlan) {
		t.Error("the kept plan is not the first plan")
	}
	if !strings.Contains(r.stderr, "held a plan that was applied") || !strings.Contains(r.stderr, filepath.Base(keptJournals[0])) {
		t.Errorf("plan --out does not say where it kept the journal:\n%s", r.stderr)
	}
	if _, err := os.Stat(filepath.Join(root, "plan.json.journal")); !os.IsNotExist(err) {
		t.Fatalf("the new plan has a journal: %v", err)
	}
	// The kept plan is still readable.
	mustCode(t, hrsync(t, root, nil, "show", filepath.Base(kept[0])), 0)

	// The rest of the second round, then a third whole round.
	r = hrsync(t, root, nil, "apply", "-c", cfg, "plan.json")
	mustCode(t, r, 0)
	if !strings.Contains(r.stdout, "11 done") {
		t.Fatalf("second apply:\n%s", r)
	}
	if err := os.RemoveAll(filepath.Join(root, "examples", "quickstart", ".hrsync")); err != nil {
		t.Fatal(err)
	}
	quickstartSequence(t, root)
	if kept, _ := filepath.Glob(filepath.Join(root, "plan.*.json.journal")); len(kept) != 2 {
		t.Errorf("kept journals after three rounds: %v", kept)
	}
}

// A plan saved over a plan file whose journal belongs to an older plan
// (the state hrsync 0.1 left after the README's reset) keeps that journal
// too, and the stuck apply's error says how to get out.
func TestStuckJournalFromAnEarlierVersion(t *testing.T) {
	dir := quickstart(t)
	mustCode(t, hrsync(t, dir, nil, "plan", "-c", "hrsync.yaml", "--out", "plan.json"), 0)
	mustCode(t, hrsync(t, dir, nil, "apply", "-c", "hrsync.yaml", "plan.json"), 0)
	// Replaced behind hrsync's back, as plan --out did before.
	mustCode(t, hrsync(t, dir, nil, "plan", "-c", "hrsync.yaml", "--out", "other.json"), 0)
	if err := os.Rename(filepath.Join(dir, "other.json"), filepath.Join(dir, "plan.json")); err != nil {
		t.Fatal(err)
	}
	r := hrsync(t, dir, nil, "apply", "-c", "hrsync.yaml", "plan.json")
	mustCode(t, r, 1)
	if !strings.Contains(r.stderr, "belongs to another plan") || !strings.Contains(r.stderr, "mv plan.json.journal plan.") {
		t.Errorf("apply of a plan with another plan's journal:\n%s", r)
	}
	r = hrsync(t, dir, nil, "plan", "-c", "hrsync.yaml", "--out", "plan.json")
	mustCode(t, r, 0)
	if !strings.Contains(r.stderr, "plan.json.journal belonged to an earlier plan") {
		t.Errorf("plan --out:\n%s", r.stderr)
	}
	mustCode(t, hrsync(t, dir, nil, "apply", "-c", "hrsync.yaml", "plan.json"), 0)
}

// .gitignore covers every file the quick start writes in a checkout, from
// the repository's root or from examples/quickstart: the sandbox state,
// plans, their journals and the kept ones, reports, writeback and
// passwords files.
func TestGitignoreCoversTheQuickstart(t *testing.T) {
	testenv.Program(t, "git", "git")
	root := filepath.Dir(filepath.Dir(quickstart(t)))
	copied := map[string]bool{}
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			copied[p] = true
		}
		return nil
	})
	quickstartSequence(t, root)
	cfg := filepath.Join("examples", "quickstart", "hrsync.yaml")
	mustCode(t, hrsync(t, root, nil, "plan", "-c", cfg, "--out", "plan.json"), 0)
	mustCode(t, hrsync(t, root, nil, "apply", "-c", cfg, "plan.json", "--report", "report.csv",
		"--writeback", "writeback.csv", "--passwords-file", "passwords.csv"), 0)
	mustCode(t, hrsync(t, root, nil, "apply", "-c", cfg, "plan.json", "--report", "report.json"), 0)
	var written []string
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !copied[p] {
			rel, _ := filepath.Rel(root, p)
			written = append(written, rel)
		}
		return nil
	})
	// The same names written from the quick start's own folder.
	for _, n := range []string{"plan.json", "plan.json.journal", "plan.0123456789ab.json", "plan.0123456789ab.json.journal", "report.csv", "report.json", "writeback.csv", "passwords.csv"} {
		written = append(written, filepath.Join("examples", "quickstart", n))
	}
	sort.Strings(written)
	if len(written) < 12 {
		t.Fatalf("the quick start wrote only %v", written)
	}
	for _, f := range written {
		cmd := exec.Command("git", "check-ignore", "--no-index", "-q", f)
		cmd.Dir = filepath.Join("..", "..")
		if err := cmd.Run(); err != nil {
			t.Errorf("%s is not ignored by .gitignore (%v)", f, err)
		}
	}
}

// The cron wrapper with the real hrsync on the converged quick start:
// nothing to apply, but 1048 cannot be created, so it mails that and
// exits 6, every night until someone acts.
func TestCronWrapperAlertsOnTheQuickstartProblem(t *testing.T) {
	testenv.Program(t, "flock", "util-linux")
	testenv.Program(t, "jq", "jq")
	testenv.Program(t, "bash", "bash")
	dir := converged(t)
	data := t.TempDir()
	wrapper, _ := filepath.Abs(filepath.Join("..", "..", "examples", "cron", "hrsync-nightly.sh"))
	cmd := exec.Command("bash", wrapper)
	cmd.Env = append(os.Environ(), "HRSYNC_CRON_BIN="+binary, "HRSYNC_CRON_CONFIG="+filepath.Join(dir, "hrsync.yaml"),
		"HRSYNC_CRON_DATA_DIR="+data, "HRSYNC_CRON_ENV_FILE="+filepath.Join(data, "none.env"), "HRSYNC_CRON_NOTIFY=")
	out, err := cmd.Output()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 6 {
		t.Fatalf("wrapper: %v, want exit 6\n%s", err, out)
	}
	if !strings.Contains(string(out), "hrsync: 1 unresolved problem(s)") || !strings.Contains(string(out), "! upn_conflict 1048: cannot create") {
		t.Errorf("the mail lacks the problem:\n%s", out)
	}
}
