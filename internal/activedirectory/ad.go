// Package activedirectory is on-premises Active Directory behind hrsync's
// directory port, over LDAP (go-ldap, through internal/ldapconn): users
// are read with fail-closed paged searches below target.base_dn, found
// again by objectGUID (their id), created with an initial password in
// unicodePwd, moved and renamed with ModifyDN (which keeps objectGUID),
// enabled and disabled by the ACCOUNTDISABLE bit of userAccountControl,
// the other bits kept.
//
// Every value an error carries is the directory's result code and message
// and the object's id or DN: never a request value that could hold a
// secret (the password, unicodePwd).
package activedirectory

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/hrsync/hrsync/internal/directory"
	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/ldapconn"
	"github.com/hrsync/hrsync/internal/ldapop"
)

// Options says how to reach the directory and which part of it is hrsync's.
type Options struct {
	// Conn is the connection (URL, TLS, CA, bind DN and password).
	Conn ldapconn.Config
	// BaseDN is where users are read; Filter, if not empty, narrows them
	// (an LDAP filter ANDed with the user filter).
	BaseDN, Filter string
	// LeaversOU, when set, is where the plan moves disabled leavers; it
	// must exist and lie below BaseDN, or a leaver would drop out of the
	// next read and come back as a joiner.
	LeaversOU string
	// Concurrency is how many operations Do has in flight on the
	// connection (default 4).
	Concurrency int
	// Log receives what the adapter decided (the Recycle Bin, reconnects).
	Log *slog.Logger
}

// PageSize is the paged-search page: Active Directory's MaxPageSize.
const PageSize = 1000

// userFilter is what a user is: a person of class user (not a contact,
// not a computer).
const userFilter = "(&(objectCategory=person)(objectClass=user))"

// Bits of userAccountControl.
const (
	uacAccountDisable = 0x2
	uacNormalAccount  = 0x200
)

// Directory is an Active Directory domain.
type Directory struct {
	opts   Options
	log    *slog.Logger
	info   directory.Info
	schema *identity.Schema
	base   *ldap.DN
	// filter is the full user filter: userFilter and Options.Filter.
	filter string
	// domainDN is the domain's naming context (defaultNamingContext).
	domainDN string
	// restore says deleted users can be restored (the Recycle Bin is on
	// and the server can reanimate them).
	restore bool
	// encrypted says the connection is TLS: only then is a password sent.
	encrypted bool

	sess *ldapop.Session

	mu sync.Mutex
	// dnGUID maps the DNs of the users the last read saw (folded) to their
	// objectGUIDs, for managers and group members.
	dnGUID map[string]string
}

// Requests returns how many LDAP requests of each kind the directory
// sent so far ("search page", "lookup", "add", "modify", "modrdn",
// "delete").
func (d *Directory) Requests() map[string]int { return d.sess.Requests() }

var _ directory.Directory = (*Directory)(nil)

// Open connects, binds and learns the domain: its SID (the plan's tenant),
// its naming context, and whether deleted users can be restored. It checks
// that the base DN (and the leavers OU) exist. Errors say which step
// failed: the connection, TLS, the bind, the search base.
func Open(ctx context.Context, opts Options) (*Directory, error) {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	base, filter, err := ldapop.Scope(opts.BaseDN, userFilter, opts.Filter)
	if err != nil {
		return nil, err
	}
	sess, err := ldapop.Dial(ctx, opts.Conn, log)
	if err != nil {
		return nil, err
	}
	d := &Directory{opts: opts, log: log, base: base, filter: filter, sess: sess, schema: identity.ActiveDirectorySchema()}
	d.encrypted = sess.Encrypted()
	if err := d.learn(ctx); err != nil {
		sess.Close()
		return nil, err
	}
	return d, nil
}

