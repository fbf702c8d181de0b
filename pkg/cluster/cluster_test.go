package cluster

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func fastConfig(id, region string) Config {
	return Config{
		Meta:             Meta{ID: id, Region: region, HTTPAddr: "127.0.0.1:1", GRPCAddr: "127.0.0.1:2", RaftAddr: "127.0.0.1:3", Version: "test"},
		BindAddr:         "127.0.0.1:0",
		ProbeInterval:    100 * time.Millisecond,
		ProbeTimeout:     50 * time.Millisecond,
		GossipInterval:   50 * time.Millisecond,
		PushPullInterval: time.Second,
	}
}

func startNode(t *testing.T, cfg Config) *Cluster {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("start %s: %v", cfg.Meta.ID, err)
	}
	t.Cleanup(func() { _ = c.Shutdown() })
	return c
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func stateOf(c *Cluster, id string) State {
	m, ok := c.Member(id)
	if !ok {
		return ""
	}
	return m.State
}

func TestMembershipJoinFailAndLeave(t *testing.T) {
	reg := prometheus.NewRegistry()
	cfgA := fastConfig("a", "us-east")
	cfgA.Registerer = reg
	a := startNode(t, cfgA)
	b := startNode(t, fastConfig("b", "eu-west"))
	c := startNode(t, fastConfig("c", "ap-south"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, n := range []*Cluster{b, c} {
		if err := n.Join(ctx, []string{a.GossipAddr()}); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []*Cluster{a, b, c} {
		waitFor(t, n.LocalID()+" sees 3 alive", 5*time.Second, func() bool {
			alive := 0
			for _, m := range n.Members() {
				if m.State == StateAlive {
					alive++
				}
			}
			return alive == 3
		})
	}
	mb, _ := a.Member("b")
	if mb.Region != "eu-west" || mb.GRPCAddr != "127.0.0.1:2" || mb.GossipAddr != b.GossipAddr() {
		t.Fatalf("a's record of b is wrong: %+v", mb)
	}

	// Voter flag changes travel by gossip.
	if err := b.SetVoter(true); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a sees b as voter", 5*time.Second, func() bool { m, _ := a.Member("b"); return m.Voter })

	// Coordinates get fed by pings.
	waitFor(t, "a has an RTT estimate to c", 5*time.Second, func() bool { _, ok := a.RTT("c"); return ok })
	if _, ok := a.RTT("a"); ok {
		t.Fatal("RTT to self should be unknown")
	}

	// A crash (no leave) is detected as failed.
	_ = c.Shutdown()
	waitFor(t, "a declares c failed", 10*time.Second, func() bool { return stateOf(a, "c") == StateFailed })

	// A graceful leave is reported as left.
	if err := b.Leave(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a sees b left", 10*time.Second, func() bool { return stateOf(a, "b") == StateLeft })

	if got := gaugeWith(t, reg, "edge_cluster_members", "state", "failed"); got != 1 {
		t.Fatalf("edge_cluster_members{state=failed} = %v, want 1", got)
	}
	a.Forget("c")
	if _, ok := a.Member("c"); ok {
		t.Fatal("forgotten member still listed")
	}
}

// gaugeWith finds one sample of a gauge family by a label value.
func gaugeWith(t *testing.T, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == label && lp.GetValue() == value {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	t.Fatalf("no %s{%s=%q}", name, label, value)
	return 0
}

func TestMetaRoundTripAndVersion(t *testing.T) {
	m := Meta{ID: "n1", Region: "r", HTTPAddr: "h", GRPCAddr: "g", RaftAddr: "r", Version: "v", Voter: true}
	b, err := encodeMeta(m)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeMeta(b)
	if err != nil || got != m {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	b[0] = 99
	if _, err := decodeMeta(b); err == nil {
		t.Fatal("unknown version accepted")
	}
}

func TestConfigValidate(t *testing.T) {
	cfg := fastConfig("a", "r")
	cfg.SecretKey = []byte("short")
	if err := cfg.Validate(); err == nil {
		t.Fatal("5-byte gossip key accepted")
	}
	cfg = fastConfig("", "r")
	if err := cfg.Validate(); err == nil {
		t.Fatal("empty id accepted")
	}
}
