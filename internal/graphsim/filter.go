package graphsim

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// This file implements the part of OData $filter that Graph supports on
// users: eq, ne, ge, le, gt, lt, in (...), startsWith, endsWith, and, or,
// not, parentheses, string literals ('' escapes a quote), true/false, null
// and DateTimeOffset literals. Graph's "advanced query" rules are enforced:
// ne, not, endsWith, comparisons with null and the properties Graph indexes
// only in the advanced store need the ConsistencyLevel: eventual header and
// $count=true.

type edmType uint8

const (
	edmString edmType = iota
	edmBool
	edmDateTime
)

// filterLeaf is a filterable property path: of a user (str, bool, nbool,
// tm) or of a group (gstr, gbool, gnbool).
type filterLeaf struct {
	name   string
	typ    edmType
	level  filterLevel
	str    func(*User) string
	bool   func(*User) bool
	nbool  func(*User) *bool // a nullable Boolean (edmBool)
	tm     func(*User) time.Time
	gstr   func(*Group) string
	gbool  func(*Group) bool
	gnbool func(*Group) *bool // a nullable Boolean (edmBool)
}

// filterTarget is the resource a filter applies to: its filterable leaves,
// its type name in errors ("Could not find a property named 'x' on type
// 'microsoft.graph.user'") and its resource name ("... of resource 'User'").
type filterTarget struct {
	leaves   map[string]*filterLeaf
	typeName string
	resource string
	props    func(name string) (string, bool) // canonical name of a known but unfilterable property
}

var userFilter = &filterTarget{leaves: filterLeaves, typeName: "microsoft.graph.user", resource: "User",
	props: func(name string) (string, bool) {
		if p := propByName[strings.ToLower(name)]; p != nil {
			return p.name, true
		}
		return "", false
	}}

// filterLeaves maps lower-cased property paths to leaves. Built once, never
// modified.
var filterLeaves = func() map[string]*filterLeaf {
	m := map[string]*filterLeaf{}
	for _, p := range userProps {
		if p.filter == filterNone {
			continue
		}
		l := &filterLeaf{name: p.name, level: p.filter}
		switch p.kind {
		case kindString:
			get := p.str
			l.typ, l.str = edmString, func(u *User) string { return *get(u) }
		case kindBool:
			get := p.boolean
			l.typ, l.bool = edmBool, func(u *User) bool { return *get(u) }
		case kindNullableBool:
			get := p.nboolean
			l.typ, l.nbool = edmBool, func(u *User) *bool { return *get(u) }
		case kindTime:
			get := p.tm
			l.typ, l.tm = edmDateTime, func(u *User) time.Time { return *get(u) }
		}
		m[strings.ToLower(p.name)] = l
	}
	m["employeeorgdata/division"] = &filterLeaf{name: "employeeOrgData/division", typ: edmString, level: filterAdvanced,
		str: func(u *User) string {
			if u.EmployeeOrgData == nil {
				return ""
			}
			return u.EmployeeOrgData.Division
		}}
	m["employeeorgdata/costcenter"] = &filterLeaf{name: "employeeOrgData/costCenter", typ: edmString, level: filterAdvanced,
		str: func(u *User) string {
			if u.EmployeeOrgData == nil {
				return ""
			}
			return u.EmployeeOrgData.CostCenter
		}}
	for i := 1; i <= 15; i++ {
		n := i
		name := "onPremisesExtensionAttributes/extensionAttribute" + strconv.Itoa(n)
		m[strings.ToLower(name)] = &filterLeaf{name: name, typ: edmString, level: filterAdvanced,
			str: func(u *User) string {
				if u.OnPremisesExtensionAttributes == nil {
					return ""
				}
				return *u.OnPremisesExtensionAttributes.attr(n)
			}}
	}
	return m
}()

// literal is a constant in a filter.
type literal struct {
	null bool
	typ  edmType
	s    string // lower-cased for strings (comparisons are case-insensitive)
	b    bool
	t    time.Time
}

// fnode is a node of a parsed filter.
type fnode struct {
	op          string // and, or, not, eq, ne, ge, le, gt, lt, in, startswith, endswith
	left, right *fnode
	leaf        *filterLeaf
	lits        []literal
}

