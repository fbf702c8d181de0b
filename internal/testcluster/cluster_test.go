package testcluster

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/pkg/catalog"
	"github.com/edgeplane/edgeplane/pkg/wire"
)

func TestThreeRegionsFormOneCluster(t *testing.T) {
	start := time.Now()
	c := Start(t, Options{Nodes: 3})
	t.Logf("measured: 3-node cluster formed and ready in %v", time.Since(start).Round(time.Millisecond))

	regions := map[string]string{}
	for i := range 3 {
		n := c.Member(i).Node()
		ms := n.Members()
		if len(ms) != 3 {
			t.Fatalf("node %d lists %d members", i, len(ms))
		}
		for _, m := range ms {
			if m.State != wire.StateAlive {
				t.Fatalf("node %d sees %s %s", i, m.ID, m.State)
			}
			if prev, ok := regions[m.ID]; ok && prev != m.Region {
				t.Fatalf("nodes disagree on %s's region", m.ID)
			}
			regions[m.ID] = m.Region
		}
	}
	if len(regions) != 3 || regions["node-1"] != "us-east" || regions["node-2"] != "eu-west" || regions["node-3"] != "ap-south" {
		t.Fatalf("regions = %v", regions)
	}
	leaders := 0
	for _, m := range c.Up() {
		if m.Node().Status().Raft.State == wire.RaftLeader {
			leaders++
		}
	}
	if leaders != 1 {
		t.Fatalf("%d leaders:\n%s", leaders, c.Describe())
	}
	// All three become voters (target 3).
	c.WaitFor("3 voters", 10*time.Second, func() bool { return len(c.Voters(0)) == 3 })
}

func TestKillFollowerIsDetectedThenRejoinsAndCatchesUp(t *testing.T) {
	c := Start(t, Options{Nodes: 3})
	leader := c.WaitLeader(10 * time.Second)
	victim := (c.Index(leader) + 1) % 3
	observer := (c.Index(leader) + 2) % 3
	id := c.Member(victim).ID

	killed := time.Now()
	c.Kill(victim)
	c.WaitFor(id+" failed on the others", 10*time.Second, func() bool {
		return c.StateOf(c.Index(leader), id) == wire.StateFailed && c.StateOf(observer, id) == wire.StateFailed
	})
	t.Logf("measured: failure detected in %v", time.Since(killed).Round(time.Millisecond))

	// Writes while it is down.
	ln := leader.Node()
	for i := range 5 {
		if _, err := ln.CreateResource(ctxT(t), catalog.KindKVNamespace, "", "while-down-"+string(rune('a'+i))); err != nil {
			t.Fatal(err)
		}
	}
	want := ln.Status().Raft.CommitIndex

	restarted := time.Now()
	c.Restart(victim)
	c.WaitFor(id+" alive and caught up", 10*time.Second, func() bool {
		n := c.Member(victim).Node()
		return c.StateOf(c.Index(leader), id) == wire.StateAlive && n.Status().Raft.AppliedIndex >= want && n.Ready() == nil
	})
	t.Logf("measured: restarted node alive and caught up in %v", time.Since(restarted).Round(time.Millisecond))
	got := c.Member(victim).Node().Catalog().Resources(catalog.KindKVNamespace, ln.AccountID())
	if len(got) != 5 {
		t.Fatalf("restarted node has %d of 5 namespaces", len(got))
	}
}

func TestKillLeaderElectsNewLeaderWithCatalogIntact(t *testing.T) {
	c := Start(t, Options{Nodes: 3})
	c.WaitFor("3 voters", 10*time.Second, func() bool { return len(c.Voters(0)) == 3 })
	leader := c.WaitLeader(10 * time.Second)
	res, err := leader.Node().CreateResource(ctxT(t), catalog.KindKVNamespace, "", "before-failover")
	if err != nil {
		t.Fatal(err)
	}
	oldTerm := leader.Node().Status().Raft.Term

	killed := time.Now()
	c.Kill(c.Index(leader))
	newLeader := c.WaitLeader(10 * time.Second)
	t.Logf("measured: new leader %s elected %v after the leader was killed", newLeader.ID, time.Since(killed).Round(time.Millisecond))
	if newLeader == leader || newLeader.Node().Status().Raft.Term <= oldTerm {
		t.Fatalf("no new leader:\n%s", c.Describe())
	}
	// A new leader applies what was committed before once it commits in its
	// own term; the survivors must all get there.
	c.WaitFor("survivors hold the namespace created before failover", 5*time.Second, func() bool {
		for _, m := range c.Up() {
			if _, ok := m.Node().Catalog().Resource(catalog.KindKVNamespace, res.AccountID, res.ID); !ok {
				return false
			}
		}
		return true
	})
	// The survivors still commit.
	if _, err := newLeader.Node().CreateResource(ctxT(t), catalog.KindKVNamespace, "", "after-failover"); err != nil {
		t.Fatal(err)
	}
}

