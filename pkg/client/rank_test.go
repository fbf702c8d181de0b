package client

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// slowDelay is the handler delay of the "far" endpoint: large against a
// loopback round trip, small enough to keep the tests quick.
const slowDelay = 60 * time.Millisecond

func TestRankFastestFirstDeadLast(t *testing.T) {
	fast := newFakeNode(t, "fast", "tok", 0)
	slow := newFakeNode(t, "slow", "tok", slowDelay)
	dead := deadEndpoint(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got := Rank(ctx, nil, []string{dead, slow.srv.URL, fast.srv.URL}, 3)
	if len(got) != 3 {
		t.Fatalf("Rank returned %d entries", len(got))
	}
	if got[0].Endpoint != fast.srv.URL || got[0].NodeID != "fast" || got[0].Err != nil {
		t.Fatalf("first = %+v, want the fast endpoint", got[0])
	}
	if got[1].Endpoint != slow.srv.URL || got[1].NodeID != "slow" || got[1].Err != nil {
		t.Fatalf("second = %+v, want the slow endpoint", got[1])
	}
	if got[1].RTT < slowDelay || got[0].RTT >= got[1].RTT {
		t.Fatalf("RTTs fast %v slow %v", got[0].RTT, got[1].RTT)
	}
	if got[2].Endpoint != dead || got[2].Err == nil {
		t.Fatalf("last = %+v, want the dead endpoint with an error", got[2])
	}
}

func TestRankReportsUnparsableEndpoint(t *testing.T) {
	got := Rank(context.Background(), nil, []string{"ftp://x:1"}, 1)
	if len(got) != 1 || got[0].Err == nil {
		t.Fatalf("Rank = %+v, want one unreachable entry", got)
	}
}

func TestClientPicksNearestReachableAndSticks(t *testing.T) {
	fast := newFakeNode(t, "fast", "tok", 0)
	slow := newFakeNode(t, "slow", "tok", slowDelay)
	dead := deadEndpoint(t)
	c, err := New([]string{dead, slow.srv.URL, fast.srv.URL}, "tok")
	if err != nil {
		t.Fatal(err)
	}
	if c.Endpoint() != dead {
		t.Fatalf("Endpoint before selection = %q, want the first given", c.Endpoint())
	}
	for range 3 {
		if _, err := c.Members(context.Background()); err != nil {
			t.Fatalf("Members: %v", err)
		}
	}
	if c.Endpoint() != fast.srv.URL {
		t.Fatalf("Endpoint = %q, want %q", c.Endpoint(), fast.srv.URL)
	}
	if n := fast.apiHits.Load(); n != 3 {
		t.Fatalf("fast endpoint got %d API requests, want 3", n)
	}
	if n := slow.apiHits.Load(); n != 0 {
		t.Fatalf("slow endpoint got %d API requests, want 0", n)
	}
}

func TestClientAllDeadIsErrNoEndpoint(t *testing.T) {
	c, err := New([]string{deadEndpoint(t), deadEndpoint(t)}, "tok")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Status(context.Background())
	if !errors.Is(err, ErrNoEndpoint) {
		t.Fatalf("err = %v, want ErrNoEndpoint", err)
	}
}

func TestMedian(t *testing.T) {
	cases := []struct {
		in   []time.Duration
		want time.Duration
	}{
		{[]time.Duration{5}, 5},
		{[]time.Duration{9, 1, 5}, 5},
		{[]time.Duration{4, 1, 3, 100}, 3},
	}
	for _, tc := range cases {
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestOrderByRTTTiesKeepTheGivenOrder(t *testing.T) {
	ms := func(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }
	dead := errors.New("down")
	in := []EndpointRTT{
		{Endpoint: "a", RTT: ms(0.40)},
		{Endpoint: "b", RTT: ms(0.21)},
		{Endpoint: "x", Err: dead},
		{Endpoint: "c", RTT: ms(80)},
		{Endpoint: "d", RTT: ms(3.9)},
		{Endpoint: "e", RTT: ms(84)},
		{Endpoint: "f", RTT: ms(95)},
	}
	var got []string
	for _, e := range orderByRTT(in) {
		got = append(got, e.Endpoint)
	}
	// a, b and d are loopback noise apart: the given order; c and e are
	// within a tenth of 80 ms; f is slower; x is down.
	want := "a b d c e f x"
	if s := strings.Join(got, " "); s != want {
		t.Fatalf("order %q, want %q", s, want)
	}
}

// Equal endpoints pick the first given, call after call: a put and the
// get after it reach the same node.
func TestClientPicksTheSameAmongEqualEndpoints(t *testing.T) {
	nodes := []*fakeNode{newFakeNode(t, "n1", "tok", 0), newFakeNode(t, "n2", "tok", 0), newFakeNode(t, "n3", "tok", 0)}
	eps := []string{nodes[1].srv.URL, nodes[0].srv.URL, nodes[2].srv.URL}
	for range 20 {
		c, err := New(eps, "tok")
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Select(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got != eps[0] {
			t.Fatalf("picked %s, want the first given %s", got, eps[0])
		}
	}
}
