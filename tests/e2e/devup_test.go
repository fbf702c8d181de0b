package e2e

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"
)

// TestDevUpGlobalFiveNodes starts a 5-node, 3-region cluster with
// `edgectl dev up --global` (mutual TLS and HTTPS by default, so every
// check below goes through the cluster CA), then checks what an operator would: exactly 3
// voters, one per region, 2 non-voters following the log, and RTT estimates
// that show the simulated delay between regions.
func TestDevUpGlobalFiveNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs real binaries")
	}
	bin := buildBinaries(t)
	dir := filepath.Join(t.TempDir(), "dev")
	out, stderr, err := edgectl(bin, "dev", "up", "--nodes", "5", "--global", "--latency", "20ms",
		"--dir", dir, "--base-ip", "127.0.0.31", "-o", "json")
	t.Cleanup(func() { _, _, _ = edgectl(bin, "dev", "down", "--dir", dir, "--purge") })
	if err != nil {
		t.Fatalf("dev up: %v\n%s", err, stderr)
	}
	var up struct {
		Token     string   `json:"token"`
		Endpoints []string `json:"endpoints"`
		CACert    string   `json:"ca_cert"`
	}
	if err := json.Unmarshal([]byte(out), &up); err != nil || len(up.Endpoints) != 5 || up.Token == "" || up.CACert == "" {
		t.Fatalf("dev up output: %v %q", err, out)
	}
	ep := up.Endpoints[0]
	ctl := func(args ...string) (string, error) {
		o, e, err := edgectl(bin, append([]string{"--endpoint", ep, "--token", up.Token, "--ca-cert", up.CACert}, args...)...)
		if err != nil {
			t.Logf("edgectl %v: %s", args, e)
		}
		return o, err
	}

	var ms []member
	waitFor(t, "3 voters in 3 regions, 2 non-voters, all alive", 30*time.Second, func() bool {
		o, err := ctl("members", "-o", "json")
		if err != nil || json.Unmarshal([]byte(o), &ms) != nil || len(ms) != 5 {
			return false
		}
		regions := map[string]bool{}
		voters := 0
		for _, m := range ms {
			if m.State != "alive" {
				return false
			}
			if m.Voter {
				voters++
				regions[m.Region] = true
			}
		}
		return voters == 3 && len(regions) == 3
	})
	nonvoters := 0
	for _, m := range up.Endpoints {
		st, err := nodeStatusTok(bin, m, up.Token, up.CACert)
		if err != nil {
			t.Fatal(err)
		}
		if st.Raft.State == "nonvoter" {
			nonvoters++
		}
	}
	if nonvoters != 2 {
		t.Fatalf("%d nodes report raft state nonvoter, want 2", nonvoters)
	}

	// node-1 is in us-east; every other region is 2 x 20 ms away.
	var cross, same float64
	waitFor(t, "RTT estimates reflect the simulated delay", 60*time.Second, func() bool {
		o, err := ctl("members", "-o", "json")
		if err != nil || json.Unmarshal([]byte(o), &ms) != nil {
			return false
		}
		cross, same = 1e9, -1
		for _, m := range ms {
			if m.RTTMillis == nil {
				continue
			}
			if m.Region == "us-east" {
				same = *m.RTTMillis
			} else {
				cross = min(cross, *m.RTTMillis)
			}
		}
		return cross > 28 && cross < 200 && same >= 0 && same < cross/2
	})
	t.Logf("measured: with 20 ms one-way between regions, node-1 estimates %.1f ms to the nearest other region and %.1f ms within its own", cross, same)
}

func nodeStatusTok(bin, endpoint, tok, caCert string) (status, error) {
	var st status
	out, stderr, err := edgectl(bin, "--endpoint", endpoint, "--token", tok, "--ca-cert", caCert, "status", "-o", "json")
	if err != nil {
		return st, &cmdError{err: err, stderr: stderr}
	}
	return st, json.Unmarshal([]byte(out), &st)
}

type cmdError struct {
	err    error
	stderr string
}

func (e *cmdError) Error() string { return e.err.Error() + ": " + e.stderr }
