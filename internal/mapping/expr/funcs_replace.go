package expr

import (
	"regexp"
	"strings"
)

// Replace(source, oldValue, regexPattern, regexGroupName, replacementValue,
// replacementAttributeName, template) has several forms, chosen by which
// arguments are written (Microsoft's reference, "Replace"):
//
//	oldValue, replacementValue                     every oldValue in source becomes replacementValue
//	oldValue, template                             every oldValue in template becomes source
//	regexPattern, replacementValue                 regex replace; replacementValue may use $1, ${name}, $$, $&
//	regexPattern, regexGroupName, replacementValue the text of the named group in every match becomes replacementValue
//	regexPattern, regexGroupName, replacementAttributeName
//	                                               source if it is not empty, else the named group of the
//	                                               first match in replacementAttributeName
//
// Other combinations are rejected by Parse. Matching is case-sensitive.
// Regular expressions use Go's RE2 syntax, which accepts .NET's named groups
// (?<name>...) but not look-around or back-references. A null source gives
// null (the last form excepted).
type replaceForm uint8

const (
	rfPlain replaceForm = iota
	rfTemplate
	rfRegex
	rfRegexGroup
	rfRegexAttr
)

// Argument positions of Replace.
const (
	rpSource = iota
	rpOld
	rpPattern
	rpGroup
	rpRepl
	rpAttr
	rpTemplate
)

type replaceAux struct {
	form  replaceForm
	re    *regexp.Regexp // compiled constant pattern, or nil
	group string         // constant group name, or ""
	repl  string         // constant replacementValue in Go template syntax
	fixed bool           // repl is set
}

const replaceForms = "the forms are Replace(source, oldValue, , , replacementValue, , ), " +
	"Replace(source, oldValue, , , , , template), Replace(source, , regexPattern, , replacementValue, , ), " +
	"Replace(source, , regexPattern, regexGroupName, replacementValue, , ) and " +
	"Replace(source, , regexPattern, regexGroupName, , replacementAttributeName, )"

func checkReplace(n *node) *SyntaxError {
	var mask uint8
	for i := 1; i < len(n.args); i++ {
		if n.present(i) {
			mask |= 1 << i
		}
	}
	bits := func(pos ...int) uint8 {
		var m uint8
		for _, p := range pos {
			m |= 1 << p
		}
		return m
	}
	aux := &replaceAux{}
	switch mask {
	case bits(rpOld, rpRepl):
		aux.form = rfPlain
	case bits(rpOld, rpTemplate):
		aux.form = rfTemplate
	case bits(rpPattern, rpRepl):
		aux.form = rfRegex
	case bits(rpPattern, rpGroup, rpRepl):
		aux.form = rfRegexGroup
	case bits(rpPattern, rpGroup, rpAttr):
		aux.form = rfRegexAttr
	default:
		return &SyntaxError{Col: n.pos, Func: n.fn.name, Msg: "unsupported combination of arguments; " + replaceForms}
	}
	if s, ok := n.args[rpOld].constString(); ok && n.present(rpOld) && s == "" {
		return &SyntaxError{Col: n.args[rpOld].pos, Func: n.fn.name, Msg: "oldValue must not be empty"}
	}
	if aux.form >= rfRegex {
		if s, ok := n.args[rpPattern].constString(); ok {
			re, err := regexp.Compile(s)
			if err != nil {
				return &SyntaxError{Col: n.args[rpPattern].pos, Func: n.fn.name, Msg: "invalid regexPattern: " + err.Error() + " (RE2 syntax: no look-around or back-references)"}
			}
			aux.re = re
		}
	}
	if aux.form == rfRegexGroup || aux.form == rfRegexAttr {
		if s, ok := n.args[rpGroup].constString(); ok {
			aux.group = s
			if aux.re != nil && aux.re.SubexpIndex(s) < 0 {
				return &SyntaxError{Col: n.args[rpGroup].pos, Func: n.fn.name, Msg: "regexGroupName " + quote(s) + " is not a named group of regexPattern"}
			}
		}
	}
	if aux.form == rfRegex {
		if s, ok := n.args[rpRepl].constString(); ok {
			aux.repl, aux.fixed = dotnetReplacement(s), true
		}
	}
	n.aux = aux
	return nil
}

func fnReplace(e evaluator, n *node) (Value, error) {
	aux := n.aux.(*replaceAux)
	src, err := e.arg(n, rpSource)
	if err != nil {
		return Value{}, err
	}
	if aux.form != rfRegexAttr && src.kind == KindNull {
		return Value{}, nil
	}
	s := src.String()
	switch aux.form {
	case rfPlain, rfTemplate:
		return replacePlain(e, n, aux.form, s)
	}

	if aux.form == rfRegexAttr && !src.IsNullOrEmpty() {
		return src, nil
	}
	re, gi, err := replaceRegexp(e, n, aux)
	if err != nil {
		return Value{}, err
	}
	switch aux.form {
	case rfRegex:
		return replaceRegex(e, n, aux, re, s)
	case rfRegexGroup:
		return replaceGroup(e, n, re, gi, s)
	default: // rfRegexAttr, source empty
		return replaceFromAttr(e, n, re, gi, src)
	}
}

