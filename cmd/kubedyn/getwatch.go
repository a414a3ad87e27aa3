package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"time"

	"github.com/kubedyn/kubedyn/discovery"
	"github.com/kubedyn/kubedyn/resource"
	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
	"github.com/kubedyn/kubedyn/watch"
)

// tableAccept asks for a meta.k8s.io Table, as kubectl get does, with JSON
// as the fallback of a server that cannot render one.
const tableAccept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"

// collectionPath is the URL path of a resource's collection.
func collectionPath(ar discovery.APIResource, ns string) string {
	p := "/api/" + ar.Version
	if ar.Group != "" {
		p = "/apis/" + ar.Group + "/" + ar.Version
	}
	if ar.Namespaced && ns != "" {
		p += "/namespaces/" + url.PathEscape(ns)
	}
	return p + "/" + ar.Resource
}

// watchTable prints the resource's table (unless --watch-only), then a row
// per change as the server renders it (each watch event's object a Table
// of one row), until ctx ends. A watch the server closes is opened again
// from the last resourceVersion seen; one whose resourceVersion expired
// (410) lists again and prints every row once more.
func (p *printer) watchTable(ctx context.Context, c *resource.Client, h resource.Handle, ar discovery.APIResource, lopts resource.ListOptions) error {
	ns := ""
	if ar.Namespaced && !p.g.allNamespaces {
		ns = c.DefaultNamespace()
	}
	list := func() (listed, error) {
		_, l, err := p.table(ctx, h, ar, nil, lopts)
		if err == nil {
			err = p.tw.Flush()
		}
		return l, err
	}
	l, err := list()
	if err != nil {
		return ignoreCancel(ctx, err)
	}
	v, rv := l.view, l.rv
	header := p.f.watchOnly || !p.printed
	backoff := time.Duration(0)
	// retry reports whether a failed watch may be opened again, after a
	// pause that doubles from 1 to 30 seconds while nothing arrives.
	retry := func(err error) bool {
		if ctx.Err() != nil || finalWatchError(err) {
			return false
		}
		backoff = min(max(2*backoff, time.Second), 30*time.Second)
		fmt.Fprintf(p.g.errOut, "warning: %v; watching again in %v\n", err, backoff)
		select {
		case <-ctx.Done():
			return false
		case <-time.After(backoff):
			return true
		}
	}
	for ctx.Err() == nil {
		q := url.Values{"watch": {"true"}, "resourceVersion": {rv}, "allowWatchBookmarks": {"true"}}
		if lopts.LabelSelector != "" {
			q.Set("labelSelector", lopts.LabelSelector)
		}
		if lopts.FieldSelector != "" {
			q.Set("fieldSelector", lopts.FieldSelector)
		}
		resp, err := c.Transport().Stream(ctx, &transport.Request{
			Method: http.MethodGet, Path: collectionPath(ar, ns), Query: q,
			Header: http.Header{"Accept": {tableAccept}},
		})
		if err != nil {
			if !errors.Is(err, transport.ErrGone) {
				if retry(err) {
					continue
				}
				return ignoreCancel(ctx, err)
			}
			resp = nil
		}
		var events iter.Seq2[watch.Event, error] = func(yield func(watch.Event, error) bool) { yield(watch.Event{}, err) }
		if resp != nil {
			events = watch.Decode(ctx, resp.Body)
		}
		for ev, err := range events {
			if errors.Is(err, transport.ErrGone) {
				// Too far behind the server's history: list again.
				if l, err = list(); err != nil {
					return ignoreCancel(ctx, err)
				}
				rv = l.rv
				break
			}
			if err != nil {
				if retry(err) {
					break
				}
				return ignoreCancel(ctx, err)
			}
			backoff = 0
			switch ev.Type {
			case watch.Added, watch.Modified, watch.Deleted:
			default:
				if r := ev.ResourceVersion(); r != "" {
					rv = r
				}
				continue
			}
			tbl := ev.Object
			if tbl.Kind() != "Table" {
				// A server that cannot render the resource: the name
				// and what kubedyn can tell.
				tbl = fallbackTable(ev.Object)
			}
			if header {
				p.header(l.table, v)
				header = false
			}
			for _, row := range tbl.Get("rows").Array() {
				p.row(row, v, string(ev.Type))
				if r := row.Get("object.metadata.resourceVersion").String(); r != "" {
					rv = r
				}
			}
			if err := p.tw.Flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// fallbackTable makes a one-row Table of an object the server sent as
// itself: its name and nothing else.
func fallbackTable(obj unstructured.Object) unstructured.Object {
	row, _ := json.Marshal(map[string]any{
		"cells":  []string{obj.Name()},
		"object": map[string]any{"metadata": json.RawMessage(orEmpty(obj.Get("metadata").Raw))},
	})
	t, _ := unstructured.Parse([]byte(`{"kind":"Table","columnDefinitions":[{"name":"Name","type":"string","format":"name","priority":0}],"rows":[` + string(row) + `]}`))
	return t
}

func orEmpty(raw string) string {
	if raw == "" {
		return "{}"
	}
	return raw
}

// watchObjects prints each object (unless --watch-only), then each change,
// in the -o format (with --path or --jq), until ctx ends. It rides on the
// library's Watcher, which resumes dropped watches and relists after 410.
func (p *printer) watchObjects(ctx context.Context, h resource.Handle, ar discovery.APIResource, lopts resource.ListOptions) error {
	w := watch.NewWatcher(h.ListWatcher(&resource.ListWatcherOptions{LabelSelector: lopts.LabelSelector, FieldSelector: lopts.FieldSelector}), &watch.Config{
		OnError: func(err error) { fmt.Fprintln(p.g.errOut, "warning:", err) },
		Final:   finalWatchError,
	})
	synced := !p.f.watchOnly
	docs := 0
	for ev, err := range w.Events(ctx) {
		if err != nil {
			return ignoreCancel(ctx, err)
		}
		switch ev.Type {
		case watch.Synced:
			synced = true
			continue
		case watch.Added, watch.Modified, watch.Deleted:
		default:
			continue
		}
		if !synced {
			continue
		}
		doc := ev.Object.Bytes()
		if p.f.watchEvents {
			doc, err = json.Marshal(struct {
				Type   string              `json:"type"`
				Object unstructured.Object `json:"object"`
			}{string(ev.Type), ev.Object})
			if err != nil {
				return err
			}
		}
		switch {
		case p.f.output == "name" && !p.f.watchEvents:
			fmt.Fprintf(p.g.out, "%s%s\n", kindPrefix(ar), ev.Object.Name())
			continue
		case p.f.output == "yaml" && p.f.path == "" && p.jq == nil && docs > 0:
			fmt.Fprintln(p.g.out, "---")
		}
		docs++
		if err := p.emitErr(doc); err != nil {
			return err
		}
	}
	return nil
}

// finalWatchError tells the errors no retry of a watch can fix.
func finalWatchError(err error) bool {
	return errors.Is(err, transport.ErrForbidden) || errors.Is(err, transport.ErrUnauthorized) ||
		errors.Is(err, transport.ErrNotFound) || errors.Is(err, transport.ErrMethodNotSupported) ||
		errors.Is(err, transport.ErrInvalid)
}

// ignoreCancel returns nil for an error that only says ctx ended (a signal
// ends a watch cleanly), else err.
func ignoreCancel(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}
