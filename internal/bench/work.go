package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kubedyn/kubedyn/discovery"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
	"github.com/kubedyn/kubedyn/watch"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	cgunstructured "k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/discovery/cached/disk"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/pager"
)

var sink atomic.Int64

// readKD reads name, resourceVersion and one data key of every item.
func readKD(l unstructured.List) int {
	n := 0
	for _, it := range l.All() {
		n += len(it.Get("metadata.name").Str)
		n += len(it.Get("metadata.resourceVersion").Str)
		n += len(it.Get(`data.log\.level`).Str)
	}
	return n
}

// readCG is readKD on client-go's objects, with its accessors.
func readCG(l *cgunstructured.UnstructuredList) int {
	n := 0
	for i := range l.Items {
		it := &l.Items[i]
		n += len(it.GetName())
		n += len(it.GetResourceVersion())
		v, _, _ := cgunstructured.NestedString(it.Object, "data", "log.level")
		n += len(v)
	}
	return n
}

// readMaps is readKD on encoding/json's maps.
func readMaps(src []byte) (int, error) {
	var m map[string]any
	if err := json.Unmarshal(src, &m); err != nil {
		return 0, err
	}
	n := 0
	for _, it := range m["items"].([]any) {
		item := it.(map[string]any)
		meta := item["metadata"].(map[string]any)
		n += len(meta["name"].(string))
		n += len(meta["resourceVersion"].(string))
		n += len(item["data"].(map[string]any)["log.level"].(string))
	}
	return n, nil
}

// memoryRT answers every request with body, as a server would: the path
// through a client's response handling without the network.
type memoryRT struct{ body []byte }

func (m memoryRT) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_ = r.Body.Close()
	}
	return &http.Response{
		StatusCode:    http.StatusOK,
		Status:        "200 OK",
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(bytes.NewReader(m.body)),
		ContentLength: int64(len(m.body)),
		Request:       r,
	}, nil
}

// memoryDynamic is client-go's dynamic client over memoryRT.
func memoryDynamic(body []byte) (dynamic.Interface, error) {
	return dynamic.NewForConfig(&rest.Config{Host: "http://memory.invalid", QPS: -1, Transport: memoryRT{body}})
}

