package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hrsync/hrsync/internal/config"
	"github.com/hrsync/hrsync/internal/directory"
	"github.com/hrsync/hrsync/internal/entra"
	"github.com/hrsync/hrsync/internal/graphsim"
	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/plan"
	"github.com/hrsync/hrsync/internal/targets"
)

// clock is a settable time source shared by graphsim and the engines.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// dropRemovals wraps a directory so that its change reads forget
// removals: a user the changes delete stays in the result, the bug a cache
// that ignores @removed would have. The equivalence test must catch it.
type dropRemovals struct{ directory.Directory }

func (d dropRemovals) ReadUsersTracked(ctx context.Context, q directory.Query, sample []identity.User, progress func(int)) ([]identity.User, string, error) {
	return d.Directory.(directory.Tracker).ReadUsersTracked(ctx, q, sample, progress)
}

func (d dropRemovals) ReadChanges(ctx context.Context, q directory.Query, state string, users []identity.User, progress func(int)) ([]identity.User, string, error) {
	before := slices.Clone(users)
	after, next, err := d.Directory.(directory.Tracker).ReadChanges(ctx, q, state, users, progress)
	if err != nil {
		return nil, "", err
	}
	kept := map[string]bool{}
	for _, u := range after {
		kept[u.ID] = true
	}
	for _, u := range before {
		if !kept[u.ID] {
			after = append(after, u)
		}
	}
	return after, next, nil
}

// equivalence is the set-up of the cache equivalence test: a tenant served
// by graphsim, an HR file, an engine that plans through the user cache and
// one that reads every user.
type equivalence struct {
	t      *testing.T
	rng    *rand.Rand
	clk    *clock
	srv    *graphsim.Server
	dir    string
	cached *Engine
	full   *Engine
	admin  *entra.Client
	ws     []*worker
	next   int
}

