package xlsx

import (
	"archive/zip"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hrsync/hrsync/internal/source"
	"github.com/xuri/excelize/v2"
)

// wantErr describes an expected *source.Error.
type wantErr struct {
	sheet    string
	row      int
	column   string
	contains []string // substrings of Error()
}

// writeBytes writes data to workers.xlsx in a fresh directory.
func writeBytes(t testing.TB, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "workers.xlsx")
	must(t, os.WriteFile(path, data, 0o600))
	return path
}

// zipOf returns a ZIP archive of the named parts.
func zipOf(t testing.TB, parts map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, s := range parts {
		w, err := zw.Create(name)
		must(t, err)
		_, err = w.Write([]byte(s))
		must(t, err)
	}
	must(t, zw.Close())
	return buf.Bytes()
}

// ole returns the start of an OLE compound file whose directory names the
// given streams.
func oleFile(names ...string) []byte {
	b := append([]byte{}, oleMagic...)
	b = append(b, make([]byte, 504)...)
	for _, n := range names {
		entry := make([]byte, 128)
		for i := 0; i < len(n); i++ {
			entry[2*i] = n[i]
		}
		b = append(b, entry...)
	}
	return b
}

// sheetXML is a one-sheet book with the given sheetData content.
func sheetXML(data string) *book {
	return &book{sheets: []bookSheet{{name: "Workers", data: data}}}
}

// hdr is a header row of inline strings.
func hdr(names ...string) string {
	var b strings.Builder
	b.WriteString(`<row r="1">`)
	for i, n := range names {
		b.WriteString(`<c r="` + cellName(i, 1) + `" t="inlineStr"><is><t>` + n + `</t></is></c>`)
	}
	b.WriteString(`</row>`)
	return b.String()
}