// decodeRows: the same bytes decoded and read by each client.
func decodeRows(e *env) ([]*row, error) {
	src := e.listBytes
	want := -1
	check := func(n int) error {
		if want < 0 {
			want = n
		}
		if n != want {
			return fmt.Errorf("read %d bytes of fields; another side read %d", n, want)
		}
		sink.Add(int64(n))
		return nil
	}
	memDyn, err := memoryDynamic(src)
	if err != nil {
		return nil, err
	}
	events := watchStream(src, 2000)
	memWatch, err := memoryDynamic(events)
	if err != nil {
		return nil, err
	}
	nEvents := bytes.Count(events, []byte("\n"))
	wantEvents := func(n int) error {
		if n != nEvents {
			return fmt.Errorf("decoded %d events of %d", n, nEvents)
		}
		return nil
	}
	return []*row{
		{group: "decode 10k list + read 3 fields/item", name: "parse (kubedyn) vs UnstructuredList.UnmarshalJSON (client-go)",
			kubedyn: func(context.Context) (sample, error) {
				return timed(func() error {
					l, err := unstructured.ParseListNoCopy(src)
					if err != nil {
						return err
					}
					return check(readKD(l))
				})
			},
			clientgo: func(context.Context) (sample, error) {
				return timed(func() error {
					var l cgunstructured.UnstructuredList
					if err := l.UnmarshalJSON(src); err != nil {
						return err
					}
					return check(readCG(&l))
				})
			},
			floorName: "bytes.Clone",
			floor: func(context.Context) (sample, error) {
				return timed(func() error { sink.Add(int64(len(bytes.Clone(src)))); return nil })
			},
		},
		{group: "decode 10k list + read 3 fields/item", name: "parse alone (kubedyn) vs dynamic client's response path (client-go)",
			note: "no reads on the kubedyn side: the cost of the reads is the difference from the row above",
			kubedyn: func(context.Context) (sample, error) {
				return timed(func() error {
					l, err := unstructured.ParseListNoCopy(src)
					sink.Add(int64(l.Len()))
					return err
				})
			},
			clientgo: func(ctx context.Context) (sample, error) {
				return timed(func() error {
					l, err := memDyn.Resource(configMaps).Namespace(benchNamespace).List(ctx, metav1.ListOptions{})
					if err != nil {
						return err
					}
					return check(readCG(l))
				})
			},
			floorName: "io.ReadAll",
			floor: func(context.Context) (sample, error) {
				return timed(func() error {
					b, err := io.ReadAll(struct{ io.Reader }{bytes.NewReader(src)})
					sink.Add(int64(len(b)))
					return err
				})
			},
		},
		{group: "decode 10k list + read 3 fields/item", name: "kubedyn: parse + 3 reads/item against the parse alone",
			note: "no client-go column; target kubedyn / floor <= 1.5",
			kubedyn: func(context.Context) (sample, error) {
				return timed(func() error {
					l, err := unstructured.ParseListNoCopy(src)
					if err != nil {
						return err
					}
					return check(readKD(l))
				})
			},
			floorName: "parse alone",
			floor: func(context.Context) (sample, error) {
				return timed(func() error {
					l, err := unstructured.ParseListNoCopy(src)
					sink.Add(int64(l.Len()))
					return err
				})
			},
		},
		{group: "decode 10k list + read 3 fields/item", name: "kubedyn parse + reads vs encoding/json into maps",
			kubedyn: func(context.Context) (sample, error) {
				return timed(func() error {
					l, err := unstructured.ParseListNoCopy(src)
					if err != nil {
						return err
					}
					return check(readKD(l))
				})
			},
			clientgo: func(context.Context) (sample, error) {
				return timed(func() error {
					n, err := readMaps(src)
					if err != nil {
						return err
					}
					return check(n)
				})
			},
			note: "the client-go column is encoding/json",
		},
		{group: "watch decode", name: fmt.Sprintf("%d ADDED events, name read", nEvents),
			kubedyn: func(ctx context.Context) (sample, error) {
				return timed(func() error {
					n := 0
					for ev, err := range watch.Decode(ctx, io.NopCloser(bytes.NewReader(events))) {
						if err != nil {
							return err
						}
						sink.Add(int64(len(ev.Object.Name())))
						n++
					}
					return wantEvents(n)
				})
			},
			clientgo: func(ctx context.Context) (sample, error) {
				return timed(func() error {
					w, err := memWatch.Resource(configMaps).Namespace(benchNamespace).Watch(ctx, metav1.ListOptions{})
					if err != nil {
						return err
					}
					defer w.Stop()
					n := 0
					for ev := range w.ResultChan() {
						u, ok := ev.Object.(*cgunstructured.Unstructured)
						if !ok {
							return fmt.Errorf("event %d: %T %v", n, ev.Object, ev.Object)
						}
						sink.Add(int64(len(u.GetName())))
						n++
					}
					return wantEvents(n)
				})
			},
			floorName: "bytes.Clone",
			floor: func(context.Context) (sample, error) {
				return timed(func() error { sink.Add(int64(len(bytes.Clone(events)))); return nil })
			},
		},
	}, nil
}

// watchStream turns the first n items of a list into a watch stream of
// ADDED events, each object with its apiVersion and kind as the server
// sends them in a watch.
func watchStream(list []byte, n int) []byte {
	l, err := unstructured.ParseList(list)
	if err != nil {
		panic(err)
	}
	var b bytes.Buffer
	for i, it := range l.All() {
		if i == n {
			break
		}
		o, err := it.Builder().Set("apiVersion", "v1").Set("kind", "ConfigMap").Object()
		if err != nil {
			panic(err)
		}
		b.WriteString(`{"type":"ADDED","object":`)
		b.WriteString(o.String())
		b.WriteString("}\n")
	}
	return b.Bytes()
}

