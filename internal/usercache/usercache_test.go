package usercache

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hrsync/hrsync/internal/identity"
)

func sampleCache(n int) *Cache {
	c := &Cache{Key: Key{Tenant: "t1", Endpoint: "https://graph.example", Query: Fingerprint([]string{"b", "a"}, true, false)},
		State: "https://graph.example/v1.0/users/delta?$deltatoken=x", Saved: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	for i := range n {
		u := identity.User{ID: fmt.Sprintf("id-%d", i), Attrs: identity.AttrsOf(map[string]string{"a": fmt.Sprint("value ", i), "department": []string{"Sales", "Ops", "HR"}[i%3]})}
		if i%2 == 0 {
			u.ManagerID = "id-0"
			u.Licenses = []string{"sku-1", "sku-2"}
		}
		if i%5 == 0 {
			u.MasteredIn, u.SessionsStale = "Active Directory", true
			u.Attrs.Set("z", "only some")
		}
		c.Users = append(c.Users, u)
	}
	return c
}

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []int{0, 1, 10000} {
		c := sampleCache(n)
		path := File(filepath.Join(dir, "cache"), c.Key)
		if err := Save(path, c); err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(path)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("mode %v, err %v", st.Mode(), err)
		}
		if dst, _ := os.Stat(filepath.Dir(path)); dst.Mode().Perm() != 0o700 {
			t.Errorf("folder mode %v", dst.Mode())
		}
		got, err := Load(path, c.Key)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Users) != len(c.Users) || got.State != c.State || !got.Saved.Equal(c.Saved) {
			t.Fatalf("n=%d: %d users, state %q", n, len(got.Users), got.State)
		}
		for i := range c.Users {
			want := c.Users[i]
			if len(want.Licenses) == 0 {
				want.Licenses = nil
			}
			if !got.Users[i].Equal(want) {
				t.Fatalf("user %d = %+v, want %+v", i, got.Users[i], want)
			}
		}
	}
}

func TestRefusesOtherKeysAndDamage(t *testing.T) {
	dir := t.TempDir()
	c := sampleCache(500)
	path := filepath.Join(dir, "c.cache")
	if err := Save(path, c); err != nil {
		t.Fatal(err)
	}
	for _, k := range []Key{{Tenant: "t2", Endpoint: c.Endpoint, Query: c.Query}, {Tenant: "t1", Endpoint: "https://other", Query: c.Query},
		{Tenant: "t1", Endpoint: c.Endpoint, Query: Fingerprint([]string{"a"}, true, false)}} {
		if _, err := Load(path, k); !errors.Is(err, ErrMismatch) {
			t.Errorf("key %+v: err %v, want ErrMismatch", k, err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string][]byte{
		"truncated":   data[:len(data)/2],
		"flipped":     append(append(append([]byte{}, data[:len(data)/3]...), data[len(data)/3]^0x40), data[len(data)/3+1:]...),
		"empty":       {},
		"other magic": append([]byte("HRSYNC-USERS\x00v9\n"), data[len(magic):]...),
	} {
		if err := os.WriteFile(path, bad, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(path, c.Key); !errors.Is(err, ErrDamaged) {
			t.Errorf("%s: err %v, want ErrDamaged", name, err)
		}
	}
	if _, err := Load(filepath.Join(dir, "none"), c.Key); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
}

func BenchmarkLoad(b *testing.B) {
	c := sampleCache(100000)
	path := filepath.Join(b.TempDir(), "c.cache")
	if err := Save(path, c); err != nil {
		b.Fatal(err)
	}
	st, _ := os.Stat(path)
	b.ReportMetric(float64(st.Size())/100000, "bytes/user")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(path, c.Key); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSave(b *testing.B) {
	c := sampleCache(100000)
	path := filepath.Join(b.TempDir(), "c.cache")
	b.ReportAllocs()
	for b.Loop() {
		if err := Save(path, c); err != nil {
			b.Fatal(err)
		}
	}
}
