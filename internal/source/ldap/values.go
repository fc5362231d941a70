package ldap

import (
	"encoding/base64"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/hrsync/hrsync/internal/ldapconn"
)

// Binary attributes, by lower-case name, and how their values are shown.
var (
	// guidAttributes hold 16-byte GUIDs: shown as
	// 3f2504e0-4f89-11d3-9a0c-0305e82c3301.
	guidAttributes = map[string]bool{
		"objectguid": true, "ms-ds-consistencyguid": true, "msds-consistencyguid": true,
		"msexchmailboxguid": true, "msexcharchiveguid": true, "schemaidguid": true, "attributesecurityguid": true,
	}
	// sidAttributes hold security identifiers: shown as S-1-5-21-....
	sidAttributes = map[string]bool{
		"objectsid": true, "sidhistory": true, "securityidentifier": true, "msexchmasteraccountsid": true,
		"tokengroups": true, "creatorsid": true,
	}
	// binaryAttributes are always shown as base64, even when their bytes
	// happen to be valid UTF-8.
	binaryAttributes = map[string]bool{
		"jpegphoto": true, "thumbnailphoto": true, "photo": true, "audio": true, "usercertificate": true,
		"cacertificate": true, "usersmimecertificate": true, "userpkcs12": true, "certificaterevocationlist": true,
		"authorityrevocationlist": true, "crosscertificatepair": true, "logonhours": true, "msexchblockedsendershash": true,
		"msexchsafesendershash": true, "msexchsaferecipientshash": true, "ntsecuritydescriptor": true,
		"replicationsignature": true,
	}
)

// baseName is an attribute description without its options
// (userCertificate;binary -> userCertificate).
func baseName(attr string) string {
	if i := strings.IndexByte(attr, ';'); i >= 0 {
		return attr[:i]
	}
	return attr
}

// textValue renders one value of attribute attr (lower case, without
// options) as text: GUIDs and SIDs in their usual forms, other binary
// values (a non-UTF-8 value, control characters, a known binary attribute
// or the ;binary option) as standard base64; text as it is.
func textValue(attr string, binaryOption bool, raw []byte, s string) string {
	switch {
	case guidAttributes[attr] && len(raw) == 16:
		return ldapconn.GUIDString(raw)
	case sidAttributes[attr] && len(raw) >= 8:
		return ldapconn.SIDString(raw)
	case binaryOption || binaryAttributes[attr] || !isText(raw):
		return base64.StdEncoding.EncodeToString(raw)
	}
	return s
}

// isText reports whether b is UTF-8 without control characters other than
// tab, line feed and carriage return.
func isText(b []byte) bool {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return false
		}
		i += size
	}
	return true
}

// attrRange is the ;range=low-high option of an attribute returned in
// parts (Active Directory's member;range=0-1499); high is -1 for "*", the
// last part.
type attrRange struct {
	low, high int
}

// splitRange takes the ;range= option off an attribute description:
// "member;range=0-1499" is ("member", {0, 1499}, true). Other options stay.
// ok is false without a range option; bad is true for a malformed one.
func splitRange(desc string) (name string, r attrRange, ok, bad bool) {
	lower := strings.ToLower(desc)
	i := strings.Index(lower, ";range=")
	if i < 0 {
		return desc, attrRange{}, false, false
	}
	rest := desc[i+len(";range="):]
	after := ""
	if j := strings.IndexByte(rest, ';'); j >= 0 {
		rest, after = rest[:j], rest[j:]
	}
	lo, hi, found := strings.Cut(rest, "-")
	low, err := strconv.Atoi(lo)
	if !found || err != nil || low < 0 {
		return desc[:i] + after, attrRange{}, true, true
	}
	high := -1
	if hi != "*" {
		if high, err = strconv.Atoi(hi); err != nil || high < low {
			return desc[:i] + after, attrRange{}, true, true
		}
	}
	return desc[:i] + after, attrRange{low: low, high: high}, true, false
}

// plainDN reports whether dn is written so simply that lower case is its
// canonical form: ASCII letters, digits, - . _ @, one = per RDN, single
// spaces only inside values; nothing to escape or unescape. Most DNs
// servers send are; they skip parsing.
func plainDN(dn string) bool {
	eq := false
	for i := 0; i < len(dn); i++ {
		c := dn[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '.', c == '_', c == '@':
		case c == '=':
			if eq || i == 0 {
				return false
			}
			eq = true
		case c == ',':
			if !eq || i == len(dn)-1 {
				return false
			}
			eq = false
		case c == ' ':
			// Inside a value: not first or last, not doubled, not next to = or ,.
			if !eq || i == 0 || i == len(dn)-1 || dn[i-1] == ' ' || dn[i-1] == '=' || dn[i-1] == ',' || dn[i+1] == ',' || dn[i+1] == ' ' {
				return false
			}
		default:
			return false
		}
	}
	return eq
}

// canonicalDN is a DN's form for comparing references with entries:
// attribute types and values in lower case, multi-valued RDNs sorted,
// escaping normalised. caseIgnoreMatch is what naming attributes (cn, uid,
// ou, dc) use on both OpenLDAP and Active Directory.
func canonicalDN(dn string) string {
	if plainDN(dn) {
		return strings.ToLower(dn)
	}
	parsed, err := goldap.ParseDN(dn)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(dn))
	}
	var b strings.Builder
	for i, rdn := range parsed.RDNs {
		if i > 0 {
			b.WriteByte(',')
		}
		parts := make([]string, len(rdn.Attributes))
		for j, a := range rdn.Attributes {
			parts[j] = strings.ToLower(a.Type) + "=" + goldap.EscapeDN(strings.ToLower(strings.Join(strings.Fields(a.Value), " ")))
		}
		sort.Strings(parts)
		b.WriteString(strings.Join(parts, "+"))
	}
	return b.String()
}
