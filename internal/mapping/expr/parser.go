package expr

import (
	"strings"
	"unicode/utf8"
)

// maxDepth bounds the nesting of function calls, so that a hostile or broken
// mapping file cannot exhaust the stack.
const maxDepth = 100

type nodeKind uint8

const (
	nConst   nodeKind = iota // val
	nField                   // name
	nCall                    // fn, args, aux
	nCompare                 // op, args[0], args[1]
	nOmitted                 // an argument left out: "F(a, , b)"
)

// node is one element of the parsed expression tree. Trees are immutable
// once Parse returns.
type node struct {
	kind nodeKind
	op   cmpOp
	pos  int // byte offset in the source
	val  Value
	name string
	fn   *funcDef
	args []*node
	aux  any // data compiled by the function's check hook
}

// isConst reports whether n is a string or number constant, and returns it.
func (n *node) constString() (string, bool) {
	if n.kind == nConst && n.val.kind == KindString {
		return n.val.s, true
	}
	return "", false
}

// present reports whether argument i was written (not left out).
func (n *node) present(i int) bool {
	return i < len(n.args) && n.args[i].kind != nOmitted
}

// Program is a parsed expression, ready to be evaluated any number of times.
// It is immutable and safe for concurrent use.
type Program struct {
	src    string
	root   *node
	fields []string
	// redact is set when Redact is called anywhere in the expression: the
	// whole result is then redacted, so that Join(".", Redact([x]), "y")
	// cannot show the secret part in a plan or log.
	redact bool
}

// Source returns the expression text the Program was parsed from.
func (p *Program) Source() string { return p.src }

// String returns the expression text, like Source.
func (p *Program) String() string { return p.src }

// Fields returns the distinct source field names the expression references,
// in order of first use. The caller must not modify the result.
func (p *Program) Fields() []string { return p.fields }

// Functions lists the distinct functions the expression calls, by their
// canonical names, in order of first use.
func (p *Program) Functions() []string {
	var out []string
	seen := map[string]bool{}
	var walk func(n *node)
	walk = func(n *node) {
		if n == nil {
			return
		}
		if n.kind == nCall && !seen[n.fn.name] {
			seen[n.fn.name] = true
			out = append(out, n.fn.name)
		}
		for _, a := range n.args {
			walk(a)
		}
	}
	walk(p.root)
	return out
}

// Parse parses an expression. It checks the syntax, that every function
// exists and gets an acceptable number of arguments, and that constant
// arguments are valid (numbers where numbers are expected, regular
// expressions that compile). All errors are *SyntaxError.
func Parse(src string) (*Program, error) {
	p := parser{lx: lexer{src: src}}
	root, err := p.parse()
	if err != nil {
		err.Col = utf8.RuneCountInString(src[:min(err.Col, len(src))]) + 1
		return nil, err
	}
	prog := &Program{src: src, root: root}
	seen := map[string]bool{}
	var walk func(n *node)
	walk = func(n *node) {
		if n.kind == nField && !seen[n.name] {
			seen[n.name] = true
			prog.fields = append(prog.fields, n.name)
		}
		if n.kind == nCall && n.fn.name == "Redact" {
			prog.redact = true
		}
		for _, a := range n.args {
			walk(a)
		}
	}
	walk(root)
	return prog, nil
}

// MustParse is like Parse but panics on error. It is meant for expressions
// fixed in code and tests.
func MustParse(src string) *Program {
	p, err := Parse(src)
	if err != nil {
		panic("expr.MustParse(" + quote(src) + "): " + err.Error())
	}
	return p
}

type parser struct {
	lx    lexer
	tok   token
	depth int
}

func (p *parser) advance() *SyntaxError {
	t, err := p.lx.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) parse() (*node, *SyntaxError) {
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind == tEOF {
		return nil, &SyntaxError{Col: 0, Msg: "empty expression"}
	}
	n, err := p.expr()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tEOF {
		msg := "unexpected " + p.tok.describe() + " after the end of the expression"
		if p.tok.kind == tOp {
			msg = "comparisons cannot be chained; Entra has no AND/OR: nest IIF calls instead"
		}
		return nil, &SyntaxError{Col: p.tok.pos, Msg: msg}
	}
	return n, nil
}

