package mapping

import (
	"fmt"
	"strings"

	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/mapping/expr"
	"gopkg.in/yaml.v3"
)

// Rule kinds.
const (
	KindGroup   = "group"
	KindLicense = "license"
)

// Rule is one entitlement rule: a group membership or a license that
// in-scope, active records get. Either a fixed target, optionally only
// for records where When holds, or a table from the value of Source
// (e.g. the department) to a target. A target is a reference the engine
// resolves in the tenant: a group's object id or exact display name, a
// SKU's id or part number.
type Rule struct {
	Kind string
	Line int
	// Target is the fixed reference ("" for a table rule).
	Target string
	// Source and Table make a table rule: Table[value of Source].
	Source *expr.Program
	Table  map[string]string
	// Keys lists Table's keys in file order.
	Keys []string
	// When, if set, limits the rule to records for which it holds.
	When *Scope
}

// Refs lists every reference the rule can give, in file order.
func (r *Rule) Refs() []string {
	if r.Source == nil {
		return []string{r.Target}
	}
	out := make([]string, 0, len(r.Keys))
	for _, k := range r.Keys {
		out = append(out, r.Table[k])
	}
	return out
}

// Describe says what the rule is, for explain and errors.
func (r *Rule) Describe() string {
	s := fmt.Sprintf("%s rule (line %d): %s", r.Kind, r.Line, r.Target)
	if r.Source != nil {
		s = fmt.Sprintf("%s rule (line %d): %s picks from %d entries", r.Kind, r.Line, r.Source.Source(), len(r.Keys))
	}
	if r.When != nil {
		s += ", when the condition holds"
	}
	return s
}

// parseRules reads the groups: or licenses: list.
func parseRules(n *yaml.Node, kind string, fail func(int, string, error)) []Rule {
	name := kind + "s"
	target := map[string]string{KindGroup: "group", KindLicense: "sku"}[kind]
	if n.Kind != yaml.SequenceNode {
		fail(n.Line, name, fmt.Errorf("%s is a list of rules, each with %s (an id or name) or source and map", name, target))
		return nil
	}
	rp := ruleParser{kind: kind, name: name, target: target, fail: fail}
	var out []Rule
	for _, rn := range n.Content {
		if r, ok := rp.rule(rn); ok {
			out = append(out, r)
		}
	}
	return out
}

// ruleParser reads the rules of one list (groups: or licenses:), each
// naming its target by key target; fail reports what is wrong with one.
type ruleParser struct {
	kind, name, target string
	fail               func(int, string, error)
}

// rule reads one rule; false when it is wrong (and reported).
func (p ruleParser) rule(rn *yaml.Node) (Rule, bool) {
	if rn.Kind != yaml.MappingNode {
		p.fail(rn.Line, p.name, fmt.Errorf("a rule has the keys %s, or source and map, and optionally when", p.target))
		return Rule{}, false
	}
	r := Rule{Kind: p.kind, Line: rn.Line}
	ok := true
	for i := 0; i+1 < len(rn.Content); i += 2 {
		ok = p.key(&r, rn.Content[i], rn.Content[i+1]) && ok
	}
	switch {
	case !ok:
		return r, false
	case r.Target != "" && (r.Source != nil || r.Table != nil):
		p.fail(rn.Line, p.name, fmt.Errorf("a rule has either %s or source and map, not both", p.target))
		return r, false
	case r.Target == "" && (r.Source == nil || r.Table == nil):
		p.fail(rn.Line, p.name, fmt.Errorf("a rule needs %s, or both source and map", p.target))
		return r, false
	}
	return r, true
}

// key reads key k, value v, of rule r; false when it is wrong.
func (p ruleParser) key(r *Rule, k, v *yaml.Node) bool {
	switch k.Value {
	case p.target:
		if v.Kind != yaml.ScalarNode || strings.TrimSpace(v.Value) == "" {
			p.fail(v.Line, p.name, fmt.Errorf("%s must name one %s by id or name", p.target, p.kind))
			return false
		}
		r.Target = strings.TrimSpace(v.Value)
	case "source":
		if v.Kind != yaml.ScalarNode {
			p.fail(v.Line, p.name, notScalar(v))
			return false
		}
		prog, err := expr.Parse(v.Value)
		if err == nil {
			err = checkDeterministic(prog)
		}
		if err != nil {
			p.fail(v.Line, p.name, err)
			return false
		}
		r.Source = prog
	case "map":
		return p.table(r, v)
	case "when":
		r.When = parseScope(v, func(line int, _ string, err error) { p.fail(line, p.name+" when", err) })
		return r.When != nil
	default:
		p.fail(k.Line, p.name, fmt.Errorf("unknown key %q (expected %s, source, map, when)", k.Value, p.target))
		return false
	}
	return true
}

