package entra

import (
	"context"
	"slices"
	"strconv"

	"github.com/hrsync/hrsync/internal/directory"
	"github.com/hrsync/hrsync/internal/identity"
)

// Directory is Microsoft Entra ID behind hrsync's directory port: a Client
// with the schema and the identity of the tenant its credentials reach.
type Directory struct {
	*Client
	info   directory.Info
	schema *identity.Schema
	// done, if not nil, runs after the client is closed (the sandbox
	// stops its emulator and saves the tenant).
	done func(context.Context) error
}

var (
	_ directory.Directory = (*Directory)(nil)
	_ directory.Licensed  = (*Directory)(nil)
	_ directory.Tracker   = (*Directory)(nil)
)

// NewDirectory puts c behind the directory port. targetType names it in
// plans (entra or sandbox) and endpoint is where it is; tenant is the
// tenant the credentials reach (see Client.Tenant). done, if not nil, runs
// when the directory is closed.
func NewDirectory(c *Client, targetType, endpoint, tenant string, done func(context.Context) error) *Directory {
	return &Directory{Client: c, schema: identity.EntraSchema(), done: done, info: directory.Info{
		Type: targetType, TenantID: tenant, Endpoint: endpoint,
		LookupsPerRequest: BatchSize, UsersPerPage: deltaPageSize,
	}}
}

// deltaPageSize is how many users a page of /users/delta carries.
const deltaPageSize = 200

// Info identifies the tenant.
func (d *Directory) Info() directory.Info { return d.info }

// Schema is Entra's user schema.
func (d *Directory) Schema() *identity.Schema { return d.schema }

// ReadUsers reads every user (see Client.ReadUsers).
func (d *Directory) ReadUsers(ctx context.Context, q directory.Query, progress func(int)) ([]identity.User, error) {
	return d.Client.ReadUsers(ctx, withLicenses(q), q.Manager, progress)
}

// ReadUsersTracked reads every user as ReadUsers does, in partitions
// balanced by sample's userPrincipalNames when given, and returns the
// deltaLink for the changes made from the start of the read on, taken
// before the first page: a change made while the pages are read comes back
// in the next round, never lost. The state is "" when Graph's delta query
// cannot track q (the licenses) or refused the deltaLink (logged).
func (d *Directory) ReadUsersTracked(ctx context.Context, q directory.Query, sample []identity.User, progress func(int)) ([]identity.User, string, error) {
	attrs := withLicenses(q)
	var upns []string
	if sample != nil {
		upns = make([]string, 0, len(sample))
		for i := range sample {
			upns = append(upns, sample[i].Attrs.Get("userPrincipalName"))
		}
	}
	if !deltaReturns(attrs) {
		users, err := d.readPartitioned(ctx, attrs, q.Manager, upns, nil, progress)
		return users, "", err
	}
	var link string
	var linkErr error
	gate := make(chan struct{})
	go func() {
		defer close(gate)
		link, linkErr = d.LatestDeltaLink(ctx, attrs, q.Manager)
	}()
	users, err := d.readPartitioned(ctx, attrs, q.Manager, upns, gate, progress)
	<-gate
	if err != nil {
		return nil, "", err
	}
	if linkErr != nil {
		d.log.Warn("graph gave no deltaLink; the next plan reads every user again", "error", linkErr)
		return users, "", nil
	}
	return users, link, nil
}

// ReadChanges follows the deltaLink state and applies what changed to
// users: a new user is added, a changed one replaced (Graph returns every
// selected property of a changed user, leaving out those that are null;
// its manager changes only with manager@delta), a deleted one removed.
func (d *Directory) ReadChanges(ctx context.Context, q directory.Query, state string, users []identity.User, progress func(int)) ([]identity.User, string, error) {
	ch, err := d.Client.ReadChanges(ctx, withLicenses(q), q.Manager, state, progress)
	if err != nil {
		return nil, "", err
	}
	at := make(map[string]int, len(users)+len(ch.Users))
	for i := range users {
		at[users[i].ID] = i
	}
	removed := 0
	for _, c := range ch.Users {
		j, known := at[c.User.ID]
		switch {
		case c.Removed && known:
			users[j].ID = ""
			delete(at, c.User.ID)
			removed++
		case c.Removed:
		case known:
			mgr := users[j].ManagerID
			users[j] = c.User
			if !c.ManagerSet {
				users[j].ManagerID = mgr
			}
		default:
			at[c.User.ID] = len(users)
			users = append(users, c.User)
		}
	}
	if removed > 0 {
		kept := users[:0]
		for _, u := range users {
			if u.ID != "" {
				kept = append(kept, u)
			}
		}
		clear(users[len(kept):])
		users = kept
	}
	d.log.Info("changes read", "entries", len(ch.Users), "removed", removed, "users", len(users))
	return users, ch.Link, nil
}

// ReadDeleted reads the users in deleted items (see ListDeletedUsers).
func (d *Directory) ReadDeleted(ctx context.Context, q directory.Query) ([]identity.DeletedUser, error) {
	return d.ListDeletedUsers(ctx, withLicenses(q))
}

// ResolveGroups finds groups by object id or display name (see
// Client.ResolveGroups).
func (d *Directory) ResolveGroups(ctx context.Context, refs []string) (map[string]directory.Group, error) {
	found, err := d.Client.ResolveGroups(ctx, refs)
	if err != nil {
		return nil, err
	}
	out := make(map[string]directory.Group, len(found))
	for ref, g := range found {
		out[ref] = directory.Group{ID: g.ID, DisplayName: g.DisplayName}
	}
	return out, nil
}

// Skus lists the tenant's subscribed SKUs.
func (d *Directory) Skus(ctx context.Context) ([]directory.Sku, error) {
	skus, err := d.ListSkus(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]directory.Sku, len(skus))
	for i, s := range skus {
		out[i] = directory.Sku{ID: s.ID, PartNumber: s.PartNumber}
	}
	return out, nil
}

// Close closes the client, then runs the directory's done function, and
// logs how Graph throttled this run, if it did.
func (d *Directory) Close(ctx context.Context) error {
	if st := d.Pacer().Stats(); st.Throttles > 0 {
		d.log.Info("graph throttled this run; hrsync slowed down", "throttled_answers", st.Throttles, "rate_cuts", st.Cuts,
			"waited", st.Paused, "final_rate_per_s", int(d.Pacer().Rate()), "write_budget_drains", st.WriteDrains,
			"writes_throttled", st.WriteLimited, "write_pace_per_s", strconv.FormatFloat(d.Pacer().WriteRate(), 'f', 2, 64))
	}
	d.Client.Close()
	if d.done != nil {
		return d.done(ctx)
	}
	return nil
}

// withLicenses is the attributes q reads, with the licenses when asked.
func withLicenses(q directory.Query) []string {
	if q.Licenses && !slices.Contains(q.Attrs, LicensesAttr) {
		return append(slices.Clip(q.Attrs), LicensesAttr)
	}
	return q.Attrs
}
