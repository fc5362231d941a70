package rest

import (
	"bytes"
	"fmt"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// A body over max_body fails the read, closed: before it is read when its
// Content-Length says so, as soon as the limit is passed otherwise, so
// memory stays bounded by max_body (a 1.5 GB body took 2.65 GB of RSS with
// the former fixed 1 GiB limit). It is not retried.
func TestMaxBody(t *testing.T) {
	const total = 64 << 20 // what the API would send
	chunk := bytes.Repeat([]byte(" "), 64<<10)
	tests := []struct {
		name          string
		contentLength bool
		want          string
	}{
		{"announced by Content-Length", true, "the response is 64 MiB, more than source.rest.max_body (1 MiB)"},
		{"streamed", false, "the response is larger than source.rest.max_body (1 MiB)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int, body string) {
				w.Header().Set("Content-Type", "application/json")
				if tc.contentLength {
					w.Header().Set("Content-Length", strconv.Itoa(total))
				}
				_, _ = w.Write([]byte(`{"items": [`))
				for sent := len(`{"items": [`); sent+len(chunk) <= total; sent += len(chunk) {
					if _, err := w.Write(chunk); err != nil {
						return // the client gave up
					}
				}
			})
			c := parse(t, fmt.Sprintf("url: %s/api\nrecords: items\nmax_body: 1MiB", a.URL()), nil)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			res := read(t, c)
			runtime.ReadMemStats(&after)
			se := sourceErr(t, res.err)
			if !strings.Contains(se.Error(), tc.want) || !strings.Contains(se.Hint, "raise source.rest.max_body") {
				t.Errorf("error %q (hint %q), want %q and a hint to raise max_body", se.Error(), se.Hint, tc.want)
			}
			if len(res.recs) != 0 {
				t.Errorf("%d records emitted", len(res.recs))
			}
			if n := len(a.requests()); n != 1 {
				t.Errorf("%d requests, want 1 (a body too large is not retried)", n)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
				t.Errorf("the read allocated %d MiB for a 1 MiB limit", alloc>>20)
			}
		})
	}

	// A body at the limit is read.
	body := `{"items": [{"id": 1}]}`
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int, _ string) {
		writeJSON(w, 200, []byte(body+strings.Repeat(" ", 1024-len(body))))
	})
	res := read(t, parse(t, fmt.Sprintf("url: %s/api\nrecords: items\nmax_body: 1024", a.URL()), nil))
	if res.err != nil || len(res.recs) != 1 {
		t.Fatalf("a body of exactly max_body: %d records, %v", len(res.recs), res.err)
	}
}

// Paging that never ends fails the read at max_pages (default 10,000, was
// 100,000, by which point a read held a million records), never a
// truncated read.
func TestEndlessPagingFailsAtMaxPages(t *testing.T) {
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int, _ string) {
		writeJSON(w, 200, []byte(fmt.Sprintf(`{"items": [{"id": %d}], "next": "/api?p=%d"}`, n, n+1)))
	})
	res := read(t, parse(t, fmt.Sprintf("url: %s/api\nrecords: items\nmax_pages: 5\npaging: {type: next_link, next: next}", a.URL()), nil))
	se := sourceErr(t, res.err)
	for _, want := range []string{"stopped after 5 pages (source.rest.max_pages) with more to read", "nothing of it is used", "5 records were read"} {
		if !strings.Contains(se.Error(), want) {
			t.Errorf("error %q lacks %q", se.Error(), want)
		}
	}
	if !strings.Contains(se.Hint, "raise source.rest.max_pages") || !strings.Contains(se.Hint, "check source.rest.paging") {
		t.Errorf("hint %q", se.Hint)
	}
	if n := len(a.requests()); n != 5 {
		t.Errorf("%d requests, want 5", n)
	}
	if c := parse(t, "url: https://hr.example.com/api", nil); c.MaxPages != 10000 {
		t.Errorf("default max_pages %d, want 10000", c.MaxPages)
	}
}
