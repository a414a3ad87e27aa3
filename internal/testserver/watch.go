package testserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"
)

// event is one change in the server's log, kept for watches.
type event struct {
	rv        int64
	typ       string // ADDED, MODIFIED or DELETED
	key       string // storage key of the resource
	namespace string
	obj, prev map[string]any
}

// maxEvents bounds the change log; older events are compacted away, and a
// watch that asks for them gets 410 Gone.
const maxEvents = 20000

// record appends a change to the log and wakes watchers; prev is the
// object before the change (nil for a create). Callers hold s.mu.
func (s *Server) record(typ string, d *resourceDef, obj, prev map[string]any) {
	md := meta(obj)
	rv, _ := strconv.ParseInt(fmt.Sprint(md["resourceVersion"]), 10, 64)
	ns, _ := md["namespace"].(string)
	// prev is retired from the store by this change and never written
	// again, so the event may share it.
	s.events = append(s.events, event{rv: rv, typ: typ, key: d.storageKey(), namespace: ns, obj: copyObj(obj), prev: prev})
	if len(s.events) > maxEvents {
		drop := len(s.events) - maxEvents/2
		s.compacted = s.events[drop-1].rv
		s.events = append([]event(nil), s.events[drop:]...)
	}
	s.wake()
}

func (s *Server) wake() {
	close(s.notify)
	s.notify = make(chan struct{})
}

// Compact forgets the change history up to now, as etcd compaction does:
// continue tokens issued so far and watches from an older resourceVersion
// then get 410 Gone with reason Expired.
func (s *Server) Compact() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.compacted = s.rv
	s.events = nil
	s.wake()
}

// SendBookmarks makes every open watch that allows bookmarks send a BOOKMARK
// event with the current resourceVersion now (the real server sends them
// about once a minute, which tests cannot wait for).
func (s *Server) SendBookmarks() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bookmarkGen++
	s.wake()
}

// EndWatches ends every open watch cleanly, as a server-side timeout does:
// the stream closes after the events already sent.
func (s *Server) EndWatches() { s.stopWatches(false) }

// DropWatches breaks every open watch: the connection is closed in the
// middle of the stream, as when a proxy or the network fails.
func (s *Server) DropWatches() { s.stopWatches(true) }

func (s *Server) stopWatches(drop bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, stop := range s.watchers {
		select {
		case stop <- drop:
		default:
		}
	}
}

// ResourceVersion returns the server's current resourceVersion.
func (s *Server) ResourceVersion() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strconv.FormatInt(s.rv, 10)
}

type watchFrame struct {
	Type   string `json:"type"`
	Object any    `json:"object"`
}

