// Package csv reads HR records from a delimited text file: the CSV, semicolon
// and tab separated exports that HR systems and Excel produce.
//
// What it accepts:
//
//   - A header row (the first non-blank line) naming every column. Names are
//     trimmed of surrounding whitespace; empty names and names that differ
//     only in case are errors.
//   - UTF-8 with or without a byte-order mark, and UTF-16 little or big endian
//     with a byte-order mark (Excel's "Unicode Text", which is tab separated).
//     Anything else that is not valid UTF-8 is an error: the file is never
//     guessed at and converted silently. So are NUL characters, and in UTF-16
//     files unpaired surrogates (or an odd byte at the end).
//   - LF and CRLF line ends. Quoted fields may contain the delimiter, doubled
//     quotes ("") and line breaks; a CRLF inside a quoted field reads as LF.
//   - The delimiter ",", ";", tab or "|", given in Options or detected from
//     the header line. An Excel "sep=;" first line is honoured and skipped.
//
// Values are kept as written, with one exception: spaces (and tabs, unless tab
// is the delimiter) around an unquoted value, and between a quoted value and
// its delimiter, are dropped. Quote a value to keep such spaces. Leading zeros
// and every other character are kept: "00123" stays "00123".
//
// Blank lines, and rows in which every field is empty or blank (the ",,,,"
// rows Excel leaves behind), are skipped and are not records.
//
// A line, and a record with its quoted line breaks, may hold up to 4 MiB of
// text: past that the read fails at that line and column, so a file without
// line ends (binary, sparse, damaged) or a quote that is never closed costs
// a few MiB of memory, not the size of the file.
//
// Every record carries its provenance: the display name of the file and the
// physical line (1-based, in the original file) on which the record starts,
// which stays right after multi-line quoted fields and in UTF-16 files.
//
// A read is all or nothing. Any problem with the data fails the whole read
// with a *source.Error that names the file, the line, the column where it
// can, and a hint. Records emitted before the error were part of a failed
// read: callers must discard them and must not act on them.
package csv

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/source"
)

// bufSize is the size of the read buffers. The delimiter is detected from
// the part of the header line that fits in it.
const bufSize = 64 << 10

// ctxEvery is how many records are read between checks for cancellation.
const ctxEvery = 1024

// Options configures a CSV source.
type Options struct {
	// Path is the file to read.
	Path string
	// Display names the file in errors and provenance, e.g. the path as the
	// user wrote it in the config. Empty means Path.
	Display string
	// Delimiter is "auto" or "" (detect from the header line), ",", ";",
	// "\t" or "|"; the words "comma", "semicolon", "tab" and "pipe" are
	// accepted too, in any case.
	Delimiter string
}

// Source reads one CSV file. It holds only its options, so a Source may be
// read more than once and from several goroutines; each Read opens the file
// afresh.
type Source struct {
	path    string
	display string
	delim   byte // 0: detect from the header line
}

// New validates opts and returns a Source. It does not open the file.
func New(opts Options) (*Source, error) {
	if opts.Path == "" {
		return nil, errors.New("csv source: no file path given")
	}
	d, err := parseDelimiter(opts.Delimiter)
	if err != nil {
		return nil, fmt.Errorf("csv source %s: %w", opts.Path, err)
	}
	display := opts.Display
	if display == "" {
		display = opts.Path
	}
	return &Source{path: opts.Path, display: display, delim: d}, nil
}

// parseDelimiter turns the configured delimiter into a byte; 0 means detect.
func parseDelimiter(s string) (byte, error) {
	switch strings.ToLower(s) {
	case "", "auto":
		return 0, nil
	case ",", "comma":
		return ',', nil
	case ";", "semicolon":
		return ';', nil
	case "\t", `\t`, "tab":
		return '\t', nil
	case "|", "pipe":
		return '|', nil
	}
	return 0, fmt.Errorf(`unsupported delimiter %q: use "auto", ",", ";", "tab" or "|"`, s)
}

// String names the source for messages: "csv <display>".
func (s *Source) String() string { return "csv " + s.display }

// Read streams the records of the file to emit, in file order, and returns a
// Summary of the whole file. All records share one *identity.Header.
//
// Problems with the data are returned as *source.Error; an error from emit is
// returned as is; cancellation of ctx returns an error wrapping ctx.Err().
// After any error, records already emitted must be discarded: a failed read
// is never a partial workforce.
func (s *Source) Read(ctx context.Context, emit func(*identity.Record) error) (source.Summary, error) {
	if err := ctx.Err(); err != nil {
		return source.Summary{}, fmt.Errorf("read %s: %w", s.display, err)
	}
	f, err := os.Open(s.path)
	if err != nil {
		return source.Summary{}, fmt.Errorf("csv source: %w", err)
	}
	defer f.Close()
	return s.read(ctx, f, emit)
}

