package lease

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"
	"unicode/utf8"
)

// Limits on commands, checked before proposing and again on apply.
const (
	// MaxNodeIDBytes bounds a node id in a command.
	MaxNodeIDBytes = 128
	// MaxRegionBytes bounds a region in a command.
	MaxRegionBytes = 64
	// MaxLeaseMillis bounds how far past its timestamp a command may set an
	// expiration: a node cannot grant itself an unbounded lease.
	MaxLeaseMillis = 60_000
)

// Op is the kind of a liveness command.
type Op string

// The liveness commands.
const (
	// OpRegister starts a new epoch for Node (its first start or its return
	// after it was declared dead or restarted).
	OpRegister Op = "register"
	// OpRenew moves Node's expiration forward within its current epoch.
	OpRenew Op = "renew"
	// OpIncrement declares Node dead: its epoch is bumped and its leases
	// end. Accepted only if the record still has Epoch and PrevExpiration
	// and has expired as of Now.
	OpIncrement Op = "increment"
	// OpForget removes the record of a node that left the cluster for good
	// (gone from the Raft configuration and from gossip), so that it drops
	// out of every object's placement. Accepted only for a dead record
	// that still has Epoch. The table keeps the highest epoch it forgot: a
	// node of that id that joins again registers above it.
	OpForget Op = "forget"
)

// Command is one liveness change, proposed through Raft.
type Command struct {
	Op     Op     `json:"op"`
	Node   string `json:"node"`
	Region string `json:"region,omitempty"`
	// Epoch is the epoch a renewal or increment expects.
	Epoch uint64 `json:"epoch,omitempty"`
	// Expiration is the new expiration of a register or renew (Unix ms).
	Expiration int64 `json:"expiration,omitempty"`
	// PrevExpiration is the expiration an increment expects (Unix ms).
	PrevExpiration int64 `json:"prev_expiration,omitempty"`
	// Now is the proposer's clock when it proposed (Unix ms).
	Now int64 `json:"now"`
	// By is the proposing node (logs).
	By string `json:"by,omitempty"`
}

// Validate checks a command's shape.
func (c Command) Validate() error {
	switch {
	case c.Node == "" || len(c.Node) > MaxNodeIDBytes || !utf8.ValidString(c.Node):
		return fmt.Errorf("lease command: node id must be 1..%d bytes of UTF-8", MaxNodeIDBytes)
	case len(c.Region) > MaxRegionBytes || !utf8.ValidString(c.Region):
		return fmt.Errorf("lease command: region must be at most %d bytes of UTF-8", MaxRegionBytes)
	case len(c.By) > MaxNodeIDBytes || !utf8.ValidString(c.By):
		return fmt.Errorf("lease command: proposer id must be at most %d bytes of UTF-8", MaxNodeIDBytes)
	case c.Now <= 0:
		return errors.New("lease command: timestamp is required")
	}
	switch c.Op {
	case OpRegister, OpRenew:
		if c.Expiration <= c.Now || c.Expiration-c.Now > MaxLeaseMillis {
			return fmt.Errorf("lease command: expiration must be within (now, now+%d ms]", MaxLeaseMillis)
		}
		if c.Op == OpRenew && c.Epoch == 0 {
			return errors.New("lease command: renewal needs an epoch")
		}
	case OpIncrement, OpForget:
		if c.Epoch == 0 {
			return fmt.Errorf("lease command: %s needs an epoch", c.Op)
		}
	default:
		return fmt.Errorf("lease command: unknown op %q", c.Op)
	}
	return nil
}

// Encode returns the command's payload.
func (c Command) Encode() []byte {
	b, _ := json.Marshal(c) // plain struct: cannot fail
	return b
}

// DecodeCommand parses and validates a payload.
func DecodeCommand(b []byte) (Command, error) {
	var c Command
	if err := json.Unmarshal(b, &c); err != nil {
		return Command{}, fmt.Errorf("lease command: %w", err)
	}
	return c, c.Validate()
}

// Record is one node's liveness.
type Record struct {
	Node   string `json:"node"`
	Region string `json:"region,omitempty"`
	Epoch  uint64 `json:"epoch"`
	// Expiration ends the epoch's lease (Unix ms, the holder's clock).
	Expiration int64 `json:"expiration"`
	// Dead: another node incremented the epoch; the node holds no lease
	// until it registers again.
	Dead bool `json:"dead,omitempty"`
}