func errFilterSyntax(expr string, pos int) *graphError {
	return newError(http.StatusBadRequest, "Request_BadRequest",
		fmt.Sprintf("Invalid filter clause: Syntax error at position %d in '%s'.", pos, expr))
}

func (ft *filterTarget) errClause(prop string) *graphError {
	return newError(http.StatusBadRequest, "Request_UnsupportedQuery",
		"Unsupported or invalid query filter clause specified for property '"+prop+"' of resource '"+ft.resource+"'.")
}

// parseFilter parses and checks a $filter expression on users. advanced
// reports whether the request carries the advanced query parameters.
func parseFilter(expr string, advanced bool) (*fnode, *graphError) {
	return userFilter.parse(expr, advanced)
}

// parse parses and checks a $filter expression on ft's resource.
func (ft *filterTarget) parse(expr string, advanced bool) (*fnode, *graphError) {
	toks, perr := lexFilter(expr)
	if perr != nil {
		return nil, perr
	}
	p := &filterParser{expr: expr, toks: toks, target: ft}
	n, gerr := p.parseOr()
	if gerr != nil {
		return nil, gerr
	}
	if p.i < len(p.toks) {
		return nil, errFilterSyntax(expr, p.toks[p.i].pos)
	}
	if gerr := ft.check(n, advanced); gerr != nil {
		return nil, gerr
	}
	return n, nil
}

type tokKind uint8

const (
	tokIdent tokKind = iota
	tokString
	tokBare // number, date or other unquoted literal
	tokLParen
	tokRParen
	tokComma
)

type token struct {
	kind tokKind
	text string // identifiers as written; strings unescaped
	pos  int
}

func lexFilter(expr string) ([]token, *graphError) {
	var toks []token
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			toks = append(toks, token{kind: tokLParen, pos: i})
			i++
		case c == ')':
			toks = append(toks, token{kind: tokRParen, pos: i})
			i++
		case c == ',':
			toks = append(toks, token{kind: tokComma, pos: i})
			i++
		case c == '\'':
			start := i
			var sb strings.Builder
			i++
			closed := false
			for i < len(expr) {
				if expr[i] == '\'' {
					if i+1 < len(expr) && expr[i+1] == '\'' {
						sb.WriteByte('\'')
						i += 2
						continue
					}
					i++
					closed = true
					break
				}
				sb.WriteByte(expr[i])
				i++
			}
			if !closed {
				return nil, errFilterSyntax(expr, start)
			}
			toks = append(toks, token{kind: tokString, text: sb.String(), pos: start})
		case isASCIILetter(c) || c == '_' || c == '$':
			start := i
			for i < len(expr) && (isASCIILetter(expr[i]) || expr[i] >= '0' && expr[i] <= '9' ||
				strings.IndexByte("_/.$", expr[i]) >= 0) {
				i++
			}
			toks = append(toks, token{kind: tokIdent, text: expr[start:i], pos: start})
		case c >= '0' && c <= '9' || c == '-':
			start := i
			for i < len(expr) && (isASCIILetter(expr[i]) || expr[i] >= '0' && expr[i] <= '9' ||
				strings.IndexByte(":.+-", expr[i]) >= 0) {
				i++
			}
			toks = append(toks, token{kind: tokBare, text: expr[start:i], pos: start})
		default:
			return nil, errFilterSyntax(expr, i)
		}
	}
	return toks, nil
}

type filterParser struct {
	expr   string
	toks   []token
	i      int
	target *filterTarget
}

func (p *filterParser) peekKeyword(kw string) bool {
	return p.i < len(p.toks) && p.toks[p.i].kind == tokIdent && strings.EqualFold(p.toks[p.i].text, kw)
}

func (p *filterParser) errAt() *graphError {
	if p.i < len(p.toks) {
		return errFilterSyntax(p.expr, p.toks[p.i].pos)
	}
	return errFilterSyntax(p.expr, len(p.expr))
}

func (p *filterParser) expect(k tokKind) (token, *graphError) {
	if p.i >= len(p.toks) || p.toks[p.i].kind != k {
		return token{}, p.errAt()
	}
	t := p.toks[p.i]
	p.i++
	return t, nil
}

func (p *filterParser) parseOr() (*fnode, *graphError) {
	left, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for p.peekKeyword("or") {
		p.i++
		right, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		left = &fnode{op: "or", left: left, right: right}
	}
	return left, nil
}

