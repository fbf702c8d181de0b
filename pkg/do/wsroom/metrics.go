package wsroom

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the collectors of a Hub and its relay.
type metrics struct {
	sockets  prometheus.Gauge
	rooms    prometheus.Gauge
	relays   prometheus.Gauge
	messages prometheus.Counter
	slow     prometheus.Counter
}

// newMetrics builds the collectors and registers them on reg (if not nil).
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		sockets: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "edge_do_websockets",
			Help: "WebSockets in the Durable Object rooms this node owns (local and relayed from other nodes).",
		}),
		rooms: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "edge_do_websocket_rooms",
			Help: "Durable Objects with at least one WebSocket on this node.",
		}),
		relays: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "edge_do_websocket_relays",
			Help: "Client WebSockets this node holds and relays to another node that owns their object.",
		}),
		messages: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "edge_do_websocket_messages_total",
			Help: "Messages broadcast in the Durable Object rooms this node owns.",
		}),
		slow: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "edge_do_websocket_slow_closed_total",
			Help: "WebSockets closed because their send queue overflowed (close code 4002).",
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.sockets, m.rooms, m.relays, m.messages, m.slow} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register websocket metrics: %w", err)
		}
	}
	return m, nil
}
