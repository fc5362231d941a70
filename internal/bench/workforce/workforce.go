// Package workforce generates the synthetic, reproducible workforce of
// hrsync's benchmark (internal/bench): an HR export of N workers with
// realistic names from several cultures (José García, Zoë Müller, Łukasz
// Nowak, Søren Jørgensen, Seán O'Brien, ...), unique 6–8 digit worker IDs,
// departments, job titles, companies, ISO country codes, hire dates and a
// manager hierarchy (one CEO, spans of control of 5–10, no cycles); and a
// sandbox tenant (a graphsim seed) that already holds most of them, with
// drift: movers, leavers, joiners and a few accounts hrsync must not touch.
//
// Everything derives from Options.Seed: the same options give byte-identical
// files. Workers are computed on demand from their index, so writing 500,000
// of them holds only a few bytes per worker (the hierarchy and the drift
// decisions), never the workforce or the tenant.
//
// The tenant holds, for every worker it knows, exactly what the bench
// mapping (Mapping, mapping.yaml) makes of that worker's CSV row — the seed
// writer runs hrsync's own mapping code — except where drift says otherwise.
// With all drift shares at 0, a plan therefore has no changes.
package workforce

import (
	"bytes"
	_ "embed" // the bench mapping
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"time"
)

//go:embed mapping.yaml
var mappingYAML []byte

// Mapping returns the content of the bench mapping file (mapping.yaml in
// this package): like mappings/example.yaml, with the worker ID in
// userPrincipalName and mailNickname so that namesakes never collide.
func Mapping() []byte { return bytes.Clone(mappingYAML) }

// Domain is the verified domain of the generated tenant, the suffix of every
// userPrincipalName the bench mapping makes.
const Domain = "contoso.com"

// initialDomain is the tenant's .onmicrosoft.com domain (admins use it).
const initialDomain = "contoso.onmicrosoft.com"

// Status values of the WorkerStatus column.
const (
	StatusActive   = "Active"
	StatusInactive = "Inactive"
)

// Header returns the column names of the generated CSV, in order.
func Header() []string {
	return []string{"WorkerID", "WorkerStatus", "FirstName", "LastName", "Department", "JobTitle",
		"ManagerID", "HireDate", "Company", "CountryCode"}
}

// Options says what to generate. Shares are fractions (0.05 is 5%).
type Options struct {
	// N is the number of workers in the HR export.
	N int
	// Seed makes the output reproducible: the same options give the same
	// files.
	Seed uint64
	// Movers is the share of workers whose tenant user still has an older
	// department and job title.
	Movers float64
	// ManagerMoves is the share of movers whose tenant user also has another
	// manager (their manager's manager, or none under the CEO).
	ManagerMoves float64
	// Joiners is the share of workers absent from the tenant. Joiners are
	// active individual contributors (new hires manage nobody yet).
	Joiners float64
	// Leavers is the number of extra managed tenant users (employeeId set,
	// absent from the export), as a share of N.
	Leavers float64
	// Inactive is the share of workers whose status is Inactive (their
	// tenant users are disabled already; none of them is a joiner).
	Inactive float64
	// Admins is the number of accounts without employeeId (at most 8).
	Admins int
	// AsOf is the date the export is taken; hire dates lie before it.
	AsOf time.Time
}

// DefaultOptions returns the benchmark's standard drift: 5% movers (40% of
// them with another manager too), 2% leavers, 3% joiners, 2% inactive
// workers and 5 admin/service accounts, as of 2026-01-15.
func DefaultOptions(n int, seed uint64) Options {
	return Options{N: n, Seed: seed, Movers: 0.05, ManagerMoves: 0.4, Joiners: 0.03, Leavers: 0.02,
		Inactive: 0.02, Admins: 5, AsOf: time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)}
}

// Drift says how a worker's tenant user differs from what the mapping makes
// of the worker.
type Drift uint8

// Drift kinds.
const (
	InSync       Drift = iota // the tenant user is exactly what the mapping makes
	Mover                     // department and job title differ
	ManagerMover              // department, job title and manager differ
	Joiner                    // no tenant user yet
)

