package xlsx

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/source"
)

// fuzzOptions turns the fuzzer's option byte into a sheet and header row.
func fuzzOptions(o uint8) (sheet string, headerRow int) {
	return []string{"", "2", "Workers", "workers"}[o%4], int(o/4) % 4
}

// FuzzRead feeds arbitrary bytes, written to a file, to the source: it must
// not panic, every error must be a *source.Error naming the file (there is
// no I/O to fail), and a successful read must be consistent.
//
// The seeds in testdata/fuzz/FuzzRead include workbooks whose parts are
// stored uncompressed and without checksums, so that mutations reach the
// XML instead of failing the ZIP checks.
func FuzzRead(f *testing.F) {
	f.Add([]byte{}, uint8(0))
	f.Add([]byte("ID,Name\n1,Ann\n"), uint8(0))
	f.Add(oleFile("Root Entry", "EncryptionInfo", "EncryptedPackage"), uint8(0))
	path := filepath.Join(f.TempDir(), "fuzz.xlsx")
	f.Fuzz(func(t *testing.T, data []byte, opt uint8) {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		sheet, headerRow := fuzzOptions(opt)
		s, err := New(Options{Path: path, Display: "fuzz.xlsx", Sheet: sheet, HeaderRow: headerRow})
		if err != nil {
			t.Fatal(err)
		}
		var recs []*identity.Record
		sum, err := s.Read(context.Background(), func(r *identity.Record) error {
			recs = append(recs, r)
			return nil
		})
		if err != nil {
			var se *source.Error
			if !errors.As(err, &se) {
				t.Fatalf("error %v is a %T, not a *source.Error", err, err)
			}
			if se.Prov.File != "fuzz.xlsx" {
				t.Fatalf("error %v does not name the file", err)
			}
			return
		}
		if sum.Records != len(recs) {
			t.Fatalf("Records = %d, emitted %d", sum.Records, len(recs))
		}
		h := sha256.Sum256(data)
		if sum.Digest != "sha256:"+hex.EncodeToString(h[:]) {
			t.Fatalf("wrong digest")
		}
		if len(sum.Header) == 0 {
			t.Fatalf("read with no header")
		}
		seen := map[string]bool{}
		for _, n := range sum.Header {
			if n == "" || n != strings.Trim(n, " \t") || !utf8.ValidString(n) || seen[strings.ToLower(n)] {
				t.Fatalf("bad header %q", sum.Header)
			}
			seen[strings.ToLower(n)] = true
		}
		last := 0
		for _, r := range recs {
			if len(r.Values) != len(sum.Header) || r.Header != recs[0].Header || cap(r.Values) != len(r.Values) {
				t.Fatalf("record at %s has %d values for %d columns", r.Prov, len(r.Values), len(sum.Header))
			}
			if r.Prov.File != "fuzz.xlsx" || r.Prov.Sheet == "" || r.Prov.Row <= last || r.Prov.Row > maxRows {
				t.Fatalf("record at %s after row %d", r.Prov, last)
			}
			last = r.Prov.Row
			empty := true
			for _, v := range r.Values {
				if !utf8.ValidString(v) || v != strings.Trim(v, " \t") {
					t.Fatalf("bad value %q at %s", v, r.Prov)
				}
				if v != "" {
					empty = false
				}
			}
			if empty {
				t.Fatalf("empty record emitted at %s", r.Prov)
			}
		}
	})
}

