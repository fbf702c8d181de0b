package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/pkg/wire"
)

// slowDelay is the handler delay of the "far" fake node.
const slowDelay = 60 * time.Millisecond

func TestNearestRanksFastSlowDead(t *testing.T) {
	fast := newFakeNode(t, "fast", "tok", 0, nil, wire.Status{})
	slow := newFakeNode(t, "slow", "tok", slowDelay, nil, wire.Status{})
	dead := deadEndpoint(t)
	eps := strings.Join([]string{dead, slow.srv.URL, fast.srv.URL}, ",")

	stdout, stderr, code := runCLI(t, nil, "nearest", "-o", "json", "--endpoint", eps)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var res nearestResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("bad JSON: %v\n%s", err, stdout)
	}
	if res.Nearest != fast.srv.URL {
		t.Fatalf("nearest = %q, want %q", res.Nearest, fast.srv.URL)
	}
	order := []string{fast.srv.URL, slow.srv.URL, dead}
	for i, e := range res.Endpoints {
		if e.Endpoint != order[i] {
			t.Fatalf("endpoint %d = %q, want %q", i, e.Endpoint, order[i])
		}
	}
	if e := res.Endpoints[1]; e.NodeID != "slow" || e.RTTMs == nil || *e.RTTMs < float64(slowDelay/time.Millisecond) {
		t.Fatalf("slow entry = %+v", e)
	}
	if e := res.Endpoints[2]; e.Error == "" || e.RTTMs != nil {
		t.Fatalf("dead entry = %+v, want an error and no RTT", e)
	}

	stdout, _, code = runCLI(t, nil, "nearest", "--endpoint", eps)
	if code != 0 {
		t.Fatalf("table: exit %d", code)
	}
	lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[1], fast.srv.URL) || !strings.HasSuffix(lines[1], "nearest") ||
		!strings.Contains(lines[3], "unreachable") || lines[4] != "using "+fast.srv.URL {
		t.Fatalf("unexpected table:\n%s", stdout)
	}
}

func TestNearestAllDeadFails(t *testing.T) {
	eps := deadEndpoint(t) + "," + deadEndpoint(t)
	stdout, stderr, code := runCLI(t, nil, "nearest", "--endpoint", eps)
	if code != 1 || strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "edgectl: no reachable endpoint") {
		t.Fatalf("exit %d stderr %q", code, stderr)
	}
	if strings.Count(stdout, "unreachable") != 2 {
		t.Fatalf("table should still list both endpoints:\n%s", stdout)
	}
}
