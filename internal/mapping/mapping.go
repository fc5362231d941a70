// Package mapping loads mapping files, which say how an HR record becomes an
// Entra user: the match key and an expression for each attribute, written in
// Entra's attribute-mapping expression language (package expr).
package mapping

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/iso3166"
	"github.com/hrsync/hrsync/internal/mapping/expr"
	"github.com/hrsync/hrsync/internal/yamlline"
	"golang.org/x/text/unicode/norm"
	"gopkg.in/yaml.v3"
)

// A record's multi-valued fields (an LDAP source's attributes) are lists
// in expressions.
var _ expr.ListEnv = (*identity.Record)(nil)

// Mapping is a loaded, compiled mapping file.
type Mapping struct {
	// File is the path the mapping was loaded from, as given.
	File string
	// Schema is the target directory's schema the mapping was compiled
	// against.
	Schema *identity.Schema
	// Digest is "sha256:<hex>" of the file's bytes.
	Digest string
	// Match says how records and users are paired: the first match rule,
	// whose target attribute also defines which users hrsync manages.
	Match Match
	// Rules are all match rules in order of precedence (Rules[0] is
	// Match): a record that the first rule pairs with no user is tried with
	// the next, e.g. to take over accounts that predate hrsync by their UPN.
	Rules []Match
	// Scope filters the records hrsync manages; nil manages all.
	Scope *Scope
	// Attrs are the mapped attributes in file order (the manager included).
	Attrs []Attr
	// Manager is the manager attribute, nil when the mapping does not map it.
	Manager *Attr
	// Groups and Licenses are the entitlement rules: the group
	// memberships and licenses in-scope, active records get.
	Groups   []Rule
	Licenses []Rule
	// usesNow says some attribute calls Now(): Map then evaluates with the
	// plan's clock.
	usesNow bool
	// layout gives each attribute Map sets a slot in the records' Attrs.
	layout *identity.Layout
}

// Match pairs a record with a user: the value of Source for the record must
// equal the user's Target attribute.
type Match struct {
	Source *expr.Program
	Target identity.AttrSpec
	Line   int
}

// Attr is one mapped attribute.
type Attr struct {
	Spec identity.AttrSpec
	Prog *expr.Program
	Line int
	// Apply is when the attribute flows: ApplyAlways, ApplyOnCreate or
	// ApplyWhenEmpty.
	Apply string
	// Unique says the expression is SelectUniqueValue: its candidates are
	// checked against the tenant and the plan.
	Unique bool
	// Invert says the mapping names the attribute by an alias that means
	// its negation (Active Directory's accountDisabled for accountEnabled):
	// the expression's boolean is inverted.
	Invert bool
	// Volatile says its value is random (the expression calls Guid or
	// RandomString): a second evaluation gives another, so apply cannot
	// re-derive it and checks only that it is set. Only an attribute that
	// is never rewritten on an existing user (apply on_create or
	// when_empty, or set on create only by the schema) may be volatile.
	Volatile bool
	// usesNow says the expression calls Now().
	usesNow bool
}

// Apply modes of an attribute, as Entra's "Apply this mapping".
const (
	ApplyAlways    = "always"
	ApplyOnCreate  = "on_create"
	ApplyWhenEmpty = "when_empty"
)

// Error is a problem in the mapping file itself.
type Error struct {
	File string
	Line int
	Attr string // the attribute concerned, if any
	Err  error
}

// Error renders "file:line: attribute: problem".
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d: ", e.File, e.Line)
	if e.Attr != "" {
		fmt.Fprintf(&b, "%s: ", e.Attr)
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the underlying problem.
func (e *Error) Unwrap() error { return e.Err }

// Load reads and compiles a mapping file against the attribute schema.
func Load(path string, schema *identity.Schema) (*Mapping, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read mapping: %w", err)
	}
	return Parse(path, data, schema)
}

