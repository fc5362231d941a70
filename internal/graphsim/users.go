package graphsim

import (
	"net/http"
	"sort"
	"strings"
)

// appendUser renders u with the selected properties (nil = default set). With
// typed, the object carries "@odata.type" (as directoryObject-typed results
// such as manager do). With expandManager, the manager is embedded using
// managerSel. The caller holds s.mu.
func (s *Server) appendUser(b []byte, u *User, sel []*propDef, typed, expandManager bool, managerSel []*propDef) []byte {
	if sel == nil {
		sel = defaultProps
	}
	b = append(b, '{')
	first := true
	if typed {
		b = append(b, `"@odata.type":"#microsoft.graph.user"`...)
		first = false
	}
	for _, p := range sel {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendProp(b, p, u)
	}
	if expandManager && u.Manager != "" {
		if m := s.st.byID[u.Manager]; m != nil {
			if !first {
				b = append(b, ',')
			}
			b = append(b, `"manager":`...)
			b = s.appendUser(b, &m.u, managerSel, true, false, nil)
		}
	}
	return append(b, '}')
}

func contextURL(r *request, entitySet string, sel []*propDef, entity bool) string {
	c := r.base + "/v1.0/$metadata#" + entitySet
	if sel != nil {
		c += "(" + selectList(sel) + ")"
	}
	if entity {
		c += "/$entity"
	}
	return c
}

// listUsers handles GET /users: $select, $filter, $top, $skiptoken, $expand
// and $count. Pages follow creation order; the $skiptoken holds the position
// of the last user returned, so users created or deleted between pages never
// cause a skip or a duplicate.
func (s *Server) listUsers(r *request) *response {
	q, gerr := parseQuery(r, true)
	if gerr != nil {
		return s.fail(r, gerr)
	}
	pageSize := q.top
	if q.expandManager && pageSize > expandPageCap {
		pageSize = expandPageCap
	}

	s.mu.RLock()
	defer s.mu.RUnlock()

	// Candidates in paging order: an index lookup for filters that are an
	// eq/in on id or userPrincipalName, else every user.
	var cands []*userRec
	if lo, hi, ok := q.filter.upnRange(); ok {
		// A range of userPrincipalNames: the sorted index finds the
		// candidates (the filter still decides), in paging order.
		cands = s.upnIndex().between(lo, hi)
		sort.Slice(cands, func(i, j int) bool { return cands[i].seq < cands[j].seq })
	} else if field, keys := q.filter.indexKeys(); field != "" {
		for _, k := range keys {
			var rec *userRec
			if field == "id" {
				rec = s.st.byID[k]
			} else {
				rec = s.st.byUPN[k]
			}
			if rec != nil {
				cands = append(cands, rec)
			}
		}
		sort.Slice(cands, func(i, j int) bool { return cands[i].seq < cands[j].seq })
		cands = dedupeRecs(cands)
	} else {
		cands = s.st.order
	}
	start := sort.Search(len(cands), func(i int) bool { return cands[i].seq > q.skipSeq })
	matches := func(rec *userRec) bool {
		return !rec.deleted && (q.filter == nil || q.filter.match(&rec.u))
	}

	page := make([]*userRec, 0, min(pageSize, len(cands)-start))
	i := start
	for ; i < len(cands) && len(page) < pageSize; i++ {
		if matches(cands[i]) {
			page = append(page, cands[i])
		}
	}
	more := false
	for ; i < len(cands); i++ {
		if matches(cands[i]) {
			more = true
			break
		}
	}
	total := -1
	if q.count {
		total = 0
		for _, rec := range cands {
			if matches(rec) {
				total++
			}
		}
	}

	b := s.pageBuf(256 + len(page)*400)
	b = append(b, `{"@odata.context":`...)
	b = appendJSONString(b, contextURL(r, "users", q.sel, false))
	if total >= 0 {
		b = append(b, `,"@odata.count":`...)
		b = appendInt(b, total)
	}
	if more && len(page) > 0 {
		b = append(b, `,"@odata.nextLink":`...)
		b = appendJSONString(b, nextLink(r, page[len(page)-1].seq))
	}
	b = append(b, `,"value":[`...)
	for j, rec := range page {
		if j > 0 {
			b = append(b, ',')
		}
		b = s.appendUser(b, &rec.u, q.sel, false, q.expandManager, q.managerSel)
	}
	b = append(b, "]}"...)
	return &response{status: http.StatusOK, body: b, pooled: true}
}

