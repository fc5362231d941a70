// Package identity holds the domain types shared by every stage of hrsync:
// source records with their provenance, the identities a mapping produces,
// and the users read from the target directory.
package identity

import (
	"fmt"
	"strings"
)

// Provenance says where a record came from, so every error and plan line can
// point back at the data. Zero fields are unknown and left out of String.
type Provenance struct {
	// File is the path or URL of the source.
	File string `json:"file,omitempty"`
	// Line is the 1-based physical line on which a CSV record starts.
	Line int `json:"line,omitempty"`
	// Sheet and Row locate a record in a workbook (Row is 1-based).
	Sheet string `json:"sheet,omitempty"`
	Row   int    `json:"row,omitempty"`
	// Page and Index locate a record in a paged API response (both 1-based).
	Page  int `json:"page,omitempty"`
	Index int `json:"index,omitempty"`
	// DN is the distinguished name of a directory entry (an LDAP source;
	// File is then the directory's URL and search base).
	DN string `json:"dn,omitempty"`
}

// String renders the provenance as "file:line", "file[sheet]!row",
// "url page P item I" or "url entry DN".
func (p Provenance) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	switch {
	case p.DN != "":
		b.WriteString(" entry ")
		b.WriteString(p.DN)
	case p.Sheet != "" || p.Row > 0:
		if p.Sheet != "" {
			fmt.Fprintf(&b, "[%s]", p.Sheet)
		}
		if p.Row > 0 {
			fmt.Fprintf(&b, " row %d", p.Row)
		}
	case p.Page > 0 || p.Index > 0:
		fmt.Fprintf(&b, " page %d item %d", p.Page, p.Index)
	case p.Line > 0:
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	return b.String()
}

// Header is the ordered list of field names of a source, shared by all of its
// records. Index gives the position of each name.
type Header struct {
	Names []string
	index map[string]int
}

// NewHeader builds a Header. Names are matched exactly first, then without
// regard to case (HR exports are inconsistent about capitalisation).
func NewHeader(names []string) *Header {
	h := &Header{Names: names, index: make(map[string]int, len(names)*2)}
	for i, n := range names {
		if _, dup := h.index[n]; !dup {
			h.index[n] = i
		}
	}
	for i, n := range names {
		l := strings.ToLower(n)
		if _, dup := h.index[l]; !dup {
			h.index[l] = i
		}
	}
	return h
}

// Index returns the position of the named field.
func (h *Header) Index(name string) (int, bool) {
	if i, ok := h.index[name]; ok {
		return i, true
	}
	i, ok := h.index[strings.ToLower(name)]
	return i, ok
}

// Record is one row of HR data: raw string values in header order, plus
// where it came from.
type Record struct {
	Header *Header
	Values []string
	// Lists holds every value of the fields that have several (an LDAP
	// entry's multi-valued attributes): Lists[i] has two or more values
	// when field i does and is nil otherwise; Lists itself is nil when no
	// field has several values (always, for CSV, XLSX and REST). Values[i]
	// of such a field holds its values joined with "," (as the expression
	// language renders a list), for readers that want one string.
	Lists [][]string
	Prov  Provenance
}

// FieldValues returns every value of the named field when it has several;
// ok is false when it has one or none (Field gives it). The expression
// language reads such a field as a list ([attr] in Join, Item, Count).
// The caller must not modify the result.
func (r *Record) FieldValues(name string) (values []string, ok bool) {
	if r.Lists == nil {
		return nil, false
	}
	i, found := r.Header.Index(name)
	if !found || i >= len(r.Lists) || len(r.Lists[i]) < 2 {
		return nil, false
	}
	return r.Lists[i], true
}

// Field returns the value of the named field; present is false when the
// source has no such field or the value is empty. An empty HR cell is "no
// value", as when Entra's provisioning receives a record without the
// attribute, so Coalesce and IsNull treat it as null.
func (r *Record) Field(name string) (value string, present bool) {
	i, ok := r.Header.Index(name)
	if !ok || i >= len(r.Values) || r.Values[i] == "" {
		return "", false
	}
	return r.Values[i], true
}
