package ldapdir

import (
	"context"
	"fmt"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/hrsync/hrsync/internal/directory"
	"github.com/hrsync/hrsync/internal/guid"
	"github.com/hrsync/hrsync/internal/ldapconn"
	"github.com/hrsync/hrsync/internal/ldapop"
)

// groupFilter is what a group is: one whose members are DNs
// (groupOfNames, groupOfUniqueNames) or uids (posixGroup); an RFC 2307bis
// group is both.
const groupFilter = "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=posixGroup))"

// memberAttr is a group's member attribute and whether it holds DNs (else
// uids).
type memberAttr struct {
	name string
	dn   bool
}

// memberAttrs are the member attributes of a group by its object classes.
func memberAttrs(g *ldap.Entry) []memberAttr {
	var out []memberAttr
	for _, c := range g.GetEqualFoldAttributeValues("objectClass") {
		switch strings.ToLower(c) {
		case "groupofnames":
			out = append(out, memberAttr{"member", true})
		case "groupofuniquenames":
			out = append(out, memberAttr{"uniqueMember", true})
		case "posixgroup":
			out = append(out, memberAttr{"memberUid", false})
		}
	}
	return out
}

// groupsBase is where groups named by cn are looked up.
func (d *Directory) groupsBase() string {
	if d.opts.GroupsDN != "" {
		return d.opts.GroupsDN
	}
	return d.context
}

// ResolveGroups finds groups by DN (a reference holding "="), entryUUID,
// or cn below groups_dn (the naming context by default). A reference
// matching no group, or a name matching several, is an error naming it.
func (d *Directory) ResolveGroups(ctx context.Context, refs []string) (map[string]directory.Group, error) {
	find := func(ref string) ([]*ldap.Entry, error) {
		return d.findGroups(ctx, ref, []string{attrUUID, "cn", "objectClass"})
	}
	return ldapop.ResolveGroups(refs, find, idOf, func(ref string) string {
		return fmt.Sprintf("no group %q below %s (give its DN, entryUUID or cn; groups are groupOfNames, groupOfUniqueNames or posixGroup)", ref, d.groupsBase())
	})
}

// findGroups finds the groups ref names.
func (d *Directory) findGroups(ctx context.Context, ref string, attrs []string) ([]*ldap.Entry, error) {
	if strings.Contains(ref, "=") {
		e, err := d.sess.Get(ctx, ref, groupFilter, attrs)
		if err != nil || e == nil {
			return nil, err
		}
		d.rememberGroup(e)
		return []*ldap.Entry{e}, nil
	}
	base, filter := d.groupsBase(), "(&"+groupFilter+"(cn="+ldap.EscapeFilter(ref)+"))"
	if guid.Valid(ref) {
		base, filter = d.context, "(&"+groupFilter+"(entryUUID="+ldap.EscapeFilter(ref)+"))"
	}
	var found []*ldap.Entry
	err := d.sess.With(ctx, func(c *ldapconn.Conn) error {
		found = nil
		return d.sess.Search(ctx, c, ldapconn.Search{Base: base, Filter: filter, Attrs: attrs, PageSize: PageSize}, func(e *ldap.Entry) error {
			found = append(found, e)
			return nil
		})
	})
	for _, e := range found {
		d.rememberGroup(e)
	}
	return found, err
}

// groupByID is the group whose entryUUID is id, with attrs; nil when
// there is none.
func (d *Directory) groupByID(ctx context.Context, id string, attrs []string) (*ldap.Entry, error) {
	if !guid.Valid(id) {
		return nil, nil
	}
	found, err := d.findGroups(ctx, id, attrs)
	if err != nil || len(found) == 0 {
		return nil, err
	}
	return found[0], nil
}

