package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hrsync/hrsync/internal/graphsim"
)

// Scope, match precedence and SelectUniqueValue through the CLI: a record
// takes over an account that predates hrsync by its UPN, a worker whose
// status leaves the scope is disabled as "left scope", two namesakes get
// distinct UPNs next to an admin holding the obvious one, and the next
// plan is empty.
func TestScopeTakeoverAndUniqueUPNs(t *testing.T) {
	seed := filepath.Join(t.TempDir(), "seed.json")
	copyBytes(t, seed, `{"domains":["contoso.com"],"users":[
 {"id":"legacy-1","accountEnabled":true,"displayName":"Ada Byron","userPrincipalName":"ada.byron@contoso.com","mailNickname":"ada.byron"},
 {"id":"admin-1","accountEnabled":true,"displayName":"John Smith (admin)","userPrincipalName":"john.smith@contoso.com","mailNickname":"john.smith.admin"},
 {"id":"old-3","accountEnabled":true,"displayName":"Cy Wu","userPrincipalName":"cy.wu@contoso.com","mailNickname":"cy.wu","employeeId":"3"}
]}`)
	srv, base := startGraph(t, graphsim.Options{SeedPath: seed})
	dir := t.TempDir()
	copyBytes(t, filepath.Join(dir, "workers.csv"), `WorkerID,Status,First,Last,Email
1,Active,John,Smith,
2,Active,Ada,Byron,Ada.Byron@contoso.com
3,Contractor,Cy,Wu,
4,Active,John,Smith,
`)
	copyBytes(t, filepath.Join(dir, "mapping.yaml"), `match:
  - source: '[WorkerID]'
    target: employeeId
  - source: '[Email]'
    target: userPrincipalName
scope:
  - field: Status
    operator: EQUALS
    value: Active
attributes:
  displayName: 'Join(" ", [First], [Last])'
  mailNickname: 'SelectUniqueValue(ToLower(Join(".", [First], [Last])), ToLower(Join(".", [First], [Last], [WorkerID])))'
  userPrincipalName: 'SelectUniqueValue(Append(ToLower(Join(".", [First], [Last])), "@contoso.com"), Append(ToLower(Join(".", [First], [Last], [WorkerID])), "@contoso.com"))'
  accountEnabled: 'True'
`)
	copyBytes(t, filepath.Join(dir, "hrsync.yaml"), "source:\n  path: workers.csv\nmapping: mapping.yaml\ntarget:\n  type: entra\n  auth: access_token\n  graph_url: "+base+"\n")
	r := hrsync(t, dir, simEnv, "plan", "-c", "hrsync.yaml", "--out", "plan.json", "--format", "json")
	mustCode(t, r, 0)
	p := parsePlan(t, r.stdout)
	acts := p.actions()
	if acts["1"] != "create" || acts["4"] != "create" || acts["2"] != "update" || acts["3"] != "disable" {
		t.Fatalf("actions = %v\n%s", acts, r.stdout)
	}
	upns := map[string]string{}
	for _, a := range p.Actions {
		for _, c := range a.Changes {
			if c.Attribute == "userPrincipalName" && c.After != nil {
				upns[a.Key] = *c.After
			}
		}
		switch a.Key {
		case "2":
			if a.ID != "legacy-1" {
				t.Errorf("record 2 should take over legacy-1, got %+v", a)
			}
		case "3":
			if !strings.Contains(a.Reason, "left scope") {
				t.Errorf("record 3 reason = %q", a.Reason)
			}
		}
	}
	if upns["1"] != "john.smith.1@contoso.com" || upns["4"] != "john.smith.4@contoso.com" {
		t.Errorf("UPNs = %v, want the second candidates next to the admin's john.smith@", upns)
	}
	mustCode(t, hrsync(t, dir, simEnv, "apply", "plan.json", "--auto-approve"), 0)
	for _, u := range srv.Snapshot().Users {
		if u.ID == "legacy-1" && u.EmployeeID != "2" {
			t.Errorf("legacy-1 employeeId = %q, want 2", u.EmployeeID)
		}
		if u.ID == "admin-1" && u.EmployeeID != "" {
			t.Errorf("the admin was touched: %+v", u)
		}
	}
	again := hrsync(t, dir, simEnv, "plan", "-c", "hrsync.yaml", "--detailed-exitcode")
	mustCode(t, again, 0)
	_ = os.Remove(filepath.Join(dir, "plan.json"))
}

