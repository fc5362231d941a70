package expr

import (
	"strconv"
	"strings"
	"time"
)

// This file implements the subset of .NET custom date and time format strings
// FormatDateTime needs, in the invariant culture: y M d h H m s f F t z K g,
// quoted literals ('...' and "..."), \ escapes, % prefixes and the standard
// one-letter formats d D f F g G M o O r R s t T u Y.

type fmtKind uint8

const (
	fLit fmtKind = iota
	fYear
	fMonth
	fDay
	fHour12
	fHour24
	fMinute
	fSecond
	fFrac    // f: exactly n digits
	fFracOpt // F: up to n digits, trailing zeros dropped
	fAmPm
	fZone // z, zz, zzz
	fK
	fEra
)

type fmtToken struct {
	kind fmtKind
	n    int
	lit  string
}

// standardFormats maps .NET's one-letter standard formats to their
// invariant-culture patterns.
var standardFormats = map[string]string{
	"d": "MM/dd/yyyy",
	"D": "dddd, dd MMMM yyyy",
	"f": "dddd, dd MMMM yyyy HH:mm",
	"F": "dddd, dd MMMM yyyy HH:mm:ss",
	"g": "MM/dd/yyyy HH:mm",
	"G": "MM/dd/yyyy HH:mm:ss",
	"M": "MMMM dd",
	"m": "MMMM dd",
	"o": "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
	"O": "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
	"r": "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
	"R": "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
	"s": "yyyy'-'MM'-'dd'T'HH':'mm':'ss",
	"t": "HH:mm",
	"T": "HH:mm:ss",
	"u": "yyyy'-'MM'-'dd HH':'mm':'ss'Z'",
	"Y": "yyyy MMMM",
	"y": "yyyy MMMM",
}

// parseDotnetFormat tokenizes a .NET date format; msg is non-empty when the
// format is invalid.
func parseDotnetFormat(f string) (toks []fmtToken, msg string) {
	if f == "" {
		return nil, "empty format"
	}
	if len(f) == 1 {
		std, ok := standardFormats[f]
		if !ok {
			return nil, "unknown standard format " + quote(f)
		}
		f = std
	}
	lit := func(s string) {
		if n := len(toks); n > 0 && toks[n-1].kind == fLit {
			toks[n-1].lit += s
			return
		}
		toks = append(toks, fmtToken{kind: fLit, lit: s})
	}
	for i := 0; i < len(f); {
		c := f[i]
		run := 1
		for i+run < len(f) && f[i+run] == c {
			run++
		}
		if k, most, ok := specifier(c); ok {
			switch {
			case c == 'K':
				run = 1 // each K on its own
			case (c == 'f' || c == 'F') && run > 7:
				return nil, "too many " + string(c) + " specifiers (at most 7)"
			}
			// As .NET, a run is one specifier however long: MMMMM is the
			// month's full name, hhh the hour in two digits.
			n := run
			if most > 0 {
				n = min(run, most)
			}
			toks = append(toks, fmtToken{kind: k, n: n})
			i += run
			continue
		}
		switch c {
		case '\'', '"':
			end := strings.IndexByte(f[i+1:], c)
			if end < 0 {
				return nil, "unterminated quoted text"
			}
			lit(f[i+1 : i+1+end])
			i += end + 2
		case '\\':
			if i+1 >= len(f) {
				return nil, `"\" at the end of the format`
			}
			lit(f[i+1 : i+2])
			i += 2
		case '%':
			i++
		default:
			lit(f[i : i+1])
			i++
		}
	}
	return toks, ""
}

// specifier is the token format letter c stands for, and the longest run
// of it that means more (0: any); false for a letter that is no specifier.
func specifier(c byte) (k fmtKind, most int, ok bool) {
	switch c {
	case 'y':
		return fYear, 0, true
	case 'M':
		return fMonth, 4, true
	case 'd':
		return fDay, 4, true
	case 'h':
		return fHour12, 2, true
	case 'H':
		return fHour24, 2, true
	case 'm':
		return fMinute, 2, true
	case 's':
		return fSecond, 2, true
	case 'f':
		return fFrac, 7, true
	case 'F':
		return fFracOpt, 7, true
	case 't':
		return fAmPm, 2, true
	case 'z':
		return fZone, 3, true
	case 'K':
		return fK, 1, true
	case 'g':
		return fEra, 0, true
	}
	return 0, 0, false
}

