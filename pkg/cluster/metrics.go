package cluster

import "github.com/prometheus/client_golang/prometheus"

// collector computes the membership gauges at scrape time from the member
// table, so they can never drift from what the node actually believes.
type collector struct {
	c       *Cluster
	members *prometheus.Desc
	rtt     *prometheus.Desc
}

func newCollector(c *Cluster) *collector {
	return &collector{
		c: c,
		members: prometheus.NewDesc("edge_cluster_members",
			"Cluster members known to this node, by gossip state.", []string{"state"}, nil),
		rtt: prometheus.NewDesc("edge_cluster_rtt_seconds",
			"Round-trip time to each peer estimated from Vivaldi network coordinates.", []string{"peer"}, nil),
	}
}

func (m *collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.members
	ch <- m.rtt
}

func (m *collector) Collect(ch chan<- prometheus.Metric) {
	counts := map[State]int{StateAlive: 0, StateSuspect: 0, StateFailed: 0, StateLeft: 0}
	for _, mem := range m.c.Members() {
		counts[mem.State]++
		if mem.ID == m.c.LocalID() {
			continue
		}
		if d, ok := m.c.RTT(mem.ID); ok {
			ch <- prometheus.MustNewConstMetric(m.rtt, prometheus.GaugeValue, d.Seconds(), mem.ID)
		}
	}
	for state, n := range counts {
		ch <- prometheus.MustNewConstMetric(m.members, prometheus.GaugeValue, float64(n), string(state))
	}
}
