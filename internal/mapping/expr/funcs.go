package expr

import (
	"github.com/hrsync/hrsync/internal/suggest"
	"sort"
	"strconv"
	"strings"
)

// funcDef describes one function of the library. Adding a function is adding
// an entry to funcTable.
type funcDef struct {
	// name is the canonical spelling, as in Microsoft's reference.
	name string
	// params names the parameters as in Microsoft's reference; optional ones
	// are in brackets and "..." marks a repeating group. Used in messages.
	params []string
	// min and max bound the number of argument positions (left-out
	// arguments count); max < 0 means no upper bound.
	min, max int
	// required is the number of leading arguments that may not be left out.
	required int
	// ints lists argument positions that must be whole numbers; constants
	// are checked by Parse, other values at evaluation.
	ints []int
	// topLevel marks functions that must be the outermost call.
	topLevel bool
	// check performs extra compile-time validation of a call and may store
	// precompiled data in n.aux.
	check func(n *node) *SyntaxError
	// eval evaluates a call. Arguments are evaluated lazily through the
	// evaluator helpers, so IIF, Switch and Coalesce evaluate only what
	// they need.
	eval func(e evaluator, n *node) (Value, error)
}

// sig renders "Mid(source, start, length)".
func (f *funcDef) sig() string {
	return f.name + "(" + strings.Join(f.params, ", ") + ")"
}

// param names argument position i for messages, e.g. "length (argument 3)".
func (f *funcDef) param(i int) string {
	name := ""
	if i < len(f.params) && f.params[i] != "..." {
		name = strings.Trim(f.params[i], "[]")
	}
	if name == "" {
		return "argument " + strconv.Itoa(i+1)
	}
	return name + " (argument " + strconv.Itoa(i+1) + ")"
}

