package router

import (
	"fmt"
	"slices"
	"testing"
)

var fiveNodes = []string{"node-1", "node-2", "node-3", "node-4", "node-5"}

func TestRendezvousStableAndOrderIndependent(t *testing.T) {
	reversed := slices.Clone(fiveNodes)
	slices.Reverse(reversed)
	for i := 0; i < 100; i++ {
		key := fmt.Sprintf("object-%d", i)
		a := Rendezvous(key, fiveNodes)
		b := Rendezvous(key, reversed)
		if !slices.Equal(a, b) {
			t.Fatalf("key %s: order depends on input order: %v vs %v", key, a, b)
		}
		if !slices.Equal(a, Rendezvous(key, fiveNodes)) {
			t.Fatalf("key %s: not deterministic", key)
		}
		if len(a) != len(fiveNodes) {
			t.Fatalf("key %s: got %d nodes, want %d", key, len(a), len(fiveNodes))
		}
		if Owner(key, fiveNodes) != a[0] {
			t.Fatalf("key %s: Owner = %s, Rendezvous[0] = %s", key, Owner(key, fiveNodes), a[0])
		}
	}
	if !slices.Equal(fiveNodes, []string{"node-1", "node-2", "node-3", "node-4", "node-5"}) {
		t.Fatal("Rendezvous modified its input")
	}
}

func TestRendezvousBalance(t *testing.T) {
	const keys = 1000
	owned := map[string]int{}
	for i := 0; i < keys; i++ {
		owned[Rendezvous(fmt.Sprintf("key-%d", i), fiveNodes)[0]]++
	}
	// Expected 200 each, standard deviation about 12.6: 140..260 is more
	// than 4.5 sigma, so a fair hash never fails it and a biased one does.
	for _, n := range fiveNodes {
		if c := owned[n]; c < 140 || c > 260 {
			t.Errorf("node %s owns %d of %d keys, want 140..260 (all: %v)", n, c, keys, owned)
		}
	}
}

func TestRendezvousMinimalMovement(t *testing.T) {
	const leaver = "node-3"
	remaining := slices.DeleteFunc(slices.Clone(fiveNodes), func(n string) bool { return n == leaver })
	moved := 0
	for i := 0; i < 1000; i++ {
		key := fmt.Sprintf("key-%d", i)
		before := Rendezvous(key, fiveNodes)
		after := Rendezvous(key, remaining)
		if before[0] != leaver {
			if after[0] != before[0] {
				t.Fatalf("key %s moved from %s to %s though %s stayed", key, before[0], after[0], before[0])
			}
			continue
		}
		moved++
		if after[0] != before[1] {
			t.Fatalf("key %s of the leaver went to %s, want its successor %s", key, after[0], before[1])
		}
	}
	if moved == 0 {
		t.Fatal("the leaver owned no keys; the test proves nothing")
	}

	// A joining node takes keys only for itself.
	joined := append(slices.Clone(fiveNodes), "node-6")
	for i := 0; i < 1000; i++ {
		key := fmt.Sprintf("key-%d", i)
		before, after := Owner(key, fiveNodes), Owner(key, joined)
		if after != before && after != "node-6" {
			t.Fatalf("key %s moved from %s to %s on a join of node-6", key, before, after)
		}
	}
}

func TestRendezvousEdgeCases(t *testing.T) {
	if got := Rendezvous("k", nil); len(got) != 0 {
		t.Errorf("no nodes: %v", got)
	}
	if got := Owner("k", nil); got != "" {
		t.Errorf("Owner with no nodes = %q", got)
	}
	if got := Rendezvous("k", []string{"a", "b", "a"}); len(got) != 2 {
		t.Errorf("duplicates kept: %v", got)
	}
	if hrwScore("ab", "c") == hrwScore("a", "bc") {
		t.Error("node and key boundaries are ambiguous")
	}
}
