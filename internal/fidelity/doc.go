// Package fidelity checks that internal/testserver answers like the real
// kube-apiserver. It holds tests only.
//
// # Captures
//
// TestCapture sends a fixed set of requests to a real kube-apiserver
// (internal/cluster): the discovery documents in their legacy and
// aggregated forms, the OpenAPI v3 index and two group-version documents,
// /version, and requests that make the server answer with an error Status
// (a missing object, a duplicate create, a stale resourceVersion, an
// invalid name, an unknown resource, strategic merge patch on a custom
// resource, a bad continue token, a failed JSON patch test, apply without a
// field manager, an unknown field under fieldValidation=Strict). Run with
// -update it stores each answer under testdata/ — status code, media type,
// whether an ETag was sent, and the JSON body with volatile values
// (resourceVersion, uid, timestamps, hashes, addresses) replaced by
// placeholders; the OpenAPI documents are trimmed to their schema and path
// names plus one schema and one path. Without -update it checks that the
// live server still answers with the stored shapes.
//
//	go test ./internal/fidelity -run TestCapture -update
//
// # Fidelity
//
// TestFidelity sends the same requests to a fresh internal/testserver and
// compares its answers with the captures: status code, media type with its
// parameters, the set of JSON key paths (arrays collapsed), the reason,
// code and causes of error Statuses, and, for discovery, every field of the
// resources and groups the test server serves (it serves a subset of the
// real server's kinds; the others are not compared).
//
// Differences the test server is known to have are listed, each with a
// reason, in the table knownDifferences in fidelity_test.go. The test
// tolerates exactly those and fails when one of them no longer occurs, so
// a fix to the test server forces its entry out of the table.
package fidelity
