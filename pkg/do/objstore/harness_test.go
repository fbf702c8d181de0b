package objstore

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"

	"github.com/edgeplane/edgeplane/pkg/router"
)

// tnode is one node of a test cluster: a store on a crashable in-memory
// file system, a replicator, and a real gRPC server on 127.0.0.1.
type tnode struct {
	id    string
	fs    *vfs.MemFS
	store *Store
	rep   *Replicator
	reg   *prometheus.Registry
	srv   *grpc.Server
	pool  *router.Pool
	up    bool
}

// tcluster is a set of nodes that reach each other over loopback gRPC.
type tcluster struct {
	t     testing.TB
	mu    sync.Mutex
	addrs map[string]string
	nodes map[string]*tnode
}

func newCluster(t testing.TB, ids ...string) *tcluster {
	c := &tcluster{t: t, addrs: map[string]string{}, nodes: map[string]*tnode{}}
	for _, id := range ids {
		c.start(id, vfs.NewCrashableMem())
	}
	t.Cleanup(func() {
		for _, id := range ids {
			c.stop(id)
		}
	})
	return c
}

func (c *tcluster) resolve(id string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, ok := c.addrs[id]
	return a, ok
}

// start opens node id's store on fs and serves its gRPC on a new port.
func (c *tcluster) start(id string, fs *vfs.MemFS) *tnode {
	c.t.Helper()
	n := c.startFS(id, "/db", fs)
	n.fs = fs
	return n
}

// startFS opens node id's store in dir of fs (nil: the OS) and serves its
// gRPC on a new port.
func (c *tcluster) startFS(id, dir string, fs vfs.FS) *tnode {
	c.t.Helper()
	opts := Options{FS: fs}
	if fs == vfs.Default {
		opts.FS = nil
	}
	store, err := Open(dir, opts)
	if err != nil {
		c.t.Fatalf("open store of %s: %v", id, err)
	}
	pool, err := router.NewPool(router.PoolConfig{MaxBackoff: 100 * time.Millisecond})
	if err != nil {
		c.t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	rep := NewReplicator(store, pool, id, WithResolver(c.resolve), WithRegisterer(reg),
		WithCallTimeout(2*time.Second))
	srv := grpc.NewServer(router.ServerOptions()...)
	rep.RegisterGRPC(srv)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		c.t.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	n := &tnode{id: id, store: store, rep: rep, reg: reg, srv: srv, pool: pool, up: true}
	c.mu.Lock()
	c.addrs[id] = lis.Addr().String()
	c.nodes[id] = n
	c.mu.Unlock()
	return n
}

func (c *tcluster) node(id string) *tnode {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[id]
}

// stop shuts node id down cleanly (idempotent).
func (c *tcluster) stop(id string) {
	n := c.node(id)
	if n == nil || !n.up {
		return
	}
	n.up = false
	n.srv.Stop()
	n.rep.Close()
	_ = n.pool.Close()
	_ = n.store.Close()
}

// crash simulates kill -9 of node id: its file system keeps only what was
// synced, its server and objects stop. It returns the surviving file
// system for restart.
func (c *tcluster) crash(id string) *vfs.MemFS {
	n := c.node(id)
	// Nothing may be acknowledged past the moment of the crash: stop
	// serving and owning first, then keep only what reached the disk.
	n.srv.Stop()
	n.rep.Close()
	crashed := n.fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 0})
	c.stop(id)
	return crashed
}

// restart crashes node id and starts it again from what it had synced.
func (c *tcluster) restart(id string) *tnode {
	return c.start(id, c.crash(id))
}

// isolate stops node id's gRPC server (no one reaches it) and returns a
// function that serves it again on a new port.
func (c *tcluster) isolate(id string) func() {
	n := c.node(id)
	n.srv.Stop()
	return func() {
		srv := grpc.NewServer(router.ServerOptions()...)
		n.rep.RegisterGRPC(srv)
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			c.t.Fatal(err)
		}
		go func() { _ = srv.Serve(lis) }()
		c.mu.Lock()
		n.srv = srv
		c.addrs[id] = lis.Addr().String()
		c.mu.Unlock()
	}
}

func (c *tcluster) open(id string, obj string, replicas ...string) (*Object, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return c.node(id).rep.Open(ctx, obj, replicas)
}

func (c *tcluster) mustOpen(id string, obj string, replicas ...string) *Object {
	c.t.Helper()
	o, err := c.open(id, obj, replicas...)
	if err != nil {
		c.t.Fatalf("open %s on %s: %v", obj, id, err)
	}
	return o
}

func commit(o *Object, ops ...Op) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return o.Commit(ctx, ops)
}

func objID(n int) string { return fmt.Sprintf("ns1/%064x", n) }

// waitFor polls cond every 10 ms until it holds or 10 s pass.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
