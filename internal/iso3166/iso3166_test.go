package iso3166

import "testing"

func TestValid(t *testing.T) {
	for _, tt := range []struct {
		code string
		ok   bool
		hint string
	}{
		{"GB", true, ""}, {"US", true, ""}, {"ZW", true, ""}, {"AD", true, ""},
		{"UK", false, "GB"}, {"gb", false, "GB"}, {"EL", false, "GR"}, {"ZZ", false, ""},
		{"G", false, ""}, {"GBR", false, ""}, {"", false, ""}, {"B ", false, ""}, {" G", false, ""},
	} {
		if got := Valid(tt.code); got != tt.ok {
			t.Errorf("Valid(%q) = %v", tt.code, got)
		}
		if got := Hint(tt.code); got != tt.hint {
			t.Errorf("Hint(%q) = %q, want %q", tt.code, got, tt.hint)
		}
	}
}