func newEquivalence(t *testing.T, seed uint64, wrap func(directory.Directory) directory.Directory) *equivalence {
	t.Helper()
	q := &equivalence{t: t, rng: rand.New(rand.NewPCG(seed, 99)), clk: &clock{t: time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)}, dir: t.TempDir()}
	const token = "equivalence-token"
	seedState := graphsim.State{Domains: []string{"contoso.com"}, Users: []graphsim.User{
		{ID: "a0000000-0000-0000-0000-000000000001", AccountEnabled: true, DisplayName: "Admin", UserPrincipalName: "admin@contoso.com", MailNickname: "admin"},
		{ID: "a0000000-0000-0000-0000-000000000002", AccountEnabled: true, DisplayName: "Break Glass", UserPrincipalName: "bg@contoso.com", MailNickname: "bg"},
	}}
	data, err := json.Marshal(seedState)
	if err != nil {
		t.Fatal(err)
	}
	seedPath := filepath.Join(q.dir, "seed.json")
	if err := os.WriteFile(seedPath, data, 0o600); err != nil {
		t.Fatal(err)
	}
	// Faults: a few 503s and 504s on requests and $batch items, retried.
	q.srv, err = graphsim.New(graphsim.Options{SeedPath: seedPath, Token: token, Now: q.clk.now, BatchSeed: seed,
		Faults: graphsim.Faults{Seed: seed, ServerErrors: 0.002}})
	if err != nil {
		t.Fatal(err)
	}
	base, err := q.srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = q.srv.Close(context.Background()) })
	t.Setenv("HRSYNC_ACCESS_TOKEN", token)
	mapping, err := os.ReadFile(filepath.Join("..", "..", "mappings", "example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"m.yaml": string(mapping),
		"hrsync.yaml": "source:\n  path: hr.csv\nmapping: m.yaml\ntarget:\n  type: entra\n  auth: access_token\n  graph_url: " + base +
			"\n  concurrency: 2\npolicy:\n  max_leavers: 0\n  max_leavers_percent: 0\n  max_source_drop_percent: 0\n",
	} {
		if err := os.WriteFile(filepath.Join(q.dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := config.Load(config.Options{File: filepath.Join(q.dir, "hrsync.yaml"), FileExplicit: true})
	if err != nil {
		t.Fatal(err)
	}
	open := targets.Open
	if wrap != nil {
		open = func(ctx context.Context, cfg *config.Config, log *slog.Logger) (directory.Directory, error) {
			d, err := targets.Open(ctx, cfg, log)
			if err != nil {
				return nil, err
			}
			return wrap(d), nil
		}
	}
	for _, e := range []**Engine{&q.cached, &q.full} {
		if *e, err = New(cfg, nil, nil, "test", open); err != nil {
			t.Fatal(err)
		}
		(*e).Now = q.clk.now
	}
	q.full.CacheDir = NoCache
	if q.admin, err = entra.New(entra.Options{GraphURL: base, Auth: entra.Auth{Method: config.AuthAccessToken, Token: token}, Concurrency: 2}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(q.admin.Close)
	for range 60 {
		q.ws = append(q.ws, q.newWorker())
	}
	return q
}

func (q *equivalence) newWorker() *worker {
	q.next++
	w := &worker{id: fmt.Sprintf("E%04d", q.next), status: "Active", first: firsts[q.rng.IntN(len(firsts))],
		last: lasts[q.rng.IntN(len(lasts))] + " " + letters(q.next), dept: depts[q.rng.IntN(len(depts))], title: "Engineer",
		hire: fmt.Sprintf("20%02d-%02d-%02d", 10+q.rng.IntN(16), 1+q.rng.IntN(12), 1+q.rng.IntN(28))}
	if len(q.ws) > 0 && q.rng.IntN(10) > 0 {
		w.manager = q.ws[q.rng.IntN(len(q.ws))].id
	}
	return w
}

// users lists the tenant's users (id, employeeId) as the admin sees them.
func (q *equivalence) users(ctx context.Context) []identity.User {
	q.t.Helper()
	q.admin.SetReadScheme(entra.SchemeSequential)
	us, err := q.admin.ListUsers(ctx, []string{"employeeId", "department"}, false, nil)
	if err != nil {
		q.t.Fatal(err)
	}
	return us
}

// adminEdits changes the tenant behind hrsync's back: attribute edits and
// clears, managers set and removed, deletes, restores, new accounts (some
// holding a worker's key).
func (q *equivalence) adminEdits(ctx context.Context) {
	q.t.Helper()
	us := q.users(ctx)
	if len(us) == 0 {
		return
	}
	pick := func() identity.User { return us[q.rng.IntN(len(us))] }
	var ops []directory.Op
	for range 1 + q.rng.IntN(6) {
		switch u := pick(); q.rng.IntN(8) {
		case 0, 1:
			ops = append(ops, directory.Op{Kind: directory.OpUpdate, UserID: u.ID, Set: map[string]*string{"department": ptr(depts[q.rng.IntN(len(depts)-1)] + " (edited)")}})
		case 2:
			ops = append(ops, directory.Op{Kind: directory.OpUpdate, UserID: u.ID, Set: map[string]*string{"jobTitle": nil, "department": nil}})
		case 3:
			ops = append(ops, directory.Op{Kind: directory.OpSetManager, UserID: u.ID, ManagerID: pick().ID})
		case 4:
			ops = append(ops, directory.Op{Kind: directory.OpRemoveManager, UserID: u.ID})
		case 5:
			ops = append(ops, directory.Op{Kind: directory.OpDelete, UserID: u.ID})
		case 6:
			n := q.rng.IntN(1 << 30)
			attrs := identity.AttrsOf(map[string]string{"displayName": "Contractor", "userPrincipalName": fmt.Sprintf("c%d@contoso.com", n), "mailNickname": fmt.Sprintf("c%d", n)})
			if q.rng.IntN(2) == 0 {
				attrs.Set("employeeId", q.ws[q.rng.IntN(len(q.ws))].id) // a second account with a worker's key
			}
			ops = append(ops, directory.Op{Kind: directory.OpCreate, Attrs: attrs, Password: "Pa55-word-" + fmt.Sprint(n)})
		case 7:
			del, err := q.admin.ListDeletedUsers(ctx, []string{"employeeId"})
			if err != nil {
				q.t.Fatal(err)
			}
			if len(del) > 0 {
				ops = append(ops, directory.Op{Kind: directory.OpRestore, UserID: del[q.rng.IntN(len(del))].ID})
			}
		}
	}
	// Each op on its own: some depend on others (a restore of a user just
	// deleted); refusals (a restore whose UPN is taken) are fine.
	for _, op := range ops {
		q.admin.Do(ctx, []directory.Op{op}, directory.DoOptions{}, func(int, directory.Outcome) {})
	}
}

// hrChanges evolves the workforce: leavers, movers, manager changes,
// status flips, joiners.
func (q *equivalence) hrChanges() {
	for i := 0; i < len(q.ws); i++ {
		switch w := q.ws[i]; q.rng.IntN(25) {
		case 0:
			q.ws = append(q.ws[:i], q.ws[i+1:]...)
			i--
		case 1, 2:
			w.dept = depts[q.rng.IntN(len(depts))]
		case 3:
			w.manager = ""
			if q.rng.IntN(4) > 0 {
				w.manager = q.ws[q.rng.IntN(len(q.ws))].id
			}
		case 4:
			w.status = map[string]string{"Active": "Inactive", "Inactive": "Active"}[w.status]
		}
	}
	for range q.rng.IntN(4) {
		q.ws = append(q.ws, q.newWorker())
	}
}

// plans makes the plan through the cache and the plan from a full read,
// and fails the test when they differ.
func (q *equivalence) plans(ctx context.Context, round int) (*plan.Plan, error) {
	q.t.Helper()
	pc, dc, err := q.cached.MakePlan(ctx)
	if err != nil {
		q.t.Fatalf("round %d: cached plan: %v", round, err)
	}
	pf, df, err := q.full.MakePlan(ctx)
	if err != nil {
		q.t.Fatalf("round %d: full plan: %v", round, err)
	}
	if diff := diffUsers(dc.Users, df.Users); diff != "" {
		return pc, fmt.Errorf("round %d: the cached read differs from a full read: %s", round, diff)
	}
	jc, _ := json.Marshal(pc)
	jf, _ := json.Marshal(pf)
	if string(jc) != string(jf) {
		return pc, fmt.Errorf("round %d: the plan from the cache differs from the full plan:\ncached %v\nfull   %v", round, actionsSummary(pc), actionsSummary(pf))
	}
	return pc, nil
}

// diffUsers describes how two reads differ ("" when they hold the same
// users).
func diffUsers(a, b []identity.User) string {
	key := func(us []identity.User) map[string]string {
		m := make(map[string]string, len(us))
		for _, u := range us {
			j, _ := json.Marshal(u)
			m[u.ID] = string(j)
		}
		return m
	}
	ka, kb := key(a), key(b)
	var out []string
	for id, v := range ka {
		if w, ok := kb[id]; !ok {
			out = append(out, "only cached: "+v)
		} else if v != w {
			out = append(out, "cached "+v+" full "+w)
		}
	}
	for id, v := range kb {
		if _, ok := ka[id]; !ok {
			out = append(out, "only full: "+v)
		}
	}
	slices.Sort(out)
	if len(out) > 5 {
		out = append(out[:5], fmt.Sprintf("... %d differences", len(out)))
	}
	return strings.Join(out, "; ")
}

// run plays rounds of drift: HR changes, admin edits, deletes, restores,
// manager changes, hrsync's own applies, a delta token that expires, a
// damaged cache and a forced full read; each round's cached plan must equal
// the full plan. It returns the first difference.
func (q *equivalence) run(rounds int) error {
	ctx := context.Background()
	for round := range rounds {
		if round > 0 {
			q.hrChanges()
			q.adminEdits(ctx)
		}
		writeWorkers(q.t, filepath.Join(q.dir, "hr.csv"), q.ws)
		switch round % 11 {
		case 5: // the delta token outlives Graph's 7 days
			q.clk.add(8 * 24 * time.Hour)
		case 7: // a damaged cache
			files, _ := filepath.Glob(filepath.Join(q.dir, ".hrsync", "cache", "*.cache"))
			for _, f := range files {
				if err := os.WriteFile(f, []byte("not a cache"), 0o600); err != nil {
					q.t.Fatal(err)
				}
			}
		case 9:
			q.cached.Refresh = RefreshFull
		}
		p, err := q.plans(ctx, round)
		q.cached.Refresh = RefreshAuto
		if err != nil {
			return err
		}
		q.clk.add(time.Hour)
		if q.rng.IntN(3) > 0 && p.Summary.Changes() > 0 {
			tgt, err := q.cached.OpenTarget(ctx)
			if err != nil {
				q.t.Fatal(err)
			}
			p.Applyable = true
			_, err = q.cached.ApplyWith(ctx, p, tgt, ApplyOptions{})
			if err = CloseTarget(ctx, tgt, err); err != nil {
				q.t.Fatalf("round %d: apply: %v", round, err)
			}
		}
	}
	return nil
}

// TestCachedPlansEqualFullPlans: over many rounds of drift, the plan made
// from the user cache and the changes since equals, action for action, the
// plan made from a full read (and the users read are the same).
func TestCachedPlansEqualFullPlans(t *testing.T) {
	rounds := 40
	if testing.Short() {
		rounds = 12
	}
	for _, seed := range []uint64{1, 2} {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			q := newEquivalence(t, seed, nil)
			if err := q.run(rounds); err != nil {
				t.Fatal(err)
			}
			st := q.srv.Stats()
			if st.Requests["GET /users/delta"] < int64(rounds/2) {
				t.Errorf("only %d delta requests in %d rounds: the cache was hardly used", st.Requests["GET /users/delta"], rounds)
			}
		})
	}
}

// The test can fail: a cache that keeps users the changes removed is
// caught within the rounds.
func TestCacheEquivalenceCatchesDroppedRemovals(t *testing.T) {
	q := newEquivalence(t, 3, func(d directory.Directory) directory.Directory { return dropRemovals{d} })
	err := q.run(40)
	if err == nil {
		t.Fatal("a cache that drops @removed went unnoticed")
	}
	if !strings.Contains(err.Error(), "only cached") {
		t.Errorf("caught, but not as a user only the cache holds: %v", err)
	}
	t.Logf("caught: %.300s", err)
}

// hideRestores wraps a directory so that its change reads leave out users
// coming back from the deleted items, as Graph's delta query with $select
// has been seen to do (microsoftgraph/microsoft-graph-docs-contrib#6555).
type hideRestores struct {
	directory.Directory
	removed map[string]bool // removed by the changes, any round
	hidden  *int
}

func (d hideRestores) ReadUsersTracked(ctx context.Context, q directory.Query, sample []identity.User, progress func(int)) ([]identity.User, string, error) {
	return d.Directory.(directory.Tracker).ReadUsersTracked(ctx, q, sample, progress)
}

func (d hideRestores) ReadChanges(ctx context.Context, q directory.Query, state string, users []identity.User, progress func(int)) ([]identity.User, string, error) {
	before := map[string]bool{}
	for _, u := range users {
		before[u.ID] = true
	}
	after, next, err := d.Directory.(directory.Tracker).ReadChanges(ctx, q, state, users, progress)
	if err != nil {
		return nil, "", err
	}
	now := map[string]bool{}
	kept := after[:0]
	for _, u := range after {
		now[u.ID] = true
		if !before[u.ID] && d.removed[u.ID] {
			*d.hidden++
			continue
		}
		kept = append(kept, u)
	}
	for id := range before {
		if !now[id] {
			d.removed[id] = true
		}
	}
	return kept, next, nil
}

// A restore the changes leave out is found all the same: the users the
// changes removed are looked for in the deleted items, and read again by
// id when they are no longer there.
func TestCacheFindsRestoresTheChangesLeaveOut(t *testing.T) {
	hidden := 0
	removed := map[string]bool{}
	q := newEquivalence(t, 4, func(d directory.Directory) directory.Directory {
		return hideRestores{Directory: d, removed: removed, hidden: &hidden}
	})
	if err := q.run(40); err != nil {
		t.Fatal(err)
	}
	if hidden == 0 {
		t.Fatal("no restore was left out: the test proves nothing")
	}
	t.Logf("%d restores left out of the changes, found all the same", hidden)
}

// failChanges wraps a directory whose change reads fail when fail is set,
// with an error other than a lost state (a server that keeps failing).
type failChanges struct {
	directory.Directory
	fail *bool
}

func (d failChanges) ReadUsersTracked(ctx context.Context, q directory.Query, sample []identity.User, progress func(int)) ([]identity.User, string, error) {
	return d.Directory.(directory.Tracker).ReadUsersTracked(ctx, q, sample, progress)
}

func (d failChanges) ReadChanges(ctx context.Context, q directory.Query, state string, users []identity.User, progress func(int)) ([]identity.User, string, error) {
	if *d.fail {
		return nil, "", fmt.Errorf("delta page: 500 Internal Server Error")
	}
	return d.Directory.(directory.Tracker).ReadChanges(ctx, q, state, users, progress)
}

// TestCacheFallbacksSaySo: each way the user cache cannot serve a plan
// (none yet, a delta token Graph no longer knows, a damaged file, a
// failed read of the changes, --refresh=full) reads every user and says
// why in the log; a cache that serves says that too. Every plan equals
// the plan from a full read.
func TestCacheFallbacksSaySo(t *testing.T) {
	fail := false
	q := newEquivalence(t, 7, func(d directory.Directory) directory.Directory { return failChanges{d, &fail} })
	var log strings.Builder
	q.cached.Log = slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	steps := []struct {
		name  string
		setup func()
		says  string
		full  bool // the plan read every user
	}{
		{"no cache yet", func() {}, "no user cache yet; reading every user", true},
		{"cache serves", func() {}, "target read: the cached users and the changes since", false},
		{"token expired", func() { q.clk.add(8 * 24 * time.Hour) }, "the directory no longer knows the user cache's state", true},
		{"damaged", func() {
			files, _ := filepath.Glob(filepath.Join(q.dir, ".hrsync", "cache", "*.cache"))
			if len(files) != 1 {
				t.Fatalf("cache files: %v", files)
			}
			if err := os.WriteFile(files[0], []byte("not a cache"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, "user cache not used; reading every user", true},
		{"changes fail", func() { fail = true }, "reading the changes since the user cache failed; reading every user", true},
		{"forced", func() { fail = false; q.cached.Refresh = RefreshFull }, "reading every user (--refresh=full)", true},
		{"serves again", func() { q.cached.Refresh = RefreshAuto }, "target read: the cached users and the changes since", false},
	}
	ctx := context.Background()
	for i, st := range steps {
		q.hrChanges()
		q.adminEdits(ctx)
		writeWorkers(t, filepath.Join(q.dir, "hr.csv"), q.ws)
		st.setup()
		log.Reset()
		if _, err := q.plans(ctx, i); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		got := log.String()
		if !strings.Contains(got, st.says) {
			t.Errorf("%s: the log does not say %q:\n%s", st.name, st.says, got)
		}
		if full := strings.Contains(got, `msg="target read" `); full != st.full {
			t.Errorf("%s: read every user = %v, want %v:\n%s", st.name, full, st.full, got)
		}
		q.clk.add(time.Hour)
	}
}
