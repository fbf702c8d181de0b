package wsroom

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// relayPair is an owner node "A" (hub, DORoom server, local WebSocket
// endpoint) and a second node "B" that relays its clients' sockets to A.
type relayPair struct {
	owner              *Hub
	ownerURL, relayURL string
	moved              atomic.Bool // A refuses joins as if the object moved
}

func newRelayPair(t *testing.T) *relayPair {
	t.Helper()
	p := &relayPair{}
	mkHub := func() *Hub {
		h, err := NewHub(HubConfig{Room: func(context.Context, string) (RoomConfig, error) { return RoomConfig{}, nil }})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(h.Close)
		return h
	}
	p.owner = mkHub()
	relayHub := mkHub()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	ownerRelay, err := NewRelay(RelayConfig{Self: "A", Hub: p.owner,
		Dial:     func(string) (grpc.ClientConnInterface, error) { return nil, errors.New("unused") },
		IsMember: func(n string) bool { return n == "B" },
		Accept: func(_ context.Context, ns, id string) (string, error) {
			if p.moved.Load() {
				return "", ErrMoved
			}
			return ns + "/" + id, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	ownerRelay.RegisterGRPC(srv)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	cc, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	edgeRelay, err := NewRelay(RelayConfig{Self: "B", Hub: relayHub,
		Dial:     func(node string) (grpc.ClientConnInterface, error) { return cc, nil },
		IsMember: func(string) bool { return true },
		Accept:   func(context.Context, string, string) (string, error) { return "", ErrMoved }})
	if err != nil {
		t.Fatal(err)
	}
	fail := func(w http.ResponseWriter, _ *http.Request, err error) {
		code := http.StatusBadGateway
		if errors.Is(err, ErrMoved) {
			code = http.StatusServiceUnavailable
		}
		http.Error(w, err.Error(), code)
	}
	ns, id, _ := strings.Cut(testObj, "/")
	a := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.owner.ServeLocal(w, r, testObj, r.URL.Query()["tag"], fail)
	}))
	t.Cleanup(a.Close)
	b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		edgeRelay.ServeRemote(w, r, "A", ns, id, r.URL.Query()["tag"], "req-1", fail)
	}))
	t.Cleanup(b.Close)
	p.ownerURL = "ws" + strings.TrimPrefix(a.URL, "http")
	p.relayURL = "ws" + strings.TrimPrefix(b.URL, "http")
	return p
}

func TestRelayedSocketsJoinTheOwnersRoom(t *testing.T) {
	p := newRelayPair(t)
	local := dial(t, p.owner, p.ownerURL, 1)
	r1 := dial(t, p.owner, p.relayURL, 2)
	r2 := dial(t, p.owner, p.relayURL, 3, "red")
	send(t, local, "hello")
	for _, c := range []*websocket.Conn{r1, r2} {
		if got := recv(t, c); got != "hello" {
			t.Fatalf("relayed socket got %q", got)
		}
	}
	send(t, r1, "from relay")
	if got := recv(t, local); got != "from relay" {
		t.Fatalf("local got %q", got)
	}
	if got := recv(t, r2); got != "from relay" {
		t.Fatalf("r2 got %q", got)
	}
	send(t, local, `{"$to":["red"],"data":"to red"}`)
	if got := recv(t, r2); got != "to red" {
		t.Fatalf("r2 got %q", got)
	}
	// The owner stops serving the object: every socket, relayed or not,
	// is closed with 4001.
	p.owner.CloseObject(testObj, CloseObjectMoved, "object moved, reconnect")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, c := range []*websocket.Conn{local, r1, r2} {
		_, _, err := c.Read(ctx)
		if got := websocket.CloseStatus(err); got != CloseObjectMoved {
			t.Fatalf("closed with %v (%v), want 4001", got, err)
		}
	}
	// A relayed client that leaves is removed from the owner's room.
	r3 := dial(t, p.owner, p.relayURL, 1)
	r3.Close(websocket.StatusNormalClosure, "bye")
	waitFor(t, "relayed socket gone", func() bool { return p.owner.Sockets(testObj) == 0 })
}

func TestRelayRefusedJoinIsAnHTTPError(t *testing.T) {
	p := newRelayPair(t)
	p.moved.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, resp, err := websocket.Dial(ctx, p.relayURL, nil)
	if err == nil {
		t.Fatal("dial succeeded on a refused join")
	}
	if resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("response %v, want 503 before the handshake", resp)
	}
}

func TestRelayRefusesNonMembers(t *testing.T) {
	h, err := NewHub(HubConfig{Room: func(context.Context, string) (RoomConfig, error) { return RoomConfig{}, nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	rl, err := NewRelay(RelayConfig{Self: "A", Hub: h,
		Dial:     func(string) (grpc.ClientConnInterface, error) { return nil, errors.New("unused") },
		IsMember: func(n string) bool { return n == "B" },
		Accept:   func(_ context.Context, ns, id string) (string, error) { return ns + "/" + id, nil }})
	if err != nil {
		t.Fatal(err)
	}
	rl.RegisterGRPC(srv)
	go srv.Serve(lis)
	defer srv.Stop()
	cc, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	other, err := NewRelay(RelayConfig{Self: "mallory", Hub: h,
		Dial:     func(string) (grpc.ClientConnInterface, error) { return cc, nil },
		IsMember: func(string) bool { return true },
		Accept:   func(context.Context, string, string) (string, error) { return "", ErrMoved }})
	if err != nil {
		t.Fatal(err)
	}
	ns, id, _ := strings.Cut(testObj, "/")
	var got error
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/ws", nil)
	other.ServeRemote(rec, req, "A", ns, id, nil, "r", func(_ http.ResponseWriter, _ *http.Request, err error) { got = err })
	if got == nil || !strings.Contains(got.Error(), "not a member") {
		t.Fatalf("join from a non-member: %v", got)
	}
	if h.Sockets(testObj) != 0 {
		t.Fatal("a non-member joined a room")
	}
}
