package xlsx

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// book writes a workbook package part by part, as Excel lays it out, for
// the tests that need XML excelize does not write: formulas with and
// without cached values, error and date cells, rich text, phonetic runs,
// escapes, damaged parts. Sheets are written as given.
type book struct {
	date1904 bool
	sheets   []bookSheet
	sst      []string       // inner XML of each <si>
	numFmts  map[int]string // custom number formats by id
	xfs      []int          // the numFmtId of each cell style; nil: no styles part
	store    bool           // store the parts uncompressed, with no checksum
	strict   bool           // use the namespaces of Strict Open XML
	skip     map[string]bool
	extra    map[string]string // more parts, by name
}

// bookSheet is one sheet of a book.
type bookSheet struct {
	name  string
	state string // "", "hidden" or "veryHidden"
	chart bool   // a chart sheet
	data  string // the sheetData element's content
	tail  string // elements after sheetData, e.g. mergeCells
	raw   string // the whole part, overriding data and tail
	write func(w io.Writer) error
}

// bytes returns the package.
func (b *book) bytes(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := b.write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// file writes the package to a file named name in a fresh directory.
func (b *book) file(t testing.TB, name string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b.bytes(t), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func (b *book) write(out io.Writer) error {
	zw := zip.NewWriter(out)
	create := func(name string, write func(w io.Writer) error) error {
		if b.store {
			var buf bytes.Buffer
			if err := write(&buf); err != nil {
				return err
			}
			w, err := zw.CreateRaw(&zip.FileHeader{
				Name: name, Method: zip.Store,
				CompressedSize64: uint64(buf.Len()), UncompressedSize64: uint64(buf.Len()),
			})
			if err != nil {
				return err
			}
			_, err = w.Write(buf.Bytes())
			return err
		}
		w, err := zw.Create(name)
		if err != nil {
			return err
		}
		return write(w)
	}
	part := func(name string, write func(w io.Writer) error) error {
		if b.skip[name] {
			return nil
		}
		return create(name, write)
	}
	text := func(name, s string) error {
		if b.strict {
			s = strings.NewReplacer(
				"http://schemas.openxmlformats.org/spreadsheetml/2006/main", "http://purl.oclc.org/ooxml/spreadsheetml/main",
				"http://schemas.openxmlformats.org/officeDocument/2006/relationships", "http://purl.oclc.org/ooxml/officeDocument/relationships",
			).Replace(s)
		}
		return part(name, func(w io.Writer) error { _, err := io.WriteString(w, s); return err })
	}
	const ns = `xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"`
	const rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"

	var ct, wbRels, sheets strings.Builder
	ct.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>`)
	wbRels.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`)
	for i, sh := range b.sheets {
		kind, dir := "worksheet", "worksheets"
		if sh.chart {
			kind, dir = "chartsheet", "chartsheets"
		}
		fmt.Fprintf(&ct, `<Override PartName="/xl/%s/sheet%d.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.%s+xml"/>`, dir, i+1, kind)
		fmt.Fprintf(&wbRels, `<Relationship Id="rId%d" Type="%s%s" Target="%s/sheet%d.xml"/>`, i+1, rel, kind, dir, i+1)
		state := ""
		if sh.state != "" {
			state = ` state="` + sh.state + `"`
		}
		fmt.Fprintf(&sheets, `<sheet name="%s" sheetId="%d"%s r:id="rId%d"/>`, xmlEscape(sh.name), i+1, state, i+1)
	}
	n := len(b.sheets)
	fmt.Fprintf(&wbRels, `<Relationship Id="rId%d" Type="%sstyles" Target="styles.xml"/>`, n+1, rel)
	fmt.Fprintf(&wbRels, `<Relationship Id="rId%d" Type="%ssharedStrings" Target="sharedStrings.xml"/>`, n+2, rel)
	wbRels.WriteString(`</Relationships>`)
	ct.WriteString(`</Types>`)

	if err := text("[Content_Types].xml", ct.String()); err != nil {
		return err
	}
	if err := text("_rels/.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="`+rel+`officeDocument" Target="xl/workbook.xml"/></Relationships>`); err != nil {
		return err
	}
	pr := ""
	if b.date1904 {
		pr = `<workbookPr date1904="1"/>`
	}
	if err := text("xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook `+ns+`>`+pr+`<sheets>`+sheets.String()+`</sheets></workbook>`); err != nil {
		return err
	}
	if err := text("xl/_rels/workbook.xml.rels", wbRels.String()); err != nil {
		return err
	}
	if b.xfs != nil {
		var s strings.Builder
		s.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" + `<styleSheet ` + ns + `>`)
		if len(b.numFmts) > 0 {
			fmt.Fprintf(&s, `<numFmts count="%d">`, len(b.numFmts))
			for id, code := range b.numFmts {
				fmt.Fprintf(&s, `<numFmt numFmtId="%d" formatCode="%s"/>`, id, xmlEscape(code))
			}
			s.WriteString(`</numFmts>`)
		}
		s.WriteString(`<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts><fills count="1"><fill><patternFill patternType="none"/></fill></fills><borders count="1"><border/></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>`)
		fmt.Fprintf(&s, `<cellXfs count="%d">`, len(b.xfs))
		for _, id := range b.xfs {
			fmt.Fprintf(&s, `<xf numFmtId="%d" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>`, id)
		}
		s.WriteString(`</cellXfs></styleSheet>`)
		if err := text("xl/styles.xml", s.String()); err != nil {
			return err
		}
	}
	if len(b.sst) > 0 {
		var s strings.Builder
		fmt.Fprintf(&s, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`+"\n"+`<sst %s count="%d" uniqueCount="%d">`, ns, len(b.sst), len(b.sst))
		for _, si := range b.sst {
			s.WriteString("<si>" + si + "</si>")
		}
		s.WriteString(`</sst>`)
		if err := text("xl/sharedStrings.xml", s.String()); err != nil {
			return err
		}
	}
	for i, sh := range b.sheets {
		name := fmt.Sprintf("xl/worksheets/sheet%d.xml", i+1)
		switch {
		case sh.chart:
			name = fmt.Sprintf("xl/chartsheets/sheet%d.xml", i+1)
			if err := text(name, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`+"\n"+`<chartsheet `+ns+`/>`); err != nil {
				return err
			}
		case sh.write != nil:
			if err := part(name, sh.write); err != nil {
				return err
			}
		case sh.raw != "":
			if err := text(name, sh.raw); err != nil {
				return err
			}
		default:
			if err := text(name, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`+"\n"+`<worksheet `+ns+`><sheetData>`+sh.data+`</sheetData>`+sh.tail+`</worksheet>`); err != nil {
				return err
			}
		}
	}
	for name, s := range b.extra {
		if err := create(name, func(w io.Writer) error { _, err := io.WriteString(w, s); return err }); err != nil {
			return err
		}
	}
	return zw.Close()
}

// xmlEscape escapes s for an XML attribute or text.
func xmlEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&quot;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
