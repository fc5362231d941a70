package journal

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func keys(ks ...string) func(int) string {
	return func(i int) string {
		if i < 0 || i >= len(ks) {
			return ""
		}
		return ks[i]
	}
}

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plan.json.journal")
	clock := func() time.Time { return time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC) }
	for run := 0; run < 2; run++ { // two runs append to one journal
		w, err := Open(path, "sha256:aa", clock)
		if err != nil {
			t.Fatal(err)
		}
		if run == 0 {
			w.Step(0, "1001", "write", "id-1")
			w.Step(2, "1003", "write", "")
		} else {
			w.Step(0, "1001", "manager", "")
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	done, err := Load(path, "sha256:aa", keys("1001", "1002", "1003"))
	if err != nil {
		t.Fatal(err)
	}
	if a := done[0]; a == nil || !a.Steps["write"] || !a.Steps["manager"] || a.ID != "id-1" {
		t.Errorf("action 0 = %+v", done[0])
	}
	if a := done[2]; a == nil || !a.Steps["write"] || a.Steps["manager"] {
		t.Errorf("action 2 = %+v", done[2])
	}
	if done[1] != nil {
		t.Errorf("action 1 = %+v, want nothing done", done[1])
	}
}

func TestLoadRefuses(t *testing.T) {
	header := `{"plan":"sha256:aa","started_at":"2026-11-26T09:00:00Z"}` + "\n"
	tests := []struct {
		name, content, want string
	}{
		{"another plan", `{"plan":"sha256:bb"}` + "\n", "belongs to another plan"},
		{"unknown action", header + `{"action":7,"key":"x","step":"write"}` + "\n", "does not have"},
		{"key mismatch", header + `{"action":0,"key":"1002","step":"write"}` + "\n", "does not have"},
		{"damage in the middle", header + "{garbage\n" + `{"action":0,"key":"1001","step":"write"}` + "\n", "damaged"},
		{"neither", header + `{"key":"1001"}` + "\n", "neither a header nor a step"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "j")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path, "sha256:aa", keys("1001", "1002"))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestLoadToleratesTornLastLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j")
	content := `{"plan":"sha256:aa"}` + "\n" + `{"action":0,"key":"1001","step":"write","id":"u1"}` + "\n" + `{"action":1,"key":"10`
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	done, err := Load(path, "sha256:aa", keys("1001", "1002"))
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != 1 || done[0].ID != "u1" {
		t.Fatalf("done = %+v", done)
	}
}

func TestLoadMissingIsEmpty(t *testing.T) {
	done, err := Load(filepath.Join(t.TempDir(), "none"), "sha256:aa", keys())
	if err != nil || len(done) != 0 {
		t.Fatalf("done %v, err %v", done, err)
	}
}

// A run killed mid-line, then resumed, then resumed again: the torn line
// never ends up in the middle of the journal.
func TestTornLineThenTwoResumes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j")
	content := `{"plan":"sha256:aa"}` + "\n" + `{"action":0,"key":"1001","step":"write","id":"u1"}` + "\n" + `{"action":1,"key":"10`
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	for run := 0; run < 2; run++ {
		if _, err := Load(path, "sha256:aa", keys("1001", "1002")); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		w, err := Open(path, "sha256:aa", nil)
		if err != nil {
			t.Fatal(err)
		}
		w.Step(1, "1002", "write", "u2")
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	done, err := Load(path, "sha256:aa", keys("1001", "1002"))
	if err != nil || done[1] == nil || done[1].ID != "u2" {
		t.Fatalf("done %+v, err %v", done, err)
	}
}

func TestSecondApplyIsLockedOut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j")
	w, err := Open(path, "sha256:aa", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Lock(path, nil); err == nil || !strings.Contains(err.Error(), "another apply") {
		t.Fatalf("second lock: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w2, err := Lock(path, nil)
	if err != nil {
		t.Fatalf("lock after close: %v", err)
	}
	w2.Close()
}

func TestStepsBeforeAHeaderAreRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j")
	if err := os.WriteFile(path, []byte(`{"action":0,"key":"1001","step":"write"}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path, "sha256:aa", keys("1001")); err == nil || !strings.Contains(err.Error(), "before any header") {
		t.Fatalf("err = %v", err)
	}
}

func TestCompleteLastLineWithoutNewlineIsKept(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j")
	content := `{"plan":"sha256:aa"}` + "\n" + `{"action":0,"key":"1001","step":"write","id":"u1"}`
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	w, err := Open(path, "sha256:aa", nil)
	if err != nil {
		t.Fatal(err)
	}
	w.Step(1, "1002", "write", "u2")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	done, err := Load(path, "sha256:aa", keys("1001", "1002"))
	if err != nil || done[0] == nil || done[1] == nil {
		t.Fatalf("done %+v, err %v", done, err)
	}
}

func TestDiscardRemovesOnlyAnEmptyJournal(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	w, err := Lock(empty, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Discard(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(empty); !os.IsNotExist(err) {
		t.Errorf("empty journal left behind: %v", err)
	}
	used := filepath.Join(dir, "used")
	w, _ = Open(used, "sha256:aa", nil)
	w.Close()
	w, err = Lock(used, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Discard(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(used); err != nil {
		t.Errorf("a journal with content was removed: %v", err)
	}
}

// A journal that is a symbolic link is refused, by Lock and by Load: Lock
// cut the torn tail of the file the link pointed at (a link to a file
// without a trailing newline lost its last line), and went on appending
// to it.
func TestSymbolicLinksAreRefused(t *testing.T) {
	const content = "precious data\nwithout a final newline"
	tests := []struct {
		name string
		open func(path string) error
	}{
		{"Lock", func(path string) error {
			w, err := Lock(path, nil)
			if err == nil {
				w.Close()
			}
			return err
		}},
		{"Open", func(path string) error {
			w, err := Open(path, "sha256:aa", nil)
			if err == nil {
				w.Close()
			}
			return err
		}},
		{"Load", func(path string) error {
			_, err := Load(path, "sha256:aa", keys("1001"))
			return err
		}},
	}
	for _, tc := range tests {
		for _, dangling := range []bool{false, true} {
			name := tc.name
			if dangling {
				name += " dangling"
			}
			t.Run(name, func(t *testing.T) {
				dir := t.TempDir()
				target := filepath.Join(dir, "target.txt")
				if !dangling {
					if err := os.WriteFile(target, []byte(content), 0o600); err != nil {
						t.Fatal(err)
					}
				}
				path := filepath.Join(dir, "plan.json.journal")
				if err := os.Symlink(target, path); err != nil {
					t.Fatal(err)
				}
				err := tc.open(path)
				if err == nil || !strings.Contains(err.Error(), "symbolic link") {
					t.Fatalf("%s through a symbolic link: %v, want it refused", tc.name, err)
				}
				data, err := os.ReadFile(target)
				switch {
				case dangling && err == nil:
					t.Errorf("the dangling link's target was created: %q", data)
				case !dangling && string(data) != content:
					t.Errorf("the link's target was changed: %q", data)
				}
			})
		}
	}
}

func TestArchivePath(t *testing.T) {
	tests := []struct {
		plan, digest string
		n            int
		want         string
	}{
		{"plan.json", "sha256:20d2058bc474b3aeb78ccd1a1affb0b5", 1, "plan.20d2058bc474.json"},
		{"runs/nightly.plan.json", "sha256:20d2058bc474b3aeb78ccd1a1affb0b5", 2, "runs/nightly.plan.20d2058bc474-2.json"},
		{"plan", "sha256:abc", 1, "plan.abc"},
		{".plan", "sha256:20d2058bc474b3ae", 1, ".plan.20d2058bc474"},
		{"plan.json", "journal-20261126T090000Z", 1, "plan.journal-20261126T090000Z.json"},
		{"plan.json", "", 1, "plan.unknown.json"},
	}
	for _, tt := range tests {
		if got := ArchivePath(tt.plan, tt.digest, tt.n); got != tt.want {
			t.Errorf("ArchivePath(%q, %q, %d) = %q, want %q", tt.plan, tt.digest, tt.n, got, tt.want)
		}
	}
}

func TestPlanDigest(t *testing.T) {
	tests := []struct{ content, want string }{
		{"", ""},
		{"{garbage\n", ""},
		{`{"plan":"sha256:aa","started_at":"2026-11-26T09:00:00Z"}` + "\n" + `{"action":0,"key":"1","step":"write"}` + "\n", "sha256:aa"},
		{"{torn\n" + `{"plan":"sha256:bb"}` + "\n", "sha256:bb"},
	}
	for _, tt := range tests {
		path := filepath.Join(t.TempDir(), "plan.json.journal")
		if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
			t.Fatal(err)
		}
		if got, err := PlanDigest(path); err != nil || got != tt.want {
			t.Errorf("PlanDigest(%q) = %q, %v; want %q", tt.content, got, err, tt.want)
		}
	}
}

// A journal of another plan is refused with the way out: the mv command
// that keeps it under the name tied to its plan.
func TestForeignJournalSaysHowToKeepIt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plan.json.journal")
	if err := os.WriteFile(path, []byte(`{"plan":"sha256:20d2058bc474b3aeb78c"}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path, "sha256:aa", keys("1001"))
	want := "mv " + path + " " + filepath.Join(filepath.Dir(path), "plan.20d2058bc474.json.journal")
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "hrsync plan --out") {
		t.Fatalf("err = %v, want %q", err, want)
	}
}
