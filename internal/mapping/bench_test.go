package mapping

import (
	"fmt"
	"testing"

	"github.com/hrsync/hrsync/internal/identity"
)

// BenchmarkMap maps records through the example mapping (12 attributes,
// a scope filter and a second match rule): per-record cost times 500k is
// the mapping's share of a 500k-worker plan.
func BenchmarkMap(b *testing.B) {
	m := mustParseB(b, `match:
  - source: '[WorkerID]'
    target: employeeId
  - source: '[Email]'
    target: userPrincipalName
scope:
  - {field: WorkerStatus, operator: NOT EQUALS, value: Terminated}
attributes:
  displayName: 'Join(" ", [FirstName], [LastName])'
  givenName: '[FirstName]'
  surname: '[LastName]'
  mailNickname: 'ToLower(NormalizeDiacritics(StripSpaces(Join(".", [FirstName], [LastName]))))'
  userPrincipalName: 'SelectUniqueValue(Append(ToLower(NormalizeDiacritics(StripSpaces(Join(".", [FirstName], [LastName])))), "@contoso.com"), Append(ToLower(NormalizeDiacritics(StripSpaces(Join(".", [FirstName], [LastName], [WorkerID])))), "@contoso.com"))'
  department: '[Department]'
  jobTitle: '[JobTitle]'
  companyName: '[Company]'
  usageLocation: 'Switch([CountryCode], [CountryCode], "UK", "GB")'
  employeeHireDate: '[HireDate]'
  accountEnabled: 'IIF([WorkerStatus]="Active", "True", "False")'
  manager: '[ManagerID]'
`)
	names := []string{"WorkerID", "WorkerStatus", "FirstName", "LastName", "Department", "JobTitle", "ManagerID", "HireDate", "Company", "CountryCode", "Email"}
	h := identity.NewHeader(names)
	recs := make([]*identity.Record, 1000)
	for i := range recs {
		recs[i] = &identity.Record{Header: h, Prov: identity.Provenance{File: "hr.csv", Line: i + 2}, Values: []string{
			fmt.Sprint(100000 + i), "Active", "José", fmt.Sprintf("García %d", i), "Engineering", "Engineer", "100000", "2021-03-04", "Contoso", "GB", ""}}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := m.Map(recs[i%len(recs)], testNow); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)*500000/1e9, "s/500k")
}

func mustParseB(b *testing.B, src string) *Mapping {
	b.Helper()
	m, err := Parse("m.yaml", []byte(src), identity.EntraSchema())
	if err != nil {
		b.Fatal(err)
	}
	return m
}
