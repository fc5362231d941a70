package entra

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/hrsync/hrsync/internal/graphsim"
	"github.com/hrsync/hrsync/internal/identity"
)

// benchSim serves n users shaped like an HR-synced tenant.
func benchSim(b *testing.B, n int) *Client {
	b.Helper()
	c, _ := benchSimWith(b, n, graphsim.Options{})
	return c
}

// benchSimWith is benchSim with emulator options (latency).
func benchSimWith(b *testing.B, n int, opts graphsim.Options) (*Client, *graphsim.Server) {
	b.Helper()
	st := graphsim.State{Domains: []string{"contoso.com"}}
	for i := 1; i <= n; i++ {
		u := graphsim.User{
			ID: fmt.Sprintf("00000000-0000-0000-0000-%012d", i), AccountEnabled: true,
			DisplayName: fmt.Sprintf("Worker Number %d", i), GivenName: "Worker", Surname: fmt.Sprintf("Number %d", i),
			// Names in no relation to creation order, as in a real tenant.
			UserPrincipalName: fmt.Sprintf("%c%06x.%d@contoso.com", 'a'+(i*7919)%26, (uint32(i)*2654435761)>>8, i), MailNickname: fmt.Sprintf("worker.%d", i),
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
	opts.SeedPath, opts.Token = seed, testToken
	srv, err := graphsim.New(opts)
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
	return c, srv
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

// BenchmarkReadSchemes measures the full-read schemes against graphsim at
// Graph's latency (HRSYNC_BENCH_LATENCY, default 200ms, plus up to a
// quarter of it as jitter) on HRSYNC_BENCH_USERS users (default 20,000),
// with the manager: the sequential delta read, partitions with one request
// per page (Concurrency×20 in flight), and partitions whose pages go 20 to
// a $batch (Concurrency batches in flight). It reports the wall time per
// read, the requests (round trips), the pages and the resource units
// charged, and the budget floor: those units at Graph's 800 per second.
//
//	go test -run '^$' -bench ReadSchemes -benchtime 1x ./internal/entra
func BenchmarkReadSchemes(b *testing.B) {
	n, lat := 20000, 200*time.Millisecond
	if v, err := strconv.Atoi(os.Getenv("HRSYNC_BENCH_USERS")); err == nil && v > 0 {
		n = v
	}
	if v, err := time.ParseDuration(os.Getenv("HRSYNC_BENCH_LATENCY")); err == nil && v >= 0 {
		lat = v
	}
	c, srv := benchSimWith(b, n, graphsim.Options{Latency: lat, LatencyJitter: lat / 4})
	for _, sc := range []struct {
		name   string
		scheme ReadScheme
	}{{"sequential_delta", SchemeSequential}, {"partitions_parallel", SchemeParallel}, {"partitions_batched", SchemeBatched}} {
		b.Run(sc.name, func(b *testing.B) {
			c.SetReadScheme(sc.scheme)
			before := srv.Stats()
			for b.Loop() {
				users, err := c.ReadUsers(context.Background(), benchAttrs, true, nil)
				if err != nil || len(users) != n {
					b.Fatal(len(users), err)
				}
			}
			after := srv.Stats()
			per := func(v int64) float64 { return float64(v) / float64(b.N) }
			pages := after.BatchItems["GET /users"] - before.BatchItems["GET /users"] +
				after.Requests["GET /users"] - before.Requests["GET /users"] +
				after.Requests["GET /users/delta"] - before.Requests["GET /users/delta"]
			ru := after.ResourceUnits - before.ResourceUnits
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/read")
			b.ReportMetric(per(after.Total()-before.Total()), "requests/read")
			b.ReportMetric(per(pages), "pages/read")
			b.ReportMetric(per(ru), "RU/read")
			b.ReportMetric(per(ru)/800, "budget-floor-s/read")
		})
	}
}
