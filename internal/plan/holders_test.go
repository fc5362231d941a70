package plan

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/hrsync/hrsync/internal/identity"
)

// TestHoldersAgreeWithAMap checks holders against the map of key to
// holder it stands for, with hashes good and bad (a hash that collides
// for every key of one length), over random users and claims.
func TestHoldersAgreeWithAMap(t *testing.T) {
	hashes := map[string]func(string) uint64{
		"maphash":          nil,
		"colliding (len)":  func(k string) uint64 { return uint64(len(k)) },
		"constant":         func(string) uint64 { return 7 },
		"first byte & len": func(k string) uint64 { return uint64(k[0])<<8 | uint64(len(k)) },
	}
	for name, hash := range hashes {
		for _, spread := range []int{60, 1000} { // values shared by many users, or by few
			t.Run(fmt.Sprintf("%s/%d", name, spread), func(t *testing.T) {
				testHoldersAgainstAMap(t, hash, spread, len(name))
			})
		}
	}
}

// testHoldersAgainstAMap adds 200 users of two keys each, drawn from
// spread values, then claims, and compares every owner with a map's.
func testHoldersAgainstAMap(t *testing.T, hash func(string) uint64, spread, seed int) {
	rng := rand.New(rand.NewPCG(1, uint64(seed)))
	value := func() string { return fmt.Sprintf("v%d", rng.IntN(spread)) }
	users := make([]identity.User, 200)
	for i := range users {
		users[i] = identity.User{ID: fmt.Sprintf("id-%d", i), Attrs: identity.AttrsOf(map[string]string{"upn": value(), "mail": value()})}
	}
	keys := func(u *identity.User, yield func(string) bool) {
		for _, a := range []string{"upn", "mail"} {
			if !yield(u.Attrs.Get(a)) {
				return
			}
		}
	}
	h := newHolders(users, keys)
	if hash != nil {
		h.hash = hash
	}
	want := map[string]string{}
	for i := range users {
		h.addAll(int32(i))
		for _, a := range []string{"upn", "mail"} {
			want[users[i].Attrs.Get(a)] = users[i].ID
		}
	}
	for range 100 {
		k, who := value(), fmt.Sprintf("key:%d", rng.IntN(1000))
		h.claim(k, who)
		want[k] = who
	}
	for n := range spread + 20 {
		k := fmt.Sprintf("v%d", n)
		if got := h.owner(k); got != want[k] {
			t.Errorf("owner(%s) = %q, want %q", k, got, want[k])
		}
	}
}

// TestHoldersKeepEveryKeyOfAUser: with every hash colliding, a user's
// second key with the entry's hash stays its own when a later user takes
// the first (it was lost: the entry moved to the later user and stood for
// both), whatever the order of the users.
func TestHoldersKeepEveryKeyOfAUser(t *testing.T) {
	keys := func(u *identity.User, yield func(string) bool) {
		for _, a := range []string{"upn", "mail"} {
			if v := u.Attrs.Get(a); v != "" && !yield(v) {
				return
			}
		}
	}
	tests := []struct {
		name  string
		users [][2]string // upn, mail ("" for none)
	}{
		{"a later user takes the first key", [][2]string{{"a@x", "alice@x"}, {"a@x", ""}}},
		{"a later user's second key is the entry's", [][2]string{{"b@x", ""}, {"a@x", "b@x"}}},
		{"a key twice in one user", [][2]string{{"a@x", "a@x"}, {"c@x", "a@x"}}},
		{"three users over two keys", [][2]string{{"a@x", "b@x"}, {"b@x", "a@x"}, {"a@x", ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var users []identity.User
			want := map[string]string{}
			for i, kv := range tt.users {
				id := fmt.Sprintf("u%d", i)
				users = append(users, identity.User{ID: id, Attrs: identity.AttrsOf(map[string]string{"upn": kv[0], "mail": kv[1]})})
				for _, k := range kv {
					if k != "" {
						want[k] = id // a later holder wins
					}
				}
			}
			h := newHolders(users, keys)
			h.hash = func(string) uint64 { return 7 }
			for i := range users {
				h.addAll(int32(i))
			}
			for k, id := range want {
				if got := h.owner(k); got != id {
					t.Errorf("owner(%s) = %q, want %q", k, got, id)
				}
			}
			if got := h.owner("nobody@x"); got != "" {
				t.Errorf("owner(nobody@x) = %q", got)
			}
		})
	}
}
