package expr

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	deep := strings.Repeat("ToLower(", 101) + `"x"` + strings.Repeat(")", 101)
	cases := []struct {
		src  string
		col  int
		fn   string
		msgs []string // substrings of Msg
	}{
		{``, 1, "", []string{"empty expression"}},
		{`   `, 1, "", []string{"empty expression"}},
		{`Appendd([a], "x")`, 1, "Appendd", []string{"unknown function Appendd", "did you mean Append"}},
		{`ToLower(Joint(".", [a]))`, 9, "Joint", []string{"unknown function Joint", "Join"}},
		{`Frobnicate([a])`, 1, "Frobnicate", []string{"unknown function Frobnicate"}},
		{`ToLower(Mid([x], 1))`, 9, "Mid", []string{"takes 3 arguments, got 2", "Mid(source, start, length)"}},
		{`IIF([a]="x", "y")`, 1, "IIF", []string{"takes 3 arguments, got 2", "IIF(condition, valueIfTrue, valueIfFalse)"}},
		{`Join(".")`, 1, "Join", []string{"takes at least 2 arguments, got 1", "Join(separator, source1, ...)"}},
		{`Now(1)`, 1, "Now", []string{"takes 0 arguments, got 1"}},
		{`ToLower("a", "b", "c")`, 1, "ToLower", []string{"takes 1 to 2 arguments, got 3"}},
		{`Mid([x], 1, "abc")`, 13, "Mid", []string{`length (argument 3) must be a whole number, got "abc"`}},
		{`Left([x], 1.5)`, 11, "Left", []string{"numChars (argument 2) must be a whole number"}},
		{`Mid(, 1, 2)`, 5, "Mid", []string{"source (argument 1) cannot be left out"}},
		{`Switch([a], "d", "k")`, 1, "Switch", []string{"takes at least 4 arguments, got 3"}},
		{`Switch([a], "d", "k", "v", "k2")`, 1, "Switch", []string{"even number of arguments"}},
		{`Replace([a], "x", "y", , , , )`, 1, "Replace", []string{"unsupported combination", "Replace(source, oldValue, , , replacementValue, , )"}},
		{`Replace([a], , "(", , "", , )`, 16, "Replace", []string{"invalid regexPattern"}},
		{`Replace([a], , "(?<n>x)", "m", "", , )`, 27, "Replace", []string{`regexGroupName "m" is not a named group`}},
		{`Replace([a], "", , , "x", , )`, 14, "Replace", []string{"oldValue must not be empty"}},
		{`Join(".", SelectUniqueValue("a", "b"))`, 11, "SelectUniqueValue", []string{"must be the outermost function"}},
		{`DateAdd("x", 1, Now())`, 9, "DateAdd", []string{"interval must be one of"}},
		{`DateAdd("d", 1, "soon")`, 17, "DateAdd", []string{`"soon" is not a date-time`}},
		{`CDate("31.12.2025")`, 7, "CDate", []string{"is not a date-time"}},
		{`ToLower([a], "!!")`, 14, "ToLower", []string{"unknown culture"}},
		{`FormatDateTime([a], , , "yyyy")`, 23, "FormatDateTime", []string{"inputFormat (argument 3) cannot be left out"}},
		{`FormatDateTime([a], , "yyyy-MM-dd'", "yyyy")`, 23, "FormatDateTime", []string{"unterminated quoted text"}},
		{`FormatDateTime([a], , "q", "yyyy")`, 23, "FormatDateTime", []string{"unknown standard format"}},
		{`InStr("a", "b", 1, "vbSomething")`, 20, "InStr", []string{"compareType must be"}},
		{`RandomString(4, 2, 2, 2, 2)`, 1, "RandomString", []string{"less than the sum"}},
		{`RandomString(300, 2, 2, 2, 2)`, 1, "RandomString", []string{"between 1 and 256"}},
		{`[a`, 1, "", []string{`missing "]"`}},
		{`[]`, 1, "", []string{"empty attribute name"}},
		{`"abc`, 1, "", []string{"string constant is not closed"}},
		{`"abc\"`, 1, "", []string{"string constant is not closed"}},
		{`Join(".", [a]`, 1, "Join", []string{`missing ")"`}},
		{`Join(".", [a] [b])`, 15, "Join", []string{`unexpected [b]: expected "," or ")"`}},
		{`Join(".", [a]) x`, 16, "", []string{"unexpected x after the end"}},
		{`Join(".", [a]))`, 15, "", []string{`unexpected ")" after the end`}},
		{`FirstName`, 1, "", []string{"unknown name FirstName", "[FirstName]"}},
		{`Join`, 1, "", []string{"Join is a function", "Join(separator, source1, ...)"}},
		{`IIF([a]="x"="y", "1", "0")`, 12, "", []string{"comparisons cannot be chained"}},
		{`[a] = `, 7, "", []string{"unexpected end of expression"}},
		{`[a] != "x"`, 5, "", []string{`use "<>"`}},
		{`Join(".", “a”)`, 11, "", []string{"typographic quote"}},
		{`BitAnd(&G1, 1)`, 8, "", []string{"unexpected character '&'"}},
		{`BitAnd(&H, 1)`, 8, "", []string{"malformed hexadecimal"}},
		{`Mid([a], 1abc, 2)`, 10, "", []string{"malformed number"}},
		{`Mid([a], -, 2)`, 10, "", []string{"malformed number"}},
		{`Join("é", Foo())`, 11, "Foo", []string{"unknown function Foo"}},
		{"Join(\".\",\n  [a],\n  Mid([b]))", 20, "Mid", []string{"takes 3 arguments"}},
		{`Join(".", [a]) ; x`, 16, "", []string{"unexpected character ';'"}},
		{deep, 801, "ToLower", []string{"nested too deeply"}},
	}
	for _, c := range cases {
		t.Run(c.src, func(t *testing.T) {
			p, err := Parse(c.src)
			if err == nil {
				t.Fatalf("Parse(%q) = %v; want an error", c.src, p.Source())
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) error %T %v; want *SyntaxError", c.src, err, err)
			}
			if se.Col != c.col || se.Func != c.fn {
				t.Errorf("Parse(%q): Col=%d Func=%q; want Col=%d Func=%q (%v)", c.src, se.Col, se.Func, c.col, c.fn, err)
			}
			for _, m := range c.msgs {
				if !strings.Contains(se.Msg, m) {
					t.Errorf("Parse(%q): Msg %q lacks %q", c.src, se.Msg, m)
				}
			}
		})
	}
}

