// Package ldapdir is an LDAP directory (OpenLDAP, 389 Directory Server)
// behind hrsync's directory port, for inetOrgPerson entries, over
// internal/ldapconn and the helpers it shares with the Active Directory
// adapter (internal/ldapop). Users are read with fail-closed paged
// searches below target.base_dn (and the disabled branch), found again by
// entryUUID (their id), created at uid=<uid>,<branch>, moved with
// ModifyDN (which keeps entryUUID), and disabled by the configured method:
// a permanent ppolicy lock (pwdAccountLockedTime 000001010000Z), a move to
// a disabled branch, or a status attribute. Initial passwords go by the
// password-modify extended operation (RFC 3062) or as a salted SHA-1
// userPassword, over an encrypted or loopback connection only.
//
// Every value an error carries is the directory's result code and message
// and the entry's id or DN: never a request value that could hold a secret.
package ldapdir

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/go-ldap/ldap/v3"

	"github.com/hrsync/hrsync/internal/directory"
	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/ldapconn"
	"github.com/hrsync/hrsync/internal/ldapop"
	"github.com/hrsync/hrsync/internal/loopback"
)

// Disable methods.
const (
	// DisablePPolicy locks the account for good with the ppolicy overlay
	// (pwdAccountLockedTime 000001010000Z); enabling removes the lock.
	DisablePPolicy = "ppolicy"
	// DisableMove moves the entry to Disable.DN; enabling moves it back.
	DisableMove = "move"
	// DisableAttribute sets Disable.Attribute to DisabledValue, and to
	// EnabledValue (or removes it, when that is empty) to enable.
	DisableAttribute = "attribute"
)

// Password methods.
const (
	// PasswordModify sets the initial password with the password-modify
	// extended operation (RFC 3062): the server hashes it as configured.
	PasswordModify = "password_modify"
	// PasswordSSHA sends a salted SHA-1 hash ({SSHA}) as userPassword in
	// the add.
	PasswordSSHA = "ssha"
)

// Disable says how accounts are disabled.
type Disable struct {
	Method string
	// DN is the disabled branch (DisableMove).
	DN string
	// PolicyDN, for DisablePPolicy, is a pwdPolicy entry with pwdLockout
	// TRUE: Open checks it, and users created get it as
	// pwdPolicySubentry. Without it the server's default policy must lock
	// out (ppolicy ignores pwdAccountLockedTime under a policy without
	// pwdLockout: TRUE, and without any policy).
	PolicyDN string
	// Attribute, EnabledValue and DisabledValue for DisableAttribute.
	Attribute, EnabledValue, DisabledValue string
}

// Options says how to reach the directory and which part of it is hrsync's.
type Options struct {
	// Conn is the connection (URL, TLS, CA, bind DN and password).
	Conn ldapconn.Config
	// BaseDN is where users are read; Filter, if not empty, narrows them
	// (ANDed with (objectClass=inetOrgPerson)).
	BaseDN, Filter string
	// PeopleDN is where users are created when the mapping gives no
	// parentDistinguishedName ("": BaseDN).
	PeopleDN string
	// GroupsDN is where groups named by cn are looked up ("": the naming
	// context holding BaseDN).
	GroupsDN string
	// Disable is how accounts are disabled.
	Disable Disable
	// PasswordMethod is PasswordModify (default) or PasswordSSHA.
	PasswordMethod string
	// RDNAttribute names entries: "uid" (the default) or "cn".
	RDNAttribute string
	// Concurrency is how many operations Do has in flight (default 4).
	Concurrency int
	// Log receives what the adapter decided.
	Log *slog.Logger
}

// PageSize is the paged-search page: OpenLDAP's default size limit.
const PageSize = 500

// lookupsPerPage is how many lookups by entryUUID cost as much as a page
// of PageSize users (measured against slapd: see the README), so apply's
// re-read is targeted while that is cheaper.
const lookupsPerPage = 25

// personClass is what a user is.
const personClass = "(objectClass=inetOrgPerson)"

// lockedForever is ppolicy's permanent lock: an administrator's, never
// lifted by pwdLockoutDuration.
const lockedForever = "000001010000Z"

// OIDs the server must offer for some settings.
const (
	oidPPolicy        = "1.3.6.1.4.1.42.2.27.8.5.1"
	oidPasswordModify = "1.3.6.1.4.1.4203.1.11.1"
)

