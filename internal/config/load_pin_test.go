package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// pinCase is one run of Load whose whole error text is pinned: the order
// in which errors are joined, and each message byte for byte. {file} and
// {dir} stand for the config file and its folder.
type pinCase struct {
	name  string
	body  string            // the config file; "" for none
	env   map[string]string // set for the run
	files map[string]string // more files written next to it, by name
	// file, when body is "", is Options.File, relative to the folder
	// ("." for the folder itself); implicit leaves Options.File "" and
	// writes body as ./hrsync.yaml.
	file     string
	implicit bool
	want     string // the exact error
}

// loadPinned runs Load on tc's config file (if any) with the HRSYNC_* and
// AZURE_* variables tc does not set cleared, and returns its error text
// with the file and folder replaced by {file} and {dir}.
func loadPinned(t *testing.T, tc pinCase, opts Options) (*Config, string) {
	t.Helper()
	for _, e := range os.Environ() {
		if k, _, _ := strings.Cut(e, "="); strings.HasPrefix(k, "HRSYNC_") || strings.HasPrefix(k, "AZURE_") {
			t.Setenv(k, "")
		}
	}
	for k, v := range tc.env {
		t.Setenv(k, v)
	}
	dir := t.TempDir()
	t.Chdir(dir)
	for name, data := range tc.files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if tc.body != "" {
		name := filepath.Join(dir, "hrsync.yaml")
		if err := os.WriteFile(name, []byte(tc.body), 0o600); err != nil {
			t.Fatal(err)
		}
		if !tc.implicit {
			opts.File = name
		}
	} else if tc.file != "" {
		opts.File = filepath.Join(dir, tc.file)
	}
	cfg, err := Load(opts)
	if err == nil {
		return cfg, ""
	}
	got := strings.ReplaceAll(err.Error(), filepath.Join(dir, "hrsync.yaml"), "{file}")
	return cfg, strings.ReplaceAll(got, dir, "{dir}")
}

