package xlsx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"

	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/source"
	"github.com/xuri/excelize/v2"
)

// maxQuoted is how much of a value or formula an error message quotes.
const maxQuoted = 60

// reader streams the rows of one worksheet.
type reader struct {
	wb        *workbook
	sheet     sheetInfo
	sst       *sst
	file      string
	headerRow int // as configured: 0 means the first row holding a value
	emit      func(*identity.Record) error
	ctx       context.Context

	sc     *scanner
	inData bool // inside sheetData
	done   bool // past sheetData
	inRow  bool // inside a row
	inCell bool // inside a cell

	// The header, once read.
	names  []string
	hdr    *identity.Header
	hdrRow int // the row it was read from; 0 until then
	first  int // the column of the first name, 0-based

	count int               // records emitted
	vals  []string          // block the Values of records are cut from
	recs  []identity.Record // block records are taken from
	row   int               // current row number
	skip  bool              // the current row is above the header row
	cells []cellValue       // the non-empty values of the current row
	cell  cellState         // the current cell
	last  int               // column of the previous cell in the row, 0-based
}

// cellValue is a non-empty value of the current row.
type cellValue struct {
	col int // 0-based
	v   string
}

// cellState is what has been read of the current cell.
type cellState struct {
	col     int  // 0-based
	style   int  // index into the workbook's cell styles
	typ     byte // the t attribute: 'n' number, 's' shared string, 'i' inline string, 'S' formula string, 'b', 'e', 'd'
	hasV    bool // has a v element
	formula bool // has an f element
	inIS    bool // inside is
	rph     int  // depth in phonetic runs
	capture *[]byte
	v, f    []byte
	is      []byte
}

// run reads the worksheet to its end.
func (r *reader) run() error {
	zf := r.wb.part(r.sheet.part)
	rc, err := zf.Open()
	if err != nil {
		return r.damaged(err)
	}
	defer rc.Close()
	r.sc = newScanner(rc)
	if err := r.rows(); err != nil {
		return err
	}
	// Read to the end, so that the archive checks the part's checksum.
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return r.damaged(err)
	}
	if r.hdr == nil {
		return r.noHeader()
	}
	return nil
}

