package expr

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// Behaviour of evaluation beyond single functions: the default Context,
// reproducibility, error positions and case-insensitive names.

func TestDefaultContext(t *testing.T) {
	v, err := MustParse(`Now()`).Eval(nil)
	if tm, ok := v.Time(); err != nil || !ok || time.Since(tm) > time.Minute || tm.Location() != time.UTC {
		t.Errorf("Now() = %#v, %v", v, err)
	}
	a, _ := MustParse(`Guid()`).Eval(nil)
	b, _ := MustParse(`Guid()`).Eval(nil)
	if len(a.String()) != 36 || a.String() == b.String() {
		t.Errorf("Guid() = %q, %q", a.String(), b.String())
	}
	v, err = MustParse(`SelectUniqueValue([a], "b")`).EvalWith(MapEnv{"a": "x"}, nil)
	if err != nil || v.String() != "x" {
		t.Errorf("SelectUniqueValue with a nil Context = %#v, %v", v, err)
	}
}

func TestSeededRandomnessIsReproducible(t *testing.T) {
	p := MustParse(`Join("|", Guid(), RandomString(12, 2, 2, 2, 2))`)
	now := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	x, _ := p.EvalWith(nil, testCtx(now))
	y, _ := p.EvalWith(nil, testCtx(now))
	if x.String() != y.String() {
		t.Errorf("same seed, different results: %q, %q", x.String(), y.String())
	}
}

func TestSelectUniqueValueUnwrapsIsUniqueError(t *testing.T) {
	boom := errors.New("directory unavailable")
	_, err := MustParse(`SelectUniqueValue([a], "b")`).EvalWith(MapEnv{"a": "x"}, &Context{IsUnique: func(string) (bool, error) { return false, boom }})
	var ee *EvalError
	if !errors.As(err, &ee) || ee.Func != "SelectUniqueValue" || !errors.Is(err, boom) {
		t.Errorf("got %v", err)
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
		{expr: `IIF(false, "a", "b")`, want: Str("b")},
		{expr: `normalizediacritics("é")`, want: Str("e")},
		{expr: `InStr("aA", "A", 1, VBTEXTCOMPARE)`, want: Str("1")},
	})
}

// Every function's signature names it, and FunctionSignature agrees with
// what Parse reports for a wrong call.
func TestSignaturesInErrors(t *testing.T) {
	for _, fn := range FunctionNames() {
		sig, ok := FunctionSignature(strings.ToLower(fn))
		if !ok || !strings.HasPrefix(sig, fn+"(") {
			t.Errorf("FunctionSignature(%s) = %q, %v", fn, sig, ok)
			continue
		}
		// 60 arguments is too many for every function but the
		// open-ended ones; 0 too few for all but Guid and Now.
		for _, src := range []string{fn + "(" + strings.Repeat(`"1",`, 59) + `"1")`, fn + "()"} {
			_, err := Parse(src)
			var se *SyntaxError
			if err == nil {
				continue
			}
			if !errors.As(err, &se) || se.Func != fn {
				t.Errorf("Parse(%.30s...) = %v; want an error naming %s", src, err, fn)
				continue
			}
			if strings.Contains(se.Msg, "takes ") && !strings.Contains(se.Msg, "usage: "+sig) {
				t.Errorf("Parse(%.30s...) = %q; want the usage %s", src, se.Msg, sig)
			}
		}
	}
}
