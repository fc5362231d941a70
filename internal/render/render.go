// Package render turns plans and apply reports into what people and
// machines read: terraform-style text, the JSON plan document, and markdown
// for pull requests and tickets.
package render

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"

	"github.com/gocarina/gocsv"

	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/plan"
	"github.com/hrsync/hrsync/internal/report"
)

// CheckFormat reports an unknown plan format before any work is done.
func CheckFormat(format string) error {
	switch format {
	case "", "text", "json", "markdown", "md":
		return nil
	}
	return fmt.Errorf("unknown format %q; use text, json or markdown", format)
}

// Plan writes the plan in the named format.
func Plan(w io.Writer, p *plan.Plan, format string) error { return PlanStyle(w, p, format, Style{}) }

// PlanStyle writes the plan in the named format; the text format in a
// style (colour on a terminal).
func PlanStyle(w io.Writer, p *plan.Plan, format string, st Style) error {
	if err := CheckFormat(format); err != nil {
		return err
	}
	switch format {
	case "json":
		return plan.Encode(w, p)
	case "markdown", "md":
		return Markdown(w, p)
	}
	return TextStyle(w, p, st)
}

func symbol(action string) string {
	switch action {
	case plan.Create, plan.Restore:
		return "+"
	case plan.Disable, plan.Delete:
		return "-"
	}
	return "~"
}

// redactedText stands for a Redact-ed value; no real value can equal it
// (values never hold control characters).
const redactedText = "\x00redacted"

// shown hides a Redact-ed change's values.
func shown(c plan.Change) plan.Change {
	if c.Redacted {
		r := redactedText
		if c.Before != nil {
			c.Before = &r
		}
		if c.After != nil {
			c.After = &r
		}
	}
	return c
}

func quote(s *string, attr string) string {
	if s == nil {
		return "null"
	}
	if *s == redactedText {
		return "(redacted)"
	}
	if attr == "accountEnabled" {
		return *s
	}
	return strconv.Quote(*s)
}

// clean escapes control characters, so a value from HR or from Entra can
// never forge lines or terminal escapes in a plan a reviewer reads.
func clean(s string) string {
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			q := strconv.QuoteToGraphic(s)
			return q[1 : len(q)-1]
		}
	}
	return s
}

func who(a plan.Action) string {
	var parts []string
	if a.DisplayName != "" {
		parts = append(parts, clean(a.DisplayName))
	}
	if a.UserPrincipalName != "" {
		parts = append(parts, "<"+clean(a.UserPrincipalName)+">")
	}
	return strings.Join(parts, " ")
}

// capital starts s with a capital letter.
func capital(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	return string(unicode.ToUpper(r[0])) + string(r[1:])
}

// mustChange is what a plan says of a new user's password: Entra ID and
// Active Directory make the user change it at first sign-in; an LDAP
// directory does only if its password policy says so.
func mustChange(p *plan.Plan) string {
	if p.Target.Type == identity.TargetLDAP {
		return "; changed at first bind if the password policy says so"
	}
	return "; change at first sign-in"
}

// Text writes the terraform-style plan, plain.
func Text(w io.Writer, p *plan.Plan) error { return TextStyle(w, p, Style{}) }

