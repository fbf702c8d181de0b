package main

import (
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/edgeplane/edgeplane/pkg/wire"
)

// fakeMetrics serves a settable Prometheus text exposition on /metrics.
type fakeMetrics struct {
	srv  *httptest.Server
	mu   sync.Mutex
	body string
}

func newFakeMetrics(t *testing.T, body string) *fakeMetrics {
	t.Helper()
	f := &fakeMetrics{body: body}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = w.Write([]byte(f.body))
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeMetrics) set(body string) {
	f.mu.Lock()
	f.body = body
	f.mu.Unlock()
}

func (f *fakeMetrics) addr() string { return strings.TrimPrefix(f.srv.URL, "http://") }

// node1Metrics: 100 writes from eu-west (50 under 10ms, 49 under 50ms, 1
// under 1s) and 10 from ap-south under 250ms; 3 writes pending for node-3.
const node1Metrics = `# HELP edge_kv_replication_lag_seconds lag
# TYPE edge_kv_replication_lag_seconds histogram
edge_kv_replication_lag_seconds_bucket{source_node="node-2",source_region="eu-west",le="0.01"} 50
edge_kv_replication_lag_seconds_bucket{source_node="node-2",source_region="eu-west",le="0.05"} 99
edge_kv_replication_lag_seconds_bucket{source_node="node-2",source_region="eu-west",le="0.25"} 99
edge_kv_replication_lag_seconds_bucket{source_node="node-2",source_region="eu-west",le="1"} 100
edge_kv_replication_lag_seconds_bucket{source_node="node-2",source_region="eu-west",le="+Inf"} 100
edge_kv_replication_lag_seconds_sum{source_node="node-2",source_region="eu-west"} 2
edge_kv_replication_lag_seconds_count{source_node="node-2",source_region="eu-west"} 100
edge_kv_replication_lag_seconds_bucket{source_node="node-3",source_region="ap-south",le="0.01"} 0
edge_kv_replication_lag_seconds_bucket{source_node="node-3",source_region="ap-south",le="0.05"} 0
edge_kv_replication_lag_seconds_bucket{source_node="node-3",source_region="ap-south",le="0.25"} 10
edge_kv_replication_lag_seconds_bucket{source_node="node-3",source_region="ap-south",le="1"} 10
edge_kv_replication_lag_seconds_bucket{source_node="node-3",source_region="ap-south",le="+Inf"} 10
edge_kv_replication_lag_seconds_sum{source_node="node-3",source_region="ap-south"} 1.5
edge_kv_replication_lag_seconds_count{source_node="node-3",source_region="ap-south"} 10
# HELP edge_kv_replication_pending pending
# TYPE edge_kv_replication_pending gauge
edge_kv_replication_pending{peer="node-2"} 0
edge_kv_replication_pending{peer="node-3"} 3
# HELP edge_http_requests_total reqs
# TYPE edge_http_requests_total counter
edge_http_requests_total{service="kv",operation="PUT /v",code="200"} 100
edge_http_requests_total{service="kv",operation="GET /v",code="404"} 10
edge_http_requests_total{service="kv",operation="GET /v",code="500"} 0
`

// node2Metrics exports the D1 and DO gauges too (as a future build will).
const node2Metrics = `# TYPE edge_kv_replication_pending gauge
edge_kv_replication_pending{peer="node-1"} 0
# TYPE edge_d1_replica_lag_entries gauge
edge_d1_replica_lag_entries{database="a"} 4
edge_d1_replica_lag_entries{database="b"} 7
# TYPE edge_d1_replica_lag_seconds gauge
edge_d1_replica_lag_seconds{database="a"} 0.2
# TYPE edge_do_replication_lag_seconds gauge
edge_do_replication_lag_seconds 1.5
`

func lagCluster(t *testing.T) (endpoint string, m1, m2 *fakeMetrics) {
	t.Helper()
	m1, m2 = newFakeMetrics(t, node1Metrics), newFakeMetrics(t, node2Metrics)
	members := []wire.Member{
		{ID: "node-1", Region: "us-east", State: wire.StateAlive, HTTPAddr: m1.addr()},
		{ID: "node-2", Region: "eu-west", State: wire.StateAlive, HTTPAddr: m2.addr()},
	}
	f := newFakeNode(t, "node-1", "tok", 0, members, wire.Status{})
	return f.srv.URL, m1, m2
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestLagJSON(t *testing.T) {
	ep, _, _ := lagCluster(t)
	stdout, stderr, code := runCLI(t, nil, "lag", "-o", "json", "--endpoint", ep, "--token", "tok")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var rep lagReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("not a lag report: %v\n%s", err, stdout)
	}
	if len(rep.Nodes) != 2 || rep.Nodes[0].Node != "node-1" || rep.Nodes[1].Node != "node-2" {
		t.Fatalf("nodes = %+v", rep.Nodes)
	}
	n1 := rep.Nodes[0]
	if len(n1.KV) != 2 || n1.KV[0].SourceRegion != "ap-south" || n1.KV[1].SourceRegion != "eu-west" {
		t.Fatalf("node-1 kv = %+v", n1.KV)
	}
	// eu-west: p50 is the 50th of 100 writes, at the top of the first
	// bucket (10ms); p99 the 99th, at the top of the 50ms bucket.
	eu := n1.KV[1]
	if eu.Writes != 100 || !near(*eu.P50Seconds, 0.01) || !near(*eu.P99Seconds, 0.05) {
		t.Fatalf("eu-west = %+v p50 %v p99 %v", eu, *eu.P50Seconds, *eu.P99Seconds)
	}
	// ap-south: all 10 in (0.05, 0.25]; p99 interpolates to 0.05+0.2*0.99.
	ap := n1.KV[0]
	if !near(*ap.P99Seconds, 0.05+0.2*0.99) {
		t.Fatalf("ap-south p99 = %v", *ap.P99Seconds)
	}
	if n1.KVPending["node-3"] != 3 || n1.KVPending["node-2"] != 0 {
		t.Fatalf("pending = %v", n1.KVPending)
	}
	if n1.D1BehindEntries != nil || n1.D1BehindSeconds != nil || n1.DOLagSeconds != nil {
		t.Fatalf("node-1 exports no D1/DO metric, got %+v", n1)
	}
	n2 := rep.Nodes[1]
	if len(n2.KV) != 0 || *n2.D1BehindEntries != 7 || *n2.D1BehindSeconds != 0.2 || *n2.DOLagSeconds != 1.5 {
		t.Fatalf("node-2 = %+v", n2)
	}
	// Absent values are null, not missing keys: scripts can rely on them.
	if !strings.Contains(stdout, `"d1_behind_entries": null`) {
		t.Fatalf("want explicit nulls:\n%s", stdout)
	}
}