// GroupMembers lists the entryUUIDs of the group's members that are users
// in scope (the only ones a plan can manage): member and uniqueMember DNs,
// memberUid uids.
func (d *Directory) GroupMembers(ctx context.Context, groupID string) ([]string, error) {
	g, err := d.groupByID(ctx, groupID, []string{"objectClass", "member", "uniqueMember", "memberUid"})
	if err != nil {
		return nil, fmt.Errorf("group %s: %w", groupID, err)
	}
	if g == nil {
		return nil, &directory.Error{Op: "read group " + groupID, Message: "no such group", Kinds: []error{directory.ErrNotFound}}
	}
	d.mu.Lock()
	read, uids := d.dnID, d.uidN
	d.mu.Unlock()
	users := d.dnIDs(ctx, read)
	seen := map[string]bool{}
	var ids []string
	for _, ma := range memberAttrs(g) {
		for _, v := range g.GetEqualFoldAttributeValues(ma.name) {
			dn := v
			if !ma.dn {
				if dn = uids[strings.ToLower(v)]; dn == "" {
					if dn, err = d.dnOfUID(ctx, v); err != nil {
						return nil, fmt.Errorf("member %s of group %s: %w", v, g.DN, err)
					}
				}
			}
			if dn == "" || !d.inScope(dn) {
				continue
			}
			id, err := users.ID(dn)
			if err != nil {
				return nil, fmt.Errorf("member %s of group %s: %w", dn, g.DN, err)
			}
			if id != "" && !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	return ids, nil
}

// dnOfUID is the DN of the user in scope whose uid is uid ("" for none).
func (d *Directory) dnOfUID(ctx context.Context, uid string) (string, error) {
	dn := ""
	err := d.sess.With(ctx, func(c *ldapconn.Conn) error {
		dn = ""
		return d.each(ctx, c, "(&"+d.filter+"(uid="+ldap.EscapeFilter(uid)+"))", []string{"1.1"}, func(e *ldap.Entry) error {
			dn = e.DN
			return nil
		})
	})
	return dn, err
}

// membership adds the user to the group or removes it, in each member
// attribute the group has (a DN in member or uniqueMember, the uid in
// memberUid), one modify each; a member already (or not a member) is
// fine.
func (d *Directory) membership(ctx context.Context, c *ldapconn.Conn, op directory.Op, name string) error {
	if done, err := d.membershipKnown(c, op, name); done {
		return err
	}
	g, err := d.groupByID(ctx, op.GroupID, []string{attrUUID, "objectClass"})
	if err != nil || g == nil {
		return orNotFound(err, name, "no group "+op.GroupID)
	}
	u, err := d.byIDOn(ctx, c, op.UserID, []string{attrUID})
	if err != nil || u == nil {
		return orNotFound(err, name, "no such user in scope")
	}
	attrs := memberAttrs(g)
	if len(attrs) == 0 {
		return rejected(name, "%s is not a groupOfNames, groupOfUniqueNames or posixGroup", g.DN)
	}
	for _, ma := range attrs {
		v := u.DN
		if !ma.dn {
			if v = u.GetEqualFoldAttributeValue(attrUID); v == "" {
				return rejected(name, "user %s has no uid for the posixGroup %s", u.DN, g.DN)
			}
		}
		if err := d.changeMember(c, ldap.NewModifyRequest(g.DN, nil), op.Kind, ma, v, g.DN, name); err != nil {
			return err
		}
	}
	return nil
}

// changeMember adds v to (or removes it from) the member attribute ma of
// the group at groupDN with mod; a member already, or not a member, is
// success.
func (d *Directory) changeMember(c *ldapconn.Conn, mod *ldap.ModifyRequest, kind directory.OpKind, ma memberAttr, v, groupDN, name string) error {
	if kind == directory.OpAddMember {
		mod.Add(ma.name, []string{v})
	} else {
		mod.Delete(ma.name, []string{v})
	}
	d.sess.Count("modify", 1)
	err := c.Modify(mod)
	switch {
	case err == nil:
	case kind == directory.OpAddMember && isCode(err, ldap.LDAPResultAttributeOrValueExists):
		// a member already
	case kind == directory.OpRemoveMember && isCode(err, ldap.LDAPResultNoSuchAttribute):
		// not a member
	case kind == directory.OpRemoveMember && ma.name != "memberUid" && isCode(err, ldap.LDAPResultObjectClassViolation):
		return &directory.Error{Op: name, Code: ldapop.Code(ldap.LDAPResultObjectClassViolation), Kinds: []error{directory.ErrRejected},
			Message: fmt.Sprintf("%s must keep at least one %s (its object class requires one): add another member first, or use a posixGroup", groupDN, ma.name)}
	default:
		return err
	}
	return nil
}
