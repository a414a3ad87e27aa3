package testserver

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// listOptions are a list's selectors and paging.
type listOptions struct {
	labels   []labelReq
	fields   []fieldReq
	limit    int
	start    string // first key to return (from the continue token)
	tokenRV  int64  // the resourceVersion of the list a continue token came from
	rv       string
	rvMatch  string
	watchBMs bool
	initial  bool // sendInitialEvents
}

type labelReq struct {
	key, op string // op: "=", "!=", "in", "notin", "exists", "!"
	values  []string
}

type fieldReq struct {
	path, op, value string
}

func listInvalid(field, detail string) error {
	return errInvalid("meta.k8s.io", "ListOptions", "", []statusCause{{Reason: "FieldValueForbidden", Field: field, Message: "Forbidden: " + detail}})
}

func (s *Server) parseListOptions(r *http.Request, d *resourceDef) (*listOptions, error) {
	q := r.URL.Query()
	o := &listOptions{rv: q.Get("resourceVersion"), rvMatch: q.Get("resourceVersionMatch")}
	var err error
	if o.labels, err = parseLabelSelector(q.Get("labelSelector")); err != nil {
		return nil, err
	}
	if o.fields, err = parseFieldSelector(d, q.Get("fieldSelector")); err != nil {
		return nil, err
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, errBadRequest(fmt.Sprintf("limit: Invalid value: %q", v))
		}
		o.limit = n
	}
	switch o.rvMatch {
	case "", "NotOlderThan", "Exact":
	default:
		return nil, errInvalid("meta.k8s.io", "ListOptions", "", []statusCause{causeUnsupported("resourceVersionMatch", o.rvMatch, []string{"Exact", "NotOlderThan", ""})})
	}
	_, initialGiven := q["sendInitialEvents"]
	if isWatch(r) {
		// The real server's rules for watch options.
		switch {
		case initialGiven && o.rvMatch != "NotOlderThan":
			return nil, listInvalid("resourceVersionMatch", "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan")
		case o.rvMatch != "" && !initialGiven:
			return nil, listInvalid("resourceVersionMatch", "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided")
		}
	} else {
		switch {
		case o.rvMatch != "" && o.rv == "":
			return nil, listInvalid("resourceVersionMatch", "resourceVersionMatch is forbidden unless resourceVersion is provided")
		case o.rvMatch != "" && q.Get("continue") != "":
			return nil, listInvalid("resourceVersionMatch", "resourceVersionMatch is forbidden when continue is provided")
		case o.rvMatch == "Exact" && o.rv == "0":
			return nil, listInvalid("resourceVersionMatch", `resourceVersionMatch "exact" is forbidden for resourceVersion "0"`)
		case initialGiven:
			return nil, listInvalid("sendInitialEvents", "sendInitialEvents is forbidden for list")
		}
	}
	if o.rv != "" {
		if _, err := strconv.ParseUint(o.rv, 10, 64); err != nil {
			return nil, errBadRequest(fmt.Sprintf("invalid resource version: resourceVersion: Invalid value: %q: %v", o.rv, err))
		}
	}
	if c := q.Get("continue"); c != "" {
		if o.rv != "" && o.rv != "0" {
			return nil, listInvalid("resourceVersion", "specifying resource version is not allowed when using continue")
		}
		tok, err := decodeContinue(c)
		if err != nil {
			return nil, errBadRequest("invalid continue token: continue key is not valid: " + err.Error())
		}
		o.start, o.tokenRV = tok.Start, tok.RV
	}
	o.watchBMs = q.Get("allowWatchBookmarks") == "true"
	o.initial = q.Get("sendInitialEvents") == "true"
	return o, nil
}

type continueToken struct {
	V     string `json:"v"`
	RV    int64  `json:"rv"`
	Start string `json:"start"`
}

func encodeContinue(rv int64, start string) string {
	b, _ := json.Marshal(continueToken{V: "meta.k8s.io/v1", RV: rv, Start: start})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeContinue(s string) (continueToken, error) {
	var t continueToken
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return t, err
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return t, err
	}
	if t.V != "meta.k8s.io/v1" || t.RV <= 0 {
		return t, fmt.Errorf("unsupported continue token version %q", t.V)
	}
	return t, nil
}

// selectorToken is one token of a label selector.
type selectorToken struct {
	kind string // "id", "!", "=", "==", "!=", ">", "<", "in", "notin", "(", ")", ",", "eos"
	text string
}

// lexSelector splits a label selector into tokens the way the real server's
// lexer does.
func lexSelector(sel string) []selectorToken {
	var toks []selectorToken
	i := 0
	for i < len(sel) {
		c := sel[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case strings.HasPrefix(sel[i:], "!=") || strings.HasPrefix(sel[i:], "=="):
			toks = append(toks, selectorToken{sel[i : i+2], sel[i : i+2]})
			i += 2
		case strings.ContainsRune("!=<>(),", rune(c)):
			toks = append(toks, selectorToken{string(c), string(c)})
			i++
		default:
			j := i
			for j < len(sel) && !strings.ContainsRune(" \t\n\r!=<>(),", rune(sel[j])) {
				j++
			}
			word := sel[i:j]
			kind := "id"
			if word == "in" || word == "notin" {
				kind = word
			}
			toks = append(toks, selectorToken{kind, word})
			i = j
		}
	}
	return append(toks, selectorToken{"eos", ""})
}

