package xlsx

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/source"
)

func TestNew(t *testing.T) {
	tests := []struct {
		opts  Options
		index int
		err   string
	}{
		{Options{Path: "w.xlsx"}, 0, ""},
		{Options{Path: "w.xlsx", Sheet: "Workers"}, 0, ""},
		{Options{Path: "w.xlsx", Sheet: "2"}, 2, ""},
		{Options{Path: "w.xlsx", Sheet: "-1"}, 0, ""}, // a name
		{Options{Path: "w.xlsx", Sheet: " 2"}, 0, ""}, // a name
		{Options{Path: "w.xlsx", Sheet: "0"}, 0, "a sheet position counts from 1"},
		{Options{Path: "w.xlsx", Sheet: "99999999999999999999"}, 0, "a sheet position counts from 1"},
		{Options{Path: "w.xlsx", HeaderRow: 3}, 0, ""},
		{Options{Path: "w.xlsx", HeaderRow: -1}, 0, "header row -1"},
		{Options{Path: "w.xlsx", HeaderRow: maxRows + 1}, 0, "header row 1048577"},
		{Options{}, 0, "no file path"},
	}
	for _, tt := range tests {
		s, err := New(tt.opts)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("New(%+v) error = %v, want %q", tt.opts, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("New(%+v): %v", tt.opts, err)
			continue
		}
		if s.index != tt.index {
			t.Errorf("New(%+v).index = %d, want %d", tt.opts, s.index, tt.index)
		}
	}
	var _ source.Source = (*Source)(nil)
}

