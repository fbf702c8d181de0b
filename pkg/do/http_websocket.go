package do

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/edgeplane/edgeplane/pkg/api"
	"github.com/edgeplane/edgeplane/pkg/catalog"
	"github.com/edgeplane/edgeplane/pkg/do/objstore"
	"github.com/edgeplane/edgeplane/pkg/do/wsroom"
	"github.com/edgeplane/edgeplane/pkg/router"
	"github.com/edgeplane/edgeplane/pkg/service"
	"google.golang.org/grpc"
)

// roomWatchInterval is how often the rooms are checked against ownership.
const roomWatchInterval = 250 * time.Millisecond

// historyPrefix starts the storage keys of a room's kept messages. It
// begins with reservedPrefix, so users never see or write them; deleteAll
// removes them with the rest.
const historyPrefix = "\x00ws/"

// newRooms builds the WebSocket hub and relay.
func (e *edgeParts) newRooms() error {
	m := e.m
	var err error
	e.hub, err = wsroom.NewHub(wsroom.HubConfig{Room: e.roomConfig, Registerer: m.deps.Registerer, Logger: m.deps.Logger})
	if err != nil {
		return fmt.Errorf("do websockets: %w", err)
	}
	e.relay, err = wsroom.NewRelay(wsroom.RelayConfig{Self: m.deps.NodeID, Hub: e.hub,
		Dial: func(node string) (grpc.ClientConnInterface, error) {
			addr, ok := m.grpcAddr(node)
			if !ok {
				return nil, fmt.Errorf("node %s has no known gRPC address", node)
			}
			return m.deps.Pool.Conn(addr)
		},
		IsMember: func(node string) bool {
			mem, ok := m.deps.Members.Member(node)
			return ok && mem.Live()
		},
		Accept: e.acceptRelayed})
	if err != nil {
		return fmt.Errorf("do websockets: %w", err)
	}
	return nil
}

// websocketRoutes is GET …/websocket on both ways of naming an object. It
// is served by the receiving node, which holds the client's socket and
// relays it to the owner when it is not the owner.
func (e *edgeParts) websocketRoutes() []service.Route {
	var out []service.Route
	for _, base := range []string{objByID, objByName} {
		out = append(out, service.Route{Pattern: "GET " + base + "/websocket", Access: service.AccessWrite,
			Placement: router.Here(), Handler: http.HandlerFunc(e.serveWebSocket)})
	}
	return out
}

func (e *edgeParts) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	m := e.m
	ns, id, err := m.resolve(r)
	if err != nil {
		api.WriteFailure(w, r, err)
		return
	}
	tags := r.URL.Query()["tag"]
	if err := wsroom.ValidateTags(tags); err != nil {
		e.wsFail(w, r, err)
		return
	}
	owner, here, err := m.Owner(r.Context(), ns, id)
	switch {
	case err != nil:
		api.WriteFailure(w, r, err)
	case here:
		w.Header().Set("X-Edge-Served-By", m.deps.NodeID)
		e.hub.ServeLocal(w, r, objectKey(ns.ID, id), tags, e.wsFail)
	case owner == m.deps.NodeID: // ours, but the lease is not valid now
		api.WriteFailure(w, r, ErrNotOwner)
	default:
		m.metrics.forwarded.WithLabelValues("websocket").Inc()
		e.relay.ServeRemote(w, r, owner, ns.ID, id, tags, api.RequestIDFrom(r.Context()), e.wsFail)
	}
}

// wsFail answers a refused WebSocket with its envelope.
func (e *edgeParts) wsFail(w http.ResponseWriter, r *http.Request, err error) {
	var he *api.HTTPError
	switch {
	case errors.As(err, &he):
	case errors.Is(err, wsroom.ErrBadTags):
		err = &api.HTTPError{Status: http.StatusBadRequest, Code: api.CodeDOInvalidTags, Message: err.Error(), Err: api.ErrBadRequest}
	case errors.Is(err, wsroom.ErrRoomFull):
		err = &api.HTTPError{Status: http.StatusTooManyRequests, Code: api.CodeDORoomFull, Message: err.Error(), Err: err}
	case errors.Is(err, wsroom.ErrMoved), errors.Is(err, wsroom.ErrClosed):
		err = ErrNotOwner
	default:
		err = &api.HTTPError{Status: http.StatusBadGateway, Code: api.CodeNodeUnreachable,
			Message: "the durable object's owner could not take the websocket: " + err.Error(), Err: err}
	}
	api.WriteFailure(w, r, err)
}

