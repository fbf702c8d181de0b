package do

import (
	"slices"
	"testing"

	"github.com/edgeplane/edgeplane/pkg/catalog"
	"github.com/edgeplane/edgeplane/pkg/do/lease"
	"github.com/edgeplane/edgeplane/pkg/router"
)

func placementModule(t *testing.T, replicas int, recs ...lease.Command) *Module {
	t.Helper()
	m := &Module{table: lease.NewTable(), opts: Options{Replicas: replicas}.withDefaults()}
	for _, c := range recs {
		if !m.table.Apply(c).Accepted {
			t.Fatalf("command %+v refused", c)
		}
	}
	return m
}

func reg(node, region string) lease.Command {
	return lease.Command{Op: lease.OpRegister, Node: node, Region: region, Now: 1, Expiration: 1000}
}

// TestPlacement: replicas are the first R of the rendezvous order over every
// registered node; the owner is the first that is not dead; a dead first
// node leaves the replica set unchanged; a location hint restricts the
// order to its region when that region has nodes.
func TestPlacement(t *testing.T) {
	m := placementModule(t, 3, reg("a", "us"), reg("b", "us"), reg("c", "eu"), reg("d", "eu"), reg("e", "ap"))
	ns := catalog.Resource{ID: "ns1"}
	p, err := m.Place(ns, "obj")
	if err != nil {
		t.Fatal(err)
	}
	want := router.Rendezvous("ns1/obj", []string{"a", "b", "c", "d", "e"})
	if !slices.Equal(p.Order, want) || p.Owner != want[0] || !slices.Equal(p.Replicas, want[:3]) {
		t.Fatalf("placement %+v, order %v", p, want)
	}
	// The owner dies: the next node owns, the replica set stays.
	m.table.Apply(lease.Command{Op: lease.OpIncrement, Node: want[0], Epoch: 1, PrevExpiration: 1000, Now: 2000})
	p2, _ := m.Place(ns, "obj")
	if p2.Owner != want[1] || !slices.Equal(p2.Replicas, want[:3]) {
		t.Fatalf("after the owner died: %+v", p2)
	}
	// The first three die: the owner is the fourth and joins the set.
	for _, n := range want[1:3] {
		m.table.Apply(lease.Command{Op: lease.OpIncrement, Node: n, Epoch: 1, PrevExpiration: 1000, Now: 2000})
	}
	p3, _ := m.Place(ns, "obj")
	if p3.Owner != want[3] || !slices.Contains(p3.Replicas, want[3]) || len(p3.Replicas) != 3 {
		t.Fatalf("after three died: %+v", p3)
	}
	// Everyone dead: no owner.
	m.table.Apply(lease.Command{Op: lease.OpIncrement, Node: want[3], Epoch: 1, PrevExpiration: 1000, Now: 2000})
	m.table.Apply(lease.Command{Op: lease.OpIncrement, Node: want[4], Epoch: 1, PrevExpiration: 1000, Now: 2000})
	if _, err := m.Place(ns, "obj"); err == nil {
		t.Fatal("an owner among dead nodes")
	}

	// A location hint keeps objects in the region; an empty region falls
	// back to every node.
	m = placementModule(t, 3, reg("a", "us"), reg("b", "us"), reg("c", "eu"), reg("d", "eu"), reg("e", "ap"))
	eu := catalog.Resource{ID: "ns2", Attrs: map[string]string{attrLocationHint: "eu"}}
	for _, obj := range []string{"x", "y", "z", "w"} {
		p, err := m.Place(eu, obj)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Replicas) != 2 || (p.Owner != "c" && p.Owner != "d") {
			t.Fatalf("hinted object %s placed at %+v", obj, p)
		}
	}
	nowhere := catalog.Resource{ID: "ns3", Attrs: map[string]string{attrLocationHint: "oc"}}
	if p, err := m.Place(nowhere, "x"); err != nil || len(p.Order) != 5 {
		t.Fatalf("hint without nodes: %+v %v", p, err)
	}
	// Replicas are capped by the cluster's size.
	m = placementModule(t, 5, reg("a", ""), reg("b", ""))
	if p, _ := m.Place(ns, "obj"); len(p.Replicas) != 2 {
		t.Fatalf("replicas %v in a 2-node cluster", p.Replicas)
	}
}
