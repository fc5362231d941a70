package expr

import "testing"

// benchMapping is a realistic mapping file's expressions: twelve Entra
// attributes from an HR export.
var benchMapping = []struct{ attr, expr, want string }{
	{"employeeId", `[WorkerID]`, "100234"},
	{"givenName", `[FirstName]`, "José María"},
	{"surname", `[LastName]`, "Müller-Łukasz"},
	{"displayName", `Join(" ", [FirstName], [LastName])`, "José María Müller-Łukasz"},
	{"userPrincipalName", `Append(ToLower(NormalizeDiacritics(StripSpaces(Join(".", [FirstName], [LastName])))), "@contoso.com")`, "josemaria.muller-lukasz@contoso.com"},
	{"mailNickname", `ToLower(NormalizeDiacritics(StripSpaces(Join(".", Left([FirstName], 1), [LastName]))))`, "j.muller-lukasz"},
	{"accountEnabled", `IIF([Status]="Active", "True", "False")`, "True"},
	{"usageLocation", `Switch([Country], [Country], "Germany", "DE", "France", "FR", "United Kingdom", "GB", "United States", "US", "Poland", "PL")`, "DE"},
	{"employeeHireDate", `FormatDateTime([HireDate], , "dd.MM.yyyy", "yyyy-MM-dd")`, "2021-03-01"},
	{"jobTitle", `PCase([JobTitle])`, "Senior Payroll Specialist"},
	{"department", `IgnoreFlowIfNullOrEmpty([Department])`, "Finance"},
	{"mobilePhone", `Replace([Mobile], , "[()\\s-]+", , "", , )`, "+4915112345678"},
}

var benchRecord = MapEnv{
	"WorkerID": "100234", "FirstName": "José María", "LastName": "Müller-Łukasz",
	"Status": "Active", "Country": "Germany", "HireDate": "01.03.2021",
	"JobTitle": "SENIOR PAYROLL SPECIALIST", "Department": "Finance",
	"Mobile": "+49 (151) 123-456 78",
}

// BenchmarkEval evaluates each expression of benchMapping against one
// record (sub-benchmarks per attribute), and all twelve together
// ("record"): ns/op of "record" × 500,000 is the evaluation cost of a
// 500k-record plan.
func BenchmarkEval(b *testing.B) {
	progs := make([]*Program, len(benchMapping))
	for i, m := range benchMapping {
		progs[i] = MustParse(m.expr)
		if v, err := progs[i].Eval(benchRecord); err != nil || v.String() != m.want {
			b.Fatalf("%s: Eval = %#v, %v; want %q", m.attr, v, err, m.want)
		}
	}
	b.Run("record", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, p := range progs {
				if _, err := p.Eval(benchRecord); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	for i, m := range benchMapping {
		p := progs[i]
		b.Run(m.attr, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Eval(benchRecord); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEvalASCII is the userPrincipalName expression on names that need
// no normalizing: the common case.
func BenchmarkEvalASCII(b *testing.B) {
	p := MustParse(benchMapping[4].expr)
	env := MapEnv{"FirstName": "John", "LastName": "Smith"}
	if v, err := p.Eval(env); err != nil || v.String() != "john.smith@contoso.com" {
		b.Fatalf("Eval = %#v, %v", v, err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Eval(env); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEvalCDate parses a Workday date, which CDate tries against its
// layouts in turn.
func BenchmarkEvalCDate(b *testing.B) {
	p := MustParse(`NumFromDate(CDate([d]))`)
	env := MapEnv{"d": "2020-03-16-07:00"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Eval(env); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(benchMapping[4].expr); err != nil {
			b.Fatal(err)
		}
	}
}
