package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hrsync/hrsync/internal/dirtest"

	"github.com/hrsync/hrsync/internal/testenv"
)

// binary is the hrsync CLI built once for all end-to-end tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hrsync-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "hrsync")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build hrsync:", err)
		os.Exit(1)
	}
	code := m.Run()
	dirtest.Cleanup() // directory servers the LDAP tests started
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\n--- stdout\n%s\n--- stderr\n%s", r.code, r.stdout, r.stderr)
}

// hrsync runs the CLI in dir with no terminal on stdin.
func hrsync(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader("")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run hrsync: %v", err)
	}
	return result{out.String(), errb.String(), code}
}

func mustCode(t *testing.T, r result, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("want exit %d, got %s", code, r)
	}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// quickstart copies the quick start into a fresh folder and returns the
// folder holding hrsync.yaml.
func quickstart(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for _, f := range []string{"examples/quickstart/hrsync.yaml", "examples/quickstart/workers.csv", "examples/quickstart/tenant-seed.json", "mappings/example.yaml"} {
		copyFile(t, filepath.Join("..", "..", f), filepath.Join(root, f))
	}
	return filepath.Join(root, "examples", "quickstart")
}

type planDoc struct {
	FormatVersion string         `json:"format_version"`
	Summary       map[string]int `json:"summary"`
	Applyable     bool           `json:"applyable"`
	Actions       []struct {
		Action  string `json:"action"`
		Key     string `json:"key"`
		ID      string `json:"id"`
		Reason  string `json:"reason"`
		Changes []struct {
			Attribute string  `json:"attribute"`
			Before    *string `json:"before"`
			After     *string `json:"after"`
		} `json:"changes"`
	} `json:"actions"`
	Warnings []struct {
		Code     string `json:"code"`
		Severity string `json:"severity"`
		Key      string `json:"key"`
		Message  string `json:"message"`
		Sources  []struct {
			File string `json:"file"`
			Line int    `json:"line"`
		} `json:"sources"`
	} `json:"warnings"`
}

func parsePlan(t *testing.T, s string) planDoc {
	t.Helper()
	var p planDoc
	if err := json.Unmarshal([]byte(s), &p); err != nil {
		t.Fatalf("plan JSON: %v\n%s", err, s)
	}
	return p
}

func (p planDoc) actions() map[string]string {
	out := map[string]string{}
	for _, a := range p.Actions {
		out[a.Key] = a.Action
	}
	return out
}

type stateUser map[string]any

func readState(t *testing.T, path string) map[string]stateUser {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Users []stateUser `json:"users"`
	}
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatal(err)
	}
	out := map[string]stateUser{}
	for _, u := range st.Users {
		key, _ := u["employeeId"].(string)
		if key == "" {
			key, _ = u["userPrincipalName"].(string)
		}
		out[key] = u
	}
	return out
}

