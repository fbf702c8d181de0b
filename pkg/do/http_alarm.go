package do

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/edgeplane/edgeplane/pkg/api"
	"github.com/edgeplane/edgeplane/pkg/catalog"
	"github.com/edgeplane/edgeplane/pkg/do/alarm"
	"github.com/edgeplane/edgeplane/pkg/do/objstore"
	"github.com/edgeplane/edgeplane/pkg/do/wsroom"
	"github.com/edgeplane/edgeplane/pkg/service"
	"google.golang.org/grpc"
)

// maxAlarmTime is the last alarm time accepted: 9999-12-31T23:59:59.999Z.
const maxAlarmTime = 253402300799999

// edgeParts are the parts of the service that act on objects outside
// storage requests: alarms (the scheduler) and WebSocket rooms (hub and
// relay). The module builds them in New, registers their gRPC service and
// routes, and runs them.
type edgeParts struct {
	m      *Module
	ns     *nsIndex
	alarms *alarm.Scheduler
	hub    *wsroom.Hub
	relay  *wsroom.Relay
}

// newEdgeParts builds the alarm scheduler, the WebSocket hub and relay of m.
func newEdgeParts(m *Module) (*edgeParts, error) {
	e := &edgeParts{m: m, ns: &nsIndex{cat: m.deps.Catalog}}
	var err error
	e.alarms, err = alarm.New(alarmObjects{e}, alarm.Config{NodeID: m.deps.NodeID, Webhook: e.webhook,
		Registerer: m.deps.Registerer, Logger: m.deps.Logger})
	if err != nil {
		return nil, fmt.Errorf("do alarms: %w", err)
	}
	if err := e.newRooms(); err != nil {
		return nil, err
	}
	return e, nil
}

// routes are the alarm and WebSocket routes.
func (e *edgeParts) routes() []service.Route {
	m := e.m
	return slices.Concat(
		m.objectRoute("PUT", "/alarm", "alarm_set", 0, service.AccessWrite, e.alarmSet),
		m.objectRoute("GET", "/alarm", "alarm_get", 0, service.AccessRead, e.alarmGet),
		m.objectRoute("DELETE", "/alarm", "alarm_delete", 0, service.AccessWrite, e.alarmDelete),
		e.websocketRoutes(),
	)
}

// registerGRPC registers the WebSocket relay.
func (e *edgeParts) registerGRPC(s *grpc.Server) { e.relay.RegisterGRPC(s) }

// run runs the alarm scheduler and the room ownership watch until ctx ends,
// then closes every socket.
func (e *edgeParts) run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); e.alarms.Run(ctx) }()
	go func() { defer wg.Done(); e.watchRooms(ctx) }()
	wg.Wait()
	e.hub.Close()
}

// webhook is the alarm webhook of a namespace, "" when it has no valid one.
func (e *edgeParts) webhook(nsID string) string {
	ns, ok := e.ns.get(nsID)
	if !ok {
		return ""
	}
	url := AlarmWebhook(ns)
	if alarm.ValidateWebhook(url) != nil {
		return ""
	}
	return url
}

type alarmBody struct {
	ScheduledTime *int64 `json:"scheduled_time"`
}

// alarmSet is PUT …/alarm: write the alarm through the object, then
// schedule it here (the owner).
func (e *edgeParts) alarmSet(w http.ResponseWriter, r *http.Request, or objectRequest) {
	var body alarmBody
	if err := decodeBody(r, &body); err != nil {
		api.WriteFailure(w, r, err)
		return
	}
	if body.ScheduledTime == nil || *body.ScheduledTime <= 0 || *body.ScheduledTime > maxAlarmTime {
		api.WriteFailure(w, r, &api.HTTPError{Status: http.StatusBadRequest, Code: api.CodeDOInvalidAlarm,
			Message: fmt.Sprintf("scheduled_time must be ms since the epoch in 1..%d", int64(maxAlarmTime)), Err: api.ErrBadRequest})
		return
	}
	url := AlarmWebhook(or.ns)
	if url == "" || alarm.ValidateWebhook(url) != nil {
		api.WriteFailure(w, r, &api.HTTPError{Status: http.StatusBadRequest, Code: api.CodeDONoAlarmWebhook,
			Message: "the namespace has no valid alarm_webhook (http or https URL) to deliver alarms to", Err: api.ErrBadRequest})
		return
	}
	at := *body.ScheduledTime
	key := objectKey(or.ns.ID, or.objID)
	e.m.run(w, r, or, func(o *objstore.Object) (map[string]any, error) {
		if err := o.Commit(r.Context(), []objstore.Op{objstore.AlarmOp(at)}); err != nil {
			return nil, err
		}
		e.alarms.Set(key, at)
		return map[string]any{"scheduled_time": at}, nil
	})
}

