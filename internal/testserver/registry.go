package testserver

import (
	"sort"
	"strings"
)

// resourceDef describes one served resource in one group-version: the row
// of the server's table that discovery, routing and storage read.
type resourceDef struct {
	group, version, resource, kind, singular string
	namespaced                               bool
	shortNames, categories                   []string
	status, scale                            bool // subresources
	generation                               bool // metadata.generation is maintained
	unconditionalUpdate                      bool // PUT without resourceVersion is allowed
	returnDeleted                            bool // DELETE answers the object, not a Status
	crd                                      string
	extraSubs                                []subDef // subresources beyond status and scale
	// scalePaths are a custom resource's specReplicasPath,
	// statusReplicasPath and labelSelectorPath (nil for built-ins).
	scalePaths         []string
	noDeleteCollection bool
	// schema is the CRD version's openAPIV3Schema (nil for built-ins).
	schema map[string]any
	// known lists the top-level fields a built-in kind has, for strict
	// field validation (nil: not checked beyond metadata).
	known map[string]map[string]bool
}

// subDef is a subresource as discovery lists it.
type subDef struct {
	name, group, version, kind string
	verbs                      []string
}

var podSubs = []subDef{
	{"attach", "", "v1", "PodAttachOptions", []string{"create", "get"}},
	{"binding", "", "v1", "Binding", []string{"create"}},
	{"ephemeralcontainers", "", "v1", "Pod", []string{"get", "patch", "update"}},
	{"eviction", "policy", "v1", "Eviction", []string{"create"}},
	{"exec", "", "v1", "PodExecOptions", []string{"create", "get"}},
	{"log", "", "v1", "Pod", []string{"get"}},
	{"portforward", "", "v1", "PodPortForwardOptions", []string{"create", "get"}},
	{"proxy", "", "v1", "PodProxyOptions", []string{"create", "delete", "get", "patch", "update"}},
	{"resize", "", "v1", "Pod", []string{"get", "patch", "update"}},
}

// subresources lists every subresource of d in name order.
func (d *resourceDef) subresources() []subDef {
	var out []subDef
	rw := []string{"get", "patch", "update"}
	if d.scale {
		out = append(out, subDef{"scale", "autoscaling", "v1", "Scale", rw})
	}
	if d.status {
		out = append(out, subDef{"status", d.group, d.version, d.kind, rw})
	}
	out = append(out, d.extraSubs...)
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

func (d *resourceDef) hasSub(name string) bool {
	for _, s := range d.subresources() {
		if s.name == name {
			return true
		}
	}
	return false
}

func (d *resourceDef) groupVersion() string {
	if d.group == "" {
		return d.version
	}
	return d.group + "/" + d.version
}

func (d *resourceDef) listKind() string { return d.kind + "List" }

// storageKey names the storage shared by every version of a resource.
func (d *resourceDef) storageKey() string { return d.resource + "." + d.group }

var allVerbs = []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}

// verbs are the verbs discovery lists for d.
func (d *resourceDef) verbs() []string {
	if d.noDeleteCollection {
		return []string{"create", "delete", "get", "list", "patch", "update", "watch"}
	}
	return allVerbs
}

// fields builds a known-field set: "" lists the top-level fields, other keys
// the fields of a top-level object such as "spec".
func fields(spec map[string]string) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for k, v := range spec {
		set := map[string]bool{}
		for _, f := range strings.Fields(v) {
			set[f] = true
		}
		out[k] = set
	}
	return out
}

