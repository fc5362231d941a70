package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"testing"

	"github.com/hrsync/hrsync/internal/identity"
)

// fingerprintFmt is Fingerprint as first written, with fmt: a plan made
// by an earlier build must keep its fingerprints.
func fingerprintFmt(u *identity.User) string {
	keys := make([]string, 0, u.Attrs.Len())
	for k := range u.Attrs.All() {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%s=%q\n", k, u.Attrs.Get(k))
	}
	fmt.Fprintf(h, "manager=%q\n", u.ManagerID)
	return "sha256:" + hex.EncodeToString(h.Sum(nil))[:16]
}

func TestFingerprintKeepsItsFormat(t *testing.T) {
	for _, attrs := range []map[string]string{
		{},
		{"displayName": "Zoë O'Brien \"Z\"", "department": "R&D\tLab"},
		{"a": "line\nbreak", "b": "\x00\x7f", "c": "invalid \xff utf-8", "d": "emoji 🧪", "e": ""},
	} {
		for _, mgr := range []string{"", "00000000-0000-0000-0000-000000000001", "ümlaut\n"} {
			u := identity.User{ID: "x", Attrs: identity.AttrsOf(attrs), ManagerID: mgr}
			if got, want := Fingerprint(&u), fingerprintFmt(&u); got != want {
				t.Errorf("Fingerprint(%v, manager %q) = %s, want %s", attrs, mgr, got, want)
			}
		}
	}
}
