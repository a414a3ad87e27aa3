// Package testserver is an in-process Kubernetes API server for tests and
// examples. It speaks the wire protocol of kube-apiserver over HTTPS with
// its own self-signed CA and a random bearer token, keeps objects in
// memory as JSON, and can inject faults. It makes tests fast; it does not
// replace the real server.
//
// # Use
//
//	srv := testserver.New(t) // closed when the test ends
//	cfg := &transport.Config{Host: srv.URL(), TLS: transport.TLSConfig{CAData: srv.CAPEM()}, BearerToken: srv.Token()}
//
// Programs call Start and Close themselves. Kubeconfig returns a kubeconfig
// document pointing at the server.
//
// # What is emulated
//
//   - Built-in resources: core v1 namespaces, pods, configmaps, secrets,
//     services, serviceaccounts, events; apps/v1 deployments (status and
//     scale subresources); rbac.authorization.k8s.io/v1 clusterroles and
//     roles; apiextensions.k8s.io/v1 customresourcedefinitions. The
//     namespaces default, kube-system, kube-public and kube-node-lease exist
//     at start.
//   - Discovery: /api, /api/v1, /apis, /apis/<group>, /apis/<group>/<version>,
//     and aggregated discovery (apidiscovery.k8s.io/v2) when Accept asks
//     for it; every discovery answer has an ETag and If-None-Match gets 304.
//   - CRUD with one global resourceVersion counter: generateName, uid,
//     creationTimestamp, generation, 409 AlreadyExists, 409 Conflict on a
//     stale resourceVersion, 404 for a missing namespace, 422 Invalid with
//     causes for bad names, labels and a few required fields per kind.
//     Finalizers hold a deleted object (with deletionTimestamp) until an
//     update removes them.
//   - Patch: JSON patch (RFC 6902, including test), merge patch (RFC 7386),
//     strategic merge patch (simplified, see below; 415 for custom
//     resources), apply (simplified, see below).
//   - Status subresources: writes to the main resource keep the stored
//     status; writes to /status change only the status. Scale for
//     deployments (autoscaling/v1 Scale).
//   - CustomResourceDefinitions: creating one serves its versions at once
//     (and changes the discovery ETag) with conditions NamesAccepted and
//     Established True; its schema prunes unknown fields and checks types,
//     required fields and enums; deleting it removes the resources and
//     their objects.
//   - Lists: label selectors (=, ==, !=, in, notin, key, !key), field
//     selectors (metadata.name, metadata.namespace and a few per kind; =,
//     == and !=), limit and continue (a bad token gets 400, a token older
//     than Compact gets 410 Expired), Table output, DeleteCollection.
//   - Watch: ADDED/MODIFIED/DELETED from a resourceVersion, selectors
//     (objects entering or leaving a selector become ADDED or DELETED),
//     bookmarks on SendBookmarks, sendInitialEvents with the
//     initial-events-end bookmark, 410 Expired after Compact, timeoutSeconds.
//   - dryRun=All on every write; fieldValidation Ignore, Warn (the default:
//     a Warning header per unknown field) and Strict (400 naming the
//     fields). For built-in kinds the known fields are the top-level fields
//     and those of metadata and spec; for custom resources the CRD schema.
//   - Fault injection (Inject): status codes with Retry-After, delays,
//     dropped connections, truncated bodies, Warning headers; Requests
//     records every request.
//   - /version, /healthz, /readyz, /livez (no credentials needed), and
//     /openapi/v3.
//
// # What is not emulated
//
//   - Admission, authorization (RBAC rules are stored, not enforced),
//     controllers (deployments never get replicas, pods never run, there
//     is no garbage collector: propagationPolicy is accepted and ignored),
//     graceful deletion (pods go at once), namespace termination (a
//     deleted namespace and its objects go at once).
//   - Server-side apply is simplified: the applied configuration is merged
//     into the live object like a strategic merge patch; there are no
//     managedFields, no field ownership and no apply conflicts, and fields
//     the configuration no longer sets are not removed. fieldManager is
//     still required (422 otherwise).
//   - Strategic merge patch is a merge patch in which lists of objects with
//     a "name" field (containers, ports, volumes, env) merge by name and
//     "$patch": "delete" removes an element; other directives are ignored.
//   - Validation is a small subset of the real server's; defaulting covers
//     a few fields of namespaces, pods, deployments, services and secrets.
//   - A list continued with a token sees the current state, not the
//     snapshot of its first page.
//   - No protobuf or CBOR, no exec, attach, port-forward, logs or proxy
//     subresources, no scale subresource for custom resources, no
//     conversion between CRD versions (every version serves the same
//     stored fields).
//
// # Concurrency
//
// A Server is safe for concurrent use by multiple goroutines; one mutex
// guards its state, so it is meant for correctness tests, not load tests.
package testserver
