// Package config loads and validates hrsync's configuration: flags override
// HRSYNC_* environment variables, which override the config file, which
// overrides the defaults. Validation errors name the file and line.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/hrsync/hrsync/internal/guid"
	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/loopback"
	"github.com/hrsync/hrsync/internal/suggest"
	"github.com/hrsync/hrsync/internal/yamlline"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
	"gopkg.in/yaml.v3"
)

// Config is the whole, validated configuration of one hrsync run.
type Config struct {
	// File is the absolute path of the config file, "" when none was read.
	File string
	// Dir is the folder relative paths resolve against: the config file's
	// folder, or the working directory when there is no file.
	Dir     string
	Source  Source
	Mapping string // absolute path of the mapping file
	Target  Target
	Policy  Policy
	// Timeout bounds a whole run (plan or apply), retries and throttling
	// waits included. An apply that reaches it stops like Ctrl-C: what was
	// sent finishes, the rest is reported not started, and a re-run
	// converges.
	Timeout time.Duration
	// Raw is the config file's bytes, for the plan's digest.
	Raw []byte
	// loc says where each key's value came from (see Where).
	loc locator
	// passwordUnread says target.password_file could not be read (an
	// error already says so).
	passwordUnread bool
}

// Source configures where workers are read from.
type Source struct {
	Type      string
	Path      string // absolute (csv, xlsx)
	Delimiter string // csv
	// Sheet (name or 1-based index) and HeaderRow (1-based; 0: the first
	// non-empty row) locate the data in a workbook.
	Sheet     string
	HeaderRow int
	// REST is the source.rest settings as written (keys keep their case);
	// package source/rest validates them. RESTWhere locates them.
	REST      map[string]any
	RESTWhere string
	// LDAP is the source.ldap settings as written (keys keep their case);
	// package source/ldap validates them, naming each key's line (see
	// Config.Where).
	LDAP map[string]any
}

// Target configures the directory to sync into.
type Target struct {
	Type     string // entra | sandbox | active_directory
	TenantID string
	ClientID string
	Auth     string
	GraphURL string
	State    string // sandbox: absolute path of the state file
	Seed     string // sandbox: absolute path of a seed state used when State does not exist yet
	// Concurrency is how many $batch requests are in flight at once.
	Concurrency int
	// Directory is the connection to an LDAP directory (Active Directory).
	Directory Directory
}

// Directory configures the connection to an LDAP directory.
type Directory struct {
	// URL is ldaps://host:636 or ldap://host:389 (then StartTLS).
	URL string
	// StartTLS is on for ldap:// unless turned off, which is allowed only
	// to a loopback address.
	StartTLS bool
	// CAFile is the absolute path of a PEM file of the CA that signed the
	// server's certificate ("" for the system's roots).
	CAFile string
	// BindDN is a DN or user@domain; BaseDN is where users are read.
	BindDN, BaseDN string
	// Password is the bind password, read from the environment variable
	// PasswordEnv or the file PasswordFile, never from the config file. It
	// is never logged or shown.
	Password string
	// PasswordFrom says where the password came from, for messages.
	PasswordFrom string
	// Filter narrows the users read (an LDAP filter ANDed with the
	// directory's user filter); "" for none.
	Filter string
	// LeaversOU, when set, is where disabled leavers are moved.
	LeaversOU string
	// AllowDelete allows policy.delete_after_days to delete users (Active
	// Directory: a delete without the Recycle Bin cannot be undone).
	AllowDelete bool
	// LDAP holds what only an LDAP directory target (type ldap) has.
	LDAP LDAPTarget
}

// LDAPTarget configures an LDAP directory (OpenLDAP, 389 DS) as a target.
type LDAPTarget struct {
	// PeopleDN is where joiners are created when the mapping gives no
	// parentDistinguishedName ("": BaseDN).
	PeopleDN string
	// GroupsDN is where groups named by cn are looked up ("": the naming
	// context holding BaseDN).
	GroupsDN string
	// Disable is how an account is disabled.
	Disable LDAPDisable
	// RDNAttribute names entries: uid (uid=<uid>,<branch>, the default) or
	// cn.
	RDNAttribute string
	// PasswordMethod sets the initial password: password_modify (the
	// RFC 3062 extended operation; the server hashes it) or ssha (a salted
	// SHA-1 userPassword in the add).
	PasswordMethod string
}

// Disable methods of an LDAP directory target.
const (
	DisablePPolicy   = "ppolicy"
	DisableMove      = "move"
	DisableAttribute = "attribute"
)

// Password methods of an LDAP directory target.
const (
	PasswordModify = "password_modify"
	PasswordSSHA   = "ssha"
)

// LDAPDisable says how an LDAP directory target disables accounts.
type LDAPDisable struct {
	// Method is ppolicy (pwdAccountLockedTime 000001010000Z), move (to DN)
	// or attribute (Attribute set to DisabledValue / EnabledValue).
	Method string
	// DN is the branch disabled entries are moved to (move).
	DN string
	// PolicyDN, when set (ppolicy), is a pwdPolicy entry with pwdLockout
	// TRUE that hrsync checks and gives the users it creates
	// (pwdPolicySubentry).
	PolicyDN string
	// Attribute, EnabledValue and DisabledValue are the status attribute
	// and its values (attribute); an empty EnabledValue removes it.
	Attribute, EnabledValue, DisabledValue string
}