// Parse compiles mapping file content; name is used in errors.
func Parse(name string, data []byte, schema *identity.Schema) (*Mapping, error) {
	sum := sha256.Sum256(data)
	m := &Mapping{File: name, Schema: schema, Digest: "sha256:" + hex.EncodeToString(sum[:])}
	root, err := parseRoot(name, data)
	if err != nil {
		return nil, err
	}
	fp := &fileParse{name: name, schema: schema}
	matchNode, attrsNode, scopeNode := fp.sections(root, m)
	m.Rules = fp.matchRules(root, matchNode)
	if len(m.Rules) > 0 {
		m.Match = m.Rules[0]
	}
	if scopeNode != nil {
		m.Scope = parseScope(scopeNode, fp.fail)
	}
	fp.attributes(m, root, attrsNode)
	names := make([]string, 0, len(m.Attrs)+1)
	for i := range m.Attrs {
		if m.Attrs[i].Spec.Kind == identity.KindRef {
			m.Manager = &m.Attrs[i]
			continue
		}
		names = append(names, m.Attrs[i].Spec.Name)
	}
	m.layout = identity.NewLayout(append(names, m.Match.Target.Name))
	if len(fp.errs) > 0 {
		return nil, errors.Join(fp.errs...)
	}
	return m, nil
}

// parseRoot reads a mapping file's YAML; its root must be a mapping.
func parseRoot(name string, data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		var le *yamlline.Error
		if errors.As(yamlline.Locate(data, err), &le) {
			return nil, &Error{File: name, Line: le.Line, Err: errors.New(le.Detail())}
		}
		return nil, fmt.Errorf("mapping %s: %w", name, err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, &Error{File: name, Line: 1, Err: errors.New("expected the keys match and attributes")}
	}
	return doc.Content[0], nil
}

// fileParse is the compiling of one mapping file: it collects every
// problem found, so that one run reports them all.
type fileParse struct {
	name   string
	schema *identity.Schema
	errs   []error
}

// fail records a problem at a line of the file, about attr if not "".
func (fp *fileParse) fail(line int, attr string, err error) {
	fp.errs = append(fp.errs, &Error{File: fp.name, Line: line, Attr: attr, Err: err})
}

// sections reads the top-level keys of the file: the group and license
// rules go into m; the match, attributes and scope sections are returned
// (nil when missing).
func (fp *fileParse) sections(root *yaml.Node, m *Mapping) (matchNode, attrsNode, scopeNode *yaml.Node) {
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "match":
			matchNode = v
		case "attributes":
			attrsNode = v
		case "scope":
			scopeNode = v
		case "groups":
			m.Groups = parseRules(v, KindGroup, fp.fail)
		case "licenses":
			m.Licenses = parseRules(v, KindLicense, fp.fail)
		case "description":
		default:
			fp.fail(k.Line, "", fmt.Errorf("unknown key %q (expected match, scope, attributes, groups, licenses, description)", k.Value))
		}
	}
	return matchNode, attrsNode, scopeNode
}

// matchRules compiles the match section, one rule or a list of them, at
// most one a target attribute.
func (fp *fileParse) matchRules(root, n *yaml.Node) []Match {
	if n == nil {
		fp.fail(root.Line, "", errors.New("missing match: (source: expression for the key, target: Entra attribute holding it)"))
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		if r, ok := parseMatch(n, fp.schema, true, fp.fail); ok {
			return []Match{r}
		}
		return nil
	}
	if len(n.Content) == 0 {
		fp.fail(n.Line, "match", errors.New("no match rules"))
	}
	var rules []Match
	seenTargets := map[string]int{}
	for i, rn := range n.Content {
		r, ok := parseMatch(rn, fp.schema, i == 0, fp.fail)
		if !ok {
			continue
		}
		if prev, dup := seenTargets[r.Target.Name]; dup {
			fp.fail(rn.Line, "match", fmt.Errorf("a second rule on %s (first at line %d)", r.Target.Name, prev))
			continue
		}
		seenTargets[r.Target.Name] = rn.Line
		rules = append(rules, r)
	}
	return rules
}

// attributes compiles the attributes section n into m.Attrs, in file
// order.
func (fp *fileParse) attributes(m *Mapping, root, n *yaml.Node) {
	if n == nil || n.Kind != yaml.MappingNode || len(n.Content) == 0 {
		fp.fail(root.Line, "", errors.New("missing attributes: (Entra attribute: expression)"))
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if a, ok := fp.attribute(n.Content[i], n.Content[i+1], seen); ok {
			m.usesNow = m.usesNow || a.usesNow
			m.Attrs = append(m.Attrs, a)
		}
	}
}