func selectorErr(found, expected string) error {
	return errBadRequest(fmt.Sprintf("unable to parse requirement: found '%s', expected: %s", found, expected))
}

// parseLabelSelector parses the label selector syntax (k=v, k==v, k!=v,
// k in (a,b), k notin (a,b), k, !k, k>n, k<n; comma separated) with the
// real server's error messages.
func parseLabelSelector(sel string) ([]labelReq, error) {
	toks := lexSelector(sel)
	pos := 0
	next := func() selectorToken { t := toks[pos]; pos++; return t }
	peek := func() selectorToken { return toks[pos] }
	var reqs []labelReq
	for {
		switch peek().kind {
		case "eos":
			return reqs, nil
		case "id", "!":
		default:
			return nil, selectorErr(peek().text, "!, identifier, or 'end of string'")
		}
		var req labelReq
		if peek().kind == "!" {
			next()
			t := next()
			if t.kind != "id" {
				return nil, selectorErr(t.text, "identifier")
			}
			req = labelReq{key: t.text, op: "!"}
		} else {
			req.key = next().text
			switch op := next(); op.kind {
			case "eos", ",":
				pos--
				req.op = "exists"
			case "=", "==", "!=":
				req.op = map[string]string{"=": "=", "==": "=", "!=": "!="}[op.kind]
				switch v := peek(); v.kind {
				case "id":
					next()
					req.values = []string{v.text}
				case "eos", ",":
					req.values = []string{""}
				default:
					return nil, selectorErr(v.text, "identifier")
				}
			case ">", "<":
				req.op = map[string]string{">": "gt", "<": "lt"}[op.kind]
				v := next()
				if _, err := strconv.ParseInt(v.text, 10, 64); v.kind != "id" || err != nil {
					return nil, errBadRequest(fmt.Sprintf("unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer: %q", v.text))
				}
				req.values = []string{v.text}
			case "in", "notin":
				req.op = op.kind
				if t := next(); t.kind != "(" {
					return nil, selectorErr(t.text, "'('")
				}
				for {
					t := next()
					switch t.kind {
					case "id":
						req.values = append(req.values, t.text)
						switch sep := next(); sep.kind {
						case ",":
							continue
						case ")":
						default:
							return nil, selectorErr(sep.text, "',' or ')'")
						}
					case ")":
					default:
						return nil, selectorErr(t.text, "',' or ')'")
					}
					break
				}
			default:
				return nil, selectorErr(op.text, "in, notin, =, ==, !=, gt, lt")
			}
		}
		if causes := validateLabels(map[string]any{req.key: ""}); len(causes) > 0 {
			return nil, errBadRequest(fmt.Sprintf("unable to parse requirement: key: %s", causes[0].Message))
		}
		for _, v := range req.values {
			if req.op != "gt" && req.op != "lt" && (!labelValueRe.MatchString(v) || len(v) > 63) {
				return nil, errBadRequest(fmt.Sprintf("unable to parse requirement: values[0][%s]: Invalid value: %q: %s", req.key, v, labelValueMsg))
			}
		}
		reqs = append(reqs, req)
		switch t := next(); t.kind {
		case "eos":
			return reqs, nil
		case ",":
			if k := peek().kind; k != "id" && k != "!" {
				return nil, selectorErr(peek().text, "identifier after ','")
			}
		default:
			return nil, selectorErr(t.text, "',' or 'end of string'")
		}
	}
}

func matchLabels(reqs []labelReq, labels map[string]string) bool {
	for _, r := range reqs {
		v, has := labels[r.key]
		switch r.op {
		case "=":
			if !has || v != r.values[0] {
				return false
			}
		case "!=":
			if has && v == r.values[0] {
				return false
			}
		case "in":
			if !has || !slices.Contains(r.values, v) {
				return false
			}
		case "notin":
			if has && slices.Contains(r.values, v) {
				return false
			}
		case "exists":
			if !has {
				return false
			}
		case "!":
			if has {
				return false
			}
		case "gt", "lt":
			n, err := strconv.ParseInt(v, 10, 64)
			want, _ := strconv.ParseInt(r.values[0], 10, 64)
			if !has || err != nil || (r.op == "gt" && n <= want) || (r.op == "lt" && n >= want) {
				return false
			}
		}
	}
	return true
}

// fieldLabels are the field selectors a kind supports beyond metadata.name
// and metadata.namespace.
var fieldLabels = map[string][]string{
	"/pods":       {"spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName", "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"},
	"/events":     {"involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"},
	"/secrets":    {"type"},
	"/namespaces": {"status.phase"},
	"/services":   {"spec.clusterIP", "spec.type"},
}

