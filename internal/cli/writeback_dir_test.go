package cli

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hrsync/hrsync/internal/identity"
)

// Active Directory's writeback also carries the new user's DN and
// sAMAccountName; Entra's keeps its five columns.
func TestWritebackColumnsByDirectory(t *testing.T) {
	attrs := identity.AttrsOf(map[string]string{"cn": "García, José", "parentDistinguishedName": "OU=Sales,DC=contoso,DC=test", "sAMAccountName": "jgarcia",
		"userPrincipalName": "jose.garcia@contoso.test", "employeeID": "1001"})
	now := func() time.Time { return time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC) }
	for _, tc := range []struct {
		schema *identity.Schema
		want   []string
	}{
		{identity.ActiveDirectorySchema(), []string{"key,user_principal_name,mail,object_id,created_at,dn,account_name",
			`1001,jose.garcia@contoso.test,,g1,2026-11-26T09:00:00Z,"CN=García\, José,OU=Sales,DC=contoso,DC=test",jgarcia`}},
		{identity.EntraSchema(), []string{"key,user_principal_name,mail,object_id,created_at", "1001,jose.garcia@contoso.test,,g1,2026-11-26T09:00:00Z"}},
	} {
		t.Run(tc.schema.Name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "wb.csv")
			w := &applyOutputs{now: now}
			if err := w.open(applyOptions{writeback: path}, tc.schema); err != nil {
				t.Fatal(err)
			}
			w.created("1001", "g1", "jose.garcia@contoso.test", "", "secret-Pw1", attrs)
			if err := w.joiners.close(); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := csv.NewReader(strings.NewReader(string(data))).ReadAll(); err != nil {
				t.Fatal(err)
			}
			if got := strings.Split(strings.TrimSpace(string(data)), "\n"); strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("writeback\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if strings.Contains(string(data), "secret-Pw1") {
				t.Error("the writeback holds the password")
			}
		})
	}
}
