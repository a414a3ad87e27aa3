package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubedyn/kubedyn/discovery"
	"github.com/kubedyn/kubedyn/manifest"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
	"github.com/kubedyn/kubedyn/watch"
)

func newWatch(g *globals) *cobra.Command {
	var selector, fields string
	var maxEvents int
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "watch RESOURCE [NAME]",
		Short: "Print a resource's watch events as NDJSON",
		Long: `watch prints one JSON line per event, {"type":"ADDED","object":{...}}: first
the objects that exist (ADDED), then every change, until interrupted, --timeout
passes or --max-events have been printed (exit 0 in each case). A dropped
connection or an expired resourceVersion is resumed (relisting when needed);
only errors no retry can fix (forbidden, unknown) end it with exit 2.`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, err := g.client()
			if err != nil {
				return &exitError{code: exitCannotRun, err: err}
			}
			h, _, err := g.handle(ctx, c, args[0], g.allNamespaces)
			if err != nil {
				return &exitError{code: exitCannotRun, err: err}
			}
			if len(args) == 2 {
				fs := "metadata.name=" + args[1]
				if fields != "" {
					fs += "," + fields
				}
				fields = fs
			}
			if timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, timeout)
				defer cancel()
			}
			// The managed Watcher lists, then watches, and resumes (or
			// relists) after a dropped connection or an expired
			// resourceVersion; only errors no retry can fix end it.
			w := watch.NewWatcher(h.ListWatcher(&resource.ListWatcherOptions{LabelSelector: selector, FieldSelector: fields}), &watch.Config{
				OnError: func(err error) { fmt.Fprintln(g.errOut, "warning:", err) },
				Final: func(err error) bool {
					return errors.Is(err, transport.ErrForbidden) || errors.Is(err, transport.ErrUnauthorized) ||
						errors.Is(err, transport.ErrNotFound) || errors.Is(err, transport.ErrMethodNotSupported) ||
						errors.Is(err, transport.ErrInvalid)
				},
			})
			n := 0
			for ev, err := range w.Events(ctx) {
				if err != nil {
					if ctx.Err() != nil {
						return nil
					}
					return &exitError{code: exitCannotRun, err: err}
				}
				if ev.Type != watch.Added && ev.Type != watch.Modified && ev.Type != watch.Deleted {
					continue // bookmarks and the Watcher's markers
				}
				b, err := json.Marshal(struct {
					Type   string              `json:"type"`
					Object unstructured.Object `json:"object"`
				}{string(ev.Type), ev.Object})
				if err != nil {
					return &exitError{code: exitCannotRun, err: err}
				}
				fmt.Fprintf(g.out, "%s\n", b)
				if n++; maxEvents > 0 && n >= maxEvents {
					return nil
				}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&selector, "selector", "l", "", "label selector")
	fl.StringVar(&fields, "field-selector", "", "field selector")
	fl.IntVar(&maxEvents, "max-events", 0, "stop after this many events (0: no limit)")
	fl.DurationVar(&timeout, "timeout", 0, "stop after this long (0: no limit)")
	return cmd
}

