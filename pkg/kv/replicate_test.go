package kv

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/edgeplane/edgeplane/pkg/hlc"
	edgev1 "github.com/edgeplane/edgeplane/proto/edge/v1"
)

func TestKVPushDeliversInBatches(t *testing.T) {
	peers := &testPeers{peers: map[string]Peer{}}
	pool := newTestPool(t)
	a := newTestNode(t, "a", peers, pool, nil)
	b := newTestNode(t, "b", peers, pool, nil)
	waitSender(t, a, "b")
	const n = 3000
	for i := range n {
		a.write("ns1", fmt.Sprintf("key-%05d", i), fmt.Sprint("v", i), i%10 == 9)
	}
	eventually(t, 10*time.Second, "b equals a", func() bool { return b.local.dump() == a.local.dump() })
	calls, _ := b.local.counters()
	if calls > n/10 {
		t.Errorf("b applied %d entries in %d calls; want batches (at most %d calls)", n, calls, n/10)
	}
	if got := histogramCount(t, b, "edge_kv_replication_lag_seconds"); got != n {
		t.Errorf("lag histogram counted %d applies, want %d", got, n)
	}
	eventually(t, 5*time.Second, "pending back to 0", func() bool {
		return metricValue(t, a.rep.metrics.pending.WithLabelValues("b")) == 0
	})
}

func TestKVThreeReplicatorsConverge(t *testing.T) {
	peers := &testPeers{peers: map[string]Peer{}}
	pool := newTestPool(t)
	fast := func(c *ReplicatorConfig) { c.AntiEntropyEvery = 200 * time.Millisecond }
	nodes := []*testNode{
		newTestNode(t, "n1", peers, pool, fast),
		newTestNode(t, "n2", peers, pool, fast),
		newTestNode(t, "n3", peers, pool, fast),
	}
	for _, n := range nodes {
		for _, p := range nodes {
			if p != n {
				waitSender(t, n, p.id)
			}
		}
	}
	var mu sync.Mutex
	var all []Entry
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 42))
			for j := range 400 {
				ns := fmt.Sprint("ns", rng.IntN(2))
				key := fmt.Sprint("k", rng.IntN(60))
				e := n.write(ns, key, fmt.Sprintf("%s-%d", n.id, j), rng.IntN(5) == 0)
				mu.Lock()
				all = append(all, e)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	want := newFakeKV()
	for _, i := range rand.Perm(len(all)) {
		want.put(all[i])
	}
	for _, n := range nodes {
		eventually(t, 10*time.Second, n.id+" holds the last-writer-wins outcome", func() bool {
			return n.local.dump() == want.dump()
		})
	}
}

func TestKVDownPeerCatchesUpByAntiEntropy(t *testing.T) {
	peers := &testPeers{peers: map[string]Peer{}}
	pool := newTestPool(t)
	a := newTestNode(t, "a", peers, pool, nil)
	b := newTestNode(t, "b", peers, pool, nil)
	waitSender(t, a, "b")
	for i := range 1000 {
		a.write("ns", fmt.Sprint("key-", i), "v1", false)
	}
	eventually(t, 10*time.Second, "b equals a", func() bool { return b.local.dump() == a.local.dump() })

	// b goes down and leaves a's membership: a's push queue for b is dropped.
	bAddr := b.addr
	b.stop()
	peers.del("b")
	eventually(t, 5*time.Second, "a stops pushing to b", func() bool {
		a.rep.mu.RLock()
		defer a.rep.mu.RUnlock()
		return a.rep.senders["b"] == nil
	})
	const missed = 40
	for i := range missed / 2 {
		a.write("ns", fmt.Sprint("key-", i), "v2", false)     // rewrites
		a.write("ns2", fmt.Sprint("new-", i), "v1", i%2 == 0) // new keys, half tombstones
	}
	if a.local.dump() == b.local.dump() {
		t.Fatal("b already equals a before anti-entropy")
	}

	b.serve(bAddr)
	peers.set(Peer{ID: "b", GRPCAddr: bAddr})
	_, fetchedBefore := a.local.counters()
	repaired, err := b.rep.SyncWith(context.Background(), Peer{ID: "a", GRPCAddr: a.addr})
	if err != nil {
		t.Fatalf("SyncWith: %v", err)
	}
	if repaired != missed {
		t.Errorf("repaired %d entries, want %d", repaired, missed)
	}
	if _, fetched := a.local.counters(); fetched-fetchedBefore != missed {
		t.Errorf("b fetched %d keys from a, want only the %d that differ", fetched-fetchedBefore, missed)
	}
	if a.local.dump() != b.local.dump() {
		t.Fatal("b differs from a after anti-entropy")
	}
	if got := metricValue(t, b.rep.metrics.repaired); got != missed {
		t.Errorf("repaired_keys_total = %v, want %d", got, missed)
	}
	if got := metricValue(t, b.rep.metrics.rounds.WithLabelValues("ok")); got != 1 {
		t.Errorf("rounds_total{ok} = %v, want 1", got)
	}
	// A second round finds nothing to do.
	if repaired, err := b.rep.SyncWith(context.Background(), Peer{ID: "a", GRPCAddr: a.addr}); err != nil || repaired != 0 {
		t.Errorf("second SyncWith = %d, %v; want 0, nil", repaired, err)
	}
}

