package cluster

import (
	"math/rand/v2"
	"time"
)

// reconnectLoop tries, every ReconnectInterval, to rejoin one member this
// node believes failed, as serf does. memberlist stops probing a node once
// it is declared dead, so after a partition heals each side would otherwise
// stay convinced the other is gone. When no peer is alive at all, it also
// retries the join seeds.
func (c *Cluster) reconnectLoop() {
	defer close(c.done)
	t := time.NewTicker(c.cfg.ReconnectInterval)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		c.reconnectOnce()
	}
}

func (c *Cluster) reconnectOnce() {
	var failed []string
	alivePeers := 0
	for _, m := range c.Members() {
		switch {
		case m.ID == c.cfg.Meta.ID:
		case m.State == StateFailed:
			failed = append(failed, m.GossipAddr)
		case m.Live():
			alivePeers++
		}
	}
	c.mu.Lock()
	seeds := c.seeds
	c.mu.Unlock()
	var target []string
	switch {
	case len(failed) > 0:
		target = []string{failed[rand.IntN(len(failed))]}
	case alivePeers == 0 && len(seeds) > 0:
		target = seeds
	default:
		return
	}
	if n, err := c.ml.Join(target); n > 0 {
		c.log.Info("reconnected to a member", "addr", target)
	} else {
		c.log.Debug("reconnect attempt failed", "addr", target, "err", err)
	}
}
