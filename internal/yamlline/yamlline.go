// Package yamlline finds the line a YAML syntax error really is on.
// yaml.v3 reports some errors at the line where the enclosing block began
// (a mis-indented key on line 14 of a mapping that began on line 6 is
// "line 6: did not find expected key"), which sends a person to the wrong
// line. Locate parses growing prefixes of the document to find the first
// line that makes it invalid.
package yamlline

import (
	"bytes"
	"errors"
	"regexp"
	"strconv"

	"gopkg.in/yaml.v3"
)

// Error is a YAML syntax error at the line that caused it.
type Error struct {
	// Line is the 1-based line that first makes the document invalid.
	Line int
	// Reported is the line yaml.v3 named, when different.
	Reported int
	// Msg is yaml.v3's message without its "yaml: line N:" prefix.
	Msg string
}

func (e *Error) Error() string { return "line " + strconv.Itoa(e.Line) + ": " + e.Detail() }

// Detail is the message without the line: yaml.v3's, and where it noticed
// the problem when that is another line.
func (e *Error) Detail() string {
	msg := e.Msg
	if e.Reported > 0 && e.Reported != e.Line {
		msg += " (mis-indented or malformed here; the YAML parser noticed it at line " + strconv.Itoa(e.Reported) + ")"
	}
	return msg
}

var lineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// Locate returns err as an *Error at the line that first makes data
// invalid YAML, or err unchanged when it is not a syntax error with a
// line.
func Locate(data []byte, err error) error {
	var te *yaml.TypeError
	if err == nil || errors.As(err, &te) {
		return err
	}
	m := lineRE.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	reported, _ := strconv.Atoi(m[1])
	lines := bytes.SplitAfter(data, []byte("\n"))
	for n := 1; n <= len(lines); n++ {
		var doc yaml.Node
		if yaml.Unmarshal(bytes.Join(lines[:n], nil), &doc) != nil {
			return &Error{Line: n, Reported: reported, Msg: m[2]}
		}
	}
	return &Error{Line: reported, Msg: m[2]}
}
