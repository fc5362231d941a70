package xlsx

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
)

// The worksheet and shared string parts are read with scanner, a small
// XML tokenizer: encoding/xml allocates for every element, attribute and
// text, which made it 80% of the time and 300 allocations a row. scanner
// accepts what encoding/xml's Decoder accepts in strict mode, with the same
// tokens (FuzzScannerMatchesEncodingXML holds it to that), except that:
//
//   - element and attribute names must be ASCII (SpreadsheetML's are);
//   - DOCTYPE and other <!...> declarations are refused (SpreadsheetML has
//     none, and they can define entities);
//   - comments, processing instructions and namespaces are skipped, and
//     names are given without their prefix.

// tokKind is the kind of a token.
type tokKind uint8

const (
	tokStart tokKind = iota + 1 // start of an element: name, attrs
	tokEnd                      // end of an element: name
	tokText                     // character data: text
)

// maxToken bounds the size of one token (a tag or a run of text). Excel
// keeps a cell to 32,767 characters.
const maxToken = 64 << 20

// scanner reads the tokens of an XML document.
type scanner struct {
	r   io.Reader
	buf []byte
	pos int   // next byte to read in buf
	end int   // end of the data in buf
	off int64 // offset in the document of buf[0]
	eof bool  // r is exhausted
	err error // sticky error

	// The current token; its slices are valid until the next call of next.
	name  []byte // local name of a start or end element
	attrs []attr // attributes of a start element
	text  []byte // character data, entities decoded

	open    []byte // qualified names of the open elements, concatenated
	opens   []int  // start of each in open
	closing bool   // the last start element was empty (<c/>): its end is due
	scratch []byte // decoded text
	vbuf    []byte // decoded attribute values
}

// attr is an attribute: its local name and its value as written.
type attr struct {
	name   []byte
	raw    []byte
	decode bool // raw holds entities or carriage returns
}

// syntaxError is malformed XML, at a byte offset of the part.
type syntaxError struct {
	off int64
	msg string
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("XML syntax error at byte %d: %s", e.off, e.msg)
}

func newScanner(r io.Reader) *scanner {
	return &scanner{r: r, buf: make([]byte, 64<<10)}
}

// fail records a syntax error at the current position.
func (s *scanner) fail(format string, args ...any) error {
	if s.err == nil {
		s.err = &syntaxError{s.off + int64(s.pos), fmt.Sprintf(format, args...)}
	}
	return s.err
}

