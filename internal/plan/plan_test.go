package plan

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/hrsync/hrsync/internal/identity"
)

func TestWriteReadRoundTrip(t *testing.T) {
	in := input([]identity.Desired{person("1001", 2, "Ann Lee", "Sales"), person("1002", 3, "Bob Ray", "IT", "manager", "1001")},
		[]identity.User{user("u9", "1009", "accountEnabled", "true")})
	p, err := Compute(in)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "plan.json")
	if err := Write(path, p); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode = %v, %v", fi.Mode().Perm(), err)
	}
	got, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, p) {
		t.Errorf("round trip differs:\n%+v\n%+v", got, p)
	}
}

func TestReadRejects(t *testing.T) {
	tests := map[string]string{
		"not json":       "hello",
		"no version":     `{"actions":[]}`,
		"future version": `{"format_version":"2.1"}`,
	}
	for name, body := range tests {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "p.json")
			if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := Read(path); !errors.Is(err, ErrFormat) {
				t.Errorf("err = %v, want ErrFormat", err)
			}
		})
	}
}
