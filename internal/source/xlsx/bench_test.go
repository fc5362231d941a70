package xlsx

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"testing"

	"github.com/hrsync/hrsync/internal/identity"
	"github.com/xuri/excelize/v2"
)

const benchRows = 50_000

// benchShared are the texts every row shares, as a real HR export has them
// (status, department, city, ...): shared string i.
var benchShared = []string{
	"WorkerID", "WorkerStatus", "WorkerType", "UserID", "FirstName", "LastName", "FullName",
	"GenderPronoun", "ManagerID", "HireDate", "OnLeave", "Department", "Division", "CostCenter",
	"Company", "Location", "JobTitle", "StreetAddress", "City", "CountryCode", "OfficePhone",
	"Custom01", "Custom02", "ZipCode",
	"Active", "Employee", "José", "Müller-Łukasz", "HE/HIM", "Sales", "Electronics", "CC3035",
	"Woodgrove", "Europe", "Sales Executive", "303 Mansion Ct", "Chicago", "UK", "259-915-1098",
}

// benchBook is a rows x 24 workbook laid out as Excel writes one: a header
// row, text in the shared string table (three unique texts a row: the
// worker ID with its leading zeros, the user ID and the full name), dates
// as serials under a date format, a boolean, numbers, a zip code under
// "00000", an empty column. With inline, the unique texts are inline
// strings instead, as excelize's StreamWriter writes them, and the shared
// string table does not grow with the rows.
func benchBook(rows int, inline bool) *book {
	b := &book{
		numFmts: map[int]string{164: "dd.mm.yyyy", 165: "00000"},
		xfs:     []int{0, 164, 165},
	}
	b.sst = make([]string, 0, len(benchShared)+3*rows)
	for _, s := range benchShared {
		b.sst = append(b.sst, "<t>"+s+"</t>")
	}
	for r := range rows {
		if inline {
			break
		}
		b.sst = append(b.sst,
			fmt.Sprintf("<t>%06d</t>", r),
			fmt.Sprintf("<t>EMP%06d</t>", r),
			fmt.Sprintf("<t>José Müller %d</t>", r))
	}
	s := func(i int) string { return strconv.Itoa(i) }
	b.sheets = []bookSheet{{name: "Workers", write: func(out io.Writer) error {
		w := bufio.NewWriter(out)
		w.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:X` + s(rows+1) + `"/><sheetData><row r="1">`)
		for c := range 24 {
			fmt.Fprintf(w, `<c r="%s1" t="s"><v>%d</v></c>`, colName(c), c)
		}
		w.WriteString(`</row>`)
		u := len(benchShared)
		unique := func(col string, n string, i int, text string) {
			if inline {
				w.WriteString(`<c r="` + col + n + `" t="inlineStr"><is><t>` + text + `</t></is></c>`)
			} else {
				w.WriteString(`<c r="` + col + n + `" t="s"><v>` + s(i) + `</v></c>`)
			}
		}
		for r := range rows {
			n := s(r + 2)
			w.WriteString(`<row r="` + n + `" spans="1:24">`)
			unique("A", n, u+3*r, fmt.Sprintf("%06d", r))
			w.WriteString(`<c r="B` + n + `" t="s"><v>24</v></c><c r="C` + n + `" t="s"><v>25</v></c>`)
			unique("D", n, u+3*r+1, fmt.Sprintf("EMP%06d", r))
			w.WriteString(`<c r="E` + n + `" t="s"><v>26</v></c><c r="F` + n + `" t="s"><v>27</v></c>`)
			unique("G", n, u+3*r+2, fmt.Sprintf("José Müller %d", r))
			w.WriteString(`<c r="H` + n + `" t="s"><v>28</v></c>`)
			w.WriteString(`<c r="I` + n + `"><v>` + s(1000+r%977) + `</v></c>`)
			w.WriteString(`<c r="J` + n + `" s="1"><v>` + s(40000+r%5000) + `</v></c>`)
			w.WriteString(`<c r="K` + n + `" t="b"><v>` + s(r%2) + `</v></c>`)
			for c, v := range []int{29, 30, 31, 32, 33, 34, 35, 36, 37, 38} {
				w.WriteString(`<c r="` + colName(11+c) + n + `" t="s"><v>` + s(v) + `</v></c>`)
			}
			w.WriteString(`<c r="V` + n + `"><v>` + s(r*7) + `.25</v></c>`)
			w.WriteString(`<c r="X` + n + `" s="2"><v>` + s(r%99999) + `</v></c>`)
			w.WriteString(`</row>`)
		}
		w.WriteString(`</sheetData></worksheet>`)
		return w.Flush()
	}}}
	return b
}

