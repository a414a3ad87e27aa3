package discovery

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/unstructured"
)

// The reference decoder: the aggregated document decoded into structs with
// encoding/json. parseAggregatedFast must agree with it.

type wireAggList struct {
	Items []wireAggGroup `json:"items"`
}

type wireAggGroup struct {
	Metadata struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Versions []wireAggVersion `json:"versions"`
}

type wireAggVersion struct {
	Version   string            `json:"version"`
	Resources []wireAggResource `json:"resources"`
	Freshness string            `json:"freshness"`
}

type wireGVK struct {
	Group   string `json:"group"`
	Version string `json:"version"`
	Kind    string `json:"kind"`
}

type wireAggResource struct {
	Resource         string               `json:"resource"`
	ResponseKind     *wireGVK             `json:"responseKind"`
	Scope            string               `json:"scope"`
	SingularResource string               `json:"singularResource"`
	Verbs            []string             `json:"verbs"`
	ShortNames       []string             `json:"shortNames"`
	Categories       []string             `json:"categories"`
	Subresources     []wireAggSubresource `json:"subresources"`
}

type wireAggSubresource struct {
	Subresource  string   `json:"subresource"`
	ResponseKind *wireGVK `json:"responseKind"`
	Verbs        []string `json:"verbs"`
}

func convertAggregated(items []wireAggGroup) (groupVersions, error) {
	groups := make(groupVersions, 0, len(items))
	for _, wg := range items {
		g := parsedGroup{Name: wg.Metadata.Name, Versions: make([]parsedVersion, 0, len(wg.Versions))}
		for _, wv := range wg.Versions {
			if wv.Version == "" {
				return nil, fmt.Errorf("decode discovery document: group %q lists an empty version", wg.Metadata.Name)
			}
			v := parsedVersion{
				Version:   wv.Version,
				Stale:     wv.Freshness == freshnessStale,
				Resources: make([]APIResource, 0, len(wv.Resources)),
			}
			for _, wr := range wv.Resources {
				if wr.Resource == "" {
					return nil, fmt.Errorf("decode discovery document: %s lists a resource without a name", groupVersionString(g.Name, wv.Version))
				}
				r := APIResource{
					Group:        g.Name,
					Version:      wv.Version,
					Resource:     wr.Resource,
					SingularName: wr.SingularResource,
					Namespaced:   wr.Scope == "Namespaced",
					Verbs:        wr.Verbs,
					ShortNames:   wr.ShortNames,
					Categories:   wr.Categories,
				}
				if wr.ResponseKind != nil {
					r.Kind = wr.ResponseKind.Kind
				}
				for _, ws := range wr.Subresources {
					s := Subresource{Name: ws.Subresource, Verbs: ws.Verbs}
					if ws.ResponseKind != nil {
						s.Kind = unstructured.GroupVersionKind{Group: ws.ResponseKind.Group, Version: ws.ResponseKind.Version, Kind: ws.ResponseKind.Kind}
						s.Kind = qualify(s.Kind, g.Name, wv.Version)
					}
					r.Subresources = append(r.Subresources, s)
				}
				v.Resources = append(v.Resources, r)
			}
			g.Versions = append(g.Versions, v)
		}
		groups = append(groups, g)
	}
	return groups, nil
}

func TestFastAggregatedParserAgreesWithEncodingJSON(t *testing.T) {
	t.Parallel()
	docs := map[string][]byte{"large": largeAggregated(t, 40)}
	for _, p := range []string{"aggregated/api.json", "aggregated/apis.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", p))
		require.NoError(t, err)
		docs[p] = b
	}
	for name, b := range docs {
		var list wireAggList
		require.NoError(t, json.Unmarshal(b, &list), name)
		want, err := convertAggregated(list.Items)
		require.NoError(t, err, name)
		got, err := parseAggregatedFast(string(b))
		require.NoError(t, err, name)
		assert.Equal(t, want, got, name)
	}
}

func BenchmarkParseAggregatedEncodingJSON300Groups(b *testing.B) {
	doc := largeAggregated(b, 300)
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		var list wireAggList
		if err := json.Unmarshal(doc, &list); err != nil {
			b.Fatal(err)
		}
		if _, err := convertAggregated(list.Items); err != nil {
			b.Fatal(err)
		}
	}
}
