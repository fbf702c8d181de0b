package testcluster

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/pkg/catalog"
	"github.com/edgeplane/edgeplane/pkg/wire"
)

// These tests kill one node (Kill: no goodbye, as kill -9) at the moments
// of a cluster's life where a membership change is in flight, and check
// that the others keep or regain a leader and that the cluster is back at
// its voter target once the node returns. Timings are logged as
// "measured:" lines.

// regainBound is how long the survivors may go without a leader. Raft
// itself needs about a second with FastTiming; the margin is for a loaded
// 2-core machine running the whole suite under the race detector (CI once
// took over 10 s, while the same test alone measures about a second).
const regainBound = 30 * time.Second

// isVoter reports whether observer's Raft configuration makes id a voter.
func isVoter(t *testing.T, m *Member, id string) bool {
	t.Helper()
	n := m.Node()
	if n == nil {
		return false
	}
	servers, err := n.RaftServers()
	if err != nil {
		return false
	}
	for _, s := range servers {
		if s.ID == id {
			return s.Voter
		}
	}
	return false
}

// inConfig reports whether observer's Raft configuration holds id.
func inConfig(m *Member, id string) bool {
	n := m.Node()
	if n == nil {
		return false
	}
	servers, _ := n.RaftServers()
	for _, s := range servers {
		if s.ID == id {
			return true
		}
	}
	return false
}

// waitLeaderAmongUp waits for a leader among the running nodes and returns
// how long it took from since.
func waitLeaderAmongUp(t *testing.T, c *Cluster, since time.Time, what string) (*Member, time.Duration) {
	t.Helper()
	leader := c.WaitLeader(regainBound)
	d := time.Since(since).Round(time.Millisecond)
	t.Logf("measured: %s: leader %s after %v", what, leader.ID, d)
	return leader, d
}

// waitVoterTarget waits until every running node reports 3 voters and the
// cluster is ready, and logs how long it took from since.
func waitVoterTarget(t *testing.T, c *Cluster, since time.Time, what string) {
	t.Helper()
	c.WaitFor("every node reports 3 voters", 30*time.Second, func() bool {
		for _, m := range c.Up() {
			if n := m.Node(); n == nil || n.Status().Raft.Voters != 3 {
				return false
			}
		}
		ok, _ := c.agreed()
		return ok
	})
	t.Logf("measured: %s: voter target (3) reached after %v", what, time.Since(since).Round(time.Millisecond))
}

func TestFormationKillBeforeBootstrap(t *testing.T) {
	start := time.Now()
	c := Start(t, Options{Nodes: 3, BootstrapExpect: 3, NoWait: true})
	c.Kill(2)
	// The two others must not form a cluster of their own: they expect
	// three. At most one leader ever (if node-3 answered before dying, the
	// others bootstrapped the three-voter configuration and elect among two).
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		leaders := 0
		for _, m := range c.Up() {
			if m.Node().Status().Raft.State == wire.RaftLeader {
				leaders++
			}
		}
		if leaders > 1 {
			t.Fatalf("two leaders:\n%s", c.Describe())
		}
		time.Sleep(50 * time.Millisecond)
	}
	restarted := time.Now()
	c.Restart(2)
	waitLeaderAmongUp(t, c, restarted, "killed before bootstrap, restarted")
	waitVoterTarget(t, c, restarted, "killed before bootstrap, restarted")
	t.Logf("measured: formation with a kill before bootstrap, total %v", time.Since(start).Round(time.Millisecond))
}

