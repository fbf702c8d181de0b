package cluster

import (
	"encoding/json"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/hashicorp/serf/coordinate"
)

// coordVersion is the first byte of the coordinate carried in ping acks.
const coordVersion byte = 1

// pingDelegate attaches this node's Vivaldi coordinate to every ack it sends
// and, when one of its own probes completes, feeds the measured round trip
// and the peer's coordinate into the coordinate client.
type pingDelegate struct {
	c *Cluster
}

var _ memberlist.PingDelegate = (*pingDelegate)(nil)

func (p *pingDelegate) AckPayload() []byte {
	b, err := json.Marshal(p.c.coords.GetCoordinate())
	if err != nil {
		return nil
	}
	return append([]byte{coordVersion}, b...)
}

func (p *pingDelegate) NotifyPingComplete(other *memberlist.Node, rtt time.Duration, payload []byte) {
	if len(payload) < 2 || payload[0] != coordVersion {
		return
	}
	var coord coordinate.Coordinate
	if err := json.Unmarshal(payload[1:], &coord); err != nil {
		return
	}
	if _, err := p.c.coords.Update(other.Name, &coord, rtt); err != nil {
		p.c.log.Debug("coordinate update rejected", "peer", other.Name, "rtt", rtt, "err", err)
		return
	}
	p.c.mu.Lock()
	p.c.peerCoords[other.Name] = &coord
	p.c.mu.Unlock()
}
