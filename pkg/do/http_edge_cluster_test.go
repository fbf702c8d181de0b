package do_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/edgeplane/edgeplane/internal/testcluster"
	edgeclient "github.com/edgeplane/edgeplane/pkg/client"
	"github.com/edgeplane/edgeplane/pkg/do/alarm"
	"github.com/edgeplane/edgeplane/pkg/do/wsroom"
)

// edgeCluster is a 3-node cluster with a client per node and one DO
// namespace whose alarm webhook records deliveries.
type edgeCluster struct {
	c       *testcluster.Cluster
	clients []*edgeclient.DO
	ns      edgeclient.DONamespace

	mu   sync.Mutex
	hits []alarm.Delivery
}

func newEdgeCluster(t *testing.T, history int) *edgeCluster {
	t.Helper()
	e := &edgeCluster{}
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var d alarm.Delivery
		if err := json.NewDecoder(r.Body).Decode(&d); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		e.mu.Lock()
		e.hits = append(e.hits, d)
		e.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(hook.Close)
	e.c = testcluster.Start(t, testcluster.Options{Nodes: 3})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	for _, m := range e.c.Members() {
		cl, err := edgeclient.New([]string{m.URL()}, e.c.Token(), edgeclient.WithHTTPClient(e.c.HTTPClient()))
		if err != nil {
			t.Fatal(err)
		}
		acc, err := cl.AccountID(ctx)
		if err != nil {
			t.Fatal(err)
		}
		e.clients = append(e.clients, cl.DO(acc))
	}
	var err error
	e.c.WaitFor("namespace created", 60*time.Second, func() bool { // 503 while the cluster settles
		e.ns, err = e.clients[0].CreateNamespace(ctx, edgeclient.DONamespaceCreate{Name: "edge", AlarmWebhook: hook.URL,
			WebsocketHistory: history})
		if err != nil { // an earlier try may have been applied after all
			t.Logf("create namespace: %v", err)
			e.ns, err = e.clients[0].ResolveNamespace(ctx, "edge")
		}
		return err == nil
	})
	return e
}

// ready waits until every node serves object o (the catalog and the
// liveness leases reached them) and returns its placement.
func (e *edgeCluster) ready(t *testing.T, o edgeclient.ObjectRef) edgeclient.DOWhere {
	t.Helper()
	var where edgeclient.DOWhere
	e.c.WaitFor("every node serves the object", 60*time.Second, func() bool {
		for _, d := range e.clients {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, err := d.Get(ctx, e.ns.ID, o, []string{"x"})
			if err == nil {
				where, err = d.Where(ctx, e.ns.ID, o)
			}
			cancel()
			if err != nil {
				return false
			}
		}
		return where.Owner != ""
	})
	return where
}

func (e *edgeCluster) deliveries() []alarm.Delivery {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]alarm.Delivery(nil), e.hits...)
}

