package expr

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Env supplies the source fields of one record. identity.Record satisfies
// it.
type Env interface {
	// Field returns the value of the named field. present=false means the
	// source has no such field: the expression sees null. A present field
	// with an empty value is the empty string, not null.
	Field(name string) (value string, present bool)
}

// ListEnv is an Env whose fields may have several values, such as an LDAP
// entry's multi-valued attributes (identity.Record satisfies it). A field
// with several values reads as a list ([mail] in Join, Item, Count,
// RemoveDuplicates; as a string, the values joined with ","); a field with
// one value reads as a string, as from any Env.
type ListEnv interface {
	Env
	// FieldValues returns every value of a field that has several; ok is
	// false for a field with one value or none.
	FieldValues(name string) (values []string, ok bool)
}

// MapEnv is an Env backed by a map, handy in tests and previews.
type MapEnv map[string]string

// Field implements Env.
func (m MapEnv) Field(name string) (string, bool) {
	v, ok := m[name]
	return v, ok
}

// Context supplies what some functions need beyond the record: a clock,
// randomness and a uniqueness check. The zero Context (and a nil *Context)
// uses the system clock and crypto/rand, and treats every
// SelectUniqueValue candidate as unique.
type Context struct {
	// Now returns the current time, for Now(). Default time.Now.
	Now func() time.Time
	// Rand is the source of randomness for Guid and RandomString. Default
	// crypto/rand.Reader.
	Rand io.Reader
	// IsUnique reports whether a SelectUniqueValue candidate is free in the
	// target directory. Default: every candidate is free, so the first
	// non-empty one is chosen.
	IsUnique func(value string) (bool, error)
}

func (c *Context) now() time.Time {
	if c == nil || c.Now == nil {
		return time.Now()
	}
	return c.Now()
}

func (c *Context) rand() io.Reader {
	if c == nil || c.Rand == nil {
		return rand.Reader
	}
	return c.Rand
}

// Eval evaluates the program against one record, with the default Context.
// Runtime errors are *EvalError.
func (p *Program) Eval(env Env) (Value, error) {
	return p.EvalWith(env, nil)
}

// EvalWith evaluates the program against one record with an explicit
// Context (nil means the default). Runtime errors are *EvalError.
func (p *Program) EvalWith(env Env, ctx *Context) (Value, error) {
	ev := evaluator{env: env, ctx: ctx}
	if l, ok := env.(ListEnv); ok {
		ev.list = l
	}
	v, err := ev.eval(p.root)
	if err != nil {
		var ee *EvalError
		if errors.As(err, &ee) && ee.Col > 0 && ee.Col-1 <= len(p.src) {
			// Col holds byte offset+1 during evaluation.
			ee.Col = utf8.RuneCountInString(p.src[:ee.Col-1]) + 1
		}
		return Value{}, err
	}
	if p.redact {
		v.flags |= flagRedact
	}
	return v, nil
}

// evaluator is passed by value to keep evaluation free of allocations.
type evaluator struct {
	env  Env
	list ListEnv // env, when its fields may have several values
	ctx  *Context
}

func (e evaluator) eval(n *node) (Value, error) {
	switch n.kind {
	case nConst:
		return n.val, nil
	case nField:
		if e.env == nil {
			return Value{}, nil
		}
		s, ok := e.env.Field(n.name)
		if !ok {
			return Value{}, nil
		}
		if e.list != nil {
			if vs, ok := e.list.FieldValues(n.name); ok {
				return listOf(vs), nil
			}
		}
		return Value{kind: KindString, s: s}, nil
	case nCall:
		return n.fn.eval(e, n)
	case nCompare:
		return e.compare(n)
	}
	return Value{}, nil
}

// arg evaluates argument i of call n; a missing or omitted argument is null.
func (e evaluator) arg(n *node, i int) (Value, error) {
	if i >= len(n.args) {
		return Value{}, nil
	}
	return e.eval(n.args[i])
}

// str evaluates argument i as a string; null reads as "" and isNull tells.
func (e evaluator) str(n *node, i int) (s string, isNull bool, err error) {
	v, err := e.arg(n, i)
	if err != nil {
		return "", false, err
	}
	return v.String(), v.kind == KindNull, nil
}