func TestString(t *testing.T) {
	for _, tt := range []struct {
		opts Options
		want string
	}{
		{Options{Path: "/abs/hr/workers.xlsx"}, "xlsx /abs/hr/workers.xlsx"},
		{Options{Path: "/abs/hr/workers.xlsx", Display: "hr/workers.xlsx", Sheet: "Workers"}, "xlsx hr/workers.xlsx (sheet Workers)"},
		{Options{Path: "w.xlsx", Sheet: "2", HeaderRow: 3}, "xlsx w.xlsx (sheet 2, header row 3)"},
		{Options{Path: "w.xlsx", HeaderRow: 3}, "xlsx w.xlsx (header row 3)"},
	} {
		s, err := New(tt.opts)
		must(t, err)
		if got := s.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

func TestDigest(t *testing.T) {
	path := save(t, newBook(t, "Workers", []any{"ID"}, []any{"1"}))
	_, sum, err := readAll(t, path, Options{})
	must(t, err)
	data, err := os.ReadFile(path)
	must(t, err)
	h := sha256.Sum256(data)
	if want := "sha256:" + hex.EncodeToString(h[:]); sum.Digest != want {
		t.Errorf("Digest = %s, want %s", sum.Digest, want)
	}
}

// bigBook writes a one-column sheet of n rows under a header.
func bigBook(t testing.TB, n int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(hdr("ID"))
	for i := range n {
		fmt.Fprintf(&b, `<row r="%d"><c r="A%d"><v>%d</v></c></row>`, i+2, i+2, i)
	}
	return sheetXML(b.String()).file(t, "workers.xlsx")
}

func TestCancel(t *testing.T) {
	path := bigBook(t, 5000)
	s, err := New(Options{Path: path})
	must(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Read(ctx, func(*identity.Record) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("Read with a cancelled context: %v", err)
	}

	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	n := 0
	_, err = s.Read(ctx, func(*identity.Record) error {
		if n++; n == 10 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || n != 10 {
		t.Errorf("Read cancelled after 10 records: %v after %d records", err, n)
	}
}

func TestEmitErrorReturnedAsIs(t *testing.T) {
	stop := errors.New("stop")
	s, err := New(Options{Path: bigBook(t, 10)})
	must(t, err)
	n := 0
	_, err = s.Read(context.Background(), func(*identity.Record) error { n++; return stop })
	if err != stop || n != 1 {
		t.Errorf("err = %v after %d records, want stop after 1", err, n)
	}
}

func TestMissingFile(t *testing.T) {
	s, err := New(Options{Path: filepath.Join(t.TempDir(), "nope.xlsx")})
	must(t, err)
	_, err = s.Read(context.Background(), func(*identity.Record) error { return nil })
	var se *source.Error
	if err == nil || errors.As(err, &se) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v, want a wrapped not-exist error", err)
	}
	s, err = New(Options{Path: t.TempDir()})
	must(t, err)
	if _, err = s.Read(context.Background(), func(*identity.Record) error { return nil }); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("reading a directory: %v", err)
	}
}

func TestReadTwice(t *testing.T) {
	s, err := New(Options{Path: bigBook(t, 100)})
	must(t, err)
	for range 2 {
		n := 0
		sum, err := s.Read(context.Background(), func(*identity.Record) error { n++; return nil })
		if err != nil || n != 100 || sum.Records != 100 {
			t.Fatalf("read %d records: %v", n, err)
		}
	}
}

func TestRecordsShareHeaderAndDoNotAlias(t *testing.T) {
	recs, _, err := readAll(t, bigBook(t, 3000), Options{})
	must(t, err)
	for i, r := range recs {
		if r.Header != recs[0].Header {
			t.Fatalf("record %d has its own header", i)
		}
		if cap(r.Values) != len(r.Values) {
			t.Fatalf("record %d: Values has spare capacity %d; appending would overwrite the next record", i, cap(r.Values))
		}
		if v, ok := r.Field("id"); !ok || v != fmt.Sprint(i) {
			t.Fatalf("record %d: Field(id) = %q, %v", i, v, ok)
		}
	}
	recs[0].Values[0] = "changed"
	if recs[1].Values[0] != "1" {
		t.Error("records share values")
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		code string
		want numFmt
	}{
		{"General", numFmt{}},
		{"0", numFmt{}},
		{"0.00", numFmt{}},
		{"#,##0", numFmt{}},
		{"000000", numFmt{pad: 6}},
		{"00000;-00000", numFmt{pad: 5}},
		{`"EMP"000000`, numFmt{}},
		{"0.00E+00", numFmt{}},
		{"##0.0E-0", numFmt{}},
		{"0%", numFmt{}},
		{"@", numFmt{}},
		{`_("$"* #,##0.00_);_("$"* \(#,##0.00\);_("$"* "-"??_);_(@_)`, numFmt{}},
		{"[Red]0.00", numFmt{}},
		{"[h]:mm:ss", numFmt{}},
		{"[mm]:ss", numFmt{}},
		{"yyyy-mm-dd", numFmt{kind: fmtDate}},
		{"dd.mm.yyyy", numFmt{kind: fmtDate}},
		{"d/m/yy", numFmt{kind: fmtDate}},
		{"mmm-yy", numFmt{kind: fmtDate}},
		{"mmmm", numFmt{kind: fmtDate}},
		{"[$-409]mmmm d, yyyy;@", numFmt{kind: fmtDate}},
		{"[$-F800]dddd, mmmm dd, yyyy", numFmt{kind: fmtDate}},
		{`yyyy"年"m"月"d"日"`, numFmt{kind: fmtDate}},
		{"[$-411]ge.m.d", numFmt{kind: fmtDate}},
		{"yyyy-mm-dd hh:mm:ss", numFmt{kind: fmtDateTime}},
		{"m/d/yy h:mm AM/PM", numFmt{kind: fmtDateTime}},
		{"yyyy-mm-ddThh:mm", numFmt{kind: fmtDateTime}},
		{"h:mm", numFmt{kind: fmtTime}},
		{"hh:mm:ss", numFmt{kind: fmtTime}},
		{"mm:ss", numFmt{kind: fmtTime}},
		{"h AM/PM", numFmt{kind: fmtTime}},
		{"h:mm a/p", numFmt{kind: fmtTime}},
		{`"Date: "General`, numFmt{}},
		{`\d\a\y 0`, numFmt{}},
	}
	for _, tt := range tests {
		if got := classify(tt.code); got != tt.want {
			t.Errorf("classify(%q) = %+v, want %+v", tt.code, got, tt.want)
		}
	}
}

func TestFormatNumber(t *testing.T) {
	tests := []struct {
		v    float64
		pad  int
		want string
	}{
		{0, 0, "0"},
		{math.Copysign(0, -1), 0, "0"},
		{1234, 0, "1234"},
		{-1234, 0, "-1234"},
		{0.1 + 0.2, 0, "0.3"},
		{1.1 * 3, 0, "3.3"},
		{1e20, 0, "100000000000000000000"},
		{123456789012345678, 0, "123456789012346000"},
		{999999999999999, 0, "999999999999999"},
		{1e15, 0, "1000000000000000"},
		{0.000001234, 0, "0.000001234"},
		{1.0 / 3, 0, "0.333333333333333"},
		{2.0 / 3, 0, "0.666666666666667"},
		{-1.5e-10, 0, "-0.00000000015"},
		{123.456, 0, "123.456"},
		{99999.9999999999999, 0, "100000"},
		{123, 6, "000123"},
		{-123, 5, "-00123"},
		{1234567, 5, "1234567"},
		{12.5, 5, "12.5"},
	}
	for _, tt := range tests {
		if got := formatNumber(tt.v, tt.pad); got != tt.want {
			t.Errorf("formatNumber(%v, %d) = %q, want %q", tt.v, tt.pad, got, tt.want)
		}
	}
}

func TestDateValue(t *testing.T) {
	tests := []struct {
		v        float64
		kind     fmtKind
		date1904 bool
		want     string
		err      string
	}{
		{1, fmtDate, false, "1900-01-01", ""},
		{59, fmtDate, false, "1900-02-28", ""},
		{60, fmtDate, false, "", "1900-02-29"},
		{61, fmtDate, false, "1900-03-01", ""},
		{45352, fmtDate, false, "2024-03-01", ""},
		{45352.5, fmtDate, false, "2024-03-01", ""},
		{45352.5, fmtDateTime, false, "2024-03-01T12:00:00Z", ""},
		{45352.0000115740740741, fmtDateTime, false, "2024-03-01T00:00:01Z", ""},
		{45352.5000057870370370, fmtDateTime, false, "2024-03-01T12:00:00.5Z", ""},
		{45352, fmtDateTime, false, "2024-03-01T00:00:00Z", ""},
		{0.75, fmtTime, false, "18:00:00", ""},
		{45352.75, fmtTime, false, "2024-03-01T18:00:00Z", ""},
		{0, fmtDate, false, "", "1900-01-00"},
		{0.5, fmtDateTime, false, "", "1900-01-00"},
		{-1, fmtDate, false, "", "negative"},
		{math.NaN(), fmtDate, false, "", "negative"},
		{2958465, fmtDate, false, "9999-12-31", ""},
		{2958466, fmtDate, false, "", "after 9999-12-31"},
		{1e300, fmtDate, false, "", "after 9999-12-31"},
		{0, fmtDate, true, "1904-01-01", ""},
		{43890, fmtDate, true, "2024-03-01", ""},
		{2957003, fmtDate, true, "9999-12-31", ""},
		{2957004, fmtDate, true, "", "after 9999-12-31"},
	}
	for _, tt := range tests {
		got, msg := dateValue(tt.v, tt.kind, tt.date1904)
		if got != tt.want || (tt.err == "") != (msg == "") || !strings.Contains(msg, tt.err) {
			t.Errorf("dateValue(%v, %d, %v) = %q, %q; want %q, %q", tt.v, tt.kind, tt.date1904, got, msg, tt.want, tt.err)
		}
	}
}

func TestISOValue(t *testing.T) {
	for in, want := range map[string]string{
		"2024-03-01":                "2024-03-01",
		"2024-03-01T08:30:00":       "2024-03-01T08:30:00Z",
		"2024-03-01T08:30:00.250Z":  "2024-03-01T08:30:00.25Z",
		"2024-03-01T08:30:00+02:00": "2024-03-01T08:30:00+02:00",
		"2024-03-01T08:30":          "2024-03-01T08:30:00Z",
		"08:30:00":                  "08:30:00",
		"2024-13-01":                "",
		"yesterday":                 "",
	} {
		got, ok := isoValue(in)
		if got != want || ok != (want != "") {
			t.Errorf("isoValue(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestUnescape(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                    "plain",
		"a_x000D_b":                "a\rb",
		"_x005F_x000D_":            "_x000D_",
		"x_x0041__x0042_":          "xAB",
		"_x00e9_":                  "é",
		"__x0041_":                 "_A",
		"_x004_":                   "_x004_",
		"_x00zz_":                  "_x00zz_",
		"_xD83D__xDE00_":           "😀",
		"_xD83D_":                  "_xD83D_",
		"_xDE00__xD83D_":           "_xDE00__xD83D_",
		"_x":                       "_x",
		"trailing _x0041":          "trailing _x0041",
		"_x0009_tab":               "\ttab",
		"mixed _x000A_ and _x0020": "mixed \n and _x0020",
	} {
		if got := string(unescape([]byte(in))); got != want {
			t.Errorf("unescape(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseRef(t *testing.T) {
	for in, want := range map[string][2]int{
		"A1": {0, 1}, "c7": {2, 7}, "Z9": {25, 9}, "AA10": {26, 10}, "XFD1048576": {16383, 1048576},
		"XFE1": {-1, 0}, "A0": {-1, 0}, "A1048577": {-1, 0}, "1": {-1, 0}, "A": {-1, 0}, "": {-1, 0},
		"A1B": {-1, 0}, "$A$1": {-1, 0}, "A-1": {-1, 0}, "AAAAAAAA1": {-1, 0},
	} {
		col, row, ok := parseRef([]byte(in))
		if want[0] < 0 {
			if ok {
				t.Errorf("parseRef(%q) = %d, %d, want an error", in, col, row)
			}
			continue
		}
		if !ok || col != want[0] || row != want[1] {
			t.Errorf("parseRef(%q) = %d, %d, %v; want %v", in, col, row, ok, want)
		}
		if name := cellName(col, row); !strings.EqualFold(name, in) {
			t.Errorf("cellName(%d, %d) = %q, want %q", col, row, name, in)
		}
	}
}

// TestPlainInt holds the fast path of number cells to formatNumber: a
// value it passes through as written is what formatNumber would write.
func TestPlainInt(t *testing.T) {
	for _, s := range []string{"0", "7", "-7", "1234", "-0", "00", "0123", "123456789012345", "1234567890123456", "-", "", "1.0", "1e3", "+1", " 1"} {
		f, ok := parseNumber([]byte(s))
		plain := plainInt([]byte(s))
		if plain && (!ok || formatNumber(f, 0) != s) {
			t.Errorf("plainInt(%q) but formatNumber gives %q", s, formatNumber(f, 0))
		}
		if !plain && ok && formatNumber(f, 0) == s {
			t.Errorf("plainInt(%q) = false, but it is plain", s)
		}
	}
}
