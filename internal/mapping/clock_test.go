package mapping

import (
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hrsync/hrsync/internal/identity"
)

// testNow is the plan clock of the tests: far from the real date, so a
// Now() that read the system clock would show.
var testNow = time.Date(2031, 7, 4, 9, 30, 15, 0, time.UTC)

// preHire is Microsoft's documented pattern (DateDiff, example 2) for
// enabling a pre-hire's account five days before the hire date.
const preHire = `Switch([Active], , "1", IIF(DateDiff("d", Now(), CDate([StatusHireDate])) > 5, "False", "True"), "0", "False")`

// stamp is a value that changes every second: the mapping every-run
// warnings are for.
const stamp = `FormatDateTime(Now(), , "M/d/yyyy h:mm:ss tt", "yyyyMMddHHmmss")`

func TestMapNowIsThePlanClock(t *testing.T) {
	m := mustParse(t, `match:
  source: '[Id]'
  target: employeeId
attributes:
  displayName: '[Name]'
  employeeHireDate: 'Now()'
  jobTitle: '`+stamp+`'
`)
	recs := []*identity.Record{
		record(2, "Id", "1", "Name", "Ann"),
		record(3, "Id", "2", "Name", "Bob"),
		record(4, "Id", "3", "Name", "Cem"),
	}
	tests := []struct {
		name      string
		now       time.Time
		wantDate  string
		wantStamp string
	}{
		{"whole seconds: exactly the clock", testNow, "2031-07-04T09:30:15Z", "20310704093015"},
		{"a later clock gives a later value", testNow.Add(26 * time.Hour), "2031-07-05T11:30:15Z", "20310705113015"},
		{"another zone is the same instant, in UTC", testNow.In(time.FixedZone("CEST", 2*3600)), "2031-07-04T09:30:15Z", "20310704093015"},
		{"fractions of a second are dropped, as Entra's Now()", testNow.Add(999 * time.Millisecond), "2031-07-04T09:30:15Z", "20310704093015"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var first []identity.Desired
			for _, rec := range recs {
				d, err := m.Map(rec, tt.now)
				if err != nil {
					t.Fatal(err)
				}
				if d.Attrs.Get("employeeHireDate") != tt.wantDate || d.Attrs.Get("jobTitle") != tt.wantStamp {
					t.Errorf("%v: employeeHireDate %q jobTitle %q, want %q %q", rec.Prov, d.Attrs.Get("employeeHireDate"), d.Attrs.Get("jobTitle"), tt.wantDate, tt.wantStamp)
				}
				first = append(first, d)
			}
			// A saved plan's values are re-derived with its created_at:
			// the same source and clock must give the very same result.
			for i, rec := range recs {
				d, err := m.Map(rec, tt.now)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(d, first[i]) {
					t.Errorf("%v mapped again: %+v, first %+v", rec.Prov, d, first[i])
				}
			}
		})
	}
}

func TestPreHireSwitchFollowsThePlanClock(t *testing.T) {
	m := mustParse(t, "match:\n  source: '[Id]'\n  target: employeeId\nattributes:\n  displayName: '[Id]'\n  accountEnabled: '"+preHire+"'\n")
	hire := time.Date(2031, 7, 20, 0, 0, 0, 0, time.UTC)
	// DateDiff("d") counts whole elapsed days: "> 5" holds while at least
	// six whole days remain, so the account turns on just after hire - 6 days.
	tests := []struct {
		name   string
		active string
		now    time.Time
		want   string
	}{
		{"ten days before the hire date", "1", hire.AddDate(0, 0, -10), "false"},
		{"six days and a second before", "1", hire.AddDate(0, 0, -6).Add(-time.Second), "false"},
		{"exactly six days before", "1", hire.AddDate(0, 0, -6), "false"},
		{"a second later, five whole days remain", "1", hire.AddDate(0, 0, -6).Add(time.Second), "true"},
		{"five days before the hire date", "1", hire.AddDate(0, 0, -5), "true"},
		{"on the hire date", "1", hire, "true"},
		{"a year after", "1", hire.AddDate(1, 0, 0), "true"},
		{"inactive, ten days before", "0", hire.AddDate(0, 0, -10), "false"},
		{"inactive, after the hire date", "0", hire.AddDate(0, 0, 3), "false"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := m.Map(record(2, "Id", "7", "Active", tt.active, "StatusHireDate", "2031-07-20"), tt.now)
			if err != nil {
				t.Fatal(err)
			}
			if got := d.Attrs.Get("accountEnabled"); got != tt.want {
				t.Errorf("accountEnabled at %s = %q, want %q", tt.now.Format(time.RFC3339), got, tt.want)
			}
		})
	}
}