// writeBenchBook writes benchBook(rows, inline) and returns its path and
// size.
func writeBenchBook(b *testing.B, rows int, inline bool) (string, int64) {
	b.Helper()
	path := filepath.Join(b.TempDir(), "bench.xlsx")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := benchBook(rows, inline).write(f); err != nil {
		b.Fatal(err)
	}
	st, err := f.Stat()
	if err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return path, st.Size()
}

// BenchmarkRead reads a 50k-row, 24-column workbook; it reports ns/row and
// allocs/row besides the per-read figures.
func BenchmarkRead(b *testing.B) {
	path, size := writeBenchBook(b, benchRows, false)
	s, err := New(Options{Path: path})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size)
	b.ReportAllocs()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	reads := 0
	for b.Loop() {
		n := 0
		sum, err := s.Read(context.Background(), func(*identity.Record) error { n++; return nil })
		if err != nil || sum.Records != benchRows || n != benchRows {
			b.Fatalf("read %d/%d records: %v", n, sum.Records, err)
		}
		reads++
	}
	runtime.ReadMemStats(&ms1)
	rows := float64(reads * benchRows)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/rows, "ns/row")
	b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/rows, "allocs/row")
}

// BenchmarkExcelizeRows reads the same workbook with excelize's own Rows
// iterator (raw values, no conversion), for comparison.
func BenchmarkExcelizeRows(b *testing.B) {
	path, size := writeBenchBook(b, benchRows, false)
	b.SetBytes(size)
	b.ReportAllocs()
	reads := 0
	for b.Loop() {
		f, err := excelize.OpenFile(path)
		if err != nil {
			b.Fatal(err)
		}
		rows, err := f.Rows("Workers")
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for rows.Next() {
			if _, err := rows.Columns(excelize.Options{RawCellValue: true}); err != nil {
				b.Fatal(err)
			}
			n++
		}
		rows.Close()
		f.Close()
		if n != benchRows+1 {
			b.Fatalf("read %d rows", n)
		}
		reads++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(reads*benchRows), "ns/row")
}

// BenchmarkPeakHeap reads workbooks of 100k and 400k rows once, keeping
// nothing, and reports the largest live heap seen (sampled every 2,000 rows
// through runtime/metrics: the heap the last garbage collection found
// live) and the largest heap in use. With three unique texts a row in the
// shared string table, the live heap grows with that table, which any
// reader must hold; with the unique texts inline, it stays flat.
func BenchmarkPeakHeap(b *testing.B) {
	for _, inline := range []bool{false, true} {
		for _, rows := range []int{100_000, 400_000} {
			name := fmt.Sprintf("shared/rows=%d", rows)
			if inline {
				name = fmt.Sprintf("inline/rows=%d", rows)
			}
			b.Run(name, func(b *testing.B) {
				path, _ := writeBenchBook(b, rows, inline)
				s, err := New(Options{Path: path})
				if err != nil {
					b.Fatal(err)
				}
				for b.Loop() {
					runtime.GC()
					sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
					var live, inuse uint64
					var ms runtime.MemStats
					measure := func() {
						metrics.Read(sample)
						live = max(live, sample[0].Value.Uint64())
						runtime.ReadMemStats(&ms)
						inuse = max(inuse, ms.HeapInuse)
					}
					n := 0
					_, err := s.Read(context.Background(), func(*identity.Record) error {
						if n++; n%2000 == 0 {
							measure()
						}
						return nil
					})
					if err != nil || n != rows {
						b.Fatalf("read %d rows: %v", n, err)
					}
					measure()
					b.ReportMetric(float64(live)/(1<<20), "peak-live-MB")
					b.ReportMetric(float64(inuse)/(1<<20), "peak-inuse-MB")
				}
			})
		}
	}
}
