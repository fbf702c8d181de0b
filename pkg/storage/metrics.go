package storage

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// walTailRepairs counts WAL tails dropped at open, by store ("kv", "raft").
// Both stores of a node register it on the node's registry; the second one
// reuses the first's collector.
func walTailRepairs(reg prometheus.Registerer) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "edge_storage_wal_tail_repairs_total",
		Help: "Damaged or truncated write-ahead log tails found when a store opened; the records in them were dropped (see the WARN log line).",
	}, []string{"store"})
	if reg == nil {
		return c
	}
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
				return existing
			}
		}
	}
	return c
}

// CountWALTailRepair adds one to edge_storage_wal_tail_repairs_total{store}
// on reg (creating the counter at zero for the other stores' use too).
func CountWALTailRepair(reg prometheus.Registerer, store string, repaired bool) {
	c := walTailRepairs(reg).WithLabelValues(store)
	if repaired {
		c.Inc()
	}
}
