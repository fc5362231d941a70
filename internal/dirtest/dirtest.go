// Package dirtest gives tests real directory servers to talk LDAP to, over real sockets on loopback: a Samba
// Active Directory domain controller standing in for Active Directory, and an OpenLDAP slapd. It is for tests
// only; no command of hrsync imports it.
//
// AD and LDAP return a *Server. They take it from the environment variables that
// `examples/active-directory/samba-dc.sh env DIR` (HRSYNC_TEST_AD_*) and `examples/ldap/slapd.sh env DIR`
// (HRSYNC_TEST_LDAP_*) print; CI starts both servers and exports them. When those variables are unset and the
// server's programs are installed, the first call in a test binary starts a private server with the same script
// into a temporary directory. It is stopped when the binary's tests end, by Main or Cleanup and, should the binary
// die first (a test timeout, a crash), by a watchdog process. When the programs are missing the test is skipped
// with a loud message, or fails when the CI variable is set: directory tests never pass silently.
//
// A package whose tests use AD or LDAP has
//
//	func TestMain(m *testing.M) { dirtest.Main(m) }
//
// The tests of one binary share a server; Sandbox gives each test an OU of its own to work in.
package dirtest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Server is a directory server a test can use.
type Server struct {
	// URL is the LDAPS URL (TLS from the first byte), e.g. ldaps://127.0.0.1:636.
	URL string
	// StartTLSURL is the plain ldap:// URL of the same server, for StartTLS (and, where the server allows it,
	// unencrypted binds), e.g. ldap://127.0.0.1:389.
	StartTLSURL string
	// CAFile is the PEM file of the CA that signed the server's certificate: trust it, and nothing else.
	CAFile string
	// BindDN and Password are the administrator's credentials: Administrator@contoso.test for AD,
	// cn=admin,dc=example,dc=org (the rootdn) for slapd.
	BindDN, Password string
	// BaseDN is the naming context: DC=contoso,DC=test for AD, dc=example,dc=org for slapd.
	BaseDN string
	// Extra holds what else the server offers, under the Extra* keys.
	Extra map[string]string
}

// Keys of Server.Extra.
const (
	// ExtraRecycleBin is "1" when the AD Recycle Bin is enabled (HRSYNC_TEST_AD_RECYCLE_BIN).
	ExtraRecycleBin = "recycle_bin"
	// ExtraLimitedDN and ExtraLimitedPassword: an LDAP bind user whose searches stop after 5 entries.
	ExtraLimitedDN       = "limited_dn"
	ExtraLimitedPassword = "limited_password"
	// ExtraNoPagingDN and ExtraNoPagingPassword: an LDAP bind user who may not use the paged results control.
	ExtraNoPagingDN       = "nopaging_dn"
	ExtraNoPagingPassword = "nopaging_password"
	// ExtraDir is the directory of a server this test binary started itself (absent for one from the environment).
	ExtraDir = "dir"
)

// Need returns s.Extra[key], failing the test when the server does not offer it.
func (s *Server) Need(tb testing.TB, key string) string {
	tb.Helper()
	v := s.Extra[key]
	if v == "" {
		tb.Fatalf("the directory server has no %q (set all the variables its script's env command prints)", key)
	}
	return v
}

// kind describes one sort of server: where its settings come from and how to start one.
type kind struct {
	name    string // for messages
	short   string // for temporary directory names
	script  string // relative to the repository root
	install string // the Debian packages to install
	// programs must be found on PATH or in /usr/sbin, files must exist, for a private server to be possible.
	programs []string
	files    []string
	needRoot bool

	// Environment variable names.
	urlVar, startTLSVar, caVar, bindDNVar, passwordVar, baseDNVar string
	extraVars                                                     map[string]string // Extra key -> variable

	// listen returns the environment variables that choose where a private server listens.
	listen func() (env []string, err error)

	once    sync.Once
	mu      sync.Mutex
	server  *Server
	err     error  // why the server could not be had
	skip    string // set when the programs are missing and CI is not set
	skipped int    // tests skipped for it
	dir     string // of the private server, "" if none was started
}

