package d1

import (
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are D1's series. No label carries a database id: their number is
// unbounded.
type metrics struct {
	queries  *prometheus.CounterVec
	duration *prometheus.HistogramVec
	lag      prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer, m *Module) (*metrics, error) {
	x := &metrics{
		queries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "edge_d1_queries_total",
			Help: "D1 requests answered, by kind (read, write) and whether the answer reflects the primary's newest state (served_by: primary) or this replica's (replica)."},
			[]string{"kind", "served_by"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "edge_d1_query_duration_seconds",
			Help: "Duration of D1 requests, by kind.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}, []string{"kind"}),
	}
	x.lag = prometheus.NewGauge(prometheus.GaugeOpts{Name: "edge_d1_replica_lag_seconds",
		Help: "Time from a D1 write's proposal to its apply on this node, at the last write applied here (includes clock skew between the proposer and this node)."})
	bytes := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "edge_d1_database_bytes",
		Help: "Bytes of every D1 database file (with its WAL) on this node."}, m.diskBytes)
	for _, c := range []prometheus.Collector{x.queries, x.duration, x.lag, bytes} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return x, nil
}

func (x *metrics) observe(kind string, primary bool, d time.Duration) {
	by := "replica"
	if primary {
		by = "primary"
	}
	x.queries.WithLabelValues(kind, by).Inc()
	x.duration.WithLabelValues(kind).Observe(d.Seconds())
}

func (m *Module) diskBytes() float64 {
	ids, err := m.fileIDs()
	if err != nil {
		return 0
	}
	var n int64
	for _, id := range ids {
		for _, p := range []string{dbPath(m.dir, id), dbPath(m.dir, id) + "-wal"} {
			if st, err := os.Stat(p); err == nil {
				n += st.Size()
			}
		}
	}
	return float64(n)
}
