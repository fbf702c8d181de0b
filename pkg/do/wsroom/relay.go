package wsroom

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/edgeplane/edgeplane/pkg/tlsutil"
	edgev1 "github.com/edgeplane/edgeplane/proto/edge/v1"
)

// joinTimeout bounds the hello/joined exchange of a relayed socket.
const joinTimeout = 10 * time.Second

// RelayConfig configures a Relay.
type RelayConfig struct {
	// Self is this node's id.
	Self string
	// Hub is this node's rooms (relayed sockets join them on the owner).
	Hub *Hub
	// Dial returns a gRPC connection to a node by id.
	Dial func(node string) (grpc.ClientConnInterface, error)
	// IsMember reports whether a node id is a member of the cluster: Join
	// refuses other callers.
	IsMember func(node string) bool
	// Accept checks a relayed hello and returns the full object key when
	// this node serves the object now; an error wrapping ErrMoved when it
	// does not.
	Accept func(ctx context.Context, namespaceID, objectID string) (obj string, err error)
}

// Relay carries WebSockets between the node holding the client's socket
// and the object's owner (the DORoom gRPC service, both sides).
type Relay struct {
	edgev1.UnimplementedDORoomServer
	cfg RelayConfig
}

var _ edgev1.DORoomServer = (*Relay)(nil)

// NewRelay builds a Relay.
func NewRelay(cfg RelayConfig) (*Relay, error) {
	if cfg.Hub == nil || cfg.Dial == nil || cfg.IsMember == nil || cfg.Accept == nil || cfg.Self == "" {
		return nil, errors.New("websocket relay: Self, Hub, Dial, IsMember and Accept are required")
	}
	return &Relay{cfg: cfg}, nil
}

// RegisterGRPC registers the DORoom service.
func (rl *Relay) RegisterGRPC(s *grpc.Server) { edgev1.RegisterDORoomServer(s, rl) }

// closeFrame builds a close frame.
func closeFrame(code int, reason string) *edgev1.RoomFrame {
	return &edgev1.RoomFrame{Frame: &edgev1.RoomFrame_Close{Close: &edgev1.RoomClose{Code: uint32(code), Reason: truncateReason(reason)}}}
}

// joinCloseCode is the close code a refused join answers with.
func joinCloseCode(err error) int {
	switch {
	case errors.Is(err, ErrMoved), errors.Is(err, ErrClosed):
		return CloseObjectMoved
	case errors.Is(err, ErrBadTags):
		return 1008 // policy violation
	case errors.Is(err, ErrRoomFull):
		return 1013 // try again later
	default:
		return CloseInternal
	}
}

// JoinError is a relayed join the owner refused.
type JoinError struct {
	Code   int
	Reason string
}

func (e *JoinError) Error() string {
	return fmt.Sprintf("owner refused the socket: %d %s", e.Code, e.Reason)
}

// Unwrap maps the close code back to the package's errors.
func (e *JoinError) Unwrap() error {
	switch e.Code {
	case CloseObjectMoved:
		return ErrMoved
	case 1008:
		return ErrBadTags
	case 1013:
		return ErrRoomFull
	}
	return nil
}

// streamConn is a Conn that sends over a Join stream (owner side).
type streamConn struct {
	st     edgev1.DORoom_JoinServer
	mu     sync.Mutex
	closed chan struct{}
	once   sync.Once
}

func (c *streamConn) Write(_ context.Context, m Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.closed:
		return ErrClosed
	default:
	}
	return c.st.Send(&edgev1.RoomFrame{Frame: &edgev1.RoomFrame_Message{Message: &edgev1.RoomMessage{Binary: m.Binary, Data: m.Data}}})
}

func (c *streamConn) Close(code int, reason string) error {
	var err error
	c.once.Do(func() {
		c.mu.Lock()
		err = c.st.Send(closeFrame(code, reason))
		close(c.closed)
		c.mu.Unlock()
	})
	return err
}

