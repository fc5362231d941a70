package identity

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"iter"
	"maps"
	"math/bits"
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

// attrSet holds the values: those of the layout's names by slot, any
// other name in more.extra. The slots are open (more.vals, with more.set
// having bit i when slot i holds a value) or sealed: packed holds the
// presence bits (8 bytes), then the offsets of slots 0..n (n+1 uint16,
// from the start of packed), then the values, slot i's being
// packed[off[i]:off[i+1]]; all little-endian. A sealed set without other
// names is 32 bytes and one string.
type attrSet struct {
	layout *Layout
	packed string
	more   *attrMore
}

// attrMore is what a set holds besides sealed slots.
type attrMore struct {
	vals  []string
	set   uint64
	extra map[string]string
}

// packedHead is the size of packed's presence bits.
const packedHead = 8

// sealed reports whether the slots are packed.
func (s *attrSet) sealed() bool { return s.layout != nil && (s.more == nil || s.more.vals == nil) }

// bits returns the slots' presence bits.
func (s *attrSet) bits() uint64 {
	if !s.sealed() {
		if s.more == nil {
			return 0
		}
		return s.more.set
	}
	p := s.packed
	if len(p) < packedHead {
		return 0
	}
	return uint64(p[0]) | uint64(p[1])<<8 | uint64(p[2])<<16 | uint64(p[3])<<24 |
		uint64(p[4])<<32 | uint64(p[5])<<40 | uint64(p[6])<<48 | uint64(p[7])<<56
}

// at returns slot i's value.
func (s *attrSet) at(i int) string {
	if !s.sealed() {
		return s.more.vals[i]
	}
	if s.bits()&(1<<i) == 0 {
		return ""
	}
	p := s.packed
	o := packedHead + 2*i
	return p[int(p[o])|int(p[o+1])<<8 : int(p[o+2])|int(p[o+3])<<8]
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
	bits := s.bits()
	if s.more == nil {
		s.more = &attrMore{}
	}
	s.more.vals, s.more.set, s.packed = vals, bits, ""
}

// NewAttrs returns empty attributes that keep the names of l in its slots
// (and any other name aside). A nil l gives MakeAttrs(0).
func NewAttrs(l *Layout) Attrs {
	if l == nil {
		return MakeAttrs(0)
	}
	return Attrs{&attrSet{layout: l, more: &attrMore{vals: make([]string, len(l.names))}}}
}

// MakeAttrs returns empty attributes without a layout, with room for about
// n names.
func MakeAttrs(n int) Attrs {
	return Attrs{&attrSet{more: &attrMore{extra: make(map[string]string, n)}}}
}

// AttrsOf returns attributes holding m, which they then own (like a
// conversion of the map: later writes to either are seen by both).
func AttrsOf(m map[string]string) Attrs {
	if m == nil {
		m = map[string]string{}
	}
	return Attrs{&attrSet{more: &attrMore{extra: m}}}
}

// Seal packs the values of the layout's slots into one string, which
// neither holds pointers for the garbage collector to follow nor keeps
// alive whatever the values were cut from (a source line, a response
// body). Reads stay as fast; the next write unpacks them again. Attrs
// without a layout, or with more than 64 KiB of values, stay as they are.
func (a Attrs) Seal() {
	s := a.s
	if s == nil || s.layout == nil || s.sealed() {
		return
	}
	packed, ok := pack(s.more.vals, s.more.set)
	if !ok {
		return
	}
	s.packed = packed
	if s.more.extra == nil {
		s.more = nil
	} else {
		s.more.vals, s.more.set = nil, 0
	}
}

// PackAttrs returns sealed attributes of l holding vals slot by slot
// (vals[i] the value of l's i-th name, "" for none), as NewAttrs, Set and
// Seal would, in two allocations (the set and its packed string). vals
// must have a value for each of l's slots; PackAttrs keeps nothing of it,
// unless the values pass 64 KiB together: those stay open, as Seal leaves
// them.
func PackAttrs(l *Layout, vals []string) Attrs {
	if len(vals) != len(l.names) {
		panic("identity: PackAttrs with a value count other than the layout's")
	}
	var set uint64
	for i, v := range vals {
		if v != "" {
			set |= 1 << i
		}
	}
	if packed, ok := pack(vals, set); ok {
		return Attrs{&attrSet{layout: l, packed: packed}}
	}
	a := NewAttrs(l)
	for i, v := range vals {
		if v != "" {
			a.Set(l.names[i], v)
		}
	}
	return a
}

