package expr

import (
	"encoding/binary"
	"encoding/hex"
	"io"
	"strconv"
	"strings"
)

// randIntn returns a uniform random number in [0, n) read from r.
func randIntn(r io.Reader, n int) (int, error) {
	if n <= 1 {
		return 0, nil
	}
	limit := uint32(1<<32 - (1<<32)%uint64(n))
	var b [4]byte
	for {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return 0, err
		}
		if x := binary.LittleEndian.Uint32(b[:]); limit == 0 || x < limit {
			return int(x % uint32(n)), nil
		}
	}
}

// Guid(): a new random (version 4) GUID, e.g.
// "00aa00aa-bb11-4c22-9d33-44ee44ee44ee", from Context.Rand.
func fnGuid(e evaluator, n *node) (Value, error) {
	var u [16]byte
	if _, err := io.ReadFull(e.ctx.rand(), u[:]); err != nil {
		return Value{}, e.errf(n, "reading randomness: %v", err)
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return Str(string(b[:])), nil
}

// The character classes of RandomString: digits, the special characters of
// the Windows password complexity rules, capitals and lower-case letters.
var randomClasses = [4]string{
	"0123456789",
	"~!@#$%^&*_-+=`|\\(){}[]:;\"'<>,.?/",
	"ABCDEFGHIJKLMNOPQRSTUVWXYZ",
	"abcdefghijklmnopqrstuvwxyz",
}

// maxRandomString is RandomString's documented maximum length.
const maxRandomString = 256

func checkRandomString(n *node) *SyntaxError {
	vals := [5]int{}
	for i := range vals {
		s, ok := n.args[i].constString()
		if !ok {
			return nil
		}
		vals[i], _ = parseInt(s)
	}
	if msg := randomStringLimits(vals); msg != "" {
		return &SyntaxError{Col: n.pos, Func: n.fn.name, Msg: msg}
	}
	return nil
}

func randomStringLimits(v [5]int) string {
	if v[0] < 1 || v[0] > maxRandomString {
		return "length must be between 1 and " + strconv.Itoa(maxRandomString)
	}
	sum := 0
	for _, m := range v[1:] {
		if m < 0 {
			return "minimum counts must not be negative"
		}
		sum += m
	}
	if sum > v[0] {
		return "length " + strconv.Itoa(v[0]) + " is less than the sum of the minimum counts " + strconv.Itoa(sum)
	}
	return ""
}

// RandomString(length, minimumNumbers, minimumSpecialCharacters,
// minimumCapital, minimumLowerCase, charactersToAvoid): a random string with
// at least the given number of characters of each class, none of
// charactersToAvoid. The remaining characters are drawn from the classes
// with a non-zero minimum (from all classes when every minimum is 0), so
// RandomString(6,3,0,0,3) gives digits and lower-case letters only.
func fnRandomString(e evaluator, n *node) (Value, error) {
	var v [5]int
	for i := range v {
		x, err := e.int(n, i, false, 0)
		if err != nil {
			return Value{}, err
		}
		v[i] = x
	}
	if msg := randomStringLimits(v); msg != "" {
		return Value{}, e.errf(n, "%s", msg)
	}
	avoid, _, err := e.str(n, 5)
	if err != nil {
		return Value{}, err
	}
	var classes [4]string
	filler := ""
	for i, c := range randomClasses {
		classes[i] = strings.Map(func(r rune) rune {
			if strings.ContainsRune(avoid, r) {
				return -1
			}
			return r
		}, c)
		if v[i+1] > 0 {
			if classes[i] == "" {
				return Value{}, e.errf(n, "charactersToAvoid excludes every character of a required class")
			}
			filler += classes[i]
		}
	}
	if filler == "" {
		filler = strings.Join(classes[:], "")
	}
	if filler == "" {
		return Value{}, e.errf(n, "charactersToAvoid excludes every character")
	}
	r := e.ctx.rand()
	out := make([]byte, 0, v[0])
	pick := func(set string) error {
		k, err := randIntn(r, len(set))
		if err != nil {
			return err
		}
		out = append(out, set[k])
		return nil
	}
	for i, c := range classes {
		for j := 0; j < v[i+1]; j++ {
			if err := pick(c); err != nil {
				return Value{}, e.errf(n, "reading randomness: %v", err)
			}
		}
	}
	for len(out) < v[0] {
		if err := pick(filler); err != nil {
			return Value{}, e.errf(n, "reading randomness: %v", err)
		}
	}
	for i := len(out) - 1; i > 0; i-- {
		k, err := randIntn(r, i+1)
		if err != nil {
			return Value{}, e.errf(n, "reading randomness: %v", err)
		}
		out[i], out[k] = out[k], out[i]
	}
	return Str(string(out)), nil
}
