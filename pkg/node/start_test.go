package node

import (
	"errors"
	"net"
	"testing"

	"github.com/edgeplane/edgeplane/pkg/storage"
)

func localConfig(dir string) Config {
	return Config{NodeID: "s1", DataDir: dir, HTTPAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0",
		RaftAddr: "127.0.0.1:0", GossipAddr: "127.0.0.1:0", AdminToken: "t", Voters: 1}
}

// A start that fails half way releases what it took: the data directory
// lock and the listeners, so the same node can start right after.
func TestFailedStartReleasesItsResources(t *testing.T) {
	dir := t.TempDir()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := localConfig(dir)
	cfg.RaftAddr = busy.Addr().String() // HTTP and gRPC bind, then Raft fails
	if _, err := New(cfg); err == nil {
		t.Fatal("start on a busy raft port succeeded")
	}
	busy.Close()

	n, err := New(localConfig(dir))
	if err != nil {
		t.Fatalf("start after a failed start: %v", err)
	}
	defer n.Kill()
	// And a second process on the same directory is refused.
	if _, err := New(localConfig(dir)); !errors.Is(err, storage.ErrLocked) {
		t.Fatalf("second node on one data dir: %v, want ErrLocked", err)
	}
}
