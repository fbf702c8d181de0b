package kv

import (
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgeplane/edgeplane/pkg/storage"
)

// storeMetrics are the store's collectors; a nil *storeMetrics records
// nothing.
type storeMetrics struct {
	entries *prometheus.CounterVec
}

// newStoreMetrics registers the store's collectors on reg.
func newStoreMetrics(reg prometheus.Registerer, db *pebble.DB) (*storeMetrics, error) {
	m := &storeMetrics{
		entries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edge_kv_store_applied_entries_total",
			Help: "Entries given to the KV store, by whether they won last-writer-wins (won) or were older than the stored one (lost).",
		}, []string{"result"}),
	}
	syncs := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "edge_kv_store_wal_fsyncs_total",
		Help: "WAL fsyncs of the KV store's pebble database; far fewer than synced writes under load (group commit).",
	}, func() float64 { return float64(storage.WALSyncs(db)) })
	for _, c := range []prometheus.Collector{m.entries, syncs} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("kv store: register metrics: %w", err)
		}
	}
	return m, nil
}

// applied counts one Apply's outcome.
func (m *storeMetrics) applied(won []bool) {
	if m == nil {
		return
	}
	w := 0
	for _, ok := range won {
		if ok {
			w++
		}
	}
	m.entries.WithLabelValues("won").Add(float64(w))
	m.entries.WithLabelValues("lost").Add(float64(len(won) - w))
}
