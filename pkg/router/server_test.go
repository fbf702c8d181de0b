package router

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	edgev1 "github.com/edgeplane/edgeplane/proto/edge/v1"
)

func TestInfoAndPing(t *testing.T) {
	info := &edgev1.InfoResponse{
		NodeId: "n2", Region: "eu-west", Version: "v0.1.0",
		HttpAddr: "127.0.0.1:8787", GrpcAddr: "127.0.0.1:8788",
		RaftAddr: "127.0.0.1:8789", GossipAddr: "127.0.0.1:7946",
	}
	addr := startNode(t, &fakeBackend{info: info})
	pool := newTestPool(t, PoolConfig{})
	client, err := pool.Client(addr)
	if err != nil {
		t.Fatalf("Client: %v", err)
	}
	ctx := testCtx(t)

	got, err := client.Info(ctx, &edgev1.InfoRequest{})
	if err != nil {
		t.Fatalf("Info: %v", err)
	}
	if got.GetNodeId() != "n2" || got.GetRegion() != "eu-west" || got.GetVersion() != "v0.1.0" ||
		got.GetHttpAddr() != info.HttpAddr || got.GetGrpcAddr() != info.GrpcAddr ||
		got.GetRaftAddr() != info.RaftAddr || got.GetGossipAddr() != info.GossipAddr {
		t.Fatalf("Info = %v, want %v", got, info)
	}

	before := time.Now().UnixNano()
	pong, err := client.Ping(ctx, &edgev1.PingRequest{Payload: []byte("hello")})
	if err != nil {
		t.Fatalf("Ping: %v", err)
	}
	after := time.Now().UnixNano()
	if !bytes.Equal(pong.GetPayload(), []byte("hello")) {
		t.Errorf("Ping payload = %q, want hello", pong.GetPayload())
	}
	if pong.GetNodeId() != "n2" {
		t.Errorf("Ping node = %q, want n2", pong.GetNodeId())
	}
	if ts := pong.GetServerUnixNanos(); ts < before || ts > after {
		t.Errorf("Ping server time %d outside [%d, %d]", ts, before, after)
	}
}

func TestInfoUnavailableWithoutInfo(t *testing.T) {
	addr := startNode(t, &fakeBackend{})
	client, err := newTestPool(t, PoolConfig{}).Client(addr)
	if err != nil {
		t.Fatalf("Client: %v", err)
	}
	_, err = client.Info(testCtx(t), &edgev1.InfoRequest{})
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("Info without info: %v, want Unavailable", err)
	}
}

func TestForwardRPCRequiresOrigin(t *testing.T) {
	addr := startNode(t, &fakeBackend{info: &edgev1.InfoResponse{NodeId: "n2"}})
	client, err := newTestPool(t, PoolConfig{}).Client(addr)
	if err != nil {
		t.Fatalf("Client: %v", err)
	}
	_, err = client.Forward(testCtx(t), &edgev1.ForwardRequest{Method: "GET", Path: "/"})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("Forward without origin: %v, want InvalidArgument", err)
	}
}

// The applied index comes from a member, and the server treats it as input:
// garbage is ignored, and an index this node will never reach holds the
// request at most catchUpWait before it is served anyway.
func TestForwardRPCBoundsTheCatchUpWait(t *testing.T) {
	var waited atomic.Int32
	addr := startNode(t, &fakeBackend{
		info:    &edgev1.InfoResponse{NodeId: "n2"},
		handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }),
		waitApplied: func(ctx context.Context, _ uint64) error {
			waited.Add(1)
			<-ctx.Done() // never reached
			return ctx.Err()
		},
	})
	client, err := newTestPool(t, PoolConfig{}).Client(addr)
	if err != nil {
		t.Fatalf("Client: %v", err)
	}
	send := func(index string) (*edgev1.ForwardResponse, time.Duration) {
		start := time.Now()
		resp, err := client.Forward(testCtx(t), &edgev1.ForwardRequest{Method: "GET", Path: "/", OriginNode: "n1",
			Headers: headersToProto(http.Header{headerAppliedIndex: {index}})})
		if err != nil {
			t.Fatalf("Forward with index %q: %v", index, err)
		}
		return resp, time.Since(start)
	}
	for _, bad := range []string{"abc", "-1", "0", "1e9", strings.Repeat("9", 40)} {
		if resp, _ := send(bad); resp.GetStatus() != http.StatusOK {
			t.Fatalf("index %q: status %d", bad, resp.GetStatus())
		}
	}
	if n := waited.Load(); n != 0 {
		t.Fatalf("waited %d times for indexes that do not parse", n)
	}
	resp, took := send("18446744073709551615")
	if resp.GetStatus() != http.StatusOK || waited.Load() != 1 || took < catchUpWait || took > catchUpWait+2*time.Second {
		t.Fatalf("an unreachable index: status %d after %v (%d waits), want served after about %v",
			resp.GetStatus(), took, waited.Load(), catchUpWait)
	}
}
