package client

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync/atomic"
	"testing"

	"github.com/edgeplane/edgeplane/pkg/wire"
)

func TestMembersAndStatus(t *testing.T) {
	f := newFakeNode(t, "node-1", "tok", 0)
	rtt := 1.5
	f.members = []wire.Member{
		{ID: "node-1", Region: "us-east", State: wire.StateAlive, Voter: true, HTTPAddr: "127.0.0.1:8787", Self: true},
		{ID: "node-2", Region: "eu-west", State: wire.StateSuspect, RTTMillis: &rtt},
	}
	f.status = wire.Status{NodeID: "node-1", Region: "us-east", Raft: wire.RaftStatus{State: wire.RaftLeader, Term: 3}, CatalogVersion: 7}
	c, err := New([]string{f.srv.URL}, "tok")
	if err != nil {
		t.Fatal(err)
	}
	ms, err := c.Members(context.Background())
	if err != nil {
		t.Fatalf("Members: %v", err)
	}
	if !reflect.DeepEqual(ms, f.members) {
		t.Fatalf("Members = %+v, want %+v", ms, f.members)
	}
	st, err := c.Status(context.Background())
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	if !reflect.DeepEqual(st, f.status) {
		t.Fatalf("Status = %+v, want %+v", st, f.status)
	}
}

func TestMembersEmptyIsNotNil(t *testing.T) {
	f := newFakeNode(t, "node-1", "tok", 0)
	c, _ := New([]string{f.srv.URL}, "tok")
	ms, err := c.Members(context.Background())
	if err != nil || ms == nil || len(ms) != 0 {
		t.Fatalf("Members = %#v, %v; want an empty slice", ms, err)
	}
}

func TestMembersWrongTokenIsAPIError(t *testing.T) {
	f := newFakeNode(t, "node-1", "tok", 0)
	c, _ := New([]string{f.srv.URL}, "wrong")
	_, err := c.Members(context.Background())
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized || !ae.HasCode(10000) {
		t.Fatalf("err = %v, want a 401 APIError with code 10000", err)
	}
}

func TestHealthAndReady(t *testing.T) {
	var ready atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/healthz":
			writeTestJSON(w, http.StatusOK, Health{Status: "ok", NodeID: "n1", Version: "v1"})
		case r.URL.Path == "/readyz" && ready.Load():
			writeTestJSON(w, http.StatusOK, Health{Status: "ready", NodeID: "n1"})
		case r.URL.Path == "/readyz":
			writeTestJSON(w, http.StatusServiceUnavailable, Health{Status: "unavailable", NodeID: "n1", Reason: "no raft leader"})
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	c, _ := New([]string{srv.URL}, "")
	ctx := context.Background()
	h, err := c.Health(ctx)
	if err != nil || h.NodeID != "n1" || h.Version != "v1" {
		t.Fatalf("Health = %+v, %v", h, err)
	}
	if err := c.Healthz(ctx); err != nil {
		t.Fatalf("Healthz: %v", err)
	}
	err = c.Ready(ctx)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusServiceUnavailable {
		t.Fatalf("Ready = %v, want a 503 APIError", err)
	}
	if want := "readyz: HTTP 503: no raft leader"; err.Error() != want {
		t.Fatalf("Ready error = %q, want %q", err, want)
	}
	ready.Store(true)
	if err := c.Ready(ctx); err != nil {
		t.Fatalf("Ready after ready: %v", err)
	}
}
