package expr

import (
	"strconv"
	"strings"
	"time"
)

// entraDateLayout is Entra's rendering of a date-time, .NET's
// "M/d/yyyy h:mm:ss tt" in the invariant culture.
const entraDateLayout = "1/2/2006 3:04:05 PM"

func formatEntraDate(t time.Time) string { return t.UTC().Format(entraDateLayout) }

// The forms CDate and the date functions accept, by family. A value
// without an offset is taken as UTC. Fractional seconds are accepted after
// the seconds in every layout. parseDate picks the family from the shape
// of the input, so that a date is not tried against layouts it cannot
// match (every failed time.Parse allocates an error).
var (
	isoDateLayouts  = []string{"2006-01-02"}
	isoZoneLayouts  = []string{"2006-01-02Z07:00"} // Workday: 2020-03-16-07:00
	isoTLayouts     = []string{"2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05", "2006-01-02T15:04Z07:00", "2006-01-02T15:04"}
	isoSpaceLayouts = []string{"2006-01-02 15:04:05Z07:00", "2006-01-02 15:04:05", "2006-01-02 15:04Z07:00", "2006-01-02 15:04"}
	usDateLayouts   = []string{"1/2/2006"}
	usTimeLayouts   = []string{
		"1/2/2006 3:04:05 PM", // Entra's own rendering (Now, CDate)
		"1/2/2006 3:04 PM",
		"1/2/2006 15:04:05",
		"1/2/2006 15:04",
	}
	// LDAP generalized time (RFC 4517): UTC (Z) or an offset as +hhmm
	// (+hh:mm too), fractional seconds allowed.
	ldapLayouts = []string{"20060102150405Z07:00", "20060102150405Z0700", "20060102150405"}
)

// dateLayouts are all the forms, for messages and tests.
var dateLayouts = func() []string {
	var all []string
	for _, f := range [][]string{isoTLayouts, isoSpaceLayouts, isoZoneLayouts, isoDateLayouts, usTimeLayouts, usDateLayouts, ldapLayouts} {
		all = append(all, f...)
	}
	return all
}()

// dateLayoutsFor returns the family of layouts s can match: the layouts of
// the other families need characters s does not have where they need them.
func dateLayoutsFor(s string) []string {
	switch {
	case len(s) >= 10 && s[4] == '-' && s[7] == '-':
		switch {
		case len(s) == 10:
			return isoDateLayouts
		case s[10] == 'T':
			return isoTLayouts
		case s[10] == ' ':
			return isoSpaceLayouts
		}
		return isoZoneLayouts
	case strings.IndexByte(s, '/') >= 0:
		if strings.IndexByte(s, ' ') < 0 {
			return usDateLayouts
		}
		return usTimeLayouts
	}
	return ldapLayouts
}

// parseDate reads a date-time string in one of dateLayouts, within the
// years .NET's DateTime can hold (1 to 9999).
func parseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if len(s) < 8 || len(s) > 40 {
		return time.Time{}, false
	}
	for _, l := range dateLayoutsFor(s) {
		if t, err := time.Parse(l, s); err == nil {
			t = t.UTC()
			return t, inDateRange(t)
		}
	}
	return time.Time{}, false
}

// dateArg evaluates argument i as a date-time: a date value or a string
// parseDate accepts. ok is false for null.
func (e evaluator) dateArg(n *node, i int) (t time.Time, ok bool, err error) {
	v, err := e.arg(n, i)
	if err != nil || v.kind == KindNull {
		return time.Time{}, false, err
	}
	if t, ok := asTime(v); ok {
		return t, true, nil
	}
	return time.Time{}, false, e.errf(n, "%s %s is not a date-time", n.fn.param(i), quote(v.String()))
}

// checkDateConst rejects a constant argument that is not a date-time.
func checkDateConst(i int) func(n *node) *SyntaxError {
	return func(n *node) *SyntaxError {
		if i < len(n.args) {
			if s, ok := n.args[i].constString(); ok {
				if _, ok := parseDate(s); !ok {
					return &SyntaxError{Col: n.args[i].pos, Func: n.fn.name, Msg: quote(s) + " is not a date-time (e.g. 2021-06-30, 2021-06-30+08:00, 2009-06-15T01:45:30-07:00, 6/30/2021 4:00:00 PM)"}
				}
			}
		}
		return nil
	}
}

// CDate(expression): the date-time a string represents, in UTC. Null stays
// null.
func fnCDate(e evaluator, n *node) (Value, error) {
	t, ok, err := e.dateArg(n, 0)
	if err != nil || !ok {
		return Value{}, err
	}
	return Date(t), nil
}

// Now(): the current UTC date-time from Context.Now.
func fnNow(e evaluator, n *node) (Value, error) {
	return Date(e.ctx.now().Truncate(time.Second)), nil
}

