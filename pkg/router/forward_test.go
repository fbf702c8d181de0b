package router

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/edgeplane/edgeplane/pkg/api"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgeplane/edgeplane/pkg/wire"
	edgev1 "github.com/edgeplane/edgeplane/proto/edge/v1"
)

// seenRequest is what the serving node's handler observed.
type seenRequest struct {
	method, uri, host, body string
	forwardedFrom, reqID    string
	custom                  []string
	forwarded               bool
	contentLength           int64
}

// recordingHandler answers 201 with a body and headers and records the request.
func recordingHandler(seen chan<- seenRequest) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		seen <- seenRequest{
			method: r.Method, uri: r.URL.RequestURI(), host: r.Host, body: string(b),
			forwardedFrom: r.Header.Get(HeaderForwardedFrom), reqID: r.Header.Get(HeaderRequestID),
			custom: r.Header.Values("X-Custom"), forwarded: api.ForwardedFrom(r.Context()) != "", contentLength: r.ContentLength,
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Add("X-Reply", "a")
		w.Header().Add("X-Reply", "b")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, "made ")
		_, _ = io.WriteString(w, "it")
	})
}

func newTestForwarder(t *testing.T, pool *Pool, cfg ForwarderConfig) (*Forwarder, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg.NodeID = "n1"
	cfg.Pool = pool
	cfg.Registerer = reg
	f, err := NewForwarder(cfg)
	if err != nil {
		t.Fatalf("NewForwarder: %v", err)
	}
	return f, reg
}

// decodeEnvelope checks that rec holds an error envelope with the given code.
func decodeEnvelope(t *testing.T, rec *httptest.ResponseRecorder, wantCode int) wire.Envelope {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var env wire.Envelope
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
		t.Fatalf("body %q is not an envelope: %v", rec.Body.String(), err)
	}
	if env.Success || len(env.Errors) != 1 || env.Errors[0].Code != wantCode || env.Messages == nil ||
		string(env.Result) != "null" {
		t.Fatalf("envelope = %s, want one error with code %d", rec.Body.String(), wantCode)
	}
	return env
}

func TestForwardEndToEnd(t *testing.T) {
	seen := make(chan seenRequest, 1)
	addr := startNode(t, &fakeBackend{info: &edgev1.InfoResponse{NodeId: "n2"}, handler: recordingHandler(seen)})
	fw, reg := newTestForwarder(t, newTestPool(t, PoolConfig{}), ForwarderConfig{})

	req := httptest.NewRequest(http.MethodPut, "http://api.example/client/v4/accounts/a/storage/kv/namespaces/ns/values/dir%2Fk?expiration_ttl=60", strings.NewReader("value-bytes"))
	req.Header.Set(HeaderRequestID, "req-123")
	req.Header.Add("X-Custom", "1")
	req.Header.Add("X-Custom", "2")
	req.Header.Set("Connection", "keep-alive")
	rec := httptest.NewRecorder()
	fw.Forward(rec, req, Target{NodeID: "n2", GRPCAddr: addr}, "kv", "owner")

	if rec.Code != http.StatusCreated {
		t.Fatalf("status = %d, body %q; want 201", rec.Code, rec.Body.String())
	}
	if got := rec.Body.String(); got != "made it" {
		t.Errorf("body = %q, want %q", got, "made it")
	}
	if got := rec.Header().Get(HeaderServedBy); got != "n2" {
		t.Errorf("%s = %q, want n2", HeaderServedBy, got)
	}
	if got := rec.Header().Values("X-Reply"); len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Errorf("X-Reply = %q, want [a b]", got)
	}
	if got := rec.Header().Get("Content-Length"); got != "7" {
		t.Errorf("Content-Length = %q, want 7", got)
	}

	var s seenRequest
	select {
	case s = <-seen:
	default:
		t.Fatal("serving handler was not called")
	}
	want := seenRequest{
		method: http.MethodPut, uri: "/client/v4/accounts/a/storage/kv/namespaces/ns/values/dir%2Fk?expiration_ttl=60",
		host: "api.example", body: "value-bytes", forwardedFrom: "n1", reqID: "req-123",
		forwarded: true, contentLength: int64(len("value-bytes")),
	}
	if s.method != want.method || s.uri != want.uri || s.host != want.host || s.body != want.body ||
		s.forwardedFrom != want.forwardedFrom || s.reqID != want.reqID || s.forwarded != want.forwarded ||
		s.contentLength != want.contentLength {
		t.Errorf("serving node saw %+v, want %+v", s, want)
	}
	if len(s.custom) != 2 || s.custom[0] != "1" || s.custom[1] != "2" {
		t.Errorf("X-Custom at serving node = %q, want [1 2]", s.custom)
	}
	if got := counterValue(t, reg, "edge_forwarded_requests_total", map[string]string{"service": "kv", "reason": "owner"}); got != 1 {
		t.Errorf("edge_forwarded_requests_total{kv,owner} = %v, want 1", got)
	}
}

