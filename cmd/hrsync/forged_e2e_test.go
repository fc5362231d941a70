package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hrsync/hrsync/internal/graphsim"
)

// planJSON is a saved plan as a generic document, for editing.
type planJSON map[string]any

func readPlanJSON(t *testing.T, path string) planJSON {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc planJSON
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

func (p planJSON) write(t *testing.T, path string) {
	t.Helper()
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// action returns the action for key.
func (p planJSON) action(t *testing.T, key string) map[string]any {
	t.Helper()
	for _, a := range p["actions"].([]any) {
		if m := a.(map[string]any); m["key"] == key {
			return m
		}
	}
	t.Fatalf("the plan has no action for %s", key)
	return nil
}

// change returns the change of attr in action a.
func change(t *testing.T, a map[string]any, attr string) map[string]any {
	t.Helper()
	for _, c := range a["changes"].([]any) {
		if m := c.(map[string]any); m["attribute"] == attr {
			return m
		}
	}
	t.Fatalf("action %v has no change of %s", a["key"], attr)
	return nil
}

// A hand-edited plan is refused, whatever field of whichever action was
// edited: apply derives every action again from the source and the
// mapping and refuses the whole plan, writing nothing and leaving no
// journal. An edit that also makes the action disagree with the directory
// (another user's id, a key its user does not hold, a wrong "before") is
// refused as stale: that action is not carried out, the others are.
func TestEditedPlansAreRefused(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(t *testing.T, p planJSON)
		want  string
		stale bool
	}{
		{"a mover turned into a leaver (the issue's case)", func(t *testing.T, p planJSON) {
			a := p.action(t, "1007")
			a["action"] = "disable"
			a["changes"] = []any{map[string]any{"attribute": "accountEnabled", "before": "true", "after": "false"}}
		}, "disable 1007: the mapping gives update for key 1007 from the source now, not disable", false},
		{"a mover's department", func(t *testing.T, p planJSON) {
			change(t, p.action(t, "1007"), "department")["after"] = "Finance"
		}, `update 1007: department: the mapping gives "Engineering", not "Finance"`, false},
		{"a joiner's UPN", func(t *testing.T, p planJSON) {
			a := p.action(t, "1049")
			a["user_principal_name"] = "root@contoso.com"
			change(t, a, "userPrincipalName")["after"] = "root@contoso.com"
		}, `create 1049: the user is "Élodie Fontaine" <elodie.fontaine@contoso.com>, not "Élodie Fontaine" <root@contoso.com>`, false},
		{"the target id", func(t *testing.T, p planJSON) {
			p.action(t, "1012")["id"] = p.action(t, "1007")["id"]
		}, "Refusing update 1012: user", true},
		{"the key of a leaver", func(t *testing.T, p planJSON) {
			p.action(t, "1099")["key"] = "1001"
		}, "Refusing disable 1001: user", true},
		{"a manager", func(t *testing.T, p planJSON) {
			a := p.action(t, "1020")
			m := a["manager"].(map[string]any)
			m["key"], m["id"] = "1099", p.action(t, "1099")["id"]
			change(t, a, "manager")["after"] = "1099"
		}, `update 1020: manager: the mapping gives "1003", not "1099"`, false},
		{"an attribute added to a rehire", func(t *testing.T, p planJSON) {
			a := p.action(t, "1030")
			a["changes"] = append(a["changes"].([]any), map[string]any{"attribute": "jobTitle", "before": "Recruiter", "after": "Chief Executive"})
		}, "enable 1030: jobTitle: the mapping gives no change of it", false},
		{"an attribute added with a wrong before", func(t *testing.T, p planJSON) {
			a := p.action(t, "1030")
			a["changes"] = append(a["changes"].([]any), map[string]any{"attribute": "jobTitle", "before": nil, "after": "Chief Executive"})
		}, `Refusing enable 1030: the plan shows jobTitle`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := quickstart(t)
			mustCode(t, hrsync(t, dir, nil, "plan", "-c", "hrsync.yaml", "--out", "plan.json"), 0)
			state := filepath.Join(dir, ".hrsync", "sandbox.json")
			before, _ := os.ReadFile(state)
			p := readPlanJSON(t, filepath.Join(dir, "plan.json"))
			tt.edit(t, p)
			p.write(t, filepath.Join(dir, "plan.json"))
			r := hrsync(t, dir, nil, "apply", "-c", "hrsync.yaml", "plan.json")
			mustCode(t, r, 3)
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("want %q in:\n%s", tt.want, r)
			}
			if tt.stale {
				if !strings.Contains(r.stdout, "refused") {
					t.Errorf("no refusal in the report:\n%s", r)
				}
				return
			}
			if !strings.Contains(r.stderr, "nothing was applied") || !strings.Contains(r.stderr, "the plan file was edited") {
				t.Errorf("not refused whole:\n%s", r)
			}
			after, _ := os.ReadFile(state)
			if string(before) != string(after) {
				t.Error("the tenant changed")
			}
			if _, err := os.Stat(filepath.Join(dir, "plan.json.journal")); err == nil {
				t.Error("a refused plan left a journal")
			}
		})
	}
}

