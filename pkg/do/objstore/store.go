package objstore

import (
	"bytes"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"log/slog"
	"sync"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgeplane/edgeplane/pkg/storage"
)

// Options configures a Store.
type Options struct {
	// OnFatal receives storage faults the store cannot continue past (see
	// storage.PebbleConfig.OnFatal): a write the disk refused, corruption.
	OnFatal func(error)
	// Registerer receives the store's and the replicator's metrics; nil
	// registers nothing.
	Registerer prometheus.Registerer
	// Logger receives the store's logs; nil discards them.
	Logger *slog.Logger
	// StorageCap bounds the bytes (keys plus values) of one object; 0 is
	// DefaultStorageCap. The owner enforces it on Commit; replicas apply
	// what the owner committed.
	StorageCap int64
	// FS replaces the file system (tests simulate crashes); nil is the OS.
	FS vfs.FS
}

// lockStripes is the number of per-object lock stripes: operations on one
// object are serialized, operations on objects of different stripes run in
// parallel.
const lockStripes = 256

// Store is this node's local copy of every object it holds (as owner or
// replica), in one pebble database: per object its entries, its alarm and
// its replication metadata (meta.go). Every change of an object is one
// synced pebble batch: entries and metadata change together, and are
// durable before the change is acknowledged.
type Store struct {
	db      *pebble.DB
	log     *slog.Logger
	onFatal func(error)
	cap     int64
	seed    maphash.Seed
	stripes [lockStripes]sync.Mutex

	// closeMu guards closed: every operation holds it shared, Close
	// exclusively, so no operation reaches a closed pebble database.
	closeMu  sync.RWMutex
	closed   bool
	closeErr error
}

// Open opens (creating) the store in dir.
func Open(dir string, opts Options) (*Store, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.StorageCap == 0 {
		opts.StorageCap = DefaultStorageCap
	}
	if opts.StorageCap < 0 {
		return nil, fmt.Errorf("objstore open %s: negative storage cap %d", dir, opts.StorageCap)
	}
	log := opts.Logger.With("component", "do-store")
	db, err := storage.OpenPebbleWith(storage.PebbleConfig{
		Dir: dir, Logger: log, OnFatal: opts.OnFatal, FS: opts.FS,
	})
	if err != nil {
		return nil, fmt.Errorf("objstore open %s: %w", dir, err)
	}
	return &Store{db: db, log: log, onFatal: opts.OnFatal, cap: opts.StorageCap, seed: maphash.MakeSeed()}, nil
}

// Close closes the database, once the operations under way are done;
// later operations return ErrClosed. It is idempotent.
func (s *Store) Close() error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if !s.closed {
		s.closed = true
		s.closeErr = s.db.Close()
	}
	return s.closeErr
}

// enter starts an operation: ErrClosed after Close, else the function
// that ends it.
func (s *Store) enter() (func(), error) {
	s.closeMu.RLock()
	if s.closed {
		s.closeMu.RUnlock()
		return nil, fmt.Errorf("objstore: store: %w", ErrClosed)
	}
	return s.closeMu.RUnlock, nil
}

// StorageCap is the per-object byte cap the owner enforces.
func (s *Store) StorageCap() int64 { return s.cap }

// lock serializes the changes of one object (and of the others of its
// stripe). It returns the unlock function.
func (s *Store) lock(obj string) func() {
	m := &s.stripes[maphash.String(s.seed, obj)%lockStripes]
	m.Lock()
	return m.Unlock
}

// fault reports a write error to OnFatal when the disk caused it, and
// returns it wrapped.
func (s *Store) fault(what, obj string, err error) error {
	if storage.IsDiskFault(err) && s.onFatal != nil {
		s.onFatal(&storage.FatalError{Path: "do/" + obj, Cause: err})
	}
	return fmt.Errorf("objstore %s %q: %w", what, obj, err)
}

// Meta returns what this node holds of obj (zero when nothing).
func (s *Store) Meta(obj string) (Meta, error) {
	done, err := s.enter()
	if err != nil {
		return Meta{}, err
	}
	defer done()
	return s.readMeta(s.db, obj)
}