// Join serves a relayed socket on the object's owner.
func (rl *Relay) Join(st edgev1.DORoom_JoinServer) error {
	ctx := st.Context()
	first, err := recvWithin(st, joinTimeout)
	if err != nil {
		return err
	}
	hello := first.GetHello()
	if hello == nil {
		return status.Error(codes.InvalidArgument, "do room join: the first frame must be a hello")
	}
	origin := hello.GetOriginNode()
	if caller, ok := tlsutil.CallerNodeID(ctx); ok && caller != origin {
		return status.Errorf(codes.PermissionDenied, "do room join: origin_node %q is not the caller %q", origin, caller)
	}
	if origin == "" || !rl.cfg.IsMember(origin) {
		return status.Errorf(codes.PermissionDenied, "do room join: %q is not a member", origin)
	}
	if err := ValidateTags(hello.GetTags()); err != nil {
		return st.Send(closeFrame(joinCloseCode(err), err.Error()))
	}
	if len(hello.GetRequestId()) > 128 {
		return status.Error(codes.InvalidArgument, "do room join: request id over 128 bytes")
	}
	obj, err := rl.cfg.Accept(ctx, hello.GetNamespaceId(), hello.GetObjectId())
	if err != nil {
		return st.Send(closeFrame(joinCloseCode(err), err.Error()))
	}
	sc := &streamConn{st: st, closed: make(chan struct{})}
	gc := newGatedConn()
	sock, err := rl.cfg.Hub.Join(ctx, obj, gc, hello.GetTags())
	if err != nil {
		return st.Send(closeFrame(joinCloseCode(err), err.Error()))
	}
	sc.mu.Lock()
	err = st.Send(&edgev1.RoomFrame{Frame: &edgev1.RoomFrame_Joined{Joined: &edgev1.RoomJoined{ServedBy: rl.cfg.Self}}})
	sc.mu.Unlock()
	if err != nil {
		sock.Close(CloseInternal, "relay failed")
		return err
	}
	gc.bind(sc)
	recvDone := make(chan struct{})
	go func() {
		defer close(recvDone)
		rl.pumpIn(ctx, st, sock)
	}()
	select {
	case <-sc.closed: // the room closed the socket; the close frame is sent
	case <-recvDone:
		sock.Close(CloseNormal, "")
	case <-rl.cfg.Hub.ctx.Done():
		sock.Close(CloseObjectMoved, "object moved, reconnect")
	}
	return nil
}

// recvWithin receives the first frame of a stream, or fails after d (a
// caller that never says hello does not hold a stream open).
func recvWithin(st edgev1.DORoom_JoinServer, d time.Duration) (*edgev1.RoomFrame, error) {
	type result struct {
		f   *edgev1.RoomFrame
		err error
	}
	ch := make(chan result, 1)
	go func() {
		f, err := st.Recv()
		ch <- result{f, err}
	}()
	select {
	case r := <-ch:
		return r.f, r.err
	case <-time.After(d):
		return nil, status.Error(codes.DeadlineExceeded, "do room join: no hello")
	}
}

// pumpIn hands the relayed client's messages to the room until the stream
// or the socket ends.
func (rl *Relay) pumpIn(ctx context.Context, st edgev1.DORoom_JoinServer, sock *Socket) {
	for {
		f, err := st.Recv()
		if err != nil {
			return
		}
		switch {
		case f.GetMessage() != nil:
			m := f.GetMessage()
			if err := sock.Broadcast(ctx, Message{Binary: m.GetBinary(), Data: m.GetData()}); err != nil {
				sock.Close(closeCode(err), "broadcast failed")
				return
			}
		case f.GetClose() != nil:
			return
		default:
			sock.Close(1002, "unexpected relay frame") // protocol error
			return
		}
	}
}

