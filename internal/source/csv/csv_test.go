package csv

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/source"

	"github.com/hrsync/hrsync/internal/testenv"
)

// row is an expected record: the line it starts on and its values.
type row struct {
	line int
	vals []string
}

// wantErr describes an expected *source.Error.
type wantErr struct {
	line     int
	column   string
	contains []string // substrings of Error()
}

// encodeUTF16 encodes s as UTF-16 with a byte-order mark.
func encodeUTF16(s string, bigEndian bool) []byte {
	units := utf16.Encode([]rune(s))
	out := make([]byte, 0, 2+2*len(units))
	if bigEndian {
		out = append(out, 0xFE, 0xFF)
	} else {
		out = append(out, 0xFF, 0xFE)
	}
	for _, u := range units {
		if bigEndian {
			out = append(out, byte(u>>8), byte(u))
		} else {
			out = append(out, byte(u), byte(u>>8))
		}
	}
	return out
}

// writeFile writes data to a fresh file and returns its path.
func writeFile(t testing.TB, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hr.csv")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// readAll reads the file at path and collects its records.
func readAll(t testing.TB, path, delim string) ([]*identity.Record, source.Summary, error) {
	t.Helper()
	s, err := New(Options{Path: path, Display: "hr.csv", Delimiter: delim})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	var recs []*identity.Record
	sum, err := s.Read(context.Background(), func(r *identity.Record) error {
		recs = append(recs, r)
		return nil
	})
	return recs, sum, err
}

func TestRead(t *testing.T) {
	tests := []struct {
		name   string
		data   []byte
		delim  string
		header []string
		rows   []row
	}{
		{
			name:   "comma LF",
			data:   []byte("a,b,c\n1,2,3\n4,5,6\n"),
			header: []string{"a", "b", "c"},
			rows:   []row{{2, []string{"1", "2", "3"}}, {3, []string{"4", "5", "6"}}},
		},
		{
			name:   "comma CRLF",
			data:   []byte("a,b,c\r\n1,2,3\r\n4,5,6\r\n"),
			header: []string{"a", "b", "c"},
			rows:   []row{{2, []string{"1", "2", "3"}}, {3, []string{"4", "5", "6"}}},
		},
		{
			name:   "no final line end",
			data:   []byte("a,b\r\n1,2\r\n3,4"),
			header: []string{"a", "b"},
			rows:   []row{{2, []string{"1", "2"}}, {3, []string{"3", "4"}}},
		},
		{
			name:   "UTF-8 BOM",
			data:   []byte("\xEF\xBB\xBFid,name\r\n1,José Müller\r\n"),
			header: []string{"id", "name"},
			rows:   []row{{2, []string{"1", "José Müller"}}},
		},
		{
			name:   "UTF-16 LE BOM, tab (Excel Unicode Text)",
			data:   encodeUTF16("id\tname\r\n00123\tZoë\r\n2\t\"multi\r\nline\"\r\n3\tŁukasz 𝄞\r\n", false),
			header: []string{"id", "name"},
			rows: []row{
				{2, []string{"00123", "Zoë"}},
				{3, []string{"2", "multi\nline"}},
				{5, []string{"3", "Łukasz 𝄞"}},
			},
		},
		{
			name:   "UTF-16 BE BOM, tab",
			data:   encodeUTF16("id\tname\n\n1\tO'Brien\n", true),
			header: []string{"id", "name"},
			rows:   []row{{3, []string{"1", "O'Brien"}}},
		},
		{
			name: "quoted delimiters, quotes and line breaks",
			data: []byte("id,name,note\n" +
				"1,\"O'Brien, Pat\",\"said \"\"hi\"\"\"\n" +
				"2,\"line1\nline2\n\nline4\",x\n" +
				"3,a,\"\"\n"),
			header: []string{"id", "name", "note"},
			rows: []row{
				{2, []string{"1", "O'Brien, Pat", `said "hi"`}},
				{3, []string{"2", "line1\nline2\n\nline4", "x"}},
				{7, []string{"3", "a", ""}},
			},
		},
		{
			name:   "CRLF inside a quoted field reads as LF",
			data:   []byte("a,b\r\n\"x\r\ny\",z\r\n1,2\r\n"),
			header: []string{"a", "b"},
			rows:   []row{{2, []string{"x\ny", "z"}}, {4, []string{"1", "2"}}},
		},
		{
			name:   "semicolon detected",
			data:   []byte("id;name;city\n1;Smith, John;Zürich\n"),
			header: []string{"id", "name", "city"},
			rows:   []row{{2, []string{"1", "Smith, John", "Zürich"}}},
		},
		{
			name:   "tab detected",
			data:   []byte("id\tname\n1\tSmith, John; Jr\n"),
			header: []string{"id", "name"},
			rows:   []row{{2, []string{"1", "Smith, John; Jr"}}},
		},
		{
			name:   "pipe detected",
			data:   []byte("id|name\n1|a,b\n"),
			header: []string{"id", "name"},
			rows:   []row{{2, []string{"1", "a,b"}}},
		},
		{
			name:   "detection counts outside quotes only",
			data:   []byte("\"a;b;c\",d,e\n1,2,3\n"),
			header: []string{"a;b;c", "d", "e"},
			rows:   []row{{2, []string{"1", "2", "3"}}},
		},
		{
			name:   "explicit semicolon word",
			data:   []byte("a;b,c\n1;2,3\n"),
			delim:  "Semicolon",
			header: []string{"a", "b,c"},
			rows:   []row{{2, []string{"1", "2,3"}}},
		},
		{
			name:   "explicit tab escape",
			data:   []byte("a\tb\n1\t2\n"),
			delim:  `\t`,
			header: []string{"a", "b"},
			rows:   []row{{2, []string{"1", "2"}}},
		},
		{
			name:   "single column with explicit delimiter",
			data:   []byte("id\n1\n2\n"),
			delim:  ",",
			header: []string{"id"},
			rows:   []row{{2, []string{"1"}}, {3, []string{"2"}}},
		},
		{
			name:   "Excel sep= line",
			data:   []byte("sep=;\r\na;b\r\n1;2\r\n"),
			header: []string{"a", "b"},
			rows:   []row{{3, []string{"1", "2"}}},
		},
		{
			name:   "header names trimmed",
			data:   []byte(" id ,\tname  ,\" city \"\n1,2,3\n"),
			header: []string{"id", "name", "city"},
			rows:   []row{{2, []string{"1", "2", "3"}}},
		},
		{
			name:   "unquoted spaces trimmed, quoted kept",
			data:   []byte("a,b,c,d\n  x  , \" y \" ,,\"\"\n"),
			header: []string{"a", "b", "c", "d"},
			rows:   []row{{2, []string{"x", " y ", "", ""}}},
		},
		{
			name:   "tab delimiter keeps spaces trimmed but not tabs",
			data:   []byte("a\tb\n x \t \" y \" \n"),
			header: []string{"a", "b"},
			rows:   []row{{2, []string{"x", " y "}}},
		},
		{
			name:   "leading zeros and raw text kept",
			data:   []byte("id,phone,date\n00123,+41 044 000,31.12.2025\n"),
			header: []string{"id", "phone", "date"},
			rows:   []row{{2, []string{"00123", "+41 044 000", "31.12.2025"}}},
		},
		{
			name:   "blank lines and empty rows skipped",
			data:   []byte("a,b\n\n1,2\n,\n  ,  \n\r\n\"\",\"\"\n3,4\n,\n\n"),
			header: []string{"a", "b"},
			rows:   []row{{3, []string{"1", "2"}}, {8, []string{"3", "4"}}},
		},
		{
			name:   "empty Excel rows of any width skipped",
			data:   []byte("a,b,c\n1,2,3\n,,,,,,\n,\n"),
			header: []string{"a", "b", "c"},
			rows:   []row{{2, []string{"1", "2", "3"}}},
		},
		{
			name:   "blank lines before the header",
			data:   []byte("\n\r\na,b\n1,2\n"),
			header: []string{"a", "b"},
			rows:   []row{{4, []string{"1", "2"}}},
		},
		{
			name:   "header only",
			data:   []byte("a,b\n"),
			header: []string{"a", "b"},
		},
		{
			name:   "quoted header name with delimiter and line break",
			data:   []byte("\"a,\nb\",c\n1,2\n"),
			header: []string{"a,\nb", "c"},
			rows:   []row{{3, []string{"1", "2"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, sum, err := readAll(t, writeFile(t, tt.data), tt.delim)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if !reflect.DeepEqual(sum.Header, tt.header) {
				t.Errorf("header = %q, want %q", sum.Header, tt.header)
			}
			if sum.Records != len(tt.rows) || len(recs) != len(tt.rows) {
				t.Fatalf("Records = %d, emitted %d, want %d", sum.Records, len(recs), len(tt.rows))
			}
			for i, r := range recs {
				if r.Prov.Line != tt.rows[i].line || r.Prov.File != "hr.csv" {
					t.Errorf("record %d at %s, want hr.csv:%d", i, r.Prov, tt.rows[i].line)
				}
				if !reflect.DeepEqual(r.Values, tt.rows[i].vals) {
					t.Errorf("record %d = %q, want %q", i, r.Values, tt.rows[i].vals)
				}
				if r.Header != recs[0].Header {
					t.Errorf("record %d has its own header", i)
				}
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name  string
		data  []byte
		delim string
		want  wantErr
	}{
		{"empty file", []byte(""), "", wantErr{0, "", []string{"hr.csv: the file is empty"}}},
		{"BOM only", []byte("\xEF\xBB\xBF"), "", wantErr{0, "", []string{"empty"}}},
		{"blank lines only", []byte("\n\r\n\n"), "", wantErr{0, "", []string{"empty"}}},
		{"no delimiter", []byte("id\n1\n"), "", wantErr{1, "", []string{"hr.csv:1:", "cannot detect the delimiter", "source.delimiter"}}},
		{"delimiter tie", []byte("a,b;c\n1,2;3\n"), "", wantErr{1, "", []string{`1 × "," and 1 × ";"`, "source.delimiter"}}},
		{"empty header name", []byte("a,,c\n1,2,3\n"), "", wantErr{1, "2", []string{"hr.csv:1: column 2: empty column name"}}},
		{"blank header name", []byte("a, ,c\n1,2,3\n"), "", wantErr{1, "2", []string{"empty column name"}}},
		{"trailing delimiter in header", []byte("a,b,\n1,2,\n"), "", wantErr{1, "3", []string{"stray delimiter"}}},
		{"duplicate header name", []byte("Email,name,email\n"), "", wantErr{1, "email", []string{`column 1 "Email" and column 3 "email"`, "rename"}}},
		{"too few fields", []byte("a,b,c\n1,2,3\n1,2\n"), "", wantErr{3, "", []string{"hr.csv:3: record has 2 fields, header has 3", "cut short"}}},
		{"too many fields", []byte("a,b,c\n1,2,3,4\n"), "", wantErr{2, "", []string{"record has 4 fields, header has 3", `delimiter ","`}}},
		{"trailing delimiters in row", []byte("a;b\n1;2;;\n"), "", wantErr{2, "", []string{"record has 4 fields, header has 2", "stray delimiters"}}},
		{"count error after multi-line field", []byte("a,b\n\"x\ny\",1,2\n"), "", wantErr{2, "", []string{"record has 3 fields"}}},
		{"bare quote", []byte("a,b\n1,5\" screen\n"), "", wantErr{2, "b", []string{`hr.csv:2: column b: a quote (") inside an unquoted field, at character 4`, `"5"" screen"`}}},
		{"text after closing quote", []byte("a,b\n1,\"abc\"x\n"), "", wantErr{2, "b", []string{`unexpected 'x' after the closing quote`, "character 8"}}},
		{"unterminated quote (truncated file)", []byte("a,b\n1,2\n3,\"abc\n4,5\n6,7\n"), "", wantErr{3, "b", []string{"hr.csv:3: column b: quoted field is never closed", "lines 4 to 5", "truncated", "line 3"}}},
		{"unterminated quote on last line", []byte("a,b\n1,\"abc"), "", wantErr{2, "b", []string{"never closed"}}},
		{"unterminated quote in UTF-16", encodeUTF16("a\tb\n1\t\"x\n\n", false), "", wantErr{2, "b", []string{"never closed", "lines 3 to 3"}}},
		{"invalid UTF-8 (Windows-1252)", []byte("id,name\n1,Jos\xe9 M\n"), "", wantErr{2, "name", []string{`invalid UTF-8: byte 0xE9 at character 6, after "Jos"`, `Windows-1252 that byte is 'é'`, "save it as UTF-8"}}},
		{"invalid UTF-8 in a multi-line field", []byte("id,name\n1,\"a\nb, M\xfcller\"\n"), "", wantErr{3, "name", []string{"byte 0xFC at character 5", "'ü'"}}},
		{"invalid UTF-8 after a UTF-8 BOM", []byte("\xEF\xBB\xBFid,name\n1,Jos\xe9\n"), "", wantErr{2, "name", []string{"byte 0xE9", "byte-order mark but is not all UTF-8"}}},
		{"invalid UTF-8 in the header", []byte("id,n\xe4me\n"), "", wantErr{1, "2", []string{"byte 0xE4"}}},
		{"NUL: UTF-16 without BOM", []byte("a\x00,\x00b\x00\n\x001\x00,\x002\x00\n\x00"), "", wantErr{1, "1", []string{"NUL byte at character 2", "UTF-16 without a byte-order mark"}}},
		{"NUL in a value", []byte("a,b\n1,x\x00y\n"), "", wantErr{2, "b", []string{"NUL byte at character 4"}}},
		{"invalid UTF-16", append(encodeUTF16("a\tb\n1\t2", false), 'x'), "", wantErr{2, "b", []string{"invalid UTF-16", "truncated"}}},
		{"CR-only line ends", []byte("a,b\r1,2\r3,4\r"), "", wantErr{1, "2", []string{"carriage return", "CR-only"}}},
		{"bad sep= line", []byte("sep=#\na#b\n"), "", wantErr{1, "", []string{"sep=#"}}},
		{"bad SEP= line, as written", []byte("SEP=:\r\na:b\n"), "", wantErr{1, "", []string{`the "SEP=:" line names a delimiter hrsync does not support`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, sum, err := readAll(t, writeFile(t, tt.data), tt.delim)
			var se *source.Error
			if !errors.As(err, &se) {
				t.Fatalf("err = %v (%T), want *source.Error", err, err)
			}
			if se.Prov.Line != tt.want.line || se.Prov.File != "hr.csv" || se.Column != tt.want.column {
				t.Errorf("error at %s column %q, want hr.csv:%d column %q", se.Prov, se.Column, tt.want.line, tt.want.column)
			}
			for _, s := range tt.want.contains {
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

func TestNew(t *testing.T) {
	tests := []struct {
		delim string
		want  byte
		ok    bool
	}{
		{"", 0, true}, {"auto", 0, true}, {"AUTO", 0, true},
		{",", ',', true}, {"comma", ',', true},
		{";", ';', true}, {"semicolon", ';', true},
		{"\t", '\t', true}, {`\t`, '\t', true}, {"tab", '\t', true}, {"TAB", '\t', true},
		{"|", '|', true}, {"pipe", '|', true},
		{":", 0, false}, {",,", 0, false}, {" ", 0, false}, {"space", 0, false},
	}
	for _, tt := range tests {
		s, err := New(Options{Path: "x.csv", Delimiter: tt.delim})
		if (err == nil) != tt.ok {
			t.Errorf("New(%q) error = %v, want ok=%v", tt.delim, err, tt.ok)
			continue
		}
		if err != nil {
			if !strings.Contains(err.Error(), "unsupported delimiter") || !strings.Contains(err.Error(), "x.csv") {
				t.Errorf("New(%q) error %q is not clear", tt.delim, err)
			}
			continue
		}
		if s.delim != tt.want {
			t.Errorf("New(%q).delim = %q, want %q", tt.delim, s.delim, tt.want)
		}
	}
	if _, err := New(Options{}); err == nil {
		t.Error("New without a path succeeded")
	}
	s, _ := New(Options{Path: "/abs/hr.csv"})
	if got := s.String(); got != "csv /abs/hr.csv" {
		t.Errorf("String() = %q", got)
	}
	s, _ = New(Options{Path: "/abs/hr.csv", Display: "hr.csv"})
	if got := s.String(); got != "csv hr.csv" {
		t.Errorf("String() = %q", got)
	}
	var _ source.Source = s
}

func TestDigest(t *testing.T) {
	for _, data := range [][]byte{
		[]byte("a,b\n1,2\n"),
		[]byte("\xEF\xBB\xBFa;b\r\n1;2\r\n;\r\n\r\n"),
		encodeUTF16("a\tb\r\n1\t2\r\n", false),
	} {
		_, sum, err := readAll(t, writeFile(t, data), "")
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.Sum256(data)
		if want := "sha256:" + hex.EncodeToString(h[:]); sum.Digest != want {
			t.Errorf("Digest = %s, want %s", sum.Digest, want)
		}
	}
}

func TestRecordsShareHeaderAndDoNotAlias(t *testing.T) {
	var b strings.Builder
	b.WriteString("ID,Name\n")
	for i := range 3000 {
		b.WriteString("00" + strings.Repeat("7", i%5) + ",n\n")
	}
	recs, _, err := readAll(t, writeFile(t, []byte(b.String())), "")
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range recs {
		if r.Header != recs[0].Header {
			t.Fatalf("record %d has its own header", i)
		}
		if cap(r.Values) != len(r.Values) {
			t.Fatalf("record %d: Values has spare capacity %d; appending would overwrite the next record", i, cap(r.Values))
		}
		if v, ok := r.Field("id"); !ok || v != "00"+strings.Repeat("7", i%5) {
			t.Fatalf("record %d: Field(id) = %q, %v", i, v, ok)
		}
	}
	// Records are independent: changing one leaves the others alone.
	recs[0].Values[1] = "changed"
	if recs[1].Values[1] != "n" {
		t.Error("records share values")
	}
}

func TestLongLines(t *testing.T) {
	long := strings.Repeat("x", 3*bufSize+17)
	data := "a,b\n1," + long + "\n2,\"" + long + "\n" + long + "\"\n3,z\n"
	recs, _, err := readAll(t, writeFile(t, []byte(data)), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || recs[0].Values[1] != long || recs[1].Values[1] != long+"\n"+long || recs[2].Prov.Line != 5 {
		t.Errorf("long lines misread: %d records", len(recs))
	}
}

func TestCancel(t *testing.T) {
	var b strings.Builder
	b.WriteString("a,b\n")
	for range 10 * ctxEvery {
		b.WriteString("1,2\n")
	}
	path := writeFile(t, []byte(b.String()))
	s, _ := New(Options{Path: path})

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Read(ctx, func(*identity.Record) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("Read with a cancelled context: %v", err)
	}

	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	n := 0
	_, err := s.Read(ctx, func(*identity.Record) error {
		if n++; n == 10 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || n > ctxEvery+10 {
		t.Errorf("Read cancelled after 10 records: %v after %d records", err, n)
	}
}

func TestEmitErrorReturnedAsIs(t *testing.T) {
	stop := errors.New("stop")
	s, _ := New(Options{Path: writeFile(t, []byte("a,b\n1,2\n3,4\n"))})
	n := 0
	_, err := s.Read(context.Background(), func(*identity.Record) error { n++; return stop })
	if err != stop || n != 1 {
		t.Errorf("err = %v after %d records, want stop after 1", err, n)
	}
}

func TestMissingFile(t *testing.T) {
	s, _ := New(Options{Path: filepath.Join(t.TempDir(), "nope.csv")})
	_, err := s.Read(context.Background(), func(*identity.Record) error { return nil })
	var se *source.Error
	if err == nil || errors.As(err, &se) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v, want a wrapped not-exist error", err)
	}
}

// fixture returns the path of a shared fixture, skipping the test when the
// shared directory is not beside the repository.
func fixture(t *testing.T, name string) string {
	t.Helper()
	path := filepath.Join("..", "..", "..", "..", "shared", "fixtures", "csv2scim", name)
	return testenv.File(t, path, "clone the repository with ../shared beside it, as CI does")
}

func TestFixtures(t *testing.T) {
	header := strings.Split("WorkerID,WorkerStatus,WorkerType,UserID,FirstName,LastName,FullName,GenderPronoun,ManagerID,HireDate,OnLeave,Department,Division,CostCenter,Company,Location,JobTitle,StreetAddress,City,CountryCode,OfficePhone,Custom01,Custom02,ZipCode", ",")
	tests := []struct {
		file     string
		records  int
		distinct int            // distinct WorkerIDs
		known    map[int]string // line -> "WorkerID UserID FullName"
		lastLine int
	}{
		{
			file:     "csv-with-1000-records.csv",
			records:  1000,
			distinct: 624,
			known:    map[int]string{2: "1222 EMP1222 Talya Fleeta", 1001: "1231 EMP1231 Jackie Kelula"},
			lastLine: 1001,
		},
		{
			file:     "employeeData.csv",
			records:  332,
			distinct: 283,
			known:    map[int]string{2: "1513 EMP1513 Ginnie Fadiman", 3: "1783 EMP1783 Genevra Melony"},
			lastLine: 333,
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := fixture(t, tt.file)
			recs, sum, err := readAll(t, path, "")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(sum.Header, header) {
				t.Errorf("header = %q", sum.Header)
			}
			if sum.Records != tt.records || len(recs) != tt.records {
				t.Errorf("Records = %d, emitted %d, want %d", sum.Records, len(recs), tt.records)
			}
			ids := map[string]bool{}
			for i, r := range recs {
				if r.Prov.Line != i+2 {
					t.Fatalf("record %d at line %d", i, r.Prov.Line)
				}
				id, _ := r.Field("WorkerID")
				ids[id] = true
				if want, ok := tt.known[r.Prov.Line]; ok {
					uid, _ := r.Field("userid")
					name, _ := r.Field("FullName")
					if got := id + " " + uid + " " + name; got != want {
						t.Errorf("line %d = %q, want %q", r.Prov.Line, got, want)
					}
				}
			}
			if len(ids) != tt.distinct {
				t.Errorf("distinct WorkerIDs = %d, want %d", len(ids), tt.distinct)
			}
			if last := recs[len(recs)-1].Prov.Line; last != tt.lastLine {
				t.Errorf("last record at line %d, want %d", last, tt.lastLine)
			}
			data, _ := os.ReadFile(path)
			h := sha256.Sum256(data)
			if sum.Digest != "sha256:"+hex.EncodeToString(h[:]) {
				t.Errorf("Digest = %s", sum.Digest)
			}
		})
	}
}

// Lines and records are bounded (maxRecord): a file without line ends, a
// sparse file or a quote never closed fails at the bound, naming the line
// and column, rather than be read whole into memory first.
func TestOversizedLinesAndRecords(t *testing.T) {
	big := strings.Repeat("a", maxRecord+1)
	line := strings.Repeat("x", 100) + "\n"
	many := strings.Repeat(line, maxRecord/len(line)+2)
	tests := []struct {
		name string
		data string
		want wantErr
	}{
		{"unquoted field", "a,b,c\n1,2," + big + "\n", wantErr{2, "c", []string{"hr.csv:2: column c: line 2 is longer than 4 MiB", "export it again"}}},
		{"no line end at all", "a,b,c\n1," + big, wantErr{2, "b", []string{"line 2 is longer than 4 MiB"}}},
		{"header", "a,b," + big + "\n1,2,3\n", wantErr{1, "3", []string{"line 1 is longer than 4 MiB"}}},
		{"quoted field on one line", "a,b,c\n1,\"x," + big + "\",3\n", wantErr{2, "b", []string{"line 2 is longer than 4 MiB"}}},
		{"continuation line of a quoted field", "a,b,c\n1,\"x\n" + big + "\",3\n", wantErr{3, "b", []string{"line 3 is longer than 4 MiB"}}},
		{"quote never closed", "a,b,c\n1,2,\"" + many, wantErr{2, "c", []string{"quoted field is longer than 4 MiB: it starts on line 2", "lacks its closing quote"}}},
		{"sparse file", strings.Repeat("\x00", maxRecord+10), wantErr{1, "1", []string{"NUL byte at character 1"}}},
		{"zeros after the header", "a,b\n1," + strings.Repeat("\x00", maxRecord+10), wantErr{2, "b", []string{"NUL byte at character 3"}}},
		{"Latin-1 in a long line", "a,b\n\xe9," + big, wantErr{2, "a", []string{"invalid UTF-8: byte 0xE9 at character 1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := readAll(t, writeFile(t, []byte(tt.data)), "")
			var se *source.Error
			if !errors.As(err, &se) {
				t.Fatalf("err = %v (%T), want *source.Error", err, err)
			}
			if se.Prov.Line != tt.want.line || se.Column != tt.want.column {
				t.Errorf("error at %s column %q, want hr.csv:%d column %q", se.Prov, se.Column, tt.want.line, tt.want.column)
			}
			for _, s := range tt.want.contains {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %.300q\nlacks %q", err, s)
				}
			}
		})
	}

	// Just under the bound is read.
	under := strings.Repeat("b", maxRecord-10)
	recs, _, err := readAll(t, writeFile(t, []byte("a,b\n1,"+under+"\n2,\"x\n"+under[:maxRecord/2]+"\"\n")), "")
	if err != nil || len(recs) != 2 || recs[0].Values[1] != under {
		t.Fatalf("a record just under the bound: %d records, %.200v", len(recs), err)
	}
}

// zeroReader is an endless run of NUL bytes, like a sparse file.
type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// A huge input without line ends is not read into memory: a 1 GiB sparse
// file took 2.8 GB of RSS.
func TestHugeLineMemoryIsBounded(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    io.Reader
	}{
		{"sparse", io.LimitReader(zeroReader{}, 1<<30)},
		{"one giant field", io.MultiReader(strings.NewReader("a,b\n1,"), io.LimitReader(strings.NewReader(strings.Repeat("y", 1<<20)), 1<<20),
			strings.NewReader(strings.Repeat("y", 255<<20)))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(Options{Path: "hr.csv"})
			if err != nil {
				t.Fatal(err)
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err = s.read(context.Background(), tc.r, func(*identity.Record) error { return nil })
			runtime.ReadMemStats(&after)
			if err == nil {
				t.Fatal("read succeeded")
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8*maxRecord {
				t.Errorf("the read allocated %d MiB, want it bounded by a few times %s", alloc>>20, maxRecordText)
			}
		})
	}
}

// A file that is not text is named, not read as text in an odd encoding;
// an unterminated quote is reported where it opened.
func TestWrongWayMessages(t *testing.T) {
	tests := []struct {
		name, content, want string
	}{
		{"an xlsx renamed", "PK\x03\x04\x14\x00\x06\x00rest of the zip", "it is a ZIP archive (an .xlsx workbook is one) (for a workbook use source.type: xlsx"},
		{"an old xls", "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1...", "an Excel 97-2003 workbook"},
		{"a program", "\x7fELF\x02\x01\x01\x00\x00", "a program (ELF executable)"},
		{"an exe", "MZ\x90\x00\x03\x00\x00\x00", "a program (Windows executable)"},
		{"a header starting with MZ is text", "MZone,Name\n1,a\n", ""},
		{"an unterminated quote", "Id,Name,Dept\n1,Ann,Sales\n2,\"Bo,Sales\n3,Cy,Sales\n4,\"Di \"\"D\"\"\",Sales\n5,Ed,Sales\n",
			`hr.csv:3: column Name: the quoted field opened on line 3 is still open on line 5, where 'D' follows a quote`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Source{display: "hr.csv", delim: 0}
			_, err := s.read(context.Background(), strings.NewReader(tt.content), func(*identity.Record) error { return nil })
			if tt.want == "" {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}
