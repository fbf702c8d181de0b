package do

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/edgeplane/edgeplane/pkg/api"
	"github.com/edgeplane/edgeplane/pkg/catalog"
	"github.com/edgeplane/edgeplane/pkg/do/objstore"
)

// ObjectHandle is the owner's serialized access to one object, for code
// that works on objects outside HTTP requests (alarms, WebSocket rooms).
type ObjectHandle interface {
	// Do runs fn under the object's input gate, on its owner, with the
	// same checks as a request: ErrNotOwner when this node may not serve
	// the object, ErrOverloaded when its queue is full, ErrOutcomeUnknown
	// when the lease ended while fn ran.
	Do(ctx context.Context, fn func(o *objstore.Object) error) error
}

type handle struct {
	m     *Module
	ns    catalog.Resource
	objID string
}

func (h handle) Do(ctx context.Context, fn func(o *objstore.Object) error) error {
	return h.m.Do(ctx, h.ns, h.objID, fn)
}

// Handle returns the handle of object objID of namespace ns.
func (m *Module) Handle(ns catalog.Resource, objID string) ObjectHandle {
	return handle{m: m, ns: ns, objID: objID}
}

// call is one request waiting at an object's input gate.
type call struct {
	ctx  context.Context
	fn   func(o *objstore.Object) error
	done chan error // buffered: the actor never blocks on it
}

// actor runs one object's requests one at a time on its owner.
type actor struct {
	m        *Module
	ns       catalog.Resource
	objID    string
	key      string
	replicas []string
	epoch    uint64
	prev     *actor // the actor this one replaces; it must finish first

	queue chan *call
	quit  chan struct{}
	once  sync.Once
	why   error
	done  chan struct{}
}

// stop asks the actor to stop; queued calls get why.
func (a *actor) stop(why error) {
	a.once.Do(func() {
		a.why = why
		close(a.quit)
	})
}

// Do runs fn on object objID of ns under its input gate, on this node,
// which must be the object's owner with a valid lease.
func (m *Module) Do(ctx context.Context, ns catalog.Resource, objID string, fn func(o *objstore.Object) error) error {
	p, err := m.Place(ns, objID)
	if err != nil {
		return err
	}
	if p.Owner != m.deps.NodeID {
		return fmt.Errorf("owner is %s: %w", p.Owner, ErrNotOwner)
	}
	st := m.lease.Status()
	if !st.Valid(m.opts.Now()) {
		return ErrNotOwner
	}
	c := &call{ctx: ctx, fn: fn, done: make(chan error, 1)}
	if err := m.enqueue(ns, objID, p, st.Epoch, c); err != nil {
		return err
	}
	select {
	case err := <-c.done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("durable object request: %w", ctx.Err())
	}
}

// enqueue hands c to the object's actor, starting one (or replacing one of
// an older epoch or replica set) when needed.
func (m *Module) enqueue(ns catalog.Resource, objID string, p Placement, epoch uint64, c *call) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return errClosed
	}
	old := m.actors[p.Object]
	if old != nil && old.epoch == epoch && slices.Equal(old.replicas, p.Replicas) {
		select {
		case old.queue <- c:
			return nil
		default:
			return ErrOverloaded
		}
	}
	if old != nil {
		old.stop(errStopped)
		delete(m.actors, p.Object)
	}
	a := &actor{m: m, ns: ns, objID: objID, key: p.Object, replicas: p.Replicas, epoch: epoch, prev: old,
		queue: make(chan *call, m.opts.GateSize), quit: make(chan struct{}), done: make(chan struct{})}
	a.queue <- c
	m.actors[p.Object] = a
	m.metrics.active.Inc()
	go a.run()
	return nil
}

