package ldap

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/hrsync/hrsync/internal/loopback"
	"github.com/hrsync/hrsync/internal/suggest"
)

// Config is a validated source.ldap configuration; Parse builds it. The
// password is a Secret: a Config may be printed or logged.
type Config struct {
	// Preset is the preset the settings started from ("" for none).
	Preset string
	// URL is ldaps://host[:port] or ldap://host[:port].
	URL string
	// StartTLS secures an ldap:// URL; false is allowed only to a loopback
	// address.
	StartTLS bool
	// CAFile is the absolute path of a PEM file of the CA(s) that signed
	// the server's certificate; "" uses the system's roots.
	CAFile string
	// BindDN is a DN or, for Active Directory, user@domain; "" binds
	// anonymously.
	BindDN string
	// Password is the bind password, from the environment variable or file
	// PasswordFrom names; never from the config file, never shown.
	Password     Secret
	PasswordFrom string
	// BaseDN is where the search starts (the whole subtree is read).
	BaseDN string
	// Filter selects the entries (an LDAP filter, RFC 4515).
	Filter string
	// Attributes are the fields, in order, named as configured. "dn" is
	// the entry's distinguished name (not an attribute the server sends).
	Attributes []string
	// References turn a DN-valued attribute into an attribute of the entry
	// it names (manager -> the manager's employeeNumber), in attribute
	// order.
	References []Reference
	// PageSize is the paged-results page size (RFC 2696).
	PageSize int
	// Timeout bounds each request.
	Timeout time.Duration
}

// Reference says that the DNs in Attr are replaced by the Key attribute
// of the entries they name.
type Reference struct {
	Attr string
	Key  string
}

// Secret is a credential. It never prints: fmt's verbs, JSON and text
// marshalling show "[REDACTED]".
type Secret struct{ v string }

// NewSecret wraps a credential.
func NewSecret(v string) Secret { return Secret{v: v} }

// Reveal returns the credential, for the bind.
func (s Secret) Reveal() string { return s.v }

// IsZero reports whether there is no credential.
func (s Secret) IsZero() bool { return s.v == "" }

func (s Secret) String() string {
	if s.v == "" {
		return ""
	}
	return "[REDACTED]"
}

// GoString keeps %#v from printing the credential.
func (s Secret) GoString() string { return `ldap.Secret("` + s.String() + `")` }

// MarshalText keeps encoders from printing the credential.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Defaults.
const (
	DefaultPasswordEnv = "HRSYNC_SOURCE_PASSWORD"
	DefaultPageSize    = 500
	DefaultTimeout     = 60 * time.Second
	// maxPageSize is the largest page_size accepted; Active Directory
	// sends at most 1,000 entries a page whatever is asked.
	maxPageSize = 100000
)

// Presets.
const (
	PresetInetOrgPerson   = "inetorgperson"
	PresetActiveDirectory = "active_directory"
)

// preset is the settings a preset fills in; the user's keys override them.
type preset struct {
	filter     string
	attributes []string
	references []Reference
}

var presets = map[string]preset{
	// OpenLDAP and 389 Directory Server people (RFC 2798). An entry
	// without employeeNumber has no account to sync; the filter leaves it
	// out, since a record without a key suppresses every leaver.
	PresetInetOrgPerson: {
		filter:     "(&(objectClass=inetOrgPerson)(employeeNumber=*))",
		attributes: []string{"uid", "cn", "givenName", "sn", "mail", "employeeNumber", "departmentNumber", "title", "manager", "employeeType"},
		references: []Reference{{Attr: "manager", Key: "employeeNumber"}},
	},
	// Active Directory user accounts: people (not computers, which are
	// objectClass user too, nor contacts), with an employeeID (built-in and
	// service accounts have none).
	PresetActiveDirectory: {
		filter: "(&(objectCategory=person)(objectClass=user)(employeeID=*))",
		attributes: []string{"employeeID", "sAMAccountName", "userPrincipalName", "userAccountControl", "givenName", "sn",
			"displayName", "mail", "department", "title", "company", "manager", "objectGUID"},
		references: []Reference{{Attr: "manager", Key: "employeeID"}},
	},
}

