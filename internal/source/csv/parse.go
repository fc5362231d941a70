package csv

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/source"
	"golang.org/x/text/encoding/charmap"
)

// parser splits decoded text into records. It follows RFC 4180 as
// encoding/csv reads it (without LazyQuotes), and in addition:
//
//   - it knows which fields were quoted, so it can trim spaces around
//     unquoted values and around the quotes of quoted ones (trim);
//   - it tells an unterminated quoted field from a stray quote;
//   - it checks the text as it goes (valid UTF-8, no NUL, no bare CR) and
//     locates every problem by physical line, character and column name.
//
// With trim off it returns exactly what encoding/csv returns for text that
// passes those checks; the differential fuzz test holds it to that.
type parser struct {
	r     *bufio.Reader
	comma byte
	trim  bool
	enc   encoding
	file  string // display name, for errors

	header []string // column names once known, to name columns in errors

	line    int    // physical lines consumed
	suspect bool   // the current line failed the fast text check
	long    []byte // assembles lines longer than the read buffer
	buf     []byte // unescaped text of the current record's fields
	ends    []int  // end of each field in buf
}

// maxRecord bounds, in bytes of text, a physical line and a record (its
// quoted fields' line breaks included). HR records are a few hundred
// bytes; without a bound a file with no line ends (a sparse or binary
// file, a damaged export) or a quote that is never closed was read whole
// into memory, several times over, before the error: a 1 GiB sparse file
// took 2.8 GB.
const maxRecord = 4 << 20

// maxRecordText names maxRecord in messages.
const maxRecordText = "4 MiB"

// errLineTooLong is readLine's error for a line longer than maxRecord.
var errLineTooLong = errors.New("line too long")

