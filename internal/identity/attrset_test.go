package identity

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// attrsKinds returns the same attributes kept each way Attrs can keep
// them: in a map, in open slots, in sealed slots.
func attrsKinds(t *testing.T, kv map[string]string) map[string]Attrs {
	t.Helper()
	l := NewLayout([]string{"a", "b", "c", "empty"})
	open, sealed := NewAttrs(l), NewAttrs(l)
	for k, v := range kv {
		open.Set(k, v)
		sealed.Set(k, v)
	}
	sealed.Seal()
	vals := make([]string, len(l.Names()))
	other := map[string]string{}
	for k, v := range kv {
		if i, ok := l.index[k]; ok {
			vals[i] = v
		} else {
			other[k] = v
		}
	}
	packed := PackAttrs(l, vals)
	for k, v := range other {
		packed.Set(k, v)
	}
	for k, v := range kv {
		if v == "" { // PackAttrs takes "" for unset
			packed.Set(k, v)
		}
	}
	return map[string]Attrs{"map": AttrsOf(kv), "open": open, "sealed": sealed, "packed": packed}
}

func TestAttrsReadAlikeHoweverKept(t *testing.T) {
	kv := map[string]string{"a": "Ärger", "c": "", "other": "outside the layout", "b": strings.Repeat("x", 300)}
	for kind, a := range attrsKinds(t, kv) {
		t.Run(kind, func(t *testing.T) {
			for _, tc := range []struct {
				name    string
				want    string
				present bool
			}{
				{"a", "Ärger", true},
				{"b", strings.Repeat("x", 300), true},
				{"c", "", true}, // set to "": present
				{"empty", "", false},
				{"other", "outside the layout", true},
				{"missing", "", false},
			} {
				v, ok := a.Lookup(tc.name)
				if v != tc.want || ok != tc.present || a.Get(tc.name) != tc.want {
					t.Errorf("Lookup(%q) = %q, %v; want %q, %v", tc.name, v, ok, tc.want, tc.present)
				}
			}
			if a.Len() != 4 {
				t.Errorf("Len = %d, want 4", a.Len())
			}
			got := map[string]string{}
			for k, v := range a.All() {
				got[k] = v
			}
			if !AttrsOf(got).Equal(AttrsOf(kv)) || !a.Equal(AttrsOf(kv)) {
				t.Errorf("All = %v, want %v", got, kv)
			}
		})
	}
}

// TestFieldReadsWhatGetReads reads each name through one Field from Attrs
// kept every way, of two layouts, in turn (so the Field's remembered slot
// keeps changing), and after writes reopen sealed ones.
func TestFieldReadsWhatGetReads(t *testing.T) {
	kv := map[string]string{"a": "Ärger", "c": "", "other": "outside the layout", "b": strings.Repeat("x", 300)}
	var all []Attrs
	for _, a := range attrsKinds(t, kv) {
		all = append(all, a)
	}
	// A second layout with the same names in other slots, one missing.
	l2 := NewLayout([]string{"other", "c", "a"})
	second := NewAttrs(l2)
	for k, v := range kv {
		second.Set(k, v)
	}
	second.Seal()
	all = append(all, second, Attrs{}, MakeAttrs(0))
	for _, name := range []string{"a", "b", "c", "empty", "other", "missing"} {
		f := NewField(name)
		if f.Name() != name {
			t.Fatalf("Name = %q, want %q", f.Name(), name)
		}
		for round := range 3 {
			for i, a := range all {
				if got, want := f.Get(a), a.Get(name); got != want {
					t.Errorf("round %d, attrs %d: Field(%q).Get = %q, Get = %q", round, i, name, got, want)
				}
			}
			if round == 1 { // writes unseal some; the Field reads them still
				all[0].Set("a", "new")
				second.Set("b", "now in extra")
			}
		}
	}
}

