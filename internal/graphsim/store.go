package graphsim

import (
	"bufio"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// deletedRetention is how long Entra keeps a deleted user restorable.
const deletedRetention = 30 * 24 * time.Hour

// userRec is a stored user with its position in the paging order.
type userRec struct {
	seq     uint64 // creation sequence; pages are ordered by it
	changed uint64 // change sequence of the last change; 0 = unchanged since loading
	deleted bool   // in the deleted items (and a tombstone in store.order until the next compaction)
	hard    bool   // permanently deleted (deleted is true too)
	u       User
}

// deletedEntry is a user in the deleted items; seq orders them by deletion
// (and pages them).
type deletedEntry struct {
	seq uint64
	rec *userRec
}

// groupRec is a stored group. Its members are kept in the order they were
// added, each with a sequence number that pages them.
type groupRec struct {
	g          Group // Members is nil: see members
	members    []memberEntry
	memberSet  map[string]bool
	nextMember uint64
}

type memberEntry struct {
	seq uint64
	id  string
}

// addMember appends id to the members.
func (g *groupRec) addMember(id string) {
	g.nextMember++
	g.members = append(g.members, memberEntry{seq: g.nextMember, id: id})
	g.memberSet[id] = true
}

// removeMember removes id from the members.
func (g *groupRec) removeMember(id string) {
	if !g.memberSet[id] {
		return
	}
	delete(g.memberSet, id)
	for i, m := range g.members {
		if m.id == id {
			g.members = append(g.members[:i], g.members[i+1:]...)
			return
		}
	}
}

// change is an entry of the change log: rec changed at seq. An entry whose
// seq is not rec.changed any more has been superseded by a later one.
type change struct {
	seq uint64
	rec *userRec
}

// store is the in-memory directory. It is not safe for concurrent use; the
// Server guards it with its RWMutex.
//
// Paging order is creation order: store.order is append-only (deletes leave
// tombstones), so a page token holding the last seq seen continues exactly
// where the previous page stopped, whatever is created or deleted meanwhile,
// and finding the start of a page is a binary search.
type store struct {
	tenant     Tenant
	domains    []string
	domainSet  map[string]bool
	order      []*userRec
	tombstones int
	byID       map[string]*userRec
	byUPN      map[string]*userRec // lower-cased userPrincipalName
	byMail     map[string]*userRec // lower-cased mail
	nextSeq    uint64
	version    uint64 // incremented by every mutation

	// The deleted items, in deletion order (entries leave on restore and
	// permanent deletion), and by id.
	deleted     []deletedEntry
	deletedByID map[string]*userRec
	delSeq      uint64

	groups    []*groupRec // in paging order
	groupByID map[string]*groupRec
	skus      []*SubscribedSku
	skuByID   map[string]*SubscribedSku // by lower-case skuId

	// The change log behind /users/delta: every change of a user (create,
	// update, manager link, delete) takes the next changeSeq and appends an
	// entry, so the changes after a delta token are a binary search away.
	// It is not persisted: epoch, random per store, makes tokens from
	// before a restart unknown (410 Gone), as Graph does with lost sync
	// state. Users loaded from a state file have changed == 0 and no entry.
	epoch     string
	changeSeq uint64
	changes   []change
	staleLog  int // superseded entries in changes
	// removedManager holds, for users whose manager link was removed and not
	// set again, the manager they had, so a delta round can report the
	// removal. (A map, not a userRec field: it is rare, and userRec stays
	// in a smaller allocation size class.)
	removedManager map[*userRec]string
}

// newStore builds the store from st, taking ownership of its users (st must
// not be used afterwards). Deleted users without a deletedDateTime are
// taken as deleted at now.
func newStore(st *State, now time.Time) *store {
	s := &store{
		domains:     append([]string(nil), st.Domains...),
		domainSet:   make(map[string]bool, len(st.Domains)),
		order:       make([]*userRec, 0, len(st.Users)),
		byID:        make(map[string]*userRec, len(st.Users)),
		byUPN:       make(map[string]*userRec, len(st.Users)),
		byMail:      make(map[string]*userRec, len(st.Users)),
		nextSeq:     1,
		epoch:       newGUID()[:8],
		deletedByID: make(map[string]*userRec, len(st.DeletedUsers)),
		groupByID:   make(map[string]*groupRec, len(st.Groups)),
		skuByID:     make(map[string]*SubscribedSku, len(st.SubscribedSkus)),

		removedManager: map[*userRec]string{},
	}
	if st.Tenant != nil {
		s.tenant = *st.Tenant
	}
	for _, d := range st.Domains {
		s.domainSet[strings.ToLower(strings.TrimSpace(d))] = true
	}
	in := interner{}
	for i := range st.Users {
		u := &st.Users[i]
		in.user(u)
		s.add(*u)
	}
	st.Users = nil
	for i := range st.DeletedUsers {
		u := st.DeletedUsers[i].clone()
		if u.DeletedDateTime.IsZero() {
			u.DeletedDateTime = now.UTC().Truncate(time.Second)
		}
		rec := &userRec{seq: s.nextSeq, deleted: true, u: u}
		s.nextSeq++
		s.addDeleted(rec)
	}
	for i := range st.Groups {
		g := &groupRec{g: st.Groups[i].clone(), memberSet: make(map[string]bool, len(st.Groups[i].Members))}
		g.g.Members = nil
		for _, m := range st.Groups[i].Members {
			g.addMember(m)
		}
		s.groups = append(s.groups, g)
		s.groupByID[g.g.ID] = g
	}
	for i := range st.SubscribedSkus {
		k := st.SubscribedSkus[i]
		s.skus = append(s.skus, &k)
		s.skuByID[k.SkuID] = &k
	}
	return s
}

// addDeleted puts rec into the deleted items.
func (s *store) addDeleted(rec *userRec) {
	s.delSeq++
	s.deleted = append(s.deleted, deletedEntry{seq: s.delSeq, rec: rec})
	s.deletedByID[rec.u.ID] = rec
}

// takeDeleted removes rec from the deleted items.
func (s *store) takeDeleted(rec *userRec) {
	delete(s.deletedByID, rec.u.ID)
	for i, e := range s.deleted {
		if e.rec == rec {
			s.deleted = append(s.deleted[:i], s.deleted[i+1:]...)
			break
		}
	}
}

// insert adds u (which must not conflict) at the end of the paging order and
// records the creation in the change log.
func (s *store) insert(u User) *userRec {
	rec := s.add(u)
	s.touch(rec)
	return rec
}

// touch records a change of rec in the change log.
func (s *store) touch(rec *userRec) {
	if rec.changed != 0 {
		s.staleLog++
	}
	s.changeSeq++
	rec.changed = s.changeSeq
	s.changes = append(s.changes, change{seq: s.changeSeq, rec: rec})
	if s.staleLog > 1024 && s.staleLog > len(s.changes)/2 {
		live := s.changes[:0]
		for _, c := range s.changes {
			if c.seq == c.rec.changed {
				live = append(live, c)
			}
		}
		clear(s.changes[len(live):])
		s.changes = live
		s.staleLog = 0
	}
}

// setManager sets or (with "") clears rec's manager and records the change.
func (s *store) setManager(rec *userRec, managerID string) {
	if rec.u.Manager == managerID {
		return
	}
	if managerID == "" {
		s.removedManager[rec] = rec.u.Manager
	} else {
		delete(s.removedManager, rec)
	}
	rec.u.Manager = managerID
	s.touch(rec)
	s.version++
}

// add adds u (which must not conflict) at the end of the paging order
// without recording a change (loading).
func (s *store) add(u User) *userRec {
	rec := &userRec{seq: s.nextSeq, u: u}
	s.nextSeq++
	s.order = append(s.order, rec)
	s.byID[u.ID] = rec
	upnKey := strings.ToLower(u.UserPrincipalName)
	s.byUPN[upnKey] = rec
	if u.Mail != "" {
		mailKey := strings.ToLower(u.Mail)
		if mailKey == upnKey {
			mailKey = upnKey // share one string
		}
		s.byMail[mailKey] = rec
	}
	s.version++
	return rec
}

// reindex updates the secondary indexes after rec.u changed from old.
func (s *store) reindex(rec *userRec, old *User) {
	if !strings.EqualFold(old.UserPrincipalName, rec.u.UserPrincipalName) {
		delete(s.byUPN, strings.ToLower(old.UserPrincipalName))
		s.byUPN[strings.ToLower(rec.u.UserPrincipalName)] = rec
	}
	if !strings.EqualFold(old.Mail, rec.u.Mail) {
		if old.Mail != "" {
			delete(s.byMail, strings.ToLower(old.Mail))
		}
		if rec.u.Mail != "" {
			s.byMail[strings.ToLower(rec.u.Mail)] = rec
		}
	}
	s.version++
}

// remove deletes rec at now: it moves to the deleted items, keeping its
// manager, group memberships and licenses for a restore; manager links
// pointing at it are removed, and its license units are freed (as Entra
// does).
func (s *store) remove(rec *userRec, now time.Time) {
	s.releaseUnits(&rec.u)
	rec.deleted = true
	rec.u.DeletedDateTime = now
	delete(s.removedManager, rec)
	delete(s.byID, rec.u.ID)
	delete(s.byUPN, strings.ToLower(rec.u.UserPrincipalName))
	if rec.u.Mail != "" {
		delete(s.byMail, strings.ToLower(rec.u.Mail))
	}
	for _, r := range s.order {
		if !r.deleted && r.u.Manager == rec.u.ID {
			s.setManager(r, "")
		}
	}
	s.touch(rec)
	s.addDeleted(rec)
	s.tombstones++
	if s.tombstones > 1024 && s.tombstones > len(s.order)/2 {
		s.compact()
	}
	s.version++
}

// restore brings a deleted user back (the caller checked for conflicts and
// may have changed rec.u's userPrincipalName or mail): at its place in the
// paging order, with its memberships and licenses, and its manager if the
// manager still exists. The licenses take their units again, even beyond
// the subscription's prepaid units, as Entra restores them regardless.
func (s *store) restore(rec *userRec) {
	s.takeDeleted(rec)
	for _, id := range rec.u.heldSkus() {
		if k := s.skuByID[id]; k != nil {
			k.ConsumedUnits++
		}
	}
	rec.deleted = false
	rec.u.DeletedDateTime = time.Time{}
	i := sort.Search(len(s.order), func(i int) bool { return s.order[i].seq >= rec.seq })
	if i < len(s.order) && s.order[i] == rec {
		s.tombstones-- // still there as a tombstone
	} else {
		s.order = append(s.order, nil)
		copy(s.order[i+1:], s.order[i:])
		s.order[i] = rec
	}
	s.byID[rec.u.ID] = rec
	s.byUPN[strings.ToLower(rec.u.UserPrincipalName)] = rec
	if rec.u.Mail != "" {
		s.byMail[strings.ToLower(rec.u.Mail)] = rec
	}
	if m := rec.u.Manager; m != "" && s.byID[m] == nil {
		rec.u.Manager = ""
		s.removedManager[rec] = m
	}
	s.touch(rec)
	s.version++
}

// purge deletes rec (a deleted user, whose license units are already
// free) permanently: it leaves the deleted items and its groups.
func (s *store) purge(rec *userRec) {
	s.takeDeleted(rec)
	rec.hard = true
	for _, g := range s.groups {
		g.removeMember(rec.u.ID)
	}
	s.touch(rec)
	s.version++
}

// releaseUnits frees the license units u consumes.
func (s *store) releaseUnits(u *User) {
	for _, id := range u.heldSkus() {
		if k := s.skuByID[id]; k != nil && k.ConsumedUnits > 0 {
			k.ConsumedUnits--
		}
	}
}

// expired reports whether a deleted user is past Entra's retention at now.
func expired(rec *userRec, now time.Time) bool {
	return now.Sub(rec.u.DeletedDateTime) > deletedRetention
}

// hasExpired reports whether any deleted user is past retention at now.
func (s *store) hasExpired(now time.Time) bool {
	for _, e := range s.deleted {
		if expired(e.rec, now) {
			return true
		}
	}
	return false
}

// purgeExpired permanently deletes the deleted users past retention.
func (s *store) purgeExpired(now time.Time) {
	var old []*userRec
	for _, e := range s.deleted {
		if expired(e.rec, now) {
			old = append(old, e.rec)
		}
	}
	for _, rec := range old {
		s.purge(rec)
	}
}

func (s *store) compact() {
	live := s.order[:0]
	for _, r := range s.order {
		if !r.deleted {
			live = append(live, r)
		}
	}
	clear(s.order[len(live):])
	s.order = live
	s.tombstones = 0
}

// lookup resolves a /users/{id | userPrincipalName} key.
func (s *store) lookup(key string) *userRec {
	if strings.Contains(key, "@") {
		return s.byUPN[strings.ToLower(key)]
	}
	return s.byID[strings.ToLower(key)]
}

func (s *store) hasDomain(d string) bool { return s.domainSet[strings.ToLower(d)] }

// snapshot returns a deep copy of the state.
func (s *store) snapshot() State {
	t := s.tenant
	st := State{Tenant: &t, Domains: append([]string(nil), s.domains...), Users: make([]User, 0, len(s.byID))}
	for _, r := range s.order {
		if !r.deleted {
			st.Users = append(st.Users, r.u.clone())
		}
	}
	for _, e := range s.deleted {
		st.DeletedUsers = append(st.DeletedUsers, e.rec.u.clone())
	}
	for _, g := range s.groups {
		st.Groups = append(st.Groups, g.state())
	}
	for _, k := range s.skus {
		st.SubscribedSkus = append(st.SubscribedSkus, *k)
	}
	return st
}

// state returns the group as State holds it, members included.
func (g *groupRec) state() Group {
	c := g.g.clone()
	for _, m := range g.members {
		c.Members = append(c.Members, m.id)
	}
	return c
}

// writeFile writes the state to path atomically: a temporary file in the same
// directory, mode 0600, synced, then renamed over path. Users are written one
// per line so that large tenants stream instead of being built in memory.
func (s *store) writeFile(path string) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("create temporary state file: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("chmod temporary state file: %w", err)
	}
	w := bufio.NewWriterSize(tmp, 256<<10)
	if err := s.encode(w); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("sync state file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close state file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("replace state file: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // best effort: make the rename durable
		_ = d.Close()
	}
	return nil
}

