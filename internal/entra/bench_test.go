package entra

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/hrsync/hrsync/internal/graphsim"
	"github.com/hrsync/hrsync/internal/identity"
)

// benchSim serves n users shaped like an HR-synced tenant.
func benchSim(b *testing.B, n int) *Client {
	b.Helper()
	st := graphsim.State{Domains: []string{"contoso.com"}}
	for i := 1; i <= n; i++ {
		u := graphsim.User{
			ID: fmt.Sprintf("00000000-0000-0000-0000-%012d", i), AccountEnabled: true,
			DisplayName: fmt.Sprintf("Worker Number %d", i), GivenName: "Worker", Surname: fmt.Sprintf("Number %d", i),
			UserPrincipalName: fmt.Sprintf("worker.%d@contoso.com", i), MailNickname: fmt.Sprintf("worker.%d", i),
			EmployeeID: fmt.Sprintf("%07d", i), Department: "Engineering", JobTitle: "Software Engineer",
			CompanyName: "Contoso", UsageLocation: "GB", EmployeeHireDate: time.Date(2021, 3, 4, 0, 0, 0, 0, time.UTC),
		}
		if i > 1 {
			u.Manager = fmt.Sprintf("00000000-0000-0000-0000-%012d", 1+(i-2)/8)
		}
		st.Users = append(st.Users, u)
	}
	seed := b.TempDir() + "/seed.json"
	data, err := json.Marshal(st)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(seed, data, 0o600); err != nil {
		b.Fatal(err)
	}
	srv, err := graphsim.New(graphsim.Options{SeedPath: seed, Token: testToken})
	if err != nil {
		b.Fatal(err)
	}
	base, err := srv.Start("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = srv.Close(context.Background()) })
	c, err := New(Options{GraphURL: base, Auth: Auth{Method: "access_token", Token: testToken}})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

var benchAttrs = []string{"employeeId", "displayName", "givenName", "surname", "userPrincipalName", "mailNickname",
	"department", "jobTitle", "companyName", "usageLocation", "employeeHireDate", "accountEnabled"}

// BenchmarkListUsers reads a 20k-user tenant through msgraph-sdk-go over
// loopback (emulator in the same process).
func BenchmarkListUsers(b *testing.B) {
	const n = 20000
	c := benchSim(b, n)
	reads := []struct {
		name        string
		withManager bool
		read        func(context.Context, []string, bool, func(int)) ([]identity.User, error)
	}{
		{"list", false, c.ListUsers},
		{"list+expand_manager", true, c.ListUsers},
		{"delta+manager", true, c.ListUsersDelta},
	}
	for _, r := range reads {
		b.Run(r.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				users, err := r.read(context.Background(), benchAttrs, r.withManager, nil)
				if err != nil || len(users) != n {
					b.Fatal(len(users), err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/user")
		})
	}
}
