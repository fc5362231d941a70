// Package ldapconn connects to LDAP directories (Active Directory,
// OpenLDAP, 389 Directory Server) on github.com/go-ldap/ldap/v3 and reads
// them the way hrsync must: over TLS (ldaps:// or StartTLS; plain only to
// this machine), with paged searches that fail closed — a size or time
// limit, a paging error or a referral that cannot be followed fails the
// read, since a partial read would turn the rest of the people into
// leavers. Errors name what failed: the connection, TLS, the bind, the
// search base.
package ldapconn

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/hrsync/hrsync/internal/loopback"
)

// Config says how to reach and bind to a directory.
type Config struct {
	// URL is ldaps://host[:636] or ldap://host[:389].
	URL string
	// Plain turns StartTLS off for an ldap:// URL; allowed only to a
	// loopback address (a test directory on this machine).
	Plain bool
	// CAFile is a PEM file of the CA(s) that signed the server's
	// certificate; empty uses the system's roots.
	CAFile string
	// BindDN is a DN or, for Active Directory, user@domain; empty binds
	// anonymously.
	BindDN string
	// Password is the bind password. It is never logged or shown.
	Password string
	// Timeout bounds each request (default 60 s).
	Timeout time.Duration
}

// Conn is a bound connection.
type Conn struct {
	*ldap.Conn
	cfg  Config
	host string
}

// DefaultTimeout bounds each request when Config.Timeout is 0.
const DefaultTimeout = 60 * time.Second

// Dial connects, secures the connection and binds.
func Dial(ctx context.Context, cfg Config) (*Conn, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("url %q: give ldaps://host:636 or ldap://host:389", cfg.URL)
	}
	host := u.Hostname()
	port := u.Port()
	scheme := strings.ToLower(u.Scheme)
	switch scheme {
	case "ldaps":
		if port == "" {
			port = "636"
		}
	case "ldap":
		if port == "" {
			port = "389"
		}
		if cfg.Plain && !loopback.IsLoopback(host) {
			return nil, fmt.Errorf("url %s: a plain (unencrypted) connection is allowed only to this machine (127.0.0.1, ::1, localhost): the password would cross the network in clear text; use ldaps:// or StartTLS", cfg.URL)
		}
	default:
		return nil, fmt.Errorf("url %q: the scheme must be ldaps or ldap (with StartTLS)", cfg.URL)
	}
	tlsConf, err := tlsConfig(cfg.CAFile, host)
	if err != nil {
		return nil, err
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	addr := net.JoinHostPort(host, port)
	dialer := &net.Dialer{Timeout: cfg.Timeout}
	var c *ldap.Conn
	if scheme == "ldaps" {
		c, err = ldap.DialURL("ldaps://"+addr, ldap.DialWithDialer(dialer), ldap.DialWithTLSConfig(tlsConf))
	} else {
		c, err = ldap.DialURL("ldap://"+addr, ldap.DialWithDialer(dialer))
	}
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", cfg.URL, explainTLS(err))
	}
	c.SetTimeout(cfg.Timeout)
	conn := &Conn{Conn: c, cfg: cfg, host: host}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if scheme == "ldap" && !cfg.Plain {
		if err := c.StartTLS(tlsConf); err != nil {
			c.Close()
			return nil, fmt.Errorf("StartTLS with %s: %w", cfg.URL, explainTLS(err))
		}
	}
	if err := conn.bind(); err != nil {
		c.Close()
		return nil, err
	}
	return conn, ctx.Err()
}

func (c *Conn) bind() error {
	if c.cfg.BindDN == "" {
		if err := c.UnauthenticatedBind(""); err != nil {
			return fmt.Errorf("anonymous bind to %s: %w", c.cfg.URL, err)
		}
		return nil
	}
	if c.cfg.Password == "" {
		return fmt.Errorf("bind to %s as %s: no password given (set it in the environment variable or file the configuration names)", c.cfg.URL, c.cfg.BindDN)
	}
	if err := c.Bind(c.cfg.BindDN, c.cfg.Password); err != nil {
		hint := ""
		switch {
		case ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials):
			hint = ": the DN (or user@domain) or the password is wrong, or the account is disabled or locked"
		case ldap.IsErrorWithCode(err, ldap.LDAPResultStrongAuthRequired), ldap.IsErrorWithCode(err, ldap.LDAPResultConfidentialityRequired):
			hint = ": the server requires an encrypted connection: use ldaps:// or StartTLS"
		}
		return fmt.Errorf("bind to %s as %s: %s%s", c.cfg.URL, c.cfg.BindDN, ldapMessage(err), hint)
	}
	return nil
}

// tlsConfig trusts the CAs in caFile (the system's when empty) and checks
// the server's name.
func tlsConfig(caFile, host string) (*tls.Config, error) {
	conf := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if caFile == "" {
		return conf, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("ca_file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("ca_file %s: no PEM certificate in it (give the CA that signed the server's certificate, PEM-encoded)", caFile)
	}
	conf.RootCAs = pool
	return conf, nil
}

// explainTLS adds what to do to a TLS failure.
func explainTLS(err error) error {
	var unknown x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(err, &unknown):
		return fmt.Errorf("TLS: %w (give the CA that signed the server's certificate in ca_file)", err)
	case errors.As(err, &hostErr):
		return fmt.Errorf("TLS: %w (connect by a name the certificate holds)", err)
	case errors.As(err, &invalid):
		return fmt.Errorf("TLS: %w", err)
	case strings.Contains(err.Error(), "certificate signed by unknown authority"):
		// StartTLS failures come as text, not as x509 errors.
		return fmt.Errorf("TLS: %w (give the CA that signed the server's certificate in ca_file)", err)
	case strings.Contains(err.Error(), "negative serial number"):
		return fmt.Errorf("TLS: %w (the server's certificate has a negative serial number, which Go refuses: issue it a proper certificate)", err)
	}
	return err
}

// ldapMessage is an LDAP error's result and message, without the
// request.
func ldapMessage(err error) string {
	var le *ldap.Error
	if errors.As(err, &le) {
		name := ldap.LDAPResultCodeMap[le.ResultCode]
		msg := ""
		if le.Err != nil {
			msg = le.Err.Error()
		}
		if msg = strings.TrimSpace(msg); msg == "" {
			return fmt.Sprintf("LDAP %d %s", le.ResultCode, name)
		}
		return fmt.Sprintf("LDAP %d %s: %s", le.ResultCode, name, msg)
	}
	return err.Error()
}

// Message is err as ldapMessage gives it: result code, name and the
// server's message.
func Message(err error) string { return ldapMessage(err) }

// Endpoint is the URL the connection was made to.
func (c *Conn) Endpoint() string { return c.cfg.URL }