// acceptRelayed checks a relayed socket's object on the owner.
func (e *edgeParts) acceptRelayed(ctx context.Context, nsID, objID string) (string, error) {
	ns, ok := e.ns.get(nsID)
	if !ok {
		return "", fmt.Errorf("%w: namespace %q not found", wsroom.ErrMoved, nsID)
	}
	id, err := Parse(ns.ID, objID)
	if err != nil {
		return "", fmt.Errorf("websocket object id: %w", err)
	}
	if _, here, err := e.m.Owner(ctx, ns, id); err != nil || !here {
		return "", fmt.Errorf("%w: not served here", wsroom.ErrMoved)
	}
	return objectKey(ns.ID, id), nil
}

// roomConfig is the history setting of obj's namespace.
func (e *edgeParts) roomConfig(_ context.Context, obj string) (wsroom.RoomConfig, error) {
	ns, id, ok := e.split(obj)
	if !ok {
		return wsroom.RoomConfig{}, wsroom.ErrMoved
	}
	keep := WebsocketHistory(ns)
	if keep == 0 {
		return wsroom.RoomConfig{}, nil
	}
	return wsroom.RoomConfig{Keep: keep, History: &objHistory{m: e.m, ns: ns, id: id, keep: keep}}, nil
}

// watchRooms closes the rooms of objects this node stopped serving, with
// 4001: their clients reconnect and reach the new owner.
func (e *edgeParts) watchRooms(ctx context.Context) {
	t := time.NewTicker(roomWatchInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, obj := range e.hub.Objects() {
			ns, id, ok := e.split(obj)
			if ok {
				if _, here, err := e.m.Owner(ctx, ns, id); err == nil && here {
					continue
				}
			}
			e.hub.CloseObject(obj, wsroom.CloseObjectMoved, "object moved, reconnect")
		}
	}
}

// objHistory keeps a room's last messages as storage entries of its
// object, one key per message (historyPrefix + a 20-digit sequence).
type objHistory struct {
	m    *Module
	ns   catalog.Resource
	id   string
	keep int
	next uint64
}

func historyKey(seq uint64) string { return fmt.Sprintf("%s%020d", historyPrefix, seq) }

// Load reads the kept messages, oldest first.
func (h *objHistory) Load(ctx context.Context) ([]wsroom.Record, error) {
	var recs []wsroom.Record
	err := h.m.Do(ctx, h.ns, h.id, func(o *objstore.Object) error {
		entries, err := o.List(objstore.ListOptions{Prefix: historyPrefix})
		if err != nil {
			return err
		}
		recs = recs[:0]
		for _, en := range entries {
			seq, err := strconv.ParseUint(en.Key[len(historyPrefix):], 10, 64)
			if err != nil {
				continue
			}
			var rec wsroom.Record
			if err := json.Unmarshal(en.Value, &rec); err != nil {
				continue
			}
			recs = append(recs, rec)
			h.next = seq + 1
		}
		// A namespace whose websocket_history shrank left older messages
		// behind: drop them, in commits of at most MaxKeysPerCall keys.
		if excess := len(entries) - h.keep; h.keep > 0 && excess > 0 {
			for start := 0; start < excess; start += MaxKeysPerCall {
				var ops []objstore.Op
				for _, en := range entries[start:min(start+MaxKeysPerCall, excess)] {
					ops = append(ops, objstore.Op{Kind: objstore.OpDelete, Key: en.Key})
				}
				if err := o.Commit(ctx, ops); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return recs, roomErr(err)
}

// Append writes rec and removes the message that falls out of the last keep.
func (h *objHistory) Append(ctx context.Context, rec wsroom.Record, keep int) error {
	val, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode websocket history: %w", err)
	}
	seq := h.next
	ops := []objstore.Op{{Kind: objstore.OpPut, Key: historyKey(seq), Value: val}}
	if seq >= uint64(keep) {
		ops = append(ops, objstore.Op{Kind: objstore.OpDelete, Key: historyKey(seq - uint64(keep))})
	}
	err = h.m.Do(ctx, h.ns, h.id, func(o *objstore.Object) error { return o.Commit(ctx, ops) })
	if err == nil {
		h.next = seq + 1
	}
	return roomErr(err)
}

// roomErr maps "this node does not serve the object" to wsroom.ErrMoved.
func roomErr(err error) error {
	if errors.Is(err, ErrNotOwner) || errors.Is(err, ErrOutcomeUnknown) || errors.Is(err, ErrNoOwner) {
		return fmt.Errorf("%w: %w", wsroom.ErrMoved, err)
	}
	return err
}
