// Command kube-scheduler is the upstream Kubernetes scheduler, built from
// k8s.io/kubernetes as a Go module like kube-apiserver, so that pods created
// in kubedyn's end-to-end tests are bound to the node agent's nodes.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"          // JSON log format
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // client-go metrics
	_ "k8s.io/component-base/metrics/prometheus/version"  // version metric
	"k8s.io/kubernetes/cmd/kube-scheduler/app"
)

func main() {
	os.Exit(cli.Run(app.NewSchedulerCommand()))
}
