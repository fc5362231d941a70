// Package plan holds the Plan — the reviewed list of changes hrsync will make
// — its versioned JSON file format, and Compute, the pure function that
// decides every change from the desired and current identities.
package plan

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/hrsync/hrsync/internal/identity"
)

// FormatVersion is the version of the plan file format this build writes.
// Readers accept the same major version only.
const FormatVersion = "1.0"

// Action kinds.
const (
	Create  = "create"
	Update  = "update"
	Enable  = "enable"
	Disable = "disable"
	Delete  = "delete"
	// Restore brings a soft-deleted user back from deleted items (a
	// rehire within Entra's 30 days), then writes its changes.
	Restore = "restore"
)

// Plan is everything hrsync will do in one apply, and the facts it was
// computed from. It is pure data: render and apply read it, nothing else
// decides.
type Plan struct {
	FormatVersion string    `json:"format_version"`
	ToolVersion   string    `json:"tool_version"`
	CreatedAt     time.Time `json:"created_at"`
	Target        Target    `json:"target"`
	Inputs        Inputs    `json:"inputs"`
	Match         MatchInfo `json:"match"`
	Policy        Policy    `json:"policy"`
	Summary       Summary   `json:"summary"`
	// Applyable is false when a safety threshold tripped; Blocked says why.
	Applyable bool      `json:"applyable"`
	Blocked   []string  `json:"blocked,omitempty"`
	Actions   []Action  `json:"actions"`
	Warnings  []Warning `json:"warnings"`
}

// Target identifies the directory the plan was computed against; apply
// refuses a plan made for another one.
type Target struct {
	Type     string `json:"type"`
	TenantID string `json:"tenant_id,omitempty"`
	Endpoint string `json:"endpoint"`
	// Naming is the attribute entries are named by, where the directory's
	// naming is configurable (an LDAP directory's rdn_attribute).
	Naming string `json:"naming,omitempty"`
}

// Inputs records digests of what the plan was computed from.
type Inputs struct {
	Config  InputFile `json:"config"`
	Mapping InputFile `json:"mapping"`
	Source  InputFile `json:"source"`
}

// InputFile is one input file with its digest.
type InputFile struct {
	Path    string `json:"path,omitempty"`
	Digest  string `json:"digest,omitempty"`
	Records int    `json:"records,omitempty"`
}

// MatchInfo records how records were paired with users.
type MatchInfo struct {
	Source string `json:"source"`
	Target string `json:"target"`
}

// Policy is the part of the configuration that decides what may change.
type Policy struct {
	Leavers           string  `json:"leavers"`
	MaxLeavers        int     `json:"max_leavers"`
	MaxLeaversPercent float64 `json:"max_leavers_percent"`
	// MaxCreates and MaxUpdates block a plan with more joiners, or more
	// updates (enables included), than this; 0: no limit.
	MaxCreates int `json:"max_creates,omitempty"`
	MaxUpdates int `json:"max_updates,omitempty"`
	// MaxSourceDropPercent blocks a plan whose source holds this share
	// fewer records than the managed users (a truncated export); 0: off.
	MaxSourceDropPercent float64 `json:"max_source_drop_percent,omitempty"`
	CreateDisabled       bool    `json:"create_disabled"`
	// PrehireDays is how many days before the hire date (the mapped
	// employeeHireDate) a joiner's account is created; PrehireEnabled
	// creates it enabled rather than disabled until the hire date.
	PrehireDays    int  `json:"prehire_days"`
	PrehireEnabled bool `json:"prehire_enabled,omitempty"`
	// DeleteAfterDays soft-deletes a disabled leaver this many days after
	// its leave date (employeeLeaveDateTime); 0: never delete.
	DeleteAfterDays int `json:"delete_after_days,omitempty"`
	// LeaverRemoveGroups and LeaverRemoveLicenses take a leaver out of the
	// groups and licenses the mapping's rules manage.
	LeaverRemoveGroups   bool `json:"leaver_remove_groups,omitempty"`
	LeaverRemoveLicenses bool `json:"leaver_remove_licenses,omitempty"`
	// Timezone is the IANA time zone in which HR's plain dates are days
	// (a hire date starts, a leave date ends, at its midnight); "" is UTC.
	Timezone string `json:"timezone,omitempty"`
	// LeaverPlacement, when set, is where disabled users are moved (Active
	// Directory's leavers OU): the value of the placement role a leaver
	// gets; a rehire goes back where the mapping places it.
	LeaverPlacement string `json:"leaver_placement,omitempty"`
}

