package rest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func decode(t testing.TB, s string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return v
}

func TestFormatNumber(t *testing.T) {
	cases := map[string]string{
		"0": "0", "1234": "1234", "-17": "-17",
		"12345678901234567890123": "12345678901234567890123", // beyond float64, exact
		"1234.0":                  "1234", "1234.50": "1234.5", "-0.0": "0", "0.1": "0.1",
		"1e3": "1000", "1.5E3": "1500", "2.5e-3": "0.0025", "1e-7": "0.0000001",
		"9007199254740993": "9007199254740993",
		"1e999999":         "1e999999", // kept rather than expanded
	}
	for in, want := range cases {
		if got := formatNumber(in); got != want {
			t.Errorf("formatNumber(%s) = %q, want %q", in, got, want)
		}
	}
}

func TestODataDate(t *testing.T) {
	cases := map[string]string{
		"/Date(1704067200000)/":        "2024-01-01",
		"/Date(946684800000)/":         "2000-01-01",
		"/Date(-86400000)/":            "1969-12-31",
		"/Date(1704112496000)/":        "2024-01-01T12:34:56Z",
		"/Date(1704112496789)/":        "2024-01-01T12:34:56.789Z",
		"/Date(1704067200000+0000)/":   "2024-01-01T00:00:00Z",
		"/Date(1704067200000+0060)/":   "2024-01-01T01:00:00+01:00",
		"/Date(1704067200000-0300)/":   "2023-12-31T19:00:00-05:00",
		"/Date(253402214400000)/":      "9999-12-31",
		"Date(1704067200000)":          "",
		"/Date(17040672000000000000)/": "",
	}
	for in, want := range cases {
		got, ok := odataDate(in)
		if got != want || ok != (want != "") {
			t.Errorf("odataDate(%s) = %q %v, want %q", in, got, ok, want)
		}
	}
}

func TestScalarValues(t *testing.T) {
	rec := decode(t, `{"s": "00123", "n": 1234, "f": 1234.0, "big": 123456789012345678901234567890,
		"t": true, "no": false, "null": null, "d": "/Date(1704067200000)/", "empty": ""}`)
	want := map[string]string{"s": "00123", "n": "1234", "f": "1234", "big": "123456789012345678901234567890",
		"t": "true", "no": "false", "null": "", "missing": "", "d": "/Date(1704067200000)/", "empty": ""}
	for path, w := range want {
		v, _ := resolve(rec, path)
		got, err := leafString(v, false)
		if err != nil || got != w {
			t.Errorf("%s = %q (%v), want %q", path, got, err, w)
		}
	}
	v, _ := resolve(rec, "d")
	if got, _ := leafString(v, true); got != "2024-01-01" {
		t.Errorf("odata date %q", got)
	}
}

// TestPaths covers the record shapes HR APIs use, Workday's varying
// cardinality and reference objects in particular.
func TestPaths(t *testing.T) {
	rec := decode(t, `{
		"Employee_ID": "21002",
		"Manager": {"Descriptor": "Logan McNeil", "ID": "21001"},
		"Managers": [{"Descriptor": "Logan McNeil", "ID": [{"type": "WID", "value": "3aa5"}, {"type": "Employee_ID", "value": "21001"}]}],
		"Email": "a@x.com",
		"Emails": ["a@x.com", "b@x.com"],
		"emails": [{"address": "w@x.com", "type": "work"}, {"address": "h@x.com"}],
		"Location": {"Descriptor": "London", "Country": {"Descriptor": "United Kingdom", "ISO_Code": "GB"}},
		"Cost_Center": [],
		"Org": null,
		"@odata.nextLink": "https://x/next",
		"attributes": {"first_name": {"label": "First name", "value": "Ana"}, "supervisor": {"value": null}},
		"d": {"results": [{"x": 1}]},
		"MixedCase": "yes",
		"Plain": {"a": 1, "b": 2}
	}`)
	cases := []struct {
		path string
		want string
		out  outcome
		err  bool
	}{
		{"Employee_ID", "21002", reached, false},
		{"employee_id", "21002", reached, false}, // keys match without regard to case
		{"Manager", "Logan McNeil", reached, false},
		{"Manager.ID", "21001", reached, false},
		{"Manager.Descriptor", "Logan McNeil", reached, false},
		{"Managers", "Logan McNeil", reached, false},           // list: first element, a reference: its Descriptor
		{"Managers.ID", "", reached, true},                     // a list of typed IDs: pick one
		{"Managers.ID.value", "3aa5", reached, false},          // a key on a list applies to the first element
		{"Managers.0.ID.1.value", "21001", reached, false},     // explicit indexes
		{"Manager.0.ID", "21001", reached, false},              // index 0 of a single object is the object
		{"Manager.1.ID", "", ended, false},                     // there is no second
		{"Email.0", "a@x.com", reached, false},                 // index 0 of a single value
		{"Email.1", "", ended, false},                          //
		{"Emails", "a@x.com", reached, false},                  // a list of values gives the first
		{"Emails.1", "b@x.com", reached, false},                //
		{"Emails.5", "", ended, false},                         // past the end
		{"emails.0.address", "w@x.com", reached, false},        //
		{"emails.address", "w@x.com", reached, false},          //
		{"emails.1.type", "", missing, false},                  // the second has no type
		{"Location", "London", reached, false},                 //
		{"Location.Country.ISO_Code", "GB", reached, false},    //
		{"Cost_Center", "", reached, false},                    // an empty list is empty
		{"Cost_Center.ID", "", ended, false},                   //
		{"Org", "", reached, false},                            // null
		{"Org.Name", "", ended, false},                         // through null
		{"@odata.nextLink", "https://x/next", reached, false},  // a key with a dot
		{"attributes.first_name.value", "Ana", reached, false}, //
		{"attributes.supervisor.value.attributes.id.value", "", ended, false},
		{"attributes.frist_name.value", "", missing, false}, // a typo
		{"d.results.0.x", "1", reached, false},
		{"Nope", "", missing, false},
		{"Employee_ID.x", "", missing, false}, // text where an object was expected
		{"Plain", "", reached, true},          // an object that is not a reference
	}
	for _, c := range cases {
		v, out := resolve(rec, c.path)
		if out != c.out {
			t.Errorf("%s: outcome %d, want %d", c.path, out, c.out)
		}
		if out != reached {
			continue
		}
		got, err := leafString(v, false)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("%s = %q (%v), want %q", c.path, got, err, c.want)
		}
	}
}

