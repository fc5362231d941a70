package graphsim

import (
	"net/http"
	"strings"
)

// The organization resource: GET /organization (a collection holding exactly
// one object, as in Graph) and GET /organization/{id}, with $select. The
// object is the tenant (State.Tenant) and its verified domains; properties
// graphsim does not model are null or empty, as Graph returns them to an app
// that may read only id, displayName and verifiedDomains.

// orgProp is one property of microsoft.graph.organization.
type orgProp struct {
	name   string
	render func(b []byte, st *store) []byte
}

func (p *orgProp) propName() string { return p.name }

// selectedContextURL is the @odata.context of a response from entity set
// set with the selected properties (none: all of them).
func selectedContextURL[P interface{ propName() string }](r *request, set string, sel []P, entity bool) string {
	c := r.base + "/v1.0/$metadata#" + set
	if len(sel) > 0 {
		names := make([]string, len(sel))
		for i, p := range sel {
			names[i] = p.propName()
		}
		c += "(" + strings.Join(names, ",") + ")"
	}
	if entity {
		c += "/$entity"
	}
	return c
}

func orgNull(b []byte, _ *store) []byte  { return append(b, "null"...) }
func orgEmpty(b []byte, _ *store) []byte { return append(b, "[]"...) }

// orgProps lists the properties in the order Graph returns them without
// $select.
var orgProps = []*orgProp{
	{"id", func(b []byte, st *store) []byte { return appendJSONString(b, st.tenant.ID) }},
	{"deletedDateTime", orgNull},
	{"businessPhones", orgEmpty},
	{"city", orgNull},
	{"country", orgNull},
	{"countryLetterCode", orgNull},
	{"createdDateTime", orgNull},
	{"defaultUsageLocation", orgNull},
	{"displayName", func(b []byte, st *store) []byte { return appendNullableString(b, st.tenant.DisplayName) }},
	{"isMultipleDataLocationsForServicesEnabled", orgNull},
	{"marketingNotificationEmails", orgEmpty},
	{"onPremisesLastSyncDateTime", orgNull},
	{"onPremisesSyncEnabled", orgNull},
	{"partnerTenantType", orgNull},
	{"postalCode", orgNull},
	{"preferredLanguage", orgNull},
	{"securityComplianceNotificationMails", orgEmpty},
	{"securityComplianceNotificationPhones", orgEmpty},
	{"state", orgNull},
	{"street", orgNull},
	{"technicalNotificationMails", orgEmpty},
	{"tenantType", func(b []byte, _ *store) []byte { return append(b, `"AAD"`...) }},
	{"directorySizeQuota", orgNull},
	{"assignedPlans", orgEmpty},
	{"privacyProfile", orgNull},
	{"provisionedPlans", orgEmpty},
	{"verifiedDomains", appendVerifiedDomains},
}

var orgPropByName = func() map[string]*orgProp {
	m := make(map[string]*orgProp, len(orgProps))
	for _, p := range orgProps {
		m[strings.ToLower(p.name)] = p
	}
	return m
}()

// appendVerifiedDomains renders the domains as verifiedDomain objects. The
// first domain is the default one. The initial domain is the first
// *.onmicrosoft.com domain (every Entra tenant has exactly one); a tenant
// without such a domain calls its first domain initial.
func appendVerifiedDomains(b []byte, st *store) []byte {
	initial := 0
	for i, d := range st.domains {
		d = strings.ToLower(strings.TrimSpace(d))
		if strings.HasSuffix(d, ".onmicrosoft.com") && !strings.HasSuffix(d, ".mail.onmicrosoft.com") {
			initial = i
			break
		}
	}
	b = append(b, '[')
	for i, d := range st.domains {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"capabilities":"Email, OfficeCommunicationsOnline","isDefault":`...)
		b = appendBool(b, i == 0)
		b = append(b, `,"isInitial":`...)
		b = appendBool(b, i == initial)
		b = append(b, `,"name":`...)
		b = appendJSONString(b, strings.TrimSpace(d))
		b = append(b, `,"type":"Managed"}`...)
	}
	return append(b, ']')
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, "true"...)
	}
	return append(b, "false"...)
}

// parseOrgQuery parses the query options of an organization request: only
// $select is emulated (Graph documents no other option for this resource).
func parseOrgQuery(r *request) ([]*orgProp, *graphError) {
	for key := range r.query {
		if !strings.HasPrefix(key, "$") {
			continue
		}
		switch key {
		case "$select":
		case "$top", "$filter", "$skiptoken", "$count", "$expand", "$orderby", "$search", "$skip", "$format",
			"$levels", "$apply", "$compute", "$deltatoken":
			return nil, errNotImplemented("the " + key + " query option on organization")
		default:
			return nil, newError(http.StatusBadRequest, "BadRequest", "The query parameter '"+key+"' is not supported.")
		}
	}
	v, ok := r.query["$select"]
	if !ok {
		return nil, nil
	}
	var sel []*orgProp
	seen := map[*orgProp]bool{}
	for _, name := range strings.Split(strings.Join(v, ","), ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		p := orgPropByName[strings.ToLower(name)]
		if p == nil {
			return nil, newError(http.StatusBadRequest, "Request_BadRequest",
				"Could not find a property named '"+name+"' on type 'microsoft.graph.organization'.")
		}
		if !seen[p] {
			seen[p] = true
			sel = append(sel, p)
		}
	}
	return sel, nil
}

// appendOrganization renders the organization's members (without braces)
// with the selected properties (nil = all). The caller holds s.mu.
func (s *Server) appendOrganization(b []byte, sel []*orgProp) []byte {
	if len(sel) == 0 {
		sel = orgProps
	}
	for i, p := range sel {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, p.name)
		b = append(b, ':')
		b = p.render(b, s.st)
	}
	return b
}

// listOrganization handles GET /organization: a collection with the one
// organization object.
func (s *Server) listOrganization(r *request) *response {
	sel, gerr := parseOrgQuery(r)
	if gerr != nil {
		return s.fail(r, gerr)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	b := make([]byte, 0, 1024)
	b = append(b, `{"@odata.context":`...)
	b = appendJSONString(b, selectedContextURL(r, "organization", sel, false))
	b = append(b, `,"value":[{`...)
	b = s.appendOrganization(b, sel)
	b = append(b, "}]}"...)
	return jsonResponse(http.StatusOK, b)
}

// getOrganization handles GET /organization/{id}.
func (s *Server) getOrganization(r *request) *response {
	sel, gerr := parseOrgQuery(r)
	if gerr != nil {
		return s.fail(r, gerr)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if !strings.EqualFold(r.segs[1], s.st.tenant.ID) {
		return s.fail(r, errNotFound(r.segs[1]))
	}
	b := make([]byte, 0, 1024)
	b = append(b, `{"@odata.context":`...)
	b = appendJSONString(b, selectedContextURL(r, "organization", sel, true))
	b = append(b, ',')
	b = s.appendOrganization(b, sel)
	b = append(b, '}')
	return jsonResponse(http.StatusOK, b)
}