// attribute compiles one entry of the attributes section: k names the
// attribute, v is its expression or the keys expression and apply. seen
// maps the attributes met so far to their lines.
func (fp *fileParse) attribute(k, v *yaml.Node, seen map[string]int) (Attr, bool) {
	schema := fp.schema
	spec, invert, ok := fp.attrSpec(k, seen)
	if !ok {
		return Attr{}, false
	}
	exprNode, apply, ok := fp.attrValue(v, spec.Name)
	if !ok {
		return Attr{}, false
	}
	if exprNode.Kind != yaml.ScalarNode {
		fp.fail(exprNode.Line, spec.Name, notScalar(exprNode))
		return Attr{}, false
	}
	prog, err := expr.Parse(exprNode.Value)
	if err != nil {
		fp.fail(exprNode.Line, spec.Name, err)
		return Attr{}, false
	}
	unique := usesUnique(prog)
	if unique && schema.Namespace(spec.Name) < 0 {
		fp.fail(exprNode.Line, spec.Name, fmt.Errorf("SelectUniqueValue only picks values for %s", strings.Join(schema.UniqueAttrs(), ", ")))
		return Attr{}, false
	}
	if spec.Kind == identity.KindRef && apply != ApplyAlways {
		fp.fail(v.Line, spec.Name, errors.New("the manager flows always"))
		return Attr{}, false
	}
	switch apply {
	case ApplyOnCreate:
		spec.CreateOnly = true
	case ApplyWhenEmpty:
		if spec.NotNullable || spec.Name == schema.Roles.Enabled {
			fp.fail(v.Line, spec.Name, fmt.Errorf("when_empty does not suit an attribute %s always holds", schema.Name))
			return Attr{}, false
		}
		spec.WhenEmpty = true
	}
	volatile := randomFunc(prog)
	if volatile != "" && !spec.CreateOnly && !spec.WhenEmpty {
		fp.fail(exprNode.Line, spec.Name, fmt.Errorf("%s gives a new value on every evaluation, so with apply: %s it would change the user on every run; it is allowed with apply: %s (a value for new users only) or apply: %s (only while %s holds none)",
			volatile, apply, ApplyOnCreate, ApplyWhenEmpty, schema.Name))
		return Attr{}, false
	}
	return Attr{Spec: spec, Prog: prog, Line: exprNode.Line, Apply: apply, Unique: unique, Invert: invert, Volatile: volatile != "", usesNow: calls(prog, "Now")}, true
}

// attrSpec looks up the attribute an attributes key k names, following
// an alias that means its negation (invert), and refuses one mapped
// twice.
func (fp *fileParse) attrSpec(k *yaml.Node, seen map[string]int) (spec identity.AttrSpec, invert, ok bool) {
	schema := fp.schema
	spec, ok = schema.Lookup(k.Value)
	if !ok {
		fp.fail(k.Line, k.Value, fmt.Errorf("unknown %s attribute; known: %s", schema.Name, strings.Join(schema.Names(), ", ")))
		return spec, false, false
	}
	if spec.Inverts != "" {
		if spec, ok = schema.Lookup(spec.Inverts); !ok {
			fp.fail(k.Line, k.Value, fmt.Errorf("the schema's alias names no attribute"))
			return spec, false, false
		}
		invert = true
	}
	if prev, dup := seen[spec.Name]; dup {
		also := ""
		if invert || k.Value != spec.Name && !strings.EqualFold(k.Value, spec.Name) {
			also = fmt.Sprintf("; %s and its negation count as one", spec.Name)
		}
		fp.fail(k.Line, k.Value, fmt.Errorf("mapped twice (first at line %d%s)", prev, also))
		return spec, invert, false
	}
	seen[spec.Name] = k.Line
	return spec, invert, true
}

// attrValue reads an attribute's value v: an expression, or the keys
// expression and apply; the apply mode is ApplyAlways unless it says
// otherwise.
func (fp *fileParse) attrValue(v *yaml.Node, attr string) (exprNode *yaml.Node, apply string, ok bool) {
	if v.Kind != yaml.MappingNode {
		return v, ApplyAlways, true
	}
	apply = ApplyAlways
	for j := 0; j+1 < len(v.Content); j += 2 {
		kk, vv := v.Content[j], v.Content[j+1]
		switch kk.Value {
		case "expression":
			exprNode = vv
		case "apply":
			switch vv.Value {
			case ApplyAlways, ApplyOnCreate, ApplyWhenEmpty:
				apply = vv.Value
			default:
				fp.fail(vv.Line, attr, fmt.Errorf("unknown apply mode %q; use always, on_create or when_empty", vv.Value))
			}
		default:
			fp.fail(kk.Line, attr, fmt.Errorf("unknown key %q (expected expression, apply)", kk.Value))
		}
	}
	if exprNode == nil {
		fp.fail(v.Line, attr, errors.New("missing the expression key"))
		return nil, apply, false
	}
	return exprNode, apply, true
}

