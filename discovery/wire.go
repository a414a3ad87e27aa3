package discovery

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/kubedyn/kubedyn/unstructured"
)

// The wire forms of the discovery documents. Only the fields kubedyn uses
// are declared; encoding/json ignores the rest.

// rootDoc is the union of what /api and /apis can answer: the aggregated
// APIGroupDiscoveryList (items), the legacy APIVersions (versions) or the
// legacy APIGroupList (groups). One decode tells them apart by kind.
type rootDoc struct {
	Kind       string          `json:"kind"`
	APIVersion string          `json:"apiVersion"`
	Items      []wireAggGroup  `json:"items"`
	Versions   []string        `json:"versions"`
	Groups     []wireLegacyGrp `json:"groups"`
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

type wireLegacyGrp struct {
	Name     string `json:"name"`
	Versions []struct {
		GroupVersion string `json:"groupVersion"`
		Version      string `json:"version"`
	} `json:"versions"`
	PreferredVersion struct {
		GroupVersion string `json:"groupVersion"`
		Version      string `json:"version"`
	} `json:"preferredVersion"`
}

type wireResourceList struct {
	Kind         string            `json:"kind"`
	GroupVersion string            `json:"groupVersion"`
	Resources    []wireLegacyResrc `json:"resources"`
}

type wireLegacyResrc struct {
	Name         string   `json:"name"`
	SingularName string   `json:"singularName"`
	Namespaced   bool     `json:"namespaced"`
	Group        string   `json:"group"`
	Version      string   `json:"version"`
	Kind         string   `json:"kind"`
	Verbs        []string `json:"verbs"`
	ShortNames   []string `json:"shortNames"`
	Categories   []string `json:"categories"`
}

// Document kinds.
const (
	kindAggregated  = "APIGroupDiscoveryList"
	kindAPIVersions = "APIVersions"
	kindGroupList   = "APIGroupList"
	kindResources   = "APIResourceList"

	freshnessStale = "Stale"
)

// groupVersions is the parsed form of one discovery document: the groups it
// describes, in the server's order (by preference), each with its versions in
// order of preference.
type groupVersions []parsedGroup

type parsedGroup struct {
	Name string
	// Preferred is the preferred version; empty means the first of Versions.
	Preferred string
	Versions  []parsedVersion
}

type parsedVersion struct {
	Version string
	// Stale reports an aggregated entry whose freshness is "Stale".
	Stale     bool
	Resources []APIResource
}

// rootResult is what a root document (/api or /apis) holds: for an
// aggregated document its groups are complete; for a legacy one only the
// names and versions are known and each version must be fetched.
type rootResult struct {
	Aggregated bool
	Groups     groupVersions
}

// parseRoot decodes the answer to GET /api or /apis.
func parseRoot(body []byte) (*rootResult, error) {
	var doc rootDoc
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("decode discovery document: %w", err)
	}
	switch doc.Kind {
	case kindAggregated:
		if !strings.HasPrefix(doc.APIVersion, "apidiscovery.k8s.io/") {
			return nil, fmt.Errorf("decode discovery document: unexpected apiVersion %q for %s", doc.APIVersion, doc.Kind)
		}
		groups, err := convertAggregated(doc.Items)
		if err != nil {
			return nil, err
		}
		return &rootResult{Aggregated: true, Groups: groups}, nil
	case kindAPIVersions:
		g := parsedGroup{Name: ""}
		for _, v := range doc.Versions {
			if v == "" {
				return nil, fmt.Errorf("decode discovery document: empty version in APIVersions")
			}
			g.Versions = append(g.Versions, parsedVersion{Version: v})
		}
		return &rootResult{Groups: groupVersions{g}}, nil
	case kindGroupList:
		groups := make(groupVersions, 0, len(doc.Groups))
		for _, wg := range doc.Groups {
			if wg.Name == "" {
				return nil, fmt.Errorf("decode discovery document: group without a name in APIGroupList")
			}
			g := parsedGroup{Name: wg.Name, Preferred: wg.PreferredVersion.Version}
			for _, v := range wg.Versions {
				if v.Version == "" {
					return nil, fmt.Errorf("decode discovery document: group %q lists an empty version", wg.Name)
				}
				g.Versions = append(g.Versions, parsedVersion{Version: v.Version})
			}
			groups = append(groups, g)
		}
		return &rootResult{Groups: groups}, nil
	default:
		return nil, fmt.Errorf("decode discovery document: unexpected kind %q", doc.Kind)
	}
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

// parseResourceList decodes a legacy APIResourceList for group/version,
// folding "plural/sub" entries into their parent's Subresources.
func parseResourceList(group, version string, body []byte) ([]APIResource, error) {
	var doc wireResourceList
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("decode discovery document: %w", err)
	}
	if doc.Kind != kindResources {
		return nil, fmt.Errorf("decode discovery document: unexpected kind %q, want %s", doc.Kind, kindResources)
	}
	if want := groupVersionString(group, version); doc.GroupVersion != want {
		return nil, fmt.Errorf("decode discovery document: groupVersion %q, want %q", doc.GroupVersion, want)
	}
	out := make([]APIResource, 0, len(doc.Resources))
	index := make(map[string]int, len(doc.Resources))
	var subs []wireLegacyResrc
	for _, wr := range doc.Resources {
		if wr.Name == "" {
			return nil, fmt.Errorf("decode discovery document: %s lists a resource without a name", doc.GroupVersion)
		}
		if strings.Contains(wr.Name, "/") {
			subs = append(subs, wr)
			continue
		}
		index[wr.Name] = len(out)
		out = append(out, APIResource{
			Group:        group,
			Version:      version,
			Resource:     wr.Name,
			Kind:         wr.Kind,
			SingularName: wr.SingularName,
			Namespaced:   wr.Namespaced,
			Verbs:        wr.Verbs,
			ShortNames:   wr.ShortNames,
			Categories:   wr.Categories,
		})
	}
	for _, wr := range subs {
		parent, name, _ := strings.Cut(wr.Name, "/")
		i, ok := index[parent]
		if !ok {
			// A subresource of a resource this document does not list: nothing
			// can address it, so it is dropped.
			continue
		}
		kind := unstructured.GroupVersionKind{Group: group, Version: version, Kind: wr.Kind}
		if wr.Group != "" || wr.Version != "" {
			kind.Group, kind.Version = wr.Group, wr.Version
		}
		out[i].Subresources = append(out[i].Subresources, Subresource{Name: name, Kind: kind, Verbs: wr.Verbs})
	}
	return out, nil
}

func groupVersionString(group, version string) string {
	return unstructured.GroupVersion{Group: group, Version: version}.String()
}
