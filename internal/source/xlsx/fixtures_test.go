package xlsx

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// update rewrites the committed workbooks and the fuzz seed corpus:
// go test ./internal/source/xlsx/ -run 'TestFixtures|TestFuzzSeeds' -update
var update = flag.Bool("update", false, "rewrite testdata/*.xlsx and testdata/fuzz/FuzzRead")

// fixtureHeader and fixtureRows are what the committed workbooks hold on
// their Workers sheet, as read.
var (
	fixtureHeader = []string{"WorkerID", "FirstName", "LastName", "Email", "HireDate", "LastLogin", "ManagerID", "FTE", "Active", "Department", "ZipCode"}
	fixtureRows   = []row{
		{4, []string{"000123", "José", "Müller", "jose.muller@example.com", "2013-01-01", "2024-03-01T08:30:00Z", "", "1", "true", "Sales", "01234"}},
		{5, []string{"000124", "Zoë", "O'Brien", "zoe.obrien@example.com", "2024-02-29", "2024-03-04T17:05:30Z", "123", "0.8", "true", "Sales", "94110"}},
		{6, []string{"000125", "Łukasz", "Nowak", "lukasz.nowak@example.com", "1999-12-31", "", "123", "0.5", "false", "Finance", "00501"}},
		{8, []string{"EXT-9", "Ann", "Lee", "", "2025-06-15", "", "124", "0", "false", "", ""}},
	}
)

// writeFixture builds the committed workbook: a README sheet first, the
// Workers sheet second with a merged title row, an empty row and the header
// in row 3, dates under several formats, text IDs with leading zeros,
// numbers, booleans, a lookup formula with its cached value, a zip code
// under "00000", an empty row between the workers; a hidden Lookups sheet.
func writeFixture(t *testing.T, path string, date1904 bool) {
	f := excelize.NewFile()
	defer f.Close()
	must(t, f.SetSheetName("Sheet1", "README"))
	must(t, f.SetCellValue("README", "A1", "Workers export for hrsync tests. The data is on the Workers sheet."))
	_, err := f.NewSheet("Workers")
	must(t, err)
	_, err = f.NewSheet("Lookups")
	must(t, err)
	must(t, f.SetSheetVisible("Lookups", false))
	if date1904 {
		yes := true
		must(t, f.SetWorkbookProps(&excelize.WorkbookPropsOptions{Date1904: &yes}))
	}
	must(t, f.SetSheetRow("Lookups", "A1", &[]any{"Code", "Department"}))
	must(t, f.SetSheetRow("Lookups", "A2", &[]any{"S", "Sales"}))
	must(t, f.SetSheetRow("Lookups", "A3", &[]any{"F", "Finance"}))

	style := func(code string) int {
		id, err := f.NewStyle(&excelize.Style{CustomNumFmt: &code})
		must(t, err)
		return id
	}
	dmy, iso, stamp, zip := style("dd.mm.yyyy"), style("yyyy-mm-dd"), style("m/d/yy h:mm:ss"), style("00000")
	us, err := f.NewStyle(&excelize.Style{NumFmt: 14})
	must(t, err)
	serial := func(y, m, d int, frac float64) float64 {
		days := float64(excelDays(y, m, d))
		if date1904 {
			days -= 1462
		}
		return days + frac
	}
	sw, err := f.NewStreamWriter("Workers")
	must(t, err)
	must(t, sw.SetRow("A1", []any{"Workers — March 2024"}))
	must(t, sw.SetRow("A3", []any{"WorkerID", "FirstName", "LastName", "Email", "HireDate", "LastLogin", "ManagerID", "FTE", "Active", "Department", "ZipCode"}))
	must(t, sw.SetRow("A4", []any{"000123", "José", "Müller", "jose.muller@example.com",
		excelize.Cell{StyleID: dmy, Value: serial(2013, 1, 1, 0)},
		excelize.Cell{StyleID: stamp, Value: serial(2024, 3, 1, 8.5/24)},
		nil, 1, true,
		excelize.Cell{Formula: `VLOOKUP("S",Lookups!A:B,2,FALSE)`, Value: "Sales"},
		excelize.Cell{StyleID: zip, Value: 1234}}))
	must(t, sw.SetRow("A5", []any{"000124", " Zoë ", "O'Brien", "zoe.obrien@example.com",
		excelize.Cell{StyleID: us, Value: serial(2024, 2, 29, 0)},
		excelize.Cell{StyleID: stamp, Value: serial(2024, 3, 4, (17*3600+5*60+30)/86400.0)},
		123, 0.8, true,
		excelize.Cell{Formula: `VLOOKUP("S",Lookups!A:B,2,FALSE)`, Value: "Sales"},
		excelize.Cell{StyleID: zip, Value: 94110}}))
	must(t, sw.SetRow("A6", []any{"000125", "Łukasz", "Nowak", "lukasz.nowak@example.com",
		excelize.Cell{StyleID: iso, Value: serial(1999, 12, 31, 0)},
		nil, 123, 0.1 + 0.4, false,
		excelize.Cell{Formula: `VLOOKUP("F",Lookups!A:B,2,FALSE)`, Value: "Finance"},
		excelize.Cell{StyleID: zip, Value: 501}}))
	must(t, sw.SetRow("A8", []any{"EXT-9", "Ann", "Lee", nil,
		excelize.Cell{StyleID: dmy, Value: serial(2025, 6, 15, 0)},
		nil, 124, 0, false}))
	must(t, sw.MergeCell("A1", "K1"))
	must(t, sw.Flush())
	f.SetActiveSheet(1)
	must(t, f.SaveAs(path))
}

