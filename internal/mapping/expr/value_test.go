package expr

import (
	"testing"
	"time"
)

func TestValueString(t *testing.T) {
	for _, c := range []struct {
		v      Value
		s, gos string
		kind   Kind
	}{
		{Null(), "", "null", KindNull},
		{Value{}, "", "null", KindNull},
		{Str(""), "", `""`, KindString},
		{Str(`a"b`), `a"b`, `"a\"b"`, KindString},
		{Bool(true), "True", "True", KindBool},
		{Bool(false), "False", "False", KindBool},
		{List("a", "b"), "a,b", `["a" "b"]`, KindList},
		{List(), "", `[]`, KindList},
		{Date(time.Date(2020, 3, 16, 7, 0, 0, 0, time.FixedZone("", -7*3600))), "3/16/2020 2:00:00 PM", "date(3/16/2020 2:00:00 PM)", KindDate},
		{Date(time.Date(2021, 1, 1, 0, 5, 9, 0, time.UTC)), "1/1/2021 12:05:09 AM", "date(1/1/2021 12:05:09 AM)", KindDate},
	} {
		if got := c.v.String(); got != c.s {
			t.Errorf("%#v.String() = %q; want %q", c.v, got, c.s)
		}
		if got := c.v.GoString(); got != c.gos {
			t.Errorf("GoString() = %q; want %q", got, c.gos)
		}
		if c.v.Kind() != c.kind || c.v.IsNull() != (c.kind == KindNull) {
			t.Errorf("%#v: Kind() = %v, IsNull() = %v", c.v, c.v.Kind(), c.v.IsNull())
		}
	}
}

func TestValueAccessors(t *testing.T) {
	if b, ok := Bool(true).Bool(); !b || !ok {
		t.Error("Bool(true).Bool()")
	}
	if _, ok := Str("True").Bool(); ok {
		t.Error(`Str("True").Bool() ok`)
	}
	if got := Str("x").Items(); len(got) != 1 || got[0] != "x" {
		t.Errorf("Items() = %q", got)
	}
	if got := Null().Items(); got != nil {
		t.Errorf("Null().Items() = %q", got)
	}
	items := []string{"a"}
	l := List(items...)
	items[0] = "changed"
	if l.Items()[0] != "a" {
		t.Error("List does not copy its items")
	}
	if !Str("").IsNullOrEmpty() || !List().IsNullOrEmpty() || Str(" ").IsNullOrEmpty() || Bool(false).IsNullOrEmpty() {
		t.Error("IsNullOrEmpty")
	}
	if !Str("a").Equal(Str("a")) || Str("a").Equal(Bool(true)) || !List("a").Equal(List("a")) || List("a").Equal(List("b")) || !Null().Equal(Value{}) {
		t.Error("Equal")
	}
	if _, ok := Str("x").Time(); ok {
		t.Error("Str.Time ok")
	}
	for k, want := range map[Kind]string{KindNull: "null", KindString: "string", KindBool: "bool", KindList: "list", KindDate: "date", 99: "unknown"} {
		if k.String() != want {
			t.Errorf("Kind(%d).String() = %q", k, k.String())
		}
	}
	v, _ := MustParse(`Redact(IgnoreFlowIfNullOrEmpty([x]))`).Eval(nil)
	if !v.Ignored() || !v.Redacted() || !v.IsNull() || v.GoString() != "null (ignored) (redacted)" {
		t.Errorf("flags: %#v", v)
	}
}

// The table-driven fast path of NormalizeDiacritics must agree with the
// general path.
func TestNormalizeDiacriticsFastPath(t *testing.T) {
	for r := rune(latinFoldFirst); r <= latinFoldLast; r++ {
		s := "a" + string(r) + "b"
		if got, want := normalizeDiacritics(s), normalizeDiacriticsNFD(s); got != want {
			t.Errorf("%U: fast %q, general %q", r, got, want)
		}
	}
	if s := "plain ascii"; normalizeDiacritics(s) != s {
		t.Error("ASCII changed")
	}
}

// A Program is shared by concurrent evaluations (run with -race).
func TestConcurrentEval(t *testing.T) {
	p := MustParse(`Join("|", ToUpper([a], "tr-TR"), Replace([a], , "(?<x>i)", "x", "I", , ), FormatDateTime([d], , "dd.MM.yyyy", "yyyy-MM-dd"))`)
	done := make(chan string)
	for i := 0; i < 8; i++ {
		go func() {
			var last string
			for j := 0; j < 200; j++ {
				v, err := p.Eval(MapEnv{"a": "istanbul", "d": "31.12.2025"})
				if err != nil {
					last = err.Error()
					break
				}
				last = v.String()
			}
			done <- last
		}()
	}
	for i := 0; i < 8; i++ {
		if got := <-done; got != "İSTANBUL|Istanbul|2025-12-31" {
			t.Errorf("got %q", got)
		}
	}
}
