package main

import (
	"github.com/edgeplane/edgeplane/pkg/tlsutil"
	"slices"
	"strings"
	"testing"
	"time"
)

// argValue returns the value after flag in args, and whether it is there.
func argValue(args []string, flag string) (string, bool) {
	i := slices.Index(args, flag)
	if i < 0 || i+1 >= len(args) {
		return "", false
	}
	return args[i+1], true
}

func testDevConfig(t *testing.T) devConfig {
	cfg := defaultDevConfig()
	cfg.Dir = t.TempDir()
	cfg.Token = "0123456789abcdef0123456789abcdef"
	cfg.GossipKey = "Z29zc2lwLWtleS0xNi1ieXQ="
	return cfg
}

func TestPlanNodesDefaults(t *testing.T) {
	cfg := testDevConfig(t)
	base := []string{"PATH=/usr/bin", "HOME=/home/x", "EDGE_NODE_ID=evil", "EDGE_TOKEN=old", "EDGE_CONFIG=/etc/edge.yaml"}
	nodes, err := planNodes(cfg, base)
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes) != 3 {
		t.Fatalf("%d nodes, want 3", len(nodes))
	}
	regions := []string{"us-east", "eu-west", "ap-south"}
	for i, n := range nodes {
		id := "node-" + string(rune('1'+i))
		ip := "127.0.0." + string(rune('1'+i))
		want := map[string]string{
			"--node-id":     id,
			"--region":      regions[i],
			"--data-dir":    cfg.Dir + "/" + id,
			"--http-addr":   ip + ":8787",
			"--grpc-addr":   ip + ":8788",
			"--raft-addr":   ip + ":8789",
			"--gossip-addr": ip + ":7946",
			"--voters":      "3",
			"--log-format":  "text",
		}
		for flag, v := range want {
			if got, _ := argValue(n.Args, flag); got != v {
				t.Errorf("%s %s = %q, want %q (args %q)", id, flag, got, v, n.Args)
			}
		}
		// The three founders expect each other and join the two others.
		if v, _ := argValue(n.Args, "--bootstrap-expect"); v != "3" {
			t.Errorf("%s --bootstrap-expect = %q, want 3", id, v)
		}
		wantJoin := map[int]string{0: "127.0.0.2:7946,127.0.0.3:7946", 1: "127.0.0.1:7946,127.0.0.3:7946", 2: "127.0.0.1:7946,127.0.0.2:7946"}[i]
		if join, _ := argValue(n.Args, "--join"); join != wantJoin {
			t.Errorf("%s --join = %q, want %q", id, join, wantJoin)
		}
		if _, ok := argValue(n.Args, "--region-latency"); ok {
			t.Errorf("%s has --region-latency without --global", id)
		}
		if n.LogFile != cfg.Dir+"/"+id+".log" || n.Endpoint() != "https://"+ip+":8787" {
			t.Errorf("%s log %q endpoint %q", id, n.LogFile, n.Endpoint())
		}
		if strings.Contains(strings.Join(n.Args, " "), cfg.Token) {
			t.Errorf("%s has the token in argv: %q", id, n.Args)
		}
		for flag, file := range map[string]string{"--tls-ca": "ca.crt", "--tls-cert": id + ".crt", "--tls-key": id + ".key"} {
			if got, _ := argValue(n.Args, flag); got != cfg.Dir+"/tls/"+file {
				t.Errorf("%s %s = %q, want %s/tls/%s", id, flag, got, cfg.Dir, file)
			}
		}
		if strings.Contains(strings.Join(n.Args, " "), cfg.GossipKey) {
			t.Errorf("%s has the gossip key in argv: %q", id, n.Args)
		}
		wantEnv := []string{"PATH=/usr/bin", "HOME=/home/x", "EDGE_ADMIN_TOKEN=" + cfg.Token, "EDGE_GOSSIP_KEY=" + cfg.GossipKey}
		if !slices.Equal(n.Env, wantEnv) {
			t.Errorf("%s env = %q, want %q", id, n.Env, wantEnv)
		}
	}
}

