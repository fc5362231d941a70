package rest

import (
	"encoding/json"
	"strings"
	"testing"
)

// simpleKeys reports whether every object key in v is one a dotted path
// names unambiguously: not empty, without dots, not a number, not an
// OData metadata key, and unique without regard to case in its object.
func simpleKeys(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		seen := map[string]bool{}
		for k, e := range x {
			l := strings.ToLower(k)
			if k == "" || strings.Contains(k, ".") || seen[l] || skipKey(k) {
				return false
			}
			if _, _, isIdx := index(k); isIdx {
				return false
			}
			seen[l] = true
			if !simpleKeys(e) {
				return false
			}
		}
	case []any:
		for _, e := range x {
			if !simpleKeys(e) {
				return false
			}
		}
	}
	return true
}

// FuzzRecordPaths decodes arbitrary bodies as pages and checks that path
// extraction never panics, and that every automatic column's name, used
// as a path, leads back to its value.
func FuzzRecordPaths(f *testing.F) {
	f.Add([]byte(`[{"id": 1, "name": {"first": "Ana"}, "tags": ["a", "b"]}]`), "name.first")
	f.Add([]byte(`{"d": {"results": [{"hireDate": "/Date(1704067200000)/", "manager": null}], "__next": "x"}}`), "d.results")
	f.Add([]byte(`[{"Manager": {"Descriptor": "Jane", "ID": [{"type": "WID", "value": "1"}]}}]`), "Manager.ID.1.value")
	f.Add([]byte(`[{"n": 1e400, "m": -0.0, "o": 12345678901234567890}]`), "n")
	f.Add([]byte(`[{"@odata.nextLink": "u", "a.b": {"c": true}}]`), "a.b.c")
	f.Fuzz(func(t *testing.T, data []byte, path string) {
		if len(data) > 1<<16 || len(path) > 256 {
			return
		}
		// ordered decoding, as for automatic columns
		_, _ = decodePage(data, pageSpec{ordered: true, scalars: []string{path}}, func(v any) error {
			_ = flatten(v, "", true, nil)
			return nil
		})
		_, _ = decodePage(data, pageSpec{records: path, scalars: []string{"x.y"}}, func(v any) error {
			r, _ := resolve(v, path)
			_, _ = leafString(r, true)
			return nil
		})
		// the round trip, on records with simple keys
		_, _ = decodePage(data, pageSpec{}, func(v any) error {
			if _, isObj := v.(map[string]any); !isObj || !simpleKeys(v) {
				return nil
			}
			pairs := flatten(v, "", false, nil)
			if len(pairs) > 200 {
				pairs = pairs[:200]
			}
			for _, p := range pairs {
				got, out := resolve(v, p.name)
				if out != reached {
					t.Fatalf("column %q of %s: outcome %d", p.name, data, out)
				}
				s, err := leafString(got, false)
				if err != nil || s != p.value {
					t.Fatalf("column %q of %s: %q (%v), flatten gave %q", p.name, data, s, err, p.value)
				}
			}
			return nil
		})
		// numbers normalise once and for all
		dec := json.NewDecoder(strings.NewReader(path))
		dec.UseNumber()
		var n any
		if dec.Decode(&n) == nil {
			if num, ok := n.(json.Number); ok {
				once := formatNumber(string(num))
				if twice := formatNumber(once); twice != once {
					t.Fatalf("formatNumber(%s) = %s, then %s", num, once, twice)
				}
			}
		}
		_, _ = odataDate(path)
	})
}