func parseFieldSelector(d *resourceDef, sel string) ([]fieldReq, error) {
	if strings.TrimSpace(sel) == "" {
		return nil, nil
	}
	var reqs []fieldReq
	for _, t := range strings.Split(sel, ",") {
		var req fieldReq
		if k, v, ok := strings.Cut(t, "!="); ok {
			req = fieldReq{path: k, op: "!=", value: v}
		} else if k, v, ok := strings.Cut(t, "=="); ok {
			req = fieldReq{path: k, op: "=", value: v}
		} else if k, v, ok := strings.Cut(t, "="); ok {
			req = fieldReq{path: k, op: "=", value: v}
		} else {
			return nil, errBadRequest(fmt.Sprintf("invalid selector: %q; can't understand %q", sel, t))
		}
		req.path = strings.TrimSpace(req.path)
		if req.path != "metadata.name" && req.path != "metadata.namespace" && !slices.Contains(fieldLabels[d.group+"/"+d.resource], req.path) {
			if d.crd != "" || fieldLabels[d.group+"/"+d.resource] != nil {
				return nil, errBadRequest("field label not supported: " + req.path)
			}
			return nil, errBadRequest(fmt.Sprintf("%q is not a known field selector: only \"metadata.name\", \"metadata.namespace\"", req.path))
		}
		reqs = append(reqs, req)
	}
	return reqs, nil
}

func matchFields(reqs []fieldReq, obj map[string]any) bool {
	for _, r := range reqs {
		cur := pathValue(obj, r.path)
		v := ""
		if cur != nil {
			v = fmt.Sprint(cur)
		}
		if (v == r.value) != (r.op == "=") {
			return false
		}
	}
	return true
}

func (o *listOptions) matches(obj map[string]any) bool {
	return matchLabels(o.labels, stringMap(meta(obj)["labels"])) && matchFields(o.fields, obj)
}

// selectLocked returns the matching objects in key order from o.start,
// at most o.limit of them, and the continue token; callers hold s.mu.
func (s *Server) selectLocked(d *resourceDef, namespace string, o *listOptions) ([]map[string]any, string, int, error) {
	if o.tokenRV != 0 && o.tokenRV <= s.compacted {
		return nil, "", 0, errGoneExpired("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.")
	}
	rv, _ := strconv.ParseInt(o.rv, 10, 64)
	if o.rvMatch == "Exact" && rv > 0 && rv < s.compacted {
		return nil, "", 0, errGoneExpired(fmt.Sprintf("The resourceVersion for the provided list is too old: %d < %d", rv, s.compacted))
	}
	if rv > s.rv {
		st := newStatus(http.StatusGatewayTimeout, "Timeout", fmt.Sprintf("Timeout: Too large resource version: %d, current: %d", rv, s.rv),
			&statusDetails{Causes: []statusCause{{Reason: "ResourceVersionTooLarge", Message: "Too large resource version"}}, RetryAfterSeconds: 1})
		return nil, "", 0, st
	}
	if o.rv == "0" && o.start == "" {
		// Served from the watch cache, which ignores limit.
		o.limit = 0
	}
	b := s.store[d.storageKey()]
	if o.tokenRV != 0 && o.tokenRV < s.rv {
		b = s.snapshotLocked(d, b, o.tokenRV)
	}
	keys := sortedKeys(b)
	var out []map[string]any
	cont, remaining := "", 0
	listRV := o.tokenRV
	if listRV == 0 {
		listRV = s.rv
	}
	for _, k := range keys {
		if k < o.start {
			continue
		}
		if namespace != "" && !strings.HasPrefix(k, namespace+"/") {
			continue
		}
		obj := b[k]
		if !o.matches(obj) {
			continue
		}
		if o.limit > 0 && len(out) == o.limit {
			if cont == "" {
				cont = encodeContinue(listRV, k)
			}
			remaining++
			continue
		}
		out = append(out, output(d, obj))
	}
	return out, cont, remaining, nil
}

// snapshotLocked returns the resource's objects as they were at
// resourceVersion rv, by undoing the logged changes after it: a continued
// list pages through the state its first page saw, as etcd serves it, not
// the state of the moment. rv is newer than the compaction point (older
// tokens get 410 first), so every change after it is in the log. The
// objects are shared with the store and the log, never written. Callers
// hold s.mu.
func (s *Server) snapshotLocked(d *resourceDef, cur map[string]map[string]any, rv int64) map[string]map[string]any {
	snap := maps.Clone(cur)
	key := d.storageKey()
	for i := len(s.events) - 1; i >= 0 && s.events[i].rv > rv; i-- {
		ev := s.events[i]
		if ev.key != key {
			continue
		}
		md := meta(ev.obj)
		ns, _ := md["namespace"].(string)
		name, _ := md["name"].(string)
		if ev.prev == nil {
			delete(snap, objKey(ns, name))
		} else {
			snap[objKey(ns, name)] = ev.prev
		}
	}
	return snap
}

