package main

import (
	"context"
	"fmt"
	"io"

	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

// stepRows show each step to the floor in one run, under the same load:
// the "before" column does the work as kubedyn did before the step (the
// same calls it made then, written out here), the "after" column as it does
// now. They reuse row: kubedyn is "after", clientgo is "before".
func stepRows(e *env) []*row {
	path := "/api/v1/namespaces/" + benchNamespace + "/configmaps"
	cm := e.kd.Resource("v1", "ConfigMap").Namespace(benchNamespace)
	count := func(n int) error {
		if n != e.n {
			return fmt.Errorf("listed %d objects, want %d", n, e.n)
		}
		return nil
	}
	// sequential is List as it was: one page after the other, the next
	// asked for only once the caller is done with the current one.
	sequential := func(limit int64, keep bool) side {
		return func(ctx context.Context) (sample, error) {
			return timed(func() error {
				var kept []unstructured.Object
				n := 0
				opts := &resource.ListOptions{Limit: limit}
				for {
					page, err := cm.ListPage(ctx, opts)
					if err != nil {
						return err
					}
					for _, obj := range page.Items() {
						sink.Add(int64(len(obj.Name())))
						n++
						if keep {
							kept = append(kept, obj)
						}
					}
					if page.Continue() == "" {
						break
					}
					opts = &resource.ListOptions{Limit: limit, Continue: page.Continue()}
				}
				return count(n)
			})
		}
	}
	list := func(limit int64) side {
		return func(ctx context.Context) (sample, error) {
			return timed(func() error {
				n := 0
				for obj, err := range cm.List(ctx, &resource.ListOptions{Limit: limit}) {
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
	// perBody: bytes allocated by reading the gzipped list, per byte of
	// the uncompressed body.
	perBody := func(f func(ctx context.Context) (int, error)) side {
		return func(ctx context.Context) (sample, error) {
			var n int
			s, err := timed(func() error {
				var err error
				n, err = f(ctx)
				return err
			})
			if n > 0 {
				s.value = s.bytes / float64(n)
			}
			return s, err
		}
	}
	rows := []*row{
		{group: "step: body read", name: "gzipped list: io.ReadAll (before) vs buffer sized from the last read (after)", unit: "B/B",
			note: "bytes allocated per byte of body, the whole request; target after <= 1.3",
			clientgo: perBody(func(ctx context.Context) (int, error) {
				b, err := e.rawGet(ctx, path)
				return len(b), err
			}),
			kubedyn: perBody(func(ctx context.Context) (int, error) {
				resp, err := e.kd.Transport().Do(ctx, &transport.Request{Path: path})
				if err != nil {
					return 0, err
				}
				return len(resp.Body), nil
			}),
		},
		{group: "step: List paged", name: fmt.Sprintf("%d a page sequential (before) vs List's default: %d, then pages of up to %d MiB fetched ahead (after)", resource.DefaultPageSize, resource.DefaultPageSize, resource.ListPageBytes>>20),
			note:     "target after/floor <= 1.15",
			clientgo: sequential(resource.DefaultPageSize, false), kubedyn: list(0),
			floorName: "raw GET + io.ReadAll", floor: floor,
		},
		{group: "step: ListAll", name: fmt.Sprintf("%d a page sequential (before) vs ListAll's default: %d, then pages of up to %d MiB fetched ahead (after)", resource.DefaultPageSize, resource.DefaultPageSize, resource.ListAllPageBytes>>20),
			clientgo: sequential(resource.DefaultPageSize, true),
			kubedyn: func(ctx context.Context) (sample, error) {
				return timed(func() error {
					items, _, err := cm.ListAll(ctx, nil)
					if err != nil {
						return err
					}
					return count(len(items))
				})
			},
			floorName: "raw GET + io.ReadAll", floor: floor,
		},
	}
	for _, size := range extraPageSizes {
		rows = append(rows, &row{group: "step: List paged", name: fmt.Sprintf("%d a page (Limit): sequential (before) vs fetched ahead (after)", size),
			clientgo: sequential(size, false), kubedyn: list(size), floorName: "raw GET + io.ReadAll", floor: floor})
	}
	for _, rw := range rows {
		rw.sides = [3]string{"after", "before", "floor"}
	}
	return rows
}

// extraPageSizes are other page sizes to compare (the -page-sizes flag).
var extraPageSizes []int64

// printSteps writes the steps' table: before, after, the floor.
func printSteps(w io.Writer, rows []*row) {
	if len(rows) == 0 {
		return
	}
	fmt.Fprintln(w, "\nSteps to the floor, before and after, in the same run:")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| step | before | after | before / after | floor | after / floor |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|")
	for _, rw := range rows {
		after, _, _ := rw.figure(rw.kd)
		before, _, _ := rw.figure(rw.cg)
		fl, _, flok := rw.figure(rw.fl)
		ratio := ""
		if after > 0 {
			ratio = fmt.Sprintf("%.2fx", before/after)
		}
		flCell, vs := "", ""
		if flok && fl > 0 {
			flCell = rw.format(fl) + " (" + rw.floorName + ")"
			vs = fmt.Sprintf("%.2fx", after/fl)
		}
		name := rw.group + ": " + rw.name
		if rw.note != "" {
			name += " (" + rw.note + ")"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", name, rw.format(before), rw.format(after), ratio, flCell, vs)
	}
}
