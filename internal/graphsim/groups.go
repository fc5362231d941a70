package graphsim

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
)

// Groups: GET /groups ($select, $filter, $top, $skiptoken, $count),
// GET /groups/{id} ($select), the direct members (GET
// /groups/{id}/members and its microsoft.graph.user cast, $select, $top,
// $skiptoken), POST /groups/{id}/members/$ref and DELETE
// /groups/{id}/members/{id}/$ref. Groups come from the state (State.Groups)
// and only their members change; members are users (a deleted user stays a
// member, hidden, until it is restored or purged). Nested groups, owners and
// group writes answer 501.

// groupProp is one property of microsoft.graph.group.
type groupProp struct {
	name   string
	render func(b []byte, g *Group) []byte
}

func (p *groupProp) propName() string { return p.name }

func groupNull(b []byte, _ *Group) []byte  { return append(b, "null"...) }
func groupEmpty(b []byte, _ *Group) []byte { return append(b, "[]"...) }

// groupProps lists the properties in the order Graph returns them without
// $select.
var groupProps = []*groupProp{
	{"id", func(b []byte, g *Group) []byte { return appendJSONString(b, g.ID) }},
	{"deletedDateTime", groupNull},
	{"classification", groupNull},
	{"createdDateTime", groupNull},
	{"creationOptions", groupEmpty},
	{"description", func(b []byte, g *Group) []byte { return appendNullableString(b, g.Description) }},
	{"displayName", func(b []byte, g *Group) []byte { return appendNullableString(b, g.DisplayName) }},
	{"expirationDateTime", groupNull},
	{"groupTypes", func(b []byte, g *Group) []byte { return appendStrings(b, g.GroupTypes) }},
	{"isAssignableToRole", groupNull},
	{"mail", groupNull},
	{"mailEnabled", func(b []byte, g *Group) []byte { return appendBool(b, g.MailEnabled) }},
	{"mailNickname", groupNull},
	{"membershipRule", groupNull},
	{"membershipRuleProcessingState", groupNull},
	{"onPremisesDomainName", groupNull},
	{"onPremisesLastSyncDateTime", groupNull},
	{"onPremisesNetBiosName", groupNull},
	{"onPremisesSamAccountName", groupNull},
	{"onPremisesSecurityIdentifier", groupNull},
	{"onPremisesSyncEnabled", func(b []byte, g *Group) []byte { return appendNullableBool(b, g.OnPremisesSyncEnabled) }},
	{"preferredDataLocation", groupNull},
	{"preferredLanguage", groupNull},
	{"proxyAddresses", groupEmpty},
	{"renewedDateTime", groupNull},
	{"resourceBehaviorOptions", groupEmpty},
	{"resourceProvisioningOptions", groupEmpty},
	{"securityEnabled", func(b []byte, g *Group) []byte { return appendBool(b, g.SecurityEnabled) }},
	{"securityIdentifier", groupNull},
	{"theme", groupNull},
	{"visibility", groupNull},
	{"onPremisesProvisioningErrors", groupEmpty},
	{"serviceProvisioningErrors", groupEmpty},
}

var groupPropByName = func() map[string]*groupProp {
	m := make(map[string]*groupProp, len(groupProps))
	for _, p := range groupProps {
		m[strings.ToLower(p.name)] = p
	}
	return m
}()

// groupFilter is what $filter on groups supports: id and displayName (eq,
// in, startsWith), the mailEnabled, securityEnabled and
// onPremisesSyncEnabled flags, and description with the advanced query
// parameters.
var groupFilter = &filterTarget{
	leaves: map[string]*filterLeaf{
		"id": {name: "id", typ: edmString, level: filterDefault, gstr: func(g *Group) string { return g.ID }},
		"displayname": {name: "displayName", typ: edmString, level: filterDefault,
			gstr: func(g *Group) string { return g.DisplayName }},
		"description": {name: "description", typ: edmString, level: filterAdvanced,
			gstr: func(g *Group) string { return g.Description }},
		"mailenabled": {name: "mailEnabled", typ: edmBool, level: filterDefault,
			gbool: func(g *Group) bool { return g.MailEnabled }},
		"securityenabled": {name: "securityEnabled", typ: edmBool, level: filterDefault,
			gbool: func(g *Group) bool { return g.SecurityEnabled }},
		"onpremisessyncenabled": {name: "onPremisesSyncEnabled", typ: edmBool, level: filterDefault,
			gnbool: func(g *Group) *bool { return g.OnPremisesSyncEnabled }},
	},
	typeName: "microsoft.graph.group",
	resource: "Group",
	props: func(name string) (string, bool) {
		if p := groupPropByName[strings.ToLower(name)]; p != nil {
			return p.name, true
		}
		return "", false
	},
}

