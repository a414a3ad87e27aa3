package fidelity

import (
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
)

// knownDifference is a way in which internal/testserver is known to answer
// differently from the real server. TestFidelity tolerates it and fails
// when it no longer occurs, so the entry goes once the test server is
// fixed.
type knownDifference struct {
	// Case is the case name (testdata/<Case>.json); "*" matches any run of
	// characters.
	Case string
	// Key is a diff key; "*" matches any run of characters.
	Key string
	// Reason says why the difference is tolerated for now.
	Reason string
	// Detail, when set, must equal the diff's detail.
	Detail string
}

// glob reports whether s matches pattern, in which "*" matches any run of
// characters and everything else matches itself.
func glob(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return s == pattern
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return len(s) >= len(last) && strings.HasSuffix(s, last)
}

func (k knownDifference) matches(c string, d diff) bool {
	return glob(k.Case, c) && glob(k.Key, d.Key) && (k.Detail == "" || k.Detail == d.Detail)
}

// knownDifferences are the differences TestFidelity tolerates.
var knownDifferences = slices.Concat(knownOther, knownSchemas)

var knownOther = []knownDifference{
	// Legacy discovery.
	{"api-legacy", "etag", etagReason, ""},
	{"apis-legacy", "etag", etagReason, ""},
	{"api-v1", "etag", etagReason, ""},
	{"apis-apps-v1", "etag", etagReason, ""},
	{"apis-apps", "etag", etagReason, ""},
	{"apis-rbac-v1", "etag", etagReason, ""},
	{"apis-apiextensions-v1", "etag", etagReason, ""},
	{"api-v1", "resource missing: serviceaccounts/token", tokenReason, ""},
	{"api-v1", "resource namespaces: verbs", namespaceVerbsReason, ""},

	// Aggregated discovery.
	{"api-aggregated", "group core v1 resource serviceaccounts subresource missing: token", tokenReason, ""},
	{"api-aggregated", "group core v1 resource namespaces: verbs", namespaceVerbsReason, ""},
	{"api-aggregated", "responseKind form", responseKindReason, ""},
	{"apis-aggregated", "responseKind form", responseKindReason, ""},

	// OpenAPI v3.
	{"openapi-v3-index", "content-type", "the real server answers /openapi/v3 with Content-Type text/plain; charset=utf-8 (the body is JSON); testserver says application/json", ""},
	{"openapi-v3-api-v1", "key missing: $.path./api/v1/namespaces/{namespace}/configmaps/{name}.*", openAPIPathReason, ""},
	{"openapi-v3-apis-apps-v1*", "key missing: $.path./apis/apps/v1/namespaces/{namespace}/deployments/{name}.*", openAPIPathReason, ""},

	{"openapi-v3-api-v1-revalidate", "status", "testserver ignores If-None-Match on /openapi/v3/<group-version> and answers 200 with the document; the real server answers 304 (it sends the same ETag)", ""},
	{"openapi-v3-api-v1-revalidate", "content-type", "follows from the status entry (a 304 has no Content-Type)", ""},

	// Headers.
	{"*", "cache-control", "the real server sends Cache-Control: no-cache, private on every answer but aggregated discovery and hashed OpenAPI documents; testserver sends none", `real "no-cache, private", testserver ""`},
	{"*aggregated*", "cache-control", "the real server sends Cache-Control: public with aggregated discovery (also on its 304); testserver sends none", `real "public", testserver ""`},

	// Error Statuses.
	{"error-namespaced-without-namespace", "status", "POST to the all-namespaces path of a namespaced resource (/api/v1/configmaps): the real server answers 405 MethodNotAllowed (that path serves only list and watch), testserver 404", ""},
	{"error-unknown-group", "content-type", "for a path under a group the server does not serve, the real server answers 404 with text/plain \"404 page not found\", not a Status; testserver answers a JSON Status", ""},
	{"error-bad-continue", "value: message", `real: "invalid continue token: continue key is not valid: invalid character ..."; testserver: "continue key is not valid: unmarshal: invalid character ..."`, ""},
	{"error-strict-unknown-field", "value: message", `real: "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: unknown field \"bogus\""; testserver drops the prefix before "strict decoding error"`, ""},
	{"error-bad-label-selector", "value: message", `for labelSelector "a b c" real says "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"; testserver says "unable to parse requirement: invalid label key \"a b c\" in selector \"a b c\""`, ""},
	{"error-malformed-json", "value: message", `real: "the object provided is unrecognized (must be of type ConfigMap): couldn't get version/kind; json parse error: unexpected end of JSON input (<first bytes> ...)"; testserver: "the body of the request could not be decoded: unexpected EOF"`, ""},
	{"error-apply-conflict", "value: message", applyConflictReason, ""},
	{"error-apply-conflict", "value: details.causes (message)", applyConflictReason, ""},
	{"error-strategic-patch-custom-resource", "key extra: $.details", "testserver's 415 Status carries an empty details object; the real server's has no details", ""},
}

