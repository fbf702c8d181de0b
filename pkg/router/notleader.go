package router

import (
	"errors"

	"github.com/edgeplane/edgeplane/pkg/consensus"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	edgev1 "github.com/edgeplane/edgeplane/proto/edge/v1"
)

// notLeaderMessage is the status message of a not-leader refusal.
const notLeaderMessage = "not leader"

// outcomeUnknownMessage is the status message (code Aborted) of an Apply
// whose leader lost leadership while committing: the command may or may not
// be applied, and the caller must not propose it again blindly.
const outcomeUnknownMessage = "outcome unknown: leadership lost while committing"

// notLeaderStatus builds the wire form of a not-leader refusal: status
// FailedPrecondition, message "not leader", an edgev1.NotLeader detail with
// the leader's node id (its addresses are the receiver's to look up in
// membership: one id, no address of the wrong kind).
func notLeaderStatus(err error) *status.Status {
	detail := &edgev1.NotLeader{}
	var nle *consensus.NotLeaderError
	if errors.As(err, &nle) {
		detail.LeaderId = nle.LeaderID
	}
	st := status.New(codes.FailedPrecondition, notLeaderMessage)
	if withDetail, derr := st.WithDetails(detail); derr == nil {
		return withDetail
	}
	return st
}

// notLeaderFromStatus returns the *consensus.NotLeaderError that st
// encodes, or nil when st is not a not-leader refusal.
func notLeaderFromStatus(st *status.Status) *consensus.NotLeaderError {
	if st.Code() != codes.FailedPrecondition || st.Message() != notLeaderMessage {
		return nil
	}
	nle := &consensus.NotLeaderError{}
	for _, d := range st.Details() {
		if nl, ok := d.(*edgev1.NotLeader); ok {
			nle.LeaderID = nl.GetLeaderId()
		}
	}
	return nle
}
