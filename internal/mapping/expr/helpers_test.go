package expr

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// tc is one evaluation test: expression, record, expected value or error.
type tc struct {
	name string
	expr string
	env  MapEnv
	want Value
	// wantErr is a substring of the *EvalError message; "" = no error.
	wantErr string
	// parseErr is a substring of the *SyntaxError message: Parse must
	// refuse the expression.
	parseErr string
	// errFunc is the function an error must name; "" = the function whose
	// table holds the case (see runFuncCases).
	errFunc string
	// ignored and redacted are the flags the result must carry; a result
	// without them must not carry them either.
	ignored, redacted bool
	// check, when set, replaces the comparison with want: it returns a
	// description of what is wrong with v, or "".
	check func(v Value) string
	// now is the clock for Now(); zero means docNow.
	now time.Time
	// taken lists the values Context.IsUnique reports as taken.
	taken []string
	// ctx, when set, is used as the Context instead of one built from now
	// and taken.
	ctx *Context
}

// docNow is the example value of Microsoft's Now() section,
// 7/2/2021 3:33:38 PM.
var docNow = time.Date(2021, 7, 2, 15, 33, 38, 0, time.UTC)

// testCtx is a deterministic Context: a fixed clock and seeded randomness.
func testCtx(now time.Time) *Context {
	return &Context{
		Now:  func() time.Time { return now },
		Rand: rand.NewChaCha8([32]byte{1, 2, 3}),
	}
}

// caseCtx builds the Context of one case: a fixed clock, fresh seeded
// randomness (so that every case is reproducible on its own) and the
// uniqueness check of taken.
func caseCtx(c tc) *Context {
	if c.ctx != nil {
		return c.ctx
	}
	now := c.now
	if now.IsZero() {
		now = docNow
	}
	ctx := testCtx(now)
	if c.taken != nil {
		taken := map[string]bool{}
		for _, s := range c.taken {
			taken[s] = true
		}
		ctx.IsUnique = func(s string) (bool, error) { return !taken[s], nil }
	}
	return ctx
}

func runCases(t *testing.T, cases []tc) {
	t.Helper()
	runCasesCtx(t, nil, cases)
}

// runCasesCtx runs cases with one shared Context (nil: each case's own, see
// caseCtx). Errors are not checked for the function they name.
func runCasesCtx(t *testing.T, ctx *Context, cases []tc) {
	t.Helper()
	for _, c := range cases {
		if ctx != nil && c.ctx == nil {
			c.ctx = ctx
		}
		runCase(t, "", c)
	}
}

// runFuncCases runs the table of function fn: every error must name fn
// (or c.errFunc).
func runFuncCases(t *testing.T, fn string, cases []tc) {
	t.Helper()
	for _, c := range cases {
		runCase(t, fn, c)
	}
}

func runCase(t *testing.T, fn string, c tc) {
	t.Helper()
	name := c.name
	if name == "" {
		name = c.expr
	}
	errFunc := c.errFunc
	if errFunc == "" {
		errFunc = fn
	}
	t.Run(name, func(t *testing.T) {
		t.Helper()
		p, err := Parse(c.expr)
		if c.parseErr != "" {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%s) = %v; want *SyntaxError containing %q", c.expr, err, c.parseErr)
			}
			if !strings.Contains(se.Msg, c.parseErr) {
				t.Fatalf("Parse(%s) error %q; want it to contain %q", c.expr, se.Msg, c.parseErr)
			}
			if errFunc != "" && (se.Func != errFunc || !strings.Contains(err.Error(), errFunc+": ")) {
				t.Fatalf("Parse(%s) error %q names %q; want %q", c.expr, err, se.Func, errFunc)
			}
			return
		}
		if err != nil {
			t.Fatalf("Parse(%s): %v", c.expr, err)
		}
		got, err := p.EvalWith(c.env, caseCtx(c))
		if c.wantErr != "" {
			var ee *EvalError
			if !errors.As(err, &ee) {
				t.Fatalf("Eval(%s) = %#v, %v; want *EvalError containing %q", c.expr, got, err, c.wantErr)
			}
			if !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("Eval(%s) error %q; want it to contain %q", c.expr, err, c.wantErr)
			}
			if errFunc != "" && (ee.Func != errFunc || !strings.HasPrefix(err.Error(), errFunc+": ")) {
				t.Fatalf("Eval(%s) error %q names %q; want %q", c.expr, err, ee.Func, errFunc)
			}
			return
		}
		if err != nil {
			t.Fatalf("Eval(%s): %v", c.expr, err)
		}
		if c.check != nil {
			if msg := c.check(got); msg != "" {
				t.Fatalf("Eval(%s) = %#v: %s", c.expr, got, msg)
			}
		} else if !got.Equal(c.want) {
			t.Fatalf("Eval(%s) = %#v; want %#v", c.expr, got, c.want)
		}
		if got.Ignored() != c.ignored || got.Redacted() != c.redacted {
			t.Fatalf("Eval(%s) = %#v; want ignored=%v redacted=%v", c.expr, got, c.ignored, c.redacted)
		}
	})
}

func date(y int, m time.Month, d, h, mi, s int) Value {
	return Date(time.Date(y, m, d, h, mi, s, 0, time.UTC))
}
