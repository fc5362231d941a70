package entra

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hrsync/hrsync/internal/config"
)

// loopServer serves every collection as pages that come back to a nextLink
// already sent: the first page links to $skiptoken=A, A to B, B to A
// again (Graph has sent the same nextLink forever:
// microsoftgraph/microsoft-graph-docs#4897). It counts the requests.
func loopServer(t *testing.T) (*Client, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		next := map[string]string{"": "A", "A": "B", "B": "A"}[r.URL.Query().Get("$skiptoken")]
		item := fmt.Sprintf(`{"id":"00000000-0000-0000-0000-%012d","displayName":"x","skuId":"6fd2c87f-b296-42f0-b197-1e91e994b900"}`, n.Load())
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"value":[%s],"@odata.nextLink":"%s%s?$skiptoken=%s"}`, item, srv.URL, r.URL.Path, next)
	}))
	t.Cleanup(srv.Close)
	c, err := New(Options{GraphURL: srv.URL, Auth: Auth{Method: config.AuthAccessToken, Token: "tok"}})
	if err != nil {
		t.Fatal(err)
	}
	return c, &n
}

func TestReadsStopWhenGraphRepeatsANextLink(t *testing.T) {
	ctx := context.Background()
	reads := []struct {
		name string
		read func(c *Client) error
	}{
		{"ListUsers", func(c *Client) error { _, err := c.ListUsers(ctx, []string{"displayName"}, false, nil); return err }},
		{"ListUsers with manager", func(c *Client) error { _, err := c.ListUsers(ctx, []string{"displayName"}, true, nil); return err }},
		{"ListUsersDelta", func(c *Client) error { _, err := c.ListUsersDelta(ctx, []string{"displayName"}, true, nil); return err }},
		{"ReadUsers sequential", func(c *Client) error {
			c.SetReadScheme(SchemeSequential)
			_, err := c.ReadUsers(ctx, []string{"displayName"}, true, nil)
			return err
		}},
		{"ListDeletedUsers", func(c *Client) error { _, err := c.ListDeletedUsers(ctx, []string{"displayName"}); return err }},
		{"GroupMembers", func(c *Client) error {
			_, err := c.GroupMembers(ctx, "00000000-0000-0000-00ff-000000000001")
			return err
		}},
		{"ResolveGroups", func(c *Client) error { _, err := c.ResolveGroups(ctx, []string{"Sales"}); return err }},
		{"ListSkus", func(c *Client) error { _, err := c.ListSkus(ctx); return err }},
	}
	for _, tc := range reads {
		t.Run(tc.name, func(t *testing.T) {
			c, n := loopServer(t)
			err := tc.read(c)
			if !errors.Is(err, ErrPagingLoop) {
				t.Fatalf("err = %v, want ErrPagingLoop", err)
			}
			// Page 1, A, B: B's nextLink (A) was followed already.
			if got := n.Load(); got != 3 {
				t.Errorf("%d requests, want 3", got)
			}
			if !strings.Contains(err.Error(), "page 3") || !strings.Contains(err.Error(), "$skiptoken=A") {
				t.Errorf("err = %v", err)
			}
		})
	}
}

func TestLinkGuard(t *testing.T) {
	g := linkGuard{}
	for i, link := range []string{"a", "b", "c"} {
		if err := g.follow(link, i+1); err != nil {
			t.Fatalf("follow %s: %v", link, err)
		}
	}
	err := g.follow("b", 4)
	if !errors.Is(err, ErrPagingLoop) || !strings.Contains(err.Error(), "page 4's nextLink is the one that led to page 3") {
		t.Errorf("repeat: %v", err)
	}
}