func builtins() []*resourceDef {
	return []*resourceDef{
		{group: "", version: "v1", resource: "namespaces", kind: "Namespace", shortNames: []string{"ns"}, status: true, unconditionalUpdate: true, returnDeleted: true, noDeleteCollection: true,
			extraSubs: []subDef{{"finalize", "", "v1", "Namespace", []string{"update"}}},
			known:     fields(map[string]string{"": "spec status", "spec": "finalizers"})},
		{group: "", version: "v1", resource: "pods", kind: "Pod", namespaced: true, shortNames: []string{"po"}, categories: []string{"all"}, status: true, generation: true, unconditionalUpdate: true, returnDeleted: true, extraSubs: podSubs,
			known: fields(map[string]string{"": "spec status", "spec": "activeDeadlineSeconds affinity automountServiceAccountToken containers dnsConfig dnsPolicy enableServiceLinks ephemeralContainers hostAliases hostIPC hostNetwork hostPID hostUsers hostname hostnameOverride imagePullSecrets initContainers nodeName nodeSelector os overhead preemptionPolicy priority priorityClassName readinessGates resourceClaims resources restartPolicy runtimeClassName schedulerName schedulingGates securityContext serviceAccount serviceAccountName setHostnameAsFQDN shareProcessNamespace subdomain terminationGracePeriodSeconds tolerations topologySpreadConstraints volumes"})},
		{group: "", version: "v1", resource: "configmaps", kind: "ConfigMap", namespaced: true, shortNames: []string{"cm"}, unconditionalUpdate: true,
			known: fields(map[string]string{"": "data binaryData immutable"})},
		{group: "", version: "v1", resource: "secrets", kind: "Secret", namespaced: true, unconditionalUpdate: true,
			known: fields(map[string]string{"": "data stringData type immutable"})},
		{group: "", version: "v1", resource: "services", kind: "Service", namespaced: true, shortNames: []string{"svc"}, categories: []string{"all"}, status: true, unconditionalUpdate: true, returnDeleted: true,
			extraSubs: []subDef{{"proxy", "", "v1", "ServiceProxyOptions", []string{"create", "delete", "get", "patch", "update"}}},
			known:     fields(map[string]string{"": "spec status", "spec": "allocateLoadBalancerNodePorts clusterIP clusterIPs externalIPs externalName externalTrafficPolicy healthCheckNodePort internalTrafficPolicy ipFamilies ipFamilyPolicy loadBalancerClass loadBalancerIP loadBalancerSourceRanges ports publishNotReadyAddresses selector sessionAffinity sessionAffinityConfig trafficDistribution type"})},
		{group: "", version: "v1", resource: "serviceaccounts", kind: "ServiceAccount", namespaced: true, shortNames: []string{"sa"}, unconditionalUpdate: true, returnDeleted: true,
			extraSubs: []subDef{{"token", "authentication.k8s.io", "v1", "TokenRequest", []string{"create"}}},
			known:     fields(map[string]string{"": "automountServiceAccountToken imagePullSecrets secrets"})},
		{group: "", version: "v1", resource: "events", kind: "Event", namespaced: true, shortNames: []string{"ev"}, unconditionalUpdate: true,
			known: fields(map[string]string{"": "action count eventTime firstTimestamp involvedObject lastTimestamp message reason related reportingComponent reportingInstance series source type"})},
		{group: "apps", version: "v1", resource: "deployments", kind: "Deployment", namespaced: true, shortNames: []string{"deploy"}, categories: []string{"all"}, status: true, scale: true, generation: true, unconditionalUpdate: true,
			known: fields(map[string]string{"": "spec status", "spec": "minReadySeconds paused progressDeadlineSeconds replicas revisionHistoryLimit selector strategy template"})},
		{group: "rbac.authorization.k8s.io", version: "v1", resource: "clusterroles", kind: "ClusterRole", unconditionalUpdate: true,
			known: fields(map[string]string{"": "aggregationRule rules"})},
		{group: "rbac.authorization.k8s.io", version: "v1", resource: "roles", kind: "Role", namespaced: true, unconditionalUpdate: true,
			known: fields(map[string]string{"": "rules"})},
		{group: "apiextensions.k8s.io", version: "v1", resource: "customresourcedefinitions", kind: "CustomResourceDefinition", shortNames: []string{"crd", "crds"}, categories: []string{"api-extensions"}, status: true, generation: true, returnDeleted: true,
			known: fields(map[string]string{"": "spec status", "spec": "conversion group names preserveUnknownFields scope versions"})},
	}
}

// registry holds the served resources. It is guarded by the server's mutex.
type registry struct {
	defs []*resourceDef
}

func (r *registry) add(d *resourceDef) {
	if d.singular == "" {
		d.singular = strings.ToLower(d.kind)
	}
	r.defs = append(r.defs, d)
}

// removeCRD drops every resource a CRD defined.
func (r *registry) removeCRD(name string) {
	out := r.defs[:0]
	for _, d := range r.defs {
		if d.crd != name {
			out = append(out, d)
		}
	}
	r.defs = out
}

func (r *registry) lookup(group, version, resource string) *resourceDef {
	for _, d := range r.defs {
		if d.group == group && d.version == version && d.resource == resource {
			return d
		}
	}
	return nil
}

// groupEntry is a served group and its versions.
type groupEntry struct {
	name     string
	versions []string
}

// groups returns the groups served in the order they were first
// registered, each with its versions by Kubernetes version priority.
func (r *registry) groups() []groupEntry {
	var out []groupEntry
	idx := map[string]int{}
	for _, d := range r.defs {
		i, ok := idx[d.group]
		if !ok {
			i = len(out)
			idx[d.group] = i
			out = append(out, groupEntry{name: d.group})
		}
		found := false
		for _, v := range out[i].versions {
			found = found || v == d.version
		}
		if !found {
			out[i].versions = append(out[i].versions, d.version)
		}
	}
	for i := range out {
		sort.SliceStable(out[i].versions, func(a, b int) bool {
			return versionLess(out[i].versions[b], out[i].versions[a])
		})
	}
	return out
}

func (r *registry) inGroupVersion(group, version string) []*resourceDef {
	var out []*resourceDef
	for _, d := range r.defs {
		if d.group == group && d.version == version {
			out = append(out, d)
		}
	}
	return out
}

// versionLess orders Kubernetes versions by priority: GA above beta above
// alpha, higher numbers first; anything else sorts below, alphabetically.
func versionLess(a, b string) bool {
	ka, kb := versionKey(a), versionKey(b)
	if ka.rank != kb.rank {
		return ka.rank < kb.rank
	}
	if ka.major != kb.major {
		return ka.major < kb.major
	}
	if ka.minor != kb.minor {
		return ka.minor < kb.minor
	}
	return a > b
}

type vkey struct{ rank, major, minor int }

func versionKey(v string) vkey {
	if len(v) < 2 || v[0] != 'v' {
		return vkey{}
	}
	i := 1
	major := 0
	for i < len(v) && v[i] >= '0' && v[i] <= '9' {
		major = major*10 + int(v[i]-'0')
		i++
	}
	if i == 1 {
		return vkey{}
	}
	rest := v[i:]
	rank := 0
	switch {
	case rest == "":
		return vkey{rank: 3, major: major}
	case strings.HasPrefix(rest, "beta"):
		rank, rest = 2, rest[4:]
	case strings.HasPrefix(rest, "alpha"):
		rank, rest = 1, rest[5:]
	default:
		return vkey{}
	}
	minor := 0
	if rest == "" {
		return vkey{}
	}
	for _, c := range rest {
		if c < '0' || c > '9' {
			return vkey{}
		}
		minor = minor*10 + int(c-'0')
	}
	return vkey{rank: rank, major: major, minor: minor}
}
