package expr

import (
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/language"
)

// This file holds the text functions. Positions and lengths count
// characters (Unicode code points); .NET counts UTF-16 code units, which
// differs only for characters outside the Basic Multilingual Plane.

// runePrefix returns the first n characters of s.
func runePrefix(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}

// runeSkip drops the first n characters of s.
func runeSkip(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[i:]
		}
		n--
	}
	return ""
}

// Left(string, numChars): the first numChars characters. 0 gives "", a
// negative number the whole string, null "".
func fnLeft(e evaluator, n *node) (Value, error) {
	s, _, err := e.str(n, 0)
	if err != nil {
		return Value{}, err
	}
	k, err := e.int(n, 1, false, 0)
	if err != nil {
		return Value{}, err
	}
	if k < 0 {
		return Str(s), nil
	}
	return Str(runePrefix(s, k)), nil
}

// Mid(source, start, length): length characters from position start
// (1-based), fewer at the end of source; null gives "". A start below 1 or
// a negative length is an error.
func fnMid(e evaluator, n *node) (Value, error) {
	s, _, err := e.str(n, 0)
	if err != nil {
		return Value{}, err
	}
	start, err := e.int(n, 1, false, 0)
	if err != nil {
		return Value{}, err
	}
	length, err := e.int(n, 2, false, 0)
	if err != nil {
		return Value{}, err
	}
	if start < 1 {
		return Value{}, e.errf(n, "start %d is out of range: the first character is 1", start)
	}
	if length < 0 {
		return Value{}, e.errf(n, "length %d must not be negative", length)
	}
	return Str(runePrefix(runeSkip(s, start-1), length)), nil
}

// Word(string, wordNumber, delimiters): the wordNumber-th word (1-based) of
// string, words being separated by any of the characters in delimiters
// (runs of delimiters separate once). "" when there is no such word.
func fnWord(e evaluator, n *node) (Value, error) {
	s, _, err := e.str(n, 0)
	if err != nil {
		return Value{}, err
	}
	k, err := e.int(n, 1, false, 0)
	if err != nil {
		return Value{}, err
	}
	delims, _, err := e.str(n, 2)
	if err != nil {
		return Value{}, err
	}
	if k < 1 || s == "" {
		return Str(""), nil
	}
	words := strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(delims, r) })
	if k > len(words) {
		return Str(""), nil
	}
	return Str(words[k-1]), nil
}

func checkInStr(n *node) *SyntaxError {
	if len(n.args) > 3 {
		if s, ok := n.args[3].constString(); ok {
			if _, ok := compareMode(s); !ok {
				return &SyntaxError{Col: n.args[3].pos, Func: n.fn.name, Msg: "compareType must be vbBinaryCompare or vbTextCompare, got " + quote(s)}
			}
		}
	}
	return nil
}

// compareMode reads InStr's compareType: true for text (case-insensitive).
func compareMode(s string) (text, ok bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "0", "vbbinarycompare":
		return false, true
	case "1", "vbtextcompare":
		return true, true
	}
	return false, false
}

// InStr(value1, value2, start, compareType): the 1-based position of the
// first occurrence of value2 in value1 at or after start (default 1), or 0.
// compareType vbTextCompare ignores case. An empty value2 gives start.
func fnInStr(e evaluator, n *node) (Value, error) {
	s, _, err := e.str(n, 0)
	if err != nil {
		return Value{}, err
	}
	sub, _, err := e.str(n, 1)
	if err != nil {
		return Value{}, err
	}
	start, err := e.int(n, 2, true, 1)
	if err != nil {
		return Value{}, err
	}
	if start < 1 {
		return Value{}, e.errf(n, "start %d is out of range: the first character is 1", start)
	}
	mode, _, err := e.str(n, 3)
	if err != nil {
		return Value{}, err
	}
	text, ok := compareMode(mode)
	if !ok {
		return Value{}, e.errf(n, "compareType must be vbBinaryCompare or vbTextCompare, got %s", quote(mode))
	}
	hay, needle := []rune(s), []rune(sub)
	if start > len(hay)+1 {
		return Str("0"), nil
	}
	if len(needle) == 0 {
		return Str(strconv.Itoa(start)), nil
	}
	if text {
		for i, r := range hay {
			hay[i] = unicode.ToLower(r)
		}
		for i, r := range needle {
			needle[i] = unicode.ToLower(r)
		}
	}
outer:
	for i := start - 1; i+len(needle) <= len(hay); i++ {
		for j, r := range needle {
			if hay[i+j] != r {
				continue outer
			}
		}
		return Str(strconv.Itoa(i + 1)), nil
	}
	return Str("0"), nil
}

// defaultWordSeparator reports whether r separates words for PCase without
// wordSeparators, following .NET TextInfo.ToTitleCase: white space,
// control, format, punctuation and symbol characters. The ASCII apostrophe
// belongs to the word, as in .NET ("O'BRIEN" gives "O'brien").
func defaultWordSeparator(r rune) bool {
	if r < utf8.RuneSelf {
		return asciiWordSeparators[r]
	}
	return isWordSeparator(r)
}

