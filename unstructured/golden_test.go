package unstructured

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestDecodeGolden decodes each manifest in testdata/decode and compares
// the objects, one compact JSON object per line, with its .golden file.
// Run with -update to rewrite the golden files after a deliberate change.
func TestDecodeGolden(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join("testdata", "decode", "*.[jy][sa]*"))
	require.NoError(t, err)
	require.NotEmpty(t, inputs)
	for _, in := range inputs {
		if strings.HasSuffix(in, ".golden") {
			continue
		}
		t.Run(filepath.Base(in), func(t *testing.T) {
			data, err := os.ReadFile(in)
			require.NoError(t, err)
			objs, err := Decode(data)
			require.NoError(t, err)
			var b strings.Builder
			for _, o := range objs {
				b.WriteString(o.String())
				b.WriteString("\n")
			}
			golden := strings.TrimSuffix(in, filepath.Ext(in)) + ".golden"
			if *update {
				require.NoError(t, os.WriteFile(golden, []byte(b.String()), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test -run TestDecodeGolden -update to create it")
			assert.Equal(t, string(want), b.String())
		})
	}
}
