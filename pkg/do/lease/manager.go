package lease

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of a Manager.
const (
	// DefaultPeriod is the lease period L. A renewal is proposed every L/3,
	// so a node survives two lost renewals (a Raft leader election takes
	// 1-3 s here) before its lease runs out; and a dead owner's objects move
	// after at most L + MaxOffset + one renewal round, inside the 10 s
	// failover budget.
	DefaultPeriod = 6 * time.Second
	// DefaultMaxOffset is the largest clock difference between two nodes
	// the leases tolerate. A node stops serving MaxOffset before its lease
	// ends by its own clock, and declares another node dead only MaxOffset
	// after that node's lease ended by its clock.
	DefaultMaxOffset = 500 * time.Millisecond
)

// Config configures a Manager.
type Config struct {
	// Node and Region describe this node. Required: Node.
	Node   string
	Region string
	// Table is the replicated table this node applies. Required.
	Table *Table
	// Propose commits an encoded command (Command.Encode) through Raft and
	// returns the apply result once this node applied it. Required.
	Propose func(ctx context.Context, payload []byte) ([]byte, error)
	// Period is the lease period (default DefaultPeriod).
	Period time.Duration
	// MaxOffset is the tolerated clock offset (default DefaultMaxOffset).
	MaxOffset time.Duration
	// Gone reports that a node left the cluster for good (removed from the
	// Raft configuration, not live in gossip); the sweep then forgets its
	// dead record (OpForget). Nil: records are never forgotten.
	Gone func(node string) bool
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Registerer receives edge_do_lease_epoch; nil keeps it unexported.
	Registerer prometheus.Registerer
	// Logger receives lease events; nil discards.
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Period == 0 {
		c.Period = DefaultPeriod
	}
	if c.MaxOffset == 0 {
		c.MaxOffset = DefaultMaxOffset
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Registerer == nil {
		c.Registerer = prometheus.NewRegistry()
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports a missing or impossible setting.
func (c Config) Validate() error {
	switch {
	case c.Node == "":
		return errors.New("lease config: node id is required")
	case c.Table == nil:
		return errors.New("lease config: table is required")
	case c.Propose == nil:
		return errors.New("lease config: propose func is required")
	case c.Period < 300*time.Millisecond || c.Period > MaxLeaseMillis*time.Millisecond:
		return fmt.Errorf("lease config: period %v outside [300ms, %v]", c.Period, MaxLeaseMillis*time.Millisecond)
	case c.MaxOffset < 0 || 2*c.MaxOffset >= c.Period:
		return fmt.Errorf("lease config: max offset %v must be under half the period %v", c.MaxOffset, c.Period)
	}
	return nil
}

// Manager keeps this node's lease: it registers, renews every Period/3,
// declares expired nodes dead, and answers whether this node may serve.
type Manager struct {
	cfg   Config
	log   *slog.Logger
	epoch prometheus.Gauge

	mu sync.Mutex
	// myEpoch is the epoch this process registered (0: not yet).
	myEpoch uint64
	// servingFrom is when (local clock) the warm-up after registration
	// ends.
	servingFrom time.Time
	// pendingExp is the expiration of a registration proposed and not yet
	// seen applied (0: none).
	pendingExp int64
}

// NewManager returns a Manager; Run drives it.
func NewManager(cfg Config) (*Manager, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := &Manager{cfg: cfg, log: cfg.Logger.With("component", "do-lease"),
		epoch: prometheus.NewGauge(prometheus.GaugeOpts{Name: "edge_do_lease_epoch",
			Help: "This node's Durable Objects liveness epoch (0 until registered); it rises each time the node registers again."})}
	if err := cfg.Registerer.Register(m.epoch); err != nil {
		return nil, fmt.Errorf("lease metrics: %w", err)
	}
	return m, nil
}

// Period is the lease period.
func (m *Manager) Period() time.Duration { return m.cfg.Period }

// MaxOffset is the tolerated clock offset.
func (m *Manager) MaxOffset() time.Duration { return m.cfg.MaxOffset }

// Table is the replicated table the manager reads.
func (m *Manager) Table() *Table { return m.cfg.Table }

// Status is this node's lease as it may act on it.
type Status struct {
	// Epoch is this process's epoch (0: not registered).
	Epoch uint64
	// ValidUntil is the last instant (local clock) at which this node may
	// serve: the applied expiration minus MaxOffset. Zero when the record is
	// not this epoch's or is dead.
	ValidUntil time.Time
	// ServingFrom is when the warm-up after registration ends.
	ServingFrom time.Time
	// Expiration is the applied expiration of the record.
	Expiration time.Time
}

// Valid reports whether the node may serve at t.
func (s Status) Valid(t time.Time) bool {
	return s.Epoch != 0 && !t.Before(s.ServingFrom) && t.Before(s.ValidUntil)
}

// Status returns this node's lease.
func (m *Manager) Status() Status {
	m.mu.Lock()
	st := Status{Epoch: m.myEpoch, ServingFrom: m.servingFrom}
	m.mu.Unlock()
	if st.Epoch == 0 {
		return st
	}
	rec, ok := m.cfg.Table.Get(m.cfg.Node)
	if !ok || rec.Dead || rec.Epoch != st.Epoch {
		return Status{}
	}
	st.Expiration = time.UnixMilli(rec.Expiration)
	st.ValidUntil = st.Expiration.Add(-m.cfg.MaxOffset)
	return st
}

// Run registers and renews until ctx ends. Every proposal it makes ends
// with ctx: a node that stops (and whose Raft may already be gone) does not
// wait out a registration that cannot succeed.
func (m *Manager) Run(ctx context.Context) {
	tick := time.NewTicker(m.cfg.Period / 3)
	defer tick.Stop()
	for {
		m.round(ctx)
		// A round that outlasted the tick leaves one pending, and select
		// picks at random among ready cases: check ctx first so that no
		// round starts after it ended.
		if ctx.Err() != nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// round is one registration or renewal, then one sweep for dead nodes.
func (m *Manager) round(parent context.Context) {
	// A renewal may take up to half a period: one that applies late still
	// extends the lease from its proposal time, and the next tick follows.
	ctx, cancel := context.WithTimeout(parent, m.cfg.Period/2)
	defer cancel()
	m.mu.Lock()
	epoch := m.myEpoch
	m.mu.Unlock()
	rec, ok := m.cfg.Table.Get(m.cfg.Node)
	if (epoch == 0 || !ok || rec.Epoch != epoch) && m.adoptLost() {
		m.mu.Lock()
		epoch = m.myEpoch
		m.mu.Unlock()
		rec, ok = m.cfg.Table.Get(m.cfg.Node)
	}
	if epoch == 0 || !ok || rec.Dead || rec.Epoch != epoch {
		if epoch != 0 {
			m.log.Warn("lease lost: this node was declared dead or its epoch moved; registering again",
				"epoch", epoch, "table_epoch", rec.Epoch, "dead", rec.Dead)
		}
		m.register(parent)
	} else {
		m.renew(ctx, epoch)
	}
	if parent.Err() != nil {
		return // stopping: declaring others dead is for the nodes that stay
	}
	sctx, scancel := context.WithTimeout(parent, m.cfg.Period/3)
	defer scancel()
	m.sweep(sctx)
}

// register starts a new epoch. A registration whose answer was lost (the
// proposal timed out but applied later) is recognized in the table by its
// expiration, which only this node's own commands set, and adopted: the
// next round renews it instead of starting yet another epoch, which under a
// slow log would restart the warm-up forever.
//
// A registration may take a whole period, longer than a renewal (a new
// epoch is worth waiting for through a leader election), but it ends with
// parent, Run's context: it was once detached from it, and a node stopped
// before its first registration applied (Raft had no leader yet, or was
// already shut down) waited out the period, up to twice, past edged's 10 s
// shutdown bound.
func (m *Manager) register(parent context.Context) {
	ctx, cancel := context.WithTimeout(parent, m.cfg.Period)
	defer cancel()
	now := m.cfg.Now()
	exp := now.Add(m.cfg.Period).UnixMilli()
	m.mu.Lock()
	m.pendingExp = exp
	m.mu.Unlock()
	res, err := m.propose(ctx, Command{Op: OpRegister, Node: m.cfg.Node, Region: m.cfg.Region, By: m.cfg.Node,
		Now: now.UnixMilli(), Expiration: exp})
	if err != nil {
		if parent.Err() != nil {
			// Stopping: the failure is expected, and the node is leaving.
			m.log.Debug("lease registration abandoned: stopping", "err", err)
			return
		}
		m.log.Warn("lease registration failed", "err", err)
		return
	}
	m.registered(res.Record.Epoch)
}

// registered records that this node's registration of epoch was applied by
// now: it may serve one full period later.
func (m *Manager) registered(epoch uint64) {
	applied := m.cfg.Now()
	m.mu.Lock()
	m.myEpoch = epoch
	m.pendingExp = 0
	m.servingFrom = applied.Add(m.cfg.Period)
	m.mu.Unlock()
	m.epoch.Set(float64(epoch))
	m.log.Info("lease registered", "epoch", epoch, "serving_from", applied.Add(m.cfg.Period))
}

// adoptLost adopts a registration of this node that applied after its
// proposal gave up, and reports whether it did.
func (m *Manager) adoptLost() bool {
	m.mu.Lock()
	exp := m.pendingExp
	m.mu.Unlock()
	rec, ok := m.cfg.Table.Get(m.cfg.Node)
	if exp == 0 || !ok || rec.Dead || rec.Expiration < exp {
		return false
	}
	// The record carries this node's last proposed registration (or a
	// renewal of it, which only this process could have proposed).
	m.registered(rec.Epoch)
	return true
}

func (m *Manager) renew(ctx context.Context, epoch uint64) {
	now := m.cfg.Now()
	res, err := m.propose(ctx, Command{Op: OpRenew, Node: m.cfg.Node, Epoch: epoch, By: m.cfg.Node,
		Now: now.UnixMilli(), Expiration: now.Add(m.cfg.Period).UnixMilli()})
	if err != nil {
		if errors.Is(ctx.Err(), context.Canceled) {
			m.log.Debug("lease renewal abandoned: stopping", "epoch", epoch, "err", err)
			return
		}
		m.log.Warn("lease renewal failed", "epoch", epoch, "err", err)
		return
	}
	if !res.Accepted {
		m.log.Warn("lease renewal refused", "epoch", epoch, "record_epoch", res.Record.Epoch, "dead", res.Record.Dead)
	}
}

// sweep declares dead every other node whose record expired more than
// MaxOffset ago by this node's clock, and forgets the dead records of nodes
// that are gone for good.
func (m *Manager) sweep(ctx context.Context) {
	now := m.cfg.Now()
	for _, rec := range m.cfg.Table.Records() {
		switch {
		case rec.Node == m.cfg.Node:
			continue
		case rec.Dead:
			if m.cfg.Gone != nil && m.cfg.Gone(rec.Node) {
				m.forget(ctx, rec, now)
			}
			continue
		case !now.After(time.UnixMilli(rec.Expiration).Add(m.cfg.MaxOffset)):
			continue
		}
		res, err := m.propose(ctx, Command{Op: OpIncrement, Node: rec.Node, Epoch: rec.Epoch, By: m.cfg.Node,
			PrevExpiration: rec.Expiration, Now: now.UnixMilli()})
		if err != nil {
			m.log.Warn("declaring expired node dead failed", "node", rec.Node, "epoch", rec.Epoch, "err", err)
			continue
		}
		if res.Accepted {
			m.log.Info("declared expired node dead", "node", rec.Node, "old_epoch", rec.Epoch)
		}
	}
}

// forget removes the dead record of a node gone for good, so that it
// leaves every object's placement: the objects it held move to their next
// node, one replica set member at a time.
func (m *Manager) forget(ctx context.Context, rec Record, now time.Time) {
	res, err := m.propose(ctx, Command{Op: OpForget, Node: rec.Node, Epoch: rec.Epoch, By: m.cfg.Node, Now: now.UnixMilli()})
	if err != nil {
		m.log.Warn("forgetting a removed node failed", "node", rec.Node, "epoch", rec.Epoch, "err", err)
		return
	}
	if res.Accepted {
		m.log.Info("forgot the lease record of a node removed from the cluster", "node", rec.Node, "epoch", rec.Epoch)
	}
}

func (m *Manager) propose(ctx context.Context, c Command) (Result, error) {
	if err := c.Validate(); err != nil {
		return Result{}, err
	}
	out, err := m.cfg.Propose(ctx, c.Encode())
	if err != nil {
		return Result{}, fmt.Errorf("propose lease %s for %s: %w", c.Op, c.Node, err)
	}
	var res Result
	if err := json.Unmarshal(out, &res); err != nil {
		return Result{}, fmt.Errorf("lease %s result: %w", c.Op, err)
	}
	return res, nil
}
