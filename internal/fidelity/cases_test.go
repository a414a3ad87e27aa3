package fidelity

import (
	"net/http"
	"slices"
	"strings"
)

// request is one HTTP request of a case.
type request struct {
	Method string            `json:"method"`
	Path   string            `json:"path"`
	Header map[string]string `json:"header,omitempty"`
	Body   string            `json:"body,omitempty"`
	// Retry repeats a setup step until it answers 2xx (a minute at most).
	Retry bool `json:"-"`
	// Save names placeholders ("<rv>") to fill, in later steps' and the
	// case request's paths and bodies, with the string at a dotted path
	// of this setup step's answer ("metadata.resourceVersion").
	Save map[string]string `json:"-"`
}

// savingNameAndRV returns rq that saves its answer's name as <name> and
// resourceVersion as <rv>: with generateName, a case can run again
// against the same server.
func savingNameAndRV(rq request) request {
	rq.Save = map[string]string{"<name>": "metadata.name", "<rv>": "metadata.resourceVersion"}
	return rq
}

// generatedConfigMap creates a ConfigMap with a generated name in the
// objects' namespace, labelled label=me.
func generatedConfigMap(prefix, label string) request {
	return withBody(http.MethodPost, objNS+"/configmaps", contentTypeJSON,
		`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"generateName":"`+prefix+`","labels":{"`+label+`":"me"}},"data":{"a":"1"}}`)
}

// saving returns rq that saves the string at path of its answer as name.
func saving(rq request, name, path string) request {
	rq.Save = map[string]string{name: path}
	return rq
}

// kind says how a case's answers are compared.
type kind string

const (
	kindVersion             kind = "version"       // /version: key paths
	kindLegacyRoot          kind = "legacy-root"   // /api: APIVersions
	kindLegacyGroups        kind = "legacy-groups" // /apis: APIGroupList
	kindLegacyGroup         kind = "legacy-group"  // /apis/<group>: APIGroup
	kindResourceList        kind = "resource-list" // /api/v1, /apis/apps/v1: APIResourceList
	kindAggregated          kind = "aggregated"    // aggregated discovery
	kindOpenAPIIndex        kind = "openapi-index" // /openapi/v3
	kindOpenAPIDoc          kind = "openapi-doc"   // /openapi/v3/<gv>, trimmed
	kindOpenAPIFull         kind = "openapi-full"  // /openapi/v3/<gv>, whole, stored gzipped
	kindStatus              kind = "status"        // an error Status
	kindEmpty               kind = "empty"         // a 304: headers only
	kindObject              kind = "object"        // an object, a list or a Table
	kindWatch               kind = "watch"         // a watch stream
	aggregatedAccept             = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
	jsonPatch                    = "application/json-patch+json"
	mergePatch                   = "application/merge-patch+json"
	strategicPatch               = "application/strategic-merge-patch+json"
	applyPatch                   = "application/apply-patch+yaml"
	contentTypeJSON              = "application/json"
	tableAccept                  = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
	fidelityCRDName              = "widgets.fidelity.example.com"
	fidelityCRDGroupVersion      = "fidelity.example.com/v1"
)

// fcase is one captured request: setup steps run first on each server (on
// the test server they run against a fresh instance), then Request, whose
// answer is captured and compared.
type fcase struct {
	Name    string
	Kind    kind
	Setup   []request
	Request request
	// Keep names the one OpenAPI schema and the one path kept whole by
	// the trimmed capture of an OpenAPI document.
	KeepSchema, KeepPath string
	// Revalidate sends Request twice, the second time with If-None-Match
	// set to the first answer's ETag; the second answer is captured.
	Revalidate bool
	// KeepTestGroup keeps testGroup, though not its subgroups, in
	// discovery answers (see dropTestGroup).
	KeepTestGroup bool
	// FollowIndex replaces Request's path with the serverRelativeURL that
	// /openapi/v3 lists for this group-version (api/v1, apis/apps/v1).
	FollowIndex string
}

func get(path string) request { return request{Method: http.MethodGet, Path: path} }

func withBody(method, path, contentType, body string) request {
	return request{Method: method, Path: path, Header: map[string]string{"Content-Type": contentType}, Body: body}
}

func configMap(name, extra string) string {
	return `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"` + name + `"},"data":{"a":"1"}` + extra + `}`
}

func labeledConfigMap(name, label string) string {
	return `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"` + name + `","labels":{"` + label + `":"me"}},"data":{"a":"1"}}`
}

const cmPath = "/api/v1/namespaces/default/configmaps"

const widgetCRD = `{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
"metadata":{"name":"` + fidelityCRDName + `"},
"spec":{"group":"fidelity.example.com","scope":"Namespaced",
"names":{"plural":"widgets","singular":"widget","kind":"Widget","listKind":"WidgetList"},
"versions":[{"name":"v1","served":true,"storage":true,
"schema":{"openAPIV3Schema":{"type":"object","properties":{"spec":{"type":"object","properties":{"size":{"type":"integer"}}}}}}}]}}`