// TextStyle writes the terraform-style plan in a style (colour on a
// terminal).
func TextStyle(w io.Writer, p *plan.Plan, st Style) error {
	ew := &errWriter{w: w, st: st}
	schema := p.Schema()
	if len(p.Actions) == 0 {
		color := colorGreen
		if len(p.Problems()) > 0 {
			color = colorRed
		}
		ew.cprintf(color, "%s\n", noChanges(p))
	} else {
		ew.printf("hrsync will perform the following actions:\n")
		for _, a := range p.Actions {
			textAction(ew, p, schema, a)
		}
	}
	if problems := p.Problems(); len(problems) > 0 {
		ew.printf("\n")
		ew.cprintf(colorRed+";"+styleBold, "Unresolved problems (%d): hrsync cannot bring these in line, however often it runs; fix the source, the mapping or the directory:\n", len(problems))
		textWarnings(ew, problems, colorRed)
	}
	if notes := p.Notes(); len(notes) > 0 {
		ew.printf("\n")
		ew.cprintf(colorYellow, "Notes (%d):\n", len(notes))
		textWarnings(ew, notes, colorYellow)
	}
	if !p.Applyable {
		ew.printf("\n")
		ew.cprintf(colorRed+";"+styleBold, "This plan is BLOCKED and cannot be applied:\n")
		for _, b := range p.Blocked {
			ew.cprintf(colorRed, "  x %s\n", b)
		}
	}
	ew.printf("\n")
	ew.cprintf(styleBold, "%s\n", SummaryLine(p))
	return ew.err
}

// textAction writes one action: its heading, then a line per change,
// session revocation, password, group and license.
func textAction(ew *errWriter, p *plan.Plan, schema *identity.Schema, a plan.Action) {
	ew.printf("\n  %s", ew.st.paint(symbolColor(symbol(a.Action)), symbol(a.Action)+" "+a.Action+" "+clean(a.Key)))
	if a.Lifecycle != "" {
		ew.printf("  %s", clean(a.Lifecycle))
	}
	if s := who(a); s != "" {
		ew.printf("  %s", s)
	}
	if a.Reason != "" {
		ew.printf("  (%s)", clean(a.Reason))
	}
	if a.Source != nil {
		ew.printf("  [%s]", clean(a.Source.String()))
	}
	ew.printf("\n")
	width := 0
	for _, c := range a.Changes {
		width = max(width, len(c.Attribute))
	}
	for _, c := range a.Changes {
		textChange(ew, schema, a.Action, shown(c), width)
	}
	if (a.Action == plan.Disable && schema.RevokesSessions) || a.Revoke {
		ew.cprintf(colorRed, "      then revokeSignInSessions (refresh tokens end now, not at expiry)\n")
	}
	if a.Action == plan.Create {
		ew.cprintf(colorGreen, "      + %-*s = (random, generated at apply, never shown%s)\n", width, "password", mustChange(p))
	}
	for _, g := range a.Groups {
		sym := map[string]string{plan.OpAdd: "+", plan.OpRemove: "-"}[g.Op]
		ew.cprintf(symbolColor(sym), "      %s group %s (%s)\n", sym, strconv.Quote(clean(g.Name)), clean(g.GroupID))
	}
	for _, l := range a.Licenses {
		sym := map[string]string{plan.OpAdd: "+", plan.OpRemove: "-"}[l.Op]
		ew.cprintf(symbolColor(sym), "      %s license %s (%s)\n", sym, clean(l.Name), clean(l.SkuID))
	}
}

// textChange writes one attribute change of an action, its name padded
// to width.
func textChange(ew *errWriter, schema *identity.Schema, action string, c plan.Change, width int) {
	switch {
	case action == plan.Create:
		ew.cprintf(colorGreen, "      + %-*s = %s\n", width, c.Attribute, quote(c.After, c.Attribute))
	case c.Before != nil && c.After != nil && *c.Before == *c.After && schema.WholeWith(c.Attribute) != nil:
		ew.cprintf(styleDim, "      = %-*s = %s (unchanged; resent because the directory writes %s whole)\n", width, c.Attribute, quote(c.After, c.Attribute), strings.Join(schema.WholeWith(c.Attribute), " and "))
	case c.After == nil:
		ew.cprintf(colorRed, "      - %-*s = %s -> null\n", width, c.Attribute, quote(c.Before, c.Attribute))
	case c.Before == nil:
		ew.cprintf(colorGreen, "      + %-*s = %s\n", width, c.Attribute, quote(c.After, c.Attribute))
	default:
		ew.cprintf(colorYellow, "      ~ %-*s = %s -> %s\n", width, c.Attribute, quote(c.Before, c.Attribute), quote(c.After, c.Attribute))
	}
}