func TestEveryRunWarning(t *testing.T) {
	const head = "match:\n  source: '[Id]'\n  target: employeeId\n"
	// Three records; hire dates chosen so that one pre-hire crosses the
	// five-day threshold between the plan's clock and a day later.
	crossing := testNow.AddDate(0, 0, 6).Add(12 * time.Hour).Format("2006-01-02T15:04:05Z")
	recs := []*identity.Record{
		record(2, "Id", "1", "Active", "1", "StatusHireDate", "2020-01-06", "Kind", "Temp"),
		record(3, "Id", "2", "Active", "1", "StatusHireDate", crossing, "Kind", "Temp"),
		record(4, "Id", "3", "Active", "0", "StatusHireDate", "2031-09-01", "Kind", "Staff"),
	}
	tests := []struct {
		name  string
		attrs string
		now   time.Time
		want  []string // substrings of the one warning; nil: no warning
	}{
		{"a date-time stamp", "  jobTitle: '" + stamp + "'\n", testNow,
			[]string{"m.yaml:5: jobTitle: changes every day for every record (3), so every run would update it", "hr.csv:2", `"20310704093015", "20310705093015", "20310706093015"`, "apply: on_create or when_empty"}},
		{"a date stamp, written with apply: always", "  jobTitle:\n    expression: 'FormatDateTime(Now(), , \"M/d/yyyy h:mm:ss tt\", \"yyyy-MM-dd\")'\n    apply: always\n", testNow,
			[]string{"m.yaml:6: jobTitle: changes every day for every record (3)"}},
		{"days since the hire date", "  officeLocation: 'DateDiff(\"d\", CDate([StatusHireDate]), Now())'\n", testNow,
			[]string{"m.yaml:5: officeLocation: changes every day for every record (3)"}},
		{"a stamp for some records only", "  jobTitle: 'Switch([Kind], \"fixed\", \"Temp\", " + stamp + ")'\n", testNow,
			[]string{"for 2 of 3 records", "hr.csv:2"}},
		{"redacted: no values shown", "  jobTitle: 'Redact(" + stamp + ")'\n", testNow,
			[]string{"for every record (3)", "at the plan's clock, a day and two days later)"}},
		{"the pre-hire pattern: a threshold, crossed by one record today", "  displayName: '[Id]'\n  accountEnabled: '" + preHire + "'\n", testNow, nil},
		{"a month stamp on the last day of a month changes once", "  jobTitle: 'FormatDateTime(Now(), , \"M/d/yyyy h:mm:ss tt\", \"yyyy-MM\")'\n", time.Date(2031, 7, 31, 23, 0, 0, 0, time.UTC), nil},
		{"a stamp applied on create", "  jobTitle:\n    expression: '" + stamp + "'\n    apply: on_create\n", testNow, nil},
		{"a stamp applied when empty", "  jobTitle:\n    expression: '" + stamp + "'\n    apply: when_empty\n", testNow, nil},
		{"no Now()", "  jobTitle: '[Kind]'\n", testNow, nil},
		{"fails for every record: not counted", "  jobTitle: 'Join(\"\", " + stamp + ", CDate([Kind]))'\n", testNow, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustParse(t, head+"attributes:\n"+tt.attrs)
			c := m.NewEveryRunCheck(tt.now)
			for _, r := range recs {
				c.Add(r)
			}
			ws := c.Warnings()
			if tt.want == nil {
				if len(ws) != 0 {
					t.Fatalf("warnings %v, want none", ws)
				}
				return
			}
			if len(ws) != 1 {
				t.Fatalf("warnings %v, want one", ws)
			}
			for _, s := range tt.want {
				if !strings.Contains(ws[0].String(), s) {
					t.Errorf("warning %q\ndoes not contain %q", ws[0], s)
				}
			}
		})
	}
}