var (
	adKind = &kind{
		name:    "Samba AD DC",
		short:   "samba",
		script:  "examples/active-directory/samba-dc.sh",
		install: "samba samba-ad-dc samba-ad-provision ldap-utils openssl",
		programs: []string{
			"samba", "samba-tool", "ldapsearch", "ldapmodify", "openssl", "iconv", "base64", "setsid", "bash",
		},
		files: []string{
			"/usr/bin/python3",
			"/usr/share/samba/setup/ad-schema/AD_DS_Attributes__Windows_Server_2012_R2.ldf",
		},
		needRoot:    true,
		urlVar:      "HRSYNC_TEST_AD_URL",
		startTLSVar: "HRSYNC_TEST_AD_STARTTLS_URL",
		caVar:       "HRSYNC_TEST_AD_CA",
		bindDNVar:   "HRSYNC_TEST_AD_BIND_DN",
		passwordVar: "HRSYNC_TEST_AD_PASSWORD",
		baseDNVar:   "HRSYNC_TEST_AD_BASE_DN",
		extraVars:   map[string]string{ExtraRecycleBin: "HRSYNC_TEST_AD_RECYCLE_BIN"},
		listen:      sambaListen,
	}
	ldapKind = &kind{
		name:     "OpenLDAP slapd",
		short:    "slapd",
		script:   "examples/ldap/slapd.sh",
		install:  "slapd ldap-utils openssl",
		programs: []string{"slapd", "slappasswd", "ldapsearch", "ldapmodify", "openssl", "setsid", "bash"},
		files: []string{
			"/etc/ldap/schema/inetorgperson.schema",
			"/usr/lib/ldap/back_mdb.so",
		},
		urlVar:      "HRSYNC_TEST_LDAPS_URL",
		startTLSVar: "HRSYNC_TEST_LDAP_URL",
		caVar:       "HRSYNC_TEST_LDAP_CA",
		bindDNVar:   "HRSYNC_TEST_LDAP_BIND_DN",
		passwordVar: "HRSYNC_TEST_LDAP_PASSWORD",
		baseDNVar:   "HRSYNC_TEST_LDAP_BASE_DN",
		extraVars: map[string]string{
			ExtraLimitedDN:        "HRSYNC_TEST_LDAP_LIMITED_DN",
			ExtraLimitedPassword:  "HRSYNC_TEST_LDAP_LIMITED_PASSWORD",
			ExtraNoPagingDN:       "HRSYNC_TEST_LDAP_NOPAGING_DN",
			ExtraNoPagingPassword: "HRSYNC_TEST_LDAP_NOPAGING_PASSWORD",
		},
		listen: slapdListen,
	}
	kinds = []*kind{adKind, ldapKind}
)

// AD returns the Samba AD DC for this test: the one the HRSYNC_TEST_AD_* variables name, or else one this test
// binary starts (once) when Samba is installed. Without either the test is skipped, or fails when CI is set.
func AD(tb testing.TB) *Server {
	tb.Helper()
	return adKind.get(tb)
}

// LDAP returns the OpenLDAP server for this test: the one the HRSYNC_TEST_LDAP_* variables name, or else one this
// test binary starts (once) when slapd is installed. Without either the test is skipped, or fails when CI is set.
func LDAP(tb testing.TB) *Server {
	tb.Helper()
	return ldapKind.get(tb)
}

// Main runs the tests of a package and then stops the servers they started: call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	Cleanup()
	os.Exit(code)
}

// Cleanup stops the servers this test binary started and removes their directories, and repeats on stderr why
// tests were skipped. Main calls it; a package with a TestMain of its own calls it after m.Run. Servers named by
// the environment are left alone.
func Cleanup() {
	for _, k := range kinds {
		if err := k.stop(); err != nil {
			fmt.Fprintf(os.Stderr, "dirtest: %v\n", err)
		}
		k.mu.Lock()
		if k.skipped > 0 {
			fmt.Fprintf(os.Stderr, "dirtest: %d test(s) %s\n", k.skipped, k.skip)
		}
		k.mu.Unlock()
	}
}

func (k *kind) get(tb testing.TB) *Server {
	tb.Helper()
	k.once.Do(k.setUp)
	k.mu.Lock()
	s, skip, err := k.server, k.skip, k.err
	if skip != "" {
		k.skipped++
	}
	k.mu.Unlock()
	switch {
	case err != nil:
		tb.Fatalf("%v", err)
	case skip != "":
		tb.Skip(skip)
	}
	// Each test gets its own copy, so that one test changing it cannot disturb another.
	c := *s
	c.Extra = make(map[string]string, len(s.Extra))
	for key, v := range s.Extra {
		c.Extra[key] = v
	}
	return &c
}

