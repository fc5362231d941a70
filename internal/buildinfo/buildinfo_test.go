package buildinfo

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestFrom(t *testing.T) {
	vcs := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	checkout := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
		Settings: vcs("vcs.revision", "58eb535abcdef", "vcs.time", "2026-12-05T12:07:00Z", "vcs.modified", "true")}
	tests := []struct {
		name                  string
		bi                    *debug.BuildInfo
		version, commit, date string
		want                  Info
	}{
		{"release build (ldflags)", checkout, "0.3.0", "1a2b3c", "2026-12-01T10:00:00Z",
			Info{Version: "0.3.0", Commit: "1a2b3c", Date: "2026-12-01T10:00:00Z", GoVersion: "go1.26.8"}},
		{"build in a checkout", checkout, "", "", "",
			Info{Version: "dev", Commit: "58eb535abcdef", Date: "2026-12-05T12:07:00Z", Modified: true, GoVersion: "go1.26.8"}},
		{"go install ...@v0.3.0", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.3.0"}}, "", "", "",
			Info{Version: "v0.3.0", GoVersion: "go1.26.8"}},
		{"nothing recorded", nil, "", "", "", Info{Version: "dev"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := From(tt.bi, tt.version, tt.commit, tt.date)
			got.Platform = ""
			if tt.bi == nil {
				got.GoVersion = ""
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestString(t *testing.T) {
	s := Info{Version: "0.3.0", Commit: "1a2b3c", Modified: true, GoVersion: "go1.26.8", Platform: "linux/amd64"}.String()
	for _, want := range []string{"hrsync 0.3.0\n", "commit: 1a2b3c (modified", "date:   unknown\n", "go:     go1.26.8 linux/amd64\n"} {
		if !strings.Contains(s, want) {
			t.Errorf("%q lacks %q", s, want)
		}
	}
}
