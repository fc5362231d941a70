package graphsim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// The scale checks load 500,000 typical users and list them all. They are
// slow and memory-hungry, so plain "go test" skips them:
//
//	GRAPHSIM_SCALE=1 go test -run TestScale500k -v ./internal/graphsim/
//	go test -run '^$' -bench List500k -benchmem ./internal/graphsim/

const scaleUsers = 500_000

// scaleSelect is what a sync client asks for when it reads the tenant.
const scaleSelect = "id,displayName,givenName,surname,userPrincipalName,mail,jobTitle,department,companyName," +
	"employeeId,employeeType,employeeHireDate,employeeLeaveDateTime,employeeOrgData,accountEnabled,usageLocation,country,city"

// typicalState generates n users with the properties an HR-fed tenant has.
func typicalState(n int) *State {
	st := &State{Tenant: &Tenant{ID: newGUID(), DisplayName: "Contoso"}, Domains: []string{"contoso.com"},
		Users: make([]User, n)}
	depts := []string{"Sales", "Engineering", "Finance", "Human Resources", "Operations", "Marketing", "Legal"}
	titles := []string{"Analyst", "Senior Engineer", "Account Manager", "Team Lead", "Director", "Specialist"}
	cities := []string{"London", "München", "Paris", "Łódź", "Zürich", "Madrid"}
	created := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range st.Users {
		given, sur := "Given"+strconv.Itoa(i%977), "Surname"+strconv.Itoa(i)
		nick := fmt.Sprintf("%s.%s", given, sur)
		u := &st.Users[i]
		*u = User{
			ID: newGUID(), AccountEnabled: i%50 != 0, DisplayName: given + " " + sur, GivenName: given, Surname: sur,
			UserPrincipalName: nick + "@contoso.com", MailNickname: nick, Mail: nick + "@contoso.com", UserType: "Member",
			JobTitle: titles[i%len(titles)], Department: depts[i%len(depts)], CompanyName: "Contoso Ltd",
			OfficeLocation: "Building " + strconv.Itoa(i%40), EmployeeID: "E" + strconv.Itoa(100000+i),
			EmployeeType: "Employee", EmployeeHireDate: created.AddDate(0, 0, i%2000),
			EmployeeOrgData: &EmployeeOrgData{Division: "Division " + strconv.Itoa(i%12), CostCenter: "CC" + strconv.Itoa(i%300)},
			City:            cities[i%len(cities)], Country: "GB", UsageLocation: "GB",
			BusinessPhones:  []string{"+44 20 7946 " + fmt.Sprintf("%04d", i%10000)},
			PasswordProfile: &PasswordProfile{ForceChangePasswordNextSignIn: true},
			CreatedDateTime: created.Add(time.Duration(i) * time.Second), LastPasswordChangeDateTime: created,
		}
		if i > 0 {
			u.Manager = st.Users[(i-1)/10].ID // a tree with ten reports per manager
		}
	}
	return st
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// listAllHTTP lists every user through plain net/http with $top=999 and
// returns the count and pages. Like a careful client it reuses one read
// buffer and decodes only what it keeps (here: the ids).
func listAllHTTP(tb testing.TB, client *http.Client, base string) (int, int) {
	tb.Helper()
	next := base + "/v1.0/users?$top=999&$select=" + scaleSelect
	users, pages := 0, 0
	var buf bytes.Buffer
	var page struct {
		Next  string `json:"@odata.nextLink"`
		Value []struct {
			ID string `json:"id"`
		} `json:"value"`
	}
	for next != "" {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, next, nil)
		if err != nil {
			tb.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer t")
		resp, err := client.Do(req)
		if err != nil {
			tb.Fatal(err)
		}
		buf.Reset()
		_, err = buf.ReadFrom(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			tb.Fatalf("GET %s: %d %v", next, resp.StatusCode, err)
		}
		page.Next, page.Value = "", page.Value[:0]
		if err := json.Unmarshal(buf.Bytes(), &page); err != nil {
			tb.Fatal(err)
		}
		users += len(page.Value)
		pages++
		next = page.Next
	}
	return users, pages
}

func TestScale500k(t *testing.T) {
	if os.Getenv("GRAPHSIM_SCALE") == "" || testing.Short() {
		t.Skip("set GRAPHSIM_SCALE=1 to load and list 500,000 users")
	}
	// Load from a state file, as the sandbox does.
	path := filepath.Join(t.TempDir(), "tenant.json")
	func() {
		gen := typicalState(scaleUsers)
		if _, err := gen.validate(); err != nil {
			t.Fatal(err)
		}
		if err := newStore(gen, time.Now()).writeFile(path); err != nil {
			t.Fatal(err)
		}
	}()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	before := heapInUse()
	start := time.Now()
	s, err := New(Options{StatePath: path, Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	load := time.Since(start)
	heap := heapInUse() - before
	t.Logf("loaded %d users (%.0f MB state file) in %v; heap %.0f MB = %d bytes per user",
		scaleUsers, float64(fi.Size())/1e6, load, float64(heap)/1e6, heap/scaleUsers)
	if per := heap / scaleUsers; per > 1536 {
		t.Errorf("%d bytes of heap per user, want at most 1.5 KB", per)
	}

	base, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	client := &http.Client{}
	for round := range 2 { // the first round warms up
		start = time.Now()
		users, pages := listAllHTTP(t, client, base)
		elapsed := time.Since(start)
		if users != scaleUsers {
			t.Fatalf("listed %d users", users)
		}
		t.Logf("round %d: listed %d users in %d pages in %v (%.1f µs per user)", round+1, users, pages, elapsed,
			float64(elapsed.Microseconds())/float64(users))
	}
	if err := s.Save(); err != nil { // nothing changed: a no-op
		t.Fatal(err)
	}
	runtime.KeepAlive(s)
}

// BenchmarkList500k lists all 500,000 users ($top=999, $select) through
// net/http per op and reports the heap held per user.
func BenchmarkList500k(b *testing.B) {
	before := heapInUse()
	st := typicalState(scaleUsers)
	if _, err := st.validate(); err != nil {
		b.Fatal(err)
	}
	s, err := New(Options{Domains: []string{"contoso.com"}, Token: "t"})
	if err != nil {
		b.Fatal(err)
	}
	s.st = newStore(st, time.Now())
	st = nil
	heapPerUser := float64(heapInUse()-before) / scaleUsers
	base, err := s.Start("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close(context.Background())
	client := &http.Client{}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if users, _ := listAllHTTP(b, client, base); users != scaleUsers {
			b.Fatalf("listed %d users", users)
		}
	}
	b.ReportMetric(heapPerUser, "heapB/user") // after the loop: ResetTimer clears metrics
}