func TestEveryRunWarningSkipsRecordsOutOfScope(t *testing.T) {
	m := mustParse(t, "match:\n  source: '[Id]'\n  target: employeeId\nscope: 'IIF([Kind]=\"Staff\", \"True\", \"False\")'\nattributes:\n  jobTitle: '"+stamp+"'\n")
	c := m.NewEveryRunCheck(testNow)
	c.Add(record(2, "Id", "1", "Kind", "Temp"))
	if ws := c.Warnings(); len(ws) != 0 {
		t.Fatalf("out of scope record counted: %v", ws)
	}
	c.Add(record(3, "Id", "2", "Kind", "Staff"))
	if ws := c.Warnings(); len(ws) != 1 || !strings.Contains(ws[0].Message, "for every record (1)") || !strings.Contains(ws[0].Message, "hr.csv:3") {
		t.Fatalf("warnings %v, want one for hr.csv:3", ws)
	}
}

func TestRandomValuesOnlyWhereTheyAreWrittenOnce(t *testing.T) {
	const head = "match:\n  source: '[Id]'\n  target: employeeId\n"
	tests := []struct {
		name     string
		src      string
		wantErr  string // "" = accepted
		attr     string
		volatile bool
	}{
		{"RandomString on create", head + "attributes:\n  jobTitle:\n    expression: 'RandomString(12, 2, 2, 2, 2)'\n    apply: on_create\n", "", "jobTitle", true},
		{"Guid when empty", head + "attributes:\n  officeLocation:\n    expression: 'Join(\"-\", \"desk\", Guid())'\n    apply: when_empty\n", "", "officeLocation", true},
		{"mailNickname is set on create only", head + "attributes:\n  mailNickname: 'Append(\"u\", RandomString(8, 8, 0, 0, 0))'\n", "", "mailNickname", true},
		{"Now is not random", head + "attributes:\n  jobTitle: '" + stamp + "'\n", "", "jobTitle", false},
		{"a plain field", head + "attributes:\n  jobTitle: '[T]'\n", "", "jobTitle", false},
		{"RandomString applied always (the default)", head + "attributes:\n  displayName: '[N]'\n  jobTitle: 'RandomString(12, 2, 2, 2, 2)'\n", "m.yaml:6: jobTitle: RandomString gives a new value on every evaluation, so with apply: always it would change the user on every run; it is allowed with apply: on_create (a value for new users only) or apply: when_empty (only while Entra ID holds none)", "", false},
		{"Guid applied always, written out", head + "attributes:\n  jobTitle:\n    expression: 'Join(\"-\", [T], Guid())'\n    apply: always\n", "m.yaml:6: jobTitle: Guid gives a new value on every evaluation, so with apply: always", "", false},
		{"the manager flows always", head + "attributes:\n  manager: 'Guid()'\n", "m.yaml:5: manager: Guid gives a new value on every evaluation", "", false},
		{"not in a match source", "match:\n  source: 'Append([Id], Guid())'\n  target: employeeId\nattributes:\n  displayName: '[N]'\n", "m.yaml:2: match.source: Guid gives a new value on every evaluation, so every plan would change it; it is allowed only in attributes with apply: on_create or when_empty", "", false},
		{"Now not in a match source", "match:\n  source: 'Append([Id], Now())'\n  target: employeeId\nattributes:\n  displayName: '[N]'\n", "m.yaml:2: match.source: only attribute expressions may call Now()", "", false},
		{"Now not in the scope", head + "scope: 'IIF(DateDiff(\"d\", Now(), CDate([H])) < 30, \"True\", \"False\")'\nattributes:\n  displayName: '[N]'\n", "m.yaml:4: scope: only attribute expressions may call Now()", "", false},
		{"RandomString not in a group rule", head + "attributes:\n  displayName: '[N]'\ngroups:\n  - source: 'RandomString(4, 0, 0, 0, 4)'\n    map:\n      abcd: Lucky\n", "m.yaml:7: groups: RandomString gives a new value on every evaluation", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse("m.yaml", []byte(tt.src), identity.EntraSchema())
			if tt.wantErr != "" {
				var me *Error
				if !errors.As(err, &me) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want a mapping error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range m.Attrs {
				if a.Spec.Name == tt.attr && a.Volatile != tt.volatile {
					t.Errorf("%s: Volatile = %v, want %v", a.Spec.Name, a.Volatile, tt.volatile)
				}
			}
		})
	}
}