func TestExplain(t *testing.T) {
	dir := quickstart(t)
	r := hrsync(t, dir, nil, "explain", "-c", "hrsync.yaml", "1002")
	mustCode(t, r, 0)
	for _, want := range []string{"workers.csv:3 (key 1002)", `FirstName     "José"`, "Scope: in", "1. employeeId = \"1002\"", "finds user", "userPrincipalName = \"jose.garcia@contoso.com\"", "Plan for this key:"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("explain 1002 lacks %q:\n%s", want, r.stdout)
		}
	}
	// The namesake whose UPN is taken: the warning is shown with the key.
	r = hrsync(t, dir, nil, "explain", "-c", "hrsync.yaml", "1048")
	mustCode(t, r, 0)
	if !strings.Contains(r.stdout, "upn_conflict") {
		t.Errorf("explain 1048 lacks the UPN conflict:\n%s", r.stdout)
	}
	// A mover: the action and its changes.
	r = hrsync(t, dir, nil, "explain", "-c", "hrsync.yaml", "--format", "json", "1004")
	mustCode(t, r, 0)
	var ex struct {
		Records []struct {
			Trace struct {
				Attrs []struct{ Attribute, Value string } `json:"attributes"`
			} `json:"trace"`
		} `json:"records"`
		Actions []struct{ Action string } `json:"actions"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &ex); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if len(ex.Records) != 1 || len(ex.Records[0].Trace.Attrs) == 0 {
		t.Errorf("json = %s", r.stdout)
	}
	r = hrsync(t, dir, nil, "explain", "-c", "hrsync.yaml", "--no-target", "1002")
	mustCode(t, r, 0)
	if !strings.Contains(r.stdout, "--no-target") || strings.Contains(r.stdout, "finds user") {
		t.Errorf("--no-target read the directory:\n%s", r.stdout)
	}
	r = hrsync(t, dir, nil, "explain", "-c", "hrsync.yaml", "nobody")
	mustCode(t, r, 1)
	if !strings.Contains(r.stderr, `no record in`) || !strings.Contains(r.stderr, "and no user in Entra ID holds it") {
		t.Errorf("unknown key: %s", r)
	}
}

// explain answers from the directory side too: 1099 is in no record, and
// the plan disables its user because it is absent from the source.
func TestExplainALeaverAbsentFromTheSource(t *testing.T) {
	dir := quickstart(t)
	r := hrsync(t, dir, nil, "explain", "-c", "hrsync.yaml", "1099")
	mustCode(t, r, 0)
	for _, want := range []string{"No record in", "has key 1099", "Directory users with this key:", "<victor.leaving@contoso.com>", "(enabled)",
		"disable 1099 (user ", ": absent from source", `accountEnabled: "true" -> "false"`, "In short: no record in the source has key 1099, so its user is a leaver: disable: absent from source."} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("explain 1099 lacks %q:\n%s", want, r.stdout)
		}
	}
	// Without the directory, a key in no record is an error that says so.
	r = hrsync(t, dir, nil, "explain", "-c", "hrsync.yaml", "--no-target", "1099")
	mustCode(t, r, 1)
	if !strings.Contains(r.stderr, "without --no-target explain also looks for it in the directory") {
		t.Errorf("--no-target: %s", r)
	}
	// JSON: the same, one key style (snake_case) throughout.
	r = hrsync(t, dir, nil, "explain", "-c", "hrsync.yaml", "--format", "json", "1099")
	mustCode(t, r, 0)
	var ex struct {
		Users   []struct{ ID, UserPrincipalName, AccountEnabled string } `json:"users"`
		Actions []struct{ Action, Reason, Event string }                 `json:"actions"`
		Summary string                                                   `json:"summary"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &ex); err != nil {
		t.Fatal(err)
	}
	if len(ex.Users) != 1 || len(ex.Actions) != 1 || ex.Actions[0].Action != "disable" || ex.Actions[0].Reason != "absent from source" || ex.Summary == "" {
		t.Errorf("explain 1099 JSON: %s", r.stdout)
	}
	for _, key := range []string{"1099", "1002", "1048"} {
		r = hrsync(t, dir, nil, "explain", "-c", "hrsync.yaml", "--format", "json", key)
		mustCode(t, r, 0)
		var doc any
		if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
			t.Fatal(err)
		}
		checkSnakeCase(t, key, "", doc)
	}
}

