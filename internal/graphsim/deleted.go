package graphsim

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
)

// Deleted items: GET /directory/deletedItems/microsoft.graph.user (the
// OData cast is required, as in Graph), GET and DELETE
// /directory/deletedItems/{id}, POST /directory/deletedItems/{id}/restore.
//
// DELETE /users/{id} moves a user here with deletedDateTime set. Entra keeps
// a deleted user for 30 days; graphsim purges older ones (on load and before
// deleted items, groups or licenses are used), after which they are neither
// listed nor restorable. A restore brings the user back with the same id,
// group memberships, licenses and manager (if the manager still exists); it
// fails like a create when the userPrincipalName or mail is now taken by
// another user. Deleting a deleted item removes it permanently.
//
// As in Entra, a deleted user's userPrincipalName is freed for other users
// and shown in the deleted items with the object id (without dashes) in
// front of it, e.g. 0a1b...ffann@contoso.com ($filter sees that form too);
// the store keeps the original, which a restore brings back. The user's
// license units are freed on deletion and taken again on restore.

// deletedDefaultProps is what a deleted user shows without $select: the
// default user properties plus deletedDateTime.
var deletedDefaultProps = append(append([]*propDef(nil), defaultProps...), propByName["deleteddatetime"])

// isUserCast reports whether seg is the microsoft.graph.user cast segment
// (the SDK sends the "graph.user" alias).
func isUserCast(seg string) bool {
	seg = strings.ToLower(seg)
	return seg == "microsoft.graph.user" || seg == "graph.user"
}

// shownDeleted is a deleted user as the deleted items show it: a shallow
// copy with the prefixed userPrincipalName (see deletedUPN). It must only
// be read.
func shownDeleted(u *User) User {
	c := *u
	c.UserPrincipalName = deletedUPN(u)
	return c
}

// listDeletedUsers handles GET /directory/deletedItems/microsoft.graph.user:
// $select, $filter (as on /users), $top (1-999, default 100), $skiptoken and
// $count, in deletion order.
func (s *Server) listDeletedUsers(r *request) *response {
	q, gerr := parseQuery(r, true)
	if gerr != nil {
		return s.fail(r, gerr)
	}
	if q.expandManager {
		return s.fail(r, errNotImplemented("$expand on deleted items"))
	}
	s.purgeExpired()
	s.mu.RLock()
	defer s.mu.RUnlock()

	entries := s.st.deleted
	start := sort.Search(len(entries), func(i int) bool { return entries[i].seq > q.skipSeq })
	matches := func(e deletedEntry) bool {
		if q.filter == nil {
			return true
		}
		shown := shownDeleted(&e.rec.u)
		return q.filter.match(&shown)
	}
	var page []deletedEntry
	i := start
	for ; i < len(entries) && len(page) < q.top; i++ {
		if matches(entries[i]) {
			page = append(page, entries[i])
		}
	}
	more := false
	for ; i < len(entries) && !more; i++ {
		more = matches(entries[i])
	}
	total := -1
	if q.count {
		total = 0
		for _, e := range entries {
			if matches(e) {
				total++
			}
		}
	}
	sel := q.sel
	if sel == nil {
		sel = deletedDefaultProps
	}
	b := make([]byte, 0, 256+len(page)*400)
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
	for j, e := range page {
		if j > 0 {
			b = append(b, ',')
		}
		shown := shownDeleted(&e.rec.u)
		b = s.appendUser(b, &shown, sel, false, false, nil)
	}
	b = append(b, "]}"...)
	return jsonResponse(http.StatusOK, b)
}

// directoryObjectEntity renders a user as a directoryObject-typed entity
// (GET /directory/deletedItems/{id}, restore). The caller holds s.mu.
func (s *Server) directoryObjectEntity(r *request, u *User, sel []*propDef) []byte {
	b := append([]byte(`{"@odata.context":`), appendJSONString(nil, r.base+"/v1.0/$metadata#directoryObjects/$entity")...)
	body := s.appendUser(nil, u, sel, true, false, nil)
	b = append(b, ',')
	return append(b, body[1:]...)
}

// getDeletedItem handles GET /directory/deletedItems/{id}.
func (s *Server) getDeletedItem(r *request) *response {
	q, gerr := parseQuery(r, false)
	if gerr != nil {
		return s.fail(r, gerr)
	}
	if q.expandManager {
		return s.fail(r, errNotImplemented("$expand on deleted items"))
	}
	s.purgeExpired()
	s.mu.RLock()
	defer s.mu.RUnlock()
	rec := s.st.deletedByID[strings.ToLower(r.segs[2])]
	if rec == nil {
		return s.fail(r, errNotFound(r.segs[2]))
	}
	sel := q.sel
	if sel == nil {
		sel = deletedDefaultProps
	}
	shown := shownDeleted(&rec.u)
	return jsonResponse(http.StatusOK, s.directoryObjectEntity(r, &shown, sel))
}

// restoreDeletedItem handles POST /directory/deletedItems/{id}/restore. The
// optional body may carry newUserPrincipalName (restore under another
// name) and autoReconcileProxyConflict (drop a mail address another user
// now has instead of failing).
func (s *Server) restoreDeletedItem(r *request) *response {
	var newUPN string
	reconcile := false
	if hasBody(r.body) {
		raw, gerr := decodeObject(r.body)
		if gerr != nil {
			return s.fail(r, gerr)
		}
		for k, v := range raw {
			var ok bool
			switch strings.ToLower(k) {
			case "newuserprincipalname":
				ok = isNull(v) || json.Unmarshal(v, &newUPN) == nil
			case "autoreconcileproxyconflict":
				ok = isNull(v) || json.Unmarshal(v, &reconcile) == nil
			default:
				return s.fail(r, newError(http.StatusBadRequest, "BadRequest",
					"The parameter '"+k+"' in the request payload is not a valid parameter for the operation 'restore'."))
			}
			if !ok {
				return s.fail(r, newError(http.StatusBadRequest, "BadRequest",
					"Cannot convert the literal "+string(v)+" to the expected type of the parameter '"+k+"'."))
			}
		}
	}
	s.purgeExpired()
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.st.deletedByID[strings.ToLower(r.segs[2])]
	if rec == nil {
		return s.fail(r, errNotFound(r.segs[2]))
	}
	u := rec.u.clone()
	if newUPN != "" {
		if gerr := s.checkUPN(newUPN); gerr != nil {
			return s.fail(r, gerr)
		}
		u.UserPrincipalName = newUPN
	}
	if reconcile && u.Mail != "" && s.st.byMail[strings.ToLower(u.Mail)] != nil {
		u.Mail = ""
	}
	if gerr := s.checkConflicts(&u, nil); gerr != nil {
		return s.fail(r, gerr)
	}
	rec.u = u
	s.st.restore(rec)
	return jsonResponse(http.StatusOK, s.directoryObjectEntity(r, &rec.u, nil))
}

// deleteDeletedItem handles DELETE /directory/deletedItems/{id}: permanent
// deletion.
func (s *Server) deleteDeletedItem(r *request) *response {
	s.purgeExpired()
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.st.deletedByID[strings.ToLower(r.segs[2])]
	if rec == nil {
		return s.fail(r, errNotFound(r.segs[2]))
	}
	s.st.purge(rec)
	return noContent()
}
