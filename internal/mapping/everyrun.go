package mapping

import (
	"fmt"
	"strings"
	"time"

	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/mapping/expr"
)

// Warning is something about the mapping that does not stop a plan but
// that the person running hrsync should see: where, and what to do.
type Warning struct {
	File    string
	Line    int
	Attr    string
	Message string
}

// String renders "file:line: attribute: message".
func (w Warning) String() string {
	return fmt.Sprintf("%s:%d: %s: %s", w.File, w.Line, w.Attr, w.Message)
}

// everyRunDays are the clocks a Now() attribute is evaluated at, in days
// after the plan's clock.
var everyRunDays = [...]int{0, 1, 2}

// maxEveryRunSample bounds the records an EveryRunCheck evaluates.
const maxEveryRunSample = 10000

// EveryRunCheck finds the attributes that would change on every run
// because their value follows the clock, e.g.
// FormatDateTime(Now(), , "yyyyMMddHHmmss") or a count of days since the
// hire date: each daily run would update the user again and no plan would
// ever be clean. Only attributes applied always are checked (an on_create
// or when_empty value is written once).
//
// The check is by example, not by reading the expression: each in-scope
// record (up to 10,000) is evaluated at the plan's clock and one and two
// days later. A record whose value differs at both steps changes every day.
// A date threshold, such as Microsoft's pre-hire pattern
// IIF(DateDiff("d", Now(), CDate([StatusHireDate])) > 5, "False", "True"),
// changes a record's value once, so it never differs at both steps and is
// not reported; a value that changes once a month (a "yyyyMM" stamp) is not
// reported either, whatever day the plan is made. A record whose value
// fails to evaluate at any of the three clocks is not counted.
//
// Use it once per plan: NewEveryRunCheck with the clock given to Map, Add
// for each record read, then Warnings. It is not safe for concurrent use.
type EveryRunCheck struct {
	m       *Mapping
	ctxs    [len(everyRunDays)]*expr.Context
	attrs   []everyRunAttr
	records int
}

type everyRunAttr struct {
	a       *Attr
	sampled int // records evaluated at every clock
	moving  int // of those, records whose value differs at both steps
	example identity.Provenance
	values  [len(everyRunDays)]string
}

// NewEveryRunCheck starts the check for one plan; now is the clock its
// records are mapped with.
func (m *Mapping) NewEveryRunCheck(now time.Time) *EveryRunCheck {
	c := &EveryRunCheck{m: m}
	for i := range m.Attrs {
		a := &m.Attrs[i]
		if a.usesNow && !a.Volatile && !a.Spec.CreateOnly && !a.Spec.WhenEmpty {
			c.attrs = append(c.attrs, everyRunAttr{a: a})
		}
	}
	for i, d := range everyRunDays {
		t := now.AddDate(0, 0, d)
		c.ctxs[i] = &expr.Context{Now: func() time.Time { return t }}
	}
	return c
}

// Add evaluates the checked attributes for one record; it ignores a
// record the scope leaves out. Cheap when no attribute is checked.
func (c *EveryRunCheck) Add(rec *identity.Record) {
	if len(c.attrs) == 0 || c.records >= maxEveryRunSample {
		return
	}
	if c.m.Scope != nil {
		if sr, err := c.m.InScope(rec); err != nil || !sr.In {
			return
		}
	}
	c.records++
	for i := range c.attrs {
		ea := &c.attrs[i]
		var vals [len(everyRunDays)]string
		ok := true
		for j, ctx := range c.ctxs {
			if vals[j], ok = c.m.attrResult(ea.a, rec, ctx); !ok {
				break
			}
		}
		if !ok {
			continue
		}
		ea.sampled++
		moved := true
		for j := 1; j < len(vals); j++ {
			moved = moved && vals[j] != vals[j-1]
		}
		if moved {
			if ea.moving == 0 {
				ea.example, ea.values = rec.Prov, vals
			}
			ea.moving++
		}
	}
}

// Warnings returns one warning for each checked attribute that changes
// every day for at least one record, in mapping order.
func (c *EveryRunCheck) Warnings() []Warning {
	var out []Warning
	for _, ea := range c.attrs {
		if ea.moving == 0 {
			continue
		}
		how := fmt.Sprintf("for every record (%d)", ea.sampled)
		if ea.moving < ea.sampled {
			how = fmt.Sprintf("for %d of %d records", ea.moving, ea.sampled)
		}
		seen := " at the plan's clock, a day and two days later"
		if !calls(ea.a.Prog, "Redact") {
			seen = fmt.Sprintf(" gives %s at the plan's clock, a day and two days later", strings.Join(quoteAll(ea.values[:]), ", "))
		}
		out = append(out, Warning{File: c.m.File, Line: ea.a.Line, Attr: ea.a.Spec.Name, Message: fmt.Sprintf(
			"changes every day %s, so every run would update it (Now() is the plan's clock; %s%s); "+
				"compare Now() with a date instead (IIF(DateDiff(\"d\", Now(), CDate([HireDate])) > 5, \"False\", \"True\") changes once), or set apply: %s or %s",
			how, ea.example, seen, ApplyOnCreate, ApplyWhenEmpty)})
	}
	return out
}

// attrResult evaluates a for rec with ctx and renders what a plan would
// write: the canonical value, the candidates of SelectUniqueValue, or a
// marker for no value and for a value that does not flow. ok is false when
// the expression or the value fails.
func (m *Mapping) attrResult(a *Attr, rec *identity.Record, ctx *expr.Context) (string, bool) {
	if a.Unique {
		cands, err := m.candidates(*a, rec, ctx)
		if err != nil {
			return "", false
		}
		return strings.Join(cands, " | "), true
	}
	v, err := a.Prog.EvalWith(rec, ctx)
	switch {
	case err != nil:
		return "", false
	case v.Ignored():
		return "(not flowing)", true
	case v.IsNull():
		return "(no value)", true
	}
	c, err := Canonical(a.Spec, valueString(a.Spec, v))
	if err != nil {
		return "", false
	}
	return c, true
}

func quoteAll(vs []string) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = fmt.Sprintf("%q", v)
	}
	return out
}
