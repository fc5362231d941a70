// Package source defines how hrsync reads workers from an HR system. Each
// kind of source (csv, and later xlsx and rest) lives in its own subpackage
// and streams identity.Records with their provenance.
package source

import (
	"context"
	"strings"

	"github.com/hrsync/hrsync/internal/identity"
)

// Source streams the records of one HR data set.
type Source interface {
	// Read calls emit for every data record, in source order. A malformed
	// input fails the whole read with an *Error: a partial read must never be
	// mistaken for the whole workforce. An error returned by emit stops the
	// read and is returned as is.
	Read(ctx context.Context, emit func(*identity.Record) error) (Summary, error)
	// String names the source for messages, e.g. "csv hr/workers.csv".
	String() string
}

// Summary describes a completed read.
type Summary struct {
	// Header is the list of field names.
	Header []string
	// Records is the number of data records emitted.
	Records int
	// Digest is "sha256:<hex>" of the raw bytes read, so a plan can record
	// exactly which data it was computed from.
	Digest string
}

// Error is a problem with the input data, located precisely enough for a
// person to open the file and fix it.
type Error struct {
	Prov   identity.Provenance
	Column string // field name or 1-based column number; empty when not applicable
	Msg    string // what is wrong
	Hint   string // what to do about it; may be empty
}

// Error renders "file:line: column X: msg (hint)".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Prov.String())
	b.WriteString(": ")
	if e.Column != "" {
		b.WriteString("column ")
		b.WriteString(e.Column)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Hint != "" {
		b.WriteString(" (")
		b.WriteString(e.Hint)
		b.WriteString(")")
	}
	return b.String()
}
