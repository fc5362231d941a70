package entra

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/directory"
	"github.com/microsoftgraph/msgraph-sdk-go/groups"

	"github.com/hrsync/hrsync/internal/guid"
	"github.com/hrsync/hrsync/internal/identity"
)

// The reads beyond users: deleted users, groups and their members, and the
// tenant's license subscriptions. Like ListUsers they are built by the SDK,
// sent through its adapter (auth, pacing, retries), follow nextLinks
// verbatim (failing with ErrPagingLoop when Graph repeats one), decode
// pages into lean structs and fail whole when a page fails.

// ErrPagingLoop marks a read that stopped because Graph sent a nextLink it
// had already sent in the same read: following it would never end (Graph
// has done so: microsoftgraph/microsoft-graph-docs#4897,
// microsoftgraph/msgraph-sdk-dotnet#54).
var ErrPagingLoop = errors.New("paging loop: Graph sent a nextLink it had already sent in this read")

// linkGuard remembers the nextLinks a read followed, and the page each led
// to.
type linkGuard map[string]int

// follow records next, the nextLink of page, or fails with ErrPagingLoop
// when the read followed it before.
func (g linkGuard) follow(next string, page int) error {
	if to, seen := g[next]; seen {
		return fmt.Errorf("%w (page %d's nextLink is the one that led to page %d: %s)", ErrPagingLoop, page, to, next)
	}
	g[next] = page + 1
	return nil
}

// originalUPN undoes Entra's renaming of a deleted user's
// userPrincipalName: a leading 32 hex digits equal to the object id without
// dashes (ignoring case) are removed; anything else is returned as is.
func originalUPN(id, upn string) string {
	prefix := strings.ReplaceAll(id, "-", "")
	if len(prefix) != 32 || len(upn) <= len(prefix) || !isHex(prefix) || !strings.EqualFold(upn[:len(prefix)], prefix) {
		return upn
	}
	return upn[len(prefix):]
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') && (c < 'A' || c > 'F') {
			return false
		}
	}
	return true
}

// deletedPage is one page of GET /directory/deletedItems/microsoft.graph.user.
type deletedPage struct {
	Value    []rawUser `json:"value"`
	NextLink string    `json:"@odata.nextLink"`
}

