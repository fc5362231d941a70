// Package graphsim is an in-process emulator of the part of Microsoft Graph
// v1.0 that hrsync uses: users (list, get, create, update, delete), the
// manager relationship, the organization (read-only: the tenant's id, name
// and verified domains) and JSON $batch. The real msgraph-sdk-go client talks
// to it over loopback HTTP exactly as it talks to graph.microsoft.com: same
// URLs, JSON shapes, paging with absolute @odata.nextLink, OData query
// options, error envelopes and status codes.
//
// It backs the "sandbox tenant" (test mappings without a tenant) and is the
// test double for everything that talks to Graph.
//
// State lives in memory and, with Options.StatePath, in a JSON file (see
// State): loaded by New, written atomically by Save (and by Close, and in the
// background with Options.AutosaveInterval). The tenant has a stable id
// (Server.TenantID, the organization's id): a state or seed without one is
// given a random one, saved with the next Save; seed files are never
// written. Passwords are checked against Entra's complexity rules and then
// forgotten; they are never stored or logged.
//
// Faithfulness notes: string comparisons in $filter ignore case; ne, not,
// endsWith, null comparisons and the properties Entra indexes only for
// advanced queries need "ConsistencyLevel: eventual" and $count=true, as in
// Graph; with $expand a page holds at most 100 users; $batch responses come
// back shuffled. Pages follow creation order. Features graphsim does not
// emulate ($orderby, $search, delta, other navigation properties) answer 501
// NotImplemented instead of pretending.
package graphsim