// listRows: the 10,000 listed end to end.
func listRows(e *env) []*row {
	path := "/api/v1/namespaces/" + benchNamespace + "/configmaps"
	cm := e.kd.Resource("v1", "ConfigMap").Namespace(benchNamespace)
	cg := e.cg.Resource(configMaps).Namespace(benchNamespace)
	count := func(n int) error {
		if n != e.n {
			return fmt.Errorf("listed %d objects, want %d", n, e.n)
		}
		return nil
	}
	kdList := func(opts *resource.ListOptions) side {
		return func(ctx context.Context) (sample, error) {
			return timed(func() error {
				n := 0
				for obj, err := range cm.List(ctx, opts) {
					if err != nil {
						return err
					}
					sink.Add(int64(len(obj.Name())))
					n++
				}
				return count(n)
			})
		}
	}
	floor := func(ctx context.Context) (sample, error) {
		return timed(func() error {
			b, err := e.rawGet(ctx, path)
			sink.Add(int64(len(b)))
			return err
		})
	}
	return []*row{
		{group: "list 10k", name: "one request",
			kubedyn: kdList(&resource.ListOptions{Limit: -1}),
			clientgo: func(ctx context.Context) (sample, error) {
				return timed(func() error {
					l, err := cg.List(ctx, metav1.ListOptions{})
					if err != nil {
						return err
					}
					for i := range l.Items {
						sink.Add(int64(len(l.Items[i].GetName())))
					}
					return count(len(l.Items))
				})
			},
			floorName: "raw GET + io.ReadAll", floor: floor,
		},
		{group: "list 10k", name: "paged, defaults",
			note:    fmt.Sprintf("kubedyn List: %d, then pages of up to %d MiB, the next fetched while the caller reads; client-go pager: %d a page", resource.DefaultPageSize, resource.ListPageBytes>>20, 500),
			kubedyn: kdList(nil),
			clientgo: func(ctx context.Context) (sample, error) {
				return timed(func() error {
					p := pager.New(func(ctx context.Context, opts metav1.ListOptions) (runtimeObject, error) {
						return cg.List(ctx, opts)
					})
					n := 0
					err := p.EachListItem(ctx, metav1.ListOptions{}, func(obj runtimeObject) error {
						u := obj.(*cgunstructured.Unstructured)
						sink.Add(int64(len(u.GetName())))
						n++
						return nil
					})
					if err != nil {
						return err
					}
					return count(n)
				})
			},
			floorName: "raw GET + io.ReadAll", floor: floor,
		},
		{group: "list 10k", name: "ListAll (kubedyn, defaults) vs List (client-go)",
			kubedyn: func(ctx context.Context) (sample, error) {
				return timed(func() error {
					items, _, err := cm.ListAll(ctx, nil)
					if err != nil {
						return err
					}
					return count(len(items))
				})
			},
			clientgo: func(ctx context.Context) (sample, error) {
				return timed(func() error {
					l, err := cg.List(ctx, metav1.ListOptions{})
					if err != nil {
						return err
					}
					return count(len(l.Items))
				})
			},
			floorName: "raw GET + io.ReadAll", floor: floor,
		},
		{group: "heap", name: "held by the 10k listed objects", unit: "B/object",
			note: "kubedyn ListAll, client-go List; the floor is the JSON itself",
			kubedyn: func(ctx context.Context) (sample, error) {
				var items []unstructured.Object
				return held(e.n, func() error {
					var err error
					items, _, err = cm.ListAll(ctx, nil)
					return err
				}, func() { runtime.KeepAlive(items) })
			},
			clientgo: func(ctx context.Context) (sample, error) {
				var l *cgunstructured.UnstructuredList
				return held(e.n, func() error {
					var err error
					l, err = cg.List(ctx, metav1.ListOptions{})
					return err
				}, func() { runtime.KeepAlive(l) })
			},
			floorName: "JSON bytes",
			floor: func(context.Context) (sample, error) {
				return sample{value: float64(len(e.listBytes)) / float64(e.n)}, nil
			},
		},
	}
}

// held measures the live heap that what f builds keeps, per object.
func held(n int, f func() error, keep func()) (sample, error) {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	if err := f(); err != nil {
		return sample{}, err
	}
	d := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	keep()
	return sample{ns: float64(d.Nanoseconds()), bytes: float64(after.TotalAlloc - before.TotalAlloc),
		value: float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(n)}, nil
}

