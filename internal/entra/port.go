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
