package xlsx

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/source"
	"github.com/xuri/excelize/v2"
	"golang.org/x/net/html/charset"
)

// metaLimit bounds the unzipped size of the workbook-level parts (workbook,
// relationships, styles) given to excelize, so that a decompression bomb
// fails instead of filling memory. Real ones are a few hundred kilobytes.
const metaLimit = 64 << 20

// hintResave is the hint for a damaged workbook.
const hintResave = "the file is damaged or was cut short: export it again, or open it in Excel and save it as .xlsx"

// Relationship types, matched by their last path element so that both the
// transitional (schemas.openxmlformats.org) and the strict (purl.oclc.org)
// namespaces are understood.
const (
	relOfficeDocument = "/officeDocument"
	relWorksheet      = "/worksheet"
	relSharedStrings  = "/sharedStrings"
	relStyles         = "/styles"
)

// workbook is an opened workbook: its parts, sheets, date system and number
// formats.
type workbook struct {
	file     string               // display name
	zr       *zip.Reader          // the package
	parts    map[string]*zip.File // by lower-case part name
	sheets   []sheetInfo
	date1904 bool
	formats  []numFmt // number format of each cell style (cellXfs index)
	sstPart  string   // shared string table, "" if none
}

// sheetInfo is one sheet of the workbook, in tab order.
type sheetInfo struct {
	name   string
	kind   string // "worksheet", "chart sheet", "dialog sheet", "macro sheet" or "sheet"
	part   string // part name of a worksheet's XML
	hidden bool
}

// label describes a sheet in a list for messages: "Workers", or
// "Chart1" (chart sheet).
func (si sheetInfo) label() string {
	l := fmt.Sprintf("%q", si.name)
	var notes []string
	if si.kind != "worksheet" {
		notes = append(notes, si.kind)
	}
	if si.hidden {
		notes = append(notes, "hidden")
	}
	if len(notes) > 0 {
		l += " (" + strings.Join(notes, ", ") + ")"
	}
	return l
}

// relationship is one entry of a .rels part.
type relationship struct {
	ID         string `xml:"Id,attr"`
	Type       string `xml:"Type,attr"`
	Target     string `xml:"Target,attr"`
	TargetMode string `xml:"TargetMode,attr"`
}

// openWorkbook checks that ra is an xlsx workbook and reads its
// workbook-level parts.
func openWorkbook(ra io.ReaderAt, size int64, file string) (*workbook, error) {
	zr, err := openZip(ra, size, file)
	if err != nil {
		return nil, err
	}
	wb := newWorkbook(file, zr)
	wbPart, wbTarget, err := wb.mainPart()
	if err != nil {
		return nil, err
	}
	wbRelsPart := path.Join(path.Dir(wbPart), "_rels", path.Base(wbPart)+".rels")
	rels, stylesPart, err := wb.workbookRels(wbPart, wbRelsPart)
	if err != nil {
		return nil, err
	}
	if err := wb.readMeta(wbPart, wbTarget, wbRelsPart, stylesPart, rels); err != nil {
		return nil, err
	}
	if len(wb.sheets) == 0 {
		return nil, &source.Error{
			Prov: identity.Provenance{File: file},
			Msg:  "the workbook has no sheets",
			Hint: hintResave,
		}
	}
	return wb, nil
}

// openZip checks that ra starts like a ZIP archive and opens it as one.
// Errors reading the file itself are returned as they are.
func openZip(ra io.ReaderAt, size int64, file string) (*zip.Reader, error) {
	var head [8]byte
	n, err := ra.ReadAt(head[:], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if n < 4 || !bytes.HasPrefix(head[:], []byte("PK")) {
		return nil, notZip(ra, size, file)
	}
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, err
		}
		return nil, &source.Error{
			Prov: identity.Provenance{File: file},
			Msg:  "the file starts like a ZIP archive (as an xlsx workbook is) but cannot be opened as one: " + err.Error(),
			Hint: hintResave,
		}
	}
	return zr, nil
}

