package identity

import (
	"encoding/json"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strings"
)

// maxSlots is the most attributes a Layout gives slots to (one bit each in
// attrSet.set); names past it are kept like names outside the layout.
const maxSlots = 64

// Layout gives a fixed list of attribute names a slot each, so the many
// Attrs of one read or one mapping keep their values by slot rather than
// in a map of their own, and once sealed (see Attrs.Seal) in one string:
// a user's attributes then take their bytes and 2 more a value instead
// of a hash table and a string each. A Layout is immutable once made and
// shared by every Attrs made from it, across goroutines.
type Layout struct {
	names []string
	index map[string]int
}

// NewLayout returns a layout with a slot for each distinct name, in order
// (at most 64; later names are kept outside the slots).
func NewLayout(names []string) *Layout {
	l := &Layout{index: make(map[string]int, len(names))}
	for _, n := range names {
		if _, dup := l.index[n]; dup || len(l.names) == maxSlots {
			continue
		}
		l.index[n] = len(l.names)
		l.names = append(l.names, n)
	}
	return l
}

// Names returns the layout's slot names in slot order.
func (l *Layout) Names() []string { return l.names }

// Attrs maps canonical attribute names to canonical string values. An
// attribute that is absent or "" is unset for hrsync's purposes (clearing
// is done by writing null), but Lookup tells an absent attribute from one
// set to "".
//
// Attrs behaves like a map: copies share their contents, and the zero
// value is empty and read-only (Set on it panics, as writing to a nil map
// does). Make one with NewAttrs (slots of a Layout), MakeAttrs or AttrsOf.
type Attrs struct{ s *attrSet }

// attrSet holds the values: those of the layout's names by slot (set has
// bit i when slot i holds a value), any other name in extra. The slots
// are open (vals) or sealed (packed, vals nil): packed starts with the
// little-endian uint16 offsets of slots 0..n (n+1 of them, from the start
// of packed), slot i's value being packed[off[i]:off[i+1]].
type attrSet struct {
	layout *Layout
	vals   []string
	packed string
	set    uint64
	extra  map[string]string
}

// sealed reports whether the slots are packed.
func (s *attrSet) sealed() bool { return s.layout != nil && s.vals == nil }

// at returns slot i's value.
func (s *attrSet) at(i int) string {
	if s.vals != nil {
		return s.vals[i]
	}
	if s.set&(1<<i) == 0 {
		return ""
	}
	p := s.packed
	return p[int(p[2*i])|int(p[2*i+1])<<8 : int(p[2*i+2])|int(p[2*i+3])<<8]
}

// open unpacks sealed slots for writing (the values stay substrings of
// the packed string).
func (s *attrSet) open() {
	if !s.sealed() {
		return
	}
	vals := make([]string, len(s.layout.names))
	for i := range vals {
		vals[i] = s.at(i)
	}
	s.vals, s.packed = vals, ""
}

// NewAttrs returns empty attributes that keep the names of l in its slots
// (and any other name aside). A nil l gives MakeAttrs(0).
func NewAttrs(l *Layout) Attrs {
	if l == nil {
		return MakeAttrs(0)
	}
	return Attrs{&attrSet{layout: l, vals: make([]string, len(l.names))}}
}

// MakeAttrs returns empty attributes without a layout, with room for about
// n names.
func MakeAttrs(n int) Attrs {
	return Attrs{&attrSet{extra: make(map[string]string, n)}}
}

// AttrsOf returns attributes holding m, which they then own (like a
// conversion of the map: later writes to either are seen by both).
func AttrsOf(m map[string]string) Attrs {
	if m == nil {
		m = map[string]string{}
	}
	return Attrs{&attrSet{extra: m}}
}

// Seal packs the values of the layout's slots into one string, which
// neither holds pointers for the garbage collector to follow nor keeps
// alive whatever the values were cut from (a source line, a response
// body). Reads stay as fast; the next write unpacks them again. Attrs
// without a layout, or with more than 64 KiB of values, stay as they are.
func (a Attrs) Seal() {
	s := a.s
	if s == nil || s.layout == nil || s.vals == nil {
		return
	}
	n := len(s.vals)
	size := 2 * (n + 1)
	for _, v := range s.vals {
		size += len(v)
	}
	if size > 1<<16-1 {
		return
	}
	var b strings.Builder
	b.Grow(size)
	off := 2 * (n + 1)
	for i := 0; i <= n; i++ {
		b.WriteByte(byte(off))
		b.WriteByte(byte(off >> 8))
		if i < n {
			off += len(s.vals[i])
		}
	}
	for _, v := range s.vals {
		b.WriteString(v)
	}
	s.packed, s.vals = b.String(), nil
}