// Summary counts the plan's actions and what was left alone.
type Summary struct {
	Create  int `json:"create"`
	Update  int `json:"update"`
	Disable int `json:"disable"`
	Enable  int `json:"enable"`
	Delete  int `json:"delete"`
	Restore int `json:"restore"`
	// GroupAdds, GroupRemoves and LicenseChanges count the entitlement
	// steps inside the actions.
	GroupAdds      int `json:"group_adds"`
	GroupRemoves   int `json:"group_removes"`
	LicenseChanges int `json:"license_changes"`
	// Pending counts future joiners whose hire date is more than
	// prehire_days away: created by a later run.
	Pending int `json:"pending"`
	// Unchanged counts matched users that need no change.
	Unchanged int `json:"unchanged"`
	// Skipped counts records left out of the plan (see warnings), and
	// disabled workers without an account when accounts are not created for them.
	Skipped int `json:"skipped"`
	// Managed counts users in the target scope (match attribute set).
	Managed int `json:"managed"`
	// Mastered counts managed users another directory masters (users
	// Entra Connect syncs from Active Directory) whose changes hrsync
	// left to that directory.
	Mastered int `json:"mastered,omitempty"`
	// ActiveManaged counts the managed users whose account is enabled:
	// what a complete source should roughly hold.
	ActiveManaged int `json:"active_managed"`
	// Problems counts the warnings that are unresolved problems (see
	// SeverityProblem); the other warnings are notes.
	Problems int `json:"problems"`
}

// Changes is the number of actions.
func (s Summary) Changes() int {
	return s.Create + s.Update + s.Disable + s.Enable + s.Delete + s.Restore
}

// Action is one change to one user.
type Action struct {
	Action string `json:"action"`
	// Key is the match key of the user.
	Key string `json:"key"`
	// ID is the Entra object id; empty for creates.
	ID string `json:"id,omitempty"`
	// DisplayName and UserPrincipalName identify the user for reviewers.
	DisplayName       string `json:"display_name,omitempty"`
	UserPrincipalName string `json:"user_principal_name,omitempty"`
	// Lifecycle classifies the action for people: joiner, mover (an
	// organisational attribute or the manager changes), update, leaver or
	// rehire (a disabled user enabled again).
	Lifecycle string `json:"lifecycle,omitempty"`
	// Reason explains disables and enables ("absent from source", ...).
	Reason string `json:"reason,omitempty"`
	// Event is the lifecycle event behind the action, when there is one:
	// EventPrehire, EventHireDate, EventLeaveDate, EventRehire ...
	Event string `json:"event,omitempty"`
	// Source is where the record came from; nil for leavers.
	Source *identity.Provenance `json:"source,omitempty"`
	// Changes lists every attribute written, in mapping order.
	Changes []Change `json:"changes"`
	// Manager is set when the manager reference changes.
	Manager *ManagerRef `json:"manager,omitempty"`
	// Groups are the group memberships the action adds and removes, only
	// of groups the mapping's rules name.
	Groups []GroupChange `json:"groups,omitempty"`
	// Licenses are the licenses the action assigns and removes (one
	// assignLicense call), only of SKUs the mapping's rules name.
	Licenses []LicenseChange `json:"licenses,omitempty"`
	// Revoke ends the user's sign-in sessions (besides a disable, which
	// always does where the directory has sessions): a leaver another
	// directory disabled, whose sessions predate that.
	Revoke bool `json:"revoke_sessions,omitempty"`
	// Fingerprint digests the user's attributes as read, so a later apply
	// can tell whether the user changed since the plan.
	Fingerprint string `json:"fingerprint,omitempty"`
}

// ManagerRef is the manager a user should have after the action. Key is
// empty to remove the manager. ID is empty when the manager is created by
// this same plan; apply resolves it from the create.
type ManagerRef struct {
	Key string `json:"key"`
	ID  string `json:"id,omitempty"`
	// BeforeID is the object id of the manager the user had when the plan
	// was made ("" for none), so apply can tell its own earlier write from
	// someone else's edit.
	BeforeID string `json:"before_id,omitempty"`
}

// Entitlement operations.
const (
	OpAdd    = "add"
	OpRemove = "remove"
)

