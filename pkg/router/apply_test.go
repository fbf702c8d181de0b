package router

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/pkg/consensus"
	"google.golang.org/grpc"

	edgev1 "github.com/edgeplane/edgeplane/proto/edge/v1"
)

func TestApplyOnLeader(t *testing.T) {
	var gotCmd []byte
	addr := startNode(t, &fakeBackend{
		info: &edgev1.InfoResponse{NodeId: "leader"},
		apply: func(_ context.Context, cmd []byte) (uint64, []byte, error) {
			gotCmd = append([]byte(nil), cmd...)
			return 42, []byte("ok"), nil
		},
	})
	pool := newTestPool(t, PoolConfig{})
	index, result, err := pool.ApplyOn(testCtx(t), addr, []byte("cmd-1"), "n1", "req-1")
	if err != nil {
		t.Fatalf("ApplyOn: %v", err)
	}
	if index != 42 || string(result) != "ok" || string(gotCmd) != "cmd-1" {
		t.Fatalf("ApplyOn = (%d, %q), backend saw %q; want (42, ok), cmd-1", index, result, gotCmd)
	}
}

func TestApplyNotLeaderMapping(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		wantID string
	}{
		// Only the leader's id crosses the wire: the receiver looks up the
		// address it needs in membership.
		{"typed with leader", fmt.Errorf("raft apply: %w", &consensus.NotLeaderError{LeaderID: "n3", LeaderAddr: "127.0.0.1:9789"}), "n3"},
		{"sentinel only", fmt.Errorf("raft apply: %w", consensus.ErrNotLeader), ""},
		{"leader unknown", &consensus.NotLeaderError{}, ""},
	}
	pool := newTestPool(t, PoolConfig{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := startNode(t, &fakeBackend{
				info: &edgev1.InfoResponse{NodeId: "follower"},
				apply: func(context.Context, []byte) (uint64, []byte, error) {
					return 0, nil, tt.err
				},
			})
			_, _, err := pool.ApplyOn(testCtx(t), addr, []byte("x"), "n1", "req")
			if !errors.Is(err, consensus.ErrNotLeader) {
				t.Fatalf("ApplyOn err = %v, want ErrNotLeader", err)
			}
			var nle *consensus.NotLeaderError
			if !errors.As(err, &nle) {
				t.Fatalf("ApplyOn err = %v, want *NotLeaderError", err)
			}
			if nle.LeaderID != tt.wantID || nle.LeaderAddr != "" {
				t.Fatalf("leader = (%q, %q), want (%q, \"\")", nle.LeaderID, nle.LeaderAddr, tt.wantID)
			}
		})
	}
}

func TestApplyOtherErrors(t *testing.T) {
	pool := newTestPool(t, PoolConfig{})

	t.Run("backend failure is not a not-leader", func(t *testing.T) {
		addr := startNode(t, &fakeBackend{apply: func(context.Context, []byte) (uint64, []byte, error) {
			return 0, nil, errors.New("disk full")
		}})
		_, _, err := pool.ApplyOn(testCtx(t), addr, []byte("x"), "n1", "req")
		if err == nil || errors.Is(err, consensus.ErrNotLeader) || errors.Is(err, ErrUnreachable) {
			t.Fatalf("ApplyOn err = %v, want a plain failure", err)
		}
	})

	t.Run("unreachable", func(t *testing.T) {
		_, _, err := pool.ApplyOn(testCtx(t), deadAddr(t), []byte("x"), "n1", "req")
		if !errors.Is(err, ErrUnreachable) {
			t.Fatalf("ApplyOn err = %v, want ErrUnreachable", err)
		}
	})

	t.Run("deadline", func(t *testing.T) {
		addr := startNode(t, &fakeBackend{apply: func(ctx context.Context, _ []byte) (uint64, []byte, error) {
			select {
			case <-ctx.Done():
				return 0, nil, fmt.Errorf("wait for commit: %w", ctx.Err())
			case <-time.After(10 * time.Second):
				return 1, nil, nil
			}
		}})
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		_, _, err := pool.ApplyOn(ctx, addr, []byte("x"), "n1", "req")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("ApplyOn err = %v, want DeadlineExceeded", err)
		}
	})
}

// A connection that breaks after the command reached the leader (the leader
// killed, a partition) must not read as "unreachable": the proposer would
// send the command again, and a leader that had appended it could commit it
// twice. Only a node no connection could be made to is unreachable.
func TestApplyConnectionLostAfterSendIsOutcomeUnknown(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	received := make(chan struct{})
	release := make(chan struct{})
	defer close(release)
	gs := grpc.NewServer(ServerOptions()...)
	NewServer(&fakeBackend{apply: func(context.Context, []byte) (uint64, []byte, error) {
		close(received)
		<-release
		return 1, nil, nil
	}}, nil).Register(gs)
	go func() { _ = gs.Serve(lis) }()
	go func() {
		<-received
		gs.Stop() // closes the connection under the call
	}()

	pool := newTestPool(t, PoolConfig{})
	_, _, err = pool.ApplyOn(testCtx(t), lis.Addr().String(), []byte("x"), "n1", "req")
	if !errors.Is(err, consensus.ErrOutcomeUnknown) || errors.Is(err, ErrUnreachable) {
		t.Fatalf("ApplyOn err = %v, want ErrOutcomeUnknown (and not ErrUnreachable)", err)
	}
}
