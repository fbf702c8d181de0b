package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/edgeplane/edgeplane/pkg/tlsutil"
	edgev1 "github.com/edgeplane/edgeplane/proto/edge/v1"
)

// stateChunkBytes is the size of entries past which a state chunk is sent:
// a chunk is at most this plus one entry (MaxEntryBytes), well under
// router.MaxMessageBytes.
const stateChunkBytes = 4 << 20

// server is the replica side: the DOReplica gRPC service.
type server struct {
	edgev1.UnimplementedDOReplicaServer
	r *Replicator
}

var _ edgev1.DOReplicaServer = (*server)(nil)

// invalid turns a validation error into an InvalidArgument status.
func invalid(rpc string, err error) error {
	return status.Errorf(codes.InvalidArgument, "do %s: %v", rpc, err)
}

// checkCall validates the object and ballot every call carries and that
// the ballot is the caller's: a node may only write under its own ballots.
// Without TLS there is no verified caller (a loopback or --insecure
// cluster); the member check of the server's interceptor applies with it.
func checkCall(ctx context.Context, rpc, obj string, b Ballot) error {
	if err := ValidateObj(obj); err != nil {
		return invalid(rpc, err)
	}
	if err := validateBallot(b); err != nil {
		return invalid(rpc, err)
	}
	if caller, ok := tlsutil.CallerNodeID(ctx); ok && caller != b.Node {
		return status.Errorf(codes.PermissionDenied, "do %s: node %q may not use a ballot of %q", rpc, caller, b.Node)
	}
	return nil
}

// Prepare promises b when it is at least the current promise.
func (s *server) Prepare(ctx context.Context, req *edgev1.DOPrepareRequest) (*edgev1.DOPrepareResponse, error) {
	b := ballotFromProto(req.GetBallot())
	if err := checkCall(ctx, "prepare", req.GetObj(), b); err != nil {
		s.r.m.served("prepare", "invalid")
		return nil, err
	}
	ok, m, err := s.r.store.Promise(req.GetObj(), b)
	if err != nil {
		s.r.m.served("prepare", "error")
		return nil, status.Errorf(codes.Unavailable, "do prepare: %v", err)
	}
	s.r.m.served("prepare", map[bool]string{true: "ok", false: "superseded"}[ok])
	return &edgev1.DOPrepareResponse{Ok: ok, Info: infoToProto(m)}, nil
}

// acceptRequest validates an Accept request and converts it.
func acceptRequest(ctx context.Context, req *edgev1.DOAcceptRequest) (AcceptRequest, error) {
	b := ballotFromProto(req.GetBallot())
	if err := checkCall(ctx, "accept", req.GetObj(), b); err != nil {
		return AcceptRequest{}, err
	}
	base := ballotFromProto(req.GetBaseBallot())
	if !base.IsZero() {
		if err := validateBallot(base); err != nil {
			return AcceptRequest{}, invalid("accept", fmt.Errorf("base ballot: %w", err))
		}
		if b.Less(base) {
			return AcceptRequest{}, invalid("accept", fmt.Errorf("base ballot %s above the ballot %s: %w", base, b, ErrInvalid))
		}
	} else if req.GetBaseSeq() != 0 {
		return AcceptRequest{}, invalid("accept", fmt.Errorf("sequence %d without a base ballot: %w", req.GetBaseSeq(), ErrInvalid))
	}
	ops := opsFromProto(req.GetOps())
	switch {
	case len(ops) == 0:
		if req.GetSeq() != req.GetBaseSeq() {
			return AcceptRequest{}, invalid("accept", fmt.Errorf("no ops, sequence %d after base %d: %w", req.GetSeq(), req.GetBaseSeq(), ErrInvalid))
		}
	default:
		if req.GetSeq() != req.GetBaseSeq()+1 || req.GetSeq() == 0 {
			return AcceptRequest{}, invalid("accept", fmt.Errorf("sequence %d after base %d: %w", req.GetSeq(), req.GetBaseSeq(), ErrInvalid))
		}
		if base != b {
			return AcceptRequest{}, invalid("accept", fmt.Errorf("ops on a base of ballot %s under %s: %w", base, b, ErrInvalid))
		}
		if err := ValidateOps(ops); err != nil {
			return AcceptRequest{}, invalid("accept", err)
		}
	}
	if err := ValidateReplicas(req.GetReplicas()); err != nil {
		return AcceptRequest{}, invalid("accept", err)
	}
	return AcceptRequest{Ballot: b, BaseBallot: base, BaseSeq: req.GetBaseSeq(), Seq: req.GetSeq(), Ops: ops,
		Replicas: req.GetReplicas()}, nil
}

