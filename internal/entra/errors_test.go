package entra

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hrsync/hrsync/internal/directory"
	"github.com/hrsync/hrsync/internal/graphsim"
	"github.com/hrsync/hrsync/internal/identity"
)

func TestIsNotReplicated(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"404 Request_ResourceNotFound", &GraphError{Status: 404, Code: "Request_ResourceNotFound",
			Message: "Resource '1f0e...' does not exist or one of its queried reference-property objects are not present."}, true},
		{"wrapped", fmt.Errorf("add member: %w", &GraphError{Status: 404, Code: "Request_ResourceNotFound"}), true},
		{"400 referenced object, documented wording", &GraphError{Status: 400, Code: "Request_BadRequest",
			Message: "The source resource object or one of the objects being referenced don't exist."}, true},
		{"400 referenced object, do not", &GraphError{Status: 400, Code: "Request_BadRequest",
			Message: "The source resource object or one of the objects being referenced do not exist."}, true},
		{"404 other code", &GraphError{Status: 404, Code: "ResourceNotFound", Message: "Resource not found for the segment 'x'."}, false},
		{"400 already a member", &GraphError{Status: 400, Code: "Request_BadRequest",
			Message: "One or more added object references already exist for the following modified properties: 'members'."}, false},
		{"400 conflict", &GraphError{Status: 400, Code: "Request_BadRequest", DetailCode: "ObjectConflict",
			Message: "Another object with the same value for property userPrincipalName already exists."}, false},
		{"429", &GraphError{Status: 429, Code: "TooManyRequests"}, false},
		{"not a graph error", errors.New("connection reset"), false},
		{"nil", nil, false},
	}
	for _, tc := range tests {
		if got := IsNotReplicated(tc.err); got != tc.want {
			t.Errorf("%s: IsNotReplicated = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// A 403 names the permission the operation that failed needs.
func TestForbiddenNamesThePermission(t *testing.T) {
	st := graphsim.State{Domains: []string{"contoso.com"}, Users: []graphsim.User{seedUser(1)},
		Groups:         []graphsim.Group{{ID: gid(1), DisplayName: "Sales", SecurityEnabled: true}},
		SubscribedSkus: []graphsim.SubscribedSku{{SkuID: skuE3, SkuPartNumber: "ENTERPRISEPACK", PrepaidUnits: graphsim.PrepaidUnits{Enabled: 5}}}}
	data := seedPath(t, st)
	deny := func(_ context.Context, c graphsim.Call) *graphsim.Fault {
		if c.Route == "POST /$batch" {
			return nil // Graph answers the envelope and refuses the items
		}
		return &graphsim.Fault{Status: 403, Code: "Authorization_RequestDenied", Message: "Insufficient privileges to complete the operation."}
	}
	c, _ := startSim(t, graphsim.Options{SeedPath: data, Token: testToken, Interceptor: deny})
	ctx := context.Background()
	leave := "2026-03-31T00:00:00Z"
	tests := []struct {
		name, want string
		err        func() error
	}{
		{"list users", "permission User.ReadWrite.All with", func() error {
			_, err := c.ListUsers(ctx, []string{"employeeId"}, false, nil)
			return err
		}},
		{"list users with the leave date", "permissions User.ReadWrite.All and User-LifeCycleInfo.Read.All with", func() error {
			_, err := c.ReadUsers(ctx, []string{"employeeId", "employeeLeaveDateTime"}, true, nil)
			return err
		}},
		{"deleted users", "permission User.ReadWrite.All with", func() error {
			_, err := c.ListDeletedUsers(ctx, []string{"employeeId"})
			return err
		}},
		{"group members", "permission GroupMember.Read.All with", func() error {
			_, err := c.GroupMembers(ctx, gid(1))
			return err
		}},
		{"resolve groups", "permission GroupMember.Read.All with", func() error {
			_, err := c.ResolveGroups(ctx, []string{"Sales"})
			return err
		}},
		{"subscribed SKUs", "permission Organization.Read.All with", func() error {
			_, err := c.ListSkus(ctx)
			return err
		}},
		{"add member", "permission GroupMember.ReadWrite.All with", func() error {
			return doOne(ctx, c, directory.Op{Kind: directory.OpAddMember, UserID: uid(1), GroupID: gid(1)}).Err
		}},
		{"remove member", "permission GroupMember.ReadWrite.All with", func() error {
			return doOne(ctx, c, directory.Op{Kind: directory.OpRemoveMember, UserID: uid(1), GroupID: gid(1)}).Err
		}},
		{"assign license", "permission LicenseAssignment.ReadWrite.All (or User.ReadWrite.All) with", func() error {
			return doOne(ctx, c, directory.Op{Kind: directory.OpAssignLicense, UserID: uid(1), AddSkus: []string{skuE3}}).Err
		}},
		{"write the leave date", "permissions User.ReadWrite.All and User-LifeCycleInfo.ReadWrite.All with", func() error {
			return doOne(ctx, c, directory.Op{Kind: directory.OpUpdate, UserID: uid(1), Set: map[string]*string{"employeeLeaveDateTime": &leave}}).Err
		}},
		{"create with the leave date", "User-LifeCycleInfo.ReadWrite.All", func() error {
			return doOne(ctx, c, directory.Op{Kind: directory.OpCreate, Password: "Initial-Pa55word!x", Attrs: identity.AttrsOf(map[string]string{"displayName": "N",
				"userPrincipalName": "n@contoso.com", "mailNickname": "n", "employeeLeaveDateTime": leave})}).Err
		}},
		{"update", "permission User.ReadWrite.All with", func() error {
			return doOne(ctx, c, directory.Op{Kind: directory.OpUpdate, UserID: uid(1), Set: map[string]*string{"department": ptr("x")}}).Err
		}},
		{"get with the leave date", "User-LifeCycleInfo.Read.All", func() error {
			return doOne(ctx, c, directory.Op{Kind: directory.OpGet, UserID: uid(1), Select: []string{"employeeLeaveDateTime"}}).Err
		}},
		{"delete", "permission User.ReadWrite.All with", func() error {
			return doOne(ctx, c, directory.Op{Kind: directory.OpDelete, UserID: uid(1)}).Err
		}},
		{"restore", "permission User.ReadWrite.All with", func() error {
			return doOne(ctx, c, directory.Op{Kind: directory.OpRestore, UserID: uid(1)}).Err
		}},
	}
	for _, tc := range tests {
		err := tc.err()
		var ge *GraphError
		if !errors.As(err, &ge) || ge.Status != 403 || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want it to name %q", tc.name, err, tc.want)
		}
	}

	// A whole $batch refused: each op still names its own permission.
	denyAll := func(_ context.Context, c graphsim.Call) *graphsim.Fault {
		return &graphsim.Fault{Status: 403, Code: "Authorization_RequestDenied", Message: "Insufficient privileges to complete the operation."}
	}
	c, _ = startSim(t, graphsim.Options{SeedPath: data, Token: testToken, Interceptor: denyAll})
	out := run(t, c, ctx, []directory.Op{{Kind: directory.OpAddMember, UserID: uid(1), GroupID: gid(1)}, {Kind: directory.OpDelete, UserID: uid(1)}}, directory.DoOptions{})
	if err := out[0].Err; err == nil || !strings.Contains(err.Error(), "GroupMember.ReadWrite.All") {
		t.Errorf("refused batch, add member: %v", err)
	}
	if err := out[1].Err; err == nil || !strings.Contains(err.Error(), "permission User.ReadWrite.All with") {
		t.Errorf("refused batch, delete: %v", err)
	}
}
