// Package directory is the port between hrsync's core and the directories
// it manages, the way terraform's provider interface keeps its core ignorant
// of each cloud: plan, apply and the engine speak only these neutral reads,
// operations, outcomes and errors, and the schema the directory supplies
// (see identity.Schema). Microsoft Entra ID (through Microsoft Graph),
// Active Directory and LDAP directories are adapters.
package directory

import (
	"context"
	"errors"
	"fmt"

	"github.com/hrsync/hrsync/internal/identity"
)

// Directory is one directory hrsync plans against and writes to.
type Directory interface {
	// Info identifies the directory for plans.
	Info() Info
	// Schema describes its users: attributes, roles, unique values and
	// what it can do.
	Schema() *identity.Schema
	// ReadUsers reads every user in scope (those with the match attribute
	// and the rest: the plan decides who is managed) with the attributes
	// q names. A read that fails part way fails whole: a truncated read
	// must never look like a workforce that shrank. progress, if not nil,
	// is called with the running count.
	ReadUsers(ctx context.Context, q Query, progress func(n int)) ([]identity.User, error)
	// ReadDeleted reads the deleted users the directory can still restore
	// (none, without error, when it cannot restore any).
	ReadDeleted(ctx context.Context, q Query) ([]identity.DeletedUser, error)
	// ResolveGroups finds the groups refs name (an id, or a name: a
	// display name, a DN or an account name, as the directory knows
	// groups), keyed by the reference as given. A reference matching no
	// group, or a name matching several, is an error naming it.
	ResolveGroups(ctx context.Context, refs []string) (map[string]Group, error)
	// GroupMembers lists the ids of a group's user members.
	GroupMembers(ctx context.Context, groupID string) ([]string, error)
	// Do carries out ops, which must not depend on each other, and calls
	// done exactly once per op, possibly from several goroutines, as
	// outcomes arrive. An op never sent because opts.Stop ended gets
	// ErrNotSent.
	Do(ctx context.Context, ops []Op, opts DoOptions, done func(i int, o Outcome))
	// Close releases the directory (connections; the sandbox saves its
	// state).
	Close(ctx context.Context) error
}

// Licensed is a directory that assigns licenses (Entra ID).
type Licensed interface {
	// Skus lists the subscribed SKUs.
	Skus(ctx context.Context) ([]Sku, error)
}

// Info identifies a directory.
type Info struct {
	// Type is the configuration's target type (entra, sandbox,
	// active_directory, ldap).
	Type string
	// TenantID identifies the directory the credentials reach, whatever
	// the configuration says: Entra's tenant id, Active Directory's domain
	// SID, an LDAP server's base DN.
	TenantID string
	// Endpoint is where it was reached.
	Endpoint string
	// Naming is the attribute entries are named by, where the directory's
	// naming is configurable (an LDAP directory's rdn_attribute); plans
	// record it, and their schema follows it.
	Naming string
	// LookupsPerRequest is how many reads by id or by value one request
	// carries ($batch: 20); UsersPerPage how many users a page of a full
	// read carries. Apply reads a plan's users again one by one when that
	// takes fewer requests than reading them all.
	LookupsPerRequest, UsersPerPage int
}

// Query says what a read returns of each user.
type Query struct {
	// Attrs are the attributes to read.
	Attrs []string
	// Manager reads each user's manager (identity.User.ManagerID).
	Manager bool
	// Licenses reads each user's direct licenses (identity.User.Licenses).
	Licenses bool
}

// Group is a group of the directory.
type Group struct {
	ID          string
	DisplayName string
}

// Sku is a subscribed license.
type Sku struct {
	ID         string
	PartNumber string
}

// OpKind says what an Op does.
type OpKind int

// The operations apply needs.
const (
	OpCreate         OpKind = iota + 1 // create a user (Attrs, Password); Outcome.ID is its id
	OpUpdate                           // write Set on user UserID (nil clears), moving it when its placement or name changes
	OpSetManager                       // make ManagerID the manager of UserID
	OpRemoveManager                    // remove UserID's manager (none is fine)
	OpFind                             // find the users whose Attr is Value (Outcome.Users)
	OpRevokeSessions                   // end UserID's sign-in sessions
	OpDelete                           // delete UserID (ErrNotFound when gone)
	OpRestore                          // restore deleted user UserID
	OpAddMember                        // add UserID to group GroupID (a member already is fine)
	OpRemoveMember                     // remove UserID from group GroupID (not a member is fine)
	OpGet                              // read user UserID (ErrNotFound when gone)
	OpAssignLicense                    // add AddSkus and remove RemoveSkus of UserID, all or nothing
)