// Accept applies one write (or adopts a state under a new ballot).
func (s *server) Accept(ctx context.Context, req *edgev1.DOAcceptRequest) (*edgev1.DOAcceptResponse, error) {
	ar, err := acceptRequest(ctx, req)
	if err != nil {
		s.r.m.served("accept", "invalid")
		return nil, err
	}
	res, m, err := s.r.store.Accept(req.GetObj(), ar)
	if err != nil {
		s.r.m.served("accept", "error")
		return nil, status.Errorf(codes.Unavailable, "do accept: %v", err)
	}
	s.r.m.served("accept", resultLabel(res))
	return &edgev1.DOAcceptResponse{Ok: res == Accepted, Superseded: res == Superseded, Info: infoToProto(m)}, nil
}

func resultLabel(r AcceptResult) string {
	switch r {
	case Accepted:
		return "ok"
	case Superseded:
		return "superseded"
	}
	return "mismatch"
}

// FetchState streams this node's state of an object to the holder of a
// ballot at least the promised one.
func (s *server) FetchState(req *edgev1.DOFetchStateRequest, st edgev1.DOReplica_FetchStateServer) error {
	b := ballotFromProto(req.GetBallot())
	if err := checkCall(st.Context(), "fetch", req.GetObj(), b); err != nil {
		s.r.m.served("fetch", "invalid")
		return err
	}
	snap, err := s.r.store.snapshot()
	if err != nil {
		s.r.m.served("fetch", "error")
		return status.Errorf(codes.Unavailable, "do fetch: %v", err)
	}
	defer snap.Close()
	m, err := snap.Meta(req.GetObj())
	if err != nil {
		s.r.m.served("fetch", "error")
		return status.Errorf(codes.Unavailable, "do fetch: %v", err)
	}
	if b.Less(m.Promised) {
		s.r.m.served("fetch", "superseded")
		return status.Errorf(codes.FailedPrecondition, "do fetch %q: promised %s, above %s", req.GetObj(), m.Promised, b)
	}
	if err := sendState(snap, req.GetObj(), b, m, m.Replicas, st.Send); err != nil {
		s.r.m.served("fetch", "error")
		return err
	}
	s.r.m.served("fetch", "ok")
	return nil
}

// sendState sends obj's state from snap as chunks: the header in the
// first, up to stateChunkBytes of entries in each, last set on the last.
// replicas is the set recorded in the header.
func sendState(snap snapshot, obj string, b Ballot, m Meta, replicas []string, send func(*edgev1.DOStateChunk) error) error {
	var count uint64
	if err := snap.Scan(obj, func(string, []byte) bool { count++; return true }); err != nil {
		return err
	}
	chunk := &edgev1.DOStateChunk{Obj: obj, Ballot: ballotToProto(b), Accepted: ballotToProto(m.Accepted),
		Seq: m.Seq, Replicas: replicas, Alarm: m.Alarm, TotalEntries: count}
	size := 0
	var sendErr error
	err := snap.Scan(obj, func(k string, v []byte) bool {
		chunk.Entries = append(chunk.Entries, &edgev1.DOEntry{Key: k, Value: append([]byte(nil), v...)})
		size += len(k) + len(v)
		if size >= stateChunkBytes {
			if sendErr = send(chunk); sendErr != nil {
				return false
			}
			chunk, size = &edgev1.DOStateChunk{Obj: obj}, 0
		}
		return true
	})
	if err != nil {
		return err
	}
	if sendErr != nil {
		return fmt.Errorf("do send state %q: %w", obj, sendErr)
	}
	chunk.Last = true
	if err := send(chunk); err != nil {
		return fmt.Errorf("do send state %q: %w", obj, err)
	}
	return nil
}

