package consensus

import (
	"fmt"
	"time"

	"github.com/hashicorp/raft"
)

// reconcileLoop runs until Shutdown; on the leader it applies one planned
// membership change per tick (or per gossip change).
func (n *Node) reconcileLoop() {
	defer close(n.done)
	t := time.NewTicker(n.cfg.ReconcileInterval)
	defer t.Stop()
	for {
		select {
		case <-n.stop:
			return
		case <-t.C:
		case <-n.cfg.MembersChanged:
		}
		if err := n.reconcile(); err != nil {
			n.log.Warn("membership reconcile failed", "err", err)
		}
	}
}

// reconcile applies at most one change; it does nothing on followers.
func (n *Node) reconcile() error {
	if n.raft.State() != raft.Leader {
		n.mu.Lock()
		clear(n.missingSince)
		n.mu.Unlock()
		return nil
	}
	cf := n.raft.GetConfiguration()
	if err := cf.Error(); err != nil {
		return fmt.Errorf("read raft configuration: %w", err)
	}
	servers := cf.Configuration().Servers
	members := n.cfg.Members()
	now := time.Now()

	n.mu.Lock()
	known := make(map[string]bool, len(members))
	for _, m := range members {
		known[m.ID] = true
	}
	inConfig := make(map[string]bool, len(servers))
	for _, s := range servers {
		id := string(s.ID)
		inConfig[id] = true
		if known[id] {
			delete(n.missingSince, id)
		} else if _, ok := n.missingSince[id]; !ok {
			n.missingSince[id] = now
		}
	}
	for id := range n.missingSince {
		if !inConfig[id] {
			delete(n.missingSince, id)
		}
	}
	missing := make(map[string]time.Time, len(n.missingSince))
	for k, v := range n.missingSince {
		missing[k] = v
	}
	n.mu.Unlock()

	act, ok := plan(planInput{
		self:              n.cfg.NodeID,
		servers:           servers,
		members:           members,
		missingSince:      missing,
		now:               now,
		voters:            n.cfg.Voters,
		deadGrace:         n.cfg.DeadServerGrace,
		voterReplaceAfter: n.cfg.VoterReplaceAfter,
	})
	if !ok {
		return nil
	}
	prev := cf.Index()
	var f raft.IndexFuture
	switch act.kind {
	case actAddNonvoter:
		f = n.raft.AddNonvoter(raft.ServerID(act.id), raft.ServerAddress(act.addr), prev, 5*time.Second)
	case actAddVoter:
		f = n.raft.AddVoter(raft.ServerID(act.id), raft.ServerAddress(act.addr), prev, 5*time.Second)
	case actDemote:
		f = n.raft.DemoteVoter(raft.ServerID(act.id), prev, 5*time.Second)
	case actRemove:
		f = n.raft.RemoveServer(raft.ServerID(act.id), prev, 5*time.Second)
	}
	if err := f.Error(); err != nil {
		return fmt.Errorf("%s %s: %w", act.kind, act.id, err)
	}
	n.log.Info("raft membership changed", "action", string(act.kind), "server", act.id, "addr", act.addr, "reason", act.reason)
	return nil
}