// Result is what applying a command gives back to its proposer.
type Result struct {
	// Accepted: the command changed the table.
	Accepted bool `json:"accepted"`
	// Record is the node's record after the command.
	Record Record `json:"record"`
}

// Table is the replicated liveness table. Its methods are safe for
// concurrent use; Apply must be called in log order.
type Table struct {
	mu   sync.RWMutex
	recs map[string]Record
	// floor is the highest epoch of a forgotten record: every registration
	// starts above it, so an epoch is never reused for a node id.
	floor   uint64
	changed chan struct{}
}

// NewTable returns an empty table.
func NewTable() *Table {
	return &Table{recs: make(map[string]Record), changed: make(chan struct{})}
}

// Apply applies one command deterministically: it reads only c and the
// table, never a clock.
func (t *Table) Apply(c Command) Result {
	t.mu.Lock()
	defer t.mu.Unlock()
	rec, ok := t.recs[c.Node]
	res := Result{Record: rec}
	switch c.Op {
	case OpRegister:
		rec = Record{Node: c.Node, Region: c.Region, Epoch: max(rec.Epoch, t.floor) + 1, Expiration: c.Expiration}
		res.Accepted = true
	case OpRenew:
		if !ok || rec.Dead || rec.Epoch != c.Epoch || c.Expiration <= rec.Expiration {
			return res
		}
		rec.Expiration = c.Expiration
		res.Accepted = true
	case OpIncrement:
		if !ok || rec.Dead || rec.Epoch != c.Epoch || rec.Expiration != c.PrevExpiration || c.Now <= rec.Expiration {
			return res
		}
		rec.Epoch++
		rec.Dead = true
		res.Accepted = true
	case OpForget:
		if !ok || !rec.Dead || rec.Epoch != c.Epoch {
			return res
		}
		delete(t.recs, c.Node)
		t.floor = max(t.floor, rec.Epoch)
		res.Accepted = true
		t.notifyLocked()
		return res
	default:
		return res
	}
	t.recs[c.Node] = rec
	res.Record = rec
	t.notifyLocked()
	return res
}

// notifyLocked wakes the waiters of Changed; t.mu is held for writing.
func (t *Table) notifyLocked() {
	close(t.changed)
	t.changed = make(chan struct{})
}

// Get returns one node's record.
func (t *Table) Get(node string) (Record, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	r, ok := t.recs[node]
	return r, ok
}

// Records returns every record, ordered by node id.
func (t *Table) Records() []Record {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.recordsLocked()
}

func (t *Table) recordsLocked() []Record {
	out := slices.Collect(maps.Values(t.recs))
	slices.SortFunc(out, func(a, b Record) int { return cmpString(a.Node, b.Node) })
	return out
}

// Floor is the highest epoch of a forgotten record (0: none forgotten).
func (t *Table) Floor() uint64 {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.floor
}

// Changed is closed at the next accepted change.
func (t *Table) Changed() <-chan struct{} {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.changed
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Versions of the table's snapshot encoding: 2 adds the epoch floor. A
// table that never forgot a record writes version 1, which nodes that
// predate OpForget still read.
const (
	snapshotVersion1 = 1
	snapshotVersion  = 2
)

type snapshot struct {
	Version int      `json:"version"`
	Floor   uint64   `json:"floor,omitempty"`
	Records []Record `json:"records"`
}

// Snapshot writes the whole table (records ordered by node id).
func (t *Table) Snapshot(w io.Writer) error {
	t.mu.RLock()
	s := snapshot{Version: snapshotVersion1, Records: t.recordsLocked(), Floor: t.floor}
	t.mu.RUnlock()
	if s.Floor > 0 {
		s.Version = snapshotVersion
	}
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("lease snapshot: %w", err)
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("lease snapshot: %w", err)
	}
	return nil
}

// Restore replaces the table with a snapshot written by Snapshot.
func (t *Table) Restore(r io.Reader) error {
	var s snapshot
	if err := json.NewDecoder(r).Decode(&s); err != nil {
		return fmt.Errorf("lease restore: %w", err)
	}
	if s.Version != snapshotVersion1 && s.Version != snapshotVersion {
		return fmt.Errorf("lease restore: unknown snapshot version %d", s.Version)
	}
	recs := make(map[string]Record, len(s.Records))
	for _, rec := range s.Records {
		if rec.Node == "" {
			return errors.New("lease restore: record without node id")
		}
		recs[rec.Node] = rec
	}
	t.mu.Lock()
	t.recs, t.floor = recs, s.Floor
	t.notifyLocked()
	t.mu.Unlock()
	return nil
}