// crdSetup installs the Widget CRD, waits until its resource is served
// and creates the Widget w1 in default.
var crdSetup = []request{
	withBody(http.MethodPost, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", contentTypeJSON, widgetCRD),
	{Method: http.MethodGet, Path: "/apis/" + testGroup + "/v1/namespaces/default/widgets", Retry: true},
	withBody(http.MethodPost, "/apis/"+testGroup+"/v1/namespaces/default/widgets", contentTypeJSON,
		`{"apiVersion":"`+fidelityCRDGroupVersion+`","kind":"Widget","metadata":{"name":"w1"},"spec":{"size":1}}`),
}

// discoveryCases are captured before errorCases, so the custom resource
// definition that errorCases install is not part of the discovery captures.
var discoveryCases = []fcase{
	{Name: "version", Kind: kindVersion, Request: get("/version")},
	{Name: "api-legacy", Kind: kindLegacyRoot, Request: get("/api")},
	{Name: "apis-legacy", Kind: kindLegacyGroups, Request: get("/apis")},
	{Name: "api-aggregated", Kind: kindAggregated, Request: request{Method: http.MethodGet, Path: "/api", Header: map[string]string{"Accept": aggregatedAccept}}},
	{Name: "apis-aggregated", Kind: kindAggregated, Request: request{Method: http.MethodGet, Path: "/apis", Header: map[string]string{"Accept": aggregatedAccept}}},
	{Name: "api-aggregated-revalidate", Kind: kindEmpty, Revalidate: true,
		Request: request{Method: http.MethodGet, Path: "/api", Header: map[string]string{"Accept": aggregatedAccept}}},
	{Name: "apis-aggregated-revalidate", Kind: kindEmpty, Revalidate: true,
		Request: request{Method: http.MethodGet, Path: "/apis", Header: map[string]string{"Accept": aggregatedAccept}}},
	{Name: "openapi-v3-api-v1-revalidate", Kind: kindEmpty, Revalidate: true, Request: get("/openapi/v3/api/v1")},
	{Name: "openapi-v3-apis-apps-v1-hashed", Kind: kindOpenAPIDoc, FollowIndex: "apis/apps/v1",
		Request:    get("/openapi/v3/apis/apps/v1?hash=<hash>"),
		KeepSchema: "io.k8s.api.apps.v1.Deployment", KeepPath: "/apis/apps/v1/namespaces/{namespace}/deployments/{name}"},
	{Name: "openapi-v3-full-api-v1", Kind: kindOpenAPIFull, Request: get("/openapi/v3/api/v1")},
	{Name: "openapi-v3-full-apis-apps-v1", Kind: kindOpenAPIFull, Request: get("/openapi/v3/apis/apps/v1")},
	{Name: "openapi-v3-full-apis-rbac-v1", Kind: kindOpenAPIFull, Request: get("/openapi/v3/apis/rbac.authorization.k8s.io/v1")},
	{Name: "openapi-v3-full-apis-apiextensions-v1", Kind: kindOpenAPIFull, Request: get("/openapi/v3/apis/apiextensions.k8s.io/v1")},
	{Name: "api-v1", Kind: kindResourceList, Request: get("/api/v1")},
	{Name: "apis-apps-v1", Kind: kindResourceList, Request: get("/apis/apps/v1")},
	{Name: "apis-apps", Kind: kindLegacyGroup, Request: get("/apis/apps")},
	{Name: "apis-rbac-v1", Kind: kindResourceList, Request: get("/apis/rbac.authorization.k8s.io/v1")},
	{Name: "apis-apiextensions-v1", Kind: kindResourceList, Request: get("/apis/apiextensions.k8s.io/v1")},
	{Name: "openapi-v3-index", Kind: kindOpenAPIIndex, Request: get("/openapi/v3")},
	{Name: "openapi-v3-api-v1", Kind: kindOpenAPIDoc, Request: get("/openapi/v3/api/v1"),
		KeepSchema: "io.k8s.api.core.v1.ConfigMap", KeepPath: "/api/v1/namespaces/{namespace}/configmaps/{name}"},
	{Name: "openapi-v3-apis-apps-v1", Kind: kindOpenAPIDoc, Request: get("/openapi/v3/apis/apps/v1"),
		KeepSchema: "io.k8s.api.apps.v1.Deployment", KeepPath: "/apis/apps/v1/namespaces/{namespace}/deployments/{name}"},
}

var errorCases = []fcase{
	{Name: "error-get-missing-pod", Kind: kindStatus, Request: get("/api/v1/namespaces/default/pods/fidelity-missing")},
	{Name: "error-unknown-resource", Kind: kindStatus, Request: get("/api/v1/namespaces/default/nosuchthings")},
	{Name: "error-unknown-group", Kind: kindStatus, Request: get("/apis/no.such.group/v1/things")},
	{Name: "error-create-duplicate", Kind: kindStatus,
		Setup:   []request{withBody(http.MethodPost, cmPath, contentTypeJSON, configMap("fidelity-dup", ""))},
		Request: withBody(http.MethodPost, cmPath, contentTypeJSON, configMap("fidelity-dup", ""))},
	{Name: "error-update-stale", Kind: kindStatus,
		Setup: []request{withBody(http.MethodPost, cmPath, contentTypeJSON, configMap("fidelity-stale", ""))},
		Request: withBody(http.MethodPut, cmPath+"/fidelity-stale", contentTypeJSON,
			`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"fidelity-stale","resourceVersion":"1"},"data":{"a":"2"}}`)},
	{Name: "error-invalid-name", Kind: kindStatus,
		Request: withBody(http.MethodPost, cmPath, contentTypeJSON, configMap("Bad_Name", ""))},
	{Name: "error-strategic-patch-custom-resource", Kind: kindStatus,
		Setup:   crdSetup,
		Request: withBody(http.MethodPatch, "/apis/fidelity.example.com/v1/namespaces/default/widgets/w1", strategicPatch, `{"spec":{"size":2}}`)},
	{Name: "error-bad-continue", Kind: kindStatus, Request: get(cmPath + "?limit=1&continue=not-a-token")},
	{Name: "error-json-patch-test", Kind: kindStatus,
		Setup:   []request{withBody(http.MethodPost, cmPath, contentTypeJSON, configMap("fidelity-jsonpatch", ""))},
		Request: withBody(http.MethodPatch, cmPath+"/fidelity-jsonpatch", jsonPatch, `[{"op":"test","path":"/data/a","value":"2"},{"op":"replace","path":"/data/a","value":"3"}]`)},
	{Name: "error-apply-without-field-manager", Kind: kindStatus,
		Request: withBody(http.MethodPatch, cmPath+"/fidelity-apply", applyPatch, configMap("fidelity-apply", ""))},
	{Name: "error-strict-unknown-field", Kind: kindStatus,
		Request: withBody(http.MethodPost, cmPath+"?fieldValidation=Strict", contentTypeJSON, configMap("fidelity-strict", `,"bogus":1`))},
	{Name: "error-merge-patch-missing", Kind: kindStatus,
		Request: withBody(http.MethodPatch, cmPath+"/fidelity-nothere", mergePatch, `{"data":{"a":"2"}}`)},
	{Name: "error-create-missing-namespace", Kind: kindStatus,
		Request: withBody(http.MethodPost, "/api/v1/namespaces/fidelity-no-such-ns/configmaps", contentTypeJSON, configMap("x", ""))},
	{Name: "error-bad-field-validation", Kind: kindStatus,
		Request: withBody(http.MethodPost, cmPath+"?fieldValidation=Bogus", contentTypeJSON, configMap("fidelity-bad-validation", ""))},
	{Name: "error-delete-missing", Kind: kindStatus, Request: request{Method: http.MethodDelete, Path: cmPath + "/fidelity-nothere"}},
	{Name: "error-unauthorized", Kind: kindStatus,
		Request: request{Method: http.MethodGet, Path: cmPath, Header: map[string]string{"Authorization": "Bearer not-a-valid-token"}}},
	{Name: "error-method-not-allowed", Kind: kindStatus,
		Request: withBody(http.MethodPut, cmPath, contentTypeJSON, configMap("fidelity-put-collection", ""))},
	{Name: "error-bad-label-selector", Kind: kindStatus, Request: get(cmPath + "?labelSelector=a%20b%20c")},
	{Name: "error-malformed-json", Kind: kindStatus,
		Request: withBody(http.MethodPost, cmPath, contentTypeJSON, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":`)},
	{Name: "error-namespaced-without-namespace", Kind: kindStatus,
		Request: withBody(http.MethodPost, "/api/v1/configmaps", contentTypeJSON, configMap("fidelity-no-ns", ""))},
	{Name: "error-delete-precondition-uid", Kind: kindStatus,
		Setup: []request{withBody(http.MethodPost, cmPath, contentTypeJSON, configMap("fidelity-precondition", ""))},
		Request: withBody(http.MethodDelete, cmPath+"/fidelity-precondition", contentTypeJSON,
			`{"kind":"DeleteOptions","apiVersion":"v1","preconditions":{"uid":"wrong"}}`)},
	{Name: "error-delete-precondition-resource-version", Kind: kindStatus,
		Setup: []request{withBody(http.MethodPost, cmPath, contentTypeJSON, configMap("fidelity-precondition-rv", ""))},
		Request: withBody(http.MethodDelete, cmPath+"/fidelity-precondition-rv", contentTypeJSON,
			`{"kind":"DeleteOptions","apiVersion":"v1","preconditions":{"resourceVersion":"1"}}`)},
	{Name: "error-delete-precondition-custom-resource", Kind: kindStatus,
		Setup: crdSetup,
		Request: withBody(http.MethodDelete, "/apis/"+testGroup+"/v1/namespaces/default/widgets/w1", contentTypeJSON,
			`{"kind":"DeleteOptions","apiVersion":"v1","preconditions":{"uid":"wrong"}}`)},
	{Name: "error-update-wrong-uid", Kind: kindStatus,
		Setup: []request{withBody(http.MethodPost, cmPath, contentTypeJSON, configMap("fidelity-wrong-uid", ""))},
		Request: withBody(http.MethodPut, cmPath+"/fidelity-wrong-uid", contentTypeJSON,
			`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"fidelity-wrong-uid","uid":"wrong"},"data":{"a":"2"}}`)},
	{Name: "error-merge-patch-wrong-uid", Kind: kindStatus,
		Setup:   []request{withBody(http.MethodPost, cmPath, contentTypeJSON, configMap("fidelity-patch-wrong-uid", ""))},
		Request: withBody(http.MethodPatch, cmPath+"/fidelity-patch-wrong-uid", mergePatch, `{"metadata":{"uid":"wrong"},"data":{"a":"2"}}`)},
	{Name: "error-service-unnamed-ports", Kind: kindStatus,
		Request: withBody(http.MethodPost, "/api/v1/namespaces/default/services", contentTypeJSON,
			`{"apiVersion":"v1","kind":"Service","metadata":{"name":"fidelity-unnamed-ports"},"spec":{"ports":[{"port":80},{"port":53,"protocol":"UDP"}]}}`)},
	{Name: "error-apply-conflict", Kind: kindStatus,
		Setup: []request{withBody(http.MethodPatch, cmPath+"/fidelity-conflict?fieldManager=first", applyPatch,
			configMap("fidelity-conflict", ""))},
		Request: withBody(http.MethodPatch, cmPath+"/fidelity-conflict?fieldManager=second", applyPatch,
			`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"fidelity-conflict"},"data":{"a":"2"}}`)},
}

const objNS = "/api/v1/namespaces/fidelity-objects"

var objNamespace = withBody(http.MethodPost, "/api/v1/namespaces", contentTypeJSON,
	`{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"fidelity-objects"}}`)

const deployment = `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"generateName":"fidelity-web-","labels":{"app":"web"}},
"spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},
"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"nginx:1.27","ports":[{"containerPort":80}]}]}}}}`

const pod = `{"apiVersion":"v1","kind":"Pod","metadata":{"generateName":"fidelity-pod-"},
"spec":{"containers":[{"name":"c","image":"busybox:1.36","command":["sleep","3600"]}]}}`

// twoContainerPod is a Pod named <name> with containers a and b.
const twoContainerPod = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"<name>","labels":{"fidelity":"status"}},
"spec":{"containers":[{"name":"a","image":"busybox:1.36"},{"name":"b","image":"busybox:1.36"}]}}`

// objectCases are successful requests: their answers' shapes show which
// fields the server fills in (defaults, managedFields, status). Creates use
// generateName, so that the cases can run again against the same server.
var objectCases = []fcase{
	{Name: "object-create-configmap", Kind: kindObject, Setup: []request{objNamespace},
		Request: withBody(http.MethodPost, objNS+"/configmaps", contentTypeJSON, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"generateName":"fidelity-created-"},"data":{"a":"1"}}`)},
	{Name: "object-get-configmap", Kind: kindObject,
		Setup:   []request{objNamespace, withBody(http.MethodPost, objNS+"/configmaps", contentTypeJSON, configMap("fidelity-got", ""))},
		Request: get(objNS + "/configmaps/fidelity-got")},
	{Name: "object-list-configmaps", Kind: kindObject,
		Setup:   []request{objNamespace, withBody(http.MethodPost, objNS+"/configmaps", contentTypeJSON, labeledConfigMap("fidelity-listed", "list"))},
		Request: get(objNS + "/configmaps?labelSelector=list%3Dme")},
	{Name: "object-list-page", Kind: kindObject,
		Setup: []request{objNamespace,
			withBody(http.MethodPost, objNS+"/configmaps", contentTypeJSON, labeledConfigMap("fidelity-page-1", "page")),
			withBody(http.MethodPost, objNS+"/configmaps", contentTypeJSON, labeledConfigMap("fidelity-page-2", "page"))},
		Request: get(objNS + "/configmaps?labelSelector=page%3Dme&limit=1")},
	{Name: "object-table-configmaps", Kind: kindObject,
		Setup: []request{objNamespace, withBody(http.MethodPost, objNS+"/configmaps", contentTypeJSON, labeledConfigMap("fidelity-table", "table"))},
		Request: request{Method: http.MethodGet, Path: objNS + "/configmaps?labelSelector=table%3Dme",
			Header: map[string]string{"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"}}},
	{Name: "object-delete-configmap", Kind: kindObject,
		Setup:   []request{objNamespace, withBody(http.MethodPost, objNS+"/configmaps", contentTypeJSON, configMap("fidelity-deleted", ""))},
		Request: request{Method: http.MethodDelete, Path: objNS + "/configmaps/fidelity-deleted"}},
	{Name: "object-create-deployment", Kind: kindObject, Setup: []request{objNamespace},
		Request: withBody(http.MethodPost, "/apis/apps/v1/namespaces/fidelity-objects/deployments", contentTypeJSON, deployment)},
	{Name: "object-create-pod", Kind: kindObject, Setup: []request{objNamespace},
		Request: withBody(http.MethodPost, objNS+"/pods", contentTypeJSON, pod)},
	{Name: "watch-existing", Kind: kindWatch,
		Setup: []request{objNamespace, withBody(http.MethodPost, objNS+"/configmaps", contentTypeJSON, labeledConfigMap("fidelity-watched", "watch"))},
		// Without a resourceVersion a watch starts with ADDED events for
		// what exists; timeoutSeconds ends it.
		Request: get(objNS + "/configmaps?watch=1&labelSelector=watch%3Dme&timeoutSeconds=1")},
	{Name: "watch-initial-events", Kind: kindWatch,
		Setup: []request{objNamespace, withBody(http.MethodPost, objNS+"/configmaps", contentTypeJSON, labeledConfigMap("fidelity-watchlist", "watchlist"))},
		Request: get(objNS + "/configmaps?watch=1&labelSelector=watchlist%3Dme&sendInitialEvents=true&allowWatchBookmarks=true" +
			"&resourceVersionMatch=NotOlderThan&timeoutSeconds=1")},
	{Name: "object-create-dry-run", Kind: kindObject, Setup: []request{objNamespace},
		Request: withBody(http.MethodPost, objNS+"/configmaps?dryRun=All", contentTypeJSON, configMap("fidelity-dry-run", ""))},
	{Name: "object-create-unknown-field-warns", Kind: kindObject, Setup: []request{objNamespace},
		// fieldValidation defaults to Warn: 201 with a Warning header.
		Request: withBody(http.MethodPost, objNS+"/configmaps", contentTypeJSON,
			`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"generateName":"fidelity-warned-"},"data":{"a":"1"},"bogus":1}`)},
	{Name: "object-get-scale", Kind: kindObject,
		Setup: []request{objNamespace, withBody(http.MethodPost, "/apis/apps/v1/namespaces/fidelity-objects/deployments", contentTypeJSON,
			strings.Replace(deployment, `"generateName":"fidelity-web-"`, `"name":"fidelity-scaled"`, 1))},
		Request: get("/apis/apps/v1/namespaces/fidelity-objects/deployments/fidelity-scaled/scale")},
	{Name: "object-table-deployments", Kind: kindObject,
		Setup: []request{objNamespace, withBody(http.MethodPost, "/apis/apps/v1/namespaces/fidelity-objects/deployments", contentTypeJSON,
			strings.Replace(deployment, `"generateName":"fidelity-web-"`, `"name":"fidelity-tabled"`, 1))},
		Request: request{Method: http.MethodGet, Path: "/apis/apps/v1/namespaces/fidelity-objects/deployments?fieldSelector=metadata.name%3Dfidelity-tabled",
			Header: map[string]string{"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"}}},
	{Name: "object-table-deployment-with-status", Kind: kindObject,
		Setup: []request{objNamespace,
			withBody(http.MethodPost, "/apis/apps/v1/namespaces/fidelity-objects/deployments", contentTypeJSON,
				`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"fidelity-statused"},
"spec":{"replicas":3,"selector":{"matchLabels":{"app":"api"},"matchExpressions":[{"key":"tier","operator":"In","values":["b","a"]},{"key":"canary","operator":"DoesNotExist"}]},
"template":{"metadata":{"labels":{"app":"api","tier":"a"}},"spec":{"containers":[{"name":"api","image":"nginx:1.27"},{"name":"log","image":"busybox:1.36"}]}}}}`),
			withBody(http.MethodPatch, "/apis/apps/v1/namespaces/fidelity-objects/deployments/fidelity-statused/status", mergePatch,
				`{"status":{"replicas":3,"readyReplicas":2,"updatedReplicas":3,"availableReplicas":1}}`)},
		Request: request{Method: http.MethodGet, Path: "/apis/apps/v1/namespaces/fidelity-objects/deployments?fieldSelector=metadata.name%3Dfidelity-statused",
			Header: map[string]string{"Accept": tableAccept}}},
	{Name: "object-get-crd", Kind: kindObject, Setup: crdSetup,
		Request: get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/" + fidelityCRDName)},
	{Name: "object-get-custom-resource", Kind: kindObject, Setup: crdSetup,
		Request: get("/apis/" + testGroup + "/v1/namespaces/default/widgets/w1")},
	{Name: "crd-resource-list", Kind: kindResourceList, Setup: crdSetup, Request: get("/apis/" + testGroup + "/v1")},
	{Name: "crd-apis-aggregated", Kind: kindAggregated, Setup: crdSetup, KeepTestGroup: true,
		Request: request{Method: http.MethodGet, Path: "/apis", Header: map[string]string{"Accept": aggregatedAccept}}},
	{Name: "crd-openapi-v3", Kind: kindOpenAPIFull,
		// The real server publishes a CRD's schema a moment after the
		// CRD is established.
		Setup:   append(slices.Clone(crdSetup), request{Method: http.MethodGet, Path: "/openapi/v3/apis/" + testGroup + "/v1", Retry: true}),
		Request: get("/openapi/v3/apis/" + testGroup + "/v1")},
	// Deletes that answer with a Status (compared as one, so that details
	// and code count) and deletes that answer with the object.
	{Name: "status-delete-configmap", Kind: kindStatus,
		Setup:   []request{objNamespace, withBody(http.MethodPost, objNS+"/configmaps", contentTypeJSON, configMap("fidelity-status-deleted", ""))},
		Request: request{Method: http.MethodDelete, Path: objNS + "/configmaps/fidelity-status-deleted"}},
	{Name: "status-delete-configmap-background", Kind: kindStatus,
		Setup: []request{objNamespace, withBody(http.MethodPost, objNS+"/configmaps", contentTypeJSON, configMap("fidelity-bg-deleted", ""))},
		Request: withBody(http.MethodDelete, objNS+"/configmaps/fidelity-bg-deleted", contentTypeJSON,
			`{"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Background"}`)},
	{Name: "status-delete-deployment", Kind: kindStatus,
		Setup: []request{objNamespace, withBody(http.MethodPost, "/apis/apps/v1/namespaces/fidelity-objects/deployments", contentTypeJSON,
			strings.Replace(deployment, `"generateName":"fidelity-web-"`, `"name":"fidelity-status-deleted"`, 1))},
		Request: request{Method: http.MethodDelete, Path: "/apis/apps/v1/namespaces/fidelity-objects/deployments/fidelity-status-deleted"}},
	{Name: "status-delete-configmap-dry-run", Kind: kindStatus,
		Setup:   []request{objNamespace, withBody(http.MethodPost, objNS+"/configmaps", contentTypeJSON, configMap("fidelity-dry-deleted", ""))},
		Request: request{Method: http.MethodDelete, Path: objNS + "/configmaps/fidelity-dry-deleted?dryRun=All"}},
	{Name: "status-evict-pod", Kind: kindStatus,
		Setup: []request{objNamespace, withBody(http.MethodPost, objNS+"/pods", contentTypeJSON,
			strings.Replace(pod, `"generateName":"fidelity-pod-"`, `"name":"fidelity-evicted-pod"`, 1))},
		Request: withBody(http.MethodPost, objNS+"/pods/fidelity-evicted-pod/eviction", contentTypeJSON,
			`{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"fidelity-evicted-pod","namespace":"fidelity-objects"}}`)},
	{Name: "object-delete-pod", Kind: kindObject,
		Setup: []request{objNamespace, withBody(http.MethodPost, objNS+"/pods", contentTypeJSON,
			strings.Replace(pod, `"generateName":"fidelity-pod-"`, `"name":"fidelity-deleted-pod"`, 1))},
		Request: request{Method: http.MethodDelete, Path: objNS + "/pods/fidelity-deleted-pod"}},
	{Name: "object-delete-namespace", Kind: kindObject,
		Setup: []request{withBody(http.MethodPost, "/api/v1/namespaces", contentTypeJSON,
			`{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"fidelity-deleted-ns"}}`)},
		Request: request{Method: http.MethodDelete, Path: "/api/v1/namespaces/fidelity-deleted-ns"}},
	{Name: "object-delete-custom-resource", Kind: kindObject,
		Setup: append(slices.Clone(crdSetup), withBody(http.MethodPost, "/apis/"+testGroup+"/v1/namespaces/default/widgets", contentTypeJSON,
			`{"apiVersion":"`+fidelityCRDGroupVersion+`","kind":"Widget","metadata":{"name":"w-deleted"},"spec":{"size":1}}`)),
		Request: request{Method: http.MethodDelete, Path: "/apis/" + testGroup + "/v1/namespaces/default/widgets/w-deleted"}},
	{Name: "object-delete-deployment-foreground", Kind: kindObject,
		Setup: []request{objNamespace, withBody(http.MethodPost, "/apis/apps/v1/namespaces/fidelity-objects/deployments", contentTypeJSON,
			strings.Replace(deployment, `"generateName":"fidelity-web-"`, `"name":"fidelity-foreground"`, 1))},
		Request: withBody(http.MethodDelete, "/apis/apps/v1/namespaces/fidelity-objects/deployments/fidelity-foreground", contentTypeJSON,
			`{"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Foreground"}`)},
	{Name: "object-delete-collection", Kind: kindObject,
		Setup: []request{objNamespace,
			withBody(http.MethodPost, objNS+"/configmaps", contentTypeJSON, labeledConfigMap("fidelity-collected", "collect"))},
		Request: request{Method: http.MethodDelete, Path: objNS + "/configmaps?labelSelector=collect%3Dme"}},
	{Name: "object-table-namespaces", Kind: kindObject, Setup: []request{objNamespace},
		Request: request{Method: http.MethodGet, Path: "/api/v1/namespaces?fieldSelector=metadata.name%3Dfidelity-objects",
			Header: map[string]string{"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"}}},
	{Name: "object-table-pods", Kind: kindObject,
		Setup: []request{objNamespace, withBody(http.MethodPost, objNS+"/pods", contentTypeJSON,
			strings.Replace(pod, `"generateName":"fidelity-pod-"`, `"name":"fidelity-tabled-pod"`, 1))},
		Request: request{Method: http.MethodGet, Path: objNS + "/pods?fieldSelector=metadata.name%3Dfidelity-tabled-pod",
			Header: map[string]string{"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"}}},
	{Name: "object-table-pods-with-status", Kind: kindObject,
		Setup: []request{objNamespace,
			withBody(http.MethodPost, objNS+"/pods", contentTypeJSON, strings.Replace(twoContainerPod, "<name>", "fidelity-running-pod", 1)),
			withBody(http.MethodPatch, objNS+"/pods/fidelity-running-pod/status", mergePatch, `{"status":{"phase":"Running","podIP":"10.1.2.3","podIPs":[{"ip":"10.1.2.3"}],
"containerStatuses":[{"name":"a","ready":true,"restartCount":2,"image":"busybox:1.36","imageID":"","started":true,"state":{"running":{"startedAt":"2026-01-01T00:00:00Z"}}},
{"name":"b","ready":false,"restartCount":1,"image":"busybox:1.36","imageID":"","started":false,"state":{"waiting":{"reason":"CrashLoopBackOff"}}}]}}`),
			withBody(http.MethodPost, objNS+"/pods", contentTypeJSON, strings.Replace(twoContainerPod, "<name>", "fidelity-ready-pod", 1)),
			withBody(http.MethodPatch, objNS+"/pods/fidelity-ready-pod/status", mergePatch, `{"status":{"phase":"Running",
"containerStatuses":[{"name":"a","ready":true,"restartCount":0,"image":"busybox:1.36","imageID":"","started":true,"state":{"running":{"startedAt":"2026-01-01T00:00:00Z"}}},
{"name":"b","ready":true,"restartCount":0,"image":"busybox:1.36","imageID":"","started":true,"state":{"running":{"startedAt":"2026-01-01T00:00:00Z"}}}]}}`),
			withBody(http.MethodPost, objNS+"/pods", contentTypeJSON, strings.Replace(twoContainerPod, "<name>", "fidelity-failed-pod", 1)),
			withBody(http.MethodPatch, objNS+"/pods/fidelity-failed-pod/status", mergePatch, `{"status":{"phase":"Failed","reason":"Evicted"}}`),
		},
		Request: request{Method: http.MethodGet, Path: objNS + "/pods?labelSelector=fidelity%3Dstatus",
			Header: map[string]string{"Accept": tableAccept}}},
	{Name: "object-table-secrets", Kind: kindObject,
		Setup: []request{objNamespace, withBody(http.MethodPost, objNS+"/secrets", contentTypeJSON,
			`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"fidelity-tabled-secret"},"type":"Opaque","data":{"a":"MQ==","b":"Mg=="}}`)},
		Request: request{Method: http.MethodGet, Path: objNS + "/secrets?fieldSelector=metadata.name%3Dfidelity-tabled-secret",
			Header: map[string]string{"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"}}},
	{Name: "object-table-custom-resources", Kind: kindObject, Setup: crdSetup,
		Request: request{Method: http.MethodGet, Path: "/apis/" + testGroup + "/v1/namespaces/default/widgets?fieldSelector=metadata.name%3Dw1",
			Header: map[string]string{"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"}}},
	{Name: "object-table-services", Kind: kindObject,
		Setup: []request{objNamespace, withBody(http.MethodPost, objNS+"/services", contentTypeJSON,
			`{"apiVersion":"v1","kind":"Service","metadata":{"name":"fidelity-tabled-svc"},"spec":{"selector":{"app":"web"},"ports":[{"port":80}]}}`)},
		Request: request{Method: http.MethodGet, Path: objNS + "/services?fieldSelector=metadata.name%3Dfidelity-tabled-svc",
			Header: map[string]string{"Accept": tableAccept}}},
	{Name: "object-table-service-types", Kind: kindObject,
		Setup: []request{objNamespace,
			withBody(http.MethodPost, objNS+"/services", contentTypeJSON, `{"apiVersion":"v1","kind":"Service","metadata":{"name":"fidelity-svc-external-ips","labels":{"fidelity":"svc"}},
"spec":{"externalIPs":["192.0.2.10","192.0.2.11"],"ports":[{"name":"http","port":80},{"name":"dns","port":53,"protocol":"UDP"}]}}`),
			withBody(http.MethodPost, objNS+"/services", contentTypeJSON, `{"apiVersion":"v1","kind":"Service","metadata":{"name":"fidelity-svc-lb","labels":{"fidelity":"svc"}},
"spec":{"type":"LoadBalancer","allocateLoadBalancerNodePorts":false,"selector":{"app":"web","tier":"front"},"ports":[{"port":443}]}}`),
			withBody(http.MethodPost, objNS+"/services", contentTypeJSON, `{"apiVersion":"v1","kind":"Service","metadata":{"name":"fidelity-svc-name","labels":{"fidelity":"svc"}},
"spec":{"type":"ExternalName","externalName":"example.com"}}`),
		},
		Request: request{Method: http.MethodGet, Path: objNS + "/services?labelSelector=fidelity%3Dsvc",
			Header: map[string]string{"Accept": tableAccept}}},
	{Name: "object-table-serviceaccounts", Kind: kindObject,
		Setup: []request{objNamespace, withBody(http.MethodPost, objNS+"/serviceaccounts", contentTypeJSON,
			`{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"fidelity-tabled-sa"}}`)},
		Request: request{Method: http.MethodGet, Path: objNS + "/serviceaccounts?fieldSelector=metadata.name%3Dfidelity-tabled-sa",
			Header: map[string]string{"Accept": tableAccept}}},
	{Name: "object-table-events", Kind: kindObject,
		Setup: []request{objNamespace, withBody(http.MethodPost, objNS+"/events", contentTypeJSON,
			`{"apiVersion":"v1","kind":"Event","metadata":{"name":"fidelity-tabled-event"},"involvedObject":{"kind":"ConfigMap","name":"x","namespace":"fidelity-objects"},
"reason":"Tested","message":"a test event","type":"Normal","source":{"component":"fidelity"},"count":2,
"firstTimestamp":"2026-01-01T00:00:00Z","lastTimestamp":"2026-01-01T00:00:00Z"}`)},
		Request: request{Method: http.MethodGet, Path: objNS + "/events?fieldSelector=metadata.name%3Dfidelity-tabled-event",
			Header: map[string]string{"Accept": tableAccept}}},
	{Name: "object-table-get-configmap", Kind: kindObject,
		Setup:   []request{objNamespace, withBody(http.MethodPost, objNS+"/configmaps", contentTypeJSON, configMap("fidelity-table-got", ""))},
		Request: request{Method: http.MethodGet, Path: objNS + "/configmaps/fidelity-table-got", Header: map[string]string{"Accept": tableAccept}}},
	{Name: "object-table-include-object", Kind: kindObject,
		Setup: []request{objNamespace, withBody(http.MethodPost, objNS+"/configmaps", contentTypeJSON, labeledConfigMap("fidelity-table-whole", "tablewhole"))},
		Request: request{Method: http.MethodGet, Path: objNS + "/configmaps?labelSelector=tablewhole%3Dme&includeObject=Object",
			Header: map[string]string{"Accept": tableAccept}}},
	{Name: "object-table-roles", Kind: kindObject,
		Setup: []request{objNamespace, withBody(http.MethodPost, "/apis/rbac.authorization.k8s.io/v1/namespaces/fidelity-objects/roles", contentTypeJSON,
			`{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"fidelity-tabled-role"},"rules":[{"apiGroups":[""],"resources":["configmaps"],"verbs":["get"]}]}`)},
		Request: request{Method: http.MethodGet, Path: "/apis/rbac.authorization.k8s.io/v1/namespaces/fidelity-objects/roles?fieldSelector=metadata.name%3Dfidelity-tabled-role",
			Header: map[string]string{"Accept": tableAccept}}},
	{Name: "object-table-crds", Kind: kindObject, Setup: crdSetup,
		Request: request{Method: http.MethodGet, Path: "/apis/apiextensions.k8s.io/v1/customresourcedefinitions?fieldSelector=metadata.name%3D" + fidelityCRDName,
			Header: map[string]string{"Accept": tableAccept}}},
	{Name: "object-create-namespace", Kind: kindObject,
		Request: withBody(http.MethodPost, "/api/v1/namespaces", contentTypeJSON, `{"apiVersion":"v1","kind":"Namespace","metadata":{"generateName":"fidelity-created-ns-"}}`)},
}

