package do_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/coder/websocket"

	edgeclient "github.com/edgeplane/edgeplane/pkg/client"
	"github.com/edgeplane/edgeplane/pkg/do/wsroom"
)

// indexOf is the member index of node id.
func (e *edgeCluster) indexOf(t *testing.T, id string) int {
	t.Helper()
	for i, m := range e.c.Members() {
		if m.ID == id {
			return i
		}
	}
	t.Fatalf("no member %s", id)
	return -1
}

func TestClusterAlarmSurvivesOwnerKill(t *testing.T) {
	e := newEdgeCluster(t, 0)
	o := edgeclient.ByName("failover-alarm")
	where := e.ready(t, o)
	dead := e.indexOf(t, where.Owner)
	other := (dead + 1) % 3
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	at := time.Now().Add(3 * time.Second).UnixMilli()
	if _, err := e.clients[other].SetAlarm(ctx, e.ns.ID, o, at); err != nil {
		t.Fatal(err)
	}
	e.c.Kill(dead) // before the alarm is due: only a new owner can deliver it
	killedAt := time.Now()
	e.c.WaitFor("delivery by the new owner", 60*time.Second, func() bool { return len(e.deliveries()) > 0 })
	hit := e.deliveries()[0]
	if hit.Node == where.Owner || hit.ScheduledTime != at || hit.ObjectID != where.ID {
		t.Fatalf("delivery %+v: want object %s at %d from a node other than the killed %s", hit, where.ID, at, where.Owner)
	}
	t.Logf("alarm delivered by %s %v after the owner was killed", hit.Node, time.Since(killedAt).Round(100*time.Millisecond))
	e.c.WaitFor("alarm cleared", 20*time.Second, func() bool {
		got, err := e.clients[other].GetAlarm(ctx, e.ns.ID, o)
		return err == nil && got.ScheduledTime == nil
	})
}

// closeCode reads from c until it closes and returns the close code.
func closeCode(c *websocket.Conn, within time.Duration) websocket.StatusCode {
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	for {
		if _, _, err := c.Read(ctx); err != nil {
			return websocket.CloseStatus(err)
		}
	}
}

// dialUntil reconnects through node i until the socket is served by want
// (any node when want is empty).
func (e *edgeCluster) dialUntil(t *testing.T, i int, o edgeclient.ObjectRef, want string) (*websocket.Conn, string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		url := e.clients[i].WebSocketURL(e.c.Member(i).URL(), e.ns.ID, o)
		c, resp, err := websocket.Dial(ctx, url, wsOptions(e))
		cancel()
		if err == nil {
			served := resp.Header.Get("X-Edge-Served-By")
			if want == "" || served == want {
				t.Cleanup(func() { c.CloseNow() })
				return c, served
			}
			c.CloseNow()
		}
		if time.Now().After(deadline) {
			t.Fatalf("no socket through node %d served by %q: %v", i, want, err)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func TestClusterWebSocketsMoveWithTheirObject(t *testing.T) {
	e := newEdgeCluster(t, 3) // history: replayed by whichever node owns the room
	o := edgeclient.ByName("moving-room")
	where := e.ready(t, o)
	owner := e.indexOf(t, where.Owner)
	a, b := (owner+1)%3, (owner+2)%3
	ca, _ := e.dialWS(t, a, o)
	cb, _ := e.dialWS(t, b, o)
	sendRecv(t, ca, cb, "before failover")
	// The owner dies: the relayed sockets are closed with 4001.
	e.c.Kill(owner)
	for name, c := range map[string]*websocket.Conn{"a": ca, "b": cb} {
		if got := closeCode(c, 20*time.Second); got != wsroom.CloseObjectMoved {
			t.Fatalf("socket %s closed with %v after the owner died, want 4001", name, got)
		}
	}
	// Reconnecting reaches the new owner, which replays the history it
	// read from the replicated storage, and the room works there.
	ca, servedA := e.dialUntil(t, a, o, "")
	cb, servedB := e.dialUntil(t, b, o, servedA)
	if servedA == where.Owner || servedB != servedA {
		t.Fatalf("after failover served by %s and %s (old owner %s)", servedA, servedB, where.Owner)
	}
	expectReplay(t, ca, "before failover")
	expectReplay(t, cb, "before failover")
	sendRecv(t, ca, cb, "after failover")
	// The old owner returns and takes its object back: the sockets on the
	// interim owner are closed with 4001 again, and reconnect to it.
	e.c.Restart(owner)
	for name, c := range map[string]*websocket.Conn{"a": ca, "b": cb} {
		if got := closeCode(c, 60*time.Second); got != wsroom.CloseObjectMoved {
			t.Fatalf("socket %s closed with %v on hand-back, want 4001", name, got)
		}
	}
	ca, _ = e.dialUntil(t, a, o, where.Owner)
	cb, _ = e.dialUntil(t, b, o, where.Owner)
	expectReplay(t, ca, "before failover", "after failover")
	expectReplay(t, cb, "before failover", "after failover")
	sendRecv(t, ca, cb, "after hand-back")
}

// expectReplay reads the history replayed to a new socket.
func expectReplay(t *testing.T, c *websocket.Conn, want ...string) {
	t.Helper()
	for _, w := range want {
		if got := readText(t, c); got != w {
			t.Fatalf("replay got %q, want %q", got, w)
		}
	}
}

// sendRecv sends msg on from and expects it on to.
func sendRecv(t *testing.T, from, to *websocket.Conn, msg string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := from.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	if got := readText(t, to); got != msg {
		t.Fatalf("got %q, want %q", got, fmt.Sprint(msg))
	}
}
