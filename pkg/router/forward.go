package router

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/edgeplane/edgeplane/pkg/api"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	edgev1 "github.com/edgeplane/edgeplane/proto/edge/v1"
)

// Forwarding defaults.
const (
	// DefaultMaxBodyBytes bounds the body of a forwarded request.
	DefaultMaxBodyBytes = 32 << 20
	// DefaultForwardTimeout is the deadline of a forwarded request whose
	// context has none.
	DefaultForwardTimeout = 10 * time.Second
)

// Target is the node a request is forwarded to.
type Target struct {
	// NodeID is the target's node id (for logs).
	NodeID string
	// GRPCAddr is the target's internal gRPC address.
	GRPCAddr string
}

// ForwarderConfig configures a Forwarder.
type ForwarderConfig struct {
	// NodeID is this node's id; it becomes X-Edge-Forwarded-From. Required.
	NodeID string
	// Pool provides the connections. Required.
	Pool *Pool
	// MaxBodyBytes bounds request bodies; larger ones get 413.
	MaxBodyBytes int64
	// Timeout is the deadline of a request whose context has none.
	Timeout time.Duration
	// Registerer receives the forwarding metrics; nil keeps them unexported.
	Registerer prometheus.Registerer
	// Logger receives one line per failed forward; nil discards.
	Logger *slog.Logger
	// AppliedIndex is this node's applied Raft index, sent along so the
	// serving node catches up to it first (headerAppliedIndex); nil sends
	// none.
	AppliedIndex func() uint64
}

