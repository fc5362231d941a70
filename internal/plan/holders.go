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
	// adding is the user addAll adds, and add the function it gives key,
	// made once: a closure a user would be an allocation a user.
	adding int32
	add    func(string) bool
}

func newHolders(users []identity.User, key func(*identity.User, func(string) bool)) *holders {
	seed := maphash.MakeSeed()
	h := &holders{hash: func(k string) uint64 { return maphash.String(seed, k) }, users: users, key: key,
		byHash: make(map[uint64]int32, len(users)), byKey: map[string]string{}}
	h.add = func(k string) bool {
		h.addUser(h.adding, k)
		return true
	}
	return h
}

// first returns user i's first key (in the order key yields them) whose
// hash is sum: the key an entry of byHash for user i stands for.
func (h *holders) first(i int32, sum uint64) (k string) {
	h.key(&h.users[i], func(x string) bool {
		if h.hash(x) == sum {
			k = x
			return false
		}
		return true
	})
	return k
}

// addAll records user i's keys, in the order key yields them (a later
// holder of a key wins).
func (h *holders) addAll(i int32) {
	h.adding = i
	h.key(&h.users[i], h.add)
}

// addUser records that user i holds key k, i's keys coming in the order
// key yields them (see addAll), before any claim. An entry of byHash stands for one key, its
// user's first with that hash; any other key with that hash is kept by
// key.
func (h *holders) addUser(i int32, k string) {
	sum := h.hash(k)
	j, ok := h.byHash[sum]
	switch {
	case !ok:
		h.byHash[sum] = i // no earlier key of i has this hash: k is its first
	case j != i && h.first(j, sum) == k && h.first(i, sum) == k:
		h.byHash[sum] = i  // a later holder of the entry's key
		delete(h.byKey, k) // a holder between them, kept by key, no longer is
	default:
		h.byKey[k] = h.users[i].ID
	}
}

// claim records that who (a user's id, or "key:" and a joiner's key)
// holds key k.
func (h *holders) claim(k, who string) { h.byKey[k] = who }

// owner returns who holds key k, "" for nobody.
func (h *holders) owner(k string) string {
	if who, ok := h.byKey[k]; ok {
		return who
	}
	sum := h.hash(k)
	if i, ok := h.byHash[sum]; ok && h.first(i, sum) == k {
		return h.users[i].ID
	}
	return ""
}