func newWait(g *globals) *cobra.Command {
	var forExpr, output, selector string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "wait RESOURCE/NAME... | RESOURCE NAME... --for=CONDITION",
		Short: "Wait, by watch, until objects are ready, match an expression or are deleted",
		Long: `wait watches the named objects until each meets --for:

  (none)                       kstatus-style readiness: the built-in rules for
                               Deployments, Jobs, Pods, CRDs..., conditions
                               for the rest
  condition=Ready              the condition is True (and, when it has an
                               observedGeneration, for the current generation)
  delete                       the object is gone
  jsonpath='{.status.phase}'=Running
                               the field has the value (no value: truthy)
  gjson=status.phase=Running   the same with a gjson path

One line per object with its last status. Exit codes: 0 every object met
--for; 1 some did not in --timeout; 2 could not run.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if output != "" && output != "ndjson" {
				return &exitError{code: exitCannotRun, err: fmt.Errorf("unknown output format %q (want ndjson)", output)}
			}
			targets, err := parseTargets(args, false)
			if err != nil {
				return &exitError{code: exitCannotRun, err: err}
			}
			c, err := g.client()
			if err != nil {
				return &exitError{code: exitCannotRun, err: err}
			}
			opts := &manifest.WaitOptions{Timeout: timeout, NoStatusGrace: -1}
			var ts []manifest.Target
			for _, t := range targets {
				h, ar, err := g.handle(ctx, c, t.resource, false)
				if err != nil {
					return &exitError{code: exitCannotRun, err: err}
				}
				names := t.names
				if len(names) == 0 {
					if selector == "" {
						return &exitError{code: exitCannotRun, err: fmt.Errorf("%s: name the objects or select them with -l", t.resource)}
					}
					for obj, err := range h.List(ctx, &resource.ListOptions{LabelSelector: selector}) {
						if err != nil {
							return &exitError{code: exitCannotRun, err: err}
						}
						names = append(names, obj.Name())
					}
				}
				rule, forDelete, err := parseFor(forExpr, ar)
				if err != nil {
					return &exitError{code: exitCannotRun, err: err}
				}
				if forDelete {
					opts.For = manifest.ForDeletion
				}
				if rule != nil {
					opts.Rules = append(opts.Rules, *rule)
				}
				ns := ""
				if ar.Namespaced {
					ns = c.DefaultNamespace()
				}
				for _, n := range names {
					ts = append(ts, manifest.Target{Ref: manifest.Ref{
						APIVersion: unstructured.GroupVersion{Group: ar.Group, Version: ar.Version}.String(),
						Kind:       ar.Kind, Namespace: ns, Name: n,
					}})
				}
			}
			if forExpr == "" {
				opts.NoStatusGrace = 0
			}
			rep := g.reporter(output == "ndjson")
			opts.OnChange = rep.change
			ws := manifest.New(c).Wait(ctx, ts, opts)
			rep.prog.clear()
			bad := 0
			for _, w := range ws {
				rep.ready(w)
				if !w.Ready() {
					bad++
				}
			}
			if bad > 0 {
				return failedf("%d of %d objects did not meet --for=%s", bad, len(ws), forExpr)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&forExpr, "for", "", "condition=NAME, delete, jsonpath='{.path}'=VALUE or gjson=PATH=VALUE")
	fl.DurationVar(&timeout, "timeout", 30*time.Second, "how long to wait for all objects")
	fl.StringVarP(&selector, "selector", "l", "", "wait for the objects this label selector selects")
	fl.StringVarP(&output, "output", "o", "", "ndjson: one JSON line per object")
	return cmd
}

// parseFor turns --for into a readiness rule for the kind (nil for the
// built-in rules) or a wait for deletion.
func parseFor(expr string, ar discovery.APIResource) (*manifest.Rule, bool, error) {
	rule := &manifest.Rule{Group: ar.Group, Kind: ar.Kind}
	switch {
	case expr == "":
		return nil, false, nil
	case expr == "delete":
		return nil, true, nil
	case strings.HasPrefix(expr, "condition="):
		cond := strings.TrimPrefix(expr, "condition=")
		if name, val, ok := strings.Cut(cond, "="); ok {
			rule.Current = fmt.Sprintf(`status.conditions.#(type==%q).status`, name)
			rule.CurrentValue = val
			if strings.EqualFold(val, "true") {
				rule.CurrentValue = "True"
			} else if strings.EqualFold(val, "false") {
				rule.CurrentValue = "False"
			}
			return rule, false, nil
		}
		if cond == "" {
			return nil, false, errors.New("--for=condition= needs a condition type")
		}
		rule.Condition = cond
		return rule, false, nil
	case strings.HasPrefix(expr, "jsonpath="):
		rest := strings.TrimPrefix(expr, "jsonpath=")
		rest = strings.Trim(rest, "'")
		path, val, _ := strings.Cut(rest, "}")
		if !strings.HasPrefix(path, "{") {
			return nil, false, fmt.Errorf("--for=%s: want jsonpath='{.field}'=VALUE", expr)
		}
		gp, err := jsonPathToGJSON(strings.TrimPrefix(path, "{"))
		if err != nil {
			return nil, false, err
		}
		rule.Current = gp
		rule.CurrentValue = strings.Trim(strings.TrimPrefix(strings.TrimPrefix(val, "'"), "="), "'")
		return rule, false, nil
	case strings.HasPrefix(expr, "gjson="):
		rest := strings.TrimPrefix(expr, "gjson=")
		// The value follows the last '=' that is not part of '==' or '!='.
		cut := -1
		for i := len(rest) - 1; i > 0; i-- {
			if rest[i] == '=' && rest[i-1] != '=' && rest[i-1] != '!' && (i+1 >= len(rest) || rest[i+1] != '=') {
				cut = i
				break
			}
		}
		if cut < 0 {
			rule.Current = rest
		} else {
			rule.Current, rule.CurrentValue = rest[:cut], rest[cut+1:]
		}
		if rule.Current == "" {
			return nil, false, errors.New("--for=gjson= needs a path")
		}
		return rule, false, nil
	}
	return nil, false, fmt.Errorf("--for=%s: want condition=NAME, delete, jsonpath='{.path}'=VALUE or gjson=PATH=VALUE", expr)
}