// excelDays is the 1900-system serial of a date after 1900-02-28.
func excelDays(y, m, d int) int {
	return int(time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC).Sub(epoch1900).Hours() / 24)
}

func TestFixtures(t *testing.T) {
	for _, tt := range []struct {
		file     string
		date1904 bool
	}{
		{"workers.xlsx", false},
		{"workers-1904.xlsx", true},
	} {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", tt.file)
			if *update {
				writeFixture(t, path, tt.date1904)
			}
			for _, opts := range []Options{{Sheet: "Workers", HeaderRow: 3}, {Sheet: "2", HeaderRow: 3}} {
				recs, sum, err := readAll(t, path, opts)
				if err != nil {
					t.Fatalf("%+v: %v", opts, err)
				}
				if !reflect.DeepEqual(sum.Header, fixtureHeader) {
					t.Errorf("header = %q", sum.Header)
				}
				if len(recs) != len(fixtureRows) || sum.Records != len(fixtureRows) {
					t.Fatalf("read %d records, want %d", len(recs), len(fixtureRows))
				}
				for i, r := range recs {
					want := fixtureRows[i]
					if r.Prov.Row != want.row || r.Prov.Sheet != "Workers" || !reflect.DeepEqual(r.Values, want.vals) {
						t.Errorf("record %d at %s = %q\nwant row %d %q", i, r.Prov, r.Values, want.row, want.vals)
					}
				}
				data, err := os.ReadFile(path)
				must(t, err)
				h := sha256.Sum256(data)
				if sum.Digest != "sha256:"+hex.EncodeToString(h[:]) {
					t.Errorf("Digest = %s", sum.Digest)
				}
			}
			// Without the header row, the merged title is taken for it.
			_, _, err := readAll(t, path, Options{Sheet: "Workers"})
			checkErr(t, err, wantErr{"Workers", 3, "B", []string{
				`cell B3: the value "FirstName" is in a column without a name: the header row 1 names columns A to A`,
				"B1 is part of the merged cell A1:K1",
			}})
			// By default the first sheet is read.
			recs, sum, err := readAll(t, path, Options{})
			if err != nil || len(recs) != 0 || len(sum.Header) != 1 {
				t.Errorf("reading the first sheet: %q, %d records, %v", sum.Header, len(recs), err)
			}
		})
	}
}
