package graphsim

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/hrsync/hrsync/internal/guid"
)

// Licenses: GET /subscribedSkus (and /subscribedSkus/{accountId_skuId}),
// the users' assignedLicenses and licenseAssignmentStates (read-only,
// $select-able), and POST /users/{id}/assignLicense with Graph's answers: a
// user without usageLocation cannot get a license, an unknown SKU "does not
// correspond to a valid company License", a SKU without free units "does
// not have any available licenses", removing a license the user lacks
// "does not have a corresponding license", removing one the user only
// inherits from a group "is inherited from a group membership". Changes are
// all or nothing.
//
// Users may hold licenses through groups (User.InheritedLicenses, seeded):
// assignedLicenses lists every license the user holds, directly or
// inherited, once; licenseAssignmentStates lists each assignment, with
// assignedByGroup null for direct ones and the group's id for inherited
// ones, as Graph does. A user holding a SKU both ways consumes one unit.
// A deleted user keeps its licenses but frees their units; a restore takes
// them again without checking for free units.

// skuProp is one property of microsoft.graph.subscribedSku.
type skuProp struct {
	name   string
	render func(b []byte, k *SubscribedSku, st *store) []byte
}

func (p *skuProp) propName() string { return p.name }

var skuProps = []*skuProp{
	{"accountName", func(b []byte, _ *SubscribedSku, st *store) []byte {
		return appendNullableString(b, st.tenant.DisplayName)
	}},
	{"accountId", func(b []byte, _ *SubscribedSku, st *store) []byte { return appendJSONString(b, st.tenant.ID) }},
	{"appliesTo", func(b []byte, _ *SubscribedSku, _ *store) []byte { return append(b, `"User"`...) }},
	{"capabilityStatus", func(b []byte, _ *SubscribedSku, _ *store) []byte { return append(b, `"Enabled"`...) }},
	{"consumedUnits", func(b []byte, k *SubscribedSku, _ *store) []byte { return appendInt(b, k.ConsumedUnits) }},
	{"id", func(b []byte, k *SubscribedSku, st *store) []byte { return appendJSONString(b, skuObjectID(st, k)) }},
	{"skuId", func(b []byte, k *SubscribedSku, _ *store) []byte { return appendJSONString(b, k.SkuID) }},
	{"skuPartNumber", func(b []byte, k *SubscribedSku, _ *store) []byte { return appendJSONString(b, k.SkuPartNumber) }},
	{"subscriptionIds", func(b []byte, _ *SubscribedSku, _ *store) []byte { return append(b, "[]"...) }},
	{"prepaidUnits", func(b []byte, k *SubscribedSku, _ *store) []byte {
		b = append(b, `{"enabled":`...)
		b = appendInt(b, k.PrepaidUnits.Enabled)
		return append(b, `,"suspended":0,"warning":0,"lockedOut":0}`...)
	}},
	{"servicePlans", func(b []byte, _ *SubscribedSku, _ *store) []byte { return append(b, "[]"...) }},
}

var skuPropByName = func() map[string]*skuProp {
	m := make(map[string]*skuProp, len(skuProps))
	for _, p := range skuProps {
		m[strings.ToLower(p.name)] = p
	}
	return m
}()

// skuObjectID is a subscribedSku's id: the tenant id and the skuId.
func skuObjectID(st *store, k *SubscribedSku) string { return st.tenant.ID + "_" + k.SkuID }

// parseSkuQuery parses the query options of a subscribedSkus request:
// $select only.
func parseSkuQuery(r *request) ([]*skuProp, *graphError) {
	for key := range r.query {
		if !strings.HasPrefix(key, "$") {
			continue
		}
		if key != "$select" {
			return nil, errNotImplemented("the " + key + " query option on subscribedSkus")
		}
	}
	var sel []*skuProp
	seen := map[*skuProp]bool{}
	for _, name := range strings.Split(strings.Join(r.query["$select"], ","), ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		p := skuPropByName[strings.ToLower(name)]
		if p == nil {
			return nil, newError(http.StatusBadRequest, "Request_BadRequest",
				"Could not find a property named '"+name+"' on type 'microsoft.graph.subscribedSku'.")
		}
		if !seen[p] {
			seen[p] = true
			sel = append(sel, p)
		}
	}
	return sel, nil
}

// appendSku renders k with the selected properties (nil = all). The caller
// holds s.mu.
func (s *Server) appendSku(b []byte, k *SubscribedSku, sel []*skuProp) []byte {
	if len(sel) == 0 {
		sel = skuProps
	}
	b = append(b, '{')
	for i, p := range sel {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, p.name)
		b = append(b, ':')
		b = p.render(b, k, s.st)
	}
	return append(b, '}')
}

