package expr

import (
	"errors"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzParse checks that Parse never panics, that every error is a
// *SyntaxError with a column inside the expression, and that whatever parses
// evaluates without panicking, failing only with *EvalError.
// Run with: go test -fuzz=FuzzParse ./internal/mapping/expr
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`Append(ToLower(NormalizeDiacritics(StripSpaces(Join(".", [FirstName], [LastName])))), "@contoso.com")`,
		`IIF([country]="USA",[country],[department])`,
		`Switch([state], "Australia/Sydney", "NSW", "Australia/Sydney","QLD", "Australia/Brisbane")`,
		`Replace([telephoneNumber], , "\\+(?<isdCode>\\d* )(?<phoneNumber>\\d{10})", , "${phoneNumber}", , )`,
		`FormatDateTime([d], , "yyyyMMddHHmmss.fZ", "yyyy-MM-dd")`,
		`DateDiff("d", Now(), CDate([StatusHireDate])) > 5`,
		`BitAnd(&HF, &HF7)`,
		`"Company name: \"Contoso\""`,
		`Mid([x], 1, 3)`,
		`[a] <> "x"`,
	} {
		f.Add(s)
	}
	env := MapEnv{
		"FirstName": "Zoë", "LastName": "Łukasz", "a": "x", "x": "12345", "d": "20150123105347.1Z",
		"StatusHireDate": "2012-03-16-07:00", "country": "USA", "state": "QLD", "telephoneNumber": "+91 9998887777",
	}
	ctx := testCtx(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	f.Fuzz(func(t *testing.T, src string) {
		p, err := Parse(src)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) error %T %v; want *SyntaxError", src, err, err)
			}
			if se.Col < 1 || se.Col > utf8.RuneCountInString(src)+1 {
				t.Fatalf("Parse(%q): Col %d outside 1..%d", src, se.Col, utf8.RuneCountInString(src)+1)
			}
			if se.Msg == "" {
				t.Fatalf("Parse(%q): empty message", src)
			}
			return
		}
		if p.Source() != src {
			t.Fatalf("Source() = %q; want %q", p.Source(), src)
		}
		_ = p.Fields()
		for _, e := range []Env{env, MapEnv{}} {
			v, err := p.EvalWith(e, ctx)
			if err != nil {
				var ee *EvalError
				if !errors.As(err, &ee) {
					t.Fatalf("Eval(%q) error %T %v; want *EvalError", src, err, err)
				}
				continue
			}
			_ = v.String()
		}
	})
}
