package entra

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"github.com/hrsync/hrsync/internal/directory"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hrsync/hrsync/internal/config"
)

// deltaServer serves a delta round of two pages written by the test, and
// a one-page /users listing for the fallback.
func deltaServer(t *testing.T, page1, page2, list string) *Client {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.Contains(r.URL.Path, "/users/delta") && r.URL.Query().Get("$skiptoken") == "2":
			fmt.Fprintf(w, `{"value":[%s],"@odata.deltaLink":"%s/v1.0/users/delta()?$deltatoken=x"}`, page2, srv.URL)
		case strings.Contains(r.URL.Path, "/users/delta"):
			fmt.Fprintf(w, `{"value":[%s],"@odata.nextLink":"%s/v1.0/users/delta()?$skiptoken=2"}`, page1, srv.URL)
		case r.URL.Path == "/v1.0/users":
			fmt.Fprintf(w, `{"value":[%s]}`, list)
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"error":{"code":"Request_ResourceNotFound","message":"no"}}`)
		}
	}))
	t.Cleanup(srv.Close)
	c, err := New(Options{GraphURL: srv.URL, Auth: Auth{Method: config.AuthAccessToken, Token: "tok"}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDeltaRoundMergesRepeatsAndRemovals(t *testing.T) {
	const (
		a1 = `{"id":"a","employeeId":"1","department":"Old","manager@delta":[{"@odata.type":"#microsoft.graph.user","id":"m"}]}`
		b1 = `{"id":"b","employeeId":"2","department":"Sales"}`
		c1 = `{"id":"c","employeeId":"3","department":"Ops","manager@delta":[{"id":"m"}]}`
		a2 = `{"id":"a","employeeId":"1","department":"New"}`                                                              // repeated, no manager@delta: keeps m
		b2 = `{"id":"b","@removed":{"reason":"changed"}}`                                                                  // deleted while the round was read
		c2 = `{"id":"c","employeeId":"3","department":"Ops","manager@delta":[{"id":"m","@removed":{"reason":"deleted"}}]}` // manager removed
	)
	c := deltaServer(t, a1+","+b1+","+c1, a2+","+b2+","+c2, "")
	users, err := c.ListUsersDelta(context.Background(), []string{"employeeId", "department"}, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, u := range users {
		got[u.ID] = u.Attrs.Get("department") + "/" + u.ManagerID
	}
	want := map[string]string{"a": "New/m", "c": "Ops/"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("users = %v, want %v", got, want)
	}
}

// Whether the delta query can read the attributes is decided from what
// Graph documents, never from the data: Graph leaves null properties out of
// delta pages, so an admin without an employeeId on the first page is read
// as one (not a reason to fall back), and the licenses, which delta does
// not return, are read with $expand without asking delta first.
func TestDeltaSupportIsDecidedFromTheDocumentation(t *testing.T) {
	var deltaCalls, listCalls int
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.Contains(r.URL.Path, "/users/delta"):
			deltaCalls++
			fmt.Fprintf(w, `{"value":[{"id":"admin","displayName":"Admin"},{"id":"a","employeeId":"1","department":"Sales","manager@delta":[{"id":"m"}]}],"@odata.deltaLink":"%s/v1.0/users/delta()?$deltatoken=x"}`, srv.URL)
		case r.URL.Path == "/v1.0/users":
			listCalls++
			_, _ = io.WriteString(w, `{"value":[{"id":"a","employeeId":"1","department":"Sales","manager":{"id":"m"},"licenseAssignmentStates":[]}]}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"error":{"code":"Request_ResourceNotFound","message":"no"}}`)
		}
	}))
	t.Cleanup(srv.Close)
	c, err := New(Options{GraphURL: srv.URL, Auth: Auth{Method: config.AuthAccessToken, Token: "tok"}})
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadScheme(SchemeSequential)
	users, err := c.ReadUsers(context.Background(), []string{"employeeId", "department"}, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if deltaCalls != 1 || listCalls != 0 || len(users) != 2 || users[0].Attrs.Get("employeeId") != "" || users[1].Attrs.Get("department") != "Sales" || users[1].ManagerID != "m" {
		t.Fatalf("delta %d, list %d, users %+v: want the delta read, the admin without employeeId", deltaCalls, listCalls, users)
	}
	if !deltaReturns([]string{"employeeId", "employeeLeaveDateTime"}) || deltaReturns([]string{"employeeId", LicensesAttr}) {
		t.Error("deltaReturns does not follow the documented list")
	}
	deltaCalls, listCalls = 0, 0
	if _, err := c.ReadUsers(context.Background(), []string{"employeeId", LicensesAttr}, true, nil); err != nil {
		t.Fatal(err)
	}
	if deltaCalls != 0 || listCalls != 1 {
		t.Fatalf("licenses: delta %d, list %d requests; want the $expand listing only", deltaCalls, listCalls)
	}
}

func TestDeltaRoundWithoutDeltaLinkFails(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"value":[{"id":"a","employeeId":"1"}]}`)
	}))
	defer srv.Close()
	c, err := New(Options{GraphURL: srv.URL, Auth: Auth{Method: config.AuthAccessToken, Token: "tok"}})
	if err != nil {
		t.Fatal(err)
	}
	if users, err := c.ListUsersDelta(context.Background(), []string{"employeeId"}, true, nil); err == nil || users != nil {
		t.Fatalf("a round without a deltaLink read %d users, err %v", len(users), err)
	}
}

// Batch item URLs carry $-options as Graph documents them, not %24.
func TestBatchItemURLsKeepDollarOptions(t *testing.T) {
	var urls []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				t.Error(err)
				return
			}
			body = zr
		}
		var in struct {
			Requests []struct {
				ID  string `json:"id"`
				URL string `json:"url"`
			} `json:"requests"`
		}
		if err := json.NewDecoder(body).Decode(&in); err != nil {
			t.Error(err)
			return
		}
		var out []string
		for _, it := range in.Requests {
			urls = append(urls, it.URL)
			out = append(out, fmt.Sprintf(`{"id":%q,"status":200,"headers":{"Content-Type":"application/json"},"body":{"value":[]}}`, it.ID))
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"responses":[%s]}`, strings.Join(out, ","))
	}))
	defer srv.Close()
	c, err := New(Options{GraphURL: srv.URL, Auth: Auth{Method: config.AuthAccessToken, Token: "tok"}})
	if err != nil {
		t.Fatal(err)
	}
	o := doOne(context.Background(), c, directory.Op{Kind: directory.OpFind, Attr: "employeeId", Value: "a$b", Select: []string{"employeeId"}})
	if o.Err != nil {
		t.Fatal(o.Err)
	}
	if len(urls) != 1 || !strings.Contains(urls[0], "?$filter=") || !strings.Contains(urls[0], "&$select=") || strings.Contains(urls[0], "%24filter") {
		t.Fatalf("item urls = %q", urls)
	}
}
