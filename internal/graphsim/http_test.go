package graphsim_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/hrsync/hrsync/internal/graphsim"
)

func TestHTTPAuth(t *testing.T) {
	_, base := startSim(t, graphsim.Options{})
	tests := []struct {
		name, authz string
		status      int
		msg         string
	}{
		{"missing", "", 401, "Access token is empty."},
		{"not bearer", "Basic dXNlcjpwdw==", 401, "Access token validation failure."},
		{"wrong token", "Bearer nope", 401, "Access token validation failure. Invalid audience."},
		{"right token", "Bearer " + testToken, 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, http.MethodGet, base+"/v1.0/users", nil, map[string]string{"Authorization": tc.authz})
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.status == 401 && (r.errCode() != "InvalidAuthenticationToken" || r.errMessage() != tc.msg) {
				t.Errorf("error %s %q", r.errCode(), r.errMessage())
			}
		})
	}

	// Without Options.Token any bearer token is accepted, but not none.
	s, err := graphsim.New(graphsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	anyBase, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	if r := call(t, http.MethodGet, anyBase+"/v1.0/users", nil, map[string]string{"Authorization": "Bearer whatever"}); r.status != 200 {
		t.Errorf("any token: status %d", r.status)
	}
	if r := call(t, http.MethodGet, anyBase+"/v1.0/users", nil, map[string]string{"Authorization": ""}); r.status != 401 {
		t.Errorf("no token: status %d", r.status)
	}
}

