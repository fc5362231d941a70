package ldapconn

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// GUIDString renders a binary GUID (Active Directory's objectGUID, 16
// bytes, the first three fields little-endian) in its usual text form,
// e.g. "3f2504e0-4f89-11d3-9a0c-0305e82c3301". Anything else is hex.
func GUIDString(b []byte) string {
	if len(b) != 16 {
		return hex.EncodeToString(b)
	}
	return fmt.Sprintf("%08x-%04x-%04x-%x-%x",
		binary.LittleEndian.Uint32(b[0:4]), binary.LittleEndian.Uint16(b[4:6]), binary.LittleEndian.Uint16(b[6:8]), b[8:10], b[10:16])
}

// GUIDBytes is the binary form of a GUID's text form (see GUIDString).
func GUIDBytes(s string) ([]byte, error) {
	h := strings.ReplaceAll(strings.Trim(s, "{}"), "-", "")
	raw, err := hex.DecodeString(h)
	if err != nil || len(raw) != 16 {
		return nil, fmt.Errorf("%q is not a GUID", s)
	}
	b := make([]byte, 16)
	binary.LittleEndian.PutUint32(b[0:4], binary.BigEndian.Uint32(raw[0:4]))
	binary.LittleEndian.PutUint16(b[4:6], binary.BigEndian.Uint16(raw[4:6]))
	binary.LittleEndian.PutUint16(b[6:8], binary.BigEndian.Uint16(raw[6:8]))
	copy(b[8:], raw[8:])
	return b, nil
}

// FilterBytes escapes binary bytes for an LDAP filter value
// ("\3f\25...").
func FilterBytes(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		fmt.Fprintf(&sb, "\\%02x", c)
	}
	return sb.String()
}

// SIDString renders a binary security identifier (objectSid) as
// "S-1-5-21-...".
func SIDString(b []byte) string {
	if len(b) < 8 || int(b[1])*4+8 != len(b) {
		return hex.EncodeToString(b)
	}
	var auth uint64
	for _, x := range b[2:8] {
		auth = auth<<8 | uint64(x)
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "S-%d-%d", b[0], auth)
	for i := 0; i < int(b[1]); i++ {
		fmt.Fprintf(&sb, "-%d", binary.LittleEndian.Uint32(b[8+4*i:]))
	}
	return sb.String()
}

// GeneralizedTime reads an LDAP generalized time ("20260101120000Z",
// "20260101120000.0Z", "20260101120000+0100").
func GeneralizedTime(s string) (time.Time, error) {
	for _, layout := range []string{"20060102150405Z0700", "20060102150405.0Z0700", "20060102150405.000Z0700", "20060102150405.000000Z0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a generalized time", s)
}

// FileTime reads a Windows file time (100 ns since 1601, as Active
// Directory stores accountExpires and pwdLastSet); 0 and the largest
// int64 are "never" (ok false).
func FileTime(s string) (time.Time, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n == 1<<63-1 {
		return time.Time{}, false
	}
	const epochDelta = 116444736000000000
	d := n - epochDelta
	return time.Unix(d/1e7, (d%1e7)*100).UTC(), true
}

// ToFileTime is t as a Windows file time.
func ToFileTime(t time.Time) string {
	const epochDelta = 116444736000000000
	return strconv.FormatInt(t.UTC().Unix()*1e7+int64(t.UTC().Nanosecond()/100)+epochDelta, 10)
}
