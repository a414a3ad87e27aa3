package discovery_test

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/tidwall/gjson"

	"github.com/kubedyn/kubedyn/discovery"
	"github.com/kubedyn/kubedyn/internal/testserver"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

// Discovery against the in-process test server: built-in kinds by any of
// their names, then a custom resource whose definition is created while the
// program runs.
func Example() {
	tc, stop := startTestServer()
	defer stop()
	dc := discovery.New(tc, nil)
	ctx := context.Background()

	for _, name := range []string{"deploy", "Pod", "cm", "namespaces"} {
		r, err := dc.ResourceFor(ctx, name)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%-10s -> %-20s namespaced=%t\n", name, r.GroupVersionResource(), r.Namespaced)
	}

	// A CRD created now: the next lookup misses, refreshes once and finds it.
	crd := `{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
	 "metadata":{"name":"gadgets.example.com"},
	 "spec":{"group":"example.com","scope":"Namespaced",
	  "names":{"plural":"gadgets","singular":"gadget","kind":"Gadget","shortNames":["gd"]},
	  "versions":[{"name":"v1","served":true,"storage":true,
	   "schema":{"openAPIV3Schema":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}]}}`
	_, err := tc.Do(ctx, &transport.Request{
		Method: http.MethodPost,
		Path:   "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
		Header: http.Header{"Content-Type": {"application/json"}},
		Body:   []byte(crd),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	r, err := dc.ResourceFor(ctx, "gd")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%-10s -> %-20s kind=%s\n", "gd", r.GroupVersionResource(), r.Kind)
	// Output:
	// deploy     -> deployments.v1.apps  namespaced=true
	// Pod        -> pods.v1              namespaced=true
	// cm         -> configmaps.v1        namespaced=true
	// namespaces -> namespaces.v1        namespaced=false
	// gd         -> gadgets.v1.example.com kind=Gadget
}

// startTestServer starts the in-process test server and returns a transport
// client for it and the function that stops it.
func startTestServer() (*transport.Client, func()) {
	srv, err := testserver.Start()
	if err != nil {
		panic(err)
	}
	tc, err := transport.New(&transport.Config{Host: srv.URL(), TLS: transport.TLSConfig{CAData: srv.CAPEM()}, BearerToken: srv.Token()})
	if err != nil {
		srv.Close()
		panic(err)
	}
	return tc, srv.Close
}

// serveTestdata starts a TLS server answering /api and /apis with the
// aggregated documents in testdata/aggregated, and returns a transport
// client for it.
func serveTestdata() (*transport.Client, func()) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := os.ReadFile(filepath.Join("testdata", "aggregated", filepath.Clean(r.URL.Path)+".json"))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList")
		_, _ = w.Write(body)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	tc, err := transport.New(&transport.Config{Host: srv.URL, TLS: transport.TLSConfig{CAData: ca}})
	if err != nil {
		panic(err)
	}
	return tc, srv.Close
}

func ExampleClient_ResourceFor() {
	tc, stop := serveTestdata()
	defer stop()
	dc := discovery.New(tc, nil)
	ctx := context.Background()

	for _, name := range []string{"deploy", "Pod", "events", "hpa", "ingresses.extensions", "ct.stable.example.com",
		"deployments.ap", "hpa.autosc", "deploy.", "hpa.v1."} {
		r, err := dc.ResourceFor(ctx, name)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%-22s %-45s kind=%s namespaced=%t\n", name, r.GroupVersionResource(), r.Kind, r.Namespaced)
	}

	_, err := dc.ResourceFor(ctx, "crontabs")
	fmt.Println(errors.Is(err, discovery.ErrAmbiguousResource), err)
	_, err = dc.ResourceFor(ctx, "deploymnets")
	fmt.Println(errors.Is(err, discovery.ErrUnknownResource), err)
	// Output:
	// deploy                 deployments.v1.apps                           kind=Deployment namespaced=true
	// Pod                    pods.v1                                       kind=Pod namespaced=true
	// events                 events.v1                                     kind=Event namespaced=true
	// hpa                    horizontalpodautoscalers.v2.autoscaling       kind=HorizontalPodAutoscaler namespaced=true
	// ingresses.extensions   ingresses.v1beta1.extensions                  kind=Ingress namespaced=true
	// ct.stable.example.com  crontabs.v1.stable.example.com                kind=CronTab namespaced=true
	// deployments.ap         deployments.v1.apps                           kind=Deployment namespaced=true
	// hpa.autosc             horizontalpodautoscalers.v2.autoscaling       kind=HorizontalPodAutoscaler namespaced=true
	// deploy.                deployments.v1.apps                           kind=Deployment namespaced=true
	// hpa.v1.                horizontalpodautoscalers.v1.autoscaling       kind=HorizontalPodAutoscaler namespaced=true
	// true discovery: "crontabs" is ambiguous: it matches crontabs.v1.stable.example.com (kind CronTab), crontabs.v1.batch.example.org (kind CronTab); use one of these names
	// true discovery: no resource named "deploymnets" is served; did you mean "deployments"?
}

func ExampleClient_ResourceForKind() {
	tc, stop := serveTestdata()
	defer stop()
	dc := discovery.New(tc, nil)

	r, err := dc.ResourceForKind(context.Background(), "apps/v1", "Deployment")
	if err != nil {
		fmt.Println(err)
		return
	}
	scale, _ := r.Subresource("scale")
	fmt.Println(r.Resource, r.Namespaced, r.Preferred)
	fmt.Println("scale:", scale.Kind, scale.Verbs)

	// An unknown kind comes with a hint.
	_, err = dc.ResourceForKind(context.Background(), "apps/v1", "deployment")
	var ue *discovery.UnknownError
	if errors.As(err, &ue) {
		fmt.Println(ue.Hint)
	}
	// Output:
	// deployments true true
	// scale: autoscaling/v1, Kind=Scale [get patch update]
	// did you mean kind "Deployment"? Kinds are case-sensitive
}

func ExampleIsBuiltinGroup() {
	for _, g := range []string{"", "apps", "networking.k8s.io", "gateway.networking.k8s.io", "stable.example.com"} {
		fmt.Printf("%q %t\n", g, discovery.IsBuiltinGroup(g))
	}
	// Output:
	// "" true
	// "apps" true
	// "networking.k8s.io" true
	// "gateway.networking.k8s.io" false
	// "stable.example.com" false
}

// A group whose aggregated API service is down does not break discovery:
// Resources answers with everything else and a *PartialError naming what
// is missing.
func ExamplePartialError() {
	const apis = `{"kind":"APIGroupDiscoveryList","apiVersion":"apidiscovery.k8s.io/v2","items":[
	 {"metadata":{"name":"apps"},"versions":[{"version":"v1","freshness":"Current","resources":[
	  {"resource":"deployments","responseKind":{"group":"apps","version":"v1","kind":"Deployment"},"scope":"Namespaced","verbs":["get","list"]}]}]},
	 {"metadata":{"name":"metrics.k8s.io"},"versions":[{"version":"v1beta1","freshness":"Stale"}]}]}`
	const api = `{"kind":"APIGroupDiscoveryList","apiVersion":"apidiscovery.k8s.io/v2","items":[
	 {"metadata":{"name":""},"versions":[{"version":"v1","freshness":"Current","resources":[
	  {"resource":"pods","responseKind":{"group":"","version":"v1","kind":"Pod"},"scope":"Namespaced","verbs":["get","list"]}]}]}]}`
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList")
		switch r.URL.Path {
		case "/api":
			_, _ = io.WriteString(w, api)
		case "/apis":
			_, _ = io.WriteString(w, apis)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	tc, err := transport.New(&transport.Config{Host: srv.URL, TLS: transport.TLSConfig{CAData: ca}})
	if err != nil {
		fmt.Println(err)
		return
	}

	rs, err := discovery.New(tc, nil).Resources(context.Background())
	for _, r := range rs {
		fmt.Println("found:", r.GroupVersionResource())
	}
	var pe *discovery.PartialError
	if errors.As(err, &pe) {
		fmt.Println("missing:", pe.GroupVersions(), errors.Is(err, discovery.ErrStale))
	}
	// Output:
	// found: pods.v1
	// found: deployments.v1.apps
	// missing: [metrics.k8s.io/v1beta1] true
}

// The schema of one kind, from the server's OpenAPI v3 document of its
// group version.
func ExampleClient_OpenAPIV3Schema() {
	tc, stop := startTestServer()
	defer stop()
	dc := discovery.New(tc, nil)

	gvk := unstructured.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}
	name, schema, err := dc.OpenAPIV3Schema(context.Background(), gvk)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(name)
	fmt.Println(gjson.GetBytes(schema, "properties.spec.allOf.0.$ref"))
	// Output:
	// io.k8s.api.apps.v1.Deployment
	// #/components/schemas/io.k8s.api.apps.v1.DeploymentSpec
}
