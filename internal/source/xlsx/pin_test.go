package xlsx

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"testing"
)

// The tests of this file pin, message for message, branches of
// openWorkbook, reader.rows and sharedStrings that the other tests do not
// reach.

// rezip rewrites the package data, letting edit change the header of each
// part; the parts' bytes are copied as they are.
func rezip(t testing.TB, data []byte, edit func(fh *zip.FileHeader)) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	must(t, err)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, zf := range zr.File {
		fh := zf.FileHeader
		edit(&fh)
		w, err := zw.CreateRaw(&fh)
		must(t, err)
		r, err := zf.OpenRaw()
		must(t, err)
		_, err = io.Copy(w, r)
		must(t, err)
	}
	must(t, zw.Close())
	return buf.Bytes()
}

const (
	pinRels    = `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`
	pinRelType = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
	pinNS      = `xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"`
)

// pinPackage is a minimal package whose workbook lists sheets and whose
// workbook relationships are rels.
func pinPackage(t testing.TB, sheets, rels string) []byte {
	t.Helper()
	return zipOf(t, map[string]string{
		"[Content_Types].xml":        `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>`,
		"_rels/.rels":                pinRels + `<Relationship Id="rId1" Type="` + pinRelType + `officeDocument" Target="xl/workbook.xml"/></Relationships>`,
		"xl/workbook.xml":            `<workbook ` + pinNS + `><sheets>` + sheets + `</sheets></workbook>`,
		"xl/_rels/workbook.xml.rels": pinRels + rels + `</Relationships>`,
		"xl/worksheets/sheet1.xml":   `<worksheet ` + pinNS + `><sheetData/></worksheet>`,
	})
}

// failingReaderAt fails every read with err after the first n bytes.
type failingReaderAt struct {
	data []byte
	n    int64
	err  error
}

func (f failingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > f.n {
		return 0, f.err
	}
	return copy(p, f.data[off:]), nil
}

func TestOpenWorkbookPinned(t *testing.T) {
	valid := sheetXML(hdr("ID")).bytes(t)
	pathErr := &fs.PathError{Op: "read", Path: "workers.xlsx", Err: errors.New("input/output error")}
	tests := []struct {
		name   string
		ra     io.ReaderAt
		size   int64
		err    string   // the whole error; "" for none
		sheets []string // labels of the sheets, when there is no error
		sst    string
	}{
		{
			name: "the first bytes cannot be read",
			ra:   failingReaderAt{valid, 0, pathErr}, size: int64(len(valid)),
			err: "read workers.xlsx: input/output error",
		},
		{
			name: "the directory cannot be read",
			ra:   failingReaderAt{valid, 8, pathErr}, size: int64(len(valid)),
			err: "read workers.xlsx: input/output error",
		},
		{
			name: "damaged workbook relationships",
			ra: bytes.NewReader(func() []byte {
				b := sheetXML(hdr("ID"))
				b.skip = map[string]bool{"xl/_rels/workbook.xml.rels": true}
				b.extra = map[string]string{"xl/_rels/workbook.xml.rels": `<Relationships><Relationship`}
				return b.bytes(t)
			}()),
			err: "workers.xlsx: the workbook is damaged: cannot read xl/_rels/workbook.xml.rels: XML syntax error on line 1: unexpected EOF (the file is damaged or was cut short: export it again, or open it in Excel and save it as .xlsx)",
		},
		{
			name: "styles larger than a workbook part can be",
			ra: bytes.NewReader(rezip(t, (&book{xfs: []int{0}, sheets: []bookSheet{{name: "Workers", data: hdr("ID")}}}).bytes(t), func(fh *zip.FileHeader) {
				if fh.Name == "xl/styles.xml" {
					fh.UncompressedSize64 = metaLimit + 1
				}
			})),
			err: "workers.xlsx: the workbook is damaged: cannot read xl/styles.xml: the part is 67108865 bytes unzipped, more than a workbook part can be (the file is damaged or was cut short: export it again, or open it in Excel and save it as .xlsx)",
		},
		{
			name: "no sheets",
			ra:   bytes.NewReader(pinPackage(t, "", "")),
			err:  "workers.xlsx: the workbook has no sheets (the file is damaged or was cut short: export it again, or open it in Excel and save it as .xlsx)",
		},
		{
			name: "sheet kinds; external relationships are ignored",
			ra: bytes.NewReader(pinPackage(t,
				`<sheet name="W" sheetId="1" r:id="rId1"/><sheet name="D" sheetId="2" r:id="rId2" state="hidden"/><sheet name="M" sheetId="3" r:id="rId3"/><sheet name="I" sheetId="4" r:id="rId4" state="veryHidden"/><sheet name="C" sheetId="5" r:id="rId5"/><sheet name="X" sheetId="6" r:id="rId6"/><sheet name="N" sheetId="7" r:id="rId9"/>`,
				`<Relationship Id="rId7" Type="`+pinRelType+`sharedStrings" Target="http://example.com/sst.xml" TargetMode="External"/>`+
					`<Relationship Id="rId1" Type="`+pinRelType+`worksheet" Target="worksheets/sheet1.xml"/>`+
					`<Relationship Id="rId2" Type="`+pinRelType+`dialogsheet" Target="dialogsheets/sheet1.xml"/>`+
					`<Relationship Id="rId3" Type="http://schemas.microsoft.com/office/2006/relationships/xlMacrosheet" Target="macrosheets/sheet1.xml"/>`+
					`<Relationship Id="rId4" Type="http://schemas.microsoft.com/office/2006/relationships/xlIntlMacrosheet" Target="macrosheets/sheet2.xml"/>`+
					`<Relationship Id="rId5" Type="`+pinRelType+`chartsheet" Target="chartsheets/sheet1.xml"/>`+
					`<Relationship Id="rId6" Type="`+pinRelType+`worksheet" Target="http://example.com/x.xml" TargetMode="External"/>`+
					`<Relationship Id="rId8" Type="`+pinRelType+`sharedStrings" Target="sharedStrings.xml"/>`)),
			sheets: []string{`"W"`, `"D" (dialog sheet, hidden)`, `"M" (macro sheet)`, `"I" (macro sheet, hidden)`, `"C" (chart sheet)`, `"X" (sheet)`, `"N" (sheet)`},
			sst:    "xl/sharedStrings.xml",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			size := tt.size
			if r, ok := tt.ra.(*bytes.Reader); ok {
				size = r.Size()
			}
			wb, err := openWorkbook(tt.ra, size, "workers.xlsx")
			if failsAsPinned(t, err, tt.err) {
				return
			}
			var labels []string
			for _, si := range wb.sheets {
				labels = append(labels, si.label())
			}
			if got, want := strings.Join(labels, ", "), strings.Join(tt.sheets, ", "); got != want {
				t.Errorf("sheets = %s\nwant %s", got, want)
			}
			if wb.sstPart != tt.sst {
				t.Errorf("sstPart = %q, want %q", wb.sstPart, tt.sst)
			}
			if wb.sheets[0].part != "xl/worksheets/sheet1.xml" {
				t.Errorf("part of the worksheet = %q", wb.sheets[0].part)
			}
		})
	}
}

