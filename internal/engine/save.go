package engine

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/hrsync/hrsync/internal/journal"
	"github.com/hrsync/hrsync/internal/plan"
)

// Kept is what SavePlan kept of the plan it replaced: that plan's journal
// (the record of what its apply did) and, when the file still held that
// plan, the plan itself, under names tied to it (see journal.ArchivePath).
type Kept struct {
	// Journal is where the earlier plan's journal is now; "" when there
	// was none (or only an empty one, which is removed).
	Journal string
	// Plan is where the earlier plan is now; "" when the file no longer
	// held the plan the journal belongs to.
	Plan string
	// Digest is the earlier plan's digest.
	Digest string
}

// SavePlan writes p to path (see plan.Write). A plan already there that
// was applied has a journal; it would refuse the new plan forever, yet it
// is the audit record of that apply. So it is kept beside the new plan,
// with the earlier plan, under names tied to that plan — never deleted —
// and the new plan starts without a journal. A journal an apply holds
// (one is running) fails the save, leaving everything as it was.
func SavePlan(path string, p *plan.Plan) (Kept, error) {
	kept, err := keepJournal(path)
	if err != nil {
		return kept, fmt.Errorf("save the plan to %s: %w", path, err)
	}
	return kept, plan.Write(path, p)
}

// keepJournal moves the journal of the plan saved at path, if any, out of
// the way of a new plan (see SavePlan).
func keepJournal(path string) (Kept, error) {
	jpath := journal.Path(path)
	if _, err := os.Lstat(jpath); errors.Is(err, os.ErrNotExist) {
		return Kept{}, nil
	}
	// Locked while it is moved: an apply of the old plan may be running.
	w, err := journal.Lock(jpath, nil)
	if err != nil {
		return Kept{}, err
	}
	digest, err := journal.PlanDigest(jpath)
	if err != nil {
		_ = w.Close()
		return Kept{}, err
	}
	if fi, err := os.Stat(jpath); err == nil && fi.Size() == 0 {
		return Kept{}, w.Discard() // no run ever wrote to it: nothing to keep
	}
	kept := Kept{Digest: digest}
	if digest == "" {
		// A journal without a header names no plan: tie it to the time.
		digest = "journal-" + time.Now().UTC().Format("20060102T150405Z")
	}
	archived := freeArchive(path, digest)
	if raw, err := os.ReadFile(path); err == nil && kept.Digest != "" && plan.Digest(raw) == kept.Digest {
		// The file still holds the plan the journal records: keep it too,
		// so the pair stays readable (hrsync show) and resumable.
		if err := os.Link(path, archived); err != nil {
			_ = w.Close()
			return Kept{}, fmt.Errorf("keep the earlier plan as %s: %w", archived, err)
		}
		kept.Plan = archived
	}
	kept.Journal = journal.Path(archived)
	if err := moveNoClobber(jpath, kept.Journal); err != nil {
		_ = w.Close()
		return Kept{}, fmt.Errorf("keep the journal of the earlier plan as %s: %w", kept.Journal, err)
	}
	return kept, w.Close()
}

// freeArchive is journal.ArchivePath for path and digest, numbered when a
// plan or journal of that name exists already.
func freeArchive(path, digest string) string {
	for n := 1; ; n++ {
		name := journal.ArchivePath(path, digest, n)
		if !exists(name) && !exists(journal.Path(name)) {
			return name
		}
	}
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// moveNoClobber renames from to to, refusing to replace a file at to: by a
// hard link where the file system has them, else by a rename after a
// check.
func moveNoClobber(from, to string) error {
	if err := os.Link(from, to); err == nil {
		return os.Remove(from)
	} else if errors.Is(err, os.ErrExist) {
		return err
	}
	if exists(to) {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: os.ErrExist}
	}
	return os.Rename(from, to)
}
