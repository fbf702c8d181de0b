package replication

import (
	"bytes"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/pkg/catalog"
	"github.com/hashicorp/raft"
)

func catalogEntry(t *testing.T, index uint64, op catalog.Op) *raft.Log {
	t.Helper()
	b, err := op.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return &raft.Log{Index: index, Data: EncodeCommand(CommandCatalog, b)}
}

func TestFSMAppliesCatalogAndReturnsResults(t *testing.T) {
	cat := catalog.New()
	f := NewFSM(cat, slog.New(slog.DiscardHandler))
	at := time.Unix(100, 0).UTC()
	out := f.Apply(catalogEntry(t, 1, catalog.Op{Type: catalog.OpInit, At: at, Account: &catalog.Account{ID: "a"}}))
	res, err := catalog.DecodeResult(out.([]byte))
	if err != nil || res.Err() != nil || res.Version != 1 {
		t.Fatalf("init result %+v %v", res, err)
	}
	if a, ok := cat.DefaultAccount(); !ok || a.ID != "a" {
		t.Fatal("init not applied")
	}
	// Ignorable unknown commands are skipped; others stop the node.
	if got := f.Apply(&raft.Log{Index: 2, Data: EncodeCommand(IgnorableBase+1, nil)}); got != nil {
		t.Fatalf("ignorable command returned %v", got)
	}
	mustPanic(t, func() { f.Apply(&raft.Log{Index: 3, Data: EncodeCommand(77, nil)}) })
	mustPanic(t, func() { f.Apply(&raft.Log{Index: 4, Data: []byte{9}}) })
	mustPanic(t, func() { f.Apply(&raft.Log{Index: 5, Data: EncodeCommand(CommandCatalog, []byte("{"))}) })
}

func TestFSMSnapshotRestore(t *testing.T) {
	cat := catalog.New()
	f := NewFSM(cat, slog.New(slog.DiscardHandler))
	f.Apply(catalogEntry(t, 1, catalog.Op{Type: catalog.OpInit, Account: &catalog.Account{ID: "a"}}))
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	sink := &memSink{}
	if err := snap.Persist(sink); err != nil {
		t.Fatal(err)
	}
	cat2 := catalog.New()
	if err := NewFSM(cat2, slog.New(slog.DiscardHandler)).Restore(io.NopCloser(bytes.NewReader(sink.Bytes()))); err != nil {
		t.Fatal(err)
	}
	if a, ok := cat2.DefaultAccount(); !ok || a.ID != "a" || cat2.Version() != 1 {
		t.Fatalf("restored catalog: %+v %v v=%d", a, ok, cat2.Version())
	}
}

func mustPanic(t *testing.T, fn func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Fatal("expected a panic")
		}
	}()
	fn()
}

type memSink struct{ bytes.Buffer }

func (s *memSink) ID() string    { return "mem" }
func (s *memSink) Cancel() error { return nil }
func (s *memSink) Close() error  { return nil }