// opsRows: Get and Update per op, workers goroutines for d.
func opsRows(e *env, d time.Duration) ([]*row, error) {
	kdDefault, err := resource.NewClient(e.kdConfig(nil)) // kubedyn's default: no client-side limit
	if err != nil {
		return nil, err
	}
	get := func(kd *resource.Client, cg dynamic.Interface) (side, side) {
		return func(ctx context.Context) (sample, error) {
				h := kd.Resource("v1", "ConfigMap").Namespace(opsNamespace)
				return throughput(ctx, d, func(ctx context.Context, w int) (func() error, error) {
					name := fmt.Sprintf("cfg-%05d", w)
					return func() error {
						o, err := h.Get(ctx, name, nil)
						sink.Add(int64(len(o.Name())))
						return err
					}, nil
				})
			}, func(ctx context.Context) (sample, error) {
				h := cg.Resource(configMaps).Namespace(opsNamespace)
				return throughput(ctx, d, func(ctx context.Context, w int) (func() error, error) {
					name := fmt.Sprintf("cfg-%05d", w)
					return func() error {
						o, err := h.Get(ctx, name, metav1.GetOptions{})
						if err == nil {
							sink.Add(int64(len(o.GetName())))
						}
						return err
					}, nil
				})
			}
	}
	update := func(kd *resource.Client, cg dynamic.Interface) (side, side) {
		return func(ctx context.Context) (sample, error) {
				h := kd.Resource("v1", "ConfigMap").Namespace(opsNamespace)
				return throughput(ctx, d, func(ctx context.Context, w int) (func() error, error) {
					o, err := h.Get(ctx, fmt.Sprintf("cfg-%05d", w), nil)
					if err != nil {
						return nil, err
					}
					i := 0
					return func() error {
						i++
						next, err := o.Set("data.counter", strconv.Itoa(i))
						if err != nil {
							return err
						}
						o, err = h.Update(ctx, next, nil)
						return err
					}, nil
				})
			}, func(ctx context.Context) (sample, error) {
				h := cg.Resource(configMaps).Namespace(opsNamespace)
				return throughput(ctx, d, func(ctx context.Context, w int) (func() error, error) {
					o, err := h.Get(ctx, fmt.Sprintf("cfg-%05d", w), metav1.GetOptions{})
					if err != nil {
						return nil, err
					}
					i := 0
					return func() error {
						i++
						if err := cgunstructured.SetNestedField(o.Object, strconv.Itoa(i), "data", "counter"); err != nil {
							return err
						}
						o, err = h.Update(ctx, o, metav1.UpdateOptions{})
						return err
					}, nil
				})
			}
	}
	var rows []*row
	for _, c := range []struct {
		name string
		kd   *resource.Client
		cg   dynamic.Interface
	}{{"rate limits off", e.kd, e.cg}, {"defaults (client-go 5 QPS, burst 10; kubedyn none)", kdDefault, e.cgDefault}} {
		gk, gc := get(c.kd, c.cg)
		uk, uc := update(c.kd, c.cg)
		rows = append(rows,
			&row{group: fmt.Sprintf("get, %d goroutines", workers), name: c.name, unit: "ops/s", higherWins: true, kubedyn: gk, clientgo: gc},
			&row{group: fmt.Sprintf("update, %d goroutines", workers), name: c.name, unit: "ops/s", higherWins: true, kubedyn: uk, clientgo: uc})
	}
	return rows, nil
}

// throughput runs workers goroutines, each calling the op its setup returns
// until d is over; value is ops per second, bytes are per op.
func throughput(ctx context.Context, d time.Duration, setup func(ctx context.Context, w int) (func() error, error)) (sample, error) {
	ops := make([]func() error, workers)
	for w := range workers {
		op, err := setup(ctx, w)
		if err != nil {
			return sample{}, err
		}
		ops[w] = op
	}
	var count atomic.Int64
	var firstErr error
	var once sync.Once
	s, _ := timed(func() error {
		end := time.Now().Add(d)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for time.Now().Before(end) {
					if err := ops[w](); err != nil {
						once.Do(func() { firstErr = err })
						return
					}
					count.Add(1)
				}
			})
		}
		wg.Wait()
		return nil
	})
	if firstErr != nil {
		return sample{}, firstErr
	}
	n := float64(count.Load())
	if n == 0 {
		return sample{}, fmt.Errorf("no op completed in %s", d)
	}
	return sample{ns: s.ns / n, bytes: s.bytes / n, value: n / (s.ns / 1e9)}, nil
}

