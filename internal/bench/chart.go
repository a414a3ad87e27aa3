package main

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

// result is the runs of one benchmark line: one work, one server, one
// client.
type result struct {
	work, server, client string
	unit                 string // "" for time
	values               []float64
}

// parseRaw reads the benchmark-format lines run writes:
//
//	Benchmark<group>/<name>/server=<s>/client=<c> 1 <ns> ns/op <b> B/op [<v> <unit>]
func parseRaw(r io.Reader) ([]*result, error) {
	byKey := map[string]*result{}
	var order []*result
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 6 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := strings.TrimPrefix(f[0], "Benchmark")
		i := strings.LastIndex(name, "/client=")
		j := strings.LastIndex(name, "/server=")
		if i < 0 || j < 0 || j > i {
			return nil, fmt.Errorf("benchmark line without server= and client=: %q", f[0])
		}
		res := &result{work: name[:j], server: name[j+len("/server=") : i], client: name[i+len("/client="):]}
		v, err := strconv.ParseFloat(f[2], 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f[0], err)
		}
		if len(f) >= 8 {
			res.unit = f[7]
			if v, err = strconv.ParseFloat(f[6], 64); err != nil {
				return nil, fmt.Errorf("%s: %w", f[0], err)
			}
		}
		key := res.work + "\x00" + res.server + "\x00" + res.client
		if old, ok := byKey[key]; ok {
			old.values = append(old.values, v)
			continue
		}
		res.values = []float64{v}
		byKey[key] = res
		order = append(order, res)
	}
	return order, sc.Err()
}

// bar is one bar of the chart: client-go's figure over kubedyn's (so more
// than 1 favours kubedyn), and kubedyn's over its floor when there is one.
type bar struct {
	work, server     string
	ratio, vsFloor   float64
	hasFloor, hasCG  bool
	kubedyn, floorOf float64
	unit             string
}

func bars(results []*result) []bar {
	type key struct{ work, server string }
	med := map[key]map[string]float64{}
	units := map[key]string{}
	var keys []key
	for _, r := range results {
		k := key{r.work, r.server}
		if med[k] == nil {
			med[k] = map[string]float64{}
			keys = append(keys, k)
		}
		med[k][r.client] = median(r.values)
		units[k] = r.unit
	}
	var out []bar
	for _, k := range keys {
		m := med[k]
		kd, ok := m["kubedyn"]
		if !ok || kd == 0 {
			continue
		}
		b := bar{work: k.work, server: k.server, kubedyn: kd, unit: units[k]}
		if cg, ok := m["client-go"]; ok && cg > 0 {
			b.hasCG = true
			b.ratio = cg / kd
			if units[k] == "ops/s" {
				b.ratio = kd / cg
			}
		}
		if fl, ok := m["floor"]; ok && fl > 0 {
			b.hasFloor, b.floorOf, b.vsFloor = true, fl, kd/fl
		}
		out = append(out, b)
	}
	return out
}

func chartFile(path string, w io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	results, err := parseRaw(f)
	if err != nil {
		return err
	}
	return chart(bars(results), w)
}

// chart draws, for every row measured against both clients, client-go's
// figure as a multiple of kubedyn's on a log scale: one bar per server.
func chart(bs []bar, w io.Writer) error {
	// Request counts are no cost ratio (warm discovery: 2 against 0).
	bs = slices.DeleteFunc(slices.Clone(bs), func(b bar) bool { return !b.hasCG || b.unit == "requests" })
	if len(bs) == 0 {
		return fmt.Errorf("no rows with both clients")
	}
	const (
		labelW = 560
		plotW  = 420
		barH   = 14
		gap    = 8
		top    = 60
		minR   = 0.1
		maxR   = 1000.0
	)
	var works []string
	servers := map[string][]bar{}
	for _, b := range bs {
		if !slices.Contains(works, b.work) {
			works = append(works, b.work)
		}
		servers[b.work] = append(servers[b.work], b)
	}
	perWork := 0
	for _, v := range servers {
		perWork = max(perWork, len(v))
	}
	height := top + len(works)*(perWork*barH+gap) + 50
	width := labelW + plotW + 90
	x := func(r float64) float64 {
		r = math.Min(math.Max(r, minR), maxR)
		return labelW + plotW*(math.Log10(r)-math.Log10(minR))/(math.Log10(maxR)-math.Log10(minR))
	}
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n", width, height, width, height)
	fmt.Fprintf(w, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(w, `<text x="10" y="20" font-size="14" font-weight="bold">kubedyn vs client-go v0.37.2: client-go's cost as a multiple of kubedyn's (log scale; right of 1 = kubedyn ahead)</text>`+"\n")
	colors := map[string]string{"test": "#8fb3d9", "real": "#1f5fa8"}
	fmt.Fprintf(w, `<rect x="10" y="32" width="12" height="10" fill="%s"/><text x="26" y="41">embedded test server</text>`+"\n", colors["test"])
	fmt.Fprintf(w, `<rect x="170" y="32" width="12" height="10" fill="%s"/><text x="186" y="41">kube-apiserver v1.37.2</text>`+"\n", colors["real"])
	for _, t := range []float64{0.1, 0.5, 1, 2, 5, 10, 20, 50, 100, 1000} {
		fmt.Fprintf(w, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s"/>`+"\n", x(t), top-6, x(t), height-40, map[bool]string{true: "#333", false: "#ddd"}[t == 1])
		fmt.Fprintf(w, `<text x="%.1f" y="%d" text-anchor="middle">%gx</text>`+"\n", x(t), height-26, t)
	}
	y := top
	for _, work := range works {
		label := strings.ReplaceAll(work, "_", " ")
		if r := []rune(label); len(r) > 92 {
			label = string(r[:91]) + "…"
		}
		fmt.Fprintf(w, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", labelW-8, y+barH, html.EscapeString(label))
		for _, b := range servers[work] {
			c := colors[b.server]
			if c == "" {
				c = "#999"
			}
			x0, x1 := x(1), x(b.ratio)
			if x1 < x0 {
				x0, x1 = x1, x0
			}
			fmt.Fprintf(w, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"/>`+"\n", x0, y, math.Max(x1-x0, 1), barH-2, c)
			fmt.Fprintf(w, `<text x="%.1f" y="%d">%.2fx</text>`+"\n", math.Max(x(b.ratio), x(1))+4, y+barH-3, b.ratio)
			y += barH
		}
		y += gap
	}
	fmt.Fprintf(w, `<text x="10" y="%d" fill="#555">Drawn by internal/bench -chart from the output of make bench; figures in docs/performance.md.</text>`+"\n", height-8)
	fmt.Fprintln(w, "</svg>")
	return nil
}