// parseMatch reads one match rule. The first rule's target must be an
// attribute admin and service accounts do not carry (it defines the users
// hrsync manages); later rules may also match on the unique attributes
// (userPrincipalName, mail or mailNickname in Entra).
func parseMatch(n *yaml.Node, schema *identity.Schema, primary bool, fail func(int, string, error)) (Match, bool) {
	var r Match
	if n.Kind != yaml.MappingNode {
		fail(n.Line, "match", errors.New("expected the keys source and target"))
		return r, false
	}
	r.Line = n.Line
	var src, tgt *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch n.Content[i].Value {
		case "source":
			src = n.Content[i+1]
		case "target":
			tgt = n.Content[i+1]
		default:
			fail(n.Content[i].Line, "match", fmt.Errorf("unknown key %q (expected source, target)", n.Content[i].Value))
		}
	}
	ok := true
	if src != nil && src.Kind != yaml.ScalarNode {
		fail(src.Line, "match.source", notScalar(src))
		ok = false
	} else if src == nil || src.Value == "" {
		fail(n.Line, "match", errors.New("missing source: (e.g. '[WorkerID]')"))
		ok = false
	} else if prog, err := expr.Parse(src.Value); err != nil {
		fail(src.Line, "match.source", err)
		ok = false
	} else if err := checkDeterministic(prog); err != nil {
		fail(src.Line, "match.source", err)
		ok = false
	} else if usesUnique(prog) {
		fail(src.Line, "match.source", errors.New("SelectUniqueValue cannot give a match key"))
		ok = false
	} else {
		r.Source = prog
	}
	if tgt == nil || tgt.Value == "" {
		fail(n.Line, "match", fmt.Errorf("missing target: (e.g. %s)", schema.Roles.Match))
		return r, false
	}
	spec, found := schema.Lookup(tgt.Value)
	secondary := found && !primary && schema.Namespace(spec.Name) >= 0
	if !found || (!spec.Matchable && !secondary) {
		var names []string
		for _, a := range schema.Names() {
			if s, _ := schema.Lookup(a); s.Matchable {
				names = append(names, a)
			}
		}
		if !primary {
			names = append(names, schema.UniqueAttrs()...)
		}
		why := ""
		if primary && found {
			why = " for the first rule (it decides which users hrsync manages, and admin accounts have a UPN too)"
		}
		fail(tgt.Line, "match.target", fmt.Errorf("%q cannot be a match attribute%s; use one of %s", tgt.Value, why, strings.Join(names, ", ")))
		return r, false
	}
	r.Target = spec
	return r, ok
}

// usesUnique reports whether p is SelectUniqueValue (Entra allows it only
// as the whole expression).
func usesUnique(p *expr.Program) bool {
	for _, f := range p.Functions() {
		if f == "SelectUniqueValue" {
			return true
		}
	}
	return false
}

// checkDeterministic refuses, in a match source, the scope or an
// entitlement rule, the functions whose result is not a function of the
// record: the match key, the scope and entitlements must not change with
// the date or at random. (Attributes may use them; see Parse.)
func checkDeterministic(p *expr.Program) error {
	for _, f := range p.Functions() {
		switch f {
		case "Now":
			return errors.New("only attribute expressions may call Now(): a match key, the scope or a group or license rule must not change with the date; map a value from the source")
		case "Guid", "RandomString":
			return fmt.Errorf("%s gives a new value on every evaluation, so every plan would change it; it is allowed only in attributes with apply: %s or %s", f, ApplyOnCreate, ApplyWhenEmpty)
		}
	}
	return nil
}

// randomFunc returns the first random function (Guid, RandomString) p
// calls, or "".
func randomFunc(p *expr.Program) string {
	for _, f := range p.Functions() {
		if f == "Guid" || f == "RandomString" {
			return f
		}
	}
	return ""
}

// calls reports whether p calls the function fn (as expr names it).
func calls(p *expr.Program, fn string) bool {
	for _, f := range p.Functions() {
		if f == fn {
			return true
		}
	}
	return false
}

