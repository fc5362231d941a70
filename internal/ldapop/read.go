package ldapop

import (
	"context"
	"fmt"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/hrsync/hrsync/internal/directory"
	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/ldapconn"
)

// RequestAttrs are the LDAP attributes to request for the schema
// attributes attrs: id (the attribute that names an entry for good)
// first, then what ldapOf maps each schema attribute to (nil for none:
// one kept in the DN, say), then manager when asked for, without repeats
// (compared without regard to case). Names the schema does not know are
// passed over.
func RequestAttrs(schema *identity.Schema, id string, attrs []string, manager bool, ldapOf func(name string) []string) []string {
	out := []string{id}
	seen := map[string]bool{strings.ToLower(id): true}
	add := func(a string) {
		if !seen[strings.ToLower(a)] {
			seen[strings.ToLower(a)] = true
			out = append(out, a)
		}
	}
	for _, a := range attrs {
		spec, ok := schema.Lookup(a)
		if !ok {
			continue // not an attribute of the directory ("id")
		}
		for _, l := range ldapOf(spec.Name) {
			add(l)
		}
	}
	if manager {
		add("manager")
	}
	return out
}

// NewUser is the user id with the schema attributes attrs (their names as
// the schema knows them, passed to value) set to the values value gives:
// "" for none. Names the schema does not know are passed over. An error
// of value is the user's.
func NewUser(schema *identity.Schema, id string, attrs []string, l *identity.Layout, value func(name string) (string, error)) (identity.User, error) {
	u := identity.User{ID: id, Attrs: identity.NewAttrs(l)}
	for _, a := range attrs {
		spec, ok := schema.Lookup(a)
		if !ok {
			continue
		}
		v, err := value(spec.Name)
		if err != nil {
			return identity.User{}, err
		}
		if v != "" {
			u.Attrs.Set(spec.Name, v)
		}
	}
	u.Attrs.Seal()
	return u, nil
}

// UserRead is what a read of users keeps: the users in the order read,
// the DN of each one's manager ("" for none) and each one's id by its DN
// (folded, see ldapconn.FoldDN).
type UserRead struct {
	Users    []identity.User
	Managers []string
	IDs      map[string]string
}

// ReadUsers reads users on the session, failing closed: search runs the
// directory's paged searches on c (see ldapconn.Conn.Search), calling each
// for every entry, and user turns an entry into a user. When the
// connection breaks, the read starts over on a new one: search must start
// afresh too (and reset what user keeps on the side). progress, when not
// nil, hears the number of users read every `every` users and once at the
// end. Any error fails the whole read: there is never a partial list.
func (s *Session) ReadUsers(ctx context.Context, search func(c *ldapconn.Conn, each func(*ldap.Entry) error) error, user func(*ldap.Entry) (identity.User, error), every int, progress func(int)) (*UserRead, error) {
	var r *UserRead
	err := s.With(ctx, func(c *ldapconn.Conn) error {
		r = &UserRead{IDs: map[string]string{}}
		return search(c, func(e *ldap.Entry) error {
			u, err := user(e)
			if err != nil {
				return err
			}
			r.Users = append(r.Users, u)
			r.Managers = append(r.Managers, e.GetEqualFoldAttributeValue("manager"))
			r.IDs[ldapconn.FoldDN(e.DN)] = u.ID
			if progress != nil && every > 0 && len(r.Users)%every == 0 {
				progress(len(r.Users))
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	if progress != nil {
		progress(len(r.Users))
	}
	return r, nil
}

// ResolveManagers sets each user's ManagerID to the id of the entry its
// manager DN names, found by ids ("" for a DN that names no entry).
func (r *UserRead) ResolveManagers(ids *DNIDs) error {
	for i, m := range r.Managers {
		if m == "" {
			continue
		}
		id, err := ids.ID(m)
		if err != nil {
			return fmt.Errorf("read the manager of %s: %w", r.Users[i].ID, err)
		}
		r.Users[i].ManagerID = id
	}
	return nil
}

// DNIDs finds the ids of the entries DNs name (for managers and group
// members): among the users a read saw, then among the DNs it looked up
// before, then by looking the DN up. It is for one task (one read, one
// group), not for concurrent use.
type DNIDs struct {
	read   map[string]string
	looked map[string]string
	get    func(dn string) (*ldap.Entry, error)
	id     func(*ldap.Entry) string
}

// NewDNIDs finds ids in read (folded DNs to ids, which it does not
// change), else with get, which reads the entry a DN names (nil when there
// is none), and id, which is an entry's id.
func NewDNIDs(read map[string]string, get func(dn string) (*ldap.Entry, error), id func(*ldap.Entry) string) *DNIDs {
	return &DNIDs{read: read, looked: map[string]string{}, get: get, id: id}
}

// ID is the id of the entry dn names; "" when there is none (a manager
// renamed without referential integrity leaves a dangling DN, which the
// plan mends).
func (r *DNIDs) ID(dn string) (string, error) {
	key := ldapconn.FoldDN(dn)
	if id, ok := r.read[key]; ok {
		return id, nil
	}
	if id, ok := r.looked[key]; ok {
		return id, nil
	}
	e, err := r.get(dn)
	if err != nil {
		return "", err
	}
	id := ""
	if e != nil {
		id = r.id(e)
	}
	r.looked[key] = id
	return id, nil
}

// ResolveGroups resolves each of refs to one group: find returns the
// groups a reference names, id is a group's id, and its cn its display
// name. A reference naming no group (none says what to give instead) or
// several is a problem; all the problems make one error, and an error of
// find fails at once.
func ResolveGroups(refs []string, find func(ref string) ([]*ldap.Entry, error), id func(*ldap.Entry) string, none func(ref string) string) (map[string]directory.Group, error) {
	out := make(map[string]directory.Group, len(refs))
	var problems []string
	for _, ref := range refs {
		found, err := find(ref)
		if err != nil {
			return nil, fmt.Errorf("group %q: %w", ref, err)
		}
		switch len(found) {
		case 0:
			problems = append(problems, none(ref))
		case 1:
			out[ref] = directory.Group{ID: id(found[0]), DisplayName: found[0].GetEqualFoldAttributeValue("cn")}
		default:
			var dns []string
			for _, e := range found {
				dns = append(dns, e.DN)
			}
			problems = append(problems, fmt.Sprintf("%d groups are named %q (%s): name it by its DN", len(found), ref, strings.Join(dns, "; ")))
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return out, nil
}
