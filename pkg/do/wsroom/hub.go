package wsroom

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// RoomConfig is what a room needs from its object: how many messages it
// keeps and where.
type RoomConfig struct {
	// Keep is the namespace's websocket_history (0: none).
	Keep int
	// History stores the kept messages; nil when Keep is 0.
	History History
}

// HubConfig configures a Hub.
type HubConfig struct {
	// Room returns the configuration of obj's room when it opens.
	Room func(ctx context.Context, obj string) (RoomConfig, error)
	// Registerer receives the metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// Logger receives the hub's logs (slog.Default when nil).
	Logger *slog.Logger
}

// Hub holds the rooms of the objects this node owns. Its sockets live until
// Close (then they are closed with 1001).
type Hub struct {
	ctx    context.Context
	cancel context.CancelFunc
	cfg    HubConfig
	log    *slog.Logger
	m      *metrics
	mu     sync.Mutex
	objs   map[string]*Room
}

// NewHub builds a Hub.
func NewHub(cfg HubConfig) (*Hub, error) {
	if cfg.Room == nil {
		return nil, errors.New("websocket hub: Room is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Hub{ctx: ctx, cancel: cancel, cfg: cfg, log: cfg.Logger.With("component", "do-wsroom"), m: m, objs: map[string]*Room{}}, nil
}

// Join adds conn to obj's room with tags and returns its socket. The caller
// reads the socket's messages and hands them to Socket.Broadcast, and calls
// Socket.Close when the client went away.
func (h *Hub) Join(ctx context.Context, obj string, conn Conn, tags []string) (*Socket, error) {
	if err := ValidateTags(tags); err != nil {
		return nil, err
	}
	for range 3 { // a room closing as we join is replaced by a new one
		r, err := h.room(ctx, obj)
		if err != nil {
			return nil, err
		}
		s, err := r.join(ctx, conn, tags)
		if errors.Is(err, ErrClosed) {
			continue
		}
		if err != nil {
			h.dropIfEmpty(r)
		}
		return s, err
	}
	return nil, fmt.Errorf("websocket join %s: %w", obj, ErrClosed)
}

// room returns obj's open room, creating it.
func (h *Hub) room(ctx context.Context, obj string) (*Room, error) {
	h.mu.Lock()
	r, ok := h.objs[obj]
	h.mu.Unlock()
	if ok {
		return r, nil
	}
	rc, err := h.cfg.Room(ctx, obj)
	if err != nil {
		return nil, fmt.Errorf("websocket room %s: %w", obj, err)
	}
	if rc.Keep < 0 || rc.Keep > MaxHistory {
		return nil, fmt.Errorf("websocket room %s: history %d outside 0..%d", obj, rc.Keep, MaxHistory)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if r, ok := h.objs[obj]; ok {
		return r, nil
	}
	r = &Room{hub: h, obj: obj, keep: rc.Keep, hist: rc.History, sockets: map[*Socket]struct{}{}}
	h.objs[obj] = r
	h.m.rooms.Set(float64(len(h.objs)))
	return r, nil
}

// dropIfEmpty forgets r once it holds no socket.
func (h *Hub) dropIfEmpty(r *Room) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.sockets) > 0 || h.objs[r.obj] != r {
		return
	}
	r.closed = true
	delete(h.objs, r.obj)
	h.m.rooms.Set(float64(len(h.objs)))
}

// CloseObject closes obj's room: every socket gets code and reason (use
// CloseObjectMoved when this node stops owning obj).
func (h *Hub) CloseObject(obj string, code int, reason string) {
	h.mu.Lock()
	r, ok := h.objs[obj]
	delete(h.objs, obj)
	h.m.rooms.Set(float64(len(h.objs)))
	h.mu.Unlock()
	if ok {
		r.closeAll(code, reason)
	}
}

// Objects lists the objects that have a room here.
func (h *Hub) Objects() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]string, 0, len(h.objs))
	for o := range h.objs {
		out = append(out, o)
	}
	return out
}

// Sockets returns the number of sockets in obj's room here.
func (h *Hub) Sockets(obj string) int {
	h.mu.Lock()
	r, ok := h.objs[obj]
	h.mu.Unlock()
	if !ok {
		return 0
	}
	return r.size()
}

// CloseAll closes every room (node shutdown).
func (h *Hub) CloseAll(code int, reason string) {
	for _, o := range h.Objects() {
		h.CloseObject(o, code, reason)
	}
}

// Close closes every socket in the rooms with CloseObjectMoved (the node
// stops serving its objects; they move to other nodes) and ends the hub's
// relays and read loops.
func (h *Hub) Close() {
	h.CloseAll(CloseObjectMoved, "object moved, reconnect")
	h.cancel()
}