func TestFlatten(t *testing.T) {
	var got []pair
	info, err := decodePage([]byte(`[{"__metadata": {"uri": "x"}, "id": 7, "name": {"first": "Ana", "last": null},
		"tags": ["a", {"k": true}], "empty": {}, "none": [], "mgr": {"__deferred": {"uri": "y"}}}]`),
		pageSpec{ordered: true}, func(v any) error {
			got = flatten(v, "", false, nil)
			return nil
		})
	if err != nil || !info.found {
		t.Fatal(err)
	}
	want := []pair{{"id", "7"}, {"name.first", "Ana"}, {"name.last", ""}, {"tags.0", "a"}, {"tags.1.k", "true"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("flatten = %v, want %v", got, want)
	}
}

func TestAutomaticColumns(t *testing.T) {
	pages := []string{
		`{"d": {"results": [
			{"__metadata": {"uri": "u1"}, "userId": "u1", "firstName": "Ana", "manager": {"userId": "boss"}},
			{"__metadata": {"uri": "u2"}, "userId": "u2", "lastName": "Lee", "manager": null, "hireDate": "/Date(1704067200000)/"}
		], "__next": "/odata/v2/User?$skiptoken=2"}}`,
		`{"d": {"results": [
			{"userId": "u3", "firstName": "Bo", "custom01": "new"}
		]}}`,
	}
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int, body string) {
		writeJSON(w, 200, []byte(pages[n]))
	})
	res := read(t, parse(t, "url: "+a.URL()+"/odata/v2/User\nrecords: d.results\nodata_dates: true\npaging: {type: next_link, next: d.__next}", nil))
	if res.err != nil {
		t.Fatal(res.err)
	}
	wantHeader := []string{"userId", "firstName", "manager.userId", "lastName", "manager", "hireDate"}
	if !reflect.DeepEqual(res.sum.Header, wantHeader) {
		t.Errorf("header %v, want %v", res.sum.Header, wantHeader)
	}
	want := []map[string]string{
		{"userId": "u1", "firstName": "Ana", "manager.userId": "boss", "lastName": "", "manager": "", "hireDate": ""},
		{"userId": "u2", "firstName": "", "manager.userId": "", "lastName": "Lee", "manager": "", "hireDate": "2024-01-01"},
		{"userId": "u3", "firstName": "Bo", "manager.userId": "", "lastName": "", "manager": "", "hireDate": ""},
	}
	if got := rows(res.recs); !reflect.DeepEqual(got, want) {
		t.Errorf("rows\n got %v\nwant %v", got, want)
	}
	if !strings.Contains(res.log.String(), "field=custom01") {
		t.Errorf("a field first met on page 2 is not logged: %s", res.log.String())
	}
	for _, r := range res.recs {
		if r.Header != res.recs[0].Header {
			t.Error("records do not share one header")
		}
	}
}

