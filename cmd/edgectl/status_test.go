package main

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/edgeplane/edgeplane/pkg/wire"
)

func testStatus() wire.Status {
	return wire.Status{
		NodeID: "node-2", Region: "eu-west", AccountID: "acc123", Version: "v1.2.3", HTTPAddr: "127.0.0.2:8787",
		Raft: wire.RaftStatus{State: wire.RaftFollower, LeaderID: "node-1", LeaderAddr: "127.0.0.1:8789",
			Term: 4, CommitIndex: 120, AppliedIndex: 119, LastIndex: 121, Voters: 3, Nonvoters: 2},
		CatalogVersion: 17, Members: 5, UptimeSeconds: 3725.4,
	}
}

func TestStatusJSONIsTheWireObject(t *testing.T) {
	want := testStatus()
	f := newFakeNode(t, "node-2", "tok", 0, nil, want)
	stdout, stderr, code := runCLI(t, nil, "status", "-o", "json", "--endpoint", f.srv.URL, "--token", "tok")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var got wire.Status
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("stdout is not a wire.Status: %v\n%s", err, stdout)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("status = %+v, want %+v", got, want)
	}
}

func TestStatusTable(t *testing.T) {
	f := newFakeNode(t, "node-2", "tok", 0, nil, testStatus())
	stdout, stderr, code := runCLI(t, nil, "status", "--endpoint", f.srv.URL, "--token", "tok")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	want := map[string]string{
		"Node:":            "node-2",
		"Region:":          "eu-west",
		"Account:":         "acc123",
		"Raft state:":      "follower",
		"Leader:":          "node-1 (127.0.0.1:8789)",
		"Term:":            "4",
		"Commit index:":    "120",
		"Applied index:":   "119",
		"Catalog version:": "17",
		"Uptime:":          "1h2m5s",
	}
	got := map[string]string{}
	for _, l := range strings.Split(strings.TrimRight(stdout, "\n"), "\n") {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			t.Fatalf("line without a key: %q", l)
		}
		got[k+":"] = strings.TrimSpace(v)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s %q, want %q", k, got[k], v)
		}
	}
}
