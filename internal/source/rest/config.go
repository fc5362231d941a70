package rest

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/hrsync/hrsync/internal/suggest"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Config is a validated source.rest configuration. Parse builds it; every
// credential in it is a Secret read from the environment, so a Config may
// be printed or logged.
type Config struct {
	// Preset is the preset the settings started from ("" for none).
	Preset string
	// URL is the first request's URL (query parameters from the url setting
	// included; Query is added to them).
	URL *url.URL
	// Method is GET or POST.
	Method string
	// Headers are sent with every data request, in this order.
	Headers []Param
	// Query parameters are added to the first request (next links carry
	// their own).
	Query []Param
	// Body is sent with POST requests; nil for none.
	Body []byte
	// Records is the dotted path to the list of records in each response
	// body; "" means the body itself is the list.
	Records string
	// Fields are the columns, in order; nil means every scalar leaf of the
	// first page's records becomes a column named by its dotted path.
	Fields []Field
	// Paging says how to get from one page to the next.
	Paging Paging
	// Auth says how requests are authenticated.
	Auth Auth
	// Timeout bounds each request, reading the body included.
	Timeout time.Duration
	// Retries is how many times a throttled (429), failed (5xx) or
	// unanswered request is retried.
	Retries int
	// MaxPages is the most pages a read may take; a read that would need
	// more fails.
	MaxPages int
	// MaxBody is the largest response body read, in bytes; a larger one
	// fails the read.
	MaxBody int64
	// ODataDates converts OData v2 dates (/Date(1704067200000)/) to
	// YYYY-MM-DD, or RFC 3339 when they carry a time or an offset.
	ODataDates bool
}

// Param is a header or query parameter. Exactly one of Value and Secret is
// set: values that take anything from the environment (${NAME}) are
// secrets and never shown.
type Param struct {
	Name   string
	Value  string
	Secret Secret
}

// value returns the parameter's value, revealing a secret.
func (p Param) value() string {
	if !p.Secret.IsZero() {
		return p.Secret.Reveal()
	}
	return p.Value
}

// Field is one column: its name and the dotted path to its value in each
// record.
type Field struct {
	Name string
	Path string
}

// Paging types.
const (
	PagingNone       = "none"
	PagingNextLink   = "next_link"
	PagingLinkHeader = "link_header"
	PagingPage       = "page"
	PagingOffset     = "offset"
	PagingCursor     = "cursor"
)

// Paging says how the pages of a result are requested.
type Paging struct {
	// Type is one of the Paging* constants.
	Type string
	// Next is the body path of the next page's URL (next_link).
	Next string
	// Cursor is the body path of the next cursor; CursorParam the query
	// parameter it is sent in (cursor).
	Cursor, CursorParam string
	// PageParam is the page number parameter and FirstPage the first
	// number (page).
	PageParam string
	FirstPage int
	// OffsetParam is the offset parameter (offset).
	OffsetParam string
	// SizeParam is the page size parameter (page, cursor: optional; offset:
	// the limit parameter) and Size its value.
	SizeParam string
	Size      int
	// Total is the body path of the total number of records (page,
	// offset; optional). With it the read stops when all are read, and
	// fails if the total changes while reading or does not match.
	Total string
}

// Auth types.
const (
	AuthNone   = "none"
	AuthBearer = "bearer"
	AuthBasic  = "basic"
	AuthOAuth2 = "oauth2"
)

// Auth says how data requests are authenticated.
type Auth struct {
	// Type is one of the Auth* constants.
	Type string
	// Token is the bearer token (bearer).
	Token Secret
	// Username and Password are the basic credentials (basic). APIKey,
	// when set instead, is sent as the user name with the password "x"
	// (BambooHR's API keys).
	Username string
	Password Secret
	APIKey   Secret
	// TokenURL, ClientID, ClientSecret, Scope and Params make the OAuth 2.0
	// client credentials token request (oauth2). ClientAuth is "basic"
	// (credentials in the Authorization header) or "post" (in the form).
	TokenURL     *url.URL
	ClientID     string
	ClientSecret Secret
	Scope        string
	Params       []Param
	ClientAuth   string
}

// Defaults.
const (
	DefaultTimeout  = 60 * time.Second
	DefaultRetries  = 5
	DefaultMaxPages = 10000
	DefaultPageSize = 100
	// DefaultMaxBody bounds a response body: 256 MiB holds a one-response
	// Workday report of some 150,000 workers. A body is held in memory
	// whole while it is decoded.
	DefaultMaxBody = 256 << 20
)