type getter interface {
	Get(key []byte) ([]byte, io.Closer, error)
}

func (s *Store) readMeta(r getter, obj string) (Meta, error) {
	v, closer, err := r.Get(metaKey(obj))
	if errors.Is(err, pebble.ErrNotFound) {
		return Meta{}, nil
	}
	if err != nil {
		return Meta{}, fmt.Errorf("objstore read meta %q: %w", obj, err)
	}
	defer closer.Close()
	m, err := decodeMeta(v)
	if err != nil {
		return Meta{}, fmt.Errorf("objstore meta %q: %w", obj, err)
	}
	return m, nil
}

// get returns the values of the present keys of obj.
func (s *Store) get(obj string, keys []string) (map[string][]byte, error) {
	out := make(map[string][]byte, len(keys))
	prefix := entryPrefix(obj)
	for _, k := range keys {
		v, closer, err := s.db.Get(append(prefix[:len(prefix):len(prefix)], k...))
		if errors.Is(err, pebble.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("objstore get %q: %w", obj, err)
		}
		out[k] = bytes.Clone(v)
		_ = closer.Close()
	}
	return out, nil
}

// Promise records a promise not to accept ballots lower than b for obj, if
// b is at least the current promise, with the replica set b's holder opens
// the object with. It returns whether it promised and what the node held
// before the call (the promise it replaced tells a new owner which replica
// set a previous one may have written to). The promise is durable before
// it returns.
func (s *Store) Promise(obj string, b Ballot, replicas []string) (bool, Meta, error) {
	done, err := s.enter()
	if err != nil {
		return false, Meta{}, err
	}
	defer done()
	unlock := s.lock(obj)
	defer unlock()
	m, err := s.readMeta(s.db, obj)
	if err != nil {
		return false, Meta{}, err
	}
	if b.Less(m.Promised) {
		return false, m, nil
	}
	if m.Promised == b {
		return true, m, nil
	}
	n := m
	n.Promised = b
	n.Pending = withPromise(m.Pending, b, replicas)
	if err := s.db.Set(metaKey(obj), n.encode(), pebble.Sync); err != nil {
		return false, Meta{}, s.fault("promise", obj, err)
	}
	return true, m, nil
}

// AcceptResult is the outcome of Accept.
type AcceptResult int

// Outcomes of Accept.
const (
	// Accepted: applied and durable.
	Accepted AcceptResult = iota
	// Superseded: a higher ballot was promised; nothing changed.
	Superseded
	// Mismatch: the node's state is not the base; nothing changed (the
	// owner sends the whole state).
	Mismatch
)

// AcceptRequest is one write to apply under a ballot.
type AcceptRequest struct {
	Ballot     Ballot
	BaseBallot Ballot
	BaseSeq    uint64
	Seq        uint64
	Ops        []Op
	Replicas   []string
	// EnforceCap refuses (ErrStorageFull) a write that grows the object
	// past the store's cap (the owner's check).
	EnforceCap bool
}

// Accept applies req to obj when req.Ballot is at least the promise and
// the node's state is (req.BaseBallot, req.BaseSeq): entries, alarm and
// metadata in one synced batch. It returns the outcome and what the node
// holds after the call.
func (s *Store) Accept(obj string, req AcceptRequest) (AcceptResult, Meta, error) {
	done, err := s.enter()
	if err != nil {
		return 0, Meta{}, err
	}
	defer done()
	unlock := s.lock(obj)
	defer unlock()
	m, err := s.readMeta(s.db, obj)
	if err != nil {
		return 0, Meta{}, err
	}
	if req.Ballot.Less(m.Promised) {
		return Superseded, m, nil
	}
	if m.Accepted != req.BaseBallot || m.Seq != req.BaseSeq {
		return Mismatch, m, nil
	}
	b := s.db.NewIndexedBatch()
	defer b.Close()
	n := m
	if err := applyOps(b, obj, &n, req.Ops); err != nil {
		return 0, Meta{}, err
	}
	if req.EnforceCap {
		if err := s.checkGrowth(obj, m.Size, n.Size); err != nil {
			return 0, m, err
		}
	}
	// The state's owner covered every earlier promise's set when it opened.
	n.Promised, n.Pending = maxBallot(m.Promised, req.Ballot), nil
	n.Accepted = req.Ballot
	n.Seq = req.Seq
	n.Replicas = req.Replicas
	if err := b.Set(metaKey(obj), n.encode(), nil); err != nil {
		return 0, Meta{}, fmt.Errorf("objstore accept %q: %w", obj, err)
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return 0, Meta{}, s.fault("accept", obj, err)
	}
	return Accepted, n, nil
}

