package router

import (
	"context"
	"fmt"

	"github.com/edgeplane/edgeplane/pkg/consensus"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	edgev1 "github.com/edgeplane/edgeplane/proto/edge/v1"
)

// ApplyOn proposes cmd on the node at addr (normally the leader) and returns
// the log index and state machine result. A refusal by a non-leader comes
// back as an error wrapping *consensus.NotLeaderError (errors.As), which
// also matches consensus.ErrNotLeader.
//
// Only an error matching ErrUnreachable promises that cmd was not sent (no
// connection to addr could be made), so only that one, and a refusal, may
// be retried elsewhere. A connection that breaks during the call (the node
// killed, a partition) leaves the outcome unknown: the leader may have
// appended cmd, and it may commit. That gives consensus.ErrOutcomeUnknown,
// since proposing cmd again could apply it twice.
func (p *Pool) ApplyOn(ctx context.Context, addr string, cmd []byte, origin, requestID string) (uint64, []byte, error) {
	conn, err := p.readyConn(ctx, addr)
	if err != nil {
		return 0, nil, fmt.Errorf("apply on %s: %w", addr, err)
	}
	resp, err := edgev1.NewNodeClient(conn).Apply(ctx, &edgev1.ApplyRequest{Command: cmd, OriginNode: origin, RequestId: requestID})
	if err != nil {
		if status.Code(err) == codes.Unavailable {
			return 0, nil, fmt.Errorf("apply on %s: %w (%v)", addr, consensus.ErrOutcomeUnknown, err)
		}
		return 0, nil, fmt.Errorf("apply on %s: %w", addr, fromRPCError(err))
	}
	return resp.GetIndex(), resp.GetResult(), nil
}

// fromRPCError turns a gRPC call error into this package's errors where one
// fits: *consensus.NotLeaderError, consensus.ErrOutcomeUnknown,
// ErrUnreachable, or the context's error.
func fromRPCError(err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	if nle := notLeaderFromStatus(st); nle != nil {
		return nle
	}
	switch st.Code() {
	case codes.Aborted:
		if st.Message() == outcomeUnknownMessage {
			return fmt.Errorf("apply: %w", consensus.ErrOutcomeUnknown)
		}
	case codes.Unavailable:
		return fmt.Errorf("%w: %s", ErrUnreachable, st.Message())
	case codes.DeadlineExceeded:
		return fmt.Errorf("%s: %w", st.Message(), context.DeadlineExceeded)
	case codes.Canceled:
		return fmt.Errorf("%s: %w", st.Message(), context.Canceled)
	}
	return err
}
