package csv

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/hrsync/hrsync/internal/identity"
)

const (
	benchRows = 100_000
	benchCols = 24
)

// writeBenchFile writes a realistic benchRows x benchCols HR export: leading
// zeros, diacritics, a quoted value with a delimiter in every tenth row and a
// multi-line one in every hundredth, CRLF line ends.
func writeBenchFile(b *testing.B) (string, int64) {
	b.Helper()
	path := filepath.Join(b.TempDir(), "bench.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for c := range benchCols {
		if c > 0 {
			w.WriteByte(',')
		}
		fmt.Fprintf(w, "Column%02d", c)
	}
	w.WriteString("\r\n")
	for r := range benchRows {
		fmt.Fprintf(w, "%06d,Active,Employee,EMP%06d,José,Müller-Łukasz,", r, r)
		switch {
		case r%100 == 0:
			w.WriteString(`"Line one` + "\r\n" + `line two"`)
		case r%10 == 0:
			w.WriteString(`"Müller, José ""JM"""`)
		default:
			w.WriteString("José Müller")
		}
		w.WriteString(",HE/HIM,000123,2013-01-01,True,Sales,Electronics,CC3035,Woodgrove,Europe," +
			"Sales Executive,303 Mansion Ct,Chicago,UK,259-915-1098,T1001,,85434\r\n")
	}
	if err := w.Flush(); err != nil {
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

// BenchmarkRead reads a 100k-row, 24-column file; it reports ns/row and
// allocs/row besides the per-read figures.
func BenchmarkRead(b *testing.B) {
	path, size := writeBenchFile(b)
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

// BenchmarkEncodingCSV reads the same file with encoding/csv alone, for
// comparison.
func BenchmarkEncodingCSV(b *testing.B) {
	path, size := writeBenchFile(b)
	b.SetBytes(size)
	b.ReportAllocs()
	reads := 0
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		r := csv.NewReader(f)
		n := 0
		for {
			_, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		f.Close()
		if n != benchRows+1 {
			b.Fatalf("read %d records", n)
		}
		reads++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(reads*benchRows), "ns/row")
}