// Policy configures what hrsync may do.
type Policy struct {
	Leavers string // disable | ignore
	// MaxLeavers blocks a plan that would disable more users than this.
	MaxLeavers int
	// MaxLeaversPercent blocks a plan that would disable more than this share
	// of the managed users, once more than plan.LeaverPercentFloor would leave.
	MaxLeaversPercent float64
	// MaxCreates and MaxUpdates block plans with more creates or updates
	// (0: no limit); MaxSourceDropPercent blocks a plan whose source holds
	// this share fewer records than the managed users (0: off).
	MaxCreates           int
	MaxUpdates           int
	MaxSourceDropPercent float64
	// CreateDisabled also creates accounts for records whose mapping says
	// the account is disabled (e.g. inactive workers who never had one).
	CreateDisabled bool
	// PrehireDays: a joiner with a hire date (the mapped employeeHireDate)
	// is created this many days before it, not earlier; PrehireAccount
	// says whether the account is "disabled" until the hire date or
	// "enabled" at once.
	PrehireDays    int
	PrehireAccount string
	// DeleteAfterDays soft-deletes a disabled leaver this many days after
	// its leave date (employeeLeaveDateTime); 0 never deletes.
	DeleteAfterDays int
	// LeaverRemoveGroups and LeaverRemoveLicenses take leavers out of the
	// groups and licenses the mapping's rules manage.
	LeaverRemoveGroups   bool
	LeaverRemoveLicenses bool
	// MaxPlanAge is how old a saved plan may be when applied (0: any age):
	// the dates it was decided by (hire, leave, grace periods) move on.
	MaxPlanAge time.Duration
	// Timezone is the IANA time zone HR's plain dates are days in; "" is
	// UTC.
	Timezone string
}

// Auth methods.
const (
	AuthClientSecret     = "client_secret"
	AuthCertificate      = "certificate"
	AuthWorkloadIdentity = "workload_identity"
	AuthManagedIdentity  = "managed_identity"
	AuthAzureCLI         = "azure_cli"
	AuthAccessToken      = "access_token"
)

// defaults lists every key hrsync knows, with its default; viper only maps
// HRSYNC_* variables onto keys it knows.
var defaults = map[string]any{
	"source.type":                    "csv",
	"source.path":                    "",
	"source.delimiter":               "auto",
	"source.sheet":                   "",
	"source.header_row":              0,
	"source.rest":                    map[string]any{},
	"source.ldap":                    map[string]any{},
	"mapping":                        "",
	"target.type":                    "entra",
	"target.tenant_id":               "",
	"target.client_id":               "",
	"target.auth":                    AuthClientSecret,
	"target.graph_url":               "https://graph.microsoft.com",
	"target.state":                   ".hrsync/sandbox.json",
	"target.seed":                    "",
	"target.concurrency":             4,
	"target.url":                     "",
	"target.start_tls":               true,
	"target.ca_file":                 "",
	"target.bind_dn":                 "",
	"target.base_dn":                 "",
	"target.password_env":            "HRSYNC_TARGET_PASSWORD",
	"target.password_file":           "",
	"target.filter":                  "",
	"target.leavers_ou":              "",
	"target.allow_delete":            false,
	"target.people_dn":               "",
	"target.groups_dn":               "",
	"target.password_method":         PasswordModify,
	"target.rdn_attribute":           "uid",
	"target.disable.method":          "",
	"target.disable.dn":              "",
	"target.disable.policy_dn":       "",
	"target.disable.attribute":       "",
	"target.disable.enabled_value":   "",
	"target.disable.disabled_value":  "",
	"timeout":                        "6h",
	"policy.leavers":                 "disable",
	"policy.max_leavers":             100,
	"policy.max_leavers_percent":     20.0,
	"policy.create_disabled":         false,
	"policy.max_creates":             0,
	"policy.max_updates":             0,
	"policy.max_source_drop_percent": 20.0,
	"policy.prehire_days":            7,
	"policy.prehire_account":         "disabled",
	"policy.delete_after_days":       0,
	"policy.leaver_remove_groups":    false,
	"policy.leaver_remove_licenses":  false,
	"policy.max_plan_age":            "72h",
	"policy.timezone":                "",
}

