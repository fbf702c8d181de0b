package consensus

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/edgeplane/edgeplane/pkg/cluster"
	"github.com/hashicorp/raft"
)

// bootstrapExpectLoop runs on a node with no Raft state and
// BootstrapExpect >= 2 until the node belongs to a cluster: it bootstraps
// one once BootstrapExpect members are live in gossip, none of them with
// Raft state, or stops as soon as it finds that a cluster exists (a leader
// then adds this node as a non-voter).
func (n *Node) bootstrapExpectLoop() {
	defer close(n.formed)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-n.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	every := min(n.cfg.ReconcileInterval, 500*time.Millisecond)
	t := time.NewTicker(every)
	defer t.Stop()
	lastWhy := ""
	for {
		select {
		case <-n.stop:
			return
		case <-t.C:
		}
		done, why, err := n.tryBootstrap(ctx)
		if err != nil {
			n.log.Warn("bootstrap-expect", "err", err)
		}
		if done {
			return
		}
		if why != lastWhy {
			n.log.Info("waiting to bootstrap", "expect", n.cfg.BootstrapExpect, "why", why)
			lastWhy = why
		}
	}
}

// formationPlan picks the servers of the first configuration from gossip:
// the expect live members with a Raft address that sort first by id, all
// voters. Every member that sees the same members computes the same
// configuration, which is what makes concurrent BootstrapCluster calls
// agree. ok is false when fewer than expect are live, or when this node
// is not among the chosen (it then waits to be added).
func formationPlan(self string, members []cluster.Member, expect int) (conf raft.Configuration, others []cluster.Member, ok bool, why string) {
	var live []cluster.Member
	for _, m := range members {
		if m.State == cluster.StateAlive && !m.Leaving && m.RaftAddr != "" {
			live = append(live, m)
		}
	}
	if len(live) < expect {
		return conf, nil, false, fmt.Sprintf("%d of %d members live in gossip", len(live), expect)
	}
	sort.Slice(live, func(i, j int) bool { return live[i].ID < live[j].ID })
	chosen := live[:expect]
	in := false
	for _, m := range chosen {
		conf.Servers = append(conf.Servers, raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(m.ID), Address: raft.ServerAddress(m.RaftAddr)})
		if m.ID == self {
			in = true
		}
	}
	if !in {
		return raft.Configuration{}, nil, false, fmt.Sprintf("more than %d members live; this node is not among the first %d by id and waits to be added", expect, expect)
	}
	for _, m := range live {
		if m.ID != self {
			others = append(others, m)
		}
	}
	return conf, others, true, ""
}

// tryBootstrap makes one attempt; done means stop trying.
func (n *Node) tryBootstrap(ctx context.Context) (done bool, why string, err error) {
	if n.localStats().hasState {
		n.log.Info("part of a raft cluster; no bootstrap needed")
		return true, "", nil
	}
	conf, others, ok, why := formationPlan(n.cfg.NodeID, n.cfg.Members(), n.cfg.BootstrapExpect)
	if !ok {
		return false, why, nil
	}
	// Ask every other live member whether it already has Raft state: then
	// a cluster exists and this node must wait to be added, not start one.
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	mismatch := ""
	for _, m := range others {
		st, err := n.peers.fetchStats(ctx, m.GRPCAddr)
		if err != nil {
			return false, fmt.Sprintf("cannot ask %s for its raft state yet", m.ID), nil
		}
		if st.GetHasState() {
			n.log.Info("found an existing raft cluster; not bootstrapping, waiting to be added", "peer", m.ID, "leader", st.GetLeaderId())
			return true, "", nil
		}
		// Founders must agree on the count; later nodes (joining with the
		// default of 1) are no founders and may differ.
		if founder(conf, m.ID) && int(st.GetBootstrapExpect()) != n.cfg.BootstrapExpect && mismatch == "" {
			mismatch = fmt.Sprintf("%s expects %d servers, this node %d: fix --bootstrap-expect", m.ID, st.GetBootstrapExpect(), n.cfg.BootstrapExpect)
		}
	}
	if mismatch != "" {
		return false, mismatch, nil
	}
	if err := n.raft.BootstrapCluster(conf).Error(); err != nil {
		if errors.Is(err, raft.ErrCantBootstrap) {
			return true, "", nil
		}
		return false, "bootstrap failed", fmt.Errorf("bootstrap raft: %w", err)
	}
	n.log.Info("bootstrapped a new cluster", "expect", n.cfg.BootstrapExpect, "servers", describeServers(conf.Servers))
	return true, "", nil
}

func founder(conf raft.Configuration, id string) bool {
	for _, s := range conf.Servers {
		if string(s.ID) == id {
			return true
		}
	}
	return false
}
