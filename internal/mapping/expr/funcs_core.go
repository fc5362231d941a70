package expr

import (
	"strconv"
	"strings"
)

// This file holds the general-purpose functions: strings, logic, lists.

// Append(source, suffix): source followed by suffix. A null source or suffix
// reads as the empty string (string concatenation in .NET); the result is
// null only when both are null.
func fnAppend(e evaluator, n *node) (Value, error) {
	a, err := e.arg(n, 0)
	if err != nil {
		return Value{}, err
	}
	b, err := e.arg(n, 1)
	if err != nil {
		return Value{}, err
	}
	if a.kind == KindNull && b.kind == KindNull {
		return Value{}, nil
	}
	as, bs := a.String(), b.String()
	if bs == "" {
		return Str(as), nil
	}
	if as == "" {
		return Str(bs), nil
	}
	return Str(as + bs), nil
}

// BitAnd(value1, value2): bitwise AND of two whole numbers.
func fnBitAnd(e evaluator, n *node) (Value, error) {
	a, err := e.int(n, 0, false, 0)
	if err != nil {
		return Value{}, err
	}
	b, err := e.int(n, 1, false, 0)
	if err != nil {
		return Value{}, err
	}
	return Str(strconv.Itoa(a & b)), nil
}

// CBool(expression): True for a true boolean, "True" or a non-zero number;
// False for false, "False", zero, null or "".
func fnCBool(e evaluator, n *node) (Value, error) {
	v, err := e.arg(n, 0)
	if err != nil {
		return Value{}, err
	}
	b, ok := truth(v)
	if !ok {
		return Value{}, e.errf(n, "cannot convert %s to a boolean", quote(v.String()))
	}
	return Bool(b), nil
}

// Coalesce(source1, ..., defaultValue): the first argument that is not null.
// An empty string is not null and is returned.
func fnCoalesce(e evaluator, n *node) (Value, error) {
	for i := range n.args {
		v, err := e.arg(n, i)
		if err != nil {
			return Value{}, err
		}
		if v.kind != KindNull {
			return v, nil
		}
	}
	return Value{}, nil
}

// Count(attribute): the number of values of a multi-valued attribute; a
// single value counts 1 and null 0.
func fnCount(e evaluator, n *node) (Value, error) {
	v, err := e.arg(n, 0)
	if err != nil {
		return Value{}, err
	}
	return Str(strconv.Itoa(len(v.Items()))), nil
}

// CStr(value): the string form of a value (see Value.String); null stays
// null.
func fnCStr(e evaluator, n *node) (Value, error) {
	v, err := e.arg(n, 0)
	if err != nil || v.kind == KindNull {
		return Value{}, err
	}
	return Str(v.String()), nil
}

// IgnoreFlowIfNullOrEmpty(expression): the value, or an ignored null when it
// is null or empty (see Value.Ignored).
func fnIgnoreFlowIfNullOrEmpty(e evaluator, n *node) (Value, error) {
	v, err := e.arg(n, 0)
	if err != nil {
		return Value{}, err
	}
	if v.IsNullOrEmpty() {
		return Value{flags: flagIgnore}, nil
	}
	return v, nil
}

// IIF(condition, valueIfTrue, valueIfFalse). Only the chosen branch is
// evaluated.
func fnIIF(e evaluator, n *node) (Value, error) {
	c, err := e.arg(n, 0)
	if err != nil {
		return Value{}, err
	}
	b, ok := truth(c)
	if !ok {
		return Value{}, e.errf(n, "condition %s is neither True nor False", quote(c.String()))
	}
	if b {
		return e.arg(n, 1)
	}
	return e.arg(n, 2)
}

// IsNull(expression): True when the value is null (an absent attribute).
func fnIsNull(e evaluator, n *node) (Value, error) {
	v, err := e.arg(n, 0)
	return Bool(v.kind == KindNull), err
}

// IsNullOrEmpty(expression): True when the value is null or "".
func fnIsNullOrEmpty(e evaluator, n *node) (Value, error) {
	v, err := e.arg(n, 0)
	return Bool(v.IsNullOrEmpty()), err
}

// IsPresent(expression): the inverse of IsNullOrEmpty.
func fnIsPresent(e evaluator, n *node) (Value, error) {
	v, err := e.arg(n, 0)
	return Bool(!v.IsNullOrEmpty()), err
}

// IsString(expression): True when the value is a string (not null, a
// boolean, a list or a date-time).
func fnIsString(e evaluator, n *node) (Value, error) {
	v, err := e.arg(n, 0)
	return Bool(v.kind == KindString), err
}

// Item(attribute, index): the index-th value (1-based) of a multi-valued
// attribute; null when there is no such value.
func fnItem(e evaluator, n *node) (Value, error) {
	v, err := e.arg(n, 0)
	if err != nil {
		return Value{}, err
	}
	i, err := e.int(n, 1, false, 0)
	if err != nil {
		return Value{}, err
	}
	if i < 1 {
		return Value{}, e.errf(n, "index %d is out of range: the first item is 1", i)
	}
	items := v.Items()
	if i > len(items) {
		return Value{}, nil
	}
	return Str(items[i-1]), nil
}

