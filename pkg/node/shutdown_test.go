package node_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/pkg/do"
	"github.com/edgeplane/edgeplane/pkg/node"
	"github.com/edgeplane/edgeplane/pkg/service"
	"github.com/edgeplane/edgeplane/pkg/services"
	"google.golang.org/grpc"
)

// shutdownBound is how long a single node's graceful stop may take here:
// well under edged's 10 s shutdown timeout, and under the DO lease period
// (6 s) that a registration cut off from shutdown used to wait out.
const shutdownBound = 3 * time.Second

// singleNode starts a one-node cluster on loopback with the built-in
// services and production timers (as edged runs it).
func singleNode(t *testing.T) *node.Node {
	t.Helper()
	n, err := node.New(node.Config{NodeID: "s1", DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0",
		GRPCAddr: "127.0.0.1:0", RaftAddr: "127.0.0.1:0", GossipAddr: "127.0.0.1:0", AdminToken: "t",
		Voters: 1, Services: services.Builtin(services.Options{})})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// stopWithin shuts n down and fails the test when that takes longer than
// shutdownBound (without waiting past the bound for a stuck shutdown).
func stopWithin(t *testing.T, n *node.Node) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- n.Shutdown(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("shutdown: %v", err)
		}
		t.Logf("shutdown took %v", time.Since(start))
	case <-time.After(shutdownBound):
		t.Fatalf("shutdown still running after %v (a background loop outlives its context)", shutdownBound)
	}
}

// A node stopped right after it started, before Raft elected itself, has
// its DO lease registration retrying "no raft leader reachable": the stop
// must cancel it, not wait out the lease period.
func TestShutdownRightAfterStartIsPrompt(t *testing.T) {
	stopWithin(t, singleNode(t))
}

// As edged in the e2e fault tests: a single node is stopped as soon as it
// is ready, which on a loaded machine is often before its first DO lease
// registration applied (the proposer retries with backoff).
func TestShutdownRightAfterReadyIsPrompt(t *testing.T) {
	for i := range 3 {
		n := singleNode(t)
		deadline := time.Now().Add(20 * time.Second)
		for n.Ready() != nil {
			if time.Now().After(deadline) {
				n.Kill()
				t.Fatalf("node not ready: %v", n.Ready())
			}
			time.Sleep(2 * time.Millisecond)
		}
		registered := n.Service("do").(*do.Module).Lease().Epoch != 0
		t.Logf("run %d: ready; DO lease registered: %v", i, registered)
		stopWithin(t, n)
	}
}

// tail is a service whose Run, once told to stop, takes a moment to finish
// its work and then looks whether Raft still runs.
type tail struct {
	deps     service.Deps
	stopped  chan struct{}
	wasAlive atomic.Bool
}

func (s *tail) Name() string                      { return "tail" }
func (s *tail) Routes() []service.Route           { return nil }
func (s *tail) Resources() []service.ResourceKind { return nil }
func (s *tail) RegisterGRPC(*grpc.Server)         {}
func (s *tail) Close() error                      { return nil }

func (s *tail) Run(ctx context.Context) {
	defer close(s.stopped)
	<-ctx.Done()
	time.Sleep(200 * time.Millisecond) // the last write of a loop, finishing
	s.wasAlive.Store(s.deps.Raft.IsLeader())
}

// The services' loops stop before Raft does: a loop's last write still
// finds the Raft it writes through (instead of retrying "no raft leader
// reachable" against a Raft that was shut down under it).
func TestShutdownStopsServiceLoopsBeforeRaft(t *testing.T) {
	svc := &tail{stopped: make(chan struct{})}
	n, err := node.New(node.Config{NodeID: "s1", DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0",
		GRPCAddr: "127.0.0.1:0", RaftAddr: "127.0.0.1:0", GossipAddr: "127.0.0.1:0", AdminToken: "t",
		Voters: 1, Services: []service.Factory{{Name: "tail", New: func(d service.Deps) (service.Service, error) {
			svc.deps = d
			return svc, nil
		}}}})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for n.Ready() != nil {
		if time.Now().After(deadline) {
			n.Kill()
			t.Fatalf("node not ready: %v", n.Ready())
		}
		time.Sleep(5 * time.Millisecond)
	}
	stopWithin(t, n)
	<-svc.stopped
	if !svc.wasAlive.Load() {
		t.Fatal("Raft was stopped before the service's Run returned")
	}
}
