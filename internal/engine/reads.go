package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hrsync/hrsync/internal/directory"
	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/usercache"
)

// How plans read the directory's users (Engine.Refresh).
const (
	// RefreshAuto reads the changes since the last plan when the user
	// cache holds that plan's read, every user otherwise.
	RefreshAuto = "auto"
	// RefreshFull reads every user, and renews the cache.
	RefreshFull = "full"
)

// NoCache as Engine.CacheDir turns the user cache off.
const NoCache = "-"

// cacheDir is the folder of the user cache, "" when there is none.
func (e *Engine) cacheDir() string {
	switch e.CacheDir {
	case NoCache:
		return ""
	case "":
		if e.Cfg.Dir == "" {
			return ""
		}
		return filepath.Join(e.Cfg.Dir, ".hrsync", "cache")
	}
	return e.CacheDir
}

// userRead is the users a plan read, before they are settled against
// the deleted items (see settle).
type userRead struct {
	users []identity.User
	// cached says the users came from the cache and the changes since.
	cached bool
	// gone are the users removed by the changes this round, and those in
	// the deleted items when the cache was written.
	gone []string
	// save, if not nil, writes the cache (with the users and gone as
	// settled).
	save func(users []identity.User, gone []string)
}

// readUsers reads every user for a plan. A directory that tracks changes
// (Entra's delta query) is read through the user cache: the users of the
// last plan's read and the state to continue from, kept per tenant,
// endpoint and attribute set (see package usercache). The changes since
// are read and applied; a cache that is missing, made for another tenant,
// endpoint or attribute set, or damaged, a state the directory no longer
// knows (an expired delta token) or a failed read of the changes falls
// back to reading every user, and the log says why. With Refresh
// RefreshFull every user is read. The cache is renewed once the whole
// directory read succeeded (see settle). The recheck of a saved plan
// before apply never uses the cache: it reads live (ReadTarget,
// readTouched).
func (e *Engine) readUsers(ctx context.Context, t directory.Directory) (*userRead, error) {
	tr, ok := t.(directory.Tracker)
	dir := e.cacheDir()
	// The sandbox tenant starts a new emulator, on a new port, for every
	// run: no state survives it, so there is nothing to continue from.
	if !ok || dir == "" || t.Info().Type == identity.TargetSandbox {
		users, err := e.ReadTarget(ctx, t)
		return &userRead{users: users}, err
	}
	q := e.query()
	info := t.Info()
	key := usercache.Key{Tenant: info.TenantID, Endpoint: info.Endpoint, Query: usercache.Fingerprint(q.Attrs, q.Manager, q.Licenses)}
	cf := cacheFile{key: key, path: usercache.File(dir, key)}
	bar := e.Progress.Start("reading users of "+e.Schema.Name, -1)
	defer bar.Done()
	start := time.Now()
	var sample []identity.User // the cached users, only to share the full read out evenly
	if e.Refresh == RefreshFull {
		e.Log.Info("reading every user (--refresh=full)")
		if c, err := usercache.Load(cf.path, key); err == nil {
			sample = c.Users
		}
	} else {
		read, cached, err := e.readChanges(ctx, tr, q, cf, bar.Set, start)
		if read != nil || err != nil {
			return read, err
		}
		sample = cached
	}
	users, state, err := tr.ReadUsersTracked(ctx, q, sample, bar.Set)
	if err != nil {
		return nil, fmt.Errorf("read target: %w", err)
	}
	e.Log.Info("target read", "endpoint", info.Endpoint, "users", len(users), "took", time.Since(start).Round(time.Millisecond))
	return &userRead{users: users, save: e.saver(cf, state)}, nil
}

// cacheFile is where the user cache of a directory and query is kept.
type cacheFile struct {
	key  usercache.Key
	path string
}