// Group and license changes are checked against the rules too: a removal
// of a group the rules give, a license the rules give someone else.
func TestEditedEntitlementsAreRefused(t *testing.T) {
	hired := `,"employeeHireDate":"2020-01-01T00:00:00Z"`
	srv, dir := lifeTenant(t, seedUser("u1", "1", "Ann", "Sales", true, hired)+","+seedUser("u2", "2", "Bo", "Sales", true, hired), "", "")
	copyBytes(t, filepath.Join(dir, "workers.csv"), lifeHeader+"1,Active,Ann,Lee,Engineering,2020-01-01,\n2,Active,Bo,Lee,Sales,2020-01-01,\n")
	planActions(t, dir)
	p := readPlanJSON(t, filepath.Join(dir, "plan.json"))
	a := p.action(t, "1")
	a["groups"] = append(a["groups"].([]any), map[string]any{"op": "remove", "group_id": "g-all", "name": "All Staff"})
	p.write(t, filepath.Join(dir, "plan.json"))
	r := hrsync(t, dir, simEnv, "apply", "-c", "hrsync.yaml", "plan.json")
	mustCode(t, r, 3)
	if !strings.Contains(r.stderr, `update 1: the mapping's rules do not give the removal of group g-all ("All Staff")`) {
		t.Errorf("refusal:\n%s", r)
	}
	if u, _ := userByKey(srv, "1"); u.Department != "Sales" || !groupHas(srv, "g-all", "u1") || groupHas(srv, "g-eng", "u1") {
		t.Error("the edited plan was applied in part")
	}
}

func TestEditedLicenseIsRefused(t *testing.T) {
	const e3, e1 = skuE3, skuE1
	seed := filepath.Join(t.TempDir(), "seed.json")
	copyBytes(t, seed, `{"domains":["contoso.com"],"users":[
 {"id":"u2","employeeId":"2","accountEnabled":true,"displayName":"Bo Lee","userPrincipalName":"bo.lee@contoso.com","mailNickname":"bo.lee","usageLocation":"FR"}],
 "subscribedSkus":[
 {"skuId":"`+e3+`","skuPartNumber":"SPE_E3","prepaidUnits":{"enabled":10}},
 {"skuId":"`+e1+`","skuPartNumber":"SPE_E1","prepaidUnits":{"enabled":10}}]}`)
	srv, base := startGraph(t, graphsim.Options{SeedPath: seed})
	dir := t.TempDir()
	copyBytes(t, filepath.Join(dir, "workers.csv"), "WorkerID,First,Last,Type,Country\n2,Bo,Lee,Contractor,FR\n")
	copyBytes(t, filepath.Join(dir, "mapping.yaml"), `match:
  source: '[WorkerID]'
  target: employeeId
attributes:
  displayName: 'Join(" ", [First], [Last])'
  mailNickname: 'ToLower(Join(".", [First], [Last]))'
  userPrincipalName: 'Append(ToLower(Join(".", [First], [Last])), "@contoso.com")'
  usageLocation: '[Country]'
licenses:
  - source: '[Type]'
    map:
      Employee: SPE_E3
      Contractor: SPE_E1
`)
	copyBytes(t, filepath.Join(dir, "hrsync.yaml"), "source:\n  path: workers.csv\nmapping: mapping.yaml\ntarget:\n  type: entra\n  auth: access_token\n  graph_url: "+base+"\n")
	planActions(t, dir)
	p := readPlanJSON(t, filepath.Join(dir, "plan.json"))
	l := p.action(t, "2")["licenses"].([]any)[0].(map[string]any)
	l["sku_id"], l["name"] = e3, "SPE_E3" // the employees' license for a contractor
	p.write(t, filepath.Join(dir, "plan.json"))
	r := hrsync(t, dir, simEnv, "apply", "-c", "hrsync.yaml", "plan.json")
	mustCode(t, r, 3)
	if !strings.Contains(r.stderr, "update 2: the mapping's rules do not give the addition of license "+e3+" (SPE_E3)") {
		t.Errorf("refusal:\n%s", r)
	}
	for _, u := range srv.Snapshot().Users {
		if len(u.AssignedLicenses) > 0 {
			t.Errorf("user %s got licenses %v", u.ID, u.AssignedLicenses)
		}
	}
}