// maxMaxBody is the largest max_body accepted.
const maxMaxBody = 16 << 30

const prefix = "source.rest"

// parser collects errors, each naming its key.
type parser struct {
	getenv func(string) string
	errs   []error
}

func (p *parser) bad(key, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
}

// Parse validates the source.rest settings. raw is the decoded YAML (keys
// of nested maps may be strings or any); getenv reads the secrets named by
// the *_env keys and ${NAME} references. Every error names its key, e.g.
// `source.rest.paging.type: unknown "pages"; use one of ...`; all problems
// are reported together.
func Parse(raw map[string]any, getenv func(string) string) (Config, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	p := &parser{getenv: getenv}
	var c Config
	user, ok := normalize(raw).(map[string]any)
	if !ok || user == nil {
		user = map[string]any{}
	}
	name, ok := p.preset(user)
	if !ok {
		return c, errors.Join(p.errs...)
	}
	c.Preset = name
	merged := user
	if c.Preset != "" {
		merged = mergePreset(presets[c.Preset].settings(), user)
	}
	p.checkKeys(prefix, merged, topKeys, map[string]string{
		"password": "auth.password_env", "token": "auth.token_env", "api_key": "auth.api_key_env",
		"username": "auth.username", "type": "preset (source.type is rest)",
	})
	p.request(&c, merged)
	c.Records = p.path(prefix+".records", merged["records"])
	c.Fields = p.fields(prefix+".fields", merged["fields"])
	c.Paging = p.paging(prefix+".paging", merged["paging"])
	c.Auth = p.auth(prefix+".auth", merged["auth"])
	c.Timeout = p.duration(prefix+".timeout", merged["timeout"], DefaultTimeout)
	c.Retries = p.integer(prefix+".retries", merged["retries"], DefaultRetries, 0, 100)
	c.MaxPages = p.integer(prefix+".max_pages", merged["max_pages"], DefaultMaxPages, 1, math.MaxInt32)
	c.MaxBody = p.size(prefix+".max_body", merged["max_body"], DefaultMaxBody, 1<<10, maxMaxBody)
	c.ODataDates = p.boolean(prefix+".odata_dates", merged["odata_dates"], false)

	if c.Preset != "" && presets[c.Preset].finish != nil {
		presets[c.Preset].finish(&c, user)
	}
	if len(p.errs) > 0 {
		return Config{}, errors.Join(p.errs...)
	}
	return c, nil
}

// preset reads the preset setting: "" for none. It reports false for a
// name that is no preset, which stops the parse (the preset decides which
// settings are valid).
func (p *parser) preset(user map[string]any) (string, bool) {
	v, set := user["preset"]
	if !set {
		return "", true
	}
	name, ok := v.(string)
	name = strings.ToLower(strings.TrimSpace(name))
	if !ok || presets[name] == nil {
		p.bad(prefix+".preset", "unknown %s; use one of %s", quoteAny(v), strings.Join(presetNames(), ", "))
		return "", false
	}
	return name, true
}

// request reads the settings of the data requests: url, method, headers,
// query and body.
func (p *parser) request(c *Config, m map[string]any) {
	c.URL = p.dataURL(c.Preset, m["url"])
	c.Method = strings.ToUpper(p.str(prefix+".method", m["method"], "GET"))
	if c.Method != "GET" && c.Method != "POST" {
		p.bad(prefix+".method", "unknown %q; use GET or POST", c.Method)
	}
	c.Headers = p.headers(m["headers"], m["auth"])
	c.Query = p.params(prefix+".query", m["query"])
	c.Body = p.body(m["body"], c.Method)
}

// dataURL reads the url setting, which is required; with a preset, its
// error shows an example.
func (p *parser) dataURL(preset string, v any) *url.URL {
	u := p.url(prefix+".url", v, true)
	if us, isStr := v.(string); v == nil || (isStr && strings.TrimSpace(us) == "") {
		hint := ""
		if preset != "" {
			hint = "; e.g. " + presets[preset].urlExample
		}
		p.bad(prefix+".url", "missing: the address of the API%s", hint)
	}
	return u
}

