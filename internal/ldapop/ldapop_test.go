package ldapop

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/hrsync/hrsync/internal/directory"
)

func TestOpError(t *testing.T) {
	h := Hints{Exists: "taken", Password: "policy", Unique: func(l string) bool { return strings.Contains(l, "unique") }, UniqueHint: "unique hint", Access: "acl"}
	cases := []struct {
		name     string
		err      error
		kind     error
		code     string
		contains string
	}{
		{"exists", ldap.NewError(ldap.LDAPResultEntryAlreadyExists, errors.New("Already exists")), directory.ErrConflict, "LDAP 68 entryAlreadyExists", "Already exists (taken)"},
		{"unique", ldap.NewError(ldap.LDAPResultConstraintViolation, errors.New("some attributes not unique")), directory.ErrConflict, "LDAP 19 constraintViolation", "unique hint"},
		{"password", ldap.NewError(ldap.LDAPResultConstraintViolation, errors.New("Password fails quality checking policy")), directory.ErrRejected, "LDAP 19 constraintViolation", "(policy)"},
		{"other constraint", ldap.NewError(ldap.LDAPResultConstraintViolation, errors.New("no")), directory.ErrRejected, "LDAP 19 constraintViolation", "no"},
		{"missing", ldap.NewError(ldap.LDAPResultNoSuchObject, errors.New("")), directory.ErrNotFound, "LDAP 32 noSuchObject", ""},
		{"access", ldap.NewError(ldap.LDAPResultInsufficientAccessRights, errors.New("denied")), directory.ErrRejected, "LDAP 50 insufficientAccessRights", "denied (acl)"},
		{"syntax", ldap.NewError(ldap.LDAPResultInvalidAttributeSyntax, errors.New("bad")), directory.ErrRejected, "LDAP 21 invalidAttributeSyntax", "bad"},
		{"not ldap", errors.New("boom"), nil, "", "boom"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := OpError("create user uid=x", c.err, h)
			if c.kind != nil && !errors.Is(err, c.kind) {
				t.Errorf("%v is not %v", err, c.kind)
			}
			if directory.Code(err) != c.code || !strings.Contains(err.Error(), c.contains) || !strings.HasPrefix(err.Error(), "create user uid=x") {
				t.Errorf("%v (code %q)", err, directory.Code(err))
			}
		})
	}
	if OpError("x", nil, h) != nil {
		t.Error("nil is an error")
	}
	de := Rejected("op", "no %s", "way")
	if OpError("other", de, h) != de {
		t.Error("a directory error is wrapped again")
	}
}

func TestScrub(t *testing.T) {
	err := &directory.Error{Op: "create", Message: "password Secret-1 too short"}
	if got := Scrub(err, "Secret-1").Error(); strings.Contains(got, "Secret-1") || !strings.Contains(got, "(redacted)") {
		t.Errorf("scrubbed: %s", got)
	}
	if err.Message != "password Secret-1 too short" {
		t.Error("the original error was changed")
	}
}

// Do calls done once per op, and ops after Stop ends are not sent.
func TestDo(t *testing.T) {
	for _, n := range []int{0, 1, 7, 50} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			ops := make([]directory.Op, n)
			stop, cancel := context.WithCancel(context.Background())
			var mu sync.Mutex
			calls, sent := make([]int, n), 0
			Do(context.Background(), ops, directory.DoOptions{Stop: stop}, 3, func(directory.Op) directory.Outcome {
				mu.Lock()
				defer mu.Unlock()
				if sent++; sent == 5 {
					cancel()
				}
				return directory.Outcome{}
			}, func(i int, o directory.Outcome) {
				mu.Lock()
				defer mu.Unlock()
				calls[i]++
			})
			cancel()
			for i, c := range calls {
				if c != 1 {
					t.Errorf("op %d: done %d times", i, c)
				}
			}
			if sent > 5+3 {
				t.Errorf("%d ops sent after the stop", sent-5)
			}
		})
	}
}

func TestScope(t *testing.T) {
	const class = "(objectClass=user)"
	for _, c := range []struct {
		base, filter, want, err string
	}{
		{"OU=People,DC=contoso,DC=test", "", class, ""},
		{"OU=People,DC=contoso,DC=test", "  ", class, ""},
		{"OU=People,DC=contoso,DC=test", "!(description=shared*)", "(&" + class + "(!(description=shared*)))", ""},
		{"OU=People,DC=contoso,DC=test", "(department=Sales)", "(&" + class + "(department=Sales))", ""},
		{"OU=People,DC=contoso,DC=test", "(department=Sales", "", `target.filter "(department=Sales" is not an LDAP filter`},
		{"", "", "", `base_dn "" is not a distinguished name`},
		{"not a dn", "", "", `base_dn "not a dn" is not a distinguished name`},
	} {
		base, got, err := Scope(c.base, class, c.filter)
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("Scope(%q, %q): %v, want an error with %q", c.base, c.filter, err, c.err)
			}
		case err != nil || got != c.want || base == nil:
			t.Errorf("Scope(%q, %q) = %v, %q, %v; want %q", c.base, c.filter, base, got, err, c.want)
		}
	}
}
