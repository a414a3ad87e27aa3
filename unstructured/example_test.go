package unstructured_test

import (
	"errors"
	"fmt"

	"github.com/kubedyn/kubedyn/unstructured"
)

func ExampleParse() {
	o, err := unstructured.Parse([]byte(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","namespace":"default"}}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(o.Kind(), o.Namespace()+"/"+o.Name())

	_, err = unstructured.Parse([]byte(`{"metadata":{"name":"a","name":"b"}}`))
	fmt.Println(errors.Is(err, unstructured.ErrDuplicateKey), err)
	_, err = unstructured.Parse([]byte(`{"metadata":{"name":"a"`))
	fmt.Println(errors.Is(err, unstructured.ErrMalformed))
	// Output:
	// Pod default/web
	// true parse object: duplicate key "name" at offset 24
	// true
}

func ExampleObject_Get() {
	o := unstructured.MustParse(`{"spec":{"replicas":3,"template":{"spec":{"containers":[{"name":"app","image":"nginx:1.27"}]}}}}`)
	fmt.Println(o.Get("spec.replicas").Int())
	fmt.Println(o.Get("spec.template.spec.containers.0.image").String())
	fmt.Println(o.Get("spec.template.spec.containers.#.name").Raw)
	fmt.Println(o.Get("spec.paused").Exists())
	// Output:
	// 3
	// nginx:1.27
	// ["app"]
	// false
}

func ExampleObject_Set() {
	o := unstructured.New("v1", "ConfigMap")
	o2, err := o.Set("metadata.name", "settings")
	if err != nil {
		fmt.Println(err)
		return
	}
	o3, err := o2.Set("data.maxBytes", int64(9007199254740993)) // exact digits, never float64
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(o)
	fmt.Println(o3)
	// Output:
	// {"apiVersion":"v1","kind":"ConfigMap"}
	// {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings"},"data":{"maxBytes":9007199254740993}}
}

func ExamplePath() {
	o := unstructured.New("apps/v1", "Deployment")
	cause := unstructured.Path("metadata", "annotations", "kubernetes.io/change-cause")
	port := unstructured.Path("metadata", "labels", "8080")
	fmt.Println(cause)
	fmt.Println(port)
	o, _ = o.Set(cause, "image bump")
	o, _ = o.Set(port, "open")
	fmt.Println(o.Get(cause).String())
	fmt.Println(o.Get("metadata").Raw)
	// Output:
	// metadata.annotations.kubernetes\.io\/change-cause
	// metadata.labels.:8080
	// image bump
	// {"annotations":{"kubernetes.io/change-cause":"image bump"},"labels":{"8080":"open"}}
}

func ExampleBuilder() {
	o, err := unstructured.NewBuilder("v1", "Service").
		Set("metadata.name", "web").
		Set(unstructured.Path("metadata", "labels", "app.kubernetes.io/name"), "web").
		SetRaw("spec.ports", `[{"port":80,"targetPort":8080}]`).
		Object()
	fmt.Println(o, err)

	_, err = unstructured.New("v1", "Service").Builder().
		Set("spec.ports.#", 1).
		SetRaw("spec.selector", `{"app":`).
		Object()
	fmt.Println(errors.Is(err, unstructured.ErrInvalidPath), errors.Is(err, unstructured.ErrInvalidValue))
	// Output:
	// {"apiVersion":"v1","kind":"Service","metadata":{"name":"web","labels":{"app.kubernetes.io/name":"web"}},"spec":{"ports":[{"port":80,"targetPort":8080}]}} <nil>
	// true true
}

func ExampleDecode() {
	manifest := `# two objects and a list
apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: settings, namespace: shop}
  data: {mode: "fast", retries: "3"}
---
# an empty document is skipped
`
	objs, err := unstructured.Decode([]byte(manifest))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, o := range objs {
		fmt.Println(o)
	}

	_, err = unstructured.Decode([]byte("kind: A\n---\nkind: B\nmetadata:\n  name: [\n"))
	fmt.Println(err)
	// Output:
	// {"apiVersion":"v1","kind":"Namespace","metadata":{"name":"shop"}}
	// {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings","namespace":"shop"},"data":{"mode":"fast","retries":"3"}}
	// document 2 (line 3): malformed: yaml: line 5: did not find expected node content
}

func ExampleParseList() {
	body := []byte(`{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"42","continue":"next"},
	"items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]}`)
	l, err := unstructured.ParseList(body)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, it := range l.Items() {
		fmt.Println(it.Name())
	}
	fmt.Println(l.Len(), l.ResourceVersion(), l.Continue())
	// Output:
	// a
	// b
	// 2 42 next
}

// ValidateJSON vets a body that is then read some other way (here with gjson
// directly), by the same rules as Parse and without copying it.
func ExampleValidateJSON() {
	body := []byte(`{"kind":"Status","code":404,"code":200}`)
	err := unstructured.ValidateJSON(body)
	fmt.Println(errors.Is(err, unstructured.ErrDuplicateKey))
	fmt.Println(unstructured.ValidateJSON([]byte(`{"kind":"Status","code":404}`)))
	// Output:
	// true
	// <nil>
}

func ExampleObject_Delete() {
	o := unstructured.MustParse(`{"metadata":{"name":"web","annotations":{"kubernetes.io/change-cause":"v2","keep":"x"}}}`)
	o, err := o.Delete(unstructured.Path("metadata", "annotations", "kubernetes.io/change-cause"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(o)
	// Output:
	// {"metadata":{"name":"web","annotations":{"keep":"x"}}}
}

func ExampleDecodeManifest() {
	manifest := `apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}
- {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}
`
	decoded, err := unstructured.DecodeManifest([]byte(manifest), &unstructured.DecodeOptions{Source: "shop.yaml"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, d := range decoded {
		fmt.Println(d.Source, d.Object.Kind(), d.Object.Name())
	}

	// Concatenated JSON, as a loop over `kubectl get -o json` writes it.
	decoded, _ = unstructured.DecodeManifest([]byte("{\"kind\":\"A\"}\n{\"kind\":\"B\"}\n"), nil)
	fmt.Println(len(decoded), decoded[1].Source)
	// Output:
	// shop.yaml:1:1 Namespace shop
	// shop.yaml:2:8 (item 1) ConfigMap a
	// shop.yaml:2:9 (item 2) ConfigMap b
	// 2 document 2, line 2
}

func ExampleParseQuantity() {
	for _, s := range []string{"2000m", "1.5Gi", "0.5Ki", "1e3", "100u"} {
		q, err := unstructured.ParseQuantity(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		// A ResourceList value (requests, limits, quota) is also rounded up to milli.
		inList, _ := q.RoundUp(-3)
		fmt.Println(s, "->", q, q.Format(), inList)
	}
	cpu := unstructured.MustParseQuantity("250m").Add(unstructured.MustParseQuantity("1.5"))
	fmt.Println(cpu, cpu.MilliValue(), cpu.Cmp(unstructured.MustParseQuantity("2")))
	// Output:
	// 2000m -> 2 DecimalSI 2
	// 1.5Gi -> 1536Mi BinarySI 1536Mi
	// 0.5Ki -> 512 BinarySI 512
	// 1e3 -> 1e3 DecimalExponent 1e3
	// 100u -> 100u DecimalSI 1m
	// 1750m 1750 -1
}

func ExampleQuantityOf() {
	pod := unstructured.MustParse(`{"spec":{"containers":[{"resources":{"requests":{"cpu":"500m","memory":"256Mi"}}},{"resources":{"requests":{"cpu":1,"memory":"0.5Gi"}}}]}}`)
	var cpu, memory unstructured.Quantity
	for _, c := range pod.Get("spec.containers").Array() {
		q, err := unstructured.QuantityOf(c.Get("resources.requests.cpu"))
		if err != nil {
			fmt.Println(err)
			return
		}
		cpu = cpu.Add(q)
		q, err = unstructured.QuantityOf(c.Get("resources.requests.memory"))
		if err != nil {
			fmt.Println(err)
			return
		}
		memory = memory.Add(q)
	}
	fmt.Println(cpu, memory)
	// Output:
	// 1500m 768Mi
}

func ExampleIntOrString_ScaledValue() {
	d := unstructured.MustParse(`{"spec":{"replicas":10,"strategy":{"rollingUpdate":{"maxSurge":"25%","maxUnavailable":1}}}}`)
	surge, _ := unstructured.IntOrStringOf(d.Get("spec.strategy.rollingUpdate.maxSurge"))
	unavailable, _ := unstructured.IntOrStringOf(d.Get("spec.strategy.rollingUpdate.maxUnavailable"))
	up, _ := surge.ScaledValue(10, true)
	down, _ := surge.ScaledValue(10, false)
	fmt.Println(surge, up, down)
	s, u, err := unstructured.ResolveFenceposts(surge, unavailable, int32(d.Get("spec.replicas").Int()))
	fmt.Println(s, u, err)
	// Output:
	// 25% 3 2
	// 3 1 <nil>
}
