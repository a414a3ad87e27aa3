package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/examples/operator/greeter"
	"github.com/kubedyn/kubedyn/internal/testserver"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
	"github.com/kubedyn/kubedyn/watch"
)

// syncBuffer is a bytes.Buffer safe for the operator's workers and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestOperator runs the operator against the in-process test server: it
// creates the ConfigMap of a Greeting with an owner reference, writes the
// status, follows spec changes, repairs a deleted ConfigMap, and stops
// cleanly when its context ends.
func TestOperator(t *testing.T) {
	// CRDs are established after the real server's delay: InstallCRD must
	// wait for Established, as on a cluster.
	srv := testserver.NewWithOptions(t, &testserver.Options{CRDEstablishDelay: testserver.RealCRDEstablishDelay})
	cfg := &transport.Config{Host: srv.URL(), TLS: transport.TLSConfig{CAData: srv.CAPEM()}, BearerToken: srv.Token()}
	c, err := resource.NewClient(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	// The test's own informers need the Greeting kind to exist.
	require.NoError(t, greeter.InstallCRD(ctx, c))
	w := newWatcher(t, c, "default")

	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, &out, cfg, "default", true) }()
	demo := w.waitGreeting(t, "demo", func(g unstructured.Object) bool { return g.Get("status.observedGeneration").Int() == 1 })
	assert.Equal(t, "True", demo.Get(`status.conditions.#(type=="Ready").status`).String())
	cm := w.waitConfigMap(t, "demo-greeting", func(cm unstructured.Object) bool { return true })
	assert.Equal(t, "Hello, kubedyn!", cm.Get("data.greeting").String())
	refs := cm.OwnerReferences()
	require.Len(t, refs, 1)
	assert.Equal(t, unstructured.OwnerReference{APIVersion: greeter.APIVersion, Kind: greeter.Kind, Name: "demo",
		UID: demo.UID(), Controller: true, BlockOwnerDeletion: true}, refs[0])

	// A spec change is followed: new text, observedGeneration 2.
	greetings := c.Resource(greeter.APIVersion, greeter.Kind).Namespace("default")
	_, err = greetings.Patch(ctx, "demo", resource.MergePatch, []byte(`{"spec":{"message":"Bonjour"}}`), nil)
	require.NoError(t, err)
	w.waitConfigMap(t, "demo-greeting", func(cm unstructured.Object) bool { return cm.Get("data.greeting").String() == "Bonjour, kubedyn!" })
	w.waitGreeting(t, "demo", func(g unstructured.Object) bool {
		return g.Get("status.observedGeneration").Int() == 2 && g.Get(`status.conditions.0.observedGeneration`).Int() == 2
	})

	// A ConfigMap deleted by someone else comes back.
	_, err = c.Resource("v1", "ConfigMap").Namespace("default").Delete(ctx, "demo-greeting", nil)
	require.NoError(t, err)
	w.waitConfigMap(t, "demo-greeting", func(o unstructured.Object) bool {
		return o.UID() != cm.UID() && o.Get("data.greeting").String() == "Bonjour, kubedyn!"
	})

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("the operator did not stop when its context ended")
	}
	assert.Contains(t, out.String(), "greeting default/demo: ready (generation 1)")
	assert.Contains(t, out.String(), "stopped")
}

// watcher waits for Greetings and ConfigMaps to reach a state, through
// informers of its own (no polling).
type watcher struct {
	g, cm   *watch.Informer
	changed chan struct{}
}

func newWatcher(t *testing.T, c *resource.Client, ns string) *watcher {
	w := &watcher{changed: make(chan struct{}, 1)}
	poke := func() {
		select {
		case w.changed <- struct{}{}:
		default:
		}
	}
	h := watch.Handler{
		OnAdd:    func(unstructured.Object, bool) { poke() },
		OnUpdate: func(_, _ unstructured.Object) { poke() },
		OnDelete: func(unstructured.Object) { poke() },
	}
	w.g = watch.NewInformer(c.Resource(greeter.APIVersion, greeter.Kind).Namespace(ns).ListWatcher(nil), nil)
	w.cm = watch.NewInformer(c.Resource("v1", "ConfigMap").Namespace(ns).ListWatcher(nil), nil)
	for _, inf := range []*watch.Informer{w.g, w.cm} {
		inf.AddHandler(h)
		ctx, cancel := context.WithCancel(context.Background())
		stopped := make(chan struct{})
		go func() { _ = inf.Run(ctx); close(stopped) }()
		t.Cleanup(func() { cancel(); <-stopped })
	}
	return w
}

func (w *watcher) wait(t *testing.T, what string, ok func() bool) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for !ok() {
		select {
		case <-w.changed:
		case <-timeout:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func (w *watcher) waitGreeting(t *testing.T, name string, cond func(unstructured.Object) bool) unstructured.Object {
	t.Helper()
	var got unstructured.Object
	w.wait(t, "greeting "+name, func() bool {
		o, ok := w.g.Store().Get(watch.Key{Namespace: "default", Name: name})
		got = o
		return ok && cond(o)
	})
	return got
}

func (w *watcher) waitConfigMap(t *testing.T, name string, cond func(unstructured.Object) bool) unstructured.Object {
	t.Helper()
	var got unstructured.Object
	w.wait(t, "configmap "+name, func() bool {
		o, ok := w.cm.Store().Get(watch.Key{Namespace: "default", Name: name})
		got = o
		return ok && cond(o)
	})
	return got
}

// TestMain lets TestOperatorStopsOnSIGINT run the program itself: the test
// binary, started with OPERATOR_RUN_MAIN=1, is the operator.
func TestMain(m *testing.M) {
	if os.Getenv("OPERATOR_RUN_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// TestOperatorStopsOnSIGINT runs the program against the test server
// (through KUBECONFIG, as a user would), waits until it has reconciled a
// Greeting, interrupts it, and checks that it stops cleanly: exit status 0
// and its closing line.
func TestOperatorStopsOnSIGINT(t *testing.T) {
	srv := testserver.New(t)
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, os.WriteFile(kc, srv.Kubeconfig(), 0o600))

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "OPERATOR_RUN_MAIN=1", "KUBECONFIG="+kc)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var out []string
	waitLine := func(prefix string) {
		t.Helper()
		timeout := time.After(30 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("the program ended before %q: %v %s", prefix, out, stderr.String())
				}
				out = append(out, l)
				if strings.HasPrefix(l, prefix) {
					return
				}
			case <-timeout:
				t.Fatalf("no %q in %v", prefix, out)
			}
		}
	}
	waitLine("watching Greetings in namespace default")

	c, err := resource.NewClient(&transport.Config{Host: srv.URL(), TLS: transport.TLSConfig{CAData: srv.CAPEM()}, BearerToken: srv.Token()})
	require.NoError(t, err)
	_, err = c.Resource(greeter.APIVersion, greeter.Kind).Namespace("default").Create(t.Context(),
		unstructured.MustParse(`{"apiVersion":"demo.kubedyn.dev/v1","kind":"Greeting","metadata":{"name":"sig"}}`), nil)
	require.NoError(t, err)
	waitLine("greeting default/sig: ready (generation 1)")

	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	waitLine("stopped")
	require.NoError(t, cmd.Wait(), stderr.String())
}