// headers reads the headers setting. An Authorization header conflicts
// with any auth but none.
func (p *parser) headers(v, auth any) []Param {
	hs := p.params(prefix+".headers", v)
	for _, h := range hs {
		if strings.EqualFold(h.Name, "Authorization") && auth != nil {
			if a, _ := auth.(map[string]any); a != nil && a["type"] != nil && a["type"] != AuthNone {
				p.bad(prefix+".headers."+h.Name, "conflicts with auth; set auth.type: none to send your own Authorization header")
			}
		}
	}
	return hs
}

// body reads the body setting: text as written, anything else written as
// JSON; nil for none. Only POST requests have one.
func (p *parser) body(v any, method string) []byte {
	if v == nil {
		return nil
	}
	var body []byte
	switch b := v.(type) {
	case string:
		body = []byte(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			p.bad(prefix+".body", "cannot be written as JSON: %v", err)
		}
		body = data
	}
	if method != "POST" {
		p.bad(prefix+".body", "only POST requests have a body; set method: POST")
	}
	return body
}

var topKeys = []string{"preset", "url", "method", "headers", "query", "body", "records", "fields",
	"paging", "auth", "timeout", "retries", "max_pages", "max_body", "odata_dates"}

// checkKeys reports unknown keys, with a suggestion.
func (p *parser) checkKeys(at string, m map[string]any, known []string, hints map[string]string) {
	set := map[string]bool{}
	for _, k := range known {
		set[k] = true
	}
	for _, k := range sortedKeys(m) {
		if set[k] {
			continue
		}
		if h, ok := hints[k]; ok {
			p.bad(at+"."+k, "unknown key; did you mean %s?", h)
			continue
		}
		if s := suggest.Closest(k, known, 3); s != "" {
			p.bad(at+"."+k, "unknown key; did you mean %s?", s)
			continue
		}
		p.bad(at+"."+k, "unknown key; known keys: %s", strings.Join(known, ", "))
	}
}

func quoteAny(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprintf("%v", v)
}

// normalize turns map[any]any (yaml.v2-style decoding) into map[string]any,
// recursively.
func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(e)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(k)] = normalize(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	}
	return v
}

// ---- scalar settings ----

func (p *parser) str(key string, v any, def string) string {
	switch x := v.(type) {
	case nil:
		return def
	case string:
		if strings.TrimSpace(x) == "" {
			return def
		}
		return strings.TrimSpace(x)
	case int, int64, uint64, float64, bool:
		return fmt.Sprint(x)
	}
	p.bad(key, "must be text, not %s", kind(v))
	return def
}

func kind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "a map"
	case []any:
		return "a list"
	case bool:
		return "a boolean"
	case int, int64, uint64, float64:
		return "a number"
	case string:
		return "text"
	}
	return fmt.Sprintf("%T", v)
}

func (p *parser) integer(key string, v any, def, lo, hi int) int {
	var n int64
	switch x := v.(type) {
	case nil:
		return def
	case int:
		n = int64(x)
	case int64:
		n = x
	case uint64:
		if x > math.MaxInt32 {
			n = math.MaxInt32 + 1
		} else {
			n = int64(x)
		}
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > math.MaxInt32 {
			p.bad(key, "must be a whole number, not %v", x)
			return def
		}
		n = int64(x)
	case string:
		i, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		if err != nil {
			p.bad(key, "must be a whole number, not %q", x)
			return def
		}
		n = i
	default:
		p.bad(key, "must be a whole number, not %s", kind(v))
		return def
	}
	if n < int64(lo) || n > int64(hi) {
		if hi == math.MaxInt32 {
			p.bad(key, "must be at least %d, not %d", lo, n)
		} else {
			p.bad(key, "must be between %d and %d, not %d", lo, hi, n)
		}
		return def
	}
	return int(n)
}

// size reads a number of bytes: a whole number, or text such as "256MiB",
// "1 GiB", "512MB" or "64KiB" (KiB, MiB, GiB are powers of 1024; KB, MB,
// GB powers of 1000; B or no unit are bytes). It must lie within [lo, hi].
func (p *parser) size(key string, v any, def, lo, hi int64) int64 {
	var n int64
	switch x := v.(type) {
	case nil:
		return def
	case int:
		n = int64(x)
	case int64:
		n = x
	case uint64:
		n = int64(min(x, math.MaxInt64))
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > float64(hi) {
			n = hi + 1
			if x != math.Trunc(x) {
				p.bad(key, "must be a whole number of bytes, not %v", x)
				return def
			}
		} else {
			n = int64(x)
		}
	case string:
		var ok bool
		if n, ok = parseSize(x); !ok {
			p.bad(key, "%q is not a size; write e.g. 256MiB, 1GiB or a number of bytes", x)
			return def
		}
	default:
		p.bad(key, "must be a size such as 256MiB, not %s", kind(v))
		return def
	}
	if n < lo || n > hi {
		p.bad(key, "must be between %s and %s, not %s", sizeText(lo), sizeText(hi), sizeText(n))
		return def
	}
	return n
}

