package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/edgeplane/edgeplane/pkg/wire"
)

// registerCluster adds the endpoints edgectl uses to look at the cluster.
func (s *Server) registerCluster() {
	s.handle("GET /client/v4/cluster/members", serviceCluster, true, s.clusterMembers)
	s.handle("GET /client/v4/cluster/status", serviceCluster, true, s.clusterStatus)
	s.handle("DELETE /client/v4/cluster/members/{id}", serviceCluster, true, s.clusterRemoveMember)
}

// MemberRemover is implemented by a Cluster that can remove a node from
// the Raft configuration for good (DELETE .../cluster/members/{id},
// ?force=true to remove a member that still looks live).
type MemberRemover interface {
	RemoveMember(ctx context.Context, id string, force bool) (wire.MemberRemoval, error)
}

// clusterRemoveMember removes a (dead) node from the cluster for good.
func (s *Server) clusterRemoveMember(w http.ResponseWriter, r *http.Request) {
	rm, ok := s.cluster.(MemberRemover)
	if !ok {
		WriteError(w, http.StatusNotImplemented, CodeInternal, "this node cannot remove members")
		return
	}
	force, err := strconv.ParseBool(r.URL.Query().Get("force"))
	if r.URL.Query().Get("force") == "" {
		force, err = false, nil
	}
	if err != nil {
		WriteFailure(w, r, fmt.Errorf("%w: force must be true or false", ErrBadRequest))
		return
	}
	res, err := rm.RemoveMember(r.Context(), r.PathValue("id"), force)
	if err != nil {
		WriteFailure(w, r, err)
		return
	}
	WriteResult(w, http.StatusOK, res, nil)
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
