package wsroom

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// gatedConn is a Conn whose messages wait until the real connection is
// bound: a socket joins its room (and gets its history replay queued)
// before the WebSocket handshake answers, so a refused join can still be an
// HTTP error. A close before the bind is applied at the bind.
type gatedConn struct {
	bound chan struct{}

	mu     sync.Mutex
	done   bool // bind happened
	conn   Conn // nil when the handshake failed
	closed bool // Close came before bind
	code   int
	reason string
}

func newGatedConn() *gatedConn { return &gatedConn{bound: make(chan struct{})} }

// bind delivers c (nil: the handshake failed) to the waiting writes, and
// closes it at once when the socket was closed meanwhile.
func (g *gatedConn) bind(c Conn) {
	g.mu.Lock()
	if g.done {
		g.mu.Unlock()
		return
	}
	g.done, g.conn = true, c
	close(g.bound)
	pending, code, reason := g.closed, g.code, g.reason
	g.mu.Unlock()
	if pending && c != nil {
		_ = c.Close(code, reason)
	}
}

// errNotBound is a write to a socket whose handshake failed.
var errNotBound = errors.New("websocket handshake failed")

func (g *gatedConn) Write(ctx context.Context, m Message) error {
	select {
	case <-g.bound:
	case <-ctx.Done():
		return ctx.Err()
	}
	g.mu.Lock()
	c := g.conn
	g.mu.Unlock()
	if c == nil {
		return errNotBound
	}
	return c.Write(ctx, m)
}

func (g *gatedConn) Close(code int, reason string) error {
	g.mu.Lock()
	if !g.done {
		g.closed, g.code, g.reason = true, code, reason
		g.mu.Unlock()
		return nil
	}
	c := g.conn
	g.mu.Unlock()
	if c == nil {
		return nil
	}
	return c.Close(code, reason)
}

// wsConn is a Conn over a coder/websocket connection.
type wsConn struct{ c *websocket.Conn }

func (w wsConn) Write(ctx context.Context, m Message) error {
	typ := websocket.MessageText
	if m.Binary {
		typ = websocket.MessageBinary
	}
	return w.c.Write(ctx, typ, m.Data)
}

func (w wsConn) Close(code int, reason string) error {
	return w.c.Close(websocket.StatusCode(code), truncateReason(reason))
}

// truncateReason keeps a close reason within the 123 bytes a close frame
// allows.
func truncateReason(s string) string {
	if len(s) > 120 {
		return s[:120]
	}
	return s
}

// accept answers the WebSocket handshake on w. The API server's request
// deadlines are lifted first: they would otherwise stay on the hijacked
// connection and cut the socket after 30 s.
func accept(w http.ResponseWriter, r *http.Request) (*websocket.Conn, error) {
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{})
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(MaxMessageBytes)
	return c, nil
}

// FailFunc answers a refused WebSocket request with an HTTP error (the
// caller's v4 envelope).
type FailFunc func(w http.ResponseWriter, r *http.Request, err error)

// ServeLocal joins the client's WebSocket to obj's room on this node (its
// owner). A refused join is answered by fail before the handshake. The
// socket then lives on after ServeLocal returns, until it closes or the
// hub's context ends.
func (h *Hub) ServeLocal(w http.ResponseWriter, r *http.Request, obj string, tags []string, fail FailFunc) {
	gc := newGatedConn()
	sock, err := h.Join(r.Context(), obj, gc, tags)
	if err != nil {
		fail(w, r, err)
		return
	}
	c, err := accept(w, r)
	if err != nil { // Accept answered the client already
		sock.Close(CloseInternal, "handshake failed")
		return
	}
	gc.bind(wsConn{c})
	go h.readLoop(c, sock)
}

// readLoop hands the client's messages to the room until the socket ends.
func (h *Hub) readLoop(c *websocket.Conn, sock *Socket) {
	// Read ends when the client closes, or when the room closes the
	// socket (Close answers the client's close frame). Cancelling the read
	// instead would drop the connection before the close frame left.
	ctx := h.ctx
	for {
		typ, data, err := c.Read(ctx)
		if err != nil {
			code := CloseNormal
			if websocket.CloseStatus(err) == -1 && ctx.Err() == nil {
				code = CloseInternal
			}
			if errors.Is(err, websocket.ErrMessageTooBig) {
				code = CloseTooBig
			}
			sock.Close(code, "")
			return
		}
		if err := sock.Broadcast(ctx, Message{Binary: typ == websocket.MessageBinary, Data: data}); err != nil {
			h.log.Warn("websocket broadcast failed", "obj", sock.room.obj, "err", err)
			sock.Close(closeCode(err), "broadcast failed")
			return
		}
	}
}

// closeCode is the close code for a failed broadcast.
func closeCode(err error) int {
	switch {
	case errors.Is(err, ErrTooLarge):
		return CloseTooBig
	case errors.Is(err, ErrClosed), errors.Is(err, ErrMoved):
		return CloseObjectMoved
	default:
		return CloseInternal
	}
}
