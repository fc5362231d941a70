package ldapdir

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/hrsync/hrsync/internal/directory"
	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/ldapconn"
	"github.com/hrsync/hrsync/internal/ldapop"
)

// hints are an LDAP directory's words on the results whose meaning
// differs between directories.
var hints = ldapop.Hints{
	Exists:     "an entry with this DN (uid in its branch) already exists",
	Password:   "the server's password policy refused the initial password (pwdMinLength, pwdCheckQuality ...); the password is not shown",
	Unique:     func(lower string) bool { return strings.Contains(lower, "unique") },
	UniqueHint: "the unique overlay refused a value another entry holds",
	Access:     "the bind account lacks the permission for this (see README: LDAP directories as a target, permissions)",
	NotOnRDN:   "uid is the entry's name: hrsync never renames it",
}

func rejected(op, format string, args ...any) error { return ldapop.Rejected(op, format, args...) }

func orNotFound(err error, op, what string) error { return ldapop.OrNotFound(err, op, what) }

// Do carries out ops, Options.Concurrency at a time on the connection,
// and calls done once per op (see ldapop.Do). An op whose connection
// broke is run again, whole, on a new connection: every op is safe to
// repeat.
func (d *Directory) Do(ctx context.Context, ops []directory.Op, opts directory.DoOptions, done func(i int, o directory.Outcome)) {
	ldapop.Do(ctx, ops, opts, d.opts.Concurrency, func(op directory.Op) directory.Outcome { return d.do(ctx, op) }, done)
}

// do runs one op, again on a new connection if the connection broke.
func (d *Directory) do(ctx context.Context, op directory.Op) directory.Outcome {
	var out directory.Outcome
	name := ldapop.Describe(op, func(op directory.Op) string { return d.entryDN(op.Attrs, d.createdEnabled(op.Attrs)) })
	err := d.sess.With(ctx, func(c *ldapconn.Conn) error {
		var err error
		out, err = d.run(ctx, c, op, name)
		return err
	})
	out.Err = ldapop.OpError(name, err, hints)
	if op.Kind == directory.OpCreate && op.Password != "" {
		out.Err = ldapop.Scrub(out.Err, op.Password)
	}
	return out
}

// run carries out op on c.
func (d *Directory) run(ctx context.Context, c *ldapconn.Conn, op directory.Op, name string) (directory.Outcome, error) {
	switch op.Kind {
	case directory.OpCreate:
		return d.create(ctx, c, op, name)
	case directory.OpUpdate:
		return directory.Outcome{}, d.update(ctx, c, op, name)
	case directory.OpSetManager, directory.OpRemoveManager:
		return directory.Outcome{}, d.setManager(ctx, c, op, name)
	case directory.OpFind:
		return d.find(ctx, c, op, name)
	case directory.OpGet:
		return d.read(ctx, c, op, name)
	case directory.OpDelete:
		e, err := d.byIDOn(ctx, c, op.UserID, []string{"1.1"})
		if err != nil || e == nil {
			return directory.Outcome{}, orNotFound(err, name, "no such user in scope")
		}
		d.sess.Count("delete", 1)
		return directory.Outcome{}, c.Del(ldap.NewDelRequest(e.DN, nil))
	case directory.OpAddMember, directory.OpRemoveMember:
		return directory.Outcome{}, d.membership(ctx, c, op, name)
	case directory.OpRestore:
		return directory.Outcome{}, rejected(name, "a deleted LDAP entry cannot be restored")
	case directory.OpRevokeSessions:
		return directory.Outcome{}, rejected(name, "an LDAP directory has no sign-in sessions to revoke")
	case directory.OpAssignLicense:
		return directory.Outcome{}, rejected(name, "an LDAP directory has no licenses")
	}
	return directory.Outcome{}, rejected(name, "not supported by an LDAP directory")
}

// createdEnabled says whether a create's attributes make an enabled
// account (the default).
func (d *Directory) createdEnabled(a identity.Attrs) bool { return a.Get(attrEnabled) != "false" }

// placement is where a create puts the user: the disabled branch for a
// disabled user under DisableMove, else the mapped branch or PeopleDN.
func (d *Directory) placement(a identity.Attrs, enabled bool) string {
	if !enabled && d.disabled != nil {
		return d.opts.Disable.DN
	}
	if p := a.Get(attrParent); p != "" {
		return p
	}
	return d.opts.PeopleDN
}

