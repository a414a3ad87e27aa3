package kubeconfig_test

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/kubedyn/kubedyn/kubeconfig"
)

func ExampleLoad() {
	// Load(nil) follows kubectl: $KUBECONFIG, ~/.kube/config, in-cluster.
	// Here an explicit file and a context override are used instead.
	cfg, err := kubeconfig.Load(&kubeconfig.Options{Path: "testdata/example.yaml", Context: "dev"})
	if errors.Is(err, kubeconfig.ErrNoConfig) {
		fmt.Println("no cluster configured")
		return
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("host:", cfg.Host)
	fmt.Println("namespace:", cfg.Namespace)
	fmt.Println("CA file:", filepath.Base(cfg.TLS.CAFile), filepath.IsAbs(cfg.TLS.CAFile))
	// Output:
	// host: https://dev.example.com:6443
	// namespace: team-a
	// CA file: ca.crt true
}

func ExampleRead() {
	f, err := kubeconfig.Read(&kubeconfig.Options{Path: "testdata/example.yaml"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, name := range f.ContextNames() {
		current := ""
		if name == f.CurrentContext {
			current = " (current)"
		}
		fmt.Printf("%s -> cluster %s%s\n", name, f.Contexts[name].Cluster, current)
	}
	cfg, err := f.Config(&kubeconfig.Options{Context: "prod"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.Host, cfg.Namespace)
	// Output:
	// dev -> cluster dev-cluster (current)
	// prod -> cluster prod-cluster
	// https://prod.example.com:6443 default
}

func ExampleLoadBytes() {
	_, err := kubeconfig.LoadBytes([]byte(`
current-context: broken
contexts:
- name: broken
  context: {cluster: missing}
`), nil)
	fmt.Println(err)
	// Output:
	// kubeconfig (data): contexts["broken"]: context "broken" refers to unknown cluster "missing"
}
