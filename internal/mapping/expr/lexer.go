package expr

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

type tokKind uint8

const (
	tEOF tokKind = iota
	tField
	tString
	tNumber
	tIdent
	tLParen
	tRParen
	tComma
	tOp
)

func (k tokKind) String() string {
	switch k {
	case tEOF:
		return "end of expression"
	case tField:
		return "attribute"
	case tString:
		return "string"
	case tNumber:
		return "number"
	case tIdent:
		return "name"
	case tLParen:
		return `"("`
	case tRParen:
		return `")"`
	case tComma:
		return `","`
	case tOp:
		return "comparison operator"
	}
	return "token"
}

// cmpOp is a comparison operator.
type cmpOp uint8

const (
	opEq cmpOp = iota + 1
	opNe
	opLt
	opLe
	opGt
	opGe
)

func (o cmpOp) String() string {
	return [...]string{"", "=", "<>", "<", "<=", ">", ">="}[o]
}

type token struct {
	kind tokKind
	pos  int    // byte offset of the first character
	text string // field name, unescaped string, decimal number, identifier
	op   cmpOp
}

// lexer splits an expression into tokens on demand.
type lexer struct {
	src string
	off int
}

// describe renders a token for "unexpected X" messages.
func (t token) describe() string {
	switch t.kind {
	case tField:
		return "[" + t.text + "]"
	case tString:
		return quote(t.text)
	case tNumber, tIdent:
		return t.text
	case tOp:
		return `"` + t.op.String() + `"`
	}
	return t.kind.String()
}

// next returns the next token. Errors are *SyntaxError with Col left as a
// byte offset in Col; the parser converts it.
func (l *lexer) next() (token, *SyntaxError) {
	src := l.src
	for l.off < len(src) {
		c := src[l.off]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			l.off++
			continue
		}
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(src[l.off:])
			if unicode.IsSpace(r) {
				l.off += n
				continue
			}
		}
		break
	}
	start := l.off
	if l.off >= len(src) {
		return token{kind: tEOF, pos: start}, nil
	}
	c := src[l.off]
	switch {
	case c == '(':
		l.off++
		return token{kind: tLParen, pos: start}, nil
	case c == ')':
		l.off++
		return token{kind: tRParen, pos: start}, nil
	case c == ',':
		l.off++
		return token{kind: tComma, pos: start}, nil
	case c == '=':
		l.off++
		return token{kind: tOp, pos: start, op: opEq}, nil
	case c == '<':
		l.off++
		if l.off < len(src) && src[l.off] == '>' {
			l.off++
			return token{kind: tOp, pos: start, op: opNe}, nil
		}
		if l.off < len(src) && src[l.off] == '=' {
			l.off++
			return token{kind: tOp, pos: start, op: opLe}, nil
		}
		return token{kind: tOp, pos: start, op: opLt}, nil
	case c == '>':
		l.off++
		if l.off < len(src) && src[l.off] == '=' {
			l.off++
			return token{kind: tOp, pos: start, op: opGe}, nil
		}
		return token{kind: tOp, pos: start, op: opGt}, nil
	case c == '!' && l.off+1 < len(src) && src[l.off+1] == '=':
		return token{}, &SyntaxError{Col: start, Msg: `"!=" is not an operator; use "<>" for "not equal to"`}
	case c == '[':
		end := strings.IndexByte(src[start+1:], ']')
		if end < 0 {
			return token{}, &SyntaxError{Col: start, Msg: `attribute name is not closed: missing "]"`}
		}
		name := src[start+1 : start+1+end]
		l.off = start + 1 + end + 1
		if strings.TrimSpace(name) == "" {
			return token{}, &SyntaxError{Col: start, Msg: "empty attribute name []"}
		}
		return token{kind: tField, pos: start, text: name}, nil
	case c == '"':
		return l.str()
	case c == '&':
		return l.hex()
	case c == '-' || c == '.' || (c >= '0' && c <= '9'):
		return l.number()
	}
	r, n := utf8.DecodeRuneInString(src[l.off:])
	if r == '_' || unicode.IsLetter(r) {
		l.off += n
		for l.off < len(src) {
			r, n := utf8.DecodeRuneInString(src[l.off:])
			if r != '_' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				break
			}
			l.off += n
		}
		return token{kind: tIdent, pos: start, text: src[start:l.off]}, nil
	}
	if r == '\u201c' || r == '\u201d' {
		return token{}, &SyntaxError{Col: start, Msg: "typographic quote " + strconv.QuoteRune(r) + ` is not a string delimiter; use a straight double quote (")`}
	}
	return token{}, &SyntaxError{Col: start, Msg: "unexpected character " + strconv.QuoteRune(r)}
}

