package csv

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hrsync/hrsync/internal/identity"
	"github.com/hrsync/hrsync/internal/source"
)

// FuzzRead feeds arbitrary bytes to the source: it must not panic, every
// error must be a *source.Error (there is no I/O to fail), and a successful
// read must be consistent.
func FuzzRead(f *testing.F) {
	delims := []string{"auto", ",", ";", "tab", "|"}
	f.Add([]byte("a,b\n1,2\n"), uint8(0))
	f.Add([]byte("\xEF\xBB\xBFid;name\r\n00123;\"Smith; \"\"J\"\"\r\nJr\"\r\n;\r\n"), uint8(0))
	f.Add(encodeUTF16("id\tname\r\n1\tZoë\r\n", false), uint8(3))
	f.Add(encodeUTF16("id\tname\n1\t\"a\nb\"\n", true), uint8(0))
	f.Add([]byte("sep=|\na|b\n1|2"), uint8(0))
	f.Add([]byte("a,b\n1,\"abc"), uint8(1))
	f.Add([]byte("a,b\n1,Jos\xe9\n"), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, d uint8) {
		s, err := New(Options{Path: "fuzz.csv", Delimiter: delims[int(d)%len(delims)]})
		if err != nil {
			t.Fatal(err)
		}
		var recs []*identity.Record
		sum, err := s.read(context.Background(), bytes.NewReader(data), func(r *identity.Record) error {
			recs = append(recs, r)
			return nil
		})
		if err != nil {
			var se *source.Error
			if !errors.As(err, &se) {
				t.Fatalf("error %v is a %T, not a *source.Error", err, err)
			}
			if se.Prov.File != "fuzz.csv" {
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
		seen := map[string]bool{}
		for _, n := range sum.Header {
			if n == "" || !utf8.ValidString(n) || seen[strings.ToLower(n)] {
				t.Fatalf("bad header %q", sum.Header)
			}
			seen[strings.ToLower(n)] = true
		}
		last := 0
		for _, r := range recs {
			if len(r.Values) != len(sum.Header) || r.Header != recs[0].Header {
				t.Fatalf("record at %s has %d values for %d columns", r.Prov, len(r.Values), len(sum.Header))
			}
			if r.Prov.Line <= last {
				t.Fatalf("record at line %d after line %d", r.Prov.Line, last)
			}
			last = r.Prov.Line
			blank := true
			for _, v := range r.Values {
				if !utf8.ValidString(v) {
					t.Fatalf("invalid UTF-8 value %q at %s", v, r.Prov)
				}
				for _, c := range []byte(v) {
					if c == 0 {
						t.Fatalf("NUL in value at %s", r.Prov)
					}
					if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
						blank = false
					}
				}
			}
			if blank {
				t.Fatalf("blank record emitted at %s", r.Prov)
			}
		}
	})
}

// parsed is one record as both parsers see it.
type parsed struct {
	Line   int
	Fields []string
}

// parseAll runs the parser (without trimming) over data.
func parseAll(data []byte, comma byte) ([]parsed, error) {
	p := &parser{r: bufio.NewReaderSize(bytes.NewReader(data), 16), comma: comma, file: "x"}
	var out []parsed
	for {
		line, err := p.next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, parsed{line, p.fields(make([]string, len(p.ends)))})
	}
}

// stdParseAll runs encoding/csv over data.
func stdParseAll(data []byte, comma byte) ([]parsed, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = rune(comma)
	r.FieldsPerRecord = -1
	var out []parsed
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		line, _ := r.FieldPos(0)
		out = append(out, parsed{line, rec})
	}
}

// comparable reports whether data is text the parser must read exactly as
// encoding/csv does: valid UTF-8 without NUL, and no CR other than in CRLF
// or as the last byte (the parser rejects bare CRs outside quotes, which
// encoding/csv takes as data).
func comparable(data []byte) bool {
	if !utf8.Valid(data) || bytes.IndexByte(data, 0) >= 0 {
		return false
	}
	for i, c := range data {
		if c == '\r' && i+1 < len(data) && data[i+1] != '\n' {
			return false
		}
	}
	return true
}

// FuzzParserMatchesEncodingCSV holds the parser, with trimming off, to
// encoding/csv: the same records starting on the same lines, and an error
// exactly when encoding/csv has one.
func FuzzParserMatchesEncodingCSV(f *testing.F) {
	for _, s := range []string{
		"a,b\n1,2\n", "a,\"b\n\nc\",d\r\ne,f", "\"a\"\"b\",c\n\n\n1,2\r\n", "\"abc", "a\"b,c",
		"\"a\"b,c", "\"a\" ,b", " \"a\",b", ",,\n,\n", "\r\n\r\na,b\r", "\"a\r\nb\"\r\n",
	} {
		f.Add([]byte(s), uint8(0))
	}
	f.Fuzz(func(t *testing.T, data []byte, d uint8) {
		if !comparable(data) {
			t.Skip()
		}
		comma := candidates[int(d)%len(candidates)]
		got, err := parseAll(data, comma)
		want, stdErr := stdParseAll(data, comma)
		if (err != nil) != (stdErr != nil) {
			t.Fatalf("parser error %v, encoding/csv error %v", err, stdErr)
		}
		if err == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("parser read %+v\nencoding/csv read %+v", got, want)
		}
		if err != nil {
			var se *source.Error
			if !errors.As(err, &se) {
				t.Fatalf("error %v is a %T, not a *source.Error", err, err)
			}
		}
	})
}