// Op is one operation for Directory.Do.
type Op struct {
	Kind OpKind
	// UserID is the user the op is about (all but create and find); the
	// member for OpAddMember and OpRemoveMember.
	UserID string
	// GroupID is the group of OpAddMember and OpRemoveMember.
	GroupID string
	// Attrs and Password are a create's attributes and initial password.
	// The password exists only in the request: it is never logged or kept.
	Attrs    identity.Attrs
	Password string
	// Set is an update's writes; a nil value clears the attribute.
	Set map[string]*string
	// ManagerID is the manager's id for OpSetManager.
	ManagerID string
	// Attr, Value and Select are a find's filter and the attributes read
	// (Select also for OpGet).
	Attr, Value string
	Select      []string
	// Expand makes OpGet read the user's manager.
	Expand bool
	// Licenses makes OpGet and OpFind read the user's direct licenses.
	Licenses bool
	// AddSkus and RemoveSkus are OpAssignLicense's licenses.
	AddSkus, RemoveSkus []string
}

// Outcome is the result of one Op.
type Outcome struct {
	// ID is the new user's id (OpCreate), or the restored user's
	// (OpRestore).
	ID string
	// Users are the users found (OpFind), or the one read (OpGet).
	Users []identity.User
	// Err is nil on success. Errors match the sentinels below with
	// errors.Is where they apply, and carry the directory's code (Code).
	Err error
}

// DoOptions tunes Directory.Do.
type DoOptions struct {
	// Stop, when it ends, keeps Do from sending more ops; those in flight
	// finish on Do's ctx. Nil: ctx alone.
	Stop context.Context
}

// Sentinel errors of operations, for errors.Is.
var (
	// ErrNotSent marks ops Do did not send because Stop ended first.
	ErrNotSent = errors.New("not sent: the run was stopped")
	// ErrNotFound: the user (or group) does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a create or write failed because a unique value (the
	// sign-in name, an account name, a name within the OU) is taken.
	ErrConflict = errors.New("a unique value is already taken")
	// ErrNotReplicated: the directory does not show an object it was just
	// told about yet (replication lag); the request may succeed later.
	ErrNotReplicated = errors.New("not replicated yet")
	// ErrRejected: the directory refused the request as invalid (a bad
	// value, a license not held); retrying the same request cannot help.
	ErrRejected = errors.New("refused by the directory")
)

// Error is a directory's answer to an operation, reduced to what a person
// needs and a report keeps. It never holds request bodies, so no password
// or token can leak through it.
type Error struct {
	// Op describes the operation, e.g. "update user 5b0c…".
	Op string
	// Code is the directory's error code, e.g. Graph's
	// "Request_BadRequest/ObjectConflict" or LDAP's "constraintViolation".
	Code string
	// Message is the directory's message, with a hint where hrsync has one.
	Message string
	// Kinds are the sentinels the error matches (a 404 of Entra's is
	// ErrNotFound and, for a user just created, ErrNotReplicated too).
	Kinds []error
}

func (e *Error) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("%s: %s", e.Op, e.Message)
	}
	return fmt.Sprintf("%s: %s: %s", e.Op, e.Code, e.Message)
}

// Is matches the error's sentinels.
func (e *Error) Is(target error) bool {
	for _, k := range e.Kinds {
		if k == target {
			return true
		}
	}
	return false
}

// ErrorCode is the code reports show.
func (e *Error) ErrorCode() string { return e.Code }

// Code returns the directory's error code of err, "" when it has none.
func Code(err error) string {
	var c interface{ ErrorCode() string }
	if errors.As(err, &c) {
		return c.ErrorCode()
	}
	return ""
}

// Tracker is a directory that can read only what changed since an earlier
// read, instead of every user (Entra ID's delta query). The engine keeps
// the users of the last read and the state to continue from in a local
// cache; the cache is an optimisation, never an authority.
type Tracker interface {
	// ReadUsersTracked reads every user as ReadUsers does and returns,
	// besides, the state from which ReadChanges reads the changes made
	// after the read began ("" when q cannot be tracked, e.g. Entra's
	// licenses). sample, if not nil, are the users of an earlier read: a
	// hint to share the read out evenly, never a source of users.
	ReadUsersTracked(ctx context.Context, q Query, sample []identity.User, progress func(n int)) ([]identity.User, string, error)
	// ReadChanges brings users, the result of a read with the same q up
	// to state, up to date: it applies the changes made since (new and
	// changed users, users deleted, managers set or removed) and returns
	// the users now with the state to continue from. users may be
	// modified when it succeeds, and are left as they were when it fails.
	// A state the directory no longer knows (expired, refused) is an error
	// matching ErrStateLost; any failure fails the read.
	ReadChanges(ctx context.Context, q Query, state string, users []identity.User, progress func(n int)) ([]identity.User, string, error)
}

// ErrStateLost marks a tracking state the directory no longer knows
// (Entra: 410 Gone, syncStateNotFound): read every user again.
var ErrStateLost = errors.New("the directory no longer knows the state of the earlier read")
