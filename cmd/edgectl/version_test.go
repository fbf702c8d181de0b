package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/edgeplane/edgeplane/pkg/wire"
)

func TestVersionWithServer(t *testing.T) {
	f := newFakeNode(t, "node-1", "tok", 0, nil, wire.Status{})
	stdout, stderr, code := runCLI(t, nil, "version", "-o", "json", "--endpoint", f.srv.URL)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var res versionResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	if res.Client != "v0.0.0-test" || res.Server == nil || res.Server.Version != "v1.2.3" || res.Server.NodeID != "node-1" {
		t.Fatalf("version = %+v (server %+v)", res, res.Server)
	}
	stdout, _, _ = runCLI(t, nil, "version", "--endpoint", f.srv.URL)
	if !strings.Contains(stdout, "edgectl v0.0.0-test\n") || !strings.Contains(stdout, "edged   v1.2.3 (node-1 at "+f.srv.URL+")") {
		t.Fatalf("table output:\n%s", stdout)
	}
}

func TestVersionWithoutServer(t *testing.T) {
	stdout, stderr, code := runCLI(t, nil, "version", "-o", "json", "--endpoint", deadEndpoint(t))
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if strings.TrimSpace(stdout) != "{\n  \"client\": \"v0.0.0-test\"\n}" {
		t.Fatalf("stdout = %q", stdout)
	}
}
