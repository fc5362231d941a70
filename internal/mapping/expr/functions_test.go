package expr

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// One table per function. Row names say what a row covers:
//
//	"doc: ..."       an input -> output example of Microsoft's reference
//	                 "Reference for writing expressions for attribute
//	                 mappings in Microsoft Entra ID",
//	                 https://learn.microsoft.com/entra/identity/app-provisioning/functions-for-customizing-application-data
//	                 (source: MicrosoftDocs/entra-docs,
//	                 docs/identity/app-provisioning/functions-for-customizing-application-data.md),
//	                 named after the section and example it comes from;
//	"doc rule: ..."  a behaviour the reference states in words;
//	"null: ..."      a missing (null) or empty input;
//	"arity: ..."     a wrong number of arguments, or a required one left out;
//	"type: ..."      an argument of the wrong type: a clear error naming the
//	                 function, or the documented conversion;
//	anything else    normal use and edge cases.
//
// Every error a row expects must name the table's function (runFuncCases);
// TestFunctionCoverage checks that every function has rows of every kind.
// Where the reference's output cannot follow from its own input, the row
// says so and tests what the expression computes.

// noDocExample lists the functions whose section of the reference gives no
// example, with where they appear in other sections' examples.
var noDocExample = map[string]string{
	"Count":       "no example",
	"IsString":    "no example",
	"Not":         "no example (its rules are tested as doc rule rows)",
	"StripSpaces": "no example of its own; used inside the ToLower and SelectUniqueValue examples",
	"ToUpper":     "no example",
}

// noNullInput lists the functions that take no argument that could be null.
var noNullInput = map[string]string{
	"Guid": "takes no arguments",
	"Now":  "takes no arguments",
}

// docSelectUniqueValue is the SelectUniqueValue example of the reference.
const docSelectUniqueValue = `SelectUniqueValue( 
        Join("@", NormalizeDiacritics(StripSpaces(Join(".",  [PreferredFirstName], [PreferredLastName]))), "contoso.com"), 
        Join("@", NormalizeDiacritics(StripSpaces(Join(".",  Mid([PreferredFirstName], 1, 1), [PreferredLastName]))), "contoso.com"),
        Join("@", NormalizeDiacritics(StripSpaces(Join(".",  Mid([PreferredFirstName], 1, 2), [PreferredLastName]))), "contoso.com")
    )`

// docDateDiffExample2 is DateDiff's example 2: accountEnabled from Active and
// the hire date.
const docDateDiffExample2 = `Switch([Active], , 
  "1", IIF(DateDiff("d", Now(), CDate([StatusHireDate])) > 5, "False", "True"), 
  "0", "False")`

// docIsPresentExample is IsPresent's example. The reference gives no output;
// by Switch's documented rules, the source IsPresent([directManager]) is
// compared with each key IsPresent(...), so the example returns the first
// of skiplevelManager and director whose presence equals directManager's,
// else directManager.
const docIsPresentExample = `Switch(IsPresent([directManager]),[directManager], IsPresent([skiplevelManager]),[skiplevelManager], IsPresent([director]),[director])`

// docIgnoreFlowExample2 is IgnoreFlowIfNullOrEmpty's example 2.
const docIgnoreFlowExample2 = `IgnoreFlowIfNullOrEmpty(Switch([prefix], "", "3443", "Dr.", "3444", "Prof.", "3445", "Prof. Dr."))`

// matches returns a check that the value's string form matches re.
func matches(re string) func(Value) string {
	rx := regexp.MustCompile(re)
	return func(v Value) string {
		if v.Kind() != KindString || !rx.MatchString(v.String()) {
			return "does not match " + re
		}
		return ""
	}
}

// randomStringCheck returns a check of RandomString's documented promise:
// the length, at least the minimum number of each class, none of avoid.
func randomStringCheck(length, digits, special, upper, lower int, avoid string) func(Value) string {
	return func(v Value) string {
		s := v.String()
		if v.Kind() != KindString || len(s) != length {
			return fmt.Sprintf("want %d characters", length)
		}
		var n [4]int
		for _, r := range s {
			switch {
			case r >= '0' && r <= '9':
				n[0]++
			case r >= 'A' && r <= 'Z':
				n[2]++
			case r >= 'a' && r <= 'z':
				n[3]++
			case strings.ContainsRune(randomClasses[1], r):
				n[1]++
			default:
				return fmt.Sprintf("%q is not an allowed character", r)
			}
			if strings.ContainsRune(avoid, r) {
				return fmt.Sprintf("holds %q, which is to be avoided", r)
			}
		}
		if n[0] < digits || n[1] < special || n[2] < upper || n[3] < lower {
			return fmt.Sprintf("has %d digits, %d special, %d capitals, %d lower case; want at least %d, %d, %d, %d", n[0], n[1], n[2], n[3], digits, special, upper, lower)
		}
		return ""
	}
}