// readChanges reads the users as the cache holds them plus the changes
// since, as q asks (the query the cache is keyed by). When that cannot be done it logs why and returns a nil read
// (and no error, unless ctx ended): the caller reads every user, balanced
// by cached, the users the cache held if it could be loaded.
func (e *Engine) readChanges(ctx context.Context, tr directory.Tracker, q directory.Query, cf cacheFile, progress func(int), start time.Time) (read *userRead, cached []identity.User, err error) {
	c, err := usercache.Load(cf.path, cf.key)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		e.Log.Debug("no user cache yet; reading every user", "cache", cf.path)
		return nil, nil, nil
	case err != nil:
		e.Log.Warn("user cache not used; reading every user", "cache", cf.path, "error", err)
		return nil, nil, nil
	}
	before := make([]string, len(c.Users))
	for i := range c.Users {
		before[i] = c.Users[i].ID
	}
	// On failure ReadChanges leaves the users as they were: they then
	// balance the full read.
	users, state, err := tr.ReadChanges(ctx, q, c.State, c.Users, progress)
	switch {
	case err == nil:
		e.Log.Info("target read: the cached users and the changes since", "endpoint", cf.key.Endpoint, "users", len(users),
			"cached_at", c.Saved.Format(time.RFC3339), "took", time.Since(start).Round(time.Millisecond))
		return &userRead{users: users, cached: true, gone: removedIDs(before, users, c.Gone), save: e.saver(cf, state)}, nil, nil
	case ctx.Err() != nil:
		return nil, nil, err
	case errors.Is(err, directory.ErrStateLost):
		e.Log.Warn("the directory no longer knows the user cache's state (delta token expired or refused); reading every user", "cache", cf.path, "error", err)
	default:
		e.Log.Warn("reading the changes since the user cache failed; reading every user", "cache", cf.path, "error", err)
	}
	return nil, c.Users, nil
}

// saver returns the function that writes the cache with the users read
// and the directory's state after them (see userRead.save); an empty
// state removes the cache instead.
func (e *Engine) saver(cf cacheFile, state string) func([]identity.User, []string) {
	return func(users []identity.User, gone []string) {
		if state == "" {
			if err := usercache.Remove(cf.path); err != nil {
				e.Log.Warn("could not remove the user cache", "cache", cf.path, "error", err)
			}
			return
		}
		t0 := time.Now()
		err := usercache.Save(cf.path, &usercache.Cache{Key: cf.key, State: state, Saved: e.Now().UTC(), Users: users, Gone: gone})
		if err != nil {
			e.Log.Warn("could not save the user cache; the next plan reads every user", "cache", cf.path, "error", err)
			return
		}
		e.Log.Debug("user cache saved", "cache", cf.path, "users", len(users), "took", time.Since(t0).Round(time.Millisecond))
	}
}

// removedIDs are the ids of before missing from after, with those of
// earlier rounds (gone), sorted and without repeats.
func removedIDs(before []string, after []identity.User, gone []string) []string {
	now := make(map[string]bool, len(after))
	for i := range after {
		now[after[i].ID] = true
	}
	out := slices.Clone(gone)
	for _, id := range before {
		if !now[id] {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// settle completes a cached read with what the changes may not say:
// Graph's delta query with $select is known to leave restores out
// (microsoftgraph/microsoft-graph-docs-contrib#6555). The cache remembers
// the users in the deleted items when it was written; such a user, or one
// the changes removed, that is neither in the deleted items now nor among
// the users is read again by id: found, it was restored and joins the
// users; not found, it was deleted for good. It returns the users and the
// function that writes the cache (nil: none).
func (e *Engine) settle(ctx context.Context, t directory.Directory, r *userRead, deleted []identity.DeletedUser) ([]identity.User, func(), error) {
	if r.save == nil {
		return r.users, nil, nil
	}
	users := r.users
	inDeleted := make(map[string]bool, len(deleted))
	gone := make([]string, 0, len(deleted))
	for i := range deleted {
		inDeleted[deleted[i].ID] = true
		gone = append(gone, deleted[i].ID)
	}
	slices.Sort(gone)
	if r.cached && len(r.gone) > 0 {
		live := make(map[string]bool, len(users))
		for i := range users {
			live[users[i].ID] = true
		}
		var ops []directory.Op
		q := e.query()
		for _, id := range r.gone {
			if !live[id] && !inDeleted[id] {
				ops = append(ops, directory.Op{Kind: directory.OpGet, UserID: id, Select: q.Attrs, Expand: q.Manager, Licenses: q.Licenses})
			}
		}
		if len(ops) > 0 {
			back, _, err := e.runLookups(ctx, t, ops)
			if err != nil {
				return nil, nil, err
			}
			if len(back) > 0 {
				e.Log.Info("users restored without the changes saying so were read again", "users", len(back))
			}
			users = append(users, back...)
		}
	}
	final := users
	return users, func() { r.save(final, gone) }, nil
}

// group runs functions side by side; the first error cancels the others'
// context and is the one Wait returns.
type group struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
	err    error
}

func newGroup(ctx context.Context) *group {
	g := &group{}
	g.ctx, g.cancel = context.WithCancel(ctx)
	return g
}

// Go runs f in its own goroutine.
func (g *group) Go(f func(ctx context.Context) error) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		if err := f(g.ctx); err != nil {
			g.once.Do(func() {
				g.err = err
				g.cancel()
			})
		}
	}()
}

