// Command adbench measures hrsync against directories over LDAP — Active
// Directory (a Samba DC) and an LDAP directory (OpenLDAP slapd) — and, on
// the same workforce in the same run, against the sandbox tenant (Entra ID
// emulated by graphsim): plan and apply through the CLI, as child
// processes, with wall times, each child's peak RSS and, for the LDAP
// targets, the LDAP requests the adapter sent (it logs them when it
// closes).
//
// It needs the servers of the targets chosen: start throwaway ones and
// export their variables, then run it from the repository root:
//
//	examples/active-directory/samba-dc.sh start /tmp/adbench
//	eval "$(examples/active-directory/samba-dc.sh env /tmp/adbench)"
//	examples/ldap/slapd.sh start /tmp/ldapbench
//	eval "$(examples/ldap/slapd.sh env /tmp/ldapbench)"
//	go run ./internal/bench/adbench -n 20000 -targets active_directory,ldap,sandbox -out adbench.md
//	examples/active-directory/samba-dc.sh stop /tmp/adbench && rm -rf /tmp/adbench
//
// Steps, for each target: plan against an empty OU (N joiners), apply that
// plan (N creates with passwords, then N-1 manager references), plan again
// (must be empty: the read of N users), then a drift of -drift of the
// workers changing department (a move to another OU for AD), plan and apply
// of that. The users stay in the DC (an OU of their own): throw the DC away.
package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// Settings of the LDAP targets.
var (
	concurrency  = 4
	ldapPassword = "password_modify"
)

func main() {
	n := flag.Int("n", 20000, "workers")
	drift := flag.Float64("drift", 0.02, "share of workers changing department after the first apply")
	out := flag.String("out", "", "also write the markdown results to this file")
	keep := flag.Bool("keep", false, "keep the work folder")
	targets := flag.String("targets", "active_directory,sandbox", "targets to measure, in order: active_directory, ldap, sandbox")
	flag.IntVar(&concurrency, "concurrency", 4, "target.concurrency of the LDAP targets (operations in flight)")
	flag.StringVar(&ldapPassword, "ldap-password", "password_modify", "target.password_method of the ldap target: password_modify or ssha")
	flag.Parse()
	if err := run(*n, *drift, *out, *keep, strings.Split(*targets, ",")); err != nil {
		fmt.Fprintln(os.Stderr, "adbench:", err)
		os.Exit(1)
	}
}

type step struct {
	name     string
	wall     time.Duration
	rssMiB   float64
	requests string
	code     int
}

// server is the directory server of an LDAP target, from the
// environment its script's env command sets.
type server struct {
	url, ca, bindDN, password, baseDN string
	// ou is the RDN attribute type of organizational units as the server
	// spells it.
	ou string
}

// servers are the LDAP targets' servers.
var servers = map[string]server{
	"active_directory": {url: os.Getenv("HRSYNC_TEST_AD_URL"), ca: os.Getenv("HRSYNC_TEST_AD_CA"), bindDN: os.Getenv("HRSYNC_TEST_AD_BIND_DN"),
		password: os.Getenv("HRSYNC_TEST_AD_PASSWORD"), baseDN: os.Getenv("HRSYNC_TEST_AD_BASE_DN"), ou: "OU"},
	"ldap": {url: os.Getenv("HRSYNC_TEST_LDAPS_URL"), ca: os.Getenv("HRSYNC_TEST_LDAP_CA"), bindDN: os.Getenv("HRSYNC_TEST_LDAP_BIND_DN"),
		password: os.Getenv("HRSYNC_TEST_LDAP_PASSWORD"), baseDN: os.Getenv("HRSYNC_TEST_LDAP_BASE_DN"), ou: "ou"},
}