// newWorkbook indexes the parts of the package by lower-case name, with
// forward slashes; of parts with the same name, the first is kept.
func newWorkbook(file string, zr *zip.Reader) *workbook {
	wb := &workbook{file: file, zr: zr, parts: make(map[string]*zip.File, len(zr.File))}
	for _, zf := range zr.File {
		name := strings.ToLower(strings.ReplaceAll(zf.Name, `\`, "/"))
		if _, dup := wb.parts[name]; !dup {
			wb.parts[name] = zf
		}
	}
	return wb
}

// mainPart finds the workbook part through the package relationships: its
// part name, and the target the relationship gives. It fails when there is
// none, or when it is a binary workbook's.
func (wb *workbook) mainPart() (part, target string, err error) {
	rootRels, err := wb.rels("_rels/.rels")
	if err != nil {
		return "", "", err
	}
	for _, r := range rootRels {
		if strings.HasSuffix(r.Type, relOfficeDocument) && r.TargetMode != "External" {
			part, target = resolve("", r.Target), r.Target
			break
		}
	}
	if part == "" || wb.parts[strings.ToLower(part)] == nil {
		return "", "", wb.notWorkbook()
	}
	if strings.HasSuffix(strings.ToLower(part), ".bin") {
		return "", "", &source.Error{
			Prov: identity.Provenance{File: wb.file},
			Msg:  "the file is an Excel binary workbook (.xlsb), which hrsync cannot read",
			Hint: "open it in Excel and save it as \"Excel Workbook (*.xlsx)\"",
		}
	}
	return part, target, nil
}

// workbookRels reads the relationships of the workbook part wbPart, held in
// relsPart: the internal ones, and the styles part. It sets the shared
// string table's part. Of several, the first styles and shared string
// table are used.
func (wb *workbook) workbookRels(wbPart, relsPart string) (internal []relationship, stylesPart string, err error) {
	wbRels, err := wb.rels(relsPart)
	if err != nil {
		return nil, "", err
	}
	internal = wbRels[:0]
	for _, r := range wbRels {
		if r.TargetMode == "External" {
			continue
		}
		internal = append(internal, r)
		switch {
		case strings.HasSuffix(r.Type, relSharedStrings) && wb.sstPart == "":
			wb.sstPart = resolve(wbPart, r.Target)
		case strings.HasSuffix(r.Type, relStyles) && stylesPart == "":
			stylesPart = resolve(wbPart, r.Target)
		}
	}
	return internal, stylesPart, nil
}

// readMeta reads the workbook part and the styles with excelize: the date
// system, the number formats and the sheets, found through the workbook's
// internal relationships rels.
//
// excelize is given a package holding only those parts: opened on the whole
// file it would unzip every worksheet, into memory or temporary files,
// before one row is read.
func (wb *workbook) readMeta(wbPart, wbTarget, wbRelsPart, stylesPart string, rels []relationship) error {
	meta, err := wb.metaPackage(wbTarget, wbRelsPart, stylesPart)
	if err != nil {
		return err
	}
	xf, err := excelize.OpenReader(bytes.NewReader(meta), excelize.Options{UnzipSizeLimit: metaLimit, UnzipXMLSizeLimit: metaLimit})
	if err != nil {
		return wb.damaged("the workbook part", err)
	}
	defer xf.Close()
	if xf.WorkBook == nil {
		return wb.notWorkbook()
	}
	props, err := xf.GetWorkbookProps()
	if err != nil {
		return wb.damaged("the workbook part", err)
	}
	wb.date1904 = props.Date1904 != nil && *props.Date1904
	wb.formats = styleFormats(xf)
	byID := make(map[string]relationship, len(rels))
	for _, r := range rels {
		byID[r.ID] = r
	}
	for _, sh := range xf.WorkBook.Sheets.Sheet {
		if sh.Name == "" {
			return wb.damaged("the workbook part", errors.New("a sheet has no name"))
		}
		si := sheetInfo{name: sh.Name, kind: "sheet", hidden: sh.State == "hidden" || sh.State == "veryHidden"}
		if r, ok := byID[sh.ID]; ok {
			si.kind, si.part = sheetKind(wbPart, r)
		}
		wb.sheets = append(wb.sheets, si)
	}
	return nil
}

// sheetKind is the kind of the sheet that the workbook relationship r
// points to, and its part when it is a worksheet: a relationship of an
// unknown type leaves it a "sheet", whose data cannot be found.
func sheetKind(wbPart string, r relationship) (kind, part string) {
	switch t := r.Type[strings.LastIndexByte(r.Type, '/')+1:]; t {
	case "worksheet":
		return "worksheet", resolve(wbPart, r.Target)
	case "chartsheet":
		return "chart sheet", ""
	case "dialogsheet":
		return "dialog sheet", ""
	case "xlMacrosheet", "xlIntlMacrosheet":
		return "macro sheet", ""
	}
	return "sheet", ""
}

// resolve turns a relationship target into a part name: relative to the
// directory of the part holding the relationship, or from the package root
// when it starts with "/".
func resolve(from, target string) string {
	target = strings.ReplaceAll(target, `\`, "/")
	if strings.HasPrefix(target, "/") {
		return strings.TrimPrefix(path.Clean(target), "/")
	}
	p := path.Join(path.Dir(from), target)
	return strings.TrimPrefix(p, "/")
}

// part returns the named part, or nil.
func (wb *workbook) part(name string) *zip.File {
	return wb.parts[strings.ToLower(name)]
}

// rels reads a relationships part; a missing part has none.
func (wb *workbook) rels(name string) ([]relationship, error) {
	zf := wb.part(name)
	if zf == nil {
		return nil, nil
	}
	rc, err := zf.Open()
	if err != nil {
		return nil, wb.damaged(name, err)
	}
	defer rc.Close()
	var doc struct {
		Rels []relationship `xml:"Relationship"`
	}
	d := newDecoder(io.LimitReader(rc, metaLimit))
	if err := d.Decode(&doc); err != nil {
		return nil, wb.damaged(name, err)
	}
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return nil, wb.damaged(name, err)
	}
	return doc.Rels, nil
}

// newDecoder returns an XML decoder of r that understands the character
// encodings an XML declaration may name, as excelize does.
func newDecoder(r io.Reader) *xml.Decoder {
	d := xml.NewDecoder(r)
	d.CharsetReader = charset.NewReaderLabel
	return d
}

// metaPackage builds a ZIP archive of the parts excelize needs to read the
// workbook and its styles, copied without recompressing them. The styles go
// where excelize looks for them.
func (wb *workbook) metaPackage(wbTarget, wbRelsPart, stylesPart string) ([]byte, error) {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	copyPart := func(from, to string) error {
		zf := wb.part(from)
		if zf == nil {
			return nil
		}
		if zf.UncompressedSize64 > metaLimit {
			return wb.damaged(from, fmt.Errorf("the part is %d bytes unzipped, more than a workbook part can be", zf.UncompressedSize64))
		}
		fh := zf.FileHeader
		fh.Name = to
		dst, err := w.CreateRaw(&fh)
		if err != nil {
			return err
		}
		src, err := zf.OpenRaw()
		if err != nil {
			return wb.damaged(from, err)
		}
		if _, err := io.Copy(dst, src); err != nil {
			return wb.damaged(from, err)
		}
		return nil
	}
	// excelize finds the workbook through the package relationships, under
	// the name their target gives, and its relationships beside it.
	name := strings.TrimPrefix(wbTarget, "/")
	relsName := path.Join(path.Dir(name), "_rels", path.Base(name)+".rels")
	for _, p := range [][2]string{
		{"[Content_Types].xml", "[Content_Types].xml"},
		{"_rels/.rels", "_rels/.rels"},
		{resolve("", wbTarget), name},
		{wbRelsPart, relsName},
		{stylesPart, "xl/styles.xml"},
	} {
		if p[0] == "" {
			continue
		}
		if err := copyPart(p[0], p[1]); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// pick finds the sheet the source reads.
func (wb *workbook) pick(s *Source) (sheetInfo, error) {
	var list []string
	for _, si := range wb.sheets {
		list = append(list, si.label())
	}
	found := -1
	if s.sheet != "" {
		for i, si := range wb.sheets {
			if si.name == s.sheet {
				found = i
				break
			}
		}
		if found < 0 {
			for i, si := range wb.sheets {
				if strings.EqualFold(si.name, s.sheet) {
					found = i
					break
				}
			}
		}
	}
	switch {
	case found >= 0:
	case s.sheet == "":
		found = 0
	case s.index > 0 && s.index <= len(wb.sheets):
		found = s.index - 1
	case s.index > 0:
		return sheetInfo{}, &source.Error{
			Prov: identity.Provenance{File: wb.file},
			Msg:  fmt.Sprintf("there is no sheet %d: the workbook has %d sheet%s: %s", s.index, len(wb.sheets), plural(len(wb.sheets)), strings.Join(list, ", ")),
			Hint: fmt.Sprintf("set source.sheet to a name or to a position from 1 to %d", len(wb.sheets)),
		}
	default:
		return sheetInfo{}, &source.Error{
			Prov: identity.Provenance{File: wb.file},
			Msg:  fmt.Sprintf("there is no sheet named %q: the workbook has %s", s.sheet, strings.Join(list, ", ")),
			Hint: fmt.Sprintf("set source.sheet to one of these names, or to a position from 1 to %d", len(wb.sheets)),
		}
	}
	si := wb.sheets[found]
	if si.kind == "sheet" {
		return sheetInfo{}, &source.Error{
			Prov: identity.Provenance{File: wb.file, Sheet: si.name},
			Msg:  fmt.Sprintf("the workbook lists sheet %q but not where its data is", si.name),
			Hint: hintResave,
		}
	}
	if si.kind != "worksheet" {
		return sheetInfo{}, &source.Error{
			Prov: identity.Provenance{File: wb.file, Sheet: si.name},
			Msg:  fmt.Sprintf("sheet %q is a %s, not a worksheet with rows and columns; the workbook has %s", si.name, si.kind, strings.Join(list, ", ")),
			Hint: "set source.sheet to the worksheet holding the workers",
		}
	}
	if wb.part(si.part) == nil {
		return sheetInfo{}, &source.Error{
			Prov: identity.Provenance{File: wb.file, Sheet: si.name},
			Msg:  fmt.Sprintf("the workbook lists sheet %q but its part %s is missing", si.name, si.part),
			Hint: hintResave,
		}
	}
	return si, nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// damaged reports a part that cannot be read. Errors reading the file itself
// are returned as they are.
func (wb *workbook) damaged(part string, err error) error {
	var pe *fs.PathError
	var se *source.Error
	if errors.As(err, &pe) || errors.As(err, &se) {
		return err
	}
	return &source.Error{
		Prov: identity.Provenance{File: wb.file},
		Msg:  fmt.Sprintf("the workbook is damaged: cannot read %s: %v", part, err),
		Hint: hintResave,
	}
}

// notWorkbook reports a ZIP archive that holds no Excel workbook, saying
// what it seems to be instead.
func (wb *workbook) notWorkbook() error {
	e := &source.Error{
		Prov: identity.Provenance{File: wb.file},
		Msg:  "the file is a ZIP archive but not an Excel workbook: it has no workbook part",
		Hint: "give the .xlsx file Excel saved (\"Excel Workbook (*.xlsx)\")",
	}
	switch {
	case wb.part("xl/workbook.bin") != nil:
		e.Msg = "the file is an Excel binary workbook (.xlsb), which hrsync cannot read"
		e.Hint = "open it in Excel and save it as \"Excel Workbook (*.xlsx)\""
	case wb.part("mimetype") != nil || wb.part("content.xml") != nil:
		e.Msg = "the file is an OpenDocument spreadsheet (.ods), not an Excel workbook"
		e.Hint = "open it and save it as \"Excel Workbook (*.xlsx)\""
	case wb.part("word/document.xml") != nil:
		e.Msg = "the file is a Word document, not an Excel workbook"
	case wb.part("ppt/presentation.xml") != nil:
		e.Msg = "the file is a PowerPoint presentation, not an Excel workbook"
	}
	return e
}
