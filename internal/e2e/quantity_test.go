package e2e_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/unstructured"
)

// quantityForms are written into a ResourceQuota's spec.hard as raw JSON
// values (strings and numbers) and read back. The quota only takes
// non-negative values; negative ones are covered by the unit tests.
var quantityForms = []string{
	// decimal SI
	`"0"`, `"2000m"`, `"1000m"`, `"1001m"`, `"1.5"`, `"0.5"`, `"1.0"`, `"1.000"`, `"1.500"`,
	`"1000"`, `"1000k"`, `"1500k"`, `"1.5k"`, `"0.1m"`, `"0.5n"`, `"1n"`, `"0.000000001"`,
	`"100u"`, `"250m"`, `"10E"`, `"1000E"`, `"100000E"`, `"9223372036854775807"`,
	`"9223372036854775808"`, `"12345678901234567890123"`, `"0k"`, `"-0"`, `"+1k"`, `"012"`,
	`"1."`, `"+"`, `"."`, `"1M"`, `"1G"`, `"1.5G"`, `"1T"`, `"1P"`, `"7E"`, `"0.001"`,
	`"123456789"`, `"1200m"`, `" 3 "`, `"5.00"`, `"999999999n"`,
	// binary SI
	`"1Ki"`, `"8Ki"`, `"1024Ki"`, `"1025Ki"`, `"1.5Gi"`, `"1.5Mi"`, `"0.25Mi"`, `"0.5Ki"`,
	`"0.0000001Ki"`, `"1.Gi"`, `"1Ei"`, `"8Ei"`, `"1024Ei"`, `"100Ti"`, `"1.1Ki"`, `"Ki"`,
	`"512Mi"`, `"2048Mi"`, `"1536"`, `"1023Ki"`,
	// decimal exponent
	`"1e3"`, `"1E3"`, `"1e+3"`, `"1e03"`, `"5e-1"`, `"1.5e20"`, `"1e1000"`, `"12e6"`,
	`"1200e3"`, `"1000e3"`, `".e-9"`, `"1e-1000"`, `"3e-9"`,
	// JSON numbers
	`2`, `1.5`, `0.1`, `1e3`, `2.50`, `0`, `1024`,
}

// TestQuantityCanonicalFormsMatchServer writes many quantity forms into a
// ResourceQuota and compares what the real server writes back with
// unstructured.Quantity for the same input. spec.hard is a core/v1
// ResourceList, whose values the server's defaulting rounds up to milli:
// the expectation is RoundUp(-3).String().
func TestQuantityCanonicalFormsMatchServer(t *testing.T) {
	t.Parallel()
	require.GreaterOrEqual(t, len(quantityForms), 60)
	ctx := testContext(t)
	ns := newNamespace(t)
	quotas := admin(t).Resource("v1", "ResourceQuota").Namespace(ns)

	b := unstructured.NewBuilder("v1", "ResourceQuota").Set("metadata.name", "forms")
	keys := make([]string, len(quantityForms))
	for i, form := range quantityForms {
		keys[i] = fmt.Sprintf("requests.example.com/q%02d", i)
		b.SetRaw(unstructured.Path("spec", "hard", keys[i]), form)
	}
	quota, err := b.Object()
	require.NoError(t, err)

	dry, err := quotas.Create(ctx, quota, &resource.CreateOptions{DryRun: true})
	require.NoError(t, err)
	created, err := quotas.Create(ctx, quota, nil)
	require.NoError(t, err)
	got, err := quotas.Get(ctx, "forms", nil)
	require.NoError(t, err)

	for i, form := range quantityForms {
		parsed, err := unstructured.QuantityOf(gjson.Parse(form))
		require.NoError(t, err, form)
		mine, _ := parsed.RoundUp(-3)
		path := unstructured.Path("spec", "hard", keys[i])
		for name, o := range map[string]unstructured.Object{"dry run": dry, "create": created, "get": got} {
			server := o.Get(path)
			require.True(t, server.Exists(), "%s: %s missing", name, form)
			assert.Equal(t, server.Str, mine.String(), "%s: %s", name, form)
			back, err := unstructured.QuantityOf(server)
			require.NoError(t, err, "%s: the server's %q", name, server.Str)
			assert.Equal(t, server.Str, back.String(), "%s: %s: the server's text is stable", name, form)
		}
	}
	// Spot checks of the rules, as the issue states them.
	for form, want := range map[string]string{`"2000m"`: "2", `"1.5Gi"`: "1536Mi", `"0.5Ki"`: "512", `"1000E"`: "1", `"+1k"`: "+1k", `1.5`: "1500m", `"100u"`: "1m"} {
		for i, f := range quantityForms {
			if f == form {
				assert.Equal(t, want, got.Get(unstructured.Path("spec", "hard", keys[i])).Str, form)
			}
		}
	}
}