func TestHTTPHeadersAndErrorEnvelope(t *testing.T) {
	_, base := startSim(t, graphsim.Options{})
	r := call(t, http.MethodGet, base+"/v1.0/users/nobody@contoso.com", nil, map[string]string{"client-request-id": "my-corr-id"})
	if r.status != 404 {
		t.Fatalf("status %d", r.status)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if r.header.Get("request-id") == "" || r.header.Get("client-request-id") != "my-corr-id" {
		t.Errorf("request-id %q client-request-id %q", r.header.Get("request-id"), r.header.Get("client-request-id"))
	}
	e := r.obj["error"].(map[string]any)
	inner := e["innerError"].(map[string]any)
	if e["code"] != "Request_ResourceNotFound" || inner["request-id"] != r.header.Get("request-id") ||
		inner["client-request-id"] != "my-corr-id" || len(inner["date"].(string)) != 19 {
		t.Errorf("error envelope = %s", r.body)
	}
}

func TestHTTPRoutes(t *testing.T) {
	_, base := startSim(t, graphsim.Options{})
	id := mustCreate(t, base, "route@contoso.com", nil)
	tests := []struct {
		method, path string
		status       int
		code, msg    string
	}{
		{"GET", "/v1.0/foo", 400, "BadRequest", "Resource not found for the segment 'foo'."},
		{"GET", "/beta/users", 400, "BadRequest", "Invalid version: beta"},
		{"GET", "/v1.0/users/" + id + "/bogus", 400, "BadRequest", "Resource not found for the segment 'bogus'."},
		{"PUT", "/v1.0/users", 405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target."},
		{"GET", "/v1.0/users/" + id + "/memberOf", 501, "NotImplemented", ""},
		{"GET", "/v1.0/users?$orderby=displayName", 501, "NotImplemented", ""},
		{"GET", "/v1.0/users/delta", 200, "", ""},
		{"GET", "/v1.0/users/microsoft.graph.delta()", 200, "", ""},
		{"GET", "/v1.0/users/delta?$filter=id%20eq%20'x'", 501, "NotImplemented", ""},
		{"GET", "/v1.0/users/delta?$deltatoken=garbage", 410, "syncStateNotFound", ""},
		{"POST", "/v1.0/users/delta", 405, "Request_BadRequest", ""},
		{"GET", "/v1.0/users/$count", 501, "NotImplemented", ""},
		{"GET", "/v1.0/users?$bogus=1", 400, "BadRequest", "The query parameter '$bogus' is not supported."},
		{"GET", "/v1.0/users/" + id + "?$top=5", 400, "BadRequest", ""},
		{"GET", "/v1.0/users/" + id, 200, "", ""},
		{"GET", "/v1.0/Users/ROUTE%40contoso.com", 200, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := call(t, tc.method, base+tc.path, nil, nil)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.code != "" && r.errCode() != tc.code {
				t.Errorf("code %q, want %q", r.errCode(), tc.code)
			}
			if tc.msg != "" && r.errMessage() != tc.msg {
				t.Errorf("message %q, want %q", r.errMessage(), tc.msg)
			}
		})
	}
}

// keys returns the JSON member names of a raw object, in order.
func keys(t *testing.T, raw json.RawMessage) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	var out []string
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, k.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func firstValue(t *testing.T, body []byte) json.RawMessage {
	t.Helper()
	var page struct {
		Value []json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(body, &page); err != nil || len(page.Value) == 0 {
		t.Fatalf("no value in %s", body)
	}
	return page.Value[0]
}

func TestHTTPSelectAndDefaultProperties(t *testing.T) {
	_, base := startSim(t, graphsim.Options{})
	mustCreate(t, base, "sel@contoso.com", map[string]any{"employeeId": "42"})

	r := call(t, http.MethodGet, base+"/v1.0/users", nil, nil)
	got := keys(t, firstValue(t, r.body))
	want := []string{"businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
		"officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("default properties = %v, want %v", got, want)
	}
	var u map[string]any
	_ = json.Unmarshal(firstValue(t, r.body), &u)
	if u["givenName"] != nil || !reflect.DeepEqual(u["businessPhones"], []any{}) {
		t.Errorf("unset properties should be null / []: %v", u)
	}
	if r.obj["@odata.context"] != base+"/v1.0/$metadata#users" {
		t.Errorf("@odata.context = %v", r.obj["@odata.context"])
	}

	r = call(t, http.MethodGet, base+"/v1.0/users?$select=employeeId,ID,onPremisesExtensionAttributes", nil, nil)
	if got := keys(t, firstValue(t, r.body)); !reflect.DeepEqual(got, []string{"employeeId", "id", "onPremisesExtensionAttributes"}) {
		t.Errorf("$select keys = %v", got)
	}
	_ = json.Unmarshal(firstValue(t, r.body), &u)
	if ext, _ := u["onPremisesExtensionAttributes"].(map[string]any); len(ext) != 15 || ext["extensionAttribute15"] != nil {
		t.Errorf("onPremisesExtensionAttributes = %v, want 15 null attributes", u["onPremisesExtensionAttributes"])
	}
	if r.obj["@odata.context"] != base+"/v1.0/$metadata#users(employeeId,id,onPremisesExtensionAttributes)" {
		t.Errorf("@odata.context = %v", r.obj["@odata.context"])
	}

	r = call(t, http.MethodGet, base+"/v1.0/users?$select=id,shoeSize", nil, nil)
	if r.status != 400 || r.errCode() != "Request_BadRequest" ||
		r.errMessage() != "Could not find a property named 'shoeSize' on type 'microsoft.graph.user'." {
		t.Errorf("unknown $select: %d %s", r.status, r.body)
	}
	// Real Graph properties that graphsim does not emulate are selectable.
	r = call(t, http.MethodGet, base+"/v1.0/users?$select=id,proxyAddresses,onPremisesSyncEnabled", nil, nil)
	if r.status != 200 || !strings.Contains(string(r.body), `"proxyAddresses":[],"onPremisesSyncEnabled":null`) {
		t.Errorf("stub properties: %d %s", r.status, r.body)
	}
}

func TestHTTPTopValidation(t *testing.T) {
	_, base := startSim(t, graphsim.Options{})
	for _, top := range []string{"0", "1000", "abc", "-1"} {
		r := call(t, http.MethodGet, base+"/v1.0/users?$top="+top, nil, nil)
		want := "Invalid page size specified: '" + top + "'. Must be between 1 and 999 inclusive."
		if r.status != 400 || r.errCode() != "Request_UnsupportedQuery" || r.errMessage() != want {
			t.Errorf("$top=%s: %d %s", top, r.status, r.body)
		}
	}
	for _, top := range []string{"1", "999"} {
		if r := call(t, http.MethodGet, base+"/v1.0/users?$top="+top, nil, nil); r.status != 200 {
			t.Errorf("$top=%s: %d", top, r.status)
		}
	}
}

func TestHTTPFilterErrors(t *testing.T) {
	_, base := startSim(t, graphsim.Options{})
	tests := []struct {
		filter   string
		advanced bool
		code     string
		msg      string
	}{
		{"employeeId ne null", false, "Request_UnsupportedQuery", "Filter operator 'NotEqualsMatch' is not supported."},
		{"employeeId eq null", false, "Request_UnsupportedQuery", "Unsupported or invalid query filter clause specified for property 'employeeId' of resource 'User'."},
		{"officeLocation eq 'x'", false, "Request_UnsupportedQuery", "Unsupported or invalid query filter clause specified for property 'officeLocation' of resource 'User'."},
		{"endswith(mail,'@contoso.com')", false, "Request_UnsupportedQuery", "Operator 'endsWith' is not supported because the required parameters might be missing. Try adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more information"},
		{"endswith(displayName,'x')", true, "Request_UnsupportedQuery", "Unsupported or invalid query filter clause specified for property 'displayName' of resource 'User'."},
		{"businessPhones eq '1'", false, "Request_UnsupportedQuery", "Unsupported or invalid query filter clause specified for property 'businessPhones' of resource 'User'."},
		{"accountEnabled eq 'true'", false, "Request_BadRequest", "Invalid filter clause"},
		{"shoeSize eq 42", false, "Request_BadRequest", "Invalid filter clause: Could not find a property named 'shoeSize' on type 'microsoft.graph.user'."},
		{"displayName eq 'x", false, "Request_BadRequest", "Invalid filter clause: Syntax error at position 15 in 'displayName eq 'x'."},
		{"displayName eq", false, "Request_BadRequest", "Invalid filter clause: Syntax error at position 14 in 'displayName eq'."},
		{"contains(displayName,'x')", false, "Request_UnsupportedQuery", "Unsupported Query."},
	}
	for _, tc := range tests {
		t.Run(tc.filter, func(t *testing.T) {
			u := base + "/v1.0/users?$filter=" + url.QueryEscape(tc.filter)
			var hdr map[string]string
			if tc.advanced {
				u += "&$count=true"
				hdr = map[string]string{"ConsistencyLevel": "eventual"}
			}
			r := call(t, http.MethodGet, u, nil, hdr)
			if r.status != 400 || r.errCode() != tc.code || r.errMessage() != tc.msg {
				t.Errorf("got %d %s %q\nwant 400 %s %q", r.status, r.errCode(), r.errMessage(), tc.code, tc.msg)
			}
		})
	}
}

func TestHTTPFilterDates(t *testing.T) {
	_, base := startSim(t, graphsim.Options{})
	mustCreate(t, base, "early@contoso.com", map[string]any{"employeeHireDate": "2020-01-15T00:00:00Z",
		"employeeOrgData": map[string]any{"costCenter": "CC1"}})
	mustCreate(t, base, "late@contoso.com", map[string]any{"employeeHireDate": "2025-06-01T09:30:00Z",
		"onPremisesExtensionAttributes": map[string]any{"extensionAttribute3": "x"}})
	for filter, want := range map[string]string{
		"employeeHireDate ge 2024-01-01T00:00:00Z":                 "late@contoso.com",
		"employeeHireDate le 2024-01-01":                           "early@contoso.com",
		"employeeOrgData/costCenter eq 'cc1'":                      "early@contoso.com",
		"onPremisesExtensionAttributes/extensionAttribute3 eq 'X'": "late@contoso.com",
	} {
		r := call(t, http.MethodGet, base+"/v1.0/users?$count=true&$select=userPrincipalName&$filter="+url.QueryEscape(filter), nil,
			map[string]string{"ConsistencyLevel": "eventual"})
		vals, _ := r.obj["value"].([]any)
		if r.status != 200 || len(vals) != 1 || vals[0].(map[string]any)["userPrincipalName"] != want {
			t.Errorf("%s: %d %s", filter, r.status, r.body)
		}
		if r.obj["@odata.count"] != 1.0 {
			t.Errorf("%s: @odata.count = %v", filter, r.obj["@odata.count"])
		}
	}
}

func TestHTTPCreateResponse(t *testing.T) {
	_, base := startSim(t, graphsim.Options{})
	r := call(t, http.MethodPost, base+"/v1.0/users", userBody("loc@contoso.com", nil), nil)
	if r.status != 201 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	id := r.obj["id"].(string)
	if loc := r.header.Get("Location"); loc != base+"/v1.0/users/"+id {
		t.Errorf("Location = %q", loc)
	}
	if r.obj["@odata.context"] != base+"/v1.0/$metadata#users/$entity" {
		t.Errorf("@odata.context = %v", r.obj["@odata.context"])
	}
	if strings.Contains(string(r.body), "Sup3r") {
		t.Error("response echoes the password")
	}
}

func TestHTTPWriteValidation(t *testing.T) {
	_, base := startSim(t, graphsim.Options{})
	id := mustCreate(t, base, "val@contoso.com", map[string]any{"mail": "val@contoso.com"})
	mustCreate(t, base, "other@contoso.com", map[string]any{"mail": "other@contoso.com"})
	invalid := func(p string) string {
		return "Invalid value specified for property '" + p + "' of resource 'User'."
	}
	tests := []struct {
		name   string
		method string
		path   string
		body   any
		status int
		code   string
		msg    string
	}{
		{"empty string", "PATCH", id, map[string]any{"jobTitle": ""}, 400, "Request_BadRequest", invalid("jobTitle")},
		{"clear displayName", "PATCH", id, map[string]any{"displayName": nil}, 400, "Request_BadRequest", invalid("displayName")},
		{"unknown property", "PATCH", id, map[string]any{"hatSize": 7}, 400, "Request_BadRequest", "Invalid property 'hatSize'."},
		{"read-only property", "PATCH", id, map[string]any{"createdDateTime": "2020-01-01T00:00:00Z"}, 400, "Request_BadRequest", "Property 'createdDateTime' is read-only and cannot be set."},
		{"wrong type", "PATCH", id, map[string]any{"accountEnabled": "yes"}, 400, "Request_BadRequest", invalid("accountEnabled")},
		{"two business phones", "PATCH", id, map[string]any{"businessPhones": []string{"1", "2"}}, 400, "Request_BadRequest", invalid("businessPhones")},
		{"bad usageLocation", "PATCH", id, map[string]any{"usageLocation": "GBR"}, 400, "Request_BadRequest", invalid("usageLocation")},
		{"too long surname", "PATCH", id, map[string]any{"surname": strings.Repeat("x", 65)}, 400, "Request_BadRequest", invalid("surname")},
		{"bad date", "PATCH", id, map[string]any{"employeeHireDate": "yesterday"}, 400, "Request_BadRequest", invalid("employeeHireDate")},
		{"upn conflict", "PATCH", id, map[string]any{"userPrincipalName": "Other@contoso.com"}, 400, "Request_BadRequest", "Another object with the same value for property userPrincipalName already exists."},
		{"mail conflict", "PATCH", id, map[string]any{"mail": "OTHER@contoso.com"}, 400, "Request_BadRequest", "Another object with the same value for property proxyAddresses already exists."},
		{"upn domain", "PATCH", id, map[string]any{"userPrincipalName": "val@example.net"}, 400, "Request_BadRequest", "The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization."},
		{"weak password", "PATCH", id, map[string]any{"passwordProfile": map[string]any{"password": "abcdefgh"}}, 400, "Request_BadRequest", "The specified password does not comply with password complexity requirements. Please provide a different password."},
		{"not json", "PATCH", id, []byte("{nope"), 400, "BadRequest", "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format."},
		{"missing user", "PATCH", "00000000-0000-0000-0000-000000000000", map[string]any{"jobTitle": "x"}, 404, "Request_ResourceNotFound", ""},
		{"missing accountEnabled", "POST", "", userBody("n1@contoso.com", map[string]any{"accountEnabled": deleteKey}), 400, "Request_BadRequest", "Property accountEnabled value is required but is empty or missing."},
		{"missing passwordProfile", "POST", "", userBody("n2@contoso.com", map[string]any{"passwordProfile": deleteKey}), 400, "Request_BadRequest", "Property passwordProfile value is required but is empty or missing."},
		{"missing upn", "POST", "", userBody("n3@contoso.com", map[string]any{"userPrincipalName": deleteKey}), 400, "Request_BadRequest", "Property userPrincipalName value is required but is empty or missing."},
		{"upn two @", "POST", "", userBody("a@b@contoso.com", map[string]any{"mailNickname": "ab"}), 400, "Request_BadRequest", "Property userPrincipalName is invalid."},
		{"upn dot before @", "POST", "", userBody("dot.@contoso.com", map[string]any{"mailNickname": "dot"}), 400, "Request_BadRequest", "Property userPrincipalName is invalid."},
		{"upn allowed symbols", "POST", "", userBody("o'neil_a-b!c#d^e~f@contoso.com", map[string]any{"mailNickname": "oneil"}), 201, "", ""},
		{"not emulated property", "POST", "", userBody("n4@contoso.com", map[string]any{"otherMails": []string{"x@y.com"}}), 400, "Request_BadRequest", ""},
		{"wrong @odata.type", "POST", "", userBody("n5@contoso.com", map[string]any{"@odata.type": "#microsoft.graph.group"}), 400, "BadRequest", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := base + "/v1.0/users"
			if tc.path != "" {
				path += "/" + tc.path
			}
			r := call(t, tc.method, path, tc.body, nil)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.code != "" && r.errCode() != tc.code {
				t.Errorf("code %q, want %q", r.errCode(), tc.code)
			}
			if tc.msg != "" && r.errMessage() != tc.msg {
				t.Errorf("message %q\nwant %q", r.errMessage(), tc.msg)
			}
		})
	}
	// Nothing above changed the user.
	r := call(t, http.MethodGet, base+"/v1.0/users/"+id+"?$select=displayName,jobTitle,mail,userPrincipalName", nil, nil)
	if r.obj["userPrincipalName"] != "val@contoso.com" || r.obj["mail"] != "val@contoso.com" || r.obj["jobTitle"] != nil {
		t.Errorf("user changed by failed writes: %s", r.body)
	}
	// A good password change is accepted and only its time is kept.
	r = call(t, http.MethodPatch, base+"/v1.0/users/"+id, map[string]any{
		"passwordProfile": map[string]any{"password": "N3w-Passw0rd!", "forceChangePasswordNextSignIn": false}}, nil)
	if r.status != 204 {
		t.Errorf("password change: %d %s", r.status, r.body)
	}
}

func TestHTTPGzipBody(t *testing.T) {
	_, base := startSim(t, graphsim.Options{})
	raw, _ := json.Marshal(userBody("zip@contoso.com", nil))
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(raw)
	_ = zw.Close()
	r := call(t, http.MethodPost, base+"/v1.0/users", buf.Bytes(), map[string]string{"Content-Encoding": "gzip"})
	if r.status != 201 || r.obj["userPrincipalName"] != "zip@contoso.com" {
		t.Fatalf("gzip create: %d %s", r.status, r.body)
	}
	r = call(t, http.MethodPost, base+"/v1.0/users", []byte("not gzip"), map[string]string{"Content-Encoding": "gzip"})
	if r.status != 400 {
		t.Errorf("bad gzip: %d", r.status)
	}
	r = call(t, http.MethodPost, base+"/v1.0/users", raw, map[string]string{"Content-Encoding": "br"})
	if r.status != 415 {
		t.Errorf("unsupported encoding: %d", r.status)
	}
}

func TestHTTPExpandManagerOnSingleUser(t *testing.T) {
	_, base := startSim(t, graphsim.Options{})
	boss := mustCreate(t, base, "boss@contoso.com", map[string]any{"displayName": "Boss", "jobTitle": "CEO"})
	emp := mustCreate(t, base, "emp@contoso.com", nil)
	r := call(t, http.MethodPut, base+"/v1.0/users/"+emp+"/manager/$ref",
		map[string]any{"@odata.id": "https://example.invalid/v1.0/users/boss@contoso.com"}, nil)
	if r.status != 204 {
		t.Fatalf("put manager by UPN reference: %d %s", r.status, r.body)
	}
	r = call(t, http.MethodGet, base+"/v1.0/users/"+emp+"?$select=id&$expand=manager($select=id,jobTitle)", nil, nil)
	m, _ := r.obj["manager"].(map[string]any)
	if m["@odata.type"] != "#microsoft.graph.user" || m["id"] != boss || m["jobTitle"] != "CEO" || len(m) != 3 {
		t.Errorf("embedded manager = %s", r.body)
	}
	r = call(t, http.MethodGet, base+"/v1.0/users/"+boss+"?$select=id&$expand=manager", nil, nil)
	if _, ok := r.obj["manager"]; ok || r.status != 200 {
		t.Errorf("user without manager: %d %s", r.status, r.body)
	}
	r = call(t, http.MethodGet, base+"/v1.0/users/"+emp+"/manager/$ref", nil, nil)
	if ref, _ := r.obj["@odata.id"].(string); !strings.Contains(ref, boss) {
		t.Errorf("manager $ref = %s", r.body)
	}
	r = call(t, http.MethodGet, base+"/v1.0/users?$expand=memberOf", nil, nil)
	if r.status != 501 {
		t.Errorf("$expand=memberOf: %d", r.status)
	}
}

func batchBody(items ...map[string]any) map[string]any {
	return map[string]any{"requests": items}
}

func getItem(id, u string) map[string]any { return map[string]any{"id": id, "method": "GET", "url": u} }

type batchResult struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}

