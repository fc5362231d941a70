// Package journal records, append-only, each step an apply completes, so
// an apply interrupted by a crash, a kill or Ctrl-C can be run again and
// carry on where it stopped: done steps are not sent twice, joiners are
// not created twice.
//
// A journal is a file of JSON lines next to the plan it belongs to
// (plan.json.journal). Each run appends a header naming the plan's digest,
// then one line per completed step. A journal for another plan is refused.
// A last line cut short by a crash is ignored; any other damage is an
// error, since steps would otherwise be repeated or skipped blindly.
package journal

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hrsync/hrsync/internal/safefile"
)

// Entry is one line of the journal.
type Entry struct {
	// Header lines: the plan's digest and when the run started.
	Plan    string    `json:"plan,omitempty"`
	Started time.Time `json:"started_at,omitempty"`
	// Step lines: the action's index and key, the step's name, the user's
	// object id when the step made it known (a create), and when.
	Action *int      `json:"action,omitempty"`
	Key    string    `json:"key,omitempty"`
	Step   string    `json:"step,omitempty"`
	ID     string    `json:"id,omitempty"`
	At     time.Time `json:"at,omitempty"`
}

// Done is what a journal says an earlier run completed: for each action
// index, its completed steps and the user id it learnt.
type Done map[int]*Action

// Action is the recorded progress of one action.
type Action struct {
	Key   string
	Steps map[string]bool
	ID    string
}

// Path is the journal's path for a plan file.
func Path(planPath string) string { return planPath + ".journal" }

// Load reads the journal at path for the plan with the given digest. A
// missing journal is an empty one. keyOf returns the key of action i
// ("" for no such action): every entry must name the action it did.
func Load(path, digest string, keyOf func(i int) string) (Done, error) {
	data, err := readNoFollow(path)
	if errors.Is(err, os.ErrNotExist) {
		return Done{}, nil
	}
	if err != nil {
		return nil, openError(path, err)
	}
	done := Done{}
	lines := bytes.Split(data, []byte("\n"))
	header := false
	for n, line := range lines {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var e Entry
		if err := json.Unmarshal(line, &e); err != nil {
			if n == len(lines)-1 {
				break // the last line, cut short when the run was killed
			}
			return nil, fmt.Errorf("journal %s:%d: %v; the journal is damaged: move it away and make a new plan", path, n+1, err)
		}
		switch {
		case e.Plan != "":
			if e.Plan != digest {
				return nil, foreignError(path, n+1, e.Plan, digest)
			}
			header = true
		case !header:
			return nil, fmt.Errorf("journal %s:%d: a step before any header naming the plan; move the journal away and make a new plan", path, n+1)
		case e.Action != nil && e.Step != "":
			k := keyOf(*e.Action)
			if k == "" || k != e.Key {
				return nil, fmt.Errorf("journal %s:%d names action %d with key %q, which this plan does not have; move the journal away", path, n+1, *e.Action, e.Key)
			}
			a := done[*e.Action]
			if a == nil {
				a = &Action{Key: e.Key, Steps: map[string]bool{}}
				done[*e.Action] = a
			}
			a.Steps[e.Step] = true
			if e.ID != "" {
				a.ID = e.ID
			}
		default:
			return nil, fmt.Errorf("journal %s:%d: neither a header nor a step; move the journal away and make a new plan", path, n+1)
		}
	}
	return done, nil
}

// foreignError refuses a journal that belongs to another plan: the plan
// file was replaced after that plan's apply began. It says how to keep the
// journal as a record and start afresh.
func foreignError(path string, line int, theirs, ours string) error {
	plan := strings.TrimSuffix(path, ".journal")
	keep := Path(ArchivePath(plan, theirs, 1))
	return fmt.Errorf("journal %s:%d belongs to another plan (%s; this plan is %s): %s was replaced after that plan was applied. "+
		"Keep the journal as the record of that apply and start afresh: mv %s %s, then apply again "+
		"(hrsync plan --out does this itself when it writes a new plan over an applied one)", path, line, theirs, ours, plan, path, keep)
}

// ArchivePath is the name under which an earlier plan saved at planPath,
// whose digest is digest, is kept beside it when a new plan replaces it:
// the digest's first 12 hex digits before the extension (plan.json ->
// plan.20d2058bc474.json), and "-n" after them when n > 1 (a name already
// taken). Its journal is Path of that name, so the pair stays a plan and
// its journal. A digest that is not sha256 is used as it is.
func ArchivePath(planPath, digest string, n int) string {
	tag := digest
	if hex, ok := strings.CutPrefix(digest, "sha256:"); ok {
		tag = hex[:min(len(hex), 12)]
	}
	if tag == "" {
		tag = "unknown"
	}
	if n > 1 {
		tag += "-" + strconv.Itoa(n)
	}
	ext := filepath.Ext(planPath)
	if ext == "" || ext == filepath.Base(planPath) {
		return planPath + "." + tag
	}
	return strings.TrimSuffix(planPath, ext) + "." + tag + ext
}

// PlanDigest returns the digest of the plan the journal at path belongs
// to: that of its first header ("" when it has none, e.g. it is empty or
// damaged). A symbolic link is refused.
func PlanDigest(path string) (string, error) {
	data, err := readNoFollow(path)
	if err != nil {
		return "", openError(path, err)
	}
	for _, line := range bytes.Split(data, []byte("\n")) {
		var e Entry
		if json.Unmarshal(line, &e) == nil && e.Plan != "" {
			return e.Plan, nil
		}
	}
	return "", nil
}