// parseSize reads "256MiB", "1 GiB", "512MB", "1024" and the like.
func parseSize(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, false
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil {
		return 0, false
	}
	units := map[string]int64{"": 1, "b": 1, "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30,
		"kb": 1e3, "mb": 1e6, "gb": 1e9}
	mul, ok := units[strings.ToLower(strings.TrimSpace(s[i:]))]
	if !ok || n > math.MaxInt64/mul {
		return 0, false
	}
	return n * mul, true
}

// sizeText writes a number of bytes for people: "256 MiB", "1500 bytes".
func sizeText(n int64) string {
	for _, u := range []struct {
		name string
		size int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.size && n%u.size == 0 {
			return fmt.Sprintf("%d %s", n/u.size, u.name)
		}
	}
	if n >= 1<<20 {
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d bytes", n)
}

func (p *parser) boolean(key string, v any, def bool) bool {
	switch x := v.(type) {
	case nil:
		return def
	case bool:
		return x
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true", "yes", "on":
			return true
		case "false", "no", "off":
			return false
		}
	}
	p.bad(key, "must be true or false, not %s", quoteAny(v))
	return def
}

func (p *parser) duration(key string, v any, def time.Duration) time.Duration {
	var d time.Duration
	switch x := v.(type) {
	case nil:
		return def
	case int:
		d = time.Duration(x) * time.Second
	case int64:
		d = time.Duration(x) * time.Second
	case float64:
		d = time.Duration(x * float64(time.Second))
	case string:
		s := strings.TrimSpace(x)
		if n, err := strconv.ParseFloat(s, 64); err == nil {
			d = time.Duration(n * float64(time.Second))
		} else if pd, err := time.ParseDuration(s); err == nil {
			d = pd
		} else {
			p.bad(key, "%q is not a duration; write e.g. 60s, 5m or a number of seconds", x)
			return def
		}
	default:
		p.bad(key, "must be a duration such as 60s, not %s", kind(v))
		return def
	}
	if d <= 0 || d > 24*time.Hour {
		p.bad(key, "must be more than 0 and at most 24h, not %s", d)
		return def
	}
	return d
}

// path validates a dotted path setting.
func (p *parser) path(key string, v any) string {
	s := p.str(key, v, "")
	if s == "" {
		return ""
	}
	if strings.HasPrefix(s, ".") || strings.HasSuffix(s, ".") || strings.Contains(s, "..") {
		p.bad(key, "%q is not a dotted path (e.g. d.results)", s)
		return ""
	}
	return s
}

// url parses and checks an address: https, or http to a loopback address.
func (p *parser) url(key string, v any, allowQuery bool) *url.URL {
	if v == nil {
		return nil
	}
	s, ok := v.(string)
	if !ok {
		p.bad(key, "must be a URL, not %s", kind(v))
		return nil
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		p.bad(key, "%q is not an absolute http(s) URL", redactURLText(s))
		return nil
	}
	if u.User != nil {
		p.bad(key, "must not hold a user name or password; use auth (secrets come from the environment)")
		return nil
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		p.bad(key, "plain http would send credentials and HR data unencrypted; use https (http is only allowed to a loopback address)")
		return nil
	}
	if !allowQuery && u.RawQuery != "" {
		p.bad(key, "must not have a query")
	}
	for _, part := range strings.Split(u.RawQuery, "&") {
		name, _, _ := strings.Cut(part, "=")
		if n, err := url.QueryUnescape(name); err == nil && isSecretParam(n) {
			p.bad(key, "the query parameter %s holds a secret, which never lives in the config file: move it to source.rest.query as %s: ${ENV_VAR}", n, n)
		}
	}
	if strings.Contains(s, "{") || strings.Contains(s, "<") {
		p.bad(key, "%q still holds a placeholder; put in your tenant, company or report", redactURLText(s))
	}
	u.Fragment, u.RawFragment = "", ""
	return u
}