// arity renders the accepted number of arguments.
func (f *funcDef) arity() string {
	switch {
	case f.max < 0:
		return "at least " + plural(f.min, "argument")
	case f.min == f.max:
		return plural(f.min, "argument")
	}
	return strconv.Itoa(f.min) + " to " + plural(f.max, "argument")
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

// checkCall validates a parsed call against the definition.
func (f *funcDef) checkCall(n *node) *SyntaxError {
	if len(n.args) < f.min || (f.max >= 0 && len(n.args) > f.max) {
		return &SyntaxError{Col: n.pos, Func: f.name, Msg: "takes " + f.arity() + ", got " + strconv.Itoa(len(n.args)) + "; usage: " + f.sig()}
	}
	for i := 0; i < f.required && i < len(n.args); i++ {
		if n.args[i].kind == nOmitted {
			return &SyntaxError{Col: n.args[i].pos, Func: f.name, Msg: f.param(i) + " cannot be left out; usage: " + f.sig()}
		}
	}
	for _, i := range f.ints {
		if i >= len(n.args) {
			continue
		}
		if s, ok := n.args[i].constString(); ok {
			if _, ok := parseInt(s); !ok {
				return &SyntaxError{Col: n.args[i].pos, Func: f.name, Msg: f.param(i) + " must be a whole number, got " + quote(s)}
			}
		}
	}
	if f.check != nil {
		return f.check(n)
	}
	return nil
}

// funcTable is the function library, keyed by lower-case name. It is built
// once and never modified.
var funcTable = buildTable([]*funcDef{
	{name: "Append", params: []string{"source", "suffix"}, min: 2, max: 2, eval: fnAppend},
	{name: "BitAnd", params: []string{"value1", "value2"}, min: 2, max: 2, required: 2, ints: []int{0, 1}, eval: fnBitAnd},
	{name: "CBool", params: []string{"expression"}, min: 1, max: 1, eval: fnCBool},
	{name: "CDate", params: []string{"expression"}, min: 1, max: 1, check: checkDateConst(0), eval: fnCDate},
	{name: "Coalesce", params: []string{"source1", "...", "[defaultValue]"}, min: 1, max: -1, eval: fnCoalesce},
	{name: "ConvertToBase64", params: []string{"source"}, min: 1, max: 1, eval: fnConvertToBase64},
	{name: "ConvertToUTF8Hex", params: []string{"source"}, min: 1, max: 1, eval: fnConvertToUTF8Hex},
	{name: "Count", params: []string{"attribute"}, min: 1, max: 1, eval: fnCount},
	{name: "CStr", params: []string{"value"}, min: 1, max: 1, eval: fnCStr},
	{name: "DateAdd", params: []string{"interval", "value", "dateTime"}, min: 3, max: 3, required: 3, ints: []int{1}, check: checkInterval(true), eval: fnDateAdd},
	{name: "DateDiff", params: []string{"interval", "date1", "date2"}, min: 3, max: 3, required: 3, check: checkInterval(false), eval: fnDateDiff},
	{name: "DateFromNum", params: []string{"value"}, min: 1, max: 1, required: 1, ints: []int{0}, eval: fnDateFromNum},
	{name: "FormatDateTime", params: []string{"source", "[dateTimeStyles]", "inputFormat", "outputFormat"}, min: 4, max: 4, required: 1, check: checkFormatDateTime, eval: fnFormatDateTime},
	{name: "Guid", params: []string{}, min: 0, max: 0, eval: fnGuid},
	{name: "IgnoreFlowIfNullOrEmpty", params: []string{"expression"}, min: 1, max: 1, eval: fnIgnoreFlowIfNullOrEmpty},
	{name: "IIF", params: []string{"condition", "valueIfTrue", "valueIfFalse"}, min: 3, max: 3, required: 1, eval: fnIIF},
	{name: "InStr", params: []string{"value1", "value2", "[start]", "[compareType]"}, min: 2, max: 4, ints: []int{2}, check: checkInStr, eval: fnInStr},
	{name: "IsNull", params: []string{"expression"}, min: 1, max: 1, eval: fnIsNull},
	{name: "IsNullOrEmpty", params: []string{"expression"}, min: 1, max: 1, eval: fnIsNullOrEmpty},
	{name: "IsPresent", params: []string{"expression"}, min: 1, max: 1, eval: fnIsPresent},
	{name: "IsString", params: []string{"expression"}, min: 1, max: 1, eval: fnIsString},
	{name: "Item", params: []string{"attribute", "index"}, min: 2, max: 2, required: 2, ints: []int{1}, eval: fnItem},
	{name: "Join", params: []string{"separator", "source1", "..."}, min: 2, max: -1, eval: fnJoin},
	{name: "Left", params: []string{"string", "numChars"}, min: 2, max: 2, required: 2, ints: []int{1}, eval: fnLeft},
	{name: "Mid", params: []string{"source", "start", "length"}, min: 3, max: 3, required: 3, ints: []int{1, 2}, eval: fnMid},
	{name: "NormalizeDiacritics", params: []string{"source"}, min: 1, max: 1, eval: fnNormalizeDiacritics},
	{name: "Not", params: []string{"source"}, min: 1, max: 1, eval: fnNot},
	{name: "Now", params: []string{}, min: 0, max: 0, eval: fnNow},
	{name: "NumFromDate", params: []string{"value"}, min: 1, max: 1, check: checkDateConst(0), eval: fnNumFromDate},
	{name: "PCase", params: []string{"source", "[wordSeparators]"}, min: 1, max: 2, eval: fnPCase},
	{name: "RandomString", params: []string{"length", "minimumNumbers", "minimumSpecialCharacters", "minimumCapital", "minimumLowerCase", "[charactersToAvoid]"}, min: 5, max: 6, required: 5, ints: []int{0, 1, 2, 3, 4}, check: checkRandomString, eval: fnRandomString},
	{name: "Redact", params: []string{"value"}, min: 1, max: 1, eval: fnRedact},
	{name: "RemoveDuplicates", params: []string{"attribute"}, min: 1, max: 1, eval: fnRemoveDuplicates},
	{name: "Replace", params: []string{"source", "[oldValue]", "[regexPattern]", "[regexGroupName]", "[replacementValue]", "[replacementAttributeName]", "[template]"}, min: 3, max: 7, required: 1, check: checkReplace, eval: fnReplace},
	{name: "SelectUniqueValue", params: []string{"uniqueValueRule1", "uniqueValueRule2", "..."}, min: 2, max: -1, topLevel: true, eval: fnSelectUniqueValue},
	{name: "Split", params: []string{"source", "delimiter"}, min: 2, max: 2, eval: fnSplit},
	{name: "StripSpaces", params: []string{"source"}, min: 1, max: 1, eval: fnStripSpaces},
	{name: "Switch", params: []string{"source", "[defaultValue]", "key1", "value1", "..."}, min: 4, max: -1, required: 1, check: checkSwitch, eval: fnSwitch},
	{name: "ToLower", params: []string{"source", "[culture]"}, min: 1, max: 2, check: checkCulture, eval: fnToLower},
	{name: "ToUpper", params: []string{"source", "[culture]"}, min: 1, max: 2, check: checkCulture, eval: fnToUpper},
	{name: "Word", params: []string{"string", "wordNumber", "delimiters"}, min: 3, max: 3, required: 2, ints: []int{1}, eval: fnWord},
})

func buildTable(defs []*funcDef) map[string]*funcDef {
	m := make(map[string]*funcDef, len(defs))
	for _, d := range defs {
		m[strings.ToLower(d.name)] = d
	}
	return m
}

// lookupFunc finds a function by name, ignoring case.
func lookupFunc(name string) *funcDef {
	return funcTable[strings.ToLower(name)]
}

// FunctionNames returns the canonical names of all supported functions,
// sorted.
func FunctionNames() []string {
	names := make([]string, 0, len(funcTable))
	for _, f := range funcTable {
		names = append(names, f.name)
	}
	sort.Strings(names)
	return names
}

// FunctionSignature returns the usage of a function, e.g.
// "Mid(source, start, length)", and whether it exists.
func FunctionSignature(name string) (string, bool) {
	f := lookupFunc(name)
	if f == nil {
		return "", false
	}
	return f.sig(), true
}

// unknownFuncMsg explains an unknown function and suggests close names.
func unknownFuncMsg(name string) string {
	type cand struct {
		name string
		dist int
	}
	lname := strings.ToLower(name)
	var cands []cand
	for key, f := range funcTable {
		d := suggest.Distance(lname, key)
		limit := max(1, min(3, len(lname)/3))
		if d <= limit || (len(lname) >= 3 && (strings.HasPrefix(key, lname) || strings.HasPrefix(lname, key))) {
			cands = append(cands, cand{f.name, d})
		}
	}
	sort.Slice(cands, func(i, j int) bool {
		if cands[i].dist != cands[j].dist {
			return cands[i].dist < cands[j].dist
		}
		return cands[i].name < cands[j].name
	})
	msg := "unknown function " + name
	if len(cands) > 0 {
		if len(cands) > 3 {
			cands = cands[:3]
		}
		names := make([]string, len(cands))
		for i, c := range cands {
			names[i] = c.name
		}
		msg += " (did you mean " + strings.Join(names, ", ") + "?)"
	} else {
		msg += " (see the Entra expression function reference)"
	}
	return msg
}