func TestAttrsWritesAfterSealAndClones(t *testing.T) {
	for kind, a := range attrsKinds(t, map[string]string{"a": "1", "b": "2"}) {
		t.Run(kind, func(t *testing.T) {
			c := a.Clone()
			c.Set("a", "changed")
			c.Delete("b")
			c.Set("c", "new")
			if a.Get("a") != "1" || a.Get("b") != "2" || a.Get("c") != "" {
				t.Errorf("writing a clone changed the original: %v", a)
			}
			if c.Get("a") != "changed" || c.Get("c") != "new" || c.Len() != 2 {
				t.Errorf("clone = %v, want map[a:changed c:new]", c)
			}
			if _, ok := c.Lookup("b"); ok {
				t.Error("deleted b still present")
			}
			shared := a // a copy shares, like a map
			shared.Set("b", "via copy")
			if a.Get("b") != "via copy" {
				t.Errorf("a copy's write not seen: %v", a)
			}
			a.Seal() // sealing again, or after writes, keeps the values
			if a.Get("a") != "1" || a.Get("b") != "via copy" || a.Len() != 2 {
				t.Errorf("after Seal: %v", a)
			}
		})
	}
}

func TestAttrsSealKeepsLongValuesOpen(t *testing.T) {
	a := NewAttrs(NewLayout([]string{"big", "small"}))
	a.Set("big", strings.Repeat("y", 70000))
	a.Set("small", "s")
	a.Seal()
	if len(a.Get("big")) != 70000 || a.Get("small") != "s" {
		t.Errorf("values over 64 KiB lost: big %d bytes, small %q", len(a.Get("big")), a.Get("small"))
	}
}

func TestAttrsZeroAndJSON(t *testing.T) {
	var z Attrs
	if !z.IsNil() || z.Len() != 0 || z.Get("a") != "" || z.Clone().IsNil() {
		t.Error("zero Attrs: want empty, and a writable clone")
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("Set on the zero Attrs did not panic")
			}
		}()
		z.Set("a", "1")
	}()
	for kind, a := range attrsKinds(t, map[string]string{"b": "2", "a": "1"}) {
		b, err := json.Marshal(a)
		if err != nil || string(b) != `{"a":"1","b":"2"}` {
			t.Errorf("%s: JSON %s, %v", kind, b, err)
		}
		var back Attrs
		if err := json.Unmarshal(b, &back); err != nil || !back.Equal(a) {
			t.Errorf("%s: JSON round trip gave %v, %v", kind, back, err)
		}
	}
}

// TestAttrsDeleteOfAnAbsentNameKeepsThemSealed: deleting what is not there
// changes nothing, and leaves sealed attributes sealed (it unpacked them).
func TestAttrsDeleteOfAnAbsentNameKeepsThemSealed(t *testing.T) {
	l := NewLayout([]string{"a", "b"})
	a := PackAttrs(l, []string{"1", ""})
	a.Delete("b")
	a.Delete("not in the layout")
	if !a.s.sealed() || a.Get("a") != "1" || a.Len() != 1 {
		t.Errorf("after deleting absent names: sealed %v, %v", a.s.sealed(), a)
	}
	a.Delete("a")
	if a.Len() != 0 {
		t.Errorf("after deleting a: %v", a)
	}
}

// TestPackNamedHoldsWhatItIsGiven: PackNamed holds names[j] = vals[j] ("" for
// none) whether every name has a slot, a name repeats, or there are more
// names than slots.
func TestPackNamedHoldsWhatItIsGiven(t *testing.T) {
	many := make([]string, 70)
	for i := range many {
		many[i] = fmt.Sprintf("n%02d", i)
	}
	for _, names := range [][]string{{"a", "b", "c"}, {"a", "b", "a"}, many} {
		vals := make([]string, len(names))
		want := map[string]string{}
		for j, n := range names {
			if j%3 != 1 {
				vals[j] = "v-" + n
				want[n] = vals[j]
			}
		}
		got := PackNamed(NewLayout(names), names, vals)
		if !got.Equal(AttrsOf(want)) {
			t.Errorf("%d names: got %v, want %v", len(names), got, want)
		}
	}
}