// textWarnings writes one line per warning, its code in a colour.
func textWarnings(ew *errWriter, ws []plan.Warning, color string) {
	for _, wn := range ws {
		ew.printf("  %s", ew.st.paint(color, "! "+wn.Code))
		if wn.Key != "" {
			ew.printf(" %s", clean(wn.Key))
		}
		ew.printf(": %s", clean(wn.Message))
		if len(wn.Sources) == 1 && !strings.Contains(wn.Message, wn.Sources[0].String()) {
			ew.printf(" [%s]", clean(wn.Sources[0].String()))
		}
		ew.printf("\n")
	}
}

// noChanges is the line that opens a plan without actions. A plan with
// unresolved problems does not say the directory matches the source.
func noChanges(p *plan.Plan) string {
	name := p.Schema().Name
	problems := p.Problems()
	if len(problems) == 0 {
		return fmt.Sprintf("No changes. %s matches the source (%d managed users, %d unchanged).", capital(name), p.Summary.Managed, p.Summary.Unchanged)
	}
	return fmt.Sprintf("No changes, but %s (%s): see below. Otherwise %s matches the source (%d managed users, %d unchanged).",
		Count(len(problems), "unresolved problem", "unresolved problems"), ProblemList(problems, 3), name, p.Summary.Managed, p.Summary.Unchanged)
}

// ProblemList names up to max problems by code and key.
func ProblemList(ws []plan.Warning, max int) string {
	var parts []string
	for i, w := range ws {
		if i == max {
			parts = append(parts, fmt.Sprintf("and %d more", len(ws)-max))
			break
		}
		parts = append(parts, strings.TrimSpace(w.Code+" "+clean(w.Key)))
	}
	return strings.Join(parts, ", ")
}

// Count is n with the singular or plural noun.
func Count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// SummaryLine is the one-line summary that ends a plan.
func SummaryLine(p *plan.Plan) string {
	s := p.Summary
	var extra strings.Builder
	if s.Restore > 0 {
		fmt.Fprintf(&extra, ", %d to restore", s.Restore)
	}
	if n := s.GroupAdds + s.GroupRemoves; n > 0 {
		fmt.Fprintf(&extra, "; %d group memberships to add, %d to remove", s.GroupAdds, s.GroupRemoves)
	}
	if s.LicenseChanges > 0 {
		fmt.Fprintf(&extra, "; %d license changes", s.LicenseChanges)
	}
	if s.Mastered > 0 {
		fmt.Fprintf(&extra, "; %d users mastered in another directory left to it (see warnings)", s.Mastered)
	}
	pending := ""
	if s.Pending > 0 {
		pending = fmt.Sprintf(" %d future joiners wait for their pre-hire window.", s.Pending)
	}
	problems := len(p.Problems())
	return fmt.Sprintf("Plan: %d to create, %d to update, %d to enable, %d to disable, %d to delete%s. %d unchanged, %d skipped. %s, %s.%s",
		s.Create, s.Update, s.Enable, s.Disable, s.Delete, extra.String(), s.Unchanged, s.Skipped,
		Count(problems, "unresolved problem", "unresolved problems"), Count(len(p.Warnings)-problems, "note", "notes"), pending)
}

