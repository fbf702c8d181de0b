package do

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the service's series. No label carries an object id: their
// number is unbounded.
type metrics struct {
	owned            prometheus.Gauge
	active           prometheus.Gauge
	requests         *prometheus.CounterVec
	forwarded        *prometheus.CounterVec
	ownershipChanges *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer, m *Module) (*metrics, error) {
	x := &metrics{
		owned: prometheus.NewGauge(prometheus.GaugeOpts{Name: "edge_do_owned_objects",
			Help: "Durable Objects this node serves as owner now: opened (state synced) under a valid lease."}),
		active: prometheus.NewGauge(prometheus.GaugeOpts{Name: "edge_do_active_objects",
			Help: "Durable Objects with an actor in memory on this node (opening or open); idle ones are evicted."}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "edge_do_requests_total",
			Help: "Durable Object requests answered by this node as owner, by operation and result (ok, error)."},
			[]string{"op", "result"}),
		forwarded: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "edge_do_forwarded_requests_total",
			Help: "Durable Object requests this node received and forwarded to the object's owner, by operation."},
			[]string{"op"}),
		ownershipChanges: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "edge_do_ownership_changes_total",
			Help: "Objects this node started (acquired) or stopped (released) serving as owner."}, []string{"change"}),
	}
	known := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "edge_do_liveness_nodes",
		Help: "Nodes in the Durable Objects liveness table, alive or not."}, func() float64 { return float64(len(m.table.Records())) })
	for _, c := range []prometheus.Collector{x.owned, x.active, x.requests, x.forwarded, x.ownershipChanges, known} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return x, nil
}
