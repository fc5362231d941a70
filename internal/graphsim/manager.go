package graphsim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"
)

func errNoManager() *graphError { return errNotFound("manager") }

// getManager handles GET /users/{id}/manager: the manager as a
// directoryObject-typed user, or 404 when there is none.
func (s *Server) getManager(r *request) *response {
	q, gerr := parseQuery(r, false)
	if gerr != nil {
		return s.fail(r, gerr)
	}
	if q.expandManager {
		return s.fail(r, errNotImplemented("$expand on /users/{id}/manager"))
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	rec := s.st.lookup(r.segs[1])
	if rec == nil {
		return s.fail(r, errNotFound(r.segs[1]))
	}
	m := s.st.byID[rec.u.Manager]
	if rec.u.Manager == "" || m == nil {
		return s.fail(r, errNoManager())
	}
	b := append([]byte(`{"@odata.context":`), appendJSONString(nil, r.base+"/v1.0/$metadata#directoryObjects/$entity")...)
	body := s.appendUser(nil, &m.u, q.sel, true, false, nil)
	b = append(b, ',')
	b = append(b, body[1:]...)
	return jsonResponse(http.StatusOK, b)
}

// getManagerRef handles GET /users/{id}/manager/$ref.
func (s *Server) getManagerRef(r *request) *response {
	s.mu.RLock()
	defer s.mu.RUnlock()
	rec := s.st.lookup(r.segs[1])
	if rec == nil {
		return s.fail(r, errNotFound(r.segs[1]))
	}
	if rec.u.Manager == "" || s.st.byID[rec.u.Manager] == nil {
		return s.fail(r, errNoManager())
	}
	b := append([]byte(`{"@odata.context":`), appendJSONString(nil, r.base+"/v1.0/$metadata#directoryObjects/$entity")...)
	b = append(b, `,"@odata.id":`...)
	b = appendJSONString(b, r.base+"/v1.0/directoryObjects/"+rec.u.Manager+"/Microsoft.DirectoryServices.User")
	b = append(b, '}')
	return jsonResponse(http.StatusOK, b)
}

// putManager handles PUT /users/{id}/manager/$ref with
// {"@odata.id": "https://graph.microsoft.com/v1.0/users/{managerId}"} (any
// host; .../directoryObjects/{id} works too). The manager of a user synced
// from Active Directory is mastered there.
func (s *Server) putManager(r *request) *response {
	raw, gerr := decodeObject(r.body)
	if gerr != nil {
		return s.fail(r, gerr)
	}
	var ref string
	found := false
	for k, v := range raw {
		if strings.EqualFold(k, "@odata.id") {
			found = json.Unmarshal(v, &ref) == nil && ref != ""
		}
	}
	if !found {
		return s.fail(r, newError(http.StatusBadRequest, "BadRequest",
			"The request body must be a reference: {\"@odata.id\": \"https://graph.microsoft.com/v1.0/users/{id}\"}."))
	}
	key, ok := refTarget(ref)
	if !ok {
		return s.fail(r, newError(http.StatusBadRequest, "BadRequest", "The @odata.id '"+ref+"' is not a valid reference to a directory object."))
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.st.lookup(r.segs[1])
	if rec == nil {
		return s.fail(r, errNotFound(r.segs[1]))
	}
	if rec.u.synced() {
		return s.fail(r, errMastered())
	}
	m := s.st.lookup(key)
	if m == nil {
		return s.fail(r, errNotFound(key))
	}
	if m == rec {
		return s.fail(r, errInvalidValue("manager"))
	}
	s.st.setManager(rec, m.u.ID)
	return noContent()
}

// refTarget extracts the object key from an @odata.id reference URL: the
// segment after the last "users" or "directoryObjects" segment.
func refTarget(ref string) (string, bool) {
	u, err := url.Parse(ref)
	if err != nil {
		return "", false
	}
	segs, gerr := splitPath(u.EscapedPath())
	if gerr != nil {
		return "", false
	}
	for i := len(segs) - 2; i >= 0; i-- {
		switch strings.ToLower(segs[i]) {
		case "users", "directoryobjects":
			if segs[i+1] != "" {
				return segs[i+1], true
			}
		}
	}
	return "", false
}

// deleteManager handles DELETE /users/{id}/manager/$ref (refused for a
// user synced from Active Directory).
func (s *Server) deleteManager(r *request) *response {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.st.lookup(r.segs[1])
	if rec == nil {
		return s.fail(r, errNotFound(r.segs[1]))
	}
	if rec.u.synced() {
		return s.fail(r, errMastered())
	}
	if rec.u.Manager == "" {
		return s.fail(r, errNoManager())
	}
	s.st.setManager(rec, "")
	return noContent()
}

// revokeSessions handles POST /users/{id}/revokeSignInSessions: tokens
// issued before now are invalid; Graph answers {"value": true}.
func (s *Server) revokeSessions(r *request) *response {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.st.lookup(r.segs[1])
	if rec == nil {
		return s.fail(r, errNotFound(r.segs[1]))
	}
	rec.u.SignInSessionsValidFromDateTime = s.now().UTC().Truncate(time.Second)
	s.st.touch(rec)
	s.st.version++
	return jsonResponse(http.StatusOK, []byte(`{"@odata.context":"`+r.base+`/v1.0/$metadata#Edm.Boolean","value":true}`))
}