// encode writes the state document: valid JSON, one user per line.
func (s *store) encode(w *bufio.Writer) error {
	tenant, err := json.Marshal(&s.tenant)
	if err != nil {
		return err
	}
	doms, err := json.Marshal(s.domains)
	if err != nil {
		return err
	}
	if s.domains == nil {
		doms = []byte("[]")
	}
	w.WriteString("{\n  \"tenant\": ")
	w.Write(tenant)
	w.WriteString(",\n  \"domains\": ")
	w.Write(doms)
	w.WriteString(",\n  \"users\": [")
	first := true
	for _, r := range s.order {
		if r.deleted {
			continue
		}
		if err := writeLine(w, &r.u, first); err != nil {
			return err
		}
		first = false
	}
	if !first {
		w.WriteString("\n  ")
	}
	w.WriteString("]")
	if len(s.deleted) > 0 {
		w.WriteString(",\n  \"deletedUsers\": [")
		for i, e := range s.deleted {
			if err := writeLine(w, &e.rec.u, i == 0); err != nil {
				return err
			}
		}
		w.WriteString("\n  ]")
	}
	if len(s.groups) > 0 {
		w.WriteString(",\n  \"groups\": [")
		for i, g := range s.groups {
			gs := g.state()
			if err := writeJSONLine(w, &gs, i == 0); err != nil {
				return fmt.Errorf("encode group %s: %w", g.g.ID, err)
			}
		}
		w.WriteString("\n  ]")
	}
	if len(s.skus) > 0 {
		w.WriteString(",\n  \"subscribedSkus\": [")
		for i, k := range s.skus {
			if err := writeJSONLine(w, k, i == 0); err != nil {
				return fmt.Errorf("encode sku %s: %w", k.SkuID, err)
			}
		}
		w.WriteString("\n  ]")
	}
	_, err = w.WriteString("\n}\n")
	return err
}

