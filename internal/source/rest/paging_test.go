package rest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// ids renders the id column of records.
func ids(t *testing.T, res result) []string {
	t.Helper()
	var out []string
	for _, r := range res.recs {
		v, _ := r.Field("id")
		out = append(out, v)
	}
	return out
}

func people(from, to int) string {
	var parts []string
	for i := from; i <= to; i++ {
		parts = append(parts, fmt.Sprintf(`{"id": %d, "name": "P%d"}`, i, i))
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func TestPaging(t *testing.T) {
	type tc struct {
		name    string
		config  string // paging settings and records, after url
		handler func(base string, r *http.Request, n int) (int, http.Header, string)
		ids     []string
		queries []string // the raw queries of the requests, in order
	}
	cases := []tc{
		{
			name:   "none",
			config: "records: items\npaging: {type: none}",
			handler: func(base string, r *http.Request, n int) (int, http.Header, string) {
				return 200, nil, `{"items": ` + people(1, 3) + `, "next": "/ignored"}`
			},
			ids:     []string{"1", "2", "3"},
			queries: []string{""},
		},
		{
			name:   "next_link relative then absolute",
			config: "records: items\npaging: {type: next_link, next: links.next}",
			handler: func(base string, r *http.Request, n int) (int, http.Header, string) {
				switch r.URL.Query().Get("p") {
				case "":
					return 200, nil, `{"items": ` + people(1, 2) + `, "links": {"next": "/api/people?p=2"}}`
				case "2":
					return 200, nil, `{"items": ` + people(3, 4) + `, "links": {"next": "` + base + `/api/people?p=3"}}`
				}
				return 200, nil, `{"items": ` + people(5, 5) + `, "links": {"next": null}}`
			},
			ids:     []string{"1", "2", "3", "4", "5"},
			queries: []string{"", "p=2", "p=3"},
		},
		{
			name:   "next_link key with a dot (@odata.nextLink)",
			config: "records: value\npaging: {type: next_link, next: '@odata.nextLink'}",
			handler: func(base string, r *http.Request, n int) (int, http.Header, string) {
				if n == 0 {
					return 200, nil, `{"@odata.context": "x", "value": ` + people(1, 1) + `, "@odata.nextLink": "` + base + `/api/people?$skiptoken=abc"}`
				}
				return 200, nil, `{"@odata.context": "x", "value": ` + people(2, 2) + `}`
			},
			ids:     []string{"1", "2"},
			queries: []string{"", "$skiptoken=abc"},
		},
		{
			name:   "link_header",
			config: "paging: link_header",
			handler: func(base string, r *http.Request, n int) (int, http.Header, string) {
				h := http.Header{}
				switch n {
				case 0:
					h.Add("Link", `<`+base+`/api/people?page=1>; rel="prev", <`+base+`/api/people?page=2&per_page=2>; rel="next"`)
					return 200, h, people(1, 2)
				case 1:
					h.Add("Link", `</api/people?page=3&per_page=2>; rel="next last"`)
					return 200, h, people(3, 4)
				}
				h.Add("Link", `</api/people?page=1>; rel="first"`)
				return 200, h, people(5, 5)
			},
			ids:     []string{"1", "2", "3", "4", "5"},
			queries: []string{"", "page=2&per_page=2", "page=3&per_page=2"},
		},
		{
			name:   "page from 1, stops on a short page",
			config: "records: data\npaging: {type: page, size: 2}",
			handler: func(base string, r *http.Request, n int) (int, http.Header, string) {
				p, _ := strconv.Atoi(r.URL.Query().Get("page"))
				switch p {
				case 1:
					return 200, nil, `{"data": ` + people(1, 2) + `}`
				case 2:
					return 200, nil, `{"data": ` + people(3, 4) + `}`
				}
				return 200, nil, `{"data": ` + people(5, 5) + `}`
			},
			ids:     []string{"1", "2", "3", "4", "5"},
			queries: []string{"page=1&per_page=2", "page=2&per_page=2", "page=3&per_page=2"},
		},
		{
			name:   "page from 0 with other parameter names, stops on an empty page",
			config: "records: data\npaging: {type: page, page_param: pageNumber, size_param: pageSize, first_page: 0, size: 2}",
			handler: func(base string, r *http.Request, n int) (int, http.Header, string) {
				p, _ := strconv.Atoi(r.URL.Query().Get("pageNumber"))
				if p < 2 {
					return 200, nil, `{"data": ` + people(2*p+1, 2*p+2) + `}`
				}
				return 200, nil, `{"data": []}`
			},
			ids:     []string{"1", "2", "3", "4"},
			queries: []string{"pageNumber=0&pageSize=2", "pageNumber=1&pageSize=2", "pageNumber=2&pageSize=2"},
		},
		{
			name:   "page with a total: no request past it",
			config: "records: data\npaging: {type: page, size: 2, total: meta.total}",
			handler: func(base string, r *http.Request, n int) (int, http.Header, string) {
				p, _ := strconv.Atoi(r.URL.Query().Get("page"))
				return 200, nil, `{"meta": {"total": 4}, "data": ` + people(2*p-1, 2*p) + `}`
			},
			ids:     []string{"1", "2", "3", "4"},
			queries: []string{"page=1&per_page=2", "page=2&per_page=2"},
		},
		{
			name:   "offset with a total",
			config: "records: data\npaging: {type: offset, size: 2, total: metadata.total_elements}",
			handler: func(base string, r *http.Request, n int) (int, http.Header, string) {
				o, _ := strconv.Atoi(r.URL.Query().Get("offset"))
				return 200, nil, `{"metadata": {"total_elements": "5"}, "data": ` + people(o+1, min(o+2, 5)) + `}`
			},
			ids:     []string{"1", "2", "3", "4", "5"},
			queries: []string{"offset=0&limit=2", "offset=2&limit=2", "offset=4&limit=2"},
		},
		{
			name:   "offset without a total, stops on an empty page",
			config: "records: data\npaging: {type: offset, offset_param: skip, limit_param: top, size: 3}",
			handler: func(base string, r *http.Request, n int) (int, http.Header, string) {
				o, _ := strconv.Atoi(r.URL.Query().Get("skip"))
				if o >= 6 {
					return 200, nil, `{"data": []}`
				}
				return 200, nil, `{"data": ` + people(o+1, o+3) + `}`
			},
			ids:     []string{"1", "2", "3", "4", "5", "6"},
			queries: []string{"skip=0&top=3", "skip=3&top=3", "skip=6&top=3"},
		},
		{
			name:   "cursor",
			config: "records: results\npaging: {type: cursor, cursor: meta.next_cursor, cursor_param: after, size_param: limit, size: 2}",
			handler: func(base string, r *http.Request, n int) (int, http.Header, string) {
				switch r.URL.Query().Get("after") {
				case "":
					return 200, nil, `{"results": ` + people(1, 2) + `, "meta": {"next_cursor": "c2=="}}`
				case "c2==":
					return 200, nil, `{"results": ` + people(3, 4) + `, "meta": {"next_cursor": 77}}`
				}
				return 200, nil, `{"results": ` + people(5, 5) + `, "meta": {"next_cursor": null}}`
			},
			ids:     []string{"1", "2", "3", "4", "5"},
			queries: []string{"limit=2", "after=c2%3D%3D&limit=2", "after=77&limit=2"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var a *api
			a = newAPI(t, func(w http.ResponseWriter, r *http.Request, n int, body string) {
				status, h, b := c.handler(a.URL(), r, n)
				for k, vs := range h {
					for _, v := range vs {
						w.Header().Add(k, v)
					}
				}
				writeJSON(w, status, []byte(b))
			})
			cfg := parse(t, "url: "+a.URL()+"/api/people\nfields: {id: id, name: name}\n"+c.config, nil)
			res := read(t, cfg)
			if res.err != nil {
				t.Fatalf("Read: %v", res.err)
			}
			if got := ids(t, res); !reflect.DeepEqual(got, c.ids) {
				t.Errorf("ids = %v, want %v", got, c.ids)
			}
			var qs []string
			for _, r := range a.requests() {
				qs = append(qs, r.Query)
			}
			if !reflect.DeepEqual(qs, c.queries) {
				t.Errorf("queries = %q, want %q", qs, c.queries)
			}
			// provenance: pages and 1-based indexes within them
			page, idx := 1, 0
			for i, r := range res.recs {
				if r.Prov.Page != page {
					page, idx = r.Prov.Page, 0
				}
				idx++
				if r.Prov.Index != idx {
					t.Errorf("record %d: %+v, want index %d", i, r.Prov, idx)
				}
			}
		})
	}
}

// TestDigest: the digest covers every response body, in order.
func TestDigest(t *testing.T) {
	bodies := []string{`{"items": [{"id": 1}], "next": "/p2"}`, `{"items": [{"id": 2}]}`}
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int, body string) {
		writeJSON(w, 200, []byte(bodies[n]))
	})
	res := read(t, parse(t, "url: "+a.URL()+"/p1\nrecords: items\npaging: {type: next_link, next: next}", nil))
	if res.err != nil {
		t.Fatal(res.err)
	}
	sum := sha256.Sum256([]byte(bodies[0] + bodies[1]))
	if want := "sha256:" + hex.EncodeToString(sum[:]); res.sum.Digest != want {
		t.Errorf("digest %s, want %s", res.sum.Digest, want)
	}
	if !reflect.DeepEqual(res.sum.Header, []string{"id"}) {
		t.Errorf("header %v", res.sum.Header)
	}
}