func (p *filterParser) parseAnd() (*fnode, *graphError) {
	left, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	for p.peekKeyword("and") {
		p.i++
		right, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		left = &fnode{op: "and", left: left, right: right}
	}
	return left, nil
}

func (p *filterParser) parseUnary() (*fnode, *graphError) {
	if p.peekKeyword("not") {
		p.i++
		inner, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		return &fnode{op: "not", left: inner}, nil
	}
	return p.parsePrimary()
}

func (p *filterParser) parsePrimary() (*fnode, *graphError) {
	if p.i >= len(p.toks) {
		return nil, p.errAt()
	}
	t := p.toks[p.i]
	switch t.kind {
	case tokLParen:
		p.i++
		n, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tokRParen); err != nil {
			return nil, err
		}
		return n, nil
	case tokIdent:
		p.i++
		if p.i < len(p.toks) && p.toks[p.i].kind == tokLParen {
			return p.parseFunction(t)
		}
		leaf, err := p.target.resolve(t.text)
		if err != nil {
			return nil, err
		}
		if p.i >= len(p.toks) || p.toks[p.i].kind != tokIdent {
			return nil, p.errAt()
		}
		opTok := p.toks[p.i]
		op := strings.ToLower(opTok.text)
		p.i++
		switch op {
		case "eq", "ne", "ge", "le", "gt", "lt":
			lit, err := p.parseLiteral(leaf)
			if err != nil {
				return nil, err
			}
			return &fnode{op: op, leaf: leaf, lits: []literal{lit}}, nil
		case "in":
			if _, err := p.expect(tokLParen); err != nil {
				return nil, err
			}
			n := &fnode{op: "in", leaf: leaf}
			for {
				lit, err := p.parseLiteral(leaf)
				if err != nil {
					return nil, err
				}
				n.lits = append(n.lits, lit)
				if p.i < len(p.toks) && p.toks[p.i].kind == tokComma {
					p.i++
					continue
				}
				break
			}
			if _, err := p.expect(tokRParen); err != nil {
				return nil, err
			}
			return n, nil
		default:
			return nil, errFilterSyntax(p.expr, opTok.pos)
		}
	default:
		return nil, p.errAt()
	}
}

// parseFunction parses startsWith(prop,'x') and endsWith(prop,'x').
func (p *filterParser) parseFunction(name token) (*fnode, *graphError) {
	fn := strings.ToLower(name.text)
	if fn != "startswith" && fn != "endswith" {
		return nil, newError(http.StatusBadRequest, "Request_UnsupportedQuery", "Unsupported Query.")
	}
	p.i++ // (
	propTok, err := p.expect(tokIdent)
	if err != nil {
		return nil, err
	}
	leaf, err := p.target.resolve(propTok.text)
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tokComma); err != nil {
		return nil, err
	}
	lit, err := p.parseLiteral(leaf)
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tokRParen); err != nil {
		return nil, err
	}
	if leaf.typ != edmString || lit.null {
		return nil, newError(http.StatusBadRequest, "Request_BadRequest", "Invalid filter clause")
	}
	return &fnode{op: fn, leaf: leaf, lits: []literal{lit}}, nil
}

// parseLiteral reads a literal and checks it against the leaf's type.
func (p *filterParser) parseLiteral(leaf *filterLeaf) (literal, *graphError) {
	if p.i >= len(p.toks) {
		return literal{}, p.errAt()
	}
	t := p.toks[p.i]
	p.i++
	var lit literal
	switch {
	case t.kind == tokString:
		lit = literal{typ: edmString, s: strings.ToLower(t.text)}
	case t.kind == tokIdent && strings.EqualFold(t.text, "null"):
		lit = literal{null: true, typ: leaf.typ}
	case t.kind == tokIdent && (strings.EqualFold(t.text, "true") || strings.EqualFold(t.text, "false")):
		lit = literal{typ: edmBool, b: strings.EqualFold(t.text, "true")}
	case t.kind == tokBare:
		tm, err := time.Parse(time.RFC3339Nano, t.text)
		if err != nil {
			tm, err = time.Parse("2006-01-02", t.text)
		}
		if err != nil {
			// A number or something else no user property can be compared with.
			return literal{}, newError(http.StatusBadRequest, "Request_BadRequest", "Invalid filter clause")
		}
		lit = literal{typ: edmDateTime, t: tm.UTC()}
	default:
		return literal{}, errFilterSyntax(p.expr, t.pos)
	}
	if lit.typ != leaf.typ {
		return literal{}, newError(http.StatusBadRequest, "Request_BadRequest", "Invalid filter clause")
	}
	return lit, nil
}

