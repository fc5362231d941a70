package graphsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestFilterEvaluation(t *testing.T) {
	hire := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	u := &User{
		ID: "6b0e2c1e-0000-4000-8000-000000000001", AccountEnabled: true, DisplayName: "Zoë O'Brien",
		UserPrincipalName: "zoe.obrien@contoso.com", Department: "Sales", EmployeeID: "E42",
		EmployeeHireDate: hire, EmployeeOrgData: &EmployeeOrgData{CostCenter: "CC7"},
	}
	tests := []struct {
		expr string
		want bool
	}{
		{"department eq 'Sales'", true},
		{"department eq 'SALES'", true},
		{"department eq 'IT'", false},
		{"department ne 'IT'", true},
		{"jobTitle eq null", true},
		{"jobTitle ne null", false},
		{"employeeId ne null", true},
		{"displayName eq 'Zoë O''Brien'", true},
		{"startswith(displayName,'zoë')", true},
		{"startsWith(userPrincipalName, 'obrien')", false},
		{"endswith(userPrincipalName,'@CONTOSO.com')", true},
		{"employeeId in ('E1', 'e42')", true},
		{"employeeId in ('E1')", false},
		{"accountEnabled eq true and (department eq 'IT' or employeeId eq 'E42')", true},
		{"accountEnabled eq false or department eq 'IT'", false},
		{"not (department eq 'IT')", true},
		{"NOT department eq 'Sales'", false},
		{"department eq 'IT' or department eq 'Sales' and employeeId eq 'nope'", false},
		{"employeeHireDate ge 2024-05-01T00:00:00Z", true},
		{"employeeHireDate gt 2024-05-01T00:00:00Z", false},
		{"employeeHireDate le 2024-04-30", false},
		{"employeeOrgData/costCenter eq 'cc7'", true},
		{"employeeOrgData/division eq null", true},
		{"id eq '6B0E2C1E-0000-4000-8000-000000000001'", true},
	}
	for _, tc := range tests {
		n, gerr := parseFilter(tc.expr, true)
		if gerr != nil {
			t.Errorf("%s: %v", tc.expr, gerr)
			continue
		}
		if got := n.match(u); got != tc.want {
			t.Errorf("%s = %v, want %v", tc.expr, got, tc.want)
		}
	}
}

func TestFilterIndexKeys(t *testing.T) {
	n, gerr := parseFilter("userPrincipalName in ('A@x.com','b@x.com')", false)
	if gerr != nil {
		t.Fatal(gerr)
	}
	if f, k := n.indexKeys(); f != "userPrincipalName" || strings.Join(k, ",") != "a@x.com,b@x.com" {
		t.Errorf("indexKeys = %s %v", f, k)
	}
	n, _ = parseFilter("userPrincipalName eq 'a@x.com' and accountEnabled eq true", false)
	if f, _ := n.indexKeys(); f != "" {
		t.Errorf("compound filter used the index: %s", f)
	}
}

func TestPasswordComplexity(t *testing.T) {
	for pw, want := range map[string]bool{
		"Abcdef1!": true, "abcdef12": false, "ABCDEF1!": true, "Abcdefgh": false, "Ab1!": false,
		"abcdefg!1": true, "Abc def1!": false, strings.Repeat("Aa1", 86): false, "Pässwört1!": false,
	} {
		if got := passwordComplex(pw); got != want {
			t.Errorf("passwordComplex(%q) = %v, want %v", pw, got, want)
		}
	}
}

func TestUPNSyntax(t *testing.T) {
	for upn, want := range map[string]bool{
		"a@contoso.com": true, "o'neil.x-y_z!#^~@contoso.com": true, "a.b@sub.contoso.com": true,
		"@contoso.com": false, "a@": false, "a@@contoso.com": false, "a@b@contoso.com": false,
		"a.@contoso.com": false, ".a@contoso.com": false, "a b@contoso.com": false, "jörg@contoso.com": false,
		"a+b@contoso.com": false, strings.Repeat("a", 65) + "@contoso.com": false, "a@contoso..com": false,
	} {
		if got := validUPNSyntax(upn); got != want {
			t.Errorf("validUPNSyntax(%q) = %v, want %v", upn, got, want)
		}
	}
}

func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{"plain", `quo"te\back`, "tab\tnl\nctl\x01", "Zoë 😀", "bad\xffutf8", "sep\u2028x"} {
		got := appendJSONString(nil, s)
		want, _ := json.Marshal(s)
		if string(got) != string(want) {
			t.Errorf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
	}
}

// bigServer builds a server holding n users without going through HTTP.
func bigServer(t testing.TB, n int) *Server {
	t.Helper()
	s, err := New(Options{Domains: []string{"contoso.com"}, Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	st := &State{Domains: []string{"contoso.com"}, Users: make([]User, n)}
	for i := range st.Users {
		st.Users[i] = User{
			ID: newGUID(), AccountEnabled: true, DisplayName: fmt.Sprintf("User %d", i),
			UserPrincipalName: fmt.Sprintf("user%d@contoso.com", i), MailNickname: fmt.Sprintf("user%d", i),
			EmployeeID: fmt.Sprint(i), Department: []string{"Sales", "IT", "HR"}[i%3],
		}
	}
	s.st = newStore(st, time.Now())
	return s
}

// pageAll follows nextLinks through the handler and returns the number of
// users and pages.
func pageAll(t testing.TB, h http.Handler, first string) (int, int) {
	t.Helper()
	users, pages := 0, 0
	next := first
	for next != "" {
		req := httptest.NewRequest(http.MethodGet, next, nil)
		req.Header.Set("Authorization", "Bearer t")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			t.Fatalf("GET %s: %d %s", next, rec.Code, rec.Body.String())
		}
		var page struct {
			Next  string            `json:"@odata.nextLink"`
			Value []json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
			t.Fatal(err)
		}
		users += len(page.Value)
		pages++
		next = page.Next
	}
	return users, pages
}

// TestLargeTenantPaging checks that listing 100k users with $top=999 stays
// fast: each page starts with a binary search, not a scan.
func TestLargeTenantPaging(t *testing.T) {
	if testing.Short() {
		t.Skip("large tenant")
	}
	const n = 100_000
	s := bigServer(t, n)
	start := time.Now()
	users, pages := pageAll(t, s.Handler(), "http://sim.test/v1.0/users?$top=999&$select=id,userPrincipalName,employeeId")
	elapsed := time.Since(start)
	if users != n || pages != (n+998)/999 {
		t.Fatalf("paged %d users in %d pages", users, pages)
	}
	t.Logf("listed %d users in %d pages in %v", users, pages, elapsed)
	if elapsed > 20*time.Second {
		t.Errorf("paging 100k users took %v", elapsed)
	}
	// A filtered listing scans once overall, not once per page.
	start = time.Now()
	users, _ = pageAll(t, s.Handler(), "http://sim.test/v1.0/users?$top=999&$select=id&$filter=department%20eq%20'IT'")
	if users != n/3 {
		t.Errorf("filtered listing returned %d users, want %d", users, n/3)
	}
	t.Logf("filtered listing in %v", time.Since(start))
}

func BenchmarkListUsersPage999(b *testing.B) {
	s := bigServer(b, 100_000)
	h := s.Handler()
	req := httptest.NewRequest(http.MethodGet, "http://sim.test/v1.0/users?$top=999", nil)
	req.Header.Set("Authorization", "Bearer t")
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}