// Keys lists every configuration key, sorted.
func Keys() []string {
	keys := make([]string, 0, len(defaults))
	for k := range defaults {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Options says where to load the configuration from.
type Options struct {
	// File is the config file; "" means ./hrsync.yaml if it exists.
	File string
	// FileExplicit says File was named by the user, so it must exist.
	FileExplicit bool
	// Flags are bound over env and file: a flag named like a key with dots
	// and underscores as dashes (e.g. --target-graph-url) overrides it.
	Flags *pflag.FlagSet
	// WorkDir is used when there is no config file; "" means os.Getwd.
	WorkDir string
}

// FlagName is the command-line flag that overrides a config key.
func FlagName(key string) string {
	return strings.NewReplacer(".", "-", "_", "-").Replace(key)
}

// Load reads, merges and validates the configuration.
func Load(opts Options) (*Config, error) {
	v := newViper()
	cfg, doc, err := readFile(v, opts)
	if err != nil {
		return nil, err
	}
	if err := bindFlags(v, opts.Flags); err != nil {
		return nil, err
	}
	cfg.loc = locator{file: cfg.File, doc: doc, getenv: os.Getenv, flags: opts.Flags}
	if err := cfg.readSource(v, doc); err != nil {
		return nil, err
	}
	cfg.Mapping = v.GetString("mapping")
	cfg.Target = readTarget(v)
	cfg.Policy.Leavers = strings.ToLower(v.GetString("policy.leavers"))
	cfg.Policy.PrehireAccount = strings.ToLower(strings.TrimSpace(v.GetString("policy.prehire_account")))
	errs := cfg.readTyped(v)
	if err := cfg.readDirectoryPassword(v); err != nil {
		errs = append(errs, err)
	}
	if err := cfg.validate(cfg.loc); err != nil || len(errs) > 0 {
		return nil, errors.Join(append(errs, err)...)
	}
	return cfg, nil
}

// newViper returns a viper that knows every key with its default and maps
// HRSYNC_* environment variables onto them (HRSYNC_TARGET_GRAPH_URL for
// target.graph_url): the environment overrides the file and the defaults.
func newViper() *viper.Viper {
	v := viper.New()
	for k, d := range defaults {
		v.SetDefault(k, d)
	}
	v.SetEnvPrefix("HRSYNC")
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	return v
}

// readFile reads the config file (opts.File, or ./hrsync.yaml when none is
// named) into v and returns a Config holding its path, folder and bytes,
// and the file's YAML document for locating keys. A file that does not
// exist is an error only when opts.FileExplicit; otherwise the Config's
// folder is the working directory (see workDir) and the document nil.
func readFile(v *viper.Viper, opts Options) (*Config, *yaml.Node, error) {
	file := opts.File
	if file == "" {
		file = "hrsync.yaml"
	}
	data, err := os.ReadFile(file)
	if err != nil {
		if opts.FileExplicit || !errors.Is(err, os.ErrNotExist) {
			return nil, nil, fmt.Errorf("read config %s: %w (pass the config file with -c)", file, err)
		}
		dir, err := workDir(opts)
		if err != nil {
			return nil, nil, err
		}
		return &Config{Dir: dir}, nil, nil
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, nil, fmt.Errorf("config %s: %w", file, err)
	}
	cfg := &Config{File: abs, Dir: filepath.Dir(abs), Raw: data}
	doc, err := parseFile(file, data)
	if err != nil {
		return nil, nil, err
	}
	v.SetConfigType("yaml")
	if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
		return nil, nil, fmt.Errorf("config %s: %w", file, err)
	}
	return cfg, doc, nil
}

// workDir is the folder relative paths resolve against when there is no
// config file: opts.WorkDir, or the working directory.
func workDir(opts Options) (string, error) {
	if opts.WorkDir != "" {
		return opts.WorkDir, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("working directory: %w", err)
	}
	return dir, nil
}

// bindFlags binds each flag of flags named after a key (see FlagName) to
// that key, so that a flag given overrides the environment and the file.
// flags may be nil.
func bindFlags(v *viper.Viper, flags *pflag.FlagSet) error {
	if flags == nil {
		return nil
	}
	for k := range defaults {
		if f := flags.Lookup(FlagName(k)); f != nil {
			if err := v.BindPFlag(k, f); err != nil {
				return fmt.Errorf("bind flag --%s: %w", f.Name, err)
			}
		}
	}
	return nil
}

// readSource fills c.Source's settings from v, and source.rest and
// source.ldap from the file's document, which must hold them as mappings.
func (c *Config) readSource(v *viper.Viper, doc *yaml.Node) error {
	c.Source = Source{
		Type:      strings.ToLower(v.GetString("source.type")),
		Path:      v.GetString("source.path"),
		Delimiter: v.GetString("source.delimiter"),
		Sheet:     v.GetString("source.sheet"),
	}
	// Both sections are decoded from the file itself: viper would
	// lower-case the keys, and column names, header names and attribute
	// names keep their case.
	if n := find(doc, []string{"source", "rest"}); n != nil {
		if !decodeSettings(n, &c.Source.REST) {
			return fmt.Errorf("%s:%d: source.rest: expected settings (url, records, fields, paging, auth ...)", c.File, n.Line)
		}
		c.Source.RESTWhere = fmt.Sprintf("%s:%d", c.File, n.Line)
	}
	if n := find(doc, []string{"source", "ldap"}); n != nil {
		if !decodeSettings(n, &c.Source.LDAP) {
			return fmt.Errorf("%s:%d: source.ldap: expected settings (url, base_dn, filter, attributes ...)", c.File, n.Line)
		}
	}
	return nil
}

// decodeSettings decodes n, a section of the file, into dst as written,
// keys keeping their case, and reports whether n is a mapping that
// decodes.
func decodeSettings(n *yaml.Node, dst *map[string]any) bool {
	err := n.Decode(dst)
	return err == nil && n.Kind == yaml.MappingNode
}

// readTarget returns the target's plain settings from v; its typed ones
// (concurrency, start_tls, allow_delete) and the bind password are read
// later.
func readTarget(v *viper.Viper) Target {
	return Target{
		Type:      strings.ToLower(v.GetString("target.type")),
		TenantID:  v.GetString("target.tenant_id"),
		ClientID:  v.GetString("target.client_id"),
		Auth:      strings.ToLower(v.GetString("target.auth")),
		GraphURL:  strings.TrimRight(v.GetString("target.graph_url"), "/"),
		State:     v.GetString("target.state"),
		Seed:      v.GetString("target.seed"),
		Directory: readDirectory(v),
	}
}

// readDirectory returns an LDAP directory target's plain settings from v.
func readDirectory(v *viper.Viper) Directory {
	return Directory{
		URL: v.GetString("target.url"), CAFile: v.GetString("target.ca_file"),
		BindDN: v.GetString("target.bind_dn"), BaseDN: v.GetString("target.base_dn"),
		Filter: v.GetString("target.filter"), LeaversOU: v.GetString("target.leavers_ou"),
		LDAP: LDAPTarget{
			PeopleDN: v.GetString("target.people_dn"), GroupsDN: v.GetString("target.groups_dn"),
			PasswordMethod: strings.ToLower(strings.TrimSpace(v.GetString("target.password_method"))),
			RDNAttribute:   strings.TrimSpace(v.GetString("target.rdn_attribute")),
			Disable: LDAPDisable{
				Method: strings.ToLower(strings.TrimSpace(v.GetString("target.disable.method"))),
				DN:     v.GetString("target.disable.dn"), PolicyDN: v.GetString("target.disable.policy_dn"),
				Attribute: v.GetString("target.disable.attribute"), EnabledValue: v.GetString("target.disable.enabled_value"),
				DisabledValue: v.GetString("target.disable.disabled_value"),
			},
		},
	}
}

// readDirectoryPassword reads the bind password of a directory target
// (active_directory, ldap; other targets have none) from where
// target.password_file or target.password_env point, never from the file.
func (c *Config) readDirectoryPassword(v *viper.Viper) error {
	if c.Target.Type != "active_directory" && c.Target.Type != "ldap" {
		return nil
	}
	return c.readPassword(c.loc, v.GetString("target.password_env"), v.GetString("target.password_file"))
}

// typedKeys parses the values of keys that have a type (numbers, booleans,
// durations, a time zone), collecting an error for each that does not
// parse: "max_leavers: ten" silently read as 0 would switch the leaver
// limit off.
type typedKeys struct {
	v    *viper.Viper
	loc  locator
	errs []error
}

// parse calls parse with key's value, spaces trimmed; parse stores the
// value or says what the value should be. The error names where the value
// was set, the key and the value as given.
func (t *typedKeys) parse(key string, parse func(string) error) {
	raw := fmt.Sprint(t.v.Get(key))
	if err := parse(strings.TrimSpace(raw)); err != nil {
		t.errs = append(t.errs, fmt.Errorf("%s: %s: %q is not %v", t.loc.where(key), key, raw, err))
	}
}

// boolKey is a key read as true or false, and where it goes.
type boolKey struct {
	key string
	dst *bool
}

// bools parses each key as true or false into its destination, in order.
func (t *typedKeys) bools(keys ...boolKey) {
	for _, k := range keys {
		dst := k.dst
		t.parse(k.key, func(s string) (err error) {
			if *dst, err = strconv.ParseBool(s); err != nil {
				return errors.New("true or false")
			}
			return nil
		})
	}
}

// readTyped fills c's typed settings from v and returns the errors of
// those that do not parse. The keys are read in a fixed order, which is
// the order their errors are shown in.
func (c *Config) readTyped(v *viper.Viper) []error {
	t := &typedKeys{v: v, loc: c.loc}
	c.readLeaverLimits(t)
	c.readSourceTargetAndTimeout(t)
	c.readPolicyCounts(t)
	c.readPolicyOptions(t)
	return t.errs
}

// readLeaverLimits reads policy.max_leavers and policy.max_leavers_percent
// (validate checks their range).
func (c *Config) readLeaverLimits(t *typedKeys) {
	t.parse("policy.max_leavers", func(s string) (err error) {
		if c.Policy.MaxLeavers, err = strconv.Atoi(s); err != nil {
			return errors.New("a whole number")
		}
		return nil
	})
	t.parse("policy.max_leavers_percent", func(s string) (err error) {
		if c.Policy.MaxLeaversPercent, err = strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64); err != nil {
			return errors.New("a number")
		}
		return nil
	})
}

