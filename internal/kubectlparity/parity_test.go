package kubectlparity

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8sdiscovery "k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"github.com/kubedyn/kubedyn/discovery"
	"github.com/kubedyn/kubedyn/transport"
)

const aggregatedType = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

// crdGroup is an aggregated discovery entry for a group serving one
// namespaced resource at v1.
func crdGroup(group, plural, singular, kind string, shortNames ...string) map[string]any {
	if shortNames == nil {
		shortNames = []string{}
	}
	return map[string]any{
		"metadata": map[string]any{"name": group},
		"versions": []any{map[string]any{
			"version": "v1", "freshness": "Current",
			"resources": []any{map[string]any{
				"resource": plural, "singularResource": singular, "scope": "Namespaced",
				"responseKind": map[string]any{"group": group, "version": "v1", "kind": kind},
				"shortNames":   shortNames, "verbs": []string{"get", "list"},
			}},
		}},
	}
}

// serve answers /api and /apis with a real kube-apiserver's aggregated
// discovery documents plus CRD groups made to collide.
func serve(t *testing.T) *httptest.Server {
	t.Helper()
	dir := filepath.Join("..", "..", "discovery", "testdata", "real", "aggregated")
	api, err := os.ReadFile(filepath.Join(dir, "api.json"))
	require.NoError(t, err)
	raw, err := os.ReadFile(filepath.Join(dir, "apis.json"))
	require.NoError(t, err)
	var apis map[string]any
	require.NoError(t, json.Unmarshal(raw, &apis))
	items := apis["items"].([]any)
	for _, g := range []map[string]any{
		crdGroup("gateway.networking.k8s.io", "gateways", "gateway", "Gateway", "gtw"),
		crdGroup("gateway.example.net", "gateways", "gateway", "Gateway", "gtw"),
		crdGroup("blobs.example.com", "blobs", "blobby", "Blob"),
		crdGroup("things.example.com", "things", "thing", "Thing", "blob"),
		crdGroup("apps.example.com", "deployments", "deployment", "Deployment", "deploy"),
		crdGroup("stable.example.com", "crontabs", "crontab", "CronTab", "ct"),
		crdGroup("batch.example.org", "crontabs", "crontab", "CronTab", "ct"),
		crdGroup("snapshot.storage.k8s.io", "volumesnapshots", "volumesnapshot", "VolumeSnapshot", "vs"),
		crdGroup("monitoring.example.io", "podmonitors", "podmonitor", "PodMonitor", "pmon"),
		crdGroup("mon.example.io", "events", "event", "Event", "ev"),
	} {
		items = append(items, g)
	}
	apis["items"] = items
	apisBody, err := json.Marshal(apis)
	require.NoError(t, err)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body []byte
		switch r.URL.Path {
		case "/api":
			body = api
		case "/apis":
			body = apisBody
		default:
			http.NotFound(w, r)
			return
		}
		if !strings.Contains(r.Header.Get("Accept"), "as=APIGroupDiscoveryList") {
			http.Error(w, "aggregated only", http.StatusNotAcceptable)
			return
		}
		w.Header().Set("Content-Type", aggregatedType)
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// kubectl resolves arg as kubectl's resource builder does (mappingFor in
// k8s.io/cli-runtime), over client-go's deferred discovery mapper and
// shortcut expander, as kubectl builds them.
type kubectl struct{ mapper meta.RESTMapper }

func newKubectl(t *testing.T, srv *httptest.Server) kubectl {
	t.Helper()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	dc, err := k8sdiscovery.NewDiscoveryClientForConfig(&rest.Config{Host: srv.URL, TLSClientConfig: rest.TLSClientConfig{CAData: ca}})
	require.NoError(t, err)
	cached := memory.NewMemCacheClient(dc)
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(cached)
	return kubectl{mapper: restmapper.NewShortcutExpander(mapper, cached, func(string) {})}
}

func (k kubectl) mappingFor(arg string) (schema.GroupVersionResource, error) {
	fullySpecifiedGVR, groupResource := schema.ParseResourceArg(arg)
	gvk := schema.GroupVersionKind{}
	if fullySpecifiedGVR != nil {
		gvk, _ = k.mapper.KindFor(*fullySpecifiedGVR)
	}
	if gvk.Empty() {
		gvk, _ = k.mapper.KindFor(groupResource.WithVersion(""))
	}
	if !gvk.Empty() {
		m, err := k.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			return schema.GroupVersionResource{}, err
		}
		return m.Resource, nil
	}
	fullySpecifiedGVK, groupKind := schema.ParseKindArg(arg)
	if fullySpecifiedGVK == nil {
		gvk := groupKind.WithVersion("")
		fullySpecifiedGVK = &gvk
	}
	if !fullySpecifiedGVK.Empty() {
		if m, err := k.mapper.RESTMapping(fullySpecifiedGVK.GroupKind(), fullySpecifiedGVK.Version); err == nil {
			return m.Resource, nil
		}
	}
	m, err := k.mapper.RESTMapping(groupKind, gvk.Version)
	if err != nil {
		return schema.GroupVersionResource{}, err
	}
	return m.Resource, nil
}

