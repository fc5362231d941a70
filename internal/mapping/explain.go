package mapping

import (
	"time"

	"github.com/hrsync/hrsync/internal/identity"
)

// Trace is how the mapping sees one record, step by step: what
// `hrsync explain` shows.
type Trace struct {
	Scope    ScopeResult `json:"scope"`
	ScopeErr string      `json:"scope_error,omitempty"`
	Keys     []KeyTrace  `json:"match"`
	Attrs    []AttrTrace `json:"attributes"`
	// Err is the record error Map reports for this record, if any: the
	// record is then left out of the plan.
	Err string `json:"error,omitempty"`
}

// KeyTrace is one match rule's value for the record.
type KeyTrace struct {
	Rule   int    `json:"rule"`
	Target string `json:"target"`
	Expr   string `json:"expression"`
	Value  string `json:"value"`
	Err    string `json:"error,omitempty"`
}

// AttrTrace is one attribute's expression and value for the record.
type AttrTrace struct {
	Name       string   `json:"attribute"`
	Expr       string   `json:"expression"`
	Apply      string   `json:"apply"`
	Value      string   `json:"value"`
	Null       bool     `json:"null,omitempty"`
	Ignored    bool     `json:"ignored,omitempty"`
	Candidates []string `json:"candidates,omitempty"`
	// Volatile: the value is random (Guid, RandomString); another
	// evaluation, and the plan, give another.
	Volatile bool   `json:"volatile,omitempty"`
	Err      string `json:"error,omitempty"`
}

// Explain evaluates every part of the mapping for rec on its own, so one
// failing expression does not hide the others. now is the clock, as for
// Map.
func (m *Mapping) Explain(rec *identity.Record, now time.Time) Trace {
	var t Trace
	ctx := m.clock(now)
	if _, err := m.Map(rec, now); err != nil {
		t.Err = err.Error()
	}
	if sr, err := m.InScope(rec); err != nil {
		t.ScopeErr = err.Error()
	} else {
		t.Scope = sr
	}
	for i, r := range m.Rules {
		k := KeyTrace{Rule: i + 1, Target: r.Target.Name, Expr: r.Source.Source()}
		if v, err := r.Source.Eval(rec); err != nil {
			k.Err = err.Error()
		} else if c, err := Canonical(r.Target, v.String()); err != nil {
			k.Err = err.Error()
		} else {
			k.Value = c
		}
		t.Keys = append(t.Keys, k)
	}
	for _, a := range m.Attrs {
		at := AttrTrace{Name: a.Spec.Name, Expr: a.Prog.Source(), Apply: a.Apply, Volatile: a.Volatile}
		if a.Unique {
			cands, err := m.candidates(a, rec, ctx)
			if err != nil {
				at.Err = err.Error()
			} else {
				at.Candidates = cands
				if len(cands) > 0 {
					at.Value = cands[0]
				}
			}
			t.Attrs = append(t.Attrs, at)
			continue
		}
		v, err := a.Prog.EvalWith(rec, ctx)
		switch {
		case err != nil:
			at.Err = err.Error()
		case v.Ignored():
			at.Ignored = true
		case v.IsNull():
			at.Null = true
		default:
			if c, err := Canonical(a.Spec, valueString(a.Spec, v)); err != nil {
				at.Err = err.Error()
			} else if v.Redacted() {
				at.Value = "(redacted)"
			} else {
				at.Value = c
			}
		}
		t.Attrs = append(t.Attrs, at)
	}
	return t
}