func TestRowsPinned(t *testing.T) {
	tests := []struct {
		name string
		book *book
		vals []string // the values of the records, row after row
		err  string   // the whole error; "" for none
	}{
		{
			name: "a row inside a row",
			book: sheetXML(hdr("ID") + `<row r="2"><row r="3"></row></row>`),
			err:  "workers.xlsx[Workers] row 2: the worksheet is damaged: a row inside a row (the file is damaged or was cut short: export it again, or open it in Excel and save it as .xlsx)",
		},
		{
			name: "a cell outside a row",
			book: sheetXML(hdr("ID") + `<c r="A2"><v>1</v></c>`),
			err:  "workers.xlsx[Workers] row 1: the worksheet is damaged: a cell outside a row (the file is damaged or was cut short: export it again, or open it in Excel and save it as .xlsx)",
		},
		{
			name: "a cell inside a cell",
			book: sheetXML(hdr("ID") + `<row r="2"><c r="A2"><c r="B2"/></c></row>`),
			err:  "workers.xlsx[Workers] row 2: the worksheet is damaged: a cell outside a row (the file is damaged or was cut short: export it again, or open it in Excel and save it as .xlsx)",
		},
		{
			name: "phonetic runs of inline strings are not part of the value",
			book: sheetXML(hdr("City") + `<row r="2"><c r="A2" t="inlineStr"><is><r><t>東</t></r><r><t>京</t></r><rPh sb="0" eb="2"><t>トウキョウ</t></rPh></is></c></row>`),
			vals: []string{"東京"},
		},
		{
			name: "v and f inside an inline string are text, not the value",
			book: sheetXML(hdr("City") + `<row r="2"><c r="A2" t="inlineStr"><is><t>a</t><v>1</v></is></c></row>`),
			vals: []string{"a"},
		},
		{
			name: "a worksheet without sheetData",
			book: &book{sheets: []bookSheet{{name: "Workers", raw: `<worksheet ` + pinNS + `/>`}}},
			err:  `workers.xlsx[Workers]: the sheet is empty: no row holds a value, so there is no header row (check source.sheet; the workbook has "Workers")`,
		},
		{
			name: "elements after sheetData are not read as rows",
			book: &book{sheets: []bookSheet{{name: "Workers", raw: `<worksheet ` + pinNS + `><sheetData>` + hdr("ID") + `<row r="2"><c r="A2"><v>1</v></c></row></sheetData><x><row r="3"><c r="A3"><v>2</v></c></row></x></worksheet>`}}},
			vals: []string{"1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, _, err := readAll(t, tt.book.file(t, "w.xlsx"), Options{})
			if failsAsPinned(t, err, tt.err) {
				return
			}
			var got []string
			for _, r := range recs {
				got = append(got, r.Values...)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.vals) {
				t.Errorf("values = %q, want %q", got, tt.vals)
			}
		})
	}
}

