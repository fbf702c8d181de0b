package testcluster

import (
	"net"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/pkg/netfault"
)

// TestFounderWhosePortWasTakenStartsOnNewPorts: a port found free and then
// taken by someone else before a founder binds it (CI's parallel test
// processes do) costs the founder its ports, not the test: it starts on
// new ones, the founders after it are told, and the three form a cluster.
func TestFounderWhosePortWasTakenStartsOnNewPorts(t *testing.T) {
	c := &Cluster{t: t, opts: Options{Nodes: 3, BootstrapExpect: 3, Voters: 3, Regions: []string{"us-east", "eu-west", "ap-south"}},
		faults: netfault.NewTable(), token: "test-admin-token", log: testLogger(""), scheme: "http"}
	_ = t.TempDir()
	t.Cleanup(c.stopAll)
	ms := c.newFounders(3)
	taken := ms[1].addrs.gossip
	ln, err := net.Listen("tcp", taken)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for _, m := range ms {
		c.startMember(m)
	}
	if ms[1].addrs.gossip == taken {
		t.Fatalf("%s kept the taken port %s", ms[1].ID, taken)
	}
	if ms[2].join[1] != ms[1].addrs.gossip {
		t.Fatalf("%s joins %v, not %s's new address %s", ms[2].ID, ms[2].join, ms[1].ID, ms[1].addrs.gossip)
	}
	c.WaitReady(30 * time.Second)
	c.WaitFor("three voters", 30*time.Second, func() bool {
		l := c.WaitLeader(10 * time.Second)
		return l.Node().Status().Raft.Voters == 3
	})
}
