package xlsx

import (
	"bytes"
	"errors"
	"io"
	"unicode/utf8"

	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/source"
)

// oleMagic starts an OLE compound file: a legacy .xls workbook, or an xlsx
// workbook encrypted with a password (Excel wraps those in one).
var oleMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}

// sniffSize is how much of a file is looked at to tell what it is.
const sniffSize = 4096

// hintSaveAs is the hint for a file in another format.
const hintSaveAs = "open it in Excel and save it as \"Excel Workbook (*.xlsx)\""

// notZip explains why a file that is not a ZIP archive is not an xlsx
// workbook, saying what it seems to be.
func notZip(ra io.ReaderAt, size int64, file string) error {
	head := make([]byte, min(size, sniffSize))
	n, err := ra.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	head = head[:n]
	e := &source.Error{
		Prov: identity.Provenance{File: file},
		Msg:  "the file is not an xlsx workbook (an xlsx file is a ZIP archive, starting with \"PK\")",
		Hint: "give the workbook Excel saved as \"Excel Workbook (*.xlsx)\"",
	}
	text := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xEF\xBB\xBF")), " \t\r\n")
	lower := bytes.ToLower(text[:min(len(text), 512)])
	switch {
	case size == 0:
		e.Msg = "the file is empty"
		e.Hint = "export the workbook again"
	case bytes.HasPrefix(head, oleMagic):
		e.Msg, e.Hint = ole(ra, size)
	case bytes.HasPrefix(lower, []byte("<!doctype html")) || bytes.HasPrefix(lower, []byte("<html")) ||
		bytes.HasPrefix(lower, []byte("<table")) || bytes.Contains(lower, []byte("<html")):
		e.Msg = "the file is an HTML page, not an xlsx workbook (some HR systems export HTML tables with an Excel file name)"
		e.Hint = hintSaveAs + ", or export the data as CSV and use a csv source"
	case bytes.HasPrefix(lower, []byte("<?xml")) && bytes.Contains(head, []byte("urn:schemas-microsoft-com:office:spreadsheet")):
		e.Msg = "the file is an \"XML Spreadsheet 2003\", not an xlsx workbook"
		e.Hint = hintSaveAs
	case bytes.HasPrefix(lower, []byte("<")):
		e.Msg = "the file is an XML or HTML document, not an xlsx workbook"
		e.Hint = hintSaveAs
	case bytes.HasPrefix(head, []byte("%PDF")):
		e.Msg = "the file is a PDF document, not an xlsx workbook"
	case looksLikeText(head):
		e.Msg = "the file is a text file (a CSV export?), not an xlsx workbook"
		e.Hint = "if it is a CSV file, use a csv source (source.type: csv); otherwise " + hintSaveAs
	}
	return e
}

// looksLikeText reports whether b looks like the start of a text file:
// UTF-8 (a character may be cut at the end) or UTF-16 with a byte-order
// mark, without control characters other than tab and line ends.
func looksLikeText(b []byte) bool {
	if bytes.HasPrefix(b, []byte{0xFF, 0xFE}) || bytes.HasPrefix(b, []byte{0xFE, 0xFF}) {
		return true
	}
	if len(b) > utf8.UTFMax {
		// Allow a character cut short at the end.
		for i := 1; i < utf8.UTFMax && !utf8.Valid(b); i++ {
			b = b[:len(b)-1]
		}
	}
	if !utf8.Valid(b) {
		return false
	}
	for _, c := range b {
		if c < ' ' && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}

// ole tells an encrypted xlsx workbook from a legacy .xls one by the names
// of the streams in the compound file's directory (UTF-16 text).
func ole(ra io.ReaderAt, size int64) (msg, hint string) {
	has := func(name string) bool {
		pat := make([]byte, 0, 2*len(name))
		for i := 0; i < len(name); i++ {
			pat = append(pat, name[i], 0)
		}
		return scan(ra, size, pat)
	}
	switch {
	case has("EncryptedPackage"):
		return "the workbook is encrypted with a password, and hrsync cannot read encrypted workbooks",
			"remove the password (in Excel: File > Info > Protect Workbook > Encrypt with Password, clear it) and save the workbook again, or export an unprotected copy"
	case has("Workbook") || has("Book"):
		return "the file is a legacy Excel 97-2003 workbook (.xls), which hrsync cannot read",
			hintSaveAs
	}
	return "the file is an OLE compound document (such as a legacy Office file), not an xlsx workbook", hintSaveAs
}

// scan reports whether pat occurs in the first size bytes of ra.
func scan(ra io.ReaderAt, size int64, pat []byte) bool {
	const chunk = 64 << 10
	buf := make([]byte, chunk+len(pat))
	for off := int64(0); off < size; off += chunk {
		n, err := ra.ReadAt(buf, off)
		if bytes.Contains(buf[:n], pat) {
			return true
		}
		if err != nil {
			return false
		}
	}
	return false
}
