package e2e_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/discovery"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
)

// statsDelta is what happened between two readings of a Client's Stats.
func statsDelta(before, after discovery.Stats) discovery.Stats {
	return discovery.Stats{
		Requests:    after.Requests - before.Requests,
		NotModified: after.NotModified - before.NotModified,
		Parses:      after.Parses - before.Parses,
	}
}

// TestDiscoveryRevalidationCostsNoParse checks, with discovery's own
// counters and against the wire, that after Invalidate the real server
// answers unchanged documents 304 and the client decodes nothing, and that
// a document a new CRD changed is decoded again.
func TestDiscoveryRevalidationCostsNoParse(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	rec := &recorder{prefix: "/api"}
	cfg := config(t, "admin")
	cfg.WrapTransport = rec.wrap
	tc, err := transport.New(cfg)
	require.NoError(t, err)
	// A long TTL: only Invalidate makes this client ask the server again.
	d := discovery.New(tc, &discovery.Options{TTL: time.Hour})
	c := newClientFromConfig(t, nil, resource.WithTransport(tc), resource.WithDiscovery(d))
	require.Same(t, d, c.Discovery())

	cold, err := d.Resources(ctx)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"/api 200", "/apis 200"}, rec.take())
	assert.Equal(t, discovery.Stats{Requests: 2, Parses: 2}, d.Stats(), "a cold client decodes both roots")

	// /apis changes whenever a parallel test installs or removes a CRD, so
	// a round may find it changed; it then decodes that document alone.
	// Rounds go on until one finds both roots unchanged.
	prev := cold
	for round := 0; ; round++ {
		require.Less(t, round, 20, "/apis never answered 304")
		before := d.Stats()
		d.Invalidate()
		got, err := d.Resources(ctx)
		require.NoError(t, err)
		wire := rec.take()
		delta := statsDelta(before, d.Stats())
		require.Contains(t, wire, "/api 304", "the core group never changes")
		if delta.NotModified == 2 {
			assert.ElementsMatch(t, []string{"/api 304", "/apis 304"}, wire)
			assert.Equal(t, discovery.Stats{Requests: 2, NotModified: 2}, delta, "revalidation costs no parse")
			assert.Equal(t, prev, got, "the same resources from the cached documents")
			break
		}
		assert.ElementsMatch(t, []string{"/api 304", "/apis 200"}, wire)
		assert.Equal(t, discovery.Stats{Requests: 2, NotModified: 1, Parses: 1}, delta, "only the changed /apis is decoded")
		prev = got
	}

	// A CRD changes /apis: after Invalidate it is decoded again and serves
	// the new resource; /api is still a 304.
	group := installCRD(t, admin(t))
	before := d.Stats()
	d.Invalidate()
	after, err := d.Resources(ctx)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"/api 304", "/apis 200"}, rec.take())
	assert.Equal(t, discovery.Stats{Requests: 2, NotModified: 1, Parses: 1}, statsDelta(before, d.Stats()))
	var widgets []string
	for _, r := range after {
		if r.Group == group {
			widgets = append(widgets, r.Version+" "+r.Resource+" "+r.Kind)
		}
	}
	assert.Equal(t, []string{"v1 widgets Widget"}, widgets)

	// The fresh view answers lookups through the resource client with no
	// discovery request at all.
	before = d.Stats()
	ns := newNamespace(t)
	_, _, err = c.Resource(group+"/v1", "Widget").Namespace(ns).ListAll(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, discovery.Stats{}, statsDelta(before, d.Stats()))
}
