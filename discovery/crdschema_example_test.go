package discovery_test

import (
	"fmt"

	"github.com/kubedyn/kubedyn/discovery"
	"github.com/kubedyn/kubedyn/unstructured"
)

// A CRD's schema, compiled without a server, checks its custom resources
// before the CRD is installed.
func ExampleCompileCRDSchema() {
	crd := unstructured.MustParse(`{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
	  "metadata":{"name":"widgets.example.com"},
	  "spec":{"group":"example.com","scope":"Namespaced","names":{"plural":"widgets","kind":"Widget"},
	    "versions":[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object",
	      "properties":{"spec":{"type":"object","required":["size"],
	        "properties":{"size":{"type":"integer","minimum":1},"mode":{"type":"string","default":"Slow"}}}}}}}]}}`)
	schema, err := discovery.CompileCRDSchema(crd, "v1")
	if err != nil {
		fmt.Println(err)
		return
	}
	w := unstructured.MustParse(`{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w","labelz":{}},"spec":{"size":0}}`)
	res, err := unstructured.Validate(w, schema, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Err())
	good, _ := unstructured.Default(unstructured.MustParse(`{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},"spec":{"size":3}}`), schema)
	fmt.Println(good.Get("spec"))
	// Output:
	// Widget w is invalid: [metadata.labelz: unknown field "metadata.labelz", spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1]
	// {"mode":"Slow","size":3}
}
