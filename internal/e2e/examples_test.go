package e2e_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runExample builds examples/<name> and runs it as a program against the
// whole plane, as a user would on their cluster: KUBECONFIG names the
// plane's kubeconfig with its admin context's namespace set to ns. It
// returns standard output once the program exited with 0.
func runExample(t *testing.T, name, ns string) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, name)
	out, err := exec.Command("go", "build", "-o", bin, "github.com/kubedyn/kubedyn/examples/"+name).CombinedOutput()
	require.NoError(t, err, string(out))
	kc, err := os.ReadFile(plane(t).Kubeconfig)
	require.NoError(t, err)
	const adminNS = "    user: admin\n    namespace: default\n"
	require.Contains(t, string(kc), adminNS)
	kcPath := filepath.Join(dir, "kubeconfig")
	require.NoError(t, os.WriteFile(kcPath, []byte(strings.Replace(string(kc), adminNS, "    user: admin\n    namespace: "+ns+"\n", 1)), 0o600))

	ctx, cancel := context.WithTimeout(testContext(t), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kcPath, "KUBERNETES_SERVICE_HOST=", "KUBERNETES_SERVICE_PORT=")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	require.NoError(t, cmd.Run(), "examples/%s\nstdout:\n%s\nstderr:\n%s", name, stdout.String(), stderr.String())
	t.Logf("examples/%s ran in %v", name, time.Since(start).Round(time.Millisecond))
	assert.Empty(t, stderr.String())
	assert.Contains(t, stdout.String(), "Using the configured cluster at "+plane(t).URL+"\n")
	assert.NotContains(t, stdout.String(), "cleanup:")
	return stdout.String()
}

// standInNginx answers on port 80 as the example's nginx would: the node
// agent runs no images, so the example's nginx container is idle, and
// this pod, in the same pod network (one port space, as the agent
// documents), serves port 80 for it.
const standInNginx = `import http.server
class H(http.server.BaseHTTPRequestHandler):
    protocol_version="HTTP/1.1"
    def version_string(self):
        return "nginx"
    def do_GET(self):
        b=b"<h1>Welcome to nginx!</h1>\n"
        self.send_response(200)
        self.send_header("Content-Length",str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def log_message(self,*a):
        pass
s=http.server.ThreadingHTTPServer(("0.0.0.0",80),H)
print(80,flush=True)
s.serve_forever()
`

// TestExamplesOnTheWholePlane runs examples/exec, examples/logs and
// examples/portforward as programs against the whole plane and checks
// what they print: the same lines their own tests check against the
// in-process test server.
func TestExamplesOnTheWholePlane(t *testing.T) {
	t.Parallel()
	ns := planeNamespace(t)
	admin := planeAdmin(t)
	pods := admin.Resource("v1", "Pod").Namespace(ns)

	t.Run("exec", func(t *testing.T) {
		out := runExample(t, "exec", ns)
		assert.Regexp(t, `echo said: hello from exec-demo-[0-9a-f]{6}\n`, out)
		assert.Contains(t, out, "cat returned 2 lines: \"first line\\nsecond line\\n\"\n")
		assert.Contains(t, out, "sh exited with code 3\n")
	})
	t.Run("logs", func(t *testing.T) {
		out := runExample(t, "logs", ns)
		assert.Regexp(t, `(?s)followed "step 1" \(written at \d\d:\d\d:\d\d\)\n.*followed "step 5" \(written at \d\d:\d\d:\d\d\)\n`, out)
		assert.Equal(t, 5, strings.Count(out, "followed "))
		assert.Contains(t, out, `the last two lines: ["step 4" "step 5"]`)
	})
	t.Run("portforward", func(t *testing.T) {
		pyPod(t, ns, pods, admin.Connect(), "stand-in-nginx", nil, standInNginx)
		out := runExample(t, "portforward", ns)
		assert.Contains(t, out, "through the local listener: 200 OK, server nginx, 27 bytes\n")
		assert.Contains(t, out, "through a dialled connection: HTTP/1.1 200 OK\n")
	})
}