// redactURLText drops the user information from a URL written in the
// config, for an error about it.
func redactURLText(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		u.User = nil
		return u.String()
	}
	return s
}

// env reads the environment variable a *_env key names.
func (p *parser) env(key string, v any) (string, bool) {
	name := p.str(key, v, "")
	if name == "" {
		p.bad(key, "missing: name the environment variable that holds it")
		return "", false
	}
	val := p.getenv(name)
	if val == "" {
		p.bad(key, "environment variable %s is not set", name)
		return "", false
	}
	return val, true
}

// expand replaces ${NAME} with the environment variable NAME; "$${" is a
// literal "${". secret reports whether anything came from the environment.
func (p *parser) expand(key, s string) (out string, secret bool) {
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), secret
		}
		if i > 0 && s[i-1] == '$' {
			b.WriteString(s[:i-1])
			b.WriteString("${")
			s = s[i+2:]
			continue
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			p.bad(key, "unclosed ${ (write $${ for a literal ${)")
			return "", false
		}
		name := s[i+2 : i+j]
		if name == "" || strings.ContainsAny(name, " $") {
			p.bad(key, "${%s} is not an environment variable reference", name)
			return "", false
		}
		val := p.getenv(name)
		if val == "" {
			p.bad(key, "environment variable %s is not set", name)
			return "", false
		}
		b.WriteString(s[:i])
		b.WriteString(val)
		secret = true
		s = s[i+j+1:]
	}
}

// params reads a map (or list of one-key maps) of names to values, which
// may reference the environment. Maps come in name order.
func (p *parser) params(key string, v any) []Param {
	pairs, ok := p.pairs(key, v)
	if !ok {
		return nil
	}
	var out []Param
	for _, kv := range pairs {
		k := key + "." + kv.name
		if strings.TrimSpace(kv.name) == "" {
			p.bad(key, "empty name")
			continue
		}
		if kv.val == nil {
			continue // removed a preset default
		}
		s, isStr := kv.val.(string)
		if !isStr {
			switch kv.val.(type) {
			case int, int64, uint64, float64, bool:
				s = fmt.Sprint(kv.val)
			default:
				p.bad(k, "must be text, not %s", kind(kv.val))
				continue
			}
		}
		val, secret := p.expand(k, s)
		if !secret && isSecretParam(kv.name) && val != "" && strings.HasSuffix(key, ".query") {
			p.bad(k, "holds a secret, which never lives in the config file: write %s: ${ENV_VAR} and set the variable", kv.name)
			continue
		}
		if secret {
			out = append(out, Param{Name: kv.name, Secret: NewSecret(val)})
		} else {
			out = append(out, Param{Name: kv.name, Value: val})
		}
	}
	return out
}

type namedVal struct {
	name string
	val  any
}

// namedPairs reads a map or a list of one-key maps in order (maps sorted
// by name, as decoded YAML maps keep no order). bad is the index of the
// first list item that is not a one-key map, or -1; ok is false when v is
// neither a map nor a list.
func namedPairs(v any) (out []namedVal, bad int, ok bool) {
	bad = -1
	switch x := v.(type) {
	case nil:
		return nil, -1, true
	case map[string]any:
		for _, k := range sortedKeys(x) {
			out = append(out, namedVal{k, x[k]})
		}
		return out, -1, true
	case []any:
		for i, e := range x {
			m, isMap := e.(map[string]any)
			if !isMap || len(m) != 1 {
				if bad < 0 {
					bad = i
				}
				continue
			}
			for k, val := range m {
				out = append(out, namedVal{k, val})
			}
		}
		return out, bad, true
	}
	return nil, -1, false
}

// pairs is namedPairs with the problems reported against key.
func (p *parser) pairs(key string, v any) ([]namedVal, bool) {
	out, bad, ok := namedPairs(v)
	if !ok {
		p.bad(key, "must be a map of names to values, not %s", kind(v))
		return nil, false
	}
	if bad >= 0 {
		p.bad(fmt.Sprintf("%s[%d]", key, bad), "each list item must be one name: value pair")
	}
	return out, true
}

