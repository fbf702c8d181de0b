package node

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/pkg/catalog"
)

func waitReady(t *testing.T, n *Node) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for n.Ready() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("not ready: %v", n.Ready())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func failures(t *testing.T, n *Node) string {
	t.Helper()
	resp, err := http.Get("http://" + n.Addr().HTTP + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, `edge_raft_apply_failures_total{reason="unknown_type"}`) {
			return line
		}
	}
	return ""
}

// TestLogWithAnUnapplicableEntryReplays: an entry no node can apply (the
// 3-byte command that once killed every node, on every restart) reaches the
// log when proposed past validation. The node records it and serves on; after
// kill -9 and a restart it replays the entry, records it again, and serves.
func TestLogWithAnUnapplicableEntryReplays(t *testing.T) {
	dir := t.TempDir()
	n, err := New(localConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	waitReady(t, n)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Past the proposer's validation, straight into Raft, as a buggy or
	// hostile leader could.
	if _, _, err := n.raft.Apply(ctx, []byte{0x01, 0x05, 0x78}); err == nil {
		t.Fatal("an unknown command applied without an error")
	}
	if got := failures(t, n); !strings.HasSuffix(got, " 1") {
		t.Fatalf("failure metric %q, want 1", got)
	}
	// The proposer refuses it outright.
	if _, err := n.Propose(ctx, []byte{0x01, 0x05, 0x78}); err == nil {
		t.Fatal("the proposer let an unknown command through")
	}
	// The node still commits.
	if _, err := n.CreateResource(ctx, catalog.KindKVNamespace, "", "after-bad-entry"); err != nil {
		t.Fatal(err)
	}
	n.Kill()

	n, err = New(localConfig(dir))
	if err != nil {
		t.Fatalf("restart over a log holding the entry: %v", err)
	}
	defer n.Kill()
	waitReady(t, n)
	if got := failures(t, n); !strings.HasSuffix(got, " 1") {
		t.Fatalf("after replay the failure metric is %q, want 1", got)
	}
	found := false
	for _, r := range n.Catalog().Resources(catalog.KindKVNamespace, n.AccountID()) {
		found = found || r.Name == "after-bad-entry"
	}
	if !found {
		t.Fatal("the write after the bad entry is gone after restart")
	}
	if _, err := n.CreateResource(ctx, catalog.KindKVNamespace, "", "after-restart"); err != nil {
		t.Fatal(err)
	}
}
