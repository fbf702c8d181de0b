package api

import (
	"net/http"

	"github.com/edgeplane/edgeplane/pkg/wire"
)

// registerCluster adds the endpoints edgectl uses to look at the cluster.
func (s *Server) registerCluster() {
	s.handle("GET /client/v4/cluster/members", serviceCluster, true, s.clusterMembers)
	s.handle("GET /client/v4/cluster/status", serviceCluster, true, s.clusterStatus)
}

// clusterMembers answers the members this node knows of.
func (s *Server) clusterMembers(w http.ResponseWriter, _ *http.Request) {
	members := s.cluster.Members()
	if members == nil {
		members = []wire.Member{}
	}
	WriteResult(w, http.StatusOK, members, nil)
}

// clusterStatus answers this node's status.
func (s *Server) clusterStatus(w http.ResponseWriter, _ *http.Request) {
	WriteResult(w, http.StatusOK, s.cluster.Status(), nil)
}