// CheckCap reports ErrStorageFull when applying ops to obj's current
// state would grow it past the cap. It writes nothing.
func (s *Store) CheckCap(obj string, ops []Op) error {
	done, err := s.enter()
	if err != nil {
		return err
	}
	defer done()
	unlock := s.lock(obj)
	defer unlock()
	m, err := s.readMeta(s.db, obj)
	if err != nil {
		return err
	}
	// Most writes cannot reach the cap even if every put were new: no
	// need to apply them to a scratch batch to know their exact growth.
	var most int64
	for _, op := range ops {
		if op.Kind == OpPut {
			most += int64(len(op.Key) + len(op.Value))
		}
	}
	if m.Size+most <= s.cap {
		return nil
	}
	b := s.db.NewIndexedBatch()
	defer b.Close()
	n := m
	if err := applyOps(b, obj, &n, ops); err != nil {
		return err
	}
	return s.checkGrowth(obj, m.Size, n.Size)
}

// checkGrowth refuses a write that takes an object from size before to
// size after when after is over the cap and larger than before (a write
// that shrinks an object already over a lowered cap passes).
func (s *Store) checkGrowth(obj string, before, after int64) error {
	if after > s.cap && after > before {
		return fmt.Errorf("objstore commit %q: %d bytes over the cap of %d: %w", obj, after, s.cap, ErrStorageFull)
	}
	return nil
}

// applyOps writes ops into b (an indexed batch, so later ops see earlier
// ones) and updates m's size and alarm.
func applyOps(b *pebble.Batch, obj string, m *Meta, ops []Op) error {
	prefix := entryPrefix(obj)
	for i, op := range ops {
		switch op.Kind {
		case OpPut, OpDelete:
			k := append(prefix[:len(prefix):len(prefix)], op.Key...)
			old, closer, err := b.Get(k)
			switch {
			case err == nil:
				m.Size -= int64(len(op.Key) + len(old))
				_ = closer.Close()
			case !errors.Is(err, pebble.ErrNotFound):
				return fmt.Errorf("objstore apply %q op %d: %w", obj, i, err)
			}
			if op.Kind == OpPut {
				err = b.Set(k, op.Value, nil)
				m.Size += int64(len(op.Key) + len(op.Value))
			} else {
				err = b.Delete(k, nil)
			}
			if err != nil {
				return fmt.Errorf("objstore apply %q op %d: %w", obj, i, err)
			}
		case OpDeleteAll:
			if err := b.DeleteRange(prefix, prefixEnd(prefix), nil); err != nil {
				return fmt.Errorf("objstore apply %q op %d: %w", obj, i, err)
			}
			m.Size = 0
		case OpSetAlarm:
			at, err := alarmValue(op.Value)
			if err != nil {
				return fmt.Errorf("objstore apply %q op %d: %w", obj, i, err)
			}
			m.Alarm = at
		default:
			return fmt.Errorf("objstore apply %q op %d: kind %d: %w", obj, i, op.Kind, ErrInvalid)
		}
	}
	return nil
}

// State is an object's whole state as one node holds it.
type State struct {
	Meta    Meta
	Entries []Entry
}

