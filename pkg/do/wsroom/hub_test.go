package wsroom

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
)

// memHistory is a History in memory, standing in for the object's storage
// in the hub's unit tests (the service's tests use the real one).
type memHistory struct {
	mu   sync.Mutex
	recs []Record
}

func (m *memHistory) Load(context.Context) ([]Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Record(nil), m.recs...), nil
}

func (m *memHistory) Append(_ context.Context, rec Record, keep int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs = append(m.recs, rec)
	if len(m.recs) > keep {
		m.recs = m.recs[len(m.recs)-keep:]
	}
	return nil
}

const testObj = "ns1/00000000000000000000000000000000000000000000000000000000000000aa"

// newTestHub serves obj's room over WebSockets on loopback.
func newTestHub(t *testing.T, keep int) (*Hub, string) {
	t.Helper()
	hist := &memHistory{}
	h, err := NewHub(HubConfig{
		Room: func(context.Context, string) (RoomConfig, error) {
			return RoomConfig{Keep: keep, History: hist}, nil
		},
		Registerer: prometheus.NewRegistry(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeLocal(w, r, testObj, r.URL.Query()["tag"], func(w http.ResponseWriter, _ *http.Request, err error) {
			http.Error(w, err.Error(), http.StatusBadRequest)
		})
	}))
	t.Cleanup(srv.Close)
	return h, "ws" + strings.TrimPrefix(srv.URL, "http")
}