// receiveState reads one object's state from chunks, checking every field
// as strictly as a write: the object and ballot of the first chunk on
// every chunk, keys in strictly increasing order, entry limits, the total
// within limit bytes and the announced count. check validates the header.
func receiveState(recv func() (*edgev1.DOStateChunk, error), limit int64, check func(obj string, b Ballot) error) (string, Ballot, State, error) {
	first, err := recv()
	if err != nil {
		return "", Ballot{}, State{}, err
	}
	obj, b := first.GetObj(), ballotFromProto(first.GetBallot())
	if err := check(obj, b); err != nil {
		return "", Ballot{}, State{}, err
	}
	st := State{Meta: Meta{Accepted: ballotFromProto(first.GetAccepted()), Seq: first.GetSeq(), Alarm: first.GetAlarm(),
		Replicas: first.GetReplicas()}}
	if err := validInfo(st.Meta); err != nil {
		return "", Ballot{}, State{}, fmt.Errorf("state header: %w", err)
	}
	if len(st.Meta.Replicas) == 0 {
		return "", Ballot{}, State{}, fmt.Errorf("state header without a replica set: %w", ErrInvalid)
	}
	if st.Meta.Alarm < 0 {
		return "", Ballot{}, State{}, fmt.Errorf("state header: negative alarm: %w", ErrInvalid)
	}
	total := first.GetTotalEntries()
	var size int64
	c := first
	for {
		if c.GetObj() != obj || (c != first && (c.GetBallot() != nil || c.GetAccepted() != nil || c.GetSeq() != 0 ||
			len(c.GetReplicas()) != 0 || c.GetAlarm() != 0 || c.GetTotalEntries() != 0)) {
			return "", Ballot{}, State{}, fmt.Errorf("state chunk of %q: header fields past the first chunk: %w", obj, ErrInvalid)
		}
		for _, e := range c.GetEntries() {
			op := Op{Kind: OpPut, Key: e.GetKey(), Value: e.GetValue()}
			if err := op.Validate(); err != nil {
				return "", Ballot{}, State{}, fmt.Errorf("state of %q: %w", obj, err)
			}
			if n := len(st.Entries); n > 0 && st.Entries[n-1].Key >= op.Key {
				return "", Ballot{}, State{}, fmt.Errorf("state of %q: keys out of order: %w", obj, ErrInvalid)
			}
			if uint64(len(st.Entries)) >= total {
				return "", Ballot{}, State{}, fmt.Errorf("state of %q: more than the %d entries announced: %w", obj, total, ErrInvalid)
			}
			size += int64(len(op.Key) + len(op.Value))
			if size > limit {
				return "", Ballot{}, State{}, fmt.Errorf("state of %q: over %d bytes: %w", obj, limit, ErrInvalid)
			}
			st.Entries = append(st.Entries, Entry{Key: op.Key, Value: op.Value})
		}
		if c.GetLast() {
			break
		}
		if c, err = recv(); err != nil {
			if errors.Is(err, io.EOF) {
				return "", Ballot{}, State{}, fmt.Errorf("state of %q ends before its last chunk: %w", obj, ErrInvalid)
			}
			return "", Ballot{}, State{}, err
		}
	}
	if uint64(len(st.Entries)) != total {
		return "", Ballot{}, State{}, fmt.Errorf("state of %q: %d entries, %d announced: %w", obj, len(st.Entries), total, ErrInvalid)
	}
	return obj, b, st, nil
}

// InstallState replaces this node's state of an object with the streamed
// one, when the ballot is still at least the promised one.
func (s *server) InstallState(st edgev1.DOReplica_InstallStateServer) error {
	obj, b, state, err := receiveState(st.Recv, s.r.store.StorageCap(), func(obj string, b Ballot) error {
		return checkCall(st.Context(), "install", obj, b)
	})
	if err != nil {
		s.r.m.served("install", "invalid")
		if errors.Is(err, ErrInvalid) {
			return invalid("install", err)
		}
		return err
	}
	if state.Meta.Accepted != b {
		s.r.m.served("install", "invalid")
		return invalid("install", fmt.Errorf("state accepted under %s, installed under %s: %w", state.Meta.Accepted, b, ErrInvalid))
	}
	res, m, err := s.r.store.Install(obj, b, state)
	if err != nil {
		s.r.m.served("install", "error")
		return status.Errorf(codes.Unavailable, "do install: %v", err)
	}
	s.r.m.served("install", resultLabel(res))
	return st.SendAndClose(&edgev1.DOAcceptResponse{Ok: res == Accepted, Superseded: res == Superseded, Info: infoToProto(m)})
}