func (s *Server) serveList(w http.ResponseWriter, r *http.Request, req request) {
	if req.sub != "" {
		writeStatus(w, errMethodNotAllowed())
		return
	}
	o, err := s.parseListOptions(r, req.def)
	if err != nil {
		writeErr(w, err)
		return
	}
	s.mu.Lock()
	items, cont, remaining, err := s.selectLocked(req.def, req.namespace, o)
	rv := strconv.FormatInt(s.rv, 10)
	if o.tokenRV != 0 {
		// Every page of a continued list carries the list's resourceVersion.
		rv = strconv.FormatInt(o.tokenRV, 10)
	}
	s.mu.Unlock()
	if err != nil {
		writeErr(w, err)
		return
	}
	if v, ok := acceptsAs(r, "Table", "meta.k8s.io", "v1", "v1beta1"); ok {
		s.writeTable(w, r, req.def, v, items, rv, cont)
		return
	}
	if v, ok := acceptsAs(r, "PartialObjectMetadataList", "meta.k8s.io", "v1", "v1beta1"); ok {
		list := listOf(req.def, nil, rv, cont, remaining, len(o.labels) == 0 && len(o.fields) == 0)
		out := make([]any, len(items))
		for i, it := range items {
			out[i] = partialMetadata(it, v)
		}
		list["kind"], list["apiVersion"], list["items"] = "PartialObjectMetadataList", "meta.k8s.io/"+v, out
		writeJSON(w, http.StatusOK, list)
		return
	}
	writeJSON(w, http.StatusOK, listOf(req.def, items, rv, cont, remaining, len(o.labels) == 0 && len(o.fields) == 0))
}

// listOf builds a list response. Items of built-in kinds carry no
// apiVersion and kind, as from the real server; custom resources keep them.
func listOf(d *resourceDef, items []map[string]any, rv, cont string, remaining int, showRemaining bool) map[string]any {
	md := map[string]any{"resourceVersion": rv}
	if cont != "" {
		md["continue"] = cont
		if showRemaining {
			md["remainingItemCount"] = remaining
		}
	}
	list := make([]any, len(items))
	for i, it := range items {
		if d.crd == "" {
			delete(it, "apiVersion")
			delete(it, "kind")
		}
		list[i] = it
	}
	return map[string]any{"kind": d.listKind(), "apiVersion": d.groupVersion(), "metadata": md, "items": list}
}