func TestForwardGeneratesRequestID(t *testing.T) {
	seen := make(chan seenRequest, 1)
	addr := startNode(t, &fakeBackend{info: &edgev1.InfoResponse{NodeId: "n2"}, handler: recordingHandler(seen)})
	fw, _ := newTestForwarder(t, newTestPool(t, PoolConfig{}), ForwarderConfig{})
	rec := httptest.NewRecorder()
	fw.Forward(rec, httptest.NewRequest(http.MethodGet, "/x", nil), Target{NodeID: "n2", GRPCAddr: addr}, "d1", "leader")
	if rec.Code != http.StatusCreated {
		t.Fatalf("status = %d, want 201", rec.Code)
	}
	if s := <-seen; len(s.reqID) != 32 {
		t.Fatalf("generated request id %q, want 32 hex digits", s.reqID)
	}
}

func TestForwardDeadlineExceeded(t *testing.T) {
	blocking := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
		w.WriteHeader(http.StatusOK)
	})
	addr := startNode(t, &fakeBackend{info: &edgev1.InfoResponse{NodeId: "n2"}, handler: blocking})
	pool := newTestPool(t, PoolConfig{})

	t.Run("request deadline", func(t *testing.T) {
		fw, reg := newTestForwarder(t, pool, ForwarderConfig{})
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		rec := httptest.NewRecorder()
		start := time.Now()
		fw.Forward(rec, httptest.NewRequest(http.MethodGet, "/slow", nil).WithContext(ctx), Target{NodeID: "n2", GRPCAddr: addr}, "d1", "leader")
		if rec.Code != http.StatusGatewayTimeout {
			t.Fatalf("status = %d, body %q; want 504", rec.Code, rec.Body.String())
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Fatalf("forward took %v despite a 200ms deadline", took)
		}
		decodeEnvelope(t, rec, api.CodeNodeTimeout)
		if got := counterValue(t, reg, "edge_forward_failures_total", map[string]string{"service": "d1", "cause": causeTimeout}); got != 1 {
			t.Errorf("timeout failures = %v, want 1", got)
		}
	})

	t.Run("default timeout", func(t *testing.T) {
		fw, _ := newTestForwarder(t, pool, ForwarderConfig{Timeout: 200 * time.Millisecond})
		rec := httptest.NewRecorder()
		fw.Forward(rec, httptest.NewRequest(http.MethodGet, "/slow", nil), Target{NodeID: "n2", GRPCAddr: addr}, "d1", "leader")
		if rec.Code != http.StatusGatewayTimeout {
			t.Fatalf("status = %d, want 504", rec.Code)
		}
		decodeEnvelope(t, rec, api.CodeNodeTimeout)
	})
}

func TestForwardUnreachable(t *testing.T) {
	fw, reg := newTestForwarder(t, newTestPool(t, PoolConfig{}), ForwarderConfig{})
	rec := httptest.NewRecorder()
	fw.Forward(rec, httptest.NewRequest(http.MethodGet, "/x", nil), Target{NodeID: "gone", GRPCAddr: deadAddr(t)}, "kv", "owner")
	if rec.Code != http.StatusBadGateway {
		t.Fatalf("status = %d, body %q; want 502", rec.Code, rec.Body.String())
	}
	decodeEnvelope(t, rec, api.CodeNodeUnreachable)
	if rec.Header().Get(HeaderServedBy) != "" {
		t.Errorf("failed forward claims served-by %q", rec.Header().Get(HeaderServedBy))
	}
	if got := counterValue(t, reg, "edge_forward_failures_total", map[string]string{"service": "kv", "cause": causeUnreachable}); got != 1 {
		t.Errorf("unreachable failures = %v, want 1", got)
	}
}