func TestFormationKillRightAfterFirstLeader(t *testing.T) {
	for _, victimIsLeader := range []bool{false, true} {
		name := "follower"
		if victimIsLeader {
			name = "leader"
		}
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			c := Start(t, Options{Nodes: 3, BootstrapExpect: 3, NoWait: true})
			leader := c.WaitLeader(20 * time.Second)
			t.Logf("measured: --bootstrap-expect 3: first leader %s after %v", leader.ID, time.Since(start).Round(time.Millisecond))
			victim := c.Index(leader)
			if !victimIsLeader {
				victim = (victim + 1) % 3
			}
			// All three are voters from the first configuration: no
			// promotion is pending that could pick the dead node.
			for _, m := range c.Up() {
				if !isVoter(t, leader, m.ID) {
					t.Fatalf("%s not a voter of the first configuration", m.ID)
				}
			}
			killed := time.Now()
			c.Kill(victim)
			if victimIsLeader && !anySurvivorHasTheConfiguration(c) {
				// Known limit: the first leader died before it sent the
				// configuration to anyone. The survivors voted for it
				// without a configuration of their own, so they can
				// neither bootstrap (Raft refuses once a node voted) nor
				// elect; they wait for it to return (CI met this twice in
				// eight runs). They must not form anything meanwhile.
				t.Logf("measured: the first leader died before any other founder had the configuration:\n%s", c.Describe())
				for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
					for _, m := range c.Up() {
						if st := m.Node().Status(); st.Raft.State == wire.RaftLeader || st.Raft.Voters > 0 {
							t.Fatalf("%s formed something without the first leader:\n%s", m.ID, c.Describe())
						}
					}
				}
			} else {
				waitLeaderAmongUp(t, c, killed, "kill the "+name+" right after the first leader")
			}
			restarted := time.Now()
			c.Restart(victim)
			waitVoterTarget(t, c, restarted, "killed "+name+" restarted")
		})
	}
}

// anySurvivorHasTheConfiguration reports whether a running node knows a
// Raft configuration (it bootstrapped one or a leader sent it).
func anySurvivorHasTheConfiguration(c *Cluster) bool {
	for _, m := range c.Up() {
		if m.Node().Status().Raft.Voters > 0 {
			return true
		}
	}
	return false
}

