package cli

import (
	"strings"
	"testing"
)

func TestTerraformArgs(t *testing.T) {
	tests := []struct {
		name    string
		args    string
		want    string // "" with wantErr
		wantErr string
	}{
		{"-out=", "plan -c x.yaml -out=plan.json", "plan -c x.yaml --out=plan.json", ""},
		{"-out value", "plan -out plan.json -detailed-exitcode", "plan --out plan.json --detailed-exitcode", ""},
		{"-format", "plan -format json", "plan --format json", ""},
		{"-auto-approve", "apply -auto-approve -report r.csv", "apply --auto-approve --report r.csv", ""},
		{"persistent flags", "-config x.yaml -log-format json plan", "--config x.yaml --log-format json plan", ""},
		{"inherited flags", "plan -log-level=debug -target-state s.json", "plan --log-level=debug --target-state s.json", ""},
		{"subcommand of a subcommand", "sandbox serve -state s.json -throttle", "sandbox serve --state s.json --throttle", ""},
		{"-help and -version", "plan -help", "plan --help", ""},
		{"root -version", "-version", "--version", ""},
		{"shorthands stay", "plan -o plan.json -c x.yaml -oother.json -o=p.json", "plan -o plan.json -c x.yaml -oother.json -o=p.json", ""},
		{"long forms stay", "plan --out=plan.json --format json", "plan --out=plan.json --format json", ""},
		{"values are not flags", "plan --out -format -c -out", "plan --out -format -c -out", ""},
		{"after --", "explain -c x.yaml -- -out", "explain -c x.yaml -- -out", ""},
		{"a flag of another command is not rewritten", "apply -detailed-exitcode", "apply -detailed-exitcode", ""},
		{"-out= where there is no --out", "validate -out=x", "validate -out=x", ""},
		{"-o with an = in its value", "plan -outfile=plan.json", "", `-outfile=plan.json: hrsync plan has no flag --outfile, and a single dash would make it -o with the value "utfile=plan.json"; did you mean --out?`},
		{"misspelt -out", "plan -outt", "", `did you mean --out?`},
		{"-c with an =", "plan -cfg=x.yaml", "", `-cfg=x.yaml: hrsync plan has no flag --cfg, and a single dash would make it -c with the value "fg=x.yaml"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &app{ios: &IOStreams{}, build: testBuild}
			got, err := terraformArgs(a.rootCmd(), strings.Fields(tt.args))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if g := strings.Join(got, " "); g != tt.want {
				t.Errorf("got  %s\nwant %s", g, tt.want)
			}
		})
	}
}
