package graphsim_test

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hrsync/hrsync/internal/graphsim"
)

func TestStateSaveLoadRoundtrip(t *testing.T) {
	dir := t.TempDir()
	statePath := filepath.Join(dir, "tenant.json")
	s, err := graphsim.New(graphsim.Options{StatePath: statePath, Domains: []string{"contoso.com"}, Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	base, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	boss := mustCreate(t, base, "boss@contoso.com", map[string]any{"employeeId": "1", "employeeHireDate": "2021-02-03T04:05:06Z"})
	for _, upn := range []string{"z@contoso.com", "a@contoso.com", "m@contoso.com"} {
		id := mustCreate(t, base, upn, map[string]any{"employeeOrgData": map[string]any{"division": "D"}})
		call(t, http.MethodPut, base+"/v1.0/users/"+id+"/manager/$ref", map[string]any{"@odata.id": "/users/" + boss}, nil)
	}
	gone := mustCreate(t, base, "gone@contoso.com", nil)
	call(t, http.MethodDelete, base+"/v1.0/users/"+gone, nil, nil)
	before := s.Snapshot()
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	info, err := os.Stat(statePath)
	if err != nil {
		t.Fatal(err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("state file mode = %o, want 600", mode)
	}
	data, _ := os.ReadFile(statePath)
	if strings.Contains(string(data), "Sup3r-Secret-Pw!") || strings.Contains(strings.ToLower(string(data)), `"password"`) {
		t.Fatal("state file contains a password")
	}
	if !json.Valid(data) {
		t.Fatalf("state file is not valid JSON:\n%s", data)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".tenant.json.tmp-*")); len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}

	s2, err := graphsim.New(graphsim.Options{StatePath: statePath, Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	after := s2.Snapshot()
	if !reflect.DeepEqual(before, after) {
		t.Errorf("state changed across save/load:\nbefore %+v\nafter  %+v", before, after)
	}
	if got := []string{after.Users[1].UserPrincipalName, after.Users[2].UserPrincipalName}; got[0] != "z@contoso.com" || got[1] != "a@contoso.com" {
		t.Errorf("creation order not kept: %v", got)
	}
	if s2.Dirty() {
		t.Error("freshly loaded state is dirty")
	}
	// Save without changes does not rewrite the file.
	if err := os.Remove(statePath); err != nil {
		t.Fatal(err)
	}
	if err := s2.Save(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(statePath); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Save rewrote an unchanged state (stat err %v)", err)
	}
	if err := s2.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestSeedLoading(t *testing.T) {
	dir := t.TempDir()
	seed := filepath.Join(dir, "seed.json")
	writeFile(t, seed, `{
  "domains": ["contoso.com"],
  "users": [
    {"id": "11111111-1111-1111-1111-111111111111", "accountEnabled": true, "displayName": "Boss", "userPrincipalName": "boss@contoso.com"},
    {"accountEnabled": false, "displayName": "No Id", "userPrincipalName": "noid@contoso.com", "manager": "11111111-1111-1111-1111-111111111111"}
  ]
}`)
	statePath := filepath.Join(dir, "state.json")
	s, base := startSim(t, graphsim.Options{StatePath: statePath, SeedPath: seed})
	r := call(t, http.MethodGet, base+"/v1.0/users/noid@contoso.com/manager?$select=displayName", nil, nil)
	if r.status != 200 || r.obj["displayName"] != "Boss" {
		t.Fatalf("seeded manager: %d %s", r.status, r.body)
	}
	snap := s.Snapshot()
	if len(snap.Users) != 2 || len(snap.Users[1].ID) != 36 {
		t.Fatalf("seeded users = %+v", snap.Users)
	}
	// Starting from a seed, the first save writes the state file even
	// without changes.
	if !s.Dirty() {
		t.Error("state started from a seed is not dirty")
	}
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(statePath); err != nil {
		t.Fatalf("state file not written: %v", err)
	}
	// Once the state file exists the seed is ignored.
	writeFile(t, seed, `{"domains": ["other.com"], "users": []}`)
	s2, err := graphsim.New(graphsim.Options{StatePath: statePath, SeedPath: seed})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(s2.Snapshot().Users); n != 2 {
		t.Errorf("loaded %d users, want the 2 from the state file", n)
	}
}

func TestLoadStateErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, content string
		want          []string
	}{
		{"syntax", "{\n  \"domains\": [\"contoso.com\"],\n  \"users\": [\n    {\"id\": \"x\",}\n  ]\n}", []string{"line 4, column 16", "JSON syntax error"}},
		{"wrong type", `{"domains": ["contoso.com"], "users": [{"userPrincipalName": 7}]}`, []string{"line 1, column 63", "users[0].userPrincipalName"}},
		{"wrong type later", "{\"domains\": [\"contoso.com\"],\n \"users\": [\n  {\"userPrincipalName\": \"a@contoso.com\"},\n  {\"accountEnabled\": \"yes\"}]}",
			[]string{"line 4, column 27", "users[1].accountEnabled"}},
		{"unknown user field", "{\"domains\": [],\n \"users\": [{\"nmae\": 1}]}", []string{"line 2, column 12", "users[0]", "nmae"}},
		{"unknown field position", "{\"domains\": [],\n \"userz\": []}", []string{"line 2, column 2", "userz"}},
		{"users not an array", `{"domains": [], "users": {}}`, []string{"users has the wrong type"}},
		{"unknown field", "{\"domains\": [],\n \"userz\": []}", []string{"userz"}},
		{"duplicate upn", `{"domains": ["contoso.com"], "users": [
			{"userPrincipalName": "a@contoso.com"}, {"userPrincipalName": "A@contoso.com"}]}`, []string{"users[1]", "already used by users[0]"}},
		{"unknown domain", `{"domains": ["contoso.com"], "users": [{"userPrincipalName": "a@fabrikam.com"}]}`, []string{"users[0]", "not in domains"}},
		{"missing manager", `{"domains": ["contoso.com"], "users": [{"userPrincipalName": "a@contoso.com", "manager": "nobody"}]}`, []string{"manager nobody"}},
		{"employeeId too long", `{"domains": ["contoso.com"], "users": [{"userPrincipalName": "a@contoso.com", "employeeId": "12345678901234567"}]}`, []string{"employeeId", "16"}},
		{"trailing data", `{"domains": [], "users": []} {}`, []string{"after the top-level object"}},
		{"empty", ``, []string{"end of file"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".json")
			writeFile(t, path, tc.content)
			_, err := graphsim.New(graphsim.Options{SeedPath: path})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range append(tc.want, path) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	if _, err := graphsim.New(graphsim.Options{SeedPath: filepath.Join(dir, "missing.json")}); err == nil {
		t.Error("missing seed file accepted")
	}
}

func TestAutosave(t *testing.T) {
	statePath := filepath.Join(t.TempDir(), "auto.json")
	_, base := startSim(t, graphsim.Options{StatePath: statePath, Domains: []string{"contoso.com"}, AutosaveInterval: 10 * time.Millisecond})
	mustCreate(t, base, "auto@contoso.com", nil)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if st, err := graphsim.LoadState(statePath); err == nil && len(st.Users) == 1 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("autosave did not write the new user")
}