// valueOrEnv reads a setting given either literally (name) or through an
// environment variable (name_env), never both; missing says what it is.
func (p *parser) valueOrEnv(key, name string, m map[string]any, missing string) string {
	envName := name + "_env"
	switch {
	case m[name] != nil && m[envName] != nil:
		p.bad(key+"."+name, "set %s or %s, not both", name, envName)
	case m[envName] != nil:
		if v, ok := p.env(key+"."+envName, m[envName]); ok {
			return v
		}
	default:
		v := p.str(key+"."+name, m[name], "")
		if v == "" {
			p.bad(key+"."+name, "missing: %s", missing)
		}
		return v
	}
	return ""
}

func (p *parser) fields(key string, v any) []Field {
	if v == nil {
		return nil
	}
	pairs, ok := p.pairs(key, v)
	if !ok {
		return nil
	}
	var out []Field
	seen := map[string]string{}
	for _, kv := range pairs {
		k := key + "." + kv.name
		name := strings.TrimSpace(kv.name)
		if name == "" {
			p.bad(key, "empty column name")
			continue
		}
		if kv.val == nil {
			continue // removed a preset column
		}
		if strings.ContainsAny(name, "[]") {
			p.bad(k, "column names cannot hold [ or ]: mappings write columns as [Name]")
			continue
		}
		if prev, dup := seen[strings.ToLower(name)]; dup {
			p.bad(k, "duplicate column (names are compared without regard to case): %s and %s", prev, name)
			continue
		}
		seen[strings.ToLower(name)] = name
		path := p.path(k, kv.val)
		if path == "" {
			if _, isStr := kv.val.(string); isStr {
				p.bad(k, "empty path: name the record field, e.g. %s: employeeId", name)
			}
			continue
		}
		out = append(out, Field{Name: name, Path: path})
	}
	if out == nil {
		// an empty fields map means the automatic columns
		return nil
	}
	return out
}

// ---- paging ----

var pagingTypes = []string{PagingNone, PagingNextLink, PagingLinkHeader, PagingPage, PagingOffset, PagingCursor}

var pagingKeys = map[string][]string{
	PagingNone:       {"type"},
	PagingNextLink:   {"type", "next"},
	PagingLinkHeader: {"type"},
	PagingPage:       {"type", "page_param", "first_page", "size_param", "size", "total"},
	PagingOffset:     {"type", "offset_param", "limit_param", "size", "total"},
	PagingCursor:     {"type", "cursor", "cursor_param", "size_param", "size"},
}

func (p *parser) paging(key string, v any) Paging {
	pg := Paging{Type: PagingNone}
	if v == nil {
		return pg
	}
	m, ok := v.(map[string]any)
	if !ok {
		if s, isStr := v.(string); isStr {
			m = map[string]any{"type": s}
		} else {
			p.bad(key, "must be a map with a type, not %s", kind(v))
			return pg
		}
	}
	t := strings.ToLower(p.str(key+".type", m["type"], PagingNone))
	allowed, ok := pagingKeys[t]
	if !ok {
		p.bad(key+".type", "unknown %q; use one of %s", t, strings.Join(pagingTypes, ", "))
		return pg
	}
	pg.Type = t
	p.checkKeysFor(key, m, allowed, "paging type "+t)
	switch t {
	case PagingNextLink:
		pg.Next = p.path(key+".next", m["next"])
		if pg.Next == "" {
			p.bad(key+".next", "missing: the body path of the next page's URL, e.g. d.__next or @odata.nextLink")
		}
	case PagingPage:
		pg.PageParam = p.str(key+".page_param", m["page_param"], "page")
		pg.FirstPage = p.integer(key+".first_page", m["first_page"], 1, 0, 1)
		pg.SizeParam = p.str(key+".size_param", m["size_param"], "per_page")
		pg.Size = p.integer(key+".size", m["size"], DefaultPageSize, 1, 1000000)
		pg.Total = p.path(key+".total", m["total"])
	case PagingOffset:
		pg.OffsetParam = p.str(key+".offset_param", m["offset_param"], "offset")
		pg.SizeParam = p.str(key+".limit_param", m["limit_param"], "limit")
		pg.Size = p.integer(key+".size", m["size"], DefaultPageSize, 1, 1000000)
		pg.Total = p.path(key+".total", m["total"])
	case PagingCursor:
		pg.Cursor = p.path(key+".cursor", m["cursor"])
		if pg.Cursor == "" {
			p.bad(key+".cursor", "missing: the body path of the next cursor, e.g. meta.next_cursor")
		}
		pg.CursorParam = p.str(key+".cursor_param", m["cursor_param"], "cursor")
		pg.SizeParam = p.str(key+".size_param", m["size_param"], "")
		if pg.SizeParam != "" {
			pg.Size = p.integer(key+".size", m["size"], DefaultPageSize, 1, 1000000)
		} else if m["size"] != nil {
			p.bad(key+".size", "needs size_param: the query parameter the size is sent in")
		}
	}
	return pg
}