var funcTables = map[string][]tc{
	"Append": {
		{name: "doc: Append example 'Append constant suffix to user name'", expr: `Append([userPrincipalName], ".test")`,
			env: MapEnv{"userPrincipalName": "John.Doe@contoso.com"}, want: Str("John.Doe@contoso.com.test")},
		{name: "doc: Examples 'Generate user alias by concatenating parts of first and last name'", expr: `Append(Mid([givenName], 1, 3), Mid([surname], 1, 5))`,
			env: MapEnv{"givenName": "John", "surname": "Doe"}, want: Str("JohDoe")},
		{name: "two constants", expr: `Append("a", "b")`, want: Str("ab")},
		{name: "unicode", expr: `Append([a], "·Łukasz")`, env: MapEnv{"a": "Zoë"}, want: Str("Zoë·Łukasz")},
		{name: "null: both null gives null", expr: `Append([a], [b])`, want: Null()},
		{name: "null: source null gives the suffix", expr: `Append([a], "x")`, want: Str("x")},
		{name: "null: suffix null gives the source", expr: `Append("x", [b])`, want: Str("x")},
		{name: "null: empty strings give empty", expr: `Append([a], [b])`, env: MapEnv{"a": "", "b": ""}, want: Str("")},
		{name: "type: boolean source reads True", expr: `Append(True, "!")`, want: Str("True!")},
		{name: "type: multi-valued source reads comma-joined", expr: `Append(Split("a;b", ";"), "c")`, want: Str("a,bc")},
		{name: "type: date source reads M/d/yyyy h:mm:ss tt", expr: `Append(CDate("2021-01-01"), "")`, want: Str("1/1/2021 12:00:00 AM")},
		{name: "arity: one argument", expr: `Append([a])`, parseErr: "takes 2 arguments, got 1; usage: Append(source, suffix)"},
		{name: "arity: three arguments", expr: `Append("a", "b", "c")`, parseErr: "takes 2 arguments, got 3"},
		{name: "arity: no arguments", expr: `Append()`, parseErr: "takes 2 arguments, got 0"},
	},

	"BitAnd": {
		{name: "doc: BitAnd example BitAnd(&HF, &HF7) is 7", expr: `BitAnd(&HF, &HF7)`, want: Str("7")},
		{name: "doc rule: 0 when no bit is set in both", expr: `BitAnd(8, 7)`, want: Str("0")},
		{name: "decimal strings", expr: `BitAnd("12", "10")`, want: Str("8")},
		{name: "lower-case hex", expr: `BitAnd(&hff, 15)`, want: Str("15")},
		{name: "userAccountControl disabled bit set", expr: `BitAnd([uac], 2)`, env: MapEnv{"uac": "514"}, want: Str("2")},
		{name: "userAccountControl disabled bit clear", expr: `BitAnd([uac], 2)`, env: MapEnv{"uac": "512"}, want: Str("0")},
		{name: "negative number", expr: `BitAnd(-1, 5)`, want: Str("5")},
		{name: "null: missing value1", expr: `BitAnd([uac], 2)`, wantErr: "BitAnd: value1 (argument 1) is null, expected a whole number"},
		{name: "null: empty value2", expr: `BitAnd(2, [m])`, env: MapEnv{"m": ""}, wantErr: `BitAnd: value2 (argument 2) "" is not a whole number`},
		{name: "type: non-numeric field", expr: `BitAnd([uac], 2)`, env: MapEnv{"uac": "x"}, wantErr: `BitAnd: value1 (argument 1) "x" is not a whole number`},
		{name: "type: non-numeric constant", expr: `BitAnd("a", 1)`, parseErr: `value1 (argument 1) must be a whole number, got "a"`},
		{name: "type: fraction", expr: `BitAnd(1, 1.5)`, parseErr: `value2 (argument 2) must be a whole number, got "1.5"`},
		{name: "type: whole float accepted", expr: `BitAnd(3.0, 1)`, want: Str("1")},
		{name: "arity: one argument", expr: `BitAnd(1)`, parseErr: "takes 2 arguments, got 1; usage: BitAnd(value1, value2)"},
		{name: "arity: value1 left out", expr: `BitAnd(, 1)`, parseErr: "value1 (argument 1) cannot be left out"},
	},

	"CBool": {
		{name: "doc: CBool example, same values", expr: `CBool([attribute1] = [attribute2])`, env: MapEnv{"attribute1": "x", "attribute2": "x"}, want: Bool(true)},
		{name: "doc: CBool example, different values", expr: `CBool([attribute1] = [attribute2])`, env: MapEnv{"attribute1": "x", "attribute2": "y"}, want: Bool(false)},
		{name: "doc rule: non-zero is True", expr: `CBool("5")`, want: Bool(true)},
		{name: "doc rule: negative non-zero is True", expr: `CBool("-2")`, want: Bool(true)},
		{name: "doc rule: fraction is non-zero", expr: `CBool(0.5)`, want: Bool(true)},
		{name: "doc rule: zero is False", expr: `CBool("0")`, want: Bool(false)},
		{name: "true in any case", expr: `CBool("tRuE")`, want: Bool(true)},
		{name: "False string", expr: `CBool("False")`, want: Bool(false)},
		{name: "boolean stays", expr: `CBool(True)`, want: Bool(true)},
		{name: "null: missing is False", expr: `CBool([x])`, want: Bool(false)},
		{name: "null: empty is False", expr: `CBool([x])`, env: MapEnv{"x": ""}, want: Bool(false)},
		{name: "type: text is an error", expr: `CBool([x])`, env: MapEnv{"x": "abc"}, wantErr: `CBool: cannot convert "abc" to a boolean`},
		{name: "type: date is an error", expr: `CBool(CDate("2021-01-01"))`, wantErr: `CBool: cannot convert "1/1/2021 12:00:00 AM" to a boolean`},
		{name: "arity: none", expr: `CBool()`, parseErr: "takes 1 argument, got 0; usage: CBool(expression)"},
		{name: "arity: two", expr: `CBool(1, 2)`, parseErr: "takes 1 argument, got 2"},
	},

	"CDate": {
		{name: "doc: CDate example 1", expr: `CDate([StatusHireDate])`, env: MapEnv{"StatusHireDate": "2020-03-16-07:00"}, want: date(2020, 3, 16, 7, 0, 0)},
		{name: "doc: CDate example 1 as text", expr: `CStr(CDate([StatusHireDate]))`, env: MapEnv{"StatusHireDate": "2020-03-16-07:00"}, want: Str("3/16/2020 7:00:00 AM")},
		{name: "doc: CDate example 2", expr: `CStr(CDate("2021-06-30+08:00"))`, want: Str("6/29/2021 4:00:00 PM")},
		{name: "doc: CDate example 3", expr: `CStr(CDate("2009-06-15T01:45:30-07:00"))`, want: Str("6/15/2009 8:45:30 AM")},
		{name: "fractional seconds", expr: `CDate("2021-06-30T10:11:12.5Z")`, want: Date(time.Date(2021, 6, 30, 10, 11, 12, 500_000_000, time.UTC))},
		{name: "US date", expr: `CDate("12/31/2025")`, want: date(2025, 12, 31, 0, 0, 0)},
		{name: "Entra's own rendering reads back", expr: `CDate("8/25/2021 5:41:18 PM")`, want: date(2021, 8, 25, 17, 41, 18)},
		{name: "LDAP generalized time", expr: `CDate("20150123105347Z")`, want: date(2015, 1, 23, 10, 53, 47)},
		{name: "LDAP generalized time with an offset", expr: `CDate("20150123115347+0100")`, want: date(2015, 1, 23, 10, 53, 47)},
		{name: "LDAP generalized time, AD's fraction", expr: `CDate("20150123105347.0Z")`, want: date(2015, 1, 23, 10, 53, 47)},
		{name: "surrounding spaces", expr: `CDate([d])`, env: MapEnv{"d": " 2021-01-02 "}, want: date(2021, 1, 2, 0, 0, 0)},
		{name: "date stays", expr: `CDate(CDate("2021-01-02"))`, want: date(2021, 1, 2, 0, 0, 0)},
		{name: "null: missing gives null", expr: `CDate([x])`, want: Null()},
		{name: "null: empty is not a date", expr: `CDate([x])`, env: MapEnv{"x": ""}, wantErr: `CDate: expression (argument 1) "" is not a date-time`},
		{name: "type: text field", expr: `CDate([x])`, env: MapEnv{"x": "soon"}, wantErr: `CDate: expression (argument 1) "soon" is not a date-time`},
		{name: "type: year 0 is outside .NET's dates", expr: `CDate([x])`, env: MapEnv{"x": "0000-01-01"}, wantErr: `CDate: expression (argument 1) "0000-01-01" is not a date-time`},
		{name: "type: boolean", expr: `CDate(True)`, wantErr: `CDate: expression (argument 1) "True" is not a date-time`},
		{name: "type: text constant", expr: `CDate("31.12.2025")`, parseErr: `"31.12.2025" is not a date-time`},
		{name: "arity: none", expr: `CDate()`, parseErr: "takes 1 argument, got 0; usage: CDate(expression)"},
		{name: "arity: two", expr: `CDate("2021-01-01", "x")`, parseErr: "takes 1 argument, got 2"},
	},

	"Coalesce": {
		{name: "doc: Coalesce example 'Flow mail value if not NULL, otherwise flow userPrincipalName'", expr: `Coalesce([mail],[userPrincipalName])`,
			env: MapEnv{"userPrincipalName": "John.Doe@contoso.com"}, want: Str("John.Doe@contoso.com")},
		{name: "doc: Coalesce example with mail present", expr: `Coalesce([mail],[userPrincipalName])`,
			env: MapEnv{"mail": "jd@contoso.com", "userPrincipalName": "John.Doe@contoso.com"}, want: Str("jd@contoso.com")},
		{name: "doc rule: all null with defaultValue gives defaultValue", expr: `Coalesce([a], [b], "d")`, want: Str("d")},
		{name: "doc rule: all null without defaultValue gives null", expr: `Coalesce([a], [b])`, want: Null()},
		{name: `doc rule: defaultValue may be ""`, expr: `Coalesce([a], "")`, want: Str("")},
		{name: "null: empty string is not null", expr: `Coalesce([a], [b], "d")`, env: MapEnv{"a": ""}, want: Str("")},
		{name: "null: omitted argument skipped", expr: `Coalesce([a], , "d")`, want: Str("d")},
		{name: "single argument", expr: `Coalesce([a])`, env: MapEnv{"a": "x"}, want: Str("x")},
		{name: "many arguments", expr: `Coalesce([a], [b], [c], [d], [e])`, env: MapEnv{"e": "last"}, want: Str("last")},
		{name: "only what is needed is evaluated", expr: `Coalesce("x", Mid("y", [bad], 1))`, env: MapEnv{"bad": "q"}, want: Str("x")},
		{name: "type: boolean kept", expr: `Coalesce([a], True)`, want: Bool(true)},
		{name: "type: multi-valued kept", expr: `Coalesce(Split("a,b", ","), "x")`, want: List("a", "b")},
		{name: "arity: none", expr: `Coalesce()`, parseErr: "takes at least 1 argument, got 0; usage: Coalesce(source1, ..., [defaultValue])"},
	},

	"ConvertToBase64": {
		{name: "doc: ConvertToBase64 example", expr: `ConvertToBase64("Hello world!")`, want: Str("SABlAGwAbABvACAAdwBvAHIAbABkACEA")},
		{name: "accented letter", expr: `ConvertToBase64("é")`, want: Str("6QA=")},
		{name: "name from a field", expr: `ConvertToBase64([n])`, env: MapEnv{"n": "Zoë"}, want: Str("WgBvAOsA")},
		{name: "outside the BMP is a surrogate pair", expr: `ConvertToBase64("😀")`, want: Str("PdgA3g==")},
		{name: "empty", expr: `ConvertToBase64("")`, want: Str("")},
		{name: "null: missing gives null", expr: `ConvertToBase64([x])`, want: Null()},
		{name: "type: boolean converts its text", expr: `ConvertToBase64(True)`, want: Str("VAByAHUAZQA=")},
		{name: "arity: none", expr: `ConvertToBase64()`, parseErr: "takes 1 argument, got 0; usage: ConvertToBase64(source)"},
		{name: "arity: two", expr: `ConvertToBase64("a", "b")`, parseErr: "takes 1 argument, got 2"},
	},

	"ConvertToUTF8Hex": {
		{name: "doc: ConvertToUTF8Hex example", expr: `ConvertToUTF8Hex("Hello world!")`, want: Str("48656C6C6F20776F726C6421")},
		// The page's output was computed from another object ID than the
		// one it shows; this is what its expression gives for the input.
		{name: "doc: Examples 'Generate an ID for a user based on their object ID' (the page's output is for another ID)",
			expr: `Join("", 1000, Replace(ConvertToUTF8Hex([objectId]), , "[a-zA-Z_]*", , "", , ))`,
			env:  MapEnv{"objectId": "00aa00aa-bb11-cc22-dd33-44ee44ee44ee"}, want: Str("100030306161303061612626231312636332322646433332343465653434656534346565")},
		{name: "accented letter", expr: `ConvertToUTF8Hex("é")`, want: Str("C3A9")},
		{name: "outside the BMP", expr: `ConvertToUTF8Hex("😀")`, want: Str("F09F9880")},
		{name: "empty", expr: `ConvertToUTF8Hex("")`, want: Str("")},
		{name: "null: missing gives null", expr: `ConvertToUTF8Hex([x])`, want: Null()},
		{name: "type: number converts its digits", expr: `ConvertToUTF8Hex(42)`, want: Str("3432")},
		{name: "type: boolean converts its text", expr: `ConvertToUTF8Hex(True)`, want: Str("54727565")},
		{name: "arity: none", expr: `ConvertToUTF8Hex()`, parseErr: "takes 1 argument, got 0; usage: ConvertToUTF8Hex(source)"},
	},

	"Count": {
		{name: "doc rule: number of elements of a multi-valued attribute", expr: `Count(Split("a,b,c", ","))`, want: Str("3")},
		{name: "empty elements count", expr: `Count(Split("a,,b", ","))`, want: Str("3")},
		{name: "single value counts 1", expr: `Count([x])`, env: MapEnv{"x": "solo"}, want: Str("1")},
		{name: "null: missing counts 0", expr: `Count([x])`, want: Str("0")},
		{name: "null: empty split counts 0", expr: `Count(Split([x], ","))`, env: MapEnv{"x": ""}, want: Str("0")},
		{name: "type: boolean counts 1", expr: `Count(True)`, want: Str("1")},
		{name: "type: date counts 1", expr: `Count(CDate("2021-01-01"))`, want: Str("1")},
		{name: "arity: none", expr: `Count()`, parseErr: "takes 1 argument, got 0; usage: Count(attribute)"},
		{name: "arity: two", expr: `Count([a], [b])`, parseErr: "takes 1 argument, got 2"},
	},

	"CStr": {
		{name: "doc: CStr example", expr: `CStr([dn])`, env: MapEnv{"dn": "cn=Joe,dc=contoso,dc=com"}, want: Str("cn=Joe,dc=contoso,dc=com")},
		{name: "doc rule: numeric value", expr: `CStr(42)`, want: Str("42")},
		{name: "doc rule: Boolean", expr: `CStr(True)`, want: Str("True")},
		{name: "doc rule: Boolean from a function", expr: `CStr(IsNull([x]))`, want: Str("True")},
		{name: "date renders M/d/yyyy h:mm:ss tt", expr: `CStr(CDate("2021-01-01T13:04:05Z"))`, want: Str("1/1/2021 1:04:05 PM")},
		{name: "null: missing stays null", expr: `CStr([x])`, want: Null()},
		{name: "null: empty stays empty", expr: `CStr([x])`, env: MapEnv{"x": ""}, want: Str("")},
		{name: "type: multi-valued reads comma-joined", expr: `CStr(Split("a;b", ";"))`, want: Str("a,b")},
		{name: "arity: none", expr: `CStr()`, parseErr: "takes 1 argument, got 0; usage: CStr(value)"},
		{name: "arity: two", expr: `CStr(1, 2)`, parseErr: "takes 1 argument, got 2"},
	},

	"DateAdd": {
		{name: "doc: DateAdd example 1 'Add 7 days to hire date'", expr: `DateAdd("d", 7, CDate([StatusHireDate]))`, env: MapEnv{"StatusHireDate": "2012-03-16-07:00"}, want: date(2012, 3, 23, 7, 0, 0)},
		{name: "doc: DateAdd example 1 'Get a date ten days before to hire date'", expr: `DateAdd("d", -10, CDate([StatusHireDate]))`, env: MapEnv{"StatusHireDate": "2012-03-16-07:00"}, want: date(2012, 3, 6, 7, 0, 0)},
		{name: "doc: DateAdd example 1 'Add two weeks to hire date'", expr: `DateAdd("ww", 2, CDate([StatusHireDate]))`, env: MapEnv{"StatusHireDate": "2012-03-16-07:00"}, want: date(2012, 3, 30, 7, 0, 0)},
		{name: "doc: DateAdd example 1 'Add ten months to hire date'", expr: `DateAdd("m", 10, CDate([StatusHireDate]))`, env: MapEnv{"StatusHireDate": "2012-03-16-07:00"}, want: date(2013, 1, 16, 7, 0, 0)},
		{name: "doc: DateAdd example 1 'Add two years to hire date' (as text)", expr: `CStr(DateAdd("yyyy", 2, CDate([StatusHireDate])))`, env: MapEnv{"StatusHireDate": "2012-03-16-07:00"}, want: Str("3/16/2014 7:00:00 AM")},
		{name: "month end is clamped", expr: `DateAdd("m", 1, CDate("2021-01-31"))`, want: date(2021, 2, 28, 0, 0, 0)},
		{name: "leap day plus a year", expr: `DateAdd("yyyy", 1, "2020-02-29")`, want: date(2021, 2, 28, 0, 0, 0)},
		{name: "negative months across a year", expr: `DateAdd("m", -13, "2021-03-31")`, want: date(2020, 2, 29, 0, 0, 0)},
		{name: "hours", expr: `DateAdd("h", 36, "2021-01-01")`, want: date(2021, 1, 2, 12, 0, 0)},
		{name: "minutes", expr: `DateAdd("n", -1, "2021-01-01")`, want: date(2020, 12, 31, 23, 59, 0)},
		{name: "seconds", expr: `DateAdd("s", 61, "2021-01-01")`, want: date(2021, 1, 1, 0, 1, 1)},
		{name: "quarter", expr: `DateAdd("q", 1, "2021-01-15")`, want: date(2021, 4, 15, 0, 0, 0)},
		{name: "interval in any case", expr: `DateAdd("D", 1, "2021-01-15")`, want: date(2021, 1, 16, 0, 0, 0)},
		{name: "value from a field", expr: `DateAdd("d", [n], "2021-01-15")`, env: MapEnv{"n": "-15"}, want: date(2020, 12, 31, 0, 0, 0)},
		{name: "up to 9999-12-31", expr: `DateAdd("d", 1, "9999-12-30")`, want: date(9999, 12, 31, 0, 0, 0)},
		{name: "null: missing dateTime gives null", expr: `DateAdd("d", 1, [x])`, want: Null()},
		{name: "null: missing value", expr: `DateAdd("d", [n], "2021-01-01")`, wantErr: "DateAdd: value (argument 2) is null, expected a whole number"},
		{name: "type: dateTime not a date", expr: `DateAdd("d", 1, [x])`, env: MapEnv{"x": "31.12.2025"}, wantErr: `DateAdd: dateTime (argument 3) "31.12.2025" is not a date-time`},
		{name: "type: unknown interval in a field", expr: `DateAdd([i], 1, "2021-01-01")`, env: MapEnv{"i": "fortnight"}, wantErr: `DateAdd: interval must be one of yyyy, m, d, ww, h, n, s; got "fortnight"`},
		{name: "type: value not a number", expr: `DateAdd("d", [n], "2021-01-01")`, env: MapEnv{"n": "one"}, wantErr: `DateAdd: value (argument 2) "one" is not a whole number`},
		{name: "type: unknown interval constant", expr: `DateAdd("x", 1, Now())`, parseErr: `interval must be one of yyyy, m, d, ww, h, n, s; got "x"`},
		{name: "type: fractional value constant", expr: `DateAdd("d", 1.5, "2021-01-01")`, parseErr: `value (argument 2) must be a whole number, got "1.5"`},
		{name: "type: dateTime constant not a date", expr: `DateAdd("d", 1, "soon")`, parseErr: `"soon" is not a date-time`},
		{name: "range: past year 9999", expr: `DateAdd("d", 1, "9999-12-31")`, wantErr: "DateAdd: adding 1 d gives a date outside years 1 to 9999"},
		{name: "range: before year 1", expr: `DateAdd("yyyy", -2021, "2021-01-01")`, wantErr: "DateAdd: adding -2021 yyyy gives a date outside years 1 to 9999"},
		{name: "range: huge day count does not overflow", expr: `DateAdd("d", [n], "2021-01-01")`, env: MapEnv{"n": "2147483648000"}, wantErr: "DateAdd: adding 2147483648000 d to 1/1/2021 12:00:00 AM leaves the range of dates"},
		{name: "range: huge hour count does not overflow", expr: `DateAdd("h", [n], "2021-01-01")`, env: MapEnv{"n": "9223372036854775807"}, wantErr: "DateAdd: adding 9223372036854775807 h"},
		{name: "range: huge negative seconds", expr: `DateAdd("s", [n], "2021-01-01")`, env: MapEnv{"n": "-9223372036854775808"}, wantErr: "leaves the range of dates"},
		{name: "arity: two arguments", expr: `DateAdd("d", 1)`, parseErr: "takes 3 arguments, got 2; usage: DateAdd(interval, value, dateTime)"},
		{name: "arity: dateTime left out", expr: `DateAdd("d", 1, )`, parseErr: "dateTime (argument 3) cannot be left out"},
	},

	"DateDiff": {
		{name: "doc: DateDiff example 1 'Positive difference in days'", expr: `DateDiff("d", CDate("2021-08-18+08:00"), CDate("2021-08-31+08:00"))`, want: Str("13")},
		{name: "doc: DateDiff example 1 'Negative difference in days'", expr: `DateDiff("d", CDate("8/25/2021 5:41:18 PM"), CDate("2012-03-16-07:00"))`, want: Str("-3449")},
		{name: "doc: DateDiff example 1 'Difference in weeks'", expr: `DateDiff("ww", CDate("8/25/2021 5:41:18 PM"), CDate("2012-03-16-07:00"))`, want: Str("-493")},
		{name: "doc: DateDiff example 1 'Difference in months'", expr: `DateDiff("m", CDate("8/25/2021 5:41:18 PM"), CDate("2012-03-16-07:00"))`, want: Str("-113")},
		{name: "doc: DateDiff example 1 'Difference in years'", expr: `DateDiff("yyyy", CDate("8/25/2021 5:41:18 PM"), CDate("2012-03-16-07:00"))`, want: Str("-9")},
		{name: "doc: DateDiff example 1 'Difference when both dates are same'", expr: `DateDiff("d", CDate("2021-08-31+08:00"), CDate("2021-08-31+08:00"))`, want: Str("0")},
		{name: "doc: DateDiff example 1 'Difference in hours'", expr: `DateDiff("h", CDate("2021-08-24"), CDate("2021-08-25"))`, want: Str("24")},
		{name: "doc: DateDiff example 1 'Difference in minutes'", expr: `DateDiff("n", CDate("2021-08-24"), CDate("2021-08-25"))`, want: Str("1440")},
		{name: "doc: DateDiff example 1 'Difference in seconds'", expr: `DateDiff("s", CDate("2021-08-24"), CDate("2021-08-25"))`, want: Str("86400")},
		{name: "doc: DateDiff example 1 expression with Now() at 8/25/2021 5:41:18 PM", expr: `DateDiff("d", Now(), CDate([StatusHireDate]))`,
			env: MapEnv{"StatusHireDate": "2012-03-16-07:00"}, now: time.Date(2021, 8, 25, 17, 41, 18, 0, time.UTC), want: Str("-3449")},
		{name: "doc: DateDiff example 2, hire date in 10 days", expr: docDateDiffExample2, env: MapEnv{"Active": "1", "StatusHireDate": "2024-05-11-07:00"}, now: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC), want: Str("False")},
		{name: "doc: DateDiff example 2, hire date in 2 days", expr: docDateDiffExample2, env: MapEnv{"Active": "1", "StatusHireDate": "2024-05-03-07:00"}, now: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC), want: Str("True")},
		{name: "doc: DateDiff example 2, inactive", expr: docDateDiffExample2, env: MapEnv{"Active": "0", "StatusHireDate": "2024-05-03-07:00"}, now: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC), want: Str("False")},
		{name: "doc: DateDiff example 2, other Active value falls to the omitted default", expr: docDateDiffExample2, env: MapEnv{"Active": "x"}, want: Null()},
		{name: "days are whole elapsed days", expr: `DateDiff("d", "2021-01-01T23:00:00Z", "2021-01-02T01:00:00Z")`, want: Str("0")},
		{name: "quarters are calendar quarters", expr: `DateDiff("q", "2021-03-31", "2021-04-01")`, want: Str("1")},
		{name: "w counts whole weeks", expr: `DateDiff("w", "2021-01-01", "2021-01-15")`, want: Str("2")},
		{name: "ww counts Sundays crossed", expr: `DateDiff("ww", "2021-01-02", "2021-01-03")`, want: Str("1")},
		{name: "years are calendar years", expr: `DateDiff("yyyy", "2020-12-31", "2021-01-01")`, want: Str("1")},
		{name: "whole range", expr: `DateDiff("yyyy", "0001-01-01", "9999-12-31")`, want: Str("9998")},
		{name: "null: date1 missing gives null", expr: `DateDiff("d", [a], "2021-01-15")`, want: Null()},
		{name: "null: date2 missing gives null", expr: `DateDiff("d", "2021-01-15", [b])`, want: Null()},
		{name: "type: date1 not a date", expr: `DateDiff("d", [a], "2021-01-15")`, env: MapEnv{"a": "x"}, wantErr: `DateDiff: date1 (argument 2) "x" is not a date-time`},
		{name: "type: unknown interval in a field", expr: `DateDiff([i], "2021-01-01", "2021-01-15")`, env: MapEnv{"i": "fortnight"}, wantErr: "DateDiff: interval must be one of"},
		{name: "type: unknown interval constant", expr: `DateDiff("days", "2021-01-01", "2021-01-15")`, parseErr: `interval must be one of yyyy, m, d, ww, h, n, s; got "days"`},
		{name: "type: date2 constant not a date", expr: `DateDiff("d", "2021-01-01", "tomorrow")`, parseErr: `"tomorrow" is not a date-time`},
		{name: "arity: two arguments", expr: `DateDiff("d", "2021-01-01")`, parseErr: "takes 3 arguments, got 2; usage: DateDiff(interval, date1, date2)"},
		{name: "arity: interval left out", expr: `DateDiff(, "2021-01-01", "2021-01-02")`, parseErr: "interval (argument 1) cannot be left out"},
	},

	"DateFromNum": {
		{name: "doc: DateFromNum example DateFromNum(129699324000000000) is January 1, 2012 at 11:00PM", expr: `DateFromNum(129699324000000000)`, want: date(2012, 1, 1, 23, 0, 0)},
		{name: "doc: DateFromNum example DateFromNum([lastLogonTimestamp])", expr: `DateFromNum([lastLogonTimestamp])`, env: MapEnv{"lastLogonTimestamp": "129699324000000000"}, want: date(2012, 1, 1, 23, 0, 0)},
		{name: "zero is 1601-01-01", expr: `CStr(DateFromNum("0"))`, want: Str("1/1/1601 12:00:00 AM")},
		{name: "2000-01-01", expr: `DateFromNum(125911584000000000)`, want: date(2000, 1, 1, 0, 0, 0)},
		{name: "round trip through NumFromDate", expr: `NumFromDate(DateFromNum("132539615990000000"))`, want: Str("132539615990000000")},
		{name: "last representable instant", expr: `CStr(DateFromNum(2650467743999999999))`, want: Str("12/31/9999 11:59:59 PM")},
		{name: "null: missing gives null", expr: `DateFromNum([x])`, want: Null()},
		{name: "null: empty is an error", expr: `DateFromNum([x])`, env: MapEnv{"x": ""}, wantErr: `DateFromNum: value "" is not an Active Directory date number`},
		{name: "type: accountExpires 'never' is beyond 9999", expr: `DateFromNum([x])`, env: MapEnv{"x": "9223372036854775807"}, wantErr: `DateFromNum: value "9223372036854775807" is not an Active Directory date number`},
		{name: "type: negative", expr: `DateFromNum([x])`, env: MapEnv{"x": "-1"}, wantErr: "DateFromNum: value"},
		{name: "type: text", expr: `DateFromNum([x])`, env: MapEnv{"x": "abc"}, wantErr: `DateFromNum: value "abc" is not an Active Directory date number`},
		{name: "type: text constant", expr: `DateFromNum("abc")`, parseErr: `value (argument 1) must be a whole number, got "abc"`},
		{name: "arity: none", expr: `DateFromNum()`, parseErr: "takes 1 argument, got 0; usage: DateFromNum(value)"},
	},

	"FormatDateTime": {
		{name: "doc: FormatDateTime example 'Output date as a string in a certain format'", expr: `FormatDateTime([extensionAttribute1], , "yyyyMMddHHmmss.fZ", "yyyy-MM-dd")`,
			env: MapEnv{"extensionAttribute1": "20150123105347.1Z"}, want: Str("2015-01-23")},
		{name: "doc rule: dateTimeStyles is optional and accepted", expr: `FormatDateTime([d], "RoundtripKind", "yyyy-MM-dd", "yyyy")`, env: MapEnv{"d": "2025-03-04"}, want: Str("2025")},
		{name: "doc rule: leading and trailing white space allowed", expr: `FormatDateTime([d], , "M/d/yyyy", "yyyyMMdd")`, env: MapEnv{"d": " 1/2/2025 "}, want: Str("20250102")},
		{name: "German date to ISO", expr: `FormatDateTime([d], , "dd.MM.yyyy", "yyyy-MM-dd")`, env: MapEnv{"d": "31.12.2025"}, want: Str("2025-12-31")},
		{name: "offset converted to UTC, long names", expr: `FormatDateTime([d], , "yyyy-MM-ddTHH:mm:ss.FFFK", "dddd, MMMM d, yyyy h:mm tt zzz")`, env: MapEnv{"d": "2025-03-04T16:05:06.5+02:00"}, want: Str("Tuesday, March 4, 2025 2:05 PM +00:00")},
		{name: "standard format o without offset", expr: `FormatDateTime([d], , "yyyy-MM-dd", "o")`, env: MapEnv{"d": "2025-03-04"}, want: Str("2025-03-04T00:00:00.0000000")},
		{name: "standard format o with offset", expr: `FormatDateTime([d], , "yyyy-MM-ddK", "o")`, env: MapEnv{"d": "2025-03-04Z"}, want: Str("2025-03-04T00:00:00.0000000Z")},
		{name: "F drops trailing zeros and the dot", expr: `FormatDateTime([d], , "yyyy-MM-dd HH:mm:ss", "HH:mm:ss.FFF")`, env: MapEnv{"d": "2025-03-04 10:11:12"}, want: Str("10:11:12")},
		{name: "quoted literals, two-digit year", expr: `FormatDateTime([d], , "dd MMM yy", "'Day' d 'of' MMMM yyyy")`, env: MapEnv{"d": "05 feb 49"}, want: Str("Day 5 of February 2049")},
		{name: "Workday date with offset (NumFromDate example input)", expr: `FormatDateTime([d], , "yyyy-MM-ddzzz", "yyyy-MM-dd")`, env: MapEnv{"d": "2020-12-31-08:00"}, want: Str("2020-12-31")},
		{name: "formats from fields", expr: `FormatDateTime([d], , [f], "yyyy")`, env: MapEnv{"d": "2025", "f": "yyyy"}, want: Str("2025")},
		{name: "null: missing source gives null", expr: `FormatDateTime([d], , "yyyy-MM-dd", "yyyy")`, want: Null()},
		{name: "null: empty source does not match", expr: `FormatDateTime([d], , "yyyy-MM-dd", "yyyy")`, env: MapEnv{"d": ""}, wantErr: `FormatDateTime: "" does not match inputFormat`},
		{name: "type: impossible day", expr: `FormatDateTime([d], , "yyyy-MM-dd", "yyyy")`, env: MapEnv{"d": "2025-02-30"}, wantErr: `FormatDateTime: "2025-02-30" does not match inputFormat: day 30 is out of range`},
		{name: "type: other format", expr: `FormatDateTime([d], , "yyyy-MM-dd", "yyyy")`, env: MapEnv{"d": "31.12.2025"}, wantErr: `FormatDateTime: "31.12.2025" does not match inputFormat`},
		{name: "type: year 0 is outside .NET's dates", expr: `FormatDateTime([d], , "yyyy-MM-dd", "yyyy")`, env: MapEnv{"d": "0000-01-01"}, wantErr: "year 0 is out of range"},
		{name: "type: five-digit year is outside .NET's dates", expr: `FormatDateTime([d], , "yyyyy", "yyyy")`, env: MapEnv{"d": "99999"}, wantErr: "year 99999 is out of range"},
		{name: "type: bad format in a field", expr: `FormatDateTime([d], , [f], "yyyy")`, env: MapEnv{"d": "2025", "f": "q"}, wantErr: `FormatDateTime: inputFormat (argument 3): unknown standard format "q"`},
		{name: "type: unterminated quote in a constant format", expr: `FormatDateTime([a], , "yyyy-MM-dd'", "yyyy")`, parseErr: "inputFormat (argument 3): unterminated quoted text"},
		{name: "type: unknown standard format constant", expr: `FormatDateTime([a], , "yyyy", "q")`, parseErr: `outputFormat (argument 4): unknown standard format "q"`},
		{name: "arity: three arguments", expr: `FormatDateTime([d], "yyyy", "yyyy")`, parseErr: "takes 4 arguments, got 3; usage: FormatDateTime(source, [dateTimeStyles], inputFormat, outputFormat)"},
		{name: "arity: inputFormat left out", expr: `FormatDateTime([a], , , "yyyy")`, parseErr: "inputFormat (argument 3) cannot be left out"},
		{name: "arity: source left out", expr: `FormatDateTime(, , "yyyy", "yyyy")`, parseErr: "source (argument 1) cannot be left out"},
	},

	"Guid": {
		{name: "doc: Guid example, shape of the sample output 00aa00aa-bb11-cc22-dd33-44ee44ee44ee", expr: `Guid()`, check: matches(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)},
		{name: "random version 4 GUID", expr: `Guid()`, check: matches(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)},
		{name: "two calls differ", expr: `Guid() = Guid()`, want: Bool(false)},
		{name: "type: used as text", expr: `Count(Split(Guid(), "-"))`, want: Str("5")},
		{name: "randomness failure", expr: `Guid()`, ctx: &Context{Rand: strings.NewReader("short")}, wantErr: "Guid: reading randomness"},
		{name: "arity: one argument", expr: `Guid(1)`, parseErr: "takes 0 arguments, got 1; usage: Guid()"},
	},

	"IgnoreFlowIfNullOrEmpty": {
		{name: "doc: IgnoreFlowIfNullOrEmpty example 1, department null", expr: `IgnoreFlowIfNullOrEmpty([department])`, want: Null(), ignored: true},
		{name: "doc: IgnoreFlowIfNullOrEmpty example 1, department empty", expr: `IgnoreFlowIfNullOrEmpty([department])`, env: MapEnv{"department": ""}, want: Null(), ignored: true},
		{name: "doc: IgnoreFlowIfNullOrEmpty example 1, department present", expr: `IgnoreFlowIfNullOrEmpty([department])`, env: MapEnv{"department": "Sales"}, want: Str("Sales")},
		{name: "doc: IgnoreFlowIfNullOrEmpty example 2, prefix not listed", expr: docIgnoreFlowExample2, env: MapEnv{"prefix": "9999"}, want: Null(), ignored: true},
		{name: "doc: IgnoreFlowIfNullOrEmpty example 2, prefix missing", expr: docIgnoreFlowExample2, want: Null(), ignored: true},
		{name: "doc: IgnoreFlowIfNullOrEmpty example 2, prefix 3443", expr: docIgnoreFlowExample2, env: MapEnv{"prefix": "3443"}, want: Str("Dr.")},
		{name: "doc: IgnoreFlowIfNullOrEmpty example 2, prefix 3445", expr: docIgnoreFlowExample2, env: MapEnv{"prefix": "3445"}, want: Str("Prof. Dr.")},
		{name: "null: a space is not empty", expr: `IgnoreFlowIfNullOrEmpty([x])`, env: MapEnv{"x": " "}, want: Str(" ")},
		{name: "null: ignored inside Coalesce reads as null", expr: `Coalesce(IgnoreFlowIfNullOrEmpty([x]), "d")`, want: Str("d")},
		{name: "type: empty multi-valued is ignored", expr: `IgnoreFlowIfNullOrEmpty(Split([x], ","))`, env: MapEnv{"x": ""}, want: Null(), ignored: true},
		{name: "type: False flows", expr: `IgnoreFlowIfNullOrEmpty(False)`, want: Bool(false)},
		{name: "arity: none", expr: `IgnoreFlowIfNullOrEmpty()`, parseErr: "takes 1 argument, got 0; usage: IgnoreFlowIfNullOrEmpty(expression)"},
		{name: "arity: two", expr: `IgnoreFlowIfNullOrEmpty([a], [b])`, parseErr: "takes 1 argument, got 2"},
	},

	"IIF": {
		{name: "doc: IIF example, country USA", expr: `IIF([country]="USA",[country],[department])`, env: MapEnv{"country": "USA", "department": "Sales"}, want: Str("USA")},
		{name: "doc: IIF example, other country", expr: `IIF([country]="USA",[country],[department])`, env: MapEnv{"country": "DE", "department": "Sales"}, want: Str("Sales")},
		{name: "doc: IIF known limitations AND workaround, both", expr: `IIF([country]="USA",IIF([state]="CA","True","False"),"False")`, env: MapEnv{"country": "USA", "state": "CA"}, want: Str("True")},
		{name: "doc: IIF known limitations AND workaround, one", expr: `IIF([country]="USA",IIF([state]="CA","True","False"),"False")`, env: MapEnv{"country": "USA", "state": "WA"}, want: Str("False")},
		{name: "doc: IIF known limitations AND workaround, neither", expr: `IIF([country]="USA",IIF([state]="CA","True","False"),"False")`, env: MapEnv{"country": "MX", "state": "CA"}, want: Str("False")},
		{name: "doc: IIF known limitations OR workaround, second", expr: `IIF([country]="USA","True",IIF([state]="CA","True","False"))`, env: MapEnv{"country": "MX", "state": "CA"}, want: Str("True")},
		{name: "doc: IIF known limitations OR workaround, first", expr: `IIF([country]="USA","True",IIF([state]="CA","True","False"))`, env: MapEnv{"country": "USA", "state": "BC"}, want: Str("True")},
		{name: "doc: IIF known limitations OR workaround, neither", expr: `IIF([country]="USA","True",IIF([state]="CA","True","False"))`, env: MapEnv{"country": "MX", "state": "BC"}, want: Str("False")},
		{name: "doc: IIF known limitations Switch workaround, empty", expr: `Switch([country],[country],"","Other")`, env: MapEnv{"country": ""}, want: Str("Other")},
		{name: "doc: IIF known limitations Switch workaround, null", expr: `Switch([country],[country],"","Other")`, want: Str("Other")},
		{name: "doc: IIF known limitations Switch workaround, present", expr: `Switch([country],[country],"","Other")`, env: MapEnv{"country": "DE"}, want: Str("DE")},
		// Microsoft lists these as unsupported in Entra; hrsync evaluates
		// them (doc.go, "Where this differs from Entra").
		{name: `doc: IIF known limitations 'unsupported' IIF([country]="",...) works in hrsync, null`, expr: `IIF([country]="","Other",[country])`, want: Str("Other")},
		{name: `doc: IIF known limitations 'unsupported' IIF([country]="",...) works in hrsync, present`, expr: `IIF([country]="","Other",[country])`, env: MapEnv{"country": "DE"}, want: Str("DE")},
		{name: "doc: IIF known limitations 'unsupported' IIF(IsNullOrEmpty(...)) works in hrsync", expr: `IIF(IsNullOrEmpty([country]),"Other",[country])`, env: MapEnv{"country": ""}, want: Str("Other")},
		{name: "doc: IIF known limitations 'unsupported' IIF(IsPresent(...)) works in hrsync", expr: `IIF(IsPresent([country]),[country],"Other")`, want: Str("Other")},
		{name: "doc rule: not equal to (<>), equal", expr: `IIF([a]<>"x", "ne", "eq")`, env: MapEnv{"a": "x"}, want: Str("eq")},
		{name: "doc rule: not equal to (<>) is case-sensitive", expr: `IIF([a]<>"x", "ne", "eq")`, env: MapEnv{"a": "X"}, want: Str("ne")},
		{name: "doc rule: greater than (>) compares numbers as numbers", expr: `IIF([a]>"9", "gt", "le")`, env: MapEnv{"a": "10"}, want: Str("gt")},
		{name: "doc rule: greater than equal to (>=)", expr: `IIF([a]>="10", "ge", "lt")`, env: MapEnv{"a": "10.0"}, want: Str("ge")},
		{name: "doc rule: less than (<) on text", expr: `IIF([a]<"b", "lt", "ge")`, env: MapEnv{"a": "a"}, want: Str("lt")},
		{name: "doc rule: less than equal to (<=) on text", expr: `IIF([a]<="b", "le", "gt")`, env: MapEnv{"a": "c"}, want: Str("gt")},
		{name: "dates compare as dates", expr: `IIF(CDate([d]) < CDate("2021-06-01"), "before", "after")`, env: MapEnv{"d": "2021-01-01"}, want: Str("before")},
		{name: "boolean constant", expr: `IIF(True, "a", "b")`, want: Str("a")},
		{name: "boolean constant in lower case", expr: `IIF(false, "a", "b")`, want: Str("b")},
		{name: "condition from a function", expr: `IIF(IsPresent([x]), "y", "n")`, env: MapEnv{"x": "1"}, want: Str("y")},
		{name: "TRUE text in a field", expr: `IIF([flag], "a", "b")`, env: MapEnv{"flag": "TRUE"}, want: Str("a")},
		{name: "zero is false", expr: `IIF([flag], "a", "b")`, env: MapEnv{"flag": "0"}, want: Str("b")},
		{name: "boolean compared with text", expr: `IIF(IsNull([x]) = "true", "a", "b")`, want: Str("a")},
		{name: "only the chosen branch is evaluated", expr: `IIF(True, "a", Mid("x", [bad], 1))`, env: MapEnv{"bad": "q"}, want: Str("a")},
		{name: "chosen branch may be null", expr: `IIF(True, [x], "b")`, want: Null()},
		{name: "null: missing condition field is false", expr: `IIF([flag], "a", "b")`, want: Str("b")},
		{name: "null: null equals empty", expr: `IIF([a]="", "empty", "set")`, want: Str("empty")},
		{name: "null: two nulls are equal", expr: `IIF([a] = [b], "same", "diff")`, want: Str("same")},
		{name: "type: condition neither True nor False", expr: `IIF([flag], "a", "b")`, env: MapEnv{"flag": "maybe"}, wantErr: `IIF: condition "maybe" is neither True nor False`},
		{name: "type: multi-valued condition", expr: `IIF(Split("a,b", ","), "a", "b")`, wantErr: `IIF: condition "a,b" is neither True nor False`},
		{name: "arity: two arguments", expr: `IIF([a]="x", "y")`, parseErr: "takes 3 arguments, got 2; usage: IIF(condition, valueIfTrue, valueIfFalse)"},
		{name: "arity: condition left out", expr: `IIF(, "a", "b")`, parseErr: "condition (argument 1) cannot be left out"},
	},

	"InStr": {
		{name: "doc: InStr example 1", expr: `InStr("The quick brown fox","quick")`, want: Str("5")},
		{name: "doc: InStr example 2", expr: `InStr("repEated","e",3,vbBinaryCompare)`, want: Str("7")},
		{name: "doc rule: compareType vbTextCompare ignores case", expr: `InStr("REPEATED", "e", 1, vbTextCompare)`, want: Str("2")},
		{name: "compareType as a string", expr: `InStr("REPEATED", "e", 1, "vbTextCompare")`, want: Str("2")},
		{name: "binary compare is the default", expr: `InStr("REPEATED", "e")`, want: Str("0")},
		{name: "not found", expr: `InStr("abc", "z")`, want: Str("0")},
		{name: "empty value2 gives start", expr: `InStr("abc", "", 2)`, want: Str("2")},
		{name: "start past the end", expr: `InStr("abc", "a", 9)`, want: Str("0")},
		{name: "start left out", expr: `InStr("abcabc", "c", , vbBinaryCompare)`, want: Str("3")},
		{name: "positions count characters", expr: `InStr("Łódź", "dź")`, want: Str("3")},
		{name: "null: value1 missing", expr: `InStr([x], "a")`, want: Str("0")},
		{name: "null: value2 missing reads as empty", expr: `InStr("abc", [x])`, want: Str("1")},
		{name: "type: start 0", expr: `InStr("abc", "a", [s])`, env: MapEnv{"s": "0"}, wantErr: "InStr: start 0 is out of range: the first character is 1"},
		{name: "type: start not a number", expr: `InStr("abc", "a", [s])`, env: MapEnv{"s": "x"}, wantErr: `InStr: start (argument 3) "x" is not a whole number`},
		{name: "type: compareType unknown in a field", expr: `InStr("abc", "a", 1, [c])`, env: MapEnv{"c": "vbFuzzy"}, wantErr: `InStr: compareType must be vbBinaryCompare or vbTextCompare, got "vbFuzzy"`},
		{name: "type: compareType unknown constant", expr: `InStr("a", "b", 1, "vbSomething")`, parseErr: "compareType must be vbBinaryCompare or vbTextCompare"},
		{name: "type: start constant not a number", expr: `InStr("a", "b", "one")`, parseErr: `start (argument 3) must be a whole number, got "one"`},
		{name: "arity: one argument", expr: `InStr("a")`, parseErr: "takes 2 to 4 arguments, got 1; usage: InStr(value1, value2, [start], [compareType])"},
		{name: "arity: five arguments", expr: `InStr("a", "b", 1, 0, 1)`, parseErr: "takes 2 to 4 arguments, got 5"},
	},

	"IsNull": {
		{name: "doc: IsNull example, attribute absent", expr: `IsNull([displayName])`, want: Bool(true)},
		{name: "doc rule: null is the absence of the attribute, so empty is not null", expr: `IsNull([displayName])`, env: MapEnv{"displayName": ""}, want: Bool(false)},
		{name: "present", expr: `IsNull([displayName])`, env: MapEnv{"displayName": "Jo"}, want: Bool(false)},
		{name: "constant", expr: `IsNull("x")`, want: Bool(false)},
		{name: "null: from a function", expr: `IsNull(IIF(True, [x], "a"))`, want: Bool(true)},
		{name: "type: empty multi-valued is not null", expr: `IsNull(Split("", ","))`, want: Bool(false)},
		{name: "type: boolean is not null", expr: `IsNull(False)`, want: Bool(false)},
		{name: "arity: none", expr: `IsNull()`, parseErr: "takes 1 argument, got 0; usage: IsNull(expression)"},
		{name: "arity: two", expr: `IsNull([a], [b])`, parseErr: "takes 1 argument, got 2"},
	},

	"IsNullOrEmpty": {
		{name: "doc: IsNullOrEmpty example, attribute absent", expr: `IsNullOrEmpty([displayName])`, want: Bool(true)},
		{name: "doc: IsNullOrEmpty example, empty string", expr: `IsNullOrEmpty([displayName])`, env: MapEnv{"displayName": ""}, want: Bool(true)},
		{name: "doc: IsNullOrEmpty example, present", expr: `IsNullOrEmpty([displayName])`, env: MapEnv{"displayName": "Jo"}, want: Bool(false)},
		{name: "a space is not empty", expr: `IsNullOrEmpty([x])`, env: MapEnv{"x": " "}, want: Bool(false)},
		{name: "null: ignored value", expr: `IsNullOrEmpty(IgnoreFlowIfNullOrEmpty([x]))`, want: Bool(true)},
		{name: "type: empty multi-valued", expr: `IsNullOrEmpty(Split("", ","))`, want: Bool(true)},
		{name: "type: False is a value", expr: `IsNullOrEmpty(False)`, want: Bool(false)},
		{name: "arity: none", expr: `IsNullOrEmpty()`, parseErr: "takes 1 argument, got 0; usage: IsNullOrEmpty(expression)"},
	},

	"IsPresent": {
		{name: "doc: IsPresent example, only directManager present", expr: docIsPresentExample, env: MapEnv{"directManager": "dm"}, want: Str("dm")},
		{name: "doc: IsPresent example, directManager and director present", expr: docIsPresentExample, env: MapEnv{"directManager": "dm", "director": "dir"}, want: Str("dir")},
		{name: "doc: IsPresent example, directManager and skiplevelManager present", expr: docIsPresentExample, env: MapEnv{"directManager": "dm", "skiplevelManager": "skip"}, want: Str("skip")},
		{name: "doc: IsPresent example, only skiplevelManager present", expr: docIsPresentExample, env: MapEnv{"skiplevelManager": "skip"}, want: Null()},
		{name: "doc: IsPresent example, none present", expr: docIsPresentExample, want: Null()},
		{name: "doc rule: a string that is not null and not empty", expr: `IsPresent([x])`, env: MapEnv{"x": "a"}, want: Bool(true)},
		{name: "doc rule: inverse of IsNullOrEmpty, empty", expr: `IsPresent([x])`, env: MapEnv{"x": ""}, want: Bool(false)},
		{name: "a space is present", expr: `IsPresent([x])`, env: MapEnv{"x": " "}, want: Bool(true)},
		{name: "null: missing", expr: `IsPresent([x])`, want: Bool(false)},
		{name: "type: boolean is present", expr: `IsPresent(False)`, want: Bool(true)},
		{name: "type: empty multi-valued is not present", expr: `IsPresent(Split("", ","))`, want: Bool(false)},
		{name: "arity: none", expr: `IsPresent()`, parseErr: "takes 1 argument, got 0; usage: IsPresent(expression)"},
	},

	"IsString": {
		{name: "text", expr: `IsString("x")`, want: Bool(true)},
		{name: "number constant is text", expr: `IsString(42)`, want: Bool(true)},
		{name: "empty field", expr: `IsString([x])`, env: MapEnv{"x": ""}, want: Bool(true)},
		{name: "null: missing", expr: `IsString([x])`, want: Bool(false)},
		{name: "type: boolean", expr: `IsString(IsNull([x]))`, want: Bool(false)},
		{name: "type: date", expr: `IsString(CDate("2021-01-01"))`, want: Bool(false)},
		{name: "type: multi-valued", expr: `IsString(Split("a,b", ","))`, want: Bool(false)},
		{name: "type: CStr makes a string", expr: `IsString(CStr(True))`, want: Bool(true)},
		{name: "arity: none", expr: `IsString()`, parseErr: "takes 1 argument, got 0; usage: IsString(expression)"},
	},

	"Item": {
		{name: "doc: Item example Item([proxyAddresses], 1), single value", expr: `Item([proxyAddresses], 1)`, env: MapEnv{"proxyAddresses": "SMTP:a@x"}, want: Str("SMTP:a@x")},
		{name: "doc: Item example, first of a multi-valued attribute", expr: `Item(Split([proxyAddresses], ";"), 1)`, env: MapEnv{"proxyAddresses": "SMTP:a@x;smtp:b@x"}, want: Str("SMTP:a@x")},
		{name: "doc rule: index 0 shouldn't be used", expr: `Item(Split("a,b", ","), [i])`, env: MapEnv{"i": "0"}, wantErr: "Item: index 0 is out of range: the first item is 1"},
		{name: "single value is item 1", expr: `Item("solo", 1)`, want: Str("solo")},
		{name: "second item", expr: `Item(Split("a,b", ","), 2)`, want: Str("b")},
		{name: "past the end gives null", expr: `Item(Split("a,b", ","), 3)`, want: Null()},
		{name: "index as a string", expr: `Item(Split("a,b", ","), "2")`, want: Str("b")},
		{name: "null: missing attribute gives null", expr: `Item([x], 1)`, want: Null()},
		{name: "null: missing index", expr: `Item(Split("a,b", ","), [i])`, wantErr: "Item: index (argument 2) is null, expected a whole number"},
		{name: "type: negative index", expr: `Item(Split("a,b", ","), -1)`, wantErr: "Item: index -1 is out of range"},
		{name: "type: index not a number", expr: `Item(Split("a,b", ","), [i])`, env: MapEnv{"i": "first"}, wantErr: `Item: index (argument 2) "first" is not a whole number`},
		{name: "type: index constant not a number", expr: `Item([a], "first")`, parseErr: `index (argument 2) must be a whole number, got "first"`},
		{name: "arity: one argument", expr: `Item([a])`, parseErr: "takes 2 arguments, got 1; usage: Item(attribute, index)"},
		{name: "arity: index left out", expr: `Item([a], )`, parseErr: "index (argument 2) cannot be left out"},
	},

	"Join": {
		{name: "doc: Examples 'Add a comma between last name and first name'", expr: `Join(", ", "", [surname], [givenName])`, env: MapEnv{"givenName": "John", "surname": "Doe"}, want: Str("Doe, John")},
		{name: "doc rule: every value of a multi-valued source is joined", expr: `Join("-", Split("a,b", ","), "c")`, want: Str("a-b-c")},
		{name: `doc rule: separator can be ""`, expr: `Join("", "a", "b")`, want: Str("ab")},
		{name: "two fields", expr: `Join(".", [First], [Last])`, env: MapEnv{"First": "Ann", "Last": "Lee"}, want: Str("Ann.Lee")},
		{name: "more values than the stack buffer", expr: `Join("", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10")`, want: Str("12345678910")},
		{name: "empty items of a multi-valued source are skipped", expr: `Join("-", Split("a,,b", ","))`, want: Str("a-b")},
		{name: "null: missing source skipped", expr: `Join(".", [First], [Last])`, env: MapEnv{"Last": "Lee"}, want: Str("Lee")},
		{name: "null: empty source skipped", expr: `Join(".", [First], [Last])`, env: MapEnv{"First": "", "Last": "Lee"}, want: Str("Lee")},
		{name: "null: all missing gives empty", expr: `Join(".", [First], [Last])`, want: Str("")},
		{name: "null: missing separator reads as empty", expr: `Join([sep], "a", "b")`, want: Str("ab")},
		{name: "type: booleans and numbers as text", expr: `Join(",", True, 1, "x")`, want: Str("True,1,x")},
		{name: "type: date as text", expr: `Join("|", CDate("2021-01-01"))`, want: Str("1/1/2021 12:00:00 AM")},
		{name: "arity: separator only", expr: `Join(".")`, parseErr: "takes at least 2 arguments, got 1; usage: Join(separator, source1, ...)"},
	},

	"Left": {
		{name: "doc: Left example", expr: `Left("John Doe", 3)`, want: Str("Joh")},
		{name: "doc rule: numChars = 0 gives empty", expr: `Left("abc", 0)`, want: Str("")},
		{name: "doc rule: numChars < 0 gives the input", expr: `Left("abc", -1)`, want: Str("abc")},
		{name: "doc rule: string null gives empty", expr: `Left([x], 3)`, want: Str("")},
		{name: "doc rule: fewer characters than numChars gives the input", expr: `Left("abc", 10)`, want: Str("abc")},
		{name: "counts characters", expr: `Left("Łukasz", 2)`, want: Str("Łu")},
		{name: "numChars as a string", expr: `Left("abc", "2")`, want: Str("ab")},
		{name: "null: empty string", expr: `Left([x], 3)`, env: MapEnv{"x": ""}, want: Str("")},
		{name: "null: missing numChars", expr: `Left("abc", [n])`, wantErr: "Left: numChars (argument 2) is null, expected a whole number"},
		{name: "type: numChars not a number", expr: `Left("abc", [n])`, env: MapEnv{"n": "x"}, wantErr: `Left: numChars (argument 2) "x" is not a whole number`},
		{name: "type: fraction constant", expr: `Left([x], 1.5)`, parseErr: `numChars (argument 2) must be a whole number, got "1.5"`},
		{name: "type: boolean string", expr: `Left(True, 2)`, want: Str("Tr")},
		{name: "arity: one argument", expr: `Left("abc")`, parseErr: "takes 2 arguments, got 1; usage: Left(string, numChars)"},
		{name: "arity: string left out", expr: `Left(, 2)`, parseErr: "string (argument 1) cannot be left out"},
	},

	"Mid": {
		{name: "doc: Examples 'Generate user alias', Mid([givenName], 1, 3)", expr: `Mid([givenName], 1, 3)`, env: MapEnv{"givenName": "John"}, want: Str("Joh")},
		{name: "doc: Examples 'Generate user alias', Mid([surname], 1, 5) of a shorter name", expr: `Mid([surname], 1, 5)`, env: MapEnv{"surname": "Doe"}, want: Str("Doe")},
		{name: "doc rule: the first character has index 1", expr: `Mid("abcdef", 1, 1)`, want: Str("a")},
		{name: "doc rule: length past the end gives the rest", expr: `Mid("abc", 2, 100)`, want: Str("bc")},
		{name: "middle", expr: `Mid("abcdef", 2, 3)`, want: Str("bcd")},
		{name: "numbers as strings", expr: `Mid("abc", "2", "5")`, want: Str("bc")},
		{name: "start past the end", expr: `Mid("abc", 4, 1)`, want: Str("")},
		{name: "zero length", expr: `Mid("abc", 1, 0)`, want: Str("")},
		{name: "counts characters", expr: `Mid("Zoë", 3, 1)`, want: Str("ë")},
		{name: "null: missing source gives empty", expr: `Mid([x], 1, 2)`, want: Str("")},
		{name: "null: missing length", expr: `Mid("abc", 1, [n])`, wantErr: "Mid: length (argument 3) is null, expected a whole number"},
		{name: "type: start 0", expr: `Mid("abc", [s], 1)`, env: MapEnv{"s": "0"}, wantErr: "Mid: start 0 is out of range: the first character is 1"},
		{name: "type: negative length", expr: `Mid("abc", 1, [n])`, env: MapEnv{"n": "-1"}, wantErr: "Mid: length -1 must not be negative"},
		{name: "type: length not a number", expr: `Mid("abc", 1, [n])`, env: MapEnv{"n": "three"}, wantErr: `Mid: length (argument 3) "three" is not a whole number`},
		{name: "type: length constant not a number", expr: `Mid([x], 1, "abc")`, parseErr: `length (argument 3) must be a whole number, got "abc"`},
		{name: "arity: two arguments", expr: `Mid([x], 1)`, parseErr: "takes 3 arguments, got 2; usage: Mid(source, start, length)"},
		{name: "arity: source left out", expr: `Mid(, 1, 2)`, parseErr: "source (argument 1) cannot be left out"},
	},

	"NormalizeDiacritics": {
		{name: "doc: NormalizeDiacritics example 'Remove diacritics from a string'", expr: `NormalizeDiacritics([givenName])`, env: MapEnv{"givenName": "Zoë"}, want: Str("Zoe")},
		// The character table of the reference, one row per line and case.
		{name: "doc: NormalizeDiacritics table a", expr: `NormalizeDiacritics("ä à â ã å á ą ă ā ā́ ā̀ ā̂ ā̃ ǟ ā̈ ǡ a̱ å̄")`, want: Str("a a a a a a a a a a a a a a a a a a")},
		{name: "doc: NormalizeDiacritics table A", expr: `NormalizeDiacritics("Ä À Â Ã Å Á Ą Ă Ā Ā́ Ā̀ Ā̂ Ā̃ Ǟ Ā̈ Ǡ A̱ Å̄")`, want: Str("A A A A A A A A A A A A A A A A A A")},
		{name: "doc: NormalizeDiacritics table ae", expr: `NormalizeDiacritics("æ ǣ")`, want: Str("ae ae")},
		{name: "doc: NormalizeDiacritics table AE", expr: `NormalizeDiacritics("Æ Ǣ")`, want: Str("AE AE")},
		{name: "doc: NormalizeDiacritics table c", expr: `NormalizeDiacritics("ç č ć c̄ c̱")`, want: Str("c c c c c")},
		{name: "doc: NormalizeDiacritics table C", expr: `NormalizeDiacritics("Ç Č Ć C̄ C̱")`, want: Str("C C C C C")},
		{name: "doc: NormalizeDiacritics table d", expr: `NormalizeDiacritics("ď d̄ ḏ")`, want: Str("d d d")},
		{name: "doc: NormalizeDiacritics table D", expr: `NormalizeDiacritics("Ď D̄ Ḏ")`, want: Str("D D D")},
		{name: "doc: NormalizeDiacritics table e", expr: `NormalizeDiacritics("ë è é ê ę ě ė ē ḗ ḕ ē̂ ē̃ ê̄ e̱ ë̄ e̊̄")`, want: Str("e e e e e e e e e e e e e e e e")},
		{name: "doc: NormalizeDiacritics table E", expr: `NormalizeDiacritics("Ë È É Ê Ę Ě Ė Ē Ḗ Ḕ Ē̂ Ē̃ Ê̄ E̱ Ë̄ E̊̄")`, want: Str("E E E E E E E E E E E E E E E E")},
		{name: "doc: NormalizeDiacritics table g", expr: `NormalizeDiacritics("ğ ḡ g̱")`, want: Str("g g g")},
		{name: "doc: NormalizeDiacritics table G", expr: `NormalizeDiacritics("Ğ Ḡ G̱")`, want: Str("G G G")},
		{name: "doc: NormalizeDiacritics table i", expr: `NormalizeDiacritics("ï î ì í ı ī ī́ ī̀ ī̂ ī̃ i̱")`, want: Str("i i i i i i i i i i i")},
		{name: "doc: NormalizeDiacritics table I", expr: `NormalizeDiacritics("Ï Î Ì Í İ Ī Ī́ Ī̀ Ī̂ Ī̃ I̱")`, want: Str("I I I I I I I I I I I")},
		{name: "doc: NormalizeDiacritics table l", expr: `NormalizeDiacritics("ľ ł l̄ ḹ ḻ")`, want: Str("l l l l l")},
		{name: "doc: NormalizeDiacritics table L", expr: `NormalizeDiacritics("Ł Ľ L̄ Ḹ Ḻ")`, want: Str("L L L L L")},
		{name: "doc: NormalizeDiacritics table n", expr: `NormalizeDiacritics("ñ ń ň n̄ ṉ")`, want: Str("n n n n n")},
		{name: "doc: NormalizeDiacritics table N", expr: `NormalizeDiacritics("Ñ Ń Ň N̄ Ṉ")`, want: Str("N N N N N")},
		{name: "doc: NormalizeDiacritics table o", expr: `NormalizeDiacritics("ö ò ő õ ô ó ō ṓ ṑ ō̂ ō̃ ȫ ō̈ ǭ ȭ ȱ o̱")`, want: Str("o o o o o o o o o o o o o o o o o")},
		{name: "doc: NormalizeDiacritics table O", expr: `NormalizeDiacritics("Ö Ò Ő Õ Ô Ó Ō Ṓ Ṑ Ō̂ Ō̃ Ȫ Ō̈ Ǭ Ȭ Ȱ O̱")`, want: Str("O O O O O O O O O O O O O O O O O")},
		{name: "doc: NormalizeDiacritics table oe", expr: `NormalizeDiacritics("ø ø̄ œ̄")`, want: Str("oe oe oe")},
		{name: "doc: NormalizeDiacritics table OE", expr: `NormalizeDiacritics("Ø Ø̄ Œ̄")`, want: Str("OE OE OE")},
		{name: "doc: NormalizeDiacritics table r", expr: `NormalizeDiacritics("ř r̄ ṟ ṝ")`, want: Str("r r r r")},
		{name: "doc: NormalizeDiacritics table R", expr: `NormalizeDiacritics("Ř R̄ Ṟ Ṝ")`, want: Str("R R R R")},
		{name: "doc: NormalizeDiacritics table ss", expr: `NormalizeDiacritics("ß")`, want: Str("ss")},
		{name: "doc: NormalizeDiacritics table s", expr: `NormalizeDiacritics("š ś ș ş s̄ s̱")`, want: Str("s s s s s s")},
		{name: "doc: NormalizeDiacritics table S", expr: `NormalizeDiacritics("Š Ś Ș Ş S̄ S̱")`, want: Str("S S S S S S")},
		{name: "doc: NormalizeDiacritics table t", expr: `NormalizeDiacritics("ť ț t̄ ṯ")`, want: Str("t t t t")},
		{name: "doc: NormalizeDiacritics table T", expr: `NormalizeDiacritics("Ť Ț T̄ Ṯ")`, want: Str("T T T T")},
		{name: "doc: NormalizeDiacritics table u", expr: `NormalizeDiacritics("ü ù û ú ů ű ū ū́ ū̀ ū̂ ū̃ u̇̄ ǖ ṻ ṳ̄ u̱")`, want: Str("u u u u u u u u u u u u u u u u")},
		{name: "doc: NormalizeDiacritics table U", expr: `NormalizeDiacritics("Ü Ù Û Ú Ů Ű Ū Ū́ Ū̀ Ū̂ Ū̃ U̇̄ Ǖ Ṻ Ṳ̄ U̱")`, want: Str("U U U U U U U U U U U U U U U U")},
		{name: "doc: NormalizeDiacritics table y", expr: `NormalizeDiacritics("ÿ ý ȳ ȳ́ ȳ̀ ȳ̃ y̱")`, want: Str("y y y y y y y")},
		{name: "doc: NormalizeDiacritics table Y", expr: `NormalizeDiacritics("Ÿ Ý Ȳ Ȳ́ Ȳ̀ Ȳ̃ Y̱")`, want: Str("Y Y Y Y Y Y Y")},
		{name: "doc: NormalizeDiacritics table z", expr: `NormalizeDiacritics("ź ž ż z̄ ẕ")`, want: Str("z z z z z")},
		{name: "doc: NormalizeDiacritics table Z", expr: `NormalizeDiacritics("Ź Ž Ż Z̄ Ẕ")`, want: Str("Z Z Z Z Z")},
		{name: "José", expr: `NormalizeDiacritics("José")`, want: Str("Jose")},
		{name: "Łukasz", expr: `NormalizeDiacritics("Łukasz")`, want: Str("Lukasz")},
		{name: "Müller", expr: `NormalizeDiacritics("Müller")`, want: Str("Muller")},
		{name: "Straße", expr: `NormalizeDiacritics("Straße")`, want: Str("Strasse")},
		{name: "Danish", expr: `NormalizeDiacritics("Ærøskøbing")`, want: Str("AEroeskoebing")},
		{name: "Norwegian", expr: `NormalizeDiacritics("Øystein Grøndahl")`, want: Str("OEystein Groendahl")},
		{name: "Czech", expr: `NormalizeDiacritics("Dvořák Šťastný Ďurček")`, want: Str("Dvorak Stastny Durcek")},
		{name: "Turkish", expr: `NormalizeDiacritics("İsmail Yılmaz Ağaoğlu Şahin")`, want: Str("Ismail Yilmaz Agaoglu Sahin")},
		{name: "French, Spanish, Swedish", expr: `NormalizeDiacritics("François Ñúñez Ålberg")`, want: Str("Francois Nunez Alberg")},
		{name: "Polish", expr: `NormalizeDiacritics("Wałęsa Żółć")`, want: Str("Walesa Zolc")},
		{name: "Romanian", expr: `NormalizeDiacritics("Bănescu Țepeș")`, want: Str("Banescu Tepes")},
		{name: "decomposed input", expr: "NormalizeDiacritics(\"Jose\u0301 A\u0304\u0302 \u0101\u0301\")", want: Str("Jose A a")},
		{name: "ASCII punctuation kept", expr: `NormalizeDiacritics("O'Brien-Smith")`, want: Str("O'Brien-Smith")},
		{name: "other scripts and letters outside the table kept", expr: `NormalizeDiacritics("Йордан Ελένη 서연 Đorđe")`, want: Str("Йордан Ελένη 서연 Đorđe")},
		{name: "null: missing stays null", expr: `NormalizeDiacritics([x])`, want: Null()},
		{name: "null: empty stays empty", expr: `NormalizeDiacritics([x])`, env: MapEnv{"x": ""}, want: Str("")},
		{name: "type: boolean as text", expr: `NormalizeDiacritics(True)`, want: Str("True")},
		{name: "arity: none", expr: `NormalizeDiacritics()`, parseErr: "takes 1 argument, got 0; usage: NormalizeDiacritics(source)"},
		{name: "arity: two", expr: `NormalizeDiacritics("a", "b")`, parseErr: "takes 1 argument, got 2"},
	},

	"Not": {
		{name: "doc rule: True gives False", expr: `Not("True")`, want: Bool(false)},
		{name: "doc rule: False gives True", expr: `Not("False")`, want: Bool(true)},
		{name: "doc rule: anything else gives True", expr: `Not("abc")`, want: Bool(true)},
		{name: "true in any case", expr: `Not("tRUE")`, want: Bool(false)},
		{name: "boolean from a function", expr: `Not(IsNull([x]))`, want: Bool(false)},
		{name: "twice", expr: `Not(Not(True))`, want: Bool(true)},
		{name: "null: missing gives True", expr: `Not([x])`, want: Bool(true)},
		{name: "null: empty gives True", expr: `Not([x])`, env: MapEnv{"x": ""}, want: Bool(true)},
		{name: "type: 1 is not True", expr: `Not(1)`, want: Bool(true)},
		{name: "type: multi-valued", expr: `Not(Split("True", ","))`, want: Bool(false)},
		{name: "arity: none", expr: `Not()`, parseErr: "takes 1 argument, got 0; usage: Not(source)"},
	},

	"Now": {
		{name: "doc: Now example value 7/2/2021 3:33:38 PM", expr: `CStr(Now())`, want: Str("7/2/2021 3:33:38 PM")},
		{name: "doc rule: the current UTC date-time", expr: `CStr(Now())`, now: time.Date(2021, 7, 2, 17, 33, 38, 0, time.FixedZone("CEST", 2*3600)), want: Str("7/2/2021 3:33:38 PM")},
		{name: "a date-time value, whole seconds", expr: `Now()`, now: time.Date(2021, 7, 2, 15, 33, 38, 999_000_000, time.UTC), want: date(2021, 7, 2, 15, 33, 38)},
		{name: "type: used as text", expr: `Join("", Now())`, want: Str("7/2/2021 3:33:38 PM")},
		{name: "arity: one argument", expr: `Now(1)`, parseErr: "takes 0 arguments, got 1; usage: Now()"},
	},

	"NumFromDate": {
		{name: "doc: NumFromDate Workday example", expr: `NumFromDate(Join("", FormatDateTime([ContractEndDate], ,"yyyy-MM-ddzzz", "yyyy-MM-dd"), " 23:59:59-08:00"))`,
			env: MapEnv{"ContractEndDate": "2020-12-31-08:00"}, want: Str("132539615990000000")},
		{name: "doc: NumFromDate SuccessFactors example", expr: `NumFromDate(Join("",FormatDateTime([endDate], ,"M/d/yyyy hh:mm:ss tt","yyyy-MM-dd")," 23:59:59-08:00"))`,
			env: MapEnv{"endDate": "12/31/2020 12:00:00 AM"}, want: Str("132539615990000000")},
		{name: "doc rule: ISO 8601 input", expr: `NumFromDate("2012-01-01T23:00:00Z")`, want: Str("129699324000000000")},
		{name: "epoch", expr: `NumFromDate("1601-01-01")`, want: Str("0")},
		{name: "date value", expr: `NumFromDate(CDate("2000-01-01"))`, want: Str("125911584000000000")},
		{name: "null: missing gives null", expr: `NumFromDate([x])`, want: Null()},
		{name: "null: empty is not a date", expr: `NumFromDate([x])`, env: MapEnv{"x": ""}, wantErr: `NumFromDate: value (argument 1) "" is not a date-time`},
		{name: "type: before 1601", expr: `NumFromDate("1600-12-31")`, wantErr: "NumFromDate: date 12/31/1600 12:00:00 AM is outside 1601..9999"},
		{name: "type: not a date", expr: `NumFromDate([x])`, env: MapEnv{"x": "soon"}, wantErr: `NumFromDate: value (argument 1) "soon" is not a date-time`},
		{name: "type: constant not a date", expr: `NumFromDate("soon")`, parseErr: `"soon" is not a date-time`},
		{name: "arity: none", expr: `NumFromDate()`, parseErr: "takes 1 argument, got 0; usage: NumFromDate(value)"},
	},

	"PCase": {
		{name: "doc: PCase example table row 1 (default separators)", expr: `PCase([firstName])`, env: MapEnv{"firstName": "PABLO GONSALVES (SECOND)"}, want: Str("Pablo Gonsalves (Second)")},
		{name: "doc: PCase example table row 2 (wordSeparators)", expr: `PCase([lastName]," '-")`, env: MapEnv{"lastName": "PINTO-DE'SILVA"}, want: Str("Pinto-De'Silva")},
		{name: "doc: PCase example table row 3 (nested Join)", expr: `PCase(Join(" ",[firstName],[lastName]))`, env: MapEnv{"firstName": "GREGORY", "lastName": "JAMES"}, want: Str("Gregory James")},
		{name: "doc rule: default separators, space and new line", expr: "PCase(\"ann\nlee bo\")", want: Str("Ann\nLee Bo")},
		{name: "doc rule: default separators, connector punctuation", expr: `PCase("SMITH_jones")`, want: Str("Smith_Jones")},
		{name: "doc rule: default separators, dash punctuation", expr: `PCase("mary-jane ann–lee")`, want: Str("Mary-Jane Ann–Lee")},
		{name: "doc rule: default separators, open and close punctuation", expr: `PCase("(a)[b]{c}")`, want: Str("(A)[B]{C}")},
		{name: "doc rule: default separators, initial and final quotes", expr: `PCase("«ann»“bo”‘cy’")`, want: Str("«Ann»“Bo”‘Cy’")},
		{name: "doc rule: default separators, other punctuation", expr: `PCase("a!b#c%d&e*f,g.h:i;j")`, want: Str("A!B#C%D&E*F,G.H:I;J")},
		{name: "doc rule: default separators, math symbols", expr: `PCase("a+b<c>d|e~f=g")`, want: Str("A+B<C>D|E~F=G")},
		{name: "doc rule: default separators, currency symbols", expr: `PCase("a$b¢c£d€e")`, want: Str("A$B¢C£D€E")},
		{name: "doc rule: default separators, modifier symbols", expr: "PCase(\"a^b`c¨d\")", want: Str("A^B`C¨D")},
		{name: "doc rule: default separators, other symbols", expr: `PCase("a©b°c®d")`, want: Str("A©B°C®D")},
		{name: "doc rule: with wordSeparators only those separate", expr: `PCase("ann-lee bo", "-")`, want: Str("Ann-Lee bo")},
		{name: "apostrophe is part of a word by default", expr: `PCase("o'BRIEN")`, want: Str("O'brien")},
		{name: "apostrophe as a wordSeparator", expr: `PCase("o'brien", "'")`, want: Str("O'Brien")},
		{name: "accented initial", expr: `PCase("élodie DURAND")`, want: Str("Élodie Durand")},
		{name: "empty wordSeparators: one word", expr: `PCase("hello world", "")`, want: Str("Hello world")},
		{name: "null: missing stays null", expr: `PCase([x])`, want: Null()},
		{name: "null: empty stays empty", expr: `PCase([x])`, env: MapEnv{"x": ""}, want: Str("")},
		{name: "null: missing wordSeparators: one word", expr: `PCase("a b", [s])`, want: Str("A b")},
		{name: "type: boolean as text", expr: `PCase(False)`, want: Str("False")},
		{name: "arity: none", expr: `PCase()`, parseErr: "takes 1 to 2 arguments, got 0; usage: PCase(source, [wordSeparators])"},
		{name: "arity: three", expr: `PCase("a", " ", "x")`, parseErr: "takes 1 to 2 arguments, got 3"},
	},

	"RandomString": {
		{name: "doc: RandomString example 1 RandomString(6,3,0,0,3)", expr: `RandomString(6,3,0,0,3)`, check: randomStringCheck(6, 3, 0, 0, 3, "")},
		{name: "doc: RandomString example 1 has only digits and lower case", expr: `RandomString(6,3,0,0,3)`, check: matches(`^[0-9a-z]{6}$`)},
		{name: `doc: RandomString example 2 RandomString(10,2,2,2,1,"?,")`, expr: `RandomString(10,2,2,2,1,"?,")`, check: randomStringCheck(10, 2, 2, 2, 1, "?,")},
		{name: "doc rule: 256 characters max", expr: `RandomString(256, 0, 0, 0, 0)`, check: randomStringCheck(256, 0, 0, 0, 0, "")},
		{name: "seeded golden value", expr: `RandomString(4, 0, 0, 0, 0, "")`, want: Str("cvgk")},
		{name: "every class", expr: `RandomString(12, 3, 3, 3, 3)`, check: randomStringCheck(12, 3, 3, 3, 3, "")},
		{name: "charactersToAvoid", expr: `RandomString(64, 0, 0, 0, 0, "aeiouAEIOU0")`, check: randomStringCheck(64, 0, 0, 0, 0, "aeiouAEIOU0")},
		{name: "numbers from fields", expr: `RandomString([n], [d], 0, 0, 0)`, env: MapEnv{"n": "8", "d": "8"}, check: matches(`^[0-9]{8}$`)},
		{name: "null: missing charactersToAvoid avoids nothing", expr: `RandomString(8, 0, 0, 0, 8, [x])`, check: matches(`^[a-z]{8}$`)},
		{name: "null: missing length", expr: `RandomString([n], 1, 0, 0, 0)`, wantErr: "RandomString: length (argument 1) is null, expected a whole number"},
		{name: "type: length too large in a field", expr: `RandomString([n], 1, 0, 0, 0)`, env: MapEnv{"n": "300"}, wantErr: "RandomString: length must be between 1 and 256"},
		{name: "type: minimums exceed the length in a field", expr: `RandomString([n], 2, 2, 2, 2)`, env: MapEnv{"n": "4"}, wantErr: "RandomString: length 4 is less than the sum of the minimum counts 8"},
		{name: "type: negative minimum in a field", expr: `RandomString(4, [m], 0, 0, 0)`, env: MapEnv{"m": "-1"}, wantErr: "RandomString: minimum counts must not be negative"},
		{name: "type: length not a number", expr: `RandomString([n], 1, 0, 0, 0)`, env: MapEnv{"n": "six"}, wantErr: `RandomString: length (argument 1) "six" is not a whole number`},
		{name: "type: required class avoided entirely", expr: `RandomString(3, 1, 1, 1, 0, "0123456789")`, wantErr: "RandomString: charactersToAvoid excludes every character of a required class"},
		{name: "type: length constant too large", expr: `RandomString(300, 2, 2, 2, 2)`, parseErr: "length must be between 1 and 256"},
		{name: "type: length constant 0", expr: `RandomString(0, 0, 0, 0, 0)`, parseErr: "length must be between 1 and 256"},
		{name: "type: minimums constant exceed the length", expr: `RandomString(4, 2, 2, 2, 2)`, parseErr: "length 4 is less than the sum of the minimum counts 8"},
		{name: "type: minimum constant not a number", expr: `RandomString(4, "x", 0, 0, 0)`, parseErr: `minimumNumbers (argument 2) must be a whole number, got "x"`},
		{name: "randomness failure", expr: `RandomString(4, 0, 0, 0, 0)`, ctx: &Context{Rand: strings.NewReader("ab")}, wantErr: "RandomString: reading randomness"},
		{name: "arity: four arguments", expr: `RandomString(6,3,0,0)`, parseErr: "takes 5 to 6 arguments, got 4; usage: RandomString(length, minimumNumbers, minimumSpecialCharacters, minimumCapital, minimumLowerCase, [charactersToAvoid])"},
		{name: "arity: minimumLowerCase left out", expr: `RandomString(6,3,0,0,)`, parseErr: "minimumLowerCase (argument 5) cannot be left out"},
	},

	"Redact": {
		{name: "doc: Redact example 1 'Redact an attribute'", expr: `Redact([userPrincipalName])`, env: MapEnv{"userPrincipalName": "john@contoso.com"}, want: Str("john@contoso.com"), redacted: true},
		{name: "doc: Redact example 2 'Redact a string'", expr: `Redact("StringToBeRedacted")`, want: Str("StringToBeRedacted"), redacted: true},
		{name: "doc: Redact example 3 'Redact a random string'", expr: `Redact(RandomString(6,3,0,0,3))`, check: randomStringCheck(6, 3, 0, 0, 3, ""), redacted: true},
		{name: "nested Redact redacts the whole attribute value", expr: `Join("/", [a], Redact([b]))`, env: MapEnv{"a": "public", "b": "secret"}, want: Str("public/secret"), redacted: true},
		{name: "nested under a function that drops it", expr: `IIF(True, "public", Redact([b]))`, env: MapEnv{"b": "secret"}, want: Str("public"), redacted: true},
		{name: "expression without Redact", expr: `Join("/", [a])`, env: MapEnv{"a": "public"}, want: Str("public")},
		{name: "null: missing stays null", expr: `Redact([x])`, want: Null(), redacted: true},
		{name: "null: with IgnoreFlowIfNullOrEmpty", expr: `Redact(IgnoreFlowIfNullOrEmpty([x]))`, want: Null(), ignored: true, redacted: true},
		{name: "type: boolean kept", expr: `Redact(True)`, want: Bool(true), redacted: true},
		{name: "arity: none", expr: `Redact()`, parseErr: "takes 1 argument, got 0; usage: Redact(value)"},
		{name: "arity: two", expr: `Redact("a", "b")`, parseErr: "takes 1 argument, got 2"},
	},

	"RemoveDuplicates": {
		{name: "doc: RemoveDuplicates example RemoveDuplicates([proxyAddresses]), single value", expr: `RemoveDuplicates([proxyAddresses])`, env: MapEnv{"proxyAddresses": "SMTP:a@x"}, want: Str("SMTP:a@x")},
		{name: "doc: RemoveDuplicates example, multi-valued proxyAddresses", expr: `RemoveDuplicates(Split([proxyAddresses], ";"))`, env: MapEnv{"proxyAddresses": "SMTP:a@x;smtp:b@x;SMTP:a@x"}, want: List("SMTP:a@x", "smtp:b@x")},
		{name: "exact comparison, first occurrence kept", expr: `RemoveDuplicates(Split("a,b,a,B", ","))`, want: List("a", "b", "B")},
		{name: "nothing to remove", expr: `RemoveDuplicates(Split("a,b", ","))`, want: List("a", "b")},
		{name: "null: missing stays null", expr: `RemoveDuplicates([x])`, want: Null()},
		{name: "null: empty list", expr: `RemoveDuplicates(Split("", ","))`, want: List()},
		{name: "type: single string kept", expr: `RemoveDuplicates("a")`, want: Str("a")},
		{name: "type: boolean kept", expr: `RemoveDuplicates(True)`, want: Bool(true)},
		{name: "arity: none", expr: `RemoveDuplicates()`, parseErr: "takes 1 argument, got 0; usage: RemoveDuplicates(attribute)"},
	},

	"Replace": {
		{name: "doc: Replace example 1 (oldValue, replacementValue)", expr: `Replace([BusinessTitle],"Product Developer", , , "Software Engineer", , )`,
			env: MapEnv{"BusinessTitle": "Product Developer"}, want: Str("Software Engineer")},
		{name: "doc: Replace example 2 (oldValue, template)", expr: `Replace([UserID],"<username>", , , , , "<username>@contoso.com")`,
			env: MapEnv{"UserID": "jsmith"}, want: Str("jsmith@contoso.com")},
		{name: "doc: Replace example 3 (regexPattern, replacementValue)", expr: `Replace([telephoneNumber], , "\\+(?<isdCode>\\d* )(?<phoneNumber>\\d{10})", , "${phoneNumber}", , )`,
			env: MapEnv{"telephoneNumber": "+91 9998887777"}, want: Str("9998887777")},
		// The page says "19998887777", but its pattern [()\s-]+ does not
		// remove the "+" (.NET's Regex.Replace gives "+19998887777" too).
		{name: "doc: Replace example 3 collapse (the page's output drops a + its pattern keeps)", expr: `Replace([mobile], , "[()\\s-]+", , "", , )`,
			env: MapEnv{"mobile": "+1 (999) 888-7777"}, want: Str("+19998887777")},
		{name: "doc: Replace example 4 (regexPattern, regexGroupName, replacementValue)", expr: `Replace([AddressLineData], ,"(?<streetNumber>^\\d*)","streetNumber", "888", , )`,
			env: MapEnv{"AddressLineData": "545 Tremont Street"}, want: Str("888 Tremont Street")},
		{name: "doc: Replace example 4 domain suffix", expr: `Replace([userPrincipalName], , "(?<Suffix>@(.)*)", "Suffix", "", , )`,
			env: MapEnv{"userPrincipalName": "jsmith@contoso.com"}, want: Str("jsmith")},
		{name: "doc: Replace example 5 (replacementAttributeName), source empty", expr: `Replace([telephoneNumber], , "\\+(?<isdCode>\\d* )(?<phoneNumber>\\d{10})", "phoneNumber" , , [mobile], )`,
			env: MapEnv{"telephoneNumber": "", "mobile": "+91 8887779999"}, want: Str("8887779999")},
		{name: "doc: Replace example 5, source has a value", expr: `Replace([telephoneNumber], , "\\+(?<isdCode>\\d* )(?<phoneNumber>\\d{10})", "phoneNumber" , , [mobile], )`,
			env: MapEnv{"telephoneNumber": "+91 9998887777", "mobile": "+91 8887779999"}, want: Str("+91 9998887777")},
		{name: "doc: Replace example 6", expr: `Replace([mailNickname], , "[a-zA-Z_]*", , "", , )`,
			env: MapEnv{"mailNickname": "john_doe72"}, want: Str("72")},
		{name: "doc: Examples 'Strip known domain name'", expr: `Replace([mail], "@contoso.com", , ,"", ,)`, env: MapEnv{"mail": "john.doe@contoso.com"}, want: Str("john.doe")},
		{name: "doc rule: case-sensitive", expr: `Replace("ABC", "b", , , "x", , )`, want: Str("ABC")},
		{name: "doc rule: every occurrence", expr: `Replace([x], ".", , , "", , )`, env: MapEnv{"x": "a.b.c"}, want: Str("abc")},
		{name: "regex replacement references", expr: `Replace([x], , "(\\w+)@(\\w+)", , "$2 at $1 costs $$5 ($&)", , )`, env: MapEnv{"x": "ann@contoso"}, want: Str("contoso at ann costs $5 (ann@contoso)")},
		{name: "regexPattern from a field", expr: `Replace([x], , [re], , "-", , )`, env: MapEnv{"x": "a1b22", "re": "\\d+"}, want: Str("a-b-")},
		{name: "regexGroupName from a field", expr: `Replace([x], , "(?<n>\\d)", [g], "#", , )`, env: MapEnv{"x": "a1b2", "g": "n"}, want: Str("a#b#")},
		{name: "empty matches of a group", expr: `Replace("abc", , "(?<g>x*)", "g", "-", , )`, want: Str("-a-b-c-")},
		{name: "template from a field", expr: `Replace([t], "<u>", , , , , [tmpl])`, env: MapEnv{"t": "ann", "tmpl": "<u>@<u>.com"}, want: Str("ann@ann.com")},
		{name: "five arguments", expr: `Replace("a-b", "-", , , "+")`, want: Str("a+b")},
		{name: "null: missing source gives null", expr: `Replace([x], "a", , , "b", , )`, want: Null()},
		{name: "null: missing replacementValue reads as empty", expr: `Replace([x], "a", , , [y], , )`, env: MapEnv{"x": "banana"}, want: Str("bnn")},
		{name: "null: replacementAttributeName used when source is missing", expr: `Replace([t], , "(?<d>\\d+)", "d", , [m], )`, env: MapEnv{"m": "x 123"}, want: Str("123")},
		{name: "null: replacementAttributeName without a match", expr: `Replace([t], , "(?<d>\\d+)", "d", , [m], )`, env: MapEnv{"m": "none"}, want: Null()},
		{name: "null: both missing", expr: `Replace([t], , "(?<d>\\d+)", "d", , [m], )`, want: Null()},
		{name: "null: empty oldValue in a field", expr: `Replace([x], [old], , , "b", , )`, env: MapEnv{"x": "a", "old": ""}, wantErr: "Replace: oldValue is empty"},
		{name: "type: invalid regexPattern in a field", expr: `Replace([x], , [re], , "-", , )`, env: MapEnv{"x": "a", "re": "("}, wantErr: "Replace: invalid regexPattern"},
		{name: "type: unknown regexGroupName in a field", expr: `Replace([x], , "(?<n>\\d)", [g], "#", , )`, env: MapEnv{"x": "a1b2", "g": "m"}, wantErr: `Replace: regexGroupName "m" is not a named group of regexPattern`},
		{name: "type: boolean source as text", expr: `Replace(True, "T", , , "t", , )`, want: Str("true")},
		{name: "type: unsupported combination", expr: `Replace([a], "x", "y", , , , )`, parseErr: "unsupported combination of arguments; the forms are Replace(source, oldValue, , , replacementValue, , )"},
		{name: "type: invalid regexPattern constant", expr: `Replace([a], , "(", , "", , )`, parseErr: "invalid regexPattern"},
		{name: "type: look-around is not RE2", expr: `Replace([a], , "(?<=a)b", , "", , )`, parseErr: "RE2 syntax: no look-around or back-references"},
		{name: "type: unknown regexGroupName constant", expr: `Replace([a], , "(?<n>x)", "m", "", , )`, parseErr: `regexGroupName "m" is not a named group`},
		{name: "type: empty oldValue constant", expr: `Replace([a], "", , , "x", , )`, parseErr: "oldValue must not be empty"},
		{name: "arity: two arguments", expr: `Replace([a], "x")`, parseErr: "takes 3 to 7 arguments, got 2"},
		{name: "arity: eight arguments", expr: `Replace([a], "x", , , "y", , , )`, parseErr: "takes 3 to 7 arguments, got 8"},
		{name: "arity: source left out", expr: `Replace(, "x", , , "y", , )`, parseErr: "source (argument 1) cannot be left out"},
	},

	"SelectUniqueValue": {
		{name: "doc: SelectUniqueValue example, nothing taken", expr: docSelectUniqueValue, env: MapEnv{"PreferredFirstName": "John", "PreferredLastName": "Smith"}, taken: []string{}, want: Str("John.Smith@contoso.com")},
		{name: "doc: SelectUniqueValue example, John.Smith taken", expr: docSelectUniqueValue, env: MapEnv{"PreferredFirstName": "John", "PreferredLastName": "Smith"},
			taken: []string{"John.Smith@contoso.com"}, want: Str("J.Smith@contoso.com")},
		{name: "doc: SelectUniqueValue example, John.Smith and J.Smith taken", expr: docSelectUniqueValue, env: MapEnv{"PreferredFirstName": "John", "PreferredLastName": "Smith"},
			taken: []string{"John.Smith@contoso.com", "J.Smith@contoso.com"}, want: Str("Jo.Smith@contoso.com")},
		{name: "doc rule: SelectUniqueValue with Jéssica, NormalizeDiacritics nested as advised", expr: docSelectUniqueValue, env: MapEnv{"PreferredFirstName": "Jéssica", "PreferredLastName": "Smith"},
			taken: []string{}, want: Str("Jessica.Smith@contoso.com")},
		{name: "doc rule: all values exist in the target", expr: docSelectUniqueValue, env: MapEnv{"PreferredFirstName": "John", "PreferredLastName": "Smith"},
			taken: []string{"John.Smith@contoso.com", "J.Smith@contoso.com", "Jo.Smith@contoso.com"}, wantErr: `SelectUniqueValue: no unique value: "John.Smith@contoso.com", "J.Smith@contoso.com", "Jo.Smith@contoso.com" already taken`},
		{name: "doc rule: must be at the top level", expr: `Join(".", SelectUniqueValue("a", "b"))`, parseErr: "must be the outermost function of the expression; it cannot be nested"},
		{name: "default Context takes the first", expr: `SelectUniqueValue([a], Join(".", [a], "2"))`, env: MapEnv{"a": "x"}, ctx: &Context{}, want: Str("x")},
		{name: "uniqueness check fails", expr: `SelectUniqueValue([a], "b")`, env: MapEnv{"a": "x"},
			ctx: &Context{IsUnique: func(string) (bool, error) { return false, errors.New("directory unavailable") }}, wantErr: `SelectUniqueValue: checking "x": directory unavailable`},
		{name: "null: empty candidates are skipped", expr: `SelectUniqueValue([a], Join(".", [a], "2"))`, env: MapEnv{}, taken: []string{}, want: Str("2")},
		{name: "null: every candidate empty", expr: `SelectUniqueValue([a], [b])`, taken: []string{}, wantErr: "SelectUniqueValue: every rule produced an empty value"},
		{name: "type: number candidate as text", expr: `SelectUniqueValue(42, "x")`, taken: []string{}, want: Str("42")},
		{name: "arity: one rule", expr: `SelectUniqueValue([a])`, parseErr: "takes at least 2 arguments, got 1; usage: SelectUniqueValue(uniqueValueRule1, uniqueValueRule2, ...)"},
	},

	"Split": {
		// The page shows "PermissionSetTwo" without the space that follows
		// the comma in its input; Split does not trim.
		{name: "doc: Split example (the page drops the space after the comma)", expr: `Split([extensionAttribute5], ",")`,
			env: MapEnv{"extensionAttribute5": "PermissionSetOne, PermissionSetTwo"}, want: List("PermissionSetOne", " PermissionSetTwo")},
		{name: "the Split example input without the space gives the page's output", expr: `Split([extensionAttribute5], ",")`,
			env: MapEnv{"extensionAttribute5": "PermissionSetOne,PermissionSetTwo"}, want: List("PermissionSetOne", "PermissionSetTwo")},
		{name: "multi-character delimiter", expr: `Split("a::b", "::")`, want: List("a", "b")},
		{name: "empty items kept", expr: `Split("a,,b", ",")`, want: List("a", "", "b")},
		{name: "no delimiter in source", expr: `Split("abc", ",")`, want: List("abc")},
		{name: "null: missing source stays null", expr: `Split([x], ",")`, want: Null()},
		{name: "null: empty source gives no values", expr: `Split("", ",")`, want: List()},
		{name: "null: empty delimiter gives the source", expr: `Split("a", "")`, want: List("a")},
		{name: "null: missing delimiter gives the source", expr: `Split("a,b", [d])`, want: List("a,b")},
		{name: "type: boolean source as text", expr: `Split(True, "u")`, want: List("Tr", "e")},
		{name: "arity: one argument", expr: `Split("a")`, parseErr: "takes 2 arguments, got 1; usage: Split(source, delimiter)"},
	},

	"StripSpaces": {
		{name: `doc rule: removes all space (" ") characters`, expr: `StripSpaces(" a b  c ")`, want: Str("abc")},
		{name: "other white space kept", expr: "StripSpaces(\"a\tb\u00a0c\")", want: Str("a\tb\u00a0c")},
		{name: "nothing to strip", expr: `StripSpaces("abc")`, want: Str("abc")},
		{name: "only spaces", expr: `StripSpaces("   ")`, want: Str("")},
		{name: "null: missing stays null", expr: `StripSpaces([x])`, want: Null()},
		{name: "null: empty stays empty", expr: `StripSpaces([x])`, env: MapEnv{"x": ""}, want: Str("")},
		{name: "type: date as text", expr: `StripSpaces(CDate("2021-01-01"))`, want: Str("1/1/202112:00:00AM")},
		{name: "arity: none", expr: `StripSpaces()`, parseErr: "takes 1 argument, got 0; usage: StripSpaces(source)"},
	},

	"Switch": {
		{name: "doc: Switch example, QLD", expr: `Switch([state], "Australia/Sydney", "NSW", "Australia/Sydney","QLD", "Australia/Brisbane", "SA", "Australia/Adelaide")`,
			env: MapEnv{"state": "QLD"}, want: Str("Australia/Brisbane")},
		{name: "doc: Switch example, SA", expr: `Switch([state], "Australia/Sydney", "NSW", "Australia/Sydney","QLD", "Australia/Brisbane", "SA", "Australia/Adelaide")`,
			env: MapEnv{"state": "SA"}, want: Str("Australia/Adelaide")},
		{name: "doc: Switch example, no match gives the default", expr: `Switch([state], "Australia/Sydney", "NSW", "Australia/Sydney","QLD", "Australia/Brisbane", "SA", "Australia/Adelaide")`,
			env: MapEnv{"state": "VIC"}, want: Str("Australia/Sydney")},
		{name: "doc: Switch note ToLower, True", expr: `Switch(ToLower([statusFlag]), "0", "true", "1", "false", "0")`, env: MapEnv{"statusFlag": "True"}, want: Str("1")},
		{name: "doc: Switch note ToLower, true", expr: `Switch(ToLower([statusFlag]), "0", "true", "1", "false", "0")`, env: MapEnv{"statusFlag": "true"}, want: Str("1")},
		{name: "doc: Switch note ToLower, TRUE", expr: `Switch(ToLower([statusFlag]), "0", "true", "1", "false", "0")`, env: MapEnv{"statusFlag": "TRUE"}, want: Str("1")},
		{name: "doc: Switch note ToLower, FALSE", expr: `Switch(ToLower([statusFlag]), "0", "true", "1", "false", "0")`, env: MapEnv{"statusFlag": "FALSE"}, want: Str("0")},
		{name: "doc: Switch caution empty key, empty source", expr: `Switch([statusFlag], "Default Value", "true", "1", "", "0")`, env: MapEnv{"statusFlag": ""}, want: Str("0")},
		{name: "doc: Switch caution empty key, true", expr: `Switch([statusFlag], "Default Value", "true", "1", "", "0")`, env: MapEnv{"statusFlag": "true"}, want: Str("1")},
		{name: "doc: Switch caution empty key, other value", expr: `Switch([statusFlag], "Default Value", "true", "1", "", "0")`, env: MapEnv{"statusFlag": "x"}, want: Str("Default Value")},
		{name: "doc: Switch caution resolution, switch form, Company A", expr: `switch([companyName], "External", "Company A", "A", "Company B", "B")`, env: MapEnv{"companyName": "Company A"}, want: Str("A")},
		{name: "doc: Switch caution resolution, switch form, other", expr: `switch([companyName], "External", "Company A", "A", "Company B", "B")`, env: MapEnv{"companyName": "Fabrikam"}, want: Str("External")},
		{name: "doc: Switch caution resolution, IIF form, Company A", expr: `IIF([companyName] = "Company A", "A", IIF([companyName] = "Company B", "B", "External"))`, env: MapEnv{"companyName": "Company A"}, want: Str("A")},
		{name: "doc: Switch caution resolution, IIF form, Company B", expr: `IIF([companyName] = "Company A", "A", IIF([companyName] = "Company B", "B", "External"))`, env: MapEnv{"companyName": "Company B"}, want: Str("B")},
		{name: "doc: Switch caution resolution, IIF form, other", expr: `IIF([companyName] = "Company A", "A", IIF([companyName] = "Company B", "B", "External"))`, env: MapEnv{"companyName": "Fabrikam"}, want: Str("External")},
		{name: "doc rule: case-sensitive", expr: `Switch([s], "def", "QLD", "x")`, env: MapEnv{"s": "qld"}, want: Str("def")},
		{name: "first matching key wins", expr: `Switch([s], "def", "a", "1", "a", "2")`, env: MapEnv{"s": "a"}, want: Str("1")},
		{name: "only the chosen value is evaluated", expr: `Switch("a", "d", "a", "ok", "b", Mid("x", [bad], 1))`, env: MapEnv{"bad": "q"}, want: Str("ok")},
		{name: "null: source matches the empty key", expr: `Switch([s], "def", "", "empty", "a", "1")`, want: Str("empty")},
		{name: "null: omitted default gives null", expr: `Switch([s], , "a", "1")`, env: MapEnv{"s": "b"}, want: Null()},
		{name: "type: boolean source matches its text", expr: `Switch(IsNull([x]), "d", "True", "yes", "False", "no")`, want: Str("yes")},
		{name: "type: odd number of arguments", expr: `Switch([a], "d", "k", "v", "k2")`, parseErr: "takes an even number of arguments (source, defaultValue, then key/value pairs), got 5"},
		{name: "arity: three arguments", expr: `Switch([a], "d", "k")`, parseErr: "takes at least 4 arguments, got 3; usage: Switch(source, [defaultValue], key1, value1, ...)"},
		{name: "arity: source left out", expr: `Switch(, "d", "k", "v")`, parseErr: "source (argument 1) cannot be left out"},
	},

	"ToLower": {
		{name: "doc: ToLower example 'Convert generated userPrincipalName (UPN) value to lower case'",
			expr: `ToLower(Join("@", NormalizeDiacritics(StripSpaces(Join(".",  [PreferredFirstName], [PreferredLastName]))), "contoso.com"))`,
			env:  MapEnv{"PreferredFirstName": "John", "PreferredLastName": "Smith"}, want: Str("john.smith@contoso.com")},
		{name: "the ToLower example with spaces and accents in the names",
			expr: `ToLower(Join("@", NormalizeDiacritics(StripSpaces(Join(".",  [PreferredFirstName], [PreferredLastName]))), "contoso.com"))`,
			env:  MapEnv{"PreferredFirstName": "José María", "PreferredLastName": "van der Berg"}, want: Str("josemaria.vanderberg@contoso.com")},
		{name: "doc rule: invariant culture without culture", expr: `ToLower("ÄBC Ünal ISTANBUL")`, want: Str("äbc ünal istanbul")},
		{name: "doc rule: culture rules, tr-TR", expr: `ToLower("ISTANBUL", "tr-TR")`, want: Str("ıstanbul")},
		{name: "doc rule: culture rules, en-US", expr: `ToLower("ISTANBUL", "en-US")`, want: Str("istanbul")},
		{name: "empty culture is invariant", expr: `ToLower("ABC", "")`, want: Str("abc")},
		{name: "null: missing stays null", expr: `ToLower([x])`, want: Null()},
		{name: "null: missing culture is invariant", expr: `ToLower("ABC", [c])`, want: Str("abc")},
		{name: "type: boolean as text", expr: `ToLower(True)`, want: Str("true")},
		{name: "type: unknown culture in a field", expr: `ToLower("A", [c])`, env: MapEnv{"c": "!!"}, wantErr: `ToLower: unknown culture "!!"`},
		{name: "type: unknown culture constant", expr: `ToLower([a], "!!")`, parseErr: `unknown culture "!!" (expected a name such as en-US or tr-TR)`},
		{name: "arity: none", expr: `ToLower()`, parseErr: "takes 1 to 2 arguments, got 0; usage: ToLower(source, [culture])"},
		{name: "arity: three", expr: `ToLower("a", "b", "c")`, parseErr: "takes 1 to 2 arguments, got 3"},
	},

	"ToUpper": {
		{name: "invariant culture", expr: `ToUpper("straße ünal")`, want: Str("STRAßE ÜNAL")},
		{name: "culture tr-TR", expr: `ToUpper("istanbul", "tr-TR")`, want: Str("İSTANBUL")},
		{name: "culture de-DE", expr: `ToUpper("istanbul", "de-DE")`, want: Str("ISTANBUL")},
		{name: "null: missing stays null", expr: `ToUpper([x])`, want: Null()},
		{name: "null: empty stays empty", expr: `ToUpper([x])`, env: MapEnv{"x": ""}, want: Str("")},
		{name: "type: boolean as text", expr: `ToUpper(False)`, want: Str("FALSE")},
		{name: "type: unknown culture in a field", expr: `ToUpper("a", [c])`, env: MapEnv{"c": "??"}, wantErr: `ToUpper: unknown culture "??"`},
		{name: "type: unknown culture constant", expr: `ToUpper([a], "xx_YY_ZZ_1")`, parseErr: "unknown culture"},
		{name: "arity: none", expr: `ToUpper()`, parseErr: "takes 1 to 2 arguments, got 0; usage: ToUpper(source, [culture])"},
	},

	"Word": {
		{name: "doc: Word example 1", expr: `Word("The quick brown fox",3," ")`, want: Str("brown")},
		{name: "doc: Word example 2", expr: `Word("This,string!has&many separators",3,",!&#")`, want: Str("has")},
		{name: "doc rule: number < 1 gives empty", expr: `Word("a b", 0, " ")`, want: Str("")},
		{name: "doc rule: string null gives empty", expr: `Word([x], 1, " ")`, want: Str("")},
		{name: "doc rule: fewer words than number gives empty", expr: `Word("a b", 3, " ")`, want: Str("")},
		{name: "runs of delimiters separate once", expr: `Word("a  b", 2, " ")`, want: Str("b")},
		{name: "leading delimiters", expr: `Word(",,a,b", 1, ",")`, want: Str("a")},
		{name: "no delimiter in the string: one word", expr: `Word("abc", 1, " ")`, want: Str("abc")},
		{name: "unicode delimiters", expr: `Word("Zoë·Łukasz", 2, "·")`, want: Str("Łukasz")},
		{name: "null: missing delimiters: one word", expr: `Word("a b", 1, [d])`, want: Str("a b")},
		{name: "null: missing wordNumber", expr: `Word("a b", [n], " ")`, wantErr: "Word: wordNumber (argument 2) is null, expected a whole number"},
		{name: "type: wordNumber not a number", expr: `Word("a b", [n], " ")`, env: MapEnv{"n": "two"}, wantErr: `Word: wordNumber (argument 2) "two" is not a whole number`},
		{name: "type: wordNumber constant not a number", expr: `Word("a b", "two", " ")`, parseErr: `wordNumber (argument 2) must be a whole number, got "two"`},
		{name: "type: multi-valued string as text", expr: `Word(Split("a,b", ","), 2, ",")`, want: Str("b")},
		{name: "arity: two arguments", expr: `Word("a b", 1)`, parseErr: "takes 3 arguments, got 2; usage: Word(string, wordNumber, delimiters)"},
		{name: "arity: wordNumber left out", expr: `Word("a b", , " ")`, parseErr: "wordNumber (argument 2) cannot be left out"},
	},
}

