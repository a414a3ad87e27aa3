// Command etcd is the etcd server, built from go.etcd.io/etcd/server/v3 as a
// Go module, the storage backend of the kube-apiserver used by kubedyn's
// end-to-end tests.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