// table reads a rule's map: of source values to targets; false when an
// entry is wrong (the others are kept, to report every mistake).
func (p ruleParser) table(r *Rule, v *yaml.Node) bool {
	if v.Kind != yaml.MappingNode || len(v.Content) == 0 {
		p.fail(v.Line, p.name, fmt.Errorf("map lists source values and the %s each one gets, e.g. Sales: Sales Team", p.kind))
		return false
	}
	ok := true
	r.Table = map[string]string{}
	for j := 0; j+1 < len(v.Content); j += 2 {
		kk, vv := v.Content[j], v.Content[j+1]
		if vv.Kind != yaml.ScalarNode || strings.TrimSpace(vv.Value) == "" {
			p.fail(vv.Line, p.name, fmt.Errorf("map entry %q must name one %s by id or name", kk.Value, p.kind))
			ok = false
			continue
		}
		if _, dup := r.Table[kk.Value]; dup {
			p.fail(kk.Line, p.name, fmt.Errorf("map entry %q is listed twice", kk.Value))
			ok = false
			continue
		}
		r.Table[kk.Value] = strings.TrimSpace(vv.Value)
		r.Keys = append(r.Keys, kk.Value)
	}
	return ok
}

// GroupRefs lists every group the mapping's rules can name, without
// repeats, in file order: the groups hrsync manages. Memberships of other
// groups are never touched.
func (m *Mapping) GroupRefs() []string { return refsOf(m.Groups) }

// LicenseRefs lists every SKU the mapping's rules can name.
func (m *Mapping) LicenseRefs() []string { return refsOf(m.Licenses) }

func refsOf(rules []Rule) []string {
	seen := map[string]bool{}
	var out []string
	for i := range rules {
		for _, ref := range rules[i].Refs() {
			if !seen[strings.ToLower(ref)] {
				seen[strings.ToLower(ref)] = true
				out = append(out, ref)
			}
		}
	}
	return out
}

// entitlements evaluates rules for a record: the references it gets,
// without repeats, in rule order, and the table rules whose map does not
// list the record's value (said in misses, for the plan to report when a
// membership is removed because of it).
func entitlements(rules []Rule, rec *identity.Record) (out, misses []string, err error) {
	seen := map[string]bool{}
	for i := range rules {
		r := &rules[i]
		if r.When != nil {
			res, err := r.When.eval(rec)
			if err != nil {
				return nil, nil, fmt.Errorf("%s when: %w", r.Kind, err)
			}
			if !res.In {
				continue
			}
		}
		ref := r.Target
		if r.Source != nil {
			v, err := r.Source.Eval(rec)
			if err != nil {
				return nil, nil, err
			}
			ref = r.Table[v.String()]
			if ref == "" {
				// Exact first; a table key differing only in case still
				// matches (HR exports are inconsistent about it).
				for _, k := range r.Keys {
					if strings.EqualFold(k, v.String()) {
						ref = r.Table[k]
						break
					}
				}
			}
			if ref == "" {
				misses = append(misses, fmt.Sprintf("%s (line %d) gives %q, which its map does not list", r.Source.Source(), r.Line, v.String()))
			}
		}
		if ref != "" && !seen[strings.ToLower(ref)] {
			seen[strings.ToLower(ref)] = true
			out = append(out, ref)
		}
	}
	return out, misses, nil
}

// ruleFields lists the source fields rules read.
func ruleFields(rules []Rule) []string {
	var out []string
	for i := range rules {
		if rules[i].Source != nil {
			out = append(out, rules[i].Source.Fields()...)
		}
		out = append(out, rules[i].When.fields()...)
	}
	return out
}

// checkRuleFields reports fields rules read that the header lacks.
func checkRuleFields(rules []Rule, h *identity.Header, report func(line int, attr, field string)) {
	for i := range rules {
		r := &rules[i]
		if r.Source != nil {
			for _, f := range r.Source.Fields() {
				if _, ok := h.Index(f); !ok {
					report(r.Line, r.Kind+"s", f)
				}
			}
		}
		for _, f := range r.When.fields() {
			if _, ok := h.Index(f); !ok {
				report(r.Line, r.Kind+"s when", f)
			}
		}
	}
}
