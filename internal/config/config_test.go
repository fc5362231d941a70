package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "hrsync.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const minimal = `source:
  path: hr/workers.csv
mapping: mappings/example.yaml
target:
  type: sandbox
`

func TestLoadDefaultsAndRelativePaths(t *testing.T) {
	p := writeConfig(t, minimal)
	cfg, err := Load(Options{File: p, FileExplicit: true})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(p)
	if cfg.Source.Path != filepath.Join(dir, "hr/workers.csv") || cfg.Mapping != filepath.Join(dir, "mappings/example.yaml") {
		t.Errorf("paths not resolved against the config folder: %q %q", cfg.Source.Path, cfg.Mapping)
	}
	if cfg.Source.Type != "csv" || cfg.Source.Delimiter != "auto" || cfg.Policy.Leavers != "disable" || cfg.Policy.MaxLeavers != 100 {
		t.Errorf("defaults not applied: %+v %+v", cfg.Source, cfg.Policy)
	}
	if cfg.Target.State != filepath.Join(dir, ".hrsync/sandbox.json") {
		t.Errorf("state = %q", cfg.Target.State)
	}
}

func TestPrecedenceFlagsOverEnvOverFile(t *testing.T) {
	p := writeConfig(t, minimal+"policy:\n  leavers: ignore\n  max_leavers: 5\n")
	t.Setenv("HRSYNC_POLICY_MAX_LEAVERS", "7")
	t.Setenv("HRSYNC_SOURCE_PATH", "/env/workers.csv")
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	fs.String(FlagName("source.path"), "", "")
	if err := fs.Parse([]string{"--source-path", "/flag/workers.csv"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(Options{File: p, FileExplicit: true, Flags: fs})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Source.Path != "/flag/workers.csv" {
		t.Errorf("flag did not win: %q", cfg.Source.Path)
	}
	// A relative path from a flag or the environment is relative to where
	// the command runs, not to the config file.
	t.Setenv("HRSYNC_TARGET_STATE", "state/t.json")
	fs2 := pflag.NewFlagSet("t", pflag.ContinueOnError)
	fs2.String(FlagName("source.path"), "", "")
	if err := fs2.Parse([]string{"--source-path", "hr/now.csv"}); err != nil {
		t.Fatal(err)
	}
	cfg, err = Load(Options{File: p, FileExplicit: true, Flags: fs2})
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	if cfg.Source.Path != filepath.Join(wd, "hr/now.csv") || cfg.Target.State != filepath.Join(wd, "state/t.json") {
		t.Errorf("paths from flag/env: %q %q", cfg.Source.Path, cfg.Target.State)
	}
	if cfg.Mapping != filepath.Join(filepath.Dir(p), "mappings/example.yaml") {
		t.Errorf("path from the file: %q", cfg.Mapping)
	}
	if cfg.Policy.MaxLeavers != 7 {
		t.Errorf("env did not override file: %d", cfg.Policy.MaxLeavers)
	}
	if cfg.Policy.Leavers != "ignore" {
		t.Errorf("file did not override default: %q", cfg.Policy.Leavers)
	}
}

func TestValidationErrorsNameFileAndLine(t *testing.T) {
	tests := []struct {
		name, body string
		want       []string
	}{
		{"unknown key with suggestion", minimal + "policy:\n  leaver: disable\n", []string{"hrsync.yaml:7: unknown key \"policy.leaver\"", "did you mean \"policy.leavers\""}},
		{"bad delimiter", strings.Replace(minimal, "  path: hr/workers.csv\n", "  path: hr/workers.csv\n  delimiter: \"#\"\n", 1), []string{"hrsync.yaml:3: source.delimiter"}},
		{"bad target type", strings.Replace(minimal, "type: sandbox", "type: openldap", 1), []string{"hrsync.yaml:5: target.type: unknown target type \"openldap\"", "entra, sandbox, active_directory or ldap"}},
		{"http graph url off loopback", strings.Replace(minimal, "type: sandbox", "type: entra\n  auth: access_token\n  graph_url: http://graph.example.com", 1), []string{"hrsync.yaml:7: target.graph_url", "loopback"}},
		{"tenant id neither a GUID nor a domain", strings.Replace(minimal, "type: sandbox", "type: entra\n  auth: azure_cli\n  tenant_id: not-a-guid", 1),
			[]string{"hrsync.yaml:7: target.tenant_id: \"not-a-guid\" is neither a tenant id (a GUID", "nor a domain name of the tenant (contoso.onmicrosoft.com"}},
		{"client id not a GUID", strings.Replace(minimal, "type: sandbox", "type: entra\n  auth: managed_identity\n  client_id: my-app", 1),
			[]string{"hrsync.yaml:7: target.client_id: \"my-app\" is not an application (client) id"}},
		{"missing tenant for client secret", strings.Replace(minimal, "type: sandbox", "type: entra", 1), []string{"target.tenant_id: missing"}},
		{"bad leaver policy", minimal + "policy:\n  leavers: delete\n", []string{"not supported yet"}},
		{"not a mapping", "- a\n- b\n", []string{"expected a mapping"}},
		{"leaver limit not a number", minimal + "policy:\n  max_leavers: ten\n", []string{"hrsync.yaml:7: policy.max_leavers: \"ten\" is not a whole number"}},
		{"leaver percent a list", minimal + "policy:\n  max_leavers_percent: [1]\n", []string{"hrsync.yaml:7: policy.max_leavers_percent", "is not a number"}},
		{"create_disabled not a bool", minimal + "policy:\n  create_disabled: maybe\n", []string{"policy.create_disabled: \"maybe\" is not true or false"}},
		{"yaml syntax", "source: [\n", []string{"hrsync.yaml"}},
		{"concurrency out of range", strings.Replace(minimal, "type: sandbox", "type: sandbox\n  concurrency: 50", 1), []string{"hrsync.yaml:6: target.concurrency: \"50\" is not a whole number from 1 to 16"}},
		{"timeout not a duration", minimal + "timeout: forever\n", []string{"hrsync.yaml:6: timeout: \"forever\" is not a positive duration"}},
		{"negative max_creates", minimal + "policy:\n  max_creates: -1\n", []string{"hrsync.yaml:7: policy.max_creates: \"-1\" is not a whole number, 0 or more"}},
		{"source drop over 100", minimal + "policy:\n  max_source_drop_percent: 150\n", []string{"policy.max_source_drop_percent: \"150\" is not a percentage from 0 (off) to 100"}},
		{"unknown time zone", minimal + "policy:\n  timezone: Mars/Olympus\n", []string{"hrsync.yaml:7: policy.timezone: \"Mars/Olympus\" is not an IANA time zone"}},
		{"prehire_days too large", minimal + "policy:\n  prehire_days: 400\n", []string{"hrsync.yaml:7: policy.prehire_days"}},
		{"prehire_account unknown", minimal + "policy:\n  prehire_account: sometimes\n", []string{"policy.prehire_account", "use disabled"}},
		{"max_plan_age not a duration", minimal + "policy:\n  max_plan_age: a week\n", []string{"policy.max_plan_age: \"a week\" is not a duration"}},
		{"delete_after_days negative", minimal + "policy:\n  delete_after_days: -3\n", []string{"policy.delete_after_days"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("AZURE_TENANT_ID", "")
			t.Setenv("AZURE_CLIENT_ID", "")
			p := writeConfig(t, tt.body)
			_, err := Load(Options{File: p, FileExplicit: true})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestTenantID(t *testing.T) {
	tests := []struct {
		id string
		ok bool
	}{
		{"", true},
		{"72f988bf-86f1-41af-91ab-2d7cd011db47", true},
		{"72F988BF-86F1-41AF-91AB-2D7CD011DB47", true},
		{"contoso.onmicrosoft.com", true},
		{"contoso.com", true},
		{"my-org2.co.uk", true},
		{"not-a-guid", false},
		{"72f988bf86f141af91ab2d7cd011db47", false},
		{"contoso", false},
		{"contoso..com", false},
		{"-contoso.com", false},
		{"contoso.c0m", false},
		{"contoso.com/", false},
		{"https://login.microsoftonline.com/contoso.com", false},
	}
	for _, tt := range tests {
		if err := CheckTenantID(tt.id); (err == nil) != tt.ok {
			t.Errorf("CheckTenantID(%q) = %v, want ok %v", tt.id, err, tt.ok)
		}
	}
	// From the environment, the variable is named.
	t.Setenv("AZURE_TENANT_ID", "not-a-guid")
	_, err := Load(Options{File: writeConfig(t, strings.Replace(minimal, "type: sandbox", "type: entra\n  auth: azure_cli", 1)), FileExplicit: true})
	if err == nil || !strings.Contains(err.Error(), `"not-a-guid" is neither`) || !strings.Contains(err.Error(), "(from environment AZURE_TENANT_ID)") {
		t.Fatalf("err = %v", err)
	}
}

func TestEnvValueIsNamedInErrors(t *testing.T) {
	p := writeConfig(t, minimal)
	t.Setenv("HRSYNC_TARGET_TYPE", "nope")
	_, err := Load(Options{File: p, FileExplicit: true})
	if err == nil || !strings.Contains(err.Error(), "environment HRSYNC_TARGET_TYPE") {
		t.Fatalf("err = %v", err)
	}
}

func TestMissingExplicitConfig(t *testing.T) {
	_, err := Load(Options{File: filepath.Join(t.TempDir(), "nope.yaml"), FileExplicit: true})
	if err == nil || !strings.Contains(err.Error(), "nope.yaml") {
		t.Fatalf("err = %v", err)
	}
}

func TestGraphURL(t *testing.T) {
	for _, tt := range []struct {
		url string
		ok  bool
	}{
		{"https://graph.microsoft.com", true},
		{"https://graph.microsoft.us", true},
		{"http://127.0.0.1:8080", true},
		{"http://localhost:8080", true},
		{"http://[::1]:8080", true},
		{"http://10.0.0.5:8080", false},
		{"https://graph.microsoft.com/v1.0", false},
		{"ftp://x", false},
		{"graph.microsoft.com", false},
	} {
		if err := checkGraphURL(tt.url); (err == nil) != tt.ok {
			t.Errorf("checkGraphURL(%q) = %v", tt.url, err)
		}
	}
}

func TestBadTypedEnvValueIsAnError(t *testing.T) {
	p := writeConfig(t, minimal)
	t.Setenv("HRSYNC_POLICY_MAX_LEAVERS", "lots")
	_, err := Load(Options{File: p, FileExplicit: true})
	if err == nil || !strings.Contains(err.Error(), "environment HRSYNC_POLICY_MAX_LEAVERS: policy.max_leavers") {
		t.Fatalf("err = %v", err)
	}
}

func TestXLSXAndRESTSources(t *testing.T) {
	p := writeConfig(t, strings.Replace(minimal, "  path: hr/workers.csv\n", "  type: xlsx\n  path: hr/workers.xlsx\n  sheet: Workers\n  header_row: 3\n", 1))
	cfg, err := Load(Options{File: p, FileExplicit: true})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Source.Type != "xlsx" || cfg.Source.Sheet != "Workers" || cfg.Source.HeaderRow != 3 || !strings.HasSuffix(cfg.Source.Path, "hr/workers.xlsx") {
		t.Errorf("source = %+v", cfg.Source)
	}
	rest := `source:
  type: rest
  rest:
    preset: workday
    url: https://example.com/report?format=json
    fields:
      WorkerID: Employee_ID
      FirstName: Legal_Name.First