// ListDeletedUsers reads every user in the deleted items with the given
// attributes (as ListUsers reads them; LicensesAttr reads the licenses)
// and the time each was deleted (zero if Graph did not say; Entra keeps a
// user restorable for 30 days). Its userPrincipalName is the original
// one, the one a restore brings back: Entra shows a deleted user's
// userPrincipalName with the object id (without dashes) in front, which is
// stripped.
func (c *Client) ListDeletedUsers(ctx context.Context, attrs []string) ([]identity.DeletedUser, error) {
	l := identity.NewLayout(attrs) // shared by the users read
	const op = "list deleted users"
	top := int32(PageSize)
	sel := selectFor(append(slices.Clip(attrs), "deletedDateTime"))
	ri, err := c.gs.Directory().DeletedItems().GraphUser().ToGetRequestInformation(ctx,
		&directory.DeletedItemsGraphUserRequestBuilderGetRequestConfiguration{
			QueryParameters: &directory.DeletedItemsGraphUserRequestBuilderGetQueryParameters{Select: sel, Top: &top},
		})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	var out []identity.DeletedUser
	err = pages(ctx, c, op, readPermission(attrs), ri, func(_ int, body *deletedPage) (string, error) {
		for i := range body.Value {
			u := &body.Value[i]
			d := identity.DeletedUser{User: u.toUser(attrs, l)}
			if upn, ok := d.Attrs.Lookup("userPrincipalName"); ok && originalUPN(u.ID, upn) != upn {
				d.Attrs.Set("userPrincipalName", originalUPN(u.ID, upn))
				d.Attrs.Seal() // Set unpacked them
			}
			if t, err := time.Parse(time.RFC3339, canonicalTime(u.DeletedDateTime)); err == nil {
				d.DeletedAt = t
			}
			out = append(out, d)
		}
		return body.NextLink, nil
	}, func(next string) (*abs.RequestInformation, error) {
		return c.gs.Directory().DeletedItems().GraphUser().WithUrl(next).ToGetRequestInformation(ctx, nil)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// pages reads a paged collection: it GETs ri, decodes each page into a new
// P and hands it to use, which returns the page's nextLink; following
// builds the request for a nextLink. A failed page fails the read, and so
// does a nextLink the read followed before (ErrPagingLoop); errors name op
// and, past the first, the page, and Graph's errors carry perm, the
// permission the read needs.
func pages[P any](ctx context.Context, c *Client, op, perm string, ri *abs.RequestInformation,
	use func(page int, body *P) (string, error), following func(next string) (*abs.RequestInformation, error)) error {
	where := func(page int) string {
		if page == 1 {
			return op
		}
		return fmt.Sprintf("%s (page %d)", op, page)
	}
	followed := linkGuard{}
	for page := 1; ; page++ {
		body := new(P)
		if err := c.getJSON(ctx, ri, body); err != nil {
			return withPermission(wrap(where(page), err), perm)
		}
		next, err := use(page, body)
		if err != nil {
			return fmt.Errorf("%s: %w", where(page), err)
		}
		if next == "" {
			return nil
		}
		if err := followed.follow(next, page); err != nil {
			return fmt.Errorf("%s: %w", where(page), err)
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		if ri, err = following(next); err != nil {
			return fmt.Errorf("%s: %w", where(page+1), err)
		}
	}
}

// Group is a group hrsync manages the members of.
type Group struct {
	ID, DisplayName string
}

// groupPage is one page of GET /groups?$select=id,displayName.
type groupPage struct {
	Value []struct {
		ID          string `json:"id"`
		DisplayName string `json:"displayName"`
	} `json:"value"`
	NextLink string `json:"@odata.nextLink"`
}

// maxInValues is how many values one $filter "in" clause carries (Graph
// refuses more than 15 "or"-like child clauses).
const maxInValues = 15

// ResolveGroups finds the groups refs name: a ref is a group's object id
// (a GUID) or its exact display name. The map is keyed by the refs as
// given. A display name matches case-insensitively, as Graph's filters do,
// unless groups differ only by case, when the exact spelling decides. The
// error names every ref that matches no group and every display name
// several groups share (those must be given by id).
func (c *Client) ResolveGroups(ctx context.Context, refs []string) (map[string]Group, error) {
	ids, names := splitGroupRefs(refs)
	var found []Group
	for _, batch := range []struct {
		prop string
		vals []string
	}{{"id", ids}, {"displayName", names}} {
		for chunk := range slices.Chunk(batch.vals, maxInValues) {
			gs, err := c.findGroups(ctx, batch.prop, chunk)
			if err != nil {
				return nil, err
			}
			found = append(found, gs...)
		}
	}
	out := make(map[string]Group, len(refs))
	var missing, ambiguous []string
	for _, r := range refs {
		if r == "" {
			missing = append(missing, `""`)
			continue
		}
		switch matches := groupMatches(r, found); len(matches) {
		case 0:
			missing = append(missing, fmt.Sprintf("%q", r))
		case 1:
			out[r] = matches[0]
		default:
			gids := make([]string, len(matches))
			for i, g := range matches {
				gids[i] = g.ID
			}
			ambiguous = append(ambiguous, fmt.Sprintf("%q (%s)", r, strings.Join(gids, ", ")))
		}
	}
	var problems []string
	if len(missing) > 0 {
		problems = append(problems, "no group matches "+strings.Join(slices.Compact(missing), ", "))
	}
	if len(ambiguous) > 0 {
		problems = append(problems, "several groups are named "+strings.Join(slices.Compact(ambiguous), ", ")+
			"; name such a group by its object id")
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("resolve groups: %s", strings.Join(problems, "; "))
	}
	return out, nil
}

// splitGroupRefs splits group references into object ids (lower case)
// and display names, each once, leaving out empty ones.
func splitGroupRefs(refs []string) (ids, names []string) {
	seen := map[string]bool{}
	for _, r := range refs {
		key := strings.ToLower(r)
		if r == "" || seen[key] {
			continue
		}
		seen[key] = true
		if guid.Valid(r) {
			ids = append(ids, key)
		} else {
			names = append(names, r)
		}
	}
	return ids, names
}

// groupMatches are the groups of found that reference r names: by object
// id, or by display name in any case; of several, those whose name has
// r's case exactly, if any.
func groupMatches(r string, found []Group) []Group {
	var matches []Group
	for _, g := range found {
		if guid.Valid(r) && strings.EqualFold(g.ID, r) || !guid.Valid(r) && strings.EqualFold(g.DisplayName, r) {
			if !slices.Contains(matches, g) {
				matches = append(matches, g)
			}
		}
	}
	if len(matches) > 1 {
		var exact []Group
		for _, g := range matches {
			if g.DisplayName == r {
				exact = append(exact, g)
			}
		}
		if len(exact) > 0 {
			matches = exact
		}
	}
	return matches
}

// findGroups reads the groups whose prop is one of vals.
func (c *Client) findGroups(ctx context.Context, prop string, vals []string) ([]Group, error) {
	quoted := make([]string, len(vals))
	for i, v := range vals {
		quoted[i] = "'" + strings.ReplaceAll(v, "'", "''") + "'"
	}
	filter := prop + " in (" + strings.Join(quoted, ",") + ")"
	top := int32(PageSize)
	ri, err := c.gs.Groups().ToGetRequestInformation(ctx, &groups.GroupsRequestBuilderGetRequestConfiguration{
		QueryParameters: &groups.GroupsRequestBuilderGetQueryParameters{Filter: &filter, Select: []string{"id", "displayName"}, Top: &top},
	})
	if err != nil {
		return nil, fmt.Errorf("find groups: %w", err)
	}
	var out []Group
	err = pages(ctx, c, "find groups by "+prop, PermGroupsRead, ri, func(_ int, pg *groupPage) (string, error) {
		for _, g := range pg.Value {
			out = append(out, Group{ID: strings.ToLower(g.ID), DisplayName: g.DisplayName})
		}
		return pg.NextLink, nil
	}, func(next string) (*abs.RequestInformation, error) {
		return c.gs.Groups().WithUrl(next).ToGetRequestInformation(ctx, nil)
	})
	return out, err
}

// memberPage is one page of GET /groups/{id}/members/microsoft.graph.user?$select=id.
type memberPage struct {
	Value []struct {
		ID string `json:"id"`
	} `json:"value"`
	NextLink string `json:"@odata.nextLink"`
}

// GroupMembers reads the ids of the users who are direct members of the
// group (members through nested groups are not).
func (c *Client) GroupMembers(ctx context.Context, groupID string) ([]string, error) {
	op := "list members of group " + groupID
	if groupID == "" {
		return nil, fmt.Errorf("%s: no group id", op)
	}
	top := int32(PageSize)
	ri, err := c.gs.Groups().ByGroupId(groupID).Members().GraphUser().ToGetRequestInformation(ctx,
		&groups.ItemMembersGraphUserRequestBuilderGetRequestConfiguration{
			QueryParameters: &groups.ItemMembersGraphUserRequestBuilderGetQueryParameters{Select: []string{"id"}, Top: &top},
		})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	var out []string
	err = pages(ctx, c, op, PermGroupsRead, ri, func(_ int, pg *memberPage) (string, error) {
		for _, m := range pg.Value {
			out = append(out, strings.ToLower(m.ID))
		}
		return pg.NextLink, nil
	}, func(next string) (*abs.RequestInformation, error) {
		return c.gs.Groups().ByGroupId(groupID).Members().GraphUser().WithUrl(next).ToGetRequestInformation(ctx, nil)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Sku is a license subscription of the tenant: Enabled units may be
// assigned, Consumed are.
type Sku struct {
	ID, PartNumber    string
	Enabled, Consumed int
}

// skuPage is GET /subscribedSkus.
type skuPage struct {
	Value []struct {
		SkuID         string `json:"skuId"`
		SkuPartNumber string `json:"skuPartNumber"`
		ConsumedUnits int    `json:"consumedUnits"`
		PrepaidUnits  struct {
			Enabled int `json:"enabled"`
		} `json:"prepaidUnits"`
	} `json:"value"`
	NextLink string `json:"@odata.nextLink"`
}

// ListSkus reads the tenant's license subscriptions (skuIds lower-cased).
func (c *Client) ListSkus(ctx context.Context) ([]Sku, error) {
	const op = "list subscribed SKUs"
	ri, err := c.gs.SubscribedSkus().ToGetRequestInformation(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	var out []Sku
	err = pages(ctx, c, op, PermOrganization, ri, func(_ int, pg *skuPage) (string, error) {
		for _, k := range pg.Value {
			out = append(out, Sku{ID: strings.ToLower(k.SkuID), PartNumber: k.SkuPartNumber,
				Enabled: k.PrepaidUnits.Enabled, Consumed: k.ConsumedUnits})
		}
		return pg.NextLink, nil
	}, func(next string) (*abs.RequestInformation, error) {
		return c.gs.SubscribedSkus().WithUrl(next).ToGetRequestInformation(ctx, nil)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
