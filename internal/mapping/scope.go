package mapping

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/mapping/expr"
	"gopkg.in/yaml.v3"
)

// Scope is the mapping's scoping filter: which records hrsync manages.
// Either clause groups (a record is in scope when every clause of at least
// one group holds: AND within a group, OR across groups, as Entra's
// scoping filters), or a boolean expression.
type Scope struct {
	Groups [][]Clause
	Expr   *expr.Program
	Line   int
}

// Clause is one scoping condition on a source field.
type Clause struct {
	Field    string
	Operator string // canonical: EQUALS, NOT EQUALS, IS NULL, ...
	Value    string
	Line     int
	re       *regexp.Regexp
	num      int64
}

// Operators are Entra's scoping filter operators, canonical spelling.
var operators = []string{"EQUALS", "NOT EQUALS", "IS NULL", "IS NOT NULL", "IS TRUE", "IS FALSE",
	"REGEX MATCH", "NOT REGEX MATCH", "GREATER_THAN", "GREATER_THAN_OR_EQUALS", "LESS_THAN", "LESS_THAN_OR_EQUALS",
	"INCLUDES", "ENDS_WITH"}

// canonicalOperator accepts any case and spaces or underscores.
func canonicalOperator(s string) (string, bool) {
	norm := func(x string) string { return strings.ReplaceAll(strings.ToUpper(strings.TrimSpace(x)), "_", " ") }
	for _, op := range operators {
		if norm(op) == norm(s) {
			return op, true
		}
	}
	return "", false
}

func needsValue(op string) bool {
	switch op {
	case "IS NULL", "IS NOT NULL", "IS TRUE", "IS FALSE":
		return false
	}
	return true
}

// parseScope reads the scope: key: a string (a boolean expression), a list
// of clauses (one group) or a list of lists of clauses (groups).
func parseScope(n *yaml.Node, fail func(int, string, error)) *Scope {
	s := &Scope{Line: n.Line}
	switch n.Kind {
	case yaml.ScalarNode:
		prog, err := expr.Parse(n.Value)
		if err != nil {
			fail(n.Line, "scope", err)
			return nil
		}
		if err := checkDeterministic(prog); err != nil {
			fail(n.Line, "scope", err)
			return nil
		}
		s.Expr = prog
		return s
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			fail(n.Line, "scope", errors.New("empty scope: remove it to manage every record"))
			return nil
		}
		if n.Content[0].Kind == yaml.MappingNode {
			s.Groups = [][]Clause{parseGroup(n, fail)}
			return s
		}
		for _, g := range n.Content {
			if g.Kind != yaml.SequenceNode || len(g.Content) == 0 {
				fail(g.Line, "scope", errors.New("each group is a list of clauses (field, operator, value)"))
				continue
			}
			s.Groups = append(s.Groups, parseGroup(g, fail))
		}
		return s
	}
	fail(n.Line, "scope", errors.New("scope is a boolean expression, or a list of groups of clauses (field, operator, value)"))
	return nil
}

func parseGroup(g *yaml.Node, fail func(int, string, error)) []Clause {
	var out []Clause
	for _, c := range g.Content {
		if c.Kind != yaml.MappingNode {
			fail(c.Line, "scope", errors.New("a clause has the keys field, operator and value"))
			continue
		}
		cl := Clause{Line: c.Line}
		hasValue := false
		for i := 0; i+1 < len(c.Content); i += 2 {
			k, v := c.Content[i], c.Content[i+1]
			switch k.Value {
			case "field":
				cl.Field = strings.Trim(strings.TrimSpace(v.Value), "[]")
			case "operator":
				op, ok := canonicalOperator(v.Value)
				if !ok {
					fail(v.Line, "scope", fmt.Errorf("unknown operator %q; use one of %s", v.Value, strings.Join(operators, ", ")))
				}
				cl.Operator = op
			case "value":
				cl.Value = v.Value
				hasValue = true
			default:
				fail(k.Line, "scope", fmt.Errorf("unknown key %q in a clause (expected field, operator, value)", k.Value))
			}
		}
		switch {
		case cl.Field == "":
			fail(c.Line, "scope", errors.New("clause without a field (the source column it tests)"))
		case cl.Operator == "":
			fail(c.Line, "scope", errors.New("clause without an operator"))
		case needsValue(cl.Operator) && !hasValue:
			fail(c.Line, "scope", fmt.Errorf("%s needs a value", cl.Operator))
		case !needsValue(cl.Operator) && hasValue:
			fail(c.Line, "scope", fmt.Errorf("%s takes no value", cl.Operator))
		}
		switch cl.Operator {
		case "REGEX MATCH", "NOT REGEX MATCH":
			re, err := regexp.Compile(cl.Value)
			if err != nil {
				fail(c.Line, "scope", fmt.Errorf("bad regular expression %q: %v", cl.Value, err))
			}
			cl.re = re
		case "GREATER_THAN", "GREATER_THAN_OR_EQUALS", "LESS_THAN", "LESS_THAN_OR_EQUALS":
			n, err := strconv.ParseInt(strings.TrimSpace(cl.Value), 10, 64)
			if err != nil {
				fail(c.Line, "scope", fmt.Errorf("%s compares whole numbers; %q is not one", cl.Operator, cl.Value))
			}
			cl.num = n
		}
		out = append(out, cl)
	}
	return out
}

