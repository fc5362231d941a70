package expr

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// Edge cases of every function beyond Microsoft's examples
// (see docexamples_test.go).

func TestStringFunctions(t *testing.T) {
	runCases(t, []tc{
		// Append
		{expr: `Append([a], [b])`, want: Null()},
		{expr: `Append([a], "x")`, want: Str("x")},
		{expr: `Append("x", [b])`, want: Str("x")},
		{expr: `Append("", "")`, want: Str("")},
		{expr: `Append(True, "!")`, want: Str("True!")},

		// Join
		{expr: `Join(".", [First], [Last])`, env: MapEnv{"First": "Ann", "Last": "Lee"}, want: Str("Ann.Lee")},
		{expr: `Join(".", [First], [Last])`, env: MapEnv{"Last": "Lee"}, want: Str("Lee")},
		{expr: `Join(".", [First], [Last])`, env: MapEnv{"First": "", "Last": "Lee"}, want: Str("Lee")},
		{expr: `Join(".", [First], [Last])`, want: Str("")},
		{expr: `Join([sep], "a", "b")`, want: Str("ab")},
		{expr: `Join("-", Split("a,b", ","), "c")`, want: Str("a-b-c")},
		{expr: `Join("-", Split("a,,b", ","))`, want: Str("a-b")},
		{expr: `Join(",", True, 1, "x")`, want: Str("True,1,x")},
		{expr: `Join("", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10")`, want: Str("12345678910")},

		// Left
		{expr: `Left([x], 3)`, want: Str("")},
		{expr: `Left("abc", 0)`, want: Str("")},
		{expr: `Left("abc", -1)`, want: Str("abc")},
		{expr: `Left("abc", 10)`, want: Str("abc")},
		{expr: `Left("Łukasz", 2)`, want: Str("Łu")},
		{expr: `Left("abc", "2")`, want: Str("ab")},
		{expr: `Left("abc", [n])`, env: MapEnv{"n": "x"}, wantErr: `Left: numChars (argument 2) "x" is not a whole number`},

		// Mid
		{expr: `Mid("abcdef", 2, 3)`, want: Str("bcd")},
		{expr: `Mid("abc", "2", "5")`, want: Str("bc")},
		{expr: `Mid("abc", 4, 1)`, want: Str("")},
		{expr: `Mid("abc", 1, 0)`, want: Str("")},
		{expr: `Mid([x], 1, 2)`, want: Str("")},
		{expr: `Mid("Zoë", 3, 1)`, want: Str("ë")},
		{expr: `Mid("abc", [s], 1)`, env: MapEnv{"s": "0"}, wantErr: "Mid: start 0 is out of range"},
		{expr: `Mid("abc", 1, [n])`, env: MapEnv{"n": "-1"}, wantErr: "Mid: length -1 must not be negative"},
		{expr: `Mid("abc", 1, [n])`, env: MapEnv{"n": "three"}, wantErr: `Mid: length (argument 3) "three" is not a whole number`},
		{expr: `Mid("abc", 1, [n])`, wantErr: "Mid: length (argument 3) is null"},

		// Replace, plain and regex forms beyond the documented examples
		{expr: `Replace([x], ".", , , "", , )`, env: MapEnv{"x": "a.b.c"}, want: Str("abc")},
		{expr: `Replace("ABC", "b", , , "x", , )`, want: Str("ABC")},
		{expr: `Replace([x], "a", , , "b", , )`, want: Null()},
		{expr: `Replace([x], "a", , , [y], , )`, env: MapEnv{"x": "banana"}, want: Str("bnn")},
		{expr: `Replace([x], [old], , , "b", , )`, env: MapEnv{"x": "a", "old": ""}, wantErr: "Replace: oldValue is empty"},
		{expr: `Replace([x], , "(\\w+)@(\\w+)", , "$2 at $1 costs $$5 ($&)", , )`, env: MapEnv{"x": "ann@contoso"}, want: Str("contoso at ann costs $5 (ann@contoso)")},
		{expr: `Replace([x], , [re], , "-", , )`, env: MapEnv{"x": "a1b22", "re": "\\d+"}, want: Str("a-b-")},
		{expr: `Replace([x], , [re], , "-", , )`, env: MapEnv{"x": "a", "re": "("}, wantErr: "Replace: invalid regexPattern"},
		{expr: `Replace([x], , "(?<n>\\d)", [g], "#", , )`, env: MapEnv{"x": "a1b2", "g": "n"}, want: Str("a#b#")},
		{expr: `Replace([x], , "(?<n>\\d)", [g], "#", , )`, env: MapEnv{"x": "a1b2", "g": "m"}, wantErr: `regexGroupName "m" is not a named group`},
		{expr: `Replace([t], , "(?<d>\\d+)", "d", , [m], )`, env: MapEnv{"t": "555", "m": "x 123"}, want: Str("555")},
		{expr: `Replace([t], , "(?<d>\\d+)", "d", , [m], )`, env: MapEnv{"m": "x 123"}, want: Str("123")},
		{expr: `Replace([t], , "(?<d>\\d+)", "d", , [m], )`, env: MapEnv{"m": "none"}, want: Null()},
		{expr: `Replace([t], "<u>", , , , , [tmpl])`, env: MapEnv{"t": "ann", "tmpl": "<u>@<u>.com"}, want: Str("ann@ann.com")},

		// StripSpaces: only U+0020
		{expr: `StripSpaces(" a b  c ")`, want: Str("abc")},
		{expr: "StripSpaces(\"a\tb\")", want: Str("a\tb")},
		{expr: `StripSpaces([x])`, want: Null()},

		// ToLower / ToUpper
		{expr: `ToLower("ÄBC Ünal")`, want: Str("äbc ünal")},
		{expr: `ToUpper("straße")`, want: Str("STRAßE")},
		{expr: `ToUpper("istanbul", "tr-TR")`, want: Str("İSTANBUL")},
		{expr: `ToLower("ISTANBUL", "tr-TR")`, want: Str("ıstanbul")},
		{expr: `ToLower("ABC", "")`, want: Str("abc")},
		{expr: `ToLower([x])`, want: Null()},
		{expr: `ToLower("A", [c])`, env: MapEnv{"c": "!!"}, wantErr: "ToLower: unknown culture"},

		// PCase
		{expr: `PCase("o'BRIEN")`, want: Str("O'brien")},
		{expr: `PCase("mary-jane SMITH_jones")`, want: Str("Mary-Jane Smith_Jones")},
		{expr: `PCase("o'brien", "'")`, want: Str("O'Brien")},
		{expr: `PCase("élodie DURAND")`, want: Str("Élodie Durand")},
		{expr: `PCase([x])`, want: Null()},

		// Word
		{expr: `Word("a  b", 2, " ")`, want: Str("b")},
		{expr: `Word("a b", 3, " ")`, want: Str("")},
		{expr: `Word("a b", 0, " ")`, want: Str("")},
		{expr: `Word([x], 1, " ")`, want: Str("")},

		// InStr
		{expr: `InStr("abc", "z")`, want: Str("0")},
		{expr: `InStr("REPEATED", "e", 1, vbTextCompare)`, want: Str("2")},
		{expr: `InStr("REPEATED", "e", 1, "vbTextCompare")`, want: Str("2")},
		{expr: `InStr("REPEATED", "e")`, want: Str("0")},
		{expr: `InStr("abc", "", 2)`, want: Str("2")},
		{expr: `InStr("abc", "a", 9)`, want: Str("0")},
		{expr: `InStr([x], "a")`, want: Str("0")},
		{expr: `InStr("Łódź", "dź")`, want: Str("3")},
		{expr: `InStr("abc", "a", [s])`, env: MapEnv{"s": "0"}, wantErr: "InStr: start 0 is out of range"},

		// NormalizeDiacritics (names from DESIGN.md and the reference table)
		{expr: `NormalizeDiacritics("José")`, want: Str("Jose")},
		{expr: `NormalizeDiacritics("Zoë")`, want: Str("Zoe")},
		{expr: `NormalizeDiacritics("Łukasz")`, want: Str("Lukasz")},
		{expr: `NormalizeDiacritics("Müller")`, want: Str("Muller")},
		{expr: `NormalizeDiacritics("Straße")`, want: Str("Strasse")},
		{expr: `NormalizeDiacritics("Ærøskøbing")`, want: Str("AEroeskoebing")},
		{expr: `NormalizeDiacritics("Øystein Grøndahl")`, want: Str("OEystein Groendahl")},
		{expr: `NormalizeDiacritics("Dvořák Šťastný Ďurček")`, want: Str("Dvorak Stastny Durcek")},
		{expr: `NormalizeDiacritics("İsmail Yılmaz Ağaoğlu Şahin")`, want: Str("Ismail Yilmaz Agaoglu Sahin")},
		{expr: `NormalizeDiacritics("François Ñúñez Ålberg")`, want: Str("Francois Nunez Alberg")},
		{expr: `NormalizeDiacritics("Wałęsa Żółć")`, want: Str("Walesa Zolc")},
		{expr: `NormalizeDiacritics("Bănescu Țepeș")`, want: Str("Banescu Tepes")},
		{expr: "NormalizeDiacritics(\"Jose\u0301 A\u0304\u0302 \u0101\u0301\")", want: Str("Jose A a")},
		{expr: `NormalizeDiacritics("ǣ Ǣ ø̄ Œ̄ ṝ ḹ ṳ̄ ȫ")`, want: Str("ae AE oe OE r l u o")},
		{expr: `NormalizeDiacritics("O'Brien-Smith")`, want: Str("O'Brien-Smith")},
		{expr: `NormalizeDiacritics("Йордан Ελένη 서연 Đorđe")`, want: Str("Йордан Ελένη 서연 Đorđe")},
		{expr: `NormalizeDiacritics([x])`, want: Null()},

		// ConvertToBase64 / ConvertToUTF8Hex
		{expr: `ConvertToBase64("é")`, want: Str("6QA=")},
		{expr: `ConvertToUTF8Hex("é")`, want: Str("C3A9")},
		{expr: `ConvertToBase64([x])`, want: Null()},
		{expr: `ConvertToUTF8Hex([x])`, want: Null()},
	})
}

