package resource

import (
	"context"
	"fmt"
	"iter"
	"net/http"

	"github.com/kubedyn/kubedyn/transport"
	"github.com/kubedyn/kubedyn/unstructured"
	"github.com/tidwall/gjson"
)

// Page sizes when ListOptions.Limit is 0. The first page asks for
// DefaultPageSize objects; each later page asks for as many objects as fit
// the call's byte budget at the size of the objects seen so far, between
// DefaultPageSize and the call's maximum. Small objects thus come in a few
// large pages (10,000 ConfigMaps of 1.2 kB: List in 4 requests, ListAll in
// 2, where 500 a page took 20), large ones in pages of DefaultPageSize.
const (
	// ListPageBytes is the byte budget of a List page.
	ListPageBytes = 4 << 20
	// ListMaxPageSize bounds a List page.
	ListMaxPageSize = 5000
	// ListAllPageBytes is the byte budget of a ListAll page: ListAll keeps
	// every page anyway, so fewer, larger requests cost no more memory.
	ListAllPageBytes = 16 << 20
	// ListAllMaxPageSize bounds a ListAll page.
	ListAllMaxPageSize = 10000
)

// pageSizing is how pages choose their limit when ListOptions.Limit is 0.
type pageSizing struct {
	budget  int64 // bytes a page should hold
	maxSize int64
}

// next returns the limit for the page after one of n bytes asked with limit.
func (p pageSizing) next(limit int64, n int) int64 {
	if n <= 0 || limit <= 0 {
		return DefaultPageSize
	}
	perItem := max(int64(n)/limit, 1)
	return min(max(p.budget/perItem, DefaultPageSize), p.maxSize)
}

var (
	listSizing    = pageSizing{budget: ListPageBytes, maxSize: ListMaxPageSize}
	listAllSizing = pageSizing{budget: ListAllPageBytes, maxSize: ListAllMaxPageSize}
)

// tableAccept asks the server for a meta.k8s.io/v1 Table, falling back to
// the plain list for servers (or aggregated APIs) that cannot render one.
const tableAccept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"

// List returns an iterator over every object the options select, fetched
// page by page with limit/continue (opts.Limit objects per request; when 0,
// DefaultPageSize for the first page and then as many as fit ListPageBytes,
// up to ListMaxPageSize). While the loop works through one page, the next
// is already being fetched (never more than one page ahead), so a long list
// costs little more than one request for all of it. Nothing is sent until
// the loop starts; breaking out of the loop cancels the page being fetched
// ahead, if any, and sends nothing more; each new loop over the sequence
// lists again from the start. opts is copied when List is called. Any failure — resolving the
// resource, a scope error, a request error, a malformed or truncated page —
// is yielded once, as the last element, with a zero Object. A continue token
// that expired (the server compacted its history) yields an error matching
// transport.ErrGone: list again from the start. A server that answers a
// continue token already followed yields ErrContinueRepeated instead of
// being asked for the same page forever.
//
// A namespaced resource needs Namespace(ns) or AllNamespaces()
// (ErrNamespaceRequired otherwise).
//
// The objects share their page's buffer: keeping one object keeps its whole
// page in memory. Copy an object (obj.Clone()) to keep it on its own. The
// objects are as the server sends them: items of built-in kinds carry no
// apiVersion and kind (Handle.Resolve tells them); Create, Update and Apply
// fill both in from the handle, so an item can be written back as it is.
//
// For callers that need to select on other channels, iter.Pull2 turns the
// sequence into a next function.
func (h Handle) List(ctx context.Context, opts *ListOptions) iter.Seq2[unstructured.Object, error] {
	var o ListOptions
	if opts != nil {
		o = *opts
	}
	return func(yield func(unstructured.Object, error) bool) {
		t, err := h.bind(ctx, scopeList, verbList)
		if err != nil {
			yield(unstructured.Object{}, t.wrap("list", "", err))
			return
		}
		for page, err := range t.pages(ctx, &o, listSizing) {
			if err != nil {
				yield(unstructured.Object{}, t.wrap("list", "", err))
				return
			}
			for _, item := range page.All() {
				if !yield(item, nil) {
					return
				}
			}
		}
	}
}

