package main

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/edgeplane/edgeplane/pkg/wire"
)

func testMembers() []wire.Member {
	rtt := 41.25
	return []wire.Member{
		{ID: "node-1", Region: "us-east", State: wire.StateAlive, Voter: true, HTTPAddr: "127.0.0.1:8787",
			GRPCAddr: "127.0.0.1:8788", RaftAddr: "127.0.0.1:8789", GossipAddr: "127.0.0.1:7946", Version: "v1", Self: true},
		{ID: "node-2", Region: "eu-west", State: wire.StateSuspect, HTTPAddr: "127.0.0.2:8787",
			GRPCAddr: "127.0.0.2:8788", RaftAddr: "127.0.0.2:8789", GossipAddr: "127.0.0.2:7946", Version: "v1", RTTMillis: &rtt},
	}
}

func TestMembersJSONIsTheWireArray(t *testing.T) {
	want := testMembers()
	f := newFakeNode(t, "node-1", "tok", 0, want, wire.Status{})
	stdout, stderr, code := runCLI(t, nil, "members", "-o", "json", "--endpoint", f.srv.URL, "--token", "tok")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var got []wire.Member
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("stdout is not a JSON array of members: %v\n%s", err, stdout)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("members = %+v, want %+v", got, want)
	}
	// The field names are the contract scripts rely on.
	var raw []map[string]any
	if err := json.Unmarshal([]byte(stdout), &raw); err != nil {
		t.Fatal(err)
	}
	keys := slices.Sorted(maps.Keys(raw[0]))
	wantKeys := []string{"gossip_addr", "grpc_addr", "http_addr", "id", "raft_addr", "region", "rtt_ms", "self", "state", "version", "voter"}
	if !slices.Equal(keys, wantKeys) {
		t.Fatalf("member keys = %v, want %v", keys, wantKeys)
	}
	if raw[0]["rtt_ms"] != nil || raw[1]["rtt_ms"] != 41.25 {
		t.Fatalf("rtt_ms = %v, %v; want null and 41.25", raw[0]["rtt_ms"], raw[1]["rtt_ms"])
	}
}

func TestMembersJSONEmptyIsEmptyArray(t *testing.T) {
	f := newFakeNode(t, "node-1", "tok", 0, nil, wire.Status{})
	stdout, _, code := runCLI(t, nil, "members", "-o", "json", "--endpoint", f.srv.URL, "--token", "tok")
	if code != 0 || strings.TrimSpace(stdout) != "[]" {
		t.Fatalf("exit %d, stdout %q; want []", code, stdout)
	}
}

func TestMembersTable(t *testing.T) {
	f := newFakeNode(t, "node-1", "tok", 0, testMembers(), wire.Status{})
	// Endpoint and token from the environment this time.
	stdout, stderr, code := runCLI(t, map[string]string{"EDGE_ENDPOINT": f.srv.URL, "EDGE_TOKEN": "tok"}, "members")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("want header and 2 rows, got:\n%s", stdout)
	}
	want := [][]string{
		{"ID", "REGION", "STATE", "VOTER", "HTTP", "GRPC", "RAFT", "GOSSIP", "RTT"},
		{"node-1", "us-east", "alive", "yes", "127.0.0.1:8787", "127.0.0.1:8788", "127.0.0.1:8789", "127.0.0.1:7946", "-"},
		{"node-2", "eu-west", "suspect", "no", "127.0.0.2:8787", "127.0.0.2:8788", "127.0.0.2:8789", "127.0.0.2:7946", "41.2ms"},
	}
	for i, l := range lines {
		if got := strings.Fields(l); !slices.Equal(got, want[i]) {
			t.Errorf("line %d = %q, want %q", i, got, want[i])
		}
	}
	// Columns line up: every row has its second column where the header does.
	col := strings.Index(lines[0], "REGION")
	for _, l := range lines[1:] {
		if l[col-1] != ' ' || l[col] == ' ' {
			t.Errorf("misaligned row %q", l)
		}
	}
}

func TestMembersUsesNearestEndpoint(t *testing.T) {
	ms := testMembers()
	fast := newFakeNode(t, "fast", "tok", 0, ms, wire.Status{})
	slow := newFakeNode(t, "slow", "tok", slowDelay, ms, wire.Status{})
	eps := strings.Join([]string{deadEndpoint(t), slow.srv.URL, fast.srv.URL}, ",")
	_, stderr, code := runCLI(t, nil, "members", "--endpoint", eps, "--token", "tok")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if fast.apiHits.Load() != 1 || slow.apiHits.Load() != 0 {
		t.Fatalf("API hits: fast %d slow %d; want 1 and 0", fast.apiHits.Load(), slow.apiHits.Load())
	}
}
