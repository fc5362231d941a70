package ldapconn

import (
	"testing"
	"time"
)

func TestGUIDRoundTrip(t *testing.T) {
	// The text form of a known objectGUID and its bytes as AD stores them.
	const text = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
	raw := []byte{0xe0, 0x04, 0x25, 0x3f, 0x89, 0x4f, 0xd3, 0x11, 0x9a, 0x0c, 0x03, 0x05, 0xe8, 0x2c, 0x33, 0x01}
	if got := GUIDString(raw); got != text {
		t.Errorf("GUIDString = %s", got)
	}
	b, err := GUIDBytes("{" + text + "}")
	if err != nil || string(b) != string(raw) {
		t.Errorf("GUIDBytes = %x, %v", b, err)
	}
	if _, err := GUIDBytes("not-a-guid"); err == nil {
		t.Error("a bad GUID was accepted")
	}
	if got := FilterBytes([]byte{0x0a, 0xff}); got != `\0a\ff` {
		t.Errorf("FilterBytes = %s", got)
	}
}

func TestSIDString(t *testing.T) {
	// S-1-5-21-1004336348-1177238915-682003330-512
	raw := []byte{1, 5, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0, 0xdc, 0xf4, 0xdc, 0x3b, 0x83, 0x3d, 0x2b, 0x46, 0x82, 0x8b, 0xa6, 0x28, 0x00, 0x02, 0x00, 0x00}
	if got := SIDString(raw); got != "S-1-5-21-1004336348-1177238915-682003330-512" {
		t.Errorf("SIDString = %s", got)
	}
}

func TestTimes(t *testing.T) {
	want := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, s := range []string{"20260101120000Z", "20260101120000.0Z", "20260101130000+0100"} {
		if got, err := GeneralizedTime(s); err != nil || !got.Equal(want) {
			t.Errorf("GeneralizedTime(%s) = %v, %v", s, got, err)
		}
	}
	ft := ToFileTime(want)
	if got, ok := FileTime(ft); !ok || !got.Equal(want) {
		t.Errorf("FileTime(%s) = %v", ft, got)
	}
	for _, never := range []string{"0", "9223372036854775807", "x"} {
		if _, ok := FileTime(never); ok {
			t.Errorf("FileTime(%s) is a time", never)
		}
	}
}