// TestLoadErrorsExact pins Load's and validate's error texts and their
// order, branch by branch.
func TestLoadErrorsExact(t *testing.T) {
	const ad = "source:\n  path: hr.csv\nmapping: m.yaml\ntarget:\n  type: active_directory\n  url: ldaps://dc1:636\n  bind_dn: svc@contoso.test\n  base_dn: DC=contoso,DC=test\n"
	const ldapTgt = "source:\n  path: hr.csv\nmapping: m.yaml\ntarget:\n  type: ldap\n  url: ldaps://ldap.example.org:636\n  bind_dn: cn=hrsync,dc=example,dc=org\n  base_dn: ou=people,dc=example,dc=org\n  disable: {method: ppolicy}\n"
	const entra = "source:\n  path: hr.csv\nmapping: m.yaml\ntarget:\n  type: entra\n"
	tests := []pinCase{
		// Reading the file.
		{name: "explicit file missing", file: "nope.yaml", want: "read config {dir}/nope.yaml: open {dir}/nope.yaml: no such file or directory (pass the config file with -c)"},
		{name: "config is a folder", file: ".", want: "read config {dir}: read {dir}: is a directory (pass the config file with -c)"},
		{name: "implicit ./hrsync.yaml", body: "source:\n  path: a\ntarget:\n  type: sandbox\n", implicit: true, want: "{file}: mapping: missing: name the mapping file (see mappings/)"},
		{name: "yaml syntax", body: "source: [\n", want: "config {file}:1: did not find expected node content"},
		{name: "duplicate key (viper)", body: minimal + "mapping: again\n", want: "config {file}: While parsing config: yaml: unmarshal errors:\n  line 6: mapping key \"mapping\" already defined at line 3"},
		{name: "not a mapping", body: "- a\n- b\n", want: "config {file}:1: expected a mapping of keys (source:, mapping:, target:, policy:)"},
		{name: "rest not a mapping", body: "source:\n  type: rest\n  rest: [1]\nmapping: m.yaml\ntarget:\n  type: sandbox\n", want: "{file}:3: source.rest: expected settings (url, records, fields, paging, auth ...)"},
		{name: "ldap not a mapping", body: "source:\n  type: ldap\n  ldap: x\nmapping: m.yaml\ntarget:\n  type: sandbox\n", want: "{file}:3: source.ldap: expected settings (url, base_dn, filter, attributes ...)"},
		// Typed keys, then the password, then validate, then unknown keys.
		{name: "typed keys in order", body: minimal + "timeout: forever\npolicy:\n  max_leavers: ten\n  max_leavers_percent: x\n  create_disabled: maybe\n  max_source_drop_percent: 101\n  timezone: Local\n  delete_after_days: -1\n  max_plan_age: -1h\n  prehire_days: 366\n  max_creates: -2\n",
			want: "{file}:8: policy.max_leavers: \"ten\" is not a whole number\n{file}:9: policy.max_leavers_percent: \"x\" is not a number\n{file}:6: timeout: \"forever\" is not a positive duration such as 90m or 6h\n{file}:16: policy.max_creates: \"-2\" is not a whole number, 0 or more (0: no limit)\n{file}:15: policy.prehire_days: \"366\" is not a whole number of days from 0 (create on the hire date) to 365\n{file}:14: policy.max_plan_age: \"-1h\" is not a duration such as 24h or 72h (0: plans of any age)\n{file}:13: policy.delete_after_days: \"-1\" is not a whole number of days, 0 or more (0: never delete)\n{file}:12: policy.timezone: \"Local\" is not an IANA time zone such as Europe/Berlin or America/New_York (not Local: a plan must not depend on the machine it runs on)\n{file}:11: policy.max_source_drop_percent: \"101\" is not a percentage from 0 (off) to 100\n{file}:10: policy.create_disabled: \"maybe\" is not true or false"},
		{name: "source and target typed keys", body: "source:\n  path: a\n  header_row: x\nmapping: m\ntarget:\n  type: sandbox\n  concurrency: 0\n  start_tls: maybe\n", want: "{file}:3: source.header_row: \"x\" is not a row number (1 for the first row; 0 for the first non-empty row)\n{file}:8: target.start_tls: \"maybe\" is not true or false\n{file}:7: target.concurrency: \"0\" is not a whole number from 1 to 16 ($batch requests in flight; a few reach Graph's write limit)"},
		{name: "leaver_remove_groups not a bool", body: minimal + "policy:\n  leaver_remove_groups: sometimes\n", want: "{file}:7: policy.leaver_remove_groups: \"sometimes\" is not true or false"},
		{name: "paired keys in a fixed order", body: strings.Replace(minimal, "type: sandbox", "type: sandbox\n  start_tls: x\n  allow_delete: y", 1) + "policy:\n  max_creates: a\n  max_updates: b\n  leaver_remove_groups: c\n  leaver_remove_licenses: d\n",
			want: "{file}:6: target.start_tls: \"x\" is not true or false\n{file}:7: target.allow_delete: \"y\" is not true or false\n{file}:9: policy.max_creates: \"a\" is not a whole number, 0 or more (0: no limit)\n{file}:10: policy.max_updates: \"b\" is not a whole number, 0 or more (0: no limit)\n{file}:11: policy.leaver_remove_groups: \"c\" is not true or false\n{file}:12: policy.leaver_remove_licenses: \"d\" is not true or false"},
		{name: "allow_delete not a bool", body: strings.Replace(minimal, "type: sandbox", "type: sandbox\n  allow_delete: 2", 1), want: "{file}:6: target.allow_delete: \"2\" is not true or false"},
		{name: "typed before validate before unknown", body: "source:\n  type: csv\n  delimter: x\ntarget:\n  type: sandbox\n  state: ''\npolicy:\n  max_updates: many\n  leavers: bogus\n  prehire_account: later\n  max_leavers: -1\n  max_leavers_percent: 101\n", want: "{file}:8: policy.max_updates: \"many\" is not a whole number, 0 or more (0: no limit)\n{file}: source.path: missing: name the HR export to read\n{file}: mapping: missing: name the mapping file (see mappings/)\n{file}:6: target.state: missing: name the sandbox state file\n{file}:9: policy.leavers: unknown leaver policy \"bogus\"; use disable or ignore\n{file}:10: policy.prehire_account: unknown value \"later\"; use disabled (enabled on the hire date) or enabled\n{file}:11: policy.max_leavers: must be 0 or more\n{file}:12: policy.max_leavers_percent: must be between 0 and 100\n{file}:3: unknown key \"source.delimter\" (did you mean \"source.delimiter\"?)"},
		{name: "tab delimiter is fine, a word is not", body: strings.Replace(minimal, "  path: hr/workers.csv\n", "  path: hr/workers.csv\n  delimiter: colon\n", 1), want: "{file}:3: source.delimiter: \"colon\" is not one of auto, \",\", \";\", \"\\t\", \"|\""},
		// Sources.
		{name: "rest without settings", body: "source:\n  type: rest\nmapping: m\ntarget:\n  type: sandbox\n", want: "{file}: source.rest: missing: a rest source needs its settings (preset or url, records, auth ...)"},
		{name: "unknown source type from env", body: minimal, env: map[string]string{"HRSYNC_SOURCE_TYPE": "ODBC"}, want: "environment HRSYNC_SOURCE_TYPE: source.type: unknown source type \"odbc\"; use csv, xlsx, rest or ldap"},
		// Targets.
		{name: "entra client secret needs tenant and client", body: entra, want: "{file}: target.tenant_id: missing: set target.tenant_id or AZURE_TENANT_ID for auth client_secret\n{file}: target.client_id: missing: set target.client_id or AZURE_CLIENT_ID for auth client_secret"},
		{name: "entra tenant from env, client missing", body: entra + "  auth: Certificate\n", env: map[string]string{"AZURE_TENANT_ID": "contoso.com"}, want: "{file}: target.client_id: missing: set target.client_id or AZURE_CLIENT_ID for auth certificate"},
		{name: "entra unknown auth", body: entra + "  auth: password\n  graph_url: https://graph.microsoft.com/v1.0\n", want: "{file}:7: target.graph_url: \"https://graph.microsoft.com/v1.0\": give the endpoint without a path (hrsync adds /v1.0)\n{file}:6: target.auth: unknown auth method \"password\"; use one of client_secret, certificate, workload_identity, managed_identity, azure_cli, access_token"},
		{name: "entra bad client from env", body: entra + "  auth: azure_cli\n", env: map[string]string{"AZURE_CLIENT_ID": "app"}, want: "{file}: target.client_id: \"app\" is not an application (client) id: that is a GUID such as 00000000-0000-0000-0000-000000000000, shown as \"Application (client) ID\" on the app registration's overview page (from environment AZURE_CLIENT_ID)"},
		{name: "ad password file missing", body: ad + "  password_file: pw.txt\n", want: "{file}:9: target.password_file: open {dir}/pw.txt: no such file or directory"},
		{name: "ad password env names nothing", body: ad + "  password_env: ''\n", want: "{file}:9: target.password_env: no bind password: target.password_env names no environment variable; name one, or a file holding the password in target.password_file"},
		{name: "ad password file empty", body: ad + "  password_file: pw.txt\n", files: map[string]string{"pw.txt": "\n"}, want: "{file}: target.password_env: no bind password: file {dir}/pw.txt is empty; set it, or name a file holding the password in target.password_file"},
		{name: "ad password file, other errors", body: strings.Replace(ad, "mapping: m.yaml", "mapping: ''", 1) + "  password_file: pw.txt\n  start_tls: x\n  bogus: 1\n", files: map[string]string{"pw.txt": "S3cret-do-not-print"}, want: "{file}:10: target.start_tls: \"x\" is not true or false\n{file}:3: mapping: missing: name the mapping file (see mappings/)\n{file}:11: unknown key \"target.bogus\""},
		{name: "ad password env named", body: ad + "  password_env: MY_PW\n", want: "{file}:9: target.password_env: no bind password: MY_PW is empty; set it, or name a file holding the password in target.password_file"},
		{name: "ad delete needs allow_delete", body: ad + "policy:\n  delete_after_days: 30\n", env: map[string]string{"HRSYNC_TARGET_PASSWORD": "pw"}, want: "{file}:10: policy.delete_after_days: deleting users in Active Directory needs target.allow_delete: true as well (without the AD Recycle Bin a delete cannot be undone with the user's attributes)"},
		{name: "ldap delete needs allow_delete", body: ldapTgt + "policy:\n  delete_after_days: 30\n", env: map[string]string{"HRSYNC_TARGET_PASSWORD": "pw"}, want: "{file}:11: policy.delete_after_days: deleting users in an LDAP directory needs target.allow_delete: true as well (a deleted entry cannot be restored: its entryUUID is gone)"},
		{name: "ldap everything wrong", body: "source:\n  path: hr.csv\nmapping: m.yaml\ntarget:\n  type: ldap\n  url: ldap://ldap.example.org\n  start_tls: false\n  leavers_ou: ou=x,dc=y\n  groups_dn: groups\n  disable: {method: ppolicy, dn: 'ou=d,dc=y', policy_dn: p}\n  rdn_attribute: mail\n  password_method: md5\n", want: "{file}:7: target.start_tls: false is allowed only for a directory on this machine (127.0.0.1, ::1, localhost): the bind password would cross the network in clear text\n{file}: target.base_dn: missing: the DN users are read below, e.g. DC=contoso,DC=com\n{file}: target.bind_dn: missing: the account hrsync binds as, a DN or user@domain\n{file}: target.password_env: no bind password: HRSYNC_TARGET_PASSWORD is empty; set it, or name a file holding the password in target.password_file\n{file}:9: target.groups_dn: \"groups\" is not a distinguished name (e.g. ou=people,dc=example,dc=org)\n{file}:10: target.disable.policy_dn: \"p\" is not a distinguished name (e.g. ou=people,dc=example,dc=org)\n{file}:8: target.leavers_ou: not for an ldap target: use disable: {method: move, dn: ...}\n{file}:10: target.disable.method: ppolicy takes policy_dn only (dn is for move, attribute for attribute)\n{file}:11: target.rdn_attribute: \"mail\": entries are named by uid (uid=<uid>,<branch>) or cn (cn=<cn>,<branch>)\n{file}:12: target.password_method: unknown method \"md5\"; use password_modify (the RFC 3062 extended operation: the server hashes the password as it is configured to) or ssha (a salted SHA-1 userPassword sent in the add)"},
		{name: "ldap attribute values equal", body: strings.TrimSuffix(ldapTgt, "  disable: {method: ppolicy}\n") + "  disable: {method: attribute, attribute: x, disabled_value: 'TRUE', enabled_value: 'true'}\n", env: map[string]string{"HRSYNC_TARGET_PASSWORD": "pw"}, want: "{file}:9: target.disable.enabled_value: must differ from disabled_value"},
		{name: "ldap url not ldap", body: strings.Replace(ldapTgt, "ldaps://ldap.example.org:636", "ldaps:///x", 1), env: map[string]string{"HRSYNC_TARGET_PASSWORD": "pw"}, want: "{file}:6: target.url: \"ldaps:///x\" is not ldaps://host:port or ldap://host:port"},
		// No config file: defaults, and the environment.
		{name: "no file", want: "config (no file; defaults): source.path: missing: name the HR export to read\nconfig (no file; defaults): mapping: missing: name the mapping file (see mappings/)\nconfig (no file; defaults): target.tenant_id: missing: set target.tenant_id or AZURE_TENANT_ID for auth client_secret\nconfig (no file; defaults): target.client_id: missing: set target.client_id or AZURE_CLIENT_ID for auth client_secret"},
		{name: "no file, env", env: map[string]string{"HRSYNC_SOURCE_PATH": "hr.csv", "HRSYNC_TARGET_TYPE": "sandbox", "HRSYNC_TARGET_STATE": ""}, want: "config (no file; defaults): mapping: missing: name the mapping file (see mappings/)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, got := loadPinned(t, tc, Options{FileExplicit: tc.file == "nope.yaml" || tc.body != "" && !tc.implicit})
			if got != tc.want {
				t.Errorf("error\n got: %q\nwant: %q", got, tc.want)
			}
			if strings.Contains(got, "S3cret") {
				t.Errorf("the password is in the error")
			}
		})
	}
}

