package ldapop

import (
	"context"
	"testing"
	"time"

	"github.com/hrsync/hrsync/internal/dirtest"
	"github.com/hrsync/hrsync/internal/ldapconn"
)

func TestMain(m *testing.M) { dirtest.Main(m) }

// A broken connection is dialled again once, however many operations saw
// it break, and the operation runs again on the new one; a closed session
// stays closed.
func TestSessionReconnects(t *testing.T) {
	s := dirtest.LDAP(t)
	ctx := context.Background()
	sess, err := Dial(ctx, ldapconn.Config{URL: s.URL, CAFile: s.CAFile, BindDN: s.BindDN, Password: s.Password, Timeout: 10 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !sess.Encrypted() {
		t.Error("an ldaps:// session is not encrypted")
	}
	if e, err := sess.Get(ctx, s.BaseDN, "(objectClass=*)", []string{"1.1"}); err != nil || e == nil {
		t.Fatalf("read the base: %v", err)
	}
	first := sess.conn
	first.Close() // the server went away under the session
	attempts := 0
	err = sess.With(ctx, func(c *ldapconn.Conn) error {
		attempts++
		_, err := sess.GetOn(c, s.BaseDN, "(objectClass=*)", []string{"1.1"})
		return err
	})
	if err != nil || attempts != 2 || sess.conn == first || sess.gen != 1 {
		t.Errorf("after a broken connection: %v, %d attempts, generation %d", err, attempts, sess.gen)
	}
	if n := sess.Requests()["lookup"]; n != 3 {
		t.Errorf("%d lookups counted, want 3", n)
	}
	sess.Close()
	if err := sess.With(ctx, func(*ldapconn.Conn) error { return nil }); err == nil {
		t.Error("a closed session ran an operation")
	}
}
