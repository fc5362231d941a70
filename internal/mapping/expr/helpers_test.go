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
	name    string
	expr    string
	env     MapEnv
	want    Value
	wantErr string // substring of the *EvalError message; "" = no error
}

// testCtx is a deterministic Context: a fixed clock and seeded randomness.
func testCtx(now time.Time) *Context {
	return &Context{
		Now:  func() time.Time { return now },
		Rand: rand.NewChaCha8([32]byte{1, 2, 3}),
	}
}

func runCases(t *testing.T, cases []tc) {
	t.Helper()
	runCasesCtx(t, nil, cases)
}

func runCasesCtx(t *testing.T, ctx *Context, cases []tc) {
	t.Helper()
	for _, c := range cases {
		name := c.name
		if name == "" {
			name = c.expr
		}
		t.Run(name, func(t *testing.T) {
			t.Helper()
			p, err := Parse(c.expr)
			if err != nil {
				t.Fatalf("Parse(%s): %v", c.expr, err)
			}
			got, err := p.EvalWith(c.env, ctx)
			if c.wantErr != "" {
				var ee *EvalError
				if !errors.As(err, &ee) {
					t.Fatalf("Eval(%s) = %#v, %v; want *EvalError containing %q", c.expr, got, err, c.wantErr)
				}
				if !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("Eval(%s) error %q; want it to contain %q", c.expr, err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Eval(%s): %v", c.expr, err)
			}
			if !got.Equal(c.want) {
				t.Fatalf("Eval(%s) = %#v; want %#v", c.expr, got, c.want)
			}
		})
	}
}

func date(y int, m time.Month, d, h, mi, s int) Value {
	return Date(time.Date(y, m, d, h, mi, s, 0, time.UTC))
}