func TestSyntaxErrorString(t *testing.T) {
	_, err := Parse(`ToLower(Mid([x], 1))`)
	want := "col 9: Mid: takes 3 arguments, got 2; usage: Mid(source, start, length)"
	if err == nil || err.Error() != want {
		t.Errorf("got %v; want %s", err, want)
	}
}

func TestParseAccepts(t *testing.T) {
	runCases(t, []tc{
		{name: "doc: syntax overview, escaped quotes", expr: `"Company name: \"Contoso\""`, want: Str(`Company name: "Contoso"`)},
		{name: "doc: syntax overview, nested functions", expr: `ToUpper(Left([a], 2))`, env: MapEnv{"a": "abc"}, want: Str("AB")},
		{name: "bare comparison", expr: `[a] = "x"`, env: MapEnv{"a": "x"}, want: Bool(true)},
		{name: "attribute only", expr: `[mail]`, env: MapEnv{"mail": "a@b"}, want: Str("a@b")},
		{name: "missing attribute", expr: `[mail]`, want: Null()},
		{name: "constant only", expr: `"x"`, want: Str("x")},
		{name: "number", expr: `-12.5`, want: Str("-12.5")},
		{name: "hex", expr: `&HFF`, want: Str("255")},
		{name: "field names with spaces and dots", expr: `Join("|", [First Name], [a.b], [x-y (z)])`,
			env: MapEnv{"First Name": "1", "a.b": "2", "x-y (z)": "3"}, want: Str("1|2|3")},
		{name: "backslash before other characters is kept", expr: `"C:\dir\\x"`, want: Str(`C:\dir\x`)},
		{name: "escaped quote and backslash", expr: `"a\"b\\"`, want: Str(`a"b\`)},
		{name: "whitespace and newlines", expr: "\n\tJoin ( \".\" ,\r\n [a] , [b] )\n", env: MapEnv{"a": "x", "b": "y"}, want: Str("x.y")},
		{name: "non-breaking space between tokens", expr: "Join(\".\",\u00a0[a])", env: MapEnv{"a": "x"}, want: Str("x")},
		{name: "numbers as strings", expr: `Mid("abcdef", "2", "3")`, want: Str("bcd")},
		{name: "comparison of calls", expr: `ToLower("A") = "a"`, want: Bool(true)},
		{name: "trailing omitted arguments", expr: `Replace("a-b", "-", , , "+", , )`, want: Str("a+b")},
		{name: "Replace with five arguments", expr: `Replace("a-b", "-", , , "+")`, want: Str("a+b")},
		{name: "unicode in strings", expr: `Join("·", "Zoë", "Łukasz")`, want: Str("Zoë·Łukasz")},
		{name: "empty argument list", expr: `Count(Split(Guid( ), "-"))`, want: Str("5")},
	})
}

func TestFieldsAndSource(t *testing.T) {
	src := `Join(".", [First Name], IIF([Last.Name]="", [First Name], [Last.Name]), Coalesce([nick], "x"))`
	p := MustParse(src)
	if got, want := p.Fields(), []string{"First Name", "Last.Name", "nick"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Fields() = %q; want %q", got, want)
	}
	if p.Source() != src || p.String() != src {
		t.Errorf("Source() = %q", p.Source())
	}
	if got := MustParse(`"x"`).Fields(); len(got) != 0 {
		t.Errorf("Fields() of a constant = %q", got)
	}
}

func TestMustParsePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("MustParse did not panic")
		}
	}()
	MustParse(`Nope()`)
}

func TestFunctionNames(t *testing.T) {
	names := FunctionNames()
	want := strings.Fields(`Append BitAnd CBool CDate Coalesce ConvertToBase64 ConvertToUTF8Hex Count CStr DateAdd
		DateDiff DateFromNum FormatDateTime Guid IgnoreFlowIfNullOrEmpty IIF InStr IsNull IsNullOrEmpty IsPresent
		IsString Item Join Left Mid NormalizeDiacritics Not Now NumFromDate PCase RandomString Redact RemoveDuplicates
		Replace SelectUniqueValue Split StripSpaces Switch ToLower ToUpper Word`)
	have := map[string]bool{}
	for _, n := range names {
		have[n] = true
	}
	for _, w := range want {
		if !have[w] {
			t.Errorf("FunctionNames() lacks %s", w)
		}
	}
	if sig, ok := FunctionSignature("mid"); !ok || sig != "Mid(source, start, length)" {
		t.Errorf("FunctionSignature(mid) = %q, %v", sig, ok)
	}
	if _, ok := FunctionSignature("nope"); ok {
		t.Error("FunctionSignature(nope) found")
	}
}
