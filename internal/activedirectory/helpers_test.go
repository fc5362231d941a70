package activedirectory

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/hrsync/hrsync/internal/directory"
	"github.com/hrsync/hrsync/internal/dirtest"
	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/ldapconn"
)

func TestMain(m *testing.M) { dirtest.Main(m) }

// sandbox is the test's own OU, its DN spelt as AD spells it.
func sandbox(t *testing.T, s *dirtest.Server) string {
	t.Helper()
	box := s.Sandbox(t)
	return entry(t, s.DialAdmin(t), box, "1.1").DN
}

// open opens the adapter on the test's sandbox OU (or base, if given).
func open(t *testing.T, s *dirtest.Server, base string, tweak ...func(*Options)) *Directory {
	t.Helper()
	o := Options{Conn: ldapconn.Config{URL: s.URL, CAFile: s.CAFile, BindDN: s.BindDN, Password: s.Password, Timeout: 30 * time.Second}, BaseDN: base}
	for _, f := range tweak {
		f(&o)
	}
	d, err := Open(context.Background(), o)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = d.Close(context.Background()) })
	return d
}

// do runs ops and returns their outcomes, checking that done is called
// exactly once per op.
func do(t *testing.T, d directory.Directory, ops ...directory.Op) []directory.Outcome {
	t.Helper()
	return doWith(t, d, directory.DoOptions{}, ops...)
}

func doWith(t *testing.T, d directory.Directory, opts directory.DoOptions, ops ...directory.Op) []directory.Outcome {
	t.Helper()
	out := make([]directory.Outcome, len(ops))
	calls := make([]int, len(ops))
	var mu sync.Mutex
	d.Do(context.Background(), ops, opts, func(i int, o directory.Outcome) {
		mu.Lock()
		defer mu.Unlock()
		calls[i]++
		out[i] = o
	})
	for i, n := range calls {
		if n != 1 {
			t.Errorf("op %d: done called %d times", i, n)
		}
	}
	return out
}

func one(t *testing.T, d directory.Directory, op directory.Op) directory.Outcome {
	t.Helper()
	return do(t, d, op)[0]
}

func must(t *testing.T, o directory.Outcome) directory.Outcome {
	t.Helper()
	if o.Err != nil {
		t.Fatalf("%v", o.Err)
	}
	return o
}

// password is a fresh password that meets AD's complexity rules.
func password(t *testing.T) string { return "Pw-" + dirtest.RandomHex(t, 8) + "-Xy9" }

// person is a create's attributes for a user in ou.
func person(t *testing.T, ou, name string) identity.Attrs {
	sam := "t" + dirtest.RandomHex(t, 6)
	return identity.AttrsOf(map[string]string{"cn": name, "parentDistinguishedName": ou, "sAMAccountName": sam, "userPrincipalName": sam + "@contoso.test",
		"displayName": name, "employeeID": "E" + dirtest.RandomHex(t, 4), "accountEnabled": "true"})
}

func addOU(t *testing.T, conn *ldap.Conn, dn string) string {
	t.Helper()
	req := ldap.NewAddRequest(dn, nil)
	req.Attribute("objectClass", []string{"top", "organizationalUnit"})
	if err := conn.Add(req); err != nil {
		t.Fatalf("adding %s: %v", dn, err)
	}
	return dn
}

// entry reads dn as the administrator.
func entry(t *testing.T, conn *ldap.Conn, dn string, attrs ...string) *ldap.Entry {
	t.Helper()
	res, err := conn.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", attrs, nil))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("reading %s: %v", dn, err)
	}
	return res.Entries[0]
}

// dnOf is the DN of the user with objectGUID id.
func dnOf(t *testing.T, conn *ldap.Conn, id string) string {
	t.Helper()
	return entry(t, conn, "<GUID="+id+">", "1.1").DN
}

// bulkUsers adds n disabled users without passwords to ou quickly (several
// requests in flight) and returns their DNs.
func bulkUsers(t *testing.T, s *dirtest.Server, ou, prefix string, n int) []string {
	t.Helper()
	dns := make([]string, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := 0; w < 8; w++ {
		conn := s.DialAdmin(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				dn := fmt.Sprintf("CN=%s %05d,%s", prefix, i, ou)
				req := ldap.NewAddRequest(dn, nil)
				req.Attribute("objectClass", []string{"top", "person", "organizationalPerson", "user"})
				req.Attribute("sAMAccountName", []string{fmt.Sprintf("%s%05d", prefix, i)})
				req.Attribute("employeeID", []string{fmt.Sprintf("%s-%d", prefix, i)})
				req.Attribute("userAccountControl", []string{"514"})
				if err := conn.Add(req); err != nil {
					errs <- fmt.Errorf("adding %s: %w", dn, err)
					return
				}
				dns[i] = dn
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return dns
}

// isKind checks err against a sentinel and that it is a *directory.Error
// with a code.
func isKind(t *testing.T, what string, err, kind error) {
	t.Helper()
	var de *directory.Error
	if !errors.Is(err, kind) || !errors.As(err, &de) {
		t.Errorf("%s: %v, want %v", what, err, kind)
		return
	}
	t.Logf("%s: %v", what, err)
}

// proxy forwards TCP connections to the directory, and can drop the answer
// to the next request: it forwards the request, discards what the server
// sends back and closes the connection, as a network would that fails
// after the server acted.
type proxy struct {
	ln      net.Listener
	target  string
	dropped atomic.Int32
	armed   atomic.Bool
	refuse  atomic.Bool
}

func newProxy(t *testing.T, rawURL string) (*proxy, string) {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: u.Host}
	go p.serve()
	t.Cleanup(func() { ln.Close() })
	return p, "ldaps://" + ln.Addr().String()
}

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if p.refuse.Load() {
			c.Close()
			continue
		}
		go p.pipe(c)
	}
}

func (p *proxy) pipe(client net.Conn) {
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		client.Close()
		return
	}
	var cut atomic.Bool
	closeBoth := func() { client.Close(); server.Close() }
	go func() { // server -> client
		buf := make([]byte, 64<<10)
		for {
			n, err := server.Read(buf)
			if n > 0 && !cut.Load() {
				if _, werr := client.Write(buf[:n]); werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		closeBoth()
	}()
	buf := make([]byte, 64<<10)
	for {
		n, err := client.Read(buf)
		if n > 0 {
			if _, werr := server.Write(buf[:n]); werr != nil {
				break
			}
			if p.armed.CompareAndSwap(true, false) {
				// The request is on its way: lose whatever answers it.
				cut.Store(true)
				p.dropped.Add(1)
				time.AfterFunc(500*time.Millisecond, closeBoth)
			}
		}
		if err != nil {
			if err != io.EOF {
				break
			}
			break
		}
	}
	closeBoth()
}
