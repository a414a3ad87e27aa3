package discovery

// builtinGroups are the API groups kube-apiserver (with its aggregator and
// apiextensions servers) serves from compiled-in Go types, as of Kubernetes
// 1.37: the groups of k8s.io/api that have REST endpoints, plus
// apiextensions.k8s.io and apiregistration.k8s.io. Alpha groups are listed
// too: a server may enable them.
var builtinGroups = map[string]bool{
	"":                             true, // core
	"admissionregistration.k8s.io": true,
	"apiextensions.k8s.io":         true,
	"apiregistration.k8s.io":       true,
	"apps":                         true,
	"authentication.k8s.io":        true,
	"authorization.k8s.io":         true,
	"autoscaling":                  true,
	"batch":                        true,
	"certificates.k8s.io":          true,
	"coordination.k8s.io":          true,
	"discovery.k8s.io":             true,
	"events.k8s.io":                true,
	"extensions":                   true,
	"flowcontrol.apiserver.k8s.io": true,
	"internal.apiserver.k8s.io":    true,
	"lifecycle.k8s.io":             true,
	"networking.k8s.io":            true,
	"node.k8s.io":                  true,
	"policy":                       true,
	"rbac.authorization.k8s.io":    true,
	"resource.k8s.io":              true,
	"scheduling.k8s.io":            true,
	"storage.k8s.io":               true,
	"storagemigration.k8s.io":      true,
}

// IsBuiltinGroup reports whether group is one kube-apiserver serves from its
// own compiled-in types: the core group "", apps, batch, networking.k8s.io and
// the rest of Kubernetes' own groups. Every other group is served by a
// CustomResourceDefinition or an aggregated API server: Gateway API's
// gateway.networking.k8s.io and metrics.k8s.io are not built in, although
// their names end in .k8s.io.
//
// It is the one rule the package uses: ResourceFor ranks built-in groups
// before the others when a name is served by several, and the resource
// package refuses strategic merge patch outside them (custom resources
// answer it with 415). Discovery documents do not say whether a CRD serves a
// group, so the rule is this fixed list, checked against the real
// kube-apiserver 1.37 by the test suite. A built-in group added by a later
// Kubernetes release and missing here ranks like a custom group, and is
// patched with MergePatch, JSONPatch or ApplyPatch.
func IsBuiltinGroup(group string) bool { return builtinGroups[group] }
