package kv

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// replMetrics are the collectors of a Replicator.
type replMetrics struct {
	lag        *prometheus.HistogramVec
	pending    *prometheus.GaugeVec
	dropped    *prometheus.CounterVec
	rounds     *prometheus.CounterVec
	repaired   prometheus.Counter
	reconnects *prometheus.CounterVec
	refused    *prometheus.CounterVec
	oldest     *prometheus.GaugeVec
}

func newReplMetrics(reg prometheus.Registerer) (*replMetrics, error) {
	m := &replMetrics{
		lag: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "edge_kv_replication_lag_seconds",
			Help: "Time from a remote KV write's HLC timestamp to its apply on this node (push and anti-entropy).",
			Buckets: []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
				1, 2.5, 5, 10, 30, 60, 120},
		}, []string{"source_node", "source_region"}),
		pending: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "edge_kv_replication_pending",
			Help: "KV entries queued (or sent and not yet acknowledged) for a peer.",
		}, []string{"peer"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edge_kv_replication_dropped_total",
			Help: "KV entries dropped from a peer's full push queue, left to anti-entropy.",
		}, []string{"peer"}),
		rounds: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edge_kv_antientropy_rounds_total",
			Help: "KV anti-entropy rounds run against a peer, by result (ok, error).",
		}, []string{"result"}),
		repaired: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "edge_kv_antientropy_repaired_keys_total",
			Help: "KV entries that anti-entropy fetched from a peer and applied.",
		}),
		reconnects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edge_kv_replication_stream_errors_total",
			Help: "KV push streams to a peer that failed and were reopened.",
		}, []string{"peer"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edge_kv_replication_refused_total",
			Help: "Replicated KV entries refused (dropped, logged at ERROR) by the sender or the receiver, by reason.",
		}, []string{"reason"}),
		oldest: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "edge_kv_replication_oldest_pending_seconds",
			Help: "Age of the oldest KV write queued (or sent and not yet acknowledged) for a peer; 0 when none: how long an acknowledged write has existed on fewer nodes.",
		}, []string{"peer"}),
	}
	var errs []error
	for _, c := range []prometheus.Collector{m.lag, m.pending, m.dropped, m.rounds, m.repaired, m.reconnects, m.refused, m.oldest} {
		if err := reg.Register(c); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("register kv replication metrics: %w", err)
	}
	m.rounds.WithLabelValues("ok")
	m.rounds.WithLabelValues("error")
	for _, reason := range []string{refusedNamespace, refusedKey, refusedValue, refusedMetadata, refusedVersion, refusedClock} {
		m.refused.WithLabelValues(reason)
	}
	return m, nil
}