// readSourceTargetAndTimeout reads source.header_row, target.start_tls,
// target.allow_delete, target.concurrency and timeout.
func (c *Config) readSourceTargetAndTimeout(t *typedKeys) {
	t.parse("source.header_row", func(s string) (err error) {
		if c.Source.HeaderRow, err = strconv.Atoi(s); err != nil || c.Source.HeaderRow < 0 {
			return errors.New("a row number (1 for the first row; 0 for the first non-empty row)")
		}
		return nil
	})
	t.bools(boolKey{"target.start_tls", &c.Target.Directory.StartTLS}, boolKey{"target.allow_delete", &c.Target.Directory.AllowDelete})
	t.parse("target.concurrency", func(s string) (err error) {
		if c.Target.Concurrency, err = strconv.Atoi(s); err != nil || c.Target.Concurrency < 1 || c.Target.Concurrency > 16 {
			return errors.New("a whole number from 1 to 16 ($batch requests in flight; a few reach Graph's write limit)")
		}
		return nil
	})
	t.parse("timeout", func(s string) (err error) {
		if c.Timeout, err = time.ParseDuration(s); err != nil || c.Timeout <= 0 {
			return errors.New("a positive duration such as 90m or 6h")
		}
		return nil
	})
}

// readPolicyCounts reads policy.max_creates, policy.max_updates,
// policy.prehire_days, policy.max_plan_age and policy.delete_after_days.
func (c *Config) readPolicyCounts(t *typedKeys) {
	for _, k := range []struct {
		key string
		dst *int
	}{{"policy.max_creates", &c.Policy.MaxCreates}, {"policy.max_updates", &c.Policy.MaxUpdates}} {
		dst := k.dst
		t.parse(k.key, func(s string) (err error) {
			if *dst, err = strconv.Atoi(s); err != nil || *dst < 0 {
				return errors.New("a whole number, 0 or more (0: no limit)")
			}
			return nil
		})
	}
	t.parse("policy.prehire_days", func(s string) (err error) {
		if c.Policy.PrehireDays, err = strconv.Atoi(s); err != nil || c.Policy.PrehireDays < 0 || c.Policy.PrehireDays > 365 {
			return errors.New("a whole number of days from 0 (create on the hire date) to 365")
		}
		return nil
	})
	t.parse("policy.max_plan_age", func(s string) (err error) {
		if c.Policy.MaxPlanAge, err = time.ParseDuration(s); err != nil || c.Policy.MaxPlanAge < 0 {
			return errors.New("a duration such as 24h or 72h (0: plans of any age)")
		}
		return nil
	})
	t.parse("policy.delete_after_days", func(s string) (err error) {
		if c.Policy.DeleteAfterDays, err = strconv.Atoi(s); err != nil || c.Policy.DeleteAfterDays < 0 {
			return errors.New("a whole number of days, 0 or more (0: never delete)")
		}
		return nil
	})
}

