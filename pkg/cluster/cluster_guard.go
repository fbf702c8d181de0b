package cluster

import (
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/memberlist"
)

// ErrOtherCluster means a peer belongs to another cluster than this node:
// its gossip record names a different cluster id. Gossip with it is refused
// both ways, so two clusters never merge, and a node whose data dir belongs
// to one cluster cannot join another.
var ErrOtherCluster = errors.New("peer belongs to another cluster")

// guard is memberlist's merge and alive delegate: it refuses members whose
// record names another cluster id than this node's. Members that name none
// (a fresh node that has not learned it yet) are accepted.
type guard struct {
	c *Cluster
}

var (
	_ memberlist.MergeDelegate = (*guard)(nil)
	_ memberlist.AliveDelegate = (*guard)(nil)
)

// NotifyMerge refuses a push/pull exchange (a join, a periodic sync) that
// would bring in members of another cluster.
func (g *guard) NotifyMerge(peers []*memberlist.Node) error {
	for _, p := range peers {
		if err := g.check(p); err != nil {
			return err
		}
	}
	return nil
}

// NotifyAlive refuses a gossiped member of another cluster.
func (g *guard) NotifyAlive(peer *memberlist.Node) error { return g.check(peer) }

func (g *guard) check(peer *memberlist.Node) error {
	if peer == nil || peer.Name == g.c.cfg.Meta.ID {
		return nil
	}
	mine := g.c.localMeta().Cluster
	if mine == "" || len(peer.Meta) == 0 {
		return nil
	}
	meta, err := decodeMeta(peer.Meta)
	if err != nil || meta.Cluster == "" || meta.Cluster == mine {
		return nil // unreadable records are dropped by observe
	}
	err = fmt.Errorf("%w: member %q (%s) is in cluster %q, this node %q is in cluster %q",
		ErrOtherCluster, peer.Name, peer.Address(), meta.Cluster, g.c.cfg.Meta.ID, mine)
	g.c.mu.Lock()
	g.c.refused = err
	g.c.mu.Unlock()
	g.c.log.Error("refusing gossip with a member of another cluster", "member", peer.Name,
		"addr", peer.Address(), "its_cluster", meta.Cluster, "cluster", mine)
	return err
}

// refusal returns (and clears) the last refusal of another cluster's member.
func (c *Cluster) refusal() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	err := c.refused
	c.refused = nil
	return err
}

// SetClusterID records the cluster this node belongs to in its gossip
// record, so peers of another cluster refuse it and it refuses them. It
// refuses to change an id already set.
func (c *Cluster) SetClusterID(id string) error {
	c.mu.Lock()
	cur := c.meta.Cluster
	if cur == id {
		c.mu.Unlock()
		return nil
	}
	if cur != "" {
		c.mu.Unlock()
		return fmt.Errorf("cluster: node is in cluster %q, not %q", cur, id)
	}
	c.meta.Cluster = id
	c.mu.Unlock()
	// The record changes here at once; UpdateNode only waits (up to the
	// timeout) for the broadcast to go out, and that wait is all it can
	// fail. On a loaded machine it did (CI: the node then stopped on a
	// "fatal fault"). Push-pull sync carries the record to every peer
	// anyway, so a slow broadcast is logged, not an error.
	if err := c.ml.UpdateNode(5 * time.Second); err != nil {
		c.log.Warn("cluster id recorded; its broadcast is not confirmed yet, peers get it by push-pull sync", "cluster", id, "err", err)
	}
	return nil
}

// ClusterID is the cluster id in this node's record (empty until known).
func (c *Cluster) ClusterID() string { return c.localMeta().Cluster }