// gizmoCRD is the CRD whose create a case dry-runs (in a group of its own,
// in case a real create ever joins it).
const gizmoCRD = `{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
"metadata":{"name":"gizmos.created.fidelity.example.com"},
"spec":{"group":"created.fidelity.example.com","scope":"Namespaced",
"names":{"plural":"gizmos","singular":"gizmo","kind":"Gizmo","listKind":"GizmoList"},
"versions":[{"name":"v1","served":true,"storage":true,
"schema":{"openAPIV3Schema":{"type":"object","properties":{"spec":{"type":"object","properties":{"size":{"type":"integer"}}}}}}}]}}`

// sprocketCRD has a schema with required fields, an enum, bounds, a
// length limit and a pattern; sprocketSetup installs it and waits until
// it is served.
const sprocketCRD = `{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
"metadata":{"name":"sprockets.validated.fidelity.example.com"},
"spec":{"group":"validated.fidelity.example.com","scope":"Namespaced",
"names":{"plural":"sprockets","singular":"sprocket","kind":"Sprocket","listKind":"SprocketList"},
"versions":[{"name":"v1","served":true,"storage":true,
"schema":{"openAPIV3Schema":{"type":"object","required":["spec"],"properties":{"spec":{"type":"object","required":["teeth"],"properties":{
"teeth":{"type":"integer","minimum":3,"maximum":100},
"finish":{"type":"string","enum":["matte","gloss"]},
"code":{"type":"string","maxLength":4,"pattern":"^[A-Z]+$"},
"tags":{"type":"array","maxItems":2,"items":{"type":"string"}}}}}}}}]}}`