// readPolicyOptions reads policy.timezone, policy.leaver_remove_groups,
// policy.leaver_remove_licenses, policy.max_source_drop_percent and
// policy.create_disabled.
func (c *Config) readPolicyOptions(t *typedKeys) {
	t.parse("policy.timezone", func(s string) error {
		if s == "" || s == "<nil>" {
			return nil
		}
		if _, err := time.LoadLocation(s); err != nil || strings.EqualFold(s, "Local") {
			return errors.New("an IANA time zone such as Europe/Berlin or America/New_York (not Local: a plan must not depend on the machine it runs on)")
		}
		c.Policy.Timezone = s
		return nil
	})
	t.bools(boolKey{"policy.leaver_remove_groups", &c.Policy.LeaverRemoveGroups}, boolKey{"policy.leaver_remove_licenses", &c.Policy.LeaverRemoveLicenses})
	t.parse("policy.max_source_drop_percent", func(s string) (err error) {
		v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
		if err != nil || v < 0 || v > 100 {
			return errors.New("a percentage from 0 (off) to 100")
		}
		c.Policy.MaxSourceDropPercent = v
		return nil
	})
	t.parse("policy.create_disabled", func(s string) (err error) {
		if c.Policy.CreateDisabled, err = strconv.ParseBool(s); err != nil {
			return errors.New("true or false")
		}
		return nil
	})
}

// Where says where the value of a key (dotted, e.g. target.url or
// source.ldap.base_dn) was set, for error messages: "file:line", "flag
// --x" or "environment HRSYNC_X". A key inside a section decoded as
// written (source.rest, source.ldap) is located by its own line, lists
// included (source.ldap.attributes.2); a key the file lacks by its
// nearest enclosing key.
func (c *Config) Where(key string) string {
	if c == nil {
		return "config"
	}
	if c.loc.doc == nil || c.loc.file == "" {
		if c.File != "" {
			return c.File
		}
		return "config"
	}
	if w := c.loc.where(key); strings.HasPrefix(w, "flag ") || strings.HasPrefix(w, "environment ") {
		return w
	}
	if line := deepestLine(c.loc.doc, strings.Split(key, ".")); line > 0 {
		return fmt.Sprintf("%s:%d", c.loc.file, line)
	}
	return c.loc.file
}

// deepestLine follows path through mappings (by key) and sequences (by
// index) and returns the line of the deepest key or item it reaches (0 for
// none).
func deepestLine(n *yaml.Node, path []string) int {
	line := 0
	for _, p := range path {
		var next *yaml.Node
		switch {
		case n == nil:
		case n.Kind == yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == p {
					next, line = n.Content[i+1], n.Content[i].Line
				}
			}
		case n.Kind == yaml.SequenceNode:
			if i, err := strconv.Atoi(p); err == nil && i >= 0 && i < len(n.Content) {
				next, line = n.Content[i], n.Content[i].Line
			}
		}
		if next == nil {
			break
		}
		n = next
	}
	return line
}

// absFor resolves a relative path: against the config file's folder when
// the file gave it, against the working directory when a flag or an
// environment variable did (as whoever typed it expects).
func (c *Config) absFor(loc locator, key, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	if w := loc.where(key); strings.HasPrefix(w, "flag ") || strings.HasPrefix(w, "environment ") {
		if abs, err := filepath.Abs(p); err == nil {
			return abs
		}
	}
	return filepath.Join(c.Dir, p)
}

// badFunc records a problem with the value of key: format and args say
// what is wrong; where the value was set and the key are put before it.
type badFunc func(key, format string, args ...any)

