// Package xlsx reads HR records from one worksheet of an Excel workbook
// (.xlsx, and .xlsm without running its macros).
//
// What it reads:
//
//   - One worksheet, chosen by name (exactly, else without regard to case)
//     or by its 1-based position among the workbook's sheets ("2"); a name
//     wins over a position, so a sheet named "2" is found by its name. No
//     sheet given means the first sheet.
//   - A header row naming the columns: a given row, or by default the first
//     row holding any value (rows above it, such as a report title, are
//     skipped). The header runs from its first named column to its last, so
//     a table may start in any column. Names are trimmed of spaces and tabs;
//     an empty name between named columns and names that differ only in
//     case are errors.
//   - Every later row that holds a value is a record, its values aligned to
//     the header; rows with no values are skipped, hidden rows are read. A
//     value in a column left or right of the header is an error (it would
//     be silently lost); empty cells there are ignored.
//
// Merged header cells: a merged cell keeps its value in its top-left cell
// only, so a header cell merged across B:D names column B, and C and D have
// no name: the read fails ("empty column name", or "value in a column
// without a name" when the merge ends the header and C or D hold values),
// with a hint naming the merged range. hrsync does not invent names such as
// "Address 2", which nobody sees in the workbook and a mapping would come to
// depend on: the user unmerges and names each column. Merged data cells are
// read as Excel stores them, the value in the first cell and the others
// empty.
//
// Values are read from what Excel stored, never from what it displays:
//
//   - Text is kept as written, trimmed of surrounding spaces and tabs (as the
//     csv source does with Excel's CSV exports), with Excel's _xHHHH_ escapes
//     decoded. A text ID "00123" stays "00123".
//   - Numbers are written in plain decimal notation, rounded to the 15
//     significant digits Excel works with: 1234 is "1234" (never "1234.0"
//     or "1.234E3"), 0.1+0.2 is "0.3", 1E20 is "100000000000000000000". One
//     display format is honoured: a whole number shown with a format of only
//     zeros ("000000", the usual way to show an ID with leading zeros) is
//     padded to that width, as Excel shows it and saves it to CSV.
//   - Numbers with a date or time format, whatever its pattern or locale,
//     become ISO dates: "2024-03-01" for a format without a time part, RFC
//     3339 "2024-03-01T08:30:00Z" for one with a time part (Excel stores no
//     time zone; the wall-clock time is labelled UTC, as the mapping reads
//     times without a zone), and "08:30:00" for a time of day alone. Both
//     the 1900 date system (with Excel's fictitious 1900-02-29, which is an
//     error) and the 1904 one are honoured. Durations ([h]:mm) are numbers
//     of days. Serial 0 and negative serials under a date format are errors:
//     Excel shows them as 1900-01-00 or #####.
//   - Booleans are "true" and "false".
//   - A formula cell gives the value Excel cached when it last calculated
//     the workbook. A formula without one (files written by scripts often
//     have none) is an error; so is a cell holding an Excel error (#N/A,
//     #REF!, ...).
//
// How: excelize (github.com/xuri/excelize/v2) reads the workbook-level parts
// (the sheet list, the date system and the number formats of the styles).
// The worksheet and its shared strings are streamed from the ZIP archive by
// this package, with a small XML tokenizer held to encoding/xml by a
// differential fuzz test. excelize's Rows iterator is not used: it returns
// bare strings (no cell type, style or formula, so dates, booleans, errors
// and missing cached values cannot be told from text), ends silently at
// damaged XML (which would pass a partial sheet off as the whole
// workforce), and excelize would unzip every worksheet before the first row.
// Memory stays bounded whatever the number of rows: one row is held at a
// time, plus the workbook's shared string table (its distinct texts, which
// any reader needs at hand).
//
// A read is all or nothing. Any problem with the data fails the whole read
// with a *source.Error naming the file, the sheet, the row, the column and
// the cell (A1 style), with a hint. A file that is not an xlsx workbook (a
// CSV or HTML file renamed, a legacy .xls, an encrypted workbook, ...) gets
// an error saying what it is. Records emitted before an error were part of a
// failed read: callers must discard them.
package xlsx

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"

	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/source"
)

// maxRows is the number of rows of a worksheet (Excel's limit).
const maxRows = 1 << 20

// maxCols is the number of columns of a worksheet (Excel's limit, XFD).
const maxCols = 1 << 14

// Options configures an xlsx source.
type Options struct {
	// Path is the workbook to read.
	Path string
	// Display names the file in errors and provenance, e.g. the path as the
	// user wrote it in the config. Empty means Path.
	Display string
	// Sheet is the worksheet's name, or its 1-based position among the
	// workbook's sheets ("2"). Empty means the first sheet.
	Sheet string
	// HeaderRow is the 1-based row holding the column names; 0 means the
	// first row that holds any value.
	HeaderRow int
}