func appendStrings(b []byte, vs []string) []byte {
	b = append(b, '[')
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, v)
	}
	return append(b, ']')
}

// groupQuery is a parsed group request.
type groupQuery struct {
	sel     []*groupProp // nil = all
	top     int
	skipSeq uint64
	filter  *fnode
	count   bool
}

// parseGroupQuery parses the query options of a groups request;
// collection says whether the target is GET /groups.
func parseGroupQuery(r *request, collection bool) (*groupQuery, *graphError) {
	q := &groupQuery{top: defaultPageSize}
	for key := range r.query {
		if !strings.HasPrefix(key, "$") {
			continue
		}
		switch key {
		case "$select":
		case "$top", "$filter", "$skiptoken", "$count":
			if !collection {
				return nil, newError(http.StatusBadRequest, "BadRequest",
					"The query specified in the URI is not valid. The requested resource is not a collection. "+
						"Query options $filter, $orderby, $count, $skip, and $top can be applied only on collections.")
			}
		case "$expand", "$orderby", "$search", "$skip", "$format", "$levels", "$apply", "$compute", "$deltatoken":
			return nil, errNotImplemented("the " + key + " query option on groups")
		default:
			return nil, newError(http.StatusBadRequest, "BadRequest", "The query parameter '"+key+"' is not supported.")
		}
	}
	if v, ok := r.query["$select"]; ok {
		seen := map[*groupProp]bool{}
		for _, name := range strings.Split(strings.Join(v, ","), ",") {
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			p := groupPropByName[strings.ToLower(name)]
			if p == nil {
				return nil, newError(http.StatusBadRequest, "Request_BadRequest",
					"Could not find a property named '"+name+"' on type 'microsoft.graph.group'.")
			}
			if !seen[p] {
				seen[p] = true
				q.sel = append(q.sel, p)
			}
		}
	}
	if !collection {
		return q, nil
	}
	var gerr *graphError
	if q.top, gerr = topOption(r); gerr != nil {
		return nil, gerr
	}
	if q.skipSeq, gerr = skipTokenOption(r); gerr != nil {
		return nil, gerr
	}
	advanced := strings.EqualFold(strings.TrimSpace(r.query.Get("$count")), "true") &&
		strings.EqualFold(strings.TrimSpace(r.header.Get("ConsistencyLevel")), "eventual")
	q.count = advanced
	if r.query.Has("$filter") {
		expr := strings.TrimSpace(r.query.Get("$filter"))
		if expr == "" {
			return nil, errFilterSyntax(expr, 0)
		}
		if q.filter, gerr = groupFilter.parse(expr, advanced); gerr != nil {
			return nil, gerr
		}
	}
	return q, nil
}

// appendGroup renders g with the selected properties (nil = all).
func appendGroup(b []byte, g *Group, sel []*groupProp) []byte {
	if sel == nil {
		sel = groupProps
	}
	b = append(b, '{')
	for i, p := range sel {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, p.name)
		b = append(b, ':')
		b = p.render(b, g)
	}
	return append(b, '}')
}