// Wait waits for every function and returns the first error.
func (g *group) Wait() error {
	g.wg.Wait()
	g.cancel()
	return g.err
}

// growth preallocates the mapped records of a file source: after the
// first records it estimates how many the file holds from its size and
// the bytes per record so far, and grows the slice once to that (plus a
// tenth), rather than doubling it again and again (each doubling copies
// every record and leaves the old array to the collector).
type growth struct {
	size  int64 // bytes in the file, 0 when unknown
	n     int
	bytes int64
}

// estimateAfter is how many records the estimate is made from.
const estimateAfter = 2048

func newGrowth(path string) *growth {
	g := &growth{}
	if path != "" {
		if st, err := os.Stat(path); err == nil && st.Mode().IsRegular() {
			g.size = st.Size()
		}
	}
	return g
}

// next accounts for r and returns ds with room for the records the file
// is estimated to hold.
func (g *growth) next(ds []identity.Desired, r *identity.Record) []identity.Desired {
	if g.size <= 0 || g.n > estimateAfter {
		return ds
	}
	g.n++
	for _, v := range r.Values {
		g.bytes += int64(len(v)) + 1
	}
	if g.n <= estimateAfter || g.bytes <= 0 {
		return ds
	}
	want := int(float64(g.size)/(float64(g.bytes)/float64(g.n))*1.1) + 16
	if want > cap(ds) && want < 50_000_000 {
		ds = slices.Grow(ds, want-len(ds))
	}
	return ds
}

// sharing keeps one copy of the managers' keys many records name (or of
// their ids many users name): a record's would otherwise be its own
// string, often a slice of its whole source line that it keeps alive. (A record's attributes are sealed into
// one string of their own by the mapping, see identity.Attrs.Seal.)
type sharing struct {
	vals map[string]string
}

// sharingLimit bounds the values kept: past it only known values are
// shared.
const sharingLimit = 1 << 16

func newSharing() *sharing {
	return &sharing{vals: map[string]string{}}
}

func (sh *sharing) str(v string) string {
	if v == "" {
		return ""
	}
	if s, ok := sh.vals[v]; ok {
		return s
	}
	if len(sh.vals) >= sharingLimit {
		return v
	}
	v = strings.Clone(v)
	sh.vals[v] = v
	return v
}

// managerIDs makes the users with one manager share one copy of its id:
// each was decoded as a string of its own.
func (sh *sharing) managerIDs(users []identity.User) {
	for i := range users {
		users[i].ManagerID = sh.str(users[i].ManagerID)
	}
}

// desired shares d's manager's key.
func (sh *sharing) desired(d *identity.Desired) {
	d.ManagerKey = sh.str(d.ManagerKey)
}
