package replication

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/edgeplane/edgeplane/pkg/catalog"
	"github.com/edgeplane/edgeplane/pkg/service"
	"github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus"
)

// catalogSection is the snapshot section of the catalog.
const catalogSection = "catalog"

// FSM is the Raft state machine of an Edgeplane node: it applies catalog
// commands itself and dispatches every other command, by type, to the
// service that registered it. Apply returns, for every command, the result
// bytes handed back to the proposer.
//
// A committed entry that cannot be applied (undecodable, unknown type, a
// payload its service refuses) never stops the node: every node reaches the
// same verdict for the same entry, so each records the same failure (an
// error log naming the index, edge_raft_apply_failures_total, an error
// result to the proposer) and carries on. Only an unknown type at or above
// IgnorableBase is skipped quietly, as a rolling upgrade may add one.
type FSM struct {
	catalog  *catalog.Catalog
	log      *slog.Logger
	failures *prometheus.CounterVec

	// applied is the index of the last entry this state machine applied
	// (or restored up to). Raft's own AppliedIndex moves when entries are
	// handed to the FSM goroutine, before they are applied, so it cannot
	// tell a reader that a write is visible; this can.
	applied atomic.Uint64

	mu       sync.RWMutex
	byType   map[CommandType]service.StateMachine
	sections map[string]service.StateMachine
}

// AppliedIndex is the index of the last entry whose effects are visible.
func (f *FSM) AppliedIndex() uint64 { return f.applied.Load() }

var _ raft.FSM = (*FSM)(nil)

// NewFSM returns a state machine that applies catalog commands to cat;
// services register theirs with Register before Raft starts. reg may be nil.
func NewFSM(cat *catalog.Catalog, log *slog.Logger, reg prometheus.Registerer) *FSM {
	f := &FSM{
		catalog: cat, log: log.With("component", "fsm"),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edge_raft_apply_failures_total",
			Help: "Committed Raft entries this node could not apply (recorded and skipped, the same way on every node), by reason.",
		}, []string{"reason"}),
		byType:   make(map[CommandType]service.StateMachine),
		sections: make(map[string]service.StateMachine),
	}
	for _, reason := range []string{failDecode, failUnknownType, failRefused} {
		f.failures.WithLabelValues(reason)
	}
	if reg != nil {
		reg.MustRegister(f.failures)
	}
	return f
}

// Reasons of edge_raft_apply_failures_total.
const (
	failDecode      = "undecodable"
	failUnknownType = "unknown_type"
	failRefused     = "refused"
)

// Register adds a service's state machine: its commands and its snapshot
// section, named name.
func (f *FSM) Register(name string, sm service.StateMachine) error {
	t := CommandType(sm.CommandType())
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case t <= CommandCatalog || t >= IgnorableBase:
		return fmt.Errorf("fsm: %s: command type %d outside 2..127", name, t)
	case f.byType[t] != nil:
		return fmt.Errorf("fsm: %s: command type %d already taken", name, t)
	case name == catalogSection || f.sections[name] != nil:
		return fmt.Errorf("fsm: section %q already taken", name)
	}
	f.byType[t] = sm
	f.sections[name] = sm
	return nil
}

// Validate checks a command before it is proposed by node proposer: an
// envelope this node can decode, of a known type, with a payload its owner
// accepts from that node. The gRPC Apply handler runs it on every command
// another node sends.
func (f *FSM) Validate(cmd []byte, proposer string) error {
	if len(cmd) > MaxCommandBytes {
		return fmt.Errorf("command of %d bytes is over the %d limit: %w", len(cmd), MaxCommandBytes, ErrCorruptCommand)
	}
	t, payload, err := DecodeCommand(cmd)
	if err != nil {
		return err
	}
	if t == CommandCatalog {
		op, err := catalog.DecodeOp(payload)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrCorruptCommand, err)
		}
		return op.Validate()
	}
	f.mu.RLock()
	sm := f.byType[t]
	f.mu.RUnlock()
	if sm == nil {
		return fmt.Errorf("command type %d: %w", t, ErrUnknownCommand)
	}
	return sm.ValidateCommand(payload, proposer)
}

var _ raft.BatchingFSM = (*FSM)(nil)

// BatchApplier is implemented by a service state machine that applies a
// run of its consecutive commands at once (D1: one SQLite transaction for
// many commands). Every command's result must be what ApplyCommand would
// have answered for it alone, whatever the run's length: nodes cut runs
// differently (each batch is what its Raft handed over at once).
type BatchApplier interface {
	// ApplyCommands applies entries in order; the results are in the same
	// order, one each.
	ApplyCommands(entries []Entry) []Result
}

// Entry is one committed command of a service: its index and payload.
type Entry struct {
	Index   uint64
	Payload []byte
}

// Result is the outcome of one command in a batch: ApplyCommand's result
// bytes or its error.
type Result struct {
	Data []byte
	Err  error
}

