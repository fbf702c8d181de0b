package consensus

import (
	"context"
	"errors"
	"fmt"
	"time"

	edgev1 "github.com/edgeplane/edgeplane/proto/edge/v1"
	"github.com/hashicorp/raft"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ErrUnknownServer: the id names no server of the Raft configuration.
var ErrUnknownServer = errors.New("no such server in the raft configuration")

// ErrRefused: the removal would be unsafe (the guards of RemoveServer).
var ErrRefused = errors.New("removal refused")

// RemoveResult describes a removal.
type RemoveResult struct {
	// Index is the Raft index of the configuration change.
	Index uint64
	// WasVoter reports whether the removed server was a voter.
	WasVoter bool
}

// RemoveServer removes server id from the Raft configuration for good and
// forgets it in this node's gossip table; it runs on the leader, asked over
// gRPC when this node does not lead. It refuses (ErrRefused) to remove the
// only voter, and, unless force, this node itself or a member gossip still
// sees live (it would be added back as a non-voter while it stays up).
func (n *Node) RemoveServer(ctx context.Context, id string, force bool) (RemoveResult, error) {
	res, err := n.removeLocal(id, force)
	if !errors.Is(err, ErrNotLeader) || n.IsLeader() {
		return res, err
	}
	leaderID, _ := n.Leader()
	if leaderID == "" {
		return RemoveResult{}, err
	}
	addr := ""
	for _, m := range n.cfg.Members() {
		if m.ID == leaderID {
			addr = m.GRPCAddr
		}
	}
	c, cerr := n.peers.client(addr)
	if cerr != nil {
		return RemoveResult{}, fmt.Errorf("remove %s: reach leader %s: %w", id, leaderID, cerr)
	}
	resp, rerr := c.RemoveServer(ctx, &edgev1.RemoveServerRequest{Id: id, Force: force})
	if rerr != nil {
		st := status.Convert(rerr)
		switch st.Code() {
		case codes.NotFound:
			return RemoveResult{}, fmt.Errorf("%w: %s", ErrUnknownServer, st.Message())
		case codes.FailedPrecondition:
			return RemoveResult{}, fmt.Errorf("%w (leader %s): %s", ErrRefused, leaderID, st.Message())
		case codes.Aborted:
			return RemoveResult{}, &NotLeaderError{LeaderID: leaderID}
		}
		return RemoveResult{}, fmt.Errorf("remove %s on leader %s: %w", id, leaderID, rerr)
	}
	if n.cfg.Forget != nil {
		n.cfg.Forget(id)
	}
	return RemoveResult{Index: resp.GetIndex(), WasVoter: resp.GetWasVoter()}, nil
}

// removeLocal removes id when this node leads.
func (n *Node) removeLocal(id string, force bool) (RemoveResult, error) {
	if n.raft.State() != raft.Leader {
		return RemoveResult{}, n.notLeader()
	}
	cf := n.raft.GetConfiguration()
	if err := cf.Error(); err != nil {
		return RemoveResult{}, fmt.Errorf("read raft configuration: %w", err)
	}
	var target *raft.Server
	voters := 0
	for _, s := range cf.Configuration().Servers {
		if s.Suffrage == raft.Voter {
			voters++
		}
		if string(s.ID) == id {
			target = &s
		}
	}
	if target == nil {
		return RemoveResult{}, fmt.Errorf("%w: %s", ErrUnknownServer, id)
	}
	isVoter := target.Suffrage == raft.Voter
	live := false
	for _, m := range n.cfg.Members() {
		if m.ID == id {
			live = m.Live() && !m.Leaving
		}
	}
	switch {
	case isVoter && voters == 1:
		return RemoveResult{}, fmt.Errorf("%w: %s is the only voter", ErrRefused, id)
	case id == n.cfg.NodeID && !force:
		return RemoveResult{}, fmt.Errorf("%w: %s is the leader answering this request (use force, or stop it first)", ErrRefused, id)
	case live && !force:
		what := "non-voter"
		if isVoter {
			what = "voter"
		}
		return RemoveResult{}, fmt.Errorf("%w: %s is a live %s; stop it first or force (a live member is added back as a non-voter)", ErrRefused, id, what)
	}
	f := n.raft.RemoveServer(raft.ServerID(id), cf.Index(), 10*time.Second)
	if err := f.Error(); err != nil {
		if errors.Is(err, raft.ErrNotLeader) || errors.Is(err, raft.ErrLeadershipLost) {
			return RemoveResult{}, n.notLeader()
		}
		return RemoveResult{}, fmt.Errorf("remove %s: %w", id, err)
	}
	n.log.Warn("raft membership changed", "action", "remove", "server", id, "reason", "operator request", "force", force)
	if id != n.cfg.NodeID && n.cfg.Forget != nil {
		n.cfg.Forget(id)
	}
	return RemoveResult{Index: f.Index(), WasVoter: isVoter}, nil
}

// ServerInfo is one server of the Raft configuration.
type ServerInfo struct {
	ID      string
	Address string
	Voter   bool
}

// Servers lists the latest Raft configuration as this node knows it.
func (n *Node) Servers() ([]ServerInfo, error) {
	cf := n.raft.GetConfiguration()
	if err := cf.Error(); err != nil {
		return nil, fmt.Errorf("read raft configuration: %w", err)
	}
	var out []ServerInfo
	for _, s := range cf.Configuration().Servers {
		out = append(out, ServerInfo{ID: string(s.ID), Address: string(s.Address), Voter: s.Suffrage == raft.Voter})
	}
	return out, nil
}