// String names the drift kind.
func (d Drift) String() string {
	switch d {
	case InSync:
		return "in-sync"
	case Mover:
		return "mover"
	case ManagerMover:
		return "manager-mover"
	case Joiner:
		return "joiner"
	}
	return "drift(" + strconv.Itoa(int(d)) + ")"
}

// Worker is one row of the HR export, with its place in the generated
// data set.
type Worker struct {
	// Index is the worker's position in the export (0 is the CEO).
	Index       int
	ID          string
	Status      string
	FirstName   string
	LastName    string
	Department  string
	JobTitle    string
	ManagerID   string // "" for the CEO
	HireDate    string // YYYY-MM-DD
	Company     string
	CountryCode string
	// ManagerIndex is the manager's Index, -1 for the CEO.
	ManagerIndex int
	// Level is the depth in the hierarchy (the CEO is 0).
	Level int
	// Reports says the worker manages somebody.
	Reports bool
	// Drift says how the tenant differs for this worker.
	Drift Drift
}

// Record returns the worker's CSV fields in Header order.
func (w *Worker) Record() []string {
	return []string{w.ID, w.Status, w.FirstName, w.LastName, w.Department, w.JobTitle, w.ManagerID,
		w.HireDate, w.Company, w.CountryCode}
}

// Summary counts what was generated.
type Summary struct {
	Workers  int // rows in the export
	Inactive int // workers with status Inactive
	Managers int // workers with at least one report
	Depth    int // levels in the hierarchy, the CEO's included
	Joiners  int // workers absent from the tenant
	// Movers counts workers whose tenant department and title differ,
	// ManagerMoves those of them whose manager differs too.
	Movers       int
	ManagerMoves int
	Leavers      int // managed tenant users absent from the export
	Admins       int // tenant users without employeeId
	TenantUsers  int // users in the seed
	Managed      int // seed users with employeeId
}

// Expected returns the plan a correct sync makes of this data set: one
// create per joiner, one update per mover, one disable per leaver.
func (s Summary) Expected() (create, update, disable int) {
	return s.Joiners, s.Movers, s.Leavers
}

// UsersAfterApply is the number of users the tenant holds once the plan is
// applied: joiners are created, leavers disabled (not deleted).
func (s Summary) UsersAfterApply() int { return s.TenantUsers + s.Joiners }

// Per-index random streams: each decision has its own, so changing one
// never shifts another.
const (
	streamSpan uint64 = iota + 1
	streamAttrs
	streamInactive
	streamJoiner
	streamMover
	streamMove
	streamObjectID
	streamIDPermutation
)

// noDept marks the CEO's department (Executive).
const noDept = math.MaxUint8

// Generator produces the workers and the tenant of one data set. It holds
// the hierarchy and the drift decisions (about 8 bytes per worker) and
// computes everything else from the seed on demand. It is safe for
// concurrent use once made.
type Generator struct {
	opts      Options
	manager   []int32 // manager index, -1 for the CEO
	level     []uint8
	dept      []uint8 // index into departments; noDept for the CEO
	drift     []Drift
	inactive  []bool
	managers  int // workers [0, managers) have reports
	leavers   int
	idKeys    [4]uint64 // Feistel round keys of the employee ID permutation
	countryCW []int     // cumulative country weights
	cultureOf []int     // culture index of each country
	sum       Summary
}

// idSpace is the number of 6–8 digit IDs from 100000 to 99999999; it is
// below 2^28, the domain of the ID permutation.
const idSpace = 99_999_999 - 100_000 + 1