func run(n int, drift float64, outPath string, keep bool, targets []string) error {
	for _, target := range targets {
		srv, ok := servers[target]
		switch {
		case target == "sandbox":
		case !ok:
			return fmt.Errorf("unknown target %q: use active_directory, ldap or sandbox", target)
		case srv.url == "" || srv.ca == "" || srv.bindDN == "" || srv.password == "" || srv.baseDN == "":
			return fmt.Errorf("%s: the server's variables are not set: start one with its script (examples/active-directory/samba-dc.sh, examples/ldap/slapd.sh) and eval its env", target)
		}
	}
	dir, err := os.MkdirTemp("", "hrsync-adbench-")
	if err != nil {
		return err
	}
	if !keep {
		defer os.RemoveAll(dir)
	}
	bin := filepath.Join(dir, "hrsync")
	build := exec.Command("go", "build", "-o", bin, "./cmd/hrsync")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build hrsync (run from the repository root): %w", err)
	}
	results := map[string][]step{}
	for _, target := range targets {
		base := ""
		if srv, ok := servers[target]; ok {
			if base, err = makeOUs(srv); err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "adbench: %d workers; %s users go below %s\n", n, target, base)
		}
		tdir := filepath.Join(dir, target)
		if err := os.MkdirAll(tdir, 0o700); err != nil {
			return err
		}
		if err := writeInputs(tdir, target, base, n, 0); err != nil {
			return err
		}
		var steps []step
		do := func(name string, want []int, args ...string) error {
			st, err := hrsync(bin, tdir, servers[target].password, name, args...)
			if err != nil {
				return err
			}
			ok := false
			for _, c := range want {
				ok = ok || st.code == c
			}
			if !ok {
				return fmt.Errorf("%s %s: exit %d (see %s)", target, name, st.code, tdir)
			}
			fmt.Fprintf(os.Stderr, "adbench: %-16s %-28s %8.2fs %7.0f MiB %s\n", target, name, st.wall.Seconds(), st.rssMiB, st.requests)
			steps = append(steps, st)
			return nil
		}
		if err := do("plan (empty)", []int{2}, "plan", "-c", "hrsync.yaml", "--out", "joiners.json", "--detailed-exitcode"); err != nil {
			return err
		}
		if err := do(fmt.Sprintf("apply %d joiners", n), []int{0}, "apply", "-c", "hrsync.yaml", "joiners.json"); err != nil {
			return err
		}
		if err := do(fmt.Sprintf("plan (%d users)", n), []int{0}, "plan", "-c", "hrsync.yaml", "--detailed-exitcode"); err != nil {
			return err
		}
		if err := writeInputs(tdir, target, base, n, drift); err != nil {
			return err
		}
		if err := do(fmt.Sprintf("plan (%.0f%% movers)", drift*100), []int{2}, "plan", "-c", "hrsync.yaml", "--out", "movers.json", "--detailed-exitcode"); err != nil {
			return err
		}
		if err := do("apply movers", []int{0}, "apply", "-c", "hrsync.yaml", "movers.json"); err != nil {
			return err
		}
		if err := do("plan (converged)", []int{0}, "plan", "-c", "hrsync.yaml", "--detailed-exitcode"); err != nil {
			return err
		}
		results[target] = steps
	}
	var md bytes.Buffer
	fmt.Fprintf(&md, "hrsync %d workers, %s, %d CPUs; AD: %s (Samba, ldb:nosync); LDAP: %s (OpenLDAP slapd, mdb; password_method %s); concurrency %d; Entra: the sandbox tenant (graphsim in process)\n\n",
		n, time.Now().UTC().Format("2006-01-02"), cpus(), servers["active_directory"].url, servers["ldap"].url, ldapPassword, concurrency)
	fmt.Fprint(&md, "| step |")
	for _, target := range targets {
		fmt.Fprintf(&md, " %[1]s wall | %[1]s peak RSS |", target)
		if target != "sandbox" {
			fmt.Fprintf(&md, " %s LDAP requests |", target)
		}
	}
	fmt.Fprint(&md, "\n|---|")
	for _, target := range targets {
		fmt.Fprint(&md, "---:|---:|")
		if target != "sandbox" {
			fmt.Fprint(&md, "---|")
		}
	}
	fmt.Fprintln(&md)
	for i, first := range results[targets[0]] {
		fmt.Fprintf(&md, "| %s |", first.name)
		for _, target := range targets {
			st := results[target][i]
			fmt.Fprintf(&md, " %.2f s | %.0f MiB |", st.wall.Seconds(), st.rssMiB)
			if target != "sandbox" {
				fmt.Fprintf(&md, " %s |", st.requests)
			}
		}
		fmt.Fprintln(&md)
	}
	os.Stdout.Write(md.Bytes())
	if outPath != "" {
		return os.WriteFile(outPath, md.Bytes(), 0o644)
	}
	return nil
}

