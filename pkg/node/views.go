package node

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/edgeplane/edgeplane/pkg/api"
	"github.com/edgeplane/edgeplane/pkg/consensus"
	"github.com/edgeplane/edgeplane/pkg/router"
	"github.com/edgeplane/edgeplane/pkg/wire"
	edgev1 "github.com/edgeplane/edgeplane/proto/edge/v1"
)

// clusterView is the node as pkg/api's Cluster sees it.
type clusterView Node

var _ api.Cluster = (*clusterView)(nil)

func (v *clusterView) Members() []wire.Member {
	n := (*Node)(v)
	members := n.cluster.Members()
	out := make([]wire.Member, 0, len(members))
	for _, m := range members {
		wm := wire.Member{
			ID: m.ID, Region: m.Region, State: string(m.State), Voter: m.Voter,
			HTTPAddr: m.HTTPAddr, GRPCAddr: m.GRPCAddr, RaftAddr: m.RaftAddr, GossipAddr: m.GossipAddr,
			Version: m.Version, Self: m.ID == n.cfg.NodeID,
		}
		if rtt, ok := n.cluster.RTT(m.ID); ok {
			ms := float64(rtt.Microseconds()) / 1000
			wm.RTTMillis = &ms
		}
		out = append(out, wm)
	}
	return out
}

func (v *clusterView) Status() wire.Status {
	n := (*Node)(v)
	rs := n.raft.Status()
	live := 0
	for _, m := range n.cluster.Members() {
		if m.Live() {
			live++
		}
	}
	leaderID := rs.LeaderID
	return wire.Status{
		NodeID:    n.cfg.NodeID,
		ClusterID: n.catalog.ClusterID(),
		Region:    n.cfg.Region,
		AccountID: n.AccountID(),
		Version:   n.cfg.Version,
		HTTPAddr:  n.advHTTP,
		Raft: wire.RaftStatus{
			State: rs.Role, LeaderID: leaderID, LeaderAddr: rs.LeaderAddr, Term: rs.Term,
			CommitIndex: rs.CommitIndex, AppliedIndex: rs.AppliedIndex, LastIndex: rs.LastIndex,
			Voters: rs.Voters, Nonvoters: rs.Nonvoters,
		},
		CatalogVersion: n.catalog.Version(),
		Members:        live,
		UptimeSeconds:  time.Since(n.started).Seconds(),
	}
}

func (v *clusterView) Ready() error {
	n := (*Node)(v)
	if err := n.Fault(); err != nil {
		return err
	}
	if id, _ := n.raft.Leader(); id == "" {
		return errors.New("no raft leader known")
	}
	if _, ok := n.catalog.DefaultAccount(); !ok {
		return errors.New("catalog not initialized yet")
	}
	if st := n.raft.Status(); st.Role == consensus.RoleNonvoter && st.Voters == 0 {
		return errors.New("not yet part of the raft configuration")
	}
	return nil
}

// catalogBehind says why this node's catalog is known to be older than the
// cluster's, nil when it is not: after a restart, until it applied the log
// it found on disk (api.Config.CatalogBehind).
func (n *Node) catalogBehind() error {
	if applied, target, behind := n.raft.CatchingUp(); behind {
		return fmt.Errorf("catalog behind: applied raft index %d of the %d this node's log held at start", applied, target)
	}
	return nil
}

// backend is the node as the internal gRPC service sees it.
type backend Node

var _ router.Backend = (*backend)(nil)

func (b *backend) Info() *edgev1.InfoResponse {
	n := (*Node)(b)
	return &edgev1.InfoResponse{
		NodeId: n.cfg.NodeID, Region: n.cfg.Region, Version: n.cfg.Version,
		HttpAddr: n.advHTTP, GrpcAddr: n.advGRPC, RaftAddr: n.advRaft, GossipAddr: n.cluster.GossipAddr(),
	}
}

func (b *backend) Apply(ctx context.Context, cmd []byte) (uint64, []byte, error) {
	return b.proposer.ApplyLocal(ctx, cmd)
}

func (b *backend) ForwardHandler() http.Handler { return b.api.Handler() }

func (b *backend) WaitApplied(ctx context.Context, index uint64) error {
	return b.raft.WaitApplied(ctx, index)
}

// Status is this node's status as the API reports it.
func (n *Node) Status() wire.Status { return (*clusterView)(n).Status() }

// Members is this node's view of the cluster as the API reports it.
func (n *Node) Members() []wire.Member { return (*clusterView)(n).Members() }

// Ready is nil once the node can serve (leader known, catalog initialized).
func (n *Node) Ready() error { return (*clusterView)(n).Ready() }