// fields lists the source fields the scope reads.
func (s *Scope) fields() []string {
	if s == nil {
		return nil
	}
	if s.Expr != nil {
		return s.Expr.Fields()
	}
	var out []string
	for _, g := range s.Groups {
		for _, c := range g {
			out = append(out, c.Field)
		}
	}
	return out
}

// ScopeResult says whether a record is in scope and why.
type ScopeResult struct {
	In bool `json:"in"`
	// Why names the group that matched, or each group's first failing
	// clause, or the expression's value.
	Why string `json:"why"`
}

// InScope evaluates the scope for a record. No scope: every record is in.
func (m *Mapping) InScope(rec *identity.Record) (ScopeResult, error) {
	return m.Scope.eval(rec)
}

// eval evaluates a scope (or a rule's when:) for a record; a nil scope
// holds for every record.
func (s *Scope) eval(rec *identity.Record) (ScopeResult, error) {
	if s == nil {
		return ScopeResult{In: true, Why: "no scope filter"}, nil
	}
	if s.Expr != nil {
		v, err := s.Expr.Eval(rec)
		if err != nil {
			return ScopeResult{}, err
		}
		b, err := Canonical(identity.AttrSpec{Name: "scope", Kind: identity.KindBool}, v.String())
		if err != nil || b == "" {
			return ScopeResult{}, fmt.Errorf("the scope expression must give True or False, gave %q", v.String())
		}
		return ScopeResult{In: b == "true", Why: fmt.Sprintf("%s is %s", s.Expr.Source(), b)}, nil
	}
	var fails []string
	for gi, g := range s.Groups {
		failed := ""
		for _, c := range g {
			ok, err := c.holds(rec)
			if err != nil {
				return ScopeResult{}, err
			}
			if !ok {
				v, _ := rec.Field(c.Field)
				failed = fmt.Sprintf("group %d: [%s] %s %s is false (value %q)", gi+1, c.Field, c.Operator, c.Value, v)
				break
			}
		}
		if failed == "" {
			return ScopeResult{In: true, Why: fmt.Sprintf("group %d holds", gi+1)}, nil
		}
		fails = append(fails, failed)
	}
	return ScopeResult{In: false, Why: strings.Join(fails, "; ")}, nil
}

// holds evaluates one clause with Entra's semantics: EQUALS, INCLUDES and
// ENDS_WITH compare case-sensitively; the number comparisons need whole
// numbers on both sides.
func (c *Clause) holds(rec *identity.Record) (bool, error) {
	v, present := rec.Field(c.Field)
	switch c.Operator {
	case "EQUALS":
		return v == c.Value, nil
	case "NOT EQUALS":
		return v != c.Value, nil
	case "IS NULL":
		return !present, nil
	case "IS NOT NULL":
		return present, nil
	case "IS TRUE", "IS FALSE":
		if !present {
			return false, nil
		}
		b, err := Canonical(identity.AttrSpec{Name: c.Field, Kind: identity.KindBool}, v)
		if err != nil {
			return false, fmt.Errorf("scope: [%s] %s: %q is not a boolean", c.Field, c.Operator, v)
		}
		return (b == "true") == (c.Operator == "IS TRUE"), nil
	case "REGEX MATCH":
		return c.re.MatchString(v), nil
	case "NOT REGEX MATCH":
		return !c.re.MatchString(v), nil
	case "INCLUDES":
		return strings.Contains(v, c.Value), nil
	case "ENDS_WITH":
		return strings.HasSuffix(v, c.Value), nil
	}
	if !present {
		return false, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return false, fmt.Errorf("scope: [%s] %s %s: %q is not a whole number", c.Field, c.Operator, c.Value, v)
	}
	switch c.Operator {
	case "GREATER_THAN":
		return n > c.num, nil
	case "GREATER_THAN_OR_EQUALS":
		return n >= c.num, nil
	case "LESS_THAN":
		return n < c.num, nil
	}
	return n <= c.num, nil
}
