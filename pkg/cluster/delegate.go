package cluster

import "github.com/hashicorp/memberlist"

// delegate publishes this node's record as memberlist node metadata. It
// carries no user messages: services talk over gRPC, not gossip.
type delegate struct {
	c *Cluster
}

var _ memberlist.Delegate = (*delegate)(nil)

func (d *delegate) NodeMeta(limit int) []byte {
	b, err := encodeMeta(d.c.localMeta())
	if err != nil || len(b) > limit {
		d.c.log.Error("node record does not fit in gossip metadata", "bytes", len(b), "limit", limit, "err", err)
		return nil
	}
	return b
}

func (d *delegate) NotifyMsg([]byte)                           {}
func (d *delegate) GetBroadcasts(overhead, limit int) [][]byte { return nil }
func (d *delegate) LocalState(join bool) []byte                { return nil }
func (d *delegate) MergeRemoteState(buf []byte, join bool)     {}
