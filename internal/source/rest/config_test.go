package rest

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseErrors(t *testing.T) {
	env := map[string]string{"SET": "value-1234"}
	cases := []struct {
		name string
		yaml string
		want []string
	}{
		{"unknown paging type", "url: https://hr.example.com/api\npaging: {type: pages}",
			[]string{`source.rest.paging.type: unknown "pages"; use one of none, next_link, link_header, page, offset, cursor`}},
		{"misspelt key", "url: https://hr.example.com/api\nrecods: data",
			[]string{"source.rest.recods: unknown key; did you mean records?"}},
		{"unknown key", "url: https://hr.example.com/api\nfoo: 1",
			[]string{"source.rest.foo: unknown key; known keys: preset, url"}},
		{"missing url", "records: data", []string{"source.rest.url: missing"}},
		{"empty url", "url: ''", []string{"source.rest.url: missing"}},
		{"missing url with a preset", "preset: workday\nauth: {username: u, password_env: SET}",
			[]string{"source.rest.url: missing", "customreport2/<tenant>"}},
		{"placeholder left in url", "preset: bamboohr\nurl: https://api.bamboohr.com/api/gateway.php/<company>/v1/reports/custom\nauth: {api_key_env: SET}",
			[]string{"source.rest.url:", "still holds a placeholder"}},
		{"plain http", "url: http://hr.example.com/api", []string{"source.rest.url: plain http"}},
		{"not a URL", "url: hr.example.com/api", []string{`source.rest.url: "hr.example.com/api" is not an absolute http(s) URL`}},
		{"user info in url", "url: https://me:pw@hr.example.com/api", []string{"source.rest.url: must not hold a user name or password"}},
		{"secret in url", "url: https://hr.example.com/api?api_key=abc", []string{"source.rest.url: the query parameter api_key holds a secret"}},
		{"literal secret in query", "url: https://hr.example.com/api\nquery: {token: abc}", []string{"source.rest.query.token: holds a secret"}},
		{"unknown preset", "preset: sap", []string{`source.rest.preset: unknown "sap"; use one of bamboohr, personio, successfactors, workday`}},
		{"method", "url: https://hr.example.com/api\nmethod: DELETE", []string{`source.rest.method: unknown "DELETE"; use GET or POST`}},
		{"body with GET", "url: https://hr.example.com/api\nbody: {a: 1}", []string{"source.rest.body: only POST requests have a body"}},
		{"retries", "url: https://hr.example.com/api\nretries: -1", []string{"source.rest.retries: must be between 0 and 100, not -1"}},
		{"retries not a number", "url: https://hr.example.com/api\nretries: many", []string{`source.rest.retries: must be a whole number, not "many"`}},
		{"max_pages", "url: https://hr.example.com/api\nmax_pages: 0", []string{"source.rest.max_pages: must be at least 1, not 0"}},
		{"max_body too small", "url: https://hr.example.com/api\nmax_body: 100", []string{"source.rest.max_body: must be between 1 KiB and 16 GiB, not 100 bytes"}},
		{"max_body too large", "url: https://hr.example.com/api\nmax_body: 17GiB", []string{"source.rest.max_body: must be between 1 KiB and 16 GiB, not 17 GiB"}},
		{"max_body unit", "url: https://hr.example.com/api\nmax_body: 256 megs", []string{`source.rest.max_body: "256 megs" is not a size; write e.g. 256MiB`}},
		{"max_body fraction", "url: https://hr.example.com/api\nmax_body: 1.5", []string{"source.rest.max_body: must be a whole number of bytes, not 1.5"}},
		{"max_body negative", "url: https://hr.example.com/api\nmax_body: -5", []string{"source.rest.max_body: must be between 1 KiB and 16 GiB"}},
		{"timeout", "url: https://hr.example.com/api\ntimeout: soon", []string{`source.rest.timeout: "soon" is not a duration`}},
		{"odata_dates", "url: https://hr.example.com/api\nodata_dates: maybe", []string{`source.rest.odata_dates: must be true or false, not "maybe"`}},
		{"records path", "url: https://hr.example.com/api\nrecords: d..results", []string{`source.rest.records: "d..results" is not a dotted path`}},
		{"next_link without next", "url: https://hr.example.com/api\npaging: {type: next_link}", []string{"source.rest.paging.next: missing"}},
		{"cursor without cursor", "url: https://hr.example.com/api\npaging: {type: cursor}", []string{"source.rest.paging.cursor: missing"}},
		{"key of another paging type", "url: https://hr.example.com/api\npaging: {type: page, next: x}", []string{"source.rest.paging.next: not a setting of paging type page"}},
		{"misspelt paging key", "url: https://hr.example.com/api\npaging: {type: page, page_parm: p}", []string{"source.rest.paging.page_parm: unknown key for paging type page; did you mean page_param?"}},
		{"first_page", "url: https://hr.example.com/api\npaging: {type: page, first_page: 2}", []string{"source.rest.paging.first_page: must be between 0 and 1, not 2"}},
		{"total with next_link", "url: https://hr.example.com/api\npaging: {type: next_link, next: n, total: t}", []string{"source.rest.paging.total: not a setting of paging type next_link"}},
		{"unknown auth type", "url: https://hr.example.com/api\nauth: {type: ntlm}", []string{`source.rest.auth.type: unknown "ntlm"; use one of none, bearer, basic, oauth2`}},
		{"literal password", "url: https://hr.example.com/api\nauth: {type: basic, username: u, password: hunter2}",
			[]string{"source.rest.auth.password: secrets never live in the config file", "password_env", "source.rest.auth.password_env: missing"}},
		{"unset env", "url: https://hr.example.com/api\nauth: {type: bearer, token_env: HR_TOKEN}", []string{"source.rest.auth.token_env: environment variable HR_TOKEN is not set"}},
		{"basic without user", "url: https://hr.example.com/api\nauth: {type: basic, password_env: SET}", []string{"source.rest.auth.username: missing"}},
		{"api key and user", "url: https://hr.example.com/api\nauth: {type: basic, api_key_env: SET, username: u}", []string{"source.rest.auth.api_key_env: use either api_key_env or username and password_env"}},
		{"oauth2 without token_url", "url: https://hr.example.com/api\nauth: {type: oauth2, client_id: c, client_secret_env: SET}", []string{"source.rest.auth.token_url: missing"}},
		{"oauth2 client_auth", "url: https://hr.example.com/api\nauth: {type: oauth2, token_url: 'https://login.example.com/token', client_id: c, client_secret_env: SET, client_auth: jwt}",
			[]string{`source.rest.auth.client_auth: unknown "jwt"`}},
		{"oauth2 reserved param", "url: https://hr.example.com/api\nauth: {type: oauth2, token_url: 'https://login.example.com/token', client_id: c, client_secret_env: SET, params: {grant_type: password}}",
			[]string{"source.rest.auth.params.grant_type: is set by hrsync"}},
		{"bearer key on basic", "url: https://hr.example.com/api\nauth: {type: basic, username: u, password_env: SET, token_env: SET}",
			[]string{"source.rest.auth.token_env: not a setting of auth type basic"}},
		{"header env unset", "url: https://hr.example.com/api\nheaders: {X-Key: '${NOPE}'}", []string{"source.rest.headers.X-Key: environment variable NOPE is not set"}},
		{"header unclosed ref", "url: https://hr.example.com/api\nheaders: {X-Key: '${NOPE'}", []string{"source.rest.headers.X-Key: unclosed ${"}},
		{"Authorization header and auth", "url: https://hr.example.com/api\nheaders: {Authorization: '${SET}'}\nauth: {type: bearer, token_env: SET}",
			[]string{"source.rest.headers.Authorization: conflicts with auth"}},
		{"auth not a map", "url: https://hr.example.com/api\nauth: bearer", []string{"source.rest.auth: must be a map with a type, not text"}},
		{"basic user name with a colon", "url: https://hr.example.com/api\nauth: {type: basic, username: 'a:b', password_env: SET}",
			[]string{`source.rest.auth.username: a basic-auth user name cannot contain ":"`}},
		{"fields duplicate", "url: https://hr.example.com/api\nfields: [{Name: name}, {NAME: name2}]", []string{"source.rest.fields.NAME: duplicate column"}},
		{"fields empty path", "url: https://hr.example.com/api\nfields: {Name: ''}", []string{"source.rest.fields.Name: empty path"}},
		{"fields bracket", "url: https://hr.example.com/api\nfields: {'A[1]': a}", []string{"source.rest.fields.A[1]: column names cannot hold [ or ]"}},
		{"fields not a map", "url: https://hr.example.com/api\nfields: name", []string{"source.rest.fields: must be a map of names to values, not text"}},
		{"all problems at once", "url: http://hr.example.com\nretries: x\npaging: {type: bogus}",
			[]string{"source.rest.url: plain http", "source.rest.retries:", "source.rest.paging.type:"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(settings(t, c.yaml), envOf(env))
			if err == nil {
				t.Fatal("Parse succeeded")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nlacks %q", err.Error(), w)
				}
			}
			if strings.Contains(err.Error(), "value-1234") {
				t.Errorf("error shows a secret: %v", err)
			}
		})
	}
}

