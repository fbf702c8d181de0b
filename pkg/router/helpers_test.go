package router

import (
	"context"
	"github.com/edgeplane/edgeplane/pkg/consensus"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/grpc"

	edgev1 "github.com/edgeplane/edgeplane/proto/edge/v1"
)

// fakeBackend is a Backend made of function fields.
type fakeBackend struct {
	info        *edgev1.InfoResponse
	apply       func(ctx context.Context, cmd []byte) (uint64, []byte, error)
	handler     http.Handler
	waitApplied func(ctx context.Context, index uint64) error
}

func (f *fakeBackend) WaitApplied(ctx context.Context, index uint64) error {
	if f.waitApplied == nil {
		return nil
	}
	return f.waitApplied(ctx, index)
}

func (f *fakeBackend) Info() *edgev1.InfoResponse { return f.info }

func (f *fakeBackend) Apply(ctx context.Context, cmd []byte) (uint64, []byte, error) {
	if f.apply == nil {
		return 0, nil, consensus.ErrNotLeader
	}
	return f.apply(ctx, cmd)
}

func (f *fakeBackend) ForwardHandler() http.Handler {
	if f.handler == nil {
		return http.NotFoundHandler()
	}
	return f.handler
}

// startNode serves b on a real listener on 127.0.0.1 and returns its address.
func startNode(t *testing.T, b Backend) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	gs := grpc.NewServer(ServerOptions()...)
	NewServer(b, nil).Register(gs)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = gs.Serve(lis)
	}()
	t.Cleanup(func() {
		gs.Stop()
		<-done
	})
	return lis.Addr().String()
}

// deadAddr returns a 127.0.0.1 address nobody listens on.
func deadAddr(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := lis.Addr().String()
	if err := lis.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	return addr
}

func newTestPool(t *testing.T, cfg PoolConfig) *Pool {
	t.Helper()
	p, err := NewPool(cfg)
	if err != nil {
		t.Fatalf("NewPool: %v", err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// counterValue reads a counter of reg with the given labels (0 if absent).
func counterValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if labelsMatch(m, labels) {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func labelsMatch(m *dto.Metric, want map[string]string) bool {
	if len(m.GetLabel()) != len(want) {
		return false
	}
	for _, lp := range m.GetLabel() {
		if want[lp.GetName()] != lp.GetValue() {
			return false
		}
	}
	return true
}