func TestPlanNodesGlobalRoundRobinAndBaseIP(t *testing.T) {
	cfg := testDevConfig(t)
	cfg.Nodes = 5
	cfg.Regions = []string{"a", "b"}
	cfg.Global = true
	cfg.Latency = 40 * time.Millisecond
	cfg.BaseIP = "127.0.10.254"
	cfg.Voters = 5
	nodes, err := planNodes(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantRegions := []string{"a", "b", "a", "b", "a"}
	wantIPs := []string{"127.0.10.254", "127.0.10.255", "127.0.11.0", "127.0.11.1", "127.0.11.2"}
	for i, n := range nodes {
		if n.Region != wantRegions[i] || n.IP != wantIPs[i] {
			t.Errorf("node %d region %q ip %q, want %q %q", i, n.Region, n.IP, wantRegions[i], wantIPs[i])
		}
		if v, _ := argValue(n.Args, "--region-latency"); v != "40ms" {
			t.Errorf("node %d --region-latency = %q, want 40ms", i, v)
		}
		if v, _ := argValue(n.Args, "--voters"); v != "5" {
			t.Errorf("node %d --voters = %q", i, v)
		}
		if v, _ := argValue(n.Args, "--bootstrap-expect"); v != "5" {
			t.Errorf("node %d --bootstrap-expect = %q, want 5 (five voters)", i, v)
		}
		if v, _ := argValue(n.Args, "--join"); strings.Count(v, ",") != 3 || strings.Contains(v, wantIPs[i]+":") {
			t.Errorf("node %d --join = %q, want the four others", i, v)
		}
	}
}

func TestPlanNodesRejectsBadConfig(t *testing.T) {
	cases := map[string]func(*devConfig){
		"zero nodes":        func(c *devConfig) { c.Nodes = 0 },
		"too many nodes":    func(c *devConfig) { c.Nodes = maxDevNodes + 1 },
		"no regions":        func(c *devConfig) { c.Regions = nil },
		"bad region":        func(c *devConfig) { c.Regions = []string{"us east"} },
		"zero voters":       func(c *devConfig) { c.Voters = 0 },
		"global no latency": func(c *devConfig) { c.Global, c.Latency = true, 0 },
		"ipv6 base":         func(c *devConfig) { c.BaseIP = "::1" },
		"bad base":          func(c *devConfig) { c.BaseIP = "localhost" },
		"bad log format":    func(c *devConfig) { c.LogFormat = "xml" },
		"no token":          func(c *devConfig) { c.Token = "" },
		"relative dir":      func(c *devConfig) { c.Dir = "edge-dev" },
		"address overflow":  func(c *devConfig) { c.BaseIP, c.Nodes = "255.255.255.255", 2 },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := testDevConfig(t)
			mutate(&cfg)
			if nodes, err := planNodes(cfg, nil); err == nil {
				t.Fatalf("planNodes accepted it: %+v", nodes)
			}
		})
	}
}

func TestNewTokenIsRandomHex(t *testing.T) {
	a, b := newToken(), newToken()
	if len(a) != 32 || strings.Trim(a, "0123456789abcdef") != "" || a == b {
		t.Fatalf("tokens %q %q", a, b)
	}
}

func TestPlanNodesInsecure(t *testing.T) {
	cfg := testDevConfig(t)
	cfg.Insecure, cfg.GossipKey = true, ""
	nodes, err := planNodes(cfg, []string{"PATH=/usr/bin"})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		if _, ok := argValue(n.Args, "--tls-ca"); ok {
			t.Errorf("%s has TLS flags with --insecure: %q", n.ID, n.Args)
		}
		if !strings.HasPrefix(n.Endpoint(), "http://") {
			t.Errorf("%s endpoint %q", n.ID, n.Endpoint())
		}
		if want := []string{"PATH=/usr/bin", "EDGE_ADMIN_TOKEN=" + cfg.Token}; !slices.Equal(n.Env, want) {
			t.Errorf("%s env %q, want %q", n.ID, n.Env, want)
		}
	}
	cfg.Insecure = false
	if _, err := planNodes(cfg, nil); err == nil {
		t.Error("TLS plan without a gossip key accepted")
	}
}

func TestEnsureDevTLSCreatesOnceAndReuses(t *testing.T) {
	cfg := testDevConfig(t)
	nodes, err := planNodes(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ensureDevTLS(cfg.Dir, nodes)
	if err != nil || len(key) != 44 {
		t.Fatalf("gossip key %q: %v", key, err)
	}
	for _, n := range nodes {
		ca, cert, k := tlsutil.NodeFiles(devTLSDir(cfg.Dir), n.ID)
		r, err := tlsutil.NewReloader(ca, cert, k)
		if err != nil {
			t.Fatalf("%s: %v", n.ID, err)
		}
		if r.Identity() != tlsutil.NodeIdentity(n.ID) || len(r.Leaf().IPAddresses) != 1 || r.Leaf().IPAddresses[0].String() != n.IP {
			t.Errorf("%s: identity %s, IPs %v", n.ID, r.Identity(), r.Leaf().IPAddresses)
		}
	}
	again, err := ensureDevTLS(cfg.Dir, nodes)
	if err != nil || again != key {
		t.Fatalf("second run: key %q (was %q): %v", again, key, err)
	}
}

func TestPlanNodesFoundersAndLaterNodes(t *testing.T) {
	cfg := testDevConfig(t)
	cfg.Nodes = 5
	cfg.Voters = 3
	nodes, err := planNodes(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range nodes {
		expect, hasExpect := argValue(n.Args, "--bootstrap-expect")
		join, _ := argValue(n.Args, "--join")
		if i < 3 && (expect != "3" || strings.Count(join, ",") != 1) {
			t.Errorf("founder %d: --bootstrap-expect %q --join %q", i, expect, join)
		}
		if i >= 3 && (hasExpect || join != "127.0.0.1:7946,127.0.0.2:7946,127.0.0.3:7946") {
			t.Errorf("later node %d: --bootstrap-expect %q --join %q; want only the founders to join", i, expect, join)
		}
	}
	cfg.Voters = 1
	nodes, err = planNodes(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := argValue(nodes[0].Args, "--join"); ok {
		t.Errorf("single founder node-1 has --join: %q", nodes[0].Args)
	}
	if v, _ := argValue(nodes[1].Args, "--join"); v != "127.0.0.1:7946" {
		t.Errorf("node-2 --join = %q", v)
	}
	if _, ok := argValue(nodes[1].Args, "--bootstrap-expect"); ok {
		t.Errorf("node-2 has --bootstrap-expect with one founder")
	}
}
