package objstore

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the replicator's collectors. The zero registerer registers
// nothing; the collectors still count.
type metrics struct {
	requests  *prometheus.CounterVec
	commits   *prometheus.CounterVec
	commitDur prometheus.Histogram
	transfers *prometheus.CounterVec
	opens     *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer, r *Replicator) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edge_do_replica_requests_total",
			Help: "Durable Object replication calls served by this node as a replica, by call (prepare, accept, fetch, install) and result (ok, superseded, mismatch, invalid, error).",
		}, []string{"rpc", "result"}),
		commits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edge_do_storage_commits_total",
			Help: "Durable Object storage commits by this node as owner, by result (ok, superseded, no_quorum, invalid, full, error).",
		}, []string{"result"}),
		commitDur: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "edge_do_storage_commit_duration_seconds",
			Help:    "Time from a Durable Object storage commit to its acknowledgement by a majority of its replicas.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		transfers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edge_do_state_transfers_total",
			Help: "Whole Durable Object states moved between nodes: sent (owner to a replica that missed writes), fetched (a new owner pulling the newest state).",
		}, []string{"direction"}),
		opens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edge_do_storage_opens_total",
			Help: "Durable Object storage opens (a new ballot) by this node, by result (ok, superseded, no_quorum, error).",
		}, []string{"result"}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.commits, m.commitDur, m.transfers, m.opens, lagCollector{r: r, desc: newLagDesc()})
	}
	return m
}

func (m *metrics) served(rpc, result string) { m.requests.WithLabelValues(rpc, result).Inc() }

// newLagDesc describes edge_do_replication_lag_seconds.
func newLagDesc() *prometheus.Desc {
	return prometheus.NewDesc("edge_do_replication_lag_seconds",
		"Per replica node: the age of the oldest Durable Object write this node (as owner) committed and that replica has not yet acknowledged, over every object this node owns; 0 when it has acknowledged everything.",
		[]string{"replica"}, nil)
}

// lagCollector computes edge_do_replication_lag_seconds at scrape time.
type lagCollector struct {
	r    *Replicator
	desc *prometheus.Desc
}

// Describe sends the lag descriptor.
func (c lagCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect sends one lag sample per replica node of the open objects.
func (c lagCollector) Collect(ch chan<- prometheus.Metric) {
	for node, lag := range c.r.Lag(time.Now()) {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, lag.Seconds(), node)
	}
}
