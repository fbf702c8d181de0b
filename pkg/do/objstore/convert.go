package objstore

import (
	edgev1 "github.com/edgeplane/edgeplane/proto/edge/v1"
)

func ballotToProto(b Ballot) *edgev1.DOBallot {
	return &edgev1.DOBallot{Counter: b.Counter, Node: b.Node}
}

func ballotFromProto(b *edgev1.DOBallot) Ballot {
	return Ballot{Counter: b.GetCounter(), Node: b.GetNode()}
}

func infoToProto(m Meta) *edgev1.DOReplicaInfo {
	return &edgev1.DOReplicaInfo{
		Promised: ballotToProto(m.Promised), Accepted: ballotToProto(m.Accepted),
		Seq: m.Seq, Replicas: m.Replicas,
	}
}

// infoFromProto is what a replica says it holds. Only Promised, Accepted,
// Seq and Replicas travel.
func infoFromProto(i *edgev1.DOReplicaInfo) Meta {
	return Meta{
		Promised: ballotFromProto(i.GetPromised()), Accepted: ballotFromProto(i.GetAccepted()),
		Seq: i.GetSeq(), Replicas: i.GetReplicas(),
	}
}

func opsToProto(ops []Op) []*edgev1.DOOp {
	out := make([]*edgev1.DOOp, len(ops))
	for i, op := range ops {
		out[i] = &edgev1.DOOp{Kind: uint32(op.Kind), Key: op.Key, Value: op.Value}
	}
	return out
}

// opsFromProto converts ops; a kind that does not fit OpKind becomes 0,
// which validation refuses.
func opsFromProto(ops []*edgev1.DOOp) []Op {
	out := make([]Op, len(ops))
	for i, op := range ops {
		k := op.GetKind()
		if k > 255 {
			k = 0
		}
		out[i] = Op{Kind: OpKind(k), Key: op.GetKey(), Value: op.GetValue()}
	}
	return out
}

// validInfo reports whether a replica's answer is well formed: its ballots
// and replica set pass the same checks as a request's.
func validInfo(m Meta) error {
	for _, b := range []Ballot{m.Promised, m.Accepted} {
		if !b.IsZero() {
			if err := validateBallot(b); err != nil {
				return err
			}
		}
	}
	if len(m.Replicas) > 0 {
		return ValidateReplicas(m.Replicas)
	}
	return nil
}
