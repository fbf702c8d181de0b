package kv_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/internal/testcluster"
	"github.com/edgeplane/edgeplane/pkg/catalog"
	"github.com/edgeplane/edgeplane/pkg/kv"
	"github.com/edgeplane/edgeplane/pkg/node"
)

// kvOf is the KV module of a node.
func kvOf(n *node.Node) *kv.Module { return n.Service("kv").(*kv.Module) }

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// rawDump reads every entry of ns a node stores, tombstones included, by
// walking the anti-entropy buckets: the full state, not a sample.
func rawDump(t *testing.T, s *kv.Store, ns string) map[string]kv.Entry {
	t.Helper()
	out := make(map[string]kv.Entry)
	d, err := s.Digest(ns)
	if err != nil {
		t.Fatal(err)
	}
	for b := range d {
		one, err := s.BucketsVersions(ns, []int{b})
		if err != nil {
			t.Fatal(err)
		}
		vs := one[b]
		keys := make([]string, 0, len(vs))
		for k := range vs {
			keys = append(keys, k)
		}
		es, err := s.GetMany(ns, keys)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			out[e.Key] = e
		}
	}
	return out
}

func newNamespace(t *testing.T, c *testcluster.Cluster, title string) string {
	t.Helper()
	n := c.Member(0).Node()
	r, err := n.CreateResource(ctxFor(t, 10*time.Second), catalog.KindKVNamespace, "", title)
	if err != nil {
		t.Fatal(err)
	}
	return r.ID
}

func TestWriteIsVisibleOnEveryNodeWithinTwoSeconds(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Nodes: 3})
	ns := newNamespace(t, c, "visible")
	start := time.Now()
	if _, err := kvOf(c.Member(0).Node()).Service().Put(ctxFor(t, 5*time.Second), ns, "greeting", []byte("hello"), []byte(`{"lang":"en"}`), 0); err != nil {
		t.Fatal(err)
	}
	// Read-your-write on the accepting node, at once.
	if e, err := kvOf(c.Member(0).Node()).Service().Get(context.Background(), ns, "greeting"); err != nil || string(e.Value) != "hello" {
		t.Fatalf("local read: %v %v", e, err)
	}
	c.WaitFor("the write on every node", 2*time.Second, func() bool {
		for _, m := range c.Up() {
			e, err := kvOf(m.Node()).Service().Get(context.Background(), ns, "greeting")
			if err != nil || string(e.Value) != "hello" || string(e.Metadata) != `{"lang":"en"}` {
				return false
			}
		}
		return true
	})
	t.Logf("measured: a write on node-1 was readable on all 3 nodes after %v", time.Since(start).Round(time.Millisecond))
}

// writer drives random puts, rewrites and deletes on a small shared keyspace
// through one node until stop closes, and counts what it did.
func writer(t *testing.T, svc *kv.Service, ns, tag string, keys int, stop <-chan struct{}, wg *sync.WaitGroup, ops *int) {
	defer wg.Done()
	r := rand.New(rand.NewPCG(uint64(len(tag)), uint64(keys)))
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		key := fmt.Sprintf("k%03d", r.IntN(keys))
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		var err error
		if r.IntN(4) == 0 {
			err = svc.Delete(ctx, ns, key)
		} else {
			_, err = svc.Put(ctx, ns, key, fmt.Appendf(nil, "%s-%d", tag, i), nil, 0)
		}
		cancel()
		if err != nil {
			t.Errorf("%s op %d on %s: %v", tag, i, key, err)
			return
		}
		*ops++
		time.Sleep(time.Millisecond)
	}
}

// lwwMerge is the model: per key, the entry with the greatest version.
func lwwMerge(sides ...map[string]kv.Entry) map[string]kv.Entry {
	out := make(map[string]kv.Entry)
	for _, side := range sides {
		for k, e := range side {
			if cur, ok := out[k]; !ok || e.Wins(cur) {
				out[k] = e
			}
		}
	}
	return out
}

func partitionDuration() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("EDGE_KV_PARTITION")); err == nil {
		return d
	}
	return 60 * time.Second
}