// A source that changed since the plan refuses the actions it no longer
// gives, and says so.
func TestPlanOfAnOlderSourceIsRefused(t *testing.T) {
	dir := quickstart(t)
	mustCode(t, hrsync(t, dir, nil, "plan", "-c", "hrsync.yaml", "--out", "plan.json"), 0)
	editCSV(t, dir, func(s string) string {
		return strings.Replace(s, "1007,Active,Ana María,de la Cruz,Engineering,", "1007,Active,Ana María,de la Cruz,Finance,", 1)
	})
	r := hrsync(t, dir, nil, "apply", "-c", "hrsync.yaml", "plan.json")
	mustCode(t, r, 3)
	if !strings.Contains(r.stderr, `update 1007: department: the mapping gives "Finance", not "Engineering"`) || !strings.Contains(r.stderr, "The source changed since the plan was made") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

// A forged journal does not help an edited plan through: the actions an
// earlier apply "began" are derived again too.
func TestEditedPlanWithForgedJournalIsRefused(t *testing.T) {
	dir := quickstart(t)
	mustCode(t, hrsync(t, dir, nil, "plan", "-c", "hrsync.yaml", "--out", "plan.json"), 0)
	p := readPlanJSON(t, filepath.Join(dir, "plan.json"))
	a := p.action(t, "1007")
	a["action"] = "disable"
	a["changes"] = []any{map[string]any{"attribute": "accountEnabled", "before": "true", "after": "false"}}
	p.write(t, filepath.Join(dir, "plan.json"))
	raw, err := os.ReadFile(filepath.Join(dir, "plan.json"))
	if err != nil {
		t.Fatal(err)
	}
	index := -1
	for i, x := range p["actions"].([]any) {
		if x.(map[string]any)["key"] == "1007" {
			index = i
		}
	}
	sum := sha256.Sum256(raw)
	journal := `{"plan":"sha256:` + hex.EncodeToString(sum[:]) + `","started_at":"2026-01-01T00:00:00Z"}` + "\n" +
		`{"action":` + strconv.Itoa(index) + `,"key":"1007","step":"revoke","at":"2026-01-01T00:00:01Z"}` + "\n"
	copyBytes(t, filepath.Join(dir, "plan.json.journal"), journal)
	r := hrsync(t, dir, nil, "apply", "-c", "hrsync.yaml", "plan.json")
	mustCode(t, r, 3)
	if !strings.Contains(r.stderr, "Resuming") || !strings.Contains(r.stderr, "disable 1007: the mapping gives update for key 1007 from the source now, not disable") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	for _, u := range readState(t, filepath.Join(dir, ".hrsync", "sandbox.json")) {
		if u["employeeId"] == "1007" && u["accountEnabled"] == false {
			t.Error("1007 was disabled")
		}
	}
}

// A saved plan whose mapping uses Now() (evaluated with the plan's clock)
// and a random value on create derives again at apply and converges.
func TestClockAndRandomMappingsApply(t *testing.T) {
	dir := quickstart(t)
	mappingPath := filepath.Join(dir, "..", "..", "mappings", "example.yaml")
	raw, err := os.ReadFile(mappingPath)
	if err != nil {
		t.Fatal(err)
	}
	m := strings.Replace(string(raw), "  department: '[Department]'\n", "  department: '[Department]'\n"+
		"  officeLocation:\n    expression: 'Append(\"Desk \", RandomString(6, 2, 0, 0, 0))'\n    apply: on_create\n"+
		"  companyName: 'IIF(DateDiff(\"d\", CDate([HireDate]), Now()) > 365, \"Contoso\", \"Contoso (new hire)\")'\n", 1)
	if m == string(raw) {
		t.Fatal("mapping not edited")
	}
	copyBytes(t, mappingPath, m)
	mustCode(t, hrsync(t, dir, nil, "plan", "-c", "hrsync.yaml", "--out", "plan.json"), 0)
	r := hrsync(t, dir, nil, "apply", "-c", "hrsync.yaml", "plan.json")
	mustCode(t, r, 0)
	again := hrsync(t, dir, nil, "plan", "-c", "hrsync.yaml", "--detailed-exitcode")
	if again.code != 8 { // no changes; 1048 stays an unresolved problem
		t.Fatalf("not converged:\n%s", again)
	}
}
