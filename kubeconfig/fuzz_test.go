package kubeconfig

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func FuzzParse(f *testing.F) {
	f.Add([]byte(twoContexts))
	f.Add([]byte(`{"clusters":[{"name":"k","cluster":{"server":"https://x","certificate-authority-data":"QUJD"}}]}`))
	f.Add([]byte("users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: ./p}}}]\n"))
	f.Add([]byte("a: &a [x]\nb: *a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(data)
		if err != nil {
			var kerr *Error
			if !errors.As(err, &kerr) {
				t.Fatalf("error %v is not a *Error", err)
			}
			return
		}
		// Whatever parses can be asked for a configuration without panicking.
		_, _ = file.Config(nil)
		for _, name := range file.ContextNames() {
			_, _ = file.Config(&Options{Context: name})
		}
	})
}

func TestYAMLAliasBombIsRefused(t *testing.T) {
	t.Parallel()
	// Nine levels of nine aliases each would expand to 9^9 strings.
	var b strings.Builder
	b.WriteString("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n")
	prev := "a"
	for _, name := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		b.WriteString(name + ": &" + name + " [")
		for j := range 9 {
			if j > 0 {
				b.WriteString(",")
			}
			b.WriteString("*" + prev)
		}
		b.WriteString("]\n")
		prev = name
	}
	b.WriteString("preferences: *i\n")
	// Expanding it would take minutes and gigabytes; the decoder's alias
	// budget refuses it early, which the "aliasing" error shows.
	_, err := Parse([]byte(b.String()))
	require.Error(t, err)
	var kerr *Error
	assert.ErrorAs(t, err, &kerr)
	assert.Contains(t, err.Error(), "aliasing")
}
