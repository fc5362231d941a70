package plan

import (
	"strings"
	"testing"

	"github.com/hrsync/hrsync/internal/identity"
)

// A user another directory masters gets no write that directory owns: the
// plan keeps what the target accepts (usageLocation, groups), warns once
// per user, does not disable a mastered leaver, and revokes the sessions
// of one whose disable arrived from its master.
func TestMasteredUsers(t *testing.T) {
	attrs := append(append([]identity.AttrSpec(nil), stdAttrs...), specs("usageLocation")...)
	ann := person("1", 2, "Ann Lee", "Engineering", "usageLocation", "DE")
	synced := func(u identity.User) identity.User { u.MasteredIn = "Active Directory"; return u }
	tests := []struct {
		name     string
		desired  []identity.Desired
		user     identity.User
		want     string // "action key", "" for none
		changes  string
		warnings string
	}{
		{"a mover: only usageLocation", []identity.Desired{ann}, synced(existing("u1", person("1", 2, "Ann Lee", "Sales"))), "update 1", "usageLocation", WarnMastered},
		{"a leaver still enabled there: left to its master", []identity.Desired{person("9", 3, "Bo Chen", "Sales")}, synced(existing("u1", ann)), "", "", WarnMastered},
		{"a leaver disabled there, sessions older: revoked", []identity.Desired{person("9", 3, "Bo Chen", "Sales")},
			func() identity.User {
				u := synced(existing("u1", ann, "accountEnabled", "false"))
				u.SessionsStale = true
				return u
			}(), "update 1", "", ""},
		{"a leaver disabled there, sessions revoked since: nothing", []identity.Desired{person("9", 3, "Bo Chen", "Sales")},
			synced(existing("u1", ann, "accountEnabled", "false")), "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := withAttrs(attrs, tt.desired, []identity.User{tt.user, user("u9", "9", "displayName", "Bo Chen", "userPrincipalName", "bo.chen@contoso.com")})
			p, err := Compute(in)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, a := range p.Actions {
				if a.ID == tt.user.ID {
					got = append(got, a.Action+" "+a.Key)
					var names []string
					for _, c := range a.Changes {
						names = append(names, c.Attribute)
					}
					if strings.Join(names, ",") != tt.changes {
						t.Errorf("changes %v, want %s", names, tt.changes)
					}
					if strings.Contains(tt.name, "revoked") && !a.Revoke {
						t.Error("sessions not revoked")
					}
				}
			}
			if strings.Join(got, ",") != tt.want {
				t.Errorf("actions %v, want %q", got, tt.want)
			}
			if codes := strings.Join(codesOf(p), ","); !strings.Contains(codes, tt.warnings) {
				t.Errorf("warnings %s, want %s", codes, tt.warnings)
			}
			if err := p.Validate(identity.EntraSchema()); err != nil {
				t.Errorf("validate: %v", err)
			}
		})
	}
}