func TestParseDefaultsAndPresets(t *testing.T) {
	c := parse(t, "url: https://hr.example.com/api", nil)
	if c.Method != "GET" || c.Timeout != 60*time.Second || c.Retries != 5 || c.MaxPages != 10000 || c.MaxBody != 256<<20 ||
		c.Paging.Type != PagingNone || c.Auth.Type != AuthNone || c.Fields != nil || c.Records != "" {
		t.Errorf("defaults: %+v", c)
	}
	c = parse(t, "url: https://hr.example.com/api\npaging: {type: page}\ntimeout: 90", nil)
	if c.Paging.PageParam != "page" || c.Paging.SizeParam != "per_page" || c.Paging.Size != 100 || c.Paging.FirstPage != 1 || c.Timeout != 90*time.Second {
		t.Errorf("page defaults: %+v", c.Paging)
	}

	// a preset's columns merge with the user's: override, drop, add
	c = parse(t, `
preset: workday
url: https://wd5-services1.myworkday.com/ccx/service/customreport2/acme/ISU/Workers
timeout: 2m
query: {Effective_as_of_Date: '2026-01-01'}
auth: {username: ISU, password_env: P}
fields:
  Manager_ID: Managers.0.Employee_ID
  Country_Code: ~
  Cost_Center: Cost_Center.ID
`, map[string]string{"P": "pw-1234"})
	var names, paths []string
	for _, f := range c.Fields {
		names = append(names, f.Name)
		paths = append(paths, f.Path)
	}
	wantNames := []string{"Employee_ID", "Active", "First_Name", "Last_Name", "Business_Title", "Supervisory_Organization", "Hire_Date", "Manager_ID", "Cost_Center"}
	if !reflect.DeepEqual(names, wantNames) || paths[7] != "Managers.0.Employee_ID" || paths[8] != "Cost_Center.ID" {
		t.Errorf("fields %v %v", names, paths)
	}
	if c.Timeout != 2*time.Minute || c.Records != "Report_Entry" || c.Auth.Type != AuthBasic || c.Auth.Username != "ISU" {
		t.Errorf("preset settings: %+v", c)
	}
	if len(c.Query) != 2 || c.Query[0].Name != "format" || c.Query[1].Name != "Effective_as_of_Date" {
		t.Errorf("query %+v", c.Query)
	}

	// another auth type replaces the preset's
	c = parse(t, `
preset: successfactors
url: https://api4.successfactors.com/odata/v2/EmpJob
query: {$select: 'userId,department', $filter: ~}
fields: [{userId: userId}, {department: department}]
auth:
  type: oauth2
  token_url: https://acme.accounts.ondemand.com/oauth2/token
  client_id: 0oa-client
  client_secret_env: S
  params: {resource: 'urn:sap:identity:application:provider:name:sf'}
`, map[string]string{"S": "sec-1234"})
	if c.Auth.Type != AuthOAuth2 || c.Auth.ClientAuth != "basic" || c.Auth.Params[0].Value != "urn:sap:identity:application:provider:name:sf" {
		t.Errorf("auth %+v", c.Auth)
	}
	q := map[string]string{}
	for _, p := range c.Query {
		q[p.Name] = p.Value
	}
	if q["$select"] != "userId,department" || q["$filter"] != "" || q["$format"] != "json" || q["$expand"] != "" || len(c.Fields) != 9 {
		t.Errorf("query %v, %d fields", q, len(c.Fields))
	}

	// personio needs only its credentials
	c = parse(t, "preset: personio\nauth: {client_id_env: I, client_secret_env: S}", map[string]string{"I": "id-1", "S": "sec-1234"})
	if c.URL.String() != "https://api.personio.de/v1/company/employees" || c.Paging.Type != PagingOffset || c.Paging.Total != "metadata.total_elements" ||
		c.Auth.TokenURL.String() != "https://api.personio.de/v2/auth/token" || c.Auth.ClientAuth != "post" || c.Auth.ClientID != "id-1" {
		t.Errorf("personio %+v", c)
	}

	// bamboohr: a body the user writes is kept
	c = parse(t, "preset: bamboohr\nurl: https://api.bamboohr.com/api/gateway.php/acme/v1/reports/custom\nauth: {api_key_env: K}\nbody: '{\"fields\":[\"id\"]}'", map[string]string{"K": "k-1234"})
	if string(c.Body) != `{"fields":["id"]}` {
		t.Errorf("body %s", c.Body)
	}
}

