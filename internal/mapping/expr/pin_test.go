package expr

import (
	"strings"
	"testing"
	"time"
)

// The tests of this file pin, value for value and message for message,
// branches of parseWithDotnetFormat, formatWithDotnetFormat and fnReplace
// that the other tests do not reach.

func TestParseWithDotnetFormatPinned(t *testing.T) {
	tests := []struct {
		format, in string
		want       string // the time in RFC 3339 with nanoseconds, and "+zone" when the input had one
		msg        string
	}{
		{"yyyy-MM-dd", "2025-03-04", "2025-03-04T00:00:00Z", ""},
		{"yyyy-MM-dd", "2025/03/04", "", `expected "-" at position 5`},
		{"y/M/d", "7/3/4", "2007-03-04T00:00:00Z", ""},
		{"y/M/d", "49/3/4", "2049-03-04T00:00:00Z", ""},
		{"yy/MM/dd", "50/03/04", "1950-03-04T00:00:00Z", ""},
		{"yy/MM/dd", "99/03/04", "1999-03-04T00:00:00Z", ""},
		{"yyy", "123", "0123-01-01T00:00:00Z", ""},
		{"yyy", "12", "", `unexpected "12" at position 1`},
		{"yyyyy", "02025", "2025-01-01T00:00:00Z", ""},
		{"MMM d yyyy", "FEB 5 2025", "2025-02-05T00:00:00Z", ""},
		{"MMMM d yyyy", "february 5 2025", "2025-02-05T00:00:00Z", ""},
		{"MMMM d yyyy", "Febr 5 2025", "", `unexpected "Febr 5 202" at position 1`},
		{"ddd, d MMM yyyy", "Wed, 5 Feb 2025", "2025-02-05T00:00:00Z", ""},
		{"dddd, d MMM yyyy", "Monday, 5 Feb 2025", "2025-02-05T00:00:00Z", ""},
		{"dddd, d MMM yyyy", "Mon, 5 Feb 2025", "", `unexpected "Mon, 5 Feb" at position 1`},
		{"h:mm tt", "12:30 AM", "0001-01-01T00:30:00Z", ""},
		{"h:mm tt", "12:30 pm", "0001-01-01T12:30:00Z", ""},
		{"h:mm tt", "1:30 PM", "0001-01-01T13:30:00Z", ""},
		{"h:mm t", "1:30 P", "0001-01-01T13:30:00Z", ""},
		{"h:mm t", "1:30 a", "0001-01-01T01:30:00Z", ""},
		{"h:mm tt", "1:30 XM", "", `unexpected "XM" at position 6`},
		{"h:mm", "0:30", "", "hour 0 is out of range"},
		{"h:mm", "13:30", "", "hour 13 is out of range"},
		{"H:mm tt", "13:30 PM", "", "hour 13 is out of range"},
		{"H:mm tt", "0:30 AM", "0001-01-01T00:30:00Z", ""},
		{"HH:mm", "24:00", "", "date or time out of range"},
		{"HH:mm", "23:60", "", "date or time out of range"},
		{"HH:mm:ss", "23:59:60", "", "date or time out of range"},
		{"MM/dd", "13/01", "", "date or time out of range"},
		{"MM/dd", "00/01", "", "date or time out of range"},
		{"MM/dd", "01/32", "", "date or time out of range"},
		{"MM/dd", "01/00", "", "date or time out of range"},
		{"yyyy-MM-dd", "2025-03-04x", "", `unexpected "x" at position 11`},
		{"yyyy-MM-dd", "2025-03-0", "", `unexpected "0" at position 9`},
		{"yyyy-MM-dd", "2025-03-04 is a long tail", "", `unexpected " is a long" at position 11`},
		{"HH:mm:ss.fff", "10:11:12.5", "", `unexpected "5" at position 10`},
		{"HH:mm:ss.fff", "10:11:12.250", "0001-01-01T10:11:12.25Z", ""},
		{"HH:mm:ss.FFF", "10:11:12.", "0001-01-01T10:11:12Z", ""}, // F may match no digit, as in .NET
		{"HH:mm:ss.FFF", "10:11:12", "0001-01-01T10:11:12Z", ""},  // and the "." before F may be missing
		{"HH:mm:ss.fff", "10:11:12", "", `expected "." at position 9`},
		{"HH:mm:ss .FFF", "10:11:12", "", `expected " ." at position 9`},
		{"HH:mm:ss.FFF", "10:11:12.5", "0001-01-01T10:11:12.5Z", ""},
		{"dd MMMMM yyyy hhh:mm ttt", "04 March 2007 01:05 PM", "2007-03-04T13:05:00Z", ""}, // long runs as .NET reads them
		{"HH:mm:ss.FFF", "10:11:12.1234", "", `unexpected "4" at position 13`},
		{"yyyy g", "2025 A.D.", "2025-01-01T00:00:00Z", ""},
		{"yyyy g", "2025 ad", "2025-01-01T00:00:00Z", ""},
		{"yyyy g", "2025 ", "2025-01-01T00:00:00Z", ""},
		{"yyyy g", "2025 BC", "", `unexpected "BC" at position 6`},
		{"yyyy-MM-ddK", "2025-03-04", "2025-03-04T00:00:00Z", ""},
		{"yyyy-MM-ddK", "2025-03-04+0130", "2025-03-03T22:30:00Z+zone", ""},
		{"yyyy-MM-ddzzz", "2025-03-04-8", "2025-03-04T08:00:00Z+zone", ""},
		{"yyyy-MM-ddzzz", "2025-03-04+15:00", "", `unexpected "+15:00" at position 11`},
		{"yyyy-MM-ddzzz", "2025-03-04+01:60", "", `unexpected "+01:60" at position 11`},
		{"yyyy-MM-ddzzz", "2025-03-04+01:6", "", `unexpected "+01:6" at position 11`},
		{"yyyy-MM-ddzzz", "2025-03-04", "", "unexpected end of input"},
		{"yyyy-MM-dd", "2025-02-29", "", "day 29 is out of range for the month"},
		{"yyyy'T'HH", "2025T10", "2025-01-01T10:00:00Z", ""},
		{`yyyy\THH`, "2025X10", "", `expected "T" at position 5`},
	}
	for _, tt := range tests {
		toks, msg := parseDotnetFormat(tt.format)
		if msg != "" {
			t.Fatalf("parseDotnetFormat(%q): %s", tt.format, msg)
		}
		dt, msg := parseWithDotnetFormat(toks, tt.in)
		got := ""
		if msg == "" {
			got = dt.t.Format(time.RFC3339Nano)
			if dt.zone {
				got += "+zone"
			}
		}
		if got != tt.want || msg != tt.msg {
			t.Errorf("parse %q as %q = %q, %q; want %q, %q", tt.in, tt.format, got, msg, tt.want, tt.msg)
		}
	}
}

