package discovery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	openapi_v3 "github.com/google/gnostic-models/openapiv3"
	"github.com/tidwall/gjson"

	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

// ErrNoSchema is matched (errors.Is) by the error OpenAPIV3 and
// OpenAPIV3Schema return when the server publishes no OpenAPI v3 document
// for the group version, or the document has no schema for the kind.
var ErrNoSchema = errors.New("no OpenAPI v3 schema")

const openAPIRoot = "/openapi/v3"

// openAPIIndex is the parsed /openapi/v3: document key ("apis/apps/v1") to
// server-relative URL ("/openapi/v3/apis/apps/v1?hash=...").
type openAPIIndex struct {
	fetched time.Time
	paths   map[string]string
}

func parseOpenAPIIndex(body []byte) (any, error) {
	var doc struct {
		Paths map[string]struct {
			ServerRelativeURL string `json:"serverRelativeURL"`
		} `json:"paths"`
	}
	if err := checkJSON(body); err != nil {
		return nil, fmt.Errorf("decode OpenAPI v3 index: %w", err)
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("decode OpenAPI v3 index: %w", err)
	}
	if doc.Paths == nil {
		return nil, fmt.Errorf("decode OpenAPI v3 index: no paths")
	}
	paths := make(map[string]string, len(doc.Paths))
	for k, v := range doc.Paths {
		if v.ServerRelativeURL == "" {
			return nil, fmt.Errorf("decode OpenAPI v3 index: %q has no serverRelativeURL", k)
		}
		paths[k] = v.ServerRelativeURL
	}
	return paths, nil
}

// openAPIPaths returns the index, revalidating it when older than the TTL
// or after Invalidate.
func (c *Client) openAPIPaths(ctx context.Context) (map[string]string, error) {
	c.mu.Lock()
	idx := c.openapi
	fresh := idx != nil && !c.openapiStale && c.ttl > 0 && c.now().Sub(idx.fetched) < c.ttl
	c.mu.Unlock()
	if fresh {
		return idx.paths, nil
	}
	started := c.now()
	v, err := c.fetch(ctx, openAPIRoot, acceptJSON, parseOpenAPIIndex)
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	idx = &openAPIIndex{fetched: started, paths: v.(map[string]string)}
	c.mu.Lock()
	c.openapi = idx
	c.openapiStale = false
	c.mu.Unlock()
	return idx.paths, nil
}

// OpenAPIV3Paths returns the keys of the OpenAPI v3 documents the server
// publishes, such as "api/v1" and "apis/apps/v1", sorted.
func (c *Client) OpenAPIV3Paths(ctx context.Context) ([]string, error) {
	paths, err := c.openAPIPaths(ctx)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(paths))
	for k := range paths {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys, nil
}

// openAPIKey is the index key of gv's document, such as "apis/apps/v1".
func openAPIKey(gv unstructured.GroupVersion) string {
	return strings.Join(groupVersionSegments(gv.Group, gv.Version), "/")
}

// OpenAPIV3 returns the OpenAPI v3 document (JSON) the server publishes for
// gv. The index at /openapi/v3 is revalidated like the discovery documents;
// a document URL that carries a content hash (?hash=) is immutable, so its
// document is downloaded once and then served from memory for as long as
// the index names that URL. The returned slice is the caller's own.
func (c *Client) OpenAPIV3(ctx context.Context, gv unstructured.GroupVersion) ([]byte, error) {
	doc, err := c.openAPIDocument(ctx, gv)
	if err != nil {
		return nil, err
	}
	return []byte(doc), nil
}