func TestLogicFunctions(t *testing.T) {
	runCases(t, []tc{
		// Coalesce: skips null only
		{expr: `Coalesce([a], [b])`, want: Null()},
		{expr: `Coalesce([a], "")`, want: Str("")},
		{expr: `Coalesce([a], [b], "d")`, env: MapEnv{"a": ""}, want: Str("")},
		{expr: `Coalesce([a], , "d")`, want: Str("d")},

		// IIF and comparisons
		{expr: `IIF(IsPresent([x]), "y", "n")`, env: MapEnv{"x": "1"}, want: Str("y")},
		{expr: `IIF(IsPresent([x]), "y", "n")`, want: Str("n")},
		{expr: `IIF([a]<>"x", "ne", "eq")`, env: MapEnv{"a": "x"}, want: Str("eq")},
		{expr: `IIF([a]<>"x", "ne", "eq")`, env: MapEnv{"a": "X"}, want: Str("ne")},
		{expr: `IIF([a]="", "empty", "set")`, want: Str("empty")},
		{expr: `IIF([a]>"9", "gt", "le")`, env: MapEnv{"a": "10"}, want: Str("gt")},
		{expr: `IIF([a]>="10", "ge", "lt")`, env: MapEnv{"a": "10.0"}, want: Str("ge")},
		{expr: `IIF([a]<"b", "lt", "ge")`, env: MapEnv{"a": "a"}, want: Str("lt")},
		{expr: `IIF([a]<="b", "le", "gt")`, env: MapEnv{"a": "c"}, want: Str("gt")},
		{expr: `IIF(CDate([d]) < CDate("2021-06-01"), "before", "after")`, env: MapEnv{"d": "2021-01-01"}, want: Str("before")},
		{expr: `IIF(True, "a", "b")`, want: Str("a")},
		{expr: `IIF(false, "a", "b")`, want: Str("b")},
		{expr: `IIF([flag], "a", "b")`, env: MapEnv{"flag": "TRUE"}, want: Str("a")},
		{expr: `IIF([flag], "a", "b")`, env: MapEnv{"flag": "0"}, want: Str("b")},
		{expr: `IIF([flag], "a", "b")`, want: Str("b")},
		{expr: `IIF([flag], "a", "b")`, env: MapEnv{"flag": "maybe"}, wantErr: `IIF: condition "maybe" is neither True nor False`},
		{expr: `IIF(IsNull([x]) = "true", "a", "b")`, want: Str("a")},
		{name: "IIF evaluates only the chosen branch", expr: `IIF(True, "a", Mid("x", [bad], 1))`, env: MapEnv{"bad": "q"}, want: Str("a")},
		{expr: `IIF([a] = [b], "same", "diff")`, want: Str("same")},
		{expr: `[a] = "x"`, env: MapEnv{"a": "x"}, want: Bool(true)},

		// Switch
		{expr: `Switch([s], , "a", "1")`, env: MapEnv{"s": "b"}, want: Null()},
		{expr: `Switch([s], "def", "QLD", "x")`, env: MapEnv{"s": "qld"}, want: Str("def")},
		{expr: `Switch([s], "def", "", "empty", "a", "1")`, want: Str("empty")},
		{expr: `Switch([s], "def", "a", "1", "a", "2")`, env: MapEnv{"s": "a"}, want: Str("1")},
		{name: "Switch evaluates only the chosen value", expr: `Switch("a", "d", "a", "ok", "b", Mid("x", [bad], 1))`, env: MapEnv{"bad": "q"}, want: Str("ok")},

		// IsNull / IsNullOrEmpty / IsPresent / IsString
		{expr: `IsPresent([x])`, env: MapEnv{"x": ""}, want: Bool(false)},
		{expr: `IsPresent([x])`, env: MapEnv{"x": " "}, want: Bool(true)},
		{expr: `IsNullOrEmpty(Split("", ","))`, want: Bool(true)},
		{expr: `IsString([x])`, env: MapEnv{"x": ""}, want: Bool(true)},
		{expr: `IsString([x])`, want: Bool(false)},
		{expr: `IsString(IsNull([x]))`, want: Bool(false)},

		// Not
		{expr: `Not("True")`, want: Bool(false)},
		{expr: `Not("false")`, want: Bool(true)},
		{expr: `Not("abc")`, want: Bool(true)},
		{expr: `Not([x])`, want: Bool(true)},
		{expr: `Not(IsNull([x]))`, want: Bool(false)},
		{expr: `Not(Not(True))`, want: Bool(true)},

		// CBool / CStr
		{expr: `CBool("true")`, want: Bool(true)},
		{expr: `CBool("0")`, want: Bool(false)},
		{expr: `CBool("-2")`, want: Bool(true)},
		{expr: `CBool([x])`, want: Bool(false)},
		{expr: `CBool([x])`, env: MapEnv{"x": "abc"}, wantErr: `CBool: cannot convert "abc" to a boolean`},
		{expr: `CStr(True)`, want: Str("True")},
		{expr: `CStr([x])`, want: Null()},
		{expr: `CStr(Split("a;b", ";"))`, want: Str("a,b")},

		// BitAnd
		{expr: `BitAnd("12", "10")`, want: Str("8")},
		{expr: `BitAnd(&hff, 15)`, want: Str("15")},
		{expr: `BitAnd([uac], 2)`, env: MapEnv{"uac": "514"}, want: Str("2")},
		{expr: `BitAnd([uac], 2)`, env: MapEnv{"uac": "x"}, wantErr: `BitAnd: value1 (argument 1) "x" is not a whole number`},
	})
}

