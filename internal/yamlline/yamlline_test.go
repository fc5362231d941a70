package yamlline

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestLocate(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"a key indented one space too far", "a:\n  b: 1\n  c: 2\n   d: 3\n  e: 4\n", "line 4: mapping values are not allowed in this context"},
		{"a key out of its block", "match:\n  source: x\n  target: y\nattributes:\n  displayName: x\n  givenName: y\n   mail: z\n  sn: w\n", "line 7:"},
		{"a tab", "a:\n\tb: 1\n", "line 2:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n yaml.Node
			err := Locate([]byte(tt.doc), yaml.Unmarshal([]byte(tt.doc), &n))
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
	if err := Locate([]byte("a: 1\n"), nil); err != nil {
		t.Errorf("no error: %v", err)
	}
}