func TestKVAntiEntropyTimerRepairsBothWays(t *testing.T) {
	peers := &testPeers{peers: map[string]Peer{}}
	pool := newTestPool(t)
	fast := func(c *ReplicatorConfig) { c.AntiEntropyEvery = 100 * time.Millisecond }
	a := newTestNode(t, "a", peers, pool, fast)
	b := newTestNode(t, "b", peers, pool, fast)
	// Entries written straight into the stores, never published.
	clock := hlc.NewClock(nil)
	for i := range 50 {
		a.local.put(Entry{Namespace: "x", Key: fmt.Sprint("a", i), Value: []byte("1"), Version: Version{HLC: clock.Now(), Node: "a"}})
		b.local.put(Entry{Namespace: "y", Key: fmt.Sprint("b", i), Value: []byte("1"), Version: Version{HLC: clock.Now(), Node: "b"}})
	}
	eventually(t, 10*time.Second, "a and b converge", func() bool { return a.local.dump() == b.local.dump() })
	if !strings.Contains(a.local.dump(), "y/b49") || !strings.Contains(b.local.dump(), "x/a49") {
		t.Fatal("converged without the other side's keys")
	}
}

func TestKVQueueOverflowCountsDrops(t *testing.T) {
	peers := &testPeers{peers: map[string]Peer{}}
	pool := newTestPool(t)
	a := newTestNode(t, "a", peers, pool, func(c *ReplicatorConfig) { c.QueueMax = 10 })
	// A peer nobody serves: a listener that was closed at once.
	dead := newTestNode(t, "dead", peers, pool, nil)
	dead.stop()
	waitSender(t, a, "dead")
	for i := range 100 {
		a.write("ns", fmt.Sprint("k", i), "v", false)
	}
	dropped := metricValue(t, a.rep.metrics.dropped.WithLabelValues("dead"))
	if dropped < 90 {
		t.Errorf("dropped_total = %v, want at least 90", dropped)
	}
	if pending := metricValue(t, a.rep.metrics.pending.WithLabelValues("dead")); pending > 10 {
		t.Errorf("pending = %v, want at most QueueMax 10", pending)
	}
}

func TestKVQueueDropsOldest(t *testing.T) {
	q := newPushQueue(10)
	var es []Entry
	for i := range 15 {
		es = append(es, Entry{Key: fmt.Sprint(i)})
	}
	if d := q.push(es); d != 5 {
		t.Fatalf("push dropped %d, want 5", d)
	}
	got := q.take(100, 1<<20)
	if len(got) != 10 || got[0].Key != "5" || got[9].Key != "14" {
		t.Fatalf("take = %v, want keys 5..14", got)
	}
	q.push(es[:3])
	if d := q.requeue(es[3:12]); d != 2 {
		t.Fatalf("requeue dropped %d, want 2", d)
	}
	got = q.take(100, 1<<20)
	if len(got) != 10 || got[0].Key != "5" || got[9].Key != "2" {
		t.Fatalf("after requeue take = %v, want 5..11 then 0..2", got)
	}
	q.push([]Entry{{Key: "big", Value: make([]byte, 100)}, {Key: "b2", Value: make([]byte, 100)}})
	if got := q.take(10, 50); len(got) != 1 {
		t.Fatalf("take by bytes = %d entries, want 1 (one oversize entry alone)", len(got))
	}
}