// expr := operand [ op operand ]
func (p *parser) expr() (*node, *SyntaxError) {
	left, err := p.operand()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tOp {
		return left, nil
	}
	op := p.tok
	if err := p.advance(); err != nil {
		return nil, err
	}
	right, err := p.operand()
	if err != nil {
		return nil, err
	}
	if p.tok.kind == tOp {
		return nil, &SyntaxError{Col: p.tok.pos, Msg: "comparisons cannot be chained; Entra has no AND/OR: nest IIF calls instead"}
	}
	return &node{kind: nCompare, op: op.op, pos: op.pos, args: []*node{left, right}}, nil
}

// bareWords are the identifiers accepted without quotes or brackets.
var bareWords = map[string]Value{
	"true":            Bool(true),
	"false":           Bool(false),
	"vbbinarycompare": Str("0"),
	"vbtextcompare":   Str("1"),
}

func (p *parser) operand() (*node, *SyntaxError) {
	t := p.tok
	switch t.kind {
	case tField:
		if err := p.advance(); err != nil {
			return nil, err
		}
		return &node{kind: nField, pos: t.pos, name: t.text}, nil
	case tString, tNumber:
		if err := p.advance(); err != nil {
			return nil, err
		}
		return &node{kind: nConst, pos: t.pos, val: Str(t.text)}, nil
	case tIdent:
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind == tLParen {
			return p.call(t)
		}
		if v, ok := bareWords[strings.ToLower(t.text)]; ok {
			return &node{kind: nConst, pos: t.pos, val: v}, nil
		}
		msg := "unknown name " + t.text + `: write attributes in square brackets ([` + t.text + `]) and strings in double quotes ("` + t.text + `")`
		if lookupFunc(t.text) != nil {
			msg = t.text + " is a function: call it with parentheses, e.g. " + lookupFunc(t.text).sig()
		}
		return nil, &SyntaxError{Col: t.pos, Msg: msg}
	case tEOF:
		return nil, &SyntaxError{Col: t.pos, Msg: "unexpected end of expression: expected an attribute, a string, a number or a function call"}
	}
	return nil, &SyntaxError{Col: t.pos, Msg: "unexpected " + t.describe() + ": expected an attribute, a string, a number or a function call"}
}

// call parses the argument list of a function whose name is in nameTok; the
// current token is "(".
func (p *parser) call(nameTok token) (*node, *SyntaxError) {
	fn := lookupFunc(nameTok.text)
	if fn == nil {
		return nil, &SyntaxError{Col: nameTok.pos, Func: nameTok.text, Msg: unknownFuncMsg(nameTok.text)}
	}
	if fn.topLevel && p.depth > 0 {
		return nil, &SyntaxError{Col: nameTok.pos, Func: fn.name, Msg: "must be the outermost function of the expression; it cannot be nested"}
	}
	p.depth++
	if p.depth > maxDepth {
		return nil, &SyntaxError{Col: nameTok.pos, Func: fn.name, Msg: "functions are nested too deeply"}
	}
	defer func() { p.depth-- }()
	n := &node{kind: nCall, pos: nameTok.pos, fn: fn, name: fn.name}
	if err := p.advance(); err != nil { // consume "("
		return nil, err
	}
	if p.tok.kind == tRParen {
		if err := p.advance(); err != nil {
			return nil, err
		}
	} else {
		for {
			if p.tok.kind == tComma || p.tok.kind == tRParen {
				n.args = append(n.args, &node{kind: nOmitted, pos: p.tok.pos})
			} else {
				a, err := p.expr()
				if err != nil {
					return nil, err
				}
				n.args = append(n.args, a)
			}
			if p.tok.kind == tRParen {
				if err := p.advance(); err != nil {
					return nil, err
				}
				break
			}
			if p.tok.kind != tComma {
				if p.tok.kind == tEOF {
					return nil, &SyntaxError{Col: nameTok.pos, Func: fn.name, Msg: `missing ")" to close the call`}
				}
				return nil, &SyntaxError{Col: p.tok.pos, Func: fn.name, Msg: "unexpected " + p.tok.describe() + `: expected "," or ")"`}
			}
			if err := p.advance(); err != nil {
				return nil, err
			}
		}
	}
	if err := fn.checkCall(n); err != nil {
		return nil, err
	}
	return n, nil
}