// Source reads one worksheet of a workbook. It holds only its options, so a
// Source may be read more than once and from several goroutines; each Read
// opens the file afresh.
type Source struct {
	path      string
	display   string
	sheet     string
	index     int // 1-based position when sheet is all digits, else 0
	headerRow int
}

var _ source.Source = (*Source)(nil)

// New validates opts and returns a Source. It does not open the file.
func New(opts Options) (*Source, error) {
	if opts.Path == "" {
		return nil, errors.New("xlsx source: no file path given")
	}
	s := &Source{path: opts.Path, display: opts.Display, sheet: opts.Sheet, headerRow: opts.HeaderRow}
	if s.display == "" {
		s.display = opts.Path
	}
	if isDigits(opts.Sheet) {
		n, err := strconv.Atoi(opts.Sheet)
		if err != nil || n < 1 || n > 1<<16 {
			return nil, fmt.Errorf("xlsx source %s: sheet %q: a sheet position counts from 1 (the first sheet)", s.display, opts.Sheet)
		}
		s.index = n
	}
	if opts.HeaderRow < 0 || opts.HeaderRow > maxRows {
		return nil, fmt.Errorf("xlsx source %s: header row %d: give a row number from 1 to %d, or 0 for the first row that holds a value", s.display, opts.HeaderRow, maxRows)
	}
	return s, nil
}

// isDigits reports whether s is a non-empty string of ASCII digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// String names the source for messages: "xlsx <display>", followed by the
// sheet and header row when they were given, e.g.
// "xlsx hr/workers.xlsx (sheet Workers, header row 3)".
func (s *Source) String() string {
	out := "xlsx " + s.display
	switch {
	case s.sheet != "" && s.headerRow > 0:
		out += fmt.Sprintf(" (sheet %s, header row %d)", s.sheet, s.headerRow)
	case s.sheet != "":
		out += " (sheet " + s.sheet + ")"
	case s.headerRow > 0:
		out += fmt.Sprintf(" (header row %d)", s.headerRow)
	}
	return out
}

// Read streams the records of the worksheet to emit, in row order, and
// returns a Summary of the whole sheet; its Digest is that of the workbook
// file. All records share one *identity.Header.
//
// Problems with the data are returned as *source.Error; an error from emit
// is returned as is; cancellation of ctx returns an error wrapping
// ctx.Err(); failures to read the file are returned wrapped. After any
// error, records already emitted must be discarded.
func (s *Source) Read(ctx context.Context, emit func(*identity.Record) error) (source.Summary, error) {
	if err := ctx.Err(); err != nil {
		return source.Summary{}, fmt.Errorf("read %s: %w", s.display, err)
	}
	f, err := os.Open(s.path)
	if err != nil {
		return source.Summary{}, fmt.Errorf("xlsx source: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return source.Summary{}, fmt.Errorf("xlsx source: %w", err)
	}
	if st.IsDir() {
		return source.Summary{}, fmt.Errorf("xlsx source: %s is a directory, not a workbook", s.path)
	}
	hash := sha256.New()
	if _, err := io.Copy(hash, io.NewSectionReader(f, 0, st.Size())); err != nil {
		return source.Summary{}, fmt.Errorf("read %s: %w", s.display, err)
	}

	// A section of the file, so that offsets a damaged archive gives are
	// refused as being outside it rather than failing as reads of the file.
	wb, err := openWorkbook(io.NewSectionReader(f, 0, st.Size()), st.Size(), s.display)
	if err != nil {
		return source.Summary{}, s.ioErr(err)
	}
	sh, err := wb.pick(s)
	if err != nil {
		return source.Summary{}, err
	}
	sst, err := wb.sharedStrings(ctx)
	if err != nil {
		return source.Summary{}, s.ioErr(err)
	}
	r := &reader{
		wb:        wb,
		sheet:     sh,
		sst:       sst,
		file:      s.display,
		headerRow: s.headerRow,
		emit:      emit,
		ctx:       ctx,
	}
	if err := r.run(); err != nil {
		return source.Summary{}, s.ioErr(err)
	}
	return source.Summary{
		Header:  slices.Clone(r.names),
		Records: r.count,
		Digest:  "sha256:" + hex.EncodeToString(hash.Sum(nil)),
	}, nil
}

// ioErr passes *source.Error, context errors and errors from emit through,
// and gives failed reads of the file its name.
func (s *Source) ioErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("read %s: %w", s.display, err)
	}
	return err
}
