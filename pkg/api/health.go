package api

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// HealthStatus is the plain JSON body of /healthz and /readyz.
type HealthStatus struct {
	// Status is "ok" (healthz), "ready" or "unavailable" (readyz).
	Status string `json:"status"`
	// NodeID names the answering node.
	NodeID string `json:"node_id"`
	// Version is the node's software version.
	Version string `json:"version"`
	// Reason says why the node is not ready; empty when it is.
	Reason string `json:"reason,omitempty"`
}

// registerSystem adds the unauthenticated probe and scrape endpoints.
func (s *Server) registerSystem() {
	s.handle("GET /healthz", serviceSystem, false, s.healthz)
	s.handle("GET /readyz", serviceSystem, false, s.readyz)
	metricsHandler := promhttp.HandlerFor(s.gather, promhttp.HandlerOpts{
		ErrorHandling: promhttp.ContinueOnError,
	})
	s.handle("GET /metrics", serviceSystem, false, metricsHandler.ServeHTTP)
}

// healthz answers 200 while the process serves HTTP at all.
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, HealthStatus{Status: "ok", NodeID: s.cfg.NodeID, Version: s.cfg.Version})
}

// readyz answers 200 once the node has joined and knows a Raft leader,
// else 503 with the reason.
func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	if err := s.cluster.Ready(); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, HealthStatus{
			Status: "unavailable", NodeID: s.cfg.NodeID, Version: s.cfg.Version, Reason: err.Error(),
		})
		return
	}
	writeJSON(w, http.StatusOK, HealthStatus{Status: "ready", NodeID: s.cfg.NodeID, Version: s.cfg.Version})
}
