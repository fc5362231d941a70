package expr

import (
	"strings"
	"time"
)

// Kind is the type of a [Value].
type Kind uint8

// The kinds of value an expression can produce.
const (
	KindNull   Kind = iota // no value: a missing field, an omitted argument
	KindString             // a string (numbers are strings too)
	KindBool               // a boolean, from comparisons and the Is* functions
	KindList               // a multi-valued attribute, from Split
	KindDate               // a date-time, from CDate, Now, DateAdd, DateFromNum
)

// String names the kind.
func (k Kind) String() string {
	switch k {
	case KindNull:
		return "null"
	case KindString:
		return "string"
	case KindBool:
		return "bool"
	case KindList:
		return "list"
	case KindDate:
		return "date"
	}
	return "unknown"
}

const (
	flagIgnore uint8 = 1 << iota // IgnoreFlowIfNullOrEmpty: drop the attribute
	flagRedact                   // Redact: mask the value in logs and plans
)

// Value is the result of evaluating an expression. The zero Value is null.
// Values are small and immutable; pass them by value.
type Value struct {
	kind  Kind
	flags uint8
	b     bool
	s     string
	list  []string
	t     time.Time
}

// Null returns the null value.
func Null() Value { return Value{} }

// Str returns a string value.
func Str(s string) Value { return Value{kind: KindString, s: s} }

// Bool returns a boolean value.
func Bool(b bool) Value { return Value{kind: KindBool, b: b} }

// List returns a multi-valued value holding a copy of items.
func List(items ...string) Value {
	return Value{kind: KindList, list: append([]string(nil), items...)}
}

// Date returns a date-time value. It is held in UTC, as Entra does.
func Date(t time.Time) Value { return Value{kind: KindDate, t: t.UTC()} }

// listOf wraps items without copying; the caller must not modify them later.
func listOf(items []string) Value { return Value{kind: KindList, list: items} }

// Kind reports the kind of v.
func (v Value) Kind() Kind { return v.kind }

// IsNull reports whether v is null.
func (v Value) IsNull() bool { return v.kind == KindNull }

// IsNullOrEmpty reports whether v is null, the empty string or an empty list,
// the test behind Entra's IsNullOrEmpty, IsPresent, Join and
// IgnoreFlowIfNullOrEmpty.
func (v Value) IsNullOrEmpty() bool {
	switch v.kind {
	case KindNull:
		return true
	case KindString:
		return v.s == ""
	case KindList:
		return len(v.list) == 0
	}
	return false
}

// Ignored reports whether v came from IgnoreFlowIfNullOrEmpty with a null or
// empty argument: the attribute must be left out of the flow altogether (not
// cleared). An ignored value is also null.
func (v Value) Ignored() bool { return v.flags&flagIgnore != 0 }

// Redacted reports whether v came from an expression that calls Redact,
// at the top or nested (Join(".", Redact([x]), "y") is redacted whole): it
// is the real value, but logs, plans and reports must show "[Redact]"
// instead.
func (v Value) Redacted() bool { return v.flags&flagRedact != 0 }

// String renders v as Entra does when a value is used as a string:
// "" for null, "True" or "False" for a boolean, the items joined with ","
// for a list, and "M/d/yyyy h:mm:ss tt" (e.g. "3/16/2020 7:00:00 AM", UTC)
// for a date-time.
func (v Value) String() string {
	switch v.kind {
	case KindString:
		return v.s
	case KindBool:
		if v.b {
			return "True"
		}
		return "False"
	case KindList:
		return strings.Join(v.list, ",")
	case KindDate:
		return formatEntraDate(v.t)
	}
	return ""
}

// Bool returns the boolean held by v and whether v is a boolean.
func (v Value) Bool() (b, ok bool) { return v.b, v.kind == KindBool }

// Items returns the values of a multi-valued v: the list itself, a one-item
// list for a string, boolean or date, and nil for null. The caller must not
// modify the result.
func (v Value) Items() []string {
	switch v.kind {
	case KindNull:
		return nil
	case KindList:
		return v.list
	}
	return []string{v.String()}
}

// Time returns the date-time held by v and whether v is a date-time.
func (v Value) Time() (time.Time, bool) { return v.t, v.kind == KindDate }

// Equal reports whether v and w have the same kind and content (flags are not
// compared).
func (v Value) Equal(w Value) bool {
	if v.kind != w.kind {
		return false
	}
	switch v.kind {
	case KindString:
		return v.s == w.s
	case KindBool:
		return v.b == w.b
	case KindList:
		if len(v.list) != len(w.list) {
			return false
		}
		for i := range v.list {
			if v.list[i] != w.list[i] {
				return false
			}
		}
		return true
	case KindDate:
		return v.t.Equal(w.t)
	}
	return true
}

// GoString renders v for test failures and debugging, e.g. `"abc"`, `null`,
// `True`, `["a" "b"]`, `date(3/16/2020 7:00:00 AM)`.
func (v Value) GoString() string {
	var s string
	switch v.kind {
	case KindNull:
		s = "null"
	case KindString:
		s = quote(v.s)
	case KindBool:
		s = v.String()
	case KindList:
		var b strings.Builder
		b.WriteByte('[')
		for i, it := range v.list {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(quote(it))
		}
		b.WriteByte(']')
		s = b.String()
	case KindDate:
		s = "date(" + v.String() + ")"
	}
	if v.Ignored() {
		s += " (ignored)"
	}
	if v.Redacted() {
		s += " (redacted)"
	}
	return s
}
