package cli

import (
	"context"
	"strings"
	"testing"
)

// Shell completion: flag values and explain's keys, from the source.
func TestCompletion(t *testing.T) {
	cfg := quickstart(t)
	tests := []struct {
		name string
		args []string
		want []string // lines, the directive last
		not  []string
	}{
		{"plan --format", []string{"plan", "--format", ""}, []string{"text", "json", "markdown", ":4"}, nil},
		{"show --format", []string{"show", "--format", ""}, []string{"text", "json", "markdown"}, nil},
		{"explain --format", []string{"explain", "--format", ""}, []string{"text", "json", ":4"}, []string{"markdown"}},
		{"--log-level", []string{"plan", "--log-level", ""}, []string{"debug", "info", "warn", "error"}, nil},
		{"--target-type", []string{"apply", "--target-type", ""}, []string{"entra", "sandbox", "active_directory"}, nil},
		{"explain keys", []string{"explain", "-c", cfg, "104"}, []string{"1046\tGrace O'Neill", "1048\tJohn Smith", ":4"}, []string{"1002"}},
		{"explain keys, terraform's -config", []string{"explain", "-config", cfg, "100"}, []string{"1002\tJosé García"}, nil},
		{"explain takes one key", []string{"explain", "-c", cfg, "1002", ""}, []string{":4"}, []string{"1046"}},
		{"show a plan file", []string{"show", ""}, []string{"json", ":8"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStreams("", false)
			if code := Main(context.Background(), append([]string{"__complete"}, tt.args...), s.ios, testBuild); code != ExitOK {
				t.Fatalf("exit %d: %s", code, s.err)
			}
			lines := strings.Split(strings.TrimSpace(s.out.String()), "\n")
			for _, w := range tt.want {
				found := false
				for _, l := range lines {
					found = found || l == w
				}
				if !found {
					t.Errorf("completion lacks %q:\n%s", w, s.out)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(s.out.String(), w) {
					t.Errorf("completion offers %q:\n%s", w, s.out)
				}
			}
		})
	}
}
