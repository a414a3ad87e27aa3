package discovery

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/kubedyn/kubedyn/transport"
)

// VersionInfo is the server's answer to GET /version. It is a plain value.
type VersionInfo struct {
	Major        string `json:"major"`
	Minor        string `json:"minor"`
	GitVersion   string `json:"gitVersion"`
	GitCommit    string `json:"gitCommit"`
	GitTreeState string `json:"gitTreeState"`
	BuildDate    string `json:"buildDate"`
	GoVersion    string `json:"goVersion"`
	Compiler     string `json:"compiler"`
	Platform     string `json:"platform"`
}

// ServerVersion asks the server for its version (GET /version). It is not
// cached.
func (c *Client) ServerVersion(ctx context.Context) (VersionInfo, error) {
	resp, err := c.tc.Do(ctx, &transport.Request{
		Method:      http.MethodGet,
		Path:        "/version",
		Header:      http.Header{"Accept": {acceptJSON}},
		NoRateLimit: true,
	})
	if err != nil {
		return VersionInfo{}, fmt.Errorf("discovery: GET /version: %w", err)
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