// New checks opts and lays out the hierarchy and the drift.
func New(opts Options) (*Generator, error) {
	if opts.N < 1 {
		return nil, fmt.Errorf("workforce: N is %d; generate at least one worker", opts.N)
	}
	for _, s := range []struct {
		name string
		v    float64
	}{{"Movers", opts.Movers}, {"ManagerMoves", opts.ManagerMoves}, {"Joiners", opts.Joiners},
		{"Leavers", opts.Leavers}, {"Inactive", opts.Inactive}} {
		if s.v < 0 || s.v > 1 || math.IsNaN(s.v) {
			return nil, fmt.Errorf("workforce: %s is %v; give a share between 0 and 1", s.name, s.v)
		}
	}
	if opts.Joiners+opts.Inactive > 0.8 {
		return nil, fmt.Errorf("workforce: Joiners (%v) and Inactive (%v) together exceed 0.8: only individual contributors can be either", opts.Joiners, opts.Inactive)
	}
	if opts.Admins < 0 || opts.Admins > len(adminAccounts) {
		return nil, fmt.Errorf("workforce: Admins is %d; give 0 to %d", opts.Admins, len(adminAccounts))
	}
	leavers := int(math.Round(opts.Leavers * float64(opts.N)))
	if total := opts.N + leavers; total > idSpace {
		return nil, fmt.Errorf("workforce: %d workers and leavers do not fit in 6–8 digit IDs", total)
	}
	if opts.AsOf.IsZero() {
		opts.AsOf = DefaultOptions(0, 0).AsOf
	}
	g := &Generator{
		opts:     opts,
		manager:  make([]int32, opts.N),
		level:    make([]uint8, opts.N),
		dept:     make([]uint8, opts.N),
		drift:    make([]Drift, opts.N),
		inactive: make([]bool, opts.N),
		leavers:  leavers,
	}
	if err := g.countryTables(); err != nil {
		return nil, err
	}
	g.employeeIDs()
	g.hierarchy()
	g.decideDrift()
	g.summarise()
	return g, nil
}

// countryTables resolves each country's culture and the weights.
func (g *Generator) countryTables() error {
	byName := make(map[string]int, len(cultures))
	for i, c := range cultures {
		byName[c.name] = i
	}
	total := 0
	for _, c := range countries {
		ci, ok := byName[c.culture]
		if !ok {
			return fmt.Errorf("workforce: country %s names unknown culture %q", c.code, c.culture)
		}
		total += c.weight
		g.countryCW = append(g.countryCW, total)
		g.cultureOf = append(g.cultureOf, ci)
	}
	return nil
}

// employeeIDs draws the round keys of the permutation that numbers workers
// and leavers.
func (g *Generator) employeeIDs() {
	r := g.rng(0, streamIDPermutation)
	for i := range g.idKeys {
		g.idKeys[i] = r.Uint64()
	}
}

// hierarchy assigns managers in breadth-first order: the CEO (worker 0)
// heads one department head per department, every later manager takes the
// next 5–10 workers. A manager always comes before its reports, so the
// hierarchy has no cycles.
func (g *Generator) hierarchy() {
	n := len(g.manager)
	g.manager[0], g.level[0], g.dept[0] = -1, 0, noDept
	next, m := 1, 0
	for next < n {
		span := len(departments)
		if m > 0 {
			span = 5 + g.rng(m, streamSpan).IntN(6)
		}
		for range span {
			if next >= n {
				break
			}
			g.manager[next] = int32(m)
			g.level[next] = g.level[m] + 1
			if m == 0 {
				g.dept[next] = uint8(next - 1)
			} else {
				g.dept[next] = g.dept[m]
			}
			next++
		}
		m++
	}
	g.managers = m
}