// PackNamed returns sealed attributes holding vals[j] for names[j], in l
// made by NewLayout(names): as PackAttrs when every name has a slot (no
// name repeats, 64 at most), else by Set and Seal, the names past the
// slots kept aside. It keeps nothing of vals but the values.
func PackNamed(l *Layout, names, vals []string) Attrs {
	if len(names) == len(l.names) {
		return PackAttrs(l, vals)
	}
	a := NewAttrs(l)
	for j, v := range vals {
		if v != "" {
			a.Set(names[j], v)
		}
	}
	a.Seal()
	return a
}

// pack lays out the sealed form of slot values vals with presence bits
// set (see attrSet); false when it would pass 64 KiB.
func pack(vals []string, set uint64) (string, bool) {
	n := len(vals)
	size := packedHead + 2*(n+1)
	for _, v := range vals {
		size += len(v)
	}
	if size > 1<<16-1 {
		return "", false
	}
	var b strings.Builder
	b.Grow(size)
	var head [packedHead]byte
	binary.LittleEndian.PutUint64(head[:], set)
	b.Write(head[:])
	off := packedHead + 2*(n+1)
	for i := 0; i <= n; i++ {
		b.WriteByte(byte(off))
		b.WriteByte(byte(off >> 8))
		if i < n {
			off += len(vals[i])
		}
	}
	for _, v := range vals {
		b.WriteString(v)
	}
	return b.String(), true
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
		return a.s.at(i), a.s.bits()&(1<<i) != 0
	}
	if a.s.more == nil {
		return "", false
	}
	v, ok := a.s.more.extra[name]
	return v, ok
}

// Field reads one attribute of many Attrs: it remembers the attribute's
// slot in the last Layout it met, so that reading it from Attrs that share
// a layout (the users of one read, the records of one mapping) hashes the
// name once, not once a read. It reads exactly what Attrs.Get does. A
// Field is not safe for concurrent use; give each goroutine its own.
type Field struct {
	name   string
	layout *Layout
	slot   int
}

// NewField returns a Field reading name.
func NewField(name string) Field { return Field{name: name, slot: -1} }

// Name returns the attribute's name.
func (f *Field) Name() string { return f.name }

// Get returns a.Get(f.Name()).
func (f *Field) Get(a Attrs) string {
	s := a.s
	if s == nil {
		return ""
	}
	if l := s.layout; l != nil {
		if l != f.layout {
			f.layout, f.slot = l, -1
			if i, ok := l.index[f.name]; ok {
				f.slot = i
			}
		}
		if f.slot >= 0 {
			return s.at(f.slot)
		}
	}
	if s.more == nil {
		return ""
	}
	return s.more.extra[f.name]
}

// Set sets name to v (present, even when v is "").
func (a Attrs) Set(name, v string) {
	if a.s == nil {
		panic("identity: Set on the zero Attrs")
	}
	if i := a.slot(name); i >= 0 {
		a.s.open()
		a.s.more.vals[i] = v
		a.s.more.set |= 1 << i
		return
	}
	if a.s.more == nil {
		a.s.more = &attrMore{}
	}
	if a.s.more.extra == nil {
		a.s.more.extra = map[string]string{}
	}
	a.s.more.extra[name] = v
}

// Delete removes name.
func (a Attrs) Delete(name string) {
	if a.s == nil {
		return
	}
	if i := a.slot(name); i >= 0 {
		if a.s.bits()&(1<<i) == 0 {
			return // not there: a sealed set stays sealed
		}
		a.s.open()
		a.s.more.vals[i] = ""
		a.s.more.set &^= 1 << i
		return
	}
	if a.s.more != nil {
		delete(a.s.more.extra, name)
	}
}

// Len returns how many names are present.
func (a Attrs) Len() int {
	if a.s == nil {
		return 0
	}
	n := bits.OnesCount64(a.s.bits())
	if a.s.more != nil {
		n += len(a.s.more.extra)
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
			set := a.s.bits()
			for i, n := range l.names {
				if set&(1<<i) != 0 && !yield(n, a.s.at(i)) {
					return
				}
			}
		}
		if a.s.more == nil {
			return
		}
		for k, v := range a.s.more.extra {
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
	c := &attrSet{layout: a.s.layout, packed: a.s.packed}
	if m := a.s.more; m != nil {
		c.more = &attrMore{set: m.set}
		if m.vals != nil {
			c.more.vals = append([]string(nil), m.vals...)
		}
		if len(m.extra) > 0 {
			c.more.extra = maps.Clone(m.extra)
		}
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