// run opens the object, then serves its queue until stopped, idle, or the
// lease or ballot is lost.
func (a *actor) run() {
	m := a.m
	defer close(a.done)
	if a.prev != nil {
		<-a.prev.done
		a.prev = nil
	}
	obj, err := a.open()
	if err != nil {
		m.log.Warn("open durable object failed", "object", a.key, "replicas", a.replicas, "err", err)
		a.exit(storeError(fmt.Errorf("open durable object %s: %w", a.key, err)))
		return
	}
	m.metrics.owned.Inc()
	m.metrics.ownershipChanges.WithLabelValues("acquired").Inc()
	defer func() {
		obj.Close()
		m.metrics.owned.Dec()
		m.metrics.ownershipChanges.WithLabelValues("released").Inc()
	}()
	idle := time.NewTimer(m.opts.IdleTimeout)
	defer idle.Stop()
	for {
		select {
		case <-a.quit:
			a.exit(a.why)
			return
		case <-idle.C:
			a.exit(errStopped)
			return
		case c := <-a.queue:
			if err := c.ctx.Err(); err != nil {
				c.done <- fmt.Errorf("durable object request: %w", err)
				continue
			}
			err := a.serve(obj, c)
			c.done <- err
			if errors.Is(err, ErrNotOwner) || errors.Is(err, ErrOutcomeUnknown) {
				a.exit(ErrNotOwner)
				return
			}
			idle.Reset(m.opts.IdleTimeout)
		}
	}
}

// open brings this node to the object's newest acknowledged state and makes
// it the object's writer (objstore.Replicator.Open).
func (a *actor) open() (*objstore.Object, error) {
	ctx, cancel := context.WithTimeout(context.Background(), DefaultOpenTimeout)
	defer cancel()
	go func() {
		select {
		case <-a.quit:
			cancel()
		case <-ctx.Done():
		}
	}()
	return a.m.repl.Open(ctx, a.key, a.replicas)
}

// serve runs one call: ownership and lease checked before, the lease again
// after (a request that outlived the lease is not acknowledged).
func (a *actor) serve(obj *objstore.Object, c *call) error {
	m := a.m
	if err := a.mayServe(); err != nil {
		return err
	}
	start := m.opts.Now()
	err := c.fn(obj)
	end := m.opts.Now()
	if errors.Is(err, objstore.ErrSuperseded) || errors.Is(err, objstore.ErrClosed) {
		m.log.Warn("durable object superseded; stopping", "object", a.key, "err", err)
		return storeError(err)
	}
	if st := m.lease.Status(); st.Epoch != a.epoch || !st.Valid(end) {
		return fmt.Errorf("lease ended during the request: %w", ErrOutcomeUnknown)
	}
	if err != nil {
		var he *api.HTTPError
		if errors.As(err, &he) || errors.Is(err, objstore.ErrInvalid) || errors.Is(err, objstore.ErrStorageFull) {
			return storeError(err) // refused before anything was written
		}
		// A failed Commit (no quorum, deadline) leaves the write's fate
		// open and the object unusable: answer so, and reopen on the next
		// request.
		m.log.Warn("durable object write failed; reopening on the next request", "object", a.key, "err", err)
		return fmt.Errorf("%w (%v)", ErrOutcomeUnknown, err)
	}
	if m.opts.ServeLog != nil {
		m.opts.ServeLog(ServeRecord{Node: m.deps.NodeID, Object: a.key, Epoch: a.epoch, Start: start, End: end})
	}
	return nil
}

// mayServe checks that this node still owns the object under the actor's
// epoch and replica set, with a valid lease.
func (a *actor) mayServe() error {
	m := a.m
	st := m.lease.Status()
	if st.Epoch != a.epoch || !st.Valid(m.opts.Now()) {
		return ErrNotOwner
	}
	p, err := m.Place(a.ns, a.objID)
	if err != nil || p.Owner != m.deps.NodeID || !slices.Equal(p.Replicas, a.replicas) {
		return ErrNotOwner
	}
	return nil
}

// exit removes the actor and fails what is still queued with why.
func (a *actor) exit(why error) {
	m := a.m
	if why == nil || errors.Is(why, errStopped) {
		why = ErrNotOwner
	}
	m.mu.Lock()
	if m.actors[a.key] == a {
		delete(m.actors, a.key)
	}
	m.mu.Unlock()
	m.metrics.active.Dec()
	for {
		select {
		case c := <-a.queue:
			c.done <- why
		default:
			return
		}
	}
}

// sweepActors stops the actors of objects this node may no longer serve,
// so that edge_do_owned_objects follows the lease.
func (m *Module) sweepActors() {
	m.mu.Lock()
	actors := make([]*actor, 0, len(m.actors))
	for _, a := range m.actors {
		actors = append(actors, a)
	}
	m.mu.Unlock()
	for _, a := range actors {
		if err := a.mayServe(); err != nil {
			a.stop(errStopped)
		}
	}
}