func TestQuickstartPlanApplyPlan(t *testing.T) {
	dir := quickstart(t)
	state := filepath.Join(dir, ".hrsync", "sandbox.json")

	// Changes (2), and the John Smith whose UPN is taken, an unresolved
	// problem (+8).
	r := hrsync(t, dir, nil, "plan", "-c", "hrsync.yaml", "--out", "plan.json", "--detailed-exitcode")
	mustCode(t, r, 10)
	for _, want := range []string{"+ create 1046", "~ update 1007", `~ department`, `"Product" -> "Engineering"`, "- disable 1099", "(absent from source)", "~ enable 1030", "- disable 1040", "upn_conflict 1048"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("plan output lacks %q\n%s", want, r.stdout)
		}
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "Plan: 4 to create, 4 to update, 1 to enable, 2 to disable, 0 to delete.") {
		t.Errorf("summary line = %q", last)
	}
	if fi, err := os.Stat(filepath.Join(dir, "plan.json")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("plan file: %v %v", fi, err)
	}
	if _, err := os.Stat(state); err == nil {
		seed, _ := os.ReadFile(filepath.Join(dir, "tenant-seed.json"))
		now, _ := os.ReadFile(state)
		if !bytes.Equal(seed, now) && strings.Contains(string(now), "1046") {
			t.Fatal("plan wrote to the tenant")
		}
	}

	// show prints the same document as plan --format json.
	show := hrsync(t, dir, nil, "show", "plan.json", "--format", "json")
	mustCode(t, show, 0)
	saved, _ := os.ReadFile(filepath.Join(dir, "plan.json"))
	if show.stdout != string(saved) {
		t.Error("show --format json differs from the saved plan")
	}
	p := parsePlan(t, show.stdout)
	if p.Summary["problems"] != 1 || len(p.Warnings) != 1 || p.Warnings[0].Severity != "problem" {
		t.Errorf("problems: summary %v, warnings %+v", p.Summary, p.Warnings)
	}
	if p.FormatVersion != "1.0" || p.Summary["create"] != 4 || p.Summary["update"] != 4 || p.Summary["disable"] != 2 || p.Summary["enable"] != 1 {
		t.Errorf("plan = %+v", p.Summary)
	}

	r = hrsync(t, dir, nil, "apply", "-c", "hrsync.yaml", "plan.json")
	mustCode(t, r, 0)
	if !strings.Contains(r.stdout, "Apply complete: 11 done, 0 partly done, 0 failed") {
		t.Errorf("apply output:\n%s", r)
	}
	if !strings.Contains(r.stderr, "1 unresolved problem that no apply resolves (upn_conflict 1048)") {
		t.Errorf("apply does not remind of the unresolved problem:\n%s", r.stderr)
	}

	users := readState(t, state)
	if users["1099"]["accountEnabled"] != false || users["1040"]["accountEnabled"] != false || users["1030"]["accountEnabled"] != true {
		t.Errorf("leavers/enable not applied: 1099=%v 1040=%v 1030=%v", users["1099"]["accountEnabled"], users["1040"]["accountEnabled"], users["1030"]["accountEnabled"])
	}
	if users["1007"]["department"] != "Engineering" {
		t.Errorf("mover not applied: %v", users["1007"]["department"])
	}
	if users["1047"] == nil || users["1046"] == nil || users["1047"]["manager"] != users["1046"]["id"] {
		t.Errorf("joiner's manager (a joiner too) not set: %v / %v", users["1047"], users["1046"])
	}
	if users["1020"]["manager"] != users["1003"]["id"] {
		t.Errorf("manager change not applied")
	}
	if users["admin@contoso.com"]["accountEnabled"] != true || users["svc-backup@contoso.com"]["accountEnabled"] != true {
		t.Error("an account without employeeId was touched")
	}
	if upn := users["1049"]["userPrincipalName"]; upn != "elodie.fontaine@contoso.com" {
		t.Errorf("joiner UPN = %v", upn)
	}
	raw, _ := os.ReadFile(state)
	if strings.Contains(strings.ToLower(string(raw)), `"password"`) {
		t.Error("the sandbox state holds a password")
	}
	if fi, _ := os.Stat(state); fi.Mode().Perm() != 0o600 {
		t.Errorf("state mode = %v", fi.Mode().Perm())
	}

	// No changes, but 1048 still cannot be created: never green.
	r = hrsync(t, dir, nil, "plan", "-c", "hrsync.yaml", "--detailed-exitcode")
	mustCode(t, r, 8)
	if !strings.Contains(r.stdout, "No changes, but 1 unresolved problem (upn_conflict 1048)") || strings.Contains(r.stdout, "No changes.") {
		t.Errorf("second plan:\n%s", r)
	}

	// The same saved plan applied again: its journal says every step is
	// done, so nothing is sent; without the journal, the directory shows
	// every write in effect. Either way nothing is duplicated.
	before, _ := os.ReadFile(state)
	r = hrsync(t, dir, nil, "apply", "-c", "hrsync.yaml", "plan.json")
	mustCode(t, r, 0)
	if !strings.Contains(r.stdout, "11 done, 0 partly done, 0 failed") || !strings.Contains(r.stderr, "Resuming") {
		t.Errorf("re-apply:\n%s", r)
	}
	if err := os.Remove(filepath.Join(dir, "plan.json.journal")); err != nil {
		t.Fatal(err)
	}
	r = hrsync(t, dir, nil, "apply", "-c", "hrsync.yaml", "plan.json")
	mustCode(t, r, 0)
	if !strings.Contains(r.stdout, "11 done, 0 partly done, 0 failed") {
		t.Errorf("re-apply without journal:\n%s", r)
	}
	if after, _ := os.ReadFile(state); len(after) != len(before) {
		t.Errorf("re-applying the plan changed the directory: %d -> %d bytes", len(before), len(after))
	}
	if n := len(readState(t, state)); n != len(users) {
		t.Errorf("re-applying the plan changed the user count: %d -> %d", len(users), n)
	}
}

