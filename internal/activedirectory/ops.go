package activedirectory

import (
	"context"
	"encoding/binary"
	"fmt"
	"sort"
	"strconv"
	"time"
	"unicode/utf16"

	"github.com/go-ldap/ldap/v3"

	"github.com/hrsync/hrsync/internal/directory"
	"github.com/hrsync/hrsync/internal/guid"
	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/ldapconn"
	"github.com/hrsync/hrsync/internal/ldapop"
)

// Do carries out ops, Options.Concurrency at a time on the connection
// (go-ldap multiplexes requests on it), and calls done once per op. Ops
// not started when opts.Stop (or ctx) ends get directory.ErrNotSent. An op
// whose connection broke is run again, whole, on a new connection: every
// op is safe to repeat (a create comes back "already exists", which apply
// settles by adopting the user).
func (d *Directory) Do(ctx context.Context, ops []directory.Op, opts directory.DoOptions, done func(i int, o directory.Outcome)) {
	ldapop.Do(ctx, ops, opts, d.opts.Concurrency, func(op directory.Op) directory.Outcome { return d.do(ctx, op) }, done)
}

// do runs one op, again on a new connection if the connection broke.
func (d *Directory) do(ctx context.Context, op directory.Op) directory.Outcome {
	var out directory.Outcome
	name := describe(op)
	err := d.withConn(ctx, func(c *ldapconn.Conn) error {
		var err error
		out, err = d.run(ctx, c, op, name)
		return err
	})
	out.Err = opError(name, err)
	if op.Kind == directory.OpCreate && op.Password != "" {
		out.Err = ldapop.Scrub(out.Err, op.Password)
	}
	return out
}

// describe names an op for errors: its kind and the ids involved, never
// a value it writes.
func describe(op directory.Op) string {
	return ldapop.Describe(op, func(op directory.Op) string { return entryDN(op.Attrs) })
}

// entryDN is the DN a create's attributes place the user at.
func entryDN(a identity.Attrs) string {
	return "CN=" + rdnValue(a.Get(attrCN)) + "," + a.Get(attrParent)
}

// run carries out op on c.
func (d *Directory) run(ctx context.Context, c *ldapconn.Conn, op directory.Op, name string) (directory.Outcome, error) {
	switch op.Kind {
	case directory.OpCreate:
		return d.create(c, op, name)
	case directory.OpUpdate:
		return directory.Outcome{}, d.update(c, op, name)
	case directory.OpSetManager, directory.OpRemoveManager:
		return directory.Outcome{}, d.setManager(c, op, name)
	case directory.OpFind:
		return d.find(ctx, c, op, name)
	case directory.OpGet:
		return d.read(c, op, name)
	case directory.OpDelete:
		e, err := d.byGUIDOn(c, op.UserID, []string{"1.1"})
		if err != nil || e == nil {
			return directory.Outcome{}, orNotFound(err, name, "no such user below "+d.opts.BaseDN)
		}
		d.sess.Count("delete", 1)
		return directory.Outcome{}, c.Del(ldap.NewDelRequest(e.DN, nil))
	case directory.OpRestore:
		return d.restoreUser(c, op, name)
	case directory.OpAddMember, directory.OpRemoveMember:
		return directory.Outcome{}, d.membership(c, op, name)
	case directory.OpRevokeSessions:
		return directory.Outcome{}, rejected(name, "Active Directory has no sign-in sessions to revoke over LDAP (disabling the account stops new Kerberos tickets)")
	case directory.OpAssignLicense:
		return directory.Outcome{}, rejected(name, "Active Directory has no licenses")
	}
	return directory.Outcome{}, rejected(name, "not supported by Active Directory")
}

func orNotFound(err error, op, what string) error {
	if err != nil {
		return err
	}
	return notFound(op, what)
}

// unicodePwd is a password as AD takes it: in double quotes, UTF-16LE.
func unicodePwd(password string) string {
	u := utf16.Encode([]rune(`"` + password + `"`))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return string(b)
}

// fileTime is a canonical date as Windows file time ("0" for none).
func fileTime(v *string) (string, error) {
	if v == nil || *v == "" {
		return "0", nil
	}
	t, err := time.Parse(time.RFC3339, *v)
	if err != nil {
		return "", fmt.Errorf("accountExpires %q is not a date", *v)
	}
	return ldapconn.ToFileTime(t), nil
}