// clock returns the evaluation context for Now() at now, or nil when no
// attribute calls Now() (the nil context costs nothing).
func (m *Mapping) clock(now time.Time) *expr.Context {
	if !m.usesNow {
		return nil
	}
	return &expr.Context{Now: func() time.Time { return now }}
}

// notScalar explains a YAML value that is not a plain string: an unquoted
// [Column] is a YAML list, the commonest slip in a mapping file.
func notScalar(v *yaml.Node) error {
	if v.Kind == yaml.SequenceNode {
		return errors.New("YAML read this value as a list: quote the expression, e.g. '[WorkerID]'")
	}
	return errors.New("value must be an expression string, e.g. '[FirstName]'")
}

// Fields lists the source fields the mapping reads, sorted.
func (m *Mapping) Fields() []string {
	set := map[string]bool{}
	for _, r := range m.Rules {
		for _, f := range r.Source.Fields() {
			set[f] = true
		}
	}
	for _, f := range m.Scope.fields() {
		set[f] = true
	}
	for _, f := range append(ruleFields(m.Groups), ruleFields(m.Licenses)...) {
		set[f] = true
	}
	for _, a := range m.Attrs {
		for _, f := range a.Prog.Fields() {
			set[f] = true
		}
	}
	out := make([]string, 0, len(set))
	for f := range set {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// CheckFields reports every field the mapping reads that the source header
// lacks: a typo in a column name must fail loudly, not map to empty values
// for every worker.
func (m *Mapping) CheckFields(h *identity.Header, sourceName string) error {
	var errs []error
	check := func(line int, attr string, p *expr.Program) {
		for _, f := range p.Fields() {
			if _, ok := h.Index(f); !ok {
				errs = append(errs, &Error{File: m.File, Line: line, Attr: attr,
					Err: fmt.Errorf("field [%s] is not a column of %s (columns: %s)", f, sourceName, strings.Join(h.Names, ", "))})
			}
		}
	}
	for _, r := range m.Rules {
		check(r.Line, "match.source", r.Source)
	}
	if s := m.Scope; s != nil {
		if s.Expr != nil {
			check(s.Line, "scope", s.Expr)
		}
		for _, g := range s.Groups {
			for _, c := range g {
				if _, ok := h.Index(c.Field); !ok {
					errs = append(errs, &Error{File: m.File, Line: c.Line, Attr: "scope",
						Err: fmt.Errorf("field [%s] is not a column of %s (columns: %s)", c.Field, sourceName, strings.Join(h.Names, ", "))})
				}
			}
		}
	}
	for _, a := range m.Attrs {
		check(a.Line, a.Spec.Name, a.Prog)
	}
	missing := func(line int, attr, f string) {
		errs = append(errs, &Error{File: m.File, Line: line, Attr: attr,
			Err: fmt.Errorf("field [%s] is not a column of %s (columns: %s)", f, sourceName, strings.Join(h.Names, ", "))})
	}
	checkRuleFields(m.Groups, h, missing)
	checkRuleFields(m.Licenses, h, missing)
	return errors.Join(errs...)
}

// TargetAttrs lists the directory attributes hrsync must read to diff:
// every mapped attribute (the manager excluded), the match attribute, and
// the attributes whose roles the plan needs (account state, name, sign-in
// name, placement).
func (m *Mapping) TargetAttrs() []string {
	r := m.Schema.Roles
	set := map[string]bool{m.Match.Target.Name: true}
	for _, a := range []string{r.Enabled, r.DisplayName, r.SignIn, r.Placement} {
		if a != "" {
			set[a] = true
		}
	}
	for _, r := range m.Rules {
		set[r.Target.Name] = true
	}
	for _, a := range m.Attrs {
		if a.Spec.Kind != identity.KindRef {
			set[a.Spec.Name] = true
		}
		if a.Unique {
			// candidates are checked against every holder of these
			for _, u := range m.Schema.UniqueAttrs() {
				set[u] = true
			}
		}
		// A directory that writes a group of attributes whole needs the
		// others resent with a change to one: read them all.
		for _, part := range m.Schema.WholeWith(a.Spec.Name) {
			set[part] = true
		}
		// A unique value scoped by another attribute (a cn within its
		// OU) needs that one too.
		if i := m.Schema.Namespace(a.Spec.Name); i >= 0 && m.Schema.Unique[i].Within != "" {
			set[m.Schema.Unique[i].Within] = true
		}
	}
	out := make([]string, 0, len(set))
	for a := range set {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// RecordError is a record the mapping could not turn into an identity.
type RecordError struct {
	Prov identity.Provenance
	// Key is the record's match key when it could be computed, else "".
	Key string
	// Attr is the attribute whose expression failed.
	Attr string
	// Line is the mapping file line of that attribute.
	Line int
	File string
	Err  error
}

// Error renders "source:line: attribute (mapping:line): problem".
func (e *RecordError) Error() string {
	return fmt.Sprintf("%s: %s (%s:%d): %v", e.Prov, e.Attr, e.File, e.Line, e.Err)
}

// Unwrap returns the underlying problem.
func (e *RecordError) Unwrap() error { return e.Err }

// Map evaluates the mapping for one record. now is the plan's clock, the
// instant the plan records as created_at: Now() gives it (to the second) in
// every expression of every record of the plan, so mapping the same record
// with the same now always gives the same result, except for Volatile
// attributes. The error, if any, is a *RecordError naming the record, the
// attribute and the mapping line.
func (m *Mapping) Map(rec *identity.Record, now time.Time) (identity.Desired, error) {
	d := identity.Desired{Prov: rec.Prov, Attrs: identity.NewAttrs(m.layout)}
	fail := func(e *RecordError) (identity.Desired, error) {
		e.Prov, e.Key, e.File = rec.Prov, d.Key, m.File
		return identity.Desired{}, e
	}
	key, e := m.matchKey(rec)
	if e != nil {
		return fail(e)
	}
	d.Key = key
	if m.Scope != nil {
		sr, err := m.InScope(rec)
		if err != nil {
			return fail(attrError("scope", m.Scope.Line, err))
		}
		if !sr.In {
			// Out of scope: never created or updated, so its attributes do
			// not matter; its key makes its user a leaver ("left scope").
			d.OutOfScope = true
			m.seal(&d, key)
			return d, nil
		}
	}
	alt, e := m.altKeys(rec)
	if e != nil {
		return fail(e)
	}
	if len(alt) > 0 {
		d.More().AltKeys = alt
	}
	ctx := m.clock(now)
	for _, a := range m.Attrs {
		if e := m.mapAttr(a, rec, ctx, &d); e != nil {
			return fail(e)
		}
	}
	if e := m.mapEntitlements(rec, &d); e != nil {
		return fail(e)
	}
	// The match attribute always carries the key, so a user created from
	// this record is found by the next run.
	if v, ok := d.Attrs.Lookup(m.Match.Target.Name); ok && v != key {
		return fail(attrError(m.Match.Target.Name, m.Match.Line, fmt.Errorf("maps to %q but the match key is %q; the match attribute must hold the key", v, key)))
	}
	m.seal(&d, key)
	return d, nil
}

// seal sets the match attribute of d to key and seals its attributes;
// d.Key becomes the key as sealed, not a slice of the record's source
// line, which it would keep alive.
func (m *Mapping) seal(d *identity.Desired, key string) {
	d.Attrs.Set(m.Match.Target.Name, key)
	d.Attrs.Seal()
	d.Key = d.Attrs.Get(m.Match.Target.Name)
}

// attrError is a failure of the mapping's attribute attr (written at line)
// for a record; Map names the record.
func attrError(attr string, line int, err error) *RecordError {
	return &RecordError{Attr: attr, Line: line, Err: err}
}

// matchKey evaluates the first match rule: the record's key, canonical
// and never empty.
func (m *Mapping) matchKey(rec *identity.Record) (string, *RecordError) {
	kv, err := m.Match.Source.Eval(rec)
	if err != nil {
		return "", attrError("match.source", m.Match.Line, err)
	}
	key, err := Canonical(m.Match.Target, kv.String())
	if err != nil {
		return "", attrError("match.source", m.Match.Line, err)
	}
	if key == "" {
		return "", attrError("match.source", m.Match.Line, fmt.Errorf("the match key %s is empty", m.Match.Source.Source()))
	}
	return key, nil
}

// altKeys evaluates the further match rules, in order.
func (m *Mapping) altKeys(rec *identity.Record) ([]string, *RecordError) {
	var keys []string
	for _, r := range m.Rules[1:] {
		v, err := r.Source.Eval(rec)
		if err != nil {
			return nil, attrError("match.source", r.Line, err)
		}
		alt, err := Canonical(r.Target, v.String())
		if err != nil {
			return nil, attrError("match.source", r.Line, err)
		}
		keys = append(keys, alt)
	}
	return keys, nil
}

// mapAttr evaluates attribute a for the record into d: its canonical
// value, its unique candidates, or that it does not flow (ignored).
func (m *Mapping) mapAttr(a Attr, rec *identity.Record, ctx *expr.Context, d *identity.Desired) *RecordError {
	if a.Unique {
		return m.mapUnique(a, rec, ctx, d)
	}
	v, err := a.Prog.EvalWith(rec, ctx)
	if err != nil {
		return attrError(a.Spec.Name, a.Line, err)
	}
	if a.Spec.Name == m.Schema.Roles.Enabled && (v.Ignored() || v.IsNullOrEmpty()) {
		// "No value" must never quietly mean enabled (on create) or
		// "leave as is" for a status the expression does not know.
		return attrError(a.Spec.Name, a.Line, errors.New("the expression gave no value; it must give True or False for every record (give Switch a default)"))
	}
	if v.Ignored() {
		// IgnoreFlowIfNullOrEmpty: this attribute does not flow for
		// this record; Entra keeps what it has.
		x := d.More()
		if x.Ignored == nil {
			x.Ignored = map[string]bool{}
		}
		x.Ignored[a.Spec.Name] = true
		return nil
	}
	if v.IsNull() {
		return nil
	}
	if v.Redacted() {
		x := d.More()
		if x.Redacted == nil {
			x.Redacted = map[string]bool{}
		}
		x.Redacted[a.Spec.Name] = true
	}
	c, err := Canonical(a.Spec, valueString(a.Spec, v))
	if err != nil {
		if v.Redacted() {
			// The reason quotes the value: say only which check failed.
			err = fmt.Errorf("the value (redacted) is not valid for %s", a.Spec.Name)
		}
		return attrError(a.Spec.Name, a.Line, err)
	}
	if a.Spec.Kind == identity.KindRef {
		d.ManagerKey = c
		return nil
	}
	if a.Invert {
		c = map[string]string{"true": "false", "false": "true"}[c]
	}
	if c != "" {
		d.Attrs.Set(a.Spec.Name, c)
	}
	return nil
}

// mapUnique evaluates a SelectUniqueValue attribute into d: its
// candidates, and the first of them as its value until the plan picks.
func (m *Mapping) mapUnique(a Attr, rec *identity.Record, ctx *expr.Context, d *identity.Desired) *RecordError {
	cands, err := m.candidates(a, rec, ctx)
	if err != nil {
		return attrError(a.Spec.Name, a.Line, err)
	}
	if len(cands) > 0 {
		x := d.More()
		if x.Candidates == nil {
			x.Candidates = map[string][]string{}
		}
		x.Candidates[a.Spec.Name] = cands
		d.Attrs.Set(a.Spec.Name, cands[0])
	}
	return nil
}

// mapEntitlements evaluates the group and license rules into d, with the
// rules whose lookups missed.
func (m *Mapping) mapEntitlements(rec *identity.Record, d *identity.Desired) *RecordError {
	groups, gMisses, err := entitlements(m.Groups, rec)
	if err != nil {
		return attrError("groups", m.Groups[0].Line, err)
	}
	licenses, lMisses, err := entitlements(m.Licenses, rec)
	if err != nil {
		return attrError("licenses", m.Licenses[0].Line, err)
	}
	if len(groups)+len(licenses)+len(gMisses)+len(lMisses) > 0 {
		x := d.More()
		x.Groups, x.Licenses, x.RuleMisses = groups, licenses, append(gMisses, lMisses...)
	}
	return nil
}

// candidates evaluates a SelectUniqueValue attribute's rules in order and
// returns the distinct, canonical, non-empty values; the plan picks the
// first one that is free in the tenant and the plan. ctx supplies the clock
// (nil: none needed).
func (m *Mapping) candidates(a Attr, rec *identity.Record, ctx *expr.Context) ([]string, error) {
	var raw []string
	uc := &expr.Context{IsUnique: func(v string) (bool, error) {
		raw = append(raw, v)
		return false, nil // ask for every candidate
	}}
	if ctx != nil {
		uc.Now = ctx.Now
	}
	_, err := a.Prog.EvalWith(rec, uc)
	var ee *expr.EvalError
	if err != nil && !(errors.As(err, &ee) && ee.Func == "SelectUniqueValue" && ee.Err == nil) {
		return nil, err
	}
	var out []string
	seen := map[string]bool{}
	for _, v := range raw {
		c, err := Canonical(a.Spec, v)
		if err != nil {
			return nil, err
		}
		if c != "" && !seen[strings.ToLower(c)] {
			seen[strings.ToLower(c)] = true
			out = append(out, c)
		}
	}
	return out, nil
}

// valueString is the text of an expression's value for Canonical. A
// date-time value (Now(), CDate, DateAdd) for a date attribute is given as
// RFC 3339, which ParseDate reads; elsewhere it is Entra's rendering
// ("7/2/2021 3:33:38 PM"), as CStr gives.
func valueString(spec identity.AttrSpec, v expr.Value) string {
	if t, ok := v.Time(); ok && spec.Kind == identity.KindDate {
		return t.Format(time.RFC3339)
	}
	return v.String()
}

func checkLen(spec identity.AttrSpec, v string) error {
	if spec.MaxLen > 0 {
		if n := len([]rune(v)); n > spec.MaxLen {
			return fmt.Errorf("value %q is %d characters; Entra allows at most %d for %s", v, n, spec.MaxLen, spec.Name)
		}
	}
	return nil
}

// Canonical turns a mapped value into the canonical form hrsync compares
// and writes: trimmed text, "true"/"false" for booleans, RFC 3339 UTC for
// dates, NFC for text. "" means unset.
func Canonical(spec identity.AttrSpec, v string) (string, error) {
	// NFC, as Entra stores what it is sent: "José" typed with a combining
	// accent must not differ from "José" on every run.
	v = norm.NFC.String(strings.TrimSpace(v))
	if v == "" {
		return "", nil
	}
	switch spec.Kind {
	case identity.KindBool:
		switch strings.ToLower(v) {
		case "true", "1", "yes":
			return "true", nil
		case "false", "0", "no":
			return "false", nil
		}
		return "", fmt.Errorf("value %q is not a boolean; the expression must give True or False", v)
	case identity.KindDate:
		if ft, ok := fileTime(v); ok {
			if ft.IsZero() {
				return "", nil // Active Directory's "never"
			}
			return ft.UTC().Format(time.RFC3339), nil
		}
		t, err := ParseDate(v)
		if err != nil {
			return "", err
		}
		return t.UTC().Format(time.RFC3339), nil
	}
	for i, r := range v {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return "", fmt.Errorf("value %q holds the control character %U at position %d; Entra attributes are single-line text (clean the source, or Replace it in the mapping)", v, r, i+1)
		}
	}
	if err := checkLen(spec, v); err != nil {
		return "", err
	}
	if spec.Name == "usageLocation" && !iso3166.Valid(v) {
		hint := "use an ISO 3166-1 alpha-2 code in upper case"
		if h := iso3166.Hint(v); h != "" {
			hint = fmt.Sprintf("did you mean %s? e.g. Switch([Country], [Country], %q, %q)", h, v, h)
		}
		return "", fmt.Errorf("usageLocation %q is not a country code Entra accepts: %s", v, hint)
	}
	return v, nil
}

// fileTime reads a Windows file time — 100-nanosecond intervals since
// 1601-01-01 UTC, as NumFromDate gives and Active Directory stores
// accountExpires — from a string of digits. 0 and the largest int64 mean
// "never" (a zero time). ok is false for anything that is not 15 to 19
// digits (or "0"), so plain numbers and dates are never taken for one.
func fileTime(v string) (time.Time, bool) {
	if v == "0" {
		return time.Time{}, true
	}
	if len(v) < 15 || len(v) > 19 {
		return time.Time{}, false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return time.Time{}, false
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n == math.MaxInt64 {
		return time.Time{}, err == nil
	}
	const epochDelta = 116444736000000000 // 1601-01-01 to 1970-01-01 in 100 ns
	d := n - epochDelta
	return time.Unix(d/1e7, (d%1e7)*100).UTC(), true
}

// ParseDate reads the date forms HR exports and Graph use.
func ParseDate(v string) (time.Time, error) {
	if len(v) == len("2006-01-02") {
		// The common HR form, tried first: failed parses allocate.
		if t, err := time.Parse("2006-01-02", v); err == nil {
			return t, nil
		}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("value %q is not a date; give YYYY-MM-DD or RFC 3339 (convert other forms with FormatDateTime)", v)
}
