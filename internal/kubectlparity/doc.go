// Package kubectlparity compares discovery's name resolution with kubectl's
// over the same discovery documents: a real kube-apiserver's, plus CRDs made
// to collide. The kubectl side is client-go's deferred discovery RESTMapper
// and shortcut expander, as kubectl builds them, under the rules of
// kubectl's resource builder (mappingFor in k8s.io/cli-runtime, restated
// here). Every name form of every served resource is asked of both; each
// difference must fall in a class docs/architecture.md explains.
//
// It is a module of its own, so that k8s.io modules stay out of the main
// go.mod; `make parity` runs it.
package kubectlparity
