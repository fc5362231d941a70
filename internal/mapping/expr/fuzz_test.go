package expr

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The seed corpora are committed under testdata/fuzz/FuzzParse and
// testdata/fuzz/FuzzEval (realistic mapping expressions: every function,
// nested calls, escapes, unicode, and some broken ones); `go test` runs
// them as ordinary tests. Fuzz with
//
//	go test -run '^$' -fuzz FuzzParse -fuzztime 60s ./internal/mapping/expr/
//	go test -run '^$' -fuzz FuzzEval -fuzztime 60s ./internal/mapping/expr/

// fuzzNow is the clock of the fuzz targets.
var fuzzNow = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// fuzzRecord is the fixed record FuzzParse evaluates against: the fields
// its seeds use, with realistic values.
var fuzzRecord = MapEnv{
	"FirstName": "Zoë", "LastName": "Łukasz-O'Brien", "a": "x", "b": "", "x": "12345",
	"d": "20150123105347.1Z", "StatusHireDate": "2012-03-16-07:00", "country": "USA",
	"state": "QLD", "telephoneNumber": "+91 9998887777", "mobile": "+1 (999) 888-7777",
	"proxyAddresses": "SMTP:a@x;smtp:b@x;SMTP:a@x", "uac": "514", "Active": "1",
	"lastLogonTimestamp": "129699324000000000", "HireDate": "31.12.2025",
}

// checkEval evaluates p twice against env with identically seeded Contexts
// and fails unless both give the same value or an *EvalError.
func checkEval(t *testing.T, p *Program, env Env) {
	t.Helper()
	v1, err1 := p.EvalWith(env, testCtx(fuzzNow))
	v2, err2 := p.EvalWith(env, testCtx(fuzzNow))
	if err1 != nil {
		var ee *EvalError
		if !errors.As(err1, &ee) {
			t.Fatalf("Eval(%q) error %T %v; want *EvalError", p.Source(), err1, err1)
		}
		if ee.Msg == "" || ee.Col < 1 || ee.Col > utf8.RuneCountInString(p.Source()) {
			t.Fatalf("Eval(%q): bad error %+v", p.Source(), ee)
		}
		if err2 == nil || err2.Error() != err1.Error() {
			t.Fatalf("Eval(%q) not deterministic: %v, then %v", p.Source(), err1, err2)
		}
		return
	}
	if err2 != nil || !v1.Equal(v2) || v1.GoString() != v2.GoString() {
		t.Fatalf("Eval(%q) not deterministic: %#v, then %#v, %v", p.Source(), v1, v2, err2)
	}
	if tm, ok := v1.Time(); ok && (tm.Year() < 1 || tm.Year() > 9999) {
		t.Fatalf("Eval(%q) = %#v: outside the dates .NET can hold (years 1 to 9999)", p.Source(), v1)
	}
	_ = v1.String()
	_ = v1.Items()
}

// FuzzParse checks that Parse never panics, that every error is a
// *SyntaxError with a column inside the expression, and that whatever parses
// evaluates without panicking, deterministically, failing only with
// *EvalError.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, src string) {
		p, err := Parse(src)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) error %T %v; want *SyntaxError", src, err, err)
			}
			if se.Col < 1 || se.Col > utf8.RuneCountInString(src)+1 {
				t.Fatalf("Parse(%q): Col %d outside 1..%d", src, se.Col, utf8.RuneCountInString(src)+1)
			}
			if se.Msg == "" {
				t.Fatalf("Parse(%q): empty message", src)
			}
			return
		}
		if p.Source() != src || p.String() != src {
			t.Fatalf("Source() = %q; want %q", p.Source(), src)
		}
		_ = p.Fields()
		for _, fn := range p.Functions() {
			if _, ok := FunctionSignature(fn); !ok {
				t.Fatalf("Functions() of %q lists unknown %q", src, fn)
			}
		}
		checkEval(t, p, fuzzRecord)
		checkEval(t, p, MapEnv{})
		checkEval(t, p, nil)
	})
}

// FuzzEval fuzzes the record instead of the expression: expr is evaluated
// against a record whose fields [a] and [b] hold the fuzzed values (and
// the other fields of fuzzRecord), as a mapping meets whatever an HR export
// holds. Expressions that do not parse are skipped.
func FuzzEval(f *testing.F) {
	f.Fuzz(func(t *testing.T, src, a, b string) {
		p, err := Parse(src)
		if err != nil {
			return
		}
		env := MapEnv{}
		for k, v := range fuzzRecord {
			env[k] = v
		}
		env["a"], env["b"] = a, b
		checkEval(t, p, env)
	})
}

// readCorpus returns the string arguments of the seed files of a fuzz
// target.
func readCorpus(t *testing.T, target string) [][]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "fuzz", target, "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no seed corpus for %s: %v", target, err)
	}
	var out [][]string
	for _, fn := range files {
		data, err := os.ReadFile(fn)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		if lines[0] != "go test fuzz v1" {
			t.Fatalf("%s: not a fuzz corpus file", fn)
		}
		var args []string
		for _, l := range lines[1:] {
			s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(l, "string("), ")"))
			if err != nil {
				t.Fatalf("%s: %q: %v", fn, l, err)
			}
			args = append(args, s)
		}
		out = append(out, args)
	}
	return out
}

// The seed corpora must call every function, and most seeds must parse
// (the seeds are meant to be realistic; a few test syntax errors).
func TestFuzzCorpusCoversEveryFunction(t *testing.T) {
	for _, target := range []string{"FuzzParse", "FuzzEval"} {
		called := map[string]bool{}
		bad := 0
		seeds := readCorpus(t, target)
		for _, args := range seeds {
			p, err := Parse(args[0])
			if err != nil {
				bad++
				continue
			}
			for _, fn := range p.Functions() {
				called[fn] = true
			}
		}
		for _, fn := range FunctionNames() {
			if !called[fn] {
				t.Errorf("%s: no seed calls %s", target, fn)
			}
		}
		if bad*5 > len(seeds) {
			t.Errorf("%s: %d of %d seeds do not parse", target, bad, len(seeds))
		}
	}
}
