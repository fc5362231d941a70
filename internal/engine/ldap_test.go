package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/hrsync/hrsync/internal/config"
	"github.com/hrsync/hrsync/internal/dirtest"
	"github.com/hrsync/hrsync/internal/targets"
)

func TestMain(m *testing.M) { dirtest.Main(m) }

// countingProgress records every value a counter was set to.
type countingProgress struct{ sets []int }

func (c *countingProgress) Start(string, int) Counter { return c }
func (c *countingProgress) Set(n int)                 { c.sets = append(c.sets, n) }
func (c *countingProgress) Done()                     {}

// An LDAP source through the engine: the config's source.ldap section
// with the password from HRSYNC_SOURCE_PASSWORD; the progress counter
// advances as entries arrive (before any is mapped); a reference outside
// the read set is a plan warning with the record's key and entry; a bad
// setting names the config file's line.
func TestLDAPSource(t *testing.T) {
	s := dirtest.LDAP(t)
	admin := s.DialAdmin(t)
	box := s.Sandbox(t)
	for i := range 1050 {
		req := goldap.NewAddRequest(fmt.Sprintf("uid=p%04d,%s", i, box), nil)
		req.Attribute("objectClass", []string{"inetOrgPerson"})
		req.Attribute("uid", []string{fmt.Sprintf("p%04d", i)})
		req.Attribute("cn", []string{"P"})
		req.Attribute("sn", []string{"P"})
		req.Attribute("employeeNumber", []string{fmt.Sprint(1000 + i)})
		if i == 7 {
			req.Attribute("manager", []string{"uid=nobody," + box})
		}
		if err := admin.Add(req); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("m.yaml", "match: {source: '[employeeNumber]', target: employeeId}\nattributes:\n  displayName: 'Item([cn], 1)'\n  mailNickname: '[uid]'\n  userPrincipalName: 'Append([uid], \"@example.org\")'\n  manager: '[manager]'\n")
	cfgPath := write("hrsync.yaml", `source:
  type: ldap
  ldap:
    preset: inetorgperson
    url: `+s.URL+`
    ca_file: `+s.CAFile+`
    bind_dn: `+s.BindDN+`
    base_dn: `+box+`
mapping: m.yaml
target:
  type: sandbox
  state: tenant.json
`)
	t.Setenv("HRSYNC_SOURCE_PASSWORD", s.Password)
	cfg, err := config.Load(config.Options{File: cfgPath, FileExplicit: true})
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(cfg, nil, nil, "test", targets.Open)
	if err != nil {
		t.Fatal(err)
	}
	progress := &countingProgress{}
	e.Progress = progress
	res, err := e.ReadSource(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary.Records != 1050 || len(res.Desired) != 1050 || !strings.HasPrefix(res.Name, "ldap ldaps://") {
		t.Fatalf("%s: %d records, %d mapped", res.Name, res.Summary.Records, len(res.Desired))
	}
	// 500, 1000 while reading, then 1050 read, then 1050 at the end.
	if len(progress.sets) < 3 || progress.sets[0] != 500 || progress.sets[1] != 1000 || progress.sets[len(progress.sets)-1] != 1050 {
		t.Errorf("progress %v", progress.sets)
	}
	p, err := e.Validate(res)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, w := range p.Warnings {
		if w.Code == "reference_outside_source" {
			found = w.Key == "1007" && len(w.Sources) == 1 && w.Sources[0].DN == "uid=p0007,"+box &&
				strings.HasPrefix(w.Message, "manager: uid=nobody,"+box+" is not among the entries read")
			if !found {
				t.Errorf("warning %+v", w)
			}
		}
	}
	if !found {
		t.Errorf("no reference warning in %+v", p.Warnings)
	}

	// A bad setting: the file's line and the key.
	bad := strings.Replace(string(must(os.ReadFile(cfgPath))), "    base_dn: "+box, "    base_dn: people", 1)
	write("hrsync.yaml", bad)
	cfg, err = config.Load(config.Options{File: cfgPath, FileExplicit: true})
	if err != nil {
		t.Fatal(err)
	}
	e, err = New(cfg, nil, nil, "test", targets.Open)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.ReadSource(context.Background())
	if err == nil || !strings.Contains(err.Error(), cfgPath+":8: source.ldap.base_dn:") {
		t.Errorf("bad base_dn: %v", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
