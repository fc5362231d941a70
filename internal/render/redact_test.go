package render

import (
	"bytes"
	"strings"
	"testing"

	"github.com/hrsync/hrsync/internal/plan"
)

func TestRedactedValuesAreHidden(t *testing.T) {
	secret, old := "AB-123-SECRET", "AB-000-OLD"
	p := &plan.Plan{FormatVersion: plan.FormatVersion, Applyable: true, Actions: []plan.Action{
		{Action: plan.Create, Key: "1", Changes: []plan.Change{{Attribute: "employeeType", After: &secret, Redacted: true}}},
		{Action: plan.Update, Key: "2", ID: "u2", Changes: []plan.Change{{Attribute: "employeeType", Before: &old, After: &secret, Redacted: true}}},
	}}
	for _, format := range []string{"text", "markdown"} {
		var b bytes.Buffer
		if err := Plan(&b, p, format); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if strings.Contains(out, "SECRET") || strings.Contains(out, "OLD") || !strings.Contains(out, "(redacted)") {
			t.Errorf("%s shows a redacted value:\n%s", format, out)
		}
	}
}