func TestVolatileValuesAreMapped(t *testing.T) {
	m := mustParse(t, `match:
  source: '[Id]'
  target: employeeId
attributes:
  displayName: '[Id]'
  jobTitle:
    expression: 'RandomString(12, 2, 2, 2, 2)'
    apply: on_create
  officeLocation:
    expression: 'Guid()'
    apply: when_empty
`)
	rec := record(2, "Id", "1")
	a, err := m.Map(rec, testNow)
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.Map(rec, testNow)
	if err != nil {
		t.Fatal(err)
	}
	guid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	if len([]rune(a.Attrs.Get("jobTitle"))) != 12 || !guid.MatchString(a.Attrs.Get("officeLocation")) {
		t.Errorf("mapped %q %q", a.Attrs.Get("jobTitle"), a.Attrs.Get("officeLocation"))
	}
	if a.Attrs.Get("jobTitle") == b.Attrs.Get("jobTitle") || a.Attrs.Get("officeLocation") == b.Attrs.Get("officeLocation") {
		t.Errorf("a second evaluation gave the same random values: %v", a.Attrs)
	}
	tr := m.Explain(rec, testNow)
	for _, at := range tr.Attrs {
		if want := at.Name != "displayName"; at.Volatile != want {
			t.Errorf("explain %s: volatile %v", at.Name, at.Volatile)
		}
	}
}

func TestExplainUsesTheClock(t *testing.T) {
	m := mustParse(t, "match:\n  source: '[Id]'\n  target: employeeId\nattributes:\n  employeeHireDate: 'Now()'\n")
	tr := m.Explain(record(2, "Id", "1"), testNow)
	if len(tr.Attrs) != 1 || tr.Attrs[0].Value != "2031-07-04T09:30:15Z" || tr.Err != "" {
		t.Fatalf("trace %+v", tr)
	}
}

func TestDateValuesFromExpressions(t *testing.T) {
	m := mustParse(t, `match:
  source: '[Id]'
  target: employeeId
attributes:
  employeeHireDate: 'DateAdd("d", 7, CDate([Hire]))'
  jobTitle: 'Now()'
`)
	d, err := m.Map(record(2, "Id", "1", "Hire", "2031-03-01"), testNow)
	if err != nil {
		t.Fatal(err)
	}
	// A date attribute takes the date-time; a text attribute gets Entra's
	// rendering of it, as CStr(Now()) does.
	if d.Attrs.Get("employeeHireDate") != "2031-03-08T00:00:00Z" || d.Attrs.Get("jobTitle") != "7/4/2031 9:30:15 AM" {
		t.Errorf("attrs %v", d.Attrs)
	}
}