// checkKeysFor reports keys that do not belong to the chosen type.
func (p *parser) checkKeysFor(at string, m map[string]any, allowed []string, what string) {
	set := map[string]bool{}
	for _, k := range allowed {
		set[k] = true
	}
	for _, k := range sortedKeys(m) {
		if set[k] {
			continue
		}
		if s := suggest.Closest(k, allowed, 3); s != "" && s != "type" {
			p.bad(at+"."+k, "unknown key for %s; did you mean %s?", what, s)
			continue
		}
		p.bad(at+"."+k, "not a setting of %s (its keys: %s)", what, strings.Join(allowed, ", "))
	}
}

// ---- auth ----

var authTypes = []string{AuthNone, AuthBearer, AuthBasic, AuthOAuth2}

var authKeys = map[string][]string{
	AuthNone:   {"type"},
	AuthBearer: {"type", "token_env"},
	AuthBasic:  {"type", "username", "username_env", "password_env", "api_key_env"},
	AuthOAuth2: {"type", "token_url", "client_id", "client_id_env", "client_secret_env", "scope", "params", "client_auth"},
}

// literalSecrets are keys that would put a secret in the config file,
// with the key that names its environment variable instead, in the order
// their errors are reported.
var literalSecrets = [...]struct{ key, env string }{
	{"token", "token_env"}, {"password", "password_env"}, {"client_secret", "client_secret_env"},
	{"api_key", "api_key_env"}, {"secret", "client_secret_env"},
}

// auth reads the auth settings: the type, then that type's credentials.
func (p *parser) auth(key string, v any) Auth {
	a := Auth{Type: AuthNone}
	if v == nil {
		return a
	}
	m, ok := v.(map[string]any)
	if !ok {
		p.bad(key, "must be a map with a type, not %s", kind(v))
		return a
	}
	p.refuseLiteralSecrets(key, m)
	t := strings.ToLower(p.str(key+".type", m["type"], AuthNone))
	allowed, ok := authKeys[t]
	if !ok {
		p.bad(key+".type", "unknown %q; use one of %s", t, strings.Join(authTypes, ", "))
		return a
	}
	a.Type = t
	p.checkKeysFor(key, m, allowed, "auth type "+t)
	switch t {
	case AuthBearer:
		if tok, ok := p.env(key+".token_env", m["token_env"]); ok {
			a.Token = NewSecret(tok)
		}
	case AuthBasic:
		p.basicAuth(key, m, &a)
	case AuthOAuth2:
		p.oauth2(key, m, &a)
	}
	return a
}

// refuseLiteralSecrets reports, and drops from m, the keys that would put
// a secret in the config file.
func (p *parser) refuseLiteralSecrets(key string, m map[string]any) {
	for _, ls := range literalSecrets {
		if _, ok := m[ls.key]; ok {
			p.bad(key+"."+ls.key, "secrets never live in the config file: put it in an environment variable and name it with %s", ls.env)
			delete(m, ls.key)
		}
	}
}

// basicAuth reads basic credentials: a user name and password_env, or an
// API key sent as the user name with the password "x" (BambooHR).
func (p *parser) basicAuth(key string, m map[string]any, a *Auth) {
	if m["api_key_env"] != nil {
		if m["username"] != nil || m["username_env"] != nil || m["password_env"] != nil {
			p.bad(key+".api_key_env", "use either api_key_env or username and password_env")
		}
		if k, ok := p.env(key+".api_key_env", m["api_key_env"]); ok {
			a.APIKey = NewSecret(k)
		}
		return
	}
	a.Username = p.valueOrEnv(key, "username", m, "the API user's name (or username_env; or api_key_env for an API key used as the user name)")
	if strings.Contains(a.Username, ":") {
		p.bad(key+".username", "a basic-auth user name cannot contain \":\"")
	}
	if pw, ok := p.env(key+".password_env", m["password_env"]); ok {
		a.Password = NewSecret(pw)
	}
}