func (k *kind) setUp() {
	s, skip, err := k.find()
	k.mu.Lock()
	defer k.mu.Unlock()
	k.server, k.skip, k.err = s, skip, err
}

// find returns the server from the environment, or starts one, or says why neither is possible: as an error
// (the test must fail) or as a skip message.
func (k *kind) find() (s *Server, skip string, err error) {
	if _, set := os.LookupEnv(k.urlVar); set {
		s, err := k.fromEnv(os.LookupEnv)
		if err != nil {
			return nil, "", fmt.Errorf("%s from the environment: %w", k.name, err)
		}
		return s, "", nil
	}
	if why, how := k.unavailable(); why != "" {
		how += fmt.Sprintf(`, or run %s start DIR and export its env (eval "$(%s env DIR)")`, k.script, k.script)
		if os.Getenv("CI") != "" {
			return nil, "", fmt.Errorf("no %s (%s), and CI is set, so these tests may not be skipped: %s",
				k.name, why, how)
		}
		return nil, fmt.Sprintf("SKIPPED: no %s (%s): %s. These tests did NOT run.", k.name, why, how), nil
	}
	s, err = k.start()
	if err != nil {
		return nil, "", err
	}
	return s, "", nil
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

// unavailable says why this machine cannot run a private server, and what would fix it; "" when it can.
func (k *kind) unavailable() (why, how string) {
	if runtime.GOOS != "linux" {
		return "private servers need Linux", "use a Linux machine"
	}
	var missing []string
	for _, p := range k.programs {
		if _, err := lookPath(p); err != nil {
			missing = append(missing, p)
		}
	}
	for _, f := range k.files {
		if _, err := os.Stat(f); err != nil {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		return "missing " + strings.Join(missing, ", "),
			"install it (Debian: apt-get install --no-install-recommends " + k.install + ")"
	}
	if k.needRoot && os.Geteuid() != 0 {
		return "it must run as root, to bind ports 389 and 636", "run the tests as root"
	}
	return "", ""
}

// lookPath finds a program on PATH or in /usr/sbin, where slapd lives.
func lookPath(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	p := filepath.Join("/usr/sbin", name)
	if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
		return p, nil
	}
	return "", fmt.Errorf("%s not found on PATH or in /usr/sbin", name)
}

// fromEnv builds a Server from variables; a partial set is an error, never a reason to skip.
func (k *kind) fromEnv(lookup func(string) (string, bool)) (*Server, error) {
	var missing []string
	get := func(name string) string {
		v, _ := lookup(name)
		if v == "" {
			missing = append(missing, name)
		}
		return v
	}
	s := &Server{
		URL:         get(k.urlVar),
		StartTLSURL: get(k.startTLSVar),
		CAFile:      get(k.caVar),
		BindDN:      get(k.bindDNVar),
		Password:    get(k.passwordVar),
		BaseDN:      get(k.baseDNVar),
		Extra:       map[string]string{},
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s is set but %s %s not: set all that %s env DIR prints",
			k.urlVar, strings.Join(missing, ", "), isAre(len(missing)), k.script)
	}
	for key, name := range k.extraVars {
		if v, _ := lookup(name); v != "" {
			s.Extra[key] = v
		}
	}
	if !strings.HasPrefix(s.URL, "ldaps://") {
		return nil, fmt.Errorf("%s must be an ldaps:// URL, not %q", k.urlVar, s.URL)
	}
	if !strings.HasPrefix(s.StartTLSURL, "ldap://") {
		return nil, fmt.Errorf("%s must be an ldap:// URL, not %q", k.startTLSVar, s.StartTLSURL)
	}
	if _, err := os.Stat(s.CAFile); err != nil {
		return nil, fmt.Errorf("%s: %w", k.caVar, err)
	}
	return s, nil
}