// resolve finds the leaf for a property path of ft's resource.
func (ft *filterTarget) resolve(name string) (*filterLeaf, *graphError) {
	if l := ft.leaves[strings.ToLower(name)]; l != nil {
		return l, nil
	}
	if canon, ok := ft.props(name); ok {
		return nil, ft.errClause(canon)
	}
	if i := strings.IndexByte(name, '/'); i > 0 {
		if canon, ok := ft.props(name[:i]); ok {
			return nil, ft.errClause(canon)
		}
	}
	return nil, newError(http.StatusBadRequest, "Request_BadRequest",
		"Invalid filter clause: Could not find a property named '"+name+"' on type '"+ft.typeName+"'.")
}

// check enforces which operators each property supports and which need
// the advanced query parameters.
func (ft *filterTarget) check(n *fnode, advanced bool) *graphError {
	switch n.op {
	case "and", "or":
		if err := ft.check(n.left, advanced); err != nil {
			return err
		}
		return ft.check(n.right, advanced)
	case "not":
		if !advanced {
			return newError(http.StatusBadRequest, "Request_UnsupportedQuery", "Filter operator 'Not' is not supported.")
		}
		return ft.check(n.left, advanced)
	}
	l := n.leaf
	errFilterClause := ft.errClause
	if l.level == filterAdvanced && !advanced {
		return errFilterClause(l.name)
	}
	switch n.op {
	case "ne":
		if !advanced {
			return newError(http.StatusBadRequest, "Request_UnsupportedQuery", "Filter operator 'NotEqualsMatch' is not supported.")
		}
	case "eq", "in":
		for _, lit := range n.lits {
			if lit.null && !advanced {
				return errFilterClause(l.name)
			}
		}
	case "ge", "le", "gt", "lt":
		if l.typ == edmBool || n.lits[0].null || l.name == "id" {
			return errFilterClause(l.name)
		}
	case "startswith":
		if l.name == "id" {
			return errFilterClause(l.name)
		}
	case "endswith":
		if l.name != "mail" && l.name != "userPrincipalName" {
			return errFilterClause(l.name)
		}
		if !advanced {
			return newError(http.StatusBadRequest, "Request_UnsupportedQuery",
				"Operator 'endsWith' is not supported because the required parameters might be missing. "+
					"Try adding $count=true query parameter and ConsistencyLevel:eventual header. "+
					"Refer to https://aka.ms/graph-docs/advanced-queries for more information")
		}
	}
	return nil
}

// match evaluates the filter for u.
func (n *fnode) match(u *User) bool {
	switch n.op {
	case "and":
		return n.left.match(u) && n.right.match(u)
	case "or":
		return n.left.match(u) || n.right.match(u)
	case "not":
		return !n.left.match(u)
	case "in":
		for i := range n.lits {
			if compareLeaf(n.leaf, u, "eq", &n.lits[i]) {
				return true
			}
		}
		return false
	default:
		return compareLeaf(n.leaf, u, n.op, &n.lits[0])
	}
}

// compareLeaf applies op between the leaf's value in u and lit. String
// comparisons ignore case, as they do in Entra ID.
func compareLeaf(l *filterLeaf, u *User, op string, lit *literal) bool {
	switch l.typ {
	case edmString:
		return compareString(l.str(u), op, lit)
	case edmBool:
		if l.nbool != nil {
			return compareNullableBool(l.nbool(u), op, lit)
		}
		return compareBool(l.bool(u), op, lit)
	case edmDateTime:
		v := l.tm(u)
		null := v.IsZero()
		cmp := 0
		if !null && !lit.null {
			cmp = v.Compare(lit.t)
		}
		return compareResult(null, cmp, op, lit)
	}
	return false
}

func compareString(v, op string, lit *literal) bool {
	null := v == ""
	cmp := 0 // value compared with literal: -1, 0, 1
	if !null && !lit.null {
		switch op {
		case "startswith":
			return hasPrefixFold(v, lit.s)
		case "endswith":
			return hasSuffixFold(v, lit.s)
		case "eq", "ne":
			if !strings.EqualFold(v, lit.s) {
				cmp = 1
			}
		default:
			cmp = compareLower(v, lit.s)
		}
	}
	return compareResult(null, cmp, op, lit)
}