var sprocketSetup = []request{
	withBody(http.MethodPost, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", contentTypeJSON, sprocketCRD),
	{Method: http.MethodGet, Path: "/apis/validated.fidelity.example.com/v1/namespaces/default/sprockets", Retry: true},
}

// sprocket creates a Sprocket named name with spec.
func sprocket(name, spec string) request {
	return withBody(http.MethodPost, "/apis/validated.fidelity.example.com/v1/namespaces/default/sprockets", contentTypeJSON,
		`{"apiVersion":"validated.fidelity.example.com/v1","kind":"Sprocket","metadata":{"name":"`+name+`"},"spec":`+spec+`}`)
}

// watchedConfigMap is a ConfigMap in the objects' namespace labelled
// label=me.
func watchedConfigMap(name, label string) request {
	return withBody(http.MethodPost, objNS+"/configmaps", contentTypeJSON, labeledConfigMap(name, label))
}

// changeCases change objects and watch the changes, write successfully
// (their answers show managedFields), page, and fail validation in ways
// the earlier cases do not.
var changeCases = []fcase{
	// A watch from the resourceVersion of a create sees what came after
	// it: a change, then the delete.
	{Name: "watch-modified-deleted", Kind: kindWatch,
		Setup: []request{objNamespace,
			saving(watchedConfigMap("fidelity-watch-mod", "watchmod"), "<rv>", "metadata.resourceVersion"),
			withBody(http.MethodPatch, objNS+"/configmaps/fidelity-watch-mod", mergePatch, `{"data":{"a":"2"}}`),
			{Method: http.MethodDelete, Path: objNS + "/configmaps/fidelity-watch-mod"}},
		Request: get(objNS + "/configmaps?watch=1&labelSelector=watchmod%3Dme&resourceVersion=<rv>&timeoutSeconds=1")},
	// An object whose labels stop matching the selector leaves it: a
	// DELETED event carrying the changed object.
	{Name: "watch-leaves-selector", Kind: kindWatch,
		Setup: []request{objNamespace,
			savingNameAndRV(generatedConfigMap("fidelity-watch-leave-", "watchleave")),
			withBody(http.MethodPatch, objNS+"/configmaps/<name>", mergePatch, `{"metadata":{"labels":{"watchleave":"gone"}}}`)},
		Request: get(objNS + "/configmaps?watch=1&labelSelector=watchleave%3Dme&resourceVersion=<rv>&timeoutSeconds=1")},
	// And one that comes to match it enters it: ADDED.
	{Name: "watch-enters-selector", Kind: kindWatch,
		Setup: []request{objNamespace,
			savingNameAndRV(generatedConfigMap("fidelity-watch-enter-", "watchenter")),
			withBody(http.MethodPatch, objNS+"/configmaps/<name>", mergePatch, `{"metadata":{"labels":{"watchenter":"now"}}}`)},
		Request: get(objNS + "/configmaps?watch=1&labelSelector=watchenter%3Dnow&resourceVersion=<rv>&timeoutSeconds=1")},
	// Successful writes: their answers carry the managedFields.
	{Name: "object-apply-create", Kind: kindObject, Setup: []request{objNamespace, {Method: http.MethodDelete, Path: objNS + "/configmaps/fidelity-applied"}},
		Request: withBody(http.MethodPatch, objNS+"/configmaps/fidelity-applied?fieldManager=fidelity", applyPatch,
			`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"fidelity-applied","labels":{"by":"apply"}},"data":{"a":"1"}}`)},
	// An apply to an object nobody manages (created by an apply that owned
	// no field: a Namespace that names only itself) records the object's
	// fields under before-first-apply, and so writes.
	{Name: "object-apply-before-first-apply", Kind: kindObject,
		Setup: []request{withBody(http.MethodPatch, "/api/v1/namespaces/fidelity-bare?fieldManager=fidelity", applyPatch,
			`{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"fidelity-bare"}}`)},
		Request: withBody(http.MethodPatch, "/api/v1/namespaces/fidelity-bare?fieldManager=fidelity", applyPatch,
			`{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"fidelity-bare"}}`)},
	{Name: "object-apply-shared", Kind: kindObject,
		Setup: []request{objNamespace, withBody(http.MethodPost, objNS+"/configmaps", contentTypeJSON, configMap("fidelity-apply-shared", ""))},
		Request: withBody(http.MethodPatch, objNS+"/configmaps/fidelity-apply-shared?fieldManager=fidelity", applyPatch,
			`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"fidelity-apply-shared","annotations":{"note":"x"}},"data":{"b":"2"}}`)},
	{Name: "object-apply-deployment", Kind: kindObject,
		Setup: []request{objNamespace, {Method: http.MethodDelete, Path: "/apis/apps/v1/namespaces/fidelity-objects/deployments/fidelity-applied-web"}},
		Request: withBody(http.MethodPatch, "/apis/apps/v1/namespaces/fidelity-objects/deployments/fidelity-applied-web?fieldManager=fidelity", applyPatch,
			strings.Replace(deployment, `"generateName":"fidelity-web-"`, `"name":"fidelity-applied-web"`, 1))},
	{Name: "object-merge-patch", Kind: kindObject,
		Setup:   []request{objNamespace, withBody(http.MethodPost, objNS+"/configmaps", contentTypeJSON, configMap("fidelity-merged", ""))},
		Request: withBody(http.MethodPatch, objNS+"/configmaps/fidelity-merged", mergePatch, `{"metadata":{"labels":{"x":"y"}},"data":{"a":null,"b":"2"}}`)},
	{Name: "object-json-patch", Kind: kindObject,
		Setup: []request{objNamespace, withBody(http.MethodPost, objNS+"/configmaps", contentTypeJSON, configMap("fidelity-json-patched", ""))},
		Request: withBody(http.MethodPatch, objNS+"/configmaps/fidelity-json-patched", jsonPatch,
			`[{"op":"add","path":"/data/b","value":"2"},{"op":"replace","path":"/data/a","value":"3"}]`)},
	{Name: "object-strategic-patch-deployment", Kind: kindObject,
		Setup: []request{objNamespace, withBody(http.MethodPost, "/apis/apps/v1/namespaces/fidelity-objects/deployments", contentTypeJSON,
			strings.Replace(deployment, `"generateName":"fidelity-web-"`, `"name":"fidelity-patched-web"`, 1))},
		Request: withBody(http.MethodPatch, "/apis/apps/v1/namespaces/fidelity-objects/deployments/fidelity-patched-web", strategicPatch,
			`{"spec":{"replicas":3,"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.28"},{"name":"sidecar","image":"busybox:1.36"}]}}}}`)},
	{Name: "object-update", Kind: kindObject,
		Setup: []request{objNamespace, savingNameAndRV(generatedConfigMap("fidelity-updated-", "updated"))},
		Request: withBody(http.MethodPut, objNS+"/configmaps/<name>?fieldManager=updater", contentTypeJSON,
			`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"<name>","generateName":"fidelity-updated-","resourceVersion":"<rv>","labels":{"u":"1"}},"data":{"a":"1","c":"3"}}`)},
	{Name: "object-update-scale", Kind: kindObject,
		Setup: []request{objNamespace, withBody(http.MethodPost, "/apis/apps/v1/namespaces/fidelity-objects/deployments", contentTypeJSON,
			strings.Replace(deployment, `"generateName":"fidelity-web-"`, `"name":"fidelity-rescaled"`, 1))},
		Request: withBody(http.MethodPut, "/apis/apps/v1/namespaces/fidelity-objects/deployments/fidelity-rescaled/scale", contentTypeJSON,
			`{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"fidelity-rescaled","namespace":"fidelity-objects"},"spec":{"replicas":4}}`)},
	// A controller's status patch: its own managedFields entry.
	{Name: "object-status-patch", Kind: kindObject,
		Setup: []request{objNamespace, withBody(http.MethodPost, "/apis/apps/v1/namespaces/fidelity-objects/deployments", contentTypeJSON,
			strings.Replace(deployment, `"generateName":"fidelity-web-"`, `"name":"fidelity-status-patched"`, 1))},
		Request: withBody(http.MethodPatch, "/apis/apps/v1/namespaces/fidelity-objects/deployments/fidelity-status-patched/status?fieldManager=controller", mergePatch,
			`{"status":{"replicas":2,"readyReplicas":1,"conditions":[{"type":"Available","status":"False","reason":"MinimumReplicasUnavailable","message":"waiting"}]}}`)},
	// A dry run, so that the case can run again: the answer is the same
	// as a create's, before the CRD is established.
	{Name: "object-create-crd", Kind: kindObject,
		Request: withBody(http.MethodPost, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions?dryRun=All", contentTypeJSON, gizmoCRD)},
	// Paging: the second page, through the first page's continue token.
	{Name: "object-list-second-page", Kind: kindObject,
		Setup: []request{objNamespace,
			watchedConfigMap("fidelity-paged-1", "paged"), watchedConfigMap("fidelity-paged-2", "paged"), watchedConfigMap("fidelity-paged-3", "paged"),
			saving(get(objNS+"/configmaps?labelSelector=paged%3Dme&limit=1"), "<continue>", "metadata.continue")},
		Request: get(objNS + "/configmaps?labelSelector=paged%3Dme&limit=1&continue=<continue>")},
	// Validation the earlier cases miss.
	{Name: "error-configmap-key-slash", Kind: kindStatus, Setup: []request{objNamespace},
		Request: withBody(http.MethodPost, objNS+"/configmaps", contentTypeJSON, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"fidelity-slash"},"data":{"a/b":"1"}}`)},
	{Name: "error-secret-key-invalid", Kind: kindStatus, Setup: []request{objNamespace},
		Request: withBody(http.MethodPost, objNS+"/secrets", contentTypeJSON, `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"fidelity-bad-key"},"data":{"..x":"MQ=="}}`)},
	{Name: "error-scale-wrong-kind", Kind: kindStatus,
		Setup: []request{objNamespace, withBody(http.MethodPost, "/apis/apps/v1/namespaces/fidelity-objects/deployments", contentTypeJSON,
			strings.Replace(deployment, `"generateName":"fidelity-web-"`, `"name":"fidelity-wrong-scale"`, 1))},
		Request: withBody(http.MethodPut, "/apis/apps/v1/namespaces/fidelity-objects/deployments/fidelity-wrong-scale/scale", contentTypeJSON,
			strings.Replace(deployment, `"generateName":"fidelity-web-"`, `"name":"fidelity-wrong-scale"`, 1))},
	{Name: "error-wrong-type-configmap-data", Kind: kindStatus, Setup: []request{objNamespace},
		Request: withBody(http.MethodPost, objNS+"/configmaps", contentTypeJSON, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"fidelity-typed"},"data":{"a":1}}`)},
	{Name: "error-wrong-type-merge-patch", Kind: kindStatus,
		Setup:   []request{objNamespace, withBody(http.MethodPost, objNS+"/configmaps", contentTypeJSON, configMap("fidelity-typed-patch", ""))},
		Request: withBody(http.MethodPatch, objNS+"/configmaps/fidelity-typed-patch", mergePatch, `{"data":{"a":1}}`)},
	{Name: "error-wrong-type-update", Kind: kindStatus,
		Setup: []request{objNamespace, withBody(http.MethodPost, objNS+"/configmaps", contentTypeJSON, configMap("fidelity-typed-put", ""))},
		Request: withBody(http.MethodPut, objNS+"/configmaps/fidelity-typed-put", contentTypeJSON,
			`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"fidelity-typed-put"},"data":{"a":true}}`)},
	{Name: "error-wrong-type-apply", Kind: kindStatus, Setup: []request{objNamespace},
		Request: withBody(http.MethodPatch, objNS+"/configmaps/fidelity-typed-apply?fieldManager=fidelity", applyPatch,
			`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"fidelity-typed-apply"},"data":{"a":1}}`)},
	{Name: "error-wrong-type-deployment-replicas", Kind: kindStatus, Setup: []request{objNamespace},
		Request: withBody(http.MethodPost, "/apis/apps/v1/namespaces/fidelity-objects/deployments", contentTypeJSON,
			strings.Replace(deployment, `"replicas":2`, `"replicas":"two"`, 1))},
	{Name: "error-crd-schema-violation", Kind: kindStatus, Setup: crdSetup,
		Request: withBody(http.MethodPost, "/apis/"+testGroup+"/v1/namespaces/default/widgets", contentTypeJSON,
			`{"apiVersion":"`+fidelityCRDGroupVersion+`","kind":"Widget","metadata":{"name":"w-invalid"},"spec":{"size":"big"}}`)},
	{Name: "error-deployment-negative-replicas", Kind: kindStatus, Setup: []request{objNamespace},
		Request: withBody(http.MethodPost, "/apis/apps/v1/namespaces/fidelity-objects/deployments", contentTypeJSON,
			strings.Replace(strings.Replace(deployment, `"replicas":2`, `"replicas":-1`, 1), `"generateName":"fidelity-web-"`, `"name":"fidelity-negative"`, 1))},
	{Name: "error-pod-duplicate-container", Kind: kindStatus, Setup: []request{objNamespace},
		Request: withBody(http.MethodPost, objNS+"/pods", contentTypeJSON,
			`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"fidelity-dup-containers"},"spec":{"containers":[{"name":"c","image":"busybox:1.36"},{"name":"c","image":"busybox:1.36"}]}}`)},
	{Name: "error-service-port-range", Kind: kindStatus, Setup: []request{objNamespace},
		Request: withBody(http.MethodPost, objNS+"/services", contentTypeJSON,
			`{"apiVersion":"v1","kind":"Service","metadata":{"name":"fidelity-bad-port"},"spec":{"ports":[{"port":70000}]}}`)},
	{Name: "error-annotation-key", Kind: kindStatus, Setup: []request{objNamespace},
		Request: withBody(http.MethodPost, objNS+"/configmaps", contentTypeJSON,
			`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"fidelity-bad-annotation","annotations":{"a b":"1"}}}`)},
	{Name: "error-label-value", Kind: kindStatus, Setup: []request{objNamespace},
		Request: withBody(http.MethodPost, objNS+"/configmaps", contentTypeJSON,
			`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"fidelity-bad-label","labels":{"app":"a b"}}}`)},
	{Name: "error-immutable-secret-type", Kind: kindStatus,
		Setup: []request{objNamespace, withBody(http.MethodPost, objNS+"/secrets", contentTypeJSON,
			`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"fidelity-secret-type"},"type":"Opaque","data":{"a":"MQ=="}}`)},
		Request: withBody(http.MethodPatch, objNS+"/secrets/fidelity-secret-type", mergePatch, `{"type":"example.com/other"}`)},
	{Name: "error-pod-spec-immutable", Kind: kindStatus,
		Setup: []request{objNamespace, withBody(http.MethodPost, objNS+"/pods", contentTypeJSON,
			strings.Replace(pod, `"generateName":"fidelity-pod-"`, `"name":"fidelity-immutable-pod"`, 1))},
		Request: withBody(http.MethodPatch, objNS+"/pods/fidelity-immutable-pod", mergePatch, `{"spec":{"restartPolicy":"Never"}}`)},
	{Name: "object-pod-put-image", Kind: kindObject,
		Setup: []request{objNamespace, savingNameAndRV(withBody(http.MethodPost, objNS+"/pods", contentTypeJSON,
			strings.Replace(pod, `"generateName":"fidelity-pod-"`, `"generateName":"fidelity-put-pod-"`, 1)))},
		// A PUT of the manifest with a new image: what admission added on
		// create (priority, tolerations) is left out.
		Request: withBody(http.MethodPut, objNS+"/pods/<name>", contentTypeJSON,
			`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"<name>","generateName":"fidelity-put-pod-","resourceVersion":"<rv>"},"spec":{"containers":[{"name":"c","image":"busybox:1.37","command":["sleep","3600"]}]}}`)},
	{Name: "object-pod-image-update", Kind: kindObject,
		Setup: []request{objNamespace, withBody(http.MethodPost, objNS+"/pods", contentTypeJSON,
			strings.Replace(pod, `"generateName":"fidelity-pod-"`, `"name":"fidelity-reimaged-pod"`, 1))},
		Request: withBody(http.MethodPatch, objNS+"/pods/fidelity-reimaged-pod", strategicPatch,
			`{"spec":{"containers":[{"name":"c","image":"busybox:1.37"}],"activeDeadlineSeconds":600}}`)},
	{Name: "error-service-type-unsupported", Kind: kindStatus, Setup: []request{objNamespace},
		Request: withBody(http.MethodPost, objNS+"/services", contentTypeJSON,
			`{"apiVersion":"v1","kind":"Service","metadata":{"name":"fidelity-bad-type"},"spec":{"type":"Bogus","ports":[{"port":80}]}}`)},
	{Name: "error-pod-enums", Kind: kindStatus, Setup: []request{objNamespace},
		Request: withBody(http.MethodPost, objNS+"/pods", contentTypeJSON,
			`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"fidelity-bad-enums"},"spec":{"restartPolicy":"Sometimes","containers":[{"name":"c","image":"busybox:1.36","imagePullPolicy":"Whenever"}]}}`)},
	{Name: "error-deployment-recreate-rolling", Kind: kindStatus, Setup: []request{objNamespace},
		Request: withBody(http.MethodPost, "/apis/apps/v1/namespaces/fidelity-objects/deployments", contentTypeJSON,
			strings.Replace(strings.Replace(deployment, `"replicas":2,`, `"replicas":2,"strategy":{"type":"Recreate","rollingUpdate":{"maxSurge":1}},`, 1),
				`"generateName":"fidelity-web-"`, `"name":"fidelity-recreate"`, 1))},
	{Name: "error-crd-schema-required", Kind: kindStatus, Setup: sprocketSetup,
		Request: sprocket("fidelity-no-teeth", `{"finish":"matte"}`)},
	{Name: "error-crd-schema-enum", Kind: kindStatus, Setup: sprocketSetup,
		Request: sprocket("fidelity-shiny", `{"teeth":10,"finish":"shiny"}`)},
	{Name: "error-crd-schema-bounds", Kind: kindStatus, Setup: sprocketSetup,
		Request: sprocket("fidelity-bounds", `{"teeth":2}`)},
	{Name: "error-crd-schema-maximum", Kind: kindStatus, Setup: sprocketSetup,
		Request: sprocket("fidelity-maximum", `{"teeth":101}`)},
	{Name: "error-crd-schema-string", Kind: kindStatus, Setup: sprocketSetup,
		Request: sprocket("fidelity-code", `{"teeth":10,"code":"abcdef"}`)},
	{Name: "error-crd-schema-pattern", Kind: kindStatus, Setup: sprocketSetup,
		Request: sprocket("fidelity-pattern", `{"teeth":10,"code":"ab"}`)},
	{Name: "error-crd-schema-items", Kind: kindStatus, Setup: sprocketSetup,
		Request: sprocket("fidelity-tags", `{"teeth":10,"tags":["a","b","c"]}`)},
	{Name: "error-immutable-configmap", Kind: kindStatus,
		Setup:   []request{objNamespace, withBody(http.MethodPost, objNS+"/configmaps", contentTypeJSON, configMap("fidelity-immutable", `,"immutable":true`))},
		Request: withBody(http.MethodPatch, objNS+"/configmaps/fidelity-immutable", mergePatch, `{"data":{"a":"2"}}`)},
	{Name: "error-immutable-deployment-selector", Kind: kindStatus,
		Setup: []request{objNamespace, withBody(http.MethodPost, "/apis/apps/v1/namespaces/fidelity-objects/deployments", contentTypeJSON,
			strings.Replace(deployment, `"generateName":"fidelity-web-"`, `"name":"fidelity-reselected"`, 1))},
		Request: withBody(http.MethodPatch, "/apis/apps/v1/namespaces/fidelity-objects/deployments/fidelity-reselected", mergePatch,
			`{"spec":{"selector":{"matchLabels":{"app":"other"}},"template":{"metadata":{"labels":{"app":"other"}}}}}`)},
}

func allCases() []fcase {
	return slices.Concat(discoveryCases, errorCases, objectCases, changeCases)
}
