package dirtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// These tests need no server.

func TestFromEnvPartialIsAnError(t *testing.T) {
	vars := map[string]string{"HRSYNC_TEST_AD_URL": "ldaps://127.0.0.1:636", "HRSYNC_TEST_AD_PASSWORD": "secret"}
	_, err := adKind.fromEnv(func(n string) (string, bool) { v, ok := vars[n]; return v, ok })
	if err == nil {
		t.Fatal("a partial set of variables was accepted")
	}
	for _, want := range []string{"HRSYNC_TEST_AD_STARTTLS_URL", "HRSYNC_TEST_AD_CA", "HRSYNC_TEST_AD_BASE_DN"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("error %q shows the password", err)
	}
}

func TestFromEnv(t *testing.T) {
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{
		"HRSYNC_TEST_LDAPS_URL":              "ldaps://127.0.0.1:6360",
		"HRSYNC_TEST_LDAP_URL":               "ldap://127.0.0.1:3890",
		"HRSYNC_TEST_LDAP_CA":                ca,
		"HRSYNC_TEST_LDAP_BIND_DN":           "cn=admin,dc=example,dc=org",
		"HRSYNC_TEST_LDAP_PASSWORD":          "pw",
		"HRSYNC_TEST_LDAP_BASE_DN":           "dc=example,dc=org",
		"HRSYNC_TEST_LDAP_LIMITED_DN":        "cn=limited,dc=example,dc=org",
		"HRSYNC_TEST_LDAP_NOPAGING_PASSWORD": "pw2",
	}
	s, err := ldapKind.fromEnv(func(n string) (string, bool) { v, ok := vars[n]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	if s.URL != "ldaps://127.0.0.1:6360" || s.StartTLSURL != "ldap://127.0.0.1:3890" || s.BaseDN != "dc=example,dc=org" {
		t.Errorf("server %+v", s)
	}
	if s.Extra[ExtraLimitedDN] != "cn=limited,dc=example,dc=org" || s.Extra[ExtraNoPagingPassword] != "pw2" {
		t.Errorf("extra %v", s.Extra)
	}
	if _, ok := s.Extra[ExtraNoPagingDN]; ok {
		t.Errorf("an unset variable made an Extra entry")
	}

	vars["HRSYNC_TEST_LDAPS_URL"] = "ldap://127.0.0.1:6360"
	if _, err := ldapKind.fromEnv(func(n string) (string, bool) { v, ok := vars[n]; return v, ok }); err == nil {
		t.Errorf("a plain ldap:// URL was taken as the LDAPS URL")
	}
}

// TestScriptEnvQuoting runs slapd.sh env on a directory laid out as start leaves it, with awkward passwords, and
// reads the variables back through bash's eval, as CI does.
func TestScriptEnvQuoting(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := map[string]string{
		"listen":            "127.0.0.1 3890 6360\n",
		"admin-password":    `it's "quoted" $HOME ; rm -rf x`,
		"limited-password":  "a b\\c",
		"nopaging-password": "`date`",
		"ca.pem":            "x",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	vars, err := scriptEnv(filepath.Join(root, ldapKind.script), dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"HRSYNC_TEST_LDAP_PASSWORD":          files["admin-password"],
		"HRSYNC_TEST_LDAP_LIMITED_PASSWORD":  files["limited-password"],
		"HRSYNC_TEST_LDAP_NOPAGING_PASSWORD": files["nopaging-password"],
		"HRSYNC_TEST_LDAP_URL":               "ldap://127.0.0.1:3890",
		"HRSYNC_TEST_LDAPS_URL":              "ldaps://127.0.0.1:6360",
		"HRSYNC_TEST_LDAP_CA":                filepath.Join(dir, "ca.pem"),
	}
	for name, v := range want {
		if vars[name] != v {
			t.Errorf("%s came back as %q, want %q", name, vars[name], v)
		}
	}
}

func TestSanitize(t *testing.T) {
	for _, c := range []struct {
		in    string
		limit int
		want  string
	}{
		{"TestADUser/sub_test", 36, "TestADUser-sub-test"},
		{"Zoë/", 36, "Zo"},
		{"abcdefghij", 6, "abcdef"},
	} {
		if got := sanitize(c.in, c.limit); got != c.want {
			t.Errorf("sanitize(%q, %d) = %q, want %q", c.in, c.limit, got, c.want)
		}
	}
}

// TestMissingProgramsSkipOrFail: without the server's programs a test is skipped with a loud message, or, when
// CI is set, fails naming what is missing and how to install it.
func TestMissingProgramsSkipOrFail(t *testing.T) {
	k := &kind{
		name:     "Test Server",
		script:   "examples/test/server.sh",
		install:  "test-server",
		programs: []string{"hrsync-no-such-program"},
		urlVar:   "HRSYNC_TEST_NO_SUCH_URL",
	}
	t.Setenv("CI", "")
	s, skip, err := k.find()
	if s != nil || err != nil || !strings.HasPrefix(skip, "SKIPPED: no Test Server (missing hrsync-no-such-program)") ||
		!strings.Contains(skip, "apt-get install --no-install-recommends test-server") ||
		!strings.Contains(skip, "examples/test/server.sh start DIR") {
		t.Errorf("without CI: server %v, skip %q, error %v", s, skip, err)
	}
	t.Setenv("CI", "true")
	s, skip, err = k.find()
	if s != nil || skip != "" || err == nil || !strings.Contains(err.Error(), "CI is set") ||
		!strings.Contains(err.Error(), "apt-get install --no-install-recommends test-server") {
		t.Errorf("with CI: server %v, skip %q, error %v", s, skip, err)
	}
}
