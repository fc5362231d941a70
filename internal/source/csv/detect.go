package csv

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/source"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// encoding is the character encoding of the file, as told by its
// byte-order mark.
type encoding int

const (
	encUTF8    encoding = iota // no byte-order mark: must be UTF-8
	encUTF8BOM                 // UTF-8 with a byte-order mark
	encUTF16                   // UTF-16, either byte order, with a byte-order mark
)

// magic lists the starts of files that are not text, which people give
// for a CSV by mistake (a workbook renamed to .csv, a download that is a
// program): each is named rather than read as text in an odd encoding.
var magic = []struct {
	prefix []byte
	what   string
	hint   string
}{
	{[]byte("PK\x03\x04"), "a ZIP archive (an .xlsx workbook is one)", "for a workbook use source.type: xlsx; otherwise export the data as CSV"},
	{[]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, "an Excel 97-2003 workbook (.xls)", "save it as CSV or .xlsx (then source.type: xlsx)"},
	{[]byte("%PDF-"), "a PDF document", "export the data as CSV"},
	{[]byte{0x1F, 0x8B}, "a gzip-compressed file", "decompress it first"},
	{[]byte("\x7fELF"), "a program (ELF executable)", "give the path of the HR export"},
	{[]byte("MZ\x90\x00"), "a program (Windows executable)", "give the path of the HR export"},
	{[]byte{0x89, 'P', 'N', 'G'}, "a PNG image", "give the path of the HR export"},
}

// notText reports a file that starts like a known binary format.
func notText(b []byte, file string) error {
	for _, m := range magic {
		if bytes.HasPrefix(b, m.prefix) {
			return &source.Error{Prov: identity.Provenance{File: file}, Msg: "this is not a CSV file: it is " + m.what, Hint: m.hint}
		}
	}
	return nil
}

// decoder looks for a byte-order mark at the start of raw, consumes it and
// returns a reader of the file's text as UTF-8. A file that starts like a
// known binary format is refused, named.
func decoder(raw *bufio.Reader, file string) (*bufio.Reader, encoding, error) {
	b, err := raw.Peek(8)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, 0, err
	}
	if err := notText(b, file); err != nil {
		return nil, 0, err
	}
	var order unicode.Endianness
	switch {
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		_, err := raw.Discard(3)
		return raw, encUTF8BOM, err
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}):
		order = unicode.LittleEndian
	case bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		order = unicode.BigEndian
	default:
		return raw, encUTF8, nil
	}
	if _, err := raw.Discard(2); err != nil {
		return nil, 0, err
	}
	dec := unicode.UTF16(order, unicode.IgnoreBOM).NewDecoder()
	return bufio.NewReaderSize(transform.NewReader(raw, dec), bufSize), encUTF16, nil
}

// candidates are the delimiters detection chooses from, in the order they
// are named in messages.
const candidates = ",;\t|"

// delimName names a delimiter for messages.
func delimName(d byte) string {
	if d == '\t' {
		return "tab"
	}
	return fmt.Sprintf("%q", string(d))
}

// detect decides the delimiter: the configured one if any, else an Excel
// "sep=X" first line, else the candidate that occurs most often outside
// quotes in the header line. sepLine reports that the text starts with a
// "sep=X" line, which is not data and must be skipped. It only peeks at br.
func detect(br *bufio.Reader, configured byte, file string) (comma byte, sepLine bool, err error) {
	b, err := br.Peek(bufSize)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return 0, false, err
	}
	if first, ok := sepLineOf(b); ok {
		sep := first[4]
		if configured != 0 {
			return configured, true, nil
		}
		if strings.IndexByte(candidates, sep) < 0 {
			return 0, false, &source.Error{
				Prov: identity.Provenance{File: file, Line: 1},
				Msg:  fmt.Sprintf("the %q line names a delimiter hrsync does not support", first),
				Hint: `use ",", ";", tab or "|", or set source.delimiter`,
			}
		}
		return sep, true, nil
	}
	if configured != 0 {
		return configured, false, nil
	}
	counts, line, ok := headerCounts(b)
	if !ok {
		// No header line, or not text: the parser reports the empty file
		// or the NUL with its position.
		return ',', false, nil
	}
	comma, err = mostFrequent(counts, line, file)
	return comma, false, err
}

// sepLineOf returns the first line when it is an Excel "sep=X" line
// (the delimiter is its fifth byte).
func sepLineOf(b []byte) ([]byte, bool) {
	first := b
	if i := bytes.IndexByte(first, '\n'); i >= 0 {
		first = first[:i]
	}
	first = bytes.TrimSuffix(first, []byte{'\r'})
	if len(first) == 5 && strings.EqualFold(string(first[:4]), "sep=") {
		return first, true
	}
	return nil, false
}

// headerCounts counts each candidate delimiter outside quotes in the
// header line: the first non-blank line, up to a line end outside quotes
// (a header name may be quoted and hold a line break). line is its
// number; false when there is none, or it holds a NUL.
func headerCounts(b []byte) (counts [len(candidates)]int, line int, ok bool) {
	line = 1
	i := 0
	for i < len(b) && (b[i] == '\n' || b[i] == '\r') {
		if b[i] == '\n' {
			line++
		}
		i++
	}
	if i == len(b) {
		return counts, line, false
	}
	inQuotes := false
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case c == '"':
			inQuotes = !inQuotes
		case inQuotes:
		case c == '\n' || c == '\r':
			return counts, line, true
		case c == 0:
			return counts, line, false
		default:
			if k := strings.IndexByte(candidates, c); k >= 0 {
				counts[k]++
			}
		}
	}
	return counts, line, true
}

// mostFrequent is the candidate the header line (number line) holds most
// of; an error when it holds none, or as many of two.
func mostFrequent(counts [len(candidates)]int, line int, file string) (byte, error) {
	best, ties := 0, 0
	for k, n := range counts {
		switch {
		case n > counts[best]:
			best, ties = k, 1
		case n == counts[best]:
			ties++
		}
	}
	hint := `set source.delimiter to ",", ";", "tab" or "|"`
	if counts[best] == 0 {
		return 0, &source.Error{
			Prov: identity.Provenance{File: file, Line: line},
			Msg:  `cannot detect the delimiter: the header line contains none of ",", ";", tab or "|"`,
			Hint: hint + " (a file with a single column needs it set)",
		}
	}
	if ties > 1 {
		var found []string
		for k, n := range counts {
			if n == counts[best] {
				found = append(found, fmt.Sprintf("%d × %s", n, delimName(candidates[k])))
			}
		}
		return 0, &source.Error{
			Prov: identity.Provenance{File: file, Line: line},
			Msg:  "cannot detect the delimiter: the header line has as many of each of " + strings.Join(found, " and "),
			Hint: hint,
		}
	}
	return candidates[best], nil
}
