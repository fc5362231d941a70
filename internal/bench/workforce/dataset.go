package workforce

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hrsync/hrsync/internal/graphsim"
	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/mapping"
)

// File names of a data set written by WriteFiles.
const (
	CSVFile     = "workers.csv"
	SeedFile    = "tenant-seed.json"
	MappingFile = "mapping.yaml"
)

// ctxEvery is how many rows are written between checks for cancellation.
const ctxEvery = 4096

// Files are the paths of a written data set.
type Files struct {
	Dir     string
	CSV     string // the HR export
	Seed    string // the graphsim seed tenant
	Mapping string // the bench mapping
}

// WriteFiles writes the HR export (workers.csv), the seed tenant
// (tenant-seed.json) and the bench mapping (mapping.yaml) into dir, which
// must exist. Files are streamed: memory does not grow with N.
func (g *Generator) WriteFiles(ctx context.Context, dir string) (Files, error) {
	f := Files{Dir: dir, CSV: filepath.Join(dir, CSVFile), Seed: filepath.Join(dir, SeedFile),
		Mapping: filepath.Join(dir, MappingFile)}
	if err := os.WriteFile(f.Mapping, mappingYAML, 0o644); err != nil {
		return Files{}, fmt.Errorf("write bench mapping: %w", err)
	}
	if err := writeFile(f.CSV, func(w io.Writer) error { return g.WriteCSV(ctx, w) }); err != nil {
		return Files{}, err
	}
	if err := writeFile(f.Seed, func(w io.Writer) error { return g.WriteSeed(ctx, w) }); err != nil {
		return Files{}, err
	}
	return f, nil
}

// writeFile creates path and fills it through a buffer.
func writeFile(path string, fill func(io.Writer) error) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close %s: %w", path, cerr)
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := fill(bw); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// WriteCSV writes the HR export: the Header, then one row per worker in
// index order (the CEO first), comma-separated, quoted where needed.
func (g *Generator) WriteCSV(ctx context.Context, w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(Header()); err != nil {
		return fmt.Errorf("csv header: %w", err)
	}
	for i := range g.N() {
		if i%ctxEvery == 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("csv: %w", err)
			}
		}
		wk := g.Worker(i)
		if err := cw.Write(wk.Record()); err != nil {
			return fmt.Errorf("csv row %d: %w", i+2, err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("csv: %w", err)
	}
	return nil
}

// Tenant returns the identity of the generated tenant.
func (g *Generator) Tenant() graphsim.Tenant {
	return graphsim.Tenant{ID: g.objectID(0, 2), DisplayName: "Contoso (hrsync bench)"}
}

// Domains returns the generated tenant's verified domains.
func Domains() []string { return []string{Domain, initialDomain} }

// projector turns workers into the tenant users the bench mapping makes of
// them, with hrsync's own mapping code.
type projector struct {
	m      *mapping.Mapping
	header *identity.Header
	now    time.Time // the clock of the sync that left the tenant so
}

func newProjector() (*projector, error) {
	m, err := mapping.Parse(MappingFile, mappingYAML, identity.EntraSchema())
	if err != nil {
		return nil, fmt.Errorf("bench mapping: %w", err)
	}
	return &projector{m: m, header: identity.NewHeader(Header())}, nil
}

// user maps w and converts the result into a graphsim user with the given
// object id. managerID is the manager's object id ("" for none); the
// mapped manager key must be wantManagerKey.
func (p *projector) user(w *Worker, id, managerID string) (graphsim.User, error) {
	rec := &identity.Record{Header: p.header, Values: w.Record(),
		Prov: identity.Provenance{File: CSVFile, Line: w.Index + 2}}
	d, err := p.m.Map(rec, p.now)
	if err != nil {
		return graphsim.User{}, fmt.Errorf("map worker %s: %w", w.ID, err)
	}
	if d.ManagerKey != w.ManagerID {
		return graphsim.User{}, fmt.Errorf("map worker %s: manager key %q, want %q", w.ID, d.ManagerKey, w.ManagerID)
	}
	u := graphsim.User{ID: id, Manager: managerID}
	for name, v := range d.Attrs.All() {
		if err := setUserAttr(&u, name, v); err != nil {
			return graphsim.User{}, fmt.Errorf("worker %s: %w", w.ID, err)
		}
	}
	return u, nil
}