func TestListFunctions(t *testing.T) {
	runCases(t, []tc{
		{expr: `Split([x], ",")`, want: Null()},
		{expr: `Split("", ",")`, want: List()},
		{expr: `Split("a", "")`, want: List("a")},
		{expr: `Split("a::b", "::")`, want: List("a", "b")},
		{expr: `Count(Split("a,b,c", ","))`, want: Str("3")},
		{expr: `Count([x])`, want: Str("0")},
		{expr: `Count("x")`, want: Str("1")},
		{expr: `Item(Split("a,b", ","), 2)`, want: Str("b")},
		{expr: `Item(Split("a,b", ","), 3)`, want: Null()},
		{expr: `Item("solo", 1)`, want: Str("solo")},
		{expr: `Item(Split("a,b", ","), [i])`, env: MapEnv{"i": "0"}, wantErr: "Item: index 0 is out of range"},
		{expr: `RemoveDuplicates(Split("a,b,a,B", ","))`, want: List("a", "b", "B")},
		{expr: `RemoveDuplicates("a")`, want: Str("a")},
		{expr: `RemoveDuplicates([x])`, want: Null()},
	})
}

func TestDateFunctions(t *testing.T) {
	runCases(t, []tc{
		{expr: `CDate([x])`, want: Null()},
		{expr: `CDate([x])`, env: MapEnv{"x": "soon"}, wantErr: `CDate: expression (argument 1) "soon" is not a date-time`},
		{expr: `CDate("2021-06-30T10:11:12.5Z")`, want: Date(time.Date(2021, 6, 30, 10, 11, 12, 500_000_000, time.UTC))},
		{expr: `CDate("12/31/2025")`, want: date(2025, 12, 31, 0, 0, 0)},
		{expr: `DateAdd("m", 1, CDate("2021-01-31"))`, want: date(2021, 2, 28, 0, 0, 0)},
		{expr: `DateAdd("yyyy", 1, "2020-02-29")`, want: date(2021, 2, 28, 0, 0, 0)},
		{expr: `DateAdd("m", -13, "2021-03-31")`, want: date(2020, 2, 29, 0, 0, 0)},
		{expr: `DateAdd("h", 36, "2021-01-01")`, want: date(2021, 1, 2, 12, 0, 0)},
		{expr: `DateAdd("n", -1, "2021-01-01")`, want: date(2020, 12, 31, 23, 59, 0)},
		{expr: `DateAdd("s", 61, "2021-01-01")`, want: date(2021, 1, 1, 0, 1, 1)},
		{expr: `DateAdd("q", 1, "2021-01-15")`, want: date(2021, 4, 15, 0, 0, 0)},
		{expr: `DateAdd("D", 1, "2021-01-15")`, want: date(2021, 1, 16, 0, 0, 0)},
		{expr: `DateAdd("d", 1, [x])`, want: Null()},
		{expr: `DateAdd("d", 1, [x])`, env: MapEnv{"x": "31.12.2025"}, wantErr: "DateAdd: dateTime (argument 3)"},
		{expr: `DateAdd([i], 1, "2021-01-01")`, env: MapEnv{"i": "fortnight"}, wantErr: "DateAdd: interval must be one of"},
		{expr: `DateDiff("d", "2021-01-01T23:00:00Z", "2021-01-02T01:00:00Z")`, want: Str("0")},
		{expr: `DateDiff("q", "2021-03-31", "2021-04-01")`, want: Str("1")},
		{expr: `DateDiff("w", "2021-01-01", "2021-01-15")`, want: Str("2")},
		{expr: `DateDiff("d", [a], "2021-01-15")`, want: Null()},
		{expr: `NumFromDate("1601-01-01")`, want: Str("0")},
		{expr: `NumFromDate(DateFromNum("132539615990000000"))`, want: Str("132539615990000000")},
		{expr: `NumFromDate([x])`, want: Null()},
		{expr: `DateFromNum([x])`, env: MapEnv{"x": "9223372036854775807"}, wantErr: "DateFromNum: value"},
		{expr: `CStr(DateFromNum("0"))`, want: Str("1/1/1601 12:00:00 AM")},

		// FormatDateTime
		{expr: `FormatDateTime([d], , "dd.MM.yyyy", "yyyy-MM-dd")`, env: MapEnv{"d": "31.12.2025"}, want: Str("2025-12-31")},
		{expr: `FormatDateTime([d], , "M/d/yyyy", "yyyyMMdd")`, env: MapEnv{"d": " 1/2/2025 "}, want: Str("20250102")},
		{expr: `FormatDateTime([d], , "yyyy-MM-ddTHH:mm:ss.FFFK", "dddd, MMMM d, yyyy h:mm tt zzz")`, env: MapEnv{"d": "2025-03-04T16:05:06.5+02:00"}, want: Str("Tuesday, March 4, 2025 2:05 PM +00:00")},
		{expr: `FormatDateTime([d], , "yyyy-MM-dd", "o")`, env: MapEnv{"d": "2025-03-04"}, want: Str("2025-03-04T00:00:00.0000000")},
		{expr: `FormatDateTime([d], , "yyyy-MM-ddK", "o")`, env: MapEnv{"d": "2025-03-04Z"}, want: Str("2025-03-04T00:00:00.0000000Z")},
		{expr: `FormatDateTime([d], , "yyyy-MM-dd HH:mm:ss", "HH:mm:ss.FFF")`, env: MapEnv{"d": "2025-03-04 10:11:12"}, want: Str("10:11:12")},
		{expr: `FormatDateTime([d], , "dd MMM yy", "'Day' d 'of' MMMM yyyy")`, env: MapEnv{"d": "05 feb 49"}, want: Str("Day 5 of February 2049")},
		{expr: `FormatDateTime([d], "RoundtripKind", "yyyy-MM-dd", "yyyy")`, env: MapEnv{"d": "2025-03-04"}, want: Str("2025")},
		{expr: `FormatDateTime([d], , "yyyy-MM-dd", "yyyy")`, want: Null()},
		{expr: `FormatDateTime([d], , "yyyy-MM-dd", "yyyy")`, env: MapEnv{"d": "2025-02-30"}, wantErr: "FormatDateTime: \"2025-02-30\" does not match inputFormat: day 30 is out of range"},
		{expr: `FormatDateTime([d], , "yyyy-MM-dd", "yyyy")`, env: MapEnv{"d": "31.12.2025"}, wantErr: "FormatDateTime: \"31.12.2025\" does not match inputFormat"},
		{expr: `FormatDateTime([d], , [f], "yyyy")`, env: MapEnv{"d": "2025", "f": "yyyy"}, want: Str("2025")},
	})
}

