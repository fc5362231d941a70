package rest

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/mapping"
)

func basicAuth(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// presetCase is a preset read end to end against a fake of its API.
type presetCase struct {
	name     string
	config   func(base string) string
	env      map[string]string
	handler  func(t *testing.T, base string) func(w http.ResponseWriter, r *http.Request, n int, body string)
	header   []string
	rows     []map[string]string
	provs    []identity.Provenance // Page and Index of each record
	requests func(t *testing.T, reqs []request)
}

var presetCases = []presetCase{
	{
		name: "workday",
		config: func(base string) string {
			return `
preset: workday
url: ` + base + `/ccx/service/customreport2/acme/ISU_hrsync/hrsync_Workers
auth:
  username: ISU_hrsync
  password_env: WD_PASSWORD
`
		},
		env: map[string]string{"WD_PASSWORD": "Wd-pa55word!"},
		handler: func(t *testing.T, base string) func(http.ResponseWriter, *http.Request, int, string) {
			return func(w http.ResponseWriter, r *http.Request, n int, body string) {
				if r.Header.Get("Authorization") != basicAuth("ISU_hrsync", "Wd-pa55word!") {
					writeJSON(w, 401, []byte(`{"error":"invalid username or password"}`))
					return
				}
				writeJSON(w, 200, fixture(t, "workday.json", base))
			}
		},
		header: []string{"Employee_ID", "Active", "First_Name", "Last_Name", "Business_Title", "Supervisory_Organization", "Hire_Date", "Manager_ID", "Country_Code"},
		rows: []map[string]string{
			{"Employee_ID": "21001", "Active": "1", "First_Name": "Logan", "Last_Name": "McNeil", "Business_Title": "Chief Executive Officer", "Supervisory_Organization": "Global Modern Services (Logan McNeil)", "Hire_Date": "2000-01-01", "Manager_ID": "", "Country_Code": "US"},
			{"Employee_ID": "21002", "Active": "1", "First_Name": "Oliver", "Last_Name": "Reynolds", "Business_Title": "VP, Human Resources", "Supervisory_Organization": "Human Resources (Oliver Reynolds)", "Hire_Date": "2006-03-15-08:00", "Manager_ID": "21001", "Country_Code": "US"},
			{"Employee_ID": "21034", "Active": "1", "First_Name": "José", "Last_Name": "de la Cruz", "Business_Title": "Payroll Specialist", "Supervisory_Organization": "Payroll - EMEA (Oliver Reynolds)", "Hire_Date": "2019-07-01", "Manager_ID": "21002", "Country_Code": "ES"},
			{"Employee_ID": "21077", "Active": "0", "First_Name": "Teresa", "Last_Name": "Serrano", "Business_Title": "Recruiter", "Supervisory_Organization": "Talent Acquisition (Oliver Reynolds)", "Hire_Date": "2015-11-02", "Manager_ID": "21002", "Country_Code": "GB"},
		},
		provs: []identity.Provenance{{Page: 1, Index: 1}, {Page: 1, Index: 2}, {Page: 1, Index: 3}, {Page: 1, Index: 4}},
		requests: func(t *testing.T, reqs []request) {
			if len(reqs) != 1 || reqs[0].Method != "GET" || reqs[0].Query != "format=json" {
				t.Errorf("requests = %+v, want one GET ?format=json", reqs)
			}
		},
	},
	{
		name: "successfactors",
		config: func(base string) string {
			return `
preset: successfactors
url: ` + base + `/odata/v2/User
auth:
  username: sfapi@ACME
  password_env: SF_PASSWORD
`
		},
		env: map[string]string{"SF_PASSWORD": "sf-Secret-99"},
		handler: func(t *testing.T, base string) func(http.ResponseWriter, *http.Request, int, string) {
			return func(w http.ResponseWriter, r *http.Request, n int, body string) {
				if r.Header.Get("Authorization") != basicAuth("sfapi@ACME", "sf-Secret-99") {
					writeJSON(w, 401, nil)
					return
				}
				if r.URL.Query().Get("$skiptoken") != "" {
					writeJSON(w, 200, fixture(t, "successfactors_page2.json", base))
					return
				}
				writeJSON(w, 200, fixture(t, "successfactors_page1.json", base))
			}
		},
		header: []string{"userId", "status", "firstName", "lastName", "email", "department", "title", "hireDate", "managerId"},
		rows: []map[string]string{
			{"userId": "cgrant", "status": "t", "firstName": "Carla", "lastName": "Grant", "email": "cgrant@bestrun.com", "department": "Human Resources", "title": "VP Human Resources", "hireDate": "2010-01-01", "managerId": "admin"},
			{"userId": "admin", "status": "t", "firstName": "Marcus", "lastName": "Hoff", "email": "mhoff@bestrun.com", "department": "Executive", "title": "CEO", "hireDate": "2000-01-01", "managerId": ""},
			{"userId": "108743", "status": "f", "firstName": "Søren", "lastName": "Østergaard", "email": "soren.ostergaard@bestrun.com", "department": "Sales", "title": "Account Executive", "hireDate": "2024-01-01", "managerId": "cgrant"},
		},
		provs: []identity.Provenance{{Page: 1, Index: 1}, {Page: 1, Index: 2}, {Page: 2, Index: 1}},
		requests: func(t *testing.T, reqs []request) {
			if len(reqs) != 2 {
				t.Fatalf("%d requests, want 2", len(reqs))
			}
			q, err := url.ParseQuery(reqs[0].Query)
			if err != nil {
				t.Fatal(err)
			}
			want := url.Values{
				"$format": {"json"},
				"$filter": {"status in 't','f'"},
				"$select": {"userId,status,firstName,lastName,email,department,title,hireDate,manager/userId"},
				"$expand": {"manager"},
			}
			if !reflect.DeepEqual(q, want) {
				t.Errorf("first query = %v, want %v", q, want)
			}
			if strings.Contains(reqs[0].Query, "+") {
				t.Errorf("spaces must be sent as %%20 to OData: %s", reqs[0].Query)
			}
			if !strings.Contains(reqs[1].Query, "$skiptoken=") {
				t.Errorf("second request %q does not follow d.__next", reqs[1].Query)
			}
		},
	},
	{
		name: "bamboohr",
		config: func(base string) string {
			return `
preset: bamboohr
url: ` + base + `/api/gateway.php/acme/v1/reports/custom
auth:
  api_key_env: BAMBOO_KEY
`
		},
		env: map[string]string{"BAMBOO_KEY": "0123456789abcdef0123456789abcdef01234567"},
		handler: func(t *testing.T, base string) func(http.ResponseWriter, *http.Request, int, string) {
			return func(w http.ResponseWriter, r *http.Request, n int, body string) {
				if r.Header.Get("Authorization") != basicAuth("0123456789abcdef0123456789abcdef01234567", "x") {
					writeJSON(w, 401, nil)
					return
				}
				if r.Header.Get("Content-Type") != "application/json" {
					// BambooHR reads anything else as XML
					w.WriteHeader(400)
					_, _ = w.Write([]byte("Malformed XML"))
					return
				}
				writeJSON(w, 200, fixture(t, "bamboohr.json", base))
			}
		},
		header: []string{"id", "employeeNumber", "status", "firstName", "lastName", "preferredName", "workEmail", "jobTitle", "department", "division", "location", "hireDate", "supervisorEId"},
		rows: []map[string]string{
			{"id": "4", "employeeNumber": "1", "status": "Active", "firstName": "Charlotte", "lastName": "Abbott", "preferredName": "", "workEmail": "cabbott@efficientoffice.com", "jobTitle": "Sr. HR Administrator", "department": "Human Resources", "division": "North America", "location": "Lindon, Utah", "hireDate": "2014-08-20", "supervisorEId": "9"},
			{"id": "9", "employeeNumber": "9", "status": "Active", "firstName": "Jennifer", "lastName": "Caldwell", "preferredName": "Jen", "workEmail": "jcaldwell@efficientoffice.com", "jobTitle": "Chief Executive Officer", "department": "Executive", "division": "North America", "location": "Lindon, Utah", "hireDate": "2009-01-05", "supervisorEId": ""},
			{"id": "112", "employeeNumber": "00112", "status": "Inactive", "firstName": "Ashley", "lastName": "Adams", "preferredName": "", "workEmail": "aadams@efficientoffice.com", "jobTitle": "HR Administrator", "department": "Human Resources", "division": "Europe", "location": "London, UK", "hireDate": "0000-00-00", "supervisorEId": "4"},
		},
		provs: []identity.Provenance{{Page: 1, Index: 1}, {Page: 1, Index: 2}, {Page: 1, Index: 3}},
		requests: func(t *testing.T, reqs []request) {
			if len(reqs) != 1 || reqs[0].Method != "POST" {
				t.Fatalf("requests = %+v, want one POST", reqs)
			}
			q, _ := url.ParseQuery(reqs[0].Query)
			if q.Get("format") != "JSON" || q.Get("onlyCurrent") != "true" {
				t.Errorf("query = %s", reqs[0].Query)
			}
			var body struct {
				Title  string   `json:"title"`
				Fields []string `json:"fields"`
			}
			if err := json.Unmarshal([]byte(reqs[0].Body), &body); err != nil {
				t.Fatalf("body %q: %v", reqs[0].Body, err)
			}
			want := []string{"id", "employeeNumber", "status", "firstName", "lastName", "preferredName", "workEmail", "jobTitle", "department", "division", "location", "hireDate", "supervisorEId"}
			if !reflect.DeepEqual(body.Fields, want) {
				t.Errorf("report fields = %v, want %v", body.Fields, want)
			}
		},
	},
	{
		name: "personio",
		config: func(base string) string {
			return `
preset: personio
url: ` + base + `/v1/company/employees
paging:
  size: 2
auth:
  token_url: ` + base + `/v2/auth/token
  client_id_env: PERSONIO_CLIENT_ID
  client_secret_env: PERSONIO_CLIENT_SECRET
`
		},
		env: map[string]string{"PERSONIO_CLIENT_ID": "papi-client-1", "PERSONIO_CLIENT_SECRET": "papi-SECRET-value"},
		handler: func(t *testing.T, base string) func(http.ResponseWriter, *http.Request, int, string) {
			return func(w http.ResponseWriter, r *http.Request, n int, body string) {
				if r.URL.Path == "/v2/auth/token" {
					f, _ := url.ParseQuery(body)
					if r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || f.Get("grant_type") != "client_credentials" ||
						f.Get("client_id") != "papi-client-1" || f.Get("client_secret") != "papi-SECRET-value" {
						writeJSON(w, 401, []byte(`{"error":"invalid_client"}`))
						return
					}
					writeJSON(w, 200, []byte(`{"access_token":"papi-token-abcdef","token_type":"Bearer","expires_in":86400,"scope":"personio:persons:read"}`))
					return
				}
				if r.Header.Get("Authorization") != "Bearer papi-token-abcdef" {
					writeJSON(w, 401, []byte(`{"success":false}`))
					return
				}
				switch r.URL.Query().Get("offset") {
				case "0":
					writeJSON(w, 200, fixture(t, "personio_page1.json", base))
				case "2":
					writeJSON(w, 200, fixture(t, "personio_page2.json", base))
				default:
					writeJSON(w, 200, []byte(`{"success":true,"metadata":{"total_elements":3},"data":[]}`))
				}
			}
		},
		header: []string{"id", "status", "first_name", "last_name", "email", "position", "department", "office", "hire_date", "supervisor_id", "country"},
		rows: []map[string]string{
			{"id": "1132888", "status": "active", "first_name": "Alexander", "last_name": "Bergmann", "email": "alexander.bergmann@demo.email", "position": "CTO", "department": "Engineering", "office": "Munich", "hire_date": "2014-11-09T00:00:00+01:00", "supervisor_id": "", "country": "DE"},
			{"id": "1132889", "status": "leave", "first_name": "Zoë", "last_name": "Müller-Lüdenscheidt", "email": "zoe.mueller@demo.email", "position": "Backend Engineer", "department": "Engineering", "office": "Munich", "hire_date": "2021-02-01T00:00:00+01:00", "supervisor_id": "1132888", "country": "DE"},
			{"id": "1132901", "status": "onboarding", "first_name": "Agnieszka", "last_name": "Wiśniewska", "email": "agnieszka.wisniewska@demo.email", "position": "Office Manager", "department": "", "office": "Warsaw", "hire_date": "2026-12-01T00:00:00+01:00", "supervisor_id": "1132888", "country": "PL"},
		},
		provs: []identity.Provenance{{Page: 1, Index: 1}, {Page: 1, Index: 2}, {Page: 2, Index: 1}},
		requests: func(t *testing.T, reqs []request) {
			var data []string
			tokens := 0
			for _, r := range reqs {
				if r.Path == "/v2/auth/token" {
					tokens++
					continue
				}
				data = append(data, r.Query)
			}
			if tokens != 1 {
				t.Errorf("%d token requests, want 1 (the token is cached)", tokens)
			}
			// the total (3) is reached after two pages: no third request
			if want := []string{"offset=0&limit=2", "offset=2&limit=2"}; !reflect.DeepEqual(data, want) {
				t.Errorf("data requests = %v, want %v", data, want)
			}
		},
	},
}

func readPresetCase(t *testing.T, pc presetCase) (result, *api) {
	t.Helper()
	var a *api
	a = newAPI(t, func(w http.ResponseWriter, r *http.Request, n int, body string) {
		pc.handler(t, a.URL())(w, r, n, body)
	})
	c := parse(t, pc.config(a.URL()), pc.env)
	return read(t, c), a
}

func TestPresetsEndToEnd(t *testing.T) {
	for _, pc := range presetCases {
		t.Run(pc.name, func(t *testing.T) {
			res, a := readPresetCase(t, pc)
			if res.err != nil {
				t.Fatalf("Read: %v", res.err)
			}
			if !reflect.DeepEqual(res.sum.Header, pc.header) {
				t.Errorf("header = %v\nwant %v", res.sum.Header, pc.header)
			}
			if got := rows(res.recs); !reflect.DeepEqual(got, pc.rows) {
				t.Errorf("records:\n got %v\nwant %v", got, pc.rows)
			}
			if res.sum.Records != len(pc.rows) {
				t.Errorf("Summary.Records = %d, want %d", res.sum.Records, len(pc.rows))
			}
			for i, r := range res.recs {
				if r.Prov.Page != pc.provs[i].Page || r.Prov.Index != pc.provs[i].Index {
					t.Errorf("record %d provenance %+v, want page %d index %d", i, r.Prov, pc.provs[i].Page, pc.provs[i].Index)
				}
				if !strings.HasPrefix(r.Prov.File, a.URL()) {
					t.Errorf("record %d provenance file %q, want the URL", i, r.Prov.File)
				}
			}
			if !strings.HasPrefix(res.sum.Digest, "sha256:") || len(res.sum.Digest) != 71 {
				t.Errorf("digest %q", res.sum.Digest)
			}
			pc.requests(t, a.requests())
			if want := "rest " + pc.name + " " + a.URL(); !strings.HasPrefix(res.src.String(), want) {
				t.Errorf("String() = %q, want prefix %q", res.src.String(), want)
			}
		})
	}
}

// TestPresetMappings maps every preset's sample records through the
// preset's mapping file, as a plan would.
func TestPresetMappings(t *testing.T) {
	type want struct {
		key   string
		attrs map[string]string
		mgr   string
	}
	wants := map[string][]want{
		"workday": {
			{"21001", map[string]string{"displayName": "Logan McNeil", "userPrincipalName": "logan.mcneil@contoso.com", "department": "Global Modern Services",
				"employeeHireDate": "2000-01-01T00:00:00Z", "accountEnabled": "true", "usageLocation": "US", "jobTitle": "Chief Executive Officer"}, ""},
			{"21002", map[string]string{"department": "Human Resources", "employeeHireDate": "2006-03-15T00:00:00Z"}, "21001"},
			{"21034", map[string]string{"userPrincipalName": "jose.delacruz@contoso.com", "mailNickname": "jose.delacruz", "department": "Payroll - EMEA", "usageLocation": "ES"}, "21002"},
			{"21077", map[string]string{"accountEnabled": "false", "usageLocation": "GB"}, "21002"},
		},
		"successfactors": {
			{"cgrant", map[string]string{"displayName": "Carla Grant", "employeeHireDate": "2010-01-01T00:00:00Z", "accountEnabled": "true", "jobTitle": "VP Human Resources"}, "admin"},
			{"admin", map[string]string{"accountEnabled": "true"}, ""},
			{"108743", map[string]string{"userPrincipalName": "soeren.oestergaard@contoso.com", "accountEnabled": "false", "employeeHireDate": "2024-01-01T00:00:00Z"}, "cgrant"},
		},
		"bamboohr": {
			{"4", map[string]string{"displayName": "Charlotte Abbott", "employeeOrgData.division": "North America", "officeLocation": "Lindon, Utah", "employeeHireDate": "2014-08-20T00:00:00Z", "accountEnabled": "true"}, "9"},
			{"9", map[string]string{"displayName": "Jen Caldwell", "givenName": "Jen", "userPrincipalName": "jennifer.caldwell@contoso.com"}, ""},
			{"112", map[string]string{"accountEnabled": "false", "employeeHireDate": ""}, "4"},
		},
		"personio": {
			{"1132888", map[string]string{"displayName": "Alexander Bergmann", "jobTitle": "CTO", "department": "Engineering", "employeeHireDate": "2014-11-09T00:00:00Z", "accountEnabled": "true", "usageLocation": "DE"}, ""},
			{"1132889", map[string]string{"userPrincipalName": "zoe.muller-ludenscheidt@contoso.com", "accountEnabled": "true"}, "1132888"},
			{"1132901", map[string]string{"accountEnabled": "false", "usageLocation": "PL", "department": "", "officeLocation": "Warsaw"}, "1132888"},
		},
	}
	for _, pc := range presetCases {
		t.Run(pc.name, func(t *testing.T) {
			m, err := mapping.Load("../../../mappings/"+pc.name+".yaml", identity.EntraSchema())
			if err != nil {
				t.Fatalf("load mapping: %v", err)
			}
			res, _ := readPresetCase(t, pc)
			if res.err != nil {
				t.Fatalf("Read: %v", res.err)
			}
			if err := m.CheckFields(res.recs[0].Header, res.src.String()); err != nil {
				t.Fatalf("CheckFields: %v", err)
			}
			ws := wants[pc.name]
			if len(ws) != len(res.recs) {
				t.Fatalf("%d records, %d expectations", len(res.recs), len(ws))
			}
			for i, rec := range res.recs {
				d, err := m.Map(rec, time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC))
				if err != nil {
					t.Errorf("record %d: %v", i+1, err)
					continue
				}
				if d.Key != ws[i].key {
					t.Errorf("record %d key %q, want %q", i+1, d.Key, ws[i].key)
				}
				if d.ManagerKey != ws[i].mgr {
					t.Errorf("record %d manager %q, want %q", i+1, d.ManagerKey, ws[i].mgr)
				}
				for a, v := range ws[i].attrs {
					if got := d.Attrs.Get(a); got != v {
						t.Errorf("record %d %s = %q, want %q", i+1, a, got, v)
					}
				}
				if d.Attrs.Get("employeeId") != d.Key {
					t.Errorf("record %d employeeId %q", i+1, d.Attrs.Get("employeeId"))
				}
			}
		})
	}
}
