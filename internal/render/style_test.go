package render

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hrsync/hrsync/internal/report"
)

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// Colour marks up the plain text and nothing else: without its escapes it
// is the golden, colourless text.
func TestColorIsThePlainTextPainted(t *testing.T) {
	blocked := samplePlan()
	blocked.Applyable, blocked.Blocked = false, []string{"12 leavers exceed policy.max_leavers (10)"}
	plans := map[string]struct {
		render func(st Style, b *bytes.Buffer) error
		want   []string
	}{
		"plan": {func(st Style, b *bytes.Buffer) error { return TextStyle(b, blocked, st) }, []string{
			"\x1b[32m+ create 1004\x1b[0m", "\x1b[33m~ update 1002\x1b[0m", "\x1b[31m- disable 1009\x1b[0m",
			"\x1b[33m~ department = \"Sales\" -> \"R&D | Labs\"\x1b[0m", "\x1b[31m- jobTitle   = \"Engineer\" -> null\x1b[0m",
			"\x1b[31;1mUnresolved problems (1)", "\x1b[31m! duplicate_key\x1b[0m", "\x1b[33m! manager_not_found\x1b[0m",
			"\x1b[31;1mThis plan is BLOCKED", "\x1b[1mPlan: 1 to create"}},
		"report": {func(st Style, b *bytes.Buffer) error {
			r := &report.Report{StartedAt: time.Unix(0, 0), FinishedAt: time.Unix(2, 0), Done: 1, Failed: 1, Results: []report.Result{
				{Action: "create", Key: "1", Status: report.StatusDone, Note: "initial password: set"},
				{Action: "update", Key: "3", Status: report.StatusFailed, Error: "gone"}}}
			return Report(b, r, ReportOptions{Style: st})
		}, []string{"\x1b[31mx update 3 failed: gone\x1b[0m", "\x1b[32m~ create 1 done: initial password: set\x1b[0m", "\x1b[1mApply complete"}},
	}
	for name, tt := range plans {
		t.Run(name, func(t *testing.T) {
			var plain, colour bytes.Buffer
			if err := tt.render(Style{}, &plain); err != nil {
				t.Fatal(err)
			}
			if err := tt.render(Style{Color: true}, &colour); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(plain.String(), "\x1b") {
				t.Errorf("plain text has escapes:\n%q", plain.String())
			}
			if got := ansi.ReplaceAllString(colour.String(), ""); got != plain.String() {
				t.Errorf("colour without its escapes differs from plain:\n%s\n---\n%s", got, plain.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(colour.String(), w) {
					t.Errorf("coloured output lacks %q:\n%q", w, colour.String())
				}
			}
		})
	}
}
