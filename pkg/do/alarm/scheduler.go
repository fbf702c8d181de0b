package alarm

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// ErrNotOwner is returned by Objects when this node does not serve the
// object (any more): its alarm is left to the node that does.
var ErrNotOwner = errors.New("not the object's owner")

// Pending is one alarm stored on this node: Obj is the full object key
// "namespaceID/objectID", At the alarm time in ms since the Unix epoch.
type Pending struct {
	Obj string
	At  int64
}

// Objects is the Scheduler's access to the objects of this node.
type Objects interface {
	// Pending lists the alarms stored on this node, as owner or replica
	// (objstore.Store.ObjectsWithAlarms).
	Pending() []Pending
	// Owned reports whether this node serves obj now (a cheap check, no
	// input gate).
	Owned(ctx context.Context, obj string) bool
	// Current returns obj's alarm (0 for none) read under the object's
	// input gate, or ErrNotOwner.
	Current(ctx context.Context, obj string) (int64, error)
	// Clear removes obj's alarm under its input gate, through a replicated
	// write, if it is still at; a different alarm is left alone.
	Clear(ctx context.Context, obj string, at int64) error
}

// entry is the scheduling state of one object's alarm.
type entry struct {
	obj     string
	at      int64     // the alarm time being delivered
	due     time.Time // when to try next
	retry   int       // failed tries of at so far
	running bool      // a delivery is in flight (not in the heap)
	index   int       // heap position, -1 when not in the heap
}

// Scheduler runs the alarms of the objects this node owns. Build it with
// New, run it with Run; Set and Delete may be called at any time.
type Scheduler struct {
	cfg  Config
	objs Objects
	log  *slog.Logger
	m    *metrics

	mu      sync.Mutex
	entries map[string]*entry
	queue   entryHeap
	wake    chan struct{}
	slots   chan struct{}
	wg      sync.WaitGroup
}

// New builds a Scheduler over objs.
func New(objs Objects, cfg Config) (*Scheduler, error) {
	if objs == nil {
		return nil, errors.New("alarm scheduler: nil Objects")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("alarm scheduler: %w", err)
	}
	s := &Scheduler{
		cfg:     cfg,
		objs:    objs,
		log:     cfg.Logger.With("component", "do-alarm"),
		m:       m,
		entries: map[string]*entry{},
		wake:    make(chan struct{}, 1),
		slots:   make(chan struct{}, cfg.MaxConcurrent),
	}
	return s, nil
}

// Set schedules obj's alarm at ms since the epoch (a past time fires at
// once). It is called by the owner after the alarm was written through the
// object. at <= 0 is Delete.
func (s *Scheduler) Set(obj string, at int64) {
	if at <= 0 {
		s.Delete(obj)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setLocked(obj, at)
}

// setLocked schedules obj at at unless it is already scheduled there.
func (s *Scheduler) setLocked(obj string, at int64) {
	e, ok := s.entries[obj]
	if ok && e.at == at {
		return
	}
	if !ok {
		e = &entry{obj: obj, index: -1}
		s.entries[obj] = e
	}
	e.at, e.retry, e.due = at, 0, time.UnixMilli(at)
	if !e.running {
		s.pushLocked(e)
	}
	s.m.scheduled.Set(float64(len(s.entries)))
	s.poke()
}

// Delete forgets obj's alarm on this node (after it was deleted through the
// object, or when the node stops serving it). A delivery in flight is not
// cancelled, but is neither retried nor followed by a clear.
func (s *Scheduler) Delete(obj string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deleteLocked(obj)
}

func (s *Scheduler) deleteLocked(obj string) {
	e, ok := s.entries[obj]
	if !ok {
		return
	}
	if e.index >= 0 {
		heap.Remove(&s.queue, e.index)
	}
	delete(s.entries, obj)
	s.m.scheduled.Set(float64(len(s.entries)))
}

// Scheduled returns the alarm time scheduled for obj on this node, 0 when
// none.
func (s *Scheduler) Scheduled(obj string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.entries[obj]; ok {
		return e.at
	}
	return 0
}

// pushLocked (re)inserts e in the heap at e.due.
func (s *Scheduler) pushLocked(e *entry) {
	if e.index >= 0 {
		heap.Fix(&s.queue, e.index)
		return
	}
	heap.Push(&s.queue, e)
}

// poke wakes the Run loop.
func (s *Scheduler) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run delivers alarms until ctx ends, then waits for the deliveries in
// flight to return.
func (s *Scheduler) Run(ctx context.Context) {
	defer s.wg.Wait()
	scan := time.NewTicker(s.cfg.ScanInterval)
	defer scan.Stop()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	s.scan(ctx)
	for {
		wait := s.dispatch(ctx)
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-scan.C:
			s.scan(ctx)
		case <-s.wake:
		case <-timer.C:
		}
	}
}