// ListPage sends one list request and returns the page as sent by the
// server: opts.Continue continues from an earlier page, opts.Limit bounds the
// page (no limit when 0), and the returned List's Continue() is the token for
// the next page ("" after the last). The page's items share its buffer.
func (h Handle) ListPage(ctx context.Context, opts *ListOptions) (unstructured.List, error) {
	t, err := h.bind(ctx, scopeList, verbList)
	if err != nil {
		return unstructured.List{}, t.wrap("list", "", err)
	}
	var cont string
	if opts != nil {
		cont = opts.Continue
	}
	page, err := t.page(ctx, opts, cont, 0)
	if err != nil {
		return unstructured.List{}, t.wrap("list", "", err)
	}
	return page, nil
}

// ListAll follows every page as List does and returns all objects together
// with the resourceVersion of the list, from which a watch can start. On any
// error it returns no objects. The objects share their pages' buffers.
//
// When opts.Limit is 0, pages after the first are sized to
// ListAllPageBytes (List's are sized to ListPageBytes): ListAll keeps every
// page anyway, so it asks for fewer, larger pages, while each response stays
// far below the transport's size limit.
func (h Handle) ListAll(ctx context.Context, opts *ListOptions) ([]unstructured.Object, string, error) {
	var o ListOptions
	if opts != nil {
		o = *opts
	}
	t, err := h.bind(ctx, scopeList, verbList)
	if err != nil {
		return nil, "", t.wrap("list", "", err)
	}
	var (
		items []unstructured.Object
		rv    string
	)
	for page, err := range t.pages(ctx, &o, listAllSizing) {
		if err != nil {
			return nil, "", t.wrap("list", "", err)
		}
		if rv == "" {
			rv = page.ResourceVersion()
		}
		if items == nil {
			if rest, ok := page.RemainingItemCount(); ok && rest > 0 && rest < 1<<24 {
				items = make([]unstructured.Object, 0, int64(page.Len())+rest)
			}
		}
		for _, item := range page.All() {
			items = append(items, item)
		}
	}
	return items, rv, nil
}