var (
	monthNames = [...]string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
	dayNames   = [...]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
)

// dotnetTime is a parsed time and whether the input carried an offset.
type dotnetTime struct {
	t    time.Time
	zone bool
}

// pad writes v (not negative) with leading zeros to width digits, without
// allocating.
func pad(b *strings.Builder, v, width int) {
	var buf [20]byte
	s := strconv.AppendInt(buf[:0], int64(v), 10)
	for i := len(s); i < width; i++ {
		b.WriteByte('0')
	}
	b.Write(s)
}

// formatWithDotnetFormat renders t.
func formatWithDotnetFormat(toks []fmtToken, dt dotnetTime) string {
	var b strings.Builder
	b.Grow(32)
	for _, tk := range toks {
		writeToken(&b, tk, dt)
	}
	return b.String()
}

// writeToken writes one token of a format for dt.
func writeToken(b *strings.Builder, tk fmtToken, dt dotnetTime) {
	t := dt.t
	switch tk.kind {
	case fLit:
		b.WriteString(tk.lit)
	case fYear:
		writeYear(b, t.Year(), tk.n)
	case fMonth:
		writeNamed(b, monthNames[t.Month()-1], int(t.Month()), tk.n)
	case fDay:
		writeNamed(b, dayNames[t.Weekday()], t.Day(), tk.n)
	case fHour12:
		h := t.Hour() % 12
		if h == 0 {
			h = 12
		}
		pad(b, h, tk.n)
	case fHour24:
		pad(b, t.Hour(), tk.n)
	case fMinute:
		pad(b, t.Minute(), tk.n)
	case fSecond:
		pad(b, t.Second(), tk.n)
	case fFrac, fFracOpt:
		writeFraction(b, t.Nanosecond(), tk)
	case fAmPm:
		s := "AM"
		if t.Hour() >= 12 {
			s = "PM"
		}
		b.WriteString(s[:tk.n])
	case fZone:
		_, off := t.Zone()
		writeOffset(b, off, tk.n)
	case fK:
		if dt.zone {
			b.WriteByte('Z')
		}
	case fEra:
		b.WriteString("A.D.")
	}
}

// writeYear writes year for a run of n y: y is the year in the century
// without padding, yy padded to two digits, more the whole year padded to
// n digits.
func writeYear(b *strings.Builder, year, n int) {
	switch n {
	case 1:
		b.WriteString(strconv.Itoa(year % 100))
	case 2:
		pad(b, year%100, 2)
	default:
		pad(b, year, n)
	}
}

// writeNamed writes a month or a day for a run of n M or d: three letters
// are the name's first three, four the full name, fewer the number padded
// to n digits.
func writeNamed(b *strings.Builder, name string, num, n int) {
	switch n {
	case 3:
		b.WriteString(name[:3])
	case 4:
		b.WriteString(name)
	default:
		pad(b, num, n)
	}
}

// writeFraction writes the first tk.n digits of the fraction of a second:
// all of them for f; for F without trailing zeros, and when none is left,
// without the '.' right before, as .NET does.
func writeFraction(b *strings.Builder, nsec int, tk fmtToken) {
	digits := strconv.Itoa(nsec + 1_000_000_000)[1 : 1+tk.n]
	if tk.kind == fFracOpt {
		digits = strings.TrimRight(digits, "0")
		if digits == "" {
			s := b.String()
			if strings.HasSuffix(s, ".") {
				b.Reset()
				b.WriteString(s[:len(s)-1])
			}
		}
	}
	b.WriteString(digits)
}

// writeOffset writes a UTC offset of off seconds for a run of n z: z is the
// signed hours, zz padded to two digits, zzz with the minutes ("+05:30").
func writeOffset(b *strings.Builder, off, n int) {
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	b.WriteByte(sign)
	switch n {
	case 1:
		b.WriteString(strconv.Itoa(off / 3600))
	case 2:
		pad(b, off/3600, 2)
	default:
		pad(b, off/3600, 2)
		b.WriteByte(':')
		pad(b, off%3600/60, 2)
	}
}

// dateParser consumes an input string token by token.
type dateParser struct {
	s   string
	off int
}

