package kv_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/edgeplane/edgeplane/internal/testcluster"
	"github.com/edgeplane/edgeplane/pkg/hlc"
	"github.com/edgeplane/edgeplane/pkg/kv"
	edgev1 "github.com/edgeplane/edgeplane/proto/edge/v1"
)

// waitEverywhere waits until every node reads value at ns/key.
func waitEverywhere(t *testing.T, c *testcluster.Cluster, ns, key, value string, within time.Duration) {
	t.Helper()
	c.WaitFor(fmt.Sprintf("%s/%s=%s on every node", ns, key, value), within, func() bool {
		for _, m := range c.Up() {
			e, err := kvOf(m.Node()).Service().Get(context.Background(), ns, key)
			if err != nil || string(e.Value) != value {
				return false
			}
		}
		return true
	})
}

// TestRefusedEntriesNeverBlockReplication injects entries a receiver must
// refuse straight into a node's Push API, and stores an entry that cannot
// even be encoded (a key of invalid UTF-8, as an older version accepted)
// in another node's push queue; after each, later writes in every
// namespace, through every node, still reach every node within the normal
// lag, and the bad entries are stored nowhere.
func TestRefusedEntriesNeverBlockReplication(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Nodes: 3})
	nsA := newNamespace(t, c, "refused-a")
	nsB := newNamespace(t, c, "refused-b")
	target := c.Member(1).Node()

	conn, err := grpc.NewClient("passthrough:///"+target.Addr().GRPC, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := ctxFor(t, 30*time.Second)
	st, err := edgev1.NewKVClient(conn).Push(ctx)
	if err != nil {
		t.Fatal(err)
	}
	now := uint64(hlc.NewClock(nil).Now())
	future := uint64(hlc.NewClock(func() time.Time { return time.Now().Add(time.Hour) }).Now())
	bad := []*edgev1.KVEntry{
		{Ns: nsA, Key: "future", Value: []byte("x"), Hlc: future, Node: "evil"},
		{Ns: nsA, Key: strings.Repeat("k", kv.MaxKeyBytes+1), Value: []byte("x"), Hlc: now, Node: "evil"},
		{Ns: nsA, Key: "meta", Value: []byte("x"), Metadata: []byte("{not json"), Hlc: now, Node: "evil"},
		{Ns: nsA, Key: "meta-utf8", Value: []byte("x"), Metadata: []byte("\"\xff\""), Hlc: now, Node: "evil"},
		{Ns: "bad ns\n", Key: "k", Value: []byte("x"), Hlc: now, Node: "evil"},
		{Ns: nsA, Key: "noversion", Value: []byte("x")},
	}
	good := &edgev1.KVEntry{Ns: nsA, Key: "pushed-good", Value: []byte("ok"), Hlc: now, Node: "test"}
	if err := st.Send(&edgev1.PushBatch{Seq: 1, OriginNode: "test", Entries: append(bad, good)}); err != nil {
		t.Fatal(err)
	}
	ack, err := st.Recv()
	if err != nil {
		t.Fatalf("a batch with refused entries was not acknowledged: %v", err)
	}
	if ack.GetSeq() != 1 || ack.GetApplied() != 1 {
		t.Fatalf("ack = %v, want seq 1 with the one good entry applied", ack)
	}
	_ = st.CloseSend()

	// A stored entry no peer can receive, in node 0's queue for every peer.
	src := kvOf(c.Member(0).Node())
	badKey := kv.Entry{Namespace: nsB, Key: "x\xff", Value: []byte("v"),
		Version: kv.Version{HLC: hlc.NewClock(nil).Now(), Node: c.Member(0).Node().ID()}}
	if _, err := src.Store().Apply([]kv.Entry{badKey}); err != nil {
		t.Fatal(err)
	}
	src.Replicator().Publish([]kv.Entry{badKey})

	// Later writes, in both namespaces, through every node, reach every node.
	for i, m := range c.Up() {
		for _, ns := range []string{nsA, nsB} {
			key := fmt.Sprintf("after-%d", i)
			if _, err := kvOf(m.Node()).Service().Put(ctxFor(t, 5*time.Second), ns, key, []byte("v"), nil, 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := range c.Up() {
		for _, ns := range []string{nsA, nsB} {
			waitEverywhere(t, c, ns, fmt.Sprintf("after-%d", i), "v", 3*time.Second)
		}
	}
	waitEverywhere(t, c, nsA, "pushed-good", "ok", 3*time.Second)
	for _, m := range c.Up()[1:] {
		if got := rawDump(t, kvOf(m.Node()).Store(), nsA); got["future"].Key != "" || got["meta"].Key != "" || got["noversion"].Key != "" {
			t.Fatalf("%s stored a refused entry: %v", m.Node().ID(), got)
		}
	}
	// The queues drained, and the refusals were counted.
	c.WaitFor("push queues empty", 3*time.Second, func() bool {
		for _, m := range c.Up() {
			if gaugeSum(t, m, "edge_kv_replication_pending") != 0 {
				return false
			}
		}
		return true
	})
	if n := gaugeSum(t, c.Member(1), "edge_kv_replication_refused_total"); n < float64(len(bad)) {
		t.Fatalf("node 1 counted %v refusals, want at least %d", n, len(bad))
	}
	if n := gaugeSum(t, c.Member(0), "edge_kv_replication_refused_total"); n < 1 {
		t.Fatalf("node 0 counted %v refusals of its unencodable entry, want at least 1", n)
	}
	if n := gaugeSum(t, c.Member(0), "edge_kv_replication_oldest_pending_seconds"); n != 0 {
		t.Fatalf("oldest pending %v s with empty queues", n)
	}
}

// TestReplicasParameter: a write asking for 3 replicas on 3 nodes returns
// once all hold it; asking for 4 is refused before anything is written.
func TestReplicasParameter(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Nodes: 3})
	ns := newNamespace(t, c, "replicas")
	svc := kvOf(c.Member(0).Node()).Service()
	c.WaitFor("2 live peers", 5*time.Second, func() bool { return kvOf(c.Member(0).Node()).Replicator().LivePeers() == 2 })
	if _, err := svc.Put(kv.WithReplicas(ctxFor(t, 15*time.Second), 3), ns, "k", []byte("v"), nil, 0); err != nil {
		t.Fatal(err)
	}
	for _, m := range c.Up() { // at once: no waiting
		if e, err := kvOf(m.Node()).Service().Get(context.Background(), ns, "k"); err != nil || string(e.Value) != "v" {
			t.Fatalf("%s after replicas=3: %v %v", m.Node().ID(), e, err)
		}
	}
	if err := svc.PutMany(kv.WithReplicas(ctxFor(t, 15*time.Second), 3), ns, []kv.Entry{{Key: "a", Value: []byte("1")}, {Key: "b", Value: []byte("2")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Put(kv.WithReplicas(ctxFor(t, 15*time.Second), 4), ns, "k4", []byte("v"), nil, 0); !errors.Is(err, kv.ErrTooFewReplicas) {
		t.Fatalf("replicas=4 on 3 nodes: %v", err)
	}
	if _, err := svc.Get(context.Background(), ns, "k4"); !errors.Is(err, kv.ErrKeyNotFound) {
		t.Fatalf("a refused replicas=4 write was stored: %v", err)
	}
}

// gaugeSum sums every series of a metric on a member's /metrics.
func gaugeSum(t *testing.T, m *testcluster.Member, name string) float64 {
	t.Helper()
	resp, err := http.Get(m.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	sum := 0.0
	for _, line := range strings.Split(string(body), "\n") {
		rest, ok := strings.CutPrefix(line, name)
		if !ok || (rest != "" && rest[0] != '{' && rest[0] != ' ') {
			continue
		}
		f := strings.Fields(rest[strings.LastIndexByte(rest, '}')+1:])
		if len(f) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err == nil {
			sum += v
		}
	}
	return sum
}
