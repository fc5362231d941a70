// Package targets opens the directory a configuration names. It is the one
// place that knows every adapter (Entra ID through Microsoft Graph, the
// sandbox tenant, Active Directory, LDAP); the engine receives Open and
// speaks only the directory port.
package targets

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hrsync/hrsync/internal/activedirectory"
	"github.com/hrsync/hrsync/internal/config"
	"github.com/hrsync/hrsync/internal/directory"
	"github.com/hrsync/hrsync/internal/entra"
	"github.com/hrsync/hrsync/internal/graphsim"
	"github.com/hrsync/hrsync/internal/guid"
	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/ldapconn"
	"github.com/hrsync/hrsync/internal/ldapdir"
	"github.com/hrsync/hrsync/internal/pacer"
)

// requestTimeout bounds each attempt of a Graph request; retries after
// throttling are bounded by the run's timeout.
const requestTimeout = 60 * time.Second

// Open connects to the configured directory. For the sandbox it starts the
// Graph emulator in-process on loopback, so the very same msgraph-sdk-go
// code path runs as against Entra ID.
func Open(ctx context.Context, cfg *config.Config, log *slog.Logger) (directory.Directory, error) {
	t := cfg.Target
	switch t.Type {
	case identity.TargetSandbox:
		return openSandbox(ctx, t, log)
	case identity.TargetEntra:
		return openEntra(ctx, t, log)
	case identity.TargetActiveDirectory:
		return openActiveDirectory(ctx, t, log)
	case identity.TargetLDAP:
		return openLDAP(ctx, t, log)
	}
	return nil, fmt.Errorf("target type %q is not supported", t.Type)
}

func openSandbox(ctx context.Context, t config.Target, log *slog.Logger) (directory.Directory, error) {
	if err := os.MkdirAll(filepath.Dir(t.State), 0o700); err != nil {
		return nil, fmt.Errorf("sandbox state folder: %w", err)
	}
	tok := make([]byte, 24)
	if _, err := rand.Read(tok); err != nil {
		return nil, fmt.Errorf("sandbox token: %w", err)
	}
	token := hex.EncodeToString(tok)
	srv, err := graphsim.New(graphsim.Options{StatePath: t.State, SeedPath: t.Seed, Token: token})
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	base, err := srv.Start("127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	// The in-process emulator does not throttle, so writes are not paced to
	// Graph's stated write budget (20 a second after a burst of 3,000):
	// that would make a large sandbox apply take as long as against Entra
	// for no 429 to avoid. The pacer still follows any Retry-After.
	// (`hrsync sandbox serve --throttle`, reached as target.type entra,
	// is paced like Entra.)
	c, err := entra.New(entra.Options{GraphURL: base, Auth: entra.Auth{Method: config.AuthAccessToken, Token: token}, Timeout: requestTimeout,
		Concurrency: t.Concurrency, Log: log, Pacer: pacer.New(pacer.Options{})})
	if err != nil {
		_ = srv.Close(ctx)
		return nil, err
	}
	tenant, err := c.Tenant(ctx)
	if err != nil {
		c.Close()
		_ = srv.Close(ctx)
		return nil, err
	}
	return entra.NewDirectory(c, identity.TargetSandbox, "sandbox:"+t.State, tenant, srv.Close), nil
}

func openEntra(ctx context.Context, t config.Target, log *slog.Logger) (directory.Directory, error) {
	c, err := entra.New(entra.Options{GraphURL: t.GraphURL, Auth: entra.Auth{Method: t.Auth, TenantID: t.TenantID, ClientID: t.ClientID}, Timeout: requestTimeout, Concurrency: t.Concurrency, Log: log})
	if err != nil {
		return nil, err
	}
	// The tenant comes from the credentials themselves, so a plan is tied
	// to the directory it was made for whatever the config says.
	tenant, err := c.Tenant(ctx)
	if err != nil {
		c.Close()
		return nil, err
	}
	// (A tenant named by its domain cannot be compared with a tid.)
	if want := cmp.Or(t.TenantID, os.Getenv("AZURE_TENANT_ID")); want != "" && !strings.EqualFold(want, tenant) && guid.Valid(want) {
		c.Close()
		return nil, fmt.Errorf("target.tenant_id is %s, but the credentials are for tenant %s", want, tenant)
	}
	return entra.NewDirectory(c, identity.TargetEntra, t.GraphURL, tenant, nil), nil
}

// openActiveDirectory binds to the domain controller (ldaps://, or ldap://
// with StartTLS; plain only to this machine). The password comes from the
// environment variable or file the configuration names, and goes nowhere
// but the bind and never into an error.
func openActiveDirectory(ctx context.Context, t config.Target, log *slog.Logger) (directory.Directory, error) {
	d := t.Directory
	return activedirectory.Open(ctx, activedirectory.Options{
		Conn: ldapconn.Config{URL: d.URL, Plain: !d.StartTLS, CAFile: d.CAFile, BindDN: d.BindDN, Password: d.Password,
			Timeout: requestTimeout},
		BaseDN: d.BaseDN, Filter: d.Filter, LeaversOU: d.LeaversOU, Concurrency: t.Concurrency, Log: log,
	})
}

// openLDAP binds to an LDAP directory (OpenLDAP, 389 DS) as
// openActiveDirectory does, with the disable and password methods the
// configuration names.
func openLDAP(ctx context.Context, t config.Target, log *slog.Logger) (directory.Directory, error) {
	d := t.Directory
	l := d.LDAP
	return ldapdir.Open(ctx, ldapdir.Options{
		Conn: ldapconn.Config{URL: d.URL, Plain: !d.StartTLS, CAFile: d.CAFile, BindDN: d.BindDN, Password: d.Password,
			Timeout: requestTimeout},
		BaseDN: d.BaseDN, Filter: d.Filter, PeopleDN: l.PeopleDN, GroupsDN: l.GroupsDN, PasswordMethod: l.PasswordMethod,
		RDNAttribute: l.RDNAttribute,
		Disable: ldapdir.Disable{Method: l.Disable.Method, DN: l.Disable.DN, PolicyDN: l.Disable.PolicyDN,
			Attribute: l.Disable.Attribute, EnabledValue: l.Disable.EnabledValue, DisabledValue: l.Disable.DisabledValue},
		Concurrency: t.Concurrency, Log: log,
	})
}
