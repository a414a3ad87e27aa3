package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSmall runs every measurement once at a tiny size against the test
// server and draws the chart from its output, so that `make test` keeps the
// benchmark compiling and working without the long runs.
func TestSmall(t *testing.T) {
	raw := filepath.Join(t.TempDir(), "raw.txt")
	var out bytes.Buffer
	o := &options{server: "test", n: 60, crds: 6, rounds: 2, opsRounds: 1, duration: 50 * time.Millisecond, raw: raw, quiet: true}
	require.NoError(t, benchmark(context.Background(), o, &out, nil))
	table := out.String()
	for _, want := range []string{"decode 10k list", "list 10k: one request", "paged, defaults", "heap: held", "get, 16 goroutines", "update, 16 goroutines", "discovery, 200 CRDs: cold", "watch decode", "informer 10k: heap after sync", "start to synced"} {
		assert.Contains(t, table, want)
	}
	var svg bytes.Buffer
	require.NoError(t, chartFile(raw, &svg))
	assert.True(t, strings.HasPrefix(svg.String(), "<svg"), svg.String())
	assert.Contains(t, svg.String(), "list 10k/one request")
	t.Log(table)
}
