package graphsim

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// WriteText writes the counters to w as a readable table: requests and
// $batch items by route, statuses, then throttling, faults, writes and
// resource units.
func (s Stats) WriteText(w io.Writer) error {
	type row struct {
		label, a, b string
		single      bool // a counter without a batch-items column
	}
	var rows []row
	add := func(label, a, b string) { rows = append(rows, row{label: label, a: a, b: b}) }
	addSingle := func(label, a string) { rows = append(rows, row{label: label, a: a, single: true}) }

	routes := slices.Sorted(maps.Keys(s.Requests))
	for r := range s.BatchItems {
		if _, ok := s.Requests[r]; !ok {
			routes = append(routes, r)
		}
	}
	slices.SortFunc(routes, func(a, b string) int {
		// By path, then method: "GET /users" next to "POST /users".
		_, pa := cutMethod(a)
		_, pb := cutMethod(b)
		return cmp.Or(cmp.Compare(pa, pb), cmp.Compare(a, b))
	})
	add("route", "requests", "batch items")
	for _, r := range routes {
		add(r, fmtCount(s.Requests[r]), fmtCount(s.BatchItems[r]))
	}
	add("total", fmtCount(s.Total()), fmtCount(sum(s.BatchItems)))
	add("", "", "")
	codes := slices.Sorted(maps.Keys(s.Statuses))
	for c := range s.BatchStatuses {
		if _, ok := s.Statuses[c]; !ok {
			codes = append(codes, c)
		}
	}
	slices.Sort(codes)
	add("status", "requests", "batch items")
	for _, c := range codes {
		add(strconv.Itoa(c), fmtCount(s.Statuses[c]), fmtCount(s.BatchStatuses[c]))
	}
	add("", "", "")
	addSingle("throttled (429)", fmtCount(s.Throttled))
	for _, k := range slices.Sorted(maps.Keys(s.Faults)) {
		addSingle("fault "+k, fmtCount(s.Faults[k]))
	}
	addSingle("writes (2xx)", fmtCount(s.Writes))
	addSingle("resource units", fmtCount(s.ResourceUnits))

	wl, wa, wb := 0, 0, 0
	for _, r := range rows {
		wl, wa, wb = max(wl, len(r.label)), max(wa, len(r.a)), max(wb, len(r.b))
	}
	var b strings.Builder
	for _, r := range rows {
		switch {
		case r.label == "" && r.a == "":
			b.WriteString("\n")
		case r.single:
			fmt.Fprintf(&b, "  %-*s  %*s\n", wl, r.label, wa, r.a)
		default:
			fmt.Fprintf(&b, "  %-*s  %*s  %*s\n", wl, r.label, wa, r.a, wb, r.b)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func cutMethod(route string) (string, string) {
	for i := 0; i < len(route); i++ {
		if route[i] == ' ' {
			return route[:i], route[i+1:]
		}
	}
	return route, ""
}

func sum[K comparable](m map[K]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// fmtCount renders n with thousands separators ("-" for 0).
func fmtCount(n int64) string {
	if n == 0 {
		return "-"
	}
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	out := make([]byte, 0, len(s)+len(s)/3)
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}
