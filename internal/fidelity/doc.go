// Package fidelity checks that internal/testserver answers like the real
// kube-apiserver. It holds tests only.
//
// # Captures
//
// TestCapture sends a fixed set of requests (cases_test.go) to a real
// kube-apiserver (internal/cluster): the discovery documents in their
// legacy and aggregated forms, ETag revalidation, the OpenAPI v3 index,
// the documents of core/v1, apps/v1, rbac and apiextensions (trimmed, and
// whole in gzipped files; apps/v1 also through the index's hashed URL),
// /version; requests that make the server answer with an error Status (a
// missing object, a duplicate create, a stale resourceVersion, an invalid
// name, an unknown resource or group, strategic merge patch on a custom
// resource, a bad continue token or label selector, a failed JSON patch
// test, apply without a field manager and with a conflicting one, an
// unknown field under fieldValidation=Strict, a bad token, a method the
// path does not serve, malformed JSON, failed delete preconditions, a PUT
// or patch with a wrong uid); successful creates, gets, lists, Tables of
// the kinds the test server prints and deletes (Success Statuses, deleted
// objects, Foreground propagation, collections) whose shapes show the
// server's defaults; short watches (the initial events, MODIFIED and
// DELETED from a resourceVersion, objects entering and leaving a
// selector); successful server-side applies, merge, JSON and strategic
// patches, updates and scale updates with their managedFields; the
// create of a CRD (answered before it is established); the second page of
// a list through a continue token; and more validation failures (config
// keys with '/', wrong JSON types in creates, updates, patches and
// applies, CRD schema violations of each kind the test server checks,
// immutable fields, enums, port ranges, a Deployment sent to .../scale). A setup step may save a value
// of its answer (a resourceVersion, a continue token) for the request
// (request.Save). Run with -update it stores each answer under testdata/ —
// status code, media type, Cache-Control, whether an ETag was sent, and
// the JSON body with volatile values (resourceVersion, uid, timestamps,
// generated names, continue tokens, hashes, addresses, uids and
// resourceVersions quoted in messages, Table cells of ages, timestamps
// and cluster IPs) replaced by placeholders; the OpenAPI documents are trimmed to their schema and path
// names, their dangling $refs, one schema and one path. Without -update it
// checks that the live server still answers with the stored shapes, so
// every `go test ./...` exercises the real server.
//
//	go test ./internal/fidelity -run TestCapture -update
//
// # Fidelity
//
// TestFidelity sends the same requests to a fresh internal/testserver per
// case (establishing CRDs after the real server's delay) and compares its
// answers with the captures: status code, media type with its parameters,
// Cache-Control, ETag presence, the set of JSON key paths with their types
// (arrays collapsed; managedFields entries compared without their
// fieldsV1), the reason, code, details, causes and messages of Statuses,
// watch event types, Table columns and cells; for objects, lists and
// watch events every value at every path once the volatile values are
// placeholders (so a changed default or an ignored limit fails), array
// lengths, and each managedFields entry's set of owned fields; for whole OpenAPI
// documents, that whatever the test server declares (schemas, properties,
// types, required fields, operations, group-version-kinds) agrees with the
// real server, though it may leave detail out; and, for discovery,
// every field of the resources and groups the test server serves (it
// serves a subset of the real server's kinds; the others are not
// compared).
//
// What the real server could not be made to show: 410 Expired for a
// watch or a continue token. After an etcd compaction kube-apiserver 1.37
// still answered from its watch cache (a watch from resourceVersion 1
// replayed, a continue token and an Exact list at an old resourceVersion
// answered 200), so the test server's 410 after Compact is checked by its
// own tests only.
//
// Differences the test server is known to have are listed, each with a
// reason, in the table knownDifferences in fidelity_test.go. The test
// tolerates exactly those and fails when one of them no longer occurs, so
// a fix to the test server forces its entry out of the table.
package fidelity