// jsonPathToGJSON converts the simple JSONPath kubectl wait takes
// (.status.phase, .spec.containers[0].image) to a gjson path.
func jsonPathToGJSON(p string) (string, error) {
	p = strings.TrimPrefix(p, ".")
	if p == "" || strings.ContainsAny(p, "*?@()") {
		return "", fmt.Errorf("jsonpath %q: only plain field paths like .status.phase or .items[0].name are supported", p)
	}
	p = strings.ReplaceAll(p, "[", ".")
	p = strings.ReplaceAll(p, "]", "")
	return p, nil
}

func newAPIResources(g *globals) *cobra.Command {
	var output, group string
	var namespaced string
	cmd := &cobra.Command{
		Use:   "api-resources",
		Short: "List the resources the server serves (preferred versions)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			c, err := g.client()
			if err != nil {
				return &exitError{code: exitCannotRun, err: err}
			}
			rs, err := c.Discovery().PreferredResources(ctx)
			var pe *discovery.PartialError
			if errors.As(err, &pe) {
				fmt.Fprintln(g.errOut, "warning:", err)
			} else if err != nil {
				return &exitError{code: exitCannotRun, err: err}
			}
			rs = slices.DeleteFunc(rs, func(r discovery.APIResource) bool {
				return strings.Contains(r.Resource, "/") ||
					(group != "" && r.Group != group) ||
					(namespaced == "true" && !r.Namespaced) || (namespaced == "false" && r.Namespaced)
			})
			slices.SortFunc(rs, func(a, b discovery.APIResource) int {
				if c := strings.Compare(a.Group, b.Group); c != 0 {
					return c
				}
				return strings.Compare(a.Resource, b.Resource)
			})
			if output == "name" {
				for _, r := range rs {
					fmt.Fprintln(g.out, groupResource(r))
				}
				return nil
			}
			tw := tabwriter.NewWriter(g.out, 6, 4, 3, ' ', 0)
			hdr := "NAME\tSHORTNAMES\tAPIVERSION\tNAMESPACED\tKIND"
			if output == "wide" {
				hdr += "\tVERBS\tCATEGORIES"
			}
			fmt.Fprintln(tw, hdr)
			for _, r := range rs {
				line := fmt.Sprintf("%s\t%s\t%s\t%t\t%s", r.Resource, strings.Join(r.ShortNames, ","),
					unstructured.GroupVersion{Group: r.Group, Version: r.Version}.String(), r.Namespaced, r.Kind)
				if output == "wide" {
					line += fmt.Sprintf("\t[%s]\t%s", strings.Join(r.Verbs, " "), strings.Join(r.Categories, ","))
				}
				fmt.Fprintln(tw, line)
			}
			return tw.Flush()
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&output, "output", "o", "", "wide or name")
	fl.StringVar(&group, "api-group", "", "only this group (\"\" is the core group only when given as --api-group=)")
	fl.StringVar(&namespaced, "namespaced", "", "true or false: only namespaced or only cluster-scoped resources")
	return cmd
}

