package testserver

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// SetPodLog sets the log text a container of a pod serves through the
// pods/log subresource (the pod need not exist yet). Open follow=true
// streams see the text appended since they last read.
func (s *Server) SetPodLog(namespace, pod, container, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.logs == nil {
		s.logs = map[string]string{}
	}
	s.logs[namespace+"/"+pod+"/"+container] = text
	s.wake()
}

// serveConnect answers the pod and service subresources that are not
// objects: log, eviction and, over WebSocket, exec, attach and portforward.
// The others that discovery lists are refused with 405.
func (s *Server) serveConnect(w http.ResponseWriter, r *http.Request, req request) {
	switch {
	case req.def.resource == "pods" && req.sub == "log" && r.Method == http.MethodGet:
		s.servePodLog(w, r, req)
	case req.def.resource == "pods" && req.sub == "eviction" && r.Method == http.MethodPost:
		s.serveEviction(w, r, req)
	case req.def.resource == "pods" && (req.sub == "exec" || req.sub == "attach" || req.sub == "portforward") && (r.Method == http.MethodGet || r.Method == http.MethodPost):
		s.serveStream(w, r, req)
	case req.def.resource == "serviceaccounts" && req.sub == "token" && r.Method == http.MethodPost:
		s.serveTokenRequest(w, r, req)
	default:
		writeStatus(w, errMethodNotAllowed())
	}
}

// podContainer finds the pod and the container a request names, with the
// real server's errors when the container is missing or ambiguous.
func (s *Server) podContainer(req request, container string, all bool) (map[string]any, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pod, ok := s.bucket(req.def)[objKey(req.namespace, req.name)]
	if !ok {
		return nil, "", errNotFound("", "pods", req.name)
	}
	var names []string
	for _, c := range asSlice(getMap(pod, "spec", true)["containers"]) {
		names = append(names, getString(c.(map[string]any), "name"))
	}
	switch {
	case container == "" && len(names) == 1:
		container = names[0]
	case container == "" && !all:
		return nil, "", errBadRequest(fmt.Sprintf("a container name must be specified for pod %s, choose one of: [%s]", req.name, strings.Join(names, " ")))
	case container != "" && !slices.Contains(names, container):
		return nil, "", errBadRequest(fmt.Sprintf("container %s is not valid for pod %s", container, req.name))
	}
	return copyObj(pod), container, nil
}

func (s *Server) servePodLog(w http.ResponseWriter, r *http.Request, req request) {
	if s.serveStampedLog(w, r, req) {
		return
	}
	q := r.URL.Query()
	_, container, err := s.podContainer(req, q.Get("container"), false)
	if err != nil {
		writeErr(w, err)
		return
	}
	key := req.namespace + "/" + req.name + "/" + container
	s.mu.Lock()
	text, hasLog := s.logs[key]
	s.mu.Unlock()
	// A follow stream goes on from the text read here, so a change made
	// while the first part is written is not lost.
	sent := len(text)
	if !hasLog && q.Get("follow") != "true" {
		// A container that never ran has no log: the real server answers
		// 204 for a pod on no node.
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if v := q.Get("tailLines"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeErr(w, errBadRequest(fmt.Sprintf("tailLines: Invalid value: %q", v)))
			return
		}
		lines := strings.SplitAfter(text, "\n")
		if lines[len(lines)-1] == "" {
			lines = lines[:len(lines)-1]
		}
		if n < len(lines) {
			lines = lines[len(lines)-n:]
		}
		text = strings.Join(lines, "")
	}
	if v := q.Get("limitBytes"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			writeErr(w, errBadRequest(fmt.Sprintf("limitBytes: Invalid value: %q", v)))
			return
		}
		if n < len(text) {
			text = text[:n]
		}
	}
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(text))
	if q.Get("follow") != "true" {
		return
	}
	flusher, _ := w.(http.Flusher)
	for {
		if flusher != nil {
			flusher.Flush()
		}
		s.mu.Lock()
		_, alive := s.bucket(req.def)[objKey(req.namespace, req.name)]
		cur := s.logs[key]
		notify := s.notify
		s.mu.Unlock()
		if len(cur) > sent {
			if _, err := w.Write([]byte(cur[sent:])); err != nil {
				return
			}
			sent = len(cur)
			continue
		}
		if !alive {
			return
		}
		select {
		case <-notify:
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		}
	}
}

// serveTokenRequest issues a token for a service account: an opaque random
// string the server does not accept as a credential.
func (s *Server) serveTokenRequest(w http.ResponseWriter, r *http.Request, req request) {
	data, err := readBody(r)
	if err != nil {
		writeErr(w, err)
		return
	}
	tr, err := decodeObject(data)
	if err != nil {
		writeErr(w, err)
		return
	}
	s.mu.Lock()
	sa, ok := s.bucket(req.def)[objKey(req.namespace, req.name)]
	var uid string
	if ok {
		uid = getString(sa, "metadata", "uid")
	}
	s.mu.Unlock()
	if !ok {
		writeStatus(w, errNotFound("", "serviceaccounts", req.name))
		return
	}
	spec := getMap(tr, "spec", true)
	secs := int64(3600)
	if n, ok := spec["expirationSeconds"].(json.Number); ok {
		v, err := n.Int64()
		if err != nil || v < 600 {
			writeErr(w, errInvalid("authentication.k8s.io", "TokenRequest", req.name, []statusCause{causeInvalid("spec.expirationSeconds", rawValue(n.String()), "may not specify a duration less than 10 minutes")}))
			return
		}
		secs = v
	}
	setDefault(spec, "audiences", []any{"https://kubernetes.default.svc"})
	setDefault(spec, "boundObjectRef", nil)
	spec["expirationSeconds"] = secs
	tok := make([]byte, 24)
	_, _ = rand.Read(tok)
	out := map[string]any{
		"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
		"metadata": map[string]any{"name": req.name, "namespace": req.namespace, "creationTimestamp": nil},
		"spec":     spec,
		"status": map[string]any{
			"token":               "kubedyn-testserver." + uid + "." + hex.EncodeToString(tok),
			"expirationTimestamp": time.Now().UTC().Add(time.Duration(secs) * time.Second).Format(time.RFC3339),
		},
	}
	writeJSON(w, http.StatusCreated, out)
}

// serveEviction deletes the pod an Eviction names (there are no disruption
// budgets to consult) and answers 201 Success.
func (s *Server) serveEviction(w http.ResponseWriter, r *http.Request, req request) {
	data, err := readBody(r)
	if err != nil {
		writeErr(w, err)
		return
	}
	ev, err := decodeObject(data)
	if err != nil {
		writeErr(w, err)
		return
	}
	if n := getString(ev, "metadata", "name"); n != req.name {
		writeErr(w, errBadRequest("name in URL does not match name in Eviction object"))
		return
	}
	do, _ := ev["deleteOptions"].(map[string]any)
	opts, err := deleteOptionsFrom(do, url.Values{})
	if err != nil {
		writeErr(w, err)
		return
	}
	s.mu.Lock()
	_, _, err = s.delete(req.def, req.namespace, req.name, opts)
	s.mu.Unlock()
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, apiStatus{Kind: "Status", APIVersion: "v1", Status: "Success", Code: http.StatusCreated})
}
