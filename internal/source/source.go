// Package source defines how hrsync reads workers from an HR system. Each
// kind of source (csv, xlsx, rest, ldap) lives in its own subpackage and
// streams identity.Records with their provenance.
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
	// Warnings are problems with single records that did not fail the
	// read (the record was emitted), e.g. an LDAP reference to an entry
	// outside the read set; the plan shows them. Nil for most sources.
	Warnings []Warning
}

// Warning is a problem with one record that the read survived.
type Warning struct {
	// Code classifies it, e.g. "reference_outside_source"; plans show it
	// as the warning's code.
	Code string
	// Prov is the record it is about.
	Prov identity.Provenance
	// Field is the field concerned; may be empty.
	Field string
	// Msg says what is wrong and what the record holds instead.
	Msg string
}

// String renders "prov: field X: msg".
func (w Warning) String() string {
	e := Error{Prov: w.Prov, Column: w.Field, Msg: w.Msg}
	return e.Error()
}

// Progress is implemented by a source that emits its records only once
// the whole read is complete (the LDAP source resolves references between
// its entries first), so counting emitted records would show nothing
// while it reads. Before Read, the caller may hand it a function that it
// calls with the number of entries read so far, as they arrive.
type Progress interface {
	SetProgress(read func(n int))
}

// Error is a problem with the input data, located precisely enough for a
// person to open the file and fix it.
type Error struct {
	Prov   identity.Provenance
	Column string // field name or 1-based column number; empty when not applicable
	Msg    string // what is wrong
	Hint   string // what to do about it; may be empty
	// Err is the underlying error, when there is one (errors.Is and As
	// see it, e.g. ldapconn.ErrPartial); Msg already says what it says.
	Err error
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

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
