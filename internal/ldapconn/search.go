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
	// unless set (ScopeBaseObject, ScopeSingleLevel).
	Base  string
	Scope int
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

// ErrPartial marks a read the directory cut short: hrsync never uses a
// partial read, since the people missing from it would look like leavers.
var ErrPartial = errors.New("the directory returned only part of the result")

// Search reads every entry below s.Base that matches, page by page, and
// calls each for every entry in order. It fails closed: any result other
// than success (a size or time limit, an error), a referral or
// continuation reference (hrsync follows none), a page without the paging
// control while the server has more, or a repeated cookie fails the whole
// read with ErrPartial or the server's error. It returns the number of
// pages read.
func (c *Conn) Search(ctx context.Context, s Search, each func(*ldap.Entry) error) (int, error) {
	if s.Filter == "" {
		s.Filter = "(objectClass=*)"
	}
	if s.Scope == 0 {
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
	seen := map[string]bool{}
	pages := 0
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
		if seen[string(cookie)] {
			return pages, fmt.Errorf("search %s: page %d: %w: the server repeated a paging cookie", s.Base, pages, ErrPartial)
		}
		seen[string(cookie)] = true
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
	_, err := c.Search(ctx, Search{Base: dn, Scope: ldap.ScopeBaseObject, Attrs: attrs, Controls: controls}, func(e *ldap.Entry) error {
		found = e
		return nil
	})
	if ldap.IsErrorWithCode(errors.Unwrap(err), ldap.LDAPResultNoSuchObject) || (err != nil && strings.Contains(err.Error(), "No Such Object")) {
		return nil, nil
	}
	return found, err
}