// Join(separator, source1, ...): the non-empty values joined by separator.
// Null and empty values are skipped (Microsoft's example
// Join(", ", "", [surname], [givenName]) gives "Doe, John"); every value of a
// multi-valued argument is joined. The result is "" when nothing is left.
func fnJoin(e evaluator, n *node) (Value, error) {
	sep, _, err := e.str(n, 0)
	if err != nil {
		return Value{}, err
	}
	var buf [8]string
	parts := buf[:0]
	size := 0
	for i := 1; i < len(n.args); i++ {
		v, err := e.eval(n.args[i])
		if err != nil {
			return Value{}, err
		}
		switch v.kind {
		case KindNull:
		case KindList:
			for _, it := range v.list {
				if it != "" {
					parts = append(parts, it)
					size += len(it)
				}
			}
		default:
			if s := v.String(); s != "" {
				parts = append(parts, s)
				size += len(s)
			}
		}
	}
	switch len(parts) {
	case 0:
		return Str(""), nil
	case 1:
		return Str(parts[0]), nil
	}
	var b strings.Builder
	b.Grow(size + len(sep)*(len(parts)-1))
	for i, p := range parts {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(p)
	}
	return Str(b.String()), nil
}

// Not(source): False when source is True (a boolean, or "True" in any case),
// True otherwise.
func fnNot(e evaluator, n *node) (Value, error) {
	v, err := e.arg(n, 0)
	if err != nil {
		return Value{}, err
	}
	if v.kind == KindBool {
		return Bool(!v.b), nil
	}
	return Bool(!strings.EqualFold(strings.TrimSpace(v.String()), "true")), nil
}

// Redact(value): the value, marked so that logs and plans show "[Redact]".
// When Redact is nested, the whole result of the expression is marked (see
// Program.EvalWith): Entra redacts the attribute value, not a part of it.
func fnRedact(e evaluator, n *node) (Value, error) {
	v, err := e.arg(n, 0)
	if err != nil {
		return Value{}, err
	}
	v.flags |= flagRedact
	return v, nil
}

// RemoveDuplicates(attribute): the values of a multi-valued attribute with
// exact duplicates removed, first occurrence kept.
func fnRemoveDuplicates(e evaluator, n *node) (Value, error) {
	v, err := e.arg(n, 0)
	if err != nil || v.kind != KindList {
		return v, err
	}
	seen := make(map[string]struct{}, len(v.list))
	out := make([]string, 0, len(v.list))
	for _, it := range v.list {
		if _, dup := seen[it]; !dup {
			seen[it] = struct{}{}
			out = append(out, it)
		}
	}
	return listOf(out), nil
}

// SelectUniqueValue(rule1, rule2, ...): the first non-empty candidate that
// Context.IsUnique accepts; an error when none is unique.
func fnSelectUniqueValue(e evaluator, n *node) (Value, error) {
	var tried []string
	for i := range n.args {
		v, err := e.arg(n, i)
		if err != nil {
			return Value{}, err
		}
		if v.IsNullOrEmpty() {
			continue
		}
		s := v.String()
		if e.ctx == nil || e.ctx.IsUnique == nil {
			return Str(s), nil
		}
		ok, err := e.ctx.IsUnique(s)
		if err != nil {
			return Value{}, &EvalError{Func: n.fn.name, Msg: "checking " + quote(s) + ": " + err.Error(), Col: n.pos + 1, Err: err}
		}
		if ok {
			return Str(s), nil
		}
		tried = append(tried, quote(s))
	}
	if len(tried) == 0 {
		return Value{}, e.errf(n, "every rule produced an empty value")
	}
	return Value{}, e.errf(n, "no unique value: %s already taken", strings.Join(tried, ", "))
}

// Split(source, delimiter): source cut at every occurrence of delimiter into
// a multi-valued value. Null stays null; "" gives an empty list.
func fnSplit(e evaluator, n *node) (Value, error) {
	s, isNull, err := e.str(n, 0)
	if err != nil || isNull {
		return Value{}, err
	}
	d, _, err := e.str(n, 1)
	if err != nil {
		return Value{}, err
	}
	if s == "" {
		return listOf([]string{}), nil
	}
	if d == "" {
		return listOf([]string{s}), nil
	}
	return listOf(strings.Split(s, d)), nil
}

// Switch(source, defaultValue, key1, value1, ...): the value of the first key
// equal to source (exact, case-sensitive; null source matches the key ""),
// otherwise defaultValue (null when left out). Keys are evaluated in order
// and only the chosen value is evaluated.
func fnSwitch(e evaluator, n *node) (Value, error) {
	src, _, err := e.str(n, 0)
	if err != nil {
		return Value{}, err
	}
	for i := 2; i+1 < len(n.args); i += 2 {
		k, _, err := e.str(n, i)
		if err != nil {
			return Value{}, err
		}
		if k == src {
			return e.arg(n, i+1)
		}
	}
	return e.arg(n, 1)
}

func checkSwitch(n *node) *SyntaxError {
	if len(n.args)%2 != 0 {
		return &SyntaxError{Col: n.pos, Func: n.fn.name, Msg: "takes an even number of arguments (source, defaultValue, then key/value pairs), got " + strconv.Itoa(len(n.args)) + "; usage: " + n.fn.sig()}
	}
	return nil
}