// writeJSONLine writes v as one array element line.
func writeJSONLine(w *bufio.Writer, v any, first bool) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if !first {
		w.WriteByte(',')
	}
	w.WriteString("\n    ")
	_, err = w.Write(b)
	return err
}

func writeLine(w *bufio.Writer, u *User, first bool) error {
	b, err := json.Marshal(u)
	if err != nil {
		return fmt.Errorf("encode user %s: %w", u.ID, err)
	}
	if !first {
		w.WriteByte(',')
	}
	w.WriteString("\n    ")
	_, err = w.Write(b)
	return err
}

// newGUID returns a random (version 4) GUID in Graph's lower-case form.
func newGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hexd = "0123456789abcdef"
	out := make([]byte, 36)
	j := 0
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out[j] = '-'
			j++
		}
		out[j] = hexd[c>>4]
		out[j+1] = hexd[c&0x0f]
		j += 2
	}
	return string(out)
}

// interner shares the strings of properties that repeat across a tenant
// (department, job title, country, ...) so that loading a large state file
// keeps one copy of each value instead of one per user.
type interner map[string]string

func (in interner) str(p *string) {
	if *p == "" || len(*p) > 64 {
		return
	}
	if v, ok := in[*p]; ok {
		*p = v
		return
	}
	in[*p] = *p
}

// user interns u's low-cardinality properties.
func (in interner) user(u *User) {
	for _, p := range []*string{&u.UserType, &u.JobTitle, &u.Department, &u.CompanyName, &u.OfficeLocation,
		&u.EmployeeType, &u.City, &u.State, &u.Country, &u.UsageLocation, &u.PreferredLanguage, &u.OnPremisesDomainName} {
		in.str(p)
	}
	if d := u.EmployeeOrgData; d != nil {
		in.str(&d.Division)
		in.str(&d.CostCenter)
	}
}