// discoveryRows: resolving every resource with crds CRDs installed.
func discoveryRows(e *env) []*row {
	var kdDir, cgDir string // the warm rows reuse the last cold row's directories
	var kdWarm *discovery.Client
	var cgWarm *disk.CachedDiscoveryClient
	var cgWarmN *atomic.Int64

	kdNewTTL := func(dir string, ttl time.Duration) (*discovery.Client, *atomic.Int64, error) {
		n := new(atomic.Int64)
		tc, err := transport.New(e.kdConfig(func(rt http.RoundTripper) http.RoundTripper { return counting{n, rt} }))
		if err != nil {
			return nil, nil, err
		}
		return discovery.New(tc, &discovery.Options{CacheDir: dir, CacheDirTTL: ttl}), n, nil
	}
	kdNew := func(dir string) (*discovery.Client, *atomic.Int64, error) { return kdNewTTL(dir, 0) }
	cgNew := func(dir string) (*disk.CachedDiscoveryClient, *atomic.Int64, error) {
		n := new(atomic.Int64)
		cfg := e.cgConfig()
		cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { return counting{n, rt} }
		// kubectl's choice: discovery documents under cache/discovery,
		// HTTP responses under cache/http, trusted for 6 hours.
		c, err := disk.NewCachedDiscoveryClientForConfig(cfg, dir+"/discovery", dir+"/http", 6*time.Hour)
		return c, n, err
	}
	kdResolve := func(ctx context.Context, c *discovery.Client) error {
		res, err := c.Resources(ctx)
		sink.Add(int64(len(res)))
		return err
	}
	cgResolve := func(c *disk.CachedDiscoveryClient) error {
		_, res, err := c.ServerGroupsAndResources()
		sink.Add(int64(len(res)))
		return err
	}
	withRequests := func(s sample, err error, n *atomic.Int64) (sample, error) {
		s.value = float64(n.Load())
		return s, err
	}
	// kdFromDisk and cgFromDisk start a new client on the cold row's
	// directory; keep makes it the one the Invalidate row uses.
	kdFromDisk := func(ttl time.Duration, keep bool) side {
		return func(ctx context.Context) (sample, error) {
			c, n, err := kdNewTTL(kdDir, ttl)
			if err != nil {
				return sample{}, err
			}
			if keep {
				kdWarm = c
			}
			s, err := timed(func() error { return kdResolve(ctx, c) })
			return withRequests(s, err, n)
		}
	}
	cgFromDisk := func(keep bool) side {
		return func(context.Context) (sample, error) {
			c, n, err := cgNew(cgDir)
			if err != nil {
				return sample{}, err
			}
			if keep {
				cgWarm, cgWarmN = c, n
			}
			s, err := timed(func() error { return cgResolve(c) })
			return withRequests(s, err, n)
		}
	}
	return []*row{
		{group: "discovery, 200 CRDs", name: "cold (empty cache dir)", unit: "requests",
			note: "every resource of every group; figure = requests, time below",
			kubedyn: func(ctx context.Context) (sample, error) {
				dir, err := os.MkdirTemp("", "kd-disc")
				if err != nil {
					return sample{}, err
				}
				kdDir = dir
				c, n, err := kdNew(dir)
				if err != nil {
					return sample{}, err
				}
				s, err := timed(func() error { return kdResolve(ctx, c) })
				return withRequests(s, err, n)
			},
			clientgo: func(ctx context.Context) (sample, error) {
				dir, err := os.MkdirTemp("", "cg-disc")
				if err != nil {
					return sample{}, err
				}
				cgDir = dir
				c, n, err := cgNew(dir)
				if err != nil {
					return sample{}, err
				}
				s, err := timed(func() error { return cgResolve(c) })
				return withRequests(s, err, n)
			},
		},
		{group: "discovery, 200 CRDs", name: "warm from disk, both trusting it (new client)", unit: "requests",
			note:    "kubedyn Options.CacheDirTTL 6 h, kubectl's TTL, which client-go's disk cache is given in every row",
			kubedyn: kdFromDisk(6*time.Hour, false), clientgo: cgFromDisk(false)},
		{group: "discovery, 200 CRDs", name: "warm from disk (new client)", unit: "requests",
			note:    "kubedyn's default revalidates each copy (If-None-Match, 304); client-go trusts its disk cache for 6 h",
			kubedyn: kdFromDisk(0, true), clientgo: cgFromDisk(true)},
		{group: "discovery, 200 CRDs", name: "after Invalidate", unit: "requests",
			kubedyn: func(ctx context.Context) (sample, error) {
				before := kdWarm.Stats().Requests
				kdWarm.Invalidate()
				s, err := timed(func() error { return kdResolve(ctx, kdWarm) })
				s.value = float64(kdWarm.Stats().Requests - before)
				return s, err
			},
			clientgo: func(ctx context.Context) (sample, error) {
				cgWarmN.Store(0)
				cgWarm.Invalidate()
				s, err := timed(func() error { return cgResolve(cgWarm) })
				return withRequests(s, err, cgWarmN)
			},
		},
	}
}

// discoveryTimes turns the discovery rows' times into rows of their own.
func discoveryTimes(rows []*row) []*row {
	var out []*row
	for _, rw := range rows {
		t := &row{group: rw.group, name: rw.name + ", time", kd: rw.kd, cg: rw.cg}
		out = append(out, t)
	}
	return out
}

// runtimeObject is k8s.io/apimachinery's runtime.Object.
type runtimeObject = k8sruntime.Object
