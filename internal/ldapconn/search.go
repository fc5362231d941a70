package ldapconn

import (
	"context"
	"errors"
	"fmt"
	"strings"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

// Search is one paged search.
type Search struct {
	// Base is the DN the search starts at; Scope is ldap.ScopeWholeSubtree
	// unless set to ldap.ScopeSingleLevel. ldap.ScopeBaseObject is 0, the
	// unset value: set BaseObject instead to read only the entry at Base.
	Base       string
	Scope      int
	BaseObject bool
	// Filter is an LDAP filter; "" is (objectClass=*).
	Filter string
	// Attrs are the attributes to read.
	Attrs []string
	// PageSize is the paged-results page size (RFC 2696); 0 is 500.
	// Active Directory returns at most 1,000 per page.
	PageSize uint32
	// Controls are sent with every page besides the paging control.
	Controls []ldap.Control
}

// DefaultPageSize is a page's size when Search.PageSize is 0: under
// OpenLDAP's default size limit (500) and AD's page cap (1,000).
const DefaultPageSize = 500

// maxEmptyPages is how many pages in a row without entries Search accepts
// while the server says there are more.
const maxEmptyPages = 1000

// foldedHash is a 64-bit FNV-1a hash of dn with ASCII letters folded to
// lower case (DNs differing only in case name one entry), computed without
// allocating: Search remembers every DN it read by this hash.
func foldedHash(dn string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(dn); i++ {
		c := dn[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

// ErrPartial marks a read the directory cut short: hrsync never uses a
// partial read, since the people missing from it would look like leavers.
var ErrPartial = errors.New("the directory returned only part of the result")

// Search reads every entry below s.Base that matches, page by page, and
// calls each for every entry in order. It fails closed: any result other
// than success (a size or time limit, an error), a referral or
// continuation reference (hrsync follows none), a page without the paging
// control while the server has more, or paging that goes round in a circle
// (an entry returned twice, or page after page without entries) fails the
// whole read with ErrPartial or the server's error. A repeated cookie is
// no sign of trouble: Samba's cookie names the search, the same for every
// page. It returns the number of pages read.
func (c *Conn) Search(ctx context.Context, s Search, each func(*ldap.Entry) error) (int, error) {
	if s.Filter == "" {
		s.Filter = "(objectClass=*)"
	}
	switch {
	case s.BaseObject:
		s.Scope = ldap.ScopeBaseObject
	case s.Scope == 0:
		s.Scope = ldap.ScopeWholeSubtree
	}
	size := s.PageSize
	if size == 0 {
		size = DefaultPageSize
	}
	paging := &criticalPaging{ControlPaging: ldap.ControlPaging{PagingSize: size}}
	controls := append(append([]ldap.Control(nil), s.Controls...), paging)
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	seen := map[uint64]struct{}{}
	pages, empty := 0, 0
	for {
		req := ldap.NewSearchRequest(s.Base, s.Scope, ldap.NeverDerefAliases, 0, 0, false, s.Filter, s.Attrs, controls)
		res, err := c.Conn.Search(req)
		if ctx.Err() != nil {
			return pages, ctx.Err()
		}
		if err != nil {
			return pages, c.searchError(s, pages, err)
		}
		pages++
		if len(res.Referrals) > 0 {
			return pages, fmt.Errorf("search %s: page %d: %w: the server referred to %s, and hrsync follows no referral; point base_dn at the part of the directory this server holds", s.Base, pages, ErrPartial, strings.Join(res.Referrals, ", "))
		}
		for _, e := range res.Entries {
			h := foldedHash(e.DN)
			if _, twice := seen[h]; twice {
				return pages, fmt.Errorf("search %s: page %d: %w: the server returned %s a second time, so its paging went round in a circle", s.Base, pages, ErrPartial, e.DN)
			}
			seen[h] = struct{}{}
			if err := each(e); err != nil {
				return pages, err
			}
		}
		var cookie []byte
		if ctl, ok := ldap.FindControl(res.Controls, ldap.ControlTypePaging).(*ldap.ControlPaging); ok {
			cookie = ctl.Cookie
		} else if len(res.Entries) >= int(size) {
			return pages, fmt.Errorf("search %s: page %d: %w: the server returned %d entries without paging, so there may be more; it must support paged results (RFC 2696)", s.Base, pages, ErrPartial, len(res.Entries))
		}
		if len(cookie) == 0 {
			return pages, nil
		}
		// A server may answer a page with no entries (AD does when a page's
		// time runs out among entries that do not match), but not forever.
		if empty = empty + 1; len(res.Entries) > 0 {
			empty = 0
		}
		if empty > maxEmptyPages {
			return pages, fmt.Errorf("search %s: page %d: %w: the server sent %d pages in a row without entries and still says there are more", s.Base, pages, ErrPartial, empty)
		}
		paging.SetCookie(cookie)
	}
}

// criticalPaging is the paged-results control marked critical: a server
// that cannot page must refuse the search (unavailableCriticalExtension)
// rather than answer with part of the result. go-ldap's control is never
// critical.
type criticalPaging struct{ ldap.ControlPaging }

// Encode is RFC 2696's control, critical: type, criticality, then the
// value (the page size and the cookie).
func (c *criticalPaging) Encode() *ber.Packet {
	p := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "Control")
	p.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, ldap.ControlTypePaging, "Control Type (Paging)"))
	p.AppendChild(ber.NewBoolean(ber.ClassUniversal, ber.TypePrimitive, ber.TagBoolean, true, "Criticality"))
	value := ber.Encode(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, nil, "Control Value (Paging)")
	seq := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "Search Control Value")
	seq.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, int64(c.PagingSize), "Paging Size"))
	cookie := ber.Encode(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, nil, "Cookie")
	cookie.Value = c.Cookie
	cookie.Data.Write(c.Cookie)
	seq.AppendChild(cookie)
	value.AppendChild(seq)
	p.AppendChild(value)
	return p
}

