package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"time"
)

// sample is one run of one side of a comparison.
type sample struct {
	ns    float64 // time per op
	bytes float64 // bytes allocated per op
	value float64 // the row's own figure (requests, B/object, ops/s); 0 when the row is about time
}

// side is the work of one client (or the floor) in a comparison: one call
// is one op.
type side func(ctx context.Context) (sample, error)

// row is one line of the table: the same work through kubedyn, client-go
// and, when there is one, the floor.
type row struct {
	group, name string
	unit        string // "" for time; otherwise the unit of sample.value
	higherWins  bool   // for value rows: more is better (ops/s)
	kubedyn     side
	clientgo    side
	floor       side
	floorName   string
	note        string
	// sides names the three sides in benchmark output; empty means
	// kubedyn, client-go and floor.
	sides [3]string

	kd, cg, fl []sample
}

// timed runs f once and measures its time and allocation, a GC first so
// that one side's garbage is not paid by the next.
func timed(f func() error) (sample, error) {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	err := f()
	d := time.Since(start)
	runtime.ReadMemStats(&after)
	return sample{ns: float64(d.Nanoseconds()), bytes: float64(after.TotalAlloc - before.TotalAlloc)}, err
}

// run measures every row for rounds rounds, alternating which side goes
// first, and writes each run in benchmark format to raw (when not nil).
func run(ctx context.Context, server string, rows []*row, rounds int, raw io.Writer, progress io.Writer) error {
	for r := range rounds {
		for _, rw := range rows {
			sides := []struct {
				name string
				f    side
				out  *[]sample
			}{{"kubedyn", rw.kubedyn, &rw.kd}, {"client-go", rw.clientgo, &rw.cg}, {"floor", rw.floor, &rw.fl}}
			if rw.sides[0] != "" {
				for i := range sides {
					sides[i].name = rw.sides[i]
				}
			}
			if r%2 == 1 {
				sides[0], sides[1] = sides[1], sides[0]
			}
			for _, s := range sides {
				if s.f == nil {
					continue
				}
				smp, err := s.f(ctx)
				if err != nil {
					return fmt.Errorf("%s %s/%s, %s: %w", server, rw.group, rw.name, s.name, err)
				}
				*s.out = append(*s.out, smp)
				if raw != nil {
					fmt.Fprintf(raw, "Benchmark%s/%s/server=%s/client=%s \t1\t%.0f ns/op\t%.0f B/op", benchName(rw.group), benchName(rw.name), server, s.name, smp.ns, smp.bytes)
					if rw.unit != "" {
						fmt.Fprintf(raw, "\t%g %s", smp.value, benchName(rw.unit))
					}
					fmt.Fprintln(raw)
				}
			}
			if progress != nil {
				fmt.Fprintf(progress, "%s round %d/%d: %s/%s\n", server, r+1, rounds, rw.group, rw.name)
			}
		}
	}
	return nil
}

// benchName makes a name usable in benchmark format (no spaces).
func benchName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' {
			return '_'
		}
		return r
	}, s)
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func field(ss []sample, f func(sample) float64) []float64 {
	out := make([]float64, len(ss))
	for i, s := range ss {
		out[i] = f(s)
	}
	return out
}

// figure returns a side's median figure for the table: the value for value
// rows, the time otherwise; and the median allocation.
func (rw *row) figure(ss []sample) (fig, alloc float64, ok bool) {
	if len(ss) == 0 {
		return 0, 0, false
	}
	alloc = median(field(ss, func(s sample) float64 { return s.bytes }))
	if rw.unit != "" {
		return median(field(ss, func(s sample) float64 { return s.value })), alloc, true
	}
	return median(field(ss, func(s sample) float64 { return s.ns })), alloc, true
}

// printTable writes the table in Markdown.
func printTable(w io.Writer, server string, rows []*row) {
	fmt.Fprintf(w, "\n### %s\n\n", server)
	fmt.Fprintln(w, "| work | kubedyn | client-go | client-go / kubedyn | floor | kubedyn / floor | allocated: kubedyn, client-go, floor |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---|")
	for _, rw := range rows {
		kd, kda, _ := rw.figure(rw.kd)
		cg, cga, cgok := rw.figure(rw.cg)
		fl, fla, flok := rw.figure(rw.fl)
		ratio, vsFloor, flCell := "", "", ""
		if cgok && kd > 0 {
			if rw.higherWins {
				ratio = fmt.Sprintf("%.2fx", kd/cg)
			} else {
				ratio = fmt.Sprintf("%.2fx", cg/kd)
			}
		}
		if flok {
			flCell = rw.format(fl) + " (" + rw.floorName + ")"
			if fl > 0 {
				vsFloor = fmt.Sprintf("%.2fx", kd/fl)
			}
		}
		cgCell := ""
		if cgok {
			cgCell = rw.format(cg)
		}
		allocs := mb(kda)
		if cgok {
			allocs += ", " + mb(cga)
		}
		if flok {
			allocs += ", " + mb(fla)
		}
		name := rw.group + ": " + rw.name
		if rw.note != "" {
			name += " (" + rw.note + ")"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", name, rw.format(kd), cgCell, ratio, flCell, vsFloor, allocs)
	}
}

func (rw *row) format(v float64) string {
	switch rw.unit {
	case "":
		switch {
		case v >= 1e9:
			return fmt.Sprintf("%.2f s", v/1e9)
		case v >= 1e6:
			return fmt.Sprintf("%.1f ms", v/1e6)
		default:
			return fmt.Sprintf("%.0f µs", v/1e3)
		}
	case "requests":
		return fmt.Sprintf("%.0f req", v)
	case "B/B":
		return fmt.Sprintf("%.2f B/B", v)
	case "ops/s":
		return fmt.Sprintf("%.0f ops/s", v)
	default:
		return fmt.Sprintf("%.0f %s", v, rw.unit)
	}
}

func mb(b float64) string {
	switch {
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MB", b/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.0f kB", b/(1<<10))
	default:
		return fmt.Sprintf("%.0f B", b)
	}
}