func TestPagingFailures(t *testing.T) {
	type tc struct {
		name    string
		config  string
		handler func(base string, r *http.Request, n int) string
		want    []string // in the error
	}
	cases := []tc{
		{
			name:   "max_pages reached",
			config: "records: items\nmax_pages: 2\npaging: {type: next_link, next: next}",
			handler: func(base string, r *http.Request, n int) string {
				return fmt.Sprintf(`{"items": [{"id": %d}], "next": "/api?p=%d"}`, n, n+1)
			},
			want: []string{"stopped after 2 pages", "max_pages"},
		},
		{
			name:   "next link loops",
			config: "records: items\npaging: {type: next_link, next: next}",
			handler: func(base string, r *http.Request, n int) string {
				return fmt.Sprintf(`{"items": [{"id": %d}], "next": "/api?p=1"}`, n)
			},
			want: []string{"page 2 links back to a page already read"},
		},
		{
			name:   "next link to another server",
			config: "records: items\npaging: {type: next_link, next: next}",
			handler: func(base string, r *http.Request, n int) string {
				return `{"items": [{"id": 1}], "next": "https://evil.example.com/steal"}`
			},
			want: []string{"links to another server (https://evil.example.com)", "does not send the credentials"},
		},
		{
			name:   "the API ignores the page parameter",
			config: "records: items\npaging: {type: page, size: 1}",
			handler: func(base string, r *http.Request, n int) string {
				return `{"items": [{"id": 1}]}`
			},
			want: []string{"page 2 is the same as page 1", "ignores the paging"},
		},
		{
			name:   "total changes while reading",
			config: "records: items\npaging: {type: offset, size: 1, total: total}",
			handler: func(base string, r *http.Request, n int) string {
				return fmt.Sprintf(`{"total": %d, "items": [{"id": %d}]}`, 3-n, n)
			},
			want: []string{"page 2", "the total changed from 3 to 2", "data changed while it was read"},
		},
		{
			name:   "fewer records than the total",
			config: "records: items\npaging: {type: offset, size: 2, total: total}",
			handler: func(base string, r *http.Request, n int) string {
				if n == 0 {
					return `{"total": 3, "items": [{"id": 1}, {"id": 2}]}`
				}
				return `{"total": 3, "items": []}`
			},
			want: []string{"page 2 is empty after 2 of 3 records", "data changed"},
		},
		{
			name:   "no total where one is configured",
			config: "records: items\npaging: {type: offset, total: meta.count}",
			handler: func(base string, r *http.Request, n int) string {
				return `{"items": [{"id": 1}]}`
			},
			want: []string{"page 1: no total at meta.count", "paging.total"},
		},
		{
			name:   "cursor of the wrong kind",
			config: "records: items\npaging: {type: cursor, cursor: next}",
			handler: func(base string, r *http.Request, n int) string {
				return `{"items": [{"id": 1}], "next": {"a": 1}}`
			},
			want: []string{"the cursor at next is an object"},
		},
		{
			name:   "next link of the wrong kind",
			config: "records: items\npaging: {type: next_link, next: next}",
			handler: func(base string, r *http.Request, n int) string {
				return `{"items": [{"id": 1}], "next": true}`
			},
			want: []string{": page 1: the next link at next is a boolean, not a URL (check source.rest.paging.next)"},
		},
		{
			name:   "next link a number",
			config: "records: items\npaging: {type: next_link, next: next}",
			handler: func(base string, r *http.Request, n int) string {
				return `{"items": [{"id": 1}], "next": 2}`
			},
			want: []string{": page 1: the next link at next is a number, not a URL (check source.rest.paging.next)"},
		},
		{
			name:   "more records than the total",
			config: "records: items\npaging: {type: offset, size: 2, total: total}",
			handler: func(base string, r *http.Request, n int) string {
				return `{"total": 1, "items": [{"id": 1}, {"id": 2}]}`
			},
			want: []string{": page 1: read 2 records but the API reports 1: the data changed while it was read (run again; paging by offset"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var a *api
			a = newAPI(t, func(w http.ResponseWriter, r *http.Request, n int, body string) {
				writeJSON(w, 200, []byte(c.handler(a.URL(), r, n)))
			})
			res := read(t, parse(t, "url: "+a.URL()+"/api\n"+c.config, nil))
			se := sourceErr(t, res.err)
			for _, w := range c.want {
				if !strings.Contains(se.Error(), w) {
					t.Errorf("error %q lacks %q", se.Error(), w)
				}
			}
			if res.sum.Records != 0 {
				t.Errorf("a failed read has a summary: %+v", res.sum)
			}
		})
	}
}
