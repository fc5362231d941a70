package xlsx

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"golang.org/x/net/html/charset"
)

// stdTokens reads data with encoding/xml, as the tokens scanTokens gives:
// "<name a=v ...>", "</name>" and text, adjacent texts merged; comments
// and processing instructions are left out.
func stdTokens(data []byte) ([]string, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.CharsetReader = charset.NewReaderLabel
	var out []string
	text := false
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			var b strings.Builder
			b.WriteString("<" + t.Name.Local)
			for _, a := range t.Attr {
				fmt.Fprintf(&b, " %s=%q", a.Name.Local, a.Value)
			}
			out, text = append(out, b.String()+">"), false
		case xml.EndElement:
			out, text = append(out, "</"+t.Name.Local+">"), false
		case xml.CharData:
			if text {
				out[len(out)-1] += string(t)
			} else {
				out, text = append(out, string(t)), true
			}
		}
	}
}

// scanTokens reads data with the scanner, through a tiny buffer and one
// byte at a time when small is set, to exercise refills.
func scanTokens(data []byte, small bool) ([]string, error) {
	var r io.Reader = bytes.NewReader(data)
	sc := newScanner(r)
	if small {
		sc = newScanner(iotest.OneByteReader(r))
		sc.buf = make([]byte, 8)
	}
	var out []string
	text := false
	for {
		kind, err := sc.next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		switch kind {
		case tokStart:
			var b strings.Builder
			b.WriteString("<" + string(sc.name))
			for i := range sc.attrs {
				a := &sc.attrs[i]
				fmt.Fprintf(&b, " %s=%q", a.name, sc.attrValue(a))
			}
			out, text = append(out, b.String()+">"), false
		case tokEnd:
			out, text = append(out, "</"+string(sc.name)+">"), false
		case tokText:
			if text {
				out[len(out)-1] += string(sc.text)
			} else {
				out, text = append(out, string(sc.text)), true
			}
		}
	}
}

// refused reports whether the scanner refuses data by design where
// encoding/xml accepts it: a <! declaration or a name that is not ASCII.
func refused(err error) bool {
	if err == nil {
		return false
	}
	m := err.Error()
	return strings.Contains(m, "a <! declaration") || strings.Contains(m, "other than ASCII")
}

var scannerSeeds = []string{
	``,
	`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" + `<worksheet xmlns="urn:x"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>`,
	`<x:a xmlns:x="urn:x" x:b='1' c = "2&amp;&lt;&gt;&apos;&quot;&#65;&#x42;"/>`,
	`<a>t&amp;x<![CDATA[<b>]]]]>&#x10FFFF;</a>`,
	"<a b=\"x\r\ny\">1\r\n2\r3</a>",
	`<a><!-- c --><?pi x?>z</a>`,
	`<?xml version="1.0" encoding="ISO-8859-1"?><a>caf` + "\xe9" + `</a>`,
	`<a>]]></a>`,
	`<a b="]]>"/>`,
	`<a>&#0;</a>`,
	`<a>&#xD800;</a>`,
	`<a>&unknown;</a>`,
	`<a></b>`,
	`<a b=c/>`,
	`<a:b:c/>`,
	`<1a/>`,
	`<a>` + "\x01" + `</a>`,
	`<a>` + "\xff" + `</a>`,
	`<a b="<"/>`,
	`<!DOCTYPE a><a/>`,
	`<é/>`,
	`<a><!--- x --></a>`,
	`<?xml version="1.1"?><a/>`,
	`<a`,
	`<a b="1`,
	`</a>`,
	`text<a/>more`,
}

func TestScannerMatchesEncodingXML(t *testing.T) {
	for _, s := range scannerSeeds {
		checkScanner(t, []byte(s))
	}
}

// FuzzScannerMatchesEncodingXML holds the scanner to encoding/xml: the same
// tokens where encoding/xml reads the document, and an error where it has
// one, but for what the scanner refuses by design.
func FuzzScannerMatchesEncodingXML(f *testing.F) {
	for _, s := range scannerSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkScanner(t, data)
	})
}

func checkScanner(t *testing.T, data []byte) {
	t.Helper()
	want, stdErr := stdTokens(data)
	for _, small := range []bool{false, true} {
		got, err := scanTokens(data, small)
		if refused(err) {
			continue
		}
		if (err != nil) != (stdErr != nil) {
			t.Fatalf("%q (small buffer %v):\nscanner: %q, %v\nencoding/xml: %q, %v", data, small, got, err, want, stdErr)
		}
		if err == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q (small buffer %v):\nscanner: %q\nencoding/xml: %q", data, small, got, want)
		}
		if err != nil {
			var se *syntaxError
			if !errors.As(err, &se) {
				t.Fatalf("%q: error %v is a %T", data, err, err)
			}
		}
	}
}