// TestParseViperStyle: keys lower-cased and maps as map[any]any (other
// YAML decoders) are read too.
func TestParseMaxBody(t *testing.T) {
	tests := []struct {
		value string
		want  int64
	}{
		{"1024", 1024},
		{"300000000", 300000000},
		{"64KiB", 64 << 10},
		{"256MiB", 256 << 20},
		{"1 GiB", 1 << 30},
		{"'2gib'", 2 << 30},
		{"512MB", 512e6},
		{"4096B", 4096},
		{"'8192'", 8192},
	}
	for _, tc := range tests {
		if c := parse(t, "url: https://hr.example.com/api\nmax_body: "+tc.value, nil); c.MaxBody != tc.want {
			t.Errorf("max_body: %s = %d, want %d", tc.value, c.MaxBody, tc.want)
		}
	}
}

func TestParseViperStyle(t *testing.T) {
	raw := map[string]any{
		"url":     "https://hr.example.com/api",
		"records": "data",
		"fields":  map[any]any{"workerid": "id", "name": "name.full"},
		"paging":  map[any]any{"type": "offset", "size": "50"},
		"timeout": "1m",
		"retries": 3.0,
	}
	c, err := Parse(raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Fields) != 2 || c.Fields[0].Name != "name" || c.Paging.Size != 50 || c.Retries != 3 {
		t.Errorf("%+v", c)
	}
}

