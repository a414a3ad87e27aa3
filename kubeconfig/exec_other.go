//go:build !unix

package kubeconfig

import "os/exec"

// ownProcessGroup does nothing where process groups are not available:
// the timeout kills the plugin only.
func ownProcessGroup(cmd *exec.Cmd) {}
