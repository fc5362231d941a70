package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hrsync/hrsync/internal/graphsim"
)

// In a hybrid tenant hrsync plans no write Graph refuses for a user synced
// from Active Directory: it says once per user what is left to AD, still
// sets what Graph allows (usageLocation), revokes the sessions of a leaver
// whose AD disable has synced, and changes cloud users as before. graphsim
// refuses mastered writes as Graph does, so a planned one would fail the
// apply.
func TestHybridTenantPlansNoRefusedWrite(t *testing.T) {
	synced := `,"onPremisesSyncEnabled":true,"onPremisesDistinguishedName":"CN=%s,OU=People,DC=contoso,DC=com","onPremisesLastSyncDateTime":"%s"`
	lastSync := time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)
	old := time.Now().UTC().AddDate(0, 0, -10).Format(time.RFC3339)
	users := []string{
		seedUser("u1", "1", "Ann", "Sales", true, fmt.Sprintf(synced, "Ann", lastSync)),
		seedUser("u2", "2", "Bo", "Sales", true, fmt.Sprintf(synced, "Bo", lastSync)),
		seedUser("u3", "3", "Cy", "Sales", false, fmt.Sprintf(synced, "Cy", lastSync)+`,"signInSessionsValidFromDateTime":"`+old+`"`),
		seedUser("u4", "4", "Di", "Sales", true, ""),
	}
	seed := filepath.Join(t.TempDir(), "seed.json")
	copyBytes(t, seed, `{"domains":["contoso.com"],"users":[`+strings.Join(users, ",")+`]}`)
	srv, base := startGraph(t, graphsim.Options{SeedPath: seed})
	dir := t.TempDir()
	copyBytes(t, filepath.Join(dir, "workers.csv"), "WorkerID,First,Last,Department,Country\n1,Ann,Lee,Engineering,DE\n4,Di,Lee,Engineering,DE\n")
	copyBytes(t, filepath.Join(dir, "mapping.yaml"), `match:
  source: '[WorkerID]'
  target: employeeId
attributes:
  displayName: 'Join(" ", [First], [Last])'
  mailNickname: 'ToLower(Join(".", [First], [Last]))'
  userPrincipalName: 'Append(ToLower(Join(".", [First], [Last])), "@contoso.com")'
  department: '[Department]'
  usageLocation: '[Country]'
`)
	copyBytes(t, filepath.Join(dir, "hrsync.yaml"), "source:\n  path: workers.csv\nmapping: mapping.yaml\ntarget:\n  type: entra\n  auth: access_token\n  graph_url: "+base+"\n")
	p, acts, text := planActions(t, dir)
	want := map[string]string{"1": "update", "3": "update", "4": "update"}
	for k, v := range want {
		if acts[k] != v {
			t.Errorf("action for %s = %q, want %q\n%s", k, acts[k], v, text)
		}
	}
	if acts["2"] != "" {
		t.Errorf("the synced leaver 2 is planned (%s); it must be disabled in AD", acts["2"])
	}
	for _, a := range p.Actions {
		for _, c := range a.Changes {
			if (a.Key == "1" || a.Key == "3") && c.Attribute != "usageLocation" {
				t.Errorf("synced user %s: a write of %s is planned", a.Key, c.Attribute)
			}
		}
	}
	if p.Summary["mastered"] != 2 || !strings.Contains(text, "mastered in Active Directory (CN=Ann,OU=People,DC=contoso,DC=com): hrsync does not change department here") ||
		!strings.Contains(text, "then revokeSignInSessions") || !strings.Contains(text, "2 users mastered in another directory left to it") {
		t.Errorf("plan:\n%s", text)
	}
	applyAndConverge(t, dir, "--report", "r.json")
	u1, _ := userByKey(srv, "1")
	u4, _ := userByKey(srv, "4")
	u3, _ := userByKey(srv, "3")
	if u1.Department != "Sales" || u1.UsageLocation != "DE" || u4.Department != "Engineering" || !u3.SignInSessionsValidFromDateTime.After(time.Now().Add(-time.Minute)) {
		t.Errorf("after apply: u1 %s/%s, u4 %s, u3 sessions valid from %v", u1.Department, u1.UsageLocation, u4.Department, u3.SignInSessionsValidFromDateTime)
	}
}
