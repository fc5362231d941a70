package ldapdir

import (
	"context"
	"fmt"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/hrsync/hrsync/internal/directory"
	"github.com/hrsync/hrsync/internal/guid"
	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/ldapconn"
	"github.com/hrsync/hrsync/internal/ldapop"
)

// Virtual attributes of the schema.
const (
	attrEnabled = "accountEnabled" // by the disable method
	attrParent  = "parentDistinguishedName"
	attrUID     = "uid" // the RDN's type
	attrLocked  = "pwdAccountLockedTime"
	attrUUID    = "entryUUID"
)

// ldapAttrs are the LDAP attributes to request for the schema attributes
// attrs (and the manager): entryUUID always, what the disable method
// keeps the account state in; the branch comes from the DN.
func (d *Directory) ldapAttrs(attrs []string, manager bool) []string {
	return ldapop.RequestAttrs(d.schema, attrUUID, attrs, manager, func(name string) []string {
		switch name {
		case attrEnabled:
			switch d.opts.Disable.Method {
			case DisablePPolicy:
				return []string{attrLocked}
			case DisableAttribute:
				return []string{d.opts.Disable.Attribute}
			}
			return nil
		case attrParent, identity.Manager:
			return nil
		}
		return []string{name}
	})
}

// user is an entry as hrsync sees a user: its entryUUID as id and the
// schema attributes attrs canonicalised (the branch from the DN, the
// account state by the disable method).
func (d *Directory) user(e *ldap.Entry, attrs []string, l *identity.Layout) (identity.User, error) {
	id := idOf(e)
	if id == "" {
		return identity.User{}, fmt.Errorf("entry %s: no entryUUID (the bind account may not read operational attributes)", e.DN)
	}
	rdn, parent := ldapconn.SplitDN(e.DN)
	return ldapop.NewUser(d.schema, id, attrs, l, func(name string) (string, error) {
		switch name {
		case attrEnabled:
			return fmt.Sprint(d.enabled(e)), nil
		case attrParent:
			return parent, nil
		case identity.Manager:
			return "", nil
		case d.rdn:
			return rdn, nil // the value that names the entry, of the attribute's values
		}
		return e.GetEqualFoldAttributeValue(name), nil
	})
}

// enabled tells the account state of e by the disable method. Only the
// permanent ppolicy lock is a disable: a lockout after failed binds ends
// by itself and is not hrsync's to lift.
func (d *Directory) enabled(e *ldap.Entry) bool {
	o := d.opts.Disable
	switch o.Method {
	case DisablePPolicy:
		return e.GetEqualFoldAttributeValue(attrLocked) != lockedForever
	case DisableMove:
		return !ldapconn.Below(d.disabled, e.DN)
	case DisableAttribute:
		return !strings.EqualFold(e.GetEqualFoldAttributeValue(o.Attribute), o.DisabledValue)
	}
	return true
}

// each runs one fail-closed paged search of filter below every base,
// calling f for each entry.
func (d *Directory) each(ctx context.Context, c *ldapconn.Conn, filter string, attrs []string, f func(*ldap.Entry) error) error {
	for _, b := range d.bases {
		if err := d.sess.Search(ctx, c, ldapconn.Search{Base: b.String(), Filter: filter, Attrs: attrs, PageSize: PageSize}, f); err != nil {
			return fmt.Errorf("below %s: %w", b, err)
		}
	}
	return nil
}

// ReadUsers reads every inetOrgPerson below the base DN (and the disabled
// branch) that the filter admits, in pages of 500, failing closed: a size
// or time limit, a paging error or a referral fails the read.
func (d *Directory) ReadUsers(ctx context.Context, q directory.Query, progress func(int)) ([]identity.User, error) {
	if q.Licenses {
		return nil, fmt.Errorf("read users: an LDAP directory has no licenses: remove the mapping's license rules")
	}
	attrs := d.ldapAttrs(append(append([]string(nil), q.Attrs...), attrUID), q.Manager)
	layout := identity.NewLayout(q.Attrs) // the users' attributes share its slots
	var uidDN map[string]string
	r, err := d.sess.ReadUsers(ctx, func(c *ldapconn.Conn, each func(*ldap.Entry) error) error {
		uidDN = map[string]string{}
		return d.each(ctx, c, d.filter, attrs, each)
	}, func(e *ldap.Entry) (identity.User, error) {
		u, err := d.user(e, q.Attrs, layout)
		if err != nil {
			return u, err
		}
		// Besides the id by DN: the DN by uid (posixGroup members) and
		// the entry for the operations that can skip a lookup.
		uid := e.GetEqualFoldAttributeValue(attrUID)
		if uid != "" {
			uidDN[strings.ToLower(uid)] = e.DN
		}
		d.remember(u.ID, e.DN, uid)
		return u, nil
	}, PageSize, progress)
	if err != nil {
		return nil, fmt.Errorf("read users: %w", err)
	}
	d.mu.Lock()
	d.dnID, d.uidN = r.IDs, uidDN
	d.mu.Unlock()
	if q.Manager {
		if err := r.ResolveManagers(d.dnIDs(ctx, r.IDs)); err != nil {
			return nil, err
		}
	}
	return r.Users, nil
}