// start starts a private server with the kind's script, into a new temporary directory.
func (k *kind) start() (*Server, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, fmt.Errorf("starting a private %s: %w", k.name, err)
	}
	script := filepath.Join(root, k.script)
	listenEnv, err := k.listen()
	if err != nil {
		return nil, fmt.Errorf("starting a private %s: %w", k.name, err)
	}
	dir, err := os.MkdirTemp("", "hrsync-dirtest-"+k.short+"-")
	if err != nil {
		return nil, fmt.Errorf("starting a private %s: %w", k.name, err)
	}
	k.mu.Lock()
	k.dir = dir
	k.mu.Unlock()
	if err := startWatched(script, dir, append(os.Environ(), listenEnv...)); err != nil {
		return nil, fmt.Errorf("starting a private %s: %w", k.name, err)
	}
	vars, err := scriptEnv(script, dir)
	if err != nil {
		return nil, fmt.Errorf("starting a private %s: %w", k.name, err)
	}
	s, err := k.fromEnv(func(name string) (string, bool) { v, ok := vars[name]; return v, ok })
	if err != nil {
		return nil, fmt.Errorf("the private %s in %s: %w", k.name, dir, err)
	}
	s.Extra[ExtraDir] = dir
	return s, nil
}

// scriptEnv runs `script env dir` through bash's eval, as a person or CI would, and returns the HRSYNC_TEST_
// variables it sets.
func scriptEnv(script, dir string) (map[string]string, error) {
	cmd := exec.Command("bash", "-c", `set -euo pipefail; eval "$(bash "$0" env "$1")"; env -0`, script, dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s env %s: %w: %s", script, dir, err, strings.TrimSpace(stderr.String()))
	}
	vars := map[string]string{}
	for _, kv := range strings.Split(string(out), "\x00") {
		name, value, ok := strings.Cut(kv, "=")
		if ok && strings.HasPrefix(name, "HRSYNC_TEST_") {
			vars[name] = value
		}
	}
	return vars, nil
}

func (k *kind) stop() error {
	k.mu.Lock()
	dir := k.dir
	k.dir = ""
	k.mu.Unlock()
	if dir == "" {
		return nil
	}
	root, err := repoRoot()
	if err != nil {
		return fmt.Errorf("stopping the %s in %s: %w", k.name, dir, err)
	}
	out, err := exec.Command("bash", filepath.Join(root, k.script), "stop", dir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("stopping the %s in %s: %w\n%s", k.name, dir, err, out)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("removing %s: %w", dir, err)
	}
	return nil
}

// repoRoot finds the repository: upwards from the working directory (a package's directory under go test), else
// from this source file.
func repoRoot() (string, error) {
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		starts = append(starts, filepath.Dir(file))
	}
	for _, d := range starts {
		for {
			data, err := os.ReadFile(filepath.Join(d, "go.mod"))
			if err == nil && bytes.Contains(data, []byte("module github.com/hrsync/hrsync\n")) {
				return d, nil
			}
			parent := filepath.Dir(d)
			if parent == d {
				break
			}
			d = parent
		}
	}
	return "", fmt.Errorf("cannot find the hrsync repository (go.mod of github.com/hrsync/hrsync) above %s",
		strings.Join(starts, " or "))
}

// sambaListen picks a loopback address whose AD ports are free and that no other test binary has taken: Samba's
// ports are fixed (389, 636, 3268, 3269), so private DCs of test binaries running at once get an address each.
func sambaListen() ([]string, error) {
	for i := 1; i < 64; i++ {
		addr := "127.0.0." + strconv.Itoa(i)
		if !lockAddr("samba-" + addr) {
			continue
		}
		if portsFree(addr, 389, 636, 3268, 3269) {
			return []string{"HRSYNC_SAMBA_ADDR=" + addr}, nil
		}
	}
	return nil, fmt.Errorf("no loopback address 127.0.0.1-63 has ports 389, 636, 3268 and 3269 free")
}

// slapdListen picks two free ports on 127.0.0.1.
func slapdListen() ([]string, error) {
	var ports []string
	for range 2 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		ports = append(ports, strconv.Itoa(l.Addr().(*net.TCPAddr).Port))
		defer l.Close()
	}
	return []string{"HRSYNC_SLAPD_ADDR=127.0.0.1", "HRSYNC_SLAPD_PORT=" + ports[0], "HRSYNC_SLAPD_TLS_PORT=" + ports[1]}, nil
}

// portsFree reports whether this process could listen on all those ports of addr (then it lets them go).
func portsFree(addr string, ports ...int) bool {
	for _, p := range ports {
		l, err := net.Listen("tcp", net.JoinHostPort(addr, strconv.Itoa(p)))
		if err != nil {
			return false
		}
		_ = l.Close()
	}
	return true
}
