package main

import (
	"encoding/json"

	"context"
	"github.com/edgeplane/edgeplane/internal/testcluster"
	"strings"
	"testing"
	"time"
)

func TestBenchD1ConfigValidate(t *testing.T) {
	ok := d1BenchConfig{duration: time.Second, concurrency: 16, batch: 100, valueSize: 100, writeNode: writeNodeLeader}
	if err := ok.validate(); err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(*d1BenchConfig){
		"duration":    func(c *d1BenchConfig) { c.duration = 0 },
		"concurrency": func(c *d1BenchConfig) { c.concurrency = 1025 },
		"batch":       func(c *d1BenchConfig) { c.batch = 1001 },
		"value-size":  func(c *d1BenchConfig) { c.valueSize = -1 },
		"write-node":  func(c *d1BenchConfig) { c.writeNode = "nearest" },
	} {
		c := ok
		mut(&c)
		if err := c.validate(); err == nil || !strings.Contains(err.Error(), name) {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

// The four phases on the plain SQLite target: each runs, batches count
// their rows, and the reads find the rows the writes left.
func TestBenchD1PhasesOnSQLite(t *testing.T) {
	target, err := openSQLiteTarget(t.TempDir(), 4)
	if err != nil {
		t.Fatal(err)
	}
	defer target.closeAll()
	cfg := d1BenchConfig{duration: 200 * time.Millisecond, concurrency: 4, batch: 10, valueSize: 8, writeNode: writeNodeLeader}
	res, err := runD1Phases(context.Background(), target, cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		phase   string
		clients int
	}{{"insert", 1}, {"insert", 4}, {"batch10", 4}, {"select", 4}}
	if len(res) != len(want) {
		t.Fatalf("%d phases: %+v", len(res), res)
	}
	for i, w := range want {
		r := res[i]
		if r.Phase != w.phase || r.Clients != w.clients || r.Requests == 0 || r.Errors != 0 || r.RowsPerSec <= 0 {
			t.Fatalf("phase %d: %+v", i, r)
		}
	}
	if b := res[2]; b.Rows != 10*b.Requests {
		t.Fatalf("batch phase: %d rows for %d requests", b.Rows, b.Requests)
	}
	var n int64
	if err := target.r.QueryRow("SELECT count(*) FROM bench").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if want := int64(res[0].Rows + res[1].Rows + res[2].Rows); n != want {
		t.Fatalf("%d rows in the table, the phases wrote %d", n, want)
	}
}

// bench d1 against a real 3-node cluster: writes through a follower, reads
// on a follower, the baseline beside them, JSON output, and the scratch
// database deleted afterwards.
func TestBenchD1EndToEnd(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Nodes: 3})
	c.WaitLeader(30 * time.Second)
	c.WaitReady(30 * time.Second)
	var eps []string
	for _, m := range c.Members() {
		eps = append(eps, m.URL())
	}
	out, errOut, code := runCLI(t, nil, "--endpoint", strings.Join(eps, ","), "--token", c.Token(), "-o", "json",
		"bench", "d1", "--duration", "300ms", "--concurrency", "2", "--batch", "5", "--write-node", "follower")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep d1BenchReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if rep.Nodes != 3 || rep.WriteRole != "follower" || rep.ReadRole != "follower" || len(rep.Results) != 8 || len(rep.Ratios) != 4 {
		t.Fatalf("report %+v", rep)
	}
	for _, r := range rep.Results {
		if r.Requests == 0 || r.Errors != 0 || r.P99Ms < r.P50Ms {
			t.Errorf("implausible phase %+v", r)
		}
		if r.Target == "edgeplane" && r.ServerCPUPerRowUS <= 0 {
			t.Errorf("no server CPU for %+v", r)
		}
	}
	acct := c.Member(0).Node().AccountID()
	// The delete went through the writer; other nodes learn it moments later.
	c.WaitFor("the scratch database is deleted", 15*time.Second, func() bool {
		list, _, code := runCLI(t, nil, "--endpoint", eps[0], "--token", c.Token(), "-o", "json", "d1", "list", "--account", acct)
		return code == 0 && !strings.Contains(list, "edgectl-bench-")
	})
}