// GroupChange adds the user to a group or removes it.
type GroupChange struct {
	Op      string `json:"op"`
	GroupID string `json:"group_id"`
	// Name is the group's display name, for reviewers.
	Name string `json:"name,omitempty"`
}

// LicenseChange assigns a license (a subscribed SKU) or removes it.
type LicenseChange struct {
	Op    string `json:"op"`
	SkuID string `json:"sku_id"`
	// Name is the SKU's part number, for reviewers.
	Name string `json:"name,omitempty"`
}

// Lifecycle events behind actions.
const (
	EventPrehire     = "prehire"      // a joiner created before the hire date
	EventHireDate    = "hire_date"    // a pre-hire account enabled on the hire date
	EventLeaveDate   = "leave_date"   // the leave date has passed
	EventAbsent      = "absent"       // no longer in the source
	EventLeftScope   = "left_scope"   // outside the mapping's scope filter
	EventStatus      = "status"       // the mapping maps the HR status to disabled
	EventRehire      = "rehire"       // a leaver is active in HR again
	EventDeleteAfter = "delete_after" // delete_after_days past the leave date
)

// Change is one attribute's before and after; nil means unset.
type Change struct {
	Attribute string  `json:"attribute"`
	Before    *string `json:"before"`
	After     *string `json:"after"`
	// Redacted says the mapping wrapped the value in Redact: text and
	// markdown views show "(redacted)"; the plan file keeps the value,
	// since apply writes it.
	Redacted bool `json:"redacted,omitempty"`
}

// Warning is something reviewers must know: a record left out, a reference
// that could not be resolved, a guard that held something back.
type Warning struct {
	Code string `json:"code"`
	// Severity is SeverityProblem or SeverityNote, derived from the code
	// (see Severity).
	Severity string                `json:"severity"`
	Message  string                `json:"message"`
	Key      string                `json:"key,omitempty"`
	Sources  []identity.Provenance `json:"sources,omitempty"`
}

// Lifecycle classes of actions.
const (
	Joiner = "joiner"
	Mover  = "mover"
	Other  = "update"
	Leaver = "leaver"
	Rehire = "rehire"
)

// classify returns an action's lifecycle class; the schema says which
// attributes are organisational (a change of one makes a mover).
func classify(a Action, schema *identity.Schema) string {
	switch a.Action {
	case Create:
		return Joiner
	case Disable, Delete:
		return Leaver
	case Update:
		if a.Revoke && len(a.Changes) == 0 {
			return Leaver
		}
	case Restore:
		return Rehire
	case Enable:
		if a.Event == EventHireDate {
			return Joiner
		}
		return Rehire
	}
	for _, c := range a.Changes {
		if schema.Organises(c.Attribute) && !(c.Before != nil && c.After != nil && *c.Before == *c.After) {
			return Mover
		}
	}
	return Other
}

// Warning codes.
const (
	WarnDuplicateKey       = "duplicate_key"
	WarnTargetDuplicateKey = "target_duplicate_key"
	WarnRecordError        = "record_error"
	WarnNoKey              = "no_match_key"
	WarnLeaversSuppressed  = "leavers_suppressed"
	WarnManagerNotFound    = "manager_not_found"
	WarnManagerSelf        = "manager_self"
	WarnManagerUnresolved  = "manager_unresolved"
	WarnCannotCreate       = "cannot_create"
	WarnUPNConflict        = "upn_conflict"
	WarnLeaverThreshold    = "leaver_threshold"
	WarnManagerAmbiguous   = "manager_ambiguous"
	WarnPossibleRekey      = "possible_rekey"
	WarnCannotClear        = "cannot_clear"
	WarnMailConflict       = "mail_conflict"
	WarnMatchConflict      = "match_conflict"
	WarnManagerCycle       = "manager_cycle"
	WarnTakeover           = "takeover"
	WarnThreshold          = "threshold"
	WarnNoUsageLocation    = "no_usage_location"
	WarnRestore            = "restore"
	WarnDisabledAccount    = "disabled_account"
	WarnRuleNoEntry        = "rule_no_entry"
	// WarnEveryRun: an attribute applied always whose value changes on
	// every run (a Now() stamp), so every plan updates it.
	WarnEveryRun = "changes_every_run"
	// WarnMastered: a user another directory masters (synced from Active
	// Directory), whose changes must be made there.
	WarnMastered = "mastered_elsewhere"
)

