package discovery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// largeAggregated returns an aggregated /apis document with n custom
// resource groups, each serving two versions of three resources with status
// and scale subresources, the shape a cluster with many operators has.
func largeAggregated(tb testing.TB, n int) []byte {
	tb.Helper()
	type m = map[string]any
	verbs := []string{"delete", "deletecollection", "get", "list", "patch", "create", "update", "watch"}
	items := make([]m, 0, n)
	for g := range n {
		group := fmt.Sprintf("operator%03d.example.com", g)
		var versions []m
		for _, v := range []string{"v1", "v1beta1"} {
			var resources []m
			for _, kind := range []string{"Widget", "Gadget", "Gizmo"} {
				resources = append(resources, m{
					"resource":         fmt.Sprintf("%s%03ds", lower(kind), g),
					"responseKind":     m{"group": group, "version": v, "kind": fmt.Sprintf("%s%03d", kind, g)},
					"scope":            "Namespaced",
					"singularResource": fmt.Sprintf("%s%03d", lower(kind), g),
					"verbs":            verbs,
					"shortNames":       []string{fmt.Sprintf("%c%03d", lower(kind)[0], g)},
					"categories":       []string{"all", "example"},
					"subresources": []m{
						{"subresource": "status", "responseKind": m{"group": group, "version": v, "kind": kind}, "verbs": []string{"get", "patch", "update"}},
						{"subresource": "scale", "responseKind": m{"group": "autoscaling", "version": "v1", "kind": "Scale"}, "verbs": []string{"get", "patch", "update"}},
					},
				})
			}
			versions = append(versions, m{"version": v, "resources": resources, "freshness": "Current"})
		}
		items = append(items, m{"metadata": m{"name": group, "creationTimestamp": nil}, "versions": versions})
	}
	b, err := json.Marshal(m{"kind": kindAggregated, "apiVersion": "apidiscovery.k8s.io/v2", "metadata": m{}, "items": items})
	require.NoError(tb, err)
	return b
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func BenchmarkParseAggregated300Groups(b *testing.B) {
	doc := largeAggregated(b, 300)
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseRoot(doc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBuildSnapshot300Groups(b *testing.B) {
	root, err := parseRoot(largeAggregated(b, 300))
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		buildSnapshot(1, time.Time{}, root.Groups, nil)
	}
}

func BenchmarkResourceForWarm(b *testing.B) {
	f := newFixture(b, "aggregated")
	f.set("/apis", largeAggregated(b, 300))
	c := f.client(&Options{TTL: time.Hour})
	ctx := context.Background()
	_, err := c.ResourceFor(ctx, "gizmo150s.operator150.example.com")
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.ResourceFor(ctx, "w150"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRevalidate300Groups measures a refresh whose documents are all
// unchanged: two requests answered 304 and a new snapshot, no decoding.
func BenchmarkRevalidate300Groups(b *testing.B) {
	f := newFixture(b, "aggregated")
	f.set("/apis", largeAggregated(b, 300))
	c := f.client(&Options{TTL: -1})
	ctx := context.Background()
	_, err := c.Resources(ctx)
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.ResourceFor(ctx, "pods"); err != nil {
			b.Fatal(err)
		}
	}
	if c.Stats().Parses != 2 {
		b.Fatalf("documents parsed %d times, want 2", c.Stats().Parses)
	}
}

func FuzzParseRoot(f *testing.F) {
	for _, p := range []string{"aggregated/api.json", "aggregated/apis.json", "legacy/api.json", "legacy/apis.json", "real/aggregated/apis.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", p))
		require.NoError(f, err)
		f.Add(b)
	}
	f.Add([]byte(`{"kind":"APIGroupDiscoveryList","apiVersion":"apidiscovery.k8s.io/v2","items":[{"versions":[{"version":"v1","resources":[{"resource":"x","subresources":[{}]}]}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		root, err := parseRoot(data)
		if err != nil {
			return
		}
		s := buildSnapshot(1, time.Time{}, root.Groups, nil)
		for _, r := range s.resources {
			if r.Resource == "" {
				t.Fatalf("resource without a name accepted: %+v", r)
			}
			if err := checkPathNames(r.Group, r.Version, []APIResource{r}); err != nil {
				t.Fatalf("a name that could change a URL was accepted: %v", err)
			}
			// A lookup by full name answers from that group version, or
			// says why not.
			got, err := s.resourceFor(r.Resource + "." + r.Version + "." + r.Group)
			simple := dnsLike(r.Resource) && dnsLike(r.Version) && dnsLike(r.Group)
			if simple && err == nil && (got.Group != r.Group || got.Version != r.Version) {
				t.Fatalf("lookup of %s returned %s", r.GroupVersionResource(), got.GroupVersionResource())
			}
		}
	})
}

func FuzzParseResourceList(f *testing.F) {
	for _, p := range []string{"legacy/api/v1.json", "legacy/apis/apps/v1.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", p))
		require.NoError(f, err)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := parseResourceList("apps", "v1", data)
		if err != nil {
			return
		}
		for _, r := range rs {
			if r.Resource == "" || r.Group != "apps" || r.Version != "v1" {
				t.Fatalf("bad resource %+v", r)
			}
			for _, s := range r.Subresources {
				if s.Name == "" && r.Resource == "" {
					t.Fatalf("bad subresource %+v", s)
				}
			}
		}
	})
}

// dnsLike reports whether s is non-empty and made of a-z, 0-9 and '-' only.
func dnsLike(s string) bool {
	for _, c := range []byte(s) {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return s != ""
}

func FuzzResourceFor(f *testing.F) {
	var groups groupVersions
	for _, p := range []string{"aggregated/api.json", "aggregated/apis.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", p))
		require.NoError(f, err)
		root, err := parseRoot(b)
		require.NoError(f, err)
		groups = append(groups, root.Groups...)
	}
	s := buildSnapshot(1, time.Time{}, groups, nil)
	for _, seed := range []string{"deploy", "deployments.v1.apps", "pods.v1", "crontabs", "a.b.c.d", ".", "..", "Ü.v1", " ct "} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, name string) {
		r, err := s.resourceFor(name)
		if err != nil {
			if !errors.Is(err, ErrUnknownResource) && !errors.Is(err, ErrAmbiguousResource) {
				t.Fatalf("%q: unexpected error %v", name, err)
			}
			return
		}
		if _, ok := s.resourceForKind(r.GroupVersionKind()); !ok {
			t.Fatalf("%q resolved to %s, which is not served", name, r.GroupVersionResource())
		}
	})
}
