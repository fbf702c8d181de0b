package kv

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
)

// ReplicaLocal is this node's KV as replication sees it (Service and Store
// provide these; the integrator adapts them).
type ReplicaLocal interface {
	// ApplyRemote stores entries that won last-writer-wins, durably, and
	// reports for each whether it was applied. It must not publish them again.
	ApplyRemote(entries []Entry) ([]bool, error)
	// Namespaces lists the namespaces that hold entries (tombstones count).
	Namespaces() ([]string, error)
	// Digest returns one hash per bucket of ns; every node must bucket and
	// hash identically, and an empty namespace digests to zeros.
	Digest(ns string) ([]uint64, error)
	// BucketsVersions returns, for each of buckets, the version of every
	// key (tombstones included) of ns in that bucket, in one scan of ns.
	BucketsVersions(ns string, buckets []int) (map[int]map[string]Version, error)
	// GetMany returns the stored entries (tombstones included) of the keys
	// present; absent keys are left out.
	GetMany(ns string, keys []string) ([]Entry, error)
}

// Peer is a live member to replicate with.
type Peer struct {
	ID, Region, GRPCAddr string
}

// ConnPool hands out a shared client connection per gRPC address.
// *router.Pool satisfies it through its Conn method.
type ConnPool interface {
	Conn(addr string) (grpc.ClientConnInterface, error)
}

// Defaults of ReplicatorConfig.
const (
	DefaultKVBatchMax         = 512
	DefaultKVFlushEvery       = 5 * time.Millisecond
	DefaultKVQueueMax         = 100_000
	DefaultKVAntiEntropyEvery = 10 * time.Second
	DefaultKVPeerRefreshEvery = time.Second
	DefaultKVMaxBackoff       = 5 * time.Second
	// DefaultKVBatchBytes bounds the value and metadata bytes of one push
	// batch, well under router.MaxMessageBytes; a single larger entry still
	// travels alone.
	DefaultKVBatchBytes = 4 << 20
	// DefaultKVInflight is how many push batches may await their ack.
	DefaultKVInflight = 4
)

// ReplicatorConfig configures a Replicator.
type ReplicatorConfig struct {
	// NodeID is this node's id.
	NodeID string
	// Local is this node's KV.
	Local ReplicaLocal
	// Peers returns the live peers, this node excluded.
	Peers func() []Peer
	// Pool gives client connections to peers (a *router.Pool).
	Pool ConnPool
	// BatchMax caps the entries of one push batch (512).
	BatchMax int
	// BatchBytes caps the value+metadata bytes of one push batch (4 MiB).
	BatchBytes int
	// FlushEvery is how long a sender waits for a batch to fill (5 ms).
	FlushEvery time.Duration
	// QueueMax caps each peer's queue; when full the oldest entry is dropped
	// and left to anti-entropy (100,000).
	QueueMax int
	// Inflight caps the push batches awaiting their ack per peer (4).
	Inflight int
	// AntiEntropyEvery is the period of anti-entropy rounds (10 s).
	AntiEntropyEvery time.Duration
	// PeerRefreshEvery is how often Peers is read to start and stop senders (1 s).
	PeerRefreshEvery time.Duration
	// MaxBackoff caps the delay between reconnections of a push stream (5 s).
	MaxBackoff time.Duration
	// RegionOf names the region of a node id, for the lag metric; nil
	// means unknown ("").
	RegionOf func(nodeID string) string
	// Registerer receives the metrics; nil means a private registry.
	Registerer prometheus.Registerer
	// Logger receives reconnects and round summaries; nil discards them.
	Logger *slog.Logger
}

// Defaults returns c with zero fields set to their defaults.
func (c ReplicatorConfig) Defaults() ReplicatorConfig {
	if c.BatchMax == 0 {
		c.BatchMax = DefaultKVBatchMax
	}
	if c.BatchBytes == 0 {
		c.BatchBytes = DefaultKVBatchBytes
	}
	if c.FlushEvery == 0 {
		c.FlushEvery = DefaultKVFlushEvery
	}
	if c.QueueMax == 0 {
		c.QueueMax = DefaultKVQueueMax
	}
	if c.Inflight == 0 {
		c.Inflight = DefaultKVInflight
	}
	if c.AntiEntropyEvery == 0 {
		c.AntiEntropyEvery = DefaultKVAntiEntropyEvery
	}
	if c.PeerRefreshEvery == 0 {
		c.PeerRefreshEvery = DefaultKVPeerRefreshEvery
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = DefaultKVMaxBackoff
	}
	if c.RegionOf == nil {
		c.RegionOf = func(string) string { return "" }
	}
	if c.Registerer == nil {
		c.Registerer = prometheus.NewRegistry()
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports a missing dependency or a setting that cannot work.
func (c ReplicatorConfig) Validate() error {
	var errs []error
	if c.NodeID == "" {
		errs = append(errs, errors.New("node id is empty"))
	}
	if c.Local == nil {
		errs = append(errs, errors.New("local kv is nil"))
	}
	if c.Peers == nil {
		errs = append(errs, errors.New("peers func is nil"))
	}
	if c.Pool == nil {
		errs = append(errs, errors.New("pool is nil"))
	}
	for _, p := range []struct {
		name string
		v    int64
	}{
		{"batch max", int64(c.BatchMax)}, {"batch bytes", int64(c.BatchBytes)},
		{"flush every", int64(c.FlushEvery)}, {"queue max", int64(c.QueueMax)},
		{"inflight", int64(c.Inflight)}, {"anti-entropy every", int64(c.AntiEntropyEvery)},
		{"peer refresh every", int64(c.PeerRefreshEvery)}, {"max backoff", int64(c.MaxBackoff)},
	} {
		if p.v <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive, got %d", p.name, p.v))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("kv replicator config: %w", err)
	}
	return nil
}
