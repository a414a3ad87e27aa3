package discovery

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

// The wire forms of the discovery documents. Only the fields kubedyn uses
// are declared; encoding/json ignores the rest.

// rootDoc is the union of the legacy answers of /api and /apis: APIVersions
// (versions) or APIGroupList (groups). One decode tells them apart by kind.
type rootDoc struct {
	Kind     string          `json:"kind"`
	Versions []string        `json:"versions"`
	Groups   []wireLegacyGrp `json:"groups"`
}

type wireLegacyGrp struct {
	Name     string `json:"name"`
	Versions []struct {
		Version string `json:"version"`
	} `json:"versions"`
	PreferredVersion struct {
		Version string `json:"version"`
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
	// Stale reports an aggregated entry whose freshness is "Stale"; a
	// refresh also sets it, on its own copy, for a legacy version that
	// failed. Either way the version is left out of the snapshot.
	Stale     bool
	Resources []APIResource
	// Err is set at parse time when the group, version or a resource has
	// a name that could change a URL built from it (see checkPathNames);
	// such a version is left out of the snapshot and reported.
	Err error
}

// rootResult is what a root document (/api or /apis) holds: for an
// aggregated document its groups are complete; for a legacy one only the
// names and versions are known and each version must be fetched.
type rootResult struct {
	Aggregated bool
	Groups     groupVersions
}

// parseRoot decodes the answer to GET /api or /apis. The body is first held
// to unstructured's rules for untrusted JSON (well-formed, at most
// unstructured.MaxDepth deep and MaxObjectBytes long, no duplicate keys,
// which gjson would read differently from encoding/json). The aggregated
// form, the large one, is then read with gjson (see parseAggregatedFast)
// from a copy its strings share; the small legacy forms with encoding/json
// from body itself.
func parseRoot(body []byte) (*rootResult, error) {
	if err := checkJSON(body); err != nil {
		return nil, fmt.Errorf("decode discovery document: %w", err)
	}
	if gjson.GetBytes(body, "kind").String() == kindAggregated {
		if apiVersion := gjson.GetBytes(body, "apiVersion").String(); !strings.HasPrefix(apiVersion, "apidiscovery.k8s.io/") {
			return nil, fmt.Errorf("decode discovery document: unexpected apiVersion %q for %s", apiVersion, kindAggregated)
		}
		groups, err := parseAggregatedFast(string(body))
		if err != nil {
			return nil, err
		}
		return &rootResult{Aggregated: true, Groups: groups}, nil
	}
	var doc rootDoc
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("decode discovery document: %w", err)
	}
	switch doc.Kind {
	case kindAPIVersions:
		g := parsedGroup{Name: ""}
		for _, v := range doc.Versions {
			if v == "" {
				return nil, fmt.Errorf("decode discovery document: empty version in APIVersions")
			}
			g.Versions = append(g.Versions, parsedVersion{Version: v, Err: checkPathNames("", v, nil)})
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
				g.Versions = append(g.Versions, parsedVersion{Version: v.Version, Err: checkPathNames(wg.Name, v.Version, nil)})
			}
			groups = append(groups, g)
		}
		return &rootResult{Groups: groups}, nil
	default:
		return nil, fmt.Errorf("decode discovery document: unexpected kind %q", doc.Kind)
	}
}

// parseResourceList decodes a legacy APIResourceList for group/version,
// folding "plural/sub" entries into their parent's Subresources.
func parseResourceList(group, version string, body []byte) ([]APIResource, error) {
	if err := checkJSON(body); err != nil {
		return nil, fmt.Errorf("decode discovery document: %w", err)
	}
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
		kind := qualify(unstructured.GroupVersionKind{Group: wr.Group, Version: wr.Version, Kind: wr.Kind}, group, version)
		out[i].Subresources = append(out[i].Subresources, Subresource{Name: name, Kind: kind, Verbs: wr.Verbs})
	}
	if err := checkPathNames(group, version, out); err != nil {
		return nil, fmt.Errorf("decode discovery document: %w", err)
	}
	return out, nil
}

// checkPathNames refuses names from the server that could change a URL
// built from them, as a user's name would be refused
// (transport.ValidatePathSegment: ".", "..", "/", "%"): the group (unless
// it is the core group), the version, and each resource and subresource.
// The error wraps transport.ErrInvalidName.
func checkPathNames(group, version string, resources []APIResource) error {
	if group != "" {
		if err := transport.ValidatePathSegment("group", group); err != nil {
			return err
		}
	}
	if err := transport.ValidatePathSegment("version", version); err != nil {
		return err
	}
	for _, r := range resources {
		if err := transport.ValidatePathSegment("resource", r.Resource); err != nil {
			return err
		}
		for _, s := range r.Subresources {
			if err := transport.ValidatePathSegment("subresource", s.Name); err != nil {
				return fmt.Errorf("resource %q: %w", r.Resource, err)
			}
		}
	}
	return nil
}

func groupVersionString(group, version string) string {
	return unstructured.GroupVersion{Group: group, Version: version}.String()
}

// checkJSON holds a body the server sent to unstructured's rules for
// untrusted JSON: one well-formed object, within unstructured.MaxDepth and
// MaxObjectBytes, without duplicate keys (gjson reads the first of two,
// encoding/json the last). Errors wrap unstructured's sentinels.
func checkJSON(body []byte) error { return unstructured.ValidateJSON(body) }