// checkSnakeCase fails for an object key that is not snake_case; the
// values of "fields" (the source's own column names) are data.
func checkSnakeCase(t *testing.T, what, path string, v any) {
	t.Helper()
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if strings.ToLower(k) != k || strings.Contains(k, "-") {
				t.Errorf("explain %s: key %q at %s is not snake_case", what, k, path)
			}
			if k != "fields" {
				checkSnakeCase(t, what, path+"."+k, x)
			}
		}
	case []any:
		for _, x := range v {
			checkSnakeCase(t, what, path+"[]", x)
		}
	}
}

// Redact-ed values stay hidden in plans and in explain, the source field
// they come from included.
func TestRedactHidesValuesInPlanAndExplain(t *testing.T) {
	dir := quickstart(t)
	mapping := filepath.Join(dir, "..", "..", "mappings", "example.yaml")
	data, err := os.ReadFile(mapping)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mapping, []byte(strings.Replace(string(data), "  jobTitle: '[JobTitle]'", "  jobTitle: 'Redact([JobTitle])'", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	plan := hrsync(t, dir, nil, "plan", "-c", "hrsync.yaml")
	mustCode(t, plan, 0)
	explain := hrsync(t, dir, nil, "explain", "-c", "hrsync.yaml", "1050")
	mustCode(t, explain, 0)
	json := hrsync(t, dir, nil, "explain", "-c", "hrsync.yaml", "--format", "json", "1050")
	for _, out := range []string{plan.stdout, explain.stdout, json.stdout} {
		if strings.Contains(out, "Software Engineer") || strings.Contains(out, "Engineering Manager") {
			t.Errorf("a redacted job title shows:\n%s", out)
		}
	}
	if !strings.Contains(plan.stdout, "(redacted)") || !strings.Contains(explain.stdout, "(redacted)") {
		t.Errorf("no (redacted) marker:\n%s\n%s", plan.stdout, explain.stdout)
	}
}

// A plan with more joiners than policy.max_creates is blocked at plan time
// and refused at apply, naming the threshold.
func TestCreateThresholdBlocksApply(t *testing.T) {
	dir := quickstart(t)
	cfg := filepath.Join(dir, "hrsync.yaml")
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, []byte(strings.Replace(string(data), "policy:\n", "policy:\n  max_creates: 1\n", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	plan := hrsync(t, dir, nil, "plan", "-c", "hrsync.yaml", "--out", "plan.json", "--detailed-exitcode")
	mustCode(t, plan, 12) // blocked (4), and 1048 (+8)
	if !strings.Contains(plan.stdout, "exceed policy.max_creates (1)") {
		t.Errorf("plan does not name the threshold:\n%s", plan.stdout)
	}
	apply := hrsync(t, dir, nil, "apply", "-c", "hrsync.yaml", "plan.json", "--auto-approve")
	mustCode(t, apply, 1)
	if !strings.Contains(apply.stderr, "policy.max_creates") {
		t.Errorf("apply: %s", apply)
	}
	// The former name of the override still works.
	mustCode(t, hrsync(t, dir, nil, "apply", "-c", "hrsync.yaml", "plan.json", "--auto-approve", "--allow-mass-leavers"), 0)
}

// Under --log-format json every line on stderr is a JSON record, errors
// and notices included, so pipelines can parse it.
func TestJSONLogsKeepStderrJSON(t *testing.T) {
	dir := quickstart(t)
	for _, args := range [][]string{
		{"plan", "-c", "hrsync.yaml", "--out", "plan.json", "--log-format", "json", "--log-level", "info"},
		{"plan", "-c", "nope.yaml", "--log-format", "json"},
	} {
		r := hrsync(t, dir, nil, args...)
		for _, l := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
			if l == "" {
				continue
			}
			var rec map[string]any
			if err := json.Unmarshal([]byte(l), &rec); err != nil {
				t.Errorf("%v: stderr line is not JSON: %q", args, l)
			}
		}
		if r.code == 0 && !strings.Contains(r.stderr, "Saved the plan") {
			t.Errorf("%v: the notice is missing: %s", args, r.stderr)
		}
		if r.code == 1 && !strings.Contains(r.stderr, `"exit_code":1`) {
			t.Errorf("%v: the error record lacks its exit code: %s", args, r.stderr)
		}
	}
}
