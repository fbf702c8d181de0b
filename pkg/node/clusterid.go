package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/edgeplane/edgeplane/pkg/catalog"
	"github.com/edgeplane/edgeplane/pkg/cluster"
)

// A cluster has an id, chosen once by the node that initializes its
// catalog (the init operation carries it) and replicated with the catalog.
// Every node records it in its data dir's IDENTITY file and in its gossip
// record. From then on:
//   - a data dir recorded for one cluster never serves another: a catalog
//     that names another id is a fatal fault;
//   - gossip with members of another cluster is refused both ways, so a
//     node pointed at another cluster's seeds stops with a clear error
//     instead of merging two clusters (cluster.ErrOtherCluster).

// clusterIDLoop records the catalog's cluster id in the data dir and in
// gossip once it is known, and records an id in a catalog initialized
// before ids existed.
func (n *Node) clusterIDLoop(ctx context.Context) {
	for {
		changed := n.catalog.Changed()
		done, err := n.recordClusterID(ctx)
		if err != nil {
			n.fatal(err)
			return
		}
		if done {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-time.After(time.Second):
		}
	}
}

// recordClusterID does one round of clusterIDLoop: true once the id is
// recorded everywhere; an error when the data dir belongs to another
// cluster.
func (n *Node) recordClusterID(ctx context.Context) (bool, error) {
	id := n.catalog.ClusterID()
	if id == "" {
		if _, ok := n.catalog.DefaultAccount(); ok {
			// Initialized before ids existed: any node may record one;
			// the first applied stays.
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			_, err := n.proposeCatalog(pctx, catalog.Op{Type: catalog.OpSetClusterID, ClusterID: newClusterID()})
			cancel()
			if err != nil {
				n.log.Debug("record a cluster id", "err", err)
			}
		}
		return false, nil
	}
	if err := n.layout.SetClusterID(id); err != nil {
		return false, fmt.Errorf("%w (this node's Raft log now holds another cluster's catalog: "+
			"give it a fresh --data-dir to join this cluster)", err)
	}
	if err := n.cluster.SetClusterID(id); err != nil {
		return false, err
	}
	return true, nil
}

// joinFailed handles the end of the join attempts: joining another
// cluster's seeds is fatal (the data dir belongs to this node's cluster).
func (n *Node) joinFailed(err error) {
	if errors.Is(err, cluster.ErrOtherCluster) {
		n.fatal(fmt.Errorf("refusing to join: data dir %s belongs to cluster %q: %w", n.layout.Root, n.cluster.ClusterID(), err))
		return
	}
	n.log.Error("could not join the cluster", "err", err)
}

// newClusterID is a fresh random cluster id.
func newClusterID() string {
	h := randomHex(16)
	return h[:8] + "-" + h[8:16] + "-" + h[16:24] + "-" + h[24:]
}