// replacePlain is Replace's forms without a regular expression: every
// oldValue in s becomes replacementValue, or every oldValue in template
// becomes s.
func replacePlain(e evaluator, n *node, form replaceForm, s string) (Value, error) {
	old, _, err := e.str(n, rpOld)
	if err != nil {
		return Value{}, err
	}
	if old == "" {
		return Value{}, e.errf(n, "oldValue is empty")
	}
	if form == rfTemplate {
		tmpl, _, err := e.str(n, rpTemplate)
		if err != nil {
			return Value{}, err
		}
		return Str(strings.ReplaceAll(tmpl, old, s)), nil
	}
	repl, _, err := e.str(n, rpRepl)
	if err != nil {
		return Value{}, err
	}
	return Str(strings.ReplaceAll(s, old, repl)), nil
}

// replaceRegexp is the regular expression of Replace's regex forms, compiled
// by Parse when the pattern is a constant, and the index of the named group
// of the forms that have one (-1 otherwise).
func replaceRegexp(e evaluator, n *node, aux *replaceAux) (re *regexp.Regexp, gi int, err error) {
	re = aux.re
	if re == nil {
		pat, _, err := e.str(n, rpPattern)
		if err != nil {
			return nil, 0, err
		}
		if re, err = regexp.Compile(pat); err != nil {
			return nil, 0, e.errf(n, "invalid regexPattern: %v", err)
		}
	}
	if aux.form == rfRegex {
		return re, -1, nil
	}
	group := aux.group
	if group == "" {
		if group, _, err = e.str(n, rpGroup); err != nil {
			return nil, 0, err
		}
	}
	if gi = re.SubexpIndex(group); gi < 0 {
		return nil, 0, e.errf(n, "regexGroupName %s is not a named group of regexPattern", quote(group))
	}
	return re, gi, nil
}

// replaceRegex replaces every match of re in s with replacementValue, a
// .NET replacement pattern converted by Parse when it is a constant.
func replaceRegex(e evaluator, n *node, aux *replaceAux, re *regexp.Regexp, s string) (Value, error) {
	repl := aux.repl
	if !aux.fixed {
		r, _, err := e.str(n, rpRepl)
		if err != nil {
			return Value{}, err
		}
		repl = dotnetReplacement(r)
	}
	return Str(re.ReplaceAllString(s, repl)), nil
}

// replaceGroup replaces the text of group gi in every match of re in s with
// replacementValue, taken as it is. A match where the group took no part is
// left as it is.
func replaceGroup(e evaluator, n *node, re *regexp.Regexp, gi int, s string) (Value, error) {
	repl, _, err := e.str(n, rpRepl)
	if err != nil {
		return Value{}, err
	}
	var b strings.Builder
	last := 0
	for _, m := range re.FindAllStringSubmatchIndex(s, -1) {
		gs, ge := m[2*gi], m[2*gi+1]
		if gs < 0 || gs < last {
			continue
		}
		b.WriteString(s[last:gs])
		b.WriteString(repl)
		last = ge
	}
	b.WriteString(s[last:])
	return Str(b.String()), nil
}

// replaceFromAttr is the text of group gi in the first match of re in
// replacementAttributeName, for an empty source src; src when the attribute
// is null or the group does not match.
func replaceFromAttr(e evaluator, n *node, re *regexp.Regexp, gi int, src Value) (Value, error) {
	attr, isNull, err := e.str(n, rpAttr)
	if err != nil {
		return Value{}, err
	}
	if isNull {
		return src, nil
	}
	m := re.FindStringSubmatchIndex(attr)
	if m == nil || m[2*gi] < 0 {
		return src, nil
	}
	return Str(attr[m[2*gi]:m[2*gi+1]]), nil
}

// dotnetReplacement converts a .NET Regex.Replace replacement pattern to Go's
// Regexp.Expand syntax: $1 and ${name} refer to groups, $& to the whole
// match, $$ is a dollar; any other $ is literal.
func dotnetReplacement(s string) string {
	if strings.IndexByte(s, '$') < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '$' {
			b.WriteByte(c)
			continue
		}
		if i+1 >= len(s) {
			b.WriteString("$$")
			continue
		}
		switch nx := s[i+1]; {
		case nx == '$':
			b.WriteString("$$")
			i++
		case nx == '&':
			b.WriteString("${0}")
			i++
		case nx == '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				b.WriteString("$$")
				continue
			}
			b.WriteString("${" + s[i+2:i+2+end] + "}")
			i += 2 + end
		case nx >= '0' && nx <= '9':
			j := i + 1
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			b.WriteString("${" + s[i+1:j] + "}")
			i = j - 1
		default:
			b.WriteString("$$")
		}
	}
	return b.String()
}