func TestContextFunctions(t *testing.T) {
	// Now and Guid with the default Context.
	v, err := MustParse(`Now()`).Eval(nil)
	if tm, ok := v.Time(); err != nil || !ok || time.Since(tm) > time.Minute {
		t.Errorf("Now() = %#v, %v", v, err)
	}
	a, _ := MustParse(`Guid()`).Eval(nil)
	b, _ := MustParse(`Guid()`).Eval(nil)
	if len(a.String()) != 36 || a.String() == b.String() {
		t.Errorf("Guid() = %q, %q", a.String(), b.String())
	}

	// Seeded randomness is reproducible.
	p := MustParse(`Join("|", Guid(), RandomString(12, 2, 2, 2, 2))`)
	now := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	x, _ := p.EvalWith(nil, testCtx(now))
	y, _ := p.EvalWith(nil, testCtx(now))
	if x.String() != y.String() {
		t.Errorf("same seed, different results: %q, %q", x.String(), y.String())
	}

	// RandomString limits.
	runCasesCtx(t, testCtx(now), []tc{
		{expr: `RandomString([n], 1, 0, 0, 0)`, env: MapEnv{"n": "300"}, wantErr: "RandomString: length must be between 1 and 256"},
		{expr: `RandomString(3, 1, 1, 1, 0, "0123456789")`, wantErr: "RandomString: charactersToAvoid excludes every character of a required class"},
		{name: "all minimums 0 (seeded golden value)", expr: `RandomString(4, 0, 0, 0, 0, "")`, want: Str("cvgk")},
	})

	// SelectUniqueValue: errors from IsUnique, all taken, default context.
	sel := MustParse(`SelectUniqueValue([a], Join(".", [a], "2"))`)
	boom := errors.New("directory unavailable")
	_, err = sel.EvalWith(MapEnv{"a": "x"}, &Context{IsUnique: func(string) (bool, error) { return false, boom }})
	var ee *EvalError
	if !errors.As(err, &ee) || ee.Func != "SelectUniqueValue" || !errors.Is(err, boom) {
		t.Errorf("IsUnique error: got %v", err)
	}
	_, err = sel.EvalWith(MapEnv{"a": "x"}, &Context{IsUnique: func(string) (bool, error) { return false, nil }})
	if err == nil || !strings.Contains(err.Error(), `no unique value: "x", "x.2" already taken`) {
		t.Errorf("all taken: got %v", err)
	}
	v, err = sel.Eval(MapEnv{"a": "x"})
	if err != nil || v.String() != "x" {
		t.Errorf("default context: %#v, %v", v, err)
	}
	v, err = sel.Eval(MapEnv{})
	if err != nil || v.String() != "2" {
		t.Errorf("empty first rule: %#v, %v", v, err)
	}
}

func TestEvalErrorColumn(t *testing.T) {
	p := MustParse(`Join("é", Mid([x], 1, [n]))`)
	_, err := p.Eval(MapEnv{"x": "abc", "n": "q"})
	var ee *EvalError
	if !errors.As(err, &ee) {
		t.Fatalf("got %v", err)
	}
	if ee.Func != "Mid" || ee.Col != 11 {
		t.Errorf("got Func=%q Col=%d; want Mid, 11 (%v)", ee.Func, ee.Col, err)
	}
	if want := `Mid: length (argument 3) "q" is not a whole number (col 11)`; err.Error() != want {
		t.Errorf("Error() = %q; want %q", err.Error(), want)
	}
}

func TestCaseInsensitiveNames(t *testing.T) {
	runCases(t, []tc{
		{expr: `toLower("ABC")`, want: Str("abc")},
		{expr: `JOIN(".", "a", "b")`, want: Str("a.b")},
		{expr: `iif(TRUE, "y", "n")`, want: Str("y")},
		{expr: `normalizediacritics("é")`, want: Str("e")},
	})
}
