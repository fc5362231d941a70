package render

import (
	"bytes"
	"html"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/hrsync/hrsync/internal/plan"

	"github.com/hrsync/hrsync/internal/testenv"
)

// tricky are values markdown would change: backticks (runs of them, at the
// ends), HTML, entities, pipes (escaped or not), emphasis, spaces at both
// ends.
var tricky = []string{
	"a`b", "``x``", "`edge`", "<script>alert(1)</script>", "&lt; is not <", "R&D | Labs", `back\|slash`, `ends with \`,
	" padded ", "*not bold* _nor italic_", "[a link](https://x)", "~~no strike~~",
}

func trickyPlan() *plan.Plan {
	p := samplePlan()
	p.Actions = p.Actions[1:2] // the update
	a := &p.Actions[0]
	a.Key = "k|1`"
	a.DisplayName = "Eve <eve@x> *bold* `code` | R&D"
	a.Changes = nil
	for _, v := range tricky {
		a.Changes = append(a.Changes, plan.Change{Attribute: "department", Before: s("x"), After: s(v)})
	}
	a.Groups = []plan.GroupChange{{Op: plan.OpAdd, GroupID: "g1", Name: "Sales | `EMEA` <all>"}}
	p.Warnings = []plan.Warning{{Code: plan.WarnUPNConflict, Key: "k|1`", Message: "cannot create: `x` <y> | z *w*"}}
	p.Summary = plan.Summary{Update: 1}
	return p
}

// Markdown shows exactly the values written, in code spans and in table
// cells: a golden file, and, where GitHub's own parser (cmark-gfm) is
// installed, the HTML it renders.
func TestMarkdownShowsValuesExactly(t *testing.T) {
	var buf bytes.Buffer
	if err := Markdown(&buf, trickyPlan()); err != nil {
		t.Fatal(err)
	}
	golden(t, "plan-tricky.md", buf.Bytes())

	cmark := testenv.Program(t, "cmark-gfm", "cmark-gfm")
	cmd := exec.Command(cmark, "-e", "table")
	cmd.Stdin = bytes.NewReader(buf.Bytes())
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?s)<code>(.*?)</code>`).FindAllStringSubmatch(string(out), -1) {
		codes[html.UnescapeString(m[1])] = true
	}
	for _, v := range tricky {
		if want := strconv.Quote(v); !codes[want] { // values are shown quoted, as in the text plan
			t.Errorf("no code span shows %q exactly; code spans: %q", want, keys(codes))
		}
	}
	for _, want := range []string{"k|1`", "Sales | `EMEA` <all>"} {
		if !codes[want] {
			t.Errorf("no code span shows %q exactly; code spans: %q", want, keys(codes))
		}
	}
	// Text: the table keeps its five columns, and the user's name shows as
	// it is.
	text := html.UnescapeString(regexp.MustCompile(`<[^>]+>`).ReplaceAllString(string(out), ""))
	for _, want := range []string{"Eve <eve@x> *bold* `code` | R&D", "cannot create: `x` <y> | z *w*"} {
		if !strings.Contains(text, want) {
			t.Errorf("the rendered plan lacks %q:\n%s", want, out)
		}
	}
	for _, row := range regexp.MustCompile(`(?s)<tr>(.*?)</tr>`).FindAllStringSubmatch(string(out), -1) {
		if n := strings.Count(row[1], "<td") + strings.Count(row[1], "<th"); n != 5 && n != 9 {
			t.Errorf("a table row has %d cells: %s", n, row[1])
		}
	}
}

func TestCodeSpan(t *testing.T) {
	tests := []struct {
		in   string
		cell bool
		want string
	}{
		{"plain", false, "`plain`"},
		{"a`b", false, "``a`b``"},
		{"``x``", false, "``` ``x`` ```"},
		{"`edge", false, "`` `edge ``"},
		{" padded ", false, "`  padded  `"},
		{"   ", false, "`   `"},
		{"", false, "` `"},
		{"a|b", false, "`a|b`"},
		{"a|b", true, "`a\\|b`"},
		{"<b>&amp;", false, "`<b>&amp;`"},
	}
	for _, tt := range tests {
		if got := codeSpan(tt.in, tt.cell); got != tt.want {
			t.Errorf("codeSpan(%q, %v) = %q, want %q", tt.in, tt.cell, got, tt.want)
		}
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestMarkdownEntitlementRows: a group or license added shows in the after
// column, one removed in the before column, each on a row of its own.
func TestMarkdownEntitlementRows(t *testing.T) {
	p := samplePlan()
	p.Actions = p.Actions[1:2] // the update
	a := &p.Actions[0]
	a.Groups = []plan.GroupChange{{Op: plan.OpAdd, GroupID: "g1", Name: "Sales"}, {Op: plan.OpRemove, GroupID: "g2", Name: "Old team"}}
	a.Licenses = []plan.LicenseChange{{Op: plan.OpAdd, SkuID: "s1", Name: "E3"}, {Op: plan.OpRemove, SkuID: "s2", Name: "E1"}}
	var b bytes.Buffer
	if err := Markdown(&b, p); err != nil {
		t.Fatal(err)
	}
	for _, row := range []string{
		"|  |  | group | — | `Sales` |\n",
		"|  |  | group | `Old team` | — |\n",
		"|  |  | license | — | `E3` |\n",
		"|  |  | license | `E1` | — |\n",
	} {
		if !strings.Contains(b.String(), row) {
			t.Errorf("no row %q in:\n%s", row, b.String())
		}
	}
}