func converged(t *testing.T) string {
	t.Helper()
	dir := quickstart(t)
	mustCode(t, hrsync(t, dir, nil, "apply", "-c", "hrsync.yaml", "--auto-approve"), 0)
	return dir
}

func editCSV(t *testing.T, dir string, edit func(string) string) {
	t.Helper()
	p := filepath.Join(dir, "workers.csv")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	out := edit(string(data))
	if out == string(data) {
		t.Fatal("edit changed nothing")
	}
	if err := os.WriteFile(p, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDepartmentChangeIsOneUpdate(t *testing.T) {
	dir := converged(t)
	editCSV(t, dir, func(s string) string {
		return strings.Replace(s, "1013,Active,Priya,Natarajan,Engineering,", "1013,Active,Priya,Natarajan,Research,", 1)
	})
	r := hrsync(t, dir, nil, "plan", "-c", "hrsync.yaml", "--format", "json", "--detailed-exitcode")
	mustCode(t, r, 10)
	p := parsePlan(t, r.stdout)
	if len(p.Actions) != 1 || p.Actions[0].Action != "update" || p.Actions[0].Key != "1013" || len(p.Actions[0].Changes) != 1 {
		t.Fatalf("actions = %+v", p.Actions)
	}
	c := p.Actions[0].Changes[0]
	if c.Attribute != "department" || *c.Before != "Engineering" || *c.After != "Research" {
		t.Errorf("change = %s %v %v", c.Attribute, *c.Before, *c.After)
	}
	mustCode(t, hrsync(t, dir, nil, "apply", "-c", "hrsync.yaml", "--auto-approve"), 0)
	mustCode(t, hrsync(t, dir, nil, "plan", "-c", "hrsync.yaml", "--detailed-exitcode"), 8) // 1048
}

func TestRemovedRowIsOneDisable(t *testing.T) {
	dir := converged(t)
	editCSV(t, dir, func(s string) string {
		var keep []string
		for _, l := range strings.Split(s, "\n") {
			if !strings.HasPrefix(l, "1026,") {
				keep = append(keep, l)
			}
		}
		return strings.Join(keep, "\n")
	})
	r := hrsync(t, dir, nil, "plan", "-c", "hrsync.yaml", "--format", "json")
	mustCode(t, r, 0)
	p := parsePlan(t, r.stdout)
	if len(p.Actions) != 1 || p.Actions[0].Action != "disable" || p.Actions[0].Key != "1026" || p.Actions[0].Reason != "absent from source" {
		t.Fatalf("actions = %+v", p.Actions)
	}
	// Applied: disabled, and its sign-in sessions revoked.
	mustCode(t, hrsync(t, dir, nil, "apply", "-c", "hrsync.yaml", "--auto-approve"), 0)
	u := readState(t, filepath.Join(dir, ".hrsync", "sandbox.json"))["1026"]
	if u["accountEnabled"] != false || u["signInSessionsValidFromDateTime"] == nil {
		t.Errorf("leaver after apply = %v, want disabled with sessions revoked", u)
	}
}

func TestBadCSVIsAnErrorWithLineAndNoWrites(t *testing.T) {
	dir := quickstart(t)
	editCSV(t, dir, func(s string) string {
		return strings.Replace(s, "1020,Active,Inés,Rodríguez,Sales,", "1020,Active,\"Inés,Rodríguez,Sales,", 1)
	})
	state := filepath.Join(dir, ".hrsync", "sandbox.json")
	r := hrsync(t, dir, nil, "apply", "-c", "hrsync.yaml", "--auto-approve")
	mustCode(t, r, 1)
	if !strings.Contains(r.stderr, "workers.csv:21") {
		t.Errorf("error does not name the line:\n%s", r)
	}
	if _, err := os.Stat(state); err == nil {
		users := readState(t, state)
		if users["1046"] != nil || users["1099"]["accountEnabled"] != true {
			t.Error("a bad CSV led to writes")
		}
	}
}

func TestDuplicateKeyIsReportedAndProtected(t *testing.T) {
	dir := converged(t)
	editCSV(t, dir, func(s string) string {
		return strings.Replace(s, "1045,Active,Nora,Berg,", "1026,Active,Nora,Berg,", 1)
	})
	r := hrsync(t, dir, nil, "plan", "-c", "hrsync.yaml", "--format", "json")
	mustCode(t, r, 0)
	p := parsePlan(t, r.stdout)
	acts := p.actions()
	if acts["1026"] != "" {
		t.Errorf("user with a duplicated key got action %q", acts["1026"])
	}
	if acts["1045"] != "disable" { // Nora's key is really gone from the source
		t.Errorf("1045 = %q, want disable", acts["1045"])
	}
	var dup bool
	for _, w := range p.Warnings {
		if w.Code == "duplicate_key" && w.Key == "1026" && len(w.Sources) == 2 && w.Sources[0].Line == 27 && w.Sources[1].Line == 46 {
			dup = true
		}
	}
	if !dup {
		t.Errorf("duplicate not reported with both lines: %+v", p.Warnings)
	}
}

func TestEmptySourceIsRefused(t *testing.T) {
	dir := converged(t)
	if err := os.WriteFile(filepath.Join(dir, "workers.csv"), []byte("WorkerID,WorkerStatus,FirstName,LastName,Department,JobTitle,ManagerID,HireDate,Company,CountryCode\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := hrsync(t, dir, nil, "apply", "-c", "hrsync.yaml", "--auto-approve")
	mustCode(t, r, 1)
	if !strings.Contains(r.stderr, "no data records") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	for k, u := range readState(t, filepath.Join(dir, ".hrsync", "sandbox.json")) {
		if strings.HasPrefix(k, "10") && k != "1040" && k != "1099" && u["accountEnabled"] != true {
			t.Fatalf("user %s disabled after an empty source", k)
		}
	}
}

func TestApplyWithoutTerminalNeedsApproval(t *testing.T) {
	dir := quickstart(t)
	r := hrsync(t, dir, nil, "apply", "-c", "hrsync.yaml")
	mustCode(t, r, 1)
	if !strings.Contains(r.stderr, "--auto-approve") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

func TestStalePlanIsRefused(t *testing.T) {
	dir := quickstart(t)
	mustCode(t, hrsync(t, dir, nil, "plan", "-c", "hrsync.yaml", "--out", "plan.json"), 0)
	m := filepath.Join(dir, "..", "..", "mappings", "example.yaml")
	data, _ := os.ReadFile(m)
	if err := os.WriteFile(m, bytes.Replace(data, []byte("  jobTitle: '[JobTitle]'\n"), nil, 1), 0o644); err != nil {
		t.Fatal(err)
	}
	r := hrsync(t, dir, nil, "apply", "-c", "hrsync.yaml", "plan.json")
	mustCode(t, r, 1)
	if !strings.Contains(r.stderr, "mapping") || !strings.Contains(r.stderr, "changed since the plan") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	r = hrsync(t, dir, nil, "apply", "-c", "hrsync.yaml", "plan.json", "--target-state", filepath.Join(dir, "other.json"))
	mustCode(t, r, 1)
	if !strings.Contains(r.stderr, "the plan was made for sandbox") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

func TestStaleActionsAreRefusedAndTheRestConverges(t *testing.T) {
	dir := quickstart(t)
	mustCode(t, hrsync(t, dir, nil, "plan", "-c", "hrsync.yaml", "--out", "plan.json"), 0)
	// Someone deletes the mover 1007 in the tenant between plan and apply.
	state := filepath.Join(dir, ".hrsync", "sandbox.json")
	seed, err := os.ReadFile(state)
	if errors.Is(err, os.ErrNotExist) { // plan leaves a fresh sandbox as its seed
		seed, err = os.ReadFile(filepath.Join(dir, "tenant-seed.json"))
	}
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.Unmarshal(seed, &st); err != nil {
		t.Fatal(err)
	}
	var kept []any
	for _, u := range st["users"].([]any) {
		if u.(map[string]any)["employeeId"] != "1007" {
			kept = append(kept, u)
		}
	}
	st["users"] = kept
	data, _ := json.Marshal(st)
	if err := os.MkdirAll(filepath.Dir(state), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(state, data, 0o600); err != nil {
		t.Fatal(err)
	}
	r := hrsync(t, dir, nil, "apply", "-c", "hrsync.yaml", "plan.json", "--report", "report.json")
	mustCode(t, r, 3)
	if !strings.Contains(r.stderr, "Refusing update 1007: user") || !strings.Contains(r.stdout, "x update 1007 refused") {
		t.Errorf("refusal not reported:\n%s", r)
	}
	var rep struct {
		Done, Failed, Refused int
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "report.json"))
	if err := json.Unmarshal(raw, &rep); err != nil || rep.Done != 10 || rep.Refused != 1 || rep.Failed != 0 {
		t.Errorf("report = %+v %v", rep, err)
	}
	r = hrsync(t, dir, nil, "apply", "-c", "hrsync.yaml", "plan.json", "--report", "report.csv")
	mustCode(t, r, 3)
	csv, _ := os.ReadFile(filepath.Join(dir, "report.csv"))
	if !strings.HasPrefix(string(csv), "key,user_id,action,attributes_changed,status,error_code,error_message,note\n") || !strings.Contains(string(csv), ",stale_plan,") {
		t.Errorf("CSV report:\n%s", csv)
	}
	// A fresh plan now creates 1007 again, and converges.
	r = hrsync(t, dir, nil, "apply", "-c", "hrsync.yaml", "--auto-approve")
	mustCode(t, r, 0)
	mustCode(t, hrsync(t, dir, nil, "plan", "-c", "hrsync.yaml", "--detailed-exitcode"), 8) // 1048
}

func TestLeaverThresholdBlocksApply(t *testing.T) {
	dir := converged(t)
	editCSV(t, dir, func(s string) string {
		lines := strings.Split(s, "\n")
		return strings.Join(lines[:20], "\n") + "\n" // keep 19 workers: 30 leavers
	})
	r := hrsync(t, dir, nil, "plan", "-c", "hrsync.yaml", "--format", "json")
	mustCode(t, r, 0)
	if p := parsePlan(t, r.stdout); p.Applyable || p.Summary["disable"] < 25 {
		t.Fatalf("plan applyable=%v disables=%d", p.Applyable, p.Summary["disable"])
	}
	r = hrsync(t, dir, nil, "apply", "-c", "hrsync.yaml", "--auto-approve")
	mustCode(t, r, 1)
	if !strings.Contains(r.stderr, "max_leavers_percent") || !strings.Contains(r.stderr, "--allow-over-thresholds") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	r = hrsync(t, dir, nil, "apply", "-c", "hrsync.yaml", "--auto-approve", "--allow-over-thresholds")
	mustCode(t, r, 0)
}

func TestCSV2SCIMFixture(t *testing.T) {
	fixture := filepath.Join("..", "..", "..", "shared", "fixtures", "csv2scim", "csv-with-1000-records.csv")
	testenv.File(t, fixture, "clone the repository with ../shared beside it, as CI does")
	root := t.TempDir()
	copyFile(t, filepath.Join("..", "..", "mappings", "csv2scim.yaml"), filepath.Join(root, "mappings", "csv2scim.yaml"))
	copyFile(t, fixture, filepath.Join(root, "hr", "workers.csv"))
	if err := os.WriteFile(filepath.Join(root, "seed.json"), []byte(`{"domains":["contoso.com"],"users":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := "source:\n  path: hr/workers.csv\nmapping: mappings/csv2scim.yaml\ntarget:\n  type: sandbox\n  state: tenant.json\n  seed: seed.json\n"
	if err := os.WriteFile(filepath.Join(root, "hrsync.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	r := hrsync(t, root, nil, "validate", "-c", "hrsync.yaml")
	mustCode(t, r, 0)
	if !strings.Contains(r.stdout, "1000 records") {
		t.Errorf("validate:\n%s", r)
	}

	r = hrsync(t, root, nil, "plan", "-c", "hrsync.yaml", "--format", "json", "--out", "plan.json")
	mustCode(t, r, 0)
	p := parsePlan(t, r.stdout)
	dupKeys, dupRows := 0, 0
	for _, w := range p.Warnings {
		if w.Code == "duplicate_key" {
			dupKeys++
			dupRows += len(w.Sources)
		}
	}
	// 1000 rows: 641 rows share 265 keys; 359 keys are unique, 170 of them Active.
	if dupKeys != 265 || dupRows != 641 {
		t.Errorf("duplicates reported: %d keys over %d rows, want 265 over 641", dupKeys, dupRows)
	}
	s := p.Summary
	if s["create"] != 170 || s["disable"] != 0 || s["update"] != 0 {
		t.Errorf("summary = %v, want 170 creates", s)
	}
	if s["create"]+s["skipped"] != 1000 {
		t.Errorf("records unaccounted for: %d created + %d skipped != 1000", s["create"], s["skipped"])
	}
	r = hrsync(t, root, nil, "apply", "-c", "hrsync.yaml", "plan.json")
	mustCode(t, r, 0)
	r = hrsync(t, root, nil, "plan", "-c", "hrsync.yaml", "--detailed-exitcode")
	mustCode(t, r, 8) // the duplicate keys stay unresolved
	users := readState(t, filepath.Join(root, "tenant.json"))
	if len(users) != 170 {
		t.Errorf("tenant holds %d users, want 170", len(users))
	}
	for k, u := range users {
		if u["usageLocation"] == "UK" {
			t.Errorf("user %s has usageLocation UK", k)
		}
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// serveSandbox runs "hrsync sandbox serve" on addr until the test ends or
// stop is called; stop waits for the state to be saved.
func serveSandbox(t *testing.T, dir, addr, state, seed, token string) (stop func()) {
	t.Helper()
	serve := exec.Command(binary, "sandbox", "serve", "--state", state, "--seed", seed, "--listen", addr, "--token", token)
	serve.Dir = dir
	var serr bytes.Buffer
	serve.Stderr = &serr
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			_ = serve.Process.Signal(os.Interrupt)
			_ = serve.Wait()
		}
	}
	t.Cleanup(stop)
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return stop
		}
		if time.Now().After(deadline) {
			t.Fatalf("sandbox did not listen: %s", serr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestSandboxServeWithAccessTokenAuth(t *testing.T) {
	dir := quickstart(t)
	addr := freePort(t)
	stop := serveSandbox(t, dir, addr, "served.json", "tenant-seed.json", "s3cret-token")
	env := []string{"HRSYNC_TARGET_TYPE=entra", "HRSYNC_TARGET_AUTH=access_token", "HRSYNC_TARGET_GRAPH_URL=http://" + addr}
	r := hrsync(t, dir, append(env, "HRSYNC_ACCESS_TOKEN=wrong"), "plan", "-c", "hrsync.yaml")
	mustCode(t, r, 1)
	if strings.Contains(r.stderr+r.stdout, "wrong") {
		t.Error("the token appears in the output")
	}
	r = hrsync(t, dir, append(env, "HRSYNC_ACCESS_TOKEN=s3cret-token"), "apply", "-c", "hrsync.yaml", "--auto-approve")
	mustCode(t, r, 0)
	if strings.Contains(r.stderr+r.stdout, "s3cret") {
		t.Error("the token appears in the output")
	}
	r = hrsync(t, dir, append(env, "HRSYNC_ACCESS_TOKEN=s3cret-token"), "plan", "-c", "hrsync.yaml", "--detailed-exitcode")
	mustCode(t, r, 8) // 1048
	stop()
	if users := readState(t, filepath.Join(dir, "served.json")); users["1046"] == nil {
		t.Error("served state not saved on exit")
	}
}

func TestValidateReportsWithoutTenant(t *testing.T) {
	dir := quickstart(t)
	r := hrsync(t, dir, []string{"HRSYNC_TARGET_TYPE=entra", "HRSYNC_TARGET_AUTH=azure_cli"}, "validate", "-c", "hrsync.yaml")
	mustCode(t, r, 0)
	if !strings.Contains(r.stdout, "50 records") || !strings.Contains(r.stdout, "upn_conflict 1048") {
		t.Errorf("validate:\n%s", r)
	}
	// validate reads no directory: 1003 is an existing user, not a joiner.
	if strings.Contains(r.stdout, "joiner") || !strings.Contains(r.stdout, "the record with key 1003") {
		t.Errorf("validate claims a joiner:\n%s", r.stdout)
	}
	r = hrsync(t, dir, []string{"HRSYNC_TARGET_TYPE=entra", "HRSYNC_TARGET_AUTH=azure_cli", "AZURE_TENANT_ID=not-a-guid"}, "validate", "-c", "hrsync.yaml")
	mustCode(t, r, 1)
	if !strings.Contains(r.stderr, `"not-a-guid" is neither a tenant id`) {
		t.Errorf("validate with a bad tenant id:\n%s", r)
	}
	r = hrsync(t, dir, nil, "validate", "-c", "hrsync.yaml", "--strict")
	mustCode(t, r, 1)
	r = hrsync(t, dir, nil, "validate", "-c", "hrsync.yaml", "--format", "json")
	mustCode(t, r, 0)
	var v struct {
		Source struct {
			Records int `json:"records"`
		} `json:"source"`
		Clean    int `json:"records_clean"`
		Problems int `json:"problems"`
		Warnings []struct {
			Code, Key, Severity string
		} `json:"warnings"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("validate --format json: %v\n%s", err, r)
	}
	if v.Source.Records != 50 || v.Clean != 50 || v.Problems != 1 || len(v.Warnings) != 1 || v.Warnings[0].Key != "1048" || v.Warnings[0].Severity != "problem" {
		t.Errorf("validate --format json: %s", r.stdout)
	}
}

// hrsync version, --version and -version print the version, the commit
// and the date: from the toolchain's build information for a build in a
// checkout, from -ldflags for a release build; --json prints them as JSON.
func TestVersion(t *testing.T) {
	r := hrsync(t, ".", nil, "version")
	mustCode(t, r, 0)
	if !strings.HasPrefix(r.stdout, "hrsync ") || !strings.Contains(r.stdout, "\ncommit: ") || !strings.Contains(r.stdout, "\ndate: ") {
		t.Errorf("version: %s", r)
	}
	for _, flag := range []string{"--version", "-version"} {
		if v := hrsync(t, ".", nil, flag); v.code != 0 || v.stdout != r.stdout {
			t.Errorf("%s differs from version:\n%s\n%s", flag, v, r)
		}
	}
	j := hrsync(t, ".", nil, "version", "--json")
	mustCode(t, j, 0)
	var info map[string]any
	if err := json.Unmarshal([]byte(j.stdout), &info); err != nil {
		t.Fatalf("version --json: %v\n%s", err, j)
	}
	for _, k := range []string{"version", "commit", "date", "modified", "go_version", "platform"} {
		if _, ok := info[k]; !ok {
			t.Errorf("version --json lacks %q: %s", k, j.stdout)
		}
	}

	// A release build's -ldflags (as .goreleaser.yaml and the Dockerfile set them).
	stamped := filepath.Join(t.TempDir(), "hrsync")
	build := exec.Command("go", "build", "-o", stamped,
		"-ldflags", "-X main.version=9.8.7 -X main.commit=0123456789abcdef -X main.date=2026-12-01T10:00:00Z", ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	out, err := exec.Command(stamped, "version", "--json").Output()
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out, &info); err != nil {
		t.Fatal(err)
	}
	if info["version"] != "9.8.7" || info["commit"] != "0123456789abcdef" || info["date"] != "2026-12-01T10:00:00Z" || info["modified"] != false {
		t.Errorf("stamped build: %s", out)
	}
}

// A plan saved before someone else's apply must not create a second user
// for a joiner who now exists (under another UPN).
func TestStalePlanNeverDuplicatesAJoiner(t *testing.T) {
	dir := quickstart(t)
	mustCode(t, hrsync(t, dir, nil, "plan", "-c", "hrsync.yaml", "--out", "old.json"), 0)
	editCSV(t, dir, func(s string) string {
		return strings.Replace(s, "1046,Active,Grace,O'Neill,", "1046,Active,Grace,Kelly,", 1)
	})
	mustCode(t, hrsync(t, dir, nil, "apply", "-c", "hrsync.yaml", "--auto-approve"), 0)
	r := hrsync(t, dir, nil, "apply", "-c", "hrsync.yaml", "old.json")
	mustCode(t, r, 3)
	if !strings.Contains(r.stderr, "Refusing create 1046: user") || !strings.Contains(r.stderr, "already holds employeeId 1046") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	holders := 0
	for _, u := range readState(t, filepath.Join(dir, ".hrsync", "sandbox.json")) {
		if u["employeeId"] == "1046" {
			holders++
		}
	}
	raw, _ := os.ReadFile(filepath.Join(dir, ".hrsync", "sandbox.json"))
	if holders != 1 || strings.Count(string(raw), `"employeeId": "1046"`)+strings.Count(string(raw), `"employeeId":"1046"`) != 1 {
		t.Fatalf("%d users hold employeeId 1046", holders)
	}
}

func TestEditedPlanIsRefused(t *testing.T) {
	dir := quickstart(t)
	mustCode(t, hrsync(t, dir, nil, "plan", "-c", "hrsync.yaml", "--out", "plan.json"), 0)
	raw, _ := os.ReadFile(filepath.Join(dir, "plan.json"))
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	acts := doc["actions"].([]any)
	upd := acts[5].(map[string]any) // an update
	upd["changes"] = append(upd["changes"].([]any), map[string]any{"attribute": "userPrincipalName", "before": nil, "after": "pwned@contoso.com"})
	edited, _ := json.Marshal(doc)
	if err := os.WriteFile(filepath.Join(dir, "plan.json"), edited, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"show", "plan.json"}, {"apply", "-c", "hrsync.yaml", "plan.json"}} {
		r := hrsync(t, dir, nil, args...)
		mustCode(t, r, 1)
		if !strings.Contains(r.stderr, "userPrincipalName is set on create only") {
			t.Errorf("%s: %s", args[0], r.stderr)
		}
	}
}

// A plan made against one tenant must not be applied to another one behind
// the same endpoint, even when the config names no tenant (access_token).
func TestPlanForAnotherTenantIsRefused(t *testing.T) {
	dir := quickstart(t)
	addr := freePort(t)
	env := []string{"HRSYNC_TARGET_TYPE=entra", "HRSYNC_TARGET_AUTH=access_token", "HRSYNC_TARGET_GRAPH_URL=http://" + addr}
	stop := serveSandbox(t, dir, addr, "tenant-a.json", "tenant-seed.json", "token-a")
	mustCode(t, hrsync(t, dir, append(env, "HRSYNC_ACCESS_TOKEN=token-a"), "plan", "-c", "hrsync.yaml", "--out", "plan.json"), 0)
	stop()
	// Tenant B holds the same users, but it is another directory.
	seed, err := os.ReadFile(filepath.Join(dir, "tenant-seed.json"))
	if err != nil {
		t.Fatal(err)
	}
	other := bytes.Replace(seed, []byte("4f1d2c3b-5a6e-4b7f-8c9d-0e1f2a3b4c5d"), []byte("0a1b2c3d-0000-4000-8000-000000000b0b"), 1)
	if err := os.WriteFile(filepath.Join(dir, "seed-b.json"), other, 0o600); err != nil {
		t.Fatal(err)
	}
	serveSandbox(t, dir, addr, "tenant-b.json", "seed-b.json", "token-b")
	r := hrsync(t, dir, append(env, "HRSYNC_ACCESS_TOKEN=token-b"), "apply", "-c", "hrsync.yaml", "plan.json")
	mustCode(t, r, 1)
	if !strings.Contains(r.stderr, "the plan was made for entra") || !strings.Contains(r.stderr, "make a new plan") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

// apply --format json prints the report JSON on stdout, and nothing else:
// the plan to approve goes to stderr; with nothing to apply, an empty
// report.
func TestApplyFormatJSON(t *testing.T) {
	dir := quickstart(t)
	type rep struct {
		Done    *int `json:"done"`
		Results []struct {
			Action, Key, Status string
		} `json:"results"`
	}
	r := hrsync(t, dir, nil, "apply", "-c", "hrsync.yaml", "--auto-approve", "--format", "json")
	mustCode(t, r, 0)
	var got rep
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("stdout is not the report: %v\n%s", err, r)
	}
	if got.Done == nil || *got.Done != 11 || len(got.Results) != 11 {
		t.Errorf("report: %s", r.stdout)
	}
	if !strings.Contains(r.stderr, "+ create 1046") {
		t.Errorf("the plan was not shown on stderr:\n%s", r.stderr)
	}
	r = hrsync(t, dir, nil, "apply", "-c", "hrsync.yaml", "--auto-approve", "--format", "json")
	mustCode(t, r, 0)
	got = rep{}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || got.Done == nil || *got.Done != 0 || got.Results == nil {
		t.Errorf("nothing to apply: %v\n%s", err, r)
	}
	r = hrsync(t, dir, nil, "apply", "-c", "hrsync.yaml", "--auto-approve", "--format", "yaml")
	mustCode(t, r, 1)
}
