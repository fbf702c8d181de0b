package cluster

import (
	"context"
	"errors"
	"testing"
	"time"
)

// Gossip between members of two clusters is refused both ways: a join to
// another cluster's seed ends at once with ErrOtherCluster, and neither
// side lists the other. A member that has not learned its cluster id yet
// (a fresh node) joins either.
func TestJoinAnotherClusterIsRefused(t *testing.T) {
	cfgA := fastConfig("a", "us-east")
	cfgA.Meta.Cluster = "c-one"
	a := startNode(t, cfgA)
	cfgB := fastConfig("b", "us-east")
	cfgB.Meta.Cluster = "c-two"
	b := startNode(t, cfgB)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	err := b.Join(ctx, []string{a.GossipAddr()})
	if !errors.Is(err, ErrOtherCluster) {
		t.Fatalf("join of another cluster's seed: %v, want ErrOtherCluster", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("refusal took %v: it must not be retried", time.Since(start))
	}
	time.Sleep(300 * time.Millisecond)
	if _, ok := a.Member("b"); ok {
		t.Fatal("a lists b of another cluster")
	}
	if _, ok := b.Member("a"); ok {
		t.Fatal("b lists a of another cluster")
	}

	fresh := startNode(t, fastConfig("f", "us-east"))
	if err := fresh.Join(ctx, []string{a.GossipAddr()}); err != nil {
		t.Fatalf("fresh node's join: %v", err)
	}
	waitFor(t, "a sees the fresh node", 5*time.Second, func() bool { return stateOf(a, "f") == StateAlive })
	if err := fresh.SetClusterID("c-one"); err != nil {
		t.Fatal(err)
	}
	if err := fresh.SetClusterID("c-two"); err == nil {
		t.Fatal("a recorded cluster id was changed")
	}
	waitFor(t, "a sees the fresh node's cluster id", 5*time.Second, func() bool {
		m, ok := a.Member("f")
		return ok && m.Cluster == "c-one"
	})
}