// ServeRemote relays the client's WebSocket to owner, which holds obj's
// room. A join the owner refuses is answered by fail before the handshake.
// The socket lives on after ServeRemote returns, until either side closes
// it or the hub closes.
func (rl *Relay) ServeRemote(w http.ResponseWriter, r *http.Request, owner, namespaceID, objectID string, tags []string, requestID string, fail FailFunc) {
	conn, err := rl.cfg.Dial(owner)
	if err != nil {
		fail(w, r, fmt.Errorf("websocket relay to %s: %w", owner, err))
		return
	}
	ctx, cancel := context.WithCancel(rl.cfg.Hub.ctx)
	st, err := edgev1.NewDORoomClient(conn).Join(ctx)
	if err != nil {
		cancel()
		fail(w, r, fmt.Errorf("websocket relay to %s: %w", owner, err))
		return
	}
	hello := &edgev1.RoomHello{OriginNode: rl.cfg.Self, NamespaceId: namespaceID, ObjectId: objectID, Tags: tags, RequestId: requestID}
	servedBy, err := handshake(st, hello, cancel)
	if err != nil {
		cancel()
		fail(w, r, fmt.Errorf("websocket relay to %s: %w", owner, err))
		return
	}
	w.Header().Set("X-Edge-Served-By", servedBy)
	c, err := accept(w, r)
	if err != nil {
		_ = st.Send(closeFrame(CloseInternal, "client handshake failed"))
		_ = st.CloseSend()
		cancel()
		return
	}
	rl.cfg.Hub.m.relays.Inc()
	go rl.pump(ctx, cancel, c, st)
}

// handshake sends the hello and waits for joined (returning the owner's
// id) or a close (a *JoinError), at most joinTimeout.
func handshake(st edgev1.DORoom_JoinClient, hello *edgev1.RoomHello, cancel context.CancelFunc) (string, error) {
	timer := time.AfterFunc(joinTimeout, cancel)
	defer timer.Stop()
	if err := st.Send(&edgev1.RoomFrame{Frame: &edgev1.RoomFrame_Hello{Hello: hello}}); err != nil {
		return "", err
	}
	f, err := st.Recv()
	if err != nil {
		return "", err
	}
	switch {
	case f.GetJoined() != nil:
		return f.GetJoined().GetServedBy(), nil
	case f.GetClose() != nil:
		return "", &JoinError{Code: int(f.GetClose().GetCode()), Reason: f.GetClose().GetReason()}
	}
	return "", errors.New("owner answered the hello with an unexpected frame")
}

// pump copies messages both ways between the client's socket and the
// owner's stream until one side ends.
func (rl *Relay) pump(ctx context.Context, cancel context.CancelFunc, c *websocket.Conn, st edgev1.DORoom_JoinClient) {
	defer rl.cfg.Hub.m.relays.Dec()
	defer cancel()
	down := make(chan struct{})
	go func() { // owner -> client
		defer close(down)
		for {
			f, err := st.Recv()
			if err != nil {
				// The owner went away (or the node shuts down): the
				// object is moving; the client reconnects.
				code, reason := CloseObjectMoved, "object moved, reconnect"
				if ctx.Err() != nil && !errors.Is(err, io.EOF) {
					code, reason = CloseGoingAway, "node shutting down"
				}
				_ = c.Close(websocket.StatusCode(code), reason)
				return
			}
			switch {
			case f.GetMessage() != nil:
				m := f.GetMessage()
				typ := websocket.MessageText
				if m.GetBinary() {
					typ = websocket.MessageBinary
				}
				wctx, wcancel := context.WithTimeout(ctx, writeTimeout)
				err := c.Write(wctx, typ, m.GetData())
				wcancel()
				if err != nil {
					_ = c.CloseNow()
					return
				}
			case f.GetClose() != nil:
				_ = c.Close(websocket.StatusCode(f.GetClose().GetCode()), f.GetClose().GetReason())
				return
			}
		}
	}()
	// client -> owner
	for {
		typ, data, err := c.Read(ctx)
		if err != nil {
			code := CloseNormal
			if errors.Is(err, websocket.ErrMessageTooBig) {
				code = CloseTooBig
				// Say why to the client first: the owner's answer to the
				// close below must not pick the code.
				go c.Close(websocket.StatusMessageTooBig, "message over 1 MiB")
			}
			_ = st.Send(closeFrame(code, ""))
			_ = st.CloseSend()
			break
		}
		if err := st.Send(&edgev1.RoomFrame{Frame: &edgev1.RoomFrame_Message{Message: &edgev1.RoomMessage{Binary: typ == websocket.MessageBinary, Data: data}}}); err != nil {
			break
		}
	}
	select {
	case <-down:
	case <-time.After(writeTimeout):
	}
}