// entryDN is the DN a create's attributes place the user at.
func (d *Directory) entryDN(a identity.Attrs, enabled bool) string {
	return d.rdn + "=" + identity.EscapeRDN(a.Get(d.rdn)) + "," + d.placement(a, enabled)
}

// create adds the user at uid=<uid>,<branch> as an inetOrgPerson with its
// attributes, its account state and, with PasswordSSHA, its hashed
// password; with PasswordModify the password is set next, and should that
// fail the entry is deleted again, so that a create is all or nothing and
// a re-run creates it afresh. It reads back the entryUUID.
func (d *Directory) create(ctx context.Context, c *ldapconn.Conn, op directory.Op, name string) (directory.Outcome, error) {
	if op.Attrs.Get(attrUID) == "" || op.Attrs.Get(d.rdn) == "" {
		return directory.Outcome{}, rejected(name, "a user needs a uid (its sign-in name) and a %s (its name in its branch)", d.rdn)
	}
	enabled := d.createdEnabled(op.Attrs)
	parent := d.placement(op.Attrs, enabled)
	if !d.branchInScope(parent) {
		return directory.Outcome{}, rejected(name, "parentDistinguishedName %s is not at or below base_dn %s", parent, d.opts.BaseDN)
	}
	if d.disabled != nil && enabled && ldapconn.AtOrBelow(d.disabled, parent) {
		return directory.Outcome{}, rejected(name, "an enabled user cannot be placed in the disabled branch %s", d.opts.Disable.DN)
	}
	if op.Password != "" && !d.secure {
		return directory.Outcome{}, rejected(name, "refusing to send a password over an unencrypted connection: use ldaps:// or StartTLS")
	}
	dn := d.entryDN(op.Attrs, enabled)
	req, err := d.addRequest(dn, op, enabled, name)
	if err != nil {
		return directory.Outcome{}, err
	}
	d.sess.Count("add", 1)
	if err := c.Add(req); err != nil {
		return directory.Outcome{}, err
	}
	if d.setsPasswordAfter(op) {
		if err := d.setPassword(c, dn, op.Password, enabled); err != nil {
			d.sess.Count("delete", 1)
			if derr := c.Del(ldap.NewDelRequest(dn, nil)); derr != nil {
				return directory.Outcome{}, fmt.Errorf("created, but setting its password failed (%v), and deleting it again failed too: %w", ldapop.OpError("", err, hints), derr)
			}
			return directory.Outcome{}, fmt.Errorf("setting the initial password (the entry was deleted again): %w", err)
		}
	}
	e, err := d.sess.GetOn(c, dn, "(objectClass=*)", []string{attrUUID})
	if err != nil || e == nil {
		return directory.Outcome{}, fmt.Errorf("created, but reading its entryUUID back failed: %v", orMissing(err))
	}
	id := e.GetEqualFoldAttributeValue(attrUUID)
	d.remember(id, dn, op.Attrs.Get(attrUID))
	return directory.Outcome{ID: id}, nil
}

// addRequest builds a create's add.
func (d *Directory) addRequest(dn string, op directory.Op, enabled bool, name string) (*ldap.AddRequest, error) {
	req := ldap.NewAddRequest(dn, nil)
	req.Attribute("objectClass", []string{"top", "person", "organizationalPerson", "inetOrgPerson"})
	names := make([]string, 0, op.Attrs.Len())
	for a := range op.Attrs.All() {
		names = append(names, a)
	}
	sort.Strings(names)
	for _, a := range names {
		spec, ok := d.schema.Lookup(a)
		if !ok {
			return nil, rejected(name, "%s is not an inetOrgPerson attribute hrsync writes", a)
		}
		switch spec.Name {
		case attrParent, attrEnabled, identity.Manager:
		default:
			if v := op.Attrs.Get(a); v != "" {
				req.Attribute(spec.Name, []string{v})
			}
		}
	}
	o := d.opts.Disable
	switch {
	case o.Method == DisablePPolicy && !enabled && !d.setsPasswordAfter(op):
		req.Attribute(attrLocked, []string{lockedForever})
	case o.Method == DisableAttribute && !enabled:
		req.Attribute(o.Attribute, []string{o.DisabledValue})
	case o.Method == DisableAttribute && o.EnabledValue != "":
		req.Attribute(o.Attribute, []string{o.EnabledValue})
	}
	if o.Method == DisablePPolicy && o.PolicyDN != "" {
		req.Attribute("pwdPolicySubentry", []string{o.PolicyDN})
	}
	if op.Password != "" && d.opts.PasswordMethod == PasswordSSHA {
		h, err := ssha(op.Password)
		if err != nil {
			return nil, err
		}
		req.Attribute("userPassword", []string{h})
	}
	return req, nil
}

