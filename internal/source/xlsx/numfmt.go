package xlsx

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// fmtKind says how a number format shows a number.
type fmtKind uint8

const (
	fmtNumber   fmtKind = iota // a number (General, currency, percent, elapsed time, ...)
	fmtDate                    // a date without a time of day
	fmtDateTime                // a date and a time of day
	fmtTime                    // a time of day without a date
)

// numFmt is what hrsync needs to know of a number format.
type numFmt struct {
	kind fmtKind
	// pad is the width of a format made only of zeros ("000000"): whole
	// numbers are padded with leading zeros to it. 0 when not such a format.
	pad int
}

// builtinFormats classifies Excel's built-in number formats that show dates
// and times; the others show numbers. 27-36 and 50-58 are the East Asian
// locales' dates and times. 46 ([h]:mm:ss) is a duration, shown as a number.
var builtinFormats = map[int]fmtKind{
	14: fmtDate, 15: fmtDate, 16: fmtDate, 17: fmtDate,
	18: fmtTime, 19: fmtTime, 20: fmtTime, 21: fmtTime,
	22: fmtDateTime,
	27: fmtDate, 28: fmtDate, 29: fmtDate, 30: fmtDate, 31: fmtDate,
	32: fmtTime, 33: fmtTime, 34: fmtTime, 35: fmtTime, 36: fmtDate,
	45: fmtTime, 47: fmtTime,
	50: fmtDate, 51: fmtDate, 52: fmtDate, 53: fmtDate, 54: fmtDate,
	55: fmtTime, 56: fmtTime, 57: fmtDate, 58: fmtDate,
}

// styleFormats returns the number format of each cell style (the cellXfs
// that a cell's s attribute indexes), from the styles excelize read.
func styleFormats(xf *excelize.File) []numFmt {
	ss := xf.Styles
	if ss == nil || ss.CellXfs == nil {
		return nil
	}
	custom := map[int]string{}
	if ss.NumFmts != nil {
		for _, nf := range ss.NumFmts.NumFmt {
			if nf == nil {
				continue
			}
			code := nf.FormatCode
			if nf.FormatCode16 != "" {
				code = nf.FormatCode16
			}
			if _, dup := custom[nf.NumFmtID]; !dup {
				custom[nf.NumFmtID] = code
			}
		}
	}
	byID := map[int]numFmt{}
	out := make([]numFmt, len(ss.CellXfs.Xf))
	for i, x := range ss.CellXfs.Xf {
		id := 0
		if x.NumFmtID != nil {
			id = *x.NumFmtID
		}
		f, ok := byID[id]
		if !ok {
			if code, ok := custom[id]; ok {
				f = classify(code)
			} else {
				f = numFmt{kind: builtinFormats[id]}
			}
			byID[id] = f
		}
		out[i] = f
	}
	return out
}

// classify reads a number format code. Only its first section matters: it
// is the one Excel uses for positive numbers, which dates are.
func classify(code string) numFmt {
	f := fmtScan{code: code, end: len(code)}
	f.scan()
	f.minutesOrMonths()
	return f.result()
}

// fmtScan is what classify has read of a number format code.
type fmtScan struct {
	code                      string
	end                       int // end of the first section
	hasDate, hasTime, elapsed bool
	runs                      []byte // letters of the date and time tokens, one per run ("yyyy" is 'y')
	months                    []bool // per run: an m run that is long enough to be a month name
}

// scan reads the first section of the code, up to its first ';'.
func (f *fmtScan) scan() {
	for i := 0; i < len(f.code); {
		if next, ok := f.skip(i); ok {
			i = next
			continue
		}
		if next, ok := f.keyword(i); ok {
			i = next
			continue
		}
		i = f.run(i)
	}
}

// skip passes over what at i shows no part of the number: quoted text, an
// escaped character, a padding or repeat character, or a bracketed
// condition, colour or locale. A bracket holding only h, m or s marks
// elapsed time. A ';' ends the first section and the scan. ok is false when
// there is none of these at i.
func (f *fmtScan) skip(i int) (next int, ok bool) {
	code := f.code
	switch code[i] {
	case ';':
		f.end = i
		return len(code), true
	case '"':
		j := strings.IndexByte(code[i+1:], '"')
		if j < 0 {
			return len(code), true
		}
		return i + j + 2, true
	case '\\', '_', '*':
		return i + 2, true
	case '[':
		j := strings.IndexByte(code[i:], ']')
		if j < 0 {
			return len(code), true
		}
		if in := strings.ToLower(code[i+1 : i+j]); in != "" && (strings.Trim(in, "h") == "" || strings.Trim(in, "m") == "" || strings.Trim(in, "s") == "") {
			f.elapsed = true
		}
		return i + j + 1, true
	}
	return i, false
}

