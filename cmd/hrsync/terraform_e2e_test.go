package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Terraform's single-dash flags work as they do in terraform: -out=FILE
// writes FILE (not "ut=FILE"), -detailed-exitcode and -auto-approve are
// the long flags.
func TestTerraformHabits(t *testing.T) {
	dir := quickstart(t)
	r := hrsync(t, dir, nil, "plan", "-c", "hrsync.yaml", "-out=plan.json", "-detailed-exitcode")
	mustCode(t, r, 10)
	if _, err := os.Stat(filepath.Join(dir, "plan.json")); err != nil {
		t.Fatalf("-out=plan.json wrote no plan.json: %v\n%s", err, r)
	}
	if _, err := os.Stat(filepath.Join(dir, "ut=plan.json")); !os.IsNotExist(err) {
		t.Fatalf("-out=plan.json wrote ut=plan.json")
	}
	r = hrsync(t, dir, nil, "plan", "-c", "hrsync.yaml", "-out", "again.json", "-format", "json")
	mustCode(t, r, 0)
	if !strings.HasPrefix(r.stdout, "{") {
		t.Errorf("-format json: %s", r)
	}
	if _, err := os.Stat(filepath.Join(dir, "again.json")); err != nil {
		t.Errorf("-out again.json: %v", err)
	}
	r = hrsync(t, dir, nil, "plan", "-c", "hrsync.yaml", "-outfile=x.json")
	mustCode(t, r, 1)
	if !strings.Contains(r.stderr, "did you mean --out?") {
		t.Errorf("-outfile=x.json: %s", r)
	}
	if entries, _ := filepath.Glob(filepath.Join(dir, "*x.json")); len(entries) > 0 {
		t.Errorf("wrote %v", entries)
	}
	mustCode(t, hrsync(t, dir, nil, "apply", "-c", "hrsync.yaml", "-auto-approve"), 0)
}