func presetNames() []string {
	names := make([]string, 0, len(presets))
	for n := range presets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

var knownKeys = []string{"preset", "url", "start_tls", "ca_file", "bind_dn", "password_env", "password_file", "base_dn",
	"filter", "attributes", "references", "page_size", "timeout"}

// secretAttributes hold passwords or their hashes: never read.
var secretAttributes = map[string]bool{
	"userpassword": true, "unicodepwd": true, "dbcspwd": true, "ntpwdhistory": true, "lmpwdhistory": true,
	"supplementalcredentials": true, "sambantpassword": true, "sambalmpassword": true, "authpassword": true,
	"msds-managedpassword": true, "ms-mcs-admpwd": true, "mslaps-password": true, "mslaps-encryptedpassword": true,
}

// Env is what Parse needs besides the settings.
type Env struct {
	// Dir is the folder relative paths (ca_file, password_file) resolve
	// against: the config file's.
	Dir string
	// Getenv reads the password's environment variable; nil reads none.
	Getenv func(string) string
	// Where says where a key of the config file is ("file:line"); key is
	// dotted from the top, e.g. source.ldap.base_dn. Nil names no place.
	Where func(key string) string
}

const prefix = "source.ldap"

type parser struct {
	env  Env
	errs []error
}

func (p *parser) bad(key, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if p.env.Where != nil {
		if w := p.env.Where(key); w != "" {
			p.errs = append(p.errs, fmt.Errorf("%s: %s: %s", w, key, msg))
			return
		}
	}
	p.errs = append(p.errs, fmt.Errorf("%s: %s", key, msg))
}

// Parse validates the source.ldap settings as decoded from YAML. Every
// error names its key and, through env.Where, its file and line; all
// problems are reported together.
func Parse(raw map[string]any, env Env) (Config, error) {
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	p := &parser{env: env}
	var c Config
	p.unknownKeys(raw)
	var pre preset
	if v, ok := raw["preset"]; ok {
		name, _ := v.(string)
		name = strings.ToLower(strings.TrimSpace(name))
		if _, known := presets[name]; !known {
			p.bad(prefix+".preset", "unknown %s; use one of %s", quote(v), strings.Join(presetNames(), ", "))
			return Config{}, errors.Join(p.errs...)
		}
		c.Preset, pre = name, presets[name]
	}
	p.connection(&c, raw)
	p.selection(&c, raw, pre)
	c.PageSize = p.integer("page_size", raw["page_size"], DefaultPageSize, 1, maxPageSize)
	c.Timeout = p.duration("timeout", raw["timeout"], DefaultTimeout)
	if len(p.errs) > 0 {
		return Config{}, errors.Join(p.errs...)
	}
	return c, nil
}

// unknownKeys reports the keys of raw the source does not know, in name
// order: a password written into the file, a key another source has, a
// likely typo.
func (p *parser) unknownKeys(raw map[string]any) {
	for _, k := range sortedKeys(raw) {
		if slices.Contains(knownKeys, k) {
			continue
		}
		switch {
		case k == "password":
			p.bad(prefix+"."+k, "the bind password never goes in the config file: set %s, or name another variable in password_env or a file in password_file", DefaultPasswordEnv)
		case k == "scope" || k == "type":
			p.bad(prefix+"."+k, "unknown key (the whole subtree below base_dn is read); known keys: %s", strings.Join(knownKeys, ", "))
		default:
			if s := suggest.Closest(k, knownKeys, 3); s != "" {
				p.bad(prefix+"."+k, "unknown key; did you mean %s?", s)
			} else {
				p.bad(prefix+"."+k, "unknown key; known keys: %s", strings.Join(knownKeys, ", "))
			}
		}
	}
}

// connection reads where and how to connect and bind: url, start_tls,
// ca_file, bind_dn and the password.
func (p *parser) connection(c *Config, raw map[string]any) {
	c.URL = p.str("url", raw["url"])
	c.StartTLS = p.boolean("start_tls", raw["start_tls"], true)
	p.checkURL(c)
	if f := p.str("ca_file", raw["ca_file"]); f != "" {
		c.CAFile = p.path(f)
		if _, err := os.Stat(c.CAFile); err != nil {
			p.bad(prefix+".ca_file", "%v", err)
		}
	}
	c.BindDN = p.str("bind_dn", raw["bind_dn"])
	if c.BindDN != "" && !strings.Contains(c.BindDN, "@") {
		if _, err := goldap.ParseDN(c.BindDN); err != nil {
			p.bad(prefix+".bind_dn", "%q is neither a DN (cn=hrsync,ou=services,dc=example,dc=org) nor user@domain: %v", c.BindDN, err)
		}
	}
	p.password(c, raw)
}

// selection reads what is read: base_dn, the filter and the attributes
// (the preset's unless given) and the references between entries.
func (p *parser) selection(c *Config, raw map[string]any, pre preset) {
	c.BaseDN = p.str("base_dn", raw["base_dn"])
	if c.BaseDN == "" {
		p.bad(prefix+".base_dn", "missing: the DN below which people are read, e.g. ou=people,dc=example,dc=org")
	} else if _, err := goldap.ParseDN(c.BaseDN); err != nil {
		p.bad(prefix+".base_dn", "%q is not a DN: %v", c.BaseDN, err)
	}
	c.Filter = pre.filter
	if _, ok := raw["filter"]; ok {
		c.Filter = p.str("filter", raw["filter"])
	}
	if c.Filter == "" {
		p.bad(prefix+".filter", "missing: the LDAP filter selecting people, e.g. (objectClass=inetOrgPerson), or a preset (%s)", strings.Join(presetNames(), ", "))
	} else if _, err := goldap.CompileFilter(c.Filter); err != nil {
		p.bad(prefix+".filter", "%q is not an LDAP filter: %v", c.Filter, err)
	}
	userAttrs := raw["attributes"] != nil
	c.Attributes = pre.attributes
	if userAttrs {
		c.Attributes = p.attributes(raw["attributes"])
	}
	if len(c.Attributes) == 0 && (userAttrs || c.Preset == "") {
		p.bad(prefix+".attributes", "missing: the attributes to read, e.g. [uid, givenName, sn, mail, employeeNumber]")
	}
	p.references(c, raw, pre, userAttrs)
}

func (p *parser) checkURL(c *Config) {
	key := prefix + ".url"
	if c.URL == "" {
		p.bad(key, "missing: ldaps://host:636, or ldap://host:389 (with StartTLS)")
		return
	}
	u, err := url.Parse(c.URL)
	if err != nil || u.Host == "" || u.Hostname() == "" {
		p.bad(key, "%q is not ldaps://host:port or ldap://host:port", c.URL)
		return
	}
	switch strings.ToLower(u.Scheme) {
	case "ldaps":
	case "ldap":
		if !c.StartTLS && !loopback.IsLoopback(u.Hostname()) {
			p.bad(prefix+".start_tls", "false is allowed only for a directory on this machine (127.0.0.1, ::1, localhost): the bind password and the people's data would cross the network in clear text; use ldaps:// or StartTLS")
		}
	default:
		p.bad(key, "%q: the scheme must be ldaps, or ldap (with StartTLS)", c.URL)
	}
	if u.User != nil {
		p.bad(key, "no user information in the URL: give bind_dn, and the password in %s, password_env or password_file", DefaultPasswordEnv)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		p.bad(key, "%q: give only the scheme, host and port; the search base goes in base_dn and the filter in filter", c.URL)
	}
}

// password reads the bind password from password_file, or the variable
// password_env names (HRSYNC_SOURCE_PASSWORD by default).
func (p *parser) password(c *Config, raw map[string]any) {
	envName := p.str("password_env", raw["password_env"])
	file := p.str("password_file", raw["password_file"])
	if envName != "" && file != "" {
		p.bad(prefix+".password_file", "give password_env or password_file, not both")
		return
	}
	if c.BindDN == "" {
		if envName != "" || file != "" {
			p.bad(prefix+".bind_dn", "missing: a password is configured but no bind_dn to use it with (leave both out for an anonymous bind)")
		}
		return
	}
	if file != "" {
		path := p.path(file)
		data, err := os.ReadFile(path)
		if err != nil {
			p.bad(prefix+".password_file", "%v", err)
			return
		}
		c.Password, c.PasswordFrom = NewSecret(strings.TrimRight(string(data), "\r\n")), "file "+path
		if c.Password.IsZero() {
			p.bad(prefix+".password_file", "%s is empty", path)
		}
		return
	}
	if envName == "" {
		envName = DefaultPasswordEnv
	}
	c.Password, c.PasswordFrom = NewSecret(p.env.Getenv(envName)), envName
	if c.Password.IsZero() {
		p.bad(prefix+".bind_dn", "no bind password for %s: the environment variable %s is empty; set it, or name another variable in password_env or a file in password_file (or leave bind_dn out for an anonymous bind)", c.BindDN, envName)
	}
}

// attributes reads the attribute list: names as written, no duplicates,
// no passwords.
func (p *parser) attributes(v any) []string {
	key := prefix + ".attributes"
	list, ok := v.([]any)
	if !ok {
		p.bad(key, "expected a list of attribute names, e.g. [uid, givenName, sn]")
		return nil
	}
	seen := map[string]int{}
	var out []string
	for i, item := range list {
		at := fmt.Sprintf("%s.%d", key, i)
		name, ok := item.(string)
		name = strings.TrimSpace(name)
		switch {
		case !ok || name == "":
			p.bad(at, "expected an attribute name, got %s", quote(item))
			continue
		case strings.Contains(strings.ToLower(name), ";range="):
			p.bad(at, "%s: name the attribute without ;range=; ranged values (Active Directory's member;range=0-1499) are read to the end on their own", name)
			continue
		case !validAttr(name):
			p.bad(at, "%q is not an attribute name (letters, digits and -, or an OID; options after ;)", name)
			continue
		case secretAttributes[strings.ToLower(baseName(name))]:
			p.bad(at, "%s holds passwords or their hashes; hrsync does not read them", name)
			continue
		}
		if j, dup := seen[strings.ToLower(name)]; dup {
			p.bad(at, "%s is listed twice (also item %d; attribute names are not case-sensitive)", name, j)
			continue
		}
		seen[strings.ToLower(name)] = i
		out = append(out, name)
	}
	return out
}

// references reads references: {attribute: key attribute}. Preset
// references whose attribute the user's own attribute list left out are
// dropped; the user's must name listed attributes.
func (p *parser) references(c *Config, raw map[string]any, pre preset, userAttrs bool) {
	key := prefix + ".references"
	listed := func(name string) bool {
		for _, a := range c.Attributes {
			if strings.EqualFold(a, name) {
				return true
			}
		}
		return false
	}
	v, given := raw["references"]
	if !given {
		for _, r := range pre.references {
			if !userAttrs || listed(r.Attr) {
				c.References = append(c.References, r)
			}
		}
		return
	}
	if v == nil {
		return // references: ~ turns the preset's off
	}
	m, ok := v.(map[string]any)
	if !ok {
		p.bad(key, "expected a map from a DN-valued attribute to the attribute of the entry it names, e.g. {manager: employeeNumber}")
		return
	}
	for _, attr := range sortedKeys(m) {
		at := key + "." + attr
		target, ok := m[attr].(string)
		target = strings.TrimSpace(target)
		switch {
		case !ok || target == "":
			p.bad(at, "expected the attribute of the referenced entry to use, e.g. employeeNumber")
			continue
		case !listed(attr):
			p.bad(at, "%s is not among the attributes; add it there", attr)
			continue
		case strings.EqualFold(attr, "dn"):
			p.bad(at, "dn is the entry's own name, not a reference")
			continue
		case strings.EqualFold(target, "dn"):
			p.bad(at, "dn: the attribute already holds the entry's DN; name an attribute of the entry, e.g. employeeNumber")
			continue
		case !validAttr(target) || strings.Contains(target, ";"):
			p.bad(at, "%q is not an attribute name", target)
			continue
		case secretAttributes[strings.ToLower(target)]:
			p.bad(at, "%s holds passwords or their hashes; hrsync does not read them", target)
			continue
		}
		c.References = append(c.References, Reference{Attr: attr, Key: target})
	}
	// In attribute order, for stable warnings.
	sort.SliceStable(c.References, func(i, j int) bool {
		return attrIndex(c.Attributes, c.References[i].Attr) < attrIndex(c.Attributes, c.References[j].Attr)
	})
	for _, r := range c.References {
		for _, o := range c.References {
			if strings.EqualFold(r.Key, o.Attr) {
				p.bad(key+"."+r.Attr, "%s is itself a reference: a reference must name a plain attribute (e.g. employeeNumber)", r.Key)
			}
		}
	}
}

func attrIndex(attrs []string, name string) int {
	for i, a := range attrs {
		if strings.EqualFold(a, name) {
			return i
		}
	}
	return len(attrs)
}

// validAttr reports whether name is an attribute description: a name
// (letter, then letters, digits, -) or an OID, with ;options.
func validAttr(name string) bool {
	parts := strings.Split(name, ";")
	for i, part := range parts {
		if part == "" {
			return false
		}
		oid := i == 0 && part[0] >= '0' && part[0] <= '9'
		for j, r := range part {
			switch {
			case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
				if oid {
					return false
				}
			case r >= '0' && r <= '9':
				if j == 0 && i == 0 && !oid {
					return false
				}
			case r == '-':
				if oid || (i == 0 && j == 0) {
					return false
				}
			case r == '.':
				if !oid {
					return false
				}
			default:
				return false
			}
		}
	}
	return true
}

// ---- scalars ----

func (p *parser) str(name string, v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return strings.TrimSpace(x)
	case int, int64, float64, bool:
		return fmt.Sprint(x)
	}
	p.bad(prefix+"."+name, "expected text, got %s", quote(v))
	return ""
}

