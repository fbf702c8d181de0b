package alarm

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Values of the result label of edge_do_alarm_deliveries_total.
const (
	resultSuccess   = "success"    // the webhook answered 2xx
	resultFailure   = "failure"    // a failed try that will be retried
	resultGaveUp    = "gave_up"    // the last try failed; the alarm was cleared
	resultNoWebhook = "no_webhook" // the namespace has no webhook; the alarm was cleared
)

// metrics are the Scheduler's collectors.
type metrics struct {
	deliveries *prometheus.CounterVec
	duration   prometheus.Histogram
	scheduled  prometheus.Gauge
}

// newMetrics builds the collectors and registers them on reg (if not nil).
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edge_do_alarm_deliveries_total",
			Help: "Durable Object alarm webhook tries by this node, by result (success, failure, gave_up, no_webhook).",
		}, []string{"result"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "edge_do_alarm_webhook_duration_seconds",
			Help:    "Time of one alarm webhook call that got an answer.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 9),
		}),
		scheduled: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "edge_do_alarms_scheduled",
			Help: "Alarms of objects this node owns that it has scheduled.",
		}),
	}
	for _, r := range []string{resultSuccess, resultFailure, resultGaveUp, resultNoWebhook} {
		m.deliveries.WithLabelValues(r)
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.deliveries, m.duration, m.scheduled} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register alarm metrics: %w", err)
		}
	}
	return m, nil
}