func TestNewValidates(t *testing.T) {
	if _, err := New(Config{}, Options{}); err == nil {
		t.Error("New accepted a Config without URL")
	}
}

// TestParseRaw pins what YAML cannot produce: a nil getenv and a body that
// cannot be written as JSON. The whole error is compared.
func TestParseRaw(t *testing.T) {
	cases := []struct {
		name string
		raw  map[string]any
		want string
	}{
		{"nil settings", nil, "source.rest.url: missing: the address of the API"},
		{"nil getenv reads nothing", map[string]any{"url": "https://hr.example.com/api", "auth": map[string]any{"type": "bearer", "token_env": "HR_TOKEN"}},
			"source.rest.auth.token_env: environment variable HR_TOKEN is not set"},
		{"body not JSON", map[string]any{"url": "https://hr.example.com/api", "method": "POST", "body": map[string]any{"c": make(chan int)}},
			"source.rest.body: cannot be written as JSON: json: unsupported type: chan int"},
		{"body not JSON with GET", map[string]any{"url": "https://hr.example.com/api", "body": map[string]any{"c": make(chan int)}},
			"source.rest.body: cannot be written as JSON: json: unsupported type: chan int\n" +
				"source.rest.body: only POST requests have a body; set method: POST"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.raw, nil)
			if err == nil || err.Error() != c.want {
				t.Errorf("error %v\nwant  %s", err, c.want)
			}
		})
	}
}

// TestParseOAuth2Scope pins the forms of auth.scope: absent, text, a list.
func TestParseOAuth2Scope(t *testing.T) {
	cases := []struct {
		name, scope, want string
	}{
		{"absent", "", ""},
		{"text", "  scope: '  api://hr/.default read '\n", "api://hr/.default read"},
		{"list", "  scope: [api://hr/.default, read]\n", "api://hr/.default read"},
		{"number", "  scope: 7\n", "7"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := parse(t, "url: https://hr.example.com/api\nauth:\n  type: oauth2\n  token_url: https://login.example.com/token\n  client_id: c\n  client_secret_env: S\n"+c.scope,
				map[string]string{"S": "sec-1234"})
			if cfg.Auth.Scope != c.want {
				t.Errorf("scope %q, want %q", cfg.Auth.Scope, c.want)
			}
		})
	}
}

// TestLiteralSecretsReportedInOrder: several secrets written into the
// config are each refused, always in the same order.
func TestLiteralSecretsReportedInOrder(t *testing.T) {
	want := ""
	for range 20 {
		_, err := Parse(map[string]any{
			"url": "https://hr.example.com/api/workers", "records": "data",
			"auth": map[string]any{"type": "basic", "username": "u", "secret": "s", "password": "p", "token": "t", "api_key": "k"},
		}, func(string) string { return "" })
		if err == nil {
			t.Fatal("literal secrets accepted")
		}
		got := err.Error()
		for _, s := range []string{`"s"`, `"p"`, `"t"`, `"k"`} {
			if strings.Contains(got, s) {
				t.Fatalf("a secret's value is in the error: %s", got)
			}
		}
		if want == "" {
			want = got
			if i, j := strings.Index(got, "auth.token:"), strings.Index(got, "auth.secret:"); i < 0 || j < 0 || i > j {
				t.Fatalf("not in the documented order (token ... secret): %s", got)
			}
		} else if got != want {
			t.Fatalf("the order changed between runs:\n%s\n---\n%s", want, got)
		}
	}
}
