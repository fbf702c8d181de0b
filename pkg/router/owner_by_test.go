package router

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/pkg/cluster"
	edgev1 "github.com/edgeplane/edgeplane/proto/edge/v1"
)

// oneMember knows one live member besides the local node.
type oneMember struct{ m cluster.Member }

func (o oneMember) Members() []cluster.Member { return []cluster.Member{o.m} }
func (o oneMember) Member(id string) (cluster.Member, bool) {
	return o.m, id == o.m.ID
}
func (o oneMember) RTT(string) (time.Duration, bool) { return 0, false }

// TestAtOwnerBy: the service's owner function alone decides: its own node
// serves here, another node is forwarded to, an unknown node is a 503, and
// the function's error is a 400.
func TestAtOwnerBy(t *testing.T) {
	seen := make(chan seenRequest, 1)
	addr := startNode(t, &fakeBackend{info: &edgev1.InfoResponse{NodeId: "n2"}, handler: recordingHandler(seen)})
	m := cluster.Member{State: cluster.StateAlive}
	m.ID, m.GRPCAddr = "n2", addr
	rt, err := New(Config{NodeID: "n1", Members: oneMember{m}, Leader: func() string { return "" },
		WaitApplied: func(context.Context, uint64) error { return nil }, Pool: newTestPool(t, PoolConfig{})})
	if err != nil {
		t.Fatal(err)
	}
	owner := "n1"
	local := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	h := rt.Place("do", AtOwnerBy(func(r *http.Request) (string, error) {
		if owner == "" {
			return "", errors.New("bad object id")
		}
		return owner, nil
	}), local)
	serve := func() *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "http://x/obj", nil))
		return rec
	}
	if rec := serve(); rec.Code != http.StatusTeapot || rec.Header().Get(HeaderServedBy) != "n1" {
		t.Fatalf("own node: %d served by %q", rec.Code, rec.Header().Get(HeaderServedBy))
	}
	owner = "n2"
	if rec := serve(); rec.Code != http.StatusCreated || rec.Header().Get(HeaderServedBy) != "n2" {
		t.Fatalf("other node: %d served by %q", rec.Code, rec.Header().Get(HeaderServedBy))
	}
	owner = "n9"
	if rec := serve(); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("unknown node: %d, want 503", rec.Code)
	}
	owner = ""
	if rec := serve(); rec.Code != http.StatusBadRequest {
		t.Fatalf("owner error: %d, want 400", rec.Code)
	}
}

// TestPlacementWithinSetsTheForwardDeadline: a forwarded request without a
// deadline gets the route's Within, else the forwarder's default, and the
// serving node's handler sees it.
func TestPlacementWithinSetsTheForwardDeadline(t *testing.T) {
	left := make(chan time.Duration, 1)
	addr := startNode(t, &fakeBackend{info: &edgev1.InfoResponse{NodeId: "n2"},
		handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			d, ok := r.Context().Deadline()
			if !ok {
				left <- 0
				return
			}
			left <- time.Until(d)
		})})
	m := cluster.Member{State: cluster.StateAlive}
	m.ID, m.GRPCAddr = "n2", addr
	rt, err := New(Config{NodeID: "n1", Members: oneMember{m}, Leader: func() string { return "n2" },
		WaitApplied: func(context.Context, uint64) error { return nil }, Pool: newTestPool(t, PoolConfig{})})
	if err != nil {
		t.Fatal(err)
	}
	noop := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("served here") })
	for _, tc := range []struct {
		p        Placement
		min, max time.Duration
	}{
		{AtLeader(), DefaultForwardTimeout - 2*time.Second, DefaultForwardTimeout},
		{AtLeader().Within(45 * time.Second), 43 * time.Second, 45 * time.Second},
	} {
		rec := httptest.NewRecorder()
		rt.Place("d1", tc.p, noop).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "http://x/q", nil))
		if got := <-left; got < tc.min || got > tc.max {
			t.Errorf("timeout %v: the serving node had %v left, want %v to %v", tc.p.timeout, got, tc.min, tc.max)
		}
	}
}
