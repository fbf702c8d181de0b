package kv

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"maps"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/edgeplane/edgeplane/pkg/hlc"
)

const fakeBuckets = 64

// fakeKV is an in-memory last-writer-wins KV whose digest is computed by
// scanning every entry.
type fakeKV struct {
	mu          sync.Mutex
	data        map[string]map[string]Entry
	applyCalls  int
	fetchedKeys int
	scans       int // BucketsVersions calls: each is a scan of a namespace
}

func newFakeKV() *fakeKV { return &fakeKV{data: make(map[string]map[string]Entry)} }

func fakeBucket(key string) int {
	h := fnv.New64a()
	h.Write([]byte(key))
	return int(h.Sum64() % fakeBuckets)
}

// put applies e by last-writer-wins and reports whether it won.
func (f *fakeKV) put(e Entry) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.putLocked(e)
}

func (f *fakeKV) putLocked(e Entry) bool {
	m := f.data[e.Namespace]
	if m == nil {
		m = make(map[string]Entry)
		f.data[e.Namespace] = m
	}
	if cur, ok := m[e.Key]; ok && !e.Wins(cur) {
		return false
	}
	m[e.Key] = e
	return true
}

func (f *fakeKV) ApplyRemote(entries []Entry) ([]bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.applyCalls++
	out := make([]bool, len(entries))
	for i, e := range entries {
		out[i] = f.putLocked(e)
	}
	return out, nil
}

func (f *fakeKV) Namespaces() ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Sorted(maps.Keys(f.data)), nil
}

func (f *fakeKV) Digest(ns string) ([]uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d := make([]uint64, fakeBuckets)
	for k, e := range f.data[ns] {
		h := fnv.New64a()
		h.Write([]byte(k))
		h.Write(binary.BigEndian.AppendUint64(nil, uint64(e.Version.HLC)))
		h.Write([]byte(e.Version.Node))
		d[fakeBucket(k)] ^= h.Sum64()
	}
	return d, nil
}

func (f *fakeKV) BucketsVersions(ns string, buckets []int) (map[int]map[string]Version, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.scans++
	out := make(map[int]map[string]Version, len(buckets))
	for _, b := range buckets {
		out[b] = make(map[string]Version)
	}
	for k, e := range f.data[ns] {
		if m, ok := out[fakeBucket(k)]; ok {
			m[k] = e.Version
		}
	}
	return out, nil
}

func (f *fakeKV) GetMany(ns string, keys []string) ([]Entry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fetchedKeys += len(keys)
	var out []Entry
	for _, k := range keys {
		if e, ok := f.data[ns][k]; ok {
			out = append(out, e)
		}
	}
	return out, nil
}

// dump renders every entry, tombstones included, for equality checks.
func (f *fakeKV) dump() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var lines []string
	for ns, m := range f.data {
		for k, e := range m {
			lines = append(lines, fmt.Sprintf("%s/%s=%q meta=%q exp=%d %v/%s del=%v",
				ns, k, e.Value, e.Metadata, e.Expiration, e.Version.HLC, e.Version.Node, e.Tombstone))
		}
	}
	slices.Sort(lines)
	return fmt.Sprint(len(lines), lines)
}

func (f *fakeKV) counters() (applyCalls, fetchedKeys int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.applyCalls, f.fetchedKeys
}

// testPool dials plain gRPC connections to 127.0.0.1 addresses.
type testPool struct {
	mu    sync.Mutex
	conns map[string]*grpc.ClientConn
}

func newTestPool(t *testing.T) *testPool {
	p := &testPool{conns: make(map[string]*grpc.ClientConn)}
	t.Cleanup(func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, c := range p.conns {
			c.Close()
		}
	})
	return p
}

func (p *testPool) Conn(addr string) (grpc.ClientConnInterface, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.conns[addr]; ok {
		return c, nil
	}
	c, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, err
	}
	p.conns[addr] = c
	return c, nil
}

// testPeers is the membership every test node sees, minus itself.
type testPeers struct {
	mu    sync.Mutex
	peers map[string]Peer
}

func (tp *testPeers) set(p Peer) { tp.mu.Lock(); tp.peers[p.ID] = p; tp.mu.Unlock() }
func (tp *testPeers) del(id string) {
	tp.mu.Lock()
	delete(tp.peers, id)
	tp.mu.Unlock()
}
func (tp *testPeers) except(self string) func() []Peer {
	return func() []Peer {
		tp.mu.Lock()
		defer tp.mu.Unlock()
		var out []Peer
		for id, p := range tp.peers {
			if id != self {
				out = append(out, p)
			}
		}
		return out
	}
}

// testNode is one replicator with its fake store and gRPC server.
type testNode struct {
	t     *testing.T
	id    string
	addr  string
	local *fakeKV
	rep   *Replicator
	reg   *prometheus.Registry
	clock *hlc.Clock
	srv   *grpc.Server
	done  chan struct{}
}

func newTestNode(t *testing.T, id string, peers *testPeers, pool *testPool, tweak func(*ReplicatorConfig)) *testNode {
	t.Helper()
	n := &testNode{t: t, id: id, local: newFakeKV(), reg: prometheus.NewRegistry(), clock: hlc.NewClock(nil)}
	cfg := ReplicatorConfig{
		NodeID: id, Local: n.local, Peers: peers.except(id), Pool: pool,
		AntiEntropyEvery: time.Hour, PeerRefreshEvery: 20 * time.Millisecond,
		MaxBackoff: 100 * time.Millisecond,
		RegionOf:   func(node string) string { return "region-" + node },
		Registerer: n.reg,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	rep, err := NewReplicator(cfg)
	if err != nil {
		t.Fatalf("new replicator %s: %v", id, err)
	}
	n.rep = rep
	n.serve("127.0.0.1:0")
	peers.set(Peer{ID: id, Region: "region-" + id, GRPCAddr: n.addr})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); rep.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("replicator %s did not stop", id)
		}
		n.stop()
	})
	return n
}

func (n *testNode) serve(addr string) {
	n.t.Helper()
	var lis net.Listener
	var err error
	deadline := time.Now().Add(5 * time.Second)
	for {
		lis, err = net.Listen("tcp", addr)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		n.t.Fatalf("listen %s: %v", addr, err)
	}
	n.addr = lis.Addr().String()
	n.srv = grpc.NewServer()
	n.rep.Register(n.srv)
	n.done = make(chan struct{})
	go func(s *grpc.Server, done chan struct{}) { defer close(done); _ = s.Serve(lis) }(n.srv, n.done)
}

func (n *testNode) stop() {
	if n.srv != nil {
		n.srv.Stop()
		<-n.done
		n.srv = nil
	}
}

// write commits an entry locally and publishes it, as Service does.
func (n *testNode) write(ns, key, value string, del bool) Entry {
	e := Entry{Namespace: ns, Key: key, Version: Version{HLC: n.clock.Now(), Node: n.id}, Tombstone: del}
	if !del {
		e.Value = []byte(value)
		e.Metadata = []byte(`{"v":"` + value + `"}`)
	}
	n.local.put(e)
	n.rep.Publish([]Entry{e})
	return e
}

// eventually polls cond until it holds or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