func TestFormatWithDotnetFormatPinned(t *testing.T) {
	at := time.Date(2007, time.March, 4, 0, 5, 6, 70_000_000, time.UTC)
	west := time.Date(2025, time.November, 28, 13, 0, 0, 0, time.FixedZone("", -(5*3600+30*60)))
	east := time.Date(2025, time.November, 28, 13, 0, 0, 0, time.FixedZone("", 11*3600))
	tests := []struct {
		format string
		dt     dotnetTime
		want   string
	}{
		{"y yy yyy yyyy yyyyy", dotnetTime{t: at}, "7 07 2007 2007 02007"},
		{"M MM MMM MMMM MMMMM", dotnetTime{t: at}, "3 03 Mar March March"}, // as .NET: a run is one specifier
		{"ddddd hhh HHH mmm sss ttt zzzz", dotnetTime{t: west}, "Friday 01 13 00 00 PM -05:30"},
		{"d dd ddd dddd", dotnetTime{t: at}, "4 04 Sun Sunday"},
		{"h hh H HH m mm s ss", dotnetTime{t: at}, "12 12 0 00 5 05 6 06"},
		{"h tt t", dotnetTime{t: west}, "1 PM P"},
		{"f ff fff ffff FFFFFFF F", dotnetTime{t: at}, "0 07 070 0700 07 "},
		{"ss.F", dotnetTime{t: at}, "06"},
		{"ss.FF", dotnetTime{t: at}, "06.07"},
		{"ss.fffffff", dotnetTime{t: west}, "00.0000000"},
		{"z zz zzz", dotnetTime{t: west}, "-5 -05 -05:30"},
		{"z zz zzz", dotnetTime{t: east}, "+11 +11 +11:00"},
		{"z zz zzz", dotnetTime{t: at}, "+0 +00 +00:00"},
		{"HH:mmK", dotnetTime{t: at}, "00:05"},
		{"HH:mmK", dotnetTime{t: at, zone: true}, "00:05Z"},
		{"yyyy g", dotnetTime{t: at}, "2007 A.D."},
		{`'y'"M"\d%d`, dotnetTime{t: at}, "yMd4"},
		{"R", dotnetTime{t: at}, "Sun, 04 Mar 2007 00:05:06 GMT"},
		{"o", dotnetTime{t: at, zone: true}, "2007-03-04T00:05:06.0700000Z"},
	}
	for _, tt := range tests {
		toks, msg := parseDotnetFormat(tt.format)
		if msg != "" {
			t.Fatalf("parseDotnetFormat(%q): %s", tt.format, msg)
		}
		if got := formatWithDotnetFormat(toks, tt.dt); got != tt.want {
			t.Errorf("format %v as %q = %q, want %q", tt.dt.t, tt.format, got, tt.want)
		}
	}
}