// listGroups handles GET /groups. Pages follow the order of State.Groups.
func (s *Server) listGroups(r *request) *response {
	q, gerr := parseGroupQuery(r, true)
	if gerr != nil {
		return s.fail(r, gerr)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	// The $skiptoken holds the position after the last group returned:
	// groups are never created or deleted, so positions are stable.
	var page []int // indexes into s.st.groups
	more := false
	for i := int(min(q.skipSeq, uint64(len(s.st.groups)))); i < len(s.st.groups); i++ {
		if q.filter != nil && !q.filter.matchGroup(&s.st.groups[i].g) {
			continue
		}
		if len(page) == q.top {
			more = true
			break
		}
		page = append(page, i)
	}
	total := 0
	if q.count {
		for _, g := range s.st.groups {
			if q.filter == nil || q.filter.matchGroup(&g.g) {
				total++
			}
		}
	}
	b := make([]byte, 0, 256+len(page)*300)
	b = append(b, `{"@odata.context":`...)
	b = appendJSONString(b, selectedContextURL(r, "groups", q.sel, false))
	if q.count {
		b = append(b, `,"@odata.count":`...)
		b = appendInt(b, total)
	}
	if more && len(page) > 0 {
		b = append(b, `,"@odata.nextLink":`...)
		b = appendJSONString(b, nextLink(r, uint64(page[len(page)-1]+1)))
	}
	b = append(b, `,"value":[`...)
	for j, i := range page {
		if j > 0 {
			b = append(b, ',')
		}
		b = appendGroup(b, &s.st.groups[i].g, q.sel)
	}
	b = append(b, "]}"...)
	return jsonResponse(http.StatusOK, b)
}

// getGroup handles GET /groups/{id}.
func (s *Server) getGroup(r *request) *response {
	q, gerr := parseGroupQuery(r, false)
	if gerr != nil {
		return s.fail(r, gerr)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	g := s.st.groupByID[strings.ToLower(r.segs[1])]
	if g == nil {
		return s.fail(r, errNotFound(r.segs[1]))
	}
	b := append([]byte(`{"@odata.context":`), appendJSONString(nil, selectedContextURL(r, "groups", q.sel, true))...)
	body := appendGroup(nil, &g.g, q.sel)
	if len(body) > 2 {
		b = append(b, ',')
	}
	b = append(b, body[1:]...)
	return jsonResponse(http.StatusOK, b)
}

// listMembers handles GET /groups/{id}/members (directoryObjects, typed)
// and GET /groups/{id}/members/microsoft.graph.user: the direct members
// that are live users, in the order they were added, with $select, $top
// (1-999, default 100) and $skiptoken.
func (s *Server) listMembers(r *request) *response {
	for key := range r.query {
		if !strings.HasPrefix(key, "$") {
			continue
		}
		switch key {
		case "$select", "$top", "$skiptoken":
		case "$filter", "$count", "$expand", "$orderby", "$search", "$skip", "$format", "$levels", "$apply", "$compute":
			return s.fail(r, errNotImplemented("the "+key+" query option on group members"))
		default:
			return s.fail(r, newError(http.StatusBadRequest, "BadRequest", "The query parameter '"+key+"' is not supported."))
		}
	}
	var sel []*propDef
	var gerr *graphError
	if v, ok := r.query["$select"]; ok {
		if sel, gerr = parseSelect(strings.Join(v, ",")); gerr != nil {
			return s.fail(r, gerr)
		}
	}
	top, gerr := topOption(r)
	if gerr != nil {
		return s.fail(r, gerr)
	}
	skip, gerr := skipTokenOption(r)
	if gerr != nil {
		return s.fail(r, gerr)
	}
	cast := len(r.segs) == 4
	s.purgeExpired()
	s.mu.RLock()
	defer s.mu.RUnlock()
	g := s.st.groupByID[strings.ToLower(r.segs[1])]
	if g == nil {
		return s.fail(r, errNotFound(r.segs[1]))
	}
	ms := g.members
	i := sort.Search(len(ms), func(i int) bool { return ms[i].seq > skip })
	var page []memberEntry
	more := false
	for ; i < len(ms); i++ {
		if s.st.byID[ms[i].id] == nil {
			continue // a deleted user: hidden until restored
		}
		if len(page) == top {
			more = true
			break
		}
		page = append(page, ms[i])
	}
	ctx := r.base + "/v1.0/$metadata#directoryObjects"
	if cast {
		ctx = contextURL(r, "users", sel, false)
	} else if sel != nil {
		ctx += "(" + selectList(sel) + ")"
	}
	b := make([]byte, 0, 256+len(page)*200)
	b = append(b, `{"@odata.context":`...)
	b = appendJSONString(b, ctx)
	if more {
		b = append(b, `,"@odata.nextLink":`...)
		b = appendJSONString(b, nextLink(r, page[len(page)-1].seq))
	}
	b = append(b, `,"value":[`...)
	for j, m := range page {
		if j > 0 {
			b = append(b, ',')
		}
		b = s.appendUser(b, &s.st.byID[m.id].u, sel, !cast, false, nil)
	}
	b = append(b, "]}"...)
	return jsonResponse(http.StatusOK, b)
}

func errAlreadyMember() *graphError {
	return newError(http.StatusBadRequest, "Request_BadRequest",
		"One or more added object references already exist for the following modified properties: 'members'.")
}

// refBody reads an {"@odata.id": "..."} body and returns the referenced
// object's key.
func refBody(body []byte) (string, *graphError) {
	raw, gerr := decodeObject(body)
	if gerr != nil {
		return "", gerr
	}
	var ref string
	found := false
	for k, v := range raw {
		if strings.EqualFold(k, "@odata.id") {
			found = json.Unmarshal(v, &ref) == nil && ref != ""
		}
	}
	if !found {
		return "", newError(http.StatusBadRequest, "BadRequest",
			"The request body must be a reference: {\"@odata.id\": \"https://graph.microsoft.com/v1.0/directoryObjects/{id}\"}.")
	}
	key, ok := refTarget(ref)
	if !ok {
		return "", newError(http.StatusBadRequest, "BadRequest", "The @odata.id '"+ref+"' is not a valid reference to a directory object.")
	}
	return key, nil
}

// memberTarget resolves the user a member reference names. The caller holds
// s.mu.
func (s *Server) memberTarget(key string) (*userRec, *graphError) {
	if u := s.st.lookup(key); u != nil {
		return u, nil
	}
	if s.st.groupByID[strings.ToLower(key)] != nil {
		return nil, errNotImplemented("groups as group members")
	}
	return nil, errNotFound(key)
}

// addMember handles POST /groups/{id}/members/$ref with
// {"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/{id}"}
// (any host; .../users/{id} works too). The members of a group synced from
// Active Directory are mastered there: adding or removing one is refused.
func (s *Server) addMember(r *request) *response {
	key, gerr := refBody(r.body)
	if gerr != nil {
		return s.fail(r, gerr)
	}
	s.purgeExpired()
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.st.groupByID[strings.ToLower(r.segs[1])]
	if g == nil {
		return s.fail(r, errNotFound(r.segs[1]))
	}
	if g.g.synced() {
		return s.fail(r, errMastered())
	}
	u, gerr := s.memberTarget(key)
	if gerr != nil {
		return s.fail(r, gerr)
	}
	if g.memberSet[u.u.ID] {
		return s.fail(r, errAlreadyMember())
	}
	g.addMember(u.u.ID)
	s.st.version++
	return noContent()
}

// removeMember handles DELETE /groups/{id}/members/{memberId}/$ref (and
// DELETE /groups/{id}/members/$ref?$id=<reference>). A user who is not a
// member answers 404, naming the group, as Graph does.
func (s *Server) removeMember(r *request) *response {
	var key string
	if len(r.segs) == 5 {
		key = r.segs[3]
	} else {
		ref := r.query.Get("$id")
		k, ok := refTarget(ref)
		if !ok {
			return s.fail(r, newError(http.StatusBadRequest, "BadRequest", "The $id '"+ref+"' is not a valid reference to a directory object."))
		}
		key = k
	}
	s.purgeExpired()
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.st.groupByID[strings.ToLower(r.segs[1])]
	if g == nil {
		return s.fail(r, errNotFound(r.segs[1]))
	}
	if g.g.synced() {
		return s.fail(r, errMastered())
	}
	u := s.st.lookup(key)
	if u == nil || !g.memberSet[u.u.ID] {
		return s.fail(r, errNotFound(r.segs[1]))
	}
	g.removeMember(u.u.ID)
	s.st.version++
	return noContent()
}
