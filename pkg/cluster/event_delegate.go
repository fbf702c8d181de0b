package cluster

import (
	"github.com/hashicorp/memberlist"
)

// eventDelegate turns memberlist join, leave and update notifications into
// updates of the member table. It never blocks: it records and signals.
type eventDelegate struct {
	c *Cluster
}

var _ memberlist.EventDelegate = (*eventDelegate)(nil)

func (e *eventDelegate) NotifyJoin(n *memberlist.Node)   { e.c.observe(n, StateAlive) }
func (e *eventDelegate) NotifyUpdate(n *memberlist.Node) { e.c.observe(n, StateAlive) }

func (e *eventDelegate) NotifyLeave(n *memberlist.Node) {
	state := StateFailed
	if meta, err := decodeMeta(n.Meta); err == nil && meta.Leaving {
		state = StateLeft
	}
	e.c.observe(n, state)
}