mapping: m.yaml
target:
  type: sandbox
`
	cfg, err = Load(Options{File: writeConfig(t, rest), FileExplicit: true})
	if err != nil {
		t.Fatal(err)
	}
	fields, _ := cfg.Source.REST["fields"].(map[string]any)
	if cfg.Source.REST["preset"] != "workday" || fields["WorkerID"] != "Employee_ID" || !strings.HasSuffix(cfg.Source.RESTWhere, "hrsync.yaml:4") {
		t.Errorf("rest = %#v at %s (keys must keep their case)", cfg.Source.REST, cfg.Source.RESTWhere)
	}
	for _, bad := range []struct{ doc, want string }{
		{"source:\n  type: rest\nmapping: m.yaml\ntarget:\n  type: sandbox\n", "source.rest: missing"},
		{"source:\n  type: rest\n  rest: [1]\nmapping: m.yaml\ntarget:\n  type: sandbox\n", "source.rest: expected settings"},
		{strings.Replace(minimal, "  path: hr/workers.csv\n", "  path: hr/workers.csv\n  header_row: -1\n", 1), "source.header_row"},
		{strings.Replace(minimal, "  path: hr/workers.csv\n", "  type: ldif\n  path: x\n", 1), "use csv, xlsx, rest or ldap"},
		{"source:\n  type: ldap\nmapping: m.yaml\ntarget:\n  type: sandbox\n", "source.ldap: missing"},
		{"source:\n  type: ldap\n  ldap: [1]\nmapping: m.yaml\ntarget:\n  type: sandbox\n", "source.ldap: expected settings"},
	} {
		if _, err := Load(Options{File: writeConfig(t, bad.doc), FileExplicit: true}); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: err = %v, want %q", bad.doc, err, bad.want)
		}
	}
}

// source.ldap is kept as written, for package source/ldap to validate, and
// Where locates each of its keys, list items included, for its errors.
func TestLDAPSourceSection(t *testing.T) {
	const doc = `source:
  type: ldap
  ldap:
    url: ldap://127.0.0.1:3890
    base_dn: ou=people,dc=example,dc=org
    attributes:
      - employeeNumber
      - givenName
    references: {manager: employeeNumber}