// pages sends the list requests of List and ListAll, from o.Continue to the
// last page, sized by sizing when o.Limit is 0. As soon as a
// page's body has arrived, its continue token is read from the head of the
// body (the server writes metadata before items) and the request for the
// next page is sent on its own goroutine; then the page is validated and
// yielded. So the server's work on page n+1 overlaps the client's on page n
// (validating it, and whatever the caller does with its items), and no more
// than one page is ever held ahead. The token is read again from the
// validated page: a page whose token differs from the one followed is an
// error. When the loop ends early the request ahead is cancelled and waited
// for, so no goroutine outlives the loop. A failure is yielded as the last
// element, after every page before it. A server that answers a continue
// token it already gave (or was given) would make the loop endless: that
// page is refused with ErrContinueRepeated before any of its items is
// yielded (and before anything is fetched after it).
func (t target) pages(ctx context.Context, o *ListOptions, sizing pageSizing) iter.Seq2[unstructured.List, error] {
	return func(yield func(unstructured.List, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		type fetched struct {
			body []byte
			err  error
		}
		var ahead chan fetched
		defer func() {
			if ahead != nil {
				cancel()
				<-ahead
			}
		}()
		cont := o.Continue
		seen := map[string]struct{}{}
		if cont != "" {
			seen[cont] = struct{}{}
		}
		limit := int64(DefaultPageSize)
		body, err := t.fetchPage(ctx, o, cont, limit)
		for n := 1; ; n++ {
			if err != nil {
				yield(unstructured.List{}, err)
				return
			}
			// A hint only, from unvalidated bytes: checked against the
			// validated page below.
			next := gjson.GetBytes(body, "metadata.continue").String()
			if _, dup := seen[next]; dup && next != "" {
				yield(unstructured.List{}, fmt.Errorf("%w: page %d answered a continue token the list had already followed; stopping instead of listing forever",
					ErrContinueRepeated, n))
				return
			}
			if next != "" {
				seen[next] = struct{}{}
				limit = sizing.next(limit, len(body))
				ahead = make(chan fetched, 1)
				go func(ch chan<- fetched, limit int64) {
					b, err := t.fetchPage(ctx, o, next, limit)
					ch <- fetched{b, err}
				}(ahead, limit)
			}
			// The body is ours alone: the list may keep it without a copy.
			page, perr := unstructured.ParseListNoCopy(body)
			if perr != nil {
				yield(unstructured.List{}, fmt.Errorf("decode list page: %w", perr))
				return
			}
			if page.Continue() != next {
				yield(unstructured.List{}, fmt.Errorf("decode list page %d: continue token %q read ahead, %q in the validated page", n, next, page.Continue()))
				return
			}
			if !yield(page, nil) || next == "" {
				return
			}
			r := <-ahead
			ahead = nil
			body, err = r.body, r.err
		}
	}
}

// page sends one list request and validates the answer.
func (t target) page(ctx context.Context, opts *ListOptions, cont string, defLimit int64) (unstructured.List, error) {
	body, err := t.fetchPage(ctx, opts, cont, defLimit)
	if err != nil {
		return unstructured.List{}, err
	}
	page, err := unstructured.ParseListNoCopy(body)
	if err != nil {
		return unstructured.List{}, fmt.Errorf("decode list page: %w", err)
	}
	return page, nil
}

// fetchPage sends one list request and returns its body, unvalidated.
func (t target) fetchPage(ctx context.Context, opts *ListOptions, cont string, defLimit int64) ([]byte, error) {
	resp, err := t.h.c.do(ctx, &transport.Request{
		Method: http.MethodGet,
		Path:   t.collectionPath(),
		Query:  opts.query(cont, defLimit),
		Header: t.h.readHeader(true),
	})
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// Table asks the server to render the objects the options select as a
// meta.k8s.io/v1 Table (the columns kubectl get prints) and returns it as an
// Object: columnDefinitions, rows[].cells, rows[].object. It sends one
// request: opts.Limit and opts.Continue page as in ListPage, and the Table's
// metadata.continue is the next token. A server that cannot render a table
// answers with the plain list; check the returned kind.
//
// By default each row's object is only the object's metadata, a
// PartialObjectMetadata (apiVersion meta.k8s.io/v1, no spec, no status):
// set opts.IncludeObject to IncludeObject for the whole object in each row,
// or to IncludeNone for none. A MetadataOnly handle changes nothing here.
func (h Handle) Table(ctx context.Context, opts *TableOptions) (unstructured.Object, error) {
	t, err := h.bind(ctx, scopeList, verbList)
	if err != nil {
		return unstructured.Object{}, t.wrap("table", "", err)
	}
	var o TableOptions
	if opts != nil {
		o = *opts
	}
	switch o.IncludeObject {
	case "", IncludeNone, IncludeMetadata, IncludeObject:
	default:
		return unstructured.Object{}, t.wrap("table", "", fmt.Errorf("TableOptions.IncludeObject is %q; want %q, %q or %q",
			o.IncludeObject, IncludeNone, IncludeMetadata, IncludeObject))
	}
	q := o.ListOptions.query(o.Continue, 0)
	if o.IncludeObject != "" {
		q.Set("includeObject", string(o.IncludeObject))
	}
	return t.send(ctx, "table", "", &transport.Request{
		Method: http.MethodGet,
		Path:   t.collectionPath(),
		Query:  q,
		Header: http.Header{"Accept": {tableAccept}},
	})
}
