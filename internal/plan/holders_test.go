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
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(len(name))))
			value := func() string { return fmt.Sprintf("v%d", rng.IntN(60)) }
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
				for _, a := range []string{"upn", "mail"} {
					k := users[i].Attrs.Get(a)
					h.addUser(int32(i), k)
					want[k] = users[i].ID
				}
			}
			for range 100 {
				k, who := value(), fmt.Sprintf("key:%d", rng.IntN(1000))
				h.claim(k, who)
				want[k] = who
			}
			for n := range 80 {
				k := fmt.Sprintf("v%d", n)
				if got := h.owner(k); got != want[k] {
					t.Errorf("owner(%s) = %q, want %q", k, got, want[k])
				}
			}
		})
	}
}
