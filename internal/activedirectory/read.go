package activedirectory

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/hrsync/hrsync/internal/directory"
	"github.com/hrsync/hrsync/internal/guid"
	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/ldapconn"
	"github.com/hrsync/hrsync/internal/ldapop"
)

// Virtual attributes of the schema, kept otherwise in AD.
const (
	attrEnabled  = "accountEnabled"  // the ACCOUNTDISABLE bit of userAccountControl
	attrDisabled = "accountDisabled" // its negation
	attrCN       = "cn"              // the RDN's value
	attrParent   = "parentDistinguishedName"
	attrExpires  = "accountExpires" // Windows file time; canonical RFC 3339
)

// ldapAttrs are the LDAP attributes to request for the schema attributes
// attrs (and the manager): objectGUID always, userAccountControl for the
// account state; cn and the OU come from the DN.
func (d *Directory) ldapAttrs(attrs []string, manager bool) []string {
	return ldapop.RequestAttrs(d.schema, "objectGUID", attrs, manager, func(name string) []string {
		switch name {
		case attrEnabled, attrDisabled:
			return []string{"userAccountControl"}
		case attrCN, attrParent, identity.Manager:
			return nil
		}
		return []string{name}
	})
}

// user is an entry as hrsync sees a user: its objectGUID as id and the
// schema attributes attrs canonicalised (cn and the OU from the DN, the
// account state from userAccountControl, accountExpires as a date).
func (d *Directory) user(e *ldap.Entry, attrs []string, l *identity.Layout) (identity.User, error) {
	raw := e.GetEqualFoldRawAttributeValue("objectGUID")
	if len(raw) != 16 {
		return identity.User{}, fmt.Errorf("entry %s: no objectGUID (the bind account may not read it)", e.DN)
	}
	rdn, parent := ldapconn.SplitDN(e.DN)
	return ldapop.NewUser(d.schema, ldapconn.GUIDString(raw), attrs, l, func(name string) (string, error) {
		switch name {
		case attrEnabled, attrDisabled:
			s := e.GetEqualFoldAttributeValue("userAccountControl")
			if s == "" {
				return "", nil
			}
			uac, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return "", fmt.Errorf("entry %s: userAccountControl %q is not a number", e.DN, s)
			}
			enabled := uac&uacAccountDisable == 0
			if name == attrDisabled {
				enabled = !enabled
			}
			return strconv.FormatBool(enabled), nil
		case attrCN:
			return rdn, nil
		case attrParent:
			return parent, nil
		case identity.Manager:
			return "", nil
		case attrExpires:
			if t, ok := ldapconn.FileTime(e.GetEqualFoldAttributeValue(attrExpires)); ok {
				return t.UTC().Format(time.RFC3339), nil
			}
			return "", nil
		}
		return e.GetEqualFoldAttributeValue(name), nil
	})
}

// rdnValue escapes a cn for a DN (see identity.EscapeRDN).
func rdnValue(cn string) string { return identity.EscapeRDN(cn) }

// domainScope is the Domain Scope control: the server answers from this
// domain's naming context and makes no referral to the others it holds
// (a search from DC=contoso,DC=test otherwise ends with a reference to
// CN=Configuration, which a fail-closed read must refuse).
func domainScope() []ldap.Control {
	return []ldap.Control{ldap.NewControlString(ldap.ControlTypeMicrosoftDomainScope, false, "")}
}

// ReadUsers reads every user below the base DN that the filter admits, in
// pages of 1,000, failing closed: a size or time limit, a paging error or
// a referral fails the read.
func (d *Directory) ReadUsers(ctx context.Context, q directory.Query, progress func(int)) ([]identity.User, error) {
	if q.Licenses {
		return nil, fmt.Errorf("read users: Active Directory has no licenses: remove the mapping's license rules")
	}
	attrs := d.ldapAttrs(q.Attrs, q.Manager)
	layout := identity.NewLayout(q.Attrs) // the users' attributes share its slots
	r, err := d.sess.ReadUsers(ctx, func(c *ldapconn.Conn, each func(*ldap.Entry) error) error {
		return d.sess.Search(ctx, c, ldapconn.Search{Base: d.opts.BaseDN, Filter: d.filter, Attrs: attrs, PageSize: PageSize, Controls: domainScope()}, each)
	}, func(e *ldap.Entry) (identity.User, error) { return d.user(e, q.Attrs, layout) }, PageSize, progress)
	if err != nil {
		return nil, fmt.Errorf("read users below %s: %w", d.opts.BaseDN, err)
	}
	d.mu.Lock()
	d.dnGUID = r.IDs
	d.mu.Unlock()
	if q.Manager {
		if err := r.ResolveManagers(ldapop.NewDNIDs(r.IDs, func(dn string) (*ldap.Entry, error) {
			return d.get(ctx, dn, "(objectClass=*)", []string{"objectGUID"})
		}, idOf)); err != nil {
			return nil, err
		}
	}
	return r.Users, nil
}

