package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubedyn/kubedyn/manifest"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
)

type manifestFlags struct {
	files        []string
	recursive    bool
	output       string
	fieldManager string
	force        bool
	dryRun       string
	failFast     bool
	concurrency  int
	wait         bool
	timeout      time.Duration
	applySet     string
	prune        bool
}

func (f *manifestFlags) register(cmd *cobra.Command, writes bool) {
	fl := cmd.Flags()
	fl.StringArrayVarP(&f.files, "filename", "f", nil, "a file or folder of manifests, or - for standard input (repeatable)")
	fl.BoolVarP(&f.recursive, "recursive", "R", false, "read folders named by -f recursively")
	fl.StringVarP(&f.output, "output", "o", "", "ndjson: one JSON result a line")
	fl.StringVar(&f.dryRun, "dry-run", "none", "none or server: the server checks each write without persisting it")
	fl.BoolVar(&f.failFast, "fail-fast", false, "stop at the first failure (objects not started are skipped)")
	fl.IntVar(&f.concurrency, "concurrency", 0, "how many objects are written at once (default 8)")
	fl.BoolVar(&f.wait, "wait", false, "wait until every object is ready (deleted, for delete)")
	fl.DurationVar(&f.timeout, "timeout", 0, "how long --wait waits (default 5m)")
	if writes {
		fl.StringVar(&f.fieldManager, "field-manager", manifest.DefaultFieldManager, "the field manager of server-side apply")
		fl.BoolVar(&f.force, "force-conflicts", false, "take over fields other managers own")
		fl.StringVar(&f.applySet, "applyset", "", "name of a kubectl-compatible ApplySet parent Secret (in the namespace of -n)")
		fl.BoolVar(&f.prune, "prune", false, "delete the ApplySet's members that left the set (needs --applyset)")
	}
}

func (f *manifestFlags) check() error {
	if len(f.files) == 0 {
		return errors.New("no manifests: name them with -f")
	}
	if f.output != "" && f.output != "ndjson" {
		return fmt.Errorf("unknown output format %q (want ndjson)", f.output)
	}
	if f.dryRun != "none" && f.dryRun != "server" {
		return fmt.Errorf("--dry-run=%s: want none or server", f.dryRun)
	}
	if f.prune && f.applySet == "" {
		return errors.New("--prune needs --applyset")
	}
	return nil
}

// loaded is a planned set of manifests with its engine.
type loaded struct {
	engine *manifest.Engine
	plan   *manifest.Plan
	ns     string
}

func (g *globals) load(ctx context.Context, f *manifestFlags, applySetID func(ns string) string) (*loaded, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	c, err := g.client()
	if err != nil {
		return nil, err
	}
	objs, err := manifest.Load(f.files, &manifest.LoadOptions{Recursive: f.recursive, Stdin: g.in})
	if err != nil {
		return nil, err
	}
	e := manifest.New(c)
	var popts *manifest.PlanOptions
	if applySetID != nil {
		popts = &manifest.PlanOptions{ApplySetID: applySetID(c.DefaultNamespace())}
	}
	plan, err := e.Plan(ctx, objs, popts)
	if err != nil {
		return nil, err
	}
	return &loaded{engine: e, plan: plan, ns: c.DefaultNamespace()}, nil
}