func TestKVMetricsExposed(t *testing.T) {
	peers := &testPeers{peers: map[string]Peer{}}
	pool := newTestPool(t)
	a := newTestNode(t, "a", peers, pool, nil)
	b := newTestNode(t, "b", peers, pool, nil)
	waitSender(t, a, "b")
	a.write("ns", "k", "v", false)
	eventually(t, 5*time.Second, "b has k", func() bool { return b.local.dump() == a.local.dump() })
	if _, err := b.rep.SyncWith(context.Background(), Peer{ID: "a", GRPCAddr: a.addr}); err != nil {
		t.Fatal(err)
	}
	mfs, err := b.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, mf := range mfs {
		names[mf.GetName()] = true
	}
	for _, want := range []string{"edge_kv_replication_lag_seconds", "edge_kv_replication_pending",
		"edge_kv_antientropy_rounds_total", "edge_kv_antientropy_repaired_keys_total"} {
		if !names[want] {
			t.Errorf("metric %s not exposed; have %v", want, names)
		}
	}
	if _, err := NewReplicator(ReplicatorConfig{NodeID: "c", Local: newFakeKV(), Peers: func() []Peer { return nil },
		Pool: pool, Registerer: b.reg}); err == nil {
		t.Error("registering the same metrics twice succeeded")
	}
}

func TestKVReplicatorConfigValidate(t *testing.T) {
	if _, err := NewReplicator(ReplicatorConfig{}); err == nil {
		t.Fatal("empty config accepted")
	}
	cfg := ReplicatorConfig{NodeID: "a", Local: newFakeKV(), Peers: func() []Peer { return nil }, Pool: newTestPool(t), BatchMax: -1}
	if err := cfg.Defaults().Validate(); err == nil {
		t.Fatal("negative batch max accepted")
	}
}

func TestKVEntryProtoRoundTrip(t *testing.T) {
	for _, e := range []Entry{
		{Namespace: "n", Key: "k/ü", Value: []byte("v"), Metadata: []byte(`{"a":1}`), Expiration: 1e9,
			Version: Version{HLC: hlc.New(1234, 5), Node: "x"}},
		{Namespace: "n", Key: "k", Version: Version{HLC: 7, Node: "y"}, Tombstone: true},
	} {
		got := entryFromProto(entryToProto(e))
		if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", e) {
			t.Errorf("round trip: got %+v, want %+v", got, e)
		}
	}
}

// histogramCount sums the sample counts of a histogram family on n's registry.
func histogramCount(t *testing.T, n *testNode, name string) uint64 {
	t.Helper()
	mfs, err := n.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var total uint64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				total += m.GetHistogram().GetSampleCount()
			}
		}
	}
	return total
}

// metricValue reads the single counter or gauge c.
func metricValue(t *testing.T, c prometheus.Collector) float64 {
	t.Helper()
	ch := make(chan prometheus.Metric, 1)
	c.Collect(ch)
	close(ch)
	m, ok := <-ch
	if !ok {
		t.Fatal("collector has no metric")
	}
	var pb dto.Metric
	if err := m.Write(&pb); err != nil {
		t.Fatal(err)
	}
	switch {
	case pb.Counter != nil:
		return pb.Counter.GetValue()
	case pb.Gauge != nil:
		return pb.Gauge.GetValue()
	}
	t.Fatal("not a counter or gauge")
	return 0
}

// waitSender waits until n runs a push sender for peer: writes published
// before that are left to anti-entropy.
func waitSender(t *testing.T, n *testNode, peer string) {
	t.Helper()
	eventually(t, 5*time.Second, n.id+" pushes to "+peer, func() bool {
		n.rep.mu.RLock()
		defer n.rep.mu.RUnlock()
		return n.rep.senders[peer] != nil
	})
}

func TestKVPushReconnectsAndResends(t *testing.T) {
	peers := &testPeers{peers: map[string]Peer{}}
	pool := newTestPool(t)
	a := newTestNode(t, "a", peers, pool, nil)
	b := newTestNode(t, "b", peers, pool, nil)
	waitSender(t, a, "b")
	a.write("ns", "first", "v", false)
	eventually(t, 5*time.Second, "b has first", func() bool { return b.local.dump() == a.local.dump() })

	// b's server goes away but b stays a member: a keeps its queue.
	bAddr := b.addr
	b.stop()
	for i := range 200 {
		a.write("ns", fmt.Sprint("k", i), "v", i%3 == 0)
	}
	b.serve(bAddr)
	eventually(t, 10*time.Second, "b equals a by push after reconnect", func() bool {
		return b.local.dump() == a.local.dump()
	})
	if got := metricValue(t, a.rep.metrics.dropped.WithLabelValues("b")); got != 0 {
		t.Errorf("dropped %v entries with a queue far from full", got)
	}
}