// intervals are the interval names of DateAdd and DateDiff. Microsoft
// documents yyyy, m, d, ww, h, n, s; VBA's q (quarter), y (day of year) and w
// (weekday) are accepted too.
var intervals = map[string]bool{"yyyy": true, "q": true, "m": true, "y": true, "d": true, "w": true, "ww": true, "h": true, "n": true, "s": true}

func checkInterval(add bool) func(n *node) *SyntaxError {
	return func(n *node) *SyntaxError {
		if s, ok := n.args[0].constString(); ok && !intervals[strings.ToLower(s)] {
			return &SyntaxError{Col: n.args[0].pos, Func: n.fn.name, Msg: "interval must be one of yyyy, m, d, ww, h, n, s; got " + quote(s)}
		}
		if add {
			return checkDateConst(2)(n)
		}
		if msg := checkDateConst(1)(n); msg != nil {
			return msg
		}
		return checkDateConst(2)(n)
	}
}

// addMonths adds months like .NET DateTime.AddMonths: the day is clamped to
// the end of the target month (Jan 31 + 1 month = Feb 28/29).
func addMonths(t time.Time, months int) time.Time {
	y, m, d := t.Date()
	total := int(m) - 1 + months
	y += total / 12
	total %= 12
	if total < 0 {
		total += 12
		y--
	}
	nm := time.Month(total + 1)
	if last := time.Date(y, nm+1, 0, 0, 0, 0, 0, time.UTC).Day(); d > last {
		d = last
	}
	return time.Date(y, nm, d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

// DateAdd(interval, value, dateTime): dateTime plus value intervals.
func fnDateAdd(e evaluator, n *node) (Value, error) {
	iv, _, err := e.str(n, 0)
	if err != nil {
		return Value{}, err
	}
	k, err := e.int(n, 1, false, 0)
	if err != nil {
		return Value{}, err
	}
	t, ok, err := e.dateArg(n, 2)
	if err != nil || !ok {
		return Value{}, err
	}
	lim, known := dateAddLimits[strings.ToLower(iv)]
	if known && (k > lim || k < -lim) {
		return Value{}, e.errf(n, "adding %d %s to %s leaves the range of dates (years 1 to 9999)", k, iv, formatEntraDate(t))
	}
	switch strings.ToLower(iv) {
	case "yyyy":
		t = addMonths(t, 12*k)
	case "q":
		t = addMonths(t, 3*k)
	case "m":
		t = addMonths(t, k)
	case "y", "d", "w":
		t = t.AddDate(0, 0, k)
	case "ww":
		t = t.AddDate(0, 0, 7*k)
	case "h":
		t = t.Add(time.Duration(k) * time.Hour)
	case "n":
		t = t.Add(time.Duration(k) * time.Minute)
	case "s":
		t = t.Add(time.Duration(k) * time.Second)
	default:
		return Value{}, e.errf(n, "interval must be one of yyyy, m, d, ww, h, n, s; got %s", quote(iv))
	}
	if !inDateRange(t) {
		return Value{}, e.errf(n, "adding %d %s gives a date outside years 1 to 9999", k, iv)
	}
	return Date(t), nil
}

// dateAddLimits bounds DateAdd's value per interval: anything larger leaves
// .NET's date range (years 1 to 9999) from any start, and would overflow
// the arithmetic.
var dateAddLimits = map[string]int{
	"yyyy": 10_000, "q": 40_000, "m": 120_000,
	"y": 3_660_000, "d": 3_660_000, "w": 3_660_000, "ww": 523_000,
	"h": 87_840_000, "n": 5_270_400_000, "s": 316_224_000_000,
}

// inDateRange reports whether t is a date .NET's DateTime can hold.
func inDateRange(t time.Time) bool {
	y := t.Year()
	return y >= 1 && y <= 9999
}

// ticks returns t in .NET ticks (100 ns since 0001-01-01 UTC).
func ticks(t time.Time) int64 {
	return (t.Unix()+62135596800)*10_000_000 + int64(t.Nanosecond())/100
}

const (
	ticksPerSecond = 10_000_000
	ticksPerDay    = 86400 * ticksPerSecond
)

// DateDiff(interval, date1, date2): date2 - date1 in whole intervals, as
// Visual Basic's DateDiff computes it: calendar differences for yyyy, q and
// m; the elapsed time truncated toward zero for d, h, n, s; whole weeks
// between the preceding Sundays for ww.
func fnDateDiff(e evaluator, n *node) (Value, error) {
	iv, _, err := e.str(n, 0)
	if err != nil {
		return Value{}, err
	}
	t1, ok1, err := e.dateArg(n, 1)
	if err != nil {
		return Value{}, err
	}
	t2, ok2, err := e.dateArg(n, 2)
	if err != nil {
		return Value{}, err
	}
	if !ok1 || !ok2 {
		return Value{}, nil
	}
	d := ticks(t2) - ticks(t1)
	var r int64
	switch strings.ToLower(iv) {
	case "yyyy":
		r = int64(t2.Year() - t1.Year())
	case "q":
		r = int64((t2.Year()-t1.Year())*4 + (int(t2.Month())-1)/3 - (int(t1.Month())-1)/3)
	case "m":
		r = int64((t2.Year()-t1.Year())*12 + int(t2.Month()) - int(t1.Month()))
	case "y", "d":
		r = d / ticksPerDay
	case "w":
		r = d / ticksPerDay / 7
	case "ww":
		s1 := t1.AddDate(0, 0, -int(t1.Weekday()))
		s2 := t2.AddDate(0, 0, -int(t2.Weekday()))
		r = (ticks(s2) - ticks(s1)) / ticksPerDay / 7
	case "h":
		r = d / (3600 * ticksPerSecond)
	case "n":
		r = d / (60 * ticksPerSecond)
	case "s":
		r = d / ticksPerSecond
	default:
		return Value{}, e.errf(n, "interval must be one of yyyy, m, d, ww, h, n, s; got %s", quote(iv))
	}
	return Str(strconv.FormatInt(r, 10)), nil
}

// fileTimeEpoch is 1601-01-01 in .NET ticks: Active Directory dates
// (accountExpires, lastLogonTimestamp) count 100 ns from there.
const fileTimeEpoch = 504911232000000000

// DateFromNum(value): the date-time of an Active Directory number (100 ns
// intervals since 1601-01-01 UTC).
func fnDateFromNum(e evaluator, n *node) (Value, error) {
	v, err := e.arg(n, 0)
	if err != nil || v.kind == KindNull {
		return Value{}, err
	}
	x, err := strconv.ParseInt(strings.TrimSpace(v.String()), 10, 64)
	if err != nil || x < 0 || x > 2650467743999999999 { // 9999-12-31T23:59:59.9999999Z
		return Value{}, e.errf(n, "value %s is not an Active Directory date number", quote(v.String()))
	}
	t := time.Unix(x/ticksPerSecond-(62135596800-fileTimeEpoch/ticksPerSecond), (x%ticksPerSecond)*100)
	return Date(t), nil
}

// NumFromDate(value): the Active Directory number (100 ns intervals since
// 1601-01-01 UTC) of a date-time, e.g. for accountExpires.
func fnNumFromDate(e evaluator, n *node) (Value, error) {
	t, ok, err := e.dateArg(n, 0)
	if err != nil || !ok {
		return Value{}, err
	}
	if t.Year() < 1601 || t.Year() > 9999 {
		return Value{}, e.errf(n, "date %s is outside 1601..9999", formatEntraDate(t))
	}
	return Str(strconv.FormatInt(ticks(t)-fileTimeEpoch, 10)), nil
}

type formatDateAux struct {
	in, out []fmtToken // nil unless constant
}

func checkFormatDateTime(n *node) *SyntaxError {
	aux := &formatDateAux{}
	for _, i := range []int{2, 3} {
		if !n.present(i) {
			return &SyntaxError{Col: n.args[i].pos, Func: n.fn.name, Msg: n.fn.param(i) + " cannot be left out; usage: " + n.fn.sig()}
		}
		if s, ok := n.args[i].constString(); ok {
			toks, err := parseDotnetFormat(s)
			if err != "" {
				return &SyntaxError{Col: n.args[i].pos, Func: n.fn.name, Msg: n.fn.param(i) + ": " + err}
			}
			if i == 2 {
				aux.in = toks
			} else {
				aux.out = toks
			}
		}
	}
	n.aux = aux
	return nil
}

// FormatDateTime(source, dateTimeStyles, inputFormat, outputFormat): source
// read with the .NET custom format inputFormat and written with
// outputFormat. Leading and trailing white space is allowed. A parsed offset
// is converted to UTC (Entra runs in UTC); without an offset the time is
// kept as is. dateTimeStyles is accepted and ignored. Null stays null.
func fnFormatDateTime(e evaluator, n *node) (Value, error) {
	src, isNull, err := e.str(n, 0)
	if err != nil || isNull {
		return Value{}, err
	}
	aux := n.aux.(*formatDateAux)
	formats := [2][]fmtToken{aux.in, aux.out}
	for k, i := range []int{2, 3} {
		if formats[k] != nil {
			continue
		}
		s, _, err := e.str(n, i)
		if err != nil {
			return Value{}, err
		}
		toks, msg := parseDotnetFormat(s)
		if msg != "" {
			return Value{}, e.errf(n, "%s: %s", n.fn.param(i), msg)
		}
		formats[k] = toks
	}
	t, msg := parseWithDotnetFormat(formats[0], strings.TrimSpace(src))
	if msg != "" {
		return Value{}, e.errf(n, "%s does not match inputFormat: %s", quote(src), msg)
	}
	return Str(formatWithDotnetFormat(formats[1], t)), nil
}