// rows reads the tokens of the worksheet up to the end of its sheetData.
func (r *reader) rows() error {
	for !r.done {
		kind, err := r.sc.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return r.damaged(err)
		}
		switch kind {
		case tokStart:
			err = r.startTag()
		case tokEnd:
			err = r.endTag()
		case tokText:
			if c := &r.cell; c.capture != nil {
				*c.capture = append(*c.capture, r.sc.text...)
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// startTag handles the start of an element: sheetData, then the rows, the
// cells and what is inside the cells. A row inside a row, or a cell outside
// one, is an error.
func (r *reader) startTag() error {
	name := r.sc.name
	if !r.inData {
		if string(name) == "sheetData" {
			r.inData = true
		}
		return nil
	}
	switch string(name) {
	case "row":
		if r.inRow {
			return r.corrupt("a row inside a row")
		}
		r.inRow = true
		return r.startRow()
	case "c":
		if !r.inRow || r.inCell {
			return r.corrupt("a cell outside a row")
		}
		r.inCell = true
		return r.startCell()
	}
	r.cell.startChild(name, r.inCell)
	return nil
}

// endTag handles the end of an element: a cell or a row is converted once
// read, and the end of sheetData ends the rows.
func (r *reader) endTag() error {
	if !r.inData {
		return nil
	}
	switch string(r.sc.name) {
	case "c":
		if r.inCell {
			r.inCell = false
			return r.endCell()
		}
	case "row":
		if r.inRow {
			r.inRow = false
			return r.endRow()
		}
	case "sheetData":
		r.inData, r.done = false, true
	default:
		r.cell.endChild(r.sc.name)
	}
	return nil
}

// startChild handles the start of an element inside a cell (inCell) or
// elsewhere in sheetData: it starts capturing the text of the value (v),
// the formula (f), or the text (t) of an inline string (is) that is not in
// a phonetic run (rPh).
func (c *cellState) startChild(name []byte, inCell bool) {
	switch string(name) {
	case "v":
		if inCell && !c.inIS {
			c.hasV, c.capture = true, &c.v
		}
	case "f":
		if inCell && !c.inIS {
			c.formula, c.capture = true, &c.f
		}
	case "is":
		if inCell {
			c.inIS = true
		}
	case "rPh":
		if c.inIS {
			c.rph++
		}
	case "t":
		if c.inIS && c.rph == 0 {
			c.capture = &c.is
		}
	}
}

// endChild handles the end of an element inside a cell: it stops capturing
// text, or leaves a phonetic run or the inline string.
func (c *cellState) endChild(name []byte) {
	switch string(name) {
	case "v", "f", "t":
		c.capture = nil
	case "rPh":
		if c.inIS {
			c.rph--
		}
	case "is":
		c.inIS = false
	}
}

// startRow begins a row.
func (r *reader) startRow() error {
	if err := r.ctx.Err(); err != nil {
		return fmt.Errorf("read %s: %w", r.file, err)
	}
	n := r.row + 1
	for i := range r.sc.attrs {
		a := &r.sc.attrs[i]
		if string(a.name) == "r" {
			v := r.sc.attrValue(a)
			num, ok := atoi(v)
			if !ok || num < 1 || num > maxRows {
				return r.corrupt(fmt.Sprintf("a row has the number %q", clip(string(v))))
			}
			if num <= r.row {
				return r.corrupt(fmt.Sprintf("row %d comes after row %d", num, r.row))
			}
			n = num
		}
	}
	if n > maxRows {
		return r.corrupt("more rows than a worksheet can have")
	}
	r.row, r.last, r.cells = n, -1, r.cells[:0]
	if r.hdr == nil && r.headerRow > 0 && n > r.headerRow {
		// The header row has no cells at all.
		return r.noHeader()
	}
	r.skip = r.hdr == nil && n < r.headerRow
	return nil
}

// startCell begins a cell.
func (r *reader) startCell() error {
	c := &r.cell
	*c = cellState{col: r.last + 1, typ: 'n', v: c.v[:0], f: c.f[:0], is: c.is[:0]}
	for i := range r.sc.attrs {
		a := &r.sc.attrs[i]
		switch string(a.name) {
		case "r":
			v := r.sc.attrValue(a)
			col, row, ok := parseRef(v)
			if !ok || row != r.row {
				return r.corrupt(fmt.Sprintf("a cell of row %d has the reference %q", r.row, clip(string(v))))
			}
			c.col = col
		case "s":
			v := r.sc.attrValue(a)
			s, ok := atoi(v)
			if !ok {
				return r.corrupt(fmt.Sprintf("a cell of row %d has the style %q", r.row, clip(string(v))))
			}
			c.style = s
		case "t":
			switch v := r.sc.attrValue(a); string(v) {
			case "n", "":
				c.typ = 'n'
			case "s":
				c.typ = 's'
			case "inlineStr":
				c.typ = 'i'
			case "str":
				c.typ = 'S'
			case "b":
				c.typ = 'b'
			case "e":
				c.typ = 'e'
			case "d":
				c.typ = 'd'
			default:
				return r.corrupt(fmt.Sprintf("a cell of row %d has the unknown type %q", r.row, clip(string(v))))
			}
		}
	}
	if c.col <= r.last || c.col >= maxCols {
		return r.corrupt(fmt.Sprintf("the cells of row %d are out of order", r.row))
	}
	r.last = c.col
	return nil
}

// endCell converts the value of the cell just read and keeps it if it is
// not empty.
func (r *reader) endCell() error {
	if r.skip {
		return nil
	}
	v, msg, hint := r.value(&r.cell)
	if msg != "" {
		return r.cellError(r.cell.col, msg, hint)
	}
	if v != "" {
		r.cells = append(r.cells, cellValue{r.cell.col, v})
	}
	return nil
}

// value converts a cell to its text. On failure msg says what is wrong.
func (r *reader) value(c *cellState) (v, msg, hint string) {
	if c.formula && (!c.hasV || (len(c.v) == 0 && c.typ != 'S')) {
		f := strings.TrimSpace(string(c.f))
		what := "the formula"
		if f != "" {
			what = fmt.Sprintf("the formula =%s", clip(f))
		}
		return "", what + " has no value saved with it",
			"hrsync reads the values Excel saved with the workbook; files written by programs often have none: open the file in Excel and save it, so its formulas are calculated, or replace the formulas with values"
	}
	if !c.hasV && c.typ != 'i' {
		return "", "", ""
	}
	switch c.typ {
	case 's':
		i, ok := atoi(c.v)
		s, found := r.sst.get(i)
		if !ok || !found {
			return "", fmt.Sprintf("the cell refers to shared string %q, which the workbook does not have", clip(strings.TrimSpace(string(c.v)))), hintResave
		}
		return trim(s), "", ""
	case 'i':
		return trimText(c.is), "", ""
	case 'S':
		return trimText(c.v), "", ""
	case 'b':
		switch string(bytes.TrimSpace(c.v)) {
		case "1", "true", "TRUE":
			return "true", "", ""
		case "0", "false", "FALSE":
			return "false", "", ""
		case "":
			return "", "", ""
		}
		return "", fmt.Sprintf("the boolean cell holds %q, which is neither TRUE nor FALSE", clip(string(c.v))), hintResave
	case 'e':
		e := bytes.TrimSpace(c.v)
		if len(e) == 0 {
			return "", "", ""
		}
		return "", fmt.Sprintf("the cell holds the Excel error %s", clip(string(e))),
			"correct the formula or the value in the workbook, or clear the cell"
	case 'd':
		s := string(bytes.TrimSpace(c.v))
		if s == "" {
			return "", "", ""
		}
		iso, ok := isoValue(s)
		if !ok {
			return "", fmt.Sprintf("the date cell holds %q, which is not an ISO 8601 date", clip(s)), hintResave
		}
		return iso, "", ""
	}
	b := bytes.TrimSpace(c.v)
	if len(b) == 0 {
		return "", "", ""
	}
	nf := numFmt{}
	switch {
	case c.style < len(r.wb.formats):
		nf = r.wb.formats[c.style]
	case c.style > 0:
		return "", fmt.Sprintf("the cell has the style %d, which the workbook does not define", c.style), hintResave
	}
	if nf == (numFmt{}) && plainInt(b) {
		return string(b), "", ""
	}
	f, ok := parseNumber(b)
	if !ok {
		return "", fmt.Sprintf("the number cell holds %q, which is not a number", clip(string(b))), hintResave
	}
	if nf.kind != fmtNumber {
		v, msg := dateValue(f, nf.kind, r.wb.date1904)
		if msg != "" {
			return "", msg, "correct the date in the workbook, or clear the cell if there is none (a lookup formula gives 0 for a blank: make it give \"\")"
		}
		return v, "", ""
	}
	return formatNumber(f, nf.pad), "", ""
}

// plainInt reports whether b is a whole number written as formatNumber
// writes it: digits, at most 15, after an optional minus sign, without
// leading zeros, not "-0".
func plainInt(b []byte) bool {
	if len(b) > 0 && b[0] == '-' {
		b = b[1:]
		if len(b) == 1 && b[0] == '0' {
			return false
		}
	}
	if len(b) == 0 || len(b) > 15 || (b[0] == '0' && len(b) > 1) {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// parseNumber parses the decimal number of a number cell. Only the decimal
// notation SpreadsheetML uses is accepted (not "NaN", "Inf" or hexadecimal).
func parseNumber(b []byte) (float64, bool) {
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9', c == '.', c == '-', c == '+', c == 'e', c == 'E':
		default:
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(string(b), 64)
	return f, err == nil
}

// trim drops the spaces and tabs around a text value.
func trim(s string) string { return strings.Trim(s, " \t") }

// trimText decodes and trims a text value.
func trimText(b []byte) string { return trim(string(unescape(b))) }

// endRow handles the row just read: the header, a record, or neither.
func (r *reader) endRow() error {
	if r.skip {
		return nil
	}
	if r.hdr == nil {
		if len(r.cells) == 0 {
			if r.headerRow == r.row {
				return r.noHeader()
			}
			return nil
		}
		return r.header()
	}
	if len(r.cells) == 0 {
		return nil
	}
	m := len(r.names)
	if r.cells[0].col < r.first || r.cells[len(r.cells)-1].col >= r.first+m {
		for _, c := range r.cells {
			if c.col < r.first || c.col >= r.first+m {
				return r.noName(c)
			}
		}
	}
	if len(r.vals) < m {
		r.vals = make([]string, m*max(1, min(512, 8192/m)))
	}
	if len(r.recs) == 0 {
		r.recs = make([]identity.Record, 256)
	}
	// Records and their Values are carved from blocks, saving two
	// allocations a record; Values has no spare capacity, so appending to
	// it never touches the next record.
	rec := &r.recs[0]
	r.recs = r.recs[1:]
	vals := r.vals[:m:m]
	r.vals = r.vals[m:]
	for _, c := range r.cells {
		vals[c.col-r.first] = c.v
	}
	rec.Header = r.hdr
	rec.Values = vals
	rec.Prov = identity.Provenance{File: r.file, Sheet: r.sheet.name, Row: r.row}
	r.count++
	return r.emit(rec)
}

// header reads the column names from the current row. They run from the
// first named column to the last; an empty name between them is an error.
func (r *reader) header() error {
	r.hdrRow = r.row
	r.first = r.cells[0].col
	width := r.cells[len(r.cells)-1].col - r.first + 1
	names := make([]string, width)
	for _, c := range r.cells {
		names[c.col-r.first] = c.v
	}
	seen := make(map[string]int, width)
	for i, n := range names {
		col := r.first + i
		if n == "" {
			hint := "every column needs a name: name it in the header row, or delete the column"
			if m := r.mergeHint(col); m != "" {
				hint = m
			} else if r.headerRow == 0 {
				hint += "; if the column names are in a later row, set source.header_row to it"
			}
			return &source.Error{
				Prov:   r.prov(),
				Column: colName(col),
				Msg:    fmt.Sprintf("cell %s: empty column name in the header row", cellName(col, r.row)),
				Hint:   hint,
			}
		}
		key := strings.ToLower(n)
		if j, dup := seen[key]; dup {
			return &source.Error{
				Prov:   r.prov(),
				Column: n,
				Msg: fmt.Sprintf("cell %s: duplicate column name %q: cell %s is %q (names are compared without regard to case)",
					cellName(col, r.row), clip(n), cellName(r.first+j, r.row), clip(names[j])),
				Hint: "rename one of the columns so every name is unique",
			}
		}
		seen[key] = i
	}
	r.names = names
	r.hdr = identity.NewHeader(names)
	return nil
}

// noName reports a value in a column the header does not name.
func (r *reader) noName(c cellValue) error {
	hint := r.mergeHint(c.col)
	if hint == "" {
		hint = fmt.Sprintf("name column %s in row %d, the header row, or clear the cell", colName(c.col), r.hdrRow)
	}
	if r.headerRow == 0 {
		hint = fmt.Sprintf("row %d was taken for the header row, being the first that holds a value: if the column names are in another row, set source.header_row to it; otherwise, %s", r.hdrRow, hint)
	}
	return &source.Error{
		Prov:   r.prov(),
		Column: colName(c.col),
		Msg: fmt.Sprintf("cell %s: the value %q is in a column without a name: the header row %d names columns %s to %s",
			cellName(c.col, r.row), clip(c.v), r.hdrRow, colName(r.first), colName(r.first+len(r.names)-1)),
		Hint: hint,
	}
}

// noHeader reports a sheet without the header row.
func (r *reader) noHeader() error {
	var list []string
	for _, si := range r.wb.sheets {
		list = append(list, si.label())
	}
	if r.headerRow == 0 {
		return &source.Error{
			Prov: identity.Provenance{File: r.file, Sheet: r.sheet.name},
			Msg:  "the sheet is empty: no row holds a value, so there is no header row",
			Hint: "check source.sheet; the workbook has " + strings.Join(list, ", "),
		}
	}
	msg := fmt.Sprintf("row %d, the header row, is empty", r.headerRow)
	switch {
	case r.row == 0:
		msg = fmt.Sprintf("the sheet is empty: there is no header row %d", r.headerRow)
	case r.row < r.headerRow:
		msg = fmt.Sprintf("the sheet has no header row %d: its last row is %d", r.headerRow, r.row)
	}
	return &source.Error{
		Prov: identity.Provenance{File: r.file, Sheet: r.sheet.name, Row: r.headerRow},
		Msg:  msg,
		Hint: "set source.header_row to the row holding the column names, or to 0 for the first row that holds a value",
	}
}

// prov is the provenance of the current row.
func (r *reader) prov() identity.Provenance {
	return identity.Provenance{File: r.file, Sheet: r.sheet.name, Row: r.row}
}

// cellError reports a problem with a cell of the current row. The column is
// named by its header when it has one.
func (r *reader) cellError(col int, msg, hint string) error {
	column := colName(col)
	if r.hdr != nil && col >= r.first && col < r.first+len(r.names) {
		column = r.names[col-r.first]
	}
	return &source.Error{
		Prov:   r.prov(),
		Column: column,
		Msg:    fmt.Sprintf("cell %s: %s", cellName(col, r.row), msg),
		Hint:   hint,
	}
}

// corrupt reports worksheet XML that breaks the rules of SpreadsheetML.
func (r *reader) corrupt(what string) error {
	return &source.Error{
		Prov: r.prov(),
		Msg:  "the worksheet is damaged: " + what,
		Hint: hintResave,
	}
}

// damaged reports a worksheet that cannot be read. Errors reading the file
// itself are returned as they are.
func (r *reader) damaged(err error) error {
	var pe *fs.PathError
	var se *source.Error
	if errors.As(err, &pe) || errors.As(err, &se) {
		return err
	}
	return &source.Error{
		Prov: r.prov(),
		Msg:  fmt.Sprintf("the worksheet is damaged: cannot read %s: %v", r.sheet.part, err),
		Hint: hintResave,
	}
}

// mergeHint explains an empty header cell in column col by the merged
// cell that covers it, if there is one: it returns "" otherwise. Merged
// cells are listed after the rows, so this reads the rest of the worksheet:
// it is only used to explain an error, which ends the read anyway.
func (r *reader) mergeHint(col int) string {
	if r.sc == nil || r.hdrRow == 0 {
		return ""
	}
	for n := 0; ; n++ {
		if n%4096 == 0 && r.ctx.Err() != nil {
			return ""
		}
		kind, err := r.sc.next()
		if err != nil {
			return ""
		}
		if kind != tokStart || string(r.sc.name) != "mergeCell" {
			continue
		}
		for i := range r.sc.attrs {
			a := &r.sc.attrs[i]
			if string(a.name) != "ref" {
				continue
			}
			ref := string(r.sc.attrValue(a))
			from, to, found := strings.Cut(ref, ":")
			if !found {
				continue
			}
			c1, r1, ok1 := parseRef([]byte(from))
			c2, r2, ok2 := parseRef([]byte(to))
			if !ok1 || !ok2 || col < c1 || col > c2 || r.hdrRow < r1 || r.hdrRow > r2 {
				continue
			}
			what := "the merged cell " + strings.ToUpper(ref)
			if v := r.headerValue(c1); r1 == r.hdrRow && v != "" {
				what += fmt.Sprintf(" (%q)", clip(v))
			}
			return fmt.Sprintf("%s is part of %s, whose value names only its first column: unmerge it and name each column", cellName(col, r.hdrRow), what)
		}
	}
}

// headerValue is the value of column col in the header row, read or being
// read.
func (r *reader) headerValue(col int) string {
	if r.names != nil {
		if col >= r.first && col < r.first+len(r.names) {
			return r.names[col-r.first]
		}
		return ""
	}
	for _, c := range r.cells {
		if c.col == col {
			return c.v
		}
	}
	return ""
}

// parseRef parses an A1-style cell reference; col is 0-based.
func parseRef(s []byte) (col, row int, ok bool) {
	i := 0
	for i < len(s) {
		c := s[i] | 0x20
		if c < 'a' || c > 'z' {
			break
		}
		col = col*26 + int(c-'a'+1)
		if col > maxCols {
			return 0, 0, false
		}
		i++
	}
	if i == 0 || i == len(s) || len(s)-i > 7 {
		return 0, 0, false
	}
	for ; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, 0, false
		}
		row = row*10 + int(c-'0')
	}
	if row < 1 || row > maxRows {
		return 0, 0, false
	}
	return col - 1, row, true
}

// colName is the letter name of a 0-based column, e.g. "C".
func colName(col int) string {
	n, err := excelize.ColumnNumberToName(col + 1)
	if err != nil {
		return strconv.Itoa(col + 1)
	}
	return n
}

// cellName is the A1 name of a cell, e.g. "C7"; col is 0-based.
func cellName(col, row int) string {
	return colName(col) + strconv.Itoa(row)
}

// clip shortens s for quoting in a message.
func clip(s string) string {
	if len(s) <= maxQuoted {
		return s
	}
	cut := maxQuoted
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}
