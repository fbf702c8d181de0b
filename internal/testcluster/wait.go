package testcluster

import (
	"fmt"
	"strings"
	"time"

	"github.com/edgeplane/edgeplane/pkg/wire"
)

// WaitFor polls cond every 20 ms until it holds, failing the test with
// what after timeout.
func (c *Cluster) WaitFor(what string, timeout time.Duration, cond func() bool) {
	c.t.Helper()
	if err := poll(timeout, cond); err != nil {
		// Every node's Raft view: what a rare timeout in CI needs to be
		// understood without a rerun.
		c.t.Fatalf("testcluster: timed out after %v waiting for %s\n%s", timeout, what, c.Describe())
	}
}

func poll(timeout time.Duration, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("timeout")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// Up lists the running members.
func (c *Cluster) Up() []*Member {
	var out []*Member
	for _, m := range c.Members() {
		if m.Node() != nil {
			out = append(out, m)
		}
	}
	return out
}

// WaitReady waits until every running node is ready, they all agree on one
// leader and term, and the leader has promoted as many voters as it can.
func (c *Cluster) WaitReady(timeout time.Duration) {
	c.t.Helper()
	var last string
	if err := poll(timeout, func() bool {
		ok, why := c.agreed()
		last = why
		return ok
	}); err != nil {
		c.t.Fatalf("testcluster: not ready after %v: %s", timeout, last)
	}
}

// agreed reports whether every running node is ready with the same leader
// and term, and says what is missing when not.
func (c *Cluster) agreed() (bool, string) {
	leader, term := "", uint64(0)
	up := c.Up()
	for i, m := range up {
		n := m.Node()
		if n == nil {
			continue
		}
		if err := n.Ready(); err != nil {
			return false, fmt.Sprintf("%s not ready: %v", m.ID, err)
		}
		st := n.Status()
		if i == 0 {
			leader, term = st.Raft.LeaderID, st.Raft.Term
		} else if st.Raft.LeaderID != leader || st.Raft.Term != term {
			return false, fmt.Sprintf("%s sees leader %q term %d, others %q term %d", m.ID, st.Raft.LeaderID, st.Raft.Term, leader, term)
		}
		if want := min(c.opts.Voters, len(up)); st.Raft.Voters < want {
			return false, fmt.Sprintf("%s sees %d voters, want %d", m.ID, st.Raft.Voters, want)
		}
	}
	return true, ""
}

// Leader returns the member that is Raft leader, or nil.
func (c *Cluster) Leader() *Member {
	for _, m := range c.Up() {
		if n := m.Node(); n != nil && n.Status().Raft.State == wire.RaftLeader {
			return m
		}
	}
	return nil
}

// Index returns the slot index of a member.
func (c *Cluster) Index(m *Member) int {
	for i, x := range c.Members() {
		if x == m {
			return i
		}
	}
	return -1
}

// WaitLeader waits until exactly one running node leads and returns it.
func (c *Cluster) WaitLeader(timeout time.Duration) *Member {
	c.t.Helper()
	var leader *Member
	c.WaitFor("a raft leader", timeout, func() bool {
		leader = nil
		count := 0
		for _, m := range c.Up() {
			if n := m.Node(); n != nil && n.Status().Raft.State == wire.RaftLeader {
				leader = m
				count++
			}
		}
		return count == 1
	})
	return leader
}

// StateOf returns how observer sees member id in gossip ("" if unknown).
func (c *Cluster) StateOf(observer int, id string) string {
	n := c.Member(observer).Node()
	if n == nil {
		return ""
	}
	for _, m := range n.Members() {
		if m.ID == id {
			return m.State
		}
	}
	return ""
}

// Voters lists the ids that observer's gossip reports as voters, sorted.
func (c *Cluster) Voters(observer int) []string {
	var out []string
	n := c.Member(observer).Node()
	if n == nil {
		return nil
	}
	for _, m := range n.Members() {
		if m.Voter && m.State == wire.StateAlive {
			out = append(out, m.ID)
		}
	}
	return out
}

// Describe summarizes every node's view, for failure messages.
func (c *Cluster) Describe() string {
	var b strings.Builder
	for _, m := range c.Members() {
		n := m.Node()
		if n == nil {
			fmt.Fprintf(&b, "%s: down\n", m.ID)
			continue
		}
		st := n.Status()
		fmt.Fprintf(&b, "%s (%s): raft=%s leader=%s term=%d commit=%d applied=%d voters=%d nonvoters=%d\n",
			m.ID, m.Region, st.Raft.State, st.Raft.LeaderID, st.Raft.Term, st.Raft.CommitIndex, st.Raft.AppliedIndex, st.Raft.Voters, st.Raft.Nonvoters)
	}
	return b.String()
}
