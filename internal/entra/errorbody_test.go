package entra

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/hrsync/hrsync/internal/directory"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"github.com/hrsync/hrsync/internal/config"
)

// batchItemIDs reads the ids of a $batch request's items.
func batchItemIDs(t *testing.T, r *http.Request) []string {
	t.Helper()
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			t.Error(err)
			return nil
		}
		body = zr
	}
	var in struct {
		Requests []struct {
			ID string `json:"id"`
		} `json:"requests"`
	}
	if err := json.NewDecoder(body).Decode(&in); err != nil {
		t.Error(err)
		return nil
	}
	ids := make([]string, len(in.Requests))
	for i, it := range in.Requests {
		ids[i] = it.ID
	}
	return ids
}

// Graph error bodies without error.message: the SDK's ODataError.Error
// dereferences the message and panicked on them (exit 2). hrsync builds its
// *GraphError from what is there — status, code if any, and a message
// saying there was none — for a plain request, a $batch item and a whole
// $batch refused, all through the real client.
func TestErrorBodiesWithoutAMessage(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string // a plain response's body; also a $batch item's when item
		item     bool
		wantCode string
		wantMsg  string
	}{
		{"empty object", 500, `{}`, true, "", "Graph returned 500 (Internal Server Error) with no error message"},
		{"null error", 500, `{"error":null}`, true, "", "with no error message"},
		{"code only", 500, `{"error":{"code":"x"}}`, true, "x", "Graph returned 500 (Internal Server Error) with no error message"},
		{"null message", 400, `{"error":{"code":"y","message":null}}`, true, "y", "with no error message"},
		{"empty message", 400, `{"error":{"code":"y","message":""}}`, true, "y", "with no error message"},
		{"message not a string", 400, `{"error":{"code":"z","message":42}}`, true, "z", "with no error message"},
		{"error not an object", 400, `{"error":"boom"}`, true, "", "with no error message"},
		{"message kept", 400, `{"error":{"code":"c","message":"said so","details":[{"code":"D"}]}}`, true, "c", "said so"},
		{"not JSON", 500, `<html>oops</html>`, false, "", "with no error message"},
		{"no body", 500, ``, false, "", "with no error message"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				if r.URL.Path == "/v1.0/$batch" && r.URL.Query().Get("whole") == "" && tc.item {
					var out []string
					for _, id := range batchItemIDs(t, r) {
						out = append(out, fmt.Sprintf(`{"id":%q,"status":%d,"headers":{"Content-Type":"application/json"},"body":%s}`, id, tc.status, tc.body))
					}
					fmt.Fprintf(w, `{"responses":[%s]}`, strings.Join(out, ","))
					return
				}
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			c, err := New(Options{GraphURL: srv.URL, Auth: Auth{Method: config.AuthAccessToken, Token: "tok"}})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			check := func(what string, err error) {
				t.Helper()
				var ge *GraphError
				if !errors.As(err, &ge) {
					t.Fatalf("%s: %v (%T), want a *GraphError", what, err, err)
				}
				if ge.Status != tc.status || ge.Code != tc.wantCode || !strings.Contains(ge.Message, tc.wantMsg) {
					t.Errorf("%s: status %d code %q message %q, want %d %q and a message with %q", what, ge.Status, ge.Code, ge.Message, tc.status, tc.wantCode, tc.wantMsg)
				}
				if !strings.Contains(err.Error(), fmt.Sprint(tc.status)) {
					t.Errorf("%s: %q does not name the status", what, err)
				}
			}
			_, err = c.ListUsers(ctx, []string{"employeeId"}, false, nil)
			check("plain request", err)
			_, err = c.ListSkus(ctx)
			check("plain request through pages", err)
			if tc.item {
				check("$batch item", doOne(ctx, c, directory.Op{Kind: directory.OpGet, UserID: "u1"}).Err)
				return
			}
			// The whole $batch refused with that body.
			var ge *GraphError
			if err := doOne(ctx, c, directory.Op{Kind: directory.OpGet, UserID: "u1"}).Err; !errors.As(err, &ge) || ge.Status != tc.status {
				t.Errorf("whole $batch: %v, want a *GraphError with status %d", err, tc.status)
			}
		})
	}
}

// wrap builds a *GraphError from an ODataError however little the SDK
// parsed into it, without calling its Error method (which panics when
// error.message is missing).
func TestWrapODataErrorWithoutMessage(t *testing.T) {
	withMain := func(code, msg *string) *odataerrors.ODataError {
		oe := odataerrors.NewODataError()
		oe.ResponseStatusCode = 500
		me := odataerrors.NewMainError()
		me.SetCode(code)
		me.SetMessage(msg)
		oe.SetErrorEscaped(me)
		return oe
	}
	bare := odataerrors.NewODataError()
	bare.ResponseStatusCode = 500
	x, empty := "x", ""
	tests := []struct {
		name     string
		err      error
		wantCode string
		want     string
	}{
		{"no error object", bare, "", "op: graph 500: Graph returned 500 (Internal Server Error) with no error message"},
		{"code only", withMain(&x, nil), "x", "op: graph 500 x: Graph returned 500 (Internal Server Error) with no error message"},
		{"empty message", withMain(&x, &empty), "x", "op: graph 500 x: Graph returned 500 (Internal Server Error) with no error message"},
		{"wrapped", fmt.Errorf("send: %w", error(bare)), "", "op: graph 500: Graph returned 500 (Internal Server Error) with no error message"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ge *GraphError
			if err := wrap("op", tc.err); !errors.As(err, &ge) || ge.Code != tc.wantCode || err.Error() != tc.want {
				t.Errorf("wrap = %v, want %q (code %q)", err, tc.want, tc.wantCode)
			}
		})
	}
}