// idOf is an entry's id: its objectGUID.
func idOf(e *ldap.Entry) string {
	return ldapconn.GUIDString(e.GetEqualFoldRawAttributeValue("objectGUID"))
}

// dnIDs finds the objectGUIDs of the entries DNs name: among the users
// the last read saw, else with get (see ldapop.DNIDs).
func (d *Directory) dnIDs(get func(dn string) (*ldap.Entry, error)) *ldapop.DNIDs {
	d.mu.Lock()
	defer d.mu.Unlock()
	return ldapop.NewDNIDs(d.dnGUID, get, idOf)
}

// get reads one entry by DN (or <GUID=...>) if it matches filter; nil
// when there is none.
func (d *Directory) get(ctx context.Context, base, filter string, attrs []string, controls ...ldap.Control) (*ldap.Entry, error) {
	return d.sess.Get(ctx, base, filter, attrs, controls...)
}

// byGUIDOn is the user (in scope: below the base DN, matching the
// filter) whose objectGUID is id; nil when there is none.
func (d *Directory) byGUIDOn(c *ldapconn.Conn, id string, attrs []string) (*ldap.Entry, error) {
	if !guid.Valid(id) {
		return nil, nil
	}
	e, err := d.sess.GetOn(c, "<GUID="+id+">", d.filter, attrs)
	if err != nil || e == nil {
		return nil, err
	}
	if !d.inScope(e.DN) {
		return nil, nil
	}
	return e, nil
}

// inScope reports whether dn lies below the base DN.
func (d *Directory) inScope(dn string) bool { return ldapconn.Below(d.base, dn) }

// atOrBelowBase reports whether dn is the base DN or below it (an OU a
// user may live in).
func (d *Directory) atOrBelowBase(dn string) bool { return ldapconn.AtOrBelow(d.base, dn) }