// searchError explains a failed search page.
func (c *Conn) searchError(s Search, pages int, err error) error {
	where := fmt.Sprintf("search %s", s.Base)
	if pages > 0 {
		where += fmt.Sprintf(": page %d", pages+1)
	}
	switch {
	case ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject):
		return fmt.Errorf("%s: %s: the search base does not exist on %s (check base_dn)", where, ldapMessage(err), c.cfg.URL)
	case ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded):
		return fmt.Errorf("%s: %w: %s: the server's size limit cut the read short (raise it for the bind account, or make sure it pages)", where, ErrPartial, ldapMessage(err))
	case ldap.IsErrorWithCode(err, ldap.LDAPResultTimeLimitExceeded):
		return fmt.Errorf("%s: %w: %s: the server's time limit cut the read short", where, ErrPartial, ldapMessage(err))
	case ldap.IsErrorWithCode(err, ldap.LDAPResultReferral):
		return fmt.Errorf("%s: %w: %s: the server referred elsewhere, and hrsync follows no referral; point base_dn at the part of the directory this server holds", where, ErrPartial, ldapMessage(err))
	case ldap.IsErrorWithCode(err, ldap.LDAPResultAdminLimitExceeded):
		return fmt.Errorf("%s: %w: %s: the server limits what this account may read (e.g. no paged results for it): hrsync needs a complete, paged read", where, ErrPartial, ldapMessage(err))
	case ldap.IsErrorWithCode(err, ldap.LDAPResultUnavailableCriticalExtension):
		return fmt.Errorf("%s: %w: %s: the server does not support paged results (RFC 2696), so a complete read cannot be guaranteed", where, ErrPartial, ldapMessage(err))
	case ldap.IsErrorWithCode(err, ldap.LDAPResultInsufficientAccessRights):
		return fmt.Errorf("%s: %s: the bind account may not read there", where, ldapMessage(err))
	}
	return fmt.Errorf("%s: %s", where, ldapMessage(err))
}

// Get reads one entry by DN (nil, nil when it does not exist).
func (c *Conn) Get(ctx context.Context, dn string, attrs []string, controls ...ldap.Control) (*ldap.Entry, error) {
	var found *ldap.Entry
	_, err := c.Search(ctx, Search{Base: dn, BaseObject: true, Attrs: attrs, Controls: controls}, func(e *ldap.Entry) error {
		found = e
		return nil
	})
	if ldap.IsErrorWithCode(errors.Unwrap(err), ldap.LDAPResultNoSuchObject) || (err != nil && strings.Contains(err.Error(), "No Such Object")) {
		return nil, nil
	}
	return found, err
}
