// Command kube-controller-manager is the upstream Kubernetes controller
// manager, built from k8s.io/kubernetes as a Go module like kube-apiserver,
// so that kubedyn's end-to-end tests run garbage collection, namespace
// deletion, service accounts, Deployments, Jobs and the rest.
package main

import (
	"os"
	_ "time/tzdata" // CronJob time zones, as upstream

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"          // JSON log format
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // client-go metrics
	_ "k8s.io/component-base/metrics/prometheus/version"  // version metric
	"k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

func main() {
	os.Exit(cli.Run(app.NewControllerManagerCommand()))
}
