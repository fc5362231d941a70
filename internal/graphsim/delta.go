package graphsim

import (
	"encoding/base64"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// GET /users/delta (also /users/delta() and /users/microsoft.graph.delta(),
// the fully qualified form): Graph's change tracking for users.
//
// A round without a token (the initial round) pages through the live users
// in creation order. Its last page carries an @odata.deltaLink whose
// $deltatoken holds the change sequence at the start of the round; calling
// it returns the users changed since then (created, updated, manager link
// changed, restored) with the selected properties, deleted users as
// {"id":...,"@removed":{"reason":"changed"}} ("deleted" once deleted
// permanently), and a new deltaLink. Changes
// made while a round pages are returned by the next round (Graph, too, may
// replay an object). $select is remembered in the tokens, as Graph encodes
// every query option into them; $top is ignored as in Graph; the page size
// is Options.DeltaPageSize (Graph: 200), which "Prefer: odata.maxpagesize"
// can lower. $deltatoken=latest returns no users, only a deltaLink for
// "changes from now on". A token graphsim cannot use (garbled, from another
// server process, older than Graph's 7 days) answers 410 Gone with
// syncStateNotFound, telling the client to start a full read again.
// licenseAssignmentStates may be selected but is left out of delta pages,
// as Graph does.

const (
	// defaultDeltaPageSize is the most users Graph puts in a delta page.
	defaultDeltaPageSize = 200
	// deltaTokenLifetime is how long Graph keeps the sync state of directory
	// objects (7 days since July 2020).
	deltaTokenLifetime = 7 * 24 * time.Hour
	deltaTokenPrefix   = "gsimd1|"
)

// deltaToken is the state carried by a delta $skiptoken or $deltatoken.
type deltaToken struct {
	epoch   string // store.epoch of the server that issued it
	issued  int64  // unix seconds the round (or deltaLink) began
	initial bool   // paging the current state (the initial round)
	since   uint64 // change round: changes after this change seq
	upTo    uint64 // change seq when the round began: the next deltaLink's since
	pos     uint64 // creation seq (initial) or change seq (changes) of the last object sent
	sel     string // the $select of the initial request ("" = default properties)
}

func (t *deltaToken) encode() string {
	kind := "c"
	if t.initial {
		kind = "i"
	}
	s := deltaTokenPrefix + t.epoch + "|" + strconv.FormatInt(t.issued, 10) + "|" + kind + "|" +
		strconv.FormatUint(t.since, 10) + "|" + strconv.FormatUint(t.upTo, 10) + "|" +
		strconv.FormatUint(t.pos, 10) + "|" + t.sel
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

// decodeDeltaToken parses a token; ok is false for anything graphsim did not
// issue.
func decodeDeltaToken(tok string) (t deltaToken, ok bool) {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return t, false
	}
	rest, found := strings.CutPrefix(string(raw), deltaTokenPrefix)
	if !found {
		return t, false
	}
	f := strings.SplitN(rest, "|", 7)
	if len(f) != 7 || (f[2] != "i" && f[2] != "c") {
		return t, false
	}
	t.epoch, t.initial, t.sel = f[0], f[2] == "i", f[6]
	var errs [4]error
	t.issued, errs[0] = strconv.ParseInt(f[1], 10, 64)
	t.since, errs[1] = strconv.ParseUint(f[3], 10, 64)
	t.upTo, errs[2] = strconv.ParseUint(f[4], 10, 64)
	t.pos, errs[3] = strconv.ParseUint(f[5], 10, 64)
	for _, e := range errs {
		if e != nil {
			return t, false
		}
	}
	return t, true
}

func errSyncStateNotFound() *graphError {
	return newError(http.StatusGone, "syncStateNotFound",
		"The sync state generation is not found. The delta token is expired and data must be synchronized again.")
}

// deltaSelection is a parsed delta $select: properties plus the manager
// navigation property.
type deltaSelection struct {
	props   []*propDef // nil = default properties
	manager bool
}

// parseDeltaSelect parses the $select of a delta request. "manager" selects
// the manager@delta annotation; id is always returned.
// licenseAssignmentStates is accepted but never returned: Graph's delta
// does not support it (microsoftgraph/microsoft-graph-docs#16690).
func parseDeltaSelect(v string) (deltaSelection, *graphError) {
	var ds deltaSelection
	if strings.TrimSpace(v) == "" {
		return ds, nil
	}
	var rest []string
	for _, name := range strings.Split(v, ",") {
		name = strings.TrimSpace(name)
		if strings.EqualFold(name, "manager") {
			ds.manager = true
			continue
		}
		if name != "" {
			rest = append(rest, name)
		}
	}
	sel, gerr := parseSelect(strings.Join(rest, ","))
	if gerr != nil {
		return ds, gerr
	}
	hasID := false
	kept := sel[:0]
	for _, p := range sel {
		hasID = hasID || p.name == "id"
		if p.kind != kindLicenseStates {
			kept = append(kept, p)
		}
	}
	sel = kept
	if !hasID {
		sel = append(sel, propByName["id"])
	}
	ds.props = sel
	return ds, nil
}

// deltaPageSize is the page size for r: Options.DeltaPageSize (default 200),
// lowered by "Prefer: odata.maxpagesize=n". applied reports whether the
// preference was honoured.
func (s *Server) deltaPageSize(r *request) (size int, applied bool) {
	size = s.opts.DeltaPageSize
	if size <= 0 {
		size = defaultDeltaPageSize
	}
	if n := preferMaxPageSize(r.header); n > 0 && n <= size {
		return n, true
	}
	return size, false
}

// preferMaxPageSize returns the odata.maxpagesize preference (0 = none).
func preferMaxPageSize(h http.Header) int {
	for _, v := range h.Values("Prefer") {
		for _, pref := range strings.Split(v, ",") {
			k, val, ok := strings.Cut(strings.TrimSpace(pref), "=")
			if !ok || !strings.EqualFold(strings.TrimSpace(k), "odata.maxpagesize") {
				continue
			}
			if n, err := strconv.Atoi(strings.Trim(strings.TrimSpace(val), `"`)); err == nil && n > 0 {
				return n
			}
		}
	}
	return 0
}

// deltaQueryOptions checks the query options of a delta request.
func deltaQueryOptions(r *request) *graphError {
	for key := range r.query {
		if !strings.HasPrefix(key, "$") {
			continue
		}
		switch key {
		case "$select", "$top", "$skiptoken", "$deltatoken":
		case "$filter", "$expand", "$orderby", "$search", "$count", "$skip", "$format", "$levels", "$apply", "$compute":
			return errNotImplemented("the " + key + " query option on /users/delta")
		default:
			return newError(http.StatusBadRequest, "BadRequest", "The query parameter '"+key+"' is not supported.")
		}
	}
	return nil
}

// deltaUsers handles GET /users/delta.
func (s *Server) deltaUsers(r *request) *response {
	if gerr := deltaQueryOptions(r); gerr != nil {
		return s.fail(r, gerr)
	}
	pageSize, applied := s.deltaPageSize(r)
	now := s.now()

	s.mu.RLock()
	defer s.mu.RUnlock()

	var tok deltaToken
	switch {
	case r.query.Has("$skiptoken"):
		t, ok := s.validDeltaToken(r.query.Get("$skiptoken"), now)
		if !ok {
			return s.fail(r, errSyncStateNotFound())
		}
		tok = t
	case r.query.Has("$deltatoken"):
		v := r.query.Get("$deltatoken")
		if strings.EqualFold(v, "latest") {
			sel, gerr := parseDeltaSelect(strings.Join(r.query["$select"], ","))
			if gerr != nil {
				return s.fail(r, gerr)
			}
			latest := deltaToken{epoch: s.st.epoch, issued: now.Unix(), since: s.st.changeSeq,
				sel: strings.Join(r.query["$select"], ",")}
			return s.deltaPage(r, sel, false, nil, "", latest.encode(), applied, pageSize)
		}
		t, ok := s.validDeltaToken(v, now)
		if !ok || t.initial {
			return s.fail(r, errSyncStateNotFound())
		}
		tok = deltaToken{epoch: s.st.epoch, issued: now.Unix(), since: t.since, upTo: s.st.changeSeq,
			pos: t.since, sel: t.sel}
	default:
		tok = deltaToken{epoch: s.st.epoch, issued: now.Unix(), initial: true, upTo: s.st.changeSeq,
			sel: strings.Join(r.query["$select"], ",")}
	}
	sel, gerr := parseDeltaSelect(tok.sel)
	if gerr != nil {
		return s.fail(r, gerr)
	}

	var page []*userRec
	var lastPos uint64
	more := false
	if tok.initial {
		order := s.st.order
		i := sort.Search(len(order), func(i int) bool { return order[i].seq > tok.pos })
		page = make([]*userRec, 0, min(pageSize, len(order)-i))
		for ; i < len(order); i++ {
			if order[i].deleted {
				continue
			}
			if len(page) == pageSize {
				more = true
				break
			}
			page = append(page, order[i])
			lastPos = order[i].seq
		}
	} else {
		log := s.st.changes
		i := sort.Search(len(log), func(i int) bool { return log[i].seq > tok.pos })
		for ; i < len(log) && log[i].seq <= tok.upTo; i++ {
			if log[i].seq != log[i].rec.changed {
				continue // superseded by a later change
			}
			if len(page) == pageSize {
				more = true
				break
			}
			page = append(page, log[i].rec)
			lastPos = log[i].seq
		}
	}

	var next, delta string
	if more {
		t := tok
		t.pos = lastPos
		next = t.encode()
	} else {
		delta = (&deltaToken{epoch: s.st.epoch, issued: now.Unix(), since: tok.upTo, sel: tok.sel}).encode()
	}
	return s.deltaPage(r, sel, tok.initial, page, next, delta, applied, pageSize)
}

// validDeltaToken decodes a token and checks that this server issued it, it
// is not older than Graph's lifetime and it points into the change log.
func (s *Server) validDeltaToken(v string, now time.Time) (deltaToken, bool) {
	t, ok := decodeDeltaToken(v)
	if !ok || t.epoch != s.st.epoch || t.since > s.st.changeSeq || t.upTo > s.st.changeSeq ||
		now.Sub(time.Unix(t.issued, 0)) > deltaTokenLifetime {
		return t, false
	}
	return t, true
}

// deltaPage renders a delta page with a nextLink (next != "") or a
// deltaLink. The caller holds s.mu.
func (s *Server) deltaPage(r *request, sel deltaSelection, initial bool, page []*userRec, next, delta string,
	applied bool, pageSize int) *response {
	b := s.pageBuf(256 + len(page)*400)
	b = append(b, `{"@odata.context":`...)
	b = appendJSONString(b, contextURL(r, "users", sel.props, false))
	if next != "" {
		b = append(b, `,"@odata.nextLink":`...)
		b = appendJSONString(b, r.base+"/v1.0/users/delta?$skiptoken="+next)
	} else {
		b = append(b, `,"@odata.deltaLink":`...)
		b = appendJSONString(b, r.base+"/v1.0/users/delta?$deltatoken="+delta)
	}
	b = append(b, `,"value":[`...)
	for j, rec := range page {
		if j > 0 {
			b = append(b, ',')
		}
		b = s.appendDeltaUser(b, rec, sel, initial)
	}
	b = append(b, "]}"...)
	resp := &response{status: http.StatusOK, body: b, pooled: true}
	if applied {
		resp.header = http.Header{"Preference-Applied": {"odata.maxpagesize=" + strconv.Itoa(pageSize)}}
	}
	return resp
}

// appendDeltaUser renders one user of a delta page: a removed user as
// {"id":...,"@removed":{"reason":"changed"}} (Graph's "changed" means
// soft-deleted, restorable; "deleted" means deleted permanently), else the
// selected properties and, when manager is selected, manager@delta (in a
// change round a removed manager link is reported as a removed entry). The
// caller holds s.mu.
func (s *Server) appendDeltaUser(b []byte, rec *userRec, sel deltaSelection, initial bool) []byte {
	if rec.deleted {
		b = append(b, `{"id":`...)
		b = appendJSONString(b, rec.u.ID)
		if rec.hard {
			return append(b, `,"@removed":{"reason":"deleted"}}`...)
		}
		return append(b, `,"@removed":{"reason":"changed"}}`...)
	}
	b = s.appendUser(b, &rec.u, sel.props, false, false, nil)
	if !sel.manager {
		return b
	}
	switch {
	case rec.u.Manager != "":
		b = b[:len(b)-1]
		b = append(b, `,"manager@delta":[{"@odata.type":"#microsoft.graph.user","id":`...)
		b = appendJSONString(b, rec.u.Manager)
		b = append(b, "}]}"...)
	case !initial && s.st.removedManager[rec] != "":
		// The manager link was removed: reported like a removed member.
		b = b[:len(b)-1]
		b = append(b, `,"manager@delta":[{"@odata.type":"#microsoft.graph.user","id":`...)
		b = appendJSONString(b, s.st.removedManager[rec])
		b = append(b, `,"@removed":{"reason":"deleted"}}]}`...)
	}
	return b
}
