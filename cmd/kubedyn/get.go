package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/itchyny/gojq"
	"github.com/spf13/cobra"
	"github.com/tidwall/gjson"
	"sigs.k8s.io/yaml"

	"github.com/kubedyn/kubedyn/discovery"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

type getFlags struct {
	output   string
	selector string
	fields   string
	path     string
	jq       string
}

func newGet(g *globals) *cobra.Command {
	f := &getFlags{}
	cmd := &cobra.Command{
		Use:   "get RESOURCE [NAME...] | RESOURCE/NAME...",
		Short: "Show objects as the server's table, JSON, YAML or NDJSON",
		Long: `get lists objects of a resource, or the named ones.

Without -o it prints the table the server renders (the columns kubectl get
prints); -o wide adds the server's lower-priority columns. -o json and -o yaml
print one object, or a List of several; -o ndjson prints one object a line.
--path PATH prints what a gjson path selects in that document (with -o ndjson,
in each object); --jq EXPR runs a jq program on it instead.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runGet(cmd.Context(), g, f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.output, "output", "o", "", "output format: wide, json, yaml, ndjson, name")
	fl.StringVarP(&f.selector, "selector", "l", "", "label selector, such as app=web,tier!=db")
	fl.StringVar(&f.fields, "field-selector", "", "field selector, such as status.phase=Running")
	fl.StringVar(&f.path, "path", "", "print what this gjson path selects")
	fl.StringVar(&f.jq, "jq", "", "print what this jq program outputs")
	return cmd
}

// target is a resource and the names asked for.
type target struct {
	resource string
	names    []string
}

// parseTargets reads `RESOURCE [NAME...]` or `RESOURCE/NAME...`.
func parseTargets(args []string) ([]target, error) {
	if !strings.Contains(args[0], "/") {
		if strings.Contains(args[0], ",") {
			return nil, fmt.Errorf("several resources in %q: name one resource", args[0])
		}
		return []target{{resource: args[0], names: args[1:]}}, nil
	}
	var ts []target
	for _, a := range args {
		res, name, ok := strings.Cut(a, "/")
		if !ok || res == "" || name == "" {
			return nil, fmt.Errorf("%q: mix of RESOURCE/NAME and plain arguments; use RESOURCE/NAME for each", a)
		}
		if n := len(ts); n > 0 && ts[n-1].resource == res {
			ts[n-1].names = append(ts[n-1].names, name)
			continue
		}
		ts = append(ts, target{resource: res, names: []string{name}})
	}
	return ts, nil
}

// handle resolves a resource name and binds the namespace the flags ask for
// (none for a cluster-scoped resource).
func (g *globals) handle(ctx context.Context, c *resource.Client, name string, all bool) (resource.Handle, discovery.APIResource, error) {
	h := c.ResourceFor(name)
	ar, err := h.Resolve(ctx)
	if err != nil {
		return h, ar, err
	}
	if ar.Namespaced {
		if all {
			h = h.AllNamespaces()
		} else {
			h = h.Namespace(c.DefaultNamespace())
		}
	}
	return h, ar, nil
}

func runGet(ctx context.Context, g *globals, f *getFlags, args []string) error {
	switch f.output {
	case "", "wide", "json", "yaml", "ndjson", "name":
	default:
		return &exitError{code: exitCannotRun, err: fmt.Errorf("unknown output format %q (want wide, json, yaml, ndjson or name)", f.output)}
	}
	if f.path != "" && f.jq != "" {
		return &exitError{code: exitCannotRun, err: errors.New("--path and --jq cannot be used together")}
	}
	var jq *gojq.Code
	if f.jq != "" {
		q, err := gojq.Parse(f.jq)
		if err != nil {
			return &exitError{code: exitCannotRun, err: fmt.Errorf("--jq: %w", err)}
		}
		if jq, err = gojq.Compile(q); err != nil {
			return &exitError{code: exitCannotRun, err: fmt.Errorf("--jq: %w", err)}
		}
	}
	targets, err := parseTargets(args)
	if err != nil {
		return &exitError{code: exitCannotRun, err: err}
	}
	c, err := g.client()
	if err != nil {
		return &exitError{code: exitCannotRun, err: err}
	}
	p := &printer{g: g, f: f, jq: jq, ns: c.DefaultNamespace()}
	missing := 0
	for _, t := range targets {
		h, ar, err := g.handle(ctx, c, t.resource, g.allNamespaces && len(t.names) == 0)
		if err != nil {
			return &exitError{code: exitCannotRun, err: err}
		}
		lopts := resource.ListOptions{LabelSelector: f.selector, FieldSelector: f.fields}
		if (f.output == "" || f.output == "wide") && f.path == "" && jq == nil {
			n, err := p.table(ctx, h, ar, t.names, lopts)
			if err != nil {
				return &exitError{code: exitCannotRun, err: err}
			}
			missing += n
			continue
		}
		if len(t.names) == 0 {
			for obj, err := range h.List(ctx, &lopts) {
				if err != nil {
					return &exitError{code: exitCannotRun, err: err}
				}
				p.add(obj)
			}
			continue
		}
		for _, name := range t.names {
			obj, err := h.Get(ctx, name, nil)
			if errors.Is(err, transport.ErrNotFound) {
				fmt.Fprintf(g.errOut, "Error from server (NotFound): %s %q not found\n", groupResource(ar), name)
				missing++
				continue
			}
			if err != nil {
				return &exitError{code: exitCannotRun, err: err}
			}
			p.add(obj)
		}
	}
	if err := p.flush(len(targets) == 1 && len(targets[0].names) == 1); err != nil {
		return &exitError{code: exitCannotRun, err: err}
	}
	if missing > 0 {
		return failed()
	}
	return nil
}

// printer writes objects in the chosen format. Objects are buffered for
// json and yaml (one document) and written at once for the others.
type printer struct {
	g       *globals
	f       *getFlags
	jq      *gojq.Code
	ns      string
	objs    []unstructured.Object
	printed bool
	tw      *tabwriter.Writer
}

func (p *printer) add(obj unstructured.Object) {
	switch p.f.output {
	case "ndjson":
		p.emit(obj.Bytes())
	case "name":
		fmt.Fprintf(p.g.out, "%s/%s\n", strings.ToLower(obj.Kind()), obj.Name())
	default:
		p.objs = append(p.objs, obj)
	}
	p.printed = true
}

// flush writes the buffered document: the object when one name was asked
// for, else a List of the objects.
func (p *printer) flush(single bool) error {
	if p.f.output == "ndjson" || p.f.output == "name" {
		return nil
	}
	if p.tw != nil {
		return p.tw.Flush()
	}
	if p.f.output == "" || p.f.output == "wide" {
		// --path or --jq without -o: on the document, as for json.
		p.f.output = "json"
	}
	var doc []byte
	if single && len(p.objs) == 1 {
		doc = p.objs[0].Bytes()
	} else {
		var b bytes.Buffer
		b.WriteString(`{"apiVersion":"v1","kind":"List","metadata":{"resourceVersion":""},"items":[`)
		for i, o := range p.objs {
			if i > 0 {
				b.WriteByte(',')
			}
			b.Write(o.Bytes())
		}
		b.WriteString("]}")
		doc = b.Bytes()
	}
	if !single || len(p.objs) > 0 {
		return p.emitErr(doc)
	}
	return nil
}

func (p *printer) emit(doc []byte) {
	if err := p.emitErr(doc); err != nil {
		fmt.Fprintln(p.g.errOut, "error:", err)
	}
}

// emitErr writes one document in the output format, or what --path or --jq
// make of it.
func (p *printer) emitErr(doc []byte) error {
	switch {
	case p.f.path != "":
		r := gjson.GetBytes(doc, p.f.path)
		if !r.Exists() {
			return nil
		}
		return writeValue(p.g.out, r)
	case p.jq != nil:
		var v any
		if err := json.Unmarshal(doc, &v); err != nil {
			return err
		}
		it := p.jq.Run(v)
		for {
			x, ok := it.Next()
			if !ok {
				return nil
			}
			if err, ok := x.(error); ok {
				var he interface{ IsHaltError() bool }
				if errors.As(err, &he) && he.IsHaltError() {
					return nil
				}
				return fmt.Errorf("--jq: %w", err)
			}
			if s, ok := x.(string); ok {
				fmt.Fprintln(p.g.out, s)
				continue
			}
			b, err := gojq.Marshal(x)
			if err != nil {
				return err
			}
			fmt.Fprintln(p.g.out, string(b))
		}
	}
	switch p.f.output {
	case "yaml":
		y, err := yaml.JSONToYAML(doc)
		if err != nil {
			return err
		}
		_, err = p.g.out.Write(y)
		return err
	case "ndjson":
		_, err := fmt.Fprintf(p.g.out, "%s\n", doc)
		return err
	default:
		var b bytes.Buffer
		if err := json.Indent(&b, doc, "", "    "); err != nil {
			return err
		}
		b.WriteByte('\n')
		_, err := p.g.out.Write(b.Bytes())
		return err
	}
}

// writeValue prints a gjson result: strings raw, everything else as JSON.
func writeValue(w io.Writer, r gjson.Result) error {
	var err error
	if r.Type == gjson.String {
		_, err = fmt.Fprintln(w, r.String())
	} else {
		_, err = fmt.Fprintln(w, r.Raw)
	}
	return err
}

// table prints the server-side Table of the resource (or of each name) and
// returns how many names were not found.
func (p *printer) table(ctx context.Context, h resource.Handle, ar discovery.APIResource, names []string, lopts resource.ListOptions) (int, error) {
	if p.tw == nil {
		p.tw = tabwriter.NewWriter(p.g.out, 6, 4, 3, ' ', 0)
	}
	showNS := p.g.allNamespaces && ar.Namespaced && len(names) == 0
	selectors := []string{lopts.FieldSelector}
	if len(names) > 0 {
		selectors = selectors[:0]
		for _, n := range names {
			fs := "metadata.name=" + n
			if lopts.FieldSelector != "" {
				fs += "," + lopts.FieldSelector
			}
			selectors = append(selectors, fs)
		}
	}
	missing, rows := 0, 0
	header := !p.printed
	for i, fs := range selectors {
		opts := &resource.TableOptions{ListOptions: lopts}
		opts.FieldSelector = fs
		opts.Limit = resource.DefaultPageSize
		found := 0
		for {
			tbl, err := h.Table(ctx, opts)
			if err != nil {
				return missing, err
			}
			if tbl.Kind() != "Table" {
				return missing, fmt.Errorf("the server did not render %s as a table (kind %q)", ar.QualifiedName(), tbl.Kind())
			}
			cols := tableColumns(tbl, p.f.output == "wide")
			if header {
				var hs []string
				if showNS {
					hs = append(hs, "NAMESPACE")
				}
				for _, c := range cols {
					hs = append(hs, strings.ToUpper(tbl.Get(fmt.Sprintf("columnDefinitions.%d.name", c)).String()))
				}
				fmt.Fprintln(p.tw, strings.Join(hs, "\t"))
				header = false
			}
			for _, row := range tbl.Get("rows").Array() {
				var cells []string
				if showNS {
					cells = append(cells, row.Get("object.metadata.namespace").String())
				}
				all := row.Get("cells").Array()
				for _, c := range cols {
					cells = append(cells, cellString(all, c))
				}
				fmt.Fprintln(p.tw, strings.Join(cells, "\t"))
				found++
			}
			opts.Continue = tbl.Get("metadata.continue").String()
			if opts.Continue == "" {
				break
			}
		}
		rows += found
		if len(names) > 0 && found == 0 {
			missing++
			if err := p.tw.Flush(); err != nil {
				return missing, err
			}
			fmt.Fprintf(p.g.errOut, "Error from server (NotFound): %s %q not found\n", groupResource(ar), names[i])
		}
	}
	if rows > 0 {
		p.printed = true
	}
	if rows == 0 && len(names) == 0 {
		if ar.Namespaced && !p.g.allNamespaces {
			fmt.Fprintf(p.g.errOut, "No resources found in %s namespace.\n", p.ns)
		} else {
			fmt.Fprintln(p.g.errOut, "No resources found")
		}
	}
	return missing, nil
}

// tableColumns returns the indexes of the columns to print: priority 0
// only, or all of them when wide.
func tableColumns(tbl unstructured.Object, wide bool) []int {
	var cols []int
	for i, c := range tbl.Get("columnDefinitions").Array() {
		if wide || c.Get("priority").Int() == 0 {
			cols = append(cols, i)
		}
	}
	return cols
}

// cellString formats one cell as kubectl does: <none> for null or absent.
func cellString(cells []gjson.Result, i int) string {
	if i >= len(cells) {
		return "<none>"
	}
	c := cells[i]
	switch c.Type {
	case gjson.Null:
		return "<none>"
	case gjson.String:
		return c.Str
	default:
		return c.Raw
	}
}

// groupResource names a resource as kubectl's messages do: configmaps,
// deployments.apps.
func groupResource(ar discovery.APIResource) string {
	if ar.Group == "" {
		return ar.Resource
	}
	return ar.Resource + "." + ar.Group
}
