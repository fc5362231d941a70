package workforce

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hrsync/hrsync/internal/buildinfo"
	"github.com/hrsync/hrsync/internal/cli"
	"github.com/hrsync/hrsync/internal/graphsim"
)

// TestPlanThroughCLI plans generated data sets with hrsync's own CLI code
// (in process) against graphsim over loopback HTTP, as the benchmark does
// with the binary: with no drift the plan must be empty, i.e. the tenant
// holds exactly what the bench mapping makes; with drift it must create the
// joiners, update the movers and disable the leavers, nothing else.
func TestPlanThroughCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the CLI against graphsim")
	}
	const token = "bench-test-token"
	t.Setenv("HRSYNC_ACCESS_TOKEN", token)
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"no drift", noDrift(400, 21)},
		{"no drift, other seed", noDrift(1500, 22)},
		{"default drift", DefaultOptions(3000, 23)},
		{"joiners only", Options{N: 1000, Seed: 24, Joiners: 0.1, Inactive: 0.02, Admins: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := mustNew(t, tc.opts)
			dir := t.TempDir()
			files, err := g.WriteFiles(context.Background(), dir)
			if err != nil {
				t.Fatal(err)
			}
			srv, err := graphsim.New(graphsim.Options{SeedPath: files.Seed, Token: token})
			if err != nil {
				t.Fatalf("graphsim loads the seed: %v", err)
			}
			base, err := srv.Start("127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_ = srv.Close(ctx)
			})
			cfg := filepath.Join(dir, "hrsync.yaml")
			conf := "source:\n  type: csv\n  path: " + CSVFile + "\nmapping: " + MappingFile +
				"\ntarget:\n  type: entra\n  auth: access_token\n  graph_url: " + base +
				"\npolicy:\n  max_leavers: 0\n  max_leavers_percent: 0\n"
			if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
				t.Fatal(err)
			}
			var out, errOut bytes.Buffer
			ios := &cli.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
			code := cli.Main(context.Background(), []string{"plan", "-c", cfg, "--format", "json", "--detailed-exitcode"}, ios, buildinfo.Info{Version: "test"})
			if code != cli.ExitOK && code != cli.ExitChanges {
				t.Fatalf("hrsync plan exited %d:\n%s", code, errOut.String())
			}
			var p struct {
				Summary struct {
					Create, Update, Disable, Enable, Delete, Unchanged, Skipped, Managed int
				}
				Warnings []struct{ Code, Message string }
			}
			if err := json.Unmarshal(out.Bytes(), &p); err != nil {
				t.Fatalf("plan JSON: %v", err)
			}
			s := g.Summary()
			create, update, disable := s.Expected()
			got := p.Summary
			if got.Create != create || got.Update != update || got.Disable != disable || got.Enable != 0 || got.Delete != 0 {
				t.Errorf("plan: %+v; want create %d, update %d, disable %d", got, create, update, disable)
			}
			if got.Managed != s.Managed {
				t.Errorf("plan counts %d managed users, the seed holds %d", got.Managed, s.Managed)
			}
			if len(p.Warnings) > 0 {
				t.Errorf("plan has %d warnings, first: %+v", len(p.Warnings), p.Warnings[0])
			}
			if (create+update+disable == 0) != (code == cli.ExitOK) {
				t.Errorf("exit code %d for %d changes", code, create+update+disable)
			}
		})
	}
}