func postBatch(t *testing.T, base string, body any) (rawResp, []batchResult) {
	t.Helper()
	r := call(t, http.MethodPost, base+"/v1.0/$batch", body, nil)
	var env struct {
		Responses []batchResult `json:"responses"`
	}
	_ = json.Unmarshal(r.body, &env)
	return r, env.Responses
}

func TestHTTPBatch(t *testing.T) {
	_, base := startSim(t, graphsim.Options{BatchSeed: 42})
	mustCreate(t, base, "b0@contoso.com", map[string]any{"department": "IT"})

	t.Run("limits and format", func(t *testing.T) {
		var many []map[string]any
		for i := 0; i < 21; i++ {
			many = append(many, getItem(fmt.Sprint(i), "/users"))
		}
		tests := []struct {
			name string
			body any
			msg  string
		}{
			{"21 requests", batchBody(many...), "The number of requests in a batch (21) exceeds the limit of 20."},
			{"duplicate ids", batchBody(getItem("a", "/users"), getItem("A", "/users")), "Request Id A has to be unique in a batch."},
			{"no requests", batchBody(), "Invalid batch payload format."},
			{"not json", []byte("[1,2"), "Invalid batch payload format."},
			{"write without content-type", batchBody(map[string]any{"id": "1", "method": "POST", "url": "/users", "body": map[string]any{}}),
				"Write request id : 1 does not contain Content-Type header or body."},
			{"unknown dependency", batchBody(map[string]any{"id": "1", "method": "GET", "url": "/users", "dependsOn": []string{"9"}}), ""},
			{"cycle", batchBody(
				map[string]any{"id": "1", "method": "GET", "url": "/users", "dependsOn": []string{"2"}},
				map[string]any{"id": "2", "method": "GET", "url": "/users", "dependsOn": []string{"1"}}), ""},
		}
		for _, tc := range tests {
			r, _ := postBatch(t, base, tc.body)
			if r.status != 400 || r.errCode() != "BadRequest" || (tc.msg != "" && r.errMessage() != tc.msg) {
				t.Errorf("%s: %d %s", tc.name, r.status, r.body)
			}
		}
		if r, res := postBatch(t, base, batchBody(many[:20]...)); r.status != 200 || len(res) != 20 {
			t.Errorf("20 requests: %d, %d responses", r.status, len(res))
		}
	})

	t.Run("items", func(t *testing.T) {
		create := func(id, upn string, deps ...string) map[string]any {
			return map[string]any{"id": id, "method": "POST", "url": "/users", "dependsOn": deps,
				"headers": map[string]string{"Content-Type": "application/json"}, "body": userBody(upn, nil)}
		}
		r, res := postBatch(t, base, batchBody(
			create("1", "b1@contoso.com"),
			create("2", "b1@contoso.com", "1"), // duplicate UPN -> 400
			create("3", "b3@contoso.com", "2"), // dependency failed -> 424
			map[string]any{"id": "4", "method": "GET", "url": "users?$select=userPrincipalName&$filter=department ne 'x'&$count=true",
				"headers": map[string]string{"ConsistencyLevel": "eventual"}},
			getItem("5", "https://graph.microsoft.com/v1.0/users"),
			map[string]any{"id": "6", "method": "POST", "url": "/$batch", "headers": map[string]string{"Content-Type": "application/json"},
				"body": batchBody(getItem("x", "/users"))},
			getItem("7", "/users/b1@contoso.com/manager"),
		))
		if r.status != 200 {
			t.Fatalf("batch status %d: %s", r.status, r.body)
		}
		byID := map[string]batchResult{}
		for _, it := range res {
			byID[it.ID] = it
		}
		want := map[string]int{"1": 201, "2": 400, "3": 424, "4": 200, "5": 400, "6": 400, "7": 404}
		for id, st := range want {
			if byID[id].Status != st {
				t.Errorf("item %s: status %d, want %d: %s", id, byID[id].Status, st, byID[id].Body)
			}
		}
		if ct := byID["1"].Headers["Content-Type"]; !strings.HasPrefix(ct, "application/json") {
			t.Errorf("item Content-Type = %q", ct)
		}
		if loc := byID["1"].Headers["Location"]; !strings.HasPrefix(loc, base+"/v1.0/users/") {
			t.Errorf("item Location = %q", loc)
		}
		if !strings.Contains(string(byID["2"].Body), "ObjectConflict") {
			t.Errorf("item 2 body = %s", byID["2"].Body)
		}
		if !strings.Contains(string(byID["4"].Body), `"@odata.count":2`) {
			t.Errorf("item 4 (advanced query in batch) body = %s", byID["4"].Body)
		}
		if _, err := json.Marshal(byID["3"].Body); err != nil || !strings.Contains(string(byID["3"].Body), `"error"`) {
			t.Errorf("item 3 body = %s", byID["3"].Body)
		}
	})

	t.Run("shuffled", func(t *testing.T) {
		var items []map[string]any
		for i := 0; i < 20; i++ {
			items = append(items, getItem(fmt.Sprint(i), "/users?$top=1"))
		}
		_, res := postBatch(t, base, batchBody(items...))
		inOrder := true
		seen := map[string]bool{}
		for i, it := range res {
			seen[it.ID] = true
			if it.ID != fmt.Sprint(i) {
				inOrder = false
			}
		}
		if inOrder || len(seen) != 20 {
			t.Errorf("responses in request order (%v) or missing (%d)", inOrder, len(seen))
		}
	})
}

