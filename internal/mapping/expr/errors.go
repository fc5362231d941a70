package expr

import (
	"strconv"
	"strings"
)

// SyntaxError is a problem found by [Parse]: bad syntax, an unknown function,
// a wrong number of arguments or an invalid constant argument.
type SyntaxError struct {
	// Col is the 1-based position in the expression, counted in characters
	// (Unicode code points) from its start; line breaks count as one.
	Col int
	// Func is the function the error is about, in its canonical spelling
	// (e.g. "Mid"), or the name as written when it is unknown; empty when the
	// error is not about a function.
	Func string
	// Msg says what is wrong, and for functions how to call them.
	Msg string
}

// Error renders "col 12: Mid: ...".
func (e *SyntaxError) Error() string {
	var b strings.Builder
	b.WriteString("col ")
	b.WriteString(strconv.Itoa(e.Col))
	b.WriteString(": ")
	if e.Func != "" {
		b.WriteString(e.Func)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// EvalError is a problem found while evaluating a [Program] against one
// record, e.g. a non-numeric length given to Mid.
type EvalError struct {
	// Func is the canonical name of the function that failed, or "" for an
	// error outside any function (e.g. a comparison).
	Func string
	// Msg says what is wrong.
	Msg string
	// Col is the 1-based position of the failing call in the expression, as
	// in SyntaxError.
	Col int
	// Err is the underlying error, if any (e.g. from Context.IsUnique).
	Err error
}

// Unwrap returns the underlying error.
func (e *EvalError) Unwrap() error { return e.Err }

// Error renders "Mid: length "x" is not a whole number (col 5)".
func (e *EvalError) Error() string {
	var b strings.Builder
	if e.Func != "" {
		b.WriteString(e.Func)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Col > 0 {
		b.WriteString(" (col ")
		b.WriteString(strconv.Itoa(e.Col))
		b.WriteString(")")
	}
	return b.String()
}

// quote renders s as an expression-language string constant.
func quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}
