package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ---- values ----

// scalarString renders a JSON scalar as a record value: strings as they
// are (OData dates converted when odata is set), numbers exactly as the
// API wrote them (normalised, never through float64), booleans as
// "true"/"false", null as "". ok is false for objects and arrays.
func scalarString(v any, odata bool) (s string, ok bool) {
	switch x := v.(type) {
	case nil:
		return "", true
	case string:
		if odata {
			if d, ok := odataDate(x); ok {
				return d, true
			}
		}
		return x, true
	case json.Number:
		return formatNumber(string(x)), true
	case bool:
		if x {
			return "true", true
		}
		return "false", true
	case float64: // from decoders without UseNumber (tests, fuzzing)
		return strconv.FormatFloat(x, 'f', -1, 64), true
	}
	return "", false
}

// maxExponent bounds the exponents formatNumber expands: 1e1000000 must
// not become a megabyte of zeros.
const maxExponent = 400

// formatNumber normalises a JSON number literal without float rounding:
// integers stay as written (large IDs stay exact), 1234.0 becomes 1234,
// 1.50 becomes 1.5 and 1.5e3 becomes 1500. Literals with huge exponents,
// or that are not JSON numbers, are returned unchanged.
func formatNumber(lit string) string {
	if isPlainInt(lit) {
		return lit
	}
	s := lit
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	mant, exp := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.Atoi(strings.TrimPrefix(s[i+1:], "+"))
		if err != nil || e > maxExponent || e < -maxExponent {
			return lit
		}
		mant, exp = s[:i], e
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	if intPart == "" || !allDigits(intPart) || !allDigits(frac) || (strings.Contains(mant, ".") && frac == "") {
		return lit
	}
	digits := intPart + frac
	point := len(intPart) + exp // position of the decimal point in digits
	var whole, fraction string
	switch {
	case point <= 0:
		whole, fraction = "0", strings.Repeat("0", -point)+digits
	case point >= len(digits):
		whole = digits + strings.Repeat("0", point-len(digits))
	default:
		whole, fraction = digits[:point], digits[point:]
	}
	whole = strings.TrimLeft(whole, "0")
	if whole == "" {
		whole = "0"
	}
	fraction = strings.TrimRight(fraction, "0")
	out := whole
	if fraction != "" {
		out += "." + fraction
	}
	if neg && out != "0" {
		out = "-" + out
	}
	return out
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isPlainInt(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" || (len(s) > 1 && s[0] == '0') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// odataRE matches OData v2 JSON dates: /Date(1704067200000)/ for
// Edm.DateTime and /Date(1704067200000+0060)/ for Edm.DateTimeOffset
// (milliseconds since 1970 UTC, then an offset in minutes).
var odataRE = regexp.MustCompile(`^/Date\((-?\d{1,15})([+-]\d{1,4})?\)/$`)

// odataDate converts an OData v2 date to YYYY-MM-DD when it is midnight UTC
// without an offset (SuccessFactors sends dates that way), else to RFC 3339
// (in the offset given, if any).
func odataDate(s string) (string, bool) {
	if !strings.HasPrefix(s, "/Date(") {
		return "", false
	}
	m := odataRE.FindStringSubmatch(s)
	if m == nil {
		return "", false
	}
	ms, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return "", false
	}
	t := time.UnixMilli(ms).UTC()
	if m[2] != "" {
		off, err := strconv.Atoi(m[2])
		if err != nil || off < -1440 || off > 1440 {
			return "", false
		}
		return t.In(time.FixedZone("", off*60)).Format(time.RFC3339Nano), true
	}
	if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0 {
		return t.Format("2006-01-02"), true
	}
	return t.Format(time.RFC3339Nano), true
}

// ---- paths ----

// outcome says how far a path got into a record.
type outcome uint8

const (
	// reached: the path led to a value (which may be null).
	reached outcome = iota
	// ended: the path ran into a null, or past the end of a list, on the
	// way: the record simply has no value there.
	ended
	// missing: an object on the way lacks the key, or a value on the way
	// is text where the path expects an object. A path missing from every
	// record of the first page is a typo.
	missing
)

// resolve follows a dotted path into v. Segments are object keys (matched
// exactly, then without regard to case; a key may itself contain dots, as
// "@odata.nextLink" does) or 0-based list indexes. Varying cardinality is
// absorbed: a key applied to a list applies to its first element, and index
// 0 applied to a single object or value is that value itself.
func resolve(v any, path string) (any, outcome) {
	budget := resolveBudget
	return resolveIn(v, path, &budget)
}

// resolveBudget bounds the work of one resolve: trying keys that differ
// only in case, and keys with dots, backtracks, which must not blow up on
// a hostile body.
const resolveBudget = 4096

func resolveIn(v any, path string, budget *int) (any, outcome) {
	if path == "" {
		return v, reached
	}
	if *budget--; *budget < 0 {
		return nil, missing
	}
	switch x := v.(type) {
	case nil:
		return nil, ended
	case map[string]any:
		// keys as written, shortest first
		for i := 0; i <= len(path); i++ {
			if i < len(path) && path[i] != '.' {
				continue
			}
			if val, ok := x[path[:i]]; ok {
				if r, o := resolveIn(val, rest(path, i), budget); o != missing {
					return r, o
				}
			}
		}
		// then without regard to case, in a stable order
		for i := 0; i <= len(path); i++ {
			if i < len(path) && path[i] != '.' {
				continue
			}
			var near []string
			for k := range x {
				if len(k) == i && k != path[:i] && strings.EqualFold(k, path[:i]) {
					near = append(near, k)
				}
			}
			sort.Strings(near)
			for _, k := range near {
				if r, o := resolveIn(x[k], rest(path, i), budget); o != missing {
					return r, o
				}
			}
		}
		if idx, tail, ok := index(path); ok {
			// a single object where the path expects a list of them
			if idx == 0 {
				return resolveIn(x, tail, budget)
			}
			return nil, ended
		}
		return nil, missing
	case []any:
		if idx, tail, ok := index(path); ok {
			if idx < len(x) {
				return resolveIn(x[idx], tail, budget)
			}
			return nil, ended
		}
		if len(x) == 0 {
			return nil, ended
		}
		return resolveIn(x[0], path, budget)
	default:
		if idx, tail, ok := index(path); ok {
			if idx == 0 {
				return resolveIn(x, tail, budget)
			}
			return nil, ended
		}
		return nil, missing
	}
}

func rest(path string, i int) string {
	if i >= len(path) {
		return ""
	}
	return path[i+1:]
}

// index reads a leading list index segment.
func index(path string) (idx int, tail string, ok bool) {
	seg, tail, _ := strings.Cut(path, ".")
	if seg == "" || len(seg) > 9 {
		return 0, "", false
	}
	for i := 0; i < len(seg); i++ {
		if seg[i] < '0' || seg[i] > '9' {
			return 0, "", false
		}
	}
	n, _ := strconv.Atoi(seg)
	return n, tail, true
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// errObject is returned by leafString for a path that ends at an object
// that is not a reference.
type errObject struct{ keys []string }

func (e *errObject) Error() string {
	return fmt.Sprintf("the path leads to an object (keys: %s), not a value", strings.Join(e.keys, ", "))
}

// leafString turns the value a path reached into a record value. A list
// gives its first element ("" when empty); an object gives its Descriptor
// (Workday's reference objects {"Descriptor": ..., "ID": ...}), and any
// other object is an error: the path must go on to one of its keys.
func leafString(v any, odata bool) (string, error) {
	for range 64 {
		if s, ok := scalarString(v, odata); ok {
			return s, nil
		}
		switch x := v.(type) {
		case []any:
			if len(x) == 0 {
				return "", nil
			}
			v = x[0]
		case map[string]any:
			d, ok := descriptor(x)
			if !ok {
				return "", &errObject{keys: sortedKeys(x)}
			}
			v = d
		default:
			return "", fmt.Errorf("unsupported JSON value %T", v)
		}
	}
	return "", errors.New("the value is nested too deeply")
}

// descriptor returns the Descriptor of a Workday reference object.
func descriptor(m map[string]any) (any, bool) {
	if v, ok := m["Descriptor"]; ok {
		return v, true
	}
	for _, k := range sortedKeys(m) {
		if strings.EqualFold(k, "Descriptor") {
			return m[k], true
		}
	}
	return nil, false
}

// ---- flattening (no fields configured) ----

// skipKey reports keys left out of automatic columns: OData v2's
// per-entity metadata and unexpanded navigation links.
func skipKey(k string) bool { return k == "__metadata" || k == "__deferred" }

// flatten appends every scalar leaf of v, named by its dotted path (list
// elements by their 0-based index), in document order. Empty objects and
// lists give nothing; null gives an empty value.
func flatten(v any, prefix string, odata bool, out []pair) []pair {
	return flattenDepth(v, prefix, odata, out, 0)
}

type pair struct{ name, value string }

// maxDepth bounds flattening and decoding recursion.
const maxDepth = 128

func flattenDepth(v any, prefix string, odata bool, out []pair, depth int) []pair {
	if depth > maxDepth {
		return out
	}
	join := func(k string) string {
		if prefix == "" {
			return k
		}
		return prefix + "." + k
	}
	switch x := v.(type) {
	case orderedObject:
		for _, kv := range x {
			if skipKey(kv.key) {
				continue
			}
			out = flattenDepth(kv.val, join(kv.key), odata, out, depth+1)
		}
	case map[string]any:
		for _, k := range sortedKeys(x) {
			if skipKey(k) {
				continue
			}
			out = flattenDepth(x[k], join(k), odata, out, depth+1)
		}
	case []any:
		for i, e := range x {
			out = flattenDepth(e, join(strconv.Itoa(i)), odata, out, depth+1)
		}
	default:
		s, _ := scalarString(x, odata)
		out = append(out, pair{prefix, s})
	}
	return out
}

// orderedObject is an object decoded with its key order, for automatic
// columns in the order the API writes them.
type orderedObject []keyVal

type keyVal struct {
	key string
	val any
}

// ---- decoding a page ----

// pageSpec says what to pick out of a response body.
type pageSpec struct {
	records string   // dotted path to the list of records; "" = the body itself
	scalars []string // paths of single values wanted (next link, cursor, total)
	ordered bool     // decode records as orderedObject (automatic columns)
}

// pageInfo is what decodePage found besides the records.
type pageInfo struct {
	found   bool           // the records path was present
	values  map[string]any // the scalars found, by path
	topKeys []string       // the body's top-level keys, for error hints
}

// errJSON marks a body that is not valid JSON.
type errJSON struct{ err error }

func (e *errJSON) Error() string { return e.err.Error() }
func (e *errJSON) Unwrap() error { return e.err }

// errShape marks valid JSON of an unexpected shape.
type errShape struct{ msg string }

func (e *errShape) Error() string { return e.msg }

// decodePage streams body, calling onRecord for each element of the list
// at spec.records (or for the object there, as a single record) and
// collecting the scalar values wanted. Only records are held one at a time;
// everything else is skipped without being built.
func decodePage(body []byte, spec pageSpec, onRecord func(any) error) (pageInfo, error) {
	body = bytes.TrimPrefix(body, []byte("\xEF\xBB\xBF"))
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	w := &walker{dec: dec, spec: spec, onRecord: onRecord, info: pageInfo{values: map[string]any{}}}
	if err := w.value("", 0); err != nil {
		return w.info, err
	}
	if _, err := dec.Token(); err != io.EOF {
		if err == nil {
			err = errors.New("more data after the JSON value")
		}
		return w.info, &errJSON{err}
	}
	return w.info, nil
}

type walker struct {
	dec      *json.Decoder
	spec     pageSpec
	onRecord func(any) error
	info     pageInfo
}

// wants reports whether path is, or leads to, a wanted path.
func (w *walker) wants(path string) (exact, prefix bool) {
	check := func(p string) {
		switch {
		case strings.EqualFold(p, path):
			exact = true
		case path == "" || (len(p) > len(path) && p[len(path)] == '.' && strings.EqualFold(p[:len(path)], path)):
			prefix = true
		}
	}
	check(w.spec.records)
	for _, s := range w.spec.scalars {
		if s != "" {
			check(s)
		}
	}
	return exact, prefix
}

func (w *walker) isRecords(path string) bool { return strings.EqualFold(path, w.spec.records) }

func (w *walker) value(path string, depth int) error {
	if depth > maxDepth {
		return &errShape{"the response is nested too deeply"}
	}
	if w.isRecords(path) {
		w.info.found = true
		return w.records()
	}
	exact, prefix := w.wants(path)
	if exact {
		v, err := w.decodeValue(false)
		if err != nil {
			return err
		}
		for _, s := range w.spec.scalars {
			if strings.EqualFold(s, path) {
				w.info.values[s] = v
			}
		}
		return nil
	}
	if !prefix {
		return w.skip()
	}
	tok, err := w.dec.Token()
	if err != nil {
		return &errJSON{err}
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil // a scalar where an object was hoped for: nothing here
	}
	switch d {
	case '{':
		for w.dec.More() {
			kt, err := w.dec.Token()
			if err != nil {
				return &errJSON{err}
			}
			k, _ := kt.(string)
			if depth == 0 && len(w.info.topKeys) < 20 {
				w.info.topKeys = append(w.info.topKeys, k)
			}
			child := k
			if path != "" {
				child = path + "." + k
			}
			if err := w.value(child, depth+1); err != nil {
				return err
			}
		}
	case '[':
		for w.dec.More() {
			if err := w.skip(); err != nil {
				return err
			}
		}
	}
	if _, err := w.dec.Token(); err != nil { // the closing delimiter
		return &errJSON{err}
	}
	return nil
}

// records handles the value at the records path: a list of records, a
// single object (one record), or null (none).
func (w *walker) records() error {
	tok, err := w.dec.Token()
	if err != nil {
		return &errJSON{err}
	}
	switch t := tok.(type) {
	case nil:
		return nil
	case json.Delim:
		switch t {
		case '[':
			for w.dec.More() {
				v, err := w.decodeValue(w.spec.ordered)
				if err != nil {
					return err
				}
				if err := w.onRecord(v); err != nil {
					return err
				}
			}
			if _, err := w.dec.Token(); err != nil {
				return &errJSON{err}
			}
			return nil
		case '{':
			v, err := w.objectBody(w.spec.ordered, 1)
			if err != nil {
				return err
			}
			if w.spec.records == "" {
				var keys []string
				switch o := v.(type) {
				case orderedObject:
					for _, kv := range o {
						keys = append(keys, kv.key)
					}
				case map[string]any:
					keys = sortedKeys(o)
				}
				if len(keys) > 20 {
					keys = append(keys[:20], "…")
				}
				return &errShape{fmt.Sprintf("the body is an object (keys: %s), not a list: set source.rest.records to the path of the list of records", strings.Join(keys, ", "))}
			}
			return w.onRecord(v)
		}
	}
	return &errShape{fmt.Sprintf("the records are %s, not a list of objects", describe(tok))}
}

func describe(tok json.Token) string {
	switch t := tok.(type) {
	case string:
		return "text"
	case json.Number, float64:
		return "a number"
	case bool:
		return "a boolean"
	case json.Delim:
		if t == '[' {
			return "a list"
		}
		return "an object"
	}
	return "null"
}

// decodeValue decodes the next value whole; objects become orderedObject
// when ordered is set.
func (w *walker) decodeValue(ordered bool) (any, error) {
	if !ordered {
		var v any
		if err := w.dec.Decode(&v); err != nil {
			return nil, &errJSON{err}
		}
		return v, nil
	}
	return w.orderedValue(0)
}

func (w *walker) orderedValue(depth int) (any, error) {
	if depth > maxDepth {
		return nil, &errShape{"a record is nested too deeply"}
	}
	tok, err := w.dec.Token()
	if err != nil {
		return nil, &errJSON{err}
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return tok, nil
	}
	switch d {
	case '{':
		return w.objectBody(true, depth+1)
	case '[':
		list := []any{}
		for w.dec.More() {
			v, err := w.orderedValue(depth + 1)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		if _, err := w.dec.Token(); err != nil {
			return nil, &errJSON{err}
		}
		return list, nil
	}
	return nil, &errJSON{fmt.Errorf("unexpected %v", d)}
}

// objectBody reads an object's members after its "{" and the closing "}".
func (w *walker) objectBody(ordered bool, depth int) (any, error) {
	var oo orderedObject
	m := map[string]any{}
	for w.dec.More() {
		kt, err := w.dec.Token()
		if err != nil {
			return nil, &errJSON{err}
		}
		k, _ := kt.(string)
		var v any
		if ordered {
			v, err = w.orderedValue(depth)
		} else {
			err = w.dec.Decode(&v)
			if err != nil {
				err = &errJSON{err}
			}
		}
		if err != nil {
			return nil, err
		}
		if ordered {
			oo = append(oo, keyVal{k, v})
		} else {
			m[k] = v
		}
	}
	if _, err := w.dec.Token(); err != nil {
		return nil, &errJSON{err}
	}
	if ordered {
		return oo, nil
	}
	return m, nil
}

// skip consumes the next value without building it.
func (w *walker) skip() error {
	depth := 0
	for {
		tok, err := w.dec.Token()
		if err != nil {
			return &errJSON{err}
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				depth++
			default:
				depth--
			}
		}
		if depth == 0 {
			return nil
		}
		if depth > maxDepth*8 {
			return &errShape{"the response is nested too deeply"}
		}
	}
}