var knownSchemas = slices.Concat(
	schemaKeys("openapi-v3-api-v1", "io.k8s.api.core.v1.ConfigMap", "missing", openAPISchemaReason,
		"description",
		"properties.binaryData.additionalProperties", "properties.binaryData.description", "properties.binaryData.type",
		"properties.data.additionalProperties", "properties.data.description", "properties.data.type",
		"properties.immutable.description", "properties.immutable.type",
		"properties.metadata.description"),
	schemaKeys("openapi-v3-apis-apps-v1*", "io.k8s.api.apps.v1.Deployment", "missing", openAPISchemaReason,
		"description", "required", "properties.metadata.description",
		"properties.spec.allOf", "properties.spec.default", "properties.spec.description",
		"properties.status.allOf", "properties.status.default", "properties.status.description"),
	schemaKeys("openapi-v3-apis-apps-v1*", "io.k8s.api.apps.v1.Deployment", "extra",
		"testserver inlines spec as an object listing its field names; the real server refers to io.k8s.api.apps.v1.DeploymentSpec through allOf/$ref with default {}",
		"properties.spec.properties", "properties.spec.type"),
)

// schemaKeys lists the known differences of one OpenAPI schema: keys
// (relative to the schema) that testserver lacks ("missing") or adds
// ("extra").
func schemaKeys(c, schema, which, reason string, keys ...string) []knownDifference {
	var out []knownDifference
	for _, k := range keys {
		out = append(out, knownDifference{Case: c, Key: "key " + which + ": $.schema." + schema + "." + k, Reason: reason})
	}
	return out
}

const (
	applyConflictReason  = `the real server omits "using v1" when the conflicting manager applied the same version as the request (conflict with \"first\": .data.a); testserver always adds it (conflict with \"first\" using v1: .data.a)`
	etagReason           = "testserver sends an ETag on legacy discovery documents; the real server sends one only with aggregated discovery"
	tokenReason          = "testserver does not serve the serviceaccounts/token subresource (TokenRequest)"
	namespaceVerbsReason = "testserver lists deletecollection among the verbs of namespaces; the real server does not serve DeleteCollection for namespaces"
	responseKindReason   = "the real server leaves responseKind.group and .version empty when they are the enclosing group-version; testserver writes them out (the resolved kinds agree)"
	openAPIPathReason    = "testserver's path items have only a get operation with a JSON 200 response: no put, patch, delete, parameters, tags, descriptions, 401, or YAML and protobuf responses"
	openAPISchemaReason  = "testserver's built-in schemas have no descriptions, no required list, and leave field types open (no type, additionalProperties or $ref for spec and status)"
)

// TestFidelity sends every captured request to a fresh test server and
// compares its answer with the real server's capture.
func TestFidelity(t *testing.T) {
	t.Parallel()
	var (
		mu   sync.Mutex
		used = make([]bool, len(knownDifferences))
		ran  = map[string]bool{}
	)
	t.Run("cases", func(t *testing.T) {
		for _, c := range allCases() {
			t.Run(c.Name, func(t *testing.T) {
				t.Parallel()
				want := readGolden(t, c)
				got := run(t, testTarget(t), c)
				mu.Lock()
				defer mu.Unlock()
				ran[c.Name] = true
				for _, d := range compare(c, want, got) {
					known := false
					for i, k := range knownDifferences {
						if k.matches(c.Name, d) {
							used[i], known = true, true
						}
					}
					if !known {
						t.Errorf("%s: %s: %s", c.Name, d.Key, d.Detail)
					}
				}
			})
		}
	})
	if len(ran) < len(allCases()) {
		return // a -run filter left cases out, or a case failed early
	}
	for i, k := range knownDifferences {
		assert.True(t, used[i], "known difference %q of %s no longer occurs: remove it from knownDifferences", k.Key, k.Case)
	}
}