func TestReadErrors(t *testing.T) {
	withDate := func(v any) func(t *testing.T) string {
		return func(t *testing.T) string {
			f := newBook(t, "Workers", []any{"ID", "Hired"}, []any{"1"})
			styled(t, f, "Workers", "B2", v, 14)
			return save(t, f)
		}
	}
	tests := []struct {
		name  string
		build func(t *testing.T) string
		opts  Options
		want  wantErr
	}{
		{
			name: "empty column name",
			build: func(t *testing.T) string {
				return save(t, newBook(t, "Workers", []any{"ID", "Name", "", "Dept"}, []any{"1"}))
			},
			want: wantErr{"Workers", 1, "C", []string{"workers.xlsx[Workers] row 1: column C: cell C1: empty column name in the header row (every column needs a name"}},
		},
		{
			name: "merged header cell",
			build: func(t *testing.T) string {
				f := newBook(t, "Workers", []any{"ID", "Address", "", "", "Dept"}, []any{"1", "Main St", "12", "Springfield", "HR"})
				must(t, f.MergeCell("Workers", "B1", "D1"))
				return save(t, f)
			},
			want: wantErr{"Workers", 1, "C", []string{"cell C1: empty column name", `C1 is part of the merged cell B1:D1 ("Address"), whose value names only its first column: unmerge it and name each column`}},
		},
		{
			name: "merged header cell at the end",
			build: func(t *testing.T) string {
				f := newBook(t, "Workers", []any{"ID", "Phone"}, []any{"1", "555", "556"})
				must(t, f.MergeCell("Workers", "B1", "C1"))
				return save(t, f)
			},
			want: wantErr{"Workers", 2, "C", []string{`cell C2: the value "556" is in a column without a name: the header row 1 names columns A to B`, `C1 is part of the merged cell B1:C1 ("Phone")`}},
		},
		{
			name:  "duplicate column name",
			build: func(t *testing.T) string { return save(t, newBook(t, "Workers", []any{"Email", "Name", "email"})) },
			want:  wantErr{"Workers", 1, "email", []string{`cell C1: duplicate column name "email": cell A1 is "Email"`, "rename"}},
		},
		{
			name: "value in a column without a name",
			build: func(t *testing.T) string {
				return save(t, newBook(t, "Workers", []any{"ID", "Name"}, []any{"1", "Ann"}, []any{"2", "Bob", "x"}))
			},
			want: wantErr{"Workers", 3, "C", []string{`cell C3: the value "x" is in a column without a name: the header row 1 names columns A to B`, "source.header_row"}},
		},
		{
			name: "value left of the header",
			build: func(t *testing.T) string {
				f := excelize.NewFile()
				must(t, f.SetSheetRow("Sheet1", "B1", &[]any{"ID"}))
				must(t, f.SetSheetRow("Sheet1", "A2", &[]any{"x", "1"}))
				return save(t, f)
			},
			want: wantErr{"Sheet1", 2, "A", []string{`cell A2: the value "x" is in a column without a name: the header row 1 names columns B to B`}},
		},
		{
			name: "title row taken for the header",
			build: func(t *testing.T) string {
				return save(t, newBook(t, "Workers", []any{"Workers report"}, []any{}, []any{"ID", "Name"}, []any{"1", "Ann"}))
			},
			want: wantErr{"Workers", 3, "B", []string{`cell B3: the value "Name" is in a column without a name`, "set source.header_row"}},
		},
		{
			name: "formula without a cached value",
			build: func(t *testing.T) string {
				f := newBook(t, "Workers", []any{"ID", "Double"}, []any{"1"})
				must(t, f.SetCellFormula("Workers", "B2", "A2*2"))
				return save(t, f)
			},
			want: wantErr{"Workers", 2, "Double", []string{"workers.xlsx[Workers] row 2: column Double: cell B2: the formula =A2*2 has no value saved with it", "open the file in Excel and save it"}},
		},
		{
			name: "Excel error value",
			build: func(t *testing.T) string {
				return sheetXML(hdr("ID", "Mgr")+`<row r="2"><c r="A2"><v>1</v></c><c r="B2" t="e"><f>VLOOKUP(A2,X!A:B,2,0)</f><v>#N/A</v></c></row>`).file(t, "w.xlsx")
			},
			want: wantErr{"Workers", 2, "Mgr", []string{"cell B2: the cell holds the Excel error #N/A"}},
		},
		{name: "date serial 0", build: withDate(0), want: wantErr{"Workers", 2, "Hired", []string{"cell B2: the date serial 0 is not a date: Excel shows it as 1900-01-00"}}},
		{name: "date serial 60", build: withDate(60), want: wantErr{"Workers", 2, "Hired", []string{"1900-02-29, a day that never was"}}},
		{name: "negative date", build: withDate(-3), want: wantErr{"Workers", 2, "Hired", []string{"the date serial -3 is negative"}}},
		{name: "date after 9999", build: withDate(2958466), want: wantErr{"Workers", 2, "Hired", []string{"after 9999-12-31"}}},
		{
			name: "no sheet of that name",
			build: func(t *testing.T) string {
				f := newBook(t, "Workers", []any{"ID"})
				_, err := f.NewSheet("Lookups")
				must(t, err)
				must(t, f.SetSheetVisible("Lookups", false))
				return save(t, f)
			},
			opts: Options{Sheet: "Staff"},
			want: wantErr{"", 0, "", []string{`workers.xlsx: there is no sheet named "Staff": the workbook has "Workers", "Lookups" (hidden)`, "set source.sheet to one of these names, or to a position from 1 to 2"}},
		},
		{
			name:  "no sheet at that position",
			build: func(t *testing.T) string { return save(t, newBook(t, "Workers", []any{"ID"})) },
			opts:  Options{Sheet: "3"},
			want:  wantErr{"", 0, "", []string{`there is no sheet 3: the workbook has 1 sheet: "Workers"`}},
		},
		{
			name: "chart sheet",
			build: func(t *testing.T) string {
				b := &book{sheets: []bookSheet{{name: "Chart1", chart: true}, {name: "Workers", data: hdr("ID")}}}
				return b.file(t, "w.xlsx")
			},
			want: wantErr{"Chart1", 0, "", []string{`sheet "Chart1" is a chart sheet, not a worksheet`, `"Workers"`}},
		},
		{
			name:  "empty sheet",
			build: func(t *testing.T) string { return save(t, excelize.NewFile()) },
			want:  wantErr{"Sheet1", 0, "", []string{"workers.xlsx[Sheet1]: the sheet is empty: no row holds a value", `"Sheet1"`}},
		},
		{
			name:  "empty header row",
			build: func(t *testing.T) string { return save(t, newBook(t, "Workers", []any{"x"}, []any{}, []any{"ID"})) },
			opts:  Options{HeaderRow: 2},
			want:  wantErr{"Workers", 2, "", []string{"row 2, the header row, is empty", "source.header_row"}},
		},
		{
			name:  "header row past the end",
			build: func(t *testing.T) string { return save(t, newBook(t, "Workers", []any{"ID"}, []any{"1"})) },
			opts:  Options{HeaderRow: 5},
			want:  wantErr{"Workers", 5, "", []string{"the sheet has no header row 5: its last row is 2"}},
		},
		{
			name: "shared string out of range",
			build: func(t *testing.T) string {
				return sheetXML(`<row r="1"><c r="A1" t="s"><v>7</v></c></row>`).file(t, "w.xlsx")
			},
			want: wantErr{"Workers", 1, "A", []string{`cell A1: the cell refers to shared string "7", which the workbook does not have`, "damaged"}},
		},
		{
			name: "undefined style",
			build: func(t *testing.T) string {
				return sheetXML(hdr("ID")+`<row r="2"><c r="A2" s="4"><v>1</v></c></row>`).file(t, "w.xlsx")
			},
			want: wantErr{"Workers", 2, "ID", []string{"the cell has the style 4, which the workbook does not define"}},
		},
		{
			name: "bad number",
			build: func(t *testing.T) string {
				return sheetXML(hdr("ID")+`<row r="2"><c r="A2"><v>NaN</v></c></row>`).file(t, "w.xlsx")
			},
			want: wantErr{"Workers", 2, "ID", []string{`the number cell holds "NaN", which is not a number`}},
		},
		{
			name: "unknown cell type",
			build: func(t *testing.T) string {
				return sheetXML(hdr("ID")+`<row r="2"><c r="A2" t="x"><v>1</v></c></row>`).file(t, "w.xlsx")
			},
			want: wantErr{"Workers", 2, "", []string{`the worksheet is damaged: a cell of row 2 has the unknown type "x"`}},
		},
		{
			name:  "rows out of order",
			build: func(t *testing.T) string { return sheetXML(hdr("ID")+`<row r="3"/><row r="2"/>`).file(t, "w.xlsx") },
			want:  wantErr{"Workers", 3, "", []string{"row 2 comes after row 3"}},
		},
		{
			name: "cell reference in another row",
			build: func(t *testing.T) string {
				return sheetXML(hdr("ID")+`<row r="2"><c r="A3"><v>1</v></c></row>`).file(t, "w.xlsx")
			},
			want: wantErr{"Workers", 2, "", []string{`a cell of row 2 has the reference "A3"`}},
		},
		{
			name: "damaged XML",
			build: func(t *testing.T) string {
				return sheetXML(hdr("ID")+`<row r="2"><c r="A2"><v>1</c></row>`).file(t, "w.xlsx")
			},
			want: wantErr{"Workers", 2, "", []string{"the worksheet is damaged: cannot read xl/worksheets/sheet1.xml: XML syntax error at byte", "element <v> closed by </c>", "export it again"}},
		},
		{
			name: "damaged compressed data",
			build: func(t *testing.T) string {
				f := newBook(t, "Workers", []any{"ID"})
				for i := 2; i < 3000; i++ {
					must(t, f.SetCellValue("Workers", cellName(0, i), i*7919))
				}
				path := save(t, f)
				data, err := os.ReadFile(path)
				must(t, err)
				zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
				must(t, err)
				for _, zf := range zr.File {
					if zf.Name == "xl/worksheets/sheet1.xml" {
						off, err := zf.DataOffset()
						must(t, err)
						for i := off + 200; i < off+260; i++ {
							data[i] ^= 0x5A
						}
					}
				}
				return writeBytes(t, data)
			},
			want: wantErr{"Workers", -1, "", []string{"the worksheet is damaged: cannot read xl/worksheets/sheet1.xml"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, sum, err := readAll(t, tt.build(t), tt.opts)
			t.Log(err)
			checkErr(t, err, tt.want)
			if !reflect.DeepEqual(sum, source.Summary{}) {
				t.Errorf("failed read returned summary %+v", sum)
			}
		})
	}
}

// checkErr checks that err is the expected *source.Error; a row of -1 is
// not checked.
func checkErr(t *testing.T, err error, want wantErr) {
	t.Helper()
	var se *source.Error
	if !errors.As(err, &se) {
		t.Fatalf("err = %v (%T), want *source.Error", err, err)
	}
	if se.Prov.File != "workers.xlsx" || se.Prov.Sheet != want.sheet || (want.row >= 0 && se.Prov.Row != want.row) || se.Column != want.column {
		t.Errorf("error at %s column %q, want sheet %q row %d column %q\n%v", se.Prov, se.Column, want.sheet, want.row, want.column, err)
	}
	for _, s := range want.contains {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q\nlacks %q", err, s)
		}
	}
}