// readLine returns the next physical line without its line end ("\n",
// "\r\n", or a lone "\r" at the end of the input), and whether it had a
// "\n". It returns io.EOF when the input is exhausted. The line is valid
// until the next call. A line longer than maxRecord is not read to its end:
// readLine returns errLineTooLong with the first maxRecord bytes or so, and
// counts the line.
func (p *parser) readLine() (content []byte, nl bool, err error) {
	line, err := p.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		p.long = append(p.long[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			if len(p.long) > maxRecord {
				p.line++
				return p.long, false, errLineTooLong
			}
			line, err = p.r.ReadSlice('\n')
			p.long = append(p.long, line...)
		}
		line = p.long
	}
	if len(line) > maxRecord+2 { // the line end does not count
		p.line++
		return line, false, errLineTooLong
	}
	if err != nil && (!errors.Is(err, io.EOF) || len(line) == 0) {
		return nil, false, err
	}
	p.line++
	if n := len(line); line[n-1] == '\n' {
		line, nl = line[:n-1], true
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	p.suspect = !utf8.Valid(line) || bytes.IndexByte(line, 0) >= 0 ||
		(p.enc == encUTF16 && bytes.Contains(line, []byte(string(utf8.RuneError))))
	return line, nl, nil
}

// isSpace reports whether c is trimmable space around a value.
func (p *parser) isSpace(c byte) bool {
	return c == ' ' || (c == '\t' && p.comma != '\t')
}

// next reads the next record that is not a blank line into buf and ends and
// returns the line it starts on. It returns io.EOF at the end of the input.
func (p *parser) next() (start int, err error) {
	var (
		content []byte
		nl      bool
	)
	for {
		content, nl, err = p.readLine()
		if errors.Is(err, errLineTooLong) {
			return 0, p.tooLong(content, false, 0)
		}
		if err != nil {
			return 0, err
		}
		if len(content) > 0 {
			break
		}
	}
	start = p.line
	p.buf, p.ends = p.buf[:0], p.ends[:0]
	pos := 0
	for field := 0; ; field++ {
		i := pos
		if p.trim {
			for i < len(content) && p.isSpace(content[i]) {
				i++
			}
		}
		if i == len(content) || content[i] != '"' {
			// Unquoted field: up to the next delimiter.
			end := len(content)
			if j := bytes.IndexByte(content[pos:], p.comma); j >= 0 {
				end = pos + j
			}
			seg := content[pos:end]
			if q := bytes.IndexByte(seg, '"'); q >= 0 {
				return 0, p.bareQuote(content, pos, pos+q, field)
			}
			if c := bytes.IndexByte(seg, '\r'); c >= 0 {
				return 0, p.bareCR(content, pos+c, field)
			}
			if p.suspect {
				if err := p.check(content, pos, end, field); err != nil {
					return 0, err
				}
			}
			if p.trim {
				for len(seg) > 0 && p.isSpace(seg[0]) {
					seg = seg[1:]
				}
				for len(seg) > 0 && p.isSpace(seg[len(seg)-1]) {
					seg = seg[:len(seg)-1]
				}
			}
			p.buf = append(p.buf, seg...)
			p.ends = append(p.ends, len(p.buf))
			if end == len(content) {
				return start, nil
			}
			pos = end + 1
			continue
		}

		// Quoted field: up to a quote that is not doubled, across lines.
		qline := p.line
		pos = i + 1
		for {
			j := bytes.IndexByte(content[pos:], '"')
			if j < 0 {
				if p.suspect {
					if err := p.check(content, pos, len(content), field); err != nil {
						return 0, err
					}
				}
				p.buf = append(p.buf, content[pos:]...)
				if !nl {
					return 0, p.unterminated(qline, field)
				}
				if len(p.buf) > maxRecord {
					return 0, p.quotedTooLong(qline, field)
				}
				content, nl, err = p.readLine()
				if errors.Is(err, io.EOF) {
					return 0, p.unterminated(qline, field)
				}
				if errors.Is(err, errLineTooLong) {
					return 0, p.tooLong(content, true, field)
				}
				if err != nil {
					return 0, err
				}
				p.buf = append(p.buf, '\n')
				pos = 0
				continue
			}
			if p.suspect {
				if err := p.check(content, pos, pos+j, field); err != nil {
					return 0, err
				}
			}
			p.buf = append(p.buf, content[pos:pos+j]...)
			pos += j + 1
			if pos < len(content) && content[pos] == '"' {
				p.buf = append(p.buf, '"')
				pos++
				continue
			}
			k := pos
			if p.trim {
				for k < len(content) && p.isSpace(content[k]) {
					k++
				}
			}
			if k == len(content) {
				p.ends = append(p.ends, len(p.buf))
				return start, nil
			}
			if content[k] != p.comma {
				if qline < p.line {
					return 0, p.openQuote(content, k, qline, field)
				}
				return 0, p.strayQuote(content, k, field)
			}
			p.ends = append(p.ends, len(p.buf))
			pos = k + 1
			break
		}
	}
}

// blank reports whether every field of the current record is empty or
// white space.
func (p *parser) blank() bool {
	for _, c := range p.buf {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}

// fields fills dst (of length len(p.ends)) with the current record's
// fields. They share one string, so a record costs one allocation.
func (p *parser) fields(dst []string) []string {
	s := string(p.buf)
	from := 0
	for i, to := range p.ends {
		dst[i] = s[from:to]
		from = to
	}
	return dst
}

// column names field i for errors: its header name once the header is
// known, else its 1-based number.
func (p *parser) column(i int) string {
	if i < len(p.header) {
		return p.header[i]
	}
	return strconv.Itoa(i + 1)
}

// errAt builds an error at the current line.
func (p *parser) errAt(line, field int, msg, hint string) *source.Error {
	return &source.Error{
		Prov:   identity.Provenance{File: p.file, Line: line},
		Column: p.column(field),
		Msg:    msg,
		Hint:   hint,
	}
}

// char is the 1-based character position of byte off in line, as an editor
// counts (an invalid byte counts as one character).
func char(line []byte, off int) int { return utf8.RuneCount(line[:off]) + 1 }

// before quotes up to a dozen bytes of text before off, for context.
func before(text []byte, off int) string {
	from := max(0, off-12)
	for from > 0 && from < off && !utf8.RuneStart(text[from]) {
		from++
	}
	return strconv.Quote(strings.ToValidUTF8(string(text[from:off]), "?"))
}

// check looks for invalid UTF-8, NUL and (in UTF-16 files) decoding
// failures in line[from:to], which belongs to field.
func (p *parser) check(line []byte, from, to, field int) error {
	seg := line[from:to]
	if z := bytes.IndexByte(seg, 0); z >= 0 {
		off := from + z
		hint := `the file is probably UTF-16 without a byte-order mark; save it as "CSV UTF-8" (or as "Unicode Text", which has one)`
		if p.enc != encUTF8 {
			hint = "the file is damaged or is not a text file; export it again"
		}
		return p.errAt(p.line, field,
			fmt.Sprintf("NUL byte at character %d; CSV text cannot contain NUL", char(line, off)), hint)
	}
	if p.enc == encUTF16 {
		if r := bytes.Index(seg, []byte(string(utf8.RuneError))); r >= 0 {
			off := from + r
			return p.errAt(p.line, field,
				fmt.Sprintf("invalid UTF-16 at character %d, after %s (an unpaired surrogate, or an odd number of bytes at the end)", char(line, off), before(seg, off-from)),
				"the file is truncated or damaged; export it again")
		}
	}
	for off := from; off < to; {
		r, size := utf8.DecodeRune(line[off:to])
		if r == utf8.RuneError && size == 1 {
			b := line[off]
			msg := fmt.Sprintf("invalid UTF-8: byte 0x%02X at character %d, after %s", b, char(line, off), before(seg, off-from))
			if w := charmap.Windows1252.DecodeByte(b); w != utf8.RuneError {
				msg += fmt.Sprintf(" (in Windows-1252 that byte is %q)", w)
			}
			hint := `the file looks like Windows-1252/Latin-1 ("ANSI"), not UTF-8; save it as UTF-8 (Excel: Save As > "CSV UTF-8 (Comma delimited)") and read it again`
			if p.enc == encUTF8BOM {
				hint = "the file starts with a UTF-8 byte-order mark but is not all UTF-8 (perhaps pieced together from files in different encodings); fix the line, or open it and save it as UTF-8 again"
			}
			return p.errAt(p.line, field, msg, hint)
		}
		off += size
	}
	return nil
}

// bareQuote reports a quote at off inside the unquoted field that starts at
// start.
func (p *parser) bareQuote(line []byte, start, off, field int) error {
	return p.errAt(p.line, field,
		fmt.Sprintf(`a quote (") inside an unquoted field, at character %d after %s`, char(line, off), before(line[start:], off-start)),
		`a value that contains a quote must be quoted as a whole, with the quote doubled: "5"" screen"`)
}

// strayQuote reports text after the closing quote of a quoted field.
func (p *parser) strayQuote(line []byte, off, field int) error {
	r, _ := utf8.DecodeRune(line[off:])
	return p.errAt(p.line, field,
		fmt.Sprintf("unexpected %q after the closing quote of a quoted field, at character %d", r, char(line, off)),
		`inside a quoted field write a quote as two quotes (""); a quoted field ends with a quote right before the delimiter or the line end`)
}

// openQuote reports text after a quote that ends a quoted field opened on
// an earlier line, qline: most likely that field lacks its closing quote
// and swallowed the lines since, so the error is reported where the record
// and the quote began, as Go's encoding/csv does, naming where the parser
// noticed.
func (p *parser) openQuote(line []byte, off, qline, field int) error {
	r, _ := utf8.DecodeRune(line[off:])
	return p.errAt(qline, field,
		fmt.Sprintf("the quoted field opened on line %d is still open on line %d, where %q follows a quote at character %d", qline, p.line, r, char(line, off)),
		fmt.Sprintf("the value on line %d probably lacks its closing quote: close it, or write a quote inside a value as two quotes (\"\")", qline))
}

// bareCR reports a carriage return inside an unquoted field.
func (p *parser) bareCR(line []byte, off, field int) error {
	return p.errAt(p.line, field,
		fmt.Sprintf("carriage return (CR) inside an unquoted field, at character %d", char(line, off)),
		"the file probably uses old Mac (CR-only) line ends; save it with Windows (CRLF) or Unix (LF) line ends, or quote the value")
}

// tooLong reports the current line, of which readLine read only prefix,
// as longer than maxRecord. The line starts inside a quoted field when
// inQuotes (it continues field), else at field 0; the column named is the
// one the limit is reached in. Text that is not text (a NUL, invalid
// UTF-8: a sparse or binary file) is reported as such, where it is.
func (p *parser) tooLong(prefix []byte, inQuotes bool, field int) error {
	// A character may be cut at the end of prefix: leave the last few
	// bytes out of the text check.
	text := prefix[:max(0, len(prefix)-utf8.UTFMax)]
	bad := bytes.IndexByte(text, 0)
	if bad < 0 && p.enc == encUTF16 {
		bad = bytes.Index(text, []byte(string(utf8.RuneError)))
	}
	if bad < 0 && !utf8.Valid(text) {
		for off := 0; off < len(text); {
			r, size := utf8.DecodeRune(text[off:])
			if r == utf8.RuneError && size == 1 {
				bad = off
				break
			}
			off += size
		}
	}
	if bad >= 0 {
		if err := p.check(text, 0, len(text), field+fieldsIn(text[:bad], inQuotes, p.comma)); err != nil {
			return err
		}
	}
	return p.errAt(p.line, field+fieldsIn(prefix[:min(len(prefix), maxRecord)], inQuotes, p.comma),
		fmt.Sprintf("line %d is longer than %s, the most hrsync reads in one line or record", p.line, maxRecordText),
		"HR records are far shorter: the file is probably damaged or not a CSV export (line ends missing, or a binary or sparse file); export it again")
}

// quotedTooLong reports a quoted field that starts on line qline and runs
// over maxRecord, across lines.
func (p *parser) quotedTooLong(qline, field int) error {
	return p.errAt(qline, field,
		fmt.Sprintf("quoted field is longer than %s: it starts on line %d and runs on to line %d at least", maxRecordText, qline, p.line),
		fmt.Sprintf("a value on line %d probably lacks its closing quote, so the lines after it read as one value; add the quote, or export the file again", qline))
}

// fieldsIn counts the delimiters outside quotes in b, which starts inside
// a quoted field when inQuotes: how many fields further the end of b is.
func fieldsIn(b []byte, inQuotes bool, comma byte) int {
	n := 0
	for _, c := range b {
		switch {
		case c == '"':
			inQuotes = !inQuotes
		case c == comma && !inQuotes:
			n++
		}
	}
	return n
}

// unterminated reports a quoted field that runs to the end of the input.
func (p *parser) unterminated(qline, field int) error {
	msg := "quoted field is never closed: it runs to the end of the file"
	if p.line > qline {
		msg = fmt.Sprintf("quoted field is never closed: it runs to the end of the file, swallowing lines %d to %d", qline+1, p.line)
	}
	return p.errAt(qline, field, msg,
		fmt.Sprintf("the file may be truncated (an interrupted export or copy), or a value on line %d lacks its closing quote", qline))
}

// countError reports a record with the wrong number of fields.
func (p *parser) countError(line, n, m int) error {
	hint := "a value probably contains the delimiter " + delimName(p.comma) + " without being quoted; quote it, or check source.delimiter"
	switch {
	case n > m && p.emptyFrom(m):
		hint = "the extra fields are empty: the row probably ends with stray delimiters; remove them"
	case n < m:
		hint = "the row is cut short: a value may hold a line break without being quoted, or fields are missing; quote the value or add the missing delimiters"
	}
	return &source.Error{
		Prov: identity.Provenance{File: p.file, Line: line},
		Msg:  fmt.Sprintf("record has %d fields, header has %d", n, m),
		Hint: hint,
	}
}

// emptyFrom reports whether fields i and later of the current record are
// empty.
func (p *parser) emptyFrom(i int) bool {
	return p.ends[len(p.ends)-1] == p.ends[i-1]
}