// validate checks the loaded settings section by section and reports keys
// in the file that hrsync does not know, returning every problem found,
// joined. When there is none, it resolves the relative paths.
func (c *Config) validate(loc locator) error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s: %s", loc.where(key), key, fmt.Sprintf(format, args...)))
	}
	c.validateSource(bad)
	if c.Mapping == "" {
		bad("mapping", "missing: name the mapping file (see mappings/)")
	}
	c.validateTarget(loc, bad)
	c.validatePolicy(bad)
	errs = append(errs, loc.unknownKeys()...)
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	c.resolvePaths(loc)
	return nil
}

// validateSource checks the source type and what it needs, and the CSV
// delimiter, turning a written `\t` into a tab.
func (c *Config) validateSource(bad badFunc) {
	switch c.Source.Type {
	case "csv", "xlsx":
		if c.Source.Path == "" {
			bad("source.path", "missing: name the HR export to read")
		}
	case "rest":
		if len(c.Source.REST) == 0 {
			bad("source.rest", "missing: a rest source needs its settings (preset or url, records, auth ...)")
		}
	case "ldap":
		if len(c.Source.LDAP) == 0 {
			bad("source.ldap", "missing: an ldap source needs its settings (url, base_dn, and a preset or filter and attributes)")
		}
	default:
		bad("source.type", "unknown source type %q; use csv, xlsx, rest or ldap", c.Source.Type)
	}
	switch c.Source.Delimiter {
	case "", "auto", ",", ";", "\t", "|", "tab", "comma", "semicolon", "pipe", `\t`:
		if c.Source.Delimiter == `\t` {
			c.Source.Delimiter = "\t"
		}
	default:
		bad("source.delimiter", "%q is not one of auto, \",\", \";\", \"\\t\", \"|\"", c.Source.Delimiter)
	}
}

// validateTarget checks the target type and what it needs.
func (c *Config) validateTarget(loc locator, bad badFunc) {
	switch c.Target.Type {
	case "entra":
		c.validateEntra(loc, bad)
	case "sandbox":
		if c.Target.State == "" {
			bad("target.state", "missing: name the sandbox state file")
		}
	case "active_directory":
		c.validateDirectory(loc, bad)
	case "ldap":
		c.validateDirectory(loc, bad)
		c.validateLDAPTarget(loc, bad)
	default:
		bad("target.type", "unknown target type %q; use entra, sandbox, active_directory or ldap", c.Target.Type)
	}
}

// validateEntra checks an Entra target: the Graph endpoint, the form of the
// tenant and client ids, and the auth method and the ids it needs.
func (c *Config) validateEntra(loc locator, bad badFunc) {
	if err := checkGraphURL(c.Target.GraphURL); err != nil {
		bad("target.graph_url", "%v", err)
	}
	c.checkTenantAndClient(loc, bad)
	switch c.Target.Auth {
	case AuthClientSecret, AuthCertificate, AuthWorkloadIdentity:
		// tenant and client may also come from AZURE_TENANT_ID / AZURE_CLIENT_ID
		if c.Target.TenantID == "" && loc.getenv("AZURE_TENANT_ID") == "" {
			bad("target.tenant_id", "missing: set target.tenant_id or AZURE_TENANT_ID for auth %s", c.Target.Auth)
		}
		if c.Target.ClientID == "" && loc.getenv("AZURE_CLIENT_ID") == "" {
			bad("target.client_id", "missing: set target.client_id or AZURE_CLIENT_ID for auth %s", c.Target.Auth)
		}
	case AuthManagedIdentity, AuthAzureCLI, AuthAccessToken:
	default:
		bad("target.auth", "unknown auth method %q; use one of client_secret, certificate, workload_identity, managed_identity, azure_cli, access_token", c.Target.Auth)
	}
}

// validatePolicy checks the leaver policy, the pre-hire account state and
// the leaver limits.
func (c *Config) validatePolicy(bad badFunc) {
	switch c.Policy.Leavers {
	case "disable", "ignore":
	case "delete":
		bad("policy.leavers", "delete is not supported yet; use disable or ignore")
	default:
		bad("policy.leavers", "unknown leaver policy %q; use disable or ignore", c.Policy.Leavers)
	}
	switch c.Policy.PrehireAccount {
	case "disabled", "enabled":
	default:
		bad("policy.prehire_account", "unknown value %q; use disabled (enabled on the hire date) or enabled", c.Policy.PrehireAccount)
	}
	if c.Policy.MaxLeavers < 0 {
		bad("policy.max_leavers", "must be 0 or more")
	}
	if c.Policy.MaxLeaversPercent < 0 || c.Policy.MaxLeaversPercent > 100 {
		bad("policy.max_leavers_percent", "must be between 0 and 100")
	}
}

// resolvePaths makes the source, mapping, state, seed and CA file paths
// absolute (see absFor).
func (c *Config) resolvePaths(loc locator) {
	c.Source.Path = c.absFor(loc, "source.path", c.Source.Path)
	c.Mapping = c.absFor(loc, "mapping", c.Mapping)
	c.Target.State = c.absFor(loc, "target.state", c.Target.State)
	c.Target.Seed = c.absFor(loc, "target.seed", c.Target.Seed)
	if c.Target.Directory.CAFile != "" {
		c.Target.Directory.CAFile = c.absFor(loc, "target.ca_file", c.Target.Directory.CAFile)
	}
}