func (p *dateParser) digits(minN, maxN int) (int, bool) {
	i := p.off
	for i < len(p.s) && i-p.off < maxN && p.s[i] >= '0' && p.s[i] <= '9' {
		i++
	}
	if i-p.off < minN {
		return 0, false
	}
	if i == p.off {
		return 0, true // none, where none may be (F)
	}
	v, err := strconv.Atoi(p.s[p.off:i])
	p.off = i
	return v, err == nil
}

// word consumes the longest of names (case-insensitive, full or first three
// letters) and returns its index.
func (p *dateParser) word(names []string, abbr bool) (int, bool) {
	rest := p.s[p.off:]
	for i, nm := range names {
		if abbr {
			nm = nm[:3]
		}
		if len(rest) >= len(nm) && strings.EqualFold(rest[:len(nm)], nm) {
			p.off += len(nm)
			return i, true
		}
	}
	return 0, false
}

// offset consumes "+hh", "+h", "+hh:mm", "+hhmm" or "Z".
func (p *dateParser) offset() (int, bool) {
	if p.off < len(p.s) && p.s[p.off] == 'Z' {
		p.off++
		return 0, true
	}
	if p.off >= len(p.s) || (p.s[p.off] != '+' && p.s[p.off] != '-') {
		return 0, false
	}
	sign := 1
	if p.s[p.off] == '-' {
		sign = -1
	}
	p.off++
	h, ok := p.digits(1, 2)
	if !ok || h > 14 {
		return 0, false
	}
	m := 0
	if p.off < len(p.s) && p.s[p.off] == ':' {
		p.off++
		if m, ok = p.digits(2, 2); !ok {
			return 0, false
		}
	} else if p.off+1 < len(p.s) && p.s[p.off] >= '0' && p.s[p.off] <= '9' {
		if m, ok = p.digits(2, 2); !ok {
			return 0, false
		}
	}
	if m > 59 {
		return 0, false
	}
	return sign * (h*3600 + m*60), true
}

// parseWithDotnetFormat reads s in the given format. Parts the format does
// not have default to 0001-01-01 00:00:00.
func parseWithDotnetFormat(toks []fmtToken, s string) (dotnetTime, string) {
	p := dateParser{s: s}
	f := dateFields{year: 1, month: 1, day: 1, ampm: -1}
	for i := 0; i < len(toks); i++ {
		tk := toks[i]
		at := p.off
		if tk.kind == fLit {
			// As .NET: a "." just before F is optional, and without it
			// there is no fraction.
			lit, optDot := tk.lit, strings.HasSuffix(tk.lit, ".") && i+1 < len(toks) && toks[i+1].kind == fFracOpt
			if optDot {
				lit = lit[:len(lit)-1]
			}
			if !strings.HasPrefix(s[p.off:], lit) {
				return dotnetTime{}, "expected " + quote(tk.lit) + " at position " + strconv.Itoa(at+1)
			}
			p.off += len(lit)
			if optDot {
				if strings.HasPrefix(s[p.off:], ".") {
					p.off++
				} else {
					i++ // no fraction
				}
			}
			continue
		}
		if !p.field(tk, &f) {
			return dotnetTime{}, "unexpected " + describeAt(s, at)
		}
	}
	if p.off < len(s) {
		return dotnetTime{}, "unexpected " + describeAt(s, p.off)
	}
	return f.time()
}

// dateFields are the parts of a date and time read so far.
type dateFields struct {
	year, month, day        int
	hour, minute, sec, nsec int
	ampm                    int  // 0 AM, 1 PM, -1 none
	hour12                  bool // the hour was read with h
	zone                    int  // UTC offset in seconds
	hasZone                 bool
}

// field reads the part of the input that tk (not a literal) stands for
// into f. It reports whether there was one; K and g are optional.
func (p *dateParser) field(tk fmtToken, f *dateFields) (ok bool) {
	ok = true
	switch tk.kind {
	case fYear:
		f.year, ok = p.year(tk.n)
	case fMonth:
		f.month, ok = p.month(tk.n)
	case fDay:
		switch tk.n {
		case 1:
			f.day, ok = p.digits(1, 2)
		case 2:
			f.day, ok = p.digits(2, 2)
		default:
			_, ok = p.word(dayNames[:], tk.n == 3)
		}
	case fHour12, fHour24:
		f.hour, ok = p.digits(tk.n, 2)
		f.hour12 = f.hour12 || tk.kind == fHour12
	case fMinute:
		f.minute, ok = p.digits(tk.n, 2)
	case fSecond:
		f.sec, ok = p.digits(tk.n, 2)
	case fFrac, fFracOpt:
		ok = p.fraction(tk, &f.nsec)
	case fAmPm:
		ok = p.ampm(tk.n, &f.ampm)
	case fZone:
		f.zone, ok = p.offset()
		f.hasZone = f.hasZone || ok
	case fK:
		if z, found := p.offset(); found {
			f.zone, f.hasZone = z, true
		}
	case fEra:
		p.era()
	}
	return ok
}