func newExplain(g *globals) *cobra.Command {
	var recursive bool
	var apiVersion string
	cmd := &cobra.Command{
		Use:   "explain RESOURCE[.FIELD...]",
		Short: "Document a resource or one of its fields from the server's schema",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, err := g.client()
			if err != nil {
				return &exitError{code: exitCannotRun, err: err}
			}
			// The resource is the longest prefix of the dotted argument
			// that names one (widgets.example.com.spec.size), the rest
			// the field path.
			segs := strings.Split(args[0], ".")
			var ar discovery.APIResource
			var path string
			for n := len(segs); n > 0; n-- {
				ar, err = c.Discovery().ResourceFor(ctx, strings.Join(segs[:n], "."))
				if errors.Is(err, discovery.ErrUnknownResource) && n > 1 {
					continue
				}
				path = strings.Join(segs[n:], ".")
				break
			}
			if err != nil {
				return &exitError{code: exitCannotRun, err: err}
			}
			gvk := ar.GroupVersionKind()
			if apiVersion != "" {
				gv, err := unstructured.ParseGroupVersion(apiVersion)
				if err != nil {
					return &exitError{code: exitCannotRun, err: err}
				}
				gvk.Group, gvk.Version = gv.Group, gv.Version
			}
			doc, err := c.Discovery().Explain(ctx, gvk, path, &unstructured.ExplainOptions{Recursive: recursive})
			if err != nil {
				return &exitError{code: exitFailed, err: err}
			}
			fmt.Fprint(g.out, doc)
			if !strings.HasSuffix(doc, "\n") {
				fmt.Fprintln(g.out)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&recursive, "recursive", false, "list every field below, without descriptions")
	cmd.Flags().StringVar(&apiVersion, "api-version", "", "the group/version to explain (default: the preferred one)")
	return cmd
}

func newVersion(g *globals) *cobra.Command {
	var clientOnly bool
	var output string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the client's and the server's versions",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := struct {
				Client struct {
					Version   string `json:"version"`
					GoVersion string `json:"goVersion"`
				} `json:"clientVersion"`
				Server *discovery.VersionInfo `json:"serverVersion,omitempty"`
			}{}
			v.Client.Version = "(devel)"
			if bi, ok := debug.ReadBuildInfo(); ok {
				v.Client.Version, v.Client.GoVersion = bi.Main.Version, bi.GoVersion
			}
			var serr error
			if !clientOnly {
				c, err := g.client()
				if err != nil {
					return &exitError{code: exitCannotRun, err: err}
				}
				sv, err := c.Discovery().ServerVersion(cmd.Context())
				if err == nil {
					v.Server = &sv
				}
				serr = err
			}
			if output == "json" {
				b, _ := json.MarshalIndent(v, "", "  ")
				fmt.Fprintf(g.out, "%s\n", b)
			} else {
				fmt.Fprintf(g.out, "Client Version: %s (%s)\n", v.Client.Version, v.Client.GoVersion)
				if v.Server != nil {
					fmt.Fprintf(g.out, "Server Version: %s\n", v.Server.GitVersion)
				}
			}
			if serr != nil {
				return &exitError{code: exitCannotRun, err: serr}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&clientOnly, "client", false, "the client's version only")
	cmd.Flags().StringVarP(&output, "output", "o", "", "json")
	return cmd
}