// Markdown writes the plan for a pull request or ticket comment.
func Markdown(w io.Writer, p *plan.Plan) error {
	ew := &errWriter{w: w}
	s := p.Summary
	ew.printf("## hrsync plan\n\n")
	if !p.Applyable {
		ew.printf("> **Blocked:** %s\n\n", mdText(strings.Join(p.Blocked, "; ")))
	}
	problems, notes := p.Problems(), p.Notes()
	if len(problems) > 0 {
		ew.printf("> **%s** (%s): see below.\n\n", capital(Count(len(problems), "unresolved problem", "unresolved problems")), mdText(ProblemList(problems, 3)))
	}
	ew.printf("| create | update | enable | disable | delete | unchanged | skipped | problems | notes |\n")
	ew.printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	ew.printf("| %d | %d | %d | %d | %d | %d | %d | %d | %d |\n\n", s.Create, s.Update, s.Enable, s.Disable, s.Delete, s.Unchanged, s.Skipped, len(problems), len(notes))
	tenant := ""
	if p.Target.TenantID != "" {
		tenant = ", tenant " + codeSpan(p.Target.TenantID, false)
	}
	ew.printf("Target %s (%s%s), source %s (%d records, %s), created %s.\n\n",
		codeSpan(p.Target.Endpoint, false), mdText(p.Target.Type), tenant, codeSpan(p.Inputs.Source.Path, false), p.Inputs.Source.Records,
		codeSpan(short(p.Inputs.Source.Digest), false), p.CreatedAt.Format("2006-01-02 15:04:05 MST"))
	if len(p.Actions) == 0 && len(problems) > 0 {
		ew.printf("No changes, but see the unresolved problems below.\n\n")
	} else if len(p.Actions) == 0 {
		ew.printf("No changes.\n\n")
	}
	for _, kind := range []string{plan.Create, plan.Restore, plan.Enable, plan.Update, plan.Disable, plan.Delete} {
		var acts []plan.Action
		for _, a := range p.Actions {
			if a.Action == kind {
				acts = append(acts, a)
			}
		}
		if len(acts) == 0 {
			continue
		}
		ew.printf("<details><summary><b>%s</b> (%d)</summary>\n\n", kind, len(acts))
		ew.printf("| key | user | attribute | before | after |\n|---|---|---|---|---|\n")
		for _, a := range acts {
			mdAction(ew, p, a)
		}
		ew.printf("\n</details>\n\n")
	}
	if len(problems) > 0 {
		ew.printf("### Unresolved problems (%d)\n\nhrsync cannot bring these in line, however often it runs; fix the source, the mapping or the directory.\n\n", len(problems))
		mdWarnings(ew, problems)
	}
	if len(notes) > 0 {
		ew.printf("### Notes (%d)\n\n", len(notes))
		mdWarnings(ew, notes)
	}
	ew.printf("%s\n", SummaryLine(p))
	return ew.err
}

// mdAction writes an action's rows of the table: one per change, group
// and license (the key and the user on the first).
func mdAction(ew *errWriter, p *plan.Plan, a plan.Action) {
	label := mdText(who(a))
	if a.Lifecycle != "" {
		label = mdText(a.Lifecycle) + " · " + label
	}
	if a.Reason != "" {
		label += " — " + mdText(a.Reason)
	}
	if (a.Action == plan.Disable && p.Schema().RevokesSessions) || a.Revoke {
		label += " — then its sign-in sessions are revoked"
	}
	row := 0
	line := func(attr, before, after string) {
		key, user := "", ""
		if row == 0 {
			key, user = codeSpan(a.Key, true), label
		}
		row++
		ew.printf("| %s | %s | %s | %s | %s |\n", key, user, attr, before, after)
	}
	for _, c := range a.Changes {
		c = shown(c)
		line(c.Attribute, mdValue(c.Before, c.Attribute), mdValue(c.After, c.Attribute))
	}
	entitlement := func(kind, name, op string) {
		if op == plan.OpAdd {
			line(kind, "—", codeSpan(name, true))
		} else {
			line(kind, codeSpan(name, true), "—")
		}
	}
	for _, g := range a.Groups {
		entitlement("group", g.Name, g.Op)
	}
	for _, l := range a.Licenses {
		entitlement("license", l.Name, l.Op)
	}
	if a.Action == plan.Delete {
		line("account", "`exists`", "soft-deleted (restorable for 30 days)")
	}
	if row == 0 {
		line("—", "—", "—")
	}
}

// mdWarnings writes a list item per warning.
func mdWarnings(ew *errWriter, ws []plan.Warning) {
	for _, wn := range ws {
		ew.printf("- `%s`", wn.Code)
		if wn.Key != "" {
			ew.printf(" %s", codeSpan(wn.Key, false))
		}
		ew.printf(": %s\n", mdText(wn.Message))
	}
	ew.printf("\n")
}