func TestReplacePinned(t *testing.T) {
	// bad is an argument whose evaluation fails.
	const bad = `FormatDateTime("x", , "yyyy", "yyyy")`
	const badErr = `FormatDateTime: "x" does not match inputFormat: unexpected "x" at position 1`
	env := MapEnv{"x": "a1b22", "re": `(?<n>\d+)`, "g": "n", "r": "<$1>", "empty": ""}
	tests := []struct {
		expr string
		want Value
		err  string // the whole error
	}{
		{`Replace(` + bad + `, "a", , , "b", , )`, Value{}, badErr + " (col 9)"},
		{`Replace([x], ` + bad + `, , , "b", , )`, Value{}, badErr + " (col 14)"},
		{`Replace([x], "a", , , ` + bad + `, , )`, Value{}, badErr + " (col 23)"},
		{`Replace([x], "a", , , , , ` + bad + `)`, Value{}, badErr + " (col 27)"},
		{`Replace([x], , ` + bad + `, , "-", , )`, Value{}, badErr + " (col 16)"},
		{`Replace([x], , "(?<n>\\d)", ` + bad + `, "-", , )`, Value{}, badErr + " (col 29)"},
		{`Replace([x], , "\\d", , ` + bad + `, , )`, Value{}, badErr + " (col 25)"},
		{`Replace([x], , "(?<n>\\d)", "n", ` + bad + `, , )`, Value{}, badErr + " (col 34)"},
		{`Replace([empty], , "(?<n>\\d)", "n", , ` + bad + `, )`, Value{}, badErr + " (col 40)"},
		{`Replace([x], , "(\\d+)", , [r], , )`, Str("a<1>b<22>"), ""},
		{`Replace([x], , [re], [g], "#", , )`, Str("a#b#"), ""},
		{`Replace([x], , "(?<n>\\d)?b", "n", "#", , )`, Str("a#b22"), ""},
		{`Replace([x], , "(?<n>z)?b", "n", "#", , )`, Str("a1b22"), ""},
		{`Replace([empty], , "(?<n>\\d+)", "n", , [missing], )`, Str(""), ""},
		{`Replace([missing], , "(?<n>\\d+)", "n", , [missing], )`, Value{}, ""},
		{`Replace([missing], , "(?<n>z)", "n", , [x], )`, Value{}, ""},
		{`Replace([x], , "(?<n>\\d+)", "n", , [missing], )`, Str("a1b22"), ""},
		{`Replace([missing], , [re], [g], "#", , )`, Value{}, ""},
		{`Replace([x], , [re], [nope], "#", , )`, Value{}, `Replace: regexGroupName "" is not a named group of regexPattern (col 1)`},
	}
	for _, tt := range tests {
		p, err := Parse(tt.expr)
		if err != nil {
			t.Fatalf("Parse(%s): %v", tt.expr, err)
		}
		got, err := p.Eval(env)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("Eval(%s) = %#v, %v\nwant error %s", tt.expr, got, err, tt.err)
			}
			continue
		}
		if err != nil || got.Kind() != tt.want.Kind() || !got.Equal(tt.want) {
			t.Errorf("Eval(%s) = %#v, %v; want %#v", tt.expr, got, err, tt.want)
		}
	}
}

// TestDotnetFormatRoundTrips: what a format writes, it reads back, with
// or without a fraction to write.
func TestDotnetFormatRoundTrips(t *testing.T) {
	for _, f := range []string{"yyyy-MM-dd HH:mm:ss.FFF", "yyyy-MM-ddTHH:mm:ss.FFFFFFFzzz", "dd MMMMM yyyy hhh:mm:ss.F ttt"} {
		toks, msg := parseDotnetFormat(f)
		if msg != "" {
			t.Fatalf("%s: %s", f, msg)
		}
		for _, ns := range []int{0, 100_000_000, 250_000_000} {
			at := time.Date(2026, time.December, 5, 13, 4, 5, ns, time.UTC)
			if strings.Count(f, "F") < 2 && ns%100_000_000 != 0 {
				continue
			}
			text := formatWithDotnetFormat(toks, dotnetTime{t: at, zone: true})
			back, msg := parseWithDotnetFormat(toks, text)
			if msg != "" || !back.t.Equal(at) {
				t.Errorf("%s: %v wrote %q, read back %v (%s)", f, at, text, back.t, msg)
			}
		}
	}
}