// create adds the user at CN=<cn>,<parentDistinguishedName> with its
// attributes, its initial password (which must be changed at first
// sign-in) and its account state, then reads back its objectGUID.
func (d *Directory) create(c *ldapconn.Conn, op directory.Op, name string) (directory.Outcome, error) {
	cn, parent := op.Attrs.Get(attrCN), op.Attrs.Get(attrParent)
	if cn == "" || parent == "" {
		return directory.Outcome{}, rejected(name, "a user needs cn and parentDistinguishedName (its name and OU)")
	}
	if !d.atOrBelowBase(parent) {
		return directory.Outcome{}, rejected(name, "parentDistinguishedName %s is not below base_dn %s", parent, d.opts.BaseDN)
	}
	if op.Password != "" && !d.encrypted {
		return directory.Outcome{}, rejected(name, "refusing to send a password over an unencrypted connection: use ldaps:// or StartTLS")
	}
	dn := entryDN(op.Attrs)
	req := ldap.NewAddRequest(dn, nil)
	req.Attribute("objectClass", []string{"top", "person", "organizationalPerson", "user"})
	uac := uacNormalAccount
	names := make([]string, 0, op.Attrs.Len())
	for a := range op.Attrs.All() {
		names = append(names, a)
	}
	sort.Strings(names)
	for _, a := range names {
		v := op.Attrs.Get(a)
		spec, ok := d.schema.Lookup(a)
		if !ok {
			return directory.Outcome{}, rejected(name, "%s is not an Active Directory attribute hrsync writes", a)
		}
		switch spec.Name {
		case attrCN, attrParent, identity.Manager:
		case attrEnabled, attrDisabled:
			disabled := v == "false"
			if spec.Name == attrDisabled {
				disabled = v == "true"
			}
			if disabled {
				uac |= uacAccountDisable
			}
		case attrExpires:
			ft, err := fileTime(&v)
			if err != nil {
				return directory.Outcome{}, rejected(name, "%v", err)
			}
			req.Attribute(attrExpires, []string{ft})
		default:
			if v != "" {
				req.Attribute(spec.Name, []string{v})
			}
		}
	}
	req.Attribute("userAccountControl", []string{strconv.Itoa(uac)})
	if op.Password != "" {
		req.Attribute("unicodePwd", []string{unicodePwd(op.Password)})
		req.Attribute("pwdLastSet", []string{"0"}) // must change it at first sign-in
	}
	d.sess.Count("add", 1)
	if err := c.Add(req); err != nil {
		return directory.Outcome{}, err
	}
	e, err := d.sess.GetOn(c, dn, "(objectClass=user)", []string{"objectGUID"})
	if err != nil {
		return directory.Outcome{}, fmt.Errorf("created, but reading its objectGUID back failed: %w", err)
	}
	if e == nil {
		return directory.Outcome{}, fmt.Errorf("created, but %s cannot be read back", dn)
	}
	return directory.Outcome{ID: ldapconn.GUIDString(e.GetEqualFoldRawAttributeValue("objectGUID"))}, nil
}