func TestFiveNodesKeepThreeVotersInThreeRegions(t *testing.T) {
	c := Start(t, Options{Nodes: 5})
	var voters []string
	c.WaitFor("3 voters in 3 regions", 20*time.Second, func() bool {
		st := c.Member(0).Node().Status()
		if st.Raft.Voters != 3 || st.Raft.Nonvoters != 2 {
			return false
		}
		voters = c.Voters(0)
		if len(voters) != 3 {
			return false
		}
		regions := map[string]bool{}
		for _, m := range c.Member(0).Node().Members() {
			if slices.Contains(voters, m.ID) {
				regions[m.Region] = true
			}
		}
		return len(regions) == 3
	})
	// Non-voters follow the log.
	leader := c.WaitLeader(5 * time.Second)
	if _, err := leader.Node().CreateResource(ctxT(t), catalog.KindD1Database, "", "followed"); err != nil {
		t.Fatal(err)
	}
	want := leader.Node().Status().Raft.CommitIndex
	for _, m := range c.Up() {
		if slices.Contains(voters, m.ID) {
			continue
		}
		c.WaitFor(m.ID+" (non-voter) applies the log", 5*time.Second, func() bool {
			st := m.Node().Status()
			return st.Raft.State == wire.RaftNonvoter && st.Raft.AppliedIndex >= want
		})
	}
}

func TestPartitionStopsTrafficBothWaysAndHeals(t *testing.T) {
	c := Start(t, Options{Nodes: 3})
	c.WaitFor("3 voters", 10*time.Second, func() bool { return len(c.Voters(0)) == 3 })
	leader := c.WaitLeader(10 * time.Second)
	li := c.Index(leader)
	other := (li + 1) % 3

	// Isolate the leader: the majority side elects a new one, and both
	// sides see the other as failed.
	c.Isolate(li)
	c.WaitFor("majority sees old leader failed", 10*time.Second, func() bool {
		return c.StateOf(other, leader.ID) == wire.StateFailed
	})
	c.WaitFor("isolated leader sees the others failed", 10*time.Second, func() bool {
		return c.StateOf(li, c.Member(other).ID) == wire.StateFailed
	})
	c.WaitFor("new leader on the majority side", 10*time.Second, func() bool {
		l := c.Member(other).Node().Status().Raft.LeaderID
		return l != "" && l != leader.ID
	})
	// The isolated node cannot commit anything.
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	if _, err := leader.Node().CreateResource(ctx, catalog.KindKVNamespace, "", "minority-write"); err == nil {
		t.Fatal("isolated node committed a write")
	}

	c.Heal()
	c.WaitFor("everyone alive again", 15*time.Second, func() bool {
		for i := range 3 {
			for _, m := range c.Members() {
				if c.StateOf(i, m.ID) != wire.StateAlive {
					return false
				}
			}
		}
		return true
	})
	c.WaitReady(15 * time.Second)
	for _, m := range c.Up() {
		for _, r := range m.Node().Catalog().Resources(catalog.KindKVNamespace, m.Node().AccountID()) {
			if r.Name == "minority-write" {
				t.Fatalf("%s holds the write the minority could not commit", m.ID)
			}
		}
	}
}

func TestRegionLatencyShowsInRTTEstimates(t *testing.T) {
	c := Start(t, Options{Nodes: 3})
	c.SetLatency("us-east", "eu-west", 30*time.Millisecond)
	// One-way 30 ms each way: a 60 ms round trip between node-1 and node-2;
	// node-1 to node-3 (ap-south) stays at loopback speed.
	rtt := func(from int, to string) float64 {
		for _, m := range c.Member(from).Node().Members() {
			if m.ID == to && m.RTTMillis != nil {
				return *m.RTTMillis
			}
		}
		return -1
	}
	c.WaitFor("us-east to eu-west RTT near 60 ms", 40*time.Second, func() bool {
		return rtt(0, "node-2") > 45 && rtt(0, "node-3") >= 0 && rtt(0, "node-3") < 20
	})
	t.Logf("measured: RTT estimates from node-1: eu-west %.1f ms, ap-south %.1f ms", rtt(0, "node-2"), rtt(0, "node-3"))
}

