package plan

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hrsync/hrsync/internal/identity"
)

// benchInput is a workforce of n with managers, against a tenant that holds
// all of them with 5% movers, 2% leavers and 3% joiners.
func benchInput(n int) Input {
	desired := make([]identity.Desired, 0, n)
	users := make([]identity.User, 0, n)
	for i := 0; i < n; i++ {
		key := fmt.Sprintf("%07d", i)
		d := identity.Desired{Key: key, Prov: identity.Provenance{File: "hr.csv", Line: i + 2}, Attrs: identity.AttrsOf(map[string]string{
			"employeeId": key, "displayName": "Worker " + key, "userPrincipalName": "w" + key + "@contoso.com",
			"mailNickname": "w" + key, "department": fmt.Sprintf("Dept %d", i%40), "jobTitle": "Engineer", "accountEnabled": "true",
		})}
		if i > 0 {
			d.ManagerKey = fmt.Sprintf("%07d", i/10)
		}
		switch {
		case i%100 < 3: // joiner: not in the tenant
		case i%100 < 5: // leaver: in the tenant, not in HR
			users = append(users, identity.User{ID: "id" + key, Attrs: identity.AttrsOf(map[string]string{"employeeId": key, "accountEnabled": "true"})})
			continue
		default:
			u := identity.User{ID: "id" + key, Attrs: identity.AttrsOf(map[string]string{})}
			for k, v := range d.Attrs.All() {
				u.Attrs.Set(k, v)
			}
			if i%100 < 10 {
				u.Attrs.Set("department", "Old")
			}
			if i > 0 {
				u.ManagerID = "id" + d.ManagerKey
			}
			users = append(users, u)
		}
		desired = append(desired, d)
	}
	// As a read and a mapping make them: each side's attributes in the
	// slots of one layout, sealed.
	names := []string{"employeeId", "displayName", "userPrincipalName", "mailNickname", "department", "jobTitle", "accountEnabled"}
	records, read := identity.NewLayout(names), identity.NewLayout(append(names, "employeeHireDate", "employeeLeaveDateTime"))
	for i := range desired {
		desired[i].Attrs = packed(records, desired[i].Attrs)
	}
	for i := range users {
		users[i].Attrs = packed(read, users[i].Attrs)
	}
	in := input(desired, users)
	in.Attrs = specs("displayName", "userPrincipalName", "mailNickname", "department", "jobTitle", "accountEnabled", "employeeId")
	in.Policy = Policy{Leavers: "disable"}
	return in
}

// packed returns a's attributes in l's slots, sealed.
func packed(l *identity.Layout, a identity.Attrs) identity.Attrs {
	p := identity.NewAttrs(l)
	for k, v := range a.All() {
		p.Set(k, v)
	}
	p.Seal()
	return p
}

func BenchmarkCompute(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		in := benchInput(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Compute(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkComputeLifecycle adds what the lifecycle reads to benchInput:
// hire dates (1% future joiners), leave dates (1% leaving), one group per
// department plus an all-staff group with their current members, and
// restorable deleted users.
func BenchmarkComputeLifecycle(b *testing.B) {
	for _, n := range []int{100_000} {
		in := benchInput(n)
		in.Attrs = append(in.Attrs, specs("employeeHireDate", "employeeLeaveDateTime")...)
		in.Groups = map[string]Entitlement{"all staff": {ID: "g-all", Name: "All staff"}}
		in.Members = map[string]map[string]bool{"g-all": {}}
		for d := 0; d < 40; d++ {
			name := fmt.Sprintf("Dept %d", d)
			id := fmt.Sprintf("g-%d", d)
			in.Groups[strings.ToLower(name)] = Entitlement{ID: id, Name: name}
			in.Members[id] = map[string]bool{}
		}
		for i := range in.Desired {
			d := &in.Desired[i]
			d.Attrs.Set("employeeHireDate", "2020-01-01T00:00:00Z")
			if i%100 == 50 {
				d.Attrs.Set("employeeHireDate", testNow.AddDate(0, 0, 3).Format(time.RFC3339))
			}
			if i%100 == 60 {
				d.Attrs.Set("employeeLeaveDateTime", testNow.AddDate(0, 0, 20).Format(time.RFC3339))
			}
			d.More().Groups = []string{"All staff", d.Attrs.Get("department")}
		}
		for _, u := range in.Users {
			in.Members["g-all"][u.ID] = true
			if dept := u.Attrs.Get("department"); dept != "" && dept != "Old" {
				in.Members[in.Groups[strings.ToLower(dept)].ID][u.ID] = true
			}
			u.Attrs.Set("employeeHireDate", "2020-01-01T00:00:00Z")
		}
		for i := 0; i < n/100; i++ {
			in.Deleted = append(in.Deleted, identity.DeletedUser{User: identity.User{ID: fmt.Sprintf("del%d", i),
				Attrs: identity.AttrsOf(map[string]string{"employeeId": fmt.Sprintf("x%07d", i), "userPrincipalName": fmt.Sprintf("x%d@contoso.com", i)})},
				DeletedAt: testNow.AddDate(0, 0, -5)})
		}
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Compute(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