// The issue-7 scenario on the old path (first node bootstraps alone, the
// others join as non-voters): kill a follower as soon as all three agree
// on a leader. Gossip still calls it alive for a second or two; autopilot
// must not promote it.
func TestJoinPathKillNonvoterBeforePromotion(t *testing.T) {
	c := Start(t, Options{Nodes: 3, NoWait: true})
	var leader *Member
	c.WaitFor("all three agree on a leader", 20*time.Second, func() bool {
		leader = nil
		id := ""
		for _, m := range c.Up() {
			st := m.Node().Status()
			if st.Raft.LeaderID == "" || id != "" && st.Raft.LeaderID != id {
				return false
			}
			id = st.Raft.LeaderID
		}
		for _, m := range c.Up() {
			if m.ID == id {
				leader = m
			}
		}
		return leader != nil
	})
	victim := (c.Index(leader) + 1) % 3
	vid := c.Member(victim).ID
	wasVoter := isVoter(t, leader, vid)
	killed := time.Now()
	c.Kill(victim)
	t.Logf("killed %s (voter at kill time: %v)", vid, wasVoter)
	// For longer than stabilization plus a couple of autopilot rounds, the
	// survivors always have a leader again within the bound and the dead
	// node is never promoted.
	until := time.Now().Add(4 * time.Second)
	var worst time.Duration
	for time.Now().Before(until) {
		since := time.Now()
		l := c.WaitLeader(regainBound)
		if d := time.Since(since); d > worst {
			worst = d
		}
		if !wasVoter && isVoter(t, l, vid) {
			t.Fatalf("dead %s promoted:\n%s", vid, c.Describe())
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("measured: kill a just-joined non-voter: longest leaderless wait %v over %v", worst.Round(time.Millisecond), time.Since(killed).Round(time.Millisecond))
	restarted := time.Now()
	c.Restart(victim)
	waitVoterTarget(t, c, restarted, "killed non-voter restarted")
}

// A voter dies in a four-node cluster; autopilot replaces it with the
// healthy non-voter; the replacement dies while being promoted.
func TestReplacementKilledWhileBeingPromoted(t *testing.T) {
	c := Start(t, Options{Nodes: 3, BootstrapExpect: 3})
	c.AddNode("") // node-4, us-east: a non-voter at the target
	leader := c.WaitLeader(10 * time.Second)
	c.WaitFor("node-4 in the configuration", 10*time.Second, func() bool { return inConfig(leader, "node-4") })
	// Let node-4 be healthy long enough to be a stable candidate.
	time.Sleep(2 * time.Second)
	voter := -1
	for i := range 3 {
		if c.Member(i) != leader {
			voter = i
			break
		}
	}
	vid := c.Member(voter).ID
	killed := time.Now()
	c.Kill(voter)
	c.WaitFor("the replacement begins", 20*time.Second, func() bool {
		l := c.Leader()
		return l != nil && (!isVoter(t, l, vid) || isVoter(t, l, "node-4"))
	})
	t.Logf("measured: voter %s killed, replacement started after %v", vid, time.Since(killed).Round(time.Millisecond))
	l := c.Leader()
	t.Logf("at the second kill: %s voter=%v, node-4 voter=%v", vid, isVoter(t, l, vid), isVoter(t, l, "node-4"))
	killed2 := time.Now()
	c.Kill(3)
	waitLeaderAmongUp(t, c, killed2, "replacement killed while being promoted")
	restarted := time.Now()
	c.Restart(voter)
	c.Restart(3)
	waitVoterTarget(t, c, restarted, "both killed nodes restarted")
}

// Two of three nodes are lost for good. The operator writes peers.json on
// the survivor naming only itself and restarts it: it leads alone, with
// every entry committed before.
func TestLostQuorumRecoveryWithPeersJSON(t *testing.T) {
	c := Start(t, Options{Nodes: 3, BootstrapExpect: 3})
	leader := c.WaitLeader(10 * time.Second)
	var names []string
	for i := range 4 {
		name := "before-loss-" + string(rune('a'+i))
		// Under load a leadership change can make the proposer retry an
		// entry that was committed: "exists" then means written.
		if _, err := leader.Node().CreateResource(ctxT(t), catalog.KindKVNamespace, "", name); err != nil && !errors.Is(err, catalog.ErrExists) {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	leader = c.WaitLeader(10 * time.Second)
	want := leader.Node().Status().Raft.CommitIndex
	survivor := c.Member(0)
	c.WaitFor("survivor applied every entry", 10*time.Second, func() bool {
		return survivor.Node().Status().Raft.AppliedIndex >= want
	})
	account := survivor.Node().AccountID()
	c.Kill(1)
	c.Kill(2)
	c.Kill(0)

	peers := []map[string]any{{"id": survivor.ID, "address": survivor.RaftAddr(), "non_voter": false}}
	b, _ := json.Marshal(peers)
	if err := os.WriteFile(filepath.Join(survivor.RaftDir(), "peers.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	restarted := time.Now()
	c.Restart(0)
	l, _ := waitLeaderAmongUp(t, c, restarted, "recovery from peers.json")
	if l != survivor {
		t.Fatalf("leader %s, want the survivor", l.ID)
	}
	c.WaitReady(10 * time.Second)
	got := map[string]bool{}
	for _, r := range survivor.Node().Catalog().Resources(catalog.KindKVNamespace, account) {
		got[r.Name] = true
	}
	for _, n := range names {
		if !got[n] {
			t.Fatalf("namespace %s lost in recovery; have %v", n, got)
		}
	}
	if st := survivor.Node().Status(); st.Raft.Voters != 1 {
		t.Fatalf("voters after recovery = %d", st.Raft.Voters)
	}
	if _, err := os.Stat(filepath.Join(survivor.RaftDir(), "peers.json")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("peers.json still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(survivor.RaftDir(), "peers.json.applied")); err != nil {
		t.Fatalf("peers.json.applied: %v", err)
	}
	if _, err := survivor.Node().CreateResource(ctxT(t), catalog.KindKVNamespace, "", "after-recovery"); err != nil {
		t.Fatalf("write after recovery: %v", err)
	}
	// A second restart does not apply the file again, and keeps everything.
	c.Kill(0)
	c.Restart(0)
	c.WaitReady(10 * time.Second)
	// The log past the recovery snapshot is applied once the restarted
	// leader commits its first entry.
	c.WaitFor("every namespace after a second restart", 10*time.Second, func() bool {
		return len(survivor.Node().Catalog().Resources(catalog.KindKVNamespace, account)) == len(names)+1
	})
}

func TestRemoveDeadMemberThroughAnyNode(t *testing.T) {
	c := Start(t, Options{Nodes: 3, BootstrapExpect: 3})
	leader := c.WaitLeader(10 * time.Second)
	li := c.Index(leader)
	follower, victim := c.Member((li+1)%3), c.Member((li+2)%3)

	if code, body := c.RemoveMember(follower, victim.ID, false); code != http.StatusConflict {
		t.Fatalf("live voter without force: %d %s", code, body)
	}
	// The leader exports autopilot's judgement: three healthy voters, one
	// failure tolerated.
	c.WaitFor("autopilot metrics on the leader", 10*time.Second, func() bool {
		m := metricsText(t, c, leader)
		return strings.Contains(m, "edge_raft_autopilot_healthy 1") && strings.Contains(m, "edge_raft_autopilot_failure_tolerance 1")
	})
	if m := metricsText(t, c, follower); strings.Contains(m, "edge_raft_autopilot_healthy") {
		t.Fatal("a follower exports autopilot metrics")
	}
	if code, body := c.RemoveMember(follower, "no-such-node", false); code != http.StatusNotFound {
		t.Fatalf("unknown: %d %s", code, body)
	}
	c.Kill((li + 2) % 3)
	c.WaitFor(victim.ID+" failed in gossip", 10*time.Second, func() bool {
		return c.StateOf(c.Index(follower), victim.ID) == wire.StateFailed && c.StateOf(li, victim.ID) == wire.StateFailed
	})
	// Through the follower: it hands the removal to the leader over gRPC.
	code, body := c.RemoveMember(follower, victim.ID, false)
	if code != http.StatusOK || !strings.Contains(body, `"was_voter":true`) {
		t.Fatalf("remove dead voter: %d %s", code, body)
	}
	c.WaitFor("configuration without "+victim.ID, 5*time.Second, func() bool {
		return !inConfig(leader, victim.ID) && !inConfig(follower, victim.ID) && leader.Node().Status().Raft.Voters == 2
	})
	if c.StateOf(c.Index(follower), victim.ID) != "" {
		t.Fatalf("%s still in the answering node's gossip table", victim.ID)
	}
	// Two voters left; removing the follower too is refused while it lives.
	if code, body := c.RemoveMember(leader, follower.ID, false); code != http.StatusConflict {
		t.Fatalf("live voter: %d %s", code, body)
	}
	// The leader refuses to remove itself without force.
	if code, body := c.RemoveMember(leader, leader.ID, false); code != http.StatusConflict {
		t.Fatalf("self: %d %s", code, body)
	}
}

func TestRemoveTheOnlyVoterIsRefusedEvenWithForce(t *testing.T) {
	c := Start(t, Options{Nodes: 1})
	m := c.Member(0)
	code, body := c.RemoveMember(m, m.ID, true)
	if code != http.StatusConflict || !strings.Contains(body, "only voter") {
		t.Fatalf("%d %s", code, body)
	}
}

func metricsText(t *testing.T, c *Cluster, m *Member) string {
	t.Helper()
	req, err := http.NewRequestWithContext(ctxT(t), http.MethodGet, m.URL()+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Token())
	resp, err := c.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