// fill reads more of the document into buf, keeping buf[pos:end]. It reports
// whether anything was read.
func (s *scanner) fill() bool {
	if s.eof || s.err != nil {
		return false
	}
	if s.end == len(s.buf) {
		if s.pos > 0 {
			copy(s.buf, s.buf[s.pos:s.end])
			s.off += int64(s.pos)
			s.end -= s.pos
			s.pos = 0
		} else {
			if len(s.buf) >= maxToken {
				s.fail("a tag or text is longer than %d bytes", maxToken)
				return false
			}
			nb := make([]byte, 2*len(s.buf))
			copy(nb, s.buf[:s.end])
			s.buf = nb
		}
	}
	for {
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		if err != nil {
			if errors.Is(err, io.EOF) {
				s.eof = true
			} else {
				s.err = err
			}
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
}

// need makes sure n bytes from pos are buffered; it reports false when the
// document ends first (or reading it failed).
func (s *scanner) need(n int) bool {
	for s.end-s.pos < n {
		if !s.fill() {
			return false
		}
	}
	return true
}

// eofErr is the error for a document ending inside a construct.
func (s *scanner) eofErr() error {
	if s.err != nil {
		return s.err
	}
	s.pos = s.end
	return s.fail("unexpected EOF")
}

// index finds c at or after pos+from, reading more as needed; it returns
// its offset from pos, or -1 when the document ends first.
func (s *scanner) index(from int, c byte) int {
	for {
		if i := bytes.IndexByte(s.buf[s.pos+from:s.end], c); i >= 0 {
			return from + i
		}
		from = s.end - s.pos
		if !s.fill() {
			return -1
		}
	}
}

// indexSeq finds seq at or after pos+from; see index.
func (s *scanner) indexSeq(from int, seq string) int {
	for {
		i := s.index(from, seq[0])
		if i < 0 || !s.need(i+len(seq)) {
			return -1
		}
		if string(s.buf[s.pos+i:s.pos+i+len(seq)]) == seq {
			return i
		}
		from = i + 1
	}
}

// next reads the next token. It returns io.EOF at the end of a well-formed
// document.
func (s *scanner) next() (tokKind, error) {
	if s.err != nil {
		return 0, s.err
	}
	if s.closing {
		s.closing = false
		n := len(s.opens) - 1
		s.name = localName(s.open[s.opens[n]:])
		s.open, s.opens = s.open[:s.opens[n]], s.opens[:n]
		return tokEnd, nil
	}
	for {
		if s.pos == s.end && !s.fill() {
			if s.err != nil {
				return 0, s.err
			}
			if len(s.opens) > 0 {
				return 0, s.fail("unexpected EOF")
			}
			return 0, io.EOF
		}
		if s.buf[s.pos] != '<' {
			return s.charData()
		}
		if !s.need(2) {
			return 0, s.eofErr()
		}
		switch s.buf[s.pos+1] {
		case '/':
			return s.endTag()
		case '?':
			if err := s.procInst(); err != nil {
				return 0, err
			}
			continue
		case '!':
			kind, err := s.bang()
			if err != nil || kind != 0 {
				return kind, err
			}
			continue
		}
		return s.startTag()
	}
}

// charData reads text up to the next tag.
func (s *scanner) charData() (tokKind, error) {
	i := s.index(0, '<')
	if i < 0 {
		if s.err != nil {
			return 0, s.err
		}
		i = s.end - s.pos
	}
	raw := s.buf[s.pos : s.pos+i]
	text, _, err := s.decode(raw, modeText, &s.scratch)
	if err != nil {
		return 0, err
	}
	s.pos += i
	s.text = text
	return tokText, nil
}

// bang reads a comment or a CDATA section; DOCTYPE and other declarations
// are refused. A comment gives no token (kind 0).
func (s *scanner) bang() (tokKind, error) {
	if !s.need(3) {
		return 0, s.eofErr()
	}
	switch s.buf[s.pos+2] {
	case '-':
		if !s.need(4) {
			return 0, s.eofErr()
		}
		if s.buf[s.pos+3] != '-' {
			s.pos += 3
			return 0, s.fail("invalid sequence <!- not part of <!--")
		}
		i := s.indexSeq(4, "--")
		if i < 0 {
			return 0, s.eofErr()
		}
		if !s.need(i + 3) {
			return 0, s.eofErr()
		}
		if s.buf[s.pos+i+2] != '>' {
			s.pos += i + 2
			return 0, s.fail(`invalid sequence "--" not allowed in comments`)
		}
		s.pos += i + 3
		return 0, nil
	case '[':
		if !s.need(9) {
			return 0, s.eofErr()
		}
		if string(s.buf[s.pos+3:s.pos+9]) != "CDATA[" {
			return 0, s.fail("invalid <![ sequence")
		}
		i := s.indexSeq(9, "]]>")
		if i < 0 {
			return 0, s.eofErr()
		}
		text, _, err := s.decode(s.buf[s.pos+9:s.pos+i], modeCDATA, &s.scratch)
		if err != nil {
			return 0, err
		}
		s.pos += i + 3
		s.text = text
		return tokText, nil
	}
	return 0, s.fail("a <! declaration (such as DOCTYPE), which a workbook part never has")
}

// procInst reads a processing instruction; the XML declaration's version
// and encoding are honoured.
func (s *scanner) procInst() error {
	s.pos += 2
	n, _, err := s.nameLen()
	if err != nil {
		return err
	}
	if n == 0 {
		return s.fail("expected target name after <?")
	}
	target := string(s.buf[s.pos : s.pos+n])
	s.pos += n
	i := s.indexSeq(0, "?>")
	if i < 0 {
		return s.eofErr()
	}
	content := string(s.buf[s.pos : s.pos+i])
	s.pos += i + 2
	if target != "xml" {
		return nil
	}
	if v := procParam("version", content); v != "" && v != "1.0" {
		return s.fail("unsupported XML version %q; only version 1.0 is supported", v)
	}
	enc := procParam("encoding", content)
	if enc == "" || strings.EqualFold(enc, "utf-8") {
		return nil
	}
	rest := make([]byte, s.end-s.pos)
	copy(rest, s.buf[s.pos:s.end])
	var in io.Reader = bytes.NewReader(rest)
	if !s.eof {
		in = io.MultiReader(in, s.r)
	}
	r, err := charset.NewReaderLabel(enc, in)
	if err != nil {
		return s.fail("opening charset %q: %v", enc, err)
	}
	s.r, s.eof = r, false
	s.off += int64(s.pos)
	s.pos, s.end = 0, 0
	return nil
}

// procParam returns the value of a pseudo-attribute of a processing
// instruction, as encoding/xml finds it.
func procParam(param, s string) string {
	param += "="
	i := 0
	var sep byte
	for i < len(s) {
		sub := s[i:]
		k := strings.Index(sub, param)
		if k < 0 || len(param)+k >= len(sub) {
			return ""
		}
		i += len(param) + k + 1
		if c := sub[len(param)+k]; c == '\'' || c == '"' {
			sep = c
			break
		}
	}
	if sep == 0 {
		return ""
	}
	j := strings.IndexByte(s[i:], sep)
	if j < 0 {
		return ""
	}
	return s[i : i+j]
}

// nameLen returns the length of the XML name at pos (0 if there is none)
// and how many colons it has, reading more as needed. Names must be ASCII.
func (s *scanner) nameLen() (n, colons int, err error) {
	for {
		if s.pos+n == s.end && !s.fill() {
			if s.err != nil {
				return 0, 0, s.err
			}
			return 0, 0, s.eofErr()
		}
		c := s.buf[s.pos+n]
		if c >= utf8.RuneSelf {
			s.pos += n
			return 0, 0, s.fail("a name with a character other than ASCII")
		}
		if !isNameByte(c) {
			break
		}
		if c == ':' {
			colons++
		}
		n++
	}
	if n == 0 {
		return 0, 0, nil
	}
	if c := s.buf[s.pos]; !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '_' || c == ':') {
		return 0, 0, s.fail("invalid XML name: %s", s.buf[s.pos:s.pos+n])
	}
	return n, colons, nil
}

func isNameByte(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '_' || c == ':' || c == '.' || c == '-'
}

// qname reads an element or attribute name: with at most one colon.
func (s *scanner) qname(what string) ([]byte, error) {
	n, colons, err := s.nameLen()
	if err != nil {
		return nil, err
	}
	if n == 0 || colons > 1 {
		return nil, s.fail("expected %s name", what)
	}
	name := s.buf[s.pos : s.pos+n]
	s.pos += n
	return name, nil
}

// localName drops the prefix of a qualified name, as encoding/xml does
// ("a:" and ":a" have none).
func localName(q []byte) []byte {
	if i := bytes.IndexByte(q, ':'); i > 0 && i < len(q)-1 {
		return q[i+1:]
	}
	return q
}

// space skips white space.
func (s *scanner) space() {
	for {
		if s.pos == s.end && !s.fill() {
			return
		}
		switch s.buf[s.pos] {
		case ' ', '\t', '\r', '\n':
			s.pos++
		default:
			return
		}
	}
}

// byte reads one byte.
func (s *scanner) byte() (byte, error) {
	if s.pos == s.end && !s.fill() {
		return 0, s.eofErr()
	}
	c := s.buf[s.pos]
	s.pos++
	return c, nil
}

// startTag reads <name attr="value" ...> or <name .../>. The tag is read
// into the buffer whole first, so that the slices of the token stay valid.
func (s *scanner) startTag() (tokKind, error) {
	if err := s.bufferTag(); err != nil {
		return 0, err
	}
	s.pos++ // <
	q, err := s.qname("element")
	if err != nil {
		return 0, err
	}
	s.attrs = s.attrs[:0]
	empty := false
	for {
		s.space()
		c, err := s.byte()
		if err != nil {
			return 0, err
		}
		if c == '/' {
			if c, err = s.byte(); err != nil {
				return 0, err
			}
			if c != '>' {
				s.pos--
				return 0, s.fail("expected /> in element")
			}
			empty = true
			break
		}
		if c == '>' {
			break
		}
		s.pos--
		an, err := s.qname("attribute")
		if err != nil {
			return 0, err
		}
		s.space()
		if c, err = s.byte(); err != nil {
			return 0, err
		}
		if c != '=' {
			s.pos--
			return 0, s.fail("attribute name without = in element")
		}
		s.space()
		if c, err = s.byte(); err != nil {
			return 0, err
		}
		if c != '"' && c != '\'' {
			s.pos--
			return 0, s.fail("unquoted or missing attribute value in element")
		}
		i := s.index(0, c)
		if i < 0 {
			return 0, s.eofErr()
		}
		raw := s.buf[s.pos : s.pos+i]
		if j := bytes.IndexByte(raw, '<'); j >= 0 {
			s.pos += j
			return 0, s.fail("unescaped < inside quoted string")
		}
		_, changed, err := s.decode(raw, modeAttr, &s.vbuf)
		if err != nil {
			return 0, err
		}
		s.attrs = append(s.attrs, attr{name: localName(an), raw: raw, decode: changed})
		s.pos += i + 1
	}
	s.open = append(s.open, q...)
	s.opens = append(s.opens, len(s.open)-len(q))
	s.name = localName(q)
	s.closing = empty
	return tokStart, nil
}

// bufferTag makes sure the whole tag starting at pos is in the buffer: up to
// a '>' outside quoted attribute values (or the document's end, which the
// parse then reports).
func (s *scanner) bufferTag() error {
	var quote byte
	for i := 1; ; {
		for _, c := range s.buf[s.pos+i : s.end] {
			switch {
			case quote != 0:
				if c == quote {
					quote = 0
				} else if c == '<' {
					return nil // an error the parse reports
				}
			case c == '"' || c == '\'':
				quote = c
			case c == '>':
				return nil
			}
		}
		i = s.end - s.pos
		if !s.fill() {
			return s.err
		}
	}
}

// endTag reads </name>, which must close the innermost open element.
func (s *scanner) endTag() (tokKind, error) {
	if err := s.bufferTag(); err != nil {
		return 0, err
	}
	s.pos += 2
	q, err := s.qname("element")
	if err != nil {
		return 0, err
	}
	name := localName(q)
	s.space()
	c, err := s.byte()
	if err != nil {
		return 0, err
	}
	if c != '>' {
		s.pos--
		return 0, s.fail("invalid characters between </%s and >", name)
	}
	n := len(s.opens) - 1
	if n < 0 {
		return 0, s.fail("unexpected end element </%s>", name)
	}
	if top := s.open[s.opens[n]:]; !bytes.Equal(top, q) {
		return 0, s.fail("element <%s> closed by </%s>", top, q)
	}
	s.open, s.opens = s.open[:s.opens[n]], s.opens[:n]
	s.name = name
	return tokEnd, nil
}

// Kinds of character data decode reads.
const (
	modeText  = iota // between tags: entities, and "]]>" is an error
	modeAttr         // a quoted attribute value: entities
	modeCDATA        // a CDATA section: no entities
)

// decode checks and decodes character data: entities replaced, CR LF and
// lone CR made LF, only characters XML allows. It returns raw itself when
// there is nothing to replace, else a slice of *buf, and whether it
// replaced anything.
func (s *scanner) decode(raw []byte, mode int, buf *[]byte) ([]byte, bool, error) {
	// Fast path: text without & or CR, checked as it is.
	i := 0
	for i < len(raw) {
		c := raw[i]
		if c >= 0x20 && c < utf8.RuneSelf {
			if c == '&' && mode != modeCDATA {
				break
			}
			if c == '>' && mode == modeText && i >= 2 && raw[i-1] == ']' && raw[i-2] == ']' {
				return nil, false, s.failAt(i, "unescaped ]]> not in CDATA section")
			}
			i++
			continue
		}
		if c == '\t' || c == '\n' {
			i++
			continue
		}
		if c == '\r' {
			break
		}
		if c < 0x20 {
			return nil, false, s.failAt(i, "illegal character code U+%04X", c)
		}
		r, n := utf8.DecodeRune(raw[i:])
		if r == utf8.RuneError && n == 1 {
			return nil, false, s.failAt(i, "invalid UTF-8")
		}
		if !inCharRange(r) {
			return nil, false, s.failAt(i, "illegal character code %U", r)
		}
		i += n
	}
	if i == len(raw) {
		return raw, false, nil
	}
	out := append((*buf)[:0], raw[:i]...)
	var b0, b1 byte // the previous raw bytes, for CR LF and ]]>
	if i > 0 {
		b1 = raw[i-1]
	}
	if i > 1 {
		b0 = raw[i-2]
	}
	for i < len(raw) {
		c := raw[i]
		switch {
		case c == '&' && mode != modeCDATA:
			r, n, ok := entity(raw[i:])
			if !ok {
				return nil, false, s.failAt(i, "invalid character entity %s", clip(string(raw[i:i+n])))
			}
			if !inCharRange(r) {
				return nil, false, s.failAt(i, "illegal character code %U", r)
			}
			out = utf8.AppendRune(out, r)
			i += n
			b0, b1 = 0, 0
			continue
		case c == '\r':
			out = append(out, '\n')
		case c == '\n' && b1 == '\r':
		case c == '>' && mode == modeText && b0 == ']' && b1 == ']':
			return nil, false, s.failAt(i, "unescaped ]]> not in CDATA section")
		case c < 0x20 && c != '\t' && c != '\n':
			return nil, false, s.failAt(i, "illegal character code U+%04X", c)
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && n == 1 {
				return nil, false, s.failAt(i, "invalid UTF-8")
			}
			if !inCharRange(r) {
				return nil, false, s.failAt(i, "illegal character code %U", r)
			}
			out = append(out, raw[i:i+n]...)
			i += n
			b0, b1 = b1, raw[i-1]
			continue
		default:
			out = append(out, c)
		}
		b0, b1 = b1, c
		i++
	}
	*buf = out
	return out, true, nil
}

// failAt records a syntax error at offset i of the token being read.
func (s *scanner) failAt(i int, format string, args ...any) error {
	if s.err == nil {
		s.err = &syntaxError{s.off + int64(s.pos+i), fmt.Sprintf(format, args...)}
	}
	return s.err
}

// entity decodes the entity or character reference at the start of b (which
// starts with '&'); n is its length, or how far it was read on failure.
func entity(b []byte) (r rune, n int, ok bool) {
	end := bytes.IndexByte(b, ';')
	if end < 0 {
		return 0, len(b), false
	}
	ref := b[1:end]
	n = end + 1
	if len(ref) > 0 && ref[0] == '#' {
		base, digits := 10, ref[1:]
		if len(digits) > 0 && digits[0] == 'x' {
			base, digits = 16, digits[1:]
		}
		if len(digits) == 0 {
			return 0, n, false
		}
		v, err := strconv.ParseUint(string(digits), base, 64)
		if err != nil || v > utf8.MaxRune {
			return 0, n, false
		}
		if v >= 0xD800 && v <= 0xDFFF {
			// encoding/xml makes a surrogate U+FFFD.
			return utf8.RuneError, n, true
		}
		return rune(v), n, true
	}
	switch string(ref) {
	case "lt":
		return '<', n, true
	case "gt":
		return '>', n, true
	case "amp":
		return '&', n, true
	case "apos":
		return '\'', n, true
	case "quot":
		return '"', n, true
	}
	return 0, n, false
}

// inCharRange reports whether r is a character XML allows.
func inCharRange(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

// attrValue returns the value of attribute a, entities decoded.
func (s *scanner) attrValue(a *attr) []byte {
	if !a.decode {
		return a.raw
	}
	v, _, err := s.decode(a.raw, modeAttr, &s.vbuf)
	if err != nil {
		return nil
	}
	return v
}
