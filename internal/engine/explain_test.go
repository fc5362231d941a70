package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// explainSetup is setup with a directory holding users: Ann (key 1), in
// the source, and Lou (key 9), who is not; Max (key 8) is disabled.
func explainSetup(t *testing.T) *Engine {
	t.Helper()
	e := setup(t, "WorkerID,FirstName,LastName,Department,Len\n1,Ann,Lee,Sales,5\n2,Bob,Ray,IT,2\n")
	state := `{"tenant":{"id":"4f1d2c3b-5a6e-4b7f-8c9d-0e1f2a3b4c5d"},"domains":["contoso.com"],"users":[
	 {"id":"u1","accountEnabled":true,"displayName":"Ann Lee","userPrincipalName":"ann@contoso.com","mailNickname":"ann","department":"Sales","employeeId":"1"},
	 {"id":"u9","accountEnabled":true,"displayName":"Lou Gone","userPrincipalName":"lou@contoso.com","mailNickname":"lou","department":"Sales","employeeId":"9"},
	 {"id":"u8","accountEnabled":false,"displayName":"Max Old","userPrincipalName":"max@contoso.com","mailNickname":"max","department":"Sales","employeeId":"8"}]}`
	if err := os.WriteFile(filepath.Join(e.Cfg.Dir, "tenant.json"), []byte(state), 0o600); err != nil {
		t.Fatal(err)
	}
	return e
}

func TestExplain(t *testing.T) {
	tests := []struct {
		name, key  string
		withTarget bool
		records    int
		users      int
		actions    []string
		summary    string
		err        string
	}{
		{name: "a record and its user", key: "1", withTarget: true, records: 1, users: 1, summary: "the user matches the source: no change"},
		{name: "a joiner", key: "2", withTarget: true, records: 1, users: 0, actions: []string{"create"}, summary: "create"},
		{name: "a leaver absent from the source", key: "9", withTarget: true, records: 0, users: 1, actions: []string{"disable"},
			summary: "no record in the source has key 9, so its user is a leaver: disable: absent from source"},
		{name: "a leaver disabled already", key: "8", withTarget: true, users: 1,
			summary: "no record in the source has key 8, and its user is disabled already (or deleted): nothing to do"},
		{name: "keys compare without case and space", key: " 9 ", withTarget: true, users: 1, actions: []string{"disable"}},
		{name: "unknown on both sides", key: "7", withTarget: true, err: `no record in csv `},
		{name: "a leaver without the directory", key: "9", err: "without --no-target explain also looks for it in the directory"},
		{name: "a record without the directory", key: "1", records: 1, summary: "the directory was not read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := explainSetup(t)
			ex, err := e.Explain(context.Background(), tt.key, tt.withTarget)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var acts []string
			for _, a := range ex.Actions {
				acts = append(acts, a.Action)
			}
			if len(ex.Records) != tt.records || len(ex.Users) != tt.users || strings.Join(acts, ",") != strings.Join(tt.actions, ",") {
				t.Errorf("records %d users %d actions %v; want %d %d %v", len(ex.Records), len(ex.Users), acts, tt.records, tt.users, tt.actions)
			}
			if !strings.HasPrefix(ex.Summary, tt.summary) {
				t.Errorf("summary %q, want %q", ex.Summary, tt.summary)
			}
		})
	}
}

func TestSourceKeys(t *testing.T) {
	e := setup(t, "WorkerID,FirstName,LastName,Department,Len\n10,Ann,Lee,Sales,5\n11,Bob,Ray,IT,2\n11,Dup,Key,IT,2\n20,Cy,Dee,IT,2\n")
	keys, err := e.SourceKeys(context.Background(), "1", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0] != (SourceKey{"10", "Ann Lee"}) || keys[1].Key != "11" {
		t.Errorf("keys = %+v", keys)
	}
	if keys, _ := e.SourceKeys(context.Background(), "", 1); len(keys) != 1 {
		t.Errorf("limit 1: %+v", keys)
	}
}