// openError says why the journal at path could not be opened; a symbolic
// link gets what to do about it.
func openError(path string, err error) error {
	if errors.Is(err, safefile.ErrSymlink) {
		return fmt.Errorf("journal %s %w, which hrsync does not follow (it would write to, and may cut, the file the link points at): "+
			"remove the link, or move the journal it points at to that path", path, safefile.ErrSymlink)
	}
	return fmt.Errorf("open journal: %w", err)
}

// readNoFollow reads the journal at path, refusing a symbolic link.
func readNoFollow(path string) ([]byte, error) {
	f, err := safefile.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// Writer appends to a journal. Its methods are safe for concurrent use;
// the first write error is kept and returned by Close.
type Writer struct {
	mu  sync.Mutex
	f   *os.File
	w   *bufio.Writer
	err error
	now func() time.Time
}

// Lock opens the journal (creating it, mode 0600) and locks it, so one
// apply of a plan runs at a time; a second one is refused at once. A last
// line cut short by a kill is cut off, so the run's lines start on a line
// of their own. Load it, then Begin the run. A symbolic link at path is
// refused: the journal is truncated when repaired, which would cut the
// file the link points at.
func Lock(path string, now func() time.Time) (*Writer, error) {
	var f *os.File
	for attempt := 0; ; attempt++ {
		var err error
		if f, err = safefile.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600); err != nil {
			return nil, openError(path, err)
		}
		if err := lockFile(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("journal %s is locked: another apply of this plan is running (%v); wait for it to finish", path, err)
		}
		// The file locked must still be the one at path: an apply that
		// found nothing to do removes its empty journal while it holds
		// the lock.
		held, err1 := f.Stat()
		now, err2 := os.Lstat(path)
		if err1 == nil && err2 == nil && os.SameFile(held, now) {
			break
		}
		unlockFile(f)
		f.Close()
		if attempt == 3 {
			return nil, fmt.Errorf("journal %s keeps being replaced; is another apply of this plan running?", path)
		}
	}
	if err := cutTornTail(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("repair journal %s: %w", path, err)
	}
	if now == nil {
		now = time.Now
	}
	return &Writer{f: f, w: bufio.NewWriter(f), now: now}, nil
}

// cutTornTail ends f with a newline: a last line cut short by a kill is
// cut off, a complete one that only lacks its newline gets it. The offset
// is left at the end.
func cutTornTail(f *os.File) error {
	data, err := io.ReadAll(f)
	if err != nil {
		return err
	}
	keep := bytes.LastIndexByte(data, '\n') + 1
	if keep == len(data) {
		return nil
	}
	if json.Valid(data[keep:]) {
		_, err = f.Write([]byte("\n"))
		return err
	}
	if err := f.Truncate(int64(keep)); err != nil {
		return err
	}
	_, err = f.Seek(int64(keep), io.SeekStart)
	return err
}

// Begin writes the run's header naming the plan.
func (w *Writer) Begin(digest string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.write(Entry{Plan: digest, Started: w.now().UTC()})
	w.flush()
	return w.err
}

// Err is the first write error, if any.
func (w *Writer) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Open locks the journal and begins a run: Lock and Begin in one.
func Open(path, digest string, now func() time.Time) (*Writer, error) {
	w, err := Lock(path, now)
	if err != nil {
		return nil, err
	}
	if err := w.Begin(digest); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// Step records a completed step of action i.
func (w *Writer) Step(i int, key, step, id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.write(Entry{Action: &i, Key: key, Step: step, ID: id, At: w.now().UTC()})
	// Written through at once: a killed process loses nothing the
	// kernel has, and a re-run must not repeat this step.
	w.flush()
}

func (w *Writer) write(e Entry) {
	if w.err != nil {
		return
	}
	b, err := json.Marshal(e)
	if err != nil {
		w.err = fmt.Errorf("write journal: %w", err)
		return
	}
	b = append(b, '\n')
	if _, err := w.w.Write(b); err != nil {
		w.err = fmt.Errorf("write journal %s: %w", w.f.Name(), err)
	}
}

func (w *Writer) flush() {
	if w.err == nil {
		if err := w.w.Flush(); err != nil {
			w.err = fmt.Errorf("write journal %s: %w", w.f.Name(), err)
		}
	}
}

// Discard removes the journal if nothing was ever written to it (the
// apply found nothing to do, or was refused), while still holding the
// lock, then closes it.
func (w *Writer) Discard() error {
	w.mu.Lock()
	if fi, err := w.f.Stat(); err == nil && fi.Size() == 0 && w.w.Buffered() == 0 {
		os.Remove(w.f.Name())
	}
	w.mu.Unlock()
	return w.Close()
}

// Close syncs the journal to disk and closes it.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.flush()
	if err := w.f.Sync(); err != nil && w.err == nil {
		w.err = fmt.Errorf("sync journal: %w", err)
	}
	unlockFile(w.f)
	if err := w.f.Close(); err != nil && w.err == nil {
		w.err = fmt.Errorf("close journal: %w", err)
	}
	return w.err
}

var _ io.Closer = (*Writer)(nil)