// IsNil reports whether a is the zero value, made by none of NewAttrs,
// MakeAttrs and AttrsOf.
func (a Attrs) IsNil() bool { return a.s == nil }

// slot returns name's slot, -1 for none.
func (a Attrs) slot(name string) int {
	if a.s == nil || a.s.layout == nil {
		return -1
	}
	if i, ok := a.s.layout.index[name]; ok {
		return i
	}
	return -1
}

// Get returns the value of name, "" when unset.
func (a Attrs) Get(name string) string {
	v, _ := a.Lookup(name)
	return v
}

// Lookup returns the value of name and whether it is present at all.
func (a Attrs) Lookup(name string) (string, bool) {
	if a.s == nil {
		return "", false
	}
	if i := a.slot(name); i >= 0 {
		return a.s.at(i), a.s.set&(1<<i) != 0
	}
	v, ok := a.s.extra[name]
	return v, ok
}

// Set sets name to v (present, even when v is "").
func (a Attrs) Set(name, v string) {
	if a.s == nil {
		panic("identity: Set on the zero Attrs")
	}
	if i := a.slot(name); i >= 0 {
		a.s.open()
		a.s.vals[i] = v
		a.s.set |= 1 << i
		return
	}
	if a.s.extra == nil {
		a.s.extra = map[string]string{}
	}
	a.s.extra[name] = v
}

// Delete removes name.
func (a Attrs) Delete(name string) {
	if a.s == nil {
		return
	}
	if i := a.slot(name); i >= 0 {
		a.s.open()
		a.s.vals[i] = ""
		a.s.set &^= 1 << i
		return
	}
	delete(a.s.extra, name)
}

// Len returns how many names are present.
func (a Attrs) Len() int {
	if a.s == nil {
		return 0
	}
	n := len(a.s.extra)
	for s := a.s.set; s != 0; s &= s - 1 {
		n++
	}
	return n
}

// All yields the present names and their values: the layout's in slot
// order, then the others in no particular order.
func (a Attrs) All() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		if a.s == nil {
			return
		}
		if l := a.s.layout; l != nil {
			for i, n := range l.names {
				if a.s.set&(1<<i) != 0 && !yield(n, a.s.at(i)) {
					return
				}
			}
		}
		for k, v := range a.s.extra {
			if !yield(k, v) {
				return
			}
		}
	}
}

// Clone returns a writable copy that shares nothing writable with a
// (empty for the zero Attrs).
func (a Attrs) Clone() Attrs {
	if a.s == nil {
		return MakeAttrs(0)
	}
	c := &attrSet{layout: a.s.layout, set: a.s.set, packed: a.s.packed}
	if a.s.vals != nil {
		c.vals = append([]string(nil), a.s.vals...)
	}
	if len(a.s.extra) > 0 {
		c.extra = maps.Clone(a.s.extra)
	}
	return Attrs{c}
}

// Map returns the present names and values as a new map.
func (a Attrs) Map() map[string]string {
	m := make(map[string]string, a.Len())
	for k, v := range a.All() {
		m[k] = v
	}
	return m
}

// Equal reports whether a and b hold the same names with the same values,
// whatever their layouts.
func (a Attrs) Equal(b Attrs) bool {
	if a.Len() != b.Len() {
		return false
	}
	for k, v := range a.All() {
		if w, ok := b.Lookup(k); !ok || w != v {
			return false
		}
	}
	return true
}

// String formats a like a map: map[name:value ...] in name order.
func (a Attrs) String() string { return fmt.Sprint(a.Map()) }

// MarshalJSON writes a as a JSON object (names sorted; null for the zero
// Attrs).
func (a Attrs) MarshalJSON() ([]byte, error) {
	if a.s == nil {
		return []byte("null"), nil
	}
	return json.Marshal(a.Map())
}

// UnmarshalJSON reads a JSON object (or null, giving the zero Attrs).
func (a *Attrs) UnmarshalJSON(b []byte) error {
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	if m == nil {
		*a = Attrs{}
		return nil
	}
	*a = AttrsOf(m)
	return nil
}

// Equal reports whether u and v are the same user as read: equal fields,
// attributes compared by content (reflect.DeepEqual would also compare how
// they are kept).
func (u User) Equal(v User) bool {
	return u.ID == v.ID && u.ManagerID == v.ManagerID && u.MasteredIn == v.MasteredIn &&
		u.SessionsStale == v.SessionsStale && slices.Equal(u.Licenses, v.Licenses) && u.Attrs.Equal(v.Attrs)
}