// Defaults returns c with zero fields set to their defaults.
func (c ForwarderConfig) Defaults() ForwarderConfig {
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultForwardTimeout
	}
	if c.Registerer == nil {
		c.Registerer = prometheus.NewRegistry()
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports a missing or impossible setting.
func (c ForwarderConfig) Validate() error {
	switch {
	case c.NodeID == "":
		return errors.New("forwarder config: node id is required")
	case c.Pool == nil:
		return errors.New("forwarder config: pool is required")
	case c.MaxBodyBytes <= 0 || c.MaxBodyBytes > DefaultMaxBodyBytes:
		return fmt.Errorf("forwarder config: max body bytes %d outside (0, %d]", c.MaxBodyBytes, DefaultMaxBodyBytes)
	case c.Timeout <= 0:
		return fmt.Errorf("forwarder config: timeout must be positive, got %v", c.Timeout)
	}
	return nil
}

// Forwarder hands HTTP requests to other nodes over gRPC and writes their
// responses back, at most one hop, with Cloudflare v4 error envelopes for
// its own failures.
type Forwarder struct {
	cfg     ForwarderConfig
	pool    *Pool
	log     *slog.Logger
	metrics *forwardMetrics
}

// NewForwarder returns a Forwarder, or an error if cfg (after Defaults) is
// invalid or its metrics cannot be registered.
func NewForwarder(cfg ForwarderConfig) (*Forwarder, error) {
	cfg = cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m, err := newForwardMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	return &Forwarder{cfg: cfg, pool: cfg.Pool, log: cfg.Logger.With("component", "router"), metrics: m}, nil
}

// Forward serves r on target and writes target's response to w, adding
// X-Edge-Served-By. service and reason label the metric and logs. Failures
// are answered with an envelope: 413 body too large, 502 target unreachable
// or bad answer, 504 deadline exceeded, 508 request already forwarded.
func (f *Forwarder) Forward(w http.ResponseWriter, r *http.Request, target Target, service, reason string) {
	f.forward(w, r, target, service, reason, 0, nil)
}

// forward is Forward with the deadline of a request that has none (0: the
// configured Timeout) and a hook that sees the answer's headers before they
// are written (after may be nil).
func (f *Forwarder) forward(w http.ResponseWriter, r *http.Request, target Target, service, reason string,
	timeout time.Duration, after func(ctx context.Context, h http.Header)) {
	reqID := api.RequestIDFrom(r.Context())
	if reqID == "" {
		reqID = r.Header.Get(HeaderRequestID)
	}
	if reqID == "" {
		reqID = newRequestID()
	}
	log := f.log.With("request_id", reqID, "target", target.NodeID, "service", service, "reason", reason)
	fail := func(httpStatus, code int, cause, msg string, retry bool, err error) {
		f.metrics.failures.WithLabelValues(service, cause).Inc()
		log.Warn("forward failed", "cause", cause, "status", httpStatus, "err", err)
		writeError(w, httpStatus, code, msg, retry)
	}

	if from := api.ForwardedFrom(r.Context()); from != "" {
		fail(http.StatusLoopDetected, api.CodeForwardLoop, causeLoop,
			"request was already forwarded by "+from+"; refusing a second hop", true, nil)
		return
	}
	body, err := f.readBody(r)
	if errors.Is(err, errBodyTooLarge) {
		fail(http.StatusRequestEntityTooLarge, api.CodeBodyTooLarge, causeTooLarge,
			fmt.Sprintf("request body exceeds %d bytes", f.cfg.MaxBodyBytes), false, err)
		return
	}
	if err != nil {
		fail(http.StatusBadRequest, api.CodeBadRequest, causeBadRequest, "could not read request body", false, err)
		return
	}

	f.metrics.requests.WithLabelValues(service, reason).Inc()

	ctx := r.Context()
	if _, ok := ctx.Deadline(); !ok {
		if timeout <= 0 {
			timeout = f.cfg.Timeout
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}

	client, err := f.pool.Client(target.GRPCAddr)
	if err != nil {
		fail(http.StatusBadGateway, api.CodeNodeUnreachable, causeUnreachable,
			"node "+target.NodeID+" is unreachable", true, err)
		return
	}
	r.Header.Del(headerAppliedIndex)
	if f.cfg.AppliedIndex != nil {
		r.Header.Set(headerAppliedIndex, strconv.FormatUint(f.cfg.AppliedIndex(), 10))
	}
	resp, err := client.Forward(ctx, &edgev1.ForwardRequest{
		Method:     r.Method,
		Path:       requestURI(r),
		Headers:    headersToProto(r.Header),
		Body:       body,
		RequestId:  reqID,
		OriginNode: f.cfg.NodeID,
		Service:    service,
		Reason:     reason,
		Host:       r.Host,
	})
	if err != nil {
		f.failRPC(ctx, r, target, err, fail)
		return
	}
	if resp.GetStatus() < 100 || resp.GetStatus() > 999 {
		fail(http.StatusBadGateway, api.CodeNodeUnreachable, causeBadResponse,
			"node "+target.NodeID+" gave an invalid response", true, fmt.Errorf("status %d", resp.GetStatus()))
		return
	}

	h := w.Header()
	headersFromProto(h, resp.GetHeaders())
	if after != nil {
		after(ctx, h)
	}
	h.Del(headerRaftIndex)
	servedBy := resp.GetServedBy()
	if servedBy == "" {
		servedBy = target.NodeID
	}
	h.Set(HeaderServedBy, servedBy)
	h.Set("Content-Length", strconv.Itoa(len(resp.GetBody())))
	w.WriteHeader(int(resp.GetStatus()))
	if _, err := w.Write(resp.GetBody()); err != nil {
		log.Debug("write forwarded response", "err", err)
	}
}

// failRPC answers a failed Forward call according to its cause.
func (f *Forwarder) failRPC(ctx context.Context, r *http.Request, target Target, err error,
	fail func(httpStatus, code int, cause, msg string, retry bool, err error)) {
	code := status.Code(err)
	switch {
	case code == codes.DeadlineExceeded || errors.Is(ctx.Err(), context.DeadlineExceeded):
		fail(http.StatusGatewayTimeout, api.CodeNodeTimeout, causeTimeout,
			"node "+target.NodeID+" did not answer in time", true, err)
	case code == codes.Canceled && r.Context().Err() != nil:
		// The client went away; nobody reads this answer.
		fail(http.StatusBadGateway, api.CodeNodeUnreachable, causeCanceled, "request canceled", true, err)
	case code == codes.ResourceExhausted:
		fail(http.StatusBadGateway, api.CodeNodeUnreachable, causeBadResponse,
			"node "+target.NodeID+" answered with a response above the size limit", false, err)
	default:
		fail(http.StatusBadGateway, api.CodeNodeUnreachable, causeUnreachable,
			"node "+target.NodeID+" is unreachable", true, err)
	}
}

// errBodyTooLarge means a request body is above MaxBodyBytes.
var errBodyTooLarge = errors.New("request body too large")

// readBody reads r's body, at most MaxBodyBytes of it.
func (f *Forwarder) readBody(r *http.Request) ([]byte, error) {
	max := f.cfg.MaxBodyBytes
	if r.ContentLength > max {
		return nil, errBodyTooLarge
	}
	if r.Body == nil {
		return nil, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	if int64(len(body)) > max {
		return nil, errBodyTooLarge
	}
	return body, nil
}

// requestURI is the request target as received: path and raw query.
func requestURI(r *http.Request) string {
	if r.RequestURI != "" {
		return r.RequestURI
	}
	return r.URL.RequestURI()
}

// newRequestID returns a random 128-bit id in hex, for requests that came
// without X-Request-Id.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}