// readPassword reads a directory's bind password from the file named by
// target.password_file (its last line ending dropped) or the environment
// variable named by target.password_env, never from the config file.
func (c *Config) readPassword(loc locator, env, file string) error {
	d := &c.Target.Directory
	if file == "" {
		d.Password, d.PasswordFrom = loc.getenv(env), env
		return nil
	}
	path := c.absFor(loc, "target.password_file", file)
	data, err := os.ReadFile(path)
	if err != nil {
		c.passwordUnread = true
		return fmt.Errorf("%s: target.password_file: %w", loc.where("target.password_file"), err)
	}
	d.Password, d.PasswordFrom = strings.TrimRight(string(data), "\r\n"), "file "+path
	return nil
}

// validateDirectory checks an LDAP directory target's connection.
func (c *Config) validateDirectory(loc locator, bad badFunc) {
	d := &c.Target.Directory
	u, err := url.Parse(d.URL)
	switch {
	case d.URL == "":
		bad("target.url", "missing: e.g. ldaps://dc1.contoso.com:636")
	case err != nil || u.Host == "" || (u.Scheme != "ldaps" && u.Scheme != "ldap"):
		bad("target.url", "%q is not ldaps://host:port or ldap://host:port", d.URL)
	case u.Scheme == "ldap" && !d.StartTLS && !loopback.IsLoopback(u.Hostname()):
		bad("target.start_tls", "false is allowed only for a directory on this machine (127.0.0.1, ::1, localhost): the bind password would cross the network in clear text")
	}
	if d.BaseDN == "" {
		bad("target.base_dn", "missing: the DN users are read below, e.g. DC=contoso,DC=com")
	}
	if d.BindDN == "" {
		bad("target.bind_dn", "missing: the account hrsync binds as, a DN or user@domain")
	}
	if c.Policy.DeleteAfterDays > 0 && !d.AllowDelete {
		if c.Target.Type == "ldap" {
			bad("policy.delete_after_days", "deleting users in an LDAP directory needs target.allow_delete: true as well (a deleted entry cannot be restored: its entryUUID is gone)")
		} else {
			bad("policy.delete_after_days", "deleting users in Active Directory needs target.allow_delete: true as well (without the AD Recycle Bin a delete cannot be undone with the user's attributes)")
		}
	}
	switch {
	case d.Password != "" || c.passwordUnread:
	case d.PasswordFrom == "":
		bad("target.password_env", "no bind password: target.password_env names no environment variable; name one, or a file holding the password in target.password_file")
	default:
		bad("target.password_env", "no bind password: %s is empty; set it, or name a file holding the password in target.password_file", d.PasswordFrom)
	}
}

// checkTenantAndClient checks the form of target.tenant_id (a GUID, or a
// domain name of the tenant) and target.client_id (a GUID), or of
// AZURE_TENANT_ID and AZURE_CLIENT_ID when they stand in for them: a typo
// there would otherwise surface only as a sign-in error from Entra.
func (c *Config) checkTenantAndClient(loc locator, bad badFunc) {
	check := func(key, env, value string, err func(string) error) {
		from := ""
		if value == "" {
			value, from = loc.getenv(env), " (from environment "+env+")"
		}
		if e := err(value); e != nil {
			bad(key, "%v%s", e, from)
		}
	}
	check("target.tenant_id", "AZURE_TENANT_ID", c.Target.TenantID, CheckTenantID)
	check("target.client_id", "AZURE_CLIENT_ID", c.Target.ClientID, func(s string) error {
		if s == "" || guid.Valid(s) {
			return nil
		}
		return fmt.Errorf("%q is not an application (client) id: that is a GUID such as 00000000-0000-0000-0000-000000000000, shown as \"Application (client) ID\" on the app registration's overview page", s)
	})
}

// CheckTenantID accepts "" (not set), a tenant id (a GUID) or a domain name
// of the tenant (contoso.onmicrosoft.com, contoso.com).
func CheckTenantID(s string) error {
	if s == "" || guid.Valid(s) || isDomainName(s) {
		return nil
	}
	return fmt.Errorf("%q is neither a tenant id (a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47, shown as \"Tenant ID\" on Entra's overview page) nor a domain name of the tenant (contoso.onmicrosoft.com, contoso.com)", s)
}

// isDomainName reports whether s is a DNS name of at least two labels:
// letters, digits and inner hyphens, a top-level label of letters.
func isDomainName(s string) bool {
	labels := strings.Split(s, ".")
	if len(s) > 253 || len(labels) < 2 {
		return false
	}
	for i, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			letter := 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z'
			if !letter && (i == len(labels)-1 || !('0' <= r && r <= '9' || r == '-')) {
				return false
			}
		}
	}
	return len(labels[len(labels)-1]) >= 2
}

