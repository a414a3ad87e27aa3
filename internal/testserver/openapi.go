package testserver

import "net/http"

// serveOpenAPI is replaced by the OpenAPI v3 emulation.
func (s *Server) serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	writeStatus(w, errNoResource())
}
