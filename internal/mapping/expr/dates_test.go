package expr

import (
	"strings"
	"testing"
	"time"
)

// parseDateAllLayouts is parseDate without the choice of a family: every
// layout in turn.
func parseDateAllLayouts(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if len(s) < 8 || len(s) > 40 {
		return time.Time{}, false
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			t = t.UTC()
			return t, inDateRange(t)
		}
	}
	return time.Time{}, false
}

// parseDate picks the family of layouts from the shape of its input; it
// must accept exactly what trying every layout accepts. The inputs are
// every accepted form, and each of them with one character dropped,
// doubled or replaced.
func TestParseDateFamilies(t *testing.T) {
	base := []string{
		"2009-06-15T01:45:30-07:00", "2009-06-15T01:45:30Z", "2009-06-15T01:45:30.123+01:00", "2021-06-30T10:11:12",
		"2021-06-30T10:11+02:00", "2021-06-30T10:11", "2021-06-30 10:11:12Z", "2021-06-30 10:11:12", "2021-06-30 10:11-05:00",
		"2021-06-30 10:11", "2020-03-16-07:00", "2021-06-30+08:00", "2021-06-30Z", "2021-06-30", "0000-01-01",
		"8/25/2021 5:41:18 PM", "8/25/2021 5:41 AM", "12/31/2025 23:59:59", "1/2/2006 15:04", "12/31/2025", "1/2/2006",
		"20150123105347Z", "20150123105347-0700", "20150123105347+01:00", "20150123105347", "20150123105347.1Z",
	}
	seen := map[string]bool{}
	var inputs []string
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			inputs = append(inputs, s)
		}
	}
	for _, s := range base {
		add(s)
		add(" " + s + " ")
		for i := range len(s) {
			add(s[:i] + s[i+1:])
			add(s[:i] + s[i:i+1] + s[i:])
			for _, c := range "0-/: TZ+.P" {
				add(s[:i] + string(c) + s[i+1:])
			}
		}
	}
	accepted := 0
	for _, s := range inputs {
		got, ok := parseDate(s)
		want, wantOK := parseDateAllLayouts(s)
		if ok != wantOK || !got.Equal(want) {
			t.Errorf("parseDate(%q) = %v, %v; every layout gives %v, %v", s, got, ok, want, wantOK)
		}
		if ok {
			accepted++
		}
	}
	if accepted < len(base) {
		t.Errorf("only %d of %d inputs accepted", accepted, len(inputs))
	}
}