// str lexes a string constant. Entra escapes a quote as \" and a backslash
// as \\; a backslash before any other character is kept as is, so regular
// expressions such as "\d+" read naturally.
func (l *lexer) str() (token, *SyntaxError) {
	src := l.src
	start := l.off
	i := start + 1
	// Fast path: no escapes.
	for i < len(src) && src[i] != '"' && src[i] != '\\' {
		i++
	}
	if i < len(src) && src[i] == '"' {
		l.off = i + 1
		return token{kind: tString, pos: start, text: src[start+1 : i]}, nil
	}
	var b strings.Builder
	b.WriteString(src[start+1 : i])
	for i < len(src) {
		c := src[i]
		switch c {
		case '"':
			l.off = i + 1
			return token{kind: tString, pos: start, text: b.String()}, nil
		case '\\':
			if i+1 < len(src) && (src[i+1] == '"' || src[i+1] == '\\') {
				b.WriteByte(src[i+1])
				i += 2
				continue
			}
		}
		b.WriteByte(c)
		i++
	}
	return token{}, &SyntaxError{Col: start, Msg: `string constant is not closed: missing '"' (write \" for a quote inside a string)`}
}

// number lexes -12, 3, 1.5; the token text is the literal as written.
func (l *lexer) number() (token, *SyntaxError) {
	src := l.src
	start := l.off
	i := start
	if src[i] == '-' {
		i++
	}
	digits := 0
	for i < len(src) && src[i] >= '0' && src[i] <= '9' {
		i++
		digits++
	}
	if i < len(src) && src[i] == '.' {
		i++
		for i < len(src) && src[i] >= '0' && src[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return token{}, &SyntaxError{Col: start, Msg: "malformed number " + strconv.Quote(src[start:i])}
	}
	if i < len(src) {
		if r, _ := utf8.DecodeRuneInString(src[i:]); r == '_' || unicode.IsLetter(r) {
			return token{}, &SyntaxError{Col: start, Msg: "malformed number: a letter follows " + strconv.Quote(src[start:i])}
		}
	}
	l.off = i
	return token{kind: tNumber, pos: start, text: src[start:i]}, nil
}

// hex lexes a VBA hexadecimal constant such as &HF7 (Entra's BitAnd example)
// into its decimal string.
func (l *lexer) hex() (token, *SyntaxError) {
	src := l.src
	start := l.off
	i := start + 1
	if i >= len(src) || (src[i] != 'H' && src[i] != 'h') {
		return token{}, &SyntaxError{Col: start, Msg: `unexpected character '&' (hexadecimal numbers are written &HFF; to join strings use Join or Append)`}
	}
	i++
	j := i
	for j < len(src) && isHexDigit(src[j]) {
		j++
	}
	if j == i {
		return token{}, &SyntaxError{Col: start, Msg: "malformed hexadecimal number " + strconv.Quote(src[start:j])}
	}
	n, err := strconv.ParseUint(src[i:j], 16, 64)
	if err != nil || n > 1<<63-1 {
		return token{}, &SyntaxError{Col: start, Msg: "hexadecimal number out of range " + strconv.Quote(src[start:j])}
	}
	l.off = j
	return token{kind: tNumber, pos: start, text: strconv.FormatUint(n, 10)}, nil
}

func isHexDigit(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}
