package suggest

import "testing"

func TestDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"abc", "", 3},
		{"", "abc", 3},
		{"leavers", "leaver", 1},
		{"kitten", "sitting", 3},
		{"Zoë", "Zoe", 1},
		{"flaw", "lawn", 2},
	}
	for _, tt := range tests {
		if got := Distance(tt.a, tt.b); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := Distance(tt.b, tt.a); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d (symmetric)", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestClosest(t *testing.T) {
	known := []string{"policy.leavers", "policy.max_leavers", "target.type", "source.type"}
	tests := []struct {
		word  string
		limit int
		want  string
	}{
		{"policy.leaver", 4, "policy.leavers"},
		{"POLICY.LEAVERS", 4, "policy.leavers"},
		{"target.typo", 4, "target.type"},
		{"nothing.like.it", 4, ""},
		{"xource.type", 2, "source.type"},
		{"xource.tipe", 2, ""},
	}
	for _, tt := range tests {
		if got := Closest(tt.word, known, tt.limit); got != tt.want {
			t.Errorf("Closest(%q) = %q, want %q", tt.word, got, tt.want)
		}
	}
}
