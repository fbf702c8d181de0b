package kv

import (
	"context"
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Operation labels of edge_kv_ops_total.
const (
	opPut         = "put"
	opDelete      = "delete"
	opGet         = "get"
	opList        = "list"
	opPutMany     = "put_many"
	opDeleteMany  = "delete_many"
	opGetMany     = "get_many"
	opApplyRemote = "apply_remote"
)

// Result labels of edge_kv_ops_total.
const (
	resultOK       = "ok"
	resultNotFound = "not_found"
	resultInvalid  = "invalid"
	resultCanceled = "canceled"
	resultError    = "error"
)

// serviceMetrics are the service's Prometheus collectors.
type serviceMetrics struct {
	ops *prometheus.CounterVec
}

// newServiceMetrics registers the service's collectors on reg.
func newServiceMetrics(reg prometheus.Registerer) (*serviceMetrics, error) {
	m := &serviceMetrics{
		ops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edge_kv_ops_total",
			Help: "KV operations served by this node, by operation and result (ok, not_found, invalid, canceled, error).",
		}, []string{"op", "result"}),
	}
	if err := reg.Register(m.ops); err != nil {
		return nil, fmt.Errorf("register edge_kv_ops_total: %w", err)
	}
	// Every series exists from the start at zero, so that rate() and the
	// error-ratio alerts see a series before the first failure.
	for _, op := range []string{opPut, opDelete, opGet, opList, opPutMany, opDeleteMany, opGetMany, opApplyRemote} {
		for _, r := range []string{resultOK, resultNotFound, resultInvalid, resultCanceled, resultError} {
			m.ops.WithLabelValues(op, r)
		}
	}
	return m, nil
}

// done counts one operation by the class of err and returns err unchanged.
func (m *serviceMetrics) done(op string, err error) error {
	m.ops.WithLabelValues(op, resultOf(err)).Inc()
	return err
}

// resultOf classifies err for the result label.
func resultOf(err error) string {
	switch {
	case err == nil:
		return resultOK
	case errors.Is(err, ErrKeyNotFound), errors.Is(err, ErrNamespaceNotFound):
		return resultNotFound
	case IsInvalid(err):
		return resultInvalid
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return resultCanceled
	}
	return resultError
}

// IsInvalid reports whether err is a request that breaks one of KV's rules
// (key, value, metadata, expiration, list limit, cursor, bulk size): a
// client error that retrying will not fix.
func IsInvalid(err error) bool {
	for _, s := range []error{ErrInvalidKey, ErrValueTooLarge, ErrInvalidMetadata, ErrInvalidExpiration,
		ErrInvalidCursor, ErrInvalidLimit, ErrTooManyKeys} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}