func TestFieldsTypo(t *testing.T) {
	body := `{"data": [
		{"type": "Employee", "attributes": {"id": {"value": 1}, "first_name": {"value": "Ana"}, "supervisor": {"value": null}}},
		{"type": "Employee", "attributes": {"id": {"value": 2}, "first_name": {"value": "Bo"}, "supervisor": {"value": {"attributes": {"id": {"value": 1}}}}}}
	]}`
	cases := []struct {
		name   string
		fields string
		want   []string // "" = no error
		col    string
	}{
		{"all present", "{id: attributes.id.value, first: attributes.first_name.value, boss: attributes.supervisor.value.attributes.id.value}", nil, ""},
		{"first segment", "{id: attributes.id.value, first: atributes.first_name.value}",
			[]string{"the path atributes.first_name.value is in no record of page 1 (2 records)", `the record has no key "atributes" (its keys: attributes, type)`}, "first"},
		{"deeper", "{id: attributes.id.value, first: attributes.frist_name.value}",
			[]string{`attributes has no key "frist_name" (its keys: first_name, id, supervisor)`}, "first"},
		{"two columns", "{id: attributes.id.value, a: x, b: attributes.y}",
			[]string{"the columns a (x), b (attributes.y) are in no record of page 1"}, ""},
		{"an object, not a value", "{id: attributes.id.value, first: attributes.first_name}",
			[]string{"page 1 item 1", "attributes.first_name: the path leads to an object (keys: value), not a value", "attributes.first_name.value"}, "first"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int, b string) {
				writeJSON(w, 200, []byte(body))
			})
			res := read(t, parse(t, "url: "+a.URL()+"/x\nrecords: data\nfields: "+c.fields, nil))
			if c.want == nil {
				if res.err != nil || res.sum.Records != 2 || res.recs[1].Values[0] != "1" {
					t.Fatalf("err %v, %+v", res.err, rows(res.recs))
				}
				return
			}
			se := sourceErr(t, res.err)
			for _, w := range c.want {
				if !strings.Contains(se.Error(), w) {
					t.Errorf("error %q\nlacks %q", se.Error(), w)
				}
			}
			if se.Column != c.col {
				t.Errorf("column %q, want %q", se.Column, c.col)
			}
			if len(res.recs) != 0 {
				t.Errorf("%d records emitted before the first page was checked", len(res.recs))
			}
		})
	}
}

func TestPresetTypoHint(t *testing.T) {
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int, b string) {
		writeJSON(w, 200, []byte(`{"Report_Entry": [{"Employee_ID": "1", "Active": "1", "First_Name": "A", "Last_Name": "B",
			"Business_Title": "T", "Supervisory_Organization": "O", "Hire_Date": "2020-01-01", "Worker_s_Manager": "2", "Country_Code": "US"}]}`))
	})
	res := read(t, parse(t, "preset: workday\nurl: "+a.URL()+"/ccx/service/customreport2/t/o/r\nauth: {username: u, password_env: P}", map[string]string{"P": "pw-1234"}))
	se := sourceErr(t, res.err)
	if se.Column != "Manager_ID" || !strings.Contains(se.Hint, "XML alias") || !strings.Contains(se.Msg, "Worker_s_Manager") {
		t.Errorf("error %q (column %q)", se.Error(), se.Column)
	}
}

func TestRecordShapes(t *testing.T) {
	cases := []struct {
		name, records, body string
		n                   int
		err                 string
	}{
		{"root list", "", `[{"id": 1}, {"id": 2}]`, 2, ""},
		{"single object", "worker", `{"worker": {"id": 1}}`, 1, ""},
		{"null", "items", `{"items": null}`, 0, ""},
		{"empty first page", "items", `{"items": []}`, 0, ""},
		{"byte-order mark", "", "\xEF\xBB\xBF[{\"id\": 1}]", 1, ""},
		{"records of text", "", `["a", "b"]`, 0, "page 1 item 1: the record is text, not an object"},
		{"root is an object", "", `{"items": [], "count": 0}`, 0, "page 1: the body is an object (keys: count, items), not a list: set source.rest.records"},
		{"trailing data", "", `[{"id": 1}] [`, 0, "not valid JSON"},
		{"empty body", "", ``, 0, "the answer is empty, not JSON"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int, b string) {
				writeJSON(w, 200, []byte(c.body))
			})
			res := read(t, parse(t, "url: "+a.URL()+"/x\nfields: {id: id}\nrecords: '"+c.records+"'", nil))
			if c.err != "" {
				se := sourceErr(t, res.err)
				if !strings.Contains(se.Error(), c.err) {
					t.Errorf("error %q lacks %q", se.Error(), c.err)
				}
				return
			}
			if res.err != nil || res.sum.Records != c.n || !reflect.DeepEqual(res.sum.Header, []string{"id"}) {
				t.Errorf("err %v, summary %+v", res.err, res.sum)
			}
		})
	}
}