func TestSharedStringsPinned(t *testing.T) {
	many := make([]string, 5000)
	for i := range many {
		many[i] = fmt.Sprintf("<t>s%d</t>", i)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	bookWith := func(sst ...string) *book { b := sheetXML(hdr("ID")); b.sst = sst; return b }
	tests := []struct {
		name    string
		data    []byte
		ctx     context.Context
		entries []string
		err     string // the whole error; "" for none
	}{
		{
			name:    "nested and stray si",
			data:    bookWith(`<t>a</t><si><t>b</t></si><t>c</t>`, `<t>d</t>`).bytes(t),
			entries: []string{"b", "d"}, // the inner si starts the entry afresh; the outer one's end adds none
		},
		{
			name:    "text outside t and phonetic runs are left out",
			data:    bookWith(`<r><t>x</t></r><rPh><t>y</t><rPh><t>z</t></rPh></rPh><t>w</t>`).bytes(t),
			entries: []string{"xw"},
		},
		{
			name: "cancelled while reading",
			data: bookWith(many...).bytes(t), ctx: cancelled,
			err: "read workers.xlsx: context canceled",
		},
		{
			name: "damaged XML",
			data: bookWith(`<t>a</t></x>`).bytes(t),
			err:  "workers.xlsx: the workbook is damaged: cannot read xl/sharedStrings.xml: XML syntax error at byte 247: element <si> closed by </x> (the file is damaged or was cut short: export it again, or open it in Excel and save it as .xlsx)",
		},
		{
			name: "checksum error",
			data: rezip(t, bookWith(`<t>a</t>`).bytes(t), func(fh *zip.FileHeader) {
				if fh.Name == "xl/sharedStrings.xml" {
					fh.CRC32 ^= 1
				}
			}),
			err: "workers.xlsx: the workbook is damaged: cannot read xl/sharedStrings.xml: zip: checksum error (the file is damaged or was cut short: export it again, or open it in Excel and save it as .xlsx)",
		},
		{
			name: "unknown compression",
			data: rezip(t, bookWith(`<t>a</t>`).bytes(t), func(fh *zip.FileHeader) {
				if fh.Name == "xl/sharedStrings.xml" {
					fh.Method = 99
				}
			}),
			err: "workers.xlsx: the workbook is damaged: cannot read xl/sharedStrings.xml: zip: unsupported compression algorithm (the file is damaged or was cut short: export it again, or open it in Excel and save it as .xlsx)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wb, err := openWorkbook(bytes.NewReader(tt.data), int64(len(tt.data)), "workers.xlsx")
			must(t, err)
			ctx := tt.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			sst, err := wb.sharedStrings(ctx)
			if failsAsPinned(t, err, tt.err) {
				return
			}
			var got []string
			for i := 0; ; i++ {
				s, ok := sst.get(i)
				if !ok {
					break
				}
				got = append(got, s)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.entries) {
				t.Errorf("entries = %q, want %q", got, tt.entries)
			}
		})
	}
}

func TestClassifyPinned(t *testing.T) {
	tests := []struct {
		code string
		want numFmt
	}{
		{`"unterminated`, numFmt{}},
		{`yyyy "unterminated`, numFmt{kind: fmtDate}},
		{`[h`, numFmt{}},
		{`dd[h`, numFmt{kind: fmtDate}},
		{`[]yyyy`, numFmt{kind: fmtDate}},
		{`[hh]:mm`, numFmt{}},
		{`[ss]`, numFmt{}},
		{`[Red][h]`, numFmt{}},
		{`hh:mm;yyyy`, numFmt{kind: fmtTime}},
		{`00;yyyy`, numFmt{pad: 2}},
		{`0`, numFmt{}},
		{`GENERAL`, numFmt{}},
		{`E`, numFmt{kind: fmtDate}},
		{`0E-0`, numFmt{}},
		{`B2yyyy`, numFmt{kind: fmtDate}},
		{`mm`, numFmt{kind: fmtDate}},
		{`mmm:ss`, numFmt{kind: fmtDateTime}},
		{`h mm`, numFmt{kind: fmtTime}},
		{`\h0`, numFmt{}},
		{`_h0`, numFmt{}},
		{`*h0`, numFmt{}},
		{`\`, numFmt{}},
		{`A/P`, numFmt{kind: fmtTime}},
		{`AM/PMx`, numFmt{kind: fmtTime}},
	}
	for _, tt := range tests {
		if got := classify(tt.code); got != tt.want {
			t.Errorf("classify(%q) = %+v, want %+v", tt.code, got, tt.want)
		}
	}
}

// TestSSTTooLarge pins the message of a shared string table beyond the
// limits, which no test file is large enough to reach.
func TestSSTTooLarge(t *testing.T) {
	wb := &workbook{file: "workers.xlsx"}
	want := "workers.xlsx: the shared string table is larger than hrsync reads (1024 MiB of text or 134217728 entries) (split the workbook, or export the data as CSV and use a csv source)"
	if err := wb.sstTooLarge(); err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
}

// failsAsPinned checks err against want, the exact error text pinned (""
// for none), and reports whether it was an error: the test has nothing
// more to check.
func failsAsPinned(t *testing.T, err error, want string) bool {
	t.Helper()
	if want == "" {
		must(t, err)
		return false
	}
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
	return true
}