// forms returns the names worth typing for every served resource: each
// name (plural, singular, kind, short names) alone, with kubectl's trailing
// dot, qualified by group, by group prefixes, by version and group, by
// version and an empty group, and by version alone.
func forms(rs []discovery.APIResource) []string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, r := range rs {
		names := append([]string{r.Resource, r.SingularName, r.Kind, strings.ToLower(r.Kind)}, r.ShortNames...)
		for _, n := range names {
			if n == "" {
				continue
			}
			add(n)
			add(n + ".")
			add(n + "." + r.Version + ".")
			add(n + "." + r.Version)
			if r.Group == "" {
				continue
			}
			add(n + "." + r.Group)
			add(n + "." + r.Version + "." + r.Group)
			for _, k := range []int{1, 2, 3, len(r.Group) / 2, len(r.Group) - 1} {
				if k > 0 && k < len(r.Group) {
					add(n + "." + r.Group[:k])
				}
			}
			if first, _, ok := strings.Cut(r.Group, "."); ok {
				add(n + "." + first)
				add(n + "." + first + ".")
			}
		}
	}
	sort.Strings(out)
	return out
}

// kubectlRuns is how many freshly built kubectl mappers answer each form:
// client-go's mapper is not deterministic where short names collide (its
// shortcut list and mapper indexes come from maps), so one answer is not
// enough to know what kubectl does.
const kubectlRuns = 8

// Every form resolves the way kubectl resolves it, except where
// docs/architecture.md says we differ and why.
func TestNamesResolveLikeKubectl(t *testing.T) {
	srv := serve(t)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	tc, err := transport.New(&transport.Config{Host: srv.URL, TLS: transport.TLSConfig{CAData: ca}})
	require.NoError(t, err)
	d := discovery.New(tc, &discovery.Options{TTL: time.Hour})
	ctx := context.Background()
	rs, err := d.Resources(ctx)
	require.NoError(t, err)
	all := forms(rs)

	// What kubectl answers for each form, over several runs.
	answers := make(map[string]map[string]bool, len(all))
	for range kubectlRuns {
		k := newKubectl(t, srv)
		for _, form := range all {
			if answers[form] == nil {
				answers[form] = map[string]bool{}
			}
			gvr, err := k.mappingFor(form)
			if err != nil {
				answers[form]["error"] = true
			} else {
				answers[form][gvr.Resource+"."+gvr.Version+"."+gvr.Group] = true
			}
		}
	}

	counts := map[string]int{}
	var unexplained []string
	for _, form := range all {
		got, err := d.ResourceFor(ctx, form)
		ours := "error"
		switch {
		case err == nil:
			ours = got.Resource + "." + got.Version + "." + got.Group
		case errors.Is(err, discovery.ErrAmbiguousResource):
			ours = "ambiguous"
		}
		kset := answers[form]
		var kubectl string
		for a := range kset {
			kubectl = a
		}
		first, _, _ := strings.Cut(form, ".")
		exactName := err == nil && (first == got.Resource || first == got.SingularName || slices.Contains(got.ShortNames, first))
		var ae *discovery.AmbiguousError
		switch {
		case len(kset) == 1 && kubectl == ours:
			counts["the same answer (a resource, or unknown to both)"]++
		case len(kset) == 1 && kubectl != "error" && errors.As(err, &ae) && containsGVR(ae.Candidates, kubectl):
			counts["kubectl takes the first group, we list the candidates"]++
		case len(kset) > 1:
			counts["kubectl's answer varies from run to run (a short name several groups share)"]++
		case kubectl == "error" && err == nil && got.Group == "" && strings.HasSuffix(form, "."+got.Version):
			counts["core name.version, which kubectl reads as a group prefix and fails"]++
		case kubectl == "error" && err == nil && !exactName:
			counts["kubectl fails: it matches kinds by exact case and group, short names by exact case"]++
		case kubectl != "error" && strings.Count(form, ".") >= 2 && isShortName(rs, first):
			counts["kubectl's shortcut expander drops the version given with a short name"]++
		default:
			unexplained = append(unexplained, fmt.Sprintf("%-40s kubectl: %v   kubedyn: %s", form, keys(kset), describeOurs(got, err)))
		}
	}
	classes := make([]string, 0, len(counts))
	for class := range counts {
		classes = append(classes, class)
	}
	sort.Strings(classes)
	for _, class := range classes {
		t.Logf("%5d %s", counts[class], class)
	}
	t.Logf("%5d forms compared, %d unexplained", len(all), len(unexplained))
	assert.Empty(t, unexplained, "differences not documented:\n%s", strings.Join(unexplained, "\n"))
}

func isShortName(rs []discovery.APIResource, name string) bool {
	for _, r := range rs {
		if slices.Contains(r.ShortNames, name) {
			return true
		}
	}
	return false
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// containsGVR reports whether one of rs is the resource "plural.version.group"
// names, in any version.
func containsGVR(rs []discovery.APIResource, gvr string) bool {
	for _, r := range rs {
		if gvr == r.Resource+"."+r.Version+"."+r.Group {
			return true
		}
	}
	return false
}

func describeOurs(r discovery.APIResource, err error) string {
	if err != nil {
		msg := err.Error()
		if len(msg) > 80 {
			msg = msg[:80] + "..."
		}
		return "error " + msg
	}
	return r.QualifiedName()
}