// keyword passes over General and the AM/PM markers at i, which show a
// time of day. ok is false when there is none of these at i.
func (f *fmtScan) keyword(i int) (next int, ok bool) {
	rest := f.code[i:]
	switch {
	case hasPrefixFold(rest, "general"):
		return i + len("general"), true
	case hasPrefixFold(rest, "am/pm"):
		f.hasTime = true
		return i + len("am/pm"), true
	case hasPrefixFold(rest, "a/p"):
		f.hasTime = true
		return i + len("a/p"), true
	}
	return i, false
}

// run reads the run of one letter (of either case) at i, or a single other
// character, and notes the date and time tokens. An m run is only noted
// here: whether it is minutes or a month depends on its neighbours.
func (f *fmtScan) run(i int) (next int) {
	code := f.code
	c := code[i]
	l := c | 0x20
	n := 1
	for i+n < len(code) && code[i+n]|0x20 == l && isLetter(c) {
		n++
	}
	switch l {
	case 'y', 'd', 'g', 'b':
		f.hasDate = true
		f.runs, f.months = append(f.runs, l), append(f.months, false)
	case 'e':
		// "0.0E+00" is scientific notation; otherwise e is the year of
		// an East Asian era.
		if i+1 < len(code) && (code[i+1] == '+' || code[i+1] == '-') {
			break
		}
		f.hasDate = true
		f.runs, f.months = append(f.runs, l), append(f.months, false)
	case 'h', 's':
		f.hasTime = true
		f.runs, f.months = append(f.runs, l), append(f.months, false)
	case 'm':
		f.runs, f.months = append(f.runs, l), append(f.months, n >= 3)
	}
	return i + n
}

// minutesOrMonths decides the m runs: minutes right after hours or right
// before seconds, else months.
func (f *fmtScan) minutesOrMonths() {
	for k, r := range f.runs {
		if r != 'm' {
			continue
		}
		minute := !f.months[k] && ((k > 0 && f.runs[k-1] == 'h') || (k+1 < len(f.runs) && f.runs[k+1] == 's'))
		if minute {
			f.hasTime = true
		} else {
			f.hasDate = true
		}
	}
}

// result is the format read: elapsed time is a number; a first section
// made only of zeros pads whole numbers.
func (f *fmtScan) result() numFmt {
	switch {
	case f.elapsed:
		return numFmt{kind: fmtNumber}
	case f.hasDate && f.hasTime:
		return numFmt{kind: fmtDateTime}
	case f.hasDate:
		return numFmt{kind: fmtDate}
	case f.hasTime:
		return numFmt{kind: fmtTime}
	}
	if sec := f.code[:f.end]; len(sec) >= 2 && strings.Trim(sec, "0") == "" {
		return numFmt{kind: fmtNumber, pad: len(sec)}
	}
	return numFmt{kind: fmtNumber}
}

func isLetter(c byte) bool { return (c|0x20) >= 'a' && (c|0x20) <= 'z' }

// hasPrefixFold reports whether s starts with the lower-case ASCII prefix,
// without regard to case.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// maxExact is the bound below which whole numbers are exact in a float64
// and within Excel's 15 significant digits.
const maxExact = 1e15

// formatNumber writes v in plain decimal notation, rounded to 15
// significant digits as Excel shows numbers, without trailing zeros.
func formatNumber(v float64, pad int) string {
	if v == math.Trunc(v) && math.Abs(v) < maxExact {
		n := int64(v) // -0 becomes 0
		if pad > 0 {
			return padInt(n, pad)
		}
		return strconv.FormatInt(n, 10)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	var buf [32]byte
	b := strconv.AppendFloat(buf[:0], v, 'e', 14, 64) // [-]d.dddddddddddddde±dd
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	e := strings.IndexByte(string(b), 'e')
	exp, _ := strconv.Atoi(string(b[e+1:]))
	digits := make([]byte, 0, 16)
	digits = append(digits, b[0])
	digits = append(digits, b[2:e]...)
	for len(digits) > 1 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
	}
	out := make([]byte, 0, len(digits)+max(exp, -exp)+3)
	if neg {
		out = append(out, '-')
	}
	switch {
	case exp < 0:
		out = append(out, '0', '.')
		for range -exp - 1 {
			out = append(out, '0')
		}
		out = append(out, digits...)
	case exp+1 >= len(digits):
		out = append(out, digits...)
		for range exp + 1 - len(digits) {
			out = append(out, '0')
		}
	default:
		out = append(out, digits[:exp+1]...)
		out = append(out, '.')
		out = append(out, digits[exp+1:]...)
	}
	return string(out)
}