// ReadDeleted reads the deleted users below the base DN that can still be
// restored; none when deleted users cannot be restored (no Recycle Bin:
// a tombstone has lost the attributes that would make it the same user).
func (d *Directory) ReadDeleted(ctx context.Context, q directory.Query) ([]identity.DeletedUser, error) {
	if !d.restore {
		return nil, nil
	}
	attrs := append(d.ldapAttrs(q.Attrs, false), "lastKnownParent", "msDS-LastKnownRDN", "whenChanged")
	var out []identity.DeletedUser
	err := d.withConn(ctx, func(c *ldapconn.Conn) error {
		out = nil
		return d.sess.Search(ctx, c, ldapconn.Search{Base: "CN=Deleted Objects," + d.domainDN, PageSize: PageSize, Attrs: attrs,
			Filter:   "(&(objectClass=user)(!(objectClass=computer))(isDeleted=TRUE)(!(isRecycled=TRUE)))",
			Controls: append(domainScope(), ldap.NewControlMicrosoftShowDeleted())}, func(e *ldap.Entry) error {
			parent := e.GetEqualFoldAttributeValue("lastKnownParent")
			if !d.atOrBelowBase(parent) {
				return nil
			}
			// As it was: its name and OU before the delete.
			live := &ldap.Entry{DN: "CN=" + rdnValue(e.GetEqualFoldAttributeValue("msDS-LastKnownRDN")) + "," + parent, Attributes: e.Attributes}
			u, err := d.user(live, q.Attrs, nil)
			if err != nil {
				return err
			}
			when, _ := ldapconn.GeneralizedTime(e.GetEqualFoldAttributeValue("whenChanged"))
			out = append(out, identity.DeletedUser{User: u, DeletedAt: when})
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read deleted users: %w", err)
	}
	return out, nil
}

// ResolveGroups finds groups anywhere in the domain by DN (a reference
// holding "="), objectGUID, or sAMAccountName / cn. A reference matching
// no group, or a name matching several, is an error naming it.
func (d *Directory) ResolveGroups(ctx context.Context, refs []string) (map[string]directory.Group, error) {
	return ldapop.ResolveGroups(refs, func(ref string) ([]*ldap.Entry, error) { return d.findGroups(ctx, ref) }, idOf, func(ref string) string {
		return fmt.Sprintf("no group %q in %s (give its DN, objectGUID, sAMAccountName or cn)", ref, d.domainDN)
	})
}

// findGroups finds the groups ref names, with their objectGUID and cn.
func (d *Directory) findGroups(ctx context.Context, ref string) ([]*ldap.Entry, error) {
	attrs := []string{"objectGUID", "cn"}
	base := ""
	switch {
	case strings.Contains(ref, "="):
		base = ref
	case guid.Valid(ref):
		base = "<GUID=" + ref + ">"
	}
	if base != "" {
		e, err := d.get(ctx, base, "(objectClass=group)", attrs)
		if err != nil || e == nil {
			return nil, err
		}
		return []*ldap.Entry{e}, nil
	}
	v := ldap.EscapeFilter(ref)
	var found []*ldap.Entry
	err := d.withConn(ctx, func(c *ldapconn.Conn) error {
		found = nil
		return d.sess.Search(ctx, c, ldapconn.Search{Base: d.domainDN, Attrs: attrs, PageSize: PageSize, Controls: domainScope(),
			Filter: "(&(objectClass=group)(|(sAMAccountName=" + v + ")(cn=" + v + ")))"}, func(e *ldap.Entry) error {
			found = append(found, e)
			return nil
		})
	})
	return found, err
}

// GroupMembers lists the objectGUIDs of the group's members that are users
// below the base DN (the only ones a plan can manage). The member values
// are read in ranges (member;range=0-*, then on from the end of each
// answer: AD and Samba return at most 1,500 values at a time); any error
// fails the read.
func (d *Directory) GroupMembers(ctx context.Context, groupID string) ([]string, error) {
	g, err := d.get(ctx, "<GUID="+groupID+">", "(objectClass=group)", []string{"1.1"})
	if err != nil {
		return nil, fmt.Errorf("group %s: %w", groupID, err)
	}
	if g == nil {
		return nil, &directory.Error{Op: "read group " + groupID, Message: "no such group", Kinds: []error{directory.ErrNotFound}}
	}
	members, err := d.members(ctx, g.DN)
	if err != nil {
		return nil, err
	}
	users := d.dnIDs(func(dn string) (*ldap.Entry, error) { return d.get(ctx, dn, d.filter, []string{"objectGUID"}) })
	var ids []string
	for _, m := range members {
		if !d.inScope(m) {
			continue
		}
		id, err := users.ID(m)
		if err != nil {
			return nil, fmt.Errorf("member %s of group %s: %w", m, g.DN, err)
		}
		if id != "" {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// memberRange is how many member values one request asks for: AD's
// MaxValRange (1,500). Asking for explicit windows works alike on Windows
// (which caps an open range there) and Samba (which answers an open range
// whole).
const memberRange = 1500

// members reads every value of a group's member attribute, range by range
// (member;range=0-1499, 1500-2999, ... until the server answers a range
// ending in "*").
func (d *Directory) members(ctx context.Context, groupDN string) ([]string, error) {
	var out []string
	low := 0
	for ranges := 0; ; ranges++ {
		if ranges > 100000 {
			return nil, fmt.Errorf("group %s: the member ranges never end", groupDN)
		}
		e, err := d.get(ctx, groupDN, "(objectClass=group)", []string{fmt.Sprintf("member;range=%d-%d", low, low+memberRange-1)})
		if err != nil {
			return nil, fmt.Errorf("members of %s (from %d): %w", groupDN, low, err)
		}
		if e == nil {
			return nil, fmt.Errorf("group %s disappeared while its members were read", groupDN)
		}
		var attr *ldap.EntryAttribute
		for _, a := range e.Attributes {
			n := strings.ToLower(a.Name)
			if n == "member" || strings.HasPrefix(n, "member;range=") {
				attr = a
			}
		}
		if attr == nil {
			// No values from low on: none at all, or the last window
			// was full and ended exactly at the last member.
			return out, nil
		}
		out = append(out, attr.Values...)
		name := strings.ToLower(attr.Name)
		if name == "member" {
			return out, nil // all of them at once
		}
		span := strings.TrimPrefix(name, "member;range=")
		from, to, ok := strings.Cut(span, "-")
		if !ok || from != strconv.Itoa(low) {
			return nil, fmt.Errorf("group %s: asked for members from %d, the server answered range %s", groupDN, low, span)
		}
		if to == "*" {
			return out, nil
		}
		hi, err := strconv.Atoi(to)
		if err != nil || hi < low || len(attr.Values) != hi-low+1 {
			return nil, fmt.Errorf("group %s: member range %s with %d values does not add up: the read would be partial", groupDN, span, len(attr.Values))
		}
		low = hi + 1
	}
}