// openAPIDocument returns gv's document as an immutable string, shared with
// the cache.
func (c *Client) openAPIDocument(ctx context.Context, gv unstructured.GroupVersion) (string, error) {
	paths, err := c.openAPIPaths(ctx)
	if err != nil {
		return "", err
	}
	ref, ok := paths[openAPIKey(gv)]
	if !ok {
		return "", fmt.Errorf("discovery: OpenAPI v3 for %s: the server publishes none: %w", gv, ErrNoSchema)
	}
	u, err := url.Parse(ref)
	if err != nil || u.IsAbs() || u.Host != "" {
		return "", fmt.Errorf("discovery: OpenAPI v3 for %s: bad serverRelativeURL %q", gv, ref)
	}
	if u.Query().Get("hash") != "" {
		if doc, ok := c.specs.Get(ref); ok {
			return doc, nil
		}
		// The content behind a hash URL never changes: a copy on disk
		// needs no revalidation.
		if c.disk != nil {
			if _, body, _, ok := c.disk.load(ref, time.Now()); ok && checkJSON(body) == nil {
				doc := string(body)
				c.specs.Add(ref, doc)
				return doc, nil
			}
		}
		c.stats.requests.Add(1)
		resp, err := c.tc.Do(ctx, &transport.Request{
			Method: http.MethodGet, Path: u.Path, Query: u.Query(),
			Header:      http.Header{"Accept": {acceptJSON}},
			NoRateLimit: true,
		})
		if err != nil {
			return "", fmt.Errorf("discovery: OpenAPI v3 for %s: GET %s: %w", gv, u.Path, err)
		}
		if err := checkJSON(resp.Body); err != nil {
			return "", fmt.Errorf("discovery: OpenAPI v3 for %s: GET %s: %w", gv, u.Path, err)
		}
		c.stats.parses.Add(1)
		doc := string(resp.Body)
		c.specs.Add(ref, doc)
		if c.disk != nil {
			c.disk.store(ref, "immutable", resp.Body)
		}
		return doc, nil
	}
	// No hash: revalidate with the ETag like any discovery document.
	v, err := c.fetch(ctx, u.Path, acceptJSON, func(b []byte) (any, error) {
		if err := checkJSON(b); err != nil {
			return nil, err
		}
		return string(b), nil
	})
	if err != nil {
		return "", fmt.Errorf("discovery: OpenAPI v3 for %s: %w", gv, err)
	}
	return v.(string), nil
}

// OpenAPIV3Document returns gv's OpenAPI v3 document parsed with
// gnostic-models. Each call parses anew; the result is the caller's own.
func (c *Client) OpenAPIV3Document(ctx context.Context, gv unstructured.GroupVersion) (*openapi_v3.Document, error) {
	b, err := c.openAPIDocument(ctx, gv)
	if err != nil {
		return nil, err
	}
	doc, err := openapi_v3.ParseDocument([]byte(b))
	if err != nil {
		return nil, fmt.Errorf("discovery: OpenAPI v3 for %s: %w", gv, err)
	}
	return doc, nil
}

// OpenAPIV3Schema returns the JSON schema of gvk from its group version's
// OpenAPI v3 document: the entry of components.schemas whose
// x-kubernetes-group-version-kind names gvk, with its name (such as
// "io.k8s.api.apps.v1.Deployment"). References ($ref) to other components
// are left as they are. The returned slice is the caller's own.
func (c *Client) OpenAPIV3Schema(ctx context.Context, gvk unstructured.GroupVersionKind) (name string, schema []byte, err error) {
	doc, err := c.openAPIDocument(ctx, gvk.GroupVersion())
	if err != nil {
		return "", nil, err
	}
	// gjson reads the string in place: nothing of the document is copied
	// but the schema returned.
	gjson.Get(doc, "components.schemas").ForEach(func(key, value gjson.Result) bool {
		value.Get("x-kubernetes-group-version-kind").ForEach(func(_, k gjson.Result) bool {
			if k.Get("group").String() == gvk.Group && k.Get("version").String() == gvk.Version && k.Get("kind").String() == gvk.Kind {
				name, schema = key.String(), []byte(value.Raw)
				return false
			}
			return true
		})
		return schema == nil
	})
	if schema == nil {
		return "", nil, fmt.Errorf("discovery: OpenAPI v3 has no schema for %s: %w", gvk, ErrNoSchema)
	}
	return strings.Clone(name), schema, nil
}
