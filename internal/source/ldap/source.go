package ldap

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/ldapconn"
	"github.com/hrsync/hrsync/internal/source"
)

// Warning codes of the LDAP source (source.Warning.Code).
const (
	// WarnReferenceOutside: a reference names an entry that is not among
	// the entries read (outside base_dn or the filter); the field is left
	// without that value.
	WarnReferenceOutside = "reference_outside_source"
	// WarnReferenceNoKey: a reference names an entry that was read but has
	// no value (or several) of the key attribute.
	WarnReferenceNoKey = "reference_without_key"
)

// Options are the runtime dependencies of a Source.
type Options struct {
	// Log receives the read's statistics (debug); nil discards.
	Log *slog.Logger
}

// Source reads people from an LDAP directory. It may be read more than
// once, but not from several goroutines at a time.
type Source struct {
	c       Config
	log     *slog.Logger
	display string // ldap://host:port/base, for provenance and messages
	header  *identity.Header

	fields  map[string]int // lower-case attribute -> header index ("dn" excluded)
	dnField int            // header index of "dn", -1 if none
	keys    []string       // lower-case key attributes the references use
	keyIdx  map[string]int // lower-case key attribute -> index in keys
	refs    []ref          // the reference fields
	request []string       // the attributes asked for

	progress func(n int)

	// rangeStep, when set (tests), asks for each of these attributes in
	// parts of that many values, as Active Directory sends a large
	// member attribute unasked (member;range=0-1499).
	rangeStep map[string]int
	// pages is the number of pages the last read took.
	pages int
}

// ref is a reference field: header index and the key it is resolved by.
type ref struct {
	field int
	key   int // index in Source.keys
	attr  string
}

