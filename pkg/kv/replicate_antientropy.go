package kv

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/edgeplane/edgeplane/pkg/hlc"
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
func (r *Replicator) antiEntropyLoop(ctx context.Context) {
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
func (r *Replicator) SyncWith(ctx context.Context, peer Peer) (repaired int, err error) {
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
		n, err := r.syncNamespace(ctx, client, peer.ID, ns)
		repaired += n
		if err != nil {
			return repaired, fmt.Errorf("kv sync with %s: namespace %q: %w", peer.ID, ns, err)
		}
	}
	return repaired, nil
}

func (r *Replicator) syncNamespace(ctx context.Context, client edgev1.KVClient, peer, ns string) (int, error) {
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
	// Differing buckets go to the peer in groups, so each side scans the
	// namespace once per group rather than once per bucket.
	var groups [][]int
	for len(differing) > 0 {
		n := min(maxBucketsPerCall, len(differing))
		groups = append(groups, differing[:n])
		differing = differing[n:]
	}
	var (
		mu       sync.Mutex
		repaired int
		firstErr error
		wg       sync.WaitGroup
	)
	work := make(chan []int)
	for range min(syncParallel, len(groups)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for g := range work {
				n, err := r.syncBuckets(ctx, client, peer, ns, g)
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
	for _, g := range groups {
		select {
		case work <- g:
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

// syncBuckets pulls the entries of some buckets that are newer on the
// peer, asking again for the buckets an answer did not cover.
func (r *Replicator) syncBuckets(ctx context.Context, client edgev1.KVClient, peer, ns string, buckets []int) (int, error) {
	repaired := 0
	for len(buckets) > 0 {
		list := make([]uint32, len(buckets))
		for i, b := range buckets {
			list[i] = uint32(b)
		}
		remote, err := client.BucketVersions(ctx, &edgev1.BucketVersionsRequest{Ns: ns, Bucket: list[0], Buckets: list})
		if err != nil {
			return repaired, fmt.Errorf("remote buckets %v: %w", buckets, err)
		}
		covered := int(remote.GetCovered())
		if covered == 0 { // a node that knows only field 2 answered its bucket
			covered = 1
		}
		if covered > len(buckets) {
			return repaired, fmt.Errorf("remote buckets: peer covered %d of %d", covered, len(buckets))
		}
		byBucket, err := r.cfg.Local.BucketsVersions(ns, buckets[:covered])
		if err != nil {
			return repaired, fmt.Errorf("local buckets %v: %w", buckets[:covered], err)
		}
		local := make(map[string]Version)
		for _, m := range byBucket {
			maps.Copy(local, m)
		}
		keys, versions := remote.GetKeys(), remote.GetVersions()
		if len(keys) != len(versions) {
			return repaired, fmt.Errorf("remote buckets: %d keys but %d versions", len(keys), len(versions))
		}
		var want []string
		for i, k := range keys {
			rv := Version{HLC: hlc.Timestamp(versions[i].GetHlc()), Node: versions[i].GetNode()}
			lv, ok := local[k]
			if !ok || rv.Compare(lv) > 0 {
				want = append(want, k)
			}
		}
		n, err := r.fetchApply(ctx, client, peer, ns, want)
		repaired += n
		if err != nil {
			return repaired, err
		}
		buckets = buckets[covered:]
	}
	return repaired, nil
}

// fetchApply fetches keys from the peer in bounded chunks and applies them.
func (r *Replicator) fetchApply(ctx context.Context, client edgev1.KVClient, peer, ns string, keys []string) (int, error) {
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
		n, err := r.applyRemote(r.filterReplicated(entriesFromProto(resp.GetEntries()), "fetch", peer))
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