func (s *Server) serveDeleteCollection(w http.ResponseWriter, r *http.Request, req request) {
	o, err := s.parseListOptions(r, req.def)
	if err != nil {
		writeErr(w, err)
		return
	}
	opts, err := parseDeleteOptions(r)
	if err != nil {
		writeErr(w, err)
		return
	}
	s.mu.Lock()
	out, err := s.deleteCollection(req, o, opts)
	s.mu.Unlock()
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// deleteCollection deletes the selected objects and returns the list of
// what was deleted; callers hold s.mu.
func (s *Server) deleteCollection(req request, o *listOptions, opts *deleteOptions) (map[string]any, error) {
	o.limit = 0
	items, _, _, err := s.selectLocked(req.def, req.namespace, o)
	if err != nil {
		return nil, err
	}
	var deleted []map[string]any
	for _, it := range items {
		md := meta(it)
		ns, _ := md["namespace"].(string)
		_, out, err := s.delete(req.def, ns, fmt.Sprint(md["name"]), opts)
		if err != nil {
			return nil, err
		}
		if m, ok := out.(map[string]any); ok {
			deleted = append(deleted, m)
		} else {
			deleted = append(deleted, it)
		}
	}
	return listOf(req.def, deleted, strconv.FormatInt(s.rv, 10), "", 0, false), nil
}

// tableColumn is one column of a Table after Name.
type tableColumn struct {
	name, typ, format, desc string
	priority                int
	cell                    func(obj map[string]any) any
}

const creationTimestampDesc = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"

const nameColumnDesc = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"

func ageColumn(typ string) tableColumn {
	return tableColumn{name: "Age", typ: typ, desc: creationTimestampDesc, cell: func(o map[string]any) any {
		return age(getString(o, "metadata", "creationTimestamp"))
	}}
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

func count(v any) int {
	switch t := v.(type) {
	case map[string]any:
		return len(t)
	case []any:
		return len(t)
	}
	return 0
}

func intField(o map[string]any, keys ...string) int64 {
	var cur any = o
	for _, k := range keys {
		m, _ := cur.(map[string]any)
		cur = m[k]
	}
	n, _ := strconv.ParseInt(fmt.Sprint(cur), 10, 64)
	return n
}

// builtinColumns are the columns the real server's printers give the
// built-in kinds (after Name), by group/resource.
var builtinColumns = map[string][]tableColumn{
	"/configmaps": {
		{name: "Data", typ: "string", desc: "Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored in Data must not overlap with the keys in the BinaryData field, this is enforced during validation process.", cell: func(o map[string]any) any { return count(o["data"]) + count(o["binaryData"]) }},
		ageColumn("string"),
	},
	"/secrets": {
		{name: "Type", typ: "string", desc: "Used to facilitate programmatic handling of secret data. More info: https://kubernetes.io/docs/concepts/configuration/secret/#secret-types", cell: func(o map[string]any) any { return getString(o, "type") }},
		{name: "Data", typ: "string", desc: "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or '.'. The serialized form of the secret data is a base64 encoded string, representing the arbitrary (possibly non-string) data value here. Described in https://tools.ietf.org/html/rfc4648#section-4", cell: func(o map[string]any) any { return count(o["data"]) }},
		ageColumn("string"),
	},
	"/namespaces": {
		{name: "Status", typ: "string", desc: "The status of the namespace", cell: func(o map[string]any) any { return getString(o, "status", "phase") }},
		ageColumn("string"),
	},
	"/serviceaccounts": {ageColumn("string")},
	"apiextensions.k8s.io/customresourcedefinitions": {
		{name: "Scope", typ: "string", desc: "Cluster/Namespaced", cell: func(o map[string]any) any { return getString(o, "spec", "scope") }},
		{name: "Versions", typ: "string", desc: "Served versions", cell: crdServedVersions},
		{name: "Created At", typ: "date", desc: creationTimestampDesc, cell: func(o map[string]any) any { return getString(o, "metadata", "creationTimestamp") }},
		{name: "Group", typ: "string", priority: 1, desc: "API group", cell: func(o map[string]any) any { return getString(o, "spec", "group") }},
		{name: "Kind", typ: "string", priority: 1, desc: "CustomResource kind", cell: func(o map[string]any) any { return getString(o, "spec", "names", "kind") }},
		{name: "ShortNames", typ: "string", priority: 1, desc: "Short names", cell: func(o map[string]any) any {
			var names []string
			for _, n := range asSlice(getMap(getMap(o, "spec", true), "names", true)["shortNames"]) {
				names = append(names, fmt.Sprint(n))
			}
			return strings.Join(names, ",")
		}},
		{name: "Established", typ: "boolean", priority: 1, desc: "Established status", cell: func(o map[string]any) any {
			for _, c := range asSlice(getMap(o, "status", true)["conditions"]) {
				if cm, _ := c.(map[string]any); cm["type"] == "Established" && cm["status"] == "True" {
					return true
				}
			}
			return false
		}},
	},
	"/pods": {
		{name: "Ready", typ: "string", desc: "The aggregate readiness state of this pod for accepting traffic.", cell: func(o map[string]any) any {
			r := summarizePod(o)
			return fmt.Sprintf("%d/%d", r.ready, r.total)
		}},
		{name: "Status", typ: "string", desc: "The aggregate status of the containers in this pod.", cell: func(o map[string]any) any { return summarizePod(o).reason }},
		{name: "Restarts", typ: "string", desc: "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.", cell: func(o map[string]any) any { return summarizePod(o).restarts }},
		ageColumn("string"),
		{name: "IP", typ: "string", priority: 1, desc: "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.", cell: func(o map[string]any) any {
			var ip string
			if ips := objects(getMap(o, "status", true)["podIPs"]); len(ips) > 0 {
				ip = getString(ips[0], "ip")
			}
			return orNone(ip)
		}},
		{name: "Node", typ: "string", priority: 1, desc: "NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling by the scheduler defined in schedulerName. Once this field is set, the kubelet for this node becomes responsible for the lifecycle of this pod. This field should not be used to express a desire for the pod to be scheduled on a specific node. https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename", cell: func(o map[string]any) any { return orNone(getString(o, "spec", "nodeName")) }},
		{name: "Nominated Node", typ: "string", priority: 1, desc: "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods. This field does not guarantee that the pod will be scheduled on this node. Scheduler may decide to place the pod elsewhere if other nodes become available sooner. Scheduler may also decide to give the resources on this node to a higher priority pod that is created after preemption. As a result, this field may be different than PodSpec.nodeName when the pod is scheduled.", cell: func(o map[string]any) any { return orNone(getString(o, "status", "nominatedNodeName")) }},
		{name: "Readiness Gates", typ: "string", priority: 1, desc: "If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its containers are ready AND all conditions specified in the readiness gates have status equal to \"True\" More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates", cell: func(o map[string]any) any { return podReadinessGates(o) }},
	},
	"/events": {
		{name: "Last Seen", typ: "string", desc: "The time at which the most recent occurrence of this event was recorded.", cell: func(o map[string]any) any {
			if ts := getString(o, "series", "lastObservedTime"); ts != "" {
				return age(ts)
			}
			if ts := getString(o, "lastTimestamp"); ts != "" {
				return age(ts)
			}
			return eventFirstSeen(o)
		}},
		{name: "Type", typ: "string", desc: "Type of this event (Normal, Warning), new types could be added in the future", cell: func(o map[string]any) any { return getString(o, "type") }},
		{name: "Reason", typ: "string", desc: "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.", cell: func(o map[string]any) any { return getString(o, "reason") }},
		{name: "Object", typ: "string", desc: "The object that this event is about.", cell: func(o map[string]any) any {
			target := strings.ToLower(getString(o, "involvedObject", "kind"))
			if n := getString(o, "involvedObject", "name"); n != "" {
				target += "/" + n
			}
			return target
		}},
		{name: "Subobject", typ: "string", priority: 1, desc: "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2]. For example, if the object reference is to a container within a pod, this would take on a value like: \"spec.containers{name}\" (where \"name\" refers to the name of the container that triggered the event) or if no container name is specified \"spec.containers[2]\" (container with index 2 in this pod). This syntax is chosen only to have some well-defined way of referencing a part of an object.", cell: func(o map[string]any) any { return getString(o, "involvedObject", "fieldPath") }},
		{name: "Source", typ: "string", priority: 1, desc: "The component reporting this event. Should be a short machine understandable string.", cell: func(o map[string]any) any {
			src := cmp.Or(getString(o, "source", "component"), getString(o, "reportingComponent"))
			if h := cmp.Or(getString(o, "source", "host"), getString(o, "reportingInstance")); h != "" {
				src += ", " + h
			}
			return src
		}},
		{name: "Message", typ: "string", desc: "A human-readable description of the status of this operation.", cell: func(o map[string]any) any { return strings.TrimSpace(getString(o, "message")) }},
		{name: "First Seen", typ: "string", priority: 1, desc: "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)", cell: eventFirstSeen},
		{name: "Count", typ: "string", priority: 1, desc: "The number of times this event has occurred.", cell: func(o map[string]any) any {
			// A number, as the real printer gives it; a singleton event
			// (count unset) counts 1.
			if _, ok := o["series"].(map[string]any); ok {
				return intField(o, "series", "count")
			}
			if n := intField(o, "count"); n != 0 {
				return n
			}
			return int64(1)
		}},
		{name: "Name", typ: "string", format: "name", priority: 1, desc: nameColumnDesc, cell: func(o map[string]any) any { return getString(o, "metadata", "name") }},
	},
	"apps/deployments": {
		{name: "Ready", typ: "string", desc: "Number of the pod with ready state", cell: func(o map[string]any) any {
			return fmt.Sprintf("%d/%d", intField(o, "status", "readyReplicas"), intField(o, "spec", "replicas"))
		}},
		{name: "Up-to-date", typ: "string", desc: "Total number of non-terminating pods targeted by this deployment that have the desired template spec.", cell: func(o map[string]any) any { return intField(o, "status", "updatedReplicas") }},
		{name: "Available", typ: "string", desc: "Total number of available non-terminating pods (ready for at least minReadySeconds) targeted by this deployment.", cell: func(o map[string]any) any { return intField(o, "status", "availableReplicas") }},
		ageColumn("string"),
		{name: "Containers", typ: "string", priority: 1, desc: "Names of each container in the template.", cell: func(o map[string]any) any { return joinContainers(o, "name") }},
		{name: "Images", typ: "string", priority: 1, desc: "Images referenced by each container in the template.", cell: func(o map[string]any) any { return joinContainers(o, "image") }},
		{name: "Selector", typ: "string", priority: 1, desc: "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment. It must match the pod template's labels.", cell: func(o map[string]any) any {
			return orNone(formatLabelSelector(getMap(getMap(o, "spec", true), "selector", false)))
		}},
	},
	"/services": {
		{name: "Type", typ: "string", desc: "type determines how the Service is exposed. Defaults to ClusterIP. Valid options are ExternalName, ClusterIP, NodePort, and LoadBalancer. \"ClusterIP\" allocates a cluster-internal IP address for load-balancing to endpoints. Endpoints are determined by the selector or if that is not specified, by manual construction of an Endpoints object or EndpointSlice objects. If clusterIP is \"None\", no virtual IP is allocated and the endpoints are published as a set of endpoints rather than a virtual IP. \"NodePort\" builds on ClusterIP and allocates a port on every node which routes to the same endpoints as the clusterIP. \"LoadBalancer\" builds on NodePort and creates an external load-balancer (if supported in the current cloud) which routes to the same endpoints as the clusterIP. \"ExternalName\" aliases this service to the specified externalName. Several other fields do not apply to ExternalName services. More info: https://kubernetes.io/docs/concepts/services-networking/service/#publishing-services-service-types", cell: func(o map[string]any) any { return getString(o, "spec", "type") }},
		{name: "Cluster-IP", typ: "string", desc: "clusterIP is the IP address of the service and is usually assigned randomly. If an address is specified manually, is in-range (as per system configuration), and is not in use, it will be allocated to the service; otherwise creation of the service will fail. This field may not be changed through updates unless the type field is also being changed to ExternalName (which requires this field to be blank) or the type field is being changed from ExternalName (in which case this field may optionally be specified, as describe above).  Valid values are \"None\", empty string (\"\"), or a valid IP address. Setting this to \"None\" makes a \"headless service\" (no virtual IP), which is useful when direct endpoint connections are preferred and proxying is not required.  Only applies to types ClusterIP, NodePort, and LoadBalancer. If this field is specified when creating a Service of type ExternalName, creation will fail. This field will be wiped when updating a Service to type ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies", cell: func(o map[string]any) any {
			if ips := asSlice(getMap(o, "spec", true)["clusterIPs"]); len(ips) > 0 {
				return fmt.Sprint(ips[0])
			}
			return "<none>"
		}},
		{name: "External-IP", typ: "string", desc: "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.  These IPs are not managed by Kubernetes.  The user is responsible for ensuring that traffic arrives at a node with this IP.  A common example is external load-balancers that are not part of the Kubernetes system.", cell: serviceExternalIP},
		{name: "Port(s)", typ: "string", desc: "The list of ports that are exposed by this service. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies", cell: func(o map[string]any) any {
			var ports []string
			for _, pm := range objects(getMap(o, "spec", true)["ports"]) {
				if np := intField(pm, "nodePort"); np > 0 {
					ports = append(ports, fmt.Sprintf("%v:%d/%v", pm["port"], np, pm["protocol"]))
					continue
				}
				ports = append(ports, fmt.Sprintf("%v/%v", pm["port"], pm["protocol"]))
			}
			return orNone(strings.Join(ports, ","))
		}},
		ageColumn("string"),
		{name: "Selector", typ: "string", priority: 1, desc: "Route service traffic to pods with label keys and values matching this selector. If empty or not present, the service is assumed to have an external process managing its endpoints, which Kubernetes will not modify. Only applies to types ClusterIP, NodePort, and LoadBalancer. Ignored if type is ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/", cell: func(o map[string]any) any {
			sel := stringMap(getMap(o, "spec", true)["selector"])
			keys := make([]string, 0, len(sel))
			for k := range sel {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			parts := make([]string, len(keys))
			for i, k := range keys {
				parts[i] = k + "=" + sel[k]
			}
			return orNone(strings.Join(parts, ","))
		}},
	},
}

// serviceExternalIP is a service's External-IP cell: its externalIPs (after
// the load balancer's addresses, sorted, for a LoadBalancer, which is
// "<pending>" with neither), its externalName, or "<none>".
func serviceExternalIP(o map[string]any) any {
	spec := getMap(o, "spec", true)
	var external []string
	for _, ip := range asSlice(spec["externalIPs"]) {
		external = append(external, fmt.Sprint(ip))
	}
	switch getString(spec, "type") {
	case "", "ClusterIP", "NodePort":
		return orNone(strings.Join(external, ","))
	case "LoadBalancer":
		seen := map[string]bool{}
		var lb []string
		for _, in := range objects(getMap(getMap(o, "status", true), "loadBalancer", true)["ingress"]) {
			addr := cmp.Or(getString(in, "ip"), getString(in, "hostname"))
			if addr != "" && !seen[addr] {
				seen[addr] = true
				lb = append(lb, addr)
			}
		}
		slices.Sort(lb)
		if all := append(lb, external...); len(all) > 0 {
			return strings.Join(all, ",")
		}
		return "<pending>"
	case "ExternalName":
		return getString(spec, "externalName")
	}
	return "<unknown>"
}

// eventFirstSeen is the age of an event's firstTimestamp, else of its
// eventTime, else "<unknown>".
func eventFirstSeen(o map[string]any) any {
	if ts := cmp.Or(getString(o, "firstTimestamp"), getString(o, "eventTime")); ts != "" {
		return age(ts)
	}
	return "<unknown>"
}

// crdServedVersions is a CRD's served versions, sorted and joined by
// commas, the storage version marked "(storage)".
func crdServedVersions(o map[string]any) any {
	var out []string
	for _, v := range asSlice(getMap(o, "spec", true)["versions"]) {
		vm, _ := v.(map[string]any)
		if vm["served"] != true {
			continue
		}
		label := getString(vm, "name")
		if vm["storage"] == true {
			label += "(storage)"
		}
		out = append(out, label)
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}

// formatLabelSelector writes a metav1.LabelSelector as selector text, as
// the real server does: one requirement per matchLabels entry and per
// matchExpressions entry ("k=v", "k in (a,b)", "k notin (a,b)", "k", "!k"),
// values sorted, requirements sorted by key.
func formatLabelSelector(sel map[string]any) string {
	type req struct{ key, text string }
	var reqs []req
	for k, v := range stringMap(sel["matchLabels"]) {
		reqs = append(reqs, req{k, k + "=" + v})
	}
	for _, e := range objects(sel["matchExpressions"]) {
		k := getString(e, "key")
		var vals []string
		for _, v := range asSlice(e["values"]) {
			vals = append(vals, fmt.Sprint(v))
		}
		slices.Sort(vals)
		switch getString(e, "operator") {
		case "In":
			reqs = append(reqs, req{k, k + " in (" + strings.Join(vals, ",") + ")"})
		case "NotIn":
			reqs = append(reqs, req{k, k + " notin (" + strings.Join(vals, ",") + ")"})
		case "Exists":
			reqs = append(reqs, req{k, k})
		case "DoesNotExist":
			reqs = append(reqs, req{k, "!" + k})
		}
	}
	slices.SortStableFunc(reqs, func(a, b req) int { return cmp.Compare(a.key, b.key) })
	out := make([]string, len(reqs))
	for i, r := range reqs {
		out[i] = r.text
	}
	return strings.Join(out, ",")
}

func joinContainers(o map[string]any, field string) string {
	var out []string
	for _, c := range asSlice(getMap(getMap(getMap(o, "spec", true), "template", true), "spec", true)["containers"]) {
		cm, _ := c.(map[string]any)
		out = append(out, getString(cm, field))
	}
	return strings.Join(out, ",")
}

// noNameColumn lists the kinds whose Table does not start with Name.
var noNameColumn = map[string]bool{"/events": true}

// tableColumns are the columns after Name: a built-in kind's printer
// columns; a CRD version's additionalPrinterColumns (simple field paths);
// else Age. Callers hold s.mu.
func (s *Server) tableColumns(d *resourceDef) []tableColumn {
	if cols, ok := builtinColumns[d.group+"/"+d.resource]; ok {
		return cols
	}
	if d.crd == "" {
		return []tableColumn{{name: "Created At", typ: "date", desc: creationTimestampDesc, cell: func(o map[string]any) any {
			return getString(o, "metadata", "creationTimestamp")
		}}}
	}
	var cols []tableColumn
	for _, c := range s.printerColumns(d) {
		jp := strings.TrimPrefix(fmt.Sprint(c["jsonPath"]), ".")
		prio, _ := strconv.Atoi(fmt.Sprint(c["priority"]))
		col := tableColumn{name: fmt.Sprint(c["name"]), typ: fmt.Sprint(c["type"]), desc: fmt.Sprint(c["description"]), priority: prio}
		if f, ok := c["format"].(string); ok {
			col.format = f
		}
		col.cell = func(o map[string]any) any {
			var cur any = o
			for _, p := range strings.Split(jp, ".") {
				m, _ := cur.(map[string]any)
				cur = m[p]
			}
			if col.typ == "date" {
				if ts, ok := cur.(string); ok {
					return age(ts)
				}
			}
			return cur
		}
		cols = append(cols, col)
	}
	if len(cols) == 0 {
		cols = []tableColumn{ageColumn("date")}
	}
	return cols
}

// writeTable answers with a meta.k8s.io Table of the objects.
func (s *Server) writeTable(w http.ResponseWriter, r *http.Request, d *resourceDef, version string, items []map[string]any, rv, cont string) {
	table := s.tableOf(r, d, version, items)
	md := map[string]any{"resourceVersion": rv}
	if cont != "" {
		md["continue"] = cont
	}
	table["metadata"] = md
	// The real server labels a Table plain application/json.
	w.Header().Set("Content-Type", "application/json")
	body, _ := json.Marshal(table)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// tableOf renders objects as a meta.k8s.io Table (without metadata), a row
// each, with the object in each row as the includeObject parameter asks.
// It takes s.mu.
func (s *Server) tableOf(r *http.Request, d *resourceDef, version string, items []map[string]any) map[string]any {
	include := r.URL.Query().Get("includeObject")
	if include == "" {
		include = "Metadata"
	}
	s.mu.Lock()
	extra := s.tableColumns(d)
	s.mu.Unlock()
	var cols []any
	withName := !noNameColumn[d.group+"/"+d.resource]
	if withName {
		cols = append(cols, map[string]any{"name": "Name", "type": "string", "format": "name", "description": nameColumnDesc, "priority": 0})
	}
	for _, c := range extra {
		cols = append(cols, map[string]any{"name": c.name, "type": c.typ, "format": c.format, "description": c.desc, "priority": c.priority})
	}
	rows := make([]any, 0, len(items))
	for _, it := range items {
		var cells []any
		if withName {
			cells = append(cells, getString(it, "metadata", "name"))
		}
		for _, c := range extra {
			cells = append(cells, c.cell(it))
		}
		row := map[string]any{"cells": cells}
		if d.group == "" && d.resource == "pods" {
			if conds := podRowConditions(it); conds != nil {
				row["conditions"] = conds
			}
		}
		switch include {
		case "Object":
			row["object"] = it
		case "Metadata":
			row["object"] = map[string]any{"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/" + version, "metadata": it["metadata"]}
		}
		rows = append(rows, row)
	}
	return map[string]any{"kind": "Table", "apiVersion": "meta.k8s.io/" + version, "columnDefinitions": cols, "rows": rows}
}

// printerColumns returns a CRD version's additionalPrinterColumns; callers
// hold s.mu.
func (s *Server) printerColumns(d *resourceDef) []map[string]any {
	if d.crd == "" {
		return nil
	}
	crd := s.store["customresourcedefinitions.apiextensions.k8s.io"][objKey("", d.crd)]
	var out []map[string]any
	for _, v := range asSlice(getMap(crd, "spec", true)["versions"]) {
		vm, _ := v.(map[string]any)
		if vm["name"] != d.version {
			continue
		}
		for _, c := range asSlice(vm["additionalPrinterColumns"]) {
			if cm, ok := c.(map[string]any); ok {
				cm = copyObj(cm)
				setDefault(cm, "priority", 0)
				setDefault(cm, "description", "")
				out = append(out, cm)
			}
		}
	}
	return out
}

// age formats the time since an RFC 3339 timestamp the way kubectl does,
// roughly: 42s, 7m, 5h, 3d.
func age(ts string) string {
	t, err := time.Parse(time.RFC3339, ts)
	if err != nil {
		return "<unknown>"
	}
	d := time.Since(t)
	switch {
	case d < 2*time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < 2*time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}