// int evaluates argument i as a whole number. An omitted argument yields def
// when optional is true; anything else that is not a whole number is an
// error naming the function and the parameter.
func (e evaluator) int(n *node, i int, optional bool, def int) (int, error) {
	if !n.present(i) {
		if optional {
			return def, nil
		}
		return 0, e.errf(n, "%s is required", n.fn.param(i))
	}
	v, err := e.eval(n.args[i])
	if err != nil {
		return 0, err
	}
	if v.kind == KindNull {
		return 0, e.errf(n, "%s is null, expected a whole number", n.fn.param(i))
	}
	x, ok := parseInt(v.String())
	if !ok {
		return 0, e.errf(n, "%s %s is not a whole number", n.fn.param(i), quote(v.String()))
	}
	return x, nil
}

// errf builds an *EvalError for call n.
func (e evaluator) errf(n *node, format string, args ...any) error {
	name := ""
	if n.fn != nil {
		name = n.fn.name
	}
	return &EvalError{Func: name, Msg: fmt.Sprintf(format, args...), Col: n.pos + 1}
}

// parseInt parses a whole number written as digits ("12", "-3", " 7 ", "3.0")
// or in VBA hexadecimal ("&HFF").
func parseInt(s string) (int, bool) {
	s = strings.TrimSpace(s)
	if n, err := strconv.Atoi(s); err == nil {
		return n, true
	}
	if len(s) > 2 && s[0] == '&' && (s[1] == 'H' || s[1] == 'h') {
		n, err := strconv.ParseInt(s[2:], 16, 64)
		return int(n), err == nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int(f), true
}

// parseNumber parses a decimal number for ordering comparisons.
func parseNumber(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	if c := s[len(s)-1]; c < '0' || c > '9' {
		if c != '.' {
			return 0, false // rejects "Inf", "NaN", "1e"
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

// truth interprets v as an IIF condition or a boolean argument: a boolean,
// "True"/"False" in any case, a number (non-zero is true); null and "" are
// false.
func truth(v Value) (bool, bool) {
	switch v.kind {
	case KindBool:
		return v.b, true
	case KindNull:
		return false, true
	case KindString:
		s := strings.TrimSpace(v.s)
		switch {
		case s == "":
			return false, true
		case strings.EqualFold(s, "true"):
			return true, true
		case strings.EqualFold(s, "false"):
			return false, true
		}
		if f, ok := parseNumber(s); ok {
			return f != 0, true
		}
	}
	return false, false
}

// compare evaluates "a op b". Null reads as the empty string. Equality is
// exact (case-sensitive) on the string forms, except that a boolean equals
// "true"/"false" in any case. Ordering compares numbers as numbers and
// date-times as date-times when both sides are such, and otherwise strings
// ordinally.
func (e evaluator) compare(n *node) (Value, error) {
	a, err := e.eval(n.args[0])
	if err != nil {
		return Value{}, err
	}
	b, err := e.eval(n.args[1])
	if err != nil {
		return Value{}, err
	}
	var c int
	switch n.op {
	case opEq, opNe:
		eq := false
		switch {
		case a.kind == KindBool || b.kind == KindBool:
			eq = strings.EqualFold(a.String(), b.String())
		case a.kind == KindDate || b.kind == KindDate:
			ta, oka := asTime(a)
			tb, okb := asTime(b)
			eq = oka && okb && ta.Equal(tb)
			if !oka || !okb {
				eq = a.String() == b.String()
			}
		default:
			eq = a.String() == b.String()
		}
		return Bool(eq == (n.op == opEq)), nil
	}
	as, bs := a.String(), b.String()
	if fa, ok := parseNumber(as); ok {
		if fb, ok := parseNumber(bs); ok {
			c = cmpFloat(fa, fb)
			goto done
		}
	}
	if a.kind == KindDate || b.kind == KindDate {
		ta, oka := asTime(a)
		tb, okb := asTime(b)
		if oka && okb {
			c = ta.Compare(tb)
			goto done
		}
	}
	c = strings.Compare(as, bs)
done:
	switch n.op {
	case opLt:
		return Bool(c < 0), nil
	case opLe:
		return Bool(c <= 0), nil
	case opGt:
		return Bool(c > 0), nil
	default:
		return Bool(c >= 0), nil
	}
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// asTime reads v as a date-time: a date value, or a string CDate accepts.
func asTime(v Value) (time.Time, bool) {
	if v.kind == KindDate {
		return v.t, true
	}
	if v.kind != KindString {
		return time.Time{}, false
	}
	return parseDate(v.s)
}