func TestClusterAlarmFiresOnceThroughTheOwner(t *testing.T) {
	e := newEdgeCluster(t, 0)
	o := edgeclient.ByName("alarm-object")
	where := e.ready(t, o)
	// Set it through a node that is not the owner: forwarded to the owner.
	d := e.clients[0]
	for i, m := range e.c.Members() {
		if m.ID != where.Owner {
			d = e.clients[i]
			break
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	at := time.Now().Add(500 * time.Millisecond).UnixMilli()
	set, err := d.SetAlarm(ctx, e.ns.ID, o, at)
	if err != nil {
		t.Fatal(err)
	}
	if set.ScheduledTime == nil || *set.ScheduledTime != at || set.ServedBy != where.Owner {
		t.Fatalf("set answered %+v, want %d served by %s", set, at, where.Owner)
	}
	got, err := e.clients[2].GetAlarm(ctx, e.ns.ID, o)
	if err != nil || got.ScheduledTime == nil || *got.ScheduledTime != at {
		t.Fatalf("get alarm: %+v %v", got, err)
	}
	e.c.WaitFor("alarm delivery", 20*time.Second, func() bool { return len(e.deliveries()) > 0 })
	hit := e.deliveries()[0]
	if hit.ScheduledTime != at || hit.NamespaceID != e.ns.ID || hit.ObjectID != where.ID || hit.Node != where.Owner {
		t.Fatalf("delivery %+v, want object %s at %d from %s", hit, where.ID, at, where.Owner)
	}
	if time.Now().UnixMilli() < at {
		t.Fatal("delivered before its time")
	}
	e.c.WaitFor("alarm cleared", 10*time.Second, func() bool {
		got, err := e.clients[1].GetAlarm(ctx, e.ns.ID, o)
		return err == nil && got.ScheduledTime == nil
	})
	time.Sleep(1500 * time.Millisecond) // a scan or two: no second delivery
	if n := len(e.deliveries()); n != 1 {
		t.Fatalf("%d deliveries, want 1", n)
	}
	// Limits at their edge.
	if _, err := d.SetAlarm(ctx, e.ns.ID, o, 253402300799999); err != nil {
		t.Fatalf("the last valid alarm time: %v", err)
	}
	var apiErr *edgeclient.APIError
	if _, err := d.SetAlarm(ctx, e.ns.ID, o, 253402300799999+1); !errors.As(err, &apiErr) || apiErr.Status != 400 || !apiErr.HasCode(1230) {
		t.Fatalf("alarm past year 9999: %v", err)
	}
	del, err := d.DeleteAlarm(ctx, e.ns.ID, o)
	if err != nil || del.Deleted == nil || !*del.Deleted {
		t.Fatalf("delete alarm: %+v %v", del, err)
	}
}

// dialWS opens a WebSocket to object o through node i.
func (e *edgeCluster) dialWS(t *testing.T, i int, o edgeclient.ObjectRef, tags ...string) (*websocket.Conn, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	url := e.clients[i].WebSocketURL(e.c.Member(i).URL(), e.ns.ID, o, tags...)
	c, resp, err := websocket.Dial(ctx, url, wsOptions(e))
	if err != nil {
		t.Fatalf("websocket through node %d: %v", i, err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c, resp.Header.Get("X-Edge-Served-By")
}

// wsOptions authenticate a WebSocket dial to the cluster.
func wsOptions(e *edgeCluster) *websocket.DialOptions {
	return &websocket.DialOptions{HTTPClient: e.c.HTTPClient(),
		HTTPHeader: http.Header{"Authorization": {"Bearer " + e.c.Token()}}}
}

func readText(t *testing.T, c *websocket.Conn) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, data, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return string(data)
}

func TestClusterWebSocketsThroughEveryNodeShareOneRoom(t *testing.T) {
	e := newEdgeCluster(t, 2)
	o := edgeclient.ByName("room")
	where := e.ready(t, o)
	var conns []*websocket.Conn
	for i := range 3 {
		c, servedBy := e.dialWS(t, i, o)
		if servedBy != where.Owner {
			t.Fatalf("socket through node %d served by %q, want the owner %s", i, servedBy, where.Owner)
		}
		conns = append(conns, c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i, c := range conns {
		if err := c.Write(ctx, websocket.MessageText, []byte(fmt.Sprintf("from-%d", i))); err != nil {
			t.Fatal(err)
		}
		for j, other := range conns {
			if j == i {
				continue
			}
			if got := readText(t, other); got != fmt.Sprintf("from-%d", i) {
				t.Fatalf("socket %d got %q, want from-%d", j, got, i)
			}
		}
	}
	// A late socket gets the last two messages replayed from storage.
	late, _ := e.dialWS(t, 1, o)
	for _, want := range []string{"from-1", "from-2"} {
		if got := readText(t, late); got != want {
			t.Fatalf("replay got %q, want %q", got, want)
		}
	}
	// A message of exactly 1 MiB crosses a relay; one byte more closes its
	// sender with 1009. (A namespace without history: a 1.4 MB replicated
	// write per message under -race on a loaded machine can outlast a
	// lease renewal, which moves the room; the history itself is tested
	// above.)
	plain, err := e.clients[0].CreateNamespace(ctx, edgeclient.DONamespaceCreate{Name: "plain"})
	if err != nil {
		t.Fatal(err)
	}
	saved := e.ns
	e.ns = plain
	big := e.ready(t, edgeclient.ByName("big"))
	msg := make([]byte, wsroom.MaxMessageBytes)
	var relayed *websocket.Conn
	for attempt := 1; ; attempt++ {
		// 4001 means the object moved (a lease hiccup on a loaded
		// machine): the contract is to reconnect, so the test does.
		relayedVia := (e.indexOf(t, big.Owner) + 1) % 3
		relayed, _ = e.dialWS(t, relayedVia, edgeclient.ByName("big"))
		receiver, _ := e.dialWS(t, (relayedVia+1)%3, edgeclient.ByName("big"))
		receiver.SetReadLimit(2 * wsroom.MaxMessageBytes)
		if err := relayed.Write(ctx, websocket.MessageBinary, msg); err != nil {
			t.Fatal(err)
		}
		_, data, err := receiver.Read(ctx)
		if err == nil && len(data) == wsroom.MaxMessageBytes {
			break
		}
		if websocket.CloseStatus(err) != wsroom.CloseObjectMoved || attempt == 3 {
			t.Fatalf("1 MiB through a relay: %d bytes, %v", len(data), err)
		}
		t.Logf("attempt %d: %v; reconnecting", attempt, err)
		relayed.CloseNow()
		big = e.ready(t, edgeclient.ByName("big"))
	}
	e.ns = saved
	_ = relayed.Write(ctx, websocket.MessageBinary, append(msg, 0))
	if _, _, err := relayed.Read(ctx); websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
		t.Fatalf("1 MiB + 1 through a relay: %v, want close 1009", err)
	}
	// Too many tags is refused before the handshake with a 400 envelope.
	tags := make([]string, 11)
	for i := range tags {
		tags[i] = strconv.Itoa(i)
	}
	url := e.clients[0].WebSocketURL(e.c.Member(0).URL(), e.ns.ID, o, tags...)
	_, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: e.c.HTTPClient(),
		HTTPHeader: http.Header{"Authorization": {"Bearer " + e.c.Token()}}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("11 tags: %v %v", resp, err)
	}
}