// TestLoadValuesExact pins every field Load fills for configurations that
// load: values, defaults, normalisation and path resolution (file-given
// paths against the file's folder, flag- and env-given ones against the
// working directory, and no file at all).
func TestLoadValuesExact(t *testing.T) {
	tests := []struct {
		name  string
		tc    pinCase
		flags []string // --key=value, each key a config key's flag
		work  string   // Options.WorkDir; "{tmp}" for a fresh folder
		want  func(file, dir, wd string) Config
	}{
		{name: "entra, every key",
			tc: pinCase{body: `source:
  type: XLSX
  path: /data/hr.xlsx
  delimiter: '\t'
  sheet: Workers
  header_row: 2
mapping: maps/m.yaml
target:
  type: Entra
  tenant_id: contoso.com
  client_id: 00000000-0000-0000-0000-000000000001
  auth: Certificate
  graph_url: http://127.0.0.1:8080/
  state: st.json
  seed: seed.json
  concurrency: 16
timeout: 90m
policy:
  leavers: Ignore
  max_leavers: 0
  max_leavers_percent: 12.5%
  create_disabled: true
  max_creates: 10
  max_updates: 20
  max_source_drop_percent: 0
  prehire_days: 0
  prehire_account: ' Enabled '
  delete_after_days: 3
  leaver_remove_groups: true
  leaver_remove_licenses: true
  max_plan_age: 0s
  timezone: Europe/Berlin
`},
			want: func(file, dir, wd string) Config {
				return Config{File: file, Dir: dir,
					Source:  Source{Type: "xlsx", Path: "/data/hr.xlsx", Delimiter: "\t", Sheet: "Workers", HeaderRow: 2},
					Mapping: filepath.Join(dir, "maps/m.yaml"),
					Target: Target{Type: "entra", TenantID: "contoso.com", ClientID: "00000000-0000-0000-0000-000000000001", Auth: "certificate",
						GraphURL: "http://127.0.0.1:8080", State: filepath.Join(dir, "st.json"), Seed: filepath.Join(dir, "seed.json"), Concurrency: 16,
						Directory: Directory{StartTLS: true, LDAP: LDAPTarget{PasswordMethod: PasswordModify, RDNAttribute: "uid"}}},
					Policy: Policy{Leavers: "ignore", MaxLeaversPercent: 12.5, MaxCreates: 10, MaxUpdates: 20, CreateDisabled: true,
						PrehireAccount: "enabled", DeleteAfterDays: 3, LeaverRemoveGroups: true, LeaverRemoveLicenses: true, Timezone: "Europe/Berlin"},
					Timeout: 90 * time.Minute,
				}
			}},
		{name: "ldap target, password file, move",
			tc: pinCase{body: `source:
  type: ldap
  ldap: {url: 'ldap://127.0.0.1:3890', base_dn: 'ou=p,dc=x'}
mapping: m.yaml
target:
  type: LDAP
  url: ldap://127.0.0.1:389
  start_tls: false
  ca_file: ca/ca.pem
  bind_dn: cn=admin,dc=x
  base_dn: ou=p,dc=x
  password_file: pw.txt
  password_env: IGNORED_PW
  filter: (ou=staff)
  allow_delete: true
  people_dn: ou=p,dc=x
  groups_dn: ou=g,dc=x
  rdn_attribute: ' cn '
  password_method: ' SSHA '
  disable:
    method: ' Move '
    dn: ou=gone,dc=x
policy:
  delete_after_days: 30
`, env: map[string]string{"IGNORED_PW": "not this"}, files: map[string]string{"pw.txt": "se cret\n\r\n"}},
			want: func(file, dir, wd string) Config {
				return Config{File: file, Dir: dir,
					Source:  Source{Type: "ldap", Delimiter: "auto", LDAP: map[string]any{"url": "ldap://127.0.0.1:3890", "base_dn": "ou=p,dc=x"}},
					Mapping: filepath.Join(dir, "m.yaml"),
					Target: Target{Type: "ldap", Auth: AuthClientSecret, GraphURL: "https://graph.microsoft.com", State: filepath.Join(dir, ".hrsync/sandbox.json"), Concurrency: 4,
						Directory: Directory{URL: "ldap://127.0.0.1:389", CAFile: filepath.Join(dir, "ca/ca.pem"), BindDN: "cn=admin,dc=x", BaseDN: "ou=p,dc=x",
							Password: "se cret", PasswordFrom: "file " + filepath.Join(dir, "pw.txt"), Filter: "(ou=staff)", LeaversOU: "ou=gone,dc=x", AllowDelete: true,
							LDAP: LDAPTarget{PeopleDN: "ou=p,dc=x", GroupsDN: "ou=g,dc=x", RDNAttribute: "cn", PasswordMethod: PasswordSSHA,
								Disable: LDAPDisable{Method: DisableMove, DN: "ou=gone,dc=x"}}}},
					Policy:  Policy{Leavers: "disable", MaxLeavers: 100, MaxLeaversPercent: 20, MaxSourceDropPercent: 20, PrehireDays: 7, PrehireAccount: "disabled", DeleteAfterDays: 30, MaxPlanAge: 72 * time.Hour},
					Timeout: 6 * time.Hour,
				}
			}},
		{name: "rest source, flags and env over the file",
			tc: pinCase{body: `source:
  type: rest
  rest:
    URL: https://x.example/r
    Fields: {WorkerID: ID}
mapping: m.yaml
target:
  type: sandbox
  state: from-file.json
policy:
  max_leavers: 5
`, env: map[string]string{"HRSYNC_POLICY_MAX_LEAVERS": "7", "HRSYNC_TARGET_SEED": "seed/s.json", "HRSYNC_MAPPING": "env.yaml"}},
			flags: []string{"--mapping=flag.yaml", "--target-state=st/flag.json", "--timeout=1h"},
			want: func(file, dir, wd string) Config {
				return Config{File: file, Dir: dir,
					Source: Source{Type: "rest", Delimiter: "auto", RESTWhere: file + ":4",
						REST: map[string]any{"URL": "https://x.example/r", "Fields": map[string]any{"WorkerID": "ID"}}},
					Mapping: filepath.Join(wd, "flag.yaml"),
					Target: Target{Type: "sandbox", Auth: AuthClientSecret, GraphURL: "https://graph.microsoft.com", State: filepath.Join(wd, "st/flag.json"), Seed: filepath.Join(wd, "seed/s.json"), Concurrency: 4,
						Directory: Directory{StartTLS: true, LDAP: LDAPTarget{PasswordMethod: PasswordModify, RDNAttribute: "uid"}}},
					Policy:  Policy{Leavers: "disable", MaxLeavers: 7, MaxLeaversPercent: 20, MaxSourceDropPercent: 20, PrehireDays: 7, PrehireAccount: "disabled", MaxPlanAge: 72 * time.Hour},
					Timeout: time.Hour,
				}
			}},
		{name: "no file, WorkDir",
			tc:   pinCase{env: map[string]string{"HRSYNC_SOURCE_PATH": "hr.csv", "HRSYNC_MAPPING": "/m.yaml", "HRSYNC_TARGET_TYPE": "sandbox"}},
			work: "{tmp}",
			want: func(file, dir, wd string) Config {
				return envOnly(dir, wd)
			}},
		{name: "no file, working directory",
			tc: pinCase{env: map[string]string{"HRSYNC_SOURCE_PATH": "hr.csv", "HRSYNC_MAPPING": "/m.yaml", "HRSYNC_TARGET_TYPE": "sandbox"}},
			want: func(file, dir, wd string) Config {
				return envOnly(wd, wd)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{FileExplicit: tt.tc.body != ""}
			if tt.work == "{tmp}" {
				opts.WorkDir = t.TempDir()
			}
			if len(tt.flags) > 0 {
				opts.Flags = pflag.NewFlagSet("t", pflag.ContinueOnError)
				for _, k := range Keys() {
					opts.Flags.String(FlagName(k), "", "")
				}
				if err := opts.Flags.Parse(tt.flags); err != nil {
					t.Fatal(err)
				}
			}
			cfg, err := loadPinned(t, tt.tc, opts)
			if err != "" {
				t.Fatalf("err = %s", err)
			}
			wd, _ := os.Getwd()
			dir := opts.WorkDir
			if cfg.File != "" {
				dir = filepath.Dir(cfg.File)
			}
			want := tt.want(cfg.File, dir, wd)
			if tt.tc.body != "" {
				want.Raw = []byte(tt.tc.body)
			}
			got := *cfg
			got.loc = locator{}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("config\n got: %#v\nwant: %#v", got, want)
			}
		})
	}
}

// envOnly is the configuration the environment alone gives (source
// hr.csv, mapping /m.yaml, a sandbox target) with the defaults, run from
// wd with dir as the configuration's folder.
func envOnly(dir, wd string) Config {
	return Config{Dir: dir,
		Source:  Source{Type: "csv", Path: filepath.Join(wd, "hr.csv"), Delimiter: "auto"},
		Mapping: "/m.yaml",
		Target: Target{Type: "sandbox", Auth: AuthClientSecret, GraphURL: "https://graph.microsoft.com", State: filepath.Join(dir, ".hrsync/sandbox.json"), Concurrency: 4,
			Directory: Directory{StartTLS: true, LDAP: LDAPTarget{PasswordMethod: PasswordModify, RDNAttribute: "uid"}}},
		Policy:  Policy{Leavers: "disable", MaxLeavers: 100, MaxLeaversPercent: 20, MaxSourceDropPercent: 20, PrehireDays: 7, PrehireAccount: "disabled", MaxPlanAge: 72 * time.Hour},
		Timeout: 6 * time.Hour,
	}
}