func cpus() int {
	data, _ := os.ReadFile("/proc/cpuinfo")
	return strings.Count(string(data), "processor\t:")
}

// hrsync runs the CLI in dir and measures it.
func hrsync(bin, dir, password, name string, args ...string) (step, error) {
	args = append(args, "--log-format", "json", "--log-level", "info")
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HRSYNC_TARGET_PASSWORD="+password)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	start := time.Now()
	err := cmd.Run()
	st := step{name: name, wall: time.Since(start)}
	if ee, ok := err.(*exec.ExitError); ok {
		st.code = ee.ExitCode()
	} else if err != nil {
		return st, err
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		st.rssMiB = float64(ru.Maxrss) / 1024
	}
	_ = os.WriteFile(filepath.Join(dir, strings.NewReplacer(" ", "-", "(", "", ")", "", "%", "").Replace(name)+".log"), stderr.Bytes(), 0o600)
	sc := bufio.NewScanner(&stderr)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var rec map[string]any
		if json.Unmarshal(sc.Bytes(), &rec) != nil || rec["msg"] != "ldap requests" {
			continue
		}
		var parts []string
		for _, k := range []string{"search_pages", "lookups", "adds", "modifies", "modify_dns", "extended"} {
			if v, _ := rec[k].(float64); v > 0 {
				parts = append(parts, fmt.Sprintf("%s %d", strings.ReplaceAll(k, "_", " "), int(v)))
			}
		}
		st.requests = strings.Join(parts, ", ")
	}
	return st, nil
}

// makeOUs makes the benchmark's OU with its department OUs below the
// server's base DN and returns its DN.
func makeOUs(srv server) (string, error) {
	conn, err := ldap.DialURL(srv.url, ldap.DialWithTLSConfig(tlsConfig(srv)))
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if err := conn.Bind(srv.bindDN, srv.password); err != nil {
		return "", fmt.Errorf("bind: %w", err)
	}
	base := fmt.Sprintf("%s=hrsync-bench-%d,%s", srv.ou, time.Now().Unix(), srv.baseDN)
	for _, ou := range []string{base, srv.ou + "=Engineering," + base, srv.ou + "=Sales," + base, srv.ou + "=Finance," + base, srv.ou + "=Leavers," + base} {
		req := ldap.NewAddRequest(ou, nil)
		req.Attribute("objectClass", []string{"top", "organizationalUnit"})
		if err := conn.Add(req); err != nil {
			return "", fmt.Errorf("add %s: %w", ou, err)
		}
	}
	return base, nil
}

var departments = []string{"Engineering", "Sales", "Finance"}

var given = []string{"Amelia", "José", "John", "Zoë", "Łukasz", "Seán", "Ana", "Priya", "Chen", "Fatima", "Olivia", "Noah", "Yuki", "Aarav", "Lena", "Mateo", "Sofia", "Ivan", "Amara", "Kofi"}
var family = []string{"Hart", "García", "Smith", "Müller", "Nowak", "O'Brien", "de la Cruz", "Raman", "Wei", "Zahra", "Jones", "Kim", "Tanaka", "Patel", "Schmidt", "Rossi", "Silva", "Petrov", "Okafor", "Mensah", "Novak"}

