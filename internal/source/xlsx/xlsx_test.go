package xlsx

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/source"
	"github.com/xuri/excelize/v2"
)

// row is an expected record: its row number and values.
type row struct {
	row  int
	vals []string
}

// must fails the test on an error from building a workbook.
func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// save writes an excelize workbook to workers.xlsx in a fresh directory.
func save(t testing.TB, f *excelize.File) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "workers.xlsx")
	must(t, f.SaveAs(path))
	must(t, f.Close())
	return path
}

// newBook returns an excelize workbook whose first sheet is named sheet and
// holds rows from A1 down. A string value is text; other values are written
// as excelize writes them.
func newBook(t testing.TB, sheet string, rows ...[]any) *excelize.File {
	t.Helper()
	f := excelize.NewFile()
	must(t, f.SetSheetName("Sheet1", sheet))
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		must(t, f.SetSheetRow(sheet, cell, &r))
	}
	return f
}

// styled sets a cell's value and gives it a number format: a built-in id
// (int) or a custom code (string).
func styled(t testing.TB, f *excelize.File, sheet, cell string, v any, format any) {
	t.Helper()
	st := &excelize.Style{}
	switch x := format.(type) {
	case int:
		st.NumFmt = x
	case string:
		st.CustomNumFmt = &x
	}
	id, err := f.NewStyle(st)
	must(t, err)
	must(t, f.SetCellValue(sheet, cell, v))
	must(t, f.SetCellStyle(sheet, cell, cell, id))
}

// readAll reads the workbook at path and collects its records.
func readAll(t testing.TB, path string, o Options) ([]*identity.Record, source.Summary, error) {
	t.Helper()
	o.Path, o.Display = path, "workers.xlsx"
	s, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	var recs []*identity.Record
	sum, err := s.Read(context.Background(), func(r *identity.Record) error {
		recs = append(recs, r)
		return nil
	})
	return recs, sum, err
}

