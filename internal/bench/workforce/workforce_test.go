package workforce

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hrsync/hrsync/internal/graphsim"
	"github.com/hrsync/hrsync/internal/identity"
	csvsource "github.com/hrsync/hrsync/internal/source/csv"
)

func mustNew(t *testing.T, opts Options) *Generator {
	t.Helper()
	g, err := New(opts)
	if err != nil {
		t.Fatalf("New(%+v): %v", opts, err)
	}
	return g
}

// render returns the CSV and the seed of a data set.
func render(t *testing.T, g *Generator) (csv, seed []byte) {
	t.Helper()
	var c, s bytes.Buffer
	if err := g.WriteCSV(context.Background(), &c); err != nil {
		t.Fatalf("WriteCSV: %v", err)
	}
	if err := g.WriteSeed(context.Background(), &s); err != nil {
		t.Fatalf("WriteSeed: %v", err)
	}
	return c.Bytes(), s.Bytes()
}

func noDrift(n int, seed uint64) Options {
	o := DefaultOptions(n, seed)
	o.Movers, o.Joiners, o.Leavers = 0, 0, 0
	return o
}

func TestDeterministic(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"one worker", DefaultOptions(1, 1)},
		{"small", DefaultOptions(40, 7)},
		{"default drift", DefaultOptions(3000, 42)},
		{"no drift", noDrift(3000, 42)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c1, s1 := render(t, mustNew(t, tc.opts))
			c2, s2 := render(t, mustNew(t, tc.opts))
			if !bytes.Equal(c1, c2) || !bytes.Equal(s1, s2) {
				t.Fatal("the same options gave different files")
			}
			other := tc.opts
			other.Seed++
			c3, s3 := render(t, mustNew(t, other))
			if bytes.Equal(c1, c3) || bytes.Equal(s1, s3) {
				t.Fatal("another seed gave the same files")
			}
		})
	}
}

func TestHierarchy(t *testing.T) {
	for _, n := range []int{1, 2, 11, 12, 100, 5000, 40000} {
		g := mustNew(t, DefaultOptions(n, uint64(n)))
		reports := make([]int, n)
		ceos := 0
		for i := range n {
			w := g.Worker(i)
			if w.ManagerIndex < 0 {
				ceos++
				if w.ManagerID != "" || w.JobTitle != "Chief Executive Officer" {
					t.Errorf("N=%d: CEO %d has manager %q, title %q", n, i, w.ManagerID, w.JobTitle)
				}
				continue
			}
			// Managers come before their reports: no cycles.
			if w.ManagerIndex >= i {
				t.Fatalf("N=%d: worker %d reports to later worker %d", n, i, w.ManagerIndex)
			}
			if want := g.EmployeeID(w.ManagerIndex); w.ManagerID != want {
				t.Fatalf("N=%d: worker %d ManagerID %s, want %s", n, i, w.ManagerID, want)
			}
			reports[w.ManagerIndex]++
			// Walk to the top: it must end at the CEO within the depth.
			steps, m := 0, w.ManagerIndex
			for m > 0 {
				m = g.Worker(m).ManagerIndex
				if steps++; steps > g.Summary().Depth {
					t.Fatalf("N=%d: worker %d: chain longer than the depth", n, i)
				}
			}
			if m != 0 {
				t.Fatalf("N=%d: worker %d's chain ends at %d, not the CEO", n, i, m)
			}
		}
		if ceos != 1 {
			t.Errorf("N=%d: %d workers without manager, want 1", n, ceos)
		}
		managers := 0
		for i, r := range reports {
			if r == 0 {
				continue
			}
			managers++
			if !g.Worker(i).Reports {
				t.Errorf("N=%d: worker %d has %d reports but Reports is false", n, i, r)
			}
			last := i == g.Summary().Managers-1 // the last manager takes what is left
			if i > 0 && !last && (r < 5 || r > 10) {
				t.Errorf("N=%d: manager %d has %d reports, want 5 to 10", n, i, r)
			}
		}
		if managers != g.Summary().Managers {
			t.Errorf("N=%d: %d managers, Summary says %d", n, managers, g.Summary().Managers)
		}
	}
}

func TestIDsAndSeed(t *testing.T) {
	digits := regexp.MustCompile(`^[1-9][0-9]{5,7}$`)
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"default drift", DefaultOptions(6000, 3)},
		{"no drift", noDrift(2000, 9)},
		{"many leavers", func() Options { o := DefaultOptions(1000, 5); o.Leavers = 0.5; return o }()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := mustNew(t, tc.opts)
			seen := map[string]int{}
			for k := range g.N() + g.Summary().Leavers {
				id := g.EmployeeID(k)
				if !digits.MatchString(id) {
					t.Fatalf("ID %d is %q, want 6 to 8 digits", k, id)
				}
				if j, dup := seen[id]; dup {
					t.Fatalf("IDs %d and %d are both %s", j, k, id)
				}
				seen[id] = k
			}
			// graphsim checks the seed: unique ids and UPNs, valid UPNs on
			// the tenant's domains, managers that exist, employeeId length.
			path := filepath.Join(t.TempDir(), SeedFile)
			_, seed := render(t, g)
			if err := os.WriteFile(path, seed, 0o600); err != nil {
				t.Fatal(err)
			}
			st, err := graphsim.LoadState(path)
			if err != nil {
				t.Fatalf("graphsim rejects the seed: %v", err)
			}
			s := g.Summary()
			managed, admins := 0, 0
			for _, u := range st.Users {
				if u.EmployeeID == "" {
					admins++
					continue
				}
				managed++
				if !strings.Contains(u.UserPrincipalName, "."+u.EmployeeID+"@") || !strings.HasSuffix(u.MailNickname, "."+u.EmployeeID) {
					t.Errorf("user %s: UPN %q / mailNickname %q do not carry the ID", u.EmployeeID, u.UserPrincipalName, u.MailNickname)
				}
				if _, ok := seen[u.EmployeeID]; !ok {
					t.Errorf("tenant user with unknown employeeId %s", u.EmployeeID)
				}
			}
			if len(st.Users) != s.TenantUsers || managed != s.Managed || admins != s.Admins {
				t.Errorf("seed has %d users (%d managed, %d admins); Summary says %d (%d, %d)",
					len(st.Users), managed, admins, s.TenantUsers, s.Managed, s.Admins)
			}
		})
	}
}