// TestNotXLSX feeds files that are not xlsx workbooks.
func TestNotXLSX(t *testing.T) {
	valid := func(t *testing.T) []byte {
		data, err := os.ReadFile(save(t, newBook(t, "Workers", []any{"ID"}, []any{"1"})))
		must(t, err)
		return data
	}
	tests := []struct {
		name string
		data func(t *testing.T) []byte
		want []string
	}{
		{"empty file", func(*testing.T) []byte { return nil }, []string{"workers.xlsx: the file is empty"}},
		{"CSV", func(*testing.T) []byte { return []byte("WorkerID,Name\n00123,José\n") }, []string{"a text file (a CSV export?)", "source.type: csv"}},
		{"UTF-16 text", func(*testing.T) []byte { return []byte("\xFF\xFEI\x00D\x00\t\x00") }, []string{"a text file"}},
		{"HTML", func(*testing.T) []byte {
			return []byte("\n<html><body><table><tr><td>ID</td></tr></table></body></html>")
		}, []string{"an HTML page"}},
		{"XML Spreadsheet 2003", func(*testing.T) []byte {
			return []byte(`<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"></Workbook>`)
		}, []string{"XML Spreadsheet 2003", "save it as"}},
		{"legacy xls", func(*testing.T) []byte { return oleFile("Root Entry", "Workbook", "\x05SummaryInformation") }, []string{"legacy Excel 97-2003 workbook (.xls)", "save it as \"Excel Workbook (*.xlsx)\""}},
		{"other OLE file", func(*testing.T) []byte { return oleFile("Root Entry", "WordDocument") }, []string{"OLE compound document"}},
		{"encrypted workbook", func(t *testing.T) []byte {
			path := filepath.Join(t.TempDir(), "enc.xlsx")
			f := newBook(t, "Workers", []any{"ID"}, []any{"1"})
			must(t, f.SaveAs(path, excelize.Options{Password: "secret"}))
			data, err := os.ReadFile(path)
			must(t, err)
			return data
		}, []string{"encrypted with a password", "remove the password"}},
		{"binary bytes", func(*testing.T) []byte { return []byte{0, 1, 2, 3, 0xff, 0xfe, 0x80, 9, 9, 9} }, []string{"not an xlsx workbook (an xlsx file is a ZIP archive"}},
		{"PDF", func(*testing.T) []byte { return []byte("%PDF-1.7\n...") }, []string{"a PDF document"}},
		{"truncated workbook", func(t *testing.T) []byte { d := valid(t); return d[:len(d)/2] }, []string{"starts like a ZIP archive", "cannot be opened as one", "cut short"}},
		{"Word document", func(t *testing.T) []byte {
			return zipOf(t, map[string]string{"[Content_Types].xml": "<Types/>", "word/document.xml": "<w:document/>"})
		}, []string{"a Word document, not an Excel workbook"}},
		{"OpenDocument spreadsheet", func(t *testing.T) []byte {
			return zipOf(t, map[string]string{"mimetype": "application/vnd.oasis.opendocument.spreadsheet", "content.xml": "<office:document-content/>"})
		}, []string{"OpenDocument spreadsheet (.ods)"}},
		{"binary workbook", func(t *testing.T) []byte {
			return zipOf(t, map[string]string{
				"_rels/.rels":     `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.bin"/></Relationships>`,
				"xl/workbook.bin": "\x83\x01\x00",
			})
		}, []string{"Excel binary workbook (.xlsb)"}},
		{"damaged relationships", func(t *testing.T) []byte {
			return zipOf(t, map[string]string{"_rels/.rels": `<Relationships><Relationship Id="rId1"`})
		}, []string{"the workbook is damaged: cannot read _rels/.rels"}},
		{"damaged workbook part", func(t *testing.T) []byte {
			b := sheetXML(hdr("ID"))
			b.extra = map[string]string{}
			b.skip = map[string]bool{"xl/workbook.xml": true}
			b.extra["xl/workbook.xml"] = `<workbook><sheets><sheet name="x"`
			return b.bytes(t)
		}, []string{"the workbook is damaged: cannot read the workbook part"}},
		{"missing worksheet part", func(t *testing.T) []byte {
			b := sheetXML(hdr("ID"))
			b.skip = map[string]bool{"xl/worksheets/sheet1.xml": true}
			return b.bytes(t)
		}, []string{`the workbook lists sheet "Workers" but its part xl/worksheets/sheet1.xml is missing`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, sum, err := readAll(t, writeBytes(t, tt.data(t)), Options{})
			t.Log(err)
			var se *source.Error
			if !errors.As(err, &se) {
				t.Fatalf("err = %v (%T), want *source.Error", err, err)
			}
			if se.Prov.File != "workers.xlsx" {
				t.Errorf("error at %s", se.Prov)
			}
			for _, s := range tt.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q\nlacks %q", err, s)
				}
			}
			if !reflect.DeepEqual(sum, source.Summary{}) {
				t.Errorf("failed read returned summary %+v", sum)
			}
		})
	}
}
