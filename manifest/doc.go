// Package manifest applies sets of manifests — files, folders, standard input
// — to a cluster and reports what happened to every object. It sits above
// resource, discovery and watch.
//
// # Loading and planning
//
// Load reads files and folders (and "-" for standard input) into decoded
// objects that remember their file, document and line. Engine.Plan checks
// the set and orders it, sending no write: duplicate objects, a cycle of
// depends-on annotations, a reference to an object outside the set and an
// object without apiVersion, kind or name are all reported at once in a
// *PlanError (errors.Is(err, ErrInvalidSet)).
//
//	objs, err := manifest.Load([]string{"deploy/"}, nil)
//	e := manifest.New(client)
//	plan, err := e.Plan(ctx, objs, nil)
//	rep, err := e.Apply(ctx, plan, &manifest.ApplyOptions{FieldManager: "me"})
//	for _, r := range rep.Results {
//		fmt.Println(r) // deploy/app.yaml:2:1 ConfigMap shop/settings created
//	}
//
// # Order
//
// An object waits for what it depends on: a namespaced object for its
// Namespace, a custom resource for the CRD of its kind, and any object for
// those named in its DependsOnAnnotation (`kubedyn.io/depends-on`, in the
// reference form kpt's config.kubernetes.io/depends-on uses). Ties are broken
// by KindRank: Namespaces, CRDs, RBAC, ServiceAccounts, ConfigMaps, Secrets,
// Services, workloads, other kinds, webhooks last; an object also waits for the
// objects of a lower rank placed before it. Everything else is written
// concurrently, at most ApplyOptions.Concurrency at once. Delete goes in
// reverse: dependents first.
//
// # Custom resources in the same run
//
// A CRD of the set is applied, waited for by watch until Established, and
// discovery refreshed until its kind resolves; only then do its custom
// resources go. They never fail with "no matches for kind".
//
// A dry run (ApplyOptions.DryRun, Diff) creates no CRD, so the server
// cannot check custom resources whose kind only a CRD of the set defines.
// They are validated client-side against that CRD's schema instead
// (discovery.CompileCRDSchema, unstructured.Validate, CEL rules included):
// Created with the defaulted object they would be, or Failed with their
// field errors as Causes. Their Result.Note (ObjectDiff.Note) says they were
// "checked client-side against the CRD ... in this set, not by the server":
// admission and webhooks did not see them.
//
// # Results
//
// Every object of the plan gets a Result with its source: Created,
// Configured, Unchanged (the resourceVersion did not move), Failed (the error
// and the server's causes) or Skipped (something it depends on failed). A
// failure never stops the others unless ApplyOptions.FailFast, and what
// succeeded stays. Two modes: ServerSideApply (the default; Force only when
// asked) and CreateOnly (an existing object is Failed with
// transport.ErrAlreadyExists, and its dependents go ahead). The returned
// error is only for a run that could not go on.
//
// # Diff
//
// Engine.Diff asks the server what an apply would make of each object (a
// dry-run apply) and lists the fields that differ from the live object,
// with the server's own fields left out and Secret data masked.
//
// # Readiness
//
// Engine.Wait (or ApplyOptions.Wait) watches each object and evaluates it
// on every event: kstatus rules for the built-in kinds (Deployment,
// StatefulSet, DaemonSet, ReplicaSet, Job, Pod, PersistentVolumeClaim,
// Service, CustomResourceDefinition, Namespace), conditions for the rest. Where
// the usual tools go wrong: a custom resource without a status is InProgress
// for WaitOptions.NoStatusGrace (its controller has not looked at it yet), a
// condition whose observedGeneration is behind the object counts for nothing,
// Unknown is never ready, and Failed must last WaitOptions.FailedAfter before
// the wait gives up. Rules (a condition type, gjson paths or CEL expressions
// over the object, evaluated with package celrules) replace the
// built-in rules per kind. Timeouts apply per object and overall. Evaluate is
// the same rules as a pure function.
//
// # Prune with ApplySets
//
// ApplyOptions.ApplySet labels each member `applyset.kubernetes.io/part-of`
// with the set's ID and records its kinds and namespaces on a parent (a
// Secret by default) exactly as kubectl's `apply --prune --applyset` does;
// with Prune, members that left the set are deleted (PruneDryRun reports
// them without deleting), only when every object applied. kubectl refuses a
// set another tool manages, so share one with kubectl by setting
// ApplySet.Tooling to a kubectl tooling value.
//
// # Concurrency
//
// Engines are safe for concurrent use; Plans, Results and Reports are not
// modified after they are returned. Callbacks (OnResult, OnChange) may run
// on the engine's goroutines.
package manifest