func mdValue(s *string, attr string) string {
	if s == nil {
		return "—"
	}
	return codeSpan(quote(s, attr), true)
}

// mdText is s as markdown text that shows exactly s (its control
// characters escaped, see clean): every character markdown gives a meaning
// to is backslash-escaped, which CommonMark allows for any ASCII
// punctuation, | included (a table cell's separator).
func mdText(s string) string {
	var b strings.Builder
	for _, r := range clean(s) {
		if strings.ContainsRune("\\`*_[]<>&|~!#", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// codeSpan is s as a CommonMark code span that shows exactly s: code spans
// decode no entity and no backslash escape, so nothing in s is replaced.
// The fence is one backtick longer than the longest run of backticks in
// s, and a space goes inside each end when s starts or ends with a
// backtick, or starts and ends with a space (a code span strips one space
// from each side of such content). In a table cell (cell), every | is
// written \|: GFM splits a row into cells at unescaped pipes before it
// parses code spans, and takes \| as a | even inside them. Control
// characters are escaped (see clean).
func codeSpan(s string, cell bool) string {
	s = clean(s)
	if s == "" {
		return "` `"
	}
	run, longest := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	pad := ""
	if s[0] == '`' || s[len(s)-1] == '`' || (s[0] == ' ' && s[len(s)-1] == ' ' && strings.Trim(s, " ") != "") {
		pad = " "
	}
	if cell {
		s = strings.ReplaceAll(s, "|", `\|`)
	}
	return fence + pad + s + pad + fence
}

func short(digest string) string {
	if i := strings.IndexByte(digest, ':'); i >= 0 && len(digest) > i+13 {
		return digest[:i+13]
	}
	return digest
}

type errWriter struct {
	w   io.Writer
	st  Style
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}

// reportRow is one CSV row of an apply report.
type reportRow struct {
	Key        string `csv:"key"`
	ID         string `csv:"user_id"`
	Action     string `csv:"action"`
	Attributes string `csv:"attributes_changed"`
	Status     string `csv:"status"`
	ErrorCode  string `csv:"error_code"`
	Error      string `csv:"error_message"`
	Note       string `csv:"note"`
}

// ReportCSV writes an apply report as CSV, one row per action. Every cell
// goes through CSVCell: keys, error messages and notes carry HR's and
// Graph's text, which must not become a spreadsheet formula.
func ReportCSV(w io.Writer, r *report.Report) error {
	rows := make([]reportRow, len(r.Results))
	for i, res := range r.Results {
		rows[i] = reportRow{Key: CSVCell(res.Key), ID: CSVCell(res.ID), Action: CSVCell(res.Action),
			Attributes: CSVCell(strings.Join(res.Attributes, ";")), Status: CSVCell(res.Status),
			ErrorCode: CSVCell(res.ErrorCode), Error: CSVCell(res.Error), Note: CSVCell(res.Note)}
	}
	return gocsv.Marshal(rows, w)
}

// CSVCell makes s a CSV cell that spreadsheets show as text rather than
// run as a formula (CSV injection): a cell starting with =, +, -, @, a tab
// or a carriage return gets a single quote in front, as OWASP advises;
// Excel and LibreOffice then show the rest as text (Excel hides the
// quote). Any other cell is returned as it is; quoting of commas, quotes
// and line breaks is the CSV writer's. A program reading such a cell back
// drops the leading quote.
func CSVCell(s string) string {
	if IsFormulaStart(s) {
		return "'" + s
	}
	return s
}

// IsFormulaStart reports whether a spreadsheet may take a cell holding s
// for a formula: s starts with =, +, -, @, a tab or a carriage return.
func IsFormulaStart(s string) bool {
	return s != "" && strings.IndexByte("=+-@\t\r", s[0]) >= 0
}