func TestPartitionedRegionConvergesToLastWriterWins(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Nodes: 3})
	ns := newNamespace(t, c, "partitioned")
	// Cut ap-south (node-3) away while both sides write the same keys.
	c.Partition([]int{0, 1}, []int{2})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var opsA, opsB int
	wg.Add(2)
	go writer(t, kvOf(c.Member(0).Node()).Service(), ns, "us", 200, stop, &wg, &opsA)
	go writer(t, kvOf(c.Member(2).Node()).Service(), ns, "ap", 200, stop, &wg, &opsB)
	time.Sleep(partitionDuration())
	close(stop)
	wg.Wait()
	// Let each side settle internally, then take the model from both sides.
	c.WaitFor("node-2 equals node-1 inside the majority side", 30*time.Second, func() bool {
		return reflect.DeepEqual(rawDump(t, kvOf(c.Member(0).Node()).Store(), ns), rawDump(t, kvOf(c.Member(1).Node()).Store(), ns))
	})
	want := lwwMerge(rawDump(t, kvOf(c.Member(0).Node()).Store(), ns), rawDump(t, kvOf(c.Member(2).Node()).Store(), ns))
	t.Logf("partition of %v: %d ops on us-east, %d on ap-south, %d keys in the merged outcome", partitionDuration(), opsA, opsB, len(want))

	healed := time.Now()
	c.Heal()
	c.WaitFor("every node's full dump equals the last-writer-wins outcome", 60*time.Second, func() bool {
		for _, m := range c.Up() {
			if !reflect.DeepEqual(rawDump(t, kvOf(m.Node()).Store(), ns), want) {
				return false
			}
		}
		return true
	})
	t.Logf("measured: converged %v after healing a %v partition", time.Since(healed).Round(time.Millisecond), partitionDuration())
	// And the visible view agrees with the model.
	live := 0
	for k, e := range want {
		got, err := kvOf(c.Member(1).Node()).Service().Get(context.Background(), ns, k)
		if e.Tombstone {
			if err == nil {
				t.Fatalf("%s: deleted in the model, readable on node-2", k)
			}
			continue
		}
		live++
		if err != nil || string(got.Value) != string(e.Value) {
			t.Fatalf("%s: got %q %v, want %q", k, got.Value, err, e.Value)
		}
	}
	t.Logf("%d live keys, %d tombstones", live, len(want)-live)
}

// missedWrites is how many keys TestRestartedNodeThatMissedWritesCatchesUp
// writes while a node is down: 500, or EDGE_KV_MISSED to measure a larger
// catch-up.
func missedWrites() int {
	if n, err := strconv.Atoi(os.Getenv("EDGE_KV_MISSED")); err == nil && n > 0 {
		return n
	}
	return 500
}

func TestRestartedNodeThatMissedWritesCatchesUp(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Nodes: 3})
	ns := newNamespace(t, c, "missed")
	c.Kill(2)
	svc := kvOf(c.Member(0).Node()).Service()
	missed := missedWrites()
	const chunk = 1000
	for lo := 0; lo < missed; lo += chunk {
		var items []kv.Entry
		var deletes []string
		for i := lo; i < min(lo+chunk, missed); i++ {
			key := fmt.Sprintf("key-%07d", i)
			items = append(items, kv.Entry{Key: key, Value: []byte(key)})
			if i%5 == 0 {
				deletes = append(deletes, key)
			}
		}
		if err := svc.PutMany(ctxFor(t, 30*time.Second), ns, items); err != nil {
			t.Fatal(err)
		}
		if err := svc.DeleteMany(ctxFor(t, 30*time.Second), ns, deletes); err != nil {
			t.Fatal(err)
		}
	}
	c.WaitFor("node-2 has everything", 10*time.Second+time.Duration(missed)*time.Millisecond, func() bool {
		return len(rawDump(t, kvOf(c.Member(1).Node()).Store(), ns)) == missed
	})
	want := rawDump(t, kvOf(c.Member(0).Node()).Store(), ns)
	restarted := time.Now()
	c.Restart(2)
	c.WaitFor("restarted node equals the others", 60*time.Second, func() bool {
		return reflect.DeepEqual(rawDump(t, kvOf(c.Member(2).Node()).Store(), ns), want)
	})
	t.Logf("measured: node that missed %d writes (%d keys, a fifth deleted again) caught up %v after restart",
		missed+(missed+4)/5, missed, time.Since(restarted).Round(time.Millisecond))
}