// validateLDAPTarget checks what only an LDAP directory target has: how
// accounts are disabled, the initial password, the DNs. Disabling has no
// default: each method needs something of the server (the ppolicy
// overlay with a lockout policy, a branch, a status attribute the
// directory's own checks honour), and a lock the server ignores would
// leave leavers able to sign in.
func (c *Config) validateLDAPTarget(loc locator, bad badFunc) {
	l := &c.Target.Directory.LDAP
	isDN := func(key, v string) {
		if v != "" && identity.CheckDN(v) != nil {
			bad(key, "%q is not a distinguished name (e.g. ou=people,dc=example,dc=org)", v)
		}
	}
	isDN("target.people_dn", l.PeopleDN)
	isDN("target.groups_dn", l.GroupsDN)
	isDN("target.disable.dn", l.Disable.DN)
	isDN("target.disable.policy_dn", l.Disable.PolicyDN)
	if c.Target.Directory.LeaversOU != "" {
		bad("target.leavers_ou", "not for an ldap target: use disable: {method: move, dn: ...}")
	}
	d := l.Disable
	switch d.Method {
	case DisablePPolicy:
		if d.DN != "" || d.Attribute != "" {
			bad("target.disable.method", "ppolicy takes policy_dn only (dn is for move, attribute for attribute)")
		}
	case DisableMove:
		if d.DN == "" {
			bad("target.disable.dn", "missing: the branch disabled entries are moved to, e.g. ou=disabled,dc=example,dc=org")
		}
		// The plan moves leavers there and rehires back, as with Active
		// Directory's leavers OU.
		c.Target.Directory.LeaversOU = d.DN
	case DisableAttribute:
		if d.Attribute == "" {
			bad("target.disable.attribute", "missing: the status attribute, e.g. nsAccountLock (389 DS)")
		}
		if d.DisabledValue == "" {
			bad("target.disable.disabled_value", "missing: the value that marks a disabled account, e.g. TRUE")
		}
		if strings.EqualFold(d.DisabledValue, d.EnabledValue) {
			bad("target.disable.enabled_value", "must differ from disabled_value")
		}
	case "":
		bad("target.disable.method", "missing: how hrsync disables an account: ppolicy (pwdAccountLockedTime, needs the ppolicy overlay and a policy with pwdLockout: TRUE), move (to disable.dn) or attribute (disable.attribute set to disable.disabled_value)")
	default:
		bad("target.disable.method", "unknown method %q; use ppolicy, move or attribute", d.Method)
	}
	switch l.RDNAttribute {
	case "uid", "cn":
	default:
		bad("target.rdn_attribute", "%q: entries are named by uid (uid=<uid>,<branch>) or cn (cn=<cn>,<branch>)", l.RDNAttribute)
	}
	switch l.PasswordMethod {
	case PasswordModify, PasswordSSHA:
	default:
		bad("target.password_method", "unknown method %q; use password_modify (the RFC 3062 extended operation: the server hashes the password as it is configured to) or ssha (a salted SHA-1 userPassword sent in the add)", l.PasswordMethod)
	}
}

// checkGraphURL allows https anywhere and plain http only to loopback, so a
// bearer token is never sent in clear text over a network.
func checkGraphURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL like https://graph.microsoft.com", s)
	}
	if u.Path != "" && u.Path != "/" {
		return fmt.Errorf("%q: give the endpoint without a path (hrsync adds /v1.0)", s)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if IsLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("%q: plain http is allowed only for loopback addresses; use https", s)
	default:
		return fmt.Errorf("%q: scheme must be https", s)
	}
}

// IsLoopback reports whether host names this machine (see
// loopback.IsLoopback, which also decides that such a host is never
// reached through a proxy).
func IsLoopback(host string) bool { return loopback.IsLoopback(host) }

func parseFile(name string, data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		var le *yamlline.Error
		if err := yamlline.Locate(data, err); errors.As(err, &le) {
			return nil, fmt.Errorf("config %s:%d: %s", name, le.Line, le.Detail())
		}
		return nil, fmt.Errorf("config %s: %w", name, err)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("config %s:%d: expected a mapping of keys (source:, mapping:, target:, policy:)", name, root.Line)
	}
	return root, nil
}

type locator struct {
	file   string
	doc    *yaml.Node
	getenv func(string) string
	flags  *pflag.FlagSet
}

// where says where a key's value came from: flag, environment or file:line.
func (l locator) where(key string) string {
	if l.flags != nil {
		if f := l.flags.Lookup(FlagName(key)); f != nil && f.Changed {
			return "flag --" + FlagName(key)
		}
	}
	env := "HRSYNC_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
	if l.getenv(env) != "" {
		return "environment " + env
	}
	if l.file == "" {
		return "config (no file; defaults)"
	}
	if n := find(l.doc, strings.Split(key, ".")); n != nil {
		return fmt.Sprintf("%s:%d", l.file, n.Line)
	}
	return l.file
}

func find(n *yaml.Node, path []string) *yaml.Node {
	for _, p := range path {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == p {
				next = n.Content[i+1]
			}
		}
		n = next
	}
	return n
}

// unknownKeys reports keys in the file hrsync does not know, with a hint
// when one is close to a known key: a misspelt key must not silently fall
// back to a default.
func (l locator) unknownKeys() []error {
	var errs []error
	var walk func(prefix string, n *yaml.Node)
	walk = func(prefix string, n *yaml.Node) {
		if n == nil || n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			if prefix != "" {
				k = prefix + "." + k
			}
			if _, ok := defaults[k]; ok {
				continue
			}
			if isSection(k) {
				walk(k, n.Content[i+1])
				continue
			}
			msg := fmt.Sprintf("%s:%d: unknown key %q", l.file, n.Content[i].Line, k)
			if s := closest(k); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			errs = append(errs, errors.New(msg))
		}
	}
	walk("", l.doc)
	return errs
}

func isSection(k string) bool {
	for d := range defaults {
		if strings.HasPrefix(d, k+".") {
			return true
		}
	}
	return false
}

func closest(k string) string {
	keys := make([]string, 0, len(defaults))
	for d := range defaults {
		keys = append(keys, d)
	}
	return suggest.Closest(k, keys, 4)
}