// dispatch starts the deliveries that are due, as far as free slots allow,
// and returns how long to sleep until the next one.
func (s *Scheduler) dispatch(ctx context.Context) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.queue.Len() > 0 {
		e := s.queue[0]
		wait := e.due.Sub(s.cfg.Now())
		if wait > 0 {
			return wait
		}
		select {
		case s.slots <- struct{}{}:
		default:
			return time.Hour // a finishing delivery pokes the loop
		}
		heap.Pop(&s.queue)
		e.running = true
		s.wg.Add(1)
		go s.deliver(ctx, e.obj, e.at, e.retry)
	}
	return time.Hour
}

// scan schedules the stored alarms of objects this node serves now and
// forgets those of objects it no longer serves.
func (s *Scheduler) scan(ctx context.Context) {
	for _, p := range s.objs.Pending() {
		if p.At <= 0 {
			continue
		}
		s.mu.Lock()
		_, known := s.entries[p.Obj]
		s.mu.Unlock()
		if known || !s.objs.Owned(ctx, p.Obj) {
			continue
		}
		s.mu.Lock()
		if _, known := s.entries[p.Obj]; !known {
			s.setLocked(p.Obj, p.At)
		}
		s.mu.Unlock()
	}
	s.mu.Lock()
	idle := make([]string, 0, len(s.entries))
	for obj, e := range s.entries {
		if !e.running {
			idle = append(idle, obj)
		}
	}
	s.mu.Unlock()
	for _, obj := range idle {
		if s.objs.Owned(ctx, obj) {
			continue
		}
		s.mu.Lock()
		if e, ok := s.entries[obj]; ok && !e.running {
			s.deleteLocked(obj)
		}
		s.mu.Unlock()
	}
}

// outcome is what one try of a delivery decided.
type outcome int

const (
	outcomeDone   outcome = iota // delivered or given up, and cleared: forget it
	outcomeRetry                 // try again after the backoff
	outcomeForget                // not ours or not current: forget it without clearing
	outcomeLater                 // could not check the object: try again later, same retry count
)

// deliver runs one try of obj's alarm at at and reschedules or forgets it.
func (s *Scheduler) deliver(ctx context.Context, obj string, at int64, retry int) {
	defer s.wg.Done()
	defer func() { <-s.slots; s.poke() }()
	res, current := s.try(ctx, obj, at, retry)
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[obj]
	if !ok {
		return // deleted meanwhile
	}
	e.running = false
	if e.at != at {
		// Set to another time during the delivery: schedule that one.
		e.retry, e.due = 0, time.UnixMilli(e.at)
		s.pushLocked(e)
		return
	}
	switch res {
	case outcomeRetry:
		e.retry = retry + 1
		e.due = s.cfg.Now().Add(s.backoff(retry))
		s.pushLocked(e)
	case outcomeLater:
		e.due = s.cfg.Now().Add(s.cfg.Backoff)
		s.pushLocked(e)
	case outcomeForget:
		if current > 0 && current != at {
			e.at, e.retry, e.due = current, 0, time.UnixMilli(current)
			s.pushLocked(e)
			return
		}
		s.deleteLocked(obj)
	default:
		s.deleteLocked(obj)
	}
}

// backoff is the wait after the failed try number retry (0-based).
func (s *Scheduler) backoff(retry int) time.Duration {
	return s.cfg.Backoff << retry
}

// try checks that at is still obj's alarm here, calls the webhook and, on
// success or at the last try, clears the alarm. current is the alarm the
// object holds when that differs from at.
func (s *Scheduler) try(ctx context.Context, obj string, at int64, retry int) (outcome, int64) {
	log := s.log.With("obj", obj, "scheduled_time", at, "retry_count", retry)
	cur, err := s.objs.Current(ctx, obj)
	switch {
	case errors.Is(err, ErrNotOwner):
		log.Debug("alarm skipped: object served elsewhere")
		return outcomeForget, 0
	case err != nil:
		log.Warn("alarm: cannot read the object, will retry", "err", err)
		return outcomeLater, 0
	case cur != at:
		return outcomeForget, cur
	}
	ns, id, _ := strings.Cut(obj, "/")
	url := s.cfg.Webhook(ns)
	var result string
	switch {
	case url == "":
		result = resultNoWebhook
		log.Warn("alarm dropped: namespace has no alarm_webhook")
	default:
		err = s.post(ctx, url, newDelivery(ns, id, at, retry, s.cfg.NodeID))
		switch {
		case err == nil:
			result = resultSuccess
			log.Debug("alarm delivered")
		case ctx.Err() != nil:
			return outcomeLater, 0
		case retry+1 >= s.cfg.MaxTries:
			result = resultGaveUp
			log.Warn("alarm: giving up after the last try", "tries", retry+1, "err", err)
		default:
			s.m.deliveries.WithLabelValues(resultFailure).Inc()
			log.Info("alarm delivery failed, will retry", "in", s.backoff(retry), "err", err)
			return outcomeRetry, 0
		}
	}
	s.m.deliveries.WithLabelValues(result).Inc()
	if err := s.objs.Clear(ctx, obj, at); err != nil {
		// The alarm stays stored: the next scan (here or on the next owner)
		// schedules it again, which may deliver it once more.
		log.Warn("alarm: clear after delivery failed", "err", err)
		return outcomeForget, 0
	}
	return outcomeDone, 0
}