func newApply(g *globals, verb string) *cobra.Command {
	f := &manifestFlags{}
	short := "Apply manifests with server-side apply, CRDs and their custom resources in one run"
	if verb == "create" {
		short = "Create the objects of manifests; an existing object is a failure"
	}
	cmd := &cobra.Command{
		Use:   verb + " -f FILE|FOLDER|-",
		Short: short,
		Long: short + `.

One line per object with its source (file:document:line) and what happened
(created, configured, unchanged, failed with the server's causes, skipped
because something it needs failed), then a summary. -o ndjson prints one JSON
object a line instead and the summary on standard error.
Exit codes: 0 all applied (and ready, with --wait); 1 some objects failed or
were not ready; 2 could not run (flags, kubeconfig, unreadable or invalid
manifests).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runApply(cmd.Context(), g, f, verb == "create")
		},
	}
	f.register(cmd, verb == "apply")
	if verb == "create" {
		cmd.Flags().StringVar(&f.fieldManager, "field-manager", manifest.DefaultFieldManager, "the field manager of the creates")
	}
	return cmd
}

// resultView is the NDJSON form of a result.
type resultView struct {
	Source     string                  `json:"source,omitempty"`
	APIVersion string                  `json:"apiVersion"`
	Kind       string                  `json:"kind"`
	Namespace  string                  `json:"namespace,omitempty"`
	Name       string                  `json:"name"`
	Action     string                  `json:"action,omitempty"`
	DryRun     bool                    `json:"dryRun,omitempty"`
	Status     string                  `json:"status,omitempty"`
	Message    string                  `json:"message,omitempty"`
	Error      string                  `json:"error,omitempty"`
	Causes     []transport.StatusCause `json:"causes,omitempty"`
	Note       string                  `json:"note,omitempty"`
	DurationMS int64                   `json:"durationMs"`
}

func viewOf(r manifest.Result) resultView {
	v := resultView{
		APIVersion: r.Ref.APIVersion, Kind: r.Ref.Kind, Namespace: r.Ref.Namespace, Name: r.Ref.Name,
		Action: string(r.Action), DryRun: r.DryRun, Causes: r.Causes, Note: r.Note, DurationMS: r.Duration.Milliseconds(),
	}
	if r.Source.Line > 0 || r.Source.Name != "" {
		v.Source = r.Source.String()
	}
	if r.Err != nil {
		v.Error = r.Err.Error()
	}
	return v
}

func waitView(r manifest.WaitResult) resultView {
	v := resultView{
		APIVersion: r.Ref.APIVersion, Kind: r.Ref.Kind, Namespace: r.Ref.Namespace, Name: r.Ref.Name,
		Status: string(r.Status), Message: r.Message, DurationMS: r.Duration.Milliseconds(),
	}
	if r.Source.Line > 0 || r.Source.Name != "" {
		v.Source = r.Source.String()
	}
	if r.Err != nil {
		v.Error = r.Err.Error()
	}
	return v
}

// reporter prints results as they come: NDJSON lines, plain lines, or
// state lines rewritten in place on a terminal. It is safe for concurrent
// use.
type reporter struct {
	mu     sync.Mutex
	out    io.Writer
	ndjson bool
	prog   *progress
	// total, when set, shows a count of the objects done on a terminal.
	total, done int
}

func (g *globals) reporter(ndjson bool) *reporter {
	return &reporter{out: g.out, ndjson: ndjson, prog: newProgress(g.out, !ndjson && isTerminal(g.out))}
}

func (r *reporter) line(v resultView, text string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ndjson {
		b, _ := json.Marshal(v)
		fmt.Fprintf(r.out, "%s\n", b)
		return
	}
	for _, c := range v.Causes {
		if c.Field != "" {
			text += fmt.Sprintf("\n    %s: %s", c.Field, c.Message)
		} else {
			text += "\n    " + c.Message
		}
	}
	r.prog.println(text)
}

func (r *reporter) result(res manifest.Result) {
	r.line(viewOf(res), res.String())
	if r.total > 0 {
		r.mu.Lock()
		r.done++
		line := fmt.Sprintf("%d of %d objects done", r.done, r.total)
		r.mu.Unlock()
		r.prog.set("\x00count", line)
	}
}

func (r *reporter) ready(w manifest.WaitResult) {
	text := fmt.Sprintf("%s %s", w.Ref, w.Status)
	if w.Source.Line > 0 || w.Source.Name != "" {
		text = w.Source.String() + " " + text
	}
	if w.Message != "" {
		text += ": " + w.Message
	}
	if w.Err != nil {
		text += " (" + w.Err.Error() + ")"
	}
	r.line(waitView(w), text)
}

// change shows a wait's state line on a terminal.
func (r *reporter) change(w manifest.WaitResult) {
	text := fmt.Sprintf("%s %s", w.Ref, w.Status)
	if w.Message != "" {
		text += ": " + w.Message
	}
	r.prog.set(w.Ref.String(), text)
}

// summary prints the summary: on standard output, or on standard error when
// standard output is NDJSON.
func (g *globals) summary(ndjson bool, s string) {
	if ndjson {
		fmt.Fprintln(g.errOut, s)
		return
	}
	fmt.Fprintln(g.out, s)
}

func runApply(ctx context.Context, g *globals, f *manifestFlags, create bool) error {
	var as *manifest.ApplySet
	var setID func(string) string
	if f.applySet != "" {
		setID = func(ns string) string {
			as = &manifest.ApplySet{Name: f.applySet, Namespace: ns}
			return as.ID()
		}
	}
	l, err := g.load(ctx, f, setID)
	if err != nil {
		return &exitError{code: exitCannotRun, err: err}
	}
	rep := g.reporter(f.output == "ndjson")
	rep.total = len(l.plan.Items)
	opts := &manifest.ApplyOptions{
		FieldManager: f.fieldManager, Force: f.force, DryRun: f.dryRun == "server",
		Concurrency: f.concurrency, FailFast: f.failFast, ApplySet: as, Prune: f.prune,
		PruneDryRun: f.prune && f.dryRun == "server",
		OnResult:    rep.result,
	}
	if create {
		opts.Mode = manifest.CreateOnly
	}
	if f.wait {
		opts.Wait = &manifest.WaitOptions{Timeout: f.timeout, OnChange: rep.change}
	}
	res, err := l.engine.Apply(ctx, l.plan, opts)
	rep.prog.clear()
	if err != nil {
		return &exitError{code: exitCannotRun, err: err}
	}
	notReady := 0
	for _, w := range res.Ready {
		rep.ready(w)
		if !w.Ready() {
			notReady++
		}
	}
	s := res.Summary()
	if f.wait {
		s += fmt.Sprintf("; %d ready, %d not ready", len(res.Ready)-notReady, notReady)
	}
	g.summary(f.output == "ndjson", s)
	if !res.OK() || notReady > 0 {
		return failed()
	}
	return nil
}

func newDelete(g *globals) *cobra.Command {
	f := &manifestFlags{}
	var cascade string
	cmd := &cobra.Command{
		Use:   "delete -f FILE|FOLDER|- | RESOURCE NAME... | RESOURCE/NAME...",
		Short: "Delete the objects of manifests (dependents first) or named objects",
		Long: `delete deletes the objects the manifests name, in the reverse of apply's order,
or the objects named on the command line (in the namespace of -n).

One line per object (deleted; unchanged when it was already gone; failed;
skipped), then a summary; -o ndjson as for apply.
Exit codes: 0 all deleted; 1 some failed; 2 could not run.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			var l *loaded
			var err error
			switch {
			case len(args) > 0 && len(f.files) > 0:
				err = errors.New("name objects either with -f or as arguments, not both")
			case len(args) > 0:
				l, err = g.loadNamed(ctx, f, args)
			default:
				l, err = g.load(ctx, f, nil)
			}
			if err != nil {
				return &exitError{code: exitCannotRun, err: err}
			}
			var policy string
			switch cascade {
			case "background":
			case "foreground":
				policy = "Foreground"
			case "orphan":
				policy = "Orphan"
			default:
				return &exitError{code: exitCannotRun, err: fmt.Errorf("--cascade=%s: want background, foreground or orphan", cascade)}
			}
			rep := g.reporter(f.output == "ndjson")
			rep.total = len(l.plan.Items)
			res, err := l.engine.Delete(ctx, l.plan, &manifest.DeleteOptions{
				PropagationPolicy: policy, DryRun: f.dryRun == "server",
				Concurrency: f.concurrency, FailFast: f.failFast, OnResult: rep.result,
			})
			rep.prog.clear()
			if err != nil {
				return &exitError{code: exitCannotRun, err: err}
			}
			notGone := 0
			if f.wait && f.dryRun != "server" {
				var ts []manifest.Target
				for _, r := range res.Results {
					if r.Action == manifest.Deleted {
						ts = append(ts, manifest.Target{Ref: r.Ref, Source: r.Source})
					}
				}
				ws := l.engine.Wait(ctx, ts, &manifest.WaitOptions{For: manifest.ForDeletion, Timeout: f.timeout, OnChange: rep.change})
				rep.prog.clear()
				for _, w := range ws {
					rep.ready(w)
					if !w.Ready() {
						notGone++
					}
				}
			}
			g.summary(f.output == "ndjson", res.Summary())
			if !res.OK() || notGone > 0 {
				return failed()
			}
			return nil
		},
	}
	f.register(cmd, false)
	cmd.Flags().StringVar(&cascade, "cascade", "background", "background, foreground or orphan: what happens to dependents")
	return cmd
}