// TestQuantityFieldFormsMatchServer writes the same forms into a plain
// quantity field, a Pod's emptyDir.sizeLimit, which no defaulting rounds:
// there the server's parser alone decides, and String predicts it
// ("100u" stays "100u", "0.5n" becomes "1n").
func TestQuantityFieldFormsMatchServer(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	ns := newNamespace(t)
	b := unstructured.NewBuilder("v1", "Pod").Set("metadata.name", "forms").
		SetRaw("spec.containers", `[{"name":"c","image":"x"}]`)
	for i, form := range quantityForms {
		b.Set(fmt.Sprintf("spec.volumes.%d.name", i), fmt.Sprintf("v%02d", i))
		b.SetRaw(fmt.Sprintf("spec.volumes.%d.emptyDir.sizeLimit", i), form)
	}
	pod, err := b.Object()
	require.NoError(t, err)
	created, err := admin(t).Resource("v1", "Pod").Namespace(ns).Create(ctx, pod, &resource.CreateOptions{DryRun: true})
	require.NoError(t, err)
	for i, form := range quantityForms {
		mine, err := unstructured.QuantityOf(gjson.Parse(form))
		require.NoError(t, err, form)
		server := created.Get(fmt.Sprintf("spec.volumes.%d.emptyDir.sizeLimit", i))
		assert.Equal(t, fmt.Sprintf("v%02d", i), created.Get(fmt.Sprintf("spec.volumes.%d.name", i)).Str)
		assert.Equal(t, server.Str, mine.String(), form)
	}
	for i, f := range quantityForms {
		switch f {
		case `"100u"`:
			assert.Equal(t, "100u", created.Get(fmt.Sprintf("spec.volumes.%d.emptyDir.sizeLimit", i)).Str)
		case `"0.5n"`:
			assert.Equal(t, "1n", created.Get(fmt.Sprintf("spec.volumes.%d.emptyDir.sizeLimit", i)).Str)
		}
	}
}

// A Lease's renewTime is a MicroTime: the server writes it in UTC with six
// fractional digits, as FormatMicroTime does; creationTimestamp is a Time
// that TimeOf reads and FormatTime writes back unchanged.
func TestMicroTimeAndTimeMatchServer(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	ns := newNamespace(t)
	leases := admin(t).Resource("coordination.k8s.io/v1", "Lease").Namespace(ns)
	in := "2026-11-28T12:00:00.123456+02:00"
	lease := obj(t, `{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"l"},"spec":{"renewTime":"`+in+`"}}`)
	created, err := leases.Create(ctx, lease, &resource.CreateOptions{DryRun: true})
	require.NoError(t, err)
	mine, err := unstructured.MicroTimeOf(gjson.Parse(`"` + in + `"`))
	require.NoError(t, err)
	assert.Equal(t, created.Get("spec.renewTime").Str, unstructured.FormatMicroTime(mine))

	ts, err := unstructured.TimeOf(created.Get("metadata.creationTimestamp"))
	require.NoError(t, err)
	assert.False(t, ts.IsZero())
	assert.Equal(t, created.Get("metadata.creationTimestamp").Str, unstructured.FormatTime(ts))

	bad := obj(t, `{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"m"},"spec":{"renewTime":"2026-11-28T10:00:00.1234567Z"}}`)
	_, err = leases.Create(ctx, bad, &resource.CreateOptions{DryRun: true})
	require.Error(t, err, "the server refuses seven fractional digits")
	_, err = unstructured.MicroTimeOf(bad.Get("spec.renewTime"))
	assert.Error(t, err, "and so does MicroTimeOf")
}

// A Deployment's rolling-update bounds default to 25%; IntOrStringOf reads
// them and ResolveFenceposts rounds them as the controller does.
func TestIntOrStringDeploymentDefaults(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	ns := newNamespace(t)
	d := obj(t, `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"replicas":10,
		"selector":{"matchLabels":{"app":"d"}},"template":{"metadata":{"labels":{"app":"d"}},
		"spec":{"containers":[{"name":"c","image":"x","ports":[{"containerPort":8080}]}]}}}}`)
	created, err := admin(t).Resource("apps/v1", "Deployment").Namespace(ns).Create(ctx, d, &resource.CreateOptions{DryRun: true})
	require.NoError(t, err)
	surge, err := unstructured.IntOrStringOf(created.Get("spec.strategy.rollingUpdate.maxSurge"))
	require.NoError(t, err)
	unavailable, err := unstructured.IntOrStringOf(created.Get("spec.strategy.rollingUpdate.maxUnavailable"))
	require.NoError(t, err)
	assert.Equal(t, unstructured.IntOrStringFromString("25%"), surge)
	assert.Equal(t, unstructured.IntOrStringFromString("25%"), unavailable)
	s, u, err := unstructured.ResolveFenceposts(surge, unavailable, int32(created.Get("spec.replicas").Int()))
	require.NoError(t, err)
	assert.Equal(t, int32(3), s)
	assert.Equal(t, int32(2), u)
}