func TestForwardThroughFaultyDialer(t *testing.T) {
	addr := startNode(t, &fakeBackend{info: &edgev1.InfoResponse{NodeId: "n2"}, handler: recordingHandler(make(chan seenRequest, 1))})
	var mu sync.Mutex
	cut := true
	dial := func(ctx context.Context, a string) (net.Conn, error) {
		mu.Lock()
		defer mu.Unlock()
		if cut {
			return nil, errors.New("partitioned")
		}
		var d net.Dialer
		return d.DialContext(ctx, "tcp", a)
	}
	fw, _ := newTestForwarder(t, newTestPool(t, PoolConfig{Dialer: dial, MaxBackoff: 50 * time.Millisecond}), ForwarderConfig{})
	target := Target{NodeID: "n2", GRPCAddr: addr}

	rec := httptest.NewRecorder()
	fw.Forward(rec, httptest.NewRequest(http.MethodGet, "/x", nil), target, "kv", "owner")
	if rec.Code != http.StatusBadGateway {
		t.Fatalf("partitioned: status = %d, want 502", rec.Code)
	}

	mu.Lock()
	cut = false
	mu.Unlock()
	// The connection reconnects on its own after backoff; poll until it does.
	deadline := time.Now().Add(10 * time.Second)
	for {
		rec = httptest.NewRecorder()
		fw.Forward(rec, httptest.NewRequest(http.MethodGet, "/x", nil), target, "kv", "owner")
		if rec.Code == http.StatusCreated {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("healed: still status %d after 10s", rec.Code)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestForwardBodyTooLarge(t *testing.T) {
	called := make(chan seenRequest, 1)
	addr := startNode(t, &fakeBackend{info: &edgev1.InfoResponse{NodeId: "n2"}, handler: recordingHandler(called)})
	fw, _ := newTestForwarder(t, newTestPool(t, PoolConfig{}), ForwarderConfig{MaxBodyBytes: 10})
	target := Target{NodeID: "n2", GRPCAddr: addr}

	for _, known := range []bool{true, false} {
		req := httptest.NewRequest(http.MethodPut, "/x", strings.NewReader("eleven byte"))
		if !known {
			req.ContentLength = -1 // chunked: only reading finds out
		}
		rec := httptest.NewRecorder()
		fw.Forward(rec, req, target, "kv", "owner")
		if rec.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("content length known=%v: status = %d, want 413", known, rec.Code)
		}
		decodeEnvelope(t, rec, api.CodeBodyTooLarge)
		if rec.Header().Get("X-Should-Retry") != "false" {
			t.Errorf("413 without X-Should-Retry: false")
		}
	}
	select {
	case <-called:
		t.Fatal("an oversized request reached the serving node")
	default:
	}

	rec := httptest.NewRecorder()
	fw.Forward(rec, httptest.NewRequest(http.MethodPut, "/x", strings.NewReader("ten bytes!")), target, "kv", "owner")
	if rec.Code != http.StatusCreated {
		t.Fatalf("body at the limit: status = %d, want 201", rec.Code)
	}
}

func TestForwardRefusesSecondHop(t *testing.T) {
	fw, reg := newTestForwarder(t, newTestPool(t, PoolConfig{}), ForwarderConfig{})
	req := httptest.NewRequest(http.MethodGet, "/x", nil)
	req = req.WithContext(api.WithForwardedFrom(req.Context(), "n0"))
	rec := httptest.NewRecorder()
	fw.Forward(rec, req, Target{NodeID: "n2", GRPCAddr: deadAddr(t)}, "do", "owner")
	if rec.Code != http.StatusLoopDetected {
		t.Fatalf("status = %d, want 508", rec.Code)
	}
	decodeEnvelope(t, rec, api.CodeForwardLoop)
	if got := counterValue(t, reg, "edge_forwarded_requests_total", map[string]string{"service": "do", "reason": "owner"}); got != 0 {
		t.Errorf("refused hop counted as forwarded: %v", got)
	}
}

func TestForwardResponseTooLarge(t *testing.T) {
	huge := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		chunk := make([]byte, 1<<20)
		for i := 0; i < MaxMessageBytes>>20+1; i++ {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	addr := startNode(t, &fakeBackend{info: &edgev1.InfoResponse{NodeId: "n2"}, handler: huge})
	// Building ~30 MB under the race detector on a loaded machine can take
	// longer than the default deadline; this test is about the size.
	fw, _ := newTestForwarder(t, newTestPool(t, PoolConfig{}), ForwarderConfig{Timeout: time.Minute})
	rec := httptest.NewRecorder()
	fw.Forward(rec, httptest.NewRequest(http.MethodGet, "/big", nil), Target{NodeID: "n2", GRPCAddr: addr}, "r2", "replica")
	if rec.Code != http.StatusBadGateway {
		t.Fatalf("status = %d, want 502", rec.Code)
	}
	decodeEnvelope(t, rec, api.CodeNodeUnreachable)
}

func TestForwarderConfigValidate(t *testing.T) {
	pool := newTestPool(t, PoolConfig{})
	bad := []ForwarderConfig{
		{Pool: pool},
		{NodeID: "n1"},
		{NodeID: "n1", Pool: pool, MaxBodyBytes: DefaultMaxBodyBytes + 1},
		{NodeID: "n1", Pool: pool, Timeout: -time.Second},
	}
	for i, cfg := range bad {
		if _, err := NewForwarder(cfg); err == nil {
			t.Errorf("config %d: NewForwarder accepted %+v", i, cfg)
		}
	}
	reg := prometheus.NewRegistry()
	for i := 0; i < 2; i++ { // two forwarders may share a registry
		if _, err := NewForwarder(ForwarderConfig{NodeID: "n1", Pool: pool, Registerer: reg}); err != nil {
			t.Fatalf("forwarder %d on a shared registry: %v", i, err)
		}
	}
}

// A forwarded request carries the forwarding node's applied Raft index, and
// the serving node catches up to it before its handler runs: a namespace
// the client just created through the first node is there on the second.
// A client cannot set the index itself, and the handler never sees it.
func TestForwardWaitsUntilTheServingNodeCaughtUp(t *testing.T) {
	var applied atomic.Uint64 // the serving node's applied index
	var waitedFor atomic.Uint64
	handled := make(chan uint64, 1)
	addr := startNode(t, &fakeBackend{
		info: &edgev1.InfoResponse{NodeId: "n2"},
		handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if v := r.Header.Get(headerAppliedIndex); v != "" {
				t.Errorf("the handler saw %s: %s", headerAppliedIndex, v)
			}
			handled <- applied.Load()
			w.WriteHeader(http.StatusOK)
		}),
		waitApplied: func(ctx context.Context, index uint64) error {
			waitedFor.Store(index)
			time.Sleep(50 * time.Millisecond) // the log arrives meanwhile
			applied.Store(index)
			return nil
		},
	})
	fw, _ := newTestForwarder(t, newTestPool(t, PoolConfig{}), ForwarderConfig{AppliedIndex: func() uint64 { return 42 }})
	req := httptest.NewRequest(http.MethodGet, "/x", nil)
	req.Header.Set(headerAppliedIndex, "999999") // a client's: replaced
	rec := httptest.NewRecorder()
	fw.Forward(rec, req, Target{NodeID: "n2", GRPCAddr: addr}, "do", "owner")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if got := <-handled; got != 42 || waitedFor.Load() != 42 {
		t.Fatalf("handler ran at applied index %d after a wait for %d; want both 42", got, waitedFor.Load())
	}

	// Without an index to send, a client's value still never arrives.
	waitedFor.Store(0)
	fw, _ = newTestForwarder(t, newTestPool(t, PoolConfig{}), ForwarderConfig{})
	fw.Forward(httptest.NewRecorder(), req, Target{NodeID: "n2", GRPCAddr: addr}, "do", "owner")
	<-handled
	if waitedFor.Load() != 0 {
		t.Fatalf("the serving node waited for a client's index %d", waitedFor.Load())
	}
}
