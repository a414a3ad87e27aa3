// Package testserver is an in-process Kubernetes API server for tests and
// examples. It speaks the wire protocol of kube-apiserver 1.37 over HTTPS
// with its own self-signed CA and a random bearer token, keeps objects in
// memory as JSON, and can inject faults. It makes tests fast; it does not
// replace the real server. Its answers are compared with a real server's by
// internal/fidelity.
//
// # Use
//
//	srv := testserver.New(t) // closed when the test ends
//	cfg := &transport.Config{Host: srv.URL(), TLS: transport.TLSConfig{CAData: srv.CAPEM()}, BearerToken: srv.Token()}
//
// Programs call Start and Close themselves. Kubeconfig returns a kubeconfig
// document pointing at the server.
//
// # Authentication
//
// Requests need the bearer token (Token; AddToken and RevokeToken change
// the accepted set, to test rotation and re-authentication) or a client
// certificate from ClientCertificate; anything else gets 401, except
// /healthz, /readyz, /livez and /version. Every authenticated request may
// do everything.
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
//     and aggregated discovery (apidiscovery.k8s.io/v2) when Accept asks for
//     it. As with the real server only the aggregated form has an ETag (and
//     answers 304 to If-None-Match); it changes when a CRD comes or goes.
//     Its responseKinds leave group and version empty for built-in kinds
//     and name them for custom resources, as the real server does.
//   - CRUD with one global resourceVersion counter: generateName, uid,
//     creationTimestamp, generation (bumped when anything but metadata and
//     status changes), 409 AlreadyExists, 409 Conflict on a stale
//     resourceVersion, 404 for a missing namespace, 422 Invalid with causes
//     for bad names, labels, annotation keys, ConfigMap and Secret data
//     keys (config keys: no '/', no leading '..'), changes to an immutable
//     ConfigMap or Secret, a Secret's type or a Deployment's selector, pod
//     spec changes beyond images, deadlines and added tolerations (the
//     real message goes on with a diff of the internal PodSpec, which is
//     not reproduced), duplicate container names, port ranges, negative
//     replicas and a few required fields per kind; 400 for a body of
//     another kind (a Deployment sent to .../scale included) and, with the
//     Go decoder's message, for a value of the wrong JSON type in a
//     built-in kind (a patch whose result has one gets the real 422
//     quoting the patched object, an applied configuration the real 500);
//     the real
//     defaults of pods, pod templates, deployments, services, secrets,
//     events and namespaces (decoding defaults on every write, admission
//     and status defaults on create; on update, admission keeps a pod's
//     priority and default tolerations). Finalizers hold a deleted object (with deletionTimestamp)
//     until an update removes them. DELETE answers the object or a Success
//     Status as the real storage of each kind does; Foreground and Orphan
//     propagation answer the object marked with the collector's finalizer
//     (foregroundDeletion, orphan), which then comes off at once. A failed
//     uid or resourceVersion precondition is a 409 Conflict naming the Kind.
//   - Patch: JSON patch (RFC 6902, including test; a failed patch gets the
//     real server's generic 422), merge patch (RFC 7386), strategic merge
//     patch (simplified, see below; 415 for custom resources) and
//     server-side apply (see below).
//   - Field ownership: every write records metadata.managedFields (FieldsV1)
//     for its field manager (the fieldManager parameter, else the
//     User-Agent up to "/"), as the real field manager does: after the
//     decoding defaults, before the name is generated and before what the
//     registry and admission add on create (allocated addresses, pod
//     priority and tolerations), which nobody owns. Apply takes ownership of the fields it sets,
//     fails with 409 Conflict and FieldManagerConflict causes when another
//     manager owns a field it changes (unless force=true), and removes the
//     fields its manager stops applying when nobody else owns them.
//   - Status subresources: writes to the main resource keep the stored
//     status; writes to /status change only the status. Scale
//     (autoscaling/v1) for deployments and for custom resources whose CRD
//     declares it (simple specReplicasPath, statusReplicasPath and
//     labelSelectorPath).
//   - CustomResourceDefinitions: by default creating one serves its
//     versions at once, with conditions NamesAccepted and Established True
//     in the create's answer, which keeps tests fast. The real server
//     answers the create with no conditions and no accepted names and
//     establishes the CRD 0.2-0.4 s later; until then its kinds are
//     neither in discovery nor served. Options.CRDEstablishDelay (or
//     SetCRDEstablishDelay) emulates that: RealCRDEstablishDelay is the
//     real server's delay; internal/fidelity and the quickstart and
//     operator examples run with it. Instant stays the default so that
//     the many tests that create a CRD and use it at once stay fast and
//     need no wait; code meant for real clusters must wait for
//     Established either way, and its tests should set the delay. A
//     CRD's schema prunes unknown fields
//     and checks types, required fields, enums, minimum and maximum,
//     string lengths and patterns and item counts; deleting it removes the
//     resources and their objects.
//   - Lists: label selectors with the real parser's syntax and errors,
//     field selectors (metadata.name, metadata.namespace and a few per
//     kind), limit and continue (every page of a continued list shows the
//     snapshot its first page saw and carries its resourceVersion, as etcd
//     serves it; a malformed token gets 400, one older than Compact gets
//     410 Expired; resourceVersion=0 ignores limit as the
//     watch cache does; a resourceVersion from the future gets 504), Table
//     output with the real printers' columns, DeleteCollection.
//   - Watch: ADDED/MODIFIED/DELETED from a resourceVersion (the current
//     state first when none is given), selectors (objects entering or
//     leaving one become ADDED or DELETED), bookmarks on SendBookmarks,
//     sendInitialEvents with the initial-events-end bookmark, an ERROR 410
//     Expired event after Compact, timeoutSeconds; EndWatches and Close
//     end open watches cleanly (the client reads the end of the stream,
//     as after a timeout) and DropWatches breaks them between events;
//     CutWatches sends half of the next event and breaks them there,
//     HideInitialEventsEnd leaves out the initial-events-end bookmark (a
//     server that ignores sendInitialEvents), OpenWatches counts them
//     (watchfaults.go). As on the
//     real server a watch is established before its response header is
//     sent, so a client that has the header sees every later change.
//   - dryRun=All on every write; fieldValidation Ignore, Warn (the default:
//     a Warning header per unknown field) and Strict (400 naming the
//     fields). Unknown fields are dropped as the real decoder drops them.
//     For built-in kinds the known fields are the top-level fields and
//     those of metadata and spec; for custom resources the CRD schema.
//   - Pods: log (SetPodLog; container choice, tailLines, limitBytes,
//     follow), eviction, and over WebSocket exec and attach
//     (v5.channel.k8s.io and v4.channel.k8s.io: stdin, stdout, stderr,
//     resize, v5 stdin close, the status channel) and portforward (the v4
//     channel protocol with port prefixes); SetExecHandler and
//     SetPortForwardHandler replace the built-in echo behaviour. Attach
//     uses the container's tty, as the kubelet does, so asking a tty: true
//     container for stderr gets the node's refusal (500 on the status
//     channel).
//     serviceaccounts/token issues (unusable) tokens.
//   - Fault injection (Inject, matching method, path prefix and query):
//     status codes with Retry-After, delays, dropped connections, truncated
//     bodies, Warning headers; Requests records every request.
//   - /version, /healthz, /readyz, /livez, and /openapi/v3 (an index with
//     ?hash= URLs, immutable when hashed, 304 on a matching ETag; per
//     group-version documents with typed definitions of the built-in kinds
//     (the commonly written fields; others are open objects), the CRDs'
//     schemas, and path items for every operation).
//
// # What is not emulated
//
//   - Admission beyond a few defaults, authorization (RBAC objects are
//     stored, not enforced), controllers (deployments never get replicas,
//     pods never run, there is no garbage collector: dependents are never
//     deleted, and the finalizer that Foreground or Orphan adds is removed at
//     once), graceful deletion (pods go at once), namespace
//     termination (a deleted namespace and its objects go at once, where the
//     real server keeps the namespace Terminating).
//   - Apply is simplified: field sets are not converted between versions;
//     only generateName, labels, annotations, finalizers and
//     ownerReferences of metadata are tracked; lists are keyed as the built-in kinds key them (by name,
//     mountPath, port and protocol; finalizers as a set) or as a CRD schema
//     says, everything else is atomic; apply to the scale subresource is a
//     merge patch.
//   - Strategic merge patch is a merge patch in which the lists above merge
//     by key (other lists of objects with a "name" too), "$patch": "delete"
//     removes a list element or a map and "$patch": "replace" replaces a
//     map; other directives are ignored.
//   - Validation is a small subset of the real server's.
//   - resourceVersion and resourceVersionMatch on a list are validated, but
//     a list without a continue token always shows the current state.
//   - Request bodies may be JSON or YAML; answers are always JSON (no
//     protobuf, CBOR or YAML): an Accept header that admits no JSON gets 406.
//     Table, PartialObjectMetadata and PartialObjectMetadataList are served
//     when Accept asks for them, on a watch too (each event's object a
//     Table of one row, as kubectl get -w asks for).
//   - Exec and attach speak WebSocket only (v5 and v4), not plain SPDY;
//     portforward speaks WebSocket v4 and SPDY tunnelled in WebSocket
//     (SPDY/3.1+portforward.k8s.io), not plain SPDY. Exec works on pods
//     that no node runs, where the real server refuses.
//   - No binding, ephemeralcontainers or resize subresources (discovery
//     lists them; they answer 405); proxy answers through SetProxyHandler.
//     No conversion between CRD
//     versions (every version serves the same stored fields).
//   - HTTP/1.1 only unless Options.HTTP2 is set (the real server speaks
//     both).
//
// # Concurrency
//
// A Server is safe for concurrent use by multiple goroutines; one mutex
// guards its state, so it is meant for correctness tests, not load tests.
package testserver