// setUserAttr stores a canonical mapped value (see mapping.Canonical) in
// the graphsim user, as Graph would hold it.
func setUserAttr(u *graphsim.User, name, v string) error {
	switch name {
	case "accountEnabled":
		u.AccountEnabled = v == "true"
	case "displayName":
		u.DisplayName = v
	case "givenName":
		u.GivenName = v
	case "surname":
		u.Surname = v
	case "userPrincipalName":
		u.UserPrincipalName = v
	case "mailNickname":
		u.MailNickname = v
	case "department":
		u.Department = v
	case "jobTitle":
		u.JobTitle = v
	case "companyName":
		u.CompanyName = v
	case "usageLocation":
		u.UsageLocation = v
	case "employeeId":
		u.EmployeeID = v
	case "employeeHireDate":
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return fmt.Errorf("employeeHireDate %q: %w", v, err)
		}
		u.EmployeeHireDate = t
	default:
		return fmt.Errorf("the bench mapping sets %s, which the seed writer does not know", name)
	}
	return nil
}

// WriteSeed writes the tenant as a graphsim state (seed) document: the
// admins, then every worker that is not a joiner, in export order, with the
// leavers spread among them. Users are encoded one at a time.
func (g *Generator) WriteSeed(ctx context.Context, w io.Writer) error {
	p, err := newProjector()
	if err != nil {
		return err
	}
	p.now = g.opts.AsOf
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	sw := &seedWriter{w: w, enc: enc}
	sw.raw(`{"tenant":`)
	sw.value(g.Tenant())
	sw.raw(`,"domains":`)
	sw.value(Domains())
	sw.raw(`,"users":[`)
	for a := range g.opts.Admins {
		acc := adminAccounts[a]
		nick, _, _ := strings.Cut(acc.upn, "@")
		sw.user(graphsim.User{ID: g.objectID(a, 1), AccountEnabled: true, DisplayName: acc.name,
			UserPrincipalName: acc.upn, MailNickname: nick, UsageLocation: "US"})
	}
	n, nextLeaver := g.N(), 0
	for i := range n {
		if i%ctxEvery == 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("seed: %w", err)
			}
		}
		if sw.err != nil {
			return sw.err
		}
		if g.drift[i] != Joiner {
			u, err := g.tenantWorker(p, i)
			if err != nil {
				return err
			}
			sw.user(u)
		}
		// Leaver j sits after worker j*N/L.
		for nextLeaver < g.leavers && nextLeaver*n/g.leavers <= i {
			u, err := g.tenantLeaver(p, nextLeaver)
			if err != nil {
				return err
			}
			sw.user(u)
			nextLeaver++
		}
	}
	sw.raw("]}\n")
	if sw.err != nil {
		return sw.err
	}
	if sw.users != g.sum.TenantUsers {
		return fmt.Errorf("seed: wrote %d users, expected %d", sw.users, g.sum.TenantUsers)
	}
	return nil
}

// tenantWorker is the tenant user of worker i, drift applied.
func (g *Generator) tenantWorker(p *projector, i int) (graphsim.User, error) {
	wk := g.Worker(i)
	mgr := ""
	if m := g.tenantManager(i); m >= 0 {
		mgr = g.objectID(m, 0)
	}
	u, err := p.user(&wk, g.objectID(i, 0), mgr)
	if err != nil {
		return u, err
	}
	if wk.Drift == Mover || wk.Drift == ManagerMover {
		u.Department, u.JobTitle = g.moved(&wk)
	}
	return u, nil
}

// tenantLeaver is the tenant user of leaver j: made by the mapping from the
// row they had in HR, still enabled.
func (g *Generator) tenantLeaver(p *projector, j int) (graphsim.User, error) {
	wk, m := g.leaver(j)
	return p.user(&wk, g.objectID(wk.Index, 0), g.objectID(m, 0))
}

// seedWriter writes JSON pieces, keeping the first error.
type seedWriter struct {
	w     io.Writer
	enc   *json.Encoder
	users int
	err   error
}

func (s *seedWriter) raw(text string) {
	if s.err == nil {
		_, s.err = io.WriteString(s.w, text)
	}
}

func (s *seedWriter) value(v any) {
	if s.err == nil {
		s.err = s.enc.Encode(v)
	}
}

func (s *seedWriter) user(u graphsim.User) {
	if s.users > 0 {
		s.raw(",")
	}
	s.value(&u)
	s.users++
}