func newDiff(g *globals) *cobra.Command {
	f := &manifestFlags{}
	cmd := &cobra.Command{
		Use:   "diff -f FILE|FOLDER|-",
		Short: "Show what apply would change, field by field (a server-side dry run)",
		Long: `diff asks the server what an apply would make of each object and prints
the fields that differ from the live object (Secret data masked).

Exit codes, as kubectl diff: 0 nothing differs; 1 something differs or some
object could not be diffed; 2 could not run.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			l, err := g.load(ctx, f, nil)
			if err != nil {
				return &exitError{code: exitCannotRun, err: err}
			}
			diffs := l.engine.Diff(ctx, l.plan, &manifest.DiffOptions{
				FieldManager: f.fieldManager, Force: f.force, Concurrency: f.concurrency,
			})
			differ := 0
			for _, d := range diffs {
				state := "unchanged"
				switch {
				case d.Err != nil:
					state = "failed: " + d.Err.Error()
				case !d.Exists:
					state = "created"
				case len(d.Changes) > 0:
					state = "configured"
				}
				if d.Err != nil || !d.Exists || len(d.Changes) > 0 {
					differ++
				}
				if f.output == "ndjson" {
					v := struct {
						Source     string            `json:"source,omitempty"`
						APIVersion string            `json:"apiVersion"`
						Kind       string            `json:"kind"`
						Namespace  string            `json:"namespace,omitempty"`
						Name       string            `json:"name"`
						Exists     bool              `json:"exists"`
						Changes    []manifest.Change `json:"changes"`
						Error      string            `json:"error,omitempty"`
						Note       string            `json:"note,omitempty"`
					}{Note: d.Note, Source: d.Source.String(), APIVersion: d.Ref.APIVersion, Kind: d.Ref.Kind, Namespace: d.Ref.Namespace,
						Name: d.Ref.Name, Exists: d.Exists, Changes: d.Changes}
					if v.Changes == nil {
						v.Changes = []manifest.Change{}
					}
					if d.Err != nil {
						v.Error = d.Err.Error()
					}
					b, _ := json.Marshal(v)
					fmt.Fprintf(g.out, "%s\n", b)
					continue
				}
				if d.Note != "" {
					state += " (" + d.Note + ")"
				}
				fmt.Fprintf(g.out, "%s %s %s\n", d.Source, d.Ref, state)
				if !d.Exists {
					continue
				}
				for _, c := range d.Changes {
					switch {
					case c.Old == "":
						fmt.Fprintf(g.out, "  + %s: %s\n", c.Path, c.New)
					case c.New == "":
						fmt.Fprintf(g.out, "  - %s: %s\n", c.Path, c.Old)
					default:
						fmt.Fprintf(g.out, "  ~ %s: %s -> %s\n", c.Path, c.Old, c.New)
					}
				}
			}
			if differ > 0 {
				return failed()
			}
			return nil
		},
	}
	f.register(cmd, false)
	cmd.Flags().StringVar(&f.fieldManager, "field-manager", manifest.DefaultFieldManager, "the field manager the dry-run apply uses")
	cmd.Flags().BoolVar(&f.force, "force-conflicts", false, "take over fields other managers own")
	return cmd
}

// loadNamed plans the objects named as RESOURCE NAME... or RESOURCE/NAME...
// as a manifest set of bare objects, so delete treats them as it treats
// manifests.
func (g *globals) loadNamed(ctx context.Context, f *manifestFlags, args []string) (*loaded, error) {
	if f.output != "" && f.output != "ndjson" {
		return nil, fmt.Errorf("unknown output format %q (want ndjson)", f.output)
	}
	targets, err := parseTargets(args, false)
	if err != nil {
		return nil, err
	}
	c, err := g.client()
	if err != nil {
		return nil, err
	}
	var objs []unstructured.Decoded
	for _, t := range targets {
		if len(t.names) == 0 {
			return nil, fmt.Errorf("%s: name the objects to delete", t.resource)
		}
		_, ar, err := g.handle(ctx, c, t.resource, false)
		if err != nil {
			return nil, err
		}
		gv := unstructured.GroupVersion{Group: ar.Group, Version: ar.Version}.String()
		for _, n := range t.names {
			o, err := unstructured.New(gv, ar.Kind).Set("metadata.name", n)
			if err == nil && ar.Namespaced {
				o, err = o.Set("metadata.namespace", c.DefaultNamespace())
			}
			if err != nil {
				return nil, err
			}
			objs = append(objs, unstructured.Decoded{Object: o})
		}
	}
	e := manifest.New(c)
	plan, err := e.Plan(ctx, objs, nil)
	if err != nil {
		return nil, err
	}
	return &loaded{engine: e, plan: plan, ns: c.DefaultNamespace()}, nil
}