func dedupeRecs(recs []*userRec) []*userRec {
	out := recs[:0]
	for i, r := range recs {
		if i == 0 || r != recs[i-1] {
			out = append(out, r)
		}
	}
	return out
}

// getUser handles GET /users/{id | userPrincipalName}.
func (s *Server) getUser(r *request) *response {
	q, gerr := parseQuery(r, false)
	if gerr != nil {
		return s.fail(r, gerr)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	rec := s.st.lookup(r.segs[1])
	if rec == nil {
		return s.fail(r, errNotFound(r.segs[1]))
	}
	b := append([]byte(`{"@odata.context":`), appendJSONString(nil, contextURL(r, "users", q.sel, true))...)
	body := s.appendUser(nil, &rec.u, q.sel, false, q.expandManager, q.managerSel)
	if len(body) > 2 {
		b = append(b, ',')
	}
	b = append(b, body[1:]...)
	return jsonResponse(http.StatusOK, b)
}

// checkUPN validates a userPrincipalName's shape and domain.
func (s *Server) checkUPN(upn string) *graphError {
	if !validUPNSyntax(upn) {
		return newError(http.StatusBadRequest, "Request_BadRequest", "Property userPrincipalName is invalid.").
			withDetail("InvalidValue", "userPrincipalName")
	}
	if !s.st.hasDomain(upn[strings.IndexByte(upn, '@')+1:]) {
		return newError(http.StatusBadRequest, "Request_BadRequest",
			"The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.").
			withDetail("InvalidValue", "userPrincipalName")
	}
	return nil
}

// checkConflicts reports a uniqueness conflict of u with another user.
func (s *Server) checkConflicts(u *User, self *userRec) *graphError {
	if other := s.st.byUPN[strings.ToLower(u.UserPrincipalName)]; other != nil && other != self {
		return conflict("userPrincipalName")
	}
	if u.Mail != "" {
		if other := s.st.byMail[strings.ToLower(u.Mail)]; other != nil && other != self {
			// Graph reports a mail clash as a clash of proxyAddresses.
			return conflict("proxyAddresses")
		}
	}
	return nil
}

func conflict(prop string) *graphError {
	return newError(http.StatusBadRequest, "Request_BadRequest",
		"Another object with the same value for property "+prop+" already exists.").withDetail("ObjectConflict", prop)
}

// createUser handles POST /users.
func (s *Server) createUser(r *request) *response {
	wr, gerr := decodeUserBody(r.body)
	if gerr != nil {
		return s.fail(r, gerr)
	}
	now := s.now().UTC().Truncate(1e9)
	u := User{UserType: "Member"}
	if gerr := wr.apply(&u, true, now); gerr != nil {
		return s.fail(r, gerr)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if gerr := s.checkUPN(u.UserPrincipalName); gerr != nil {
		return s.fail(r, gerr)
	}
	if gerr := s.checkConflicts(&u, nil); gerr != nil {
		return s.fail(r, gerr)
	}
	for {
		u.ID = newGUID()
		if s.st.byID[u.ID] == nil {
			break
		}
	}
	u.CreatedDateTime = now
	rec := s.st.insert(u)

	b := append([]byte(`{"@odata.context":`), appendJSONString(nil, contextURL(r, "users", nil, true))...)
	body := s.appendUser(nil, &rec.u, nil, false, false, nil)
	b = append(b, ',')
	b = append(b, body[1:]...)
	resp := jsonResponse(http.StatusCreated, b)
	resp.header = http.Header{"Location": {r.base + "/v1.0/users/" + rec.u.ID}}
	return resp
}

// patchUser handles PATCH /users/{id | userPrincipalName}. A user synced
// from Active Directory only takes the properties AD does not master.
func (s *Server) patchUser(r *request) *response {
	wr, gerr := decodeUserBody(r.body)
	if gerr != nil {
		return s.fail(r, gerr)
	}
	now := s.now().UTC().Truncate(1e9)

	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.st.lookup(r.segs[1])
	if rec == nil {
		return s.fail(r, errNotFound(r.segs[1]))
	}
	if len(wr.fields) == 0 {
		return noContent()
	}
	if rec.u.synced() && wr.touchesMastered() {
		return s.fail(r, errMastered()) // all or nothing: see hybrid.go
	}
	u := rec.u.clone()
	if gerr := wr.apply(&u, false, now); gerr != nil {
		return s.fail(r, gerr)
	}
	if !strings.EqualFold(u.UserPrincipalName, rec.u.UserPrincipalName) {
		if gerr := s.checkUPN(u.UserPrincipalName); gerr != nil {
			return s.fail(r, gerr)
		}
	}
	if gerr := s.checkConflicts(&u, rec); gerr != nil {
		return s.fail(r, gerr)
	}
	old := rec.u
	rec.u = u
	s.st.reindex(rec, &old)
	s.st.touch(rec)
	return noContent()
}

// deleteUser handles DELETE /users/{id | userPrincipalName}. The user moves
// to the deleted items with deletedDateTime set, keeping their manager,
// group memberships and licenses for a restore; links from their reports
// are removed. A user synced from Active Directory cannot be deleted in
// the cloud.
func (s *Server) deleteUser(r *request) *response {
	now := s.now().UTC().Truncate(1e9)
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.st.lookup(r.segs[1])
	if rec == nil {
		return s.fail(r, errNotFound(r.segs[1]))
	}
	if rec.u.synced() {
		return s.fail(r, errMastered())
	}
	s.st.remove(rec, now)
	return noContent()
}

// upnSorted is the users sorted by lower-cased userPrincipalName, as of a
// store version.
type upnSorted struct {
	version uint64
	keys    []string
	recs    []*userRec
}

// between returns the users whose key is in [lo, hi] ("" = open).
func (x *upnSorted) between(lo, hi string) []*userRec {
	i := sort.SearchStrings(x.keys, lo)
	j := len(x.keys)
	if hi != "" {
		j = sort.Search(len(x.keys), func(k int) bool { return x.keys[k] > hi })
	}
	if i >= j {
		return nil
	}
	return append([]*userRec(nil), x.recs[i:j]...)
}

// upnIndex returns the sorted index of the live users, rebuilt after any
// change. The caller holds s.mu (read).
func (s *Server) upnIndex() *upnSorted {
	s.idxMu.Lock()
	defer s.idxMu.Unlock()
	if s.upnIdx != nil && s.upnIdx.version == s.st.version {
		return s.upnIdx
	}
	x := &upnSorted{version: s.st.version}
	for _, rec := range s.st.order {
		if !rec.deleted {
			x.recs = append(x.recs, rec)
		}
	}
	x.keys = make([]string, len(x.recs))
	for i, rec := range x.recs {
		x.keys[i] = strings.ToLower(rec.u.UserPrincipalName)
	}
	sort.Sort(byKey{x})
	s.upnIdx = x
	return x
}

type byKey struct{ x *upnSorted }

func (b byKey) Len() int           { return len(b.x.keys) }
func (b byKey) Less(i, j int) bool { return b.x.keys[i] < b.x.keys[j] }
func (b byKey) Swap(i, j int) {
	b.x.keys[i], b.x.keys[j] = b.x.keys[j], b.x.keys[i]
	b.x.recs[i], b.x.recs[j] = b.x.recs[j], b.x.recs[i]
}