// setsPasswordAfter says a create sets the password after the add (the
// password-modify extended operation).
func (d *Directory) setsPasswordAfter(op directory.Op) bool {
	return op.Password != "" && d.opts.PasswordMethod == PasswordModify
}

// setPassword sets a new entry's password with the password-modify
// extended operation and then, for a disabled user under DisablePPolicy,
// the lock: ppolicy lifts a lock when the password changes.
func (d *Directory) setPassword(c *ldapconn.Conn, dn, password string, enabled bool) error {
	d.sess.Count("extended", 1)
	if _, err := c.PasswordModify(ldap.NewPasswordModifyRequest(dn, "", password)); err != nil {
		return err
	}
	if enabled || d.opts.Disable.Method != DisablePPolicy {
		return nil
	}
	mod := ldap.NewModifyRequest(dn, nil)
	mod.Replace(attrLocked, []string{lockedForever})
	d.sess.Count("modify", 1)
	return c.Modify(mod)
}

// update writes op.Set to the user: a new branch (or the disabled branch,
// under DisableMove) with one ModifyDN (the entryUUID stays), then the
// other attributes and the account state with one modify (replace; nil
// deletes). It is safe to repeat: the user is found by entryUUID wherever
// it is now, and a ModifyDN to where it already is, or a state already
// set, is skipped.
func (d *Directory) update(ctx context.Context, c *ldapconn.Conn, op directory.Op, name string) error {
	_, moves := op.Set[attrParent]
	_, states := op.Set[attrEnabled]
	_, renames := op.Set[d.rdn]
	if !moves && !states && !renames {
		// Attributes only: no need to see the entry first.
		var berr error
		sent, err := d.modifyKnown(c, op.UserID, func(k known) *ldap.ModifyRequest {
			mod, err := d.modify(k.dn, nil, op.Set, name)
			if err != nil || len(mod.Changes) == 0 {
				berr = err
				return nil
			}
			return mod
		})
		if berr != nil || sent {
			return errors.Join(berr, err)
		}
	}
	attrs := []string{attrUID, attrUUID}
	if _, ok := op.Set[attrEnabled]; ok {
		attrs = append(d.ldapAttrs([]string{attrUID, attrEnabled}, false), attrUID)
	}
	e, err := d.byIDOn(ctx, c, op.UserID, attrs)
	if err != nil || e == nil {
		return orNotFound(err, name, "no such user in scope")
	}
	dn, err := d.move(ctx, c, e, op.Set, name)
	if err != nil {
		return err
	}
	mod, err := d.modify(dn, e, op.Set, name)
	if err != nil || len(mod.Changes) == 0 {
		return err
	}
	d.sess.Count("modify", 1)
	return c.Modify(mod)
}

// destination is where an update leaves the entry e: its branch as set,
// under DisableMove the disabled branch when disabling, and back out of it
// (to the branch set, or PeopleDN) when enabling.
func (d *Directory) destination(e *ldap.Entry, set map[string]*string, name string) (string, error) {
	_, parent := ldapconn.SplitDN(e.DN)
	to := parent
	if p, ok := set[attrParent]; ok {
		if p == nil || *p == "" {
			return "", rejected(name, "parentDistinguishedName cannot be cleared: it is the user's branch")
		}
		to = *p
	}
	if d.disabled == nil {
		return to, nil
	}
	wasDisabled := ldapconn.Below(d.disabled, e.DN)
	en, enSet := set[attrEnabled]
	switch {
	case enSet && en != nil && *en == "false":
		if !wasDisabled {
			to = d.opts.Disable.DN
		} else {
			to = parent // disabled already: where it is in the branch
		}
	case enSet && en != nil && *en == "true":
		if ldapconn.AtOrBelow(d.disabled, to) {
			to = d.opts.PeopleDN
		}
	case wasDisabled && !ldapconn.AtOrBelow(d.disabled, to):
		return "", rejected(name, "moving a disabled user out of the disabled branch %s would enable it: enable it in the same update", d.opts.Disable.DN)
	case !wasDisabled && ldapconn.AtOrBelow(d.disabled, to):
		return "", rejected(name, "moving an enabled user into the disabled branch %s would disable it: disable it in the same update", d.opts.Disable.DN)
	}
	return to, nil
}