// Directory is an LDAP directory.
type Directory struct {
	opts   Options
	log    *slog.Logger
	info   directory.Info
	schema *identity.Schema
	sess   *ldapop.Session
	// bases are where users are read: BaseDN, and the disabled branch
	// when it is not below BaseDN.
	bases []*ldap.DN
	base  *ldap.DN
	// disabled is the disabled branch (DisableMove).
	disabled *ldap.DN
	filter   string
	// rdn is the attribute entries are named by (uid or cn).
	rdn string
	// context is the naming context holding BaseDN.
	context string
	// secure says a password may be sent: the connection is TLS or to
	// this machine.
	secure bool

	mu sync.Mutex
	// dnID maps the DNs (folded) of the users the last read saw to their
	// entryUUIDs, and uidDN their uids to their DNs, for managers and
	// group members.
	dnID map[string]string
	uidN map[string]string
	// byID is what the adapter last saw of entries (see known); assert
	// says the server takes the assertion control, without which byID is
	// not used.
	byID   map[string]known
	groups map[string]group
	assert bool
}

var _ directory.Directory = (*Directory)(nil)

// Requests returns how many LDAP requests of each kind the directory sent
// so far ("search page", "lookup", "add", "modify", "modrdn", "delete",
// "extended").
func (d *Directory) Requests() map[string]int { return d.sess.Requests() }

// Open connects, binds and checks the settings against the server: the
// base DN and the branches exist, the disable method and password method
// are what the server offers. Errors say which step or setting failed.
func Open(ctx context.Context, opts Options) (*Directory, error) {
	d, err := prepare(opts)
	if err != nil {
		return nil, err
	}
	if d.sess, err = ldapop.Dial(ctx, d.opts.Conn, d.log); err != nil {
		return nil, err
	}
	u, _ := url.Parse(d.opts.Conn.URL)
	d.secure = d.sess.Encrypted() || (u != nil && loopback.IsLoopback(u.Hostname()))
	if err := d.learn(ctx); err != nil {
		d.sess.Close()
		return nil, err
	}
	return d, nil
}