func (p *parser) boolean(name string, v any, def bool) bool {
	switch x := v.(type) {
	case nil:
		return def
	case bool:
		return x
	case string:
		if b, err := strconv.ParseBool(strings.TrimSpace(x)); err == nil {
			return b
		}
	}
	p.bad(prefix+"."+name, "%s is not true or false", quote(v))
	return def
}

func (p *parser) integer(name string, v any, def, lo, hi int) int {
	var n int
	switch x := v.(type) {
	case nil:
		return def
	case int:
		n = x
	case int64:
		n = int(x)
	case float64:
		n = int(x)
		if float64(n) != x {
			p.bad(prefix+"."+name, "%v is not a whole number", x)
			return def
		}
	case string:
		var err error
		if n, err = strconv.Atoi(strings.TrimSpace(x)); err != nil {
			p.bad(prefix+"."+name, "%q is not a whole number", x)
			return def
		}
	default:
		p.bad(prefix+"."+name, "%s is not a whole number", quote(v))
		return def
	}
	if n < lo || n > hi {
		p.bad(prefix+"."+name, "%d is out of range: %d to %d", n, lo, hi)
		return def
	}
	return n
}

func (p *parser) duration(name string, v any, def time.Duration) time.Duration {
	if v == nil {
		return def
	}
	s, ok := v.(string)
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if !ok || err != nil || d <= 0 {
		p.bad(prefix+"."+name, "%s is not a positive duration such as 60s or 5m", quote(v))
		return def
	}
	return d
}

// path resolves a relative path against the config file's folder.
func (p *parser) path(f string) string {
	if filepath.IsAbs(f) || p.env.Dir == "" {
		return f
	}
	return filepath.Join(p.env.Dir, f)
}

func quote(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprintf("%v", v)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
