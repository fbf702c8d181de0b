package e2e

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestThreeRegionClusterThroughEdgectl is the acceptance run on real
// processes: form a 3-region cluster, check members and status on every
// node, kill -9 a follower and the leader, restart, and probe the HTTP
// surface's errors and metrics.
func TestThreeRegionClusterThroughEdgectl(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs real binaries")
	}
	bin := buildBinaries(t)
	n1 := newProc(t, "e2e-1", "us-east", "")
	n2 := newProc(t, "e2e-2", "eu-west", n1.gsp)
	n3 := newProc(t, "e2e-3", "ap-south", n1.gsp)
	ps := []*proc{n1, n2, n3}
	start := time.Now()
	for _, p := range ps {
		p.start(t, bin)
	}

	// One cluster: 3 alive members with their regions on every node, one
	// leader, the same term everywhere, all three voting.
	var sts []status
	formed := waitFor(t, "3 alive members and one leader everywhere", 30*time.Second, func() bool {
		sts = sts[:0]
		for _, p := range ps {
			ms, err := members(bin, p.url())
			if err != nil || len(ms) != 3 {
				return false
			}
			for _, m := range ms {
				if m.State != "alive" {
					return false
				}
			}
			st, err := nodeStatus(bin, p.url())
			if err != nil {
				return false
			}
			sts = append(sts, st)
		}
		leaders := 0
		for _, st := range sts {
			if st.Raft.State == "leader" {
				leaders++
			}
			if st.Raft.Term != sts[0].Raft.Term || st.Raft.LeaderID != sts[0].Raft.LeaderID || st.AccountID == "" || st.Raft.Voters != 3 {
				return false
			}
		}
		return leaders == 1
	})
	t.Logf("measured: 3 edged processes formed one cluster in %v (from first start: %v)", formed.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	ms, _ := members(bin, n2.url())
	regions := map[string]string{}
	for _, m := range ms {
		regions[m.ID] = m.Region
		if m.HTTPAddr == "" || m.GRPCAddr == "" || m.RaftAddr == "" || m.GossipAddr == "" {
			t.Fatalf("member record lacks addresses: %+v", m)
		}
	}
	if regions["e2e-1"] != "us-east" || regions["e2e-2"] != "eu-west" || regions["e2e-3"] != "ap-south" {
		t.Fatalf("regions: %v", regions)
	}

	// The HTTP surface: 401, 413, 404 with envelopes and no state change.
	before, _ := nodeStatus(bin, n1.url())
	resp, env := httpDo(t, "GET", n1.url()+"/client/v4/cluster/status", "", nil)
	if resp.StatusCode != 401 || env["success"] != false {
		t.Fatalf("no token: %d %v", resp.StatusCode, env)
	}
	resp, _ = httpDo(t, "POST", n1.url()+"/client/v4/user/tokens", "wrong-token", []byte(`{"name":"x"}`))
	if resp.StatusCode != 401 {
		t.Fatalf("bad token create: %d", resp.StatusCode)
	}
	big := bytes.Repeat([]byte("x"), 2<<20)
	resp, env = httpDo(t, "POST", n1.url()+"/client/v4/user/tokens", token, big)
	if resp.StatusCode != 413 || env["success"] != false {
		t.Fatalf("oversize body: %d %v", resp.StatusCode, env)
	}
	resp, env = httpDo(t, "GET", n1.url()+"/client/v4/no/such/route", token, nil)
	if resp.StatusCode != 404 || env["success"] != false {
		t.Fatalf("unknown route: %d %v", resp.StatusCode, env)
	}
	after, _ := nodeStatus(bin, n1.url())
	if after.CatalogVersion != before.CatalogVersion {
		t.Fatalf("refused requests changed the catalog: %d -> %d", before.CatalogVersion, after.CatalogVersion)
	}

	// Metrics on every node.
	for _, p := range ps {
		r, err := http.Get(p.url() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		for _, name := range []string{"edge_cluster_members", "edge_raft_state", "edge_raft_term", "edge_raft_commit_index",
			"edge_raft_applied_index", "edge_raft_last_contact_seconds", "edge_http_requests_total", "edge_http_request_duration_seconds",
			"go_goroutines", "process_resident_memory_bytes"} {
			if !strings.Contains(string(body), name) {
				t.Fatalf("%s /metrics lacks %s", p.id, name)
			}
		}
	}

	// kill -9 a follower: failed on the others within 10 s; restart: alive
	// and caught up within 10 s.
	leaderID := sts[0].Raft.LeaderID
	var victim, observer *proc
	for _, p := range ps {
		if p.id != leaderID {
			if victim == nil {
				victim = p
			} else {
				observer = p
			}
		}
	}
	victim.kill()
	detect := waitFor(t, victim.id+" reported failed", 10*time.Second, func() bool {
		ms, err := members(bin, observer.url())
		return err == nil && stateOf(ms, victim.id) == "failed"
	})
	t.Logf("measured: kill -9 of a follower detected in %v", detect.Round(time.Millisecond))
	// A catalog write while it is down.
	resp, _ = httpDo(t, "POST", observer.url()+"/client/v4/user/tokens", token, []byte(`{"name":"while-down","policies":[{"effect":"allow",`+
		`"resources":{"com.cloudflare.api.user.*":"*"},"permission_groups":[{"id":"0cc3a61731504c89b99ec1be78b77aa0"}]}]}`))
	if resp.StatusCode != 200 {
		t.Fatalf("token create while a node is down: %d", resp.StatusCode)
	}
	want, _ := nodeStatus(bin, observer.url())
	victim.start(t, bin)
	rejoin := waitFor(t, victim.id+" alive and caught up", 10*time.Second, func() bool {
		ms, err := members(bin, observer.url())
		if err != nil || stateOf(ms, victim.id) != "alive" {
			return false
		}
		st, err := nodeStatus(bin, victim.url())
		return err == nil && st.CatalogVersion >= want.CatalogVersion && st.Raft.LeaderID != ""
	})
	t.Logf("measured: restarted follower alive and caught up in %v", rejoin.Round(time.Millisecond))

	// kill -9 the leader: a new leader within 10 s, catalog intact.
	var leader *proc
	for _, p := range ps {
		if p.id == leaderID {
			leader = p
		}
	}
	leader.kill()
	var newLeader string
	failover := waitFor(t, "a new leader", 10*time.Second, func() bool {
		st, err := nodeStatus(bin, observer.url())
		newLeader = st.Raft.LeaderID
		return err == nil && newLeader != "" && newLeader != leaderID
	})
	t.Logf("measured: leader %s killed, %s elected in %v", leaderID, newLeader, failover.Round(time.Millisecond))
	st, _ := nodeStatus(bin, observer.url())
	if st.CatalogVersion < want.CatalogVersion {
		t.Fatalf("catalog went back: %d < %d", st.CatalogVersion, want.CatalogVersion)
	}
	out, _, err := edgectl(bin, "--endpoint", observer.url(), "members")
	if err != nil || !strings.Contains(out, leaderID) {
		t.Fatalf("members table: %v\n%s", err, out)
	}

	// edgectl: one-line error and non-zero exit when nothing answers.
	_, stderr, err := edgectl(bin, "--endpoint", leader.url(), "status")
	if err == nil || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || stderr == "" {
		t.Fatalf("unreachable endpoint: err=%v stderr=%q", err, stderr)
	}
}