// decideDrift picks the inactive workers, the joiners and the movers, each
// from its own random stream, scaling each share to the workers eligible
// for it so that it applies to the whole workforce.
func (g *Generator) decideDrift() {
	n := len(g.manager)
	leaves := n - g.managers
	if leaves == 0 {
		return
	}
	pInactive := min(1, g.opts.Inactive*float64(n)/float64(leaves))
	for i := g.managers; i < n; i++ {
		if i > 0 && g.rng(i, streamInactive).Float64() < pInactive {
			g.inactive[i] = true
		}
	}
	eligible := 0
	for i := g.managers; i < n; i++ {
		if i > 0 && !g.inactive[i] {
			eligible++
		}
	}
	if eligible > 0 {
		pJoin := min(1, g.opts.Joiners*float64(n)/float64(eligible))
		for i := g.managers; i < n; i++ {
			if i > 0 && !g.inactive[i] && g.rng(i, streamJoiner).Float64() < pJoin {
				g.drift[i] = Joiner
			}
		}
	}
	present := 0
	for i := 1; i < n; i++ {
		if g.drift[i] != Joiner {
			present++
		}
	}
	if present == 0 {
		return
	}
	pMove := min(1, g.opts.Movers*float64(n)/float64(present))
	for i := 1; i < n; i++ {
		if g.drift[i] == Joiner {
			continue
		}
		r := g.rng(i, streamMover)
		if r.Float64() < pMove {
			g.drift[i] = Mover
			if r.Float64() < g.opts.ManagerMoves {
				g.drift[i] = ManagerMover
			}
		}
	}
}

func (g *Generator) summarise() {
	s := Summary{Workers: len(g.manager), Managers: g.managers, Leavers: g.leavers, Admins: g.opts.Admins}
	for i := range g.manager {
		if g.inactive[i] {
			s.Inactive++
		}
		s.Depth = max(s.Depth, int(g.level[i])+1)
		switch g.drift[i] {
		case Joiner:
			s.Joiners++
		case Mover:
			s.Movers++
		case ManagerMover:
			s.Movers++
			s.ManagerMoves++
		}
	}
	s.Managed = s.Workers - s.Joiners + s.Leavers
	s.TenantUsers = s.Managed + s.Admins
	g.sum = s
}

// Options returns the options the generator was made with (AsOf filled in).
func (g *Generator) Options() Options { return g.opts }

// Summary counts what the generator produces.
func (g *Generator) Summary() Summary { return g.sum }

// N is the number of workers.
func (g *Generator) N() int { return len(g.manager) }

// rng returns the random stream for one index and purpose (a stream
// constant, possibly with a tag in its higher bits).
func (g *Generator) rng(i int, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(splitmix(g.opts.Seed^splitmix(stream)), splitmix(uint64(i))))
}

// splitmix is SplitMix64's finaliser: it spreads nearby inputs apart.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// EmployeeID returns the worker ID of worker k (k >= N numbers leavers):
// 100000 plus a pseudo-random permutation of k over the 6–8 digit range,
// so IDs never repeat and look like an HR system's, not like a counter.
func (g *Generator) EmployeeID(k int) string {
	x := uint64(k)
	for { // cycle-walk the 28-bit permutation into [0, idSpace)
		x = g.feistel(x)
		if x < idSpace {
			break
		}
	}
	return strconv.FormatUint(100_000+x, 10)
}

// feistel is a four-round Feistel network: a bijection on [0, 2^28).
func (g *Generator) feistel(x uint64) uint64 {
	const half, mask = 14, 1<<14 - 1
	l, r := x>>half&mask, x&mask
	for _, key := range g.idKeys {
		l, r = r, l^splitmix(r^key)&mask
	}
	return l<<half | r
}

// objectID returns the directory object id of tenant user k: workers and
// leavers by their number, admins (tag 1) by theirs. It is a random
// (version 4) GUID drawn from the seed.
func (g *Generator) objectID(k int, tag uint64) string {
	r := g.rng(k, streamObjectID|tag<<8)
	hi, lo := r.Uint64(), r.Uint64()
	hi = hi&^0xf000 | 0x4000                      // version 4
	lo = lo&^(0xc000_0000_0000_0000) | 0x8000<<48 // RFC 4122 variant
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", hi>>32, hi>>16&0xffff, hi&0xffff, lo>>48, lo&0xffff_ffff_ffff)
}

