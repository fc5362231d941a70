package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rows
}

func sandboxUsers(t *testing.T, cfg string) map[string]map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(filepath.Dir(cfg), ".hrsync", "sandbox.json"))
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Users []map[string]any `json:"users"`
	}
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatal(err)
	}
	byID := map[string]map[string]any{}
	for _, u := range st.Users {
		id, _ := u["id"].(string)
		byID[id] = u
	}
	return byID
}

func TestWritebackAndPasswordsFiles(t *testing.T) {
	cfg := quickstart(t)
	out := t.TempDir()
	wb, pw, rp := filepath.Join(out, "writeback.csv"), filepath.Join(out, "passwords.csv"), filepath.Join(out, "report.json")
	s := newStreams("", false)
	code := Main(context.Background(), []string{"apply", "-c", cfg, "--auto-approve", "--log-level", "debug",
		"--writeback", wb, "--passwords-file", pw, "--report", rp}, s.ios, testBuild)
	if code != ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, s.out, s.err)
	}
	joiners := []string{"1046", "1047", "1049"} // of the quick start's joiners, at least these
	users := sandboxUsers(t, cfg)

	rows := readCSV(t, wb)
	if strings.Join(rows[0], ",") != "key,user_principal_name,mail,object_id,created_at" {
		t.Fatalf("writeback header = %v", rows[0])
	}
	created := map[string]string{} // key -> object id
	for _, r := range rows[1:] {
		u := users[r[3]]
		if u == nil || u["employeeId"] != r[0] || !strings.EqualFold(u["userPrincipalName"].(string), r[1]) || r[4] == "" {
			t.Errorf("writeback row %v: sandbox holds %v", r, u)
		}
		if m, _ := u["mail"].(string); m != r[2] {
			t.Errorf("writeback row %v: mail %q, sandbox %q", r, r[2], m)
		}
		created[r[0]] = r[3]
	}
	for _, k := range joiners {
		if created[k] == "" {
			t.Errorf("joiner %s missing from the writeback file: %v", k, rows)
		}
	}
	if want := fmt.Sprintf("~ %d creates done: initial password: set", len(created)); !strings.Contains(s.out.String(), want) {
		t.Errorf("%d joiners written back, stdout does not say %q:\n%s", len(created), want, s.out)
	}

	fi, err := os.Stat(pw)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("passwords file: %v %v", fi, err)
	}
	if fi, _ := os.Stat(wb); fi.Mode().Perm() != 0o600 {
		t.Errorf("writeback mode = %v", fi.Mode().Perm())
	}
	prow := readCSV(t, pw)
	if strings.Join(prow[0], ",") != "key,user_principal_name,initial_password" {
		t.Fatalf("passwords header = %v", prow[0])
	}
	if len(prow)-1 != len(created) {
		t.Errorf("passwords rows = %d, want one per created user (%d)", len(prow)-1, len(created))
	}
	report, _ := os.ReadFile(rp)
	state, _ := os.ReadFile(filepath.Join(filepath.Dir(cfg), ".hrsync", "sandbox.json"))
	seen := map[string]bool{}
	for _, r := range prow[1:] {
		if created[r[0]] == "" || len(r[2]) < 16 || seen[r[2]] {
			t.Errorf("passwords row for %s: not a created user, or a short or repeated password", r[0])
		}
		seen[r[2]] = true
		for name, text := range map[string][]byte{"stdout": s.out.Bytes(), "stderr": s.err.Bytes(), "report": report, "state": state} {
			if bytes.Contains(text, []byte(r[2])) {
				t.Errorf("the initial password of %s appears in the %s", r[0], name)
			}
		}
	}
	if !strings.Contains(s.err.String(), "Initial passwords of") {
		t.Errorf("stderr does not say where the passwords went:\n%s", s.err)
	}

	// Nothing left to apply: no file is made, so the next run's path stays free.
	wb2, pw2 := filepath.Join(out, "wb2.csv"), filepath.Join(out, "pw2.csv")
	s = newStreams("", false)
	if code := Main(context.Background(), []string{"apply", "-c", cfg, "--auto-approve", "--writeback", wb2, "--passwords-file", pw2}, s.ios, testBuild); code != ExitOK {
		t.Fatalf("second apply: exit %d\n%s", code, s.err)
	}
	for _, f := range []string{wb2, pw2} {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("%s created although there was nothing to apply", f)
		}
	}
}

func TestExistingPasswordsFileIsRefusedBeforeAnyWrite(t *testing.T) {
	for _, kind := range []string{"file", "symlink"} {
		t.Run(kind, func(t *testing.T) {
			cfg := quickstart(t)
			out := t.TempDir()
			pw, wb := filepath.Join(out, "passwords.csv"), filepath.Join(out, "writeback.csv")
			target := filepath.Join(out, "elsewhere.csv")
			if kind == "file" {
				if err := os.WriteFile(pw, []byte("keep me\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			} else if err := os.Symlink(target, pw); err != nil {
				t.Fatal(err)
			}
			s := newStreams("", false)
			code := Main(context.Background(), []string{"apply", "-c", cfg, "--auto-approve", "--passwords-file", pw, "--writeback", wb}, s.ios, testBuild)
			if code != ExitError || !strings.Contains(s.err.String(), "passwords file") {
				t.Fatalf("exit %d: %s", code, s.err)
			}
			state, _ := os.ReadFile(filepath.Join(filepath.Dir(cfg), ".hrsync", "sandbox.json"))
			if bytes.Contains(state, []byte(`"1046"`)) {
				t.Error("changes were applied although the passwords file was refused")
			}
			if kind == "file" {
				if data, _ := os.ReadFile(pw); string(data) != "keep me\n" {
					t.Errorf("existing passwords file overwritten: %q", data)
				}
			} else if _, err := os.Stat(target); err == nil {
				t.Error("the symbolic link was followed")
			}
			if _, err := os.Stat(wb); err == nil {
				t.Error("the writeback file was created although the apply was refused")
			}
		})
	}
}

func TestNoPasswordsFileByDefault(t *testing.T) {
	cfg := quickstart(t)
	s := newStreams("", false)
	if code := Main(context.Background(), []string{"apply", "-c", cfg, "--auto-approve"}, s.ios, testBuild); code != ExitOK {
		t.Fatalf("exit %d\n%s", code, s.err)
	}
	if !strings.Contains(s.out.String(), "creates done: initial password: set\n      1046, ") {
		t.Errorf("apply output does not say the password was set:\n%s", s.out)
	}
	if strings.Contains(s.err.String(), "Initial passwords of") {
		t.Errorf("passwords written without --passwords-file:\n%s", s.err)
	}
}