// listSkus handles GET /subscribedSkus (one page, as in Graph).
func (s *Server) listSkus(r *request) *response {
	sel, gerr := parseSkuQuery(r)
	if gerr != nil {
		return s.fail(r, gerr)
	}
	s.purgeExpired()
	s.mu.RLock()
	defer s.mu.RUnlock()
	b := make([]byte, 0, 256+len(s.st.skus)*400)
	b = append(b, `{"@odata.context":`...)
	b = appendJSONString(b, selectedContextURL(r, "subscribedSkus", sel, false))
	b = append(b, `,"value":[`...)
	for i, k := range s.st.skus {
		if i > 0 {
			b = append(b, ',')
		}
		b = s.appendSku(b, k, sel)
	}
	b = append(b, "]}"...)
	return jsonResponse(http.StatusOK, b)
}

// getSku handles GET /subscribedSkus/{accountId_skuId}.
func (s *Server) getSku(r *request) *response {
	sel, gerr := parseSkuQuery(r)
	if gerr != nil {
		return s.fail(r, gerr)
	}
	s.purgeExpired()
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, k := range s.st.skus {
		if strings.EqualFold(r.segs[1], skuObjectID(s.st, k)) {
			b := append([]byte(`{"@odata.context":`), appendJSONString(nil, selectedContextURL(r, "subscribedSkus", sel, true))...)
			body := s.appendSku(nil, k, sel)
			b = append(b, ',')
			b = append(b, body[1:]...)
			return jsonResponse(http.StatusOK, b)
		}
	}
	return s.fail(r, errNotFound(r.segs[1]))
}

// appendAssignedLicenses renders a user's assignedLicenses: the direct
// licenses, then those only inherited from groups (each SKU once, as
// Graph lists them).
func appendAssignedLicenses(b []byte, u *User) []byte {
	b = append(b, '[')
	n := 0
	add := func(skuID string, disabled []string) {
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = append(b, `{"disabledPlans":`...)
		b = appendStrings(b, disabled)
		b = append(b, `,"skuId":`...)
		b = appendJSONString(b, skuID)
		b = append(b, '}')
	}
	for _, l := range u.AssignedLicenses {
		add(l.SkuID, l.DisabledPlans)
	}
	for i, l := range u.InheritedLicenses {
		if u.holdsDirectly(l.SkuID) || slices.ContainsFunc(u.InheritedLicenses[:i], func(p InheritedLicense) bool { return p.SkuID == l.SkuID }) {
			continue
		}
		add(l.SkuID, nil)
	}
	return append(b, ']')
}

// appendLicenseStates renders a user's licenseAssignmentStates: one entry
// per assignment, direct ones (assignedByGroup null) first. All are
// Active: graphsim has no license errors on users.
func appendLicenseStates(b []byte, u *User) []byte {
	b = append(b, '[')
	n := 0
	add := func(skuID, group string, disabled []string) {
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = append(b, `{"assignedByGroup":`...)
		b = appendNullableString(b, group)
		b = append(b, `,"disabledPlans":`...)
		b = appendStrings(b, disabled)
		b = append(b, `,"error":"None","lastUpdatedDateTime":null,"skuId":`...)
		b = appendJSONString(b, skuID)
		b = append(b, `,"state":"Active"}`...)
	}
	for _, l := range u.AssignedLicenses {
		add(l.SkuID, "", l.DisabledPlans)
	}
	for _, l := range u.InheritedLicenses {
		add(l.SkuID, l.GroupID, nil)
	}
	return append(b, ']')
}

func errInheritedLicense() *graphError {
	return newError(http.StatusBadRequest, "Request_BadRequest",
		"User license is inherited from a group membership and it cannot be removed directly from the user.")
}

func errGUIDLiteral(v string) *graphError {
	return newError(http.StatusBadRequest, "BadRequest", "Cannot convert the literal '"+v+"' to the expected type 'Edm.Guid'.")
}

// licenseChange is a decoded assignLicense body.
type licenseChange struct {
	add    []AssignedLicense
	remove []string
}

// decodeLicenseChange reads {"addLicenses":[{"skuId","disabledPlans"}],
// "removeLicenses":[skuId]}; both are optional and may be empty.
func decodeLicenseChange(body []byte) (*licenseChange, *graphError) {
	raw, gerr := decodeObject(body)
	if gerr != nil {
		return nil, gerr
	}
	lc := &licenseChange{}
	for k, v := range raw {
		switch strings.ToLower(k) {
		case "addlicenses":
			var adds []map[string]json.RawMessage
			if !isNull(v) && json.Unmarshal(v, &adds) != nil {
				return nil, errUnreadableBody()
			}
			for _, a := range adds {
				var l AssignedLicense
				for ak, av := range a {
					switch strings.ToLower(ak) {
					case "skuid":
						if json.Unmarshal(av, &l.SkuID) != nil || !guid.Valid(l.SkuID) {
							return nil, errGUIDLiteral(strings.Trim(string(av), `"`))
						}
						l.SkuID = strings.ToLower(l.SkuID)
					case "disabledplans":
						if !isNull(av) && json.Unmarshal(av, &l.DisabledPlans) != nil {
							return nil, errUnreadableBody()
						}
						for i, p := range l.DisabledPlans {
							if !guid.Valid(p) {
								return nil, errGUIDLiteral(p)
							}
							l.DisabledPlans[i] = strings.ToLower(p)
						}
						if len(l.DisabledPlans) == 0 {
							l.DisabledPlans = nil
						}
					case "@odata.type":
					default:
						return nil, newError(http.StatusBadRequest, "Request_BadRequest", "Invalid property '"+ak+"'.")
					}
				}
				if l.SkuID == "" {
					return nil, newError(http.StatusBadRequest, "Request_BadRequest", "Property skuId value is required but is empty or missing.")
				}
				lc.add = append(lc.add, l)
			}
		case "removelicenses":
			if !isNull(v) && json.Unmarshal(v, &lc.remove) != nil {
				return nil, errUnreadableBody()
			}
			for i, id := range lc.remove {
				if !guid.Valid(id) {
					return nil, errGUIDLiteral(id)
				}
				lc.remove[i] = strings.ToLower(id)
			}
		default:
			return nil, newError(http.StatusBadRequest, "BadRequest",
				"The parameter '"+k+"' in the request payload is not a valid parameter for the operation 'assignLicense'.")
		}
	}
	return lc, nil
}