// oauth2 reads the settings of the OAuth 2.0 client credentials token
// request.
func (p *parser) oauth2(key string, m map[string]any, a *Auth) {
	a.TokenURL = p.url(key+".token_url", m["token_url"], true)
	if a.TokenURL == nil && m["token_url"] == nil {
		p.bad(key+".token_url", "missing: the token endpoint, e.g. https://login.example.com/oauth2/token")
	}
	a.ClientID = p.valueOrEnv(key, "client_id", m, "the OAuth client's id (or client_id_env)")
	if sec, ok := p.env(key+".client_secret_env", m["client_secret_env"]); ok {
		a.ClientSecret = NewSecret(sec)
	}
	a.Scope = p.scope(key+".scope", m["scope"])
	a.Params = p.params(key+".params", m["params"])
	for _, prm := range a.Params {
		switch prm.Name {
		case "grant_type", "client_id", "client_secret", "scope":
			p.bad(key+".params."+prm.Name, "is set by hrsync; use the auth keys instead")
		}
	}
	a.ClientAuth = strings.ToLower(p.str(key+".client_auth", m["client_auth"], "basic"))
	if a.ClientAuth != "basic" && a.ClientAuth != "post" {
		p.bad(key+".client_auth", "unknown %q; use basic (Authorization header) or post (form fields)", a.ClientAuth)
	}
}

// scope reads the OAuth scope: text, or a list of scopes joined by
// spaces.
func (p *parser) scope(key string, v any) string {
	switch sc := v.(type) {
	case nil:
		return ""
	case []any:
		var parts []string
		for _, e := range sc {
			parts = append(parts, fmt.Sprint(e))
		}
		return strings.Join(parts, " ")
	default:
		return p.str(key, sc, "")
	}
}

// ---- presets ----

// mergePreset lays the user's settings over a preset's. headers, query and
// fields merge name by name (a null value removes a preset entry); paging
// and auth merge key by key unless the user picks another type; any other
// setting replaces the preset's.
func mergePreset(preset, user map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range preset {
		out[k] = v
	}
	for k, v := range user {
		switch k {
		case "headers", "query":
			out[k] = mergeNamed(out[k], v)
		case "fields":
			out[k] = mergeNamed(out[k], v)
		case "paging", "auth":
			pm, _ := out[k].(map[string]any)
			um, ok := v.(map[string]any)
			if pm == nil || !ok {
				out[k] = v
				continue
			}
			if ut, ok := um["type"]; ok && !strings.EqualFold(fmt.Sprint(ut), fmt.Sprint(pm["type"])) {
				out[k] = v
				continue
			}
			mm := map[string]any{}
			for kk, vv := range pm {
				mm[kk] = vv
			}
			for kk, vv := range um {
				if vv == nil {
					delete(mm, kk)
					continue
				}
				mm[kk] = vv
				// username and username_env (and the other either-or
				// pairs) replace each other
				for _, pair := range [][2]string{{"username", "username_env"}, {"client_id", "client_id_env"}} {
					if kk == pair[0] {
						delete(mm, pair[1])
					} else if kk == pair[1] {
						delete(mm, pair[0])
					}
				}
			}
			out[k] = mm
		default:
			out[k] = v
		}
	}
	return out
}

// mergeNamed merges name/value collections (maps or lists of one-key
// maps) into a list of one-key maps that keeps the preset's order. Names
// match without regard to case (header and column names are
// case-insensitive; query parameters rarely differ by case alone).
func mergeNamed(preset, user any) any {
	if user == nil {
		return preset
	}
	toList := func(v any) ([]namedVal, bool) {
		out, bad, ok := namedPairs(v)
		return out, ok && bad < 0
	}
	pl, ok1 := toList(preset)
	ul, ok2 := toList(user)
	if !ok1 || !ok2 {
		return user // let the parser report the shape
	}
	for _, u := range ul {
		found := false
		for i := range pl {
			if strings.EqualFold(pl[i].name, u.name) {
				pl[i] = u
				found = true
				break
			}
		}
		if !found {
			pl = append(pl, u)
		}
	}
	out := make([]any, 0, len(pl))
	for _, kv := range pl {
		out = append(out, map[string]any{kv.name: kv.val})
	}
	return out
}

func presetNames() []string {
	var names []string
	for n := range presets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