// alarmGet is GET …/alarm: the alarm time, null when none.
func (e *edgeParts) alarmGet(w http.ResponseWriter, r *http.Request, or objectRequest) {
	e.m.run(w, r, or, func(o *objstore.Object) (map[string]any, error) {
		var at any
		if a := o.Alarm(); a != 0 {
			at = a
		}
		return map[string]any{"scheduled_time": at}, nil
	})
}

// alarmDelete is DELETE …/alarm.
func (e *edgeParts) alarmDelete(w http.ResponseWriter, r *http.Request, or objectRequest) {
	key := objectKey(or.ns.ID, or.objID)
	e.m.run(w, r, or, func(o *objstore.Object) (map[string]any, error) {
		had := o.Alarm() != 0
		if had {
			if err := o.Commit(r.Context(), []objstore.Op{objstore.AlarmOp(0)}); err != nil {
				return nil, err
			}
		}
		e.alarms.Delete(key)
		return map[string]any{"deleted": had}, nil
	})
}

// alarmObjects is the scheduler's access to this node's objects.
type alarmObjects struct{ e *edgeParts }

var _ alarm.Objects = alarmObjects{}

func (a alarmObjects) Pending() []alarm.Pending {
	held := a.e.m.store.ObjectsWithAlarms()
	out := make([]alarm.Pending, len(held))
	for i, h := range held {
		out[i] = alarm.Pending{Obj: h.Obj, At: h.At}
	}
	return out
}

func (a alarmObjects) Owned(ctx context.Context, obj string) bool {
	ns, id, ok := a.e.split(obj)
	if !ok {
		return false
	}
	_, here, err := a.e.m.Owner(ctx, ns, id)
	return err == nil && here
}

func (a alarmObjects) Current(ctx context.Context, obj string) (int64, error) {
	ns, id, ok := a.e.split(obj)
	if !ok {
		return 0, alarm.ErrNotOwner
	}
	var at int64
	err := a.e.m.Do(ctx, ns, id, func(o *objstore.Object) error {
		at = o.Alarm()
		return nil
	})
	return at, ownerErr(err)
}

func (a alarmObjects) Clear(ctx context.Context, obj string, at int64) error {
	ns, id, ok := a.e.split(obj)
	if !ok {
		return alarm.ErrNotOwner
	}
	return ownerErr(a.e.m.Do(ctx, ns, id, func(o *objstore.Object) error {
		if o.Alarm() != at {
			return nil
		}
		return o.Commit(ctx, []objstore.Op{objstore.AlarmOp(0)})
	}))
}

// ownerErr maps "this node does not serve the object" to alarm.ErrNotOwner.
func ownerErr(err error) error {
	if errors.Is(err, ErrNotOwner) || errors.Is(err, ErrOutcomeUnknown) || errors.Is(err, ErrNoOwner) {
		return fmt.Errorf("%w: %w", alarm.ErrNotOwner, err)
	}
	return err
}

// split resolves a full object key to its namespace and object id.
func (e *edgeParts) split(obj string) (catalog.Resource, string, bool) {
	nsID, id, ok := strings.Cut(obj, "/")
	if !ok {
		return catalog.Resource{}, "", false
	}
	ns, ok := e.ns.get(nsID)
	return ns, id, ok
}

// nsIndex finds a namespace by id alone (object keys carry no account),
// rebuilt after each catalog change.
type nsIndex struct {
	cat     service.Catalog
	mu      sync.Mutex
	byID    map[string]catalog.Resource
	changed <-chan struct{}
}

// get returns namespace id.
func (x *nsIndex) get(id string) (catalog.Resource, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	stale := x.byID == nil
	if !stale {
		select {
		case <-x.changed:
			stale = true
		default:
		}
	}
	if stale {
		x.changed = x.cat.Changed()
		x.byID = map[string]catalog.Resource{}
		for _, a := range x.cat.Accounts() {
			for _, r := range x.cat.Resources(catalog.KindDONamespace, a.ID) {
				x.byID[r.ID] = r
			}
		}
	}
	r, ok := x.byID[id]
	return r, ok
}
