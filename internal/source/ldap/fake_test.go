package ldap

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	ber "github.com/go-asn1-ber/asn1-ber"
	goldap "github.com/go-ldap/ldap/v3"

	"github.com/hrsync/hrsync/internal/ldapconn"
)

// A fake directory answers what no real one can be made to answer on
// demand: a time limit after the first page, a server that ignores the
// paging control, a repeated cookie, ranged values that do not continue
// where asked. Each must fail the read.

// fakeSearch is one search the fake server received.
type fakeSearch struct {
	base   string
	attrs  []string
	cookie string
}

// fakeEntry is an entry the fake sends: DN and attributes in order.
type fakeEntry struct {
	dn    string
	attrs [][2]any // name, []string values
}

// fakeAnswer is the fake's answer to one search.
type fakeAnswer struct {
	entries []fakeEntry
	code    int    // result code of the done message
	cookie  string // paging cookie; "" for the last page
	noPage  bool   // leave the paging control out
}

// fakeServer serves anonymous binds and answers searches with answer;
// it returns the ldap:// URL.
func fakeServer(t *testing.T, answer func(fakeSearch) fakeAnswer) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go serveFake(c, answer)
		}
	}()
	return "ldap://" + l.Addr().String()
}

func serveFake(c net.Conn, answer func(fakeSearch) fakeAnswer) {
	defer c.Close()
	for {
		p, err := ber.ReadPacket(c)
		if err != nil || len(p.Children) < 2 {
			return
		}
		id := p.Children[0].Value.(int64)
		op := p.Children[1]
		switch op.Tag {
		case goldap.ApplicationBindRequest:
			writeFake(c, id, result(goldap.ApplicationBindResponse, 0), nil)
		case goldap.ApplicationSearchRequest:
			s := fakeSearch{base: string(op.Children[0].ByteValue)}
			for _, a := range op.Children[7].Children {
				s.attrs = append(s.attrs, string(a.ByteValue))
			}
			if len(p.Children) > 2 {
				for _, ctl := range p.Children[2].Children {
					if string(ctl.Children[0].ByteValue) == goldap.ControlTypePaging {
						v := ctl.Children[len(ctl.Children)-1]
						inner := ber.DecodePacket(v.ByteValue)
						s.cookie = string(inner.Children[1].ByteValue)
					}
				}
			}
			a := answer(s)
			for _, e := range a.entries {
				entry := ber.Encode(ber.ClassApplication, ber.TypeConstructed, goldap.ApplicationSearchResultEntry, nil, "entry")
				entry.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, e.dn, "dn"))
				attrs := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "attrs")
				for _, kv := range e.attrs {
					attr := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "attr")
					attr.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, kv[0].(string), "type"))
					vals := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSet, nil, "vals")
					for _, v := range kv[1].([]string) {
						vals.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, v, "val"))
					}
					attr.AppendChild(vals)
					attrs.AppendChild(attr)
				}
				entry.AppendChild(attrs)
				writeFake(c, id, entry, nil)
			}
			var controls *ber.Packet
			if !a.noPage {
				controls = ber.Encode(ber.ClassContext, ber.TypeConstructed, 0, nil, "controls")
				ctl := goldap.NewControlPaging(0)
				ctl.SetCookie([]byte(a.cookie))
				controls.AppendChild(ctl.Encode())
			}
			writeFake(c, id, result(goldap.ApplicationSearchResultDone, a.code), controls)
		default: // unbind, abandon
			return
		}
	}
}

func result(app, code int) *ber.Packet {
	r := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ber.Tag(app), nil, "result")
	r.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, int64(code), "code"))
	r.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "", "matched"))
	r.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "", "message"))
	return r
}

func writeFake(c net.Conn, id int64, op, controls *ber.Packet) {
	m := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "message")
	m.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, id, "id"))
	m.AppendChild(op)
	if controls != nil {
		m.AppendChild(controls)
	}
	_, _ = c.Write(m.Bytes())
}

func fakePerson(dn string, attrs ...[2]any) fakeEntry {
	return fakeEntry{dn: dn, attrs: append([][2]any{{"uid", []string{strings.TrimPrefix(strings.Split(dn, ",")[0], "uid=")}}}, attrs...)}
}

func fakeSource(t *testing.T, url string, attrs ...any) *Source {
	t.Helper()
	raw := map[string]any{"url": url, "start_tls": false, "base_dn": "ou=people,dc=example,dc=org", "filter": "(uid=*)",
		"attributes": append([]any{"uid"}, attrs...), "page_size": 2}
	return open(t, raw, "")
}