// idOf is an entry's id: its entryUUID.
func idOf(e *ldap.Entry) string { return e.GetEqualFoldAttributeValue(attrUUID) }

// dnIDs finds the entryUUIDs of the entries DNs name: among the users a
// read saw (read), else by looking them up (see ldapop.DNIDs). A manager
// renamed without the refint overlay leaves a dangling DN: its id is "",
// and the plan mends it.
func (d *Directory) dnIDs(ctx context.Context, read map[string]string) *ldapop.DNIDs {
	return ldapop.NewDNIDs(read, func(dn string) (*ldap.Entry, error) {
		return d.sess.Get(ctx, dn, "(objectClass=*)", []string{attrUUID})
	}, idOf)
}

// byIDOn is the user in scope (below a base, matching the filter) whose
// entryUUID is id; nil when there is none. OpenLDAP has no <GUID=...>
// DNs: it is an indexed equality search of each base.
func (d *Directory) byIDOn(ctx context.Context, c *ldapconn.Conn, id string, attrs []string) (*ldap.Entry, error) {
	if !guid.Valid(id) {
		return nil, nil
	}
	filter := "(&" + d.filter + "(entryUUID=" + ldap.EscapeFilter(id) + "))"
	for _, b := range d.bases {
		d.sess.Count("lookup", 1)
		res, err := c.Conn.Search(ldap.NewSearchRequest(b.String(), ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 2, 0, false, filter, attrs, nil))
		if err != nil {
			return nil, err
		}
		if len(res.Entries) > 0 {
			e := res.Entries[0]
			d.remember(id, e.DN, e.GetEqualFoldAttributeValue(attrUID))
			return e, nil
		}
	}
	return nil, nil
}

// inScope reports whether dn lies below a base.
func (d *Directory) inScope(dn string) bool {
	for _, b := range d.bases {
		if ldapconn.Below(b, dn) {
			return true
		}
	}
	return false
}

// ReadDeleted reads nothing: a deleted LDAP entry is gone with its
// entryUUID.
func (d *Directory) ReadDeleted(context.Context, directory.Query) ([]identity.DeletedUser, error) {
	return nil, nil
}

// find finds the users in scope whose attribute op.Attr is op.Value.
func (d *Directory) find(ctx context.Context, c *ldapconn.Conn, op directory.Op, name string) (directory.Outcome, error) {
	spec, ok := d.schema.Lookup(op.Attr)
	if !ok || spec.Name == attrEnabled || spec.Name == attrParent || spec.Name == identity.Manager {
		return directory.Outcome{}, rejected(name, "cannot find users by %s", op.Attr)
	}
	var users []identity.User
	filter := "(&" + d.filter + "(" + spec.Name + "=" + ldap.EscapeFilter(op.Value) + "))"
	err := d.each(ctx, c, filter, d.ldapAttrs(op.Select, false), func(e *ldap.Entry) error {
		u, err := d.user(e, op.Select, nil)
		if err != nil {
			return err
		}
		users = append(users, u)
		return nil
	})
	return directory.Outcome{Users: users}, err
}

// read reads one user by entryUUID, with its manager when op.Expand.
func (d *Directory) read(ctx context.Context, c *ldapconn.Conn, op directory.Op, name string) (directory.Outcome, error) {
	e, err := d.byIDOn(ctx, c, op.UserID, d.ldapAttrs(op.Select, op.Expand))
	if err != nil || e == nil {
		return directory.Outcome{}, orNotFound(err, name, "no such user in scope")
	}
	u, err := d.user(e, op.Select, nil)
	if err != nil {
		return directory.Outcome{}, err
	}
	if m := e.GetEqualFoldAttributeValue("manager"); op.Expand && m != "" {
		d.mu.Lock()
		read := d.dnID
		d.mu.Unlock()
		if u.ManagerID, err = d.dnIDs(ctx, read).ID(m); err != nil {
			return directory.Outcome{}, err
		}
	}
	return directory.Outcome{Users: []identity.User{u}}, nil
}

// branchInScope reports whether users placed in dn are read: dn is a
// base or lies below one.
func (d *Directory) branchInScope(dn string) bool {
	for _, b := range d.bases {
		if ldapconn.AtOrBelow(b, dn) {
			return true
		}
	}
	return false
}