mapping: m.yaml
target:
  type: sandbox
`
	cfg, err := Load(Options{File: writeConfig(t, doc), FileExplicit: true})
	if err != nil {
		t.Fatal(err)
	}
	attrs, _ := cfg.Source.LDAP["attributes"].([]any)
	if cfg.Source.Type != "ldap" || len(attrs) != 2 || attrs[1] != "givenName" || cfg.Source.LDAP["url"] != "ldap://127.0.0.1:3890" {
		t.Errorf("ldap = %#v (attribute names must keep their case)", cfg.Source.LDAP)
	}
	for key, line := range map[string]string{
		"source.ldap":                    ":3",
		"source.ldap.url":                ":4",
		"source.ldap.attributes":         ":6",
		"source.ldap.attributes.1":       ":8",
		"source.ldap.references.manager": ":9",
		"source.ldap.filter":             ":3", // absent: its section
		"source.type":                    ":2",
	} {
		if w := cfg.Where(key); !strings.HasSuffix(w, "hrsync.yaml"+line) {
			t.Errorf("Where(%s) = %s, want ...hrsync.yaml%s", key, w, line)
		}
	}
	if w := (&Config{}).Where("source.ldap.url"); w != "config" {
		t.Errorf("Where without a file = %q", w)
	}
}

func TestActiveDirectoryTarget(t *testing.T) {
	const base = "source:\n  path: hr.csv\nmapping: m.yaml\ntarget:\n  type: active_directory\n"
	const secret = "S3cret-do-not-print"
	tests := []struct {
		name, body string
		env        map[string]string
		file       string // password file content, written as pw.txt
		want       string // error substring; "" for success
	}{
		{"complete, password from the environment", base + "  url: ldaps://dc1.contoso.test:636\n  bind_dn: svc@contoso.test\n  base_dn: DC=contoso,DC=test\n  ca_file: ca.pem\n",
			map[string]string{"HRSYNC_TARGET_PASSWORD": secret}, "", ""},
		{"password from a file", base + "  url: ldaps://dc1:636\n  bind_dn: svc@contoso.test\n  base_dn: DC=contoso,DC=test\n  password_file: pw.txt\n", nil, secret + "\n", ""},
		{"no password", base + "  url: ldaps://dc1:636\n  bind_dn: svc@contoso.test\n  base_dn: DC=contoso,DC=test\n", nil, "", "no bind password: HRSYNC_TARGET_PASSWORD is empty"},
		{"missing url, base and bind", base, map[string]string{"HRSYNC_TARGET_PASSWORD": secret}, "", "target.url: missing"},
		{"not an LDAP url", base + "  url: https://dc1\n  bind_dn: a\n  base_dn: DC=x\n", map[string]string{"HRSYNC_TARGET_PASSWORD": secret}, "", "is not ldaps://host:port"},
		{"plain only to loopback", base + "  url: ldap://dc1.contoso.test:389\n  start_tls: false\n  bind_dn: a\n  base_dn: DC=x\n", map[string]string{"HRSYNC_TARGET_PASSWORD": secret}, "", "target.start_tls: false is allowed only for a directory on this machine"},
		{"plain to loopback", base + "  url: ldap://127.0.0.1:389\n  start_tls: false\n  bind_dn: a\n  base_dn: DC=x\n", map[string]string{"HRSYNC_TARGET_PASSWORD": secret}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("HRSYNC_TARGET_PASSWORD", "")
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			p := writeConfig(t, tt.body)
			if tt.file != "" {
				if err := os.WriteFile(filepath.Join(filepath.Dir(p), "pw.txt"), []byte(tt.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			cfg, err := Load(Options{File: p, FileExplicit: true})
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("err = %v, want %q", err, tt.want)
				}
				if strings.Contains(err.Error(), secret) {
					t.Fatal("the password is in the error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Target.Directory.Password != secret {
				t.Errorf("password not read")
			}
			if ca := cfg.Target.Directory.CAFile; ca != "" && ca != filepath.Join(filepath.Dir(p), "ca.pem") {
				t.Errorf("ca_file = %q", ca)
			}
		})
	}
}

// A mis-indented line is reported where it is.
func TestMisindentedConfigLine(t *testing.T) {
	p := writeConfig(t, "source:\n  path: hr.csv\nmapping: m.yaml\ntarget:\n  type: sandbox\n policy:\n  leavers: disable\n")
	_, err := Load(Options{File: p, FileExplicit: true})
	if err == nil || !strings.Contains(err.Error(), "hrsync.yaml:6: ") {
		t.Fatalf("err = %v", err)
	}
}

func TestLDAPTarget(t *testing.T) {
	const base = "source:\n  path: hr.csv\nmapping: m.yaml\ntarget:\n  type: ldap\n  url: ldaps://ldap.example.org:636\n  bind_dn: cn=hrsync,dc=example,dc=org\n  base_dn: ou=people,dc=example,dc=org\n"
	tests := []struct {
		name, body string
		want       string // error substring; "" for success
		check      func(t *testing.T, c *Config)
	}{
		{"ppolicy", base + "  disable: {method: ppolicy, policy_dn: 'cn=lockout,ou=policies,dc=example,dc=org'}\n", "", func(t *testing.T, c *Config) {
			l := c.Target.Directory.LDAP
			if l.Disable.Method != DisablePPolicy || l.Disable.PolicyDN == "" || l.PasswordMethod != PasswordModify {
				t.Errorf("%+v", l)
			}
		}},
		{"move sets the leavers' place", base + "  disable:\n    method: move\n    dn: ou=disabled,dc=example,dc=org\n  password_method: ssha\n", "", func(t *testing.T, c *Config) {
			if c.Target.Directory.LeaversOU != "ou=disabled,dc=example,dc=org" || c.Target.Directory.LDAP.PasswordMethod != PasswordSSHA {
				t.Errorf("%+v", c.Target.Directory)
			}
		}},
		{"attribute", base + "  disable: {method: attribute, attribute: nsAccountLock, disabled_value: 'TRUE'}\n", "", nil},
		{"no method", base, "target.disable.method: missing: how hrsync disables an account", nil},
		{"unknown method", base + "  disable: {method: delete}\n", `target.disable.method: unknown method "delete"`, nil},
		{"move without dn", base + "  disable: {method: move}\n", "target.disable.dn: missing", nil},
		{"attribute without values", base + "  disable: {method: attribute, attribute: description}\n", "target.disable.disabled_value: missing", nil},
		{"bad dn", base + "  people_dn: people\n  disable: {method: ppolicy}\n", `target.people_dn: "people" is not a distinguished name`, nil},
		{"leavers_ou", base + "  leavers_ou: ou=x,dc=example,dc=org\n  disable: {method: ppolicy}\n", "target.leavers_ou: not for an ldap target", nil},
		{"password method", base + "  password_method: md5\n  disable: {method: ppolicy}\n", `target.password_method: unknown method "md5"`, nil},
		{"rdn cn", base + "  rdn_attribute: cn\n  disable: {method: ppolicy}\n", "", func(t *testing.T, c *Config) {
			if c.Target.Directory.LDAP.RDNAttribute != "cn" {
				t.Errorf("rdn %q", c.Target.Directory.LDAP.RDNAttribute)
			}
		}},
		{"rdn mail", base + "  rdn_attribute: mail\n  disable: {method: ppolicy}\n", `target.rdn_attribute: "mail": entries are named by uid`, nil},
		{"misspelt key", base + "  disable: {method: ppolicy, polcy_dn: x}\n", `unknown key "target.disable.polcy_dn"`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("HRSYNC_TARGET_PASSWORD", "pw")
			cfg, err := Load(Options{File: writeConfig(t, tt.body), FileExplicit: true})
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("err = %v, want %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.check != nil {
				tt.check(t, cfg)
			}
		})
	}
}