// dial opens a client socket with tags and waits until the room holds want sockets.
func dial(t *testing.T, h *Hub, url string, want int, tags ...string) *websocket.Conn {
	t.Helper()
	q := ""
	for i, tag := range tags {
		sep := "&"
		if i == 0 {
			sep = "?"
		}
		q += sep + "tag=" + tag
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url+q, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	c.SetReadLimit(2 * MaxMessageBytes)
	t.Cleanup(func() { c.CloseNow() })
	waitFor(t, fmt.Sprintf("%d sockets", want), func() bool { return h.Sockets(testObj) == want })
	return c
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func send(t *testing.T, c *websocket.Conn, msg string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// recv reads one message, or fails after 10 s.
func recv(t *testing.T, c *websocket.Conn) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, data, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return string(data)
}

// silent asserts that nothing arrives on c for a while.
func silent(t *testing.T, c *websocket.Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, data, err := c.Read(ctx); err == nil {
		t.Fatalf("unexpected message %q", data)
	}
}

func TestBroadcastReachesOthersInOrder(t *testing.T) {
	h, url := newTestHub(t, 0)
	a := dial(t, h, url, 1)
	b := dial(t, h, url, 2)
	c := dial(t, h, url, 3)
	for i := range 20 {
		send(t, a, fmt.Sprintf("m%d", i))
	}
	for _, cl := range []*websocket.Conn{b, c} {
		for i := range 20 {
			if got := recv(t, cl); got != fmt.Sprintf("m%d", i) {
				t.Fatalf("got %q, want m%d", got, i)
			}
		}
	}
	send(t, b, "from b")
	if got := recv(t, a); got != "from b" {
		t.Fatalf("a got %q", got)
	}
	if got := recv(t, c); got != "from b" {
		t.Fatalf("c got %q", got)
	}
	// Binary messages stay binary.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Write(ctx, websocket.MessageBinary, []byte{0, 1, 2}); err != nil {
		t.Fatal(err)
	}
	typ, data, err := b.Read(ctx)
	if err != nil || typ != websocket.MessageBinary || string(data) != "\x00\x01\x02" {
		t.Fatalf("binary: %v %v %q", typ, err, data)
	}
	// The sender never receives its own messages: a got only b's.
	silent(t, a)
}

func TestTagEnvelopeSelectsRecipients(t *testing.T) {
	h, url := newTestHub(t, 0)
	sender := dial(t, h, url, 1)
	red := dial(t, h, url, 2, "red")
	blue := dial(t, h, url, 3, "blue", "team")
	plain := dial(t, h, url, 4)
	send(t, sender, `{"$to":["red"],"data":"only red"}`)
	send(t, sender, `{"$to":["team","red"],"data":{"n":1}}`)
	send(t, sender, `{"$to": not json`)
	if got := recv(t, red); got != "only red" {
		t.Fatalf("red got %q", got)
	}
	if got := recv(t, red); got != `{"n":1}` {
		t.Fatalf("red got %q", got)
	}
	if got := recv(t, blue); got != `{"n":1}` {
		t.Fatalf("blue got %q", got)
	}
	// A malformed envelope is a plain message for everyone.
	for _, c := range []*websocket.Conn{red, blue, plain} {
		if got := recv(t, c); got != `{"$to": not json` {
			t.Fatalf("got %q", got)
		}
	}
	silent(t, plain)
}

func TestHistoryReplayedToNewSockets(t *testing.T) {
	h, url := newTestHub(t, 3)
	a := dial(t, h, url, 1)
	b := dial(t, h, url, 2)
	for i := range 4 {
		send(t, a, fmt.Sprintf("h%d", i))
	}
	send(t, a, `{"$to":["red"],"data":"secret"}`)
	send(t, a, "h4")
	for i := range 5 { // b received them live: all are in the history by now
		if got := recv(t, b); got != fmt.Sprintf("h%d", i) {
			t.Fatalf("b got %q", got)
		}
	}
	// The room keeps the last 3: h3, the red-only message and h4.
	red := dial(t, h, url, 3, "red")
	for _, want := range []string{"h3", "secret", "h4"} {
		if got := recv(t, red); got != want {
			t.Fatalf("replay got %q, want %q", got, want)
		}
	}
	other := dial(t, h, url, 4)
	for _, want := range []string{"h3", "h4"} {
		if got := recv(t, other); got != want {
			t.Fatalf("replay got %q, want %q", got, want)
		}
	}
	silent(t, other)
	// The room empties and reopens: the history comes back from storage.
	for _, c := range []*websocket.Conn{a, b, red, other} {
		c.Close(websocket.StatusNormalClosure, "")
	}
	waitFor(t, "empty room", func() bool { return h.Sockets(testObj) == 0 })
	again := dial(t, h, url, 1)
	for _, want := range []string{"h3", "h4"} {
		if got := recv(t, again); got != want {
			t.Fatalf("after reopen got %q, want %q", got, want)
		}
	}
}

func TestMessageSizeLimit(t *testing.T) {
	h, url := newTestHub(t, 0)
	a := dial(t, h, url, 1)
	b := dial(t, h, url, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Write(ctx, websocket.MessageBinary, make([]byte, MaxMessageBytes)); err != nil {
		t.Fatal(err)
	}
	if _, data, err := b.Read(ctx); err != nil || len(data) != MaxMessageBytes {
		t.Fatalf("1 MiB message: %v, %d bytes", err, len(data))
	}
	_ = a.Write(ctx, websocket.MessageBinary, make([]byte, MaxMessageBytes+1))
	_, _, err := a.Read(ctx)
	if got := websocket.CloseStatus(err); got != websocket.StatusMessageTooBig {
		t.Fatalf("sender of 1 MiB + 1 closed with %v (%v), want 1009", got, err)
	}
	waitFor(t, "sender removed", func() bool { return h.Sockets(testObj) == 1 })
	silent(t, b)
}

func TestObjectMovedClosesSockets(t *testing.T) {
	h, url := newTestHub(t, 0)
	a := dial(t, h, url, 1)
	b := dial(t, h, url, 2)
	h.CloseObject(testObj, CloseObjectMoved, "object moved, reconnect")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, c := range []*websocket.Conn{a, b} {
		_, _, err := c.Read(ctx)
		if got := websocket.CloseStatus(err); got != CloseObjectMoved {
			t.Fatalf("closed with %v (%v), want 4001", got, err)
		}
	}
	if n := h.Sockets(testObj); n != 0 {
		t.Fatalf("%d sockets left", n)
	}
}

// blockedConn is a socket whose client never reads.
type blockedConn struct {
	closed chan int
}

func (b *blockedConn) Write(ctx context.Context, _ Message) error {
	<-ctx.Done()
	return ctx.Err()
}

func (b *blockedConn) Close(code int, _ string) error {
	select {
	case b.closed <- code:
	default:
	}
	return nil
}

// countConn counts the messages written to it.
type countConn struct {
	mu sync.Mutex
	n  int
}

func (c *countConn) Write(context.Context, Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	return nil
}

func (c *countConn) Close(int, string) error { return nil }

func (c *countConn) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

func TestSlowConsumerIsClosedNotWaitedFor(t *testing.T) {
	h, _ := newTestHub(t, 0)
	ctx := context.Background()
	sender, err := h.Join(ctx, testObj, &countConn{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	slow := &blockedConn{closed: make(chan int, 1)}
	if _, err := h.Join(ctx, testObj, slow, nil); err != nil {
		t.Fatal(err)
	}
	fast := &countConn{}
	if _, err := h.Join(ctx, testObj, fast, nil); err != nil {
		t.Fatal(err)
	}
	const n = QueueMessages + 10
	start := time.Now()
	for i := range n {
		if err := sender.Broadcast(ctx, Message{Data: []byte(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
		// A fast reader keeps up; the slow one's queue fills regardless.
		waitFor(t, "the fast socket to keep up", func() bool { return fast.count() == i+1 })
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("broadcasting took %v: the room waited for the slow socket", d)
	}
	select {
	case code := <-slow.closed:
		if code != CloseSlowConsumer {
			t.Fatalf("slow socket closed with %d, want %d", code, CloseSlowConsumer)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("slow socket never closed")
	}
	if got := h.Sockets(testObj); got != 2 {
		t.Fatalf("%d sockets, want 2", got)
	}
	if err := sender.Broadcast(ctx, Message{Data: make([]byte, MaxMessageBytes+1)}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized broadcast: %v", err)
	}
}

func TestTagLimits(t *testing.T) {
	ten := make([]string, MaxTags)
	for i := range ten {
		ten[i] = strings.Repeat(fmt.Sprint(i), MaxTagBytes)[:MaxTagBytes]
	}
	if err := ValidateTags(ten); err != nil {
		t.Fatalf("10 tags of 256 bytes: %v", err)
	}
	for name, tags := range map[string][]string{
		"11 tags":   append(ten, "x"),
		"257 bytes": {strings.Repeat("a", MaxTagBytes+1)},
		"empty":     {""},
		"bad utf8":  {"\xff"},
	} {
		if err := ValidateTags(tags); !errors.Is(err, ErrBadTags) {
			t.Errorf("%s: %v", name, err)
		}
	}
	h, url := newTestHub(t, 0)
	resp, err := http.Get(strings.Replace(url, "ws", "http", 1) + "?tag=" + strings.Repeat("a", MaxTagBytes+1))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("oversized tag: status %d, want 400 before the handshake", resp.StatusCode)
	}
	if h.Sockets(testObj) != 0 || len(h.Objects()) != 0 {
		t.Fatalf("a refused join left a room behind")
	}
}
