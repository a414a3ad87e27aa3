package discovery

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/kubedyn/kubedyn/transport"
)

// VersionInfo is the server's answer to GET /version. It is a plain value,
// safe to copy and share between goroutines.
type VersionInfo struct {
	Major        string `json:"major"`        // such as "1"
	Minor        string `json:"minor"`        // such as "37" (may carry a "+" suffix on some distributions)
	GitVersion   string `json:"gitVersion"`   // such as "v1.37.2"
	GitCommit    string `json:"gitCommit"`    // the source commit
	GitTreeState string `json:"gitTreeState"` // "clean" or "dirty"
	BuildDate    string `json:"buildDate"`    // RFC 3339
	GoVersion    string `json:"goVersion"`    // such as "go1.26.1"
	Compiler     string `json:"compiler"`     // such as "gc"
	Platform     string `json:"platform"`     // such as "linux/amd64"
}

// ServerVersion asks the server for its version (GET /version). It is not
// cached.
func (c *Client) ServerVersion(ctx context.Context) (VersionInfo, error) {
	c.stats.requests.Add(1)
	resp, err := c.tc.Do(ctx, &transport.Request{
		Method:      http.MethodGet,
		Path:        "/version",
		Header:      http.Header{"Accept": {acceptJSON}},
		NoRateLimit: true,
	})
	if err != nil {
		return VersionInfo{}, fmt.Errorf("discovery: GET /version: %w", err)
	}
	// Held to the same rules as every other document: encoding/json would
	// take the last of two duplicate keys where gjson takes the first.
	if err := checkJSON(resp.Body); err != nil {
		return VersionInfo{}, fmt.Errorf("discovery: GET /version: decode: %w", err)
	}
	var v VersionInfo
	if err := json.Unmarshal(resp.Body, &v); err != nil {
		return VersionInfo{}, fmt.Errorf("discovery: GET /version: decode: %w", err)
	}
	if v.GitVersion == "" && v.Major == "" {
		return VersionInfo{}, fmt.Errorf("discovery: GET /version: no version in the answer")
	}
	return v, nil
}
