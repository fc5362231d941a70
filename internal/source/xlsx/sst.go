package xlsx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/source"
)

// Bounds of the shared string table, which is held in memory: far above
// what an HR export needs (a million rows of ten distinct 50-byte texts are
// 500 MiB), they keep a damaged or hostile file from exhausting memory.
const (
	maxSSTBytes   = 1 << 30
	maxSSTEntries = 1 << 27
)

// sst is the shared string table: the text of the workbook's string cells,
// which cells refer to by index. It is one string and the end offset of each
// entry, to keep the overhead per entry at four bytes; entries are
// substrings of it, so looking one up allocates nothing.
type sst struct {
	text string
	ends []uint32
}

// get returns entry i.
func (t *sst) get(i int) (string, bool) {
	if i < 0 || i >= len(t.ends) {
		return "", false
	}
	start := uint32(0)
	if i > 0 {
		start = t.ends[i-1]
	}
	return t.text[start:t.ends[i]], true
}

// sharedStrings reads the workbook's shared string table. A workbook
// without one has no string cells that need it.
func (wb *workbook) sharedStrings(ctx context.Context) (*sst, error) {
	t := &sst{}
	if wb.sstPart == "" {
		return t, nil
	}
	zf := wb.part(wb.sstPart)
	if zf == nil {
		return t, nil
	}
	rc, err := zf.Open()
	if err != nil {
		return nil, wb.damaged(wb.sstPart, err)
	}
	defer rc.Close()
	sr := sstReader{wb: wb, ctx: ctx, t: t}
	if err := sr.read(newScanner(rc)); err != nil {
		return nil, err
	}
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return nil, wb.damaged(wb.sstPart, err)
	}
	t.text = sr.b.String()
	return t, nil
}

// sstReader reads a shared string table into t: the text of its entries
// goes to b, and their ends to t. (The scanner is passed to its methods
// rather than held, so that it stays on the stack.)
type sstReader struct {
	wb  *workbook
	ctx context.Context
	t   *sst

	b     strings.Builder
	cur   []byte // text of the current entry
	inSI  bool
	inT   bool
	rph   int // depth in phonetic runs, whose text is not part of the value
	count int // entries read
}

// read reads the tokens of the table to its end.
func (sr *sstReader) read(sc *scanner) error {
	for {
		kind, err := sc.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return sr.wb.damaged(sr.wb.sstPart, err)
		}
		switch kind {
		case tokStart:
			sr.startTag(sc)
		case tokEnd:
			if err := sr.endTag(sc.name); err != nil {
				return err
			}
		case tokText:
			if sr.inT {
				sr.cur = append(sr.cur, sc.text...)
			}
		}
	}
}

// startTag handles the start of an element: the table, an entry (si), a
// phonetic run (rPh), or a text (t) that is part of the entry's value.
func (sr *sstReader) startTag(sc *scanner) {
	switch string(sc.name) {
	case "sst":
		sr.reserve(sc)
	case "si":
		sr.inSI, sr.cur = true, sr.cur[:0]
	case "rPh":
		sr.rph++
	case "t":
		sr.inT = sr.inSI && sr.rph == 0
	}
}

// reserve makes room for the number of entries the table declares (its
// uniqueCount), up to a million: the count is not trusted further.
func (sr *sstReader) reserve(sc *scanner) {
	for i := range sc.attrs {
		a := &sc.attrs[i]
		if string(a.name) != "uniqueCount" {
			continue
		}
		if n, ok := atoi(sc.attrValue(a)); ok && n > 0 && len(sr.t.ends) == 0 {
			sr.t.ends = make([]uint32, 0, min(n, 1<<20))
		}
	}
}

// endTag handles the end of the element name; the end of an entry adds
// it.
func (sr *sstReader) endTag(name []byte) error {
	switch string(name) {
	case "si":
		if !sr.inSI {
			return nil
		}
		sr.inSI = false
		return sr.add()
	case "rPh":
		sr.rph--
	case "t":
		sr.inT = false
	}
	return nil
}

// add adds the entry just read to the table. A table larger than hrsync
// reads is an error, as is the cancellation of the context, which is
// checked every 4096 entries.
func (sr *sstReader) add() error {
	sr.b.Write(unescape(sr.cur))
	if sr.b.Len() > maxSSTBytes || len(sr.t.ends) >= maxSSTEntries {
		return sr.wb.sstTooLarge()
	}
	sr.t.ends = append(sr.t.ends, uint32(sr.b.Len()))
	if sr.count++; sr.count%4096 == 0 {
		if err := sr.ctx.Err(); err != nil {
			return fmt.Errorf("read %s: %w", sr.wb.file, err)
		}
	}
	return nil
}

// sstTooLarge reports a shared string table beyond maxSSTBytes or
// maxSSTEntries.
func (wb *workbook) sstTooLarge() error {
	return &source.Error{
		Prov: identity.Provenance{File: wb.file},
		Msg:  fmt.Sprintf("the shared string table is larger than hrsync reads (%d MiB of text or %d entries)", maxSSTBytes>>20, maxSSTEntries),
		Hint: "split the workbook, or export the data as CSV and use a csv source",
	}
}

// unescape decodes the _xHHHH_ escapes with which SpreadsheetML writes
// characters XML cannot hold (a carriage return is _x000D_, and a literal
// "_x" sequence is written _x005F_x). It returns s itself when there is
// none. Escaped UTF-16 surrogates are paired; a lone one is kept as written.
func unescape(s []byte) []byte {
	i := bytes.Index(s, []byte("_x"))
	if i < 0 {
		return s
	}
	out := make([]byte, 0, len(s))
	for i >= 0 {
		out = append(out, s[:i]...)
		s = s[i:]
		r, ok := escaped(s)
		if !ok {
			out = append(out, '_')
			s = s[1:]
		} else {
			n := 7
			if utf16.IsSurrogate(r) {
				if r2, ok2 := escaped(s[7:]); ok2 && r < 0xDC00 {
					if p := utf16.DecodeRune(r, r2); p != utf8.RuneError {
						r, n = p, 14
					}
				}
			}
			if utf16.IsSurrogate(r) {
				out = append(out, s[:7]...)
			} else {
				out = utf8.AppendRune(out, r)
			}
			s = s[n:]
		}
		i = bytes.Index(s, []byte("_x"))
	}
	return append(out, s...)
}

// escaped decodes an _xHHHH_ escape at the start of s.
func escaped(s []byte) (rune, bool) {
	if len(s) < 7 || s[0] != '_' || s[1] != 'x' || s[6] != '_' {
		return 0, false
	}
	var r rune
	for _, c := range s[2:6] {
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(v)
	}
	return r, true
}

// atoi parses a non-negative decimal number of at most 9 digits, the most
// any count or index in a workbook needs.
func atoi(s []byte) (int, bool) {
	s = bytes.TrimSpace(s)
	if len(s) == 0 || len(s) > 9 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
