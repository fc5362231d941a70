// Package buildinfo says which build of hrsync is running: the version,
// commit and date a release build stamps in with -ldflags (see
// .goreleaser.yaml and the Dockerfile), or else what the Go toolchain
// recorded in the binary (the module version for go install ...@version,
// and vcs.revision, vcs.time and vcs.modified for a build in a checkout).
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Info identifies a build. Unknown values are empty.
type Info struct {
	// Version is the release version (0.3.0), the module version go
	// install recorded (v0.3.0, or a pseudo-version), or "dev".
	Version string `json:"version"`
	// Commit is the full commit hash the binary was built from.
	Commit string `json:"commit"`
	// Date is the build date of a release build, else the commit's date
	// (RFC 3339, UTC).
	Date string `json:"date"`
	// Modified says the checkout had uncommitted changes.
	Modified bool `json:"modified"`
	// GoVersion and Platform are the toolchain and the os/arch built for.
	GoVersion string `json:"go_version"`
	Platform  string `json:"platform"`
}

// Read returns the running binary's Info: the values -ldflags set
// (main.version, main.commit, main.date; "" when not set), each completed
// from the toolchain's build information.
func Read(version, commit, date string) Info {
	bi, _ := debug.ReadBuildInfo()
	return From(bi, version, commit, date)
}

// From is Read with the build information given (nil: none recorded).
func From(bi *debug.BuildInfo, version, commit, date string) Info {
	in := Info{Version: version, Commit: commit, Date: date, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi == nil {
		return in.orDev()
	}
	if bi.GoVersion != "" {
		in.GoVersion = bi.GoVersion
	}
	if in.Version == "" && bi.Main.Version != "(devel)" {
		in.Version = bi.Main.Version
	}
	stamped := commit != ""
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			if in.Commit == "" {
				in.Commit = s.Value
			}
		case "vcs.time":
			if in.Date == "" {
				in.Date = s.Value
			}
		case "vcs.modified":
			in.Modified = !stamped && s.Value == "true"
		}
	}
	return in.orDev()
}

func (in Info) orDev() Info {
	if in.Version == "" {
		in.Version = "dev"
	}
	return in
}

// String is the text `hrsync version` prints.
func (in Info) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "hrsync %s\n", in.Version)
	commit := or(in.Commit, "unknown")
	if in.Modified {
		commit += " (modified: built with uncommitted changes)"
	}
	fmt.Fprintf(&b, "commit: %s\n", commit)
	fmt.Fprintf(&b, "date:   %s\n", or(in.Date, "unknown"))
	fmt.Fprintf(&b, "go:     %s %s\n", in.GoVersion, in.Platform)
	return b.String()
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
