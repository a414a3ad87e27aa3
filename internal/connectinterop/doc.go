// Package connectinterop runs the same exec and port-forward scenarios
// through kubedyn's connect package and through client-go's remotecommand
// (WebSocket v5) and portforward (SPDY over WebSocket) against the whole
// control plane of internal/cluster, and checks that both get the same
// bytes and exit codes: both clients speak the protocol the server speaks.
// A TTY exec runs on the node agent's pseudo-terminal: both clients' initial
// size and resize reach the process (`stty size`), and a command on the
// terminal gives both the same \r\n bytes and exit code.
//
// It is a module of its own so that k8s.io stays out of kubedyn's go.mod.
// Run it with `make interop`.
package connectinterop