func (s *Server) serveWatch(w http.ResponseWriter, r *http.Request, req request) {
	if req.sub != "" {
		writeStatus(w, errMethodNotAllowed())
		return
	}
	o, err := s.parseListOptions(r, req.def)
	if err != nil {
		writeErr(w, err)
		return
	}
	timeout := time.Duration(0)
	if v := r.URL.Query().Get("timeoutSeconds"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeErr(w, errBadRequest(fmt.Sprintf("timeoutSeconds: Invalid value: %q", v)))
			return
		}
		timeout = time.Duration(n) * time.Second
	}
	var deadline <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		deadline = t.C
	}
	d := req.def
	w = s.watchWriter(w) // watchfaults.go
	flusher, _ := w.(http.Flusher)
	// start writes the response header. It is called only once the watch
	// holds its starting point and is registered, as the real server
	// establishes a watch before answering: a client that has the header
	// sees every change made after it.
	start := func() {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Transfer-Encoding", "chunked")
		w.WriteHeader(http.StatusOK)
		if flusher != nil {
			flusher.Flush()
		}
	}
	enc := json.NewEncoder(w)
	metaVersion, metaOnly := acceptsAs(r, "PartialObjectMetadata", "meta.k8s.io", "v1", "v1beta1")
	tableVersion, asTable := acceptsAs(r, "Table", "meta.k8s.io", "v1", "v1beta1")
	send := func(typ string, obj any) bool {
		if m, ok := obj.(map[string]any); ok && metaOnly && typ != "ERROR" {
			obj = partialMetadata(m, metaVersion)
		}
		if m, ok := obj.(map[string]any); ok && asTable && (typ == "ADDED" || typ == "MODIFIED" || typ == "DELETED") {
			// As kubectl get -w asks: each object a Table of one row.
			obj = s.tableOf(r, d, tableVersion, []map[string]any{m})
		}
		if err := enc.Encode(watchFrame{Type: typ, Object: obj}); err != nil {
			return false
		}
		if flusher != nil {
			flusher.Flush()
		}
		return true
	}

	s.mu.Lock()
	var last int64
	var initial []map[string]any
	initialEnd := false
	switch {
	case o.initial || o.rv == "" || o.rv == "0":
		all := &listOptions{labels: o.labels, fields: o.fields}
		initial, _, _, _ = s.selectLocked(d, req.namespace, all)
		last = s.rv
		initialEnd = o.initial && o.watchBMs
	default:
		last, _ = strconv.ParseInt(o.rv, 10, 64)
		if last < s.compacted {
			expired := errWatchExpired(last, s.compacted)
			s.mu.Unlock()
			start()
			send("ERROR", expired.s)
			return
		}
	}
	gen := s.bookmarkGen
	stop := make(chan bool, 1)
	if s.watchers == nil {
		s.watchers = map[chan bool]chan bool{}
	}
	s.watchers[stop] = stop
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.watchers, stop)
		s.mu.Unlock()
	}()
	start()
	for _, obj := range initial {
		if !send("ADDED", obj) {
			return
		}
	}
	if initialEnd {
		bm := map[string]any{"kind": d.kind, "apiVersion": d.groupVersion(), "metadata": map[string]any{
			"resourceVersion": strconv.FormatInt(last, 10),
			"annotations":     map[string]any{"k8s.io/initial-events-end": "true"},
		}}
		if !send("BOOKMARK", bm) {
			return
		}
	}
	for {
		s.mu.Lock()
		if last < s.compacted {
			expired := errWatchExpired(last, s.compacted)
			s.mu.Unlock()
			send("ERROR", expired.s)
			return
		}
		i := sort.Search(len(s.events), func(i int) bool { return s.events[i].rv > last })
		var frames []watchFrame
		for _, e := range s.events[i:] {
			last = e.rv
			if e.key != d.storageKey() || (req.namespace != "" && e.namespace != req.namespace) {
				continue
			}
			now := o.matches(e.obj)
			before := e.prev != nil && o.matches(e.prev)
			typ, obj := e.typ, e.obj
			switch {
			case e.typ == "MODIFIED" && now && !before:
				typ = "ADDED"
			case e.typ == "MODIFIED" && !now && before:
				// Leaving the selector: as from the real server's watch
				// cache, DELETED carries the object as it was (the one
				// that matched) at the change's resourceVersion.
				typ = "DELETED"
				obj = copyObj(e.prev)
				meta(obj)["resourceVersion"] = strconv.FormatInt(e.rv, 10)
			case !now && !(e.typ == "DELETED" && before):
				continue
			}
			frames = append(frames, watchFrame{Type: typ, Object: output(d, obj)})
		}
		if last < s.rv {
			last = s.rv
		}
		if o.watchBMs && gen != s.bookmarkGen {
			gen = s.bookmarkGen
			frames = append(frames, watchFrame{Type: "BOOKMARK", Object: map[string]any{"kind": d.kind, "apiVersion": d.groupVersion(), "metadata": map[string]any{"resourceVersion": strconv.FormatInt(s.rv, 10)}}})
		}
		notify := s.notify
		s.mu.Unlock()
		for _, f := range frames {
			if !send(f.Type, f.Object) {
				return
			}
		}
		select {
		case <-notify:
		case <-r.Context().Done():
			return
		case <-deadline:
			return
		case <-s.done:
			return
		case drop := <-stop:
			if drop {
				// Aborting the handler closes the connection without the
				// chunked stream's end.
				panic(http.ErrAbortHandler)
			}
			return
		}
	}
}

// errWatchExpired is the Status of the ERROR event that ends a watch whose
// resourceVersion rv is older than the compacted history.
func errWatchExpired(rv, compacted int64) *statusError {
	return errGoneExpired(fmt.Sprintf("too old resource version: %d (%d)", rv, compacted))
}