// fuzzSeeds are the workbooks of the committed seed corpus.
func fuzzSeeds(t *testing.T) map[string][]byte {
	rich := func(date1904 bool) *book {
		return &book{
			store:    true,
			date1904: date1904,
			numFmts:  map[int]string{164: "dd.mm.yyyy", 165: "00000", 166: "[h]:mm", 167: "yyyy-mm-dd hh:mm:ss"},
			xfs:      []int{0, 14, 164, 165, 166, 167, 20, 49},
			sst: []string{
				"<t>ID</t>", "<t>Name</t>", `<r><t>Hi</t></r><r><t xml:space="preserve">red </t></r>`,
				"<t>東京</t><rPh sb=\"0\" eb=\"2\"><t>トウキョウ</t></rPh>", "<t>a_x000D_b &amp; c</t>", "<t>  pad  </t>",
			},
			sheets: []bookSheet{
				{name: "Lookups", state: "hidden", data: `<row r="1"><c r="A1" t="s"><v>0</v></c></row>`},
				{name: "Workers", data: `<row r="1"><c r="A1" t="inlineStr"><is><t>Report</t></is></c></row>` +
					`<row r="3" spans="1:9"><c r="A3" t="s"><v>0</v></c><c r="B3" t="s"><v>1</v></c><c r="C3" t="inlineStr"><is><t>Hired</t></is></c>` +
					`<c r="D3" t="inlineStr"><is><t>Zip</t></is></c><c r="E3" t="inlineStr"><is><t>Hours</t></is></c><c r="F3" t="inlineStr"><is><t>At</t></is></c>` +
					`<c r="G3" t="inlineStr"><is><t>Flag</t></is></c><c r="H3" t="inlineStr"><is><t>Calc</t></is></c><c r="I3" t="inlineStr"><is><t>When</t></is></c></row>` +
					`<row r="4"><c r="A4" t="s"><v>4</v></c><c r="B4" t="s"><v>2</v></c><c r="C4" s="2"><v>45352</v></c><c r="D4" s="3"><v>501</v></c>` +
					`<c r="E4" s="4"><v>1.5</v></c><c r="F4" s="5"><v>45352.354166666664</v></c><c r="G4" t="b"><v>1</v></c>` +
					`<c r="H4"><f>C4*2</f><v>90704</v></c><c r="I4" t="d"><v>2024-03-01T08:30:00Z</v></c></row>` +
					`<row r="5"><c r="A5" t="s"><v>5</v></c><c r="B5" t="s"><v>3</v></c><c r="C5" s="1"><v>1</v></c><c r="D5" s="6"><v>0.5</v></c>` +
					`<c r="E5" s="7"><v>0.1</v></c><c r="F5"><v>1.2345678901234567E+19</v></c><c r="G5" t="b"><v>0</v></c><c r="H5" t="str"><f>B5</f><v>x</v></c></row>` +
					`<row r="6"><c r="A6" t="inlineStr"><is><r><t>0012</t></r><r><t>3</t></r></is></c><c r="B6" t="e"><v>#N/A</v></c><c r="H6"><f>1/0</f></c></row>`,
					tail: `<mergeCells count="2"><mergeCell ref="A1:I1"/><mergeCell ref="B5:B6"/></mergeCells>`},
				{name: "Chart1", chart: true},
			},
		}
	}
	valid := newBook(t, "Workers", []any{"ID", "Name", "Hired"}, []any{"00123", "José", 45352}, []any{"00124", "Zoë", 1.5})
	styled(t, valid, "Workers", "C2", 45352, 14)
	validPath := save(t, valid)
	validData, err := os.ReadFile(validPath)
	must(t, err)
	return map[string][]byte{
		"valid-excelize":    validData,
		"rich-stored":       rich(false).bytes(t),
		"rich-stored-1904":  rich(true).bytes(t),
		"merged-header":     sheetXML(hdr("ID", "Address") + `<row r="2"><c r="A2"><v>1</v></c><c r="C2"><v>2</v></c></row>`).bytes(t),
		"damaged-sheet-xml": (&book{store: true, sheets: []bookSheet{{name: "Workers", raw: `<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>ID</t></is></c></row><row r="2"><c><v>1</c>`}}}).bytes(t),
	}
}

// TestFuzzSeeds checks the committed seed corpus is current and that its
// workbooks read as intended; -update rewrites it.
func TestFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzRead")
	seeds := fuzzSeeds(t)
	if *update {
		must(t, os.MkdirAll(dir, 0o755))
		for name, data := range seeds {
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\nbyte(%q)\n", data, byte(0))
			if strings.HasPrefix(name, "rich") {
				body = fmt.Sprintf("go test fuzz v1\n[]byte(%q)\nbyte(%q)\n", data, byte(2+4*3))
			}
			must(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644))
		}
	}
	for name := range seeds {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("seed %s is missing: run go test ./internal/source/xlsx/ -run TestFuzzSeeds -update", name)
		}
	}
	// The rich seeds read through to their error cell.
	for _, name := range []string{"rich-stored", "rich-stored-1904"} {
		recs, _, err := readAll(t, writeBytes(t, seeds[name]), Options{Sheet: "Workers", HeaderRow: 3})
		checkErr(t, err, wantErr{"Workers", 6, "Name", []string{"#N/A"}})
		want := [][]string{
			{"a\rb & c", "Hired", "2024-03-01", "00501", "1.5", "2024-03-01T08:30:00Z", "true", "90704", "2024-03-01T08:30:00Z"},
			{"pad", "東京", "1900-01-01", "12:00:00", "0.1", "12345678901234600000", "false", "x", ""},
		}
		if name == "rich-stored-1904" {
			want[0][2], want[0][5], want[1][2] = "2028-03-02", "2028-03-02T08:30:00Z", "1904-01-02"
		}
		if len(recs) != 2 {
			t.Fatalf("%s: read %d records", name, len(recs))
		}
		for i, r := range recs {
			if !reflect.DeepEqual(r.Values, want[i]) {
				t.Errorf("%s: record %d = %q, want %q", name, i, r.Values, want[i])
			}
		}
	}
	recs, _, err := readAll(t, writeBytes(t, seeds["valid-excelize"]), Options{})
	if err != nil || len(recs) != 2 {
		t.Errorf("valid seed: %d records, %v", len(recs), err)
	}
}
