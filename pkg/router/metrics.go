package router

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Failure causes of the edge_forward_failures_total metric.
const (
	causeTooLarge    = "too_large"
	causeUnreachable = "unreachable"
	causeTimeout     = "timeout"
	causeLoop        = "loop"
	causeCanceled    = "canceled"
	causeBadRequest  = "bad_request"
	causeBadResponse = "bad_response"
)

// forwardMetrics are the collectors of a Forwarder.
type forwardMetrics struct {
	requests *prometheus.CounterVec
	failures *prometheus.CounterVec
}

func newForwardMetrics(reg prometheus.Registerer) (*forwardMetrics, error) {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "edge_forwarded_requests_total",
		Help: "HTTP requests this node forwarded to another node over gRPC, by service and reason (leader, owner, replica...).",
	}, []string{"service", "reason"})
	failures := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "edge_forward_failures_total",
		Help: "Forwarded HTTP requests that got no response from the serving node, by service and cause (unreachable, timeout, too_large, loop, ...).",
	}, []string{"service", "cause"})
	var err error
	if requests, err = registerCounterVec(reg, requests); err != nil {
		return nil, err
	}
	if failures, err = registerCounterVec(reg, failures); err != nil {
		return nil, err
	}
	return &forwardMetrics{requests: requests, failures: failures}, nil
}

// registerCounterVec registers c on reg, or returns the identical collector
// already registered there (several forwarders may share one registry).
func registerCounterVec(reg prometheus.Registerer, c *prometheus.CounterVec) (*prometheus.CounterVec, error) {
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
			return existing, nil
		}
	}
	return nil, fmt.Errorf("register forward metrics: %w", err)
}
