package safefile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestOpenFileRefusesSymlinks(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	if err := os.WriteFile(target, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	dangling := filepath.Join(dir, "dangling")
	if err := os.Symlink(filepath.Join(dir, "nowhere"), dangling); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		path    string
		flag    int
		refused bool
	}{
		{"link to a file, truncating", link, os.O_WRONLY | os.O_CREATE | os.O_TRUNC, true},
		{"link to a file, read-write", link, os.O_RDWR | os.O_CREATE, true},
		{"link to a file, read only", link, os.O_RDONLY, true},
		{"dangling link, creating", dangling, os.O_WRONLY | os.O_CREATE, true},
		{"new file", filepath.Join(dir, "new"), os.O_WRONLY | os.O_CREATE | os.O_TRUNC, false},
		{"existing file", target + "2", os.O_WRONLY | os.O_CREATE | os.O_TRUNC, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := OpenFile(tc.path, tc.flag, 0o600)
			if f != nil {
				f.Close()
			}
			if got := errors.Is(err, ErrSymlink); got != tc.refused {
				t.Fatalf("OpenFile(%s) = %v, refused %v, want %v", tc.path, err, got, tc.refused)
			}
			if !tc.refused && err != nil {
				t.Fatal(err)
			}
		})
	}
	if data, _ := os.ReadFile(target); string(data) != "keep me" {
		t.Errorf("the link's target was changed: %q", data)
	}
	if _, err := os.Lstat(filepath.Join(dir, "nowhere")); err == nil {
		t.Error("the dangling link's target was created")
	}
}
