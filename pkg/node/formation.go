package node

import (
	"context"
	"errors"
	"fmt"

	"github.com/edgeplane/edgeplane/pkg/api"
	"github.com/edgeplane/edgeplane/pkg/consensus"
	"github.com/edgeplane/edgeplane/pkg/wire"
)

// initializesCatalog reports whether this node writes the catalog's first
// entry (default account, its admin token) on a new cluster: the node that
// bootstraps alone, or, with --bootstrap-expect, whichever node leads first
// (a second init is a no-op in the catalog, so a race is harmless).
func (n *Node) initializesCatalog() bool {
	if n.cfg.BootstrapExpect >= 2 {
		return n.raft.IsLeader()
	}
	return len(n.cfg.Join) == 0
}

// RemoveMember removes node id from the Raft configuration for good (on
// the leader, asked over gRPC when this node does not lead) and forgets it
// in gossip. Without force it refuses a member gossip sees live, and this
// node itself; it always refuses the only voter.
func (n *Node) RemoveMember(ctx context.Context, id string, force bool) (wire.MemberRemoval, error) {
	res, err := n.raft.RemoveServer(ctx, id, force)
	switch {
	case err == nil:
		return wire.MemberRemoval{ID: id, WasVoter: res.WasVoter, RaftIndex: res.Index}, nil
	case errors.Is(err, consensus.ErrUnknownServer):
		return wire.MemberRemoval{}, fmt.Errorf("%w: %v", api.ErrNotFound, err)
	case errors.Is(err, consensus.ErrRefused):
		return wire.MemberRemoval{}, &api.HTTPError{Status: 409, Code: api.CodeConflict, Message: err.Error(), Err: api.ErrConflict}
	}
	// No leader, leadership moving, the leader unreachable: the client may
	// retry; say why.
	return wire.MemberRemoval{}, &api.HTTPError{Status: 503, Code: api.CodeUnavailable, Message: "remove " + id + ": " + err.Error() + "; try again", Err: api.ErrUnavailable}
}

// RemoveMember makes the node's cluster view an api.MemberRemover.
func (v *clusterView) RemoveMember(ctx context.Context, id string, force bool) (wire.MemberRemoval, error) {
	return (*Node)(v).RemoveMember(ctx, id, force)
}

var _ api.MemberRemover = (*clusterView)(nil)

// RaftServers lists the Raft configuration as this node knows it.
func (n *Node) RaftServers() ([]consensus.ServerInfo, error) { return n.raft.Servers() }
