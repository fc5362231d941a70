package expr

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// normalizeDiacritics implements NormalizeDiacritics following the character
// table in Microsoft's reference:
//
//   - combining diacritical marks (U+0300..U+036F: acute, grave, circumflex,
//     tilde, macron, diaeresis, ring, caron, ogonek, cedilla, dot, line
//     below, ...) are removed from Latin letters, in precomposed (é) and
//     decomposed (e + U+0301) form alike: José -> Jose, Zoë -> Zoe,
//     Müller -> Muller, Ā̂ -> A;
//   - the letters the table lists that have no decomposition are replaced:
//     æ -> ae, Æ -> AE, ø -> oe, Ø -> OE, ß -> ss, ł -> l, Ł -> L, ı -> i;
//     œ -> oe and Œ -> OE too (the table lists œ̄ -> oe).
//
// Letters of other scripts keep their marks (Cyrillic й, Greek ά), and
// letters outside the table without a decomposition (đ, ð, þ, ħ) are kept,
// as in Entra. ASCII input is returned without allocating.
func normalizeDiacritics(s string) string {
	i := 0
	for i < len(s) && s[i] < utf8.RuneSelf {
		i++
	}
	if i == len(s) {
		return s
	}
	// Fast path: ASCII and precomposed Latin letters only (the usual names),
	// through a table precomputed by the general path below.
	for _, r := range s[i:] {
		if r >= utf8.RuneSelf && (r < latinFoldFirst || r > latinFoldLast) {
			return normalizeDiacriticsNFD(s)
		}
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for _, r := range s[i:] {
		if r < utf8.RuneSelf {
			b.WriteByte(byte(r))
		} else {
			b.WriteString(latinFolds[r-latinFoldFirst])
		}
	}
	return b.String()
}

// The precomposed letters of Latin-1 Supplement, Latin Extended-A and
// Latin Extended-B, folded once.
const (
	latinFoldFirst = 0x00C0
	latinFoldLast  = 0x024F
)

var latinFolds = func() (t [latinFoldLast - latinFoldFirst + 1]string) {
	for r := rune(latinFoldFirst); r <= latinFoldLast; r++ {
		t[r-latinFoldFirst] = normalizeDiacriticsNFD(string(r))
	}
	return t
}()

// normalizeDiacriticsNFD is the general path: decompose, drop the marks of
// Latin letters, fold the special letters, recompose.
func normalizeDiacriticsNFD(s string) string {
	d := norm.NFD.String(s)
	var b strings.Builder
	b.Grow(len(d))
	latin := false // whether the last base character is a Latin letter
	changed := false
	for _, r := range d {
		if r >= 0x0300 && r <= 0x036F {
			if latin {
				changed = true
				continue
			}
			b.WriteRune(r)
			continue
		}
		latin = r < utf8.RuneSelf && ('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') ||
			r >= utf8.RuneSelf && unicode.Is(unicode.Latin, r)
		if rep, ok := letterFolds[r]; ok {
			b.WriteString(rep)
			changed = true
			continue
		}
		b.WriteRune(r)
	}
	if !changed {
		return s
	}
	return norm.NFC.String(b.String())
}

// letterFolds maps the letters of Microsoft's NormalizeDiacritics table that
// Unicode does not decompose.
var letterFolds = map[rune]string{
	'æ': "ae", 'Æ': "AE",
	'ø': "oe", 'Ø': "OE",
	'œ': "oe", 'Œ': "OE",
	'ß': "ss",
	'ł': "l", 'Ł': "L",
	'ı': "i",
}