// ApplyBatch implements raft.BatchingFSM: runs of consecutive commands of a
// service that implements BatchApplier go to it at once; every other entry
// is applied as Apply does.
func (f *FSM) ApplyBatch(logs []*raft.Log) []any {
	out := make([]any, len(logs))
	for i := 0; i < len(logs); {
		l := logs[i]
		if l.Type != raft.LogCommand {
			f.applied.Store(l.Index)
			i++
			continue
		}
		t, _, err := DecodeCommand(l.Data)
		f.mu.RLock()
		ba, _ := f.byType[t].(BatchApplier)
		f.mu.RUnlock()
		if err != nil || ba == nil {
			out[i] = f.Apply(l)
			i++
			continue
		}
		// The run: following commands of the same type that decode.
		var run []Entry
		j := i
		for ; j < len(logs) && logs[j].Type == raft.LogCommand; j++ {
			tj, payload, err := DecodeCommand(logs[j].Data)
			if err != nil || tj != t {
				break
			}
			run = append(run, Entry{Index: logs[j].Index, Payload: payload})
		}
		results := ba.ApplyCommands(run)
		if len(results) != len(run) { // a service's bug: never a crash
			err := fmt.Errorf("%d results for %d commands", len(results), len(run))
			results = make([]Result, len(run))
			for k := range results {
				results[k].Err = err
			}
		}
		for k, r := range results {
			if r.Err != nil {
				out[i+k] = f.fail(run[k].Index, failRefused, r.Err)
			} else {
				out[i+k] = r.Data
			}
		}
		f.applied.Store(logs[j-1].Index)
		i = j
	}
	return out
}

// Apply applies one committed log entry.
func (f *FSM) Apply(l *raft.Log) any {
	defer f.applied.Store(l.Index)
	t, payload, err := DecodeCommand(l.Data)
	if err != nil {
		return f.fail(l.Index, failDecode, err)
	}
	if t == CommandCatalog {
		op, err := catalog.DecodeOp(payload)
		if err != nil {
			return f.fail(l.Index, failDecode, err)
		}
		b, err := json.Marshal(f.catalog.Apply(l.Index, op))
		if err != nil {
			return f.fail(l.Index, failRefused, err)
		}
		return b
	}
	f.mu.RLock()
	sm := f.byType[t]
	f.mu.RUnlock()
	if sm == nil {
		if t >= IgnorableBase {
			f.log.Warn("skipping unknown ignorable command", "type", t, "index", l.Index)
			return nil
		}
		return f.fail(l.Index, failUnknownType, fmt.Errorf("command type %d: %w", t, ErrUnknownCommand))
	}
	res, err := sm.ApplyCommand(l.Index, payload)
	if err != nil {
		return f.fail(l.Index, failRefused, err)
	}
	return res
}

// fail records an entry that could not be applied and returns the error
// the proposer receives as its result.
func (f *FSM) fail(index uint64, reason string, err error) error {
	f.failures.WithLabelValues(reason).Inc()
	f.log.Error("raft entry not applied; recorded and skipped", "index", index, "reason", reason, "err", err)
	return fmt.Errorf("raft entry %d not applied (%s): %w", index, reason, err)
}

// ResultError returns the error a proposer got instead of a result, when
// the entry could not be applied.
func ResultError(res any) error {
	err, _ := res.(error)
	return err
}

// Snapshot format. A snapshot is the magic, a format version, the index of
// the last applied entry (uvarint), then one section per part of the state (the catalog, then each service's, sorted
// by name): a name and a payload, each prefixed by its length as a uvarint.
// Restore takes each section to its owner. Version 0 is the format before
// sections: the catalog's JSON alone, still restored.
const (
	snapshotMagic   = "EDGESNAP"
	snapshotVersion = 1
	// maxSectionName bounds a section name in a snapshot.
	maxSectionName = 64
)

// Snapshot captures the state for Raft's log compaction. Raft calls it on
// its FSM goroutine, so no Apply runs meanwhile; services copy what they
// need here and write it in Persist.
func (f *FSM) Snapshot() (raft.FSMSnapshot, error) {
	var cat bytes.Buffer
	if err := f.catalog.Snapshot(&cat); err != nil {
		return nil, fmt.Errorf("snapshot catalog: %w", err)
	}
	snap := &fsmSnapshot{applied: f.applied.Load(), sections: []section{{name: catalogSection, body: cat.Bytes()}}}
	f.mu.RLock()
	names := make([]string, 0, len(f.sections))
	for name := range f.sections {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if p, ok := f.sections[name].(service.SnapshotPreparer); ok {
			prepared, err := p.PrepareSnapshot()
			if err != nil {
				f.mu.RUnlock()
				snap.Release()
				return nil, fmt.Errorf("snapshot %s: %w", name, err)
			}
			snap.sections = append(snap.sections, section{name: name, stream: prepared})
			continue
		}
		var b bytes.Buffer
		if err := f.sections[name].Snapshot(&b); err != nil {
			f.mu.RUnlock()
			snap.Release()
			return nil, fmt.Errorf("snapshot %s: %w", name, err)
		}
		snap.sections = append(snap.sections, section{name: name, body: b.Bytes()})
	}
	f.mu.RUnlock()
	return snap, nil
}

