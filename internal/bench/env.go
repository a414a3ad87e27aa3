package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
)

// benchNamespace holds the listed ConfigMaps; opsNamespace the ones the
// get/update goroutines work on.
const (
	benchNamespace = "bench-list"
	opsNamespace   = "bench-ops"
	workers        = 16
)

var configMaps = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}

// env is one server and the clients that talk to it.
type env struct {
	name  string
	url   string
	caPEM []byte
	token string
	n     int

	kd        *resource.Client // kubedyn: no rate limit (its default too)
	cg        dynamic.Interface
	cgDefault dynamic.Interface // client-go with its default QPS 5, burst 10
	raw       *http.Client      // the floor: net/http alone

	listBytes []byte // the uncompressed body of the whole list, as the server sends it
}

// kdConfig is kubedyn's configuration for the server; wrap, when set,
// wraps its transport.
func (e *env) kdConfig(wrap func(http.RoundTripper) http.RoundTripper) *transport.Config {
	return &transport.Config{
		Host:          e.url,
		TLS:           transport.TLSConfig{CAData: e.caPEM},
		BearerToken:   e.token,
		WrapTransport: wrap,
	}
}

// cgConfig is client-go's configuration for the server with its rate limit
// off (QPS < 0), as a benchmark or a controller with its own limits sets it.
func (e *env) cgConfig() *rest.Config {
	return &rest.Config{
		Host:            e.url,
		BearerToken:     e.token,
		TLSClientConfig: rest.TLSClientConfig{CAData: e.caPEM},
		QPS:             -1,
	}
}

func newEnv(name, url string, caPEM []byte, token string, n int) (*env, error) {
	e := &env{name: name, url: url, caPEM: caPEM, token: token, n: n}
	var err error
	if e.kd, err = resource.NewClient(e.kdConfig(nil)); err != nil {
		return nil, err
	}
	if e.cg, err = dynamic.NewForConfig(e.cgConfig()); err != nil {
		return nil, err
	}
	def := e.cgConfig()
	def.QPS = 0 // client-go's defaults: 5 QPS, burst 10
	if e.cgDefault, err = dynamic.NewForConfig(def); err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, errors.New("no CA certificate")
	}
	e.raw = &http.Client{Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: pool},
		ForceAttemptHTTP2: true,
		MaxIdleConns:      100,
	}}
	return e, nil
}

// rawGet is the floor of a List: one GET of the collection, the body read
// with io.ReadAll (gzip as the transport negotiates it by default).
func (e *env) rawGet(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.url+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Accept", "application/json")
	resp, err := e.raw.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %.200s", path, resp.Status, body)
	}
	return body, nil
}

// configMap is a ConfigMap shaped like the ones a real cluster holds: labels,
// annotations with a last-applied configuration, and a data map (the server
// adds managedFields).
func configMap(ns string, i int) string {
	return fmt.Sprintf(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cfg-%05d","namespace":%q,`+
		`"labels":{"app.kubernetes.io/name":"svc-%d","app.kubernetes.io/part-of":"shop","tier":"backend","release":"r%d"},`+
		`"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"apiVersion\":\"v1\",\"data\":{\"app.properties\":\"...\"},\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cfg-%05d\",\"namespace\":\"%s\"}}\n","owner":"platform@example.com"}},`+
		`"data":{"app.properties":"server.port=%d\nserver.threads=%d\ncache.size=%d\ndb.url=jdbc:postgresql://db-%d.%s.svc:5432/app\n","log.level":"%s","feature.flags":"checkout-v2,search-v3,recs-%d","timeout":"%ds"}}`,
		i, ns, i%113, i%5, i, ns,
		8000+i%1000, 8+i%56, 1024*(1+i%16), i%9, ns, []string{"info", "debug", "warn"}[i%3], i%7, 5+i%55)
}

// populate creates the namespaces, n ConfigMaps to list, one per worker to
// get and update, and crds CRDs for discovery; then it reads the list once
// to keep its bytes.
func (e *env) populate(ctx context.Context, crds int) error {
	nsH := e.kd.Resource("v1", "Namespace")
	for _, ns := range []string{benchNamespace, opsNamespace} {
		if _, err := nsH.Create(ctx, unstructured.MustParse(`{"metadata":{"name":"`+ns+`"}}`), nil); err != nil {
			return fmt.Errorf("create namespace %s: %w", ns, err)
		}
	}
	cm := e.kd.Resource("v1", "ConfigMap")
	if err := parallel(ctx, e.n, func(ctx context.Context, i int) error {
		_, err := cm.Namespace(benchNamespace).Create(ctx, unstructured.MustParse(configMap(benchNamespace, i)), nil)
		return err
	}); err != nil {
		return fmt.Errorf("create ConfigMaps: %w", err)
	}
	if err := parallel(ctx, workers, func(ctx context.Context, i int) error {
		_, err := cm.Namespace(opsNamespace).Create(ctx, unstructured.MustParse(configMap(opsNamespace, i)), nil)
		return err
	}); err != nil {
		return fmt.Errorf("create ConfigMaps: %w", err)
	}
	if err := e.createCRDs(ctx, crds); err != nil {
		return err
	}
	body, err := e.rawGetPlain(ctx, "/api/v1/namespaces/"+benchNamespace+"/configmaps")
	if err != nil {
		return err
	}
	e.listBytes = body
	return nil
}

// rawGetPlain reads a body without compression.
func (e *env) rawGetPlain(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.url+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := e.raw.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %.200s", path, resp.Status, body)
	}
	return body, nil
}

// crdGroups spreads the CRDs over groups of five kinds, as operators
// install them.
func crdName(i int) (group, kind, plural string) {
	group = fmt.Sprintf("g%02d.bench.example.com", i/5)
	kind = fmt.Sprintf("Widget%03d", i)
	return group, kind, strings.ToLower(kind) + "s"
}

// createCRDs creates n CRDs and waits until discovery serves every one.
func (e *env) createCRDs(ctx context.Context, n int) error {
	crd := e.kd.Resource("apiextensions.k8s.io/v1", "CustomResourceDefinition")
	if err := parallel(ctx, n, func(ctx context.Context, i int) error {
		group, kind, plural := crdName(i)
		_, err := crd.Create(ctx, unstructured.MustParse(fmt.Sprintf(`{"metadata":{"name":"%s.%s"},"spec":{"group":%q,"scope":"Namespaced",`+
			`"names":{"plural":%q,"singular":%q,"kind":%q,"shortNames":["w%03d"],"categories":["bench"]},`+
			`"versions":[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object","properties":{"spec":{"type":"object","properties":{"size":{"type":"integer"},"image":{"type":"string"}}}}}}},`+
			`{"name":"v1beta1","served":true,"storage":false,"schema":{"openAPIV3Schema":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}]}}`,
			plural, group, group, plural, strings.ToLower(kind), kind, i)), nil)
		return err
	}); err != nil {
		return fmt.Errorf("create CRDs: %w", err)
	}
	deadline := time.Now().Add(5 * time.Minute)
	for {
		disc := e.kd.Discovery()
		disc.Invalidate()
		res, err := disc.ResourcesInCategory(ctx, "bench")
		if err == nil && len(res) >= n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("CRDs not all served after 5 minutes: %d of %d (%v)", len(res), n, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// parallel calls f for 0..n-1 on workers goroutines; the first error wins.
func parallel(ctx context.Context, n int, f func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := f(ctx, i); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return context.Cause(ctx)
}

// counting counts the requests through a round tripper.
type counting struct {
	n    *atomic.Int64
	next http.RoundTripper
}

func (c counting) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}