// read does the work of Read on any reader, so tests and fuzzing can skip
// the file system.
func (s *Source) read(ctx context.Context, r io.Reader, emit func(*identity.Record) error) (source.Summary, error) {
	hash := sha256.New()
	raw := bufio.NewReaderSize(io.TeeReader(r, hash), bufSize)
	p, names, err := s.start(raw)
	if err != nil {
		return source.Summary{}, err
	}
	hdr := identity.NewHeader(names)
	m := len(names)
	blocks := recordBlocks{per: max(1, min(512, 8192/m))}
	count := 0 // records emitted
	for iter := 0; ; iter++ {
		if iter%ctxEvery == 0 {
			if err := ctx.Err(); err != nil {
				return source.Summary{}, fmt.Errorf("read %s: %w", s.display, err)
			}
		}
		line, err := p.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return source.Summary{}, s.ioErr(err)
		}
		if p.blank() {
			continue
		}
		if n := len(p.ends); n != m {
			return source.Summary{}, p.countError(line, n, m)
		}
		rec, vals := blocks.take(m)
		rec.Header = hdr
		rec.Values = p.fields(vals)
		rec.Prov = identity.Provenance{File: s.display, Line: line}
		count++
		if err := emit(rec); err != nil {
			return source.Summary{}, err
		}
	}
	// The parser stops at the end of the decoded text; make sure every raw
	// byte went through the hash.
	if _, err := io.Copy(io.Discard, raw); err != nil {
		return source.Summary{}, s.ioErr(err)
	}
	return source.Summary{
		Header:  slices.Clone(names),
		Records: count,
		Digest:  "sha256:" + hex.EncodeToString(hash.Sum(nil)),
	}, nil
}

// start reads what comes before the records: the encoding (a byte order
// mark), the delimiter (detected, or a sep= line) and the header row. It
// returns the parser positioned at the first record and the column names.
func (s *Source) start(raw *bufio.Reader) (*parser, []string, error) {
	br, enc, err := decoder(raw, s.display)
	var se *source.Error
	if errors.As(err, &se) {
		return nil, nil, err
	}
	if err != nil {
		return nil, nil, s.ioErr(err)
	}
	p := &parser{r: br, comma: s.delim, trim: true, enc: enc, file: s.display}
	comma, sepLine, err := detect(br, s.delim, s.display)
	if err != nil {
		return nil, nil, err
	}
	p.comma = comma
	if sepLine {
		if _, _, err := p.readLine(); err != nil {
			return nil, nil, s.ioErr(err)
		}
	}
	names, err := readHeader(p)
	if err != nil {
		return nil, nil, s.ioErr(err)
	}
	p.header = names
	return p, names, nil
}

// recordBlocks carves records and their Values slices from blocks of per
// records, to save two allocations a record. Each Values slice has no
// spare capacity, so appending to one never touches the next record's.
type recordBlocks struct {
	per  int
	vals []string          // block the Values of records are cut from
	recs []identity.Record // block records are taken from
}

// take returns the next record and a Values slice of m for it.
func (b *recordBlocks) take(m int) (*identity.Record, []string) {
	if len(b.vals) < m {
		b.vals = make([]string, m*b.per)
	}
	if len(b.recs) == 0 {
		b.recs = make([]identity.Record, b.per)
	}
	rec := &b.recs[0]
	b.recs = b.recs[1:]
	vals := b.vals[:m:m]
	b.vals = b.vals[m:]
	return rec, vals
}

// ioErr passes *source.Error through and gives other errors (failed reads)
// the file's name.
func (s *Source) ioErr(err error) error {
	var se *source.Error
	if errors.As(err, &se) {
		return err
	}
	return fmt.Errorf("read %s: %w", s.display, err)
}

// readHeader reads the header row and validates its names.
func readHeader(p *parser) ([]string, error) {
	line, err := p.next()
	if errors.Is(err, io.EOF) {
		return nil, &source.Error{
			Prov: identity.Provenance{File: p.file},
			Msg:  "the file is empty: there is no header row",
			Hint: "the first line must name the columns, e.g. WorkerID,FirstName,LastName",
		}
	}
	if err != nil {
		return nil, err
	}
	names := p.fields(make([]string, len(p.ends)))
	if len(names) > 0 {
		names[0] = strings.TrimPrefix(names[0], "\uFEFF")
	}
	seen := make(map[string]int, len(names))
	for i, n := range names {
		n = strings.TrimSpace(n)
		names[i] = n
		col := fmt.Sprint(i + 1)
		if n == "" {
			hint := "every column needs a name: name it or delete the column"
			if i == len(names)-1 && i > 0 {
				hint = "the header line probably ends with a stray delimiter; " + hint
			}
			return nil, &source.Error{
				Prov:   identity.Provenance{File: p.file, Line: line},
				Column: col,
				Msg:    "empty column name in the header row",
				Hint:   hint,
			}
		}
		key := strings.ToLower(n)
		if j, dup := seen[key]; dup {
			return nil, &source.Error{
				Prov:   identity.Provenance{File: p.file, Line: line},
				Column: n,
				Msg:    fmt.Sprintf("duplicate column name in the header row: column %d %q and column %d %q (names are compared without regard to case)", j+1, names[j], i+1, n),
				Hint:   "rename one of the columns so every name is unique",
			}
		}
		seen[key] = i
	}
	return names, nil
}