// prepare checks the options that need no server.
func prepare(opts Options) (*Directory, error) {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	if opts.PasswordMethod == "" {
		opts.PasswordMethod = PasswordModify
	}
	if opts.PeopleDN == "" {
		opts.PeopleDN = opts.BaseDN
	}
	if opts.RDNAttribute == "" {
		opts.RDNAttribute = attrUID
	}
	schema, err := identity.LDAPSchemaNamedBy(opts.RDNAttribute)
	if err != nil {
		return nil, fmt.Errorf("rdn_attribute: %w", err)
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	base, filter, err := ldapop.Scope(opts.BaseDN, personClass, opts.Filter)
	if err != nil {
		return nil, err
	}
	d := &Directory{opts: opts, log: log, base: base, bases: []*ldap.DN{base}, filter: filter, schema: schema, rdn: opts.RDNAttribute}
	if !ldapconn.AtOrBelow(base, opts.PeopleDN) {
		return nil, fmt.Errorf("people_dn %s is not at or below base_dn %s: users created there would not be read again", opts.PeopleDN, opts.BaseDN)
	}
	return d, d.prepareDisable()
}

// prepareDisable checks the disable method's settings.
func (d *Directory) prepareDisable() error {
	o := d.opts.Disable
	switch o.Method {
	case DisablePPolicy:
	case DisableMove:
		dn, err := ldap.ParseDN(o.DN)
		if err != nil || len(dn.RDNs) == 0 {
			return fmt.Errorf("disable.dn %q is not a distinguished name", o.DN)
		}
		if dn.EqualFold(d.base) || dn.AncestorOf(d.base) || ldapconn.AtOrBelow(dn, d.opts.PeopleDN) {
			return fmt.Errorf("disable.dn %s must be a branch of its own, neither base_dn nor holding it or people_dn", o.DN)
		}
		d.disabled = dn
		if !d.base.AncestorOfFold(dn) {
			d.bases = append(d.bases, dn) // read too: a leaver must not come back as a joiner
		}
	case DisableAttribute:
		if o.Attribute == "" || o.DisabledValue == "" {
			return errors.New("disable.attribute and disable.disabled_value are needed for the attribute method")
		}
		if _, ok := d.schema.Lookup(o.Attribute); ok {
			d.log.Warn("the status attribute is also an attribute mappings may write: do not map it", "attribute", o.Attribute)
		}
	default:
		return fmt.Errorf("disable.method %q: use ppolicy, move or attribute", o.Method)
	}
	switch d.opts.PasswordMethod {
	case PasswordModify, PasswordSSHA:
	default:
		return fmt.Errorf("password_method %q: use password_modify or ssha", d.opts.PasswordMethod)
	}
	return nil
}

// learn reads the root DSE (naming context, controls, extended
// operations), checks the DNs the settings name, and identifies the
// directory by its naming context's entryUUID.
func (d *Directory) learn(ctx context.Context) error {
	root, err := d.sess.Get(ctx, "", "(objectClass=*)", []string{"namingContexts", "supportedControl", "supportedExtension", "vendorName"})
	if err != nil || root == nil {
		return fmt.Errorf("read the root DSE of %s: %v", d.opts.Conn.URL, orMissing(err))
	}
	for _, nc := range root.GetAttributeValues("namingContexts") {
		if p, err := ldap.ParseDN(nc); err == nil && len(p.RDNs) > 0 && (p.EqualFold(d.base) || p.AncestorOfFold(d.base)) {
			d.context = nc
		}
	}
	if d.context == "" {
		return fmt.Errorf("base_dn %s is in none of the naming contexts of %s (%s)", d.opts.BaseDN, d.opts.Conn.URL, strings.Join(root.GetAttributeValues("namingContexts"), "; "))
	}
	d.assert = slices.Contains(root.GetAttributeValues("supportedControl"), oidAssertion)
	if err := d.checkOffers(root); err != nil {
		return err
	}
	for _, c := range []struct{ key, dn string }{{"base_dn", d.opts.BaseDN}, {"people_dn", d.opts.PeopleDN}, {"groups_dn", d.opts.GroupsDN}, {"disable.dn", d.opts.Disable.DN}} {
		if c.dn == "" {
			continue
		}
		if e, err := d.sess.Get(ctx, c.dn, "(objectClass=*)", []string{"1.1"}); err != nil {
			return fmt.Errorf("%s %s: %v", c.key, c.dn, err)
		} else if e == nil {
			return fmt.Errorf("%s %s does not exist on %s (or the bind account may not read it)", c.key, c.dn, d.opts.Conn.URL)
		}
	}
	if err := d.checkPolicy(ctx); err != nil {
		return err
	}
	nc, err := d.sess.Get(ctx, d.context, "(objectClass=*)", []string{"entryUUID"})
	if err != nil || nc == nil {
		return fmt.Errorf("read the naming context %s: %v", d.context, orMissing(err))
	}
	id := d.context
	if u := nc.GetEqualFoldAttributeValue("entryUUID"); u != "" {
		// The naming context's entryUUID tells this directory (and its
		// replicas, which keep it) from another with the same suffix.
		id += " (" + u + ")"
	}
	d.info = directory.Info{Type: identity.TargetLDAP, TenantID: id, Endpoint: d.opts.Conn.URL, Naming: d.rdn,
		LookupsPerRequest: lookupsPerPage, UsersPerPage: PageSize}
	d.log.Info("ldap directory", "naming_context", d.context, "vendor", root.GetAttributeValue("vendorName"),
		"disable", d.opts.Disable.Method, "password", d.opts.PasswordMethod)
	return nil
}

// checkOffers checks the server offers what the methods need.
func (d *Directory) checkOffers(root *ldap.Entry) error {
	if d.opts.Disable.Method == DisablePPolicy && !slices.Contains(root.GetAttributeValues("supportedControl"), oidPPolicy) {
		return fmt.Errorf("disable.method ppolicy: %s does not offer the password policy control (%s): load the ppolicy overlay (see README), or choose move or attribute", d.opts.Conn.URL, oidPPolicy)
	}
	if d.opts.PasswordMethod == PasswordModify && !slices.Contains(root.GetAttributeValues("supportedExtension"), oidPasswordModify) {
		return fmt.Errorf("password_method password_modify: %s does not offer the password modify extended operation (%s); use password_method: ssha", d.opts.Conn.URL, oidPasswordModify)
	}
	return nil
}

// checkPolicy checks a ppolicy's policy_dn locks accounts out.
func (d *Directory) checkPolicy(ctx context.Context) error {
	dn := d.opts.Disable.PolicyDN
	if d.opts.Disable.Method != DisablePPolicy {
		return nil
	}
	if dn == "" {
		d.log.Warn("disable.method ppolicy without disable.policy_dn: the server's default password policy must have pwdLockout: TRUE, or a locked account can still bind")
		return nil
	}
	e, err := d.sess.Get(ctx, dn, "(objectClass=pwdPolicy)", []string{"pwdLockout"})
	if err != nil {
		return fmt.Errorf("disable.policy_dn %s: %v", dn, err)
	}
	if e == nil {
		return fmt.Errorf("disable.policy_dn %s is not a pwdPolicy entry on %s", dn, d.opts.Conn.URL)
	}
	if !strings.EqualFold(e.GetEqualFoldAttributeValue("pwdLockout"), "TRUE") {
		return fmt.Errorf("disable.policy_dn %s does not have pwdLockout: TRUE: the ppolicy overlay would ignore the lock hrsync sets, and disabled users could still bind", dn)
	}
	return nil
}

func orMissing(err error) error {
	if err == nil {
		return errors.New("no such entry")
	}
	return err
}

// Info identifies the directory: its naming context and that entry's
// entryUUID are the plan's tenant.
func (d *Directory) Info() directory.Info { return d.info }

// Schema is the inetOrgPerson schema.
func (d *Directory) Schema() *identity.Schema { return d.schema }

// Close unbinds and closes the connection, and logs the requests sent.
func (d *Directory) Close(context.Context) error {
	d.sess.Close()
	return nil
}
