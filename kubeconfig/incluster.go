package kubeconfig

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/kubedyn/kubedyn/transport"
)

// serviceAccountDir is where Kubernetes mounts a pod's service account.
const serviceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount"

// ErrNotInCluster reports that KUBERNETES_SERVICE_HOST or
// KUBERNETES_SERVICE_PORT is unset, so the program does not run in a pod.
var ErrNotInCluster = errors.New("kubeconfig: not running in a cluster (KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set)")

// InCluster returns the configuration of a program running in a pod: the
// API server from KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT, and
// the token, CA certificate and namespace the service account mounts under
// /var/run/secrets/kubernetes.io/serviceaccount. BearerTokenFile is set so
// a rotated token is picked up. Outside a pod it returns ErrNotInCluster;
// an unreadable token is an error.
func InCluster() (*transport.Config, error) {
	return inCluster(osEnv())
}

func inCluster(e env) (*transport.Config, error) {
	host, port := e.getenv("KUBERNETES_SERVICE_HOST"), e.getenv("KUBERNETES_SERVICE_PORT")
	if host == "" || port == "" {
		return nil, ErrNotInCluster
	}
	tokenFile := filepath.Join(e.saDir, "token")
	token, err := os.ReadFile(tokenFile)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: in-cluster service account token: %w", err)
	}
	cfg := &transport.Config{
		// JoinHostPort brackets an IPv6 address.
		Host:            "https://" + net.JoinHostPort(host, port),
		BearerToken:     strings.TrimSpace(string(token)),
		BearerTokenFile: tokenFile,
		Namespace:       DefaultNamespace,
	}
	caFile := filepath.Join(e.saDir, "ca.crt")
	if _, err := os.Stat(caFile); err != nil {
		return nil, fmt.Errorf("kubeconfig: in-cluster CA certificate: %w", err)
	}
	cfg.TLS.CAFile = caFile
	if ns, err := os.ReadFile(filepath.Join(e.saDir, "namespace")); err == nil {
		if s := strings.TrimSpace(string(ns)); s != "" {
			cfg.Namespace = s
		}
	}
	return cfg, nil
}