// year reads a year for a run of n y. One or two digits are a year from
// 1950 to 2049.
func (p *dateParser) year(n int) (v int, ok bool) {
	switch n {
	case 1:
		v, ok = p.digits(1, 2)
	case 2:
		v, ok = p.digits(2, 2)
	default:
		v, ok = p.digits(n, max(n, 4))
	}
	if ok && n <= 2 {
		if v < 50 {
			v += 2000
		} else {
			v += 1900
		}
	}
	return v, ok
}

// month reads a month for a run of n M: its number, or its name or the
// name's first three letters.
func (p *dateParser) month(n int) (v int, ok bool) {
	switch n {
	case 1:
		return p.digits(1, 2)
	case 2:
		return p.digits(2, 2)
	}
	v, ok = p.word(monthNames[:], n == 3)
	return v + 1, ok
}

// fraction reads the fraction of a second of an f or F token into nsec,
// when there is one: f needs all of its digits, F none of them.
func (p *dateParser) fraction(tk fmtToken, nsec *int) (ok bool) {
	start := p.off
	minN := tk.n
	if tk.kind == fFracOpt {
		minN = 0
	}
	if _, ok = p.digits(minN, tk.n); ok {
		frac := p.s[start:p.off] + "000000000"
		*nsec, _ = strconv.Atoi(frac[:9])
	}
	return ok
}

// ampm reads the AM/PM designator of a run of n t (n letters of it, in
// either case) into ampm: 0 for AM, 1 for PM.
func (p *dateParser) ampm(n int, ampm *int) (ok bool) {
	rest := strings.ToUpper(p.s[p.off:])
	switch {
	case n == 2 && strings.HasPrefix(rest, "AM"), n == 1 && strings.HasPrefix(rest, "A"):
		*ampm = 0
	case n == 2 && strings.HasPrefix(rest, "PM"), n == 1 && strings.HasPrefix(rest, "P"):
		*ampm = 1
	default:
		return false
	}
	p.off += n
	return true
}

// era consumes the era, A.D. or AD in either case, if there is one.
func (p *dateParser) era() {
	for _, era := range []string{"A.D.", "AD"} {
		if strings.HasPrefix(strings.ToUpper(p.s[p.off:]), era) {
			p.off += len(era)
			break
		}
	}
}

// time checks the fields and returns the time they give, in UTC; msg says
// what is wrong with them.
func (f *dateFields) time() (dt dotnetTime, msg string) {
	hour := f.hour
	if f.ampm >= 0 || f.hour12 {
		if hour < 0 || hour > 12 || (f.hour12 && hour == 0) {
			return dotnetTime{}, "hour " + strconv.Itoa(hour) + " is out of range"
		}
		if f.ampm == 1 && hour < 12 {
			hour += 12
		} else if f.ampm == 0 && hour == 12 {
			hour = 0
		}
	}
	if f.year < 1 || f.year > 9999 {
		return dotnetTime{}, "year " + strconv.Itoa(f.year) + " is out of range (1 to 9999)"
	}
	if f.month < 1 || f.month > 12 || f.day < 1 || f.day > 31 || hour > 23 || f.minute > 59 || f.sec > 59 {
		return dotnetTime{}, "date or time out of range"
	}
	loc := time.UTC
	if f.hasZone {
		loc = time.FixedZone("", f.zone)
	}
	t := time.Date(f.year, time.Month(f.month), f.day, hour, f.minute, f.sec, f.nsec, loc)
	if t.Day() != f.day {
		return dotnetTime{}, "day " + strconv.Itoa(f.day) + " is out of range for the month"
	}
	return dotnetTime{t: t.UTC(), zone: f.hasZone}, ""
}

func describeAt(s string, off int) string {
	if off >= len(s) {
		return "end of input"
	}
	end := min(len(s), off+10)
	return quote(s[off:end]) + " at position " + strconv.Itoa(off+1)
}
