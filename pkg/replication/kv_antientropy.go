package replication

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/edgeplane/edgeplane/pkg/hlc"
	"github.com/edgeplane/edgeplane/pkg/kv"
	edgev1 "github.com/edgeplane/edgeplane/proto/edge/v1"
)

// Anti-entropy bounds: buckets compared at once, keys per Fetch call, and
// the longest one round against a peer may take.
const (
	syncParallel   = 8
	fetchKeysChunk = 256
	syncTimeout    = 2 * time.Minute
)

// antiEntropyLoop pulls from one random live peer every AntiEntropyEvery.
// Since every node pulls from random peers, differences resolve both ways.
func (r *KVReplicator) antiEntropyLoop(ctx context.Context) {
	t := time.NewTicker(r.cfg.AntiEntropyEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var peers []Peer
		for _, p := range r.cfg.Peers() {
			if p.ID != r.cfg.NodeID && p.GRPCAddr != "" {
				peers = append(peers, p)
			}
		}
		if len(peers) == 0 {
			continue
		}
		peer := peers[rand.IntN(len(peers))]
		rctx, cancel := context.WithTimeout(ctx, syncTimeout)
		start := time.Now()
		n, err := r.SyncWith(rctx, peer)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				r.log.Info("kv anti-entropy round failed", "peer", peer.ID, "repaired", n, "err", err)
			}
			continue
		}
		level := slogDebugOrInfo(n)
		r.log.Log(ctx, level, "kv anti-entropy round", "peer", peer.ID, "repaired", n, "took", time.Since(start))
	}
}

// SyncWith runs one anti-entropy round against peer: for every namespace
// the peer holds, compare bucket digests; for each differing bucket compare
// versions, fetch the entries whose remote version is newer (or absent
// here) and apply them. It returns how many entries it applied. Namespaces
// only this node holds have nothing to pull; the peer pulls them in its own
// rounds.
func (r *KVReplicator) SyncWith(ctx context.Context, peer Peer) (repaired int, err error) {
	defer func() {
		result := "ok"
		if err != nil {
			result = "error"
		}
		r.metrics.rounds.WithLabelValues(result).Inc()
		r.metrics.repaired.Add(float64(repaired))
	}()
	conn, err := r.cfg.Pool.Conn(peer.GRPCAddr)
	if err != nil {
		return 0, fmt.Errorf("kv sync with %s: connect: %w", peer.ID, err)
	}
	client := edgev1.NewKVClient(conn)
	nsResp, err := client.Namespaces(ctx, &edgev1.NamespacesRequest{})
	if err != nil {
		return 0, fmt.Errorf("kv sync with %s: namespaces: %w", peer.ID, err)
	}
	for _, ns := range nsResp.GetNamespaces() {
		n, err := r.syncNamespace(ctx, client, ns)
		repaired += n
		if err != nil {
			return repaired, fmt.Errorf("kv sync with %s: namespace %q: %w", peer.ID, ns, err)
		}
	}
	return repaired, nil
}

func (r *KVReplicator) syncNamespace(ctx context.Context, client edgev1.KVClient, ns string) (int, error) {
	remote, err := client.Digest(ctx, &edgev1.DigestRequest{Ns: ns})
	if err != nil {
		return 0, fmt.Errorf("remote digest: %w", err)
	}
	local, err := r.cfg.Local.Digest(ns)
	if err != nil {
		return 0, fmt.Errorf("local digest: %w", err)
	}
	var differing []int
	for b, h := range remote.GetBuckets() {
		if b >= len(local) || local[b] != h {
			differing = append(differing, b)
		}
	}
	if len(differing) == 0 {
		return 0, nil
	}
	var (
		mu       sync.Mutex
		repaired int
		firstErr error
		wg       sync.WaitGroup
	)
	work := make(chan int)
	for range min(syncParallel, len(differing)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				n, err := r.syncBucket(ctx, client, ns, b)
				mu.Lock()
				repaired += n
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for _, b := range differing {
		select {
		case work <- b:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return repaired, firstErr
}

// syncBucket pulls the entries of one bucket that are newer on the peer.
func (r *KVReplicator) syncBucket(ctx context.Context, client edgev1.KVClient, ns string, bucket int) (int, error) {
	remote, err := client.BucketVersions(ctx, &edgev1.BucketVersionsRequest{Ns: ns, Bucket: uint32(bucket)})
	if err != nil {
		return 0, fmt.Errorf("remote bucket %d: %w", bucket, err)
	}
	local, err := r.cfg.Local.BucketVersions(ns, bucket)
	if err != nil {
		return 0, fmt.Errorf("local bucket %d: %w", bucket, err)
	}
	keys, versions := remote.GetKeys(), remote.GetVersions()
	if len(keys) != len(versions) {
		return 0, fmt.Errorf("remote bucket %d: %d keys but %d versions", bucket, len(keys), len(versions))
	}
	var want []string
	for i, k := range keys {
		rv := kv.Version{HLC: hlc.Timestamp(versions[i].GetHlc()), Node: versions[i].GetNode()}
		if lv, ok := local[k]; !ok || rv.Compare(lv) > 0 {
			want = append(want, k)
		}
	}
	return r.fetchApply(ctx, client, ns, want)
}

// fetchApply fetches keys from the peer in bounded chunks and applies them.
func (r *KVReplicator) fetchApply(ctx context.Context, client edgev1.KVClient, ns string, keys []string) (int, error) {
	applied := 0
	for len(keys) > 0 {
		chunk := keys[:min(fetchKeysChunk, len(keys))]
		resp, err := client.Fetch(ctx, &edgev1.FetchRequest{Ns: ns, Keys: chunk})
		if err != nil {
			return applied, fmt.Errorf("fetch: %w", err)
		}
		covered := int(resp.GetCovered())
		if covered <= 0 || covered > len(chunk) {
			return applied, fmt.Errorf("fetch: peer covered %d of %d keys", covered, len(chunk))
		}
		n, err := r.applyRemote(entriesFromProto(resp.GetEntries()))
		applied += n
		if err != nil {
			return applied, fmt.Errorf("apply fetched entries: %w", err)
		}
		keys = keys[covered:]
	}
	return applied, nil
}

// slogDebugOrInfo logs rounds that repaired something at info, quiet ones
// at debug.
func slogDebugOrInfo(repaired int) slog.Level {
	if repaired > 0 {
		return slog.LevelInfo
	}
	return slog.LevelDebug
}