func TestCatalogWritesFromAnyNodeReachTheLeader(t *testing.T) {
	c := Start(t, Options{Nodes: 3})
	leader := c.WaitLeader(10 * time.Second)
	follower := c.Member((c.Index(leader) + 1) % 3).Node()
	r, err := follower.CreateResource(ctxT(t), catalog.KindR2Bucket, "", "from-a-follower")
	if err != nil {
		t.Fatal(err)
	}
	// Read-your-write on the proposing follower, at once.
	if _, ok := follower.Catalog().Resource(catalog.KindR2Bucket, r.AccountID, r.ID); !ok {
		t.Fatal("follower does not see its own write")
	}
	// And everywhere soon.
	c.WaitFor("bucket everywhere", 5*time.Second, func() bool {
		for _, m := range c.Up() {
			if _, ok := m.Node().Catalog().Resource(catalog.KindR2Bucket, r.AccountID, r.ID); !ok {
				return false
			}
		}
		return true
	})
	// A duplicate name is refused through the same path.
	if _, err := follower.CreateResource(ctxT(t), catalog.KindR2Bucket, "", "from-a-follower"); err == nil {
		t.Fatal("duplicate name accepted")
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestNodeRestartsFromItsSnapshotAndLog(t *testing.T) {
	timing := FastTiming()
	timing.TrailingLogs = 5
	c := Start(t, Options{Nodes: 3, Timing: &timing})
	leader := c.WaitLeader(10 * time.Second)
	li := c.Index(leader)
	for i := range 40 {
		if _, err := leader.Node().CreateResource(ctxT(t), catalog.KindQueue, "", fmt.Sprintf("q-%02d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := leader.Node().Snapshot(); err != nil {
		t.Fatal(err)
	}
	// Entries after the snapshot live only in the log.
	for i := range 5 {
		if _, err := leader.Node().CreateResource(ctxT(t), catalog.KindQueue, "", fmt.Sprintf("after-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	want := leader.Node().Catalog().Resources(catalog.KindQueue, leader.Node().AccountID())
	if len(want) != 45 {
		t.Fatalf("leader holds %d queues, want 45", len(want))
	}
	snaps, _ := filepath.Glob(filepath.Join(leader.Dir, "raft", "snapshots", "*", "meta.json"))
	if len(snaps) == 0 {
		t.Fatal("no snapshot on disk after Snapshot")
	}

	// Crash it, and crash the others too, so it cannot be repaired from a
	// peer: its own snapshot and log must rebuild the catalog.
	for i := range 3 {
		c.Kill(i)
	}
	c.Restart(li)
	got := c.Member(li).Node().Catalog().Resources(catalog.KindQueue, leader.Node().AccountID())
	if len(got) != len(want) {
		c.WaitFor("catalog rebuilt from snapshot and log", 10*time.Second, func() bool {
			return len(c.Member(li).Node().Catalog().Resources(catalog.KindQueue, want[0].AccountID)) >= 40
		})
	}
	// The snapshot part is restored at open, before any peer is back.
	if n := len(c.Member(li).Node().Catalog().Resources(catalog.KindQueue, want[0].AccountID)); n < 40 {
		t.Fatalf("only %d queues after restart from the snapshot", n)
	}
	for i := range 3 {
		if i != li {
			c.Restart(i)
		}
	}
	c.WaitFor("every node holds all 45 queues", 15*time.Second, func() bool {
		for _, m := range c.Up() {
			if len(m.Node().Catalog().Resources(catalog.KindQueue, want[0].AccountID)) != 45 {
				return false
			}
		}
		return true
	})
	got = c.Member(li).Node().Catalog().Resources(catalog.KindQueue, want[0].AccountID)
	for i := range want {
		if got[i].ID != want[i].ID || got[i].Name != want[i].Name || !got[i].CreatedAt.Equal(want[i].CreatedAt) {
			t.Fatalf("resource %d differs: %+v vs %+v", i, got[i], want[i])
		}
	}
}
