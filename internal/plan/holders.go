package plan

import (
	"hash/maphash"

	"github.com/hrsync/hrsync/internal/identity"
)

// holders records who holds each value of one unique namespace (see
// computer.nsKey for the keys). The directory's users, hundreds of
// thousands of them, are kept by the hash of their key and their index:
// 16 bytes a value instead of a map entry of two strings. What the plan
// claims on top (a joiner's values, a user's new ones) and keys whose
// hash another key already has are kept by key, and win.
type holders struct {
	hash  func(string) uint64
	users []identity.User
	// key returns user i's keys in the namespace, to tell a hash's key
	// from another with the same hash.
	key    func(u *identity.User, yield func(string) bool)
	byHash map[uint64]int32
	byKey  map[string]string
}

func newHolders(users []identity.User, key func(*identity.User, func(string) bool)) *holders {
	seed := maphash.MakeSeed()
	return &holders{hash: func(k string) uint64 { return maphash.String(seed, k) }, users: users, key: key,
		byHash: make(map[uint64]int32, len(users)), byKey: map[string]string{}}
}

// holds reports whether user i has key k in the namespace.
func (h *holders) holds(i int32, k string) bool {
	found := false
	h.key(&h.users[i], func(x string) bool {
		found = x == k
		return !found
	})
	return found
}

// addUser records that user i holds key k (a later holder wins).
func (h *holders) addUser(i int32, k string) {
	sum := h.hash(k)
	if j, ok := h.byHash[sum]; ok && j != i && !h.holds(j, k) {
		h.byKey[k] = h.users[i].ID // another key has this hash
		return
	}
	h.byHash[sum] = i
}

// claim records that who (a user's id, or "key:" and a joiner's key)
// holds key k.
func (h *holders) claim(k, who string) { h.byKey[k] = who }

// owner returns who holds key k, "" for nobody.
func (h *holders) owner(k string) string {
	if who, ok := h.byKey[k]; ok {
		return who
	}
	if i, ok := h.byHash[h.hash(k)]; ok && h.holds(i, k) {
		return h.users[i].ID
	}
	return ""
}