// New checks c and returns a Source. It connects to nothing.
func New(c Config, opts Options) (*Source, error) {
	if c.URL == "" || c.BaseDN == "" || len(c.Attributes) == 0 {
		return nil, errors.New("ldap source: incomplete configuration (use Parse to build it)")
	}
	if c.PageSize <= 0 {
		c.PageSize = DefaultPageSize
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Filter == "" {
		c.Filter = "(objectClass=*)"
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Source{c: c, log: log, fields: map[string]int{}, dnField: -1, keyIdx: map[string]int{}}
	s.display = displayURL(c.URL, c.BaseDN)
	s.header = identity.NewHeader(slices.Clone(c.Attributes))
	seen := map[string]bool{}
	for i, a := range c.Attributes {
		lower := strings.ToLower(a)
		if lower == "dn" {
			s.dnField = i
			continue
		}
		s.fields[lower] = i
		if !seen[lower] {
			seen[lower] = true
			s.request = append(s.request, a)
		}
	}
	for _, r := range c.References {
		field, ok := s.fields[strings.ToLower(r.Attr)]
		if !ok {
			return nil, fmt.Errorf("ldap source: reference %s is not among the attributes", r.Attr)
		}
		key := strings.ToLower(r.Key)
		k, ok := s.keyIdx[key]
		if !ok {
			k = len(s.keys)
			s.keyIdx[key] = k
			s.keys = append(s.keys, key)
			if !seen[key] {
				seen[key] = true
				s.request = append(s.request, r.Key)
			}
		}
		s.refs = append(s.refs, ref{field: field, key: k, attr: r.Attr})
	}
	return s, nil
}

// displayURL is the URL without user information, with the base as its
// path: "ldaps://dc1.contoso.com:636/OU=Staff,DC=contoso,DC=com".
func displayURL(raw, base string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw + "/" + base
	}
	return strings.ToLower(u.Scheme) + "://" + u.Host + "/" + base
}

// String names the source: "ldap ldaps://host:636/ou=people,dc=example,dc=org".
func (s *Source) String() string { return "ldap " + s.display }

// Display is the directory's URL and search base, as provenance shows it.
func (s *Source) Display() string { return s.display }

// SetProgress implements source.Progress: f is called with the number of
// entries read so far while they arrive (records are emitted only once the
// read is complete, after references are resolved).
func (s *Source) SetProgress(f func(n int)) { s.progress = f }

var _ source.Progress = (*Source)(nil)

// fail wraps an error of the directory: the URL and base, what happened,
// and what to do.
func (s *Source) fail(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	hint := ""
	switch {
	case goldap.IsErrorWithCode(errors.Unwrap(err), goldap.LDAPResultSizeLimitExceeded) || strings.Contains(err.Error(), "Size Limit Exceeded"):
		who := "the bind account"
		if s.c.BindDN == "" {
			who = "anonymous clients"
		}
		hint = fmt.Sprintf("nothing was planned from it; let %s read every entry: OpenLDAP's default size limit (500 entries) bounds a paged search as a whole, so add e.g. limits dn.exact=%q size.prtotal=unlimited size.soft=unlimited size.hard=unlimited (slapd.conf or olcLimits)", who, s.c.BindDN)
		if s.c.BindDN == "" {
			hint = "nothing was planned from it; let anonymous clients read every entry (limits anonymous size.prtotal=unlimited ...), or bind as an account that may"
		}
	case errors.Is(err, ldapconn.ErrPartial):
		hint = "nothing was planned from it"
	}
	return &source.Error{Prov: identity.Provenance{File: s.display}, Msg: err.Error(), Hint: hint, Err: err}
}

// reader holds one read's state.
type reader struct {
	s       *Source
	ctx     context.Context
	conn    *ldapconn.Conn
	recs    []*identity.Record
	digests [][sha256.Size]byte
	h       hash.Hash
	buf     []byte // an entry's bytes for its digest
	// index maps, per key attribute, an entry's canonical DN to its key.
	index []map[string]keyValue
	// pending are the attributes sent in parts, to read to the end.
	pending  []pendingRange
	warnings []source.Warning
	// present says which fields some entry had.
	present []bool
}

// keyValue is an entry's key attribute: its value, when it has exactly
// one, and how many it has.
type keyValue struct {
	v string
	n int
}

// pendingRange is an attribute of which the server sent only the first
// values (member;range=0-1499): the rest is read from next on.
type pendingRange struct {
	rec   int // index in recs
	dn    string
	attr  string // as asked, without options
	field int    // header index, or -1
	key   int    // index in keys, or -1
	next  int
}

// Read searches the directory and emits one record per entry, in the
// order the directory sent them, once every entry is read and the
// references resolved. Any failure — the connection, TLS, the bind, the
// base, a size or time limit, a paging error, a referral, an attribute
// sent in parts that cannot be read to the end — fails the whole read
// before anything is emitted.
func (s *Source) Read(ctx context.Context, emit func(*identity.Record) error) (source.Summary, error) {
	sum := source.Summary{Header: slices.Clone(s.c.Attributes)}
	start := time.Now()
	conn, err := ldapconn.Dial(ctx, ldapconn.Config{
		URL: s.c.URL, Plain: !s.c.StartTLS, CAFile: s.c.CAFile, BindDN: s.c.BindDN,
		Password: s.c.Password.Reveal(), Timeout: s.c.Timeout,
	})
	if err != nil {
		return sum, s.fail(err)
	}
	defer conn.Close()
	r := &reader{s: s, ctx: ctx, conn: conn, h: sha256.New(), index: make([]map[string]keyValue, len(s.keys)),
		present: make([]bool, len(s.c.Attributes))}
	for i := range r.index {
		r.index[i] = map[string]keyValue{}
	}
	attrs := s.request
	if len(s.rangeStep) > 0 {
		attrs = make([]string, len(s.request))
		for i, a := range s.request {
			attrs[i] = a
			if n := s.rangeStep[strings.ToLower(a)]; n > 0 {
				attrs[i] = fmt.Sprintf("%s;range=0-%d", a, n-1)
			}
		}
	}
	if len(attrs) == 0 {
		attrs = []string{"1.1"} // only "dn": no attributes (RFC 4511)
	}
	pages, err := conn.Search(ctx, ldapconn.Search{Base: s.c.BaseDN, Filter: s.c.Filter, Attrs: attrs, PageSize: uint32(s.c.PageSize)}, r.entry)
	s.pages = pages
	if err != nil {
		return sum, s.fail(err)
	}
	if s.progress != nil {
		s.progress(len(r.recs))
	}
	for _, p := range r.pending {
		if err := r.readRest(p); err != nil {
			return sum, s.fail(err)
		}
	}
	r.resolve()
	if len(r.recs) > 0 {
		for i, a := range s.c.Attributes {
			if !r.present[i] && i != s.dnField {
				// Not an error: nobody may have it (yet). But a misspelt
				// attribute looks exactly like this.
				s.log.Warn("no entry read has this attribute: is its name right, and may the bind account read it?",
					"source", s.display, "attribute", a, "entries", len(r.recs))
			}
		}
	}
	sum.Digest = r.digest()
	sum.Warnings = r.warnings
	s.log.Debug("ldap source read", "source", s.display, "entries", len(r.recs), "pages", pages,
		"ranged", len(r.pending), "warnings", len(r.warnings), "elapsed", time.Since(start).Round(time.Millisecond))
	for i, rec := range r.recs {
		r.recs[i] = nil // emitted records are the caller's; let them go
		if err := emit(rec); err != nil {
			return sum, err
		}
		sum.Records++
	}
	return sum, nil
}

// entry turns one search result entry into a record.
func (r *reader) entry(e *goldap.Entry) error {
	s := r.s
	n := len(s.c.Attributes)
	rec := &identity.Record{Header: s.header, Values: make([]string, n), Prov: identity.Provenance{File: s.display, DN: e.DN}}
	if s.dnField >= 0 {
		rec.Values[s.dnField] = e.DN
	}
	var canon string
	if len(s.keys) > 0 {
		canon = canonicalDN(e.DN)
	}
	keys := make([]int, len(s.keys)) // values of each key attribute seen
	keyVal := make([]string, len(s.keys))

	seen := make([]attrVals, 0, len(e.Attributes))
	for _, a := range e.Attributes {
		name, rng, ranged, bad := splitRange(a.Name)
		if bad {
			return fmt.Errorf("entry %s: the server sent the attribute %q, whose range cannot be read: %w", e.DN, a.Name, ldapconn.ErrPartial)
		}
		lower := strings.ToLower(name)
		binaryOpt := false
		field, isField := s.fields[lower]
		key, isKey := s.keyIdx[lower]
		if !isField && !isKey {
			if b := baseName(lower); b != lower && lower == b+";binary" {
				field, isField = s.fields[b]
				key, isKey = s.keyIdx[b]
				binaryOpt, lower = true, b
			}
		}
		if !isField && !isKey {
			continue // not asked for (a subtype the server added)
		}
		vals := textValues(baseName(lower), binaryOpt, a)
		seen = append(seen, attrVals{lower, vals})
		if isField {
			if cur := fieldValues(rec, field); len(cur) > 0 {
				vals = append(slices.Clip(cur), vals...) // the same attribute twice (x and x;binary)
			}
			setField(rec, field, vals)
			r.present[field] = r.present[field] || len(vals) > 0
		}
		if isKey {
			keys[key] += len(vals)
			if len(vals) > 0 {
				keyVal[key] = vals[0]
			}
		}
		if ranged && rng.high >= 0 {
			r.pendRange(e.DN, baseName(name), rng.high+1, field, isField, key, isKey)
		}
	}
	for k := range s.keys {
		r.index[k][canon] = keyValue{v: keyVal[k], n: keys[k]}
	}
	r.digests = append(r.digests, r.entryDigest(e.DN, seen))
	r.recs = append(r.recs, rec)
	if s.progress != nil && len(r.recs)%500 == 0 {
		s.progress(len(r.recs))
	}
	return nil
}

// attrVals are the values an entry gave for one attribute it was asked.
type attrVals struct {
	name string
	vals []string
}

// pendRange notes that the record being read has more values of attr
// than the server sent, from index next on, for a ranged read once the
// search ends; field and key are the record's field and key attribute it
// fills, when it is one (isField, isKey).
func (r *reader) pendRange(dn, attr string, next, field int, isField bool, key int, isKey bool) {
	p := pendingRange{rec: len(r.recs), dn: dn, attr: attr, field: -1, key: -1, next: next}
	if isField {
		p.field = field
	}
	if isKey {
		p.key = key
	}
	r.pending = append(r.pending, p)
}

// entryDigest is an entry's digest: its DN, then its attributes seen (sorted
// here) in name order, each with its values.
func (r *reader) entryDigest(dn string, seen []attrVals) [sha256.Size]byte {
	slices.SortFunc(seen, func(a, b attrVals) int { return strings.Compare(a.name, b.name) })
	b := appendString(r.buf[:0], dn)
	for _, a := range seen {
		b = appendString(b, a.name)
		b = binary.BigEndian.AppendUint64(b, uint64(len(a.vals)))
		for _, v := range a.vals {
			b = appendString(b, v)
		}
	}
	r.buf = b
	return sha256.Sum256(b)
}

// fieldValues returns the values of field i so far.
func fieldValues(rec *identity.Record, i int) []string {
	if rec.Lists != nil && len(rec.Lists[i]) > 1 {
		return rec.Lists[i]
	}
	if rec.Values[i] == "" {
		return nil
	}
	return []string{rec.Values[i]}
}

// setField stores the values of field i: one in Values; several in Lists,
// joined with "," in Values.
func setField(rec *identity.Record, i int, vals []string) {
	switch len(vals) {
	case 0:
		rec.Values[i] = ""
		if rec.Lists != nil {
			rec.Lists[i] = nil
		}
	case 1:
		rec.Values[i] = vals[0]
		if rec.Lists != nil {
			rec.Lists[i] = nil
		}
	default:
		if rec.Lists == nil {
			rec.Lists = make([][]string, len(rec.Values))
		}
		rec.Lists[i] = vals
		rec.Values[i] = strings.Join(vals, ",")
	}
}

// maxRangeParts bounds the requests for one attribute sent in parts: 1,500
// values a part (Active Directory's default) times this is far beyond any
// group.
const maxRangeParts = 100000

// readRest reads the values of an attribute the server sent in parts, to
// the end: base searches for attr;range=next-*, until a part ends in *. A
// part that does not start where asked, or an entry that went away, fails
// the read.
func (r *reader) readRest(p pendingRange) error {
	var vals []string
	low := p.next
	for part := 0; ; part++ {
		if part >= maxRangeParts {
			return fmt.Errorf("entry %s: %s: more than %d parts: %w", p.dn, p.attr, maxRangeParts, ldapconn.ErrPartial)
		}
		want := fmt.Sprintf("%s;range=%d-*", p.attr, low)
		var got []string
		var gotRange attrRange
		found := false
		_, err := r.conn.Search(r.ctx, ldapconn.Search{Base: p.dn, BaseObject: true, Attrs: []string{want}}, func(e *goldap.Entry) error {
			for _, a := range e.Attributes {
				name, rng, ranged, bad := splitRange(a.Name)
				if !strings.EqualFold(baseName(name), p.attr) {
					continue
				}
				if !ranged || bad {
					return fmt.Errorf("entry %s: asked for %s, the server sent %s: %w", p.dn, want, a.Name, ldapconn.ErrPartial)
				}
				found, gotRange = true, rng
				got = append(got, textValues(strings.ToLower(baseName(name)), strings.Contains(strings.ToLower(name), ";binary"), a)...)
			}
			return nil
		})
		if err != nil {
			if goldap.IsErrorWithCode(errors.Unwrap(err), goldap.LDAPResultNoSuchObject) || strings.Contains(err.Error(), "No Such Object") {
				return fmt.Errorf("entry %s went away while the rest of its %s values were read: %w", p.dn, p.attr, ldapconn.ErrPartial)
			}
			return fmt.Errorf("entry %s: reading %s: %w", p.dn, want, err)
		}
		if !found {
			// The part before did not end in *, so there are more values:
			// they went away meanwhile, or the server will not send them.
			return fmt.Errorf("entry %s: asked for %s, the server sent none of it: %w", p.dn, want, ldapconn.ErrPartial)
		}
		if gotRange.low != low {
			return fmt.Errorf("entry %s: asked for %s from value %d, the server sent from %d: %w", p.dn, p.attr, low, gotRange.low, ldapconn.ErrPartial)
		}
		vals = append(vals, got...)
		if gotRange.high < 0 {
			break
		}
		low = gotRange.high + 1
	}
	rec := r.recs[p.rec]
	if p.field >= 0 {
		setField(rec, p.field, append(slices.Clone(fieldValues(rec, p.field)), vals...))
	}
	if p.key >= 0 {
		canon := canonicalDN(p.dn)
		kv := r.index[p.key][canon]
		kv.n += len(vals)
		r.index[p.key][canon] = kv
	}
	// The rest of the values count in the digest too.
	r.h.Reset()
	writeString(r.h, p.dn)
	writeString(r.h, strings.ToLower(p.attr)+";rest")
	writeInt(r.h, len(vals))
	for _, v := range vals {
		writeString(r.h, v)
	}
	var sum [sha256.Size]byte
	r.h.Sum(sum[:0])
	r.digests = append(r.digests, sum)
	return nil
}

// maxListed bounds the DNs a warning names.
const maxListed = 3

// resolve replaces the DNs of every reference field by the key of the
// entry each names. A DN outside the entries read, or naming an entry
// without exactly one key value, gives no value and a warning.
func (r *reader) resolve() {
	s := r.s
	for _, rec := range r.recs {
		for _, rf := range s.refs {
			dns := fieldValues(rec, rf.field)
			if len(dns) == 0 {
				continue
			}
			keys := make([]string, 0, len(dns))
			var outside, keyless []string
			for _, dn := range dns {
				kv, ok := r.index[rf.key][canonicalDN(dn)]
				switch {
				case !ok:
					outside = append(outside, dn)
				case kv.n != 1:
					keyless = append(keyless, fmt.Sprintf("%s (%d values of %s)", dn, kv.n, s.keys[rf.key]))
				default:
					keys = append(keys, kv.v)
				}
			}
			setField(rec, rf.field, keys)
			if len(outside) > 0 {
				r.warn(rec, rf, WarnReferenceOutside, outside, len(dns), fmt.Sprintf("not among the entries read (below %s matching %s)", s.c.BaseDN, s.c.Filter))
			}
			if len(keyless) > 0 {
				r.warn(rec, rf, WarnReferenceNoKey, keyless, len(dns), fmt.Sprintf("without exactly one %s", s.keys[rf.key]))
			}
		}
	}
}

func (r *reader) warn(rec *identity.Record, rf ref, code string, dns []string, total int, why string) {
	listed := dns
	more := ""
	if len(listed) > maxListed {
		listed, more = listed[:maxListed], fmt.Sprintf(" and %d more", len(dns)-maxListed)
	}
	var msg string
	if total == 1 {
		msg = fmt.Sprintf("%s is %s; %s is left empty", listed[0], why, rf.attr)
	} else {
		msg = fmt.Sprintf("%d of its %d values (%s%s) are %s; %s holds the other %d", len(dns), total, strings.Join(listed, "; "), more, why, rf.attr, total-len(dns))
	}
	r.warnings = append(r.warnings, source.Warning{Code: code, Prov: rec.Prov, Field: rf.attr, Msg: msg})
}

// digest combines the entries' digests in an order of their own, so the
// same directory gives the same digest whatever order it sends them in.
func (r *reader) digest() string {
	slices.SortFunc(r.digests, func(a, b [sha256.Size]byte) int { return bytes.Compare(a[:], b[:]) })
	h := sha256.New()
	writeString(h, "hrsync ldap source 1")
	for _, a := range r.s.c.Attributes {
		writeString(h, strings.ToLower(a))
	}
	for _, rf := range r.s.refs {
		writeString(h, strings.ToLower(rf.attr)+"->"+r.s.keys[rf.key])
	}
	writeInt(h, len(r.digests))
	for _, d := range r.digests {
		h.Write(d[:])
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// textValues are the values of attribute a (lower case, without options)
// as text (see textValue). Text values are taken as go-ldap decoded them.
func textValues(attr string, binaryOpt bool, a *goldap.EntryAttribute) []string {
	if !binaryOpt && !guidAttributes[attr] && !sidAttributes[attr] && !binaryAttributes[attr] && len(a.Values) == len(a.ByteValues) {
		text := true
		for _, raw := range a.ByteValues {
			if !isText(raw) {
				text = false
				break
			}
		}
		if text {
			return a.Values
		}
	}
	vals := make([]string, len(a.ByteValues))
	for i, raw := range a.ByteValues {
		str := ""
		if i < len(a.Values) {
			str = a.Values[i]
		}
		vals[i] = textValue(attr, binaryOpt, raw, str)
	}
	return vals
}

// appendString appends s with its length before it.
func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(len(s)))
	return append(b, s...)
}

func writeInt(h hash.Hash, n int) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(n))
	h.Write(b[:])
}

func writeString(h hash.Hash, s string) {
	writeInt(h, len(s))
	h.Write([]byte(s))
}