// TestKVAntiEntropyScansPerGroupNotPerBucket: a node that missed every
// bucket catches up with one namespace scan per group of buckets on each
// side, not one per bucket; an answer bound that splits the groups still
// repairs everything, with more calls.
func TestKVAntiEntropyScansPerGroupNotPerBucket(t *testing.T) {
	for _, tc := range []struct {
		name       string
		answerKeys int
		maxScans   int
	}{
		{"whole groups", bucketAnswerKeys, (fakeBuckets + maxBucketsPerCall - 1) / maxBucketsPerCall},
		{"answers split", 200, fakeBuckets},
	} {
		t.Run(tc.name, func(t *testing.T) {
			peers := &testPeers{peers: map[string]Peer{}}
			pool := newTestPool(t)
			a := newTestNode(t, "a", peers, pool, nil)
			const keys = 2000
			for i := range keys {
				a.write("ns", fmt.Sprint("key-", i), "v1", false)
			}
			b := newTestNode(t, "b", peers, pool, nil)
			a.rep.answerKeys = tc.answerKeys
			a.local.mu.Lock()
			a.local.scans = 0
			a.local.mu.Unlock()
			repaired, err := b.rep.SyncWith(context.Background(), Peer{ID: "a", GRPCAddr: a.addr})
			if err != nil || repaired != keys {
				t.Fatalf("SyncWith = %d, %v; want %d", repaired, err, keys)
			}
			if a.local.dump() != b.local.dump() {
				t.Fatal("b differs from a")
			}
			a.local.mu.Lock()
			aScans := a.local.scans
			a.local.mu.Unlock()
			b.local.mu.Lock()
			bScans := b.local.scans
			b.local.mu.Unlock()
			if aScans > tc.maxScans || bScans > tc.maxScans || aScans == 0 {
				t.Errorf("scans: a %d, b %d; want 1..%d each", aScans, bScans, tc.maxScans)
			}
			if tc.answerKeys < keys && aScans < 2 {
				t.Errorf("a answered %d keys in %d calls despite a bound of %d", keys, aScans, tc.answerKeys)
			}
		})
	}
}

// TestKVBucketVersionsRequests: the legacy single-bucket form, the list
// form, and a refused oversize list.
func TestKVBucketVersionsRequests(t *testing.T) {
	peers := &testPeers{peers: map[string]Peer{}}
	pool := newTestPool(t)
	a := newTestNode(t, "a", peers, pool, nil)
	for i := range 300 {
		a.write("ns", fmt.Sprint("key-", i), "v1", false)
	}
	srv := &replServer{r: a.rep}
	ctx := context.Background()
	b0 := fakeBucket("key-0")
	legacy, err := srv.BucketVersions(ctx, &edgev1.BucketVersionsRequest{Ns: "ns", Bucket: uint32(b0)})
	if err != nil || legacy.GetCovered() != 1 || !slices.Contains(legacy.GetKeys(), "key-0") {
		t.Fatalf("legacy request = %v, %v", legacy, err)
	}
	for _, k := range legacy.GetKeys() {
		if fakeBucket(k) != b0 {
			t.Fatalf("legacy answer holds %q of bucket %d, want bucket %d", k, fakeBucket(k), b0)
		}
	}
	all := make([]uint32, fakeBuckets)
	for i := range all {
		all[i] = uint32(i)
	}
	resp, err := srv.BucketVersions(ctx, &edgev1.BucketVersionsRequest{Ns: "ns", Buckets: all})
	if err != nil || resp.GetCovered() != fakeBuckets || len(resp.GetKeys()) != 300 || !slices.IsSorted(resp.GetKeys()) {
		t.Fatalf("list request: covered %d, %d keys, sorted %v, %v", resp.GetCovered(), len(resp.GetKeys()),
			slices.IsSorted(resp.GetKeys()), err)
	}
	if _, err := srv.BucketVersions(ctx, &edgev1.BucketVersionsRequest{Ns: "ns", Buckets: make([]uint32, maxBucketsPerCall+1)}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("oversize list: %v", err)
	}
}

// TestKVMetricsExistBeforeFirstSample: with a live peer and nothing
// written or synced yet, every replication metric already has its series.
func TestKVMetricsExistBeforeFirstSample(t *testing.T) {
	peers := &testPeers{peers: map[string]Peer{}}
	pool := newTestPool(t)
	a := newTestNode(t, "a", peers, pool, nil)
	newTestNode(t, "b", peers, pool, nil)
	waitSender(t, a, "b")
	mfs, err := a.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	series := map[string]int{}
	for _, mf := range mfs {
		series[mf.GetName()] = len(mf.GetMetric())
	}
	for name, want := range map[string]int{
		"edge_kv_replication_lag_seconds": 1, "edge_kv_replication_pending": 1,
		"edge_kv_replication_dropped_total": 1, "edge_kv_replication_stream_errors_total": 1,
		"edge_kv_antientropy_rounds_total": 2, "edge_kv_antientropy_repaired_keys_total": 1,
	} {
		if series[name] != want {
			t.Errorf("%s: %d series before any sample, want %d", name, series[name], want)
		}
	}
}
