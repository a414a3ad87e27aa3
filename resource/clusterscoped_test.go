package resource_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/internal/testserver"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

// bodies records the method, path and body of every write a client sends;
// safe for concurrent use.
type bodies struct {
	mu   sync.Mutex
	sent []string // "METHOD path body"
}

func (b *bodies) wrap(next http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.Method != http.MethodGet && r.GetBody != nil {
			rc, err := r.GetBody()
			if err != nil {
				return nil, err
			}
			data, err := io.ReadAll(rc)
			if err != nil {
				return nil, err
			}
			b.mu.Lock()
			b.sent = append(b.sent, r.Method+" "+r.URL.Path+" "+string(data))
			b.mu.Unlock()
		}
		return next.RoundTrip(r)
	})
}

func (b *bodies) reset() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.sent
	b.sent = nil
	return out
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// warnings collects warnings; safe for concurrent use.
type warnings struct {
	mu   sync.Mutex
	list []transport.Warning
}

func (w *warnings) add(x transport.Warning) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = append(w.list, x)
}

func (w *warnings) get() []transport.Warning {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]transport.Warning(nil), w.list...)
}

// TestClusterScopedObjectNamespaceDropped checks that a cluster-scoped
// object carrying metadata.namespace (as Helm charts produce) is written
// without it, like the real server and kubectl do, and that the drop is
// reported to the Client's warning handler and to the call's.
func TestClusterScopedObjectNamespaceDropped(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	var clientWide warnings
	var sent bodies
	cfg := &transport.Config{Host: srv.URL(), TLS: transport.TLSConfig{CAData: srv.CAPEM()}, BearerToken: srv.Token(),
		WarningHandler: clientWide.add, WrapTransport: sent.wrap}
	c, err := resource.NewClient(cfg, resource.WithFieldManager("t"))
	require.NoError(t, err)
	roles := c.Resource("rbac.authorization.k8s.io/v1", "ClusterRole")
	role := func(name string) unstructured.Object {
		return obj(t, `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"`+name+`","namespace":"helm-ns"},"rules":[]}`)
	}
	calls := []struct {
		name string
		call func(ctx context.Context) (unstructured.Object, error)
	}{
		{"create", func(ctx context.Context) (unstructured.Object, error) { return roles.Create(ctx, role("r1"), nil) }},
		{"apply", func(ctx context.Context) (unstructured.Object, error) { return roles.Apply(ctx, role("r2"), nil) }},
		{"update", func(ctx context.Context) (unstructured.Object, error) {
			cur, err := roles.Get(ctx, "r1", nil)
			require.NoError(t, err)
			withNS, err := cur.Set("metadata.namespace", "helm-ns")
			require.NoError(t, err)
			return roles.Update(ctx, withNS, nil)
		}},
	}
	for _, tt := range calls {
		t.Run(tt.name, func(t *testing.T) {
			before := len(clientWide.get())
			var mine warnings
			sent.reset()
			got, err := tt.call(resource.WithWarningHandler(context.Background(), mine.add))
			require.NoError(t, err)
			assert.Empty(t, got.Namespace())

			writes := sent.reset()
			require.Len(t, writes, 1)
			assert.Contains(t, writes[0], "/apis/rbac.authorization.k8s.io/v1/clusterroles")
			assert.NotContains(t, writes[0], "helm-ns", "the namespace is dropped from the body")

			require.Len(t, mine.get(), 1, "the call's handler hears of the drop")
			w := mine.get()[0]
			assert.Equal(t, resource.WarningAgent, w.Agent)
			assert.Equal(t, 299, w.Code)
			assert.Contains(t, w.Text, `metadata.namespace "helm-ns" dropped`)
			assert.Contains(t, w.Text, "ClusterRole")
			assert.Equal(t, []transport.Warning{w}, clientWide.get()[before:], "so does the client's")
		})
	}

	// The handle's own namespace on a cluster-scoped resource stays an
	// error: that is a program's mistake, not a manifest's.
	_, err = roles.Namespace("helm-ns").Create(context.Background(), role("r3"), nil)
	require.ErrorIs(t, err, resource.ErrClusterScoped)
}

// TestWithWarningHandlerGetsServerWarnings checks the call's handler also
// receives the Warning headers of the call's own responses.
func TestWithWarningHandlerGetsServerWarnings(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	ctx := context.Background()
	cms := c.Resource("v1", "ConfigMap").Namespace("default")
	_, err := cms.Resolve(ctx)
	require.NoError(t, err)
	srv.Inject(testserver.Fault{Method: http.MethodGet, PathPrefix: "/api/v1/namespaces/default/configmaps/missing", Warning: "deprecated thing", Times: 1})
	var mine warnings
	_, err = cms.Get(resource.WithWarningHandler(ctx, mine.add), "missing", nil)
	require.ErrorIs(t, err, transport.ErrNotFound)
	assert.Equal(t, []transport.Warning{{Code: 299, Agent: "-", Text: "deprecated thing"}}, mine.get())
}

// TestWithWarningHandlerGetsWatchWarnings checks a watch passes the Warning
// headers of its response to the call's handler.
func TestWithWarningHandlerGetsWatchWarnings(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cms := c.Resource("v1", "ConfigMap").Namespace("default")
	_, err := cms.Create(ctx, configMap(t, "w", nil), nil)
	require.NoError(t, err)
	srv.Inject(testserver.Fault{Method: http.MethodGet, PathPrefix: "/api/v1/namespaces/default/configmaps", Query: "watch=true", Warning: "watch warned", Times: 1})
	var mine warnings
	for _, err := range cms.Watch(resource.WithWarningHandler(ctx, mine.add), nil) {
		require.NoError(t, err)
		break // the first event: the response headers were read before it
	}
	assert.Equal(t, []transport.Warning{{Code: 299, Agent: "-", Text: "watch warned"}}, mine.get())
}

// TestClientWarningLoggedWithoutHandler checks a warning resource raises
// goes to Config.Logger when no WarningHandler is set, as the server's do.
func TestClientWarningLoggedWithoutHandler(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	var buf syncBuffer
	cfg := &transport.Config{Host: srv.URL(), TLS: transport.TLSConfig{CAData: srv.CAPEM()}, BearerToken: srv.Token(),
		Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	c, err := resource.NewClient(cfg)
	require.NoError(t, err)
	role := obj(t, `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"logged","namespace":"chart"}}`)
	_, err = c.ForObject(role).Create(context.Background(), role, nil)
	require.NoError(t, err)
	out := buf.String()
	assert.Contains(t, out, "level=WARN")
	assert.Contains(t, out, "agent=kubedyn")
	assert.Contains(t, out, `metadata.namespace \"chart\" dropped`)
}

// syncBuffer is a bytes.Buffer safe for concurrent writes.
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
