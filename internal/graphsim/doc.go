// Package graphsim is an in-process emulator of the part of Microsoft Graph
// v1.0 that hrsync uses: users (list, get, create, update, delete, delta),
// the manager relationship, deleted items (list, get, restore, permanent
// delete), groups and their direct members, licenses (subscribedSkus,
// assignedLicenses, licenseAssignmentStates, assignLicense), the
// organization (read-only: the tenant's id, name and verified domains) and
// JSON $batch. The real msgraph-sdk-go client talks to it over loopback
// HTTP exactly as it talks to graph.microsoft.com:
// same URLs, JSON shapes, paging with absolute @odata.nextLink, OData query
// options, error envelopes and status codes.
//
// It backs the "sandbox tenant" (test mappings without a tenant) and is the
// test double for everything that talks to Graph.
//
// State lives in memory and, with Options.StatePath, in a JSON file (see
// State): loaded by New (streamed, one user at a time), written atomically
// by Save (and by Close, and in the background with
// Options.AutosaveInterval). The tenant has a stable id (Server.TenantID,
// the organization's id): a state or seed without one is given a random
// one, saved with the next Save; seed files are never written. Passwords are
// checked against Entra's complexity rules and then forgotten; they are
// never stored or logged.
//
// # Routes
//
//	GET, POST          /users
//	GET, PATCH, DELETE /users/{id | userPrincipalName}     ($select, $expand=manager on GET)
//	GET                /users/delta
//	GET                /users/{id}/manager, GET PUT DELETE /users/{id}/manager/$ref
//	POST               /users/{id}/revokeSignInSessions
//	POST               /users/{id}/assignLicense
//	GET                /directory/deletedItems/microsoft.graph.user (also graph.user)
//	GET, DELETE        /directory/deletedItems/{id}
//	POST               /directory/deletedItems/{id}/restore
//	GET                /groups, /groups/{id}
//	GET                /groups/{id}/members, /groups/{id}/members/microsoft.graph.user
//	POST               /groups/{id}/members/$ref
//	DELETE             /groups/{id}/members/{id}/$ref (also /members/$ref?$id=...)
//	GET                /subscribedSkus, /subscribedSkus/{id}
//	GET                /organization, /organization/{id}
//	POST               /$batch
//
// Every route works inside $batch and is counted and throttled like the
// others (group member and license writes are writes).
//
// # Deleted items
//
// DELETE /users/{id} moves the user to the deleted items with
// deletedDateTime from the server clock (Options.Now). There the user keeps
// their group memberships (hidden from member lists), licenses (whose
// units are freed) and manager. As in Entra, the userPrincipalName is freed
// for other users, and the deleted items show it with the object id without
// dashes in front (0a1b...ff + ann@contoso.com); $filter sees that form.
// The state keeps the original.
// GET /directory/deletedItems/microsoft.graph.user lists deleted users in
// deletion order with $select, $filter (as on /users), $top (1-999, default
// 100), $count and @odata.nextLink paging; without $select it shows the
// default user properties and deletedDateTime. POST
// /directory/deletedItems/{id}/restore (optional body: newUserPrincipalName,
// autoReconcileProxyConflict) answers 200 with the user and brings it back
// with the same id and its original userPrincipalName, at its place in the
// paging order, with its memberships, licenses (taking their units again,
// even beyond the prepaid units, as Entra does) and (if still there)
// manager; it fails with Graph's ObjectConflict answer when the
// userPrincipalName or mail is now another user's, and 404 for an id that
// is not a deleted user. DELETE /directory/deletedItems/{id} deletes
// permanently: memberships go. Deleted users older than Entra's 30 days
// are purged (on load and whenever deleted items, groups or licenses are
// used): never listed, never restorable. The state file keeps deleted users with
// their deletedDateTime (see State).
//
// # Groups
//
// Groups come from the state (State.Groups); only their members change.
// GET /groups supports $select, $top, paging and $filter on id and
// displayName (eq, in, startsWith; case-insensitive, as in Entra), the
// mailEnabled and securityEnabled flags, and description with advanced
// queries. Members are users: adding one that is already a member answers
// 400 "One or more added object references already exist for the following
// modified properties: 'members'.", removing a non-member answers 404
// Request_ResourceNotFound naming the group, a missing user or group 404.
// Nested groups, owners and group writes answer 501.
//
// # Licenses
//
// GET /subscribedSkus lists State.SubscribedSkus (skuId, skuPartNumber,
// prepaidUnits.enabled, consumedUnits). POST /users/{id}/assignLicense adds
// and removes licenses all or nothing, answering the user (200), or 400
// Request_BadRequest as Graph does: "License assignment cannot be done for
// user with invalid usage location." (no usageLocation), "License {skuId}
// does not correspond to a valid company License." (unknown SKU),
// "Subscription {skuId} does not have any available licenses." (no units
// left), "User does not have a corresponding license." (removing a license
// the user lacks), "User license is inherited from a group membership and
// it cannot be removed directly from the user." (removing a license the
// user only has through a group). Users show their licenses in
// assignedLicenses ($select, delta) and licenseAssignmentStates ($select;
// not in delta pages, as in Graph); neither can be written with PATCH.
//
// Group-based licensing is seeded, not run: a user's inheritedLicenses
// ([{"skuId": ..., "groupId": ...}], groupId one of the state's groups)
// are licenses the user holds through that group. They appear in
// assignedLicenses (each SKU once, direct or not) and in
// licenseAssignmentStates with assignedByGroup set to the group's id
// (direct assignments have assignedByGroup null; all are "Active"); they
// do not follow membership changes. A user holding a SKU directly and
// through a group consumes one unit, and assigning a license the user
// already inherits needs no free unit.
//
// # Hybrid tenants
//
// Users and groups synced from on-premises Active Directory by Entra
// Connect or Cloud Sync come from the state: "onPremisesSyncEnabled": true
// on a user or group (nil, Graph's null, means cloud-only; false, synced
// once and cloud-managed now). A user's onPremisesImmutableId,
// onPremisesSamAccountName, onPremisesDistinguishedName,
// onPremisesDomainName and onPremisesLastSyncDateTime are set there too;
// all are read-only, $select-able (on /users, /users/{id}, /users/delta and
// the deleted items) and filterable as in Graph. graphsim refuses what
// Graph refuses, with 400 Request_BadRequest "Unable to update the
// specified properties for on-premises mastered Directory Sync objects or
// objects currently undergoing migration.": a PATCH of a synced user that
// touches a property AD masters (the whole PATCH; usageLocation,
// accountEnabled and userType alone are accepted), a change of a synced
// user's manager, the deletion of a synced user, and a change of the
// members of a synced group. Licenses, revokeSignInSessions and cloud
// group memberships work for synced users. hybrid.go lists the sources and
// the choices made where Graph's documentation is silent.
//
// # Change tracking
//
// GET /users/delta (also the SDK's /users/delta() and the fully qualified
// /users/microsoft.graph.delta()) pages through the users (Options.DeltaPageSize,
// Graph's 200 by default; "Prefer: odata.maxpagesize" can lower it) and ends
// with an @odata.deltaLink; calling it returns the users created or changed
// since (restored users included), deleted users as
// {"id":...,"@removed":{"reason":"changed"}} ("deleted" once deleted
// permanently or purged) and manager changes as manager@delta when manager
// is selected. $select is
// carried in the tokens; $top is ignored, as in Graph. Sync state is kept in
// memory only: a token from before a restart, a garbled one or one older
// than Graph's 7 days answers 410 Gone with syncStateNotFound, and the
// client must read everything again.
//
// # Throttling and faults
//
// With Options.Throttle the server enforces Graph's identity-and-access
// limits per app and tenant as token buckets on its clock (Options.Now):
// resource units (3,500 / 5,000 / 8,000 per 10 s by tenant size; GET /users
// costs 2, 1 with $select, and so on) and writes (3,000 per 150 s). A
// request or $batch item over the limit gets 429 with Retry-After,
// x-ms-throttle-scope and x-ms-throttle-information and changes nothing;
// inside a $batch it is a 429 item in a 200 envelope, as in Graph, so SDK
// retry middleware never sees it. Every charged answer carries
// x-ms-resource-unit. See Throttle.
//
// Options.Faults injects seeded, repeatable failures: 503/504 answers
// (before handling, per request and per $batch item), connections dropped
// before handling, connections dropped after handling (the write happened,
// the response is lost) and slow requests; Options.Latency adds a delay to
// every request. Stats counts requests, statuses, throttled answers, faults,
// writes and resource units; Stats.WriteText prints them as a table.
//
// Faithfulness notes: string comparisons in $filter ignore case; ne, not,
// endsWith, null comparisons and the properties Entra indexes only for
// advanced queries need "ConsistencyLevel: eventual" and $count=true, as in
// Graph; with $expand a page holds at most 100 users; $batch responses come
// back shuffled. Pages follow creation order. Features graphsim does not
// emulate ($orderby, $search, $filter on delta, "Prefer: return=minimal" on
// delta, other navigation properties) answer 501 NotImplemented (or, for
// the Prefer header, are ignored) instead of pretending.
package graphsim