func TestLagTable(t *testing.T) {
	ep, _, _ := lagCluster(t)
	stdout, stderr, code := runCLI(t, nil, "lag", "--endpoint", ep, "--token", "tok")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
	want := [][]string{
		{"NODE", "REGION", "KV", "P99<-ap-south", "KV", "P99<-eu-west", "KV", "PENDING", "D1", "BEHIND", "D1", "LAG", "DO", "LAG"},
		{"node-1", "us-east", "248.0ms", "50.0ms", "3", "(node-3=3)", "-", "-", "-"},
		{"node-2", "eu-west", "-", "-", "0", "7", "200.0ms", "1.50s"},
	}
	if len(lines) != len(want) {
		t.Fatalf("got:\n%s", stdout)
	}
	for i, l := range lines {
		if got := strings.Fields(l); !slices.Equal(got, want[i]) {
			t.Errorf("line %d = %q, want %q", i, got, want[i])
		}
	}
}

func TestLagWindowCountsOnlyNewWrites(t *testing.T) {
	// The second scrape adds 10 eu-west writes, all between 0.25s and 1s:
	// the window's p99 is in that bucket although the cumulative one is not.
	later := strings.NewReplacer(
		`source_region="eu-west",le="1"} 100`, `source_region="eu-west",le="1"} 110`,
		`source_region="eu-west",le="+Inf"} 100`, `source_region="eu-west",le="+Inf"} 110`,
		`source_region="eu-west"} 100`, `source_region="eu-west"} 110`,
	).Replace(node1Metrics)
	before := parseOrFatal(t, node1Metrics)
	after := parseOrFatal(t, later)
	cur := map[string]scrape{"node-1": {member: wire.Member{ID: "node-1"}, families: after}}
	prev := map[string]scrape{"node-1": {member: wire.Member{ID: "node-1"}, families: before}}
	rep := buildLagReport(cur, prev, nowForTest())
	var eu kvSourceLag
	for _, l := range rep.Nodes[0].KV {
		if l.SourceRegion == "eu-west" {
			eu = l
		}
	}
	if eu.Writes != 10 || *eu.P99Seconds <= 0.25 || *eu.P99Seconds > 1 {
		t.Fatalf("window eu-west = %+v (p99 %v), want 10 writes with p99 in (0.25, 1]", eu, *eu.P99Seconds)
	}
	// ap-south had no write in the window: no quantile.
	for _, l := range rep.Nodes[0].KV {
		if l.SourceRegion == "ap-south" && (l.Writes != 0 || l.P99Seconds != nil) {
			t.Fatalf("ap-south = %+v, want no writes", l)
		}
	}
}

func TestLagUnreachableNodeIsReportedNotFatal(t *testing.T) {
	m1 := newFakeMetrics(t, node1Metrics)
	members := []wire.Member{
		{ID: "node-1", Region: "us-east", HTTPAddr: m1.addr()},
		{ID: "node-9", Region: "eu-west", HTTPAddr: strings.TrimPrefix(deadEndpoint(t), "http://")},
	}
	f := newFakeNode(t, "node-1", "tok", 0, members, wire.Status{})
	stdout, stderr, code := runCLI(t, nil, "lag", "--endpoint", f.srv.URL, "--token", "tok")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if !strings.Contains(stdout, "node-9") || !strings.Contains(stderr, "scrape node-9") {
		t.Fatalf("stdout %q stderr %q", stdout, stderr)
	}
}

func TestLagRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{{"lag", "--interval", "0s"}, {"lag", "--window", "-1s"}} {
		stdout, stderr, code := runCLI(t, nil, args...)
		assertOneLineError(t, stdout, stderr, code)
	}
}

func TestQuantileLikePromQL(t *testing.T) {
	b := &bucketCounts{bounds: []float64{1, 2, math.Inf(1)}, counts: []float64{0, 0, 5}, count: 5}
	if v, ok := b.quantile(0.99); !ok || v != 2 {
		t.Fatalf("quantile in +Inf bucket = %v %v, want the highest finite bound 2", v, ok)
	}
	b = &bucketCounts{bounds: []float64{1, 2, math.Inf(1)}, counts: []float64{4, 4, 4}, count: 4}
	if v, _ := b.quantile(0.5); v != 0.5 {
		t.Fatalf("median of 4 in [0,1] = %v, want 0.5", v)
	}
	if _, ok := (&bucketCounts{}).quantile(0.5); ok {
		t.Fatal("empty histogram has no quantile")
	}
}

func parseOrFatal(t *testing.T, text string) map[string]*dto.MetricFamily {
	t.Helper()
	fams, err := parseMetrics(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

func nowForTest() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