// writeInputs writes the workers (drift: that share of them in another
// department), the mapping and the config of a target.
func writeInputs(dir, target, base string, n int, drift float64) error {
	var csv strings.Builder
	csv.WriteString("WorkerID,WorkerStatus,FirstName,LastName,Department,JobTitle,ManagerID\n")
	every := 0
	if drift > 0 {
		every = int(1 / drift)
	}
	for i := range n {
		mgr := ""
		if i > 0 {
			mgr = fmt.Sprint(100000 + (i-1)/10)
		}
		dep := departments[(i/10)%3]
		if every > 0 && i%every == every/2 {
			dep = departments[((i/10)%3+1)%3]
		}
		fmt.Fprintf(&csv, "%d,Active,%s,%s,%s,%s,%s\n", 100000+i, given[i%len(given)], family[(i/len(given))%len(family)], dep, "Specialist", mgr)
	}
	if err := os.WriteFile(filepath.Join(dir, "workers.csv"), []byte(csv.String()), 0o600); err != nil {
		return err
	}
	var mapping, config string
	switch target {
	case "active_directory":
		mapping = fmt.Sprintf(`match:
  source: '[WorkerID]'
  target: employeeID
attributes:
  sAMAccountName: 'Append("%[2]s", [WorkerID])'
  userPrincipalName: 'Append(Append("%[2]s", [WorkerID]), "@contoso.test")'
  cn: 'Join(" ", [FirstName], [LastName], [WorkerID])'
  parentDistinguishedName: 'Append(Append("OU=", [Department]), ",%[1]s")'
  accountDisabled: 'Switch([WorkerStatus], "True", "Active", "False")'
  givenName: '[FirstName]'
  sn: '[LastName]'
  displayName: 'Join(" ", [FirstName], [LastName])'
  department: '[Department]'
  title: '[JobTitle]'
  manager: '[ManagerID]'
`, base, token(base))
		config = fmt.Sprintf(`source: {type: csv, path: workers.csv}
mapping: mapping.yaml
target:
  type: active_directory
  url: %s
  ca_file: %s
  bind_dn: %s
  base_dn: %s
  concurrency: %d
policy: {leavers: disable, max_updates: 0}
`, servers["active_directory"].url, servers["active_directory"].ca, servers["active_directory"].bindDN, base, concurrency)
	case "ldap":
		mapping = fmt.Sprintf(`match:
  source: '[WorkerID]'
  target: employeeNumber
attributes:
  uid: 'Append("w", [WorkerID])'
  cn: 'Join(" ", [FirstName], [LastName], [WorkerID])'
  sn: '[LastName]'
  parentDistinguishedName: 'Append(Append("ou=", [Department]), ",%[1]s")'
  accountEnabled: 'IIF([WorkerStatus]="Active", "True", "False")'
  givenName: '[FirstName]'
  displayName: 'Join(" ", [FirstName], [LastName])'
  departmentNumber: '[Department]'
  title: '[JobTitle]'
  manager: '[ManagerID]'
`, base)
		srv := servers["ldap"]
		config = fmt.Sprintf(`source: {type: csv, path: workers.csv}
mapping: mapping.yaml
target:
  type: ldap
  url: %s
  ca_file: %s
  bind_dn: %s
  base_dn: %s
  disable: {method: move, dn: 'ou=Leavers,%s'}
  password_method: %s
  concurrency: %d
policy: {leavers: disable, max_updates: 0}
`, srv.url, srv.ca, srv.bindDN, base, base, ldapPassword, concurrency)
	default:
		mapping = `match:
  source: '[WorkerID]'
  target: employeeId
attributes:
  mailNickname: 'Append("w", [WorkerID])'
  userPrincipalName: 'Append(Append("w", [WorkerID]), "@sandbox.onmicrosoft.com")'
  accountEnabled: 'IIF([WorkerStatus]="Active", "True", "False")'
  givenName: '[FirstName]'
  surname: '[LastName]'
  displayName: 'Join(" ", [FirstName], [LastName])'
  department: '[Department]'
  jobTitle: '[JobTitle]'
  manager: '[ManagerID]'
`
		config = `source: {type: csv, path: workers.csv}
mapping: mapping.yaml
target: {type: sandbox, state: tenant.json}
policy: {leavers: disable, max_updates: 0}
`
	}
	if err := os.WriteFile(filepath.Join(dir, "mapping.yaml"), []byte(mapping), 0o600); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "hrsync.yaml"), []byte(config), 0o600)
}

// tlsConfig trusts the server's CA.
func tlsConfig(srv server) *tls.Config {
	pool := x509.NewCertPool()
	if pem, err := os.ReadFile(srv.ca); err == nil {
		pool.AppendCertsFromPEM(pem)
	}
	host := strings.TrimPrefix(srv.url, "ldaps://")
	if h, _, ok := strings.Cut(host, ":"); ok {
		host = h
	}
	return &tls.Config{RootCAs: pool, ServerName: host, MinVersion: tls.VersionTLS12}
}

// token is a short prefix for the run's account names, which must be
// unique in the whole domain: the digits of the run's OU name, in base 36.
func token(base string) string {
	var n int64
	fmt.Sscanf(strings.TrimPrefix(base, "OU=hrsync-bench-"), "%d", &n)
	return "b" + strconv.FormatInt(n%(36*36*36*36), 36)
}
