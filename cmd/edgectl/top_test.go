package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/pkg/wire"
)

func TestTopRatesFromCounterDeltas(t *testing.T) {
	before := parseOrFatal(t, node1Metrics)
	// 2 seconds later: 40 more 200s, 4 more 404s, 2 more 500s.
	after := parseOrFatal(t, strings.NewReplacer(
		`code="200"} 100`, `code="200"} 140`,
		`code="404"} 10`, `code="404"} 14`,
		`code="500"} 0`, `code="500"} 2`,
	).Replace(node1Metrics))
	t0 := nowForTest()
	m := wire.Member{ID: "node-1", Region: "us-east"}
	prev := map[string]scrape{"node-1": {member: m, at: t0, families: before}}
	cur := map[string]scrape{"node-1": {member: m, at: t0.Add(2 * time.Second), families: after}}
	rep := buildTopReport(prev, cur, t0)
	if len(rep.Rows) != 1 {
		t.Fatalf("rows = %+v", rep.Rows)
	}
	r := rep.Rows[0]
	if r.Service != "kv" || r.RequestsPerS != 23 || r.ClientErrPerS != 2 || r.ServerErrPerS != 1 || !near(r.ErrorRatio, 1.0/23) {
		t.Fatalf("row = %+v", r)
	}
	if r.P99Seconds != nil {
		t.Fatalf("no duration histogram exported, p99 = %v", *r.P99Seconds)
	}
}

func TestTopCommandJSON(t *testing.T) {
	ep, m1, _ := lagCluster(t)
	done := make(chan struct{})
	go func() {
		// Requests arrive while top waits between its two scrapes.
		time.Sleep(100 * time.Millisecond)
		m1.set(strings.Replace(node1Metrics, `code="200"} 100`, `code="200"} 150`, 1))
		close(done)
	}()
	stdout, stderr, code := runCLI(t, nil, "top", "-o", "json", "--interval", "500ms", "--endpoint", ep, "--token", "tok")
	<-done
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var rep topReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if len(rep.Rows) != 1 || rep.Rows[0].Node != "node-1" || rep.Rows[0].RequestsPerS <= 0 || rep.IntervalSeconds < 0.4 {
		t.Fatalf("report = %+v", rep)
	}
}

func TestTopTable(t *testing.T) {
	ep, _, _ := lagCluster(t)
	stdout, stderr, code := runCLI(t, nil, "top", "--interval", "100ms", "--endpoint", ep, "--token", "tok")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "NODE") || strings.Fields(lines[1])[0] != "node-1" {
		t.Fatalf("got:\n%s", stdout)
	}
}
