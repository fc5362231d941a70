package graphsim

import "net/http"

// Hybrid tenants: users and groups synced from on-premises Active Directory
// by Entra Connect Sync or Cloud Sync.
//
// Graph shows such an object with onPremisesSyncEnabled true and treats AD
// as the source of authority for the attributes the sync engine owns: a
// write of one of them answers 400 Request_BadRequest "Unable to update the
// specified properties for on-premises mastered Directory Sync objects or
// objects currently undergoing migration." graphsim has no sync engine: a
// seed or state file marks users and groups as synced
// ("onPremisesSyncEnabled": true), and graphsim then refuses what Graph
// refuses.
//
// What Graph does, and where that is written down:
//
//   - The status, code and message of the refusal of PATCH /users/{id}: an
//     Okta knowledge-base article quotes Graph's answer to a PATCH of a
//     synced user's displayName and surname verbatim: "HTTP status code 400
//     ... errorCode=Request_BadRequest errorMessage="Unable to update the
//     specified properties for on-premises mastered Directory Sync objects
//     or objects currently undergoing migration." ... method=PATCH
//     url=https://graph.microsoft.com/v1.0/users/..." (support.okta.com,
//     "Office365 provisioning error Unable to update the specified
//     properties for on-premises mastered Directory Sync objects ...").
//   - Properties documented as AD-mastered: the user resource reference
//     (microsoft-graph-docs-contrib, api-reference/v1.0/resources/user.md)
//     says businessPhones and mobilePhone are "Read-only for users synced
//     from on-premises directory" and that "For an onPremisesSyncEnabled
//     user, the source of authority for [onPremisesExtensionAttributes] is
//     the on-premises and is read-only". Entra's user-profile how-to
//     (entra-docs, fundamentals/how-to-manage-user-profile-info.md): "You
//     must use Windows Server Active Directory to update the identity,
//     contact info, or job info for users whose source of authority is
//     Windows Server Active Directory." Users report the refusal for
//     employeeOrgData and employeeHireDate (microsoftgraph/
//     microsoft-graph-docs#18038, "Setting EmployeeOrgData for synced users
//     fails", "The same problem with the EmployeeHireDate property") and
//     for password resets (microsoft-graph-docs#7301, "Error with password
//     update password").
//   - accountEnabled is accepted: Microsoft's "Revoke user access in
//     Microsoft Entra ID" (entra-docs, identity/users/users-revoke-access.md)
//     has hybrid admins disable the user in AD and then run
//     "Update-MgUser -UserId $User.Id -AccountEnabled:$false" against Entra;
//     the next sync cycle overwrites the cloud value when AD's differs.
//     usageLocation is a cloud property (the license assignment location).
//   - The manager: a custom sync solution that managed "manager, proxy
//     addresses, and custom attributes" through Graph "was no longer able
//     to manage them" once the users became directory synchronized
//     (timmcmic.blog, "Office 365 – Graph, DirSync, and attribute
//     modifications", 2023-07-10). Entra Connect syncs manager.
//   - Groups synced from AD: removing a member answers the same message
//     (KelvinTegelaar/CIPP#1407: "Could not remove user from group
//     M3-AutoPilot: Unable to update the specified properties for
//     on-premises mastered Directory Sync objects or objects currently
//     undergoing migration."). Adding a synced user to a cloud group works:
//     membership belongs to the group, and the group is cloud-mastered.
//   - Deleting a synced user is refused: "it gives you an error if you try
//     to delete the user in Office 365 (because it's a synched account)"
//     (MicrosoftDocs/azure-docs#21040).
//   - assignLicense and revokeSignInSessions work for synced users
//     (license assignment is cloud-only; the revoke-access article above
//     revokes a hybrid user's sessions with Revoke-MgUserSignInSession).
//   - onPremisesSyncEnabled and the other onPremises* properties are
//     read-only; writing onPremisesSyncEnabled answers "Property
//     'onPremisesSyncEnabled' is read-only and cannot be set."
//     (microsoft-graph-docs#21601), graphsim's answer to every read-only
//     property.
//
// Where the documentation is silent, graphsim chooses (and says so):
//
//   - A PATCH that mixes an accepted property with a mastered one is
//     refused whole, nothing written: a PATCH of a directory object is one
//     transaction, and the message names no property.
//   - The refusal comes after the 404 for an unknown user and after the
//     body is read (unknown or read-only properties answer as they do for
//     cloud users), but before the values are validated.
//   - employeeLeaveDateTime is mastered like employeeHireDate, its twin:
//     Entra Connect Sync syncs both (Lifecycle Workflows' "How to
//     synchronize attributes" says so), and that article describes setting
//     it by hand only for cloud-only users ("Manually setting the
//     employeeLeaveDateTime for cloud-only users requires special
//     permissions").
//   - passwordProfile is mastered: tenants with password writeback accept a
//     reset of a synced user's password, graphsim emulates tenants without.
//   - userType stays writable: Entra Connect does not sync it.
//   - PUT and DELETE /users/{id}/manager/$ref of a synced user, DELETE
//     /users/{id} of a synced user and POST/DELETE of a synced group's
//     members answer the same 400 Request_BadRequest message; the refusal
//     comes before the reference is resolved (and, for DELETE
//     manager/$ref, before the 404 for a user without a manager). Making a
//     synced user the manager of a cloud user works: only the subject's
//     manager attribute is mastered.
//   - A deleted synced user (in a seed's deletedUsers) can be restored and
//     permanently deleted, as Entra allows (MicrosoftDocs/azure-docs#21040
//     restores synced users, which come back "Synched with AD").
//   - A user with onPremisesSyncEnabled false (no longer synced) is
//     cloud-managed: nothing is refused.

// masteredProps are the user properties Active Directory masters for a
// synced user: Graph refuses to update them (see above).
var masteredProps = []string{
	"displayName", "givenName", "surname", "userPrincipalName", "mailNickname", "mail",
	"jobTitle", "department", "companyName", "officeLocation",
	"employeeId", "employeeType", "employeeHireDate", "employeeLeaveDateTime", "employeeOrgData",
	"streetAddress", "city", "state", "postalCode", "country",
	"mobilePhone", "businessPhones", "preferredLanguage",
	"onPremisesExtensionAttributes", "passwordProfile",
}

// errMastered is Graph's answer to a write of what Active Directory masters
// for a synced object.
func errMastered() *graphError {
	return newError(http.StatusBadRequest, "Request_BadRequest",
		"Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.")
}

// synced reports whether u is mastered in on-premises Active Directory.
func (u *User) synced() bool { return u.OnPremisesSyncEnabled != nil && *u.OnPremisesSyncEnabled }

// synced reports whether g is mastered in on-premises Active Directory.
func (g *Group) synced() bool { return g.OnPremisesSyncEnabled != nil && *g.OnPremisesSyncEnabled }

// touchesMastered reports whether the body writes a property AD masters
// for synced users.
func (wr *writeRequest) touchesMastered() bool {
	for p := range wr.fields {
		if p.mastered {
			return true
		}
	}
	return false
}