// TestAutomaticColumnRecordShapes: without fields, a record that is not an
// object fails the read, naming the page and item.
func TestAutomaticColumnRecordShapes(t *testing.T) {
	cases := []struct{ name, body, want string }{
		{"text on page 1", `["a"]`, " page 1 item 1: the record is text, not an object (check source.rest.records)"},
		{"a number after an object", `[{"id": 1}, 2]`, " page 1 item 2: the record is a number, not an object (check source.rest.records)"},
		{"null", `[null]`, " page 1 item 1: the record is null, not an object (check source.rest.records)"},
		{"a list", `[[1]]`, " page 1 item 1: the record is a list, not an object (check source.rest.records)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int, b string) {
				writeJSON(w, 200, []byte(c.body))
			})
			res := read(t, parse(t, "url: "+a.URL()+"/x", nil))
			se := sourceErr(t, res.err)
			if want := a.URL() + "/x" + c.want; se.Error() != want {
				t.Errorf("error %q\nwant  %q", se.Error(), want)
			}
			if len(res.recs) != 0 || res.sum.Records != 0 {
				t.Errorf("a failed first page emitted %d records", len(res.recs))
			}
		})
	}
}

func TestDecodePageSkipsWhatIsNotWanted(t *testing.T) {
	body := []byte(`{"meta": {"total": 2, "other": [1, {"a": [2]}]}, "big": {"x": [[[]]]}, "data": {"items": [{"id": 1}], "next": "n"}}`)
	var recs []any
	info, err := decodePage(body, pageSpec{records: "data.items", scalars: []string{"meta.total", "data.next", "absent"}}, func(v any) error {
		recs = append(recs, v)
		return nil
	})
	if err != nil || len(recs) != 1 || !info.found {
		t.Fatalf("%v %v", err, recs)
	}
	if info.values["meta.total"] != json.Number("2") || info.values["data.next"] != "n" || info.values["absent"] != nil {
		t.Errorf("values %v", info.values)
	}
	if !reflect.DeepEqual(info.topKeys, []string{"meta", "big", "data"}) {
		t.Errorf("top keys %v", info.topKeys)
	}
	_, err = decodePage(bytes.Repeat([]byte("["), 10000), pageSpec{records: "x"}, func(any) error { return nil })
	if err == nil {
		t.Error("deep nesting accepted")
	}
}

// TestWorkdayShapes reads a report whose references and multi-instance
// fields come as objects, lists of objects, single objects or nothing.
func TestWorkdayShapes(t *testing.T) {
	a := newAPI(t, func(w http.ResponseWriter, r *http.Request, n int, b string) {
		writeJSON(w, 200, fixture(t, "workday_references.json", ""))
	})
	res := read(t, parse(t, `
preset: workday
url: `+a.URL()+`/ccx/service/customreport2/acme/ISU/Workers
auth: {username: ISU, password_env: P}
fields:
  - Employee_ID: Employee_ID
  - Manager_Name: Manager
  - Manager_ID: Manager.ID
  - Email: Email_Addresses.Email_Address
  - Email_2: Email_Addresses.1.Email_Address
  - Cost_Center: Cost_Center.ID
  - Active: ~
  - First_Name: ~
  - Last_Name: ~
  - Business_Title: ~
  - Supervisory_Organization: ~
  - Hire_Date: ~
  - Country_Code: ~
`, map[string]string{"P": "pw-1234"}))
	if res.err != nil {
		t.Fatal(res.err)
	}
	want := []map[string]string{
		{"Employee_ID": "21002", "Manager_Name": "Logan McNeil", "Manager_ID": "21001", "Email": "oreynolds@workday.net", "Email_2": "oliver@example.com", "Cost_Center": "CC41600"},
		{"Employee_ID": "21034", "Manager_Name": "Oliver Reynolds", "Manager_ID": "21002", "Email": "jdelacruz@workday.net", "Email_2": "", "Cost_Center": ""},
		{"Employee_ID": "21001", "Manager_Name": "", "Manager_ID": "", "Email": "", "Email_2": "", "Cost_Center": ""},
	}
	if got := rows(res.recs); !reflect.DeepEqual(got, want) {
		t.Errorf("rows\n got %v\nwant %v", got, want)
	}
	if want := []string{"Employee_ID", "Manager_ID", "Manager_Name", "Email", "Email_2", "Cost_Center"}; !reflect.DeepEqual(res.sum.Header, want) {
		t.Errorf("header %v, want %v (the preset's order, then the additions)", res.sum.Header, want)
	}
}