func TestFunctions(t *testing.T) {
	names := make([]string, 0, len(funcTables))
	for n := range funcTables {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, fn := range names {
		t.Run(fn, func(t *testing.T) { runFuncCases(t, fn, funcTables[fn]) })
	}
}

// TestFunctionCoverage checks that every function has a table with normal
// use, null inputs, wrong types, wrong argument counts and Microsoft's
// examples.
func TestFunctionCoverage(t *testing.T) {
	all := map[string]bool{}
	for _, fn := range FunctionNames() {
		all[fn] = true
		kinds := map[string]int{}
		for _, c := range funcTables[fn] {
			kind := "normal"
			for _, p := range []string{"doc: ", "doc rule: ", "null: ", "arity: ", "type: "} {
				if strings.HasPrefix(c.name, p) {
					kind = strings.TrimSuffix(p, ": ")
				}
			}
			kinds[kind]++
		}
		if _, ok := noDocExample[fn]; ok == (kinds["doc"] > 0) {
			t.Errorf("%s: %d doc example rows, and noDocExample says %q", fn, kinds["doc"], noDocExample[fn])
		}
		if _, ok := noNullInput[fn]; ok == (kinds["null"] > 0) {
			t.Errorf("%s: %d null rows, and noNullInput says %q", fn, kinds["null"], noNullInput[fn])
		}
		for _, k := range []string{"normal", "arity", "type"} {
			if kinds[k] == 0 && !(k == "normal" && kinds["doc"]+kinds["doc rule"] > 0) {
				t.Errorf("%s: no %s rows", fn, k)
			}
		}
	}
	for fn := range funcTables {
		if !all[fn] {
			t.Errorf("table for unknown function %s", fn)
		}
	}
}
