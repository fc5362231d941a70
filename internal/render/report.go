package render

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/hrsync/hrsync/internal/report"
)

// ReportOptions shape the text report of an apply.
type ReportOptions struct {
	// Examples is how many keys a group of identical outcomes lists
	// (0: 5).
	Examples int
	// Groups is how many groups are shown at most (0: 20).
	Groups int
	// Full names the file that lists every action (--report); "" when
	// none was asked for.
	Full string
	// Style colours the report on a terminal.
	Style Style
}

// outcome is a group of results with the same action, status and reason.
type outcome struct {
	status, action string
	// reason is the shared reason (the error, or a done action's note);
	// code groups Graph errors of one code whose messages differ.
	reason, code string
	results      []report.Result
}

// Report writes an apply report as text for a terminal or a log: identical
// outcomes grouped ("30,159 creates partly done: stopped (interrupt
// signal received) before setting its manager reference"), a few keys per
// group, and a last line counting done, partly done, failed, refused and
// not started. The report file (--report) lists every action.
func Report(w io.Writer, r *report.Report, o ReportOptions) error {
	if o.Examples <= 0 {
		o.Examples = 5
	}
	if o.Groups <= 0 {
		o.Groups = 20
	}
	ew := &errWriter{w: w, st: o.Style}
	groups := groupOutcomes(r.Results)
	cut := false
	for i, g := range groups {
		if i == o.Groups {
			ew.printf("  ... and %s more kinds of outcome\n", thousands(len(groups)-i))
			cut = true
			break
		}
		cut = writeOutcome(ew, g, o.Examples) || cut
	}
	if cut {
		if o.Full != "" {
			ew.printf("  (every action and its outcome: %s)\n", clean(o.Full))
		} else {
			ew.printf("  (apply --report FILE lists every action and its outcome)\n")
		}
	}
	ew.cprintf(styleBold, "%s\n", ReportLine(r))
	return ew.err
}

// ReportLine is the last line of an apply report.
func ReportLine(r *report.Report) string {
	head := "Apply complete"
	if r.Stopped != "" {
		head = "Apply " + r.Stopped
	}
	return fmt.Sprintf("%s: %s (%s).", head, ReportCounts(r), r.FinishedAt.Sub(r.StartedAt).Round(time.Millisecond))
}

// ReportCounts counts the actions by outcome: done, partly done, failed,
// refused as stale, not started.
func ReportCounts(r *report.Report) string {
	return fmt.Sprintf("%s done, %s partly done, %s failed, %s refused as stale, %s not started",
		thousands(r.Done), thousands(r.Partial), thousands(r.Failed), thousands(r.Refused), thousands(r.NotStarted))
}

// statusOrder lists the statuses as the report shows them: what needs
// attention first.
var statusOrder = []string{report.StatusFailed, report.StatusPartial, report.StatusRefused, report.StatusNotStarted, report.StatusDone}

// groupOutcomes groups the results worth a line: every one that is not
// done, and done ones with a note. Graph errors group by their code.
func groupOutcomes(results []report.Result) []*outcome {
	byKey := map[string]*outcome{}
	var order []*outcome
	for _, res := range results {
		reason, code := res.Error, ""
		switch {
		case res.Status == report.StatusDone && res.Note == "":
			continue
		case res.Status == report.StatusDone:
			reason = res.Note
		case res.ErrorCode != "":
			code = res.ErrorCode
		}
		k := res.Status + "\x00" + res.Action + "\x00" + code
		if code == "" {
			k += "\x00" + reason
		}
		g := byKey[k]
		if g == nil {
			g = &outcome{status: res.Status, action: res.Action, reason: reason, code: code}
			byKey[k] = g
			order = append(order, g)
		} else if g.reason != reason {
			g.reason = "" // one code, several messages
		}
		g.results = append(g.results, res)
	}
	var out []*outcome
	for _, st := range statusOrder {
		for _, g := range order {
			if g.status == st {
				out = append(out, g)
			}
		}
	}
	return out
}

// writeOutcome writes one group; it reports whether it left results out.
func writeOutcome(ew *errWriter, g *outcome, examples int) bool {
	mark, color := "x", colorRed
	switch g.status {
	case report.StatusDone:
		mark, color = "~", colorGreen
	case report.StatusRefused, report.StatusNotStarted:
		color = colorYellow
	}
	rs := g.results
	if len(rs) == 1 {
		res := rs[0]
		ew.cprintf(color, "  %s %s %s %s: %s\n", mark, res.Action, clean(res.Key), statusWords(g.status), clean(cmpOr(g.reason, res.Error)))
		return false
	}
	head := fmt.Sprintf("  %s %s %s %s", mark, thousands(len(rs)), plural(g.action), statusWords(g.status))
	if g.code != "" {
		head += " (" + clean(g.code) + ")"
	}
	if g.reason != "" {
		// One reason: the keys, a few of them.
		ew.cprintf(color, "%s: %s\n", head, clean(g.reason))
		var keys []string
		for _, res := range rs[:min(len(rs), examples)] {
			keys = append(keys, clean(res.Key))
		}
		more := ""
		if len(rs) > examples {
			more = fmt.Sprintf(" and %s more", thousands(len(rs)-examples))
		}
		ew.printf("      %s%s\n", strings.Join(keys, ", "), more)
		return len(rs) > examples
	}
	// One error code, messages that differ: a few, each with its key.
	ew.cprintf(color, "%s, e.g.:\n", head)
	for _, res := range rs[:min(len(rs), examples)] {
		ew.printf("      %s: %s\n", clean(res.Key), clean(res.Error))
	}
	if len(rs) > examples {
		ew.printf("      and %s more\n", thousands(len(rs)-examples))
	}
	return len(rs) > examples
}

// statusWords says a status for people.
func statusWords(status string) string {
	switch status {
	case report.StatusPartial:
		return "partly done"
	case report.StatusRefused:
		return "refused as stale"
	case report.StatusNotStarted:
		return "not started"
	}
	return status
}

// plural is an action's plural: creates, updates, ...
func plural(action string) string { return action + "s" }

// thousands writes n with comma separators: 30,159.
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