func TestDriftShares(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"default", DefaultOptions(20000, 11)},
		{"other seed", DefaultOptions(20000, 12)},
		{"no drift", noDrift(5000, 1)},
		{"throttle scenario", Options{N: 20000, Seed: 2, Joiners: 0.10, Inactive: 0.02, Admins: 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := mustNew(t, tc.opts)
			s := g.Summary()
			n := float64(tc.opts.N)
			check := func(what string, got int, share float64) {
				t.Helper()
				want := share * n
				// Four standard deviations of a binomial count.
				if tol := 4*math.Sqrt(want) + 1; math.Abs(float64(got)-want) > tol {
					t.Errorf("%s: %d, want %.0f ± %.0f", what, got, want, tol)
				}
			}
			check("joiners", s.Joiners, tc.opts.Joiners)
			check("movers", s.Movers, tc.opts.Movers)
			check("manager moves", s.ManagerMoves, tc.opts.Movers*tc.opts.ManagerMoves)
			check("inactive", s.Inactive, tc.opts.Inactive)
			if want := int(math.Round(tc.opts.Leavers * n)); s.Leavers != want {
				t.Errorf("leavers: %d, want %d", s.Leavers, want)
			}
			// Count again from the workers themselves.
			var joiners, movers, inactive int
			for i := range g.N() {
				w := g.Worker(i)
				switch w.Drift {
				case Joiner:
					joiners++
					if w.Reports || w.Status != StatusActive {
						t.Errorf("joiner %d manages people or is inactive", i)
					}
				case Mover, ManagerMover:
					movers++
				}
				if w.Status == StatusInactive {
					inactive++
				}
			}
			if joiners != s.Joiners || movers != s.Movers || inactive != s.Inactive {
				t.Errorf("workers show %d joiners, %d movers, %d inactive; Summary %+v", joiners, movers, inactive, s)
			}
		})
	}
}

func TestCSVReadsBack(t *testing.T) {
	for _, n := range []int{1, 500, 4000} {
		g := mustNew(t, DefaultOptions(n, 77))
		dir := t.TempDir()
		files, err := g.WriteFiles(context.Background(), dir)
		if err != nil {
			t.Fatal(err)
		}
		src, err := csvsource.New(csvsource.Options{Path: files.CSV})
		if err != nil {
			t.Fatal(err)
		}
		i, accented := 0, 0
		sum, err := src.Read(context.Background(), func(r *identity.Record) error {
			want := g.Worker(i)
			rec := want.Record()
			for c, name := range Header() {
				got, _ := r.Field(name)
				if got != rec[c] {
					t.Fatalf("N=%d row %d %s: read %q, wrote %q", n, i, name, got, rec[c])
				}
			}
			if strings.ContainsAny(want.FirstName+want.LastName, "éëłøüñçáóőşă") {
				accented++
			}
			i++
			return nil
		})
		if err != nil {
			t.Fatalf("N=%d: the project's CSV source rejects the export: %v", n, err)
		}
		if sum.Records != n || strings.Join(sum.Header, ",") != strings.Join(Header(), ",") {
			t.Errorf("N=%d: read %d records with header %v", n, sum.Records, sum.Header)
		}
		if n >= 500 && accented == 0 {
			t.Errorf("N=%d: no names with diacritics", n)
		}
	}
}

func TestNamesFoldToValidUPNs(t *testing.T) {
	// Every name in the tables, first and last, must make a UPN graphsim
	// (and Entra) accept: the mapping folds diacritics and strips spaces.
	p, err := newProjector()
	if err != nil {
		t.Fatal(err)
	}
	upn := regexp.MustCompile(`^[a-z0-9'._-]+@contoso\.com$`)
	for _, c := range cultures {
		for i := range max(len(c.first), len(c.last)) {
			w := Worker{Index: i, ID: "1234567", Status: StatusActive, FirstName: c.first[i%len(c.first)],
				LastName: c.last[i%len(c.last)], Department: "Sales", JobTitle: "Clerk", HireDate: "2020-01-02",
				Company: "Contoso", CountryCode: "US"}
			u, err := p.user(&w, "x", "")
			if err != nil {
				t.Fatalf("%s %s: %v", w.FirstName, w.LastName, err)
			}
			if !upn.MatchString(u.UserPrincipalName) || len(u.UserPrincipalName) > 113 {
				t.Errorf("%s %s: UPN %q", w.FirstName, w.LastName, u.UserPrincipalName)
			}
		}
	}
}

func TestOptionsChecked(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"no workers", DefaultOptions(0, 1)},
		{"negative share", func() Options { o := DefaultOptions(10, 1); o.Movers = -0.1; return o }()},
		{"share over 1", func() Options { o := DefaultOptions(10, 1); o.Leavers = 1.5; return o }()},
		{"too many joiners", func() Options { o := DefaultOptions(10, 1); o.Joiners = 0.9; return o }()},
		{"too many admins", func() Options { o := DefaultOptions(10, 1); o.Admins = 99; return o }()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.opts); err == nil {
				t.Fatal("no error")
			}
		})
	}
}
