package dirtest

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// Timeout bounds each LDAP request of the connections Dial makes.
const Timeout = 30 * time.Second

// TLSConfig returns a TLS configuration that trusts only the server's CA (never InsecureSkipVerify) and checks
// the host of rawURL (an IP address or name that the server's certificate must list).
func (s *Server) TLSConfig(tb testing.TB, rawURL string) *tls.Config {
	tb.Helper()
	cfg, err := s.tlsConfig(rawURL)
	if err != nil {
		tb.Fatalf("%v", err)
	}
	return cfg
}

func (s *Server) tlsConfig(rawURL string) (*tls.Config, error) {
	pem, err := os.ReadFile(s.CAFile)
	if err != nil {
		return nil, fmt.Errorf("reading the directory's CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("no certificate in the directory's CA file %s", s.CAFile)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("parsing the directory URL %q: %w", rawURL, err)
	}
	return &tls.Config{RootCAs: pool, ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}, nil
}

// Dial connects to the server over LDAPS, unbound; the connection is closed when the test ends.
func (s *Server) Dial(tb testing.TB) *ldap.Conn {
	tb.Helper()
	conn, err := s.dial()
	if err != nil {
		tb.Fatalf("%v", err)
	}
	tb.Cleanup(func() { _ = conn.Close() })
	return conn
}

func (s *Server) dial() (*ldap.Conn, error) {
	cfg, err := s.tlsConfig(s.URL)
	if err != nil {
		return nil, err
	}
	conn, err := ldap.DialURL(s.URL, ldap.DialWithTLSConfig(cfg))
	if err != nil {
		return nil, fmt.Errorf("dialling %s: %w", s.URL, err)
	}
	conn.SetTimeout(Timeout)
	return conn, nil
}

// DialAdmin connects to the server over LDAPS and binds as BindDN; the connection is closed when the test ends.
func (s *Server) DialAdmin(tb testing.TB) *ldap.Conn {
	tb.Helper()
	conn, err := s.dialAdmin()
	if err != nil {
		tb.Fatalf("%v", err)
	}
	tb.Cleanup(func() { _ = conn.Close() })
	return conn
}

func (s *Server) dialAdmin() (*ldap.Conn, error) {
	conn, err := s.dial()
	if err != nil {
		return nil, err
	}
	if err := conn.Bind(s.BindDN, s.Password); err != nil {
		_ = conn.Close()
		// The error names the bind DN and the server's answer, never the password.
		return nil, fmt.Errorf("binding to %s as %s: %w", s.URL, s.BindDN, err)
	}
	return conn, nil
}

// Sandbox creates an organizational unit of the test's own directly under BaseDN and returns its DN; when the test
// ends it is deleted with everything in it. Tests sharing a server work each in their sandbox.
func (s *Server) Sandbox(tb testing.TB) string {
	tb.Helper()
	name := "hrsync-test-" + sanitize(tb.Name(), 36) + "-" + RandomHex(tb, 4)
	dn := "ou=" + ldap.EscapeDN(name) + "," + s.BaseDN
	conn := s.DialAdmin(tb)
	add := ldap.NewAddRequest(dn, nil)
	add.Attribute("objectClass", []string{"top", "organizationalUnit"})
	add.Attribute("ou", []string{name})
	add.Attribute("description", []string{"Sandbox of the test " + tb.Name() + "; deleted when it ends"})
	if err := conn.Add(add); err != nil {
		tb.Fatalf("creating the sandbox %s: %v", dn, err)
	}
	tb.Cleanup(func() {
		if err := s.DeleteTree(dn); err != nil {
			tb.Errorf("deleting the sandbox: %v", err)
		}
	})
	return dn
}

// DeleteTree deletes dn and everything under it, deepest entries first (OpenLDAP has no subtree delete control,
// so both servers get the same plain deletes). A dn that does not exist is not an error.
func (s *Server) DeleteTree(dn string) error {
	conn, err := s.dialAdmin()
	if err != nil {
		return err
	}
	defer conn.Close()
	req := ldap.NewSearchRequest(dn, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{"1.1"}, nil)
	res, err := conn.SearchWithPaging(req, 500)
	if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("listing %s to delete it: %w", dn, err)
	}
	type entry struct {
		dn    string
		depth int
	}
	entries := make([]entry, 0, len(res.Entries))
	for _, e := range res.Entries {
		parsed, err := ldap.ParseDN(e.DN)
		if err != nil {
			return fmt.Errorf("parsing %q: %w", e.DN, err)
		}
		entries = append(entries, entry{e.DN, len(parsed.RDNs)})
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].depth > entries[j].depth })
	for _, e := range entries {
		err := conn.Del(ldap.NewDelRequest(e.dn, nil))
		if err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
			return fmt.Errorf("deleting %s: %w", e.dn, err)
		}
	}
	return nil
}

// RandomHex returns n random bytes in hex, for names that must not collide across tests and runs.
func RandomHex(tb testing.TB, n int) string {
	tb.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		tb.Fatalf("random: %v", err)
	}
	return hex.EncodeToString(b)
}

// sanitize keeps letters, digits and '-' of s (others become '-'), at most limit bytes.
func sanitize(s string, limit int) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= limit {
			break
		}
		if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	return strings.Trim(b.String(), "-")
}