func errUnknownSku(skuID string) *graphError {
	return newError(http.StatusBadRequest, "Request_BadRequest", "License "+skuID+" does not correspond to a valid company License.")
}

// assignLicense handles POST /users/{id | userPrincipalName}/assignLicense
// and answers the user.
func (s *Server) assignLicense(r *request) *response {
	lc, gerr := decodeLicenseChange(r.body)
	if gerr != nil {
		return s.fail(r, gerr)
	}
	s.purgeExpired()
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.st.lookup(r.segs[1])
	if rec == nil {
		return s.fail(r, errNotFound(r.segs[1]))
	}
	u := &rec.u
	if len(lc.add) > 0 && u.UsageLocation == "" {
		return s.fail(r, newError(http.StatusBadRequest, "Request_BadRequest",
			"License assignment cannot be done for user with invalid usage location."))
	}
	held := make(map[string]bool, len(u.AssignedLicenses))
	for _, l := range u.AssignedLicenses {
		held[l.SkuID] = true
	}
	removing := make(map[string]bool, len(lc.remove))
	for _, id := range lc.remove {
		if s.st.skuByID[id] == nil {
			return s.fail(r, errUnknownSku(id))
		}
		if !held[id] {
			if u.inherits(id) {
				return s.fail(r, errInheritedLicense())
			}
			return s.fail(r, newError(http.StatusBadRequest, "Request_BadRequest", "User does not have a corresponding license."))
		}
		removing[id] = true
	}
	adding := make(map[string]bool, len(lc.add))
	for _, l := range lc.add {
		k := s.st.skuByID[l.SkuID]
		if k == nil {
			return s.fail(r, errUnknownSku(l.SkuID))
		}
		if removing[l.SkuID] || adding[l.SkuID] {
			return s.fail(r, newError(http.StatusBadRequest, "Request_BadRequest",
				"License "+l.SkuID+" appears more than once in the request."))
		}
		adding[l.SkuID] = true
		if !held[l.SkuID] && !u.inherits(l.SkuID) && k.ConsumedUnits >= k.PrepaidUnits.Enabled {
			return s.fail(r, newError(http.StatusBadRequest, "Request_BadRequest",
				"Subscription "+l.SkuID+" does not have any available licenses."))
		}
	}
	if len(lc.add) == 0 && len(lc.remove) == 0 {
		return jsonResponse(http.StatusOK, s.userEntity(r, u))
	}
	kept := u.AssignedLicenses[:0:0]
	for _, l := range u.AssignedLicenses {
		if removing[l.SkuID] {
			if !u.inherits(l.SkuID) { // else the group's assignment keeps the unit
				s.st.skuByID[l.SkuID].ConsumedUnits--
			}
			continue
		}
		kept = append(kept, l)
	}
	for _, l := range lc.add {
		replaced := false
		for i := range kept {
			if kept[i].SkuID == l.SkuID {
				kept[i].DisabledPlans = l.DisabledPlans
				replaced = true
			}
		}
		if !replaced {
			kept = append(kept, l)
			if !u.inherits(l.SkuID) {
				s.st.skuByID[l.SkuID].ConsumedUnits++
			}
		}
	}
	if len(kept) == 0 {
		kept = nil
	}
	u.AssignedLicenses = kept
	s.st.touch(rec)
	s.st.version++
	return jsonResponse(http.StatusOK, s.userEntity(r, u))
}

// userEntity renders a user with the default properties as
// users/$entity. The caller holds s.mu.
func (s *Server) userEntity(r *request, u *User) []byte {
	b := append([]byte(`{"@odata.context":`), appendJSONString(nil, contextURL(r, "users", nil, true))...)
	body := s.appendUser(nil, u, nil, false, false, nil)
	b = append(b, ',')
	return append(b, body[1:]...)
}
