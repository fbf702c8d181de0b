package netfault

import (
	"sync"
	"time"
)

// Table is the test harness's rule set: an address book of nodes and their
// regions, isolations, partitions, one-way blocks and latency between
// regions. Traffic to an address not in the book, and a node's traffic to
// itself, always passes. Every change re-applies the rules to the attached
// Nets, so live connections are cut or slowed at once. Methods are safe for
// concurrent use; the zero value is not usable, call NewTable.
type Table struct {
	mu       sync.Mutex
	nodeOf   map[string]string // normalized address -> node
	regionOf map[string]string // node -> region
	isolated map[string]bool
	blocked  map[[2]string]bool // {from node, to node}
	latency  map[[2]string]time.Duration
	nets     map[*Net]struct{}
}

var _ Rules = (*Table)(nil)

// NewTable returns an empty table: everything passes.
func NewTable() *Table {
	return &Table{
		nodeOf:   make(map[string]string),
		regionOf: make(map[string]string),
		isolated: make(map[string]bool),
		blocked:  make(map[[2]string]bool),
		latency:  make(map[[2]string]time.Duration),
		nets:     make(map[*Net]struct{}),
	}
}

// AddNode records node's region and every host:port it listens on. Adding a
// node again replaces its region and adds the addresses.
func (t *Table) AddNode(node, region string, addrs ...string) {
	t.change(func() {
		t.regionOf[node] = region
		for _, a := range addrs {
			t.nodeOf[NormalizeAddr(a)] = node
		}
	})
}

// Attach makes the table call n.Apply after each change. Closing n detaches
// it.
func (t *Table) Attach(n *Net) {
	t.mu.Lock()
	t.nets[n] = struct{}{}
	t.mu.Unlock()
	n.addCloseHook(func() {
		t.mu.Lock()
		delete(t.nets, n)
		t.mu.Unlock()
	})
}

// Isolate drops all traffic to and from node.
func (t *Table) Isolate(node string) {
	t.change(func() { t.isolated[node] = true })
}

// Partition drops traffic between the two groups of nodes, both directions.
// Traffic inside each group is untouched.
func (t *Table) Partition(a, b []string) {
	t.change(func() {
		for _, x := range a {
			for _, y := range b {
				t.blocked[[2]string{x, y}] = true
				t.blocked[[2]string{y, x}] = true
			}
		}
	})
}

// Block drops traffic from one node to another, one way: packets from->to
// and connections dialed by from to to. Connections dialed by to still
// carry data both ways; to cut them too, block both directions.
func (t *Table) Block(from, to string) {
	t.change(func() { t.blocked[[2]string{from, to}] = true })
}

// Heal removes every isolation, partition and block; latency stays.
func (t *Table) Heal() {
	t.change(func() {
		clear(t.isolated)
		clear(t.blocked)
	})
}

// SetLatency sets the one-way delay between two regions, both directions; a
// region with itself is allowed. Zero removes it.
func (t *Table) SetLatency(regionA, regionB string, oneWay time.Duration) {
	t.change(func() {
		k := regionPair(regionA, regionB)
		if oneWay <= 0 {
			delete(t.latency, k)
			return
		}
		t.latency[k] = oneWay
	})
}

// Link reports whether traffic from node from to address to is dropped and
// how long it is delayed one way.
func (t *Table) Link(from, to string) (bool, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	dst, ok := t.nodeOf[NormalizeAddr(to)]
	if !ok || dst == from {
		return false, 0
	}
	if t.isolated[from] || t.isolated[dst] || t.blocked[[2]string{from, dst}] {
		return true, 0
	}
	srcRegion, ok1 := t.regionOf[from]
	dstRegion, ok2 := t.regionOf[dst]
	if !ok1 || !ok2 {
		return false, 0
	}
	return false, t.latency[regionPair(srcRegion, dstRegion)]
}

// change applies f under the lock, then re-applies the rules to every
// attached Net outside it (Apply calls Link).
func (t *Table) change(f func()) {
	t.mu.Lock()
	f()
	nets := make([]*Net, 0, len(t.nets))
	for n := range t.nets {
		nets = append(nets, n)
	}
	t.mu.Unlock()
	for _, n := range nets {
		n.Apply()
	}
}

func regionPair(a, b string) [2]string {
	if b < a {
		a, b = b, a
	}
	return [2]string{a, b}
}
