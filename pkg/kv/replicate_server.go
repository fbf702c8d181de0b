package kv

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	edgev1 "github.com/edgeplane/edgeplane/proto/edge/v1"
)

// Bounds of one Fetch answer: keys are read from the store in chunks, and
// reading stops once the answer weighs fetchAnswerBytes (staying well under
// router.MaxMessageBytes unless one entry alone is larger).
const (
	fetchReadChunk   = 32
	fetchAnswerBytes = 8 << 20
)

// Bounds of one BucketVersions call: buckets asked for at once, and keys
// past which the answer stops adding buckets (about 4 MiB of keys and
// versions at 40 bytes a key).
const (
	maxBucketsPerCall = 64
	bucketAnswerKeys  = 100_000
)

// replServer is the server side of the KV gRPC service.
type replServer struct {
	edgev1.UnimplementedKVServer
	r *Replicator
}

var _ edgev1.KVServer = (*replServer)(nil)

// Push applies each batch of the stream in order and acks it once durable.
func (s *replServer) Push(st edgev1.KV_PushServer) error {
	for {
		b, err := st.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		// Bad entries are dropped (counted, logged at ERROR) and the batch
		// is acknowledged: refusing the stream would make the sender resend
		// them forever and stall every later write behind them.
		entries := s.r.filterReplicated(entriesFromProto(b.GetEntries()), "push-in", b.GetOriginNode())
		applied, err := s.r.applyRemote(entries)
		if err != nil {
			return status.Errorf(codes.Unavailable, "kv push: apply batch %d: %v", b.GetSeq(), err)
		}
		if err := st.Send(&edgev1.PushAck{Seq: b.GetSeq(), Applied: uint32(applied)}); err != nil {
			return err
		}
	}
}

// Namespaces lists the namespaces this node holds entries for.
func (s *replServer) Namespaces(context.Context, *edgev1.NamespacesRequest) (*edgev1.NamespacesResponse, error) {
	ns, err := s.r.cfg.Local.Namespaces()
	if err != nil {
		return nil, status.Errorf(codes.Internal, "kv namespaces: %v", err)
	}
	return &edgev1.NamespacesResponse{Namespaces: ns}, nil
}

// Digest returns the bucket hashes of one namespace.
func (s *replServer) Digest(_ context.Context, req *edgev1.DigestRequest) (*edgev1.DigestResponse, error) {
	d, err := s.r.cfg.Local.Digest(req.GetNs())
	if err != nil {
		return nil, status.Errorf(codes.Internal, "kv digest %q: %v", req.GetNs(), err)
	}
	return &edgev1.DigestResponse{Buckets: d}, nil
}

// BucketVersions lists the keys of the requested buckets, sorted, with
// their versions: the buckets of the list in order, after the first while
// the answer stays within bucketAnswerKeys keys, all from one scan of the
// namespace.
func (s *replServer) BucketVersions(_ context.Context, req *edgev1.BucketVersionsRequest) (*edgev1.BucketVersionsResponse, error) {
	list := req.GetBuckets()
	if len(list) == 0 {
		list = []uint32{req.GetBucket()}
	}
	if len(list) > maxBucketsPerCall {
		return nil, status.Errorf(codes.InvalidArgument, "kv bucket versions %q: %d buckets, at most %d", req.GetNs(), len(list), maxBucketsPerCall)
	}
	buckets := make([]int, len(list))
	for i, b := range list {
		buckets[i] = int(b)
	}
	all, err := s.r.cfg.Local.BucketsVersions(req.GetNs(), buckets)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "kv bucket versions %q: %v", req.GetNs(), err)
	}
	type kver struct {
		key string
		v   Version
	}
	var out []kver
	covered := 0
	for i, b := range buckets {
		vs := all[b]
		if i > 0 && len(out)+len(vs) > s.r.answerKeys {
			break
		}
		for k, v := range vs {
			out = append(out, kver{k, v})
		}
		covered = i + 1
	}
	slices.SortFunc(out, func(a, b kver) int { return strings.Compare(a.key, b.key) })
	resp := &edgev1.BucketVersionsResponse{Keys: make([]string, len(out)), Versions: make([]*edgev1.KVVersion, len(out)),
		Covered: uint32(covered)}
	for i, e := range out {
		resp.Keys[i] = e.key
		resp.Versions[i] = &edgev1.KVVersion{Hlc: uint64(e.v.HLC), Node: e.v.Node}
	}
	return resp, nil
}

// Fetch returns the entries of a prefix of the keys asked for, bounded in
// bytes; covered says how many keys the answer accounts for.
func (s *replServer) Fetch(_ context.Context, req *edgev1.FetchRequest) (*edgev1.FetchResponse, error) {
	keys := req.GetKeys()
	resp := &edgev1.FetchResponse{}
	bytes := 0
	for i := 0; i < len(keys) && bytes < fetchAnswerBytes; i += fetchReadChunk {
		chunk := keys[i:min(i+fetchReadChunk, len(keys))]
		es, err := s.r.cfg.Local.GetMany(req.GetNs(), chunk)
		if err != nil {
			return nil, status.Errorf(codes.Internal, "kv fetch %q: %v", req.GetNs(), err)
		}
		for _, e := range es {
			bytes += entrySize(e)
			resp.Entries = append(resp.Entries, entryToProto(e))
		}
		resp.Covered += uint32(len(chunk))
	}
	return resp, nil
}

// applyRemote applies entries from a peer and records the replication lag
// of those that won; it returns how many won.
func (r *Replicator) applyRemote(entries []Entry) (int, error) {
	if len(entries) == 0 {
		return 0, nil
	}
	applied, err := r.cfg.Local.ApplyRemote(entries)
	if err != nil {
		return 0, err
	}
	now := r.now()
	n := 0
	for i, ok := range applied {
		if !ok || i >= len(entries) {
			continue
		}
		n++
		e := entries[i]
		lag := max(now.Sub(e.Version.HLC.Time()).Seconds(), 0)
		r.metrics.lag.WithLabelValues(e.Version.Node, r.cfg.RegionOf(e.Version.Node)).Observe(lag)
	}
	return n, nil
}
