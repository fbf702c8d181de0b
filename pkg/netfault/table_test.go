package netfault

import (
	"testing"
	"time"
)

func TestTableLink(t *testing.T) {
	tb := NewTable()
	tb.AddNode("a", "us", "127.0.0.1:1001", "127.0.0.1:1002")
	tb.AddNode("b", "us", "127.0.0.1:2001")
	tb.AddNode("c", "eu", "127.0.0.1:3001")
	type want struct {
		drop  bool
		delay time.Duration
	}
	check := func(step, from, to string, w want) {
		t.Helper()
		drop, delay := tb.Link(from, to)
		if drop != w.drop || delay != w.delay {
			t.Errorf("%s: Link(%s, %s) = %v, %v; want %v, %v", step, from, to, drop, delay, w.drop, w.delay)
		}
	}

	check("empty", "a", "127.0.0.1:2001", want{})
	check("unknown address", "a", "127.0.0.1:9999", want{})

	tb.SetLatency("us", "eu", 40*time.Millisecond)
	check("latency", "a", "127.0.0.1:3001", want{delay: 40 * time.Millisecond})
	check("latency reverse", "c", "127.0.0.1:1002", want{delay: 40 * time.Millisecond})
	check("same region", "a", "127.0.0.1:2001", want{})
	check("grpc target", "a", "passthrough:///127.0.0.1:3001", want{delay: 40 * time.Millisecond})
	tb.SetLatency("us", "us", 5*time.Millisecond)
	check("same region latency", "b", "127.0.0.1:1001", want{delay: 5 * time.Millisecond})
	check("self", "a", "127.0.0.1:1002", want{})

	tb.Isolate("a")
	check("isolated from", "a", "127.0.0.1:2001", want{drop: true})
	check("isolated to", "c", "127.0.0.1:1001", want{drop: true})
	check("others", "b", "127.0.0.1:3001", want{delay: 40 * time.Millisecond})
	tb.Heal()
	check("healed", "c", "127.0.0.1:1001", want{delay: 40 * time.Millisecond})

	tb.Partition([]string{"a", "b"}, []string{"c"})
	check("partition a->c", "a", "127.0.0.1:3001", want{drop: true})
	check("partition c->b", "c", "127.0.0.1:2001", want{drop: true})
	check("same side", "a", "127.0.0.1:2001", want{delay: 5 * time.Millisecond})
	tb.Heal()

	tb.Block("a", "b")
	check("blocked", "a", "127.0.0.1:2001", want{drop: true})
	check("block is one-way", "b", "127.0.0.1:1001", want{delay: 5 * time.Millisecond})
	tb.Heal()
	check("unblocked", "a", "127.0.0.1:2001", want{delay: 5 * time.Millisecond})

	tb.SetLatency("eu", "us", 0)
	check("latency removed", "a", "127.0.0.1:3001", want{})
}

func TestNormalizeAddr(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:80":                "127.0.0.1:80",
		"passthrough:///127.0.0.1:80": "127.0.0.1:80",
		"dns:///LocalHost:80":         "localhost:80",
		"[::1]:80":                    "[::1]:80",
		"nonsense":                    "nonsense",
	} {
		if got := NormalizeAddr(in); got != want {
			t.Errorf("NormalizeAddr(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRegionLatency(t *testing.T) {
	regions := map[string]string{"127.0.0.1:1": "us", "127.0.0.1:2": "eu"}
	r := RegionLatency{LocalRegion: "us", Delay: 40 * time.Millisecond, RegionOf: func(a string) (string, bool) {
		reg, ok := regions[a]
		return reg, ok
	}}
	for addr, want := range map[string]time.Duration{"127.0.0.1:1": 0, "127.0.0.1:2": 40 * time.Millisecond, "127.0.0.1:3": 0} {
		drop, d := r.Link("n1", addr)
		if drop || d != want {
			t.Errorf("Link(%s) = %v, %v; want false, %v", addr, drop, d, want)
		}
	}
	if drop, d := (RegionLatency{Delay: time.Second}).Link("n1", "127.0.0.1:2"); drop || d != 0 {
		t.Errorf("without RegionOf: %v, %v", drop, d)
	}
}
