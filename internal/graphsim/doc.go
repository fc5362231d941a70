// Package graphsim is an in-process emulator of the part of Microsoft Graph
// v1.0 that hrsync uses: users (list, get, create, update, delete, delta),
// the manager relationship, the organization (read-only: the tenant's id,
// name and verified domains) and JSON $batch. The real msgraph-sdk-go client
// talks to it over loopback HTTP exactly as it talks to graph.microsoft.com:
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
// # Change tracking
//
// GET /users/delta (also the SDK's /users/delta() and the fully qualified
// /users/microsoft.graph.delta()) pages through the users (Options.DeltaPageSize,
// Graph's 200 by default; "Prefer: odata.maxpagesize" can lower it) and ends
// with an @odata.deltaLink; calling it returns the users created or changed
// since, deleted users as {"id":...,"@removed":{"reason":"changed"}} and
// manager changes as manager@delta when manager is selected. $select is
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
