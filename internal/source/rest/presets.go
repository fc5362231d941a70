package rest

import (
	"encoding/json"
	"strings"
)

// preset fills defaults for one HR API; the user's settings override them
// (see mergePreset).
type preset struct {
	// urlExample is shown when url is missing.
	urlExample string
	// settings returns fresh default settings, as decoded YAML would be.
	settings func() map[string]any
	// finish derives what depends on the final settings (e.g. the report
	// body from the columns). user is the user's own settings.
	finish func(c *Config, user map[string]any)
	// hintAuth, hintNotFound and hintJSON complete error hints.
	hintAuth, hintNotFound, hintJSON, hintMissing string
}

// columns builds a fields list (one-key maps, in order) from name/path
// pairs.
func columns(kv ...string) []any {
	out := make([]any, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, map[string]any{kv[i]: kv[i+1]})
	}
	return out
}

var presets = map[string]*preset{
	// Workday: a custom report (Advanced, "Enable As Web Service") read
	// through Report-as-a-Service as JSON. The whole report is one
	// response; the columns are the report's field aliases ("XML alias"),
	// which the report designer chooses: the defaults below are the ones
	// mappings/workday.yaml expects.
	"workday": {
		urlExample: "https://wd2-impl-services1.workday.com/ccx/service/customreport2/<tenant>/<report owner>/<report name>",
		settings: func() map[string]any {
			return map[string]any{
				"query":   map[string]any{"format": "json"},
				"records": "Report_Entry",
				"paging":  map[string]any{"type": PagingNone},
				"auth":    map[string]any{"type": AuthBasic},
				// RaaS builds the whole report before it answers.
				"timeout": "10m",
				"fields": columns(
					"Employee_ID", "Employee_ID",
					"Active", "Active",
					"First_Name", "First_Name",
					"Last_Name", "Last_Name",
					"Business_Title", "Business_Title",
					"Supervisory_Organization", "Supervisory_Organization",
					"Hire_Date", "Hire_Date",
					"Manager_ID", "Manager_ID",
					"Country_Code", "Country_Code",
				),
			}
		},
		hintAuth:     "Workday: the integration system user (ISU) needs the report shared with it and View access to the domains of its fields; some tenants want the user name as ISU_name@tenant",
		hintNotFound: "Workday: check the tenant, the report owner and the report name in the URL (Related Actions > Web Service > View URLs on the report)",
		hintJSON:     "is the report an Advanced report enabled as a web service, and does the URL ask for ?format=json?",
		hintMissing:  "Workday names the keys after the report fields' XML aliases: rename the alias in the report, or point the column at yours in source.rest.fields (e.g. Manager_ID: Manager.ID), or drop it with Manager_ID: ~",
	},
	// SAP SuccessFactors OData v2, the User entity by default. Inactive
	// users are included ($filter), so the mapping can disable them; the
	// server pages with d.__next.
	"successfactors": {
		urlExample: "https://<api server, e.g. api4.successfactors.com>/odata/v2/User",
		settings: func() map[string]any {
			return map[string]any{
				"query": map[string]any{
					"$format": "json",
					"$filter": "status in 't','f'",
				},
				"records":     "d.results",
				"paging":      map[string]any{"type": PagingNextLink, "next": "d.__next"},
				"auth":        map[string]any{"type": AuthBasic},
				"odata_dates": true,
				"fields": columns(
					"userId", "userId",
					"status", "status",
					"firstName", "firstName",
					"lastName", "lastName",
					"email", "email",
					"department", "department",
					"title", "title",
					"hireDate", "hireDate",
					"managerId", "manager.userId",
				),
			}
		},
		finish:       successFactorsSelect,
		hintAuth:     "SuccessFactors: basic auth wants user@companyId and an API user with OData API export permission (basic auth is being retired: SAP's date is 20 November 2026; use oauth2 with SAP Cloud Identity Services instead)",
		hintNotFound: "SuccessFactors: check the API server of your data centre and the entity name in the URL",
		hintJSON:     "does the query ask for $format=json?",
		hintMissing:  "SuccessFactors omits properties the API user may not read; check the entity's property name (OData API Data Dictionary) and the user's field permissions, or drop the column with ~",
	},
	// BambooHR's custom report API: the columns' first path segments are
	// the report's field list, so a column added in source.rest.fields is
	// requested too.
	"bamboohr": {
		urlExample: "https://api.bamboohr.com/api/gateway.php/<company domain>/v1/reports/custom",
		settings: func() map[string]any {
			return map[string]any{
				"method": "POST",
				"query":  map[string]any{"format": "JSON", "onlyCurrent": "true"},
				// BambooHR reads the body as JSON only for exactly
				// "application/json".
				"headers": map[string]any{"Accept": "application/json", "Content-Type": "application/json"},
				"records": "employees",
				"paging":  map[string]any{"type": PagingNone},
				"auth":    map[string]any{"type": AuthBasic},
				"fields": columns(
					"id", "id",
					"employeeNumber", "employeeNumber",
					"status", "status",
					"firstName", "firstName",
					"lastName", "lastName",
					"preferredName", "preferredName",
					"workEmail", "workEmail",
					"jobTitle", "jobTitle",
					"department", "department",
					"division", "division",
					"location", "location",
					"hireDate", "hireDate",
					"supervisorEId", "supervisorEId",
				),
			}
		},
		finish:       bambooBody,
		hintAuth:     "BambooHR: the API key goes in auth.api_key_env; its user must be allowed to see every field asked for",
		hintNotFound: "BambooHR: check the company domain in the URL (https://<company>.bamboohr.com)",
		hintJSON:     "does the URL ask for format=JSON?",
		hintMissing:  "BambooHR silently leaves out fields it does not know or the API key's user may not see; check the field name (List of Field Names) and the user's access level",
	},
	// Personio's employee list (API v1), with the OAuth 2.0 client
	// credentials token of its v2 authentication endpoint.
	"personio": {
		urlExample: "https://api.personio.de/v1/company/employees",
		settings: func() map[string]any {
			return map[string]any{
				"url":     "https://api.personio.de/v1/company/employees",
				"records": "data",
				"paging": map[string]any{"type": PagingOffset, "offset_param": "offset", "limit_param": "limit",
					"size": 100, "total": "metadata.total_elements"},
				"auth": map[string]any{"type": AuthOAuth2, "token_url": "https://api.personio.de/v2/auth/token",
					"client_auth": "post"},
				"fields": columns(
					"id", "attributes.id.value",
					"status", "attributes.status.value",
					"first_name", "attributes.first_name.value",
					"last_name", "attributes.last_name.value",
					"email", "attributes.email.value",
					"position", "attributes.position.value",
					"department", "attributes.department.value.attributes.name",
					"office", "attributes.office.value.attributes.name",
					"hire_date", "attributes.hire_date.value",
					"supervisor_id", "attributes.supervisor.value.attributes.id.value",
					"country", "attributes.holiday_calendar.value.attributes.country",
				),
			}
		},
		hintAuth:     "Personio: check the API credential's client id and secret (Settings > Integrations > API credentials)",
		hintNotFound: "Personio: the employee list is https://api.personio.de/v1/company/employees",
		hintMissing:  "Personio only returns the attributes the API credential may read: add it to the credential's readable attributes, or drop the column with ~",
	},
}

