package expr

import "testing"

// upnExpr is the typical userPrincipalName mapping.
const upnExpr = `Append(ToLower(NormalizeDiacritics(StripSpaces(Join(".", [FirstName], [LastName])))), "@contoso.com")`

func BenchmarkEval(b *testing.B) {
	p := MustParse(upnExpr)
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

// BenchmarkEvalDiacritics is the same expression on names that need
// normalizing and space stripping.
func BenchmarkEvalDiacritics(b *testing.B) {
	p := MustParse(upnExpr)
	env := MapEnv{"FirstName": "José María", "LastName": "Müller-Łukasz"}
	if v, err := p.Eval(env); err != nil || v.String() != "josemaria.muller-lukasz@contoso.com" {
		b.Fatalf("Eval = %#v, %v", v, err)
	}
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
		if _, err := Parse(upnExpr); err != nil {
			b.Fatal(err)
		}
	}
}
