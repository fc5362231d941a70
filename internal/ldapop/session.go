// Package ldapop is what the directory adapters over LDAP (Active
// Directory, OpenLDAP/389) share: a reconnecting session that counts its
// requests, the fail-closed read of users with their managers, the
// lookup of ids by DN, the resolution of group references, the concurrent
// Do loop of the directory port, and the mapping of LDAP results to the
// port's errors. The adapters keep only what differs: their schema and
// ids, how they search, find, create and disable users.
package ldapop

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/hrsync/hrsync/internal/ldapconn"
)

// Session is a bound connection that is dialled again when it breaks, and
// counts the requests sent on it.
type Session struct {
	cfg ldapconn.Config
	log *slog.Logger

	mu   sync.Mutex
	conn *ldapconn.Conn
	gen  int // bumped at each reconnect

	cmu sync.Mutex
	n   map[string]int
}

// Dial connects and binds (see ldapconn.Dial).
func Dial(ctx context.Context, cfg ldapconn.Config, log *slog.Logger) (*Session, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	conn, err := ldapconn.Dial(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &Session{cfg: cfg, log: log, conn: conn}, nil
}

// Encrypted reports whether the connection is TLS (ldaps:// or StartTLS).
func (s *Session) Encrypted() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return false
	}
	_, ok := s.conn.TLSConnectionState()
	return ok
}

// Count adds n requests of a kind ("search page", "lookup", "add",
// "modify", "modrdn", "delete", "extended").
func (s *Session) Count(what string, n int) {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	if s.n == nil {
		s.n = map[string]int{}
	}
	s.n[what] += n
}

// Requests returns how many requests of each kind were sent so far.
func (s *Session) Requests() map[string]int {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	out := make(map[string]int, len(s.n))
	for k, v := range s.n {
		out[k] = v
	}
	return out
}

// Close logs the requests sent, unbinds and closes the connection.
func (s *Session) Close() {
	n := s.Requests()
	s.log.Info("ldap requests", "search_pages", n["search page"], "lookups", n["lookup"], "adds", n["add"],
		"modifies", n["modify"], "modify_dns", n["modrdn"], "deletes", n["delete"], "extended", n["extended"])
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil {
		s.conn.Close()
		s.conn = nil
	}
}

// connection returns the connection and its generation.
func (s *Session) connection() (*ldapconn.Conn, int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return nil, s.gen, errors.New("the directory connection is closed")
	}
	return s.conn, s.gen, nil
}

// reconnect replaces a broken connection of generation gen (once, however
// many callers saw it break).
func (s *Session) reconnect(ctx context.Context, gen int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gen != gen {
		return nil // someone else reconnected already
	}
	if s.conn == nil {
		return errors.New("the directory connection is closed")
	}
	s.conn.Close()
	conn, err := ldapconn.Dial(ctx, s.cfg)
	if err != nil {
		return err
	}
	s.conn = conn
	s.gen++
	s.log.Info("reconnected to the directory", "url", s.cfg.URL)
	return nil
}

// Broken reports whether err means the connection is gone (a retry on a
// new connection may succeed).
func Broken(err error) bool {
	return ldap.IsErrorWithCode(err, ldap.ErrorNetwork) || ldap.IsErrorWithCode(err, ldap.LDAPResultServerDown) ||
		ldap.IsErrorWithCode(err, ldap.LDAPResultUnavailable) || ldap.IsErrorWithCode(err, ldap.LDAPResultBusy)
}

// With runs f on the connection, reconnecting and running it again (up to
// 3 times) when the connection broke. f must be safe to repeat: a create
// repeated after its answer was lost comes back as "already exists",
// which apply settles by adopting the user.
func (s *Session) With(ctx context.Context, f func(c *ldapconn.Conn) error) error {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		c, gen, cerr := s.connection()
		if cerr != nil {
			return cerr
		}
		err = f(c)
		if err == nil || ctx.Err() != nil || !(Broken(err) || c.IsClosing()) {
			return err
		}
		if attempt > 0 {
			t := time.NewTimer(time.Duration(attempt) * time.Second)
			select {
			case <-ctx.Done():
				t.Stop()
				return err
			case <-t.C:
			}
		}
		if rerr := s.reconnect(ctx, gen); rerr != nil {
			return fmt.Errorf("%w (reconnecting: %v)", err, rerr)
		}
	}
	return err
}

// GetOn reads one entry (a base-object search of base) if it matches
// filter, on c without retries; nil when there is none.
func (s *Session) GetOn(c *ldapconn.Conn, base, filter string, attrs []string, controls ...ldap.Control) (*ldap.Entry, error) {
	s.Count("lookup", 1)
	req := ldap.NewSearchRequest(base, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false, filter, attrs, controls)
	res, err := c.Conn.Search(req)
	if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if len(res.Entries) == 0 {
		return nil, nil
	}
	return res.Entries[0], nil
}

// Get is GetOn with reconnects.
func (s *Session) Get(ctx context.Context, base, filter string, attrs []string, controls ...ldap.Control) (*ldap.Entry, error) {
	var found *ldap.Entry
	err := s.With(ctx, func(c *ldapconn.Conn) (err error) {
		found, err = s.GetOn(c, base, filter, attrs, controls...)
		return err
	})
	return found, err
}

// Search runs a fail-closed paged search on c (see ldapconn.Conn.Search),
// counting its pages.
func (s *Session) Search(ctx context.Context, c *ldapconn.Conn, q ldapconn.Search, each func(*ldap.Entry) error) error {
	pages, err := c.Search(ctx, q, each)
	s.Count("search page", pages)
	return err
}