// move moves the entry when its branch changes, and returns its DN.
func (d *Directory) move(ctx context.Context, c *ldapconn.Conn, e *ldap.Entry, set map[string]*string, name string) (string, error) {
	to, err := d.destination(e, set, name)
	if err != nil {
		return "", err
	}
	value, parent := ldapconn.SplitDN(e.DN)
	rdn, renamed := ldapconn.FirstRDN(e.DN), false
	if v, ok := set[d.rdn]; ok && d.rdn != attrUID {
		if v == nil || *v == "" {
			return "", rejected(name, "%s cannot be cleared: it is the user's name in its branch", d.rdn)
		}
		if *v != value {
			rdn, renamed = d.rdn+"="+identity.EscapeRDN(*v), true
		}
	}
	moves := !ldapconn.SameDN(to, parent)
	if !moves && !renamed {
		return e.DN, nil
	}
	if !d.branchInScope(to) {
		return "", rejected(name, "parentDistinguishedName %s is not at or below base_dn %s", to, d.opts.BaseDN)
	}
	sup := ""
	if moves {
		sup = to
	}
	d.sess.Count("modrdn", 1)
	if err := c.ModifyDN(ldap.NewModifyDNRequest(e.DN, rdn, true, sup)); err != nil {
		if ldap.IsErrorWithCode(err, ldap.LDAPResultEntryAlreadyExists) {
			return "", &directory.Error{Op: name, Code: ldapop.Code(ldap.LDAPResultEntryAlreadyExists),
				Message: fmt.Sprintf("another entry is already named %s in %s", rdn, to), Kinds: []error{directory.ErrConflict}}
		}
		return "", err
	}
	dn := rdn + "," + to
	d.remember(e.GetEqualFoldAttributeValue(attrUUID), dn, "")
	return dn, d.followMove(ctx, c, e.DN, dn)
}

// followMove rewrites the DNs that named a moved entry: group members
// (member, uniqueMember) in the naming context and managers in scope, as
// the refint overlay does where it runs. Each value is deleted and added
// on its own, so a value refint rewrote already, or a run repeated, is
// fine.
func (d *Directory) followMove(ctx context.Context, c *ldapconn.Conn, from, to string) error {
	v := ldap.EscapeFilter(from)
	refs := []struct{ base, filter string }{
		{d.context, "(&" + groupFilter + "(|(member=" + v + ")(uniqueMember=" + v + ")))"},
		{d.context, "(&" + personClass + "(manager=" + v + "))"},
	}
	for _, r := range refs {
		var found []*ldap.Entry
		if err := d.sess.Search(ctx, c, ldapconn.Search{Base: r.base, Filter: r.filter, Attrs: []string{"member", "uniqueMember", "manager"}, PageSize: PageSize}, func(e *ldap.Entry) error {
			found = append(found, e)
			return nil
		}); err != nil {
			return fmt.Errorf("moved to %s, but finding the entries that name it failed: %w", to, err)
		}
		for _, e := range found {
			for _, attr := range []string{"member", "uniqueMember", "manager"} {
				if !hasDN(e.GetEqualFoldAttributeValues(attr), from) {
					continue
				}
				if err := d.replaceValue(c, e.DN, attr, from, to); err != nil {
					return fmt.Errorf("moved to %s, but rewriting %s of %s failed: %w", to, attr, e.DN, err)
				}
			}
		}
	}
	return nil
}

// replaceValue replaces one value of a multi-valued DN attribute.
func (d *Directory) replaceValue(c *ldapconn.Conn, dn, attr, from, to string) error {
	add := ldap.NewModifyRequest(dn, nil)
	add.Add(attr, []string{to})
	d.sess.Count("modify", 1)
	if err := c.Modify(add); err != nil && !isCode(err, ldap.LDAPResultAttributeOrValueExists) {
		return err
	}
	del := ldap.NewModifyRequest(dn, nil)
	del.Delete(attr, []string{from})
	d.sess.Count("modify", 1)
	if err := c.Modify(del); err != nil && !isCode(err, ldap.LDAPResultNoSuchAttribute) {
		return err
	}
	return nil
}

// hasDN reports whether values holds dn.
func hasDN(values []string, dn string) bool {
	for _, v := range values {
		if ldapconn.SameDN(v, dn) {
			return true
		}
	}
	return false
}