// Write saves the plan as indented JSON with mode 0600: plans name people
// and are reviewed, not published.
func Write(path string, p *Plan) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".plan-*.json")
	if err != nil {
		return fmt.Errorf("write plan %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("write plan %s: %w", path, err)
	}
	if err := Encode(f, p); err != nil {
		f.Close()
		return fmt.Errorf("write plan %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write plan %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write plan %s: %w", path, err)
	}
	return nil
}

// Encode writes the plan's JSON document, indented, action by action: the
// document is never built whole (a plan of 500,000 users' changes is tens
// of megabytes, and indenting it whole doubled that). The bytes are those
// json.Encoder with SetIndent("", "  ") writes, so a plan reads back with
// Parse as before (format_version 1.x). Its warnings are classified (see
// Severity).
func Encode(w io.Writer, p *Plan) error {
	// Classified in copies: Encode only reads p, so a plan can be saved
	// while it is rendered.
	warnings := slices.Clone(p.Warnings)
	head := *p
	head.Actions, head.Warnings = nil, nil
	head.Summary.Problems = 0
	for i := range warnings {
		warnings[i].Severity = Severity(warnings[i].Code)
		if warnings[i].Severity == SeverityProblem {
			head.Summary.Problems++
		}
	}
	hb, err := json.MarshalIndent(&head, "", "  ")
	if err != nil {
		return err
	}
	const tail = "\"actions\": null,\n  \"warnings\": null\n}"
	prefix, ok := bytes.CutSuffix(hb, []byte(tail))
	if !ok {
		return errors.New("plan: unexpected layout of the plan's header")
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.Write(prefix)
	bw.WriteString(`"actions": `)
	if err := encodeArray(bw, p.Actions); err != nil {
		return err
	}
	bw.WriteString(",\n  \"warnings\": ")
	if err := encodeArray(bw, warnings); err != nil {
		return err
	}
	bw.WriteString("\n}\n")
	return bw.Flush()
}

// encodeArray writes a top-level field's array as json.Encoder indents it,
// one element at a time.
func encodeArray[T any](w *bufio.Writer, items []T) error {
	if items == nil {
		_, err := w.WriteString("null")
		return err
	}
	if len(items) == 0 {
		_, err := w.WriteString("[]")
		return err
	}
	w.WriteString("[\n    ")
	for i := range items {
		if i > 0 {
			w.WriteString(",\n    ")
		}
		b, err := json.MarshalIndent(&items[i], "    ", "  ")
		if err != nil {
			return err
		}
		w.Write(b)
	}
	_, err := w.WriteString("\n  ]")
	return err
}

// ErrFormat is returned for a file that is not a plan this build can apply.
var ErrFormat = errors.New("not a plan this version of hrsync can read")

// Read loads a plan file and checks its format version.
func Read(path string) (*Plan, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes and checks a plan file's content; path names it in errors.
func Parse(path string, data []byte) (*Plan, error) {
	var p Plan
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("read plan %s: %w: %v", path, ErrFormat, err)
	}
	if p.FormatVersion == "" {
		return nil, fmt.Errorf("read plan %s: %w: no format_version", path, ErrFormat)
	}
	if major(p.FormatVersion) != major(FormatVersion) {
		return nil, fmt.Errorf("read plan %s: %w: format_version %s, this build reads %s.x", path, ErrFormat, p.FormatVersion, major(FormatVersion))
	}
	schema, err := identity.SchemaOf(p.Target.Type, p.Target.Naming)
	if err != nil {
		return nil, fmt.Errorf("read plan %s: %w: %w", path, ErrFormat, err)
	}
	if err := p.Validate(schema); err != nil {
		return nil, fmt.Errorf("read plan %s: %w: %w", path, ErrFormat, err)
	}
	return &p, nil
}

// Schema is the schema of the plan's target type (Entra's for a plan that
// names none).
func (p *Plan) Schema() *identity.Schema {
	s, err := identity.SchemaOf(p.Target.Type, p.Target.Naming)
	if err != nil {
		return identity.EntraSchema()
	}
	return s
}

func major(v string) string {
	for i := range v {
		if v[i] == '.' {
			return v[:i]
		}
	}
	return v
}

// Digest is "sha256:<hex>" of b.
func Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