func TestHTTPBatchKeepOrder(t *testing.T) {
	_, base := startSim(t, graphsim.Options{KeepBatchOrder: true})
	var items []map[string]any
	for i := 0; i < 20; i++ {
		items = append(items, getItem(fmt.Sprint(i), "/users?$top=1"))
	}
	_, res := postBatch(t, base, batchBody(items...))
	for i, it := range res {
		if it.ID != fmt.Sprint(i) {
			t.Fatalf("response %d has id %s", i, it.ID)
		}
	}
}

func TestHTTPInterceptor(t *testing.T) {
	var mu sync.Mutex
	var calls []graphsim.Call
	_, base := startSim(t, graphsim.Options{KeepBatchOrder: true, Interceptor: func(_ context.Context, c graphsim.Call) *graphsim.Fault {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, c)
		if c.InBatch && c.Route == "GET /users/{id}" {
			return &graphsim.Fault{Status: 429, Code: "TooManyRequests", Message: "Too many requests.",
				Header: http.Header{"Retry-After": {"3"}}}
		}
		if !c.InBatch && c.Method == http.MethodDelete {
			return &graphsim.Fault{Status: 503, Code: "ServiceUnavailable", Message: "Try later."}
		}
		return nil
	}})
	r, res := postBatch(t, base, batchBody(getItem("1", "/users"), getItem("2", "/users/x@contoso.com")))
	if r.status != 200 || len(res) != 2 || res[0].Status != 200 || res[1].Status != 429 || res[1].Headers["Retry-After"] != "3" {
		t.Errorf("throttled batch item: %d %s", r.status, r.body)
	}
	r = call(t, http.MethodDelete, base+"/v1.0/users/x@contoso.com", nil, nil)
	if r.status != 503 || r.errCode() != "ServiceUnavailable" {
		t.Errorf("intercepted delete: %d %s", r.status, r.body)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(calls) != 4 || calls[0].Route != "POST /$batch" || calls[0].InBatch || !calls[1].InBatch {
		t.Errorf("calls = %+v", calls)
	}
}

func TestHTTPConcurrentWrites(t *testing.T) {
	srv, base := startSim(t, graphsim.Options{})
	const workers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan string, workers*each)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				upn := fmt.Sprintf("w%di%d@contoso.com", w, i)
				r := call(t, http.MethodPost, base+"/v1.0/users", userBody(upn, nil), nil)
				if r.status != 201 {
					errs <- fmt.Sprintf("%s: %d", upn, r.status)
				}
				// Everyone also tries the same UPN: exactly one must win.
				call(t, http.MethodPost, base+"/v1.0/users", userBody("race@contoso.com", nil), nil)
				call(t, http.MethodGet, base+"/v1.0/users?$top=5", nil, nil)
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if n := len(srv.Snapshot().Users); n != workers*each+1 {
		t.Errorf("%d users, want %d", n, workers*each+1)
	}
	st := srv.Stats()
	if st.Requests["POST /users"] != 2*workers*each || st.Statuses[400] != workers*each-1 {
		t.Errorf("stats = %+v", st)
	}
}