// learn reads the root DSE, the domain's SID, the Recycle Bin, and checks
// the base DN and the leavers OU.
func (d *Directory) learn(ctx context.Context) error {
	root, err := d.get(ctx, "", "(objectClass=*)", []string{"defaultNamingContext", "configurationNamingContext", "vendorName"})
	if err != nil || root == nil {
		return fmt.Errorf("read the root DSE of %s: %v", d.opts.Conn.URL, errOrMissing(err))
	}
	d.domainDN = root.GetAttributeValue("defaultNamingContext")
	config := root.GetAttributeValue("configurationNamingContext")
	if d.domainDN == "" {
		return fmt.Errorf("%s is not an Active Directory domain controller: its root DSE names no defaultNamingContext", d.opts.Conn.URL)
	}
	dom, err := d.get(ctx, d.domainDN, "(objectClass=*)", []string{"objectSid"})
	if err != nil || dom == nil {
		return fmt.Errorf("read the domain %s: %v", d.domainDN, errOrMissing(err))
	}
	sid := dom.GetRawAttributeValue("objectSid")
	if len(sid) == 0 {
		return fmt.Errorf("the domain %s has no objectSid: is this an Active Directory domain controller?", d.domainDN)
	}
	domainDN, _ := ldap.ParseDN(d.domainDN)
	if domainDN != nil && !domainDN.EqualFold(d.base) && !domainDN.AncestorOfFold(d.base) {
		return fmt.Errorf("base_dn %s is not in the domain %s", d.opts.BaseDN, d.domainDN)
	}
	if e, err := d.get(ctx, d.opts.BaseDN, "(objectClass=*)", []string{"1.1"}); err != nil {
		return fmt.Errorf("search base %s: %v", d.opts.BaseDN, err)
	} else if e == nil {
		return fmt.Errorf("search base %s does not exist on %s (check base_dn)", d.opts.BaseDN, d.opts.Conn.URL)
	}
	if ou := d.opts.LeaversOU; ou != "" {
		dn, err := ldap.ParseDN(ou)
		if err != nil {
			return fmt.Errorf("leavers_ou %q is not a distinguished name", ou)
		}
		if !d.base.AncestorOfFold(dn) {
			return fmt.Errorf("leavers_ou %s is not below base_dn %s: a leaver moved there would drop out of the next read and come back as a joiner; choose an OU below base_dn", ou, d.opts.BaseDN)
		}
		if e, err := d.get(ctx, ou, "(objectClass=*)", []string{"1.1"}); err != nil {
			return fmt.Errorf("leavers_ou %s: %v", ou, err)
		} else if e == nil {
			return fmt.Errorf("leavers_ou %s does not exist on %s", ou, d.opts.Conn.URL)
		}
	}
	window, why, err := d.recycleBin(ctx, config, root.GetAttributeValue("vendorName"))
	if err != nil {
		return err
	}
	d.restore = window > 0
	d.schema.RestoreWindow = window
	d.log.Info("active directory", "domain", d.domainDN, "recycle_bin", why)
	d.info = directory.Info{
		Type: identity.TargetActiveDirectory, TenantID: ldapconn.SIDString(sid), Endpoint: d.opts.Conn.URL,
		// A lookup by GUID or by value is one small request, a page a
		// thousand entries: re-reading a plan's users one by one is
		// cheaper than a full read until there are about as many lookups
		// per page of users as LookupsPerRequest says (see the package's
		// benchmark: a page costs some 50 lookups on Samba).
		LookupsPerRequest: lookupsPerPage, UsersPerPage: PageSize,
	}
	return nil
}

// lookupsPerPage is how many single lookups cost as much as one page of
// PageSize users (measured on Samba 4.17; Windows answers lookups faster
// still), so apply's re-read is targeted while that is cheaper.
const lookupsPerPage = 50

func errOrMissing(err error) error {
	if err == nil {
		return errors.New("no such entry")
	}
	return err
}

// recycleBinFeature is the Recycle Bin optional feature's GUID; the
// feature object is "CN=Recycle Bin Feature,CN=Optional Features,...".
const recycleBinRDN = "cn=recycle bin feature"

// recycleBin finds out whether deleted users keep their attributes and can
// be restored: the Recycle Bin optional feature is enabled in the forest
// (msDS-EnabledFeature of CN=Partitions), and the server can reanimate
// them. Samba (4.17 at least) enables the feature but cannot restore a
// deleted object with it ("isRecycled: no such attribute for delete"), so
// against Samba deletes are treated as final. The window is the deleted
// object lifetime (msDS-DeletedObjectLifetime, else tombstoneLifetime,
// else AD's default of 180 days).
func (d *Directory) recycleBin(ctx context.Context, config, vendor string) (time.Duration, string, error) {
	if config == "" {
		return 0, "off (no configuration naming context)", nil
	}
	parts, err := d.get(ctx, "CN=Partitions,"+config, "(objectClass=*)", []string{"msDS-EnabledFeature"})
	if err != nil {
		return 0, "", fmt.Errorf("read the forest's optional features (CN=Partitions,%s): %v", config, err)
	}
	on := false
	if parts != nil {
		for _, f := range parts.GetAttributeValues("msDS-EnabledFeature") {
			if strings.HasPrefix(strings.ToLower(f), recycleBinRDN+",") {
				on = true
			}
		}
	}
	if !on {
		return 0, "off: a deleted user cannot be restored with its attributes", nil
	}
	if strings.Contains(strings.ToLower(vendor), "samba") {
		return 0, "on, but " + vendor + " cannot restore deleted objects with it: deletes are final", nil
	}
	days := 180
	if ds, err := d.get(ctx, "CN=Directory Service,CN=Windows NT,CN=Services,"+config, "(objectClass=*)", []string{"msDS-DeletedObjectLifetime", "tombstoneLifetime"}); err == nil && ds != nil {
		for _, a := range []string{"msDS-DeletedObjectLifetime", "tombstoneLifetime"} {
			if n, err := strconv.Atoi(ds.GetAttributeValue(a)); err == nil && n > 0 {
				days = n
				break
			}
		}
	}
	return time.Duration(days) * 24 * time.Hour, fmt.Sprintf("on: deleted users are restorable for %d days", days), nil
}

// Info identifies the domain: its SID is the plan's tenant.
func (d *Directory) Info() directory.Info { return d.info }

// Schema is Active Directory's user schema, with the restore window when
// deleted users can be restored.
func (d *Directory) Schema() *identity.Schema { return d.schema }

// Close unbinds and closes the connection, and logs the requests sent.
func (d *Directory) Close(context.Context) error {
	d.sess.Close()
	return nil
}

// withConn runs f on the connection, reconnecting and running it again
// when the connection broke (see ldapop.Session.With).
func (d *Directory) withConn(ctx context.Context, f func(c *ldapconn.Conn) error) error {
	return d.sess.With(ctx, f)
}
