package node

import (
	"context"
	"errors"
	"time"

	"github.com/edgeplane/edgeplane/pkg/consensus"
	"github.com/edgeplane/edgeplane/pkg/service"
)

// raftView is the node's Raft member as services see it (service.Raft).
// Services are built before Raft opens (Raft replays its log into their
// state machines as it starts), so until then it answers as a node with no
// leader and nothing applied.
type raftView Node

var (
	_ service.Raft        = (*raftView)(nil)
	_ service.RaftServers = (*raftView)(nil)
)

// ServerIDs lists the ids of the latest Raft configuration; an error
// before Raft opened.
func (v *raftView) ServerIDs() ([]string, error) {
	r := v.node()
	if r == nil {
		return nil, errors.New("raft is not open yet")
	}
	servers, err := r.Servers()
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(servers))
	for i, s := range servers {
		ids[i] = s.ID
	}
	return ids, nil
}

func (v *raftView) node() *consensus.Node { return v.raft }

func (v *raftView) LeaderID() string {
	if r := v.node(); r != nil {
		return r.LeaderID()
	}
	return ""
}

func (v *raftView) IsLeader() bool {
	r := v.node()
	return r != nil && r.IsLeader()
}

func (v *raftView) VerifyLeader(ctx context.Context) error {
	if r := v.node(); r != nil {
		return r.VerifyLeader(ctx)
	}
	return &consensus.NotLeaderError{}
}

func (v *raftView) ReadIndex(ctx context.Context) (uint64, error) {
	if r := v.node(); r != nil {
		return r.ReadIndex(ctx)
	}
	return 0, &consensus.NotLeaderError{}
}

func (v *raftView) CommitIndex() uint64 {
	if r := v.node(); r != nil {
		return r.CommitIndex()
	}
	return 0
}

func (v *raftView) AppliedIndex() uint64 {
	if r := v.node(); r != nil {
		return r.AppliedIndex()
	}
	return 0
}

func (v *raftView) WaitApplied(ctx context.Context, index uint64) error {
	if r := v.node(); r != nil {
		return r.WaitApplied(ctx, index)
	}
	<-ctx.Done()
	return ctx.Err()
}

func (v *raftView) LastContact() time.Duration {
	if r := v.node(); r != nil {
		return r.LastContact()
	}
	return 0
}