// update writes op.Set to the user: a new cn and/or OU with one ModifyDN
// (the objectGUID stays; AD refuses to modify cn, 67), then the other
// attributes with one modify (replace; nil deletes), the account state by
// flipping only ACCOUNTDISABLE in userAccountControl. It is safe to
// repeat: the user is found by objectGUID wherever it is now, and a
// ModifyDN to where it already is, or a state already set, is skipped.
func (d *Directory) update(c *ldapconn.Conn, op directory.Op, name string) error {
	attrs := []string{"1.1"}
	_, en := op.Set[attrEnabled]
	_, dis := op.Set[attrDisabled]
	if en || dis {
		attrs = []string{"userAccountControl"}
	}
	e, err := d.byGUIDOn(c, op.UserID, attrs)
	if err != nil || e == nil {
		return orNotFound(err, name, "no such user below "+d.opts.BaseDN)
	}
	dn, err := d.rename(c, e.DN, op.Set, name)
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

// rename gives the user at dn the cn and OU set names, with one ModifyDN
// when either differs, and returns its DN after.
func (d *Directory) rename(c *ldapconn.Conn, dn string, set map[string]*string, name string) (string, error) {
	newCN, cnSet := set[attrCN]
	newParent, parentSet := set[attrParent]
	if !cnSet && !parentSet {
		return dn, nil
	}
	rdn, parent := ldapconn.SplitDN(dn)
	toRDN, toParent := rdn, parent
	if cnSet {
		if newCN == nil || *newCN == "" {
			return "", rejected(name, "cn cannot be cleared: it is the user's name in its OU")
		}
		toRDN = *newCN
	}
	if parentSet {
		if newParent == nil || *newParent == "" {
			return "", rejected(name, "parentDistinguishedName cannot be cleared: it is the user's OU")
		}
		if !d.atOrBelowBase(*newParent) {
			return "", rejected(name, "parentDistinguishedName %s is not below base_dn %s", *newParent, d.opts.BaseDN)
		}
		toParent = *newParent
	}
	move := !ldapconn.SameDN(toParent, parent)
	if toRDN == rdn && !move {
		return dn, nil
	}
	sup := ""
	if move {
		sup = toParent
	}
	d.sess.Count("modrdn", 1)
	if err := c.ModifyDN(ldap.NewModifyDNRequest(dn, "CN="+rdnValue(toRDN), true, sup)); err != nil {
		if ldap.IsErrorWithCode(err, ldap.LDAPResultEntryAlreadyExists) {
			return "", &directory.Error{Op: name, Code: fmt.Sprintf("LDAP 68 %s", resultName(68)),
				Message: fmt.Sprintf("another entry is already named CN=%s in %s", rdnValue(toRDN), toParent), Kinds: []error{directory.ErrConflict}}
		}
		return "", err
	}
	return "CN=" + rdnValue(toRDN) + "," + toParent, nil
}

// modify is the modify of the user at dn (entry e, read with its
// userAccountControl when set changes the account state) that writes the
// attributes of set other than its name, OU and manager, in name order.
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
			return nil, rejected(name, "%s is not an Active Directory attribute hrsync writes", a)
		}
		switch spec.Name {
		case attrCN, attrParent, identity.Manager:
		case attrEnabled, attrDisabled:
			if v == nil {
				return nil, rejected(name, "%s cannot be cleared", spec.Name)
			}
			disable := *v == "false"
			if spec.Name == attrDisabled {
				disable = *v == "true"
			}
			if err := setDisabled(mod, e, dn, disable); err != nil {
				return nil, err
			}
		case attrExpires:
			ft, err := fileTime(v)
			if err != nil {
				return nil, rejected(name, "%v", err)
			}
			mod.Replace(attrExpires, []string{ft})
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

// setDisabled adds to mod the userAccountControl of entry e with only
// ACCOUNTDISABLE set or cleared, when that changes it.
func setDisabled(mod *ldap.ModifyRequest, e *ldap.Entry, dn string, disable bool) error {
	uac, err := strconv.ParseInt(e.GetEqualFoldAttributeValue("userAccountControl"), 10, 64)
	if err != nil {
		return fmt.Errorf("userAccountControl of %s is unreadable: the bind account may not read it", dn)
	}
	next := uac &^ uacAccountDisable
	if disable {
		next = uac | uacAccountDisable
	}
	if next != uac {
		mod.Replace("userAccountControl", []string{strconv.FormatInt(next, 10)})
	}
	return nil
}

// setManager sets (OpSetManager) or removes (OpRemoveManager) the user's
// manager, a DN AD keeps linked to the manager's entry.
func (d *Directory) setManager(c *ldapconn.Conn, op directory.Op, name string) error {
	e, err := d.byGUIDOn(c, op.UserID, []string{"1.1"})
	if err != nil || e == nil {
		return orNotFound(err, name, "no such user below "+d.opts.BaseDN)
	}
	mod := ldap.NewModifyRequest(e.DN, nil)
	if op.Kind == directory.OpRemoveManager {
		mod.Replace("manager", []string{})
	} else {
		if !guid.Valid(op.ManagerID) {
			return notFound(name, "no manager "+op.ManagerID)
		}
		m, err := d.sess.GetOn(c, "<GUID="+op.ManagerID+">", userFilter, []string{"1.1"})
		if err != nil || m == nil {
			return orNotFound(err, name, "no manager "+op.ManagerID)
		}
		mod.Replace("manager", []string{m.DN})
	}
	d.sess.Count("modify", 1)
	return c.Modify(mod)
}

// find finds the users below the base DN whose attribute op.Attr is
// op.Value.
func (d *Directory) find(ctx context.Context, c *ldapconn.Conn, op directory.Op, name string) (directory.Outcome, error) {
	spec, ok := d.schema.Lookup(op.Attr)
	if !ok || spec.Name == attrEnabled || spec.Name == attrDisabled || spec.Name == attrParent || spec.Name == identity.Manager {
		return directory.Outcome{}, rejected(name, "cannot find users by %s", op.Attr)
	}
	var users []identity.User
	filter := "(&" + d.filter + "(" + spec.Name + "=" + ldap.EscapeFilter(op.Value) + "))"
	if spec.Name == attrExpires {
		ft, err := fileTime(&op.Value)
		if err != nil {
			return directory.Outcome{}, rejected(name, "%v", err)
		}
		filter = "(&" + d.filter + "(accountExpires=" + ft + "))"
	}
	err := d.sess.Search(ctx, c, ldapconn.Search{Base: d.opts.BaseDN, Filter: filter, Attrs: d.ldapAttrs(op.Select, false), PageSize: PageSize, Controls: domainScope()}, func(e *ldap.Entry) error {
		u, err := d.user(e, op.Select, nil)
		if err != nil {
			return err
		}
		users = append(users, u)
		return nil
	})
	return directory.Outcome{Users: users}, err
}

// read reads one user by objectGUID, with its manager when op.Expand.
func (d *Directory) read(c *ldapconn.Conn, op directory.Op, name string) (directory.Outcome, error) {
	e, err := d.byGUIDOn(c, op.UserID, d.ldapAttrs(op.Select, op.Expand))
	if err != nil || e == nil {
		return directory.Outcome{}, orNotFound(err, name, "no such user below "+d.opts.BaseDN)
	}
	u, err := d.user(e, op.Select, nil)
	if err != nil {
		return directory.Outcome{}, err
	}
	if m := e.GetEqualFoldAttributeValue("manager"); op.Expand && m != "" {
		if u.ManagerID, err = d.dnIDs(func(dn string) (*ldap.Entry, error) {
			return d.sess.GetOn(c, dn, "(objectClass=*)", []string{"objectGUID"})
		}).ID(m); err != nil {
			return directory.Outcome{}, err
		}
	}
	return directory.Outcome{Users: []identity.User{u}}, nil
}

// restoreUser brings a deleted user back from CN=Deleted Objects (AD's
// Recycle Bin: "tombstone reanimation" keeps objectGUID and, with the
// Recycle Bin, every attribute) to its last OU under its last name.
func (d *Directory) restoreUser(c *ldapconn.Conn, op directory.Op, name string) (directory.Outcome, error) {
	if !d.restore {
		return directory.Outcome{}, rejected(name, "deleted users cannot be restored here (the AD Recycle Bin is off, or the server cannot restore with it)")
	}
	raw, err := ldapconn.GUIDBytes(op.UserID)
	if err != nil {
		return directory.Outcome{}, notFound(name, "not a user id")
	}
	show := []ldap.Control{ldap.NewControlMicrosoftShowDeleted()}
	var gone *ldap.Entry
	d.sess.Count("lookup", 1)
	res, err := c.Conn.Search(ldap.NewSearchRequest("CN=Deleted Objects,"+d.domainDN, ldap.ScopeSingleLevel, ldap.NeverDerefAliases, 0, 0, false,
		"(&(isDeleted=TRUE)(objectGUID="+ldapconn.FilterBytes(raw)+"))", []string{"lastKnownParent", "msDS-LastKnownRDN", "isRecycled"}, show))
	if err != nil {
		return directory.Outcome{}, err
	}
	if len(res.Entries) > 0 {
		gone = res.Entries[0]
	}
	if gone == nil || gone.GetEqualFoldAttributeValue("isRecycled") == "TRUE" {
		return directory.Outcome{}, notFound(name, "no such deleted user (restored or purged)")
	}
	dn := "CN=" + rdnValue(gone.GetEqualFoldAttributeValue("msDS-LastKnownRDN")) + "," + gone.GetEqualFoldAttributeValue("lastKnownParent")
	mod := ldap.NewModifyRequest(gone.DN, show)
	mod.Delete("isDeleted", nil)
	mod.Replace("distinguishedName", []string{dn})
	d.sess.Count("modify", 1)
	if err := c.Modify(mod); err != nil {
		return directory.Outcome{}, err
	}
	return directory.Outcome{ID: op.UserID}, nil
}

// membership adds the user to the group or removes it; a member already
// (or not a member) is fine.
func (d *Directory) membership(c *ldapconn.Conn, op directory.Op, name string) error {
	if !guid.Valid(op.GroupID) {
		return notFound(name, "no group "+op.GroupID)
	}
	g, err := d.sess.GetOn(c, "<GUID="+op.GroupID+">", "(objectClass=group)", []string{"1.1"})
	if err != nil || g == nil {
		return orNotFound(err, name, "no group "+op.GroupID)
	}
	u, err := d.byGUIDOn(c, op.UserID, []string{"1.1"})
	if err != nil || u == nil {
		return orNotFound(err, name, "no such user below "+d.opts.BaseDN)
	}
	mod := ldap.NewModifyRequest(g.DN, nil)
	if op.Kind == directory.OpAddMember {
		mod.Add("member", []string{u.DN})
	} else {
		mod.Delete("member", []string{u.DN})
	}
	d.sess.Count("modify", 1)
	err = c.Modify(mod)
	switch {
	case err == nil:
		return nil
	case op.Kind == directory.OpAddMember && (ldap.IsErrorWithCode(err, ldap.LDAPResultEntryAlreadyExists) || ldap.IsErrorWithCode(err, ldap.LDAPResultAttributeOrValueExists)):
		return nil // a member already
	case op.Kind == directory.OpRemoveMember && (ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchAttribute) || ldap.IsErrorWithCode(err, ldap.LDAPResultUnwillingToPerform)):
		// Not a member (AD answers 53, Samba 16)? Check rather than trust
		// the code.
		still, cerr := d.sess.GetOn(c, u.DN, "(memberOf="+ldap.EscapeFilter(g.DN)+")", []string{"1.1"})
		if cerr == nil && still == nil {
			return nil
		}
	}
	return err
}