// modify builds the modify of an update's attributes and account state.
func (d *Directory) modify(dn string, e *ldap.Entry, set map[string]*string, name string) (*ldap.ModifyRequest, error) {
	mod := ldap.NewModifyRequest(dn, nil)
	keys := make([]string, 0, len(set))
	for a := range set {
		keys = append(keys, a)
	}
	sort.Strings(keys)
	for _, a := range keys {
		v := set[a]
		spec, ok := d.schema.Lookup(a)
		if !ok {
			return nil, rejected(name, "%s is not an inetOrgPerson attribute hrsync writes", a)
		}
		switch spec.Name {
		case attrParent, identity.Manager:
		case attrUID:
			return nil, rejected(name, "uid is the user's sign-in name: hrsync never renames it")
		case d.rdn:
			// Written by the ModifyDN that renames the entry.
		case attrEnabled:
			if v == nil {
				return nil, rejected(name, "accountEnabled cannot be cleared")
			}
			d.setState(mod, e, *v == "true")
		default:
			if v == nil || *v == "" {
				mod.Replace(spec.Name, []string{}) // deletes every value; none is fine
			} else {
				mod.Replace(spec.Name, []string{*v})
			}
		}
	}
	return mod, nil
}

// setState adds to mod what makes e enabled or disabled by the method,
// nothing when it is so already (DisableMove moved it already).
func (d *Directory) setState(mod *ldap.ModifyRequest, e *ldap.Entry, enable bool) {
	o := d.opts.Disable
	switch o.Method {
	case DisablePPolicy:
		locked := e.GetEqualFoldAttributeValue(attrLocked)
		switch {
		case enable && locked == lockedForever:
			mod.Delete(attrLocked, nil)
		case !enable && locked != lockedForever:
			mod.Replace(attrLocked, []string{lockedForever})
		}
	case DisableAttribute:
		cur := e.GetEqualFoldAttributeValue(o.Attribute)
		switch {
		case !enable && !strings.EqualFold(cur, o.DisabledValue):
			mod.Replace(o.Attribute, []string{o.DisabledValue})
		case enable && o.EnabledValue == "" && cur != "":
			mod.Replace(o.Attribute, []string{})
		case enable && o.EnabledValue != "" && cur != o.EnabledValue:
			mod.Replace(o.Attribute, []string{o.EnabledValue})
		}
	}
}

// setManager sets (OpSetManager) or removes (OpRemoveManager) the user's
// manager DN.
func (d *Directory) setManager(ctx context.Context, c *ldapconn.Conn, op directory.Op, name string) error {
	manager := ""
	if op.Kind == directory.OpSetManager {
		m, ok := d.recall(op.ManagerID)
		if !ok {
			e, err := d.byIDOn(ctx, c, op.ManagerID, []string{attrUID})
			if err != nil || e == nil {
				return orNotFound(err, name, "no manager "+op.ManagerID)
			}
			m.dn = e.DN
		}
		manager = m.dn
	}
	sent, err := d.modifyKnown(c, op.UserID, func(k known) *ldap.ModifyRequest {
		mod := ldap.NewModifyRequest(k.dn, nil)
		mod.Replace("manager", nonEmpty(manager))
		return mod
	})
	if sent || err != nil {
		return err
	}
	return d.setManagerSlow(ctx, c, op, name)
}

// nonEmpty is []string{v}, or none for "".
func nonEmpty(v string) []string {
	if v == "" {
		return []string{}
	}
	return []string{v}
}

// setManagerSlow is setManager with the entries looked up.
func (d *Directory) setManagerSlow(ctx context.Context, c *ldapconn.Conn, op directory.Op, name string) error {
	e, err := d.byIDOn(ctx, c, op.UserID, []string{"1.1"})
	if err != nil || e == nil {
		return orNotFound(err, name, "no such user in scope")
	}
	mod := ldap.NewModifyRequest(e.DN, nil)
	if op.Kind == directory.OpRemoveManager {
		mod.Replace("manager", []string{})
	} else {
		m, err := d.byIDOn(ctx, c, op.ManagerID, []string{"1.1"})
		if err != nil || m == nil {
			return orNotFound(err, name, "no manager "+op.ManagerID)
		}
		mod.Replace("manager", []string{m.DN})
	}
	d.sess.Count("modify", 1)
	return c.Modify(mod)
}

// isCode reports whether err is an LDAP result of one of codes.
func isCode(err error, codes ...uint16) bool {
	var le *ldap.Error
	if !errors.As(err, &le) {
		return false
	}
	for _, c := range codes {
		if le.ResultCode == c {
			return true
		}
	}
	return false
}