// Restore replaces the state with a snapshot: a versioned one section by
// section, or a catalog-only one of the format before sections.
func (f *FSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	br := bufio.NewReader(rc)
	head, err := br.Peek(len(snapshotMagic))
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("fsm restore: %w", err)
	}
	if string(head) != snapshotMagic {
		if err := f.catalog.Restore(br); err != nil {
			return fmt.Errorf("fsm restore (format 0): %w", err)
		}
		// The catalog's version is the index of its last change: a lower
		// bound of the snapshot's index, the best format 0 knows.
		f.applied.Store(f.catalog.Version())
		return nil
	}
	if _, err := br.Discard(len(snapshotMagic)); err != nil {
		return fmt.Errorf("fsm restore: %w", err)
	}
	version, err := binary.ReadUvarint(br)
	if err != nil {
		return fmt.Errorf("fsm restore: format version: %w", err)
	}
	if version != snapshotVersion {
		return fmt.Errorf("fsm restore: snapshot format %d is newer than this node knows (%d)", version, snapshotVersion)
	}
	applied, err := binary.ReadUvarint(br)
	if err != nil {
		return fmt.Errorf("fsm restore: applied index: %w", err)
	}
	defer f.applied.Store(applied)
	for {
		name, err := readChunk(br, maxSectionName)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("fsm restore: section name: %w", err)
		}
		size, err := binary.ReadUvarint(br)
		if err != nil {
			return fmt.Errorf("fsm restore: section %s: %w", name, err)
		}
		body := io.LimitReader(br, int64(size))
		if err := f.restoreSection(string(name), body); err != nil {
			return fmt.Errorf("fsm restore: section %s: %w", name, err)
		}
		// A section's owner may stop early; skip to the next section.
		if _, err := io.Copy(io.Discard, body); err != nil {
			return fmt.Errorf("fsm restore: section %s: %w", name, err)
		}
	}
}

func (f *FSM) restoreSection(name string, r io.Reader) error {
	if name == catalogSection {
		return f.catalog.Restore(r)
	}
	f.mu.RLock()
	sm := f.sections[name]
	f.mu.RUnlock()
	if sm == nil {
		return fmt.Errorf("no service %q on this node to restore it: %w", name, ErrUnknownCommand)
	}
	return sm.Restore(r)
}

// readChunk reads a uvarint length and that many bytes, at most limit.
func readChunk(br *bufio.Reader, limit uint64) ([]byte, error) {
	n, err := binary.ReadUvarint(br)
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, fmt.Errorf("length %d over %d", n, limit)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(br, b); err != nil {
		return nil, err
	}
	return b, nil
}

// section is one part of a snapshot: bytes copied at Snapshot, or a
// service's prepared section streamed at Persist.
type section struct {
	name   string
	body   []byte
	stream service.SectionSnapshot
}

type fsmSnapshot struct {
	applied  uint64
	sections []section
}

func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	w := bufio.NewWriter(sink)
	var tmp [binary.MaxVarintLen64]byte
	put := func(b []byte) {
		_, _ = w.Write(tmp[:binary.PutUvarint(tmp[:], uint64(len(b)))])
		_, _ = w.Write(b)
	}
	_, _ = w.WriteString(snapshotMagic)
	_, _ = w.Write(tmp[:binary.PutUvarint(tmp[:], snapshotVersion)])
	_, _ = w.Write(tmp[:binary.PutUvarint(tmp[:], s.applied)])
	for _, sec := range s.sections {
		put([]byte(sec.name))
		if sec.stream == nil {
			put(sec.body)
			continue
		}
		if err := persistStream(w, sec); err != nil {
			_ = sink.Cancel()
			return fmt.Errorf("persist snapshot: section %s: %w", sec.name, err)
		}
	}
	if err := w.Flush(); err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("persist snapshot: %w", err)
	}
	return sink.Close()
}

// persistStream writes a prepared section: its size, then its bytes, which
// must be exactly that many.
func persistStream(w *bufio.Writer, sec section) error {
	size, err := sec.stream.Size()
	if err != nil {
		return err
	}
	var tmp [binary.MaxVarintLen64]byte
	if _, err := w.Write(tmp[:binary.PutUvarint(tmp[:], uint64(size))]); err != nil {
		return err
	}
	n, err := sec.stream.WriteTo(w)
	if err != nil {
		return err
	}
	if n != size {
		return fmt.Errorf("wrote %d bytes of a %d byte section", n, size)
	}
	return nil
}

// Release frees what the services' prepared sections pinned.
func (s *fsmSnapshot) Release() {
	for _, sec := range s.sections {
		if sec.stream != nil {
			sec.stream.Release()
		}
	}
}
