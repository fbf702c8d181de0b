package consensus

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/raft"
	autopilot "github.com/hashicorp/raft-autopilot"
)

// reconcileLoop runs until Shutdown. On the leader it keeps autopilot
// running (promotions, demotions, removal of dead servers, judged on Raft
// health) and adds live gossip members that are missing from the
// configuration, one change per tick (or per gossip change); elsewhere it
// keeps autopilot stopped.
func (n *Node) reconcileLoop() {
	defer close(n.done)
	t := time.NewTicker(n.cfg.ReconcileInterval)
	defer t.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for {
		select {
		case <-n.stop:
			return
		case <-t.C:
		case <-n.cfg.MembersChanged:
		}
		if n.raft.State() != raft.Leader {
			if st, _ := n.autopilot.IsRunning(); st != autopilot.NotRunning {
				<-n.autopilot.Stop()
				n.promoter.reset()
				n.delegate.NotifyState(nil)
			}
			continue
		}
		n.autopilot.Start(ctx)
		if err := n.reconcile(); err != nil {
			n.log.Warn("membership reconcile failed", "err", err)
		}
	}
}

// reconcile applies at most one addition or address change.
func (n *Node) reconcile() error {
	cf := n.raft.GetConfiguration()
	if err := cf.Error(); err != nil {
		return fmt.Errorf("read raft configuration: %w", err)
	}
	act, ok := planAdditions(cf.Configuration().Servers, n.cfg.Members())
	if !ok {
		return nil
	}
	var f raft.IndexFuture
	switch act.kind {
	case actAddNonvoter:
		f = n.raft.AddNonvoter(raft.ServerID(act.id), raft.ServerAddress(act.addr), cf.Index(), 5*time.Second)
	case actAddVoter:
		f = n.raft.AddVoter(raft.ServerID(act.id), raft.ServerAddress(act.addr), cf.Index(), 5*time.Second)
	}
	if err := f.Error(); err != nil {
		return fmt.Errorf("%s %s: %w", act.kind, act.id, err)
	}
	n.log.Info("raft membership changed", "action", string(act.kind), "server", act.id, "addr", act.addr, "reason", act.reason)
	return nil
}
