package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hrsync/hrsync/internal/journal"
	"github.com/hrsync/hrsync/internal/plan"
)

// A plan saved over an applied one keeps the old plan's journal (and the
// old plan, while the file still holds it) beside it, so the new plan
// starts without one and nothing of the audit record is lost.
func TestSavePlanKeepsTheJournalOfThePlanItReplaces(t *testing.T) {
	old := []byte(`{"format_version":"1.0","old":true}` + "\n")
	oldDigest := plan.Digest(old)
	header := func(d string) string { return `{"plan":"` + d + `","started_at":"2026-11-26T09:00:00Z"}` + "\n" }
	step := `{"action":0,"key":"1001","step":"write","id":"id-1"}` + "\n"
	tests := []struct {
		name        string
		plan        []byte            // the file at plan.json before the save (nil: none)
		journal     string            // its journal (""; no file)
		taken       []string          // names already in the folder
		wantPlan    string            // where the old plan is kept ("": not kept)
		wantJournal string            // where the journal is kept
		wantGone    bool              // the journal is removed (empty)
		extra       map[string]string // further files expected, name -> content
	}{
		{name: "no journal", plan: old},
		{name: "empty journal is removed", plan: old, journal: "\x00", wantGone: true},
		{name: "applied plan and its journal", plan: old, journal: header(oldDigest) + step,
			wantPlan: "plan." + oldDigest[7:19] + ".json", wantJournal: "plan." + oldDigest[7:19] + ".json.journal"},
		{name: "journal of a plan already replaced", plan: []byte("{}\n"), journal: header("sha256:0123456789abcdef") + step,
			wantJournal: "plan.0123456789ab.json.journal"},
		{name: "archive name taken", plan: old, journal: header(oldDigest) + step, taken: []string{"plan." + oldDigest[7:19] + ".json"},
			wantPlan: "plan." + oldDigest[7:19] + "-2.json", wantJournal: "plan." + oldDigest[7:19] + "-2.json.journal"},
		{name: "journal without a header", plan: old, journal: "{garbage\n", wantJournal: "plan.journal-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "plan.json")
			if tt.plan != nil {
				write(t, path, string(tt.plan))
			}
			if tt.journal == "\x00" {
				write(t, journal.Path(path), "")
			} else if tt.journal != "" {
				write(t, journal.Path(path), tt.journal)
			}
			for _, n := range tt.taken {
				write(t, filepath.Join(dir, n), "someone else's")
			}
			kept, err := SavePlan(path, &plan.Plan{FormatVersion: plan.FormatVersion, CreatedAt: time.Now()})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := os.Lstat(journal.Path(path)); !os.IsNotExist(err) {
				t.Errorf("the new plan has a journal: %v", err)
			}
			if got, _ := os.ReadFile(path); !strings.Contains(string(got), `"format_version": "`+plan.FormatVersion) {
				t.Errorf("new plan = %s", got)
			}
			if got := filepath.Base(kept.Plan); tt.wantPlan != "" && got != tt.wantPlan || tt.wantPlan == "" && kept.Plan != "" {
				t.Errorf("kept plan = %q, want %q", kept.Plan, tt.wantPlan)
			}
			if tt.wantPlan != "" {
				if got, _ := os.ReadFile(kept.Plan); string(got) != string(old) {
					t.Errorf("kept plan holds %q", got)
				}
			}
			switch {
			case tt.wantJournal == "":
				if kept.Journal != "" {
					t.Errorf("kept journal = %q, want none", kept.Journal)
				}
			case !strings.HasPrefix(filepath.Base(kept.Journal), tt.wantJournal):
				t.Errorf("kept journal = %q, want %q", kept.Journal, tt.wantJournal)
			default:
				if got, _ := os.ReadFile(kept.Journal); string(got) != tt.journal {
					t.Errorf("kept journal holds %q, want %q", got, tt.journal)
				}
			}
			for _, n := range tt.taken {
				if got, _ := os.ReadFile(filepath.Join(dir, n)); string(got) != "someone else's" {
					t.Errorf("%s was overwritten: %q", n, got)
				}
			}
			if tt.wantPlan != "" && kept.Plan != "" {
				// The kept pair is a plan and its journal: the journal
				// loads for the kept plan.
				raw, _ := os.ReadFile(kept.Plan)
				if _, err := journal.Load(kept.Journal, plan.Digest(raw), func(int) string { return "1001" }); err != nil {
					t.Errorf("kept journal does not load for the kept plan: %v", err)
				}
			}
		})
	}
}

// While an apply holds the journal, a plan is not saved over its plan.
func TestSavePlanRefusesWhileAnApplyRuns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plan.json")
	write(t, path, "{}\n")
	w, err := journal.Open(journal.Path(path), plan.Digest([]byte("{}\n")), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := SavePlan(path, &plan.Plan{FormatVersion: plan.FormatVersion}); err == nil || !strings.Contains(err.Error(), "another apply of this plan is running") {
		t.Fatalf("err = %v", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "{}\n" {
		t.Errorf("the plan was replaced under a running apply: %q", got)
	}
}

// A journal that is a symbolic link is refused, its target untouched.
func TestSavePlanRefusesASymlinkedJournal(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "plan.json")
	target := filepath.Join(dir, "precious")
	write(t, target, "precious")
	if err := os.Symlink(target, journal.Path(path)); err != nil {
		t.Fatal(err)
	}
	if _, err := SavePlan(path, &plan.Plan{FormatVersion: plan.FormatVersion}); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("err = %v", err)
	}
	if got, _ := os.ReadFile(target); string(got) != "precious" {
		t.Errorf("target = %q", got)
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
