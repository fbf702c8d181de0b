package replication

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"

	"github.com/edgeplane/edgeplane/pkg/catalog"
	"github.com/hashicorp/raft"
)

// FSM is the Raft state machine of an Edgeplane node. Apply returns, for
// every command it applied, the result bytes handed back to the proposer.
type FSM struct {
	catalog *catalog.Catalog
	log     *slog.Logger
}

var _ raft.FSM = (*FSM)(nil)

// NewFSM returns a state machine that applies catalog commands to cat.
func NewFSM(cat *catalog.Catalog, log *slog.Logger) *FSM {
	return &FSM{catalog: cat, log: log.With("component", "fsm")}
}

// Apply applies one committed log entry. An entry that cannot be decoded
// means a corrupt log, and the node stops rather than diverge; an operation
// that is refused (a duplicate name) is a result, not a failure.
func (f *FSM) Apply(l *raft.Log) any {
	t, payload, err := DecodeCommand(l.Data)
	if err != nil {
		panic(fmt.Sprintf("raft log entry %d: %v", l.Index, err))
	}
	switch t {
	case CommandCatalog:
		op, err := catalog.DecodeOp(payload)
		if err != nil {
			panic(fmt.Sprintf("raft log entry %d: %v", l.Index, err))
		}
		res := f.catalog.Apply(l.Index, op)
		b, err := json.Marshal(res)
		if err != nil {
			panic(fmt.Sprintf("raft log entry %d: encode result: %v", l.Index, err))
		}
		return b
	default:
		if t >= IgnorableBase {
			f.log.Warn("skipping unknown ignorable command", "type", t, "index", l.Index)
			return nil
		}
		panic(fmt.Sprintf("raft log entry %d: unknown command type %d; is this node older than the cluster?", l.Index, t))
	}
}

// Snapshot captures the state for Raft's log compaction.
func (f *FSM) Snapshot() (raft.FSMSnapshot, error) {
	var buf bytes.Buffer
	if err := f.catalog.Snapshot(&buf); err != nil {
		return nil, err
	}
	return &fsmSnapshot{catalog: buf.Bytes()}, nil
}

// Restore replaces the state with a snapshot.
func (f *FSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	if err := f.catalog.Restore(rc); err != nil {
		return fmt.Errorf("fsm restore: %w", err)
	}
	return nil
}

type fsmSnapshot struct {
	catalog []byte
}

func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := sink.Write(s.catalog); err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("persist snapshot: %w", err)
	}
	return sink.Close()
}

func (s *fsmSnapshot) Release() {}
