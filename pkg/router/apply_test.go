package router

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

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
		name     string
		err      error
		wantID   string
		wantAddr string
	}{
		{"typed with leader", fmt.Errorf("raft apply: %w", &NotLeaderError{LeaderID: "n3", LeaderAddr: "127.0.0.1:9788"}), "n3", "127.0.0.1:9788"},
		{"sentinel only", fmt.Errorf("raft apply: %w", ErrNotLeader), "", ""},
		{"leader unknown", &NotLeaderError{}, "", ""},
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
			if !errors.Is(err, ErrNotLeader) {
				t.Fatalf("ApplyOn err = %v, want ErrNotLeader", err)
			}
			var nle *NotLeaderError
			if !errors.As(err, &nle) {
				t.Fatalf("ApplyOn err = %v, want *NotLeaderError", err)
			}
			if nle.LeaderID != tt.wantID || nle.LeaderAddr != tt.wantAddr {
				t.Fatalf("leader = (%q, %q), want (%q, %q)", nle.LeaderID, nle.LeaderAddr, tt.wantID, tt.wantAddr)
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
		if err == nil || errors.Is(err, ErrNotLeader) || errors.Is(err, ErrUnreachable) {
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

func TestNotLeaderError(t *testing.T) {
	err := error(&NotLeaderError{LeaderID: "n3", LeaderAddr: "a:1"})
	if !errors.Is(err, ErrNotLeader) {
		t.Fatal("NotLeaderError does not match ErrNotLeader")
	}
	if got := err.Error(); got != `not leader (leader "n3" at "a:1")` {
		t.Fatalf("Error() = %q", got)
	}
}
