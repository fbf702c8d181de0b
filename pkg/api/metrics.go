package api

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the HTTP layer's collectors.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	refused  *prometheus.CounterVec
}

// rejected counts a request refused by a node-wide limit (inflight, rate).
func (m *metrics) rejected(reason string) { m.refused.WithLabelValues(reason).Inc() }

// httpLabels are the labels of both collectors. operation is the route
// pattern, never the raw path, so the label set stays bounded.
var httpLabels = []string{"service", "operation", "code"}

// newMetrics creates the collectors and registers them on reg. If the same
// collectors are already registered (a node rebuilt on one registry), the
// registered ones are reused.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "edge_http_requests_total",
		Help: "HTTP requests answered by the public API, by service, route pattern and status code.",
	}, httpLabels)
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "edge_http_request_duration_seconds",
		Help:    "Time to answer HTTP requests of the public API, by service, route pattern and status code.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, httpLabels)
	refused := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "edge_http_rejected_total",
		Help: "HTTP requests refused before their handler by a node limit: inflight (503) or rate (429).",
	}, []string{"reason"})
	var err error
	if refused, err = register(reg, refused); err != nil {
		return nil, err
	}
	refused.WithLabelValues("inflight")
	refused.WithLabelValues("rate")
	if requests, err = register(reg, requests); err != nil {
		return nil, err
	}
	if duration, err = register(reg, duration); err != nil {
		return nil, err
	}
	return &metrics{requests: requests, duration: duration, refused: refused}, nil
}

// register registers c on reg, returning the already registered twin if
// there is one.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, fmt.Errorf("register http metrics: %w", err)
}

// observe records one answered request.
func (m *metrics) observe(service, operation string, status int, d time.Duration) {
	code := strconv.Itoa(status)
	m.requests.WithLabelValues(service, operation, code).Inc()
	m.duration.WithLabelValues(service, operation, code).Observe(d.Seconds())
}
