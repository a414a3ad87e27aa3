package testserver

import "net/http"

// serveStream answers exec, attach and portforward; without a WebSocket
// upgrade the real server refuses them the same way.
func (s *Server) serveStream(w http.ResponseWriter, r *http.Request, req request) {
	writeStatus(w, errBadRequest("Upgrade request required"))
}