// Install replaces obj's state with st under ballot b, when b is at least
// the promise: in one synced batch. It returns the outcome and what the
// node holds after the call.
func (s *Store) Install(obj string, b Ballot, st State) (AcceptResult, Meta, error) {
	done, err := s.enter()
	if err != nil {
		return 0, Meta{}, err
	}
	defer done()
	unlock := s.lock(obj)
	defer unlock()
	m, err := s.readMeta(s.db, obj)
	if err != nil {
		return 0, Meta{}, err
	}
	if b.Less(m.Promised) {
		return Superseded, m, nil
	}
	if m.Accepted == b && m.Seq >= st.Meta.Seq {
		// Under one ballot, states are prefixes of one history: this
		// node already holds this state or a later one, and going back
		// could undo a write it acknowledged.
		return Accepted, m, nil
	}
	batch := s.db.NewBatch()
	defer batch.Close()
	prefix := entryPrefix(obj)
	if err := batch.DeleteRange(prefix, prefixEnd(prefix), nil); err != nil {
		return 0, Meta{}, fmt.Errorf("objstore install %q: %w", obj, err)
	}
	var size int64
	for _, e := range st.Entries {
		if err := batch.Set(append(prefix[:len(prefix):len(prefix)], e.Key...), e.Value, nil); err != nil {
			return 0, Meta{}, fmt.Errorf("objstore install %q: %w", obj, err)
		}
		size += int64(len(e.Key) + len(e.Value))
	}
	n := Meta{
		Promised: maxBallot(m.Promised, b),
		Accepted: b,
		Seq:      st.Meta.Seq,
		Alarm:    st.Meta.Alarm,
		Size:     size,
		Replicas: st.Meta.Replicas,
	}

	if err := batch.Set(metaKey(obj), n.encode(), nil); err != nil {
		return 0, Meta{}, fmt.Errorf("objstore install %q: %w", obj, err)
	}
	if err := batch.Commit(pebble.Sync); err != nil {
		return 0, Meta{}, s.fault("install", obj, err)
	}
	return Accepted, n, nil
}

// snapshot is a consistent read view of the store.
type snapshot struct {
	s    *Store
	snap *pebble.Snapshot
	done func()
}

// Snapshot returns a consistent read view; the caller closes it.
// It holds the store open until closed.
func (s *Store) snapshot() (snapshot, error) {
	done, err := s.enter()
	if err != nil {
		return snapshot{}, err
	}
	return snapshot{s: s, snap: s.db.NewSnapshot(), done: done}, nil
}

// Close releases the view.
func (v snapshot) Close() {
	_ = v.snap.Close()
	v.done()
}

// Meta is obj's metadata in the view.
func (v snapshot) Meta(obj string) (Meta, error) { return v.s.readMeta(v.snap, obj) }

// Scan calls fn for each entry of obj in key order, until fn returns false.
// The value is only valid during the call.
func (v snapshot) Scan(obj string, fn func(key string, value []byte) bool) error {
	prefix := entryPrefix(obj)
	it, err := v.snap.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return fmt.Errorf("objstore scan %q: %w", obj, err)
	}
	for ok := it.First(); ok; ok = it.Next() {
		if !fn(string(it.Key()[len(prefix):]), it.Value()) {
			break
		}
	}
	if err := it.Error(); err != nil {
		_ = it.Close()
		return fmt.Errorf("objstore scan %q: %w", obj, err)
	}
	return it.Close()
}

// ObjectsWithAlarms lists the objects this node holds whose alarm is set,
// for a new owner to reschedule them. It scans the metadata of every
// object held.
func (s *Store) ObjectsWithAlarms() []ObjectAlarm {
	done, err := s.enter()
	if err != nil {
		return nil
	}
	defer done()
	var out []ObjectAlarm
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{metaTag}, UpperBound: []byte{metaTag + 1}})
	if err != nil {
		s.log.Error("do store: list alarms", "err", err)
		return nil
	}
	defer it.Close()
	for ok := it.First(); ok; ok = it.Next() {
		m, err := decodeMeta(it.Value())
		if err != nil {
			s.log.Error("do store: damaged object metadata", "obj", string(it.Key()[1:]), "err", err)
			continue
		}
		if m.Alarm != 0 {
			out = append(out, ObjectAlarm{Obj: string(it.Key()[1:]), At: m.Alarm})
		}
	}
	if err := it.Error(); err != nil {
		s.log.Error("do store: list alarms", "err", err)
	}
	return out
}