func TestRead(t *testing.T) {
	tests := []struct {
		name   string
		build  func(t *testing.T) string
		opts   Options
		sheet  string
		header []string
		rows   []row
	}{
		{
			name: "text, numbers and booleans",
			build: func(t *testing.T) string {
				// Computed at run time: Go's constant arithmetic is exact.
				add, mul := func(a, b float64) float64 { return a + b }, func(a, b float64) float64 { return a * b }
				f := newBook(t, "Workers",
					[]any{"ID", "Int", "Float", "Noise", "Big", "Huge", "Small", "Neg", "Active", "Text", "Spaces"},
					[]any{"00123", 1234, 1234.0, add(0.1, 0.2), 1e20, 123456789012345678, 1.5e-7, -42.5, true, "TRUE", "  José Müller \t"},
					[]any{"EMP-7", 0, 1.0 / 3, mul(100, 1.1), 1234567890123456, math.Copysign(0, -1), 12.5, -1e-3, false, "1.0", "a  b"},
				)
				return save(t, f)
			},
			sheet:  "Workers",
			header: []string{"ID", "Int", "Float", "Noise", "Big", "Huge", "Small", "Neg", "Active", "Text", "Spaces"},
			rows: []row{
				{2, []string{"00123", "1234", "1234", "0.3", "100000000000000000000", "123456789012346000", "0.00000015", "-42.5", "true", "TRUE", "José Müller"}},
				{3, []string{"EMP-7", "0", "0.333333333333333", "110", "1234567890123460", "0", "12.5", "-0.001", "false", "1.0", "a  b"}},
			},
		},
		{
			name: "dates whatever their display format",
			build: func(t *testing.T) string {
				f := newBook(t, "Workers", []any{
					"mdy", "d-mmm-yy", "mmm-yy", "m/d/yy h:mm", "dd.mm.yyyy", "iso", "long", "ampm", "time", "mm:ss",
					"elapsed", "sci", "money", "zip", "pct", "textfmt", "go time",
				})
				s := "Workers"
				styled(t, f, s, "A2", 45352, 14)
				styled(t, f, s, "B2", 45352, 15)
				styled(t, f, s, "C2", 45352, 17)
				styled(t, f, s, "D2", 45352.354166666664, 22)
				styled(t, f, s, "E2", 45352, "dd.mm.yyyy")
				styled(t, f, s, "F2", 45352, "yyyy-mm-dd")
				styled(t, f, s, "G2", 45352, "[$-409]mmmm d, yyyy;@")
				styled(t, f, s, "H2", 45352.75, "d/m/yy h:mm AM/PM")
				styled(t, f, s, "I2", 0.3541666666666667, "hh:mm")
				styled(t, f, s, "J2", 0.0005787037037037037, "mm:ss")
				styled(t, f, s, "K2", 1.5, "[h]:mm")
				styled(t, f, s, "L2", 12345.678, "0.00E+00")
				styled(t, f, s, "M2", 1234.5, `"$"#,##0.00`)
				styled(t, f, s, "N2", 123, "00000")
				styled(t, f, s, "O2", 0.25, "0.0%")
				styled(t, f, s, "P2", 42, 49)
				must(t, f.SetCellValue(s, "Q2", time.Date(2024, 3, 5, 8, 30, 0, 0, time.UTC)))
				return save(t, f)
			},
			sheet: "Workers",
			header: []string{"mdy", "d-mmm-yy", "mmm-yy", "m/d/yy h:mm", "dd.mm.yyyy", "iso", "long", "ampm", "time", "mm:ss",
				"elapsed", "sci", "money", "zip", "pct", "textfmt", "go time"},
			rows: []row{{2, []string{
				"2024-03-01", "2024-03-01", "2024-03-01", "2024-03-01T08:30:00Z", "2024-03-01", "2024-03-01", "2024-03-01",
				"2024-03-01T18:00:00Z", "08:30:00", "00:00:50", "1.5", "12345.678", "1234.5", "00123", "0.25", "42", "2024-03-05T08:30:00Z",
			}}},
		},
		{
			name: "date serials and Excel's 1900 leap year",
			build: func(t *testing.T) string {
				f := newBook(t, "Workers", []any{"Serial", "Date"})
				for i, v := range []float64{1, 59, 61, 36526, 45352, 2958465, 45352.99999999, 45352.999999999} {
					n := fmt.Sprint(i + 2)
					must(t, f.SetCellValue("Workers", "A"+n, v))
					styled(t, f, "Workers", "B"+n, v, "yyyy-mm-dd")
				}
				return save(t, f)
			},
			header: []string{"Serial", "Date"},
			rows: []row{
				{2, []string{"1", "1900-01-01"}},
				{3, []string{"59", "1900-02-28"}},
				{4, []string{"61", "1900-03-01"}},
				{5, []string{"36526", "2000-01-01"}},
				{6, []string{"45352", "2024-03-01"}},
				{7, []string{"2958465", "9999-12-31"}},
				{8, []string{"45352.99999999", "2024-03-01"}},
				{9, []string{"45352.999999999", "2024-03-02"}},
			},
		},
		{
			name: "1904 date system",
			build: func(t *testing.T) string {
				f := newBook(t, "Workers", []any{"Hired", "At", "Zero"})
				yes := true
				must(t, f.SetWorkbookProps(&excelize.WorkbookPropsOptions{Date1904: &yes}))
				styled(t, f, "Workers", "A2", 43890, 14)
				styled(t, f, "Workers", "B2", 43890.5, 22)
				styled(t, f, "Workers", "C2", 0, "yyyy-mm-dd")
				return save(t, f)
			},
			header: []string{"Hired", "At", "Zero"},
			rows:   []row{{2, []string{"2024-03-01", "2024-03-01T12:00:00Z", "1904-01-01"}}},
		},
		{
			name: "sheet by name, without regard to case",
			build: func(t *testing.T) string {
				f := newBook(t, "Summary", []any{"x"}, []any{"y"})
				_, err := f.NewSheet("Workers")
				must(t, err)
				must(t, f.SetSheetRow("Workers", "A1", &[]any{"ID"}))
				must(t, f.SetSheetRow("Workers", "A2", &[]any{"7"}))
				return save(t, f)
			},
			opts:   Options{Sheet: "WORKERS"},
			sheet:  "Workers",
			header: []string{"ID"},
			rows:   []row{{2, []string{"7"}}},
		},
		{
			name: "sheet by position, hidden sheets count",
			build: func(t *testing.T) string {
				f := newBook(t, "Lookups", []any{"x"}, []any{"y"})
				must(t, f.SetSheetRow("Lookups", "A1", &[]any{"x"}))
				_, err := f.NewSheet("Workers")
				must(t, err)
				must(t, f.SetSheetRow("Workers", "A1", &[]any{"ID"}))
				must(t, f.SetSheetRow("Workers", "A2", &[]any{"8"}))
				must(t, f.SetSheetVisible("Lookups", false))
				return save(t, f)
			},
			opts:   Options{Sheet: "2"},
			sheet:  "Workers",
			header: []string{"ID"},
			rows:   []row{{2, []string{"8"}}},
		},
		{
			name: "a sheet named like a position is found by its name",
			build: func(t *testing.T) string {
				f := newBook(t, "2", []any{"Wrong"}, []any{"a"})
				_, err := f.NewSheet("1")
				must(t, err)
				must(t, f.SetSheetRow("1", "A1", &[]any{"Right"}))
				must(t, f.SetSheetRow("1", "A2", &[]any{"b"}))
				return save(t, f)
			},
			opts:   Options{Sheet: "1"},
			sheet:  "1",
			header: []string{"Right"},
			rows:   []row{{2, []string{"b"}}},
		},
		{
			name: "header row 3 under a merged title",
			build: func(t *testing.T) string {
				f := newBook(t, "Workers",
					[]any{"Workers report, March 2024"},
					[]any{},
					[]any{"ID", "Name", "Dept"},
					[]any{"001", "Ann", "HR"},
					[]any{},
					[]any{"002", "Bob"},
				)
				must(t, f.MergeCell("Workers", "A1", "C1"))
				return save(t, f)
			},
			opts:   Options{HeaderRow: 3},
			header: []string{"ID", "Name", "Dept"},
			rows:   []row{{4, []string{"001", "Ann", "HR"}}, {6, []string{"002", "Bob", ""}}},
		},
		{
			name: "default header: the first row holding a value, from its first named column",
			build: func(t *testing.T) string {
				f := excelize.NewFile()
				must(t, f.SetSheetRow("Sheet1", "B3", &[]any{"ID", "Name"}))
				must(t, f.SetSheetRow("Sheet1", "B4", &[]any{"1", "Ann"}))
				id, _ := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
				must(t, f.SetCellStyle("Sheet1", "A1", "D2", id))
				return save(t, f)
			},
			sheet:  "Sheet1",
			header: []string{"ID", "Name"},
			rows:   []row{{4, []string{"1", "Ann"}}},
		},
		{
			name: "empty rows, empty cells and styled empty columns are ignored",
			build: func(t *testing.T) string {
				f := newBook(t, "Workers",
					[]any{"ID", "Name"},
					[]any{"1", "Ann"},
					[]any{" ", "\t"},
					[]any{},
					[]any{"", "Bob"},
				)
				id, _ := f.NewStyle(&excelize.Style{Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"FFFF00"}}})
				must(t, f.SetCellStyle("Workers", "A1", "F9", id))
				return save(t, f)
			},
			header: []string{"ID", "Name"},
			rows:   []row{{2, []string{"1", "Ann"}}, {5, []string{"", "Bob"}}},
		},
		{
			name: "merged data cells keep the value in the first cell",
			build: func(t *testing.T) string {
				f := newBook(t, "Workers",
					[]any{"ID", "Dept"},
					[]any{"1", "Sales"},
					[]any{"2"},
				)
				must(t, f.MergeCell("Workers", "B2", "B3"))
				return save(t, f)
			},
			header: []string{"ID", "Dept"},
			rows:   []row{{2, []string{"1", "Sales"}}, {3, []string{"2", ""}}},
		},
		{
			name: "formulas give their cached values; inline strings",
			build: func(t *testing.T) string {
				f := excelize.NewFile()
				sw, err := f.NewStreamWriter("Sheet1")
				must(t, err)
				must(t, sw.SetRow("A1", []any{"ID", "Double", "Label", "Flag"}))
				must(t, sw.SetRow("A2", []any{
					"00042",
					excelize.Cell{Formula: "A2*2", Value: 84},
					excelize.Cell{Formula: `"W-"&A2`, Value: "W-00042"},
					excelize.Cell{Formula: "A2>0", Value: true},
				}))
				must(t, sw.Flush())
				return save(t, f)
			},
			header: []string{"ID", "Double", "Label", "Flag"},
			rows:   []row{{2, []string{"00042", "84", "W-00042", "true"}}},
		},
		{
			name: "rich text, phonetic runs, escapes and entities",
			build: func(t *testing.T) string {
				b := &book{
					sst: []string{
						"<t>Name</t>", "<t>Note</t>", "<t>Kanji</t>", "<t>Mixed</t>",
						`<r><t>Jo</t></r><r><rPr><b/></rPr><t xml:space="preserve">sé </t></r><r><t>M.</t></r>`,
						`<t>line1_x000D_&#10;line2 _x005F_x0041_ &amp; &lt;ok&gt;</t>`,
						`<t>東京</t><rPh sb="0" eb="2"><t>トウキョウ</t></rPh><phoneticPr fontId="1"/>`,
					},
					sheets: []bookSheet{{name: "Workers", data: `<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c><c r="D1" t="s"><v>3</v></c></row>` +
						`<row r="2"><c r="A2" t="s"><v>4</v></c><c r="B2" t="s"><v>5</v></c><c r="C2" t="s"><v>6</v></c>` +
						`<c r="D2" t="inlineStr"><is><r><t>in</t></r><r><t>line</t></r></is></c></row>`}},
				}
				return b.file(t, "workers.xlsx")
			},
			header: []string{"Name", "Note", "Kanji", "Mixed"},
			rows:   []row{{2, []string{"José M.", "line1\r\nline2 _x0041_ & <ok>", "東京", "inline"}}},
		},
		{
			name: "cells without references, date cells, formula strings",
			build: func(t *testing.T) string {
				b := &book{
					xfs: []int{0, 14},
					sheets: []bookSheet{{name: "Workers", data: `<row><c t="inlineStr"><is><t>When</t></is></c><c t="inlineStr"><is><t>Serial</t></is></c><c r="C1" t="inlineStr"><is><t>Str</t></is></c></row>` +
						`<row><c t="d"><v>2024-03-01</v></c><c s="1"><v>45352</v></c><c t="str"><f>A1</f><v> x </v></c></row>` +
						`<row r="5"><c t="d"><v>2024-03-01T08:30:00Z</v></c><c r="C5" t="str"><f>""</f><v></v></c></row>`}},
				}
				return b.file(t, "workers.xlsx")
			},
			header: []string{"When", "Serial", "Str"},
			rows:   []row{{2, []string{"2024-03-01", "2024-03-01", "x"}}, {5, []string{"2024-03-01T08:30:00Z", "", ""}}},
		},
		{
			name: "Strict Open XML",
			build: func(t *testing.T) string {
				b := &book{
					strict: true,
					xfs:    []int{0, 14},
					sst:    []string{"<t>ID</t>", "<t>Hired</t>", "<t>00123</t>"},
					sheets: []bookSheet{{name: "Workers", data: `<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>` +
						`<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" s="1"><v>45352</v></c></row>`}},
				}
				return b.file(t, "workers.xlsx")
			},
			sheet:  "Workers",
			header: []string{"ID", "Hired"},
			rows:   []row{{2, []string{"00123", "2024-03-01"}}},
		},
		{
			name: "parts at unusual paths, prefixed elements",
			build: func(t *testing.T) string {
				const ns = `xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"`
				const rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
				return writeBytes(t, zipOf(t, map[string]string{
					"[Content_Types].xml": `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`,
					"_rels/.rels":         `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="r1" Type="` + rel + `officeDocument" Target="/Book/main.xml"/></Relationships>`,
					"Book/_rels/main.xml.rels": `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
						`<Relationship Id="a" Type="` + rel + `worksheet" Target="/Data/workers.xml"/>` +
						`<Relationship Id="b" Type="` + rel + `styles" Target="look/theStyles.xml"/>` +
						`<Relationship Id="c" Type="` + rel + `sharedStrings" Target="../Text/shared.xml"/></Relationships>`,
					"Book/main.xml":           `<x:workbook ` + ns + `><x:sheets><x:sheet name="Staff" sheetId="1" r:id="a"/></x:sheets></x:workbook>`,
					"Book/look/theStyles.xml": `<x:styleSheet ` + ns + `><x:numFmts count="1"><x:numFmt numFmtId="170" formatCode="dd/mm/yyyy"/></x:numFmts><x:cellXfs count="2"><x:xf numFmtId="0"/><x:xf numFmtId="170"/></x:cellXfs></x:styleSheet>`,
					"Text/shared.xml":         `<x:sst ` + ns + `><x:si><x:t>Name</x:t></x:si><x:si><x:t>Since</x:t></x:si><x:si><x:r><x:t>Ann</x:t></x:r></x:si></x:sst>`,
					"Data/workers.xml": `<x:worksheet ` + ns + `><x:sheetData><x:row r="1"><x:c r="A1" t="s"><x:v>0</x:v></x:c><x:c r="B1" t="s"><x:v>1</x:v></x:c></x:row>` +
						`<x:row r="2"><x:c r="A2" t="s"><x:v>2</x:v></x:c><x:c r="B2" s="1"><x:v>45352</x:v></x:c></x:row></x:sheetData></x:worksheet>`,
				}))
			},
			sheet:  "Staff",
			header: []string{"Name", "Since"},
			rows:   []row{{2, []string{"Ann", "2024-03-01"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, sum, err := readAll(t, tt.build(t), tt.opts)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if !reflect.DeepEqual(sum.Header, tt.header) {
				t.Errorf("header = %q, want %q", sum.Header, tt.header)
			}
			if sum.Records != len(tt.rows) || len(recs) != len(tt.rows) {
				t.Fatalf("Records = %d, emitted %d, want %d", sum.Records, len(recs), len(tt.rows))
			}
			for i, r := range recs {
				if r.Prov.Row != tt.rows[i].row || r.Prov.File != "workers.xlsx" || (tt.sheet != "" && r.Prov.Sheet != tt.sheet) {
					t.Errorf("record %d at %s, want row %d of sheet %q", i, r.Prov, tt.rows[i].row, tt.sheet)
				}
				if !reflect.DeepEqual(r.Values, tt.rows[i].vals) {
					t.Errorf("record %d =\n %q, want\n %q", i, r.Values, tt.rows[i].vals)
				}
				if r.Header != recs[0].Header || len(r.Values) != len(sum.Header) {
					t.Errorf("record %d has its own header or %d values", i, len(r.Values))
				}
			}
		})
	}
}
