package ldapdir

import (
	"github.com/go-ldap/ldap/v3"

	"github.com/hrsync/hrsync/internal/directory"
	"github.com/hrsync/hrsync/internal/ldapconn"
)

// oidAssertion is the LDAP assertion control (RFC 4528): the server
// carries out the operation only if the entry matches the filter.
const oidAssertion = "1.3.6.1.1.12"

// known is what the adapter last saw of an entry by its entryUUID: its DN
// and uid. Operations that need nothing else of the entry write to that
// DN at once, asserting its entryUUID, instead of looking it up first: an
// entry moved or replaced since fails the assertion (122) or is not there
// (32), and is looked up then.
type known struct{ dn, uid string }

// remember records what the adapter saw of entries.
func (d *Directory) remember(id, dn, uid string) {
	if id == "" || dn == "" {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.byID == nil {
		d.byID = map[string]known{}
	}
	if uid == "" {
		uid = d.byID[id].uid
	}
	d.byID[id] = known{dn: dn, uid: uid}
}

// recall returns what the adapter last saw of the entry id, if the server
// takes the assertion control (without it nothing is recalled: every
// operation looks its entry up).
func (d *Directory) recall(id string) (known, bool) {
	if !d.assert {
		return known{}, false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	k, ok := d.byID[id]
	return k, ok
}

// forget drops an entry that was not where the adapter saw it.
func (d *Directory) forget(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.byID, id)
}

// assertID is the assertion control that the entry's entryUUID is id.
func assertID(id string) ldap.Control {
	f, err := ldap.CompileFilter("(entryUUID=" + ldap.EscapeFilter(id) + ")")
	if err != nil {
		return nil
	}
	return ldap.NewControlString(oidAssertion, true, string(f.Bytes()))
}

// modifyKnown sends the modify build makes for the entry id at the DN the
// adapter last saw it at, asserting its entryUUID. sent is false when the
// adapter knows no DN for id, or the entry is no longer there: the caller
// looks the entry up and tries again.
func (d *Directory) modifyKnown(c *ldapconn.Conn, id string, build func(k known) *ldap.ModifyRequest) (sent bool, err error) {
	k, ok := d.recall(id)
	if !ok {
		return false, nil
	}
	mod := build(k)
	if mod == nil {
		return false, nil
	}
	ctl := assertID(id)
	if ctl == nil {
		return false, nil
	}
	mod.Controls = append(mod.Controls, ctl)
	d.sess.Count("modify", 1)
	err = c.Modify(mod)
	if isCode(err, ldap.LDAPResultAssertionFailed, ldap.LDAPResultNoSuchObject) {
		d.forget(id)
		return false, nil
	}
	return true, err
}

// group is what the adapter last saw of a group.
type group struct {
	dn    string
	attrs []memberAttr
}

// rememberGroup records a group read with its objectClass.
func (d *Directory) rememberGroup(e *ldap.Entry) {
	id := e.GetEqualFoldAttributeValue(attrUUID)
	if id == "" || len(e.GetEqualFoldAttributeValues("objectClass")) == 0 {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.groups == nil {
		d.groups = map[string]group{}
	}
	d.groups[id] = group{dn: e.DN, attrs: memberAttrs(e)}
}

// recallGroup returns what the adapter last saw of the group id (nothing
// without the assertion control).
func (d *Directory) recallGroup(id string) (group, bool) {
	if !d.assert {
		return group{}, false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	g, ok := d.groups[id]
	return g, ok
}

// membershipKnown is membership without lookups, when the adapter knows
// the group and the user: each modify asserts the group's entryUUID. done
// is false when either is unknown or the group is not where it was.
func (d *Directory) membershipKnown(c *ldapconn.Conn, op directory.Op, name string) (done bool, err error) {
	g, ok := d.recallGroup(op.GroupID)
	u, uok := d.recall(op.UserID)
	if !ok || !uok || len(g.attrs) == 0 {
		return false, nil
	}
	for _, ma := range g.attrs {
		v := u.dn
		if !ma.dn {
			if v = u.uid; v == "" {
				return false, nil
			}
		}
		mod := ldap.NewModifyRequest(g.dn, []ldap.Control{assertID(op.GroupID)})
		err := d.changeMember(c, mod, op.Kind, ma, v, g.dn, name)
		if isCode(err, ldap.LDAPResultAssertionFailed, ldap.LDAPResultNoSuchObject) {
			d.mu.Lock()
			delete(d.groups, op.GroupID)
			d.mu.Unlock()
			return false, nil
		}
		if err != nil {
			return true, err
		}
	}
	return true, nil
}
