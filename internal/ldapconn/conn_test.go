package ldapconn_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/hrsync/hrsync/internal/dirtest"
	"github.com/hrsync/hrsync/internal/ldapconn"
)

func TestMain(m *testing.M) { dirtest.Main(m) }

// people adds n inetOrgPerson entries under parent.
func people(t *testing.T, s *dirtest.Server, parent string, n int) {
	t.Helper()
	conn := s.DialAdmin(t)
	for i := range n {
		uid := fmt.Sprintf("p%03d", i)
		req := ldap.NewAddRequest("uid="+uid+","+parent, nil)
		req.Attribute("objectClass", []string{"inetOrgPerson"})
		req.Attribute("uid", []string{uid})
		req.Attribute("cn", []string{"Person " + uid})
		req.Attribute("sn", []string{"Person"})
		if err := conn.Add(req); err != nil {
			t.Fatalf("adding %s: %v", uid, err)
		}
	}
}

func dial(t *testing.T, cfg ldapconn.Config) *ldapconn.Conn {
	t.Helper()
	c, err := ldapconn.Dial(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// A paged read returns every entry, page by page; an account the server
// limits fails the read rather than returning part of it.
func TestSearchPagesAndFailsClosed(t *testing.T) {
	s := dirtest.LDAP(t)
	box := s.Sandbox(t)
	people(t, s, box, 12)
	admin := ldapconn.Config{URL: s.URL, CAFile: s.CAFile, BindDN: s.BindDN, Password: s.Password}
	n := 0
	pages, err := dial(t, admin).Search(context.Background(), ldapconn.Search{Base: box, Filter: "(objectClass=inetOrgPerson)", Attrs: []string{"uid"}, PageSize: 5},
		func(*ldap.Entry) error { n++; return nil })
	if err != nil || n != 12 || pages != 3 {
		t.Fatalf("read %d entries in %d pages, err %v; want 12 in 3", n, pages, err)
	}
	tests := []struct {
		name, dn, pw, want string
	}{
		{"a size limit of 5", s.Need(t, dirtest.ExtraLimitedDN), s.Need(t, dirtest.ExtraLimitedPassword), "size limit"},
		{"no paged results", s.Need(t, dirtest.ExtraNoPagingDN), s.Need(t, dirtest.ExtraNoPagingPassword), "pagedResults control not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, ldapconn.Config{URL: s.URL, CAFile: s.CAFile, BindDN: tt.dn, Password: tt.pw})
			got := 0
			_, err := c.Search(context.Background(), ldapconn.Search{Base: box, Filter: "(objectClass=inetOrgPerson)", Attrs: []string{"uid"}, PageSize: 100},
				func(*ldap.Entry) error { got++; return nil })
			if !errors.Is(err, ldapconn.ErrPartial) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v (after %d entries), want ErrPartial with %q", err, got, tt.want)
			}
		})
	}
}

// Samba answers every page of a search with the same cookie (it names the
// search): a read of many pages is still whole.
func TestSearchPagesSamba(t *testing.T) {
	s := dirtest.AD(t)
	box := s.Sandbox(t)
	conn := s.DialAdmin(t)
	for i := range 12 {
		req := ldap.NewAddRequest(fmt.Sprintf("CN=Contact %03d,%s", i, box), nil)
		req.Attribute("objectClass", []string{"top", "person", "organizationalPerson", "contact"})
		if err := conn.Add(req); err != nil {
			t.Fatalf("adding contact %d: %v", i, err)
		}
	}
	admin := ldapconn.Config{URL: s.URL, CAFile: s.CAFile, BindDN: s.BindDN, Password: s.Password}
	n := 0
	pages, err := dial(t, admin).Search(context.Background(), ldapconn.Search{Base: box, Filter: "(objectClass=contact)", Attrs: []string{"cn"}, PageSize: 3},
		func(*ldap.Entry) error { n++; return nil })
	if err != nil || n != 12 || pages < 4 {
		t.Fatalf("read %d entries in %d pages, err %v; want 12 in 4 or 5", n, pages, err)
	}
}

// Connection problems name what failed and what to do, never the password.
func TestDialErrorsNameTheStage(t *testing.T) {
	s := dirtest.LDAP(t)
	ad := dirtest.AD(t)
	u, _ := url.Parse(ad.StartTLSURL)
	tests := []struct {
		name string
		cfg  ldapconn.Config
		want string
	}{
		{"TLS without the CA", ldapconn.Config{URL: s.URL, BindDN: s.BindDN, Password: s.Password}, "give the CA that signed the server's certificate in ca_file"},
		{"a wrong password", ldapconn.Config{URL: s.URL, CAFile: s.CAFile, BindDN: s.BindDN, Password: "wrong-" + s.Password}, "LDAP 49 Invalid Credentials"},
		{"no password", ldapconn.Config{URL: s.URL, CAFile: s.CAFile, BindDN: s.BindDN}, "no password given"},
		{"plain to another host", ldapconn.Config{URL: "ldap://ldap.example.org:389", Plain: true, BindDN: "cn=x", Password: "Secret-123"}, "allowed only to this machine"},
		{"not an LDAP URL", ldapconn.Config{URL: "https://ldap.example.org"}, "the scheme must be ldaps or ldap"},
		{"AD refuses a plain bind", ldapconn.Config{URL: "ldap://" + u.Host, Plain: true, BindDN: ad.BindDN, Password: ad.Password}, "use ldaps:// or StartTLS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ldapconn.Dial(context.Background(), tt.cfg)
			if err == nil {
				c.Close()
				t.Fatal("dialled")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
			if tt.cfg.Password != "" && strings.Contains(err.Error(), tt.cfg.Password) {
				t.Error("the password is in the error")
			}
		})
	}
	// StartTLS with the CA works, and a missing base says so.
	c := dial(t, ldapconn.Config{URL: s.StartTLSURL, CAFile: s.CAFile, BindDN: s.BindDN, Password: s.Password})
	_, err := c.Search(context.Background(), ldapconn.Search{Base: "ou=nowhere," + s.BaseDN}, func(*ldap.Entry) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "check base_dn") {
		t.Errorf("missing base: %v", err)
	}
}
