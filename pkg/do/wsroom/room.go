package wsroom

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Conn is one socket as a room drives it: a local WebSocket or a relay
// stream to the node holding the client's socket.
type Conn interface {
	// Write sends one message, blocking until it left or ctx ended.
	Write(ctx context.Context, m Message) error
	// Close ends the socket with a WebSocket close code and reason.
	Close(code int, reason string) error
}

// History keeps a room's last messages in its object's storage.
type History interface {
	// Load returns the kept records, oldest first.
	Load(ctx context.Context) ([]Record, error)
	// Append durably adds rec and drops all but the last keep records.
	Append(ctx context.Context, rec Record, keep int) error
}

// writeTimeout bounds one write to a socket.
const writeTimeout = 10 * time.Second

// Room is the set of sockets of one object on its owner.
type Room struct {
	hub  *Hub
	obj  string
	keep int
	hist History

	// order serializes joins (history replay) and broadcasts, so every
	// socket sees one order; it is held across the history write.
	order  sync.Mutex
	loaded bool

	mu      sync.Mutex
	sockets map[*Socket]struct{}
	ring    []Record
	closed  bool
}

// Socket is one member of a room.
type Socket struct {
	room *Room
	conn Conn
	tags []string

	mu      sync.Mutex
	queue   []Message
	bytes   int
	ready   chan struct{} // signalled when queue grows
	done    chan struct{} // closed by close
	closing bool
}

// Tags returns the socket's tags.
func (s *Socket) Tags() []string { return s.tags }

// join adds a socket, replaying the history to it first.
func (r *Room) join(ctx context.Context, conn Conn, tags []string) (*Socket, error) {
	r.order.Lock()
	defer r.order.Unlock()
	if !r.loaded && r.keep > 0 && r.hist != nil {
		recs, err := r.hist.Load(ctx)
		if err != nil {
			return nil, fmt.Errorf("websocket history of %s: %w", r.obj, err)
		}
		if len(recs) > r.keep {
			recs = recs[len(recs)-r.keep:]
		}
		r.mu.Lock()
		r.ring = recs
		r.mu.Unlock()
	}
	r.loaded = true
	s := &Socket{room: r, conn: conn, tags: tags, ready: make(chan struct{}, 1), done: make(chan struct{})}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil, ErrClosed
	}
	if len(r.sockets) >= MaxSockets {
		r.mu.Unlock()
		return nil, fmt.Errorf("%w: %d sockets", ErrRoomFull, MaxSockets)
	}
	for _, rec := range r.ring {
		if rec.selects(tags) {
			s.enqueue(rec.message())
		}
	}
	r.sockets[s] = struct{}{}
	r.mu.Unlock()
	r.hub.m.sockets.Inc()
	go s.writeLoop(r.hub.ctx)
	return s, nil
}

// Broadcast sends a message received from from to the room's other sockets
// it selects, after writing it to the history when the room keeps one.
func (s *Socket) Broadcast(ctx context.Context, m Message) error {
	if len(m.Data) > MaxMessageBytes {
		return fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(m.Data), MaxMessageBytes)
	}
	r := s.room
	rec := parse(m)
	r.order.Lock()
	defer r.order.Unlock()
	if r.keep > 0 && r.hist != nil {
		if err := r.hist.Append(ctx, rec, r.keep); err != nil {
			return fmt.Errorf("websocket history of %s: %w", r.obj, err)
		}
	}
	out := rec.message()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	if r.keep > 0 {
		r.ring = append(r.ring, rec)
		if len(r.ring) > r.keep {
			r.ring = append(r.ring[:0:0], r.ring[len(r.ring)-r.keep:]...)
		}
	}
	r.hub.m.messages.Inc()
	for o := range r.sockets {
		if o != s && rec.selects(o.tags) && !o.enqueue(out) {
			r.hub.m.slow.Inc()
			go o.Close(CloseSlowConsumer, "slow consumer")
		}
	}
	return nil
}

// enqueue adds m to the send queue; false when the queue is full.
func (s *Socket) enqueue(m Message) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return true
	}
	if len(s.queue) >= QueueMessages || s.bytes+len(m.Data) > QueueBytes {
		return false
	}
	s.queue = append(s.queue, m)
	s.bytes += len(m.Data)
	select {
	case s.ready <- struct{}{}:
	default:
	}
	return true
}

// writeLoop sends queued messages until the socket closes.
func (s *Socket) writeLoop(ctx context.Context) {
	for {
		select {
		case <-s.done:
			return
		case <-ctx.Done():
			s.Close(CloseObjectMoved, "object moved, reconnect")
			return
		case <-s.ready:
		}
		for {
			s.mu.Lock()
			if len(s.queue) == 0 || s.closing {
				s.mu.Unlock()
				break
			}
			m := s.queue[0]
			s.queue[0] = Message{}
			s.queue = s.queue[1:]
			s.bytes -= len(m.Data)
			s.mu.Unlock()
			wctx, cancel := context.WithTimeout(ctx, writeTimeout)
			err := s.conn.Write(wctx, m)
			cancel()
			if err != nil {
				s.Close(CloseInternal, "write failed")
				return
			}
		}
	}
}

// Close removes the socket from its room and closes it with code and
// reason; later calls do nothing.
func (s *Socket) Close(code int, reason string) {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return
	}
	s.closing = true
	s.queue, s.bytes = nil, 0
	close(s.done)
	s.mu.Unlock()
	s.room.remove(s)
	_ = s.conn.Close(code, reason)
}

// detach removes the socket from its room ahead of its Close.
func (s *Socket) detach() { s.room.remove(s) }

// Done is closed once the socket is closed.
func (s *Socket) Done() <-chan struct{} { return s.done }

// remove drops s from the room and the room from its hub once empty.
func (r *Room) remove(s *Socket) {
	r.mu.Lock()
	_, ok := r.sockets[s]
	delete(r.sockets, s)
	empty := len(r.sockets) == 0
	r.mu.Unlock()
	if ok {
		r.hub.m.sockets.Dec()
	}
	if empty {
		r.hub.dropIfEmpty(r)
	}
}

// closeAll closes the room and every socket in it.
func (r *Room) closeAll(code int, reason string) {
	r.mu.Lock()
	r.closed = true
	socks := make([]*Socket, 0, len(r.sockets))
	for s := range r.sockets {
		socks = append(socks, s)
	}
	r.mu.Unlock()
	// Each socket leaves the room at once; its close handshake (up to
	// seconds with a slow client) runs on its own.
	for _, s := range socks {
		s.detach()
		go s.Close(code, reason)
	}
}

// size is the number of sockets in the room.
func (r *Room) size() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.sockets)
}
