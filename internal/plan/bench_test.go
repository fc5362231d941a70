package plan

import (
	"fmt"
	"testing"

	"github.com/hrsync/hrsync/internal/identity"
)

// benchInput is a workforce of n with managers, against a tenant that holds
// all of them with 5% movers, 2% leavers and 3% joiners.
func benchInput(n int) Input {
	desired := make([]identity.Desired, 0, n)
	users := make([]identity.User, 0, n)
	for i := 0; i < n; i++ {
		key := fmt.Sprintf("%07d", i)
		d := identity.Desired{Key: key, Prov: identity.Provenance{File: "hr.csv", Line: i + 2}, Attrs: identity.Attrs{
			"employeeId": key, "displayName": "Worker " + key, "userPrincipalName": "w" + key + "@contoso.com",
			"mailNickname": "w" + key, "department": fmt.Sprintf("Dept %d", i%40), "jobTitle": "Engineer", "accountEnabled": "true",
		}}
		if i > 0 {
			d.ManagerKey = fmt.Sprintf("%07d", i/10)
		}
		switch {
		case i%100 < 3: // joiner: not in the tenant
		case i%100 < 5: // leaver: in the tenant, not in HR
			users = append(users, identity.User{ID: "id" + key, Attrs: identity.Attrs{"employeeId": key, "accountEnabled": "true"}})
			continue
		default:
			u := identity.User{ID: "id" + key, Attrs: identity.Attrs{}}
			for k, v := range d.Attrs {
				u.Attrs[k] = v
			}
			if i%100 < 10 {
				u.Attrs["department"] = "Old"
			}
			if i > 0 {
				u.ManagerID = "id" + d.ManagerKey
			}
			users = append(users, u)
		}
		desired = append(desired, d)
	}
	in := input(desired, users)
	in.Attrs = specs("displayName", "userPrincipalName", "mailNickname", "department", "jobTitle", "accountEnabled", "employeeId")
	in.Policy = Policy{Leavers: "disable"}
	return in
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
