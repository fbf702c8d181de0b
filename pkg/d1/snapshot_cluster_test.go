package d1_test

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/internal/testcluster"
)

// metric reads one series' value from m's /metrics (0 when absent).
func metric(t *testing.T, m *testcluster.Member, series string) float64 {
	t.Helper()
	resp, err := http.Get(m.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", series, err)
			}
			return f
		}
	}
	return 0
}

// snapshots lists the Raft snapshots in m's data dir.
func snapshots(m *testcluster.Member) []string {
	entries, _ := os.ReadDir(filepath.Join(m.RaftDir(), "snapshots"))
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// insertRows writes n rows, one entry each, through m.
func insertRows(cl client, m *testcluster.Member, q string, from, n int) {
	for i := from; i < from+n; i++ {
		cl.must(m, http.MethodPost, q, map[string]any{"sql": "INSERT OR IGNORE INTO t(id, v) VALUES (?, randomblob(64))", "params": []any{i}}, nil)
	}
}

// Snapshots on a 3-node cluster whose leader keeps only 4 entries after
// a snapshot. First, a node restarted after a snapshot keeps its database
// files (they are past the snapshot) and applies only the entries it missed
// while down. Then a node that was down while the leader truncated its log
// cannot catch up from the log: the leader streams it a snapshot (D1's
// databases as online backups), it restores them, and ends with the same
// tables.
func TestSnapshotRestartAndFarBehindNode(t *testing.T) {
	timing := testcluster.FastTiming()
	timing.TrailingLogs = 4
	c := testcluster.Start(t, testcluster.Options{Nodes: 3, Timing: &timing})
	cl := client{t, c}
	base := "/client/v4/accounts/" + accountID(t, c) + "/d1/database"
	db := createDB(t, cl, c.Member(0), base, "snap")
	q := base + "/" + db.UUID + "/query"
	leader := c.WaitLeader(10 * time.Second)
	cl.must(leader, http.MethodPost, q, map[string]any{"sql": "CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, v BLOB)"}, nil)
	insertRows(cl, leader, q, 0, 10)
	waitConverged(t, c, db.UUID)
	for _, m := range c.Members() {
		if err := m.Node().Snapshot(); err != nil {
			t.Fatal(err)
		}
	}
	// Entries after the snapshots: applied everywhere before the stop.
	const past = 10
	insertRows(cl, leader, q, 10, past)
	waitConverged(t, c, db.UUID)

	t.Run("RestartAppliesOnlyWhatItMissed", func(t *testing.T) {
		f := (c.Index(leader) + 1) % 3
		c.Stop(f)
		leader = c.WaitLeader(10 * time.Second)
		const missed = 5
		insertRows(cl, leader, q, 100, missed)
		c.Restart(f)
		c.WaitReady(30 * time.Second)
		waitConverged(t, c, db.UUID)
		m := c.Member(f)
		commits := metric(t, m, "edge_d1_apply_commits_total")
		kept := metric(t, m, `edge_d1_snapshot_restored_databases_total{action="kept"}`)
		t.Logf("restarted node: %v d1 transactions applied, %v databases kept from before the stop", commits, kept)
		if kept != 1 {
			t.Fatalf("the restarted node did not keep its database (kept %v)", kept)
		}
		// Replaying from the snapshot would apply past+missed entries;
		// the node applies only those it missed.
		if commits < 1 || commits > missed {
			t.Fatalf("the restarted node applied %v d1 entries; it missed %d (and %d more after the snapshot were already applied)", commits, missed, past)
		}
	})

	t.Run("FarBehindNodeGetsASnapshot", func(t *testing.T) {
		leader = c.WaitLeader(10 * time.Second)
		behind := (c.Index(leader) + 2) % 3
		c.Stop(behind)
		before := snapshots(c.Member(behind))
		leader = c.WaitLeader(10 * time.Second)
		insertRows(cl, leader, q, 200, 30)
		// Every running node snapshots and keeps only 4 entries (whichever
		// leads when the node comes back): the stopped node's next entry
		// is gone from every log.
		for _, m := range c.Up() {
			if err := m.Node().Snapshot(); err != nil {
				t.Fatal(err)
			}
		}
		c.Restart(behind)
		c.WaitReady(30 * time.Second)
		waitConverged(t, c, db.UUID)
		after := snapshots(c.Member(behind))
		if fmt.Sprint(after) == fmt.Sprint(before) || len(after) == 0 {
			t.Fatalf("the node caught up without installing a snapshot: snapshots %v, then %v", before, after)
		}
		if got := metric(t, c.Member(behind), `edge_d1_snapshot_restored_databases_total{action="replaced"}`); got < 1 {
			t.Fatalf("databases replaced on the far-behind node: %v", got)
		}
		// It takes writes and stays identical.
		insertRows(cl, c.Member(behind), q, 300, 3)
		waitConverged(t, c, db.UUID)
	})
}