// compareLower compares strings.ToLower(v) with lower, without allocating
// when v is ASCII.
func compareLower(v, lower string) int {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c >= 0x80 {
			return strings.Compare(strings.ToLower(v), lower)
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		switch {
		case i >= len(lower):
			return 1
		case c < lower[i]:
			return -1
		case c > lower[i]:
			return 1
		}
	}
	if len(v) < len(lower) {
		return -1
	}
	return 0
}

// upnRange returns the bounds of a filter that is a range of
// userPrincipalName (ge, le, gt, lt, alone or joined by and): lo and hi
// in lower case, "" for none. ok is false for any other filter.
func (n *fnode) upnRange() (lo, hi string, ok bool) {
	if n == nil {
		return "", "", false
	}
	if n.op == "and" {
		l1, h1, ok1 := n.left.upnRange()
		l2, h2, ok2 := n.right.upnRange()
		if !ok1 || !ok2 {
			return "", "", false
		}
		return max(l1, l2), minNonEmpty(h1, h2), true
	}
	if n.leaf == nil || n.leaf.name != "userPrincipalName" || len(n.lits) != 1 || n.lits[0].null {
		return "", "", false
	}
	switch n.op {
	case "ge", "gt":
		return n.lits[0].s, "", true
	case "le", "lt":
		return "", n.lits[0].s, true
	}
	return "", "", false
}

func minNonEmpty(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return min(a, b)
}

func compareBool(v bool, op string, lit *literal) bool {
	cmp := 0
	if !lit.null && v != lit.b {
		cmp = 1
	}
	return compareResult(false, cmp, op, lit)
}

// compareNullableBool compares a Boolean that may be null (nil).
func compareNullableBool(v *bool, op string, lit *literal) bool {
	cmp := 0
	if v != nil && !lit.null && *v != lit.b {
		cmp = 1
	}
	return compareResult(v == nil, cmp, op, lit)
}

// compareResult turns a comparison of a value (null, or cmp against the
// literal) into op's answer.
func compareResult(null bool, cmp int, op string, lit *literal) bool {
	if null || lit.null {
		both := null && lit.null
		switch op {
		case "eq":
			return both
		case "ne":
			return !both
		default:
			return false
		}
	}
	switch op {
	case "eq":
		return cmp == 0
	case "ne":
		return cmp != 0
	case "ge":
		return cmp >= 0
	case "le":
		return cmp <= 0
	case "gt":
		return cmp > 0
	case "lt":
		return cmp < 0
	}
	return false
}

// matchGroup evaluates a filter parsed with groupFilter for g.
func (n *fnode) matchGroup(g *Group) bool {
	switch n.op {
	case "and":
		return n.left.matchGroup(g) && n.right.matchGroup(g)
	case "or":
		return n.left.matchGroup(g) || n.right.matchGroup(g)
	case "not":
		return !n.left.matchGroup(g)
	}
	for i := range n.lits {
		var ok bool
		op := n.op
		if op == "in" {
			op = "eq"
		}
		switch {
		case n.leaf.gnbool != nil:
			ok = compareNullableBool(n.leaf.gnbool(g), op, &n.lits[i])
		case n.leaf.typ == edmBool:
			ok = compareBool(n.leaf.gbool(g), op, &n.lits[i])
		default:
			ok = compareString(n.leaf.gstr(g), op, &n.lits[i])
		}
		if ok || n.op != "in" {
			return ok
		}
	}
	return false
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func hasSuffixFold(s, suffix string) bool {
	return len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}

// indexKeys returns the id or userPrincipalName values when the whole filter
// is an eq/in on one of them, so the list handler can use the indexes.
func (n *fnode) indexKeys() (field string, keys []string) {
	if n == nil || (n.op != "eq" && n.op != "in") {
		return "", nil
	}
	if n.leaf.name != "id" && n.leaf.name != "userPrincipalName" {
		return "", nil
	}
	for _, l := range n.lits {
		if l.null {
			return "", nil
		}
		keys = append(keys, l.s)
	}
	return n.leaf.name, keys
}