// Worker returns worker i (0 <= i < N).
func (g *Generator) Worker(i int) Worker {
	w := g.person(i)
	w.Index = i
	w.ManagerIndex = int(g.manager[i])
	w.Level = int(g.level[i])
	w.Reports = i < g.managers
	w.Drift = g.drift[i]
	if w.ManagerIndex >= 0 {
		w.ManagerID = g.EmployeeID(w.ManagerIndex)
	}
	if g.inactive[i] {
		w.Status = StatusInactive
	}
	d := g.dept[i]
	r := g.rng(i, streamAttrs|1<<8)
	switch {
	case i == 0:
		w.Department, w.JobTitle = executive, "Chief Executive Officer"
		w.CountryCode, w.Company = countries[0].code, countries[0].company
	case w.Level == 1:
		w.Department, w.JobTitle = departments[d].name, departments[d].head
	case w.Level == 2 && w.Reports:
		w.Department, w.JobTitle = departments[d].name, departments[d].director
	case w.Reports:
		w.Department, w.JobTitle = departments[d].name, pick(r, departments[d].managers)
	default:
		w.Department, w.JobTitle = departments[d].name, pick(r, departments[d].staff)
	}
	// Joiners are recent hires; everyone else joined 1–28 years ago.
	days := 365 + r.IntN(27*365)
	if w.Drift == Joiner {
		days = 1 + r.IntN(120)
	}
	w.HireDate = g.opts.AsOf.AddDate(0, 0, -days).Format(time.DateOnly)
	return w
}

// person draws the name and country of tenant user k (a worker, or a
// leaver for k >= N).
func (g *Generator) person(k int) Worker {
	r := g.rng(k, streamAttrs)
	x := r.IntN(g.countryCW[len(g.countryCW)-1])
	ci := 0
	for g.countryCW[ci] <= x {
		ci++
	}
	cul := g.cultureOf[ci]
	if r.IntN(100) < 15 { // people move: any name in any country
		cul = r.IntN(len(cultures))
	}
	c := cultures[cul]
	return Worker{
		ID:          g.EmployeeID(k),
		Status:      StatusActive,
		FirstName:   pick(r, c.first),
		LastName:    pick(r, c.last),
		CountryCode: countries[ci].code,
		Company:     countries[ci].company,
	}
}

// leaver returns the HR row leaver j had before leaving: what the tenant
// user was made from.
func (g *Generator) leaver(j int) (w Worker, managerIndex int) {
	k := g.N() + j
	w = g.person(k)
	w.Index = k
	r := g.rng(k, streamAttrs|1<<8)
	d := departments[r.IntN(len(departments))]
	w.Department, w.JobTitle = d.name, pick(r, d.staff)
	w.HireDate = g.opts.AsOf.AddDate(0, 0, -(365 + r.IntN(20*365))).Format(time.DateOnly)
	// Any manager: managers are never joiners, so they are in the tenant.
	if g.managers > 0 {
		managerIndex = r.IntN(g.managers)
	}
	w.ManagerIndex = managerIndex
	w.ManagerID = g.EmployeeID(managerIndex)
	return w, managerIndex
}

// moved returns the department and job title a mover's tenant user still
// has: another department's, at the same kind of position.
func (g *Generator) moved(w *Worker) (department, jobTitle string) {
	r := g.rng(w.Index, streamMove)
	cur := int(g.dept[w.Index])
	od := r.IntN(len(departments))
	if od == cur {
		od = (od + 1) % len(departments)
	}
	d := departments[od]
	switch {
	case w.Level == 1:
		return d.name, d.head
	case w.Level == 2 && w.Reports:
		return d.name, d.director
	case w.Reports:
		return d.name, pick(r, d.managers)
	}
	title := pick(r, d.staff)
	return d.name, title
}

// tenantManager returns the index of the manager worker i has in the
// tenant, -1 for none.
func (g *Generator) tenantManager(i int) int {
	m := int(g.manager[i])
	if m < 0 || g.drift[m] == Joiner {
		return -1
	}
	if g.drift[i] == ManagerMover {
		return int(g.manager[m]) // the manager's manager; -1 under the CEO
	}
	return m
}

func pick(r *rand.Rand, s []string) string { return s[r.IntN(len(s))] }