func TestFakeServerFailures(t *testing.T) {
	for _, c := range []struct {
		name   string
		attrs  []any
		answer func(fakeSearch) fakeAnswer
		words  []string
	}{
		{"time limit after a page", nil, func(s fakeSearch) fakeAnswer {
			if s.cookie == "" {
				return fakeAnswer{entries: []fakeEntry{fakePerson("uid=a,ou=people,dc=example,dc=org"), fakePerson("uid=b,ou=people,dc=example,dc=org")}, cookie: "p2"}
			}
			return fakeAnswer{entries: []fakeEntry{fakePerson("uid=c,ou=people,dc=example,dc=org")}, code: goldap.LDAPResultTimeLimitExceeded}
		}, []string{"page 2", "Time Limit Exceeded"}},
		{"paging ignored", nil, func(fakeSearch) fakeAnswer {
			return fakeAnswer{entries: []fakeEntry{fakePerson("uid=a,ou=people,dc=example,dc=org"), fakePerson("uid=b,ou=people,dc=example,dc=org")}, noPage: true}
		}, []string{"without paging", "RFC 2696"}},
		{"repeated cookie", nil, func(s fakeSearch) fakeAnswer {
			return fakeAnswer{entries: []fakeEntry{fakePerson("uid=a" + s.cookie + ",ou=people,dc=example,dc=org")}, cookie: "same"}
		}, []string{"uid=asame,ou=people,dc=example,dc=org a second time", "went round in a circle"}},
		{"pages without entries, forever", nil, func(s fakeSearch) fakeAnswer {
			return fakeAnswer{cookie: "more"}
		}, []string{"pages in a row without entries"}},
		{"ranged values not continuing where asked", []any{"member"}, func(s fakeSearch) fakeAnswer {
			if s.base == "ou=people,dc=example,dc=org" {
				return fakeAnswer{entries: []fakeEntry{{dn: "cn=g,ou=people,dc=example,dc=org", attrs: [][2]any{{"member;range=0-1", []string{"uid=a", "uid=b"}}}}}}
			}
			return fakeAnswer{entries: []fakeEntry{{dn: s.base, attrs: [][2]any{{"member;range=3-*", []string{"uid=d"}}}}}}
		}, []string{"asked for member from value 2, the server sent from 3"}},
		{"ranged values that stop coming", []any{"member"}, func(s fakeSearch) fakeAnswer {
			if s.base == "ou=people,dc=example,dc=org" {
				return fakeAnswer{entries: []fakeEntry{{dn: "cn=g,ou=people,dc=example,dc=org", attrs: [][2]any{{"member;range=0-1", []string{"uid=a", "uid=b"}}}}}}
			}
			return fakeAnswer{entries: []fakeEntry{{dn: s.base}}}
		}, []string{"asked for member;range=2-*, the server sent none of it"}},
		{"malformed range", []any{"member"}, func(fakeSearch) fakeAnswer {
			return fakeAnswer{entries: []fakeEntry{{dn: "cn=g,ou=people,dc=example,dc=org", attrs: [][2]any{{"member;range=9-1", []string{"uid=a"}}}}}}
		}, []string{`"member;range=9-1", whose range cannot be read`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := fakeSource(t, fakeServer(t, c.answer), c.attrs...)
			err := mustPartial(t, src, "ou=people,dc=example,dc=org", c.words...)
			if !errors.Is(err, ldapconn.ErrPartial) {
				t.Errorf("not ErrPartial")
			}
		})
	}
}

// Samba's paging cookie names the search: the same for every page. Each
// page still brings new entries, and the read is whole.
func TestFakeServerSameCookieEveryPage(t *testing.T) {
	page := 0
	url := fakeServer(t, func(s fakeSearch) fakeAnswer {
		page++
		a := fakeAnswer{entries: []fakeEntry{fakePerson(fmt.Sprintf("uid=p%da,ou=people,dc=example,dc=org", page)), fakePerson(fmt.Sprintf("uid=p%db,ou=people,dc=example,dc=org", page))}}
		if page < 3 {
			a.cookie = "1" // the server keeps its place; the cookie stays "1"
		}
		return a
	})
	recs, _ := mustRead(t, fakeSource(t, url))
	if len(recs) != 6 || page != 3 {
		t.Fatalf("%d records in %d pages, want 6 in 3", len(recs), page)
	}
}

// Ranged values read to the end, in three parts.
func TestFakeServerRanges(t *testing.T) {
	var asked []string
	url := fakeServer(t, func(s fakeSearch) fakeAnswer {
		if s.base == "ou=people,dc=example,dc=org" {
			return fakeAnswer{entries: []fakeEntry{{dn: "cn=g,ou=people,dc=example,dc=org", attrs: [][2]any{{"cn", []string{"g"}}, {"member;range=0-1", []string{"m0", "m1"}}}}}}
		}
		asked = append(asked, s.attrs...)
		if s.attrs[0] == "member;range=2-*" {
			return fakeAnswer{entries: []fakeEntry{{dn: s.base, attrs: [][2]any{{"member;range=2-3", []string{"m2", "m3"}}}}}}
		}
		return fakeAnswer{entries: []fakeEntry{{dn: s.base, attrs: [][2]any{{"member;range=4-*", []string{"m4"}}}}}}
	})
	raw := map[string]any{"url": url, "start_tls": false, "base_dn": "ou=people,dc=example,dc=org", "filter": "(cn=*)", "attributes": []any{"cn", "member"}}
	recs, _ := mustRead(t, open(t, raw, ""))
	if len(recs) != 1 {
		t.Fatalf("%d records", len(recs))
	}
	if got, _ := recs[0].FieldValues("member"); strings.Join(got, " ") != "m0 m1 m2 m3 m4" {
		t.Errorf("member %q", got)
	}
	if strings.Join(asked, " ") != "member;range=2-* member;range=4-*" {
		t.Errorf("asked %v", asked)
	}
}
