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
	output       string
	selector     string
	fields       string
	path         string
	jq           string
	watch        bool
	watchOnly    bool
	watchEvents  bool
	showLabels   bool
	labelColumns []string
}

func newGet(g *globals) *cobra.Command {
	f := &getFlags{}
	cmd := &cobra.Command{
		Use:   "get RESOURCE[,RESOURCE...] [NAME...] | RESOURCE/NAME...",
		Short: "Show objects as the server's table, JSON, YAML or NDJSON",
		Long: `get lists objects of a resource, or the named ones; pods,services lists
several resources, a table each, names prefixed with their kind as kubectl does.

Without -o it prints the table the server renders (the columns kubectl get
prints); -o wide adds the server's lower-priority columns, --show-labels a
LABELS column and -L KEY a column per label key. -o json and -o yaml print one
object, or a List of several; -o ndjson prints one object a line. --path PATH
prints what a gjson path selects in that document (with -o ndjson, in each
object); --jq EXPR runs a jq program on it instead.

-w prints the list, then a row (or object) per change as the server renders
it, until SIGINT or SIGTERM (exit 0); --watch-only skips the list, and
--output-watch-events adds the event type (an EVENT column, or
{"type","object"} documents). A watch takes one resource and at most one name.`,
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
	fl.BoolVarP(&f.watch, "watch", "w", false, "after the list, print each change until interrupted")
	fl.BoolVar(&f.watchOnly, "watch-only", false, "print each change, without the list first")
	fl.BoolVar(&f.watchEvents, "output-watch-events", false, "with a watch, show each change's type (ADDED, MODIFIED, DELETED)")
	fl.BoolVar(&f.showLabels, "show-labels", false, "add a LABELS column to the table")
	fl.StringSliceVarP(&f.labelColumns, "label-columns", "L", nil, "add a column with each of these labels' values (comma-separated or repeated)")
	return cmd
}

// target is a resource and the names asked for.
type target struct {
	resource string
	names    []string
}

// parseTargets reads `RESOURCE [NAME...]` or `RESOURCE/NAME...`; with
// several is true, `RESOURCE,RESOURCE... [NAME...]` too.
func parseTargets(args []string, several bool) ([]target, error) {
	if !strings.Contains(args[0], "/") {
		if !strings.Contains(args[0], ",") {
			return []target{{resource: args[0], names: args[1:]}}, nil
		}
		if !several {
			return nil, fmt.Errorf("several resources in %q: name one resource", args[0])
		}
		var ts []target
		for _, r := range strings.Split(args[0], ",") {
			if r == "" {
				return nil, fmt.Errorf("%q: an empty resource name between commas", args[0])
			}
			ts = append(ts, target{resource: r, names: args[1:]})
		}
		return ts, nil
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
	targets, err := parseTargets(args, true)
	if err != nil {
		return &exitError{code: exitCannotRun, err: err}
	}
	tableOut := (f.output == "" || f.output == "wide") && f.path == "" && jq == nil
	if !tableOut && (f.showLabels || len(f.labelColumns) > 0) {
		return &exitError{code: exitCannotRun, err: errors.New("--show-labels and -L are for the table output")}
	}
	if f.watchOnly {
		f.watch = true
	}
	if f.watchEvents && !f.watch {
		return &exitError{code: exitCannotRun, err: errors.New("--output-watch-events needs -w or --watch-only")}
	}
	if f.watch && (len(targets) > 1 || len(targets[0].names) > 1) {
		return &exitError{code: exitCannotRun, err: errors.New("a watch takes one resource and at most one name")}
	}
	c, err := g.client()
	if err != nil {
		return &exitError{code: exitCannotRun, err: err}
	}
	p := &printer{g: g, f: f, jq: jq, ns: c.DefaultNamespace(), withKind: len(targets) > 1}
	if f.watch {
		t := targets[0]
		h, ar, err := g.handle(ctx, c, t.resource, g.allNamespaces && len(t.names) == 0)
		if err != nil {
			return &exitError{code: exitCannotRun, err: err}
		}
		lopts := resource.ListOptions{LabelSelector: f.selector, FieldSelector: f.fields}
		if len(t.names) == 1 {
			lopts.FieldSelector = nameSelector(t.names[0], f.fields)
		}
		if tableOut {
			err = p.watchTable(ctx, c, h, ar, lopts)
		} else {
			err = p.watchObjects(ctx, h, ar, lopts)
		}
		if err != nil {
			return &exitError{code: exitCannotRun, err: err}
		}
		return nil
	}
	missing := 0
	for _, t := range targets {
		h, ar, err := g.handle(ctx, c, t.resource, g.allNamespaces && len(t.names) == 0)
		if err != nil {
			return &exitError{code: exitCannotRun, err: err}
		}
		lopts := resource.ListOptions{LabelSelector: f.selector, FieldSelector: f.fields}
		if tableOut {
			n, _, err := p.table(ctx, h, ar, t.names, lopts)
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
				p.add(obj, ar)
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
			p.add(obj, ar)
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
	// withKind prefixes names in tables with kind[.group]/, as kubectl
	// does when several resources are listed.
	withKind bool
	// section is the resource whose table is being printed; a new one
	// starts a new table with its own header.
	section string
}

func (p *printer) add(obj unstructured.Object, ar discovery.APIResource) {
	switch p.f.output {
	case "ndjson":
		p.emit(obj.Bytes())
	case "name":
		// The items of a list carry no kind: the resource's, as kubectl
		// prints it (deployment.apps/web).
		fmt.Fprintf(p.g.out, "%s%s\n", kindPrefix(ar), obj.Name())
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

// tableView is how a resource's table is printed: the server's columns
// chosen, and the columns kubedyn adds.
type tableView struct {
	ar     discovery.APIResource
	cols   []int
	nameAt int // index in cols of the name column, -1 if none
	showNS bool
}

// view reads the columns of a Table.
func (p *printer) view(tbl unstructured.Object, ar discovery.APIResource, showNS bool) tableView {
	v := tableView{ar: ar, cols: tableColumns(tbl, p.f.output == "wide"), nameAt: -1, showNS: showNS}
	for i, c := range v.cols {
		if tbl.Get(fmt.Sprintf("columnDefinitions.%d.format", c)).String() == "name" {
			v.nameAt = i
			break
		}
	}
	return v
}

// header prints the table's header line.
func (p *printer) header(tbl unstructured.Object, v tableView) {
	var hs []string
	if p.f.watchEvents {
		hs = append(hs, "EVENT")
	}
	if v.showNS {
		hs = append(hs, "NAMESPACE")
	}
	for _, c := range v.cols {
		hs = append(hs, strings.ToUpper(tbl.Get(fmt.Sprintf("columnDefinitions.%d.name", c)).String()))
	}
	for _, l := range p.f.labelColumns {
		segs := strings.Split(l, "/")
		hs = append(hs, strings.ToUpper(segs[len(segs)-1]))
	}
	if p.f.showLabels {
		hs = append(hs, "LABELS")
	}
	fmt.Fprintln(p.tw, strings.Join(hs, "\t"))
}

// row prints one row of a Table; event is the watch event's type, when
// the EVENT column is shown.
func (p *printer) row(row gjson.Result, v tableView, event string) {
	var cells []string
	if p.f.watchEvents {
		cells = append(cells, event)
	}
	md := row.Get("object.metadata")
	if v.showNS {
		cells = append(cells, md.Get("namespace").String())
	}
	all := row.Get("cells").Array()
	for i, c := range v.cols {
		cell := cellString(all, c)
		if i == v.nameAt && p.withKind {
			cell = kindPrefix(v.ar) + cell
		}
		cells = append(cells, cell)
	}
	labels := md.Get("labels").Map()
	for _, l := range p.f.labelColumns {
		cells = append(cells, labels[l].String())
	}
	if p.f.showLabels {
		if len(labels) == 0 {
			cells = append(cells, "<none>")
		} else {
			cells = append(cells, formatLabels(labels, "="))
		}
	}
	fmt.Fprintln(p.tw, strings.Join(cells, "\t"))
}

// kindPrefix is what kubectl puts before names when several resources are
// listed: pod/, deployment.apps/.
func kindPrefix(ar discovery.APIResource) string {
	k := strings.ToLower(ar.Kind)
	if ar.Group != "" {
		k += "." + ar.Group
	}
	return k + "/"
}

// nameSelector is a field selector for one name, with fields.
func nameSelector(name, fields string) string {
	fs := "metadata.name=" + name
	if fields != "" {
		fs += "," + fields
	}
	return fs
}

// table prints the server-side Table of the resource (or of each name) and
// returns how many names were not found, with the columns printed and the
// list's resourceVersion (for a watch to go on from).
func (p *printer) table(ctx context.Context, h resource.Handle, ar discovery.APIResource, names []string, lopts resource.ListOptions) (int, listed, error) {
	if p.tw == nil {
		p.tw = tabwriter.NewWriter(p.g.out, 6, 4, 3, ' ', 0)
	}
	if sec := ar.QualifiedName(); sec != p.section {
		// A new resource: a table of its own, after a blank line.
		if p.section != "" && p.printed {
			if err := p.tw.Flush(); err != nil {
				return 0, listed{}, err
			}
			fmt.Fprintln(p.g.out)
			p.printed = false
		}
		p.section = sec
	}
	showNS := p.g.allNamespaces && ar.Namespaced && len(names) == 0
	selectors := []string{lopts.FieldSelector}
	if len(names) > 0 {
		selectors = selectors[:0]
		for _, n := range names {
			selectors = append(selectors, nameSelector(n, lopts.FieldSelector))
		}
	}
	missing, rows := 0, 0
	var notFound []string
	header := !p.printed
	var out listed
	for i, fs := range selectors {
		opts := &resource.TableOptions{ListOptions: lopts}
		opts.FieldSelector = fs
		opts.Limit = resource.DefaultPageSize
		found := 0
		for {
			tbl, err := h.Table(ctx, opts)
			if err != nil {
				return missing, out, err
			}
			if tbl.Kind() != "Table" {
				return missing, out, fmt.Errorf("the server did not render %s as a table (kind %q)", ar.QualifiedName(), tbl.Kind())
			}
			v := p.view(tbl, ar, showNS)
			if out.rv == "" {
				out = listed{view: v, rv: tbl.Get("metadata.resourceVersion").String(), table: tbl}
			}
			if p.f.watchOnly {
				// The list is only the watch's starting point.
				return 0, out, nil
			}
			if header {
				p.header(tbl, v)
				header = false
			}
			for _, row := range tbl.Get("rows").Array() {
				p.row(row, v, "ADDED")
				found++
			}
			opts.Continue = tbl.Get("metadata.continue").String()
			if opts.Continue == "" {
				break
			}
		}
		rows += found
		if len(names) > 0 && found == 0 {
			notFound = append(notFound, names[i])
		}
	}
	if len(notFound) > 0 {
		// After the rows found, so that the table stays one block.
		missing = len(notFound)
		if err := p.tw.Flush(); err != nil {
			return missing, out, err
		}
		for _, n := range notFound {
			fmt.Fprintf(p.g.errOut, "Error from server (NotFound): %s %q not found\n", groupResource(ar), n)
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
	return missing, out, nil
}

// listed is what a table's list tells a watch: the columns, and where the
// list stands.
type listed struct {
	view  tableView
	rv    string
	table unstructured.Object
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
