package objstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// readAll lists the whole object on a node's local copy.
func readAll(t testing.TB, n *tnode, obj string) map[string]string {
	t.Helper()
	es, err := n.store.List(obj, ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range es {
		out[e.Key] = string(e.Value)
	}
	return out
}

func TestAcknowledgedWritesSurviveOwnerAndMinorityLoss(t *testing.T) {
	ids := []string{"n1", "n2", "n3", "n4", "n5"}
	c := newCluster(t, ids...)
	obj := objID(1)
	o := c.mustOpen("n1", obj, ids...)
	for i := range 30 {
		if err := commit(o, put(fmt.Sprintf("k%02d", i), fmt.Sprint(i)), AlarmOp(int64(1000+i))); err != nil {
			t.Fatalf("commit %d: %v", i, err)
		}
	}
	// The owner and one more replica die (kill -9): 2 of 5.
	c.crash("n1")
	c.crash("n2")
	o3 := c.mustOpen("n3", obj, ids...)
	defer o3.Close()
	got, err := o3.List(ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 30 {
		t.Fatalf("new owner sees %d keys, want 30", len(got))
	}
	for i, e := range got {
		if e.Key != fmt.Sprintf("k%02d", i) || string(e.Value) != fmt.Sprint(i) {
			t.Fatalf("entry %d: %s=%s", i, e.Key, e.Value)
		}
	}
	if a := o3.Alarm(); a != 1029 {
		t.Fatalf("alarm %d, want 1029", a)
	}
	if o3.Seq() != 30 {
		t.Fatalf("seq %d, want 30", o3.Seq())
	}
	// It keeps writing with 3 of 5 alive.
	if err := commit(o3, put("after", "failover")); err != nil {
		t.Fatalf("commit after failover: %v", err)
	}
	// A third loss leaves no majority: the write is not acknowledged.
	c.crash("n4")
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	ctxErr := o3.Commit(ctx, []Op{put("no", "quorum")})
	if !errors.Is(ctxErr, ErrNoQuorum) {
		t.Fatalf("commit with 2 of 5: %v, want ErrNoQuorum", ctxErr)
	}
	if !errors.Is(commit(o3, put("x", "y")), ErrNoQuorum) {
		t.Fatal("a broken object accepted a commit")
	}
}

func TestLowerBallotIsSuperseded(t *testing.T) {
	ids := []string{"a", "b", "c"}
	c := newCluster(t, ids...)
	obj := objID(2)
	oa := c.mustOpen("a", obj, ids...)
	if err := commit(oa, put("k", "from-a")); err != nil {
		t.Fatal(err)
	}
	ob := c.mustOpen("b", obj, ids...)
	defer ob.Close()
	if !ob.Ballot().Less(ob.Ballot()) && !oa.Ballot().Less(ob.Ballot()) {
		t.Fatalf("ballots %s then %s", oa.Ballot(), ob.Ballot())
	}
	if err := commit(oa, put("k", "stale")); !errors.Is(err, ErrSuperseded) {
		t.Fatalf("old owner's commit: %v, want ErrSuperseded", err)
	}
	if err := commit(ob, put("k2", "from-b")); err != nil {
		t.Fatalf("new owner's commit: %v", err)
	}
	got, _ := ob.Get([]string{"k", "k2"})
	if string(got["k"]) != "from-a" || string(got["k2"]) != "from-b" {
		t.Fatalf("new owner reads %q", got)
	}
	for _, id := range ids {
		waitFor(t, "replica "+id+" has the new owner's write", func() bool {
			return readAll(t, c.node(id), obj)["k2"] == "from-b"
		})
		if v := readAll(t, c.node(id), obj)["k"]; v != "from-a" {
			t.Fatalf("replica %s holds k=%q: a superseded write landed", id, v)
		}
	}
}

// TestConcurrentOwnersLoseNoAcknowledgedWrite runs two owners of one
// object at once, each opening again whenever it is superseded. Whatever
// either got acknowledged must be in the final state: two owners never
// both get writes acknowledged on diverging histories.
func TestConcurrentOwnersLoseNoAcknowledgedWrite(t *testing.T) {
	ids := []string{"a", "b", "c"}
	c := newCluster(t, ids...)
	obj := objID(3)
	var mu sync.Mutex
	acked := map[string]bool{}
	deadline := time.Now().Add(3 * time.Second)
	var wg sync.WaitGroup
	for _, owner := range []string{"a", "b"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var o *Object
			for i := 0; time.Now().Before(deadline) && i < 2000; i++ {
				if o == nil {
					var err error
					if o, err = c.open(owner, obj, ids...); err != nil {
						o = nil
						continue
					}
				}
				key := fmt.Sprintf("%s-%04d", owner, i)
				err := commit(o, put(key, owner))
				if err == nil {
					mu.Lock()
					acked[key] = true
					mu.Unlock()
					continue
				}
				if !errors.Is(err, ErrSuperseded) {
					t.Errorf("owner %s commit: %v", owner, err)
					return
				}
				o.Close()
				o = nil
			}
			if o != nil {
				o.Close()
			}
		}()
	}
	wg.Wait()
	final := c.mustOpen("c", obj, ids...)
	defer final.Close()
	state, err := final.List(ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, e := range state {
		have[e.Key] = true
	}
	var byA, byB int
	for k := range acked {
		if !have[k] {
			t.Errorf("acknowledged write %s lost", k)
		}
		if k[0] == 'a' {
			byA++
		} else {
			byB++
		}
	}
	t.Logf("%d writes acknowledged (a %d, b %d), %d in the final state", len(acked), byA, byB, len(state))
	if len(acked) == 0 {
		t.Fatal("no write was acknowledged")
	}
}

func TestReplicaThatMissedWritesCatchesUp(t *testing.T) {
	ids := []string{"a", "b", "c"}
	c := newCluster(t, ids...)
	obj := objID(4)
	o := c.mustOpen("a", obj, ids...)
	defer o.Close()
	if err := commit(o, put("k0", "v0")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "c has the first write", func() bool { return readAll(t, c.node("c"), obj)["k0"] == "v0" })
	rejoin := c.isolate("c")
	for i := 1; i <= 10; i++ {
		if err := commit(o, put(fmt.Sprintf("k%d", i), "v"), del("k0")); err != nil {
			t.Fatalf("commit %d with c away: %v", i, err)
		}
	}
	// c's lag is visible while it is away.
	if lag := c.node("a").rep.Lag(time.Now())["c"]; lag <= 0 {
		t.Fatalf("lag of c %v, want > 0", lag)
	}
	if got := readAll(t, c.node("c"), obj); len(got) != 1 {
		t.Fatalf("isolated c holds %v", got)
	}
	rejoin()
	want := readAll(t, c.node("a"), obj)
	waitFor(t, "c caught up", func() bool {
		m, _ := c.node("c").store.Meta(obj)
		return m.Seq == 11 && m.Accepted == o.Ballot()
	})
	if got := readAll(t, c.node("c"), obj); !mapsEqual(got, want) {
		t.Fatalf("c holds %v, owner %v", got, want)
	}
	waitFor(t, "lag back to 0", func() bool { return c.node("a").rep.Lag(time.Now())["c"] == 0 })
	// And it follows write by write again.
	if err := commit(o, put("k11", "v")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "c follows", func() bool { return readAll(t, c.node("c"), obj)["k11"] == "v" })
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

// TestReplicaSetChangeKeepsAcknowledgedWrites moves an object's replica
// set one member at a time, with the owner and members dying on the way.
func TestReplicaSetChangeKeepsAcknowledgedWrites(t *testing.T) {
	ids := []string{"a", "b", "c", "d", "e", "f"}
	c := newCluster(t, ids...)
	obj := objID(5)
	want := map[string]string{}
	write := func(o *Object, tag string, n int) {
		t.Helper()
		for i := range n {
			k := fmt.Sprintf("%s%d", tag, i)
			if err := commit(o, put(k, tag)); err != nil {
				t.Fatalf("commit %s: %v", k, err)
			}
			want[k] = tag
		}
	}
	check := func(o *Object) {
		t.Helper()
		es, err := o.List(ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, e := range es {
			got[e.Key] = string(e.Value)
		}
		if !mapsEqual(got, want) {
			t.Fatalf("owner reads %d keys, want %d: %v", len(got), len(want), got)
		}
	}
	o := c.mustOpen("a", obj, "a", "b", "c")
	write(o, "abc", 5)
	// c dies; d replaces it, a stays the owner.
	c.crash("c")
	o.Close()
	o = c.mustOpen("a", obj, "a", "b", "d")
	check(o)
	write(o, "abd", 5)
	// a dies; the new set has two members that never held the object, and
	// its one old member (b) is the only one with a newer state.
	o.Close()
	c.crash("a")
	o = c.mustOpen("e", obj, "e", "b", "f")
	check(o)
	write(o, "ebf", 5)
	// b dies too: e, f and d (which got the abd writes) hold it.
	o.Close()
	c.crash("b")
	o = c.mustOpen("d", obj, "d", "e", "f")
	defer o.Close()
	check(o)
	write(o, "def", 3)
	check(o)
}

func TestCrashedReplicaRestartsAndCatchesUp(t *testing.T) {
	ids := []string{"a", "b", "c"}
	c := newCluster(t, ids...)
	obj := objID(6)
	o := c.mustOpen("a", obj, ids...)
	defer o.Close()
	for i := range 5 {
		if err := commit(o, put(fmt.Sprintf("k%d", i), "v")); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "b has 5 writes", func() bool { m, _ := c.node("b").store.Meta(obj); return m.Seq == 5 })
	fs := c.crash("b")
	for i := 5; i < 10; i++ {
		if err := commit(o, put(fmt.Sprintf("k%d", i), "v")); err != nil {
			t.Fatal(err)
		}
	}
	b := c.start("b", fs)
	// b kept what it acknowledged before the crash.
	if got := readAll(t, b, obj); len(got) < 5 {
		t.Fatalf("b restarted with %d keys, acknowledged 5", len(got))
	}
	// It is brought up to date by the next write.
	if err := commit(o, put("k10", "v")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b caught up", func() bool { return len(readAll(t, c.node("b"), obj)) == 11 })
	// Whole-owner restart: the owner is killed -9 and restarted, then opens again.
	o.Close()
	c.restart("a")
	o2 := c.mustOpen("a", obj, ids...)
	defer o2.Close()
	es, _ := o2.List(ListOptions{})
	if keys := keysOf(es); len(keys) != 11 || !slices.IsSorted(keys) {
		t.Fatalf("after the owner's restart: %v", keys)
	}
}

// TestRecordedSetIsConsulted: the new replica set's only old member holds
// an older state; the newest acknowledged writes live only on old members
// outside the new set. Open finds them through the set recorded with the
// state it found.
func TestRecordedSetIsConsulted(t *testing.T) {
	ids := []string{"a", "b", "c", "e", "f"}
	c := newCluster(t, ids...)
	obj := objID(7)
	o := c.mustOpen("a", obj, "a", "b", "c")
	if err := commit(o, put("old", "1")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "c has the first write", func() bool { return readAll(t, c.node("c"), obj)["old"] == "1" })
	rejoin := c.isolate("c")
	for i := range 5 {
		if err := commit(o, put(fmt.Sprintf("new%d", i), "2")); err != nil {
			t.Fatal(err)
		}
	}
	o.Close()
	c.crash("a")
	rejoin()
	// New set: c (older state), e and f (nothing). b holds the newest
	// writes but is not in the set.
	o2 := c.mustOpen("e", obj, "e", "c", "f")
	defer o2.Close()
	got, err := o2.Get([]string{"old", "new0", "new4"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("new owner reads %q, want old, new0 and new4", got)
	}
}

func TestLagMetricIsExported(t *testing.T) {
	ids := []string{"a", "b", "c"}
	c := newCluster(t, ids...)
	// Before any object is open, this node reports itself.
	if got := gatherLag(t, c.node("a")); len(got) != 1 || got["a"] != 0 {
		t.Fatalf("lag series before any write: %v", got)
	}
	obj := objID(8)
	o := c.mustOpen("a", obj, ids...)
	defer o.Close()
	rejoin := c.isolate("c")
	if err := commit(o, put("k", "v")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	got := gatherLag(t, c.node("a"))
	if got["c"] < 0.05 || got["b"] != 0 || got["a"] != 0 {
		t.Fatalf("lag with c away: %v", got)
	}
	rejoin()
	waitFor(t, "c's lag back to 0", func() bool { return gatherLag(t, c.node("a"))["c"] == 0 })
}

func gatherLag(t *testing.T, n *tnode) map[string]float64 {
	t.Helper()
	mfs, err := n.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "edge_do_replication_lag_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			out[m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
		}
	}
	return out
}

// TestLargeStateMovesInChunks: a state of several chunks is installed on
// a replica that missed it and fetched by a new owner that lacks it.
func TestLargeStateMovesInChunks(t *testing.T) {
	ids := []string{"a", "b", "c"}
	c := newCluster(t, ids...)
	obj := objID(9)
	o := c.mustOpen("a", obj, ids...)
	waitFor(t, "c adopted the state", func() bool { m, _ := c.node("c").store.Meta(obj); return m.Accepted == o.Ballot() })
	rejoin := c.isolate("c")
	big := make([]byte, 1<<20)
	for i := range 12 { // 12 MiB: three chunks
		big[0] = byte(i)
		if err := commit(o, Op{Kind: OpPut, Key: fmt.Sprintf("big%02d", i), Value: big}); err != nil {
			t.Fatal(err)
		}
	}
	rejoin()
	if err := commit(o, put("last", "1")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "c received the whole state", func() bool { m, _ := c.node("c").store.Meta(obj); return m.Seq == 13 })
	es, _ := c.node("c").store.List(obj, ListOptions{})
	if len(es) != 13 || es[5].Value[0] != 5 || len(es[5].Value) != 1<<20 {
		t.Fatalf("c holds %d entries", len(es))
	}
	o.Close()
	// A new owner with no copy fetches it: d replaces a.
	c.crash("a")
	c.start("d", vfs.NewCrashableMem())
	o2 := c.mustOpen("d", obj, "d", "b", "c")
	defer o2.Close()
	if sz, _ := o2.Size(); sz != 12*(5+1<<20)+5 {
		t.Fatalf("new owner's size %d", sz)
	}
	got, _ := o2.Get([]string{"big11", "last"})
	if len(got["big11"]) != 1<<20 || got["big11"][0] != 11 || string(got["last"]) != "1" {
		t.Fatal("new owner's state differs")
	}
}