// padInt writes n with leading zeros to width digits.
func padInt(n int64, width int) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	if len(s) < width {
		s = strings.Repeat("0", width-len(s)) + s
	}
	if neg {
		s = "-" + s
	}
	return s
}

const msPerDay = 24 * 60 * 60 * 1000

var (
	epoch1900 = time.Date(1899, time.December, 30, 0, 0, 0, 0, time.UTC) // serial 0 once past 1900-02-28
	epoch1904 = time.Date(1904, time.January, 1, 0, 0, 0, 0, time.UTC)
	lastDate  = time.Date(9999, time.December, 31, 0, 0, 0, 0, time.UTC)
)

// dateValue turns a date serial under a date or time format into an ISO
// date, an RFC 3339 date-time or a time of day. The serial is rounded to the
// millisecond, as Excel does. On failure it returns a message for the user.
func dateValue(v float64, kind fmtKind, date1904 bool) (value, msg string) {
	if v < 0 || math.IsNaN(v) {
		return "", fmt.Sprintf("the date serial %s is negative: it is not a date (Excel shows ####)", formatNumber(v, 0))
	}
	if v > 4e6 {
		return "", fmt.Sprintf("the date serial %s is after 9999-12-31, the last date Excel knows", formatNumber(v, 0))
	}
	total := int64(math.Round(v * msPerDay))
	days, ms := total/msPerDay, total%msPerDay
	if kind == fmtTime && days == 0 {
		return clock(ms).Format("15:04:05.999"), ""
	}
	var t time.Time
	switch {
	case date1904:
		t = epoch1904.AddDate(0, 0, int(days))
	case days == 0:
		return "", fmt.Sprintf("the date serial %s is not a date: Excel shows it as 1900-01-00", formatNumber(v, 0))
	case days == 60:
		return "", "the date serial 60 is 1900-02-29, a day that never was (Excel keeps it for compatibility with Lotus 1-2-3)"
	case days < 60:
		t = epoch1900.AddDate(0, 0, int(days)+1)
	default:
		t = epoch1900.AddDate(0, 0, int(days))
	}
	if t.After(lastDate) {
		return "", fmt.Sprintf("the date serial %s is after 9999-12-31, the last date Excel knows", formatNumber(v, 0))
	}
	if kind == fmtDate {
		return t.Format("2006-01-02"), ""
	}
	return t.Add(time.Duration(ms) * time.Millisecond).Format("2006-01-02T15:04:05.999Z07:00"), ""
}

// clock is the time of day ms milliseconds after midnight.
func clock(ms int64) time.Time {
	return time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(ms) * time.Millisecond)
}

// isoLayouts are the forms of a date cell (t="d"), ISO 8601 as SpreadsheetML
// writes them.
var isoLayouts = []struct {
	layout string
	kind   fmtKind
}{
	{"2006-01-02T15:04:05.999999999Z07:00", fmtDateTime},
	{"2006-01-02T15:04:05.999999999", fmtDateTime},
	{"2006-01-02T15:04Z07:00", fmtDateTime},
	{"2006-01-02T15:04", fmtDateTime},
	{"2006-01-02", fmtDate},
	{"15:04:05.999999999", fmtTime},
	{"15:04", fmtTime},
}

// isoValue normalises the ISO 8601 text of a date cell. ok is false when the
// text is not ISO 8601.
func isoValue(s string) (string, bool) {
	for _, l := range isoLayouts {
		t, err := time.Parse(l.layout, s)
		if err != nil {
			continue
		}
		switch l.kind {
		case fmtTime:
			return t.Format("15:04:05.999"), true
		case fmtDate:
			return t.Format("2006-01-02"), true
		}
		return t.Format("2006-01-02T15:04:05.999999999Z07:00"), true
	}
	return "", false
}