func isWordSeparator(r rune) bool {
	if r == '\'' {
		return false
	}
	return unicode.IsSpace(r) || unicode.In(r, unicode.Cc, unicode.Cf, unicode.P, unicode.S)
}

// asciiWordSeparators is isWordSeparator for ASCII, looked up once.
var asciiWordSeparators = func() (t [utf8.RuneSelf]bool) {
	for r := range t {
		t[r] = isWordSeparator(rune(r))
	}
	return t
}()

// PCase(source, wordSeparators): the first letter of every word in upper case
// and the rest in lower case.
func fnPCase(e evaluator, n *node) (Value, error) {
	s, isNull, err := e.str(n, 0)
	if err != nil || isNull {
		return Value{}, err
	}
	isSep := defaultWordSeparator
	if n.present(1) {
		seps, _, err := e.str(n, 1)
		if err != nil {
			return Value{}, err
		}
		isSep = func(r rune) bool { return strings.ContainsRune(seps, r) }
	}
	var b strings.Builder
	b.Grow(len(s))
	atStart := true
	for _, r := range s {
		switch {
		case isSep(r):
			atStart = true
		case atStart:
			r = unicode.ToTitle(r)
			atStart = false
		default:
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return Str(b.String()), nil
}

// checkCulture validates a constant culture name of ToLower/ToUpper.
func checkCulture(n *node) *SyntaxError {
	if len(n.args) > 1 {
		if s, ok := n.args[1].constString(); ok && s != "" {
			if _, err := language.Parse(s); err != nil {
				return &SyntaxError{Col: n.args[1].pos, Func: n.fn.name, Msg: "unknown culture " + quote(s) + " (expected a name such as en-US or tr-TR)"}
			}
		}
	}
	return nil
}

// changeCase implements ToLower and ToUpper: invariant culture unless a
// culture is given; null stays null.
func changeCase(e evaluator, n *node, upper bool) (Value, error) {
	s, isNull, err := e.str(n, 0)
	if err != nil || isNull {
		return Value{}, err
	}
	culture := ""
	if n.present(1) {
		if culture, _, err = e.str(n, 1); err != nil {
			return Value{}, err
		}
	}
	if culture == "" {
		if upper {
			return Str(strings.ToUpper(s)), nil
		}
		return Str(strings.ToLower(s)), nil
	}
	tag, err := language.Parse(culture)
	if err != nil {
		return Value{}, e.errf(n, "unknown culture %s", quote(culture))
	}
	if upper {
		return Str(cases.Upper(tag).String(s)), nil
	}
	return Str(cases.Lower(tag).String(s)), nil
}

// ToLower(source, culture): source in lower case.
func fnToLower(e evaluator, n *node) (Value, error) { return changeCase(e, n, false) }

// ToUpper(source, culture): source in upper case.
func fnToUpper(e evaluator, n *node) (Value, error) { return changeCase(e, n, true) }

// StripSpaces(source): source without space (U+0020) characters; other white
// space is kept, as documented. Null stays null.
func fnStripSpaces(e evaluator, n *node) (Value, error) {
	v, err := e.arg(n, 0)
	if err != nil || v.kind == KindNull {
		return Value{}, err
	}
	s := v.String()
	if strings.IndexByte(s, ' ') < 0 {
		return Str(s), nil
	}
	return Str(strings.ReplaceAll(s, " ", "")), nil
}

// NormalizeDiacritics(source): see normalizeDiacritics. Null stays null.
func fnNormalizeDiacritics(e evaluator, n *node) (Value, error) {
	v, err := e.arg(n, 0)
	if err != nil || v.kind == KindNull {
		return Value{}, err
	}
	return Str(normalizeDiacritics(v.String())), nil
}

// ConvertToBase64(source): base64 of the UTF-16LE ("Unicode") encoding of
// source. Null stays null.
func fnConvertToBase64(e evaluator, n *node) (Value, error) {
	s, isNull, err := e.str(n, 0)
	if err != nil || isNull {
		return Value{}, err
	}
	units := utf16.Encode([]rune(s))
	buf := make([]byte, 2*len(units))
	for i, u := range units {
		buf[2*i] = byte(u)
		buf[2*i+1] = byte(u >> 8)
	}
	return Str(base64.StdEncoding.EncodeToString(buf)), nil
}

// ConvertToUTF8Hex(source): the UTF-8 bytes of source in upper-case
// hexadecimal. Null stays null.
func fnConvertToUTF8Hex(e evaluator, n *node) (Value, error) {
	s, isNull, err := e.str(n, 0)
	if err != nil || isNull {
		return Value{}, err
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return Str(strings.ToUpper(hex.EncodeToString([]byte(s)))), nil
}