// successFactorsSelect asks only for the columns' properties: $select from
// the fields' paths (nested ones as manager/userId) and $expand for the
// navigation properties they go through. When the user sets $select or
// $expand, neither is derived.
func successFactorsSelect(c *Config, user map[string]any) {
	hasParam := func(name string) bool {
		for _, q := range c.Query {
			if q.Name == name {
				return true
			}
		}
		return false
	}
	var sel, exp []string
	seen := map[string]bool{}
	for _, f := range c.Fields {
		var segs []string
		for _, s := range strings.Split(f.Path, ".") {
			if _, _, isIndex := index(s); isIndex || s == "results" {
				continue
			}
			segs = append(segs, s)
		}
		if len(segs) == 0 {
			continue
		}
		if p := strings.Join(segs, "/"); !seen["s:"+p] {
			seen["s:"+p] = true
			sel = append(sel, p)
		}
		for i := 1; i < len(segs); i++ {
			if p := strings.Join(segs[:i], "/"); !seen["e:"+p] {
				seen["e:"+p] = true
				exp = append(exp, p)
			}
		}
	}
	if hasParam("$select") || hasParam("$expand") {
		return
	}
	if len(sel) > 0 {
		c.Query = append(c.Query, Param{Name: "$select", Value: strings.Join(sel, ",")})
	}
	if len(exp) > 0 {
		c.Query = append(c.Query, Param{Name: "$expand", Value: strings.Join(exp, ",")})
	}
}

// bambooBody builds the custom report request from the columns, unless the
// user wrote a body.
func bambooBody(c *Config, user map[string]any) {
	if _, ok := user["body"]; ok || c.Method != "POST" {
		return
	}
	names := []string{}
	seen := map[string]bool{}
	for _, f := range c.Fields {
		first, _, _ := strings.Cut(f.Path, ".")
		if !seen[first] {
			seen[first] = true
			names = append(names, first)
		}
	}
	body, _ := json.Marshal(struct {
		Title  string   `json:"title"`
		Fields []string `json:"fields"`
	}{"hrsync", names})
	c.Body = body
}
