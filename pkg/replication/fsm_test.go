package replication

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/pkg/catalog"
	"github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func catalogEntry(t testing.TB, index uint64, op catalog.Op) *raft.Log {
	t.Helper()
	b, err := op.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return &raft.Log{Index: index, Data: EncodeCommand(CommandCatalog, b)}
}

func newTestFSM(t testing.TB) (*FSM, *catalog.Catalog, *prometheus.Registry) {
	reg := prometheus.NewRegistry()
	cat := catalog.New()
	return NewFSM(cat, slog.New(slog.DiscardHandler), reg), cat, reg
}

// counterMachine is a service state machine: it adds the payload's bytes
// to a per-machine counter and refuses an empty payload.
type counterMachine struct {
	typ   uint8
	total uint64
}

func (m *counterMachine) CommandType() uint8 { return m.typ }
func (m *counterMachine) ValidateCommand(p []byte, _ string) error {
	if len(p) == 0 {
		return errors.New("empty")
	}
	return nil
}
func (m *counterMachine) ApplyCommand(_ uint64, p []byte) ([]byte, error) {
	if err := m.ValidateCommand(p, ""); err != nil {
		return nil, err
	}
	for _, b := range p {
		m.total += uint64(b)
	}
	return []byte(fmt.Sprint(m.total)), nil
}
func (m *counterMachine) Snapshot(w io.Writer) error {
	return binary.Write(w, binary.BigEndian, m.total)
}
func (m *counterMachine) Restore(r io.Reader) error {
	return binary.Read(r, binary.BigEndian, &m.total)
}

func TestFSMAppliesCatalogAndReturnsResults(t *testing.T) {
	f, cat, _ := newTestFSM(t)
	at := time.Unix(100, 0).UTC()
	out := f.Apply(catalogEntry(t, 1, catalog.Op{Type: catalog.OpInit, At: at, Account: &catalog.Account{ID: "a"}}))
	res, err := catalog.DecodeResult(out.([]byte))
	if err != nil || res.Err() != nil || res.Version != 1 {
		t.Fatalf("init result %+v %v", res, err)
	}
	if a, ok := cat.DefaultAccount(); !ok || a.ID != "a" {
		t.Fatal("init not applied")
	}
}

// TestFSMRecordsEntriesItCannotApply: an undecodable entry, an unknown
// type or a payload its service refuses is an error result and a counted
// failure, never a panic; ignorable unknown types are skipped.
func TestFSMRecordsEntriesItCannotApply(t *testing.T) {
	f, cat, reg := newTestFSM(t)
	if err := f.Register("counter", &counterMachine{typ: 2}); err != nil {
		t.Fatal(err)
	}
	if got := f.Apply(&raft.Log{Index: 1, Data: EncodeCommand(IgnorableBase+1, nil)}); got != nil {
		t.Fatalf("ignorable command returned %v", got)
	}
	for i, data := range [][]byte{
		{0x01, 0x05, 0x78}, // the 3-byte Apply that once killed every node
		{9},                // too short
		{2, 1},             // unknown envelope version
		EncodeCommand(CommandCatalog, []byte("{")),  // undecodable catalog op
		EncodeCommand(2, nil),                       // refused by its service
		EncodeCommand(77, []byte("x")),              // unknown type
		EncodeCommand(CommandCatalog, []byte("{}")), // unknown catalog op: a refused result
	} {
		got := f.Apply(&raft.Log{Index: uint64(i + 2), Data: data})
		if b, ok := got.([]byte); ok {
			res, err := catalog.DecodeResult(b)
			if err != nil || res.Err() == nil {
				t.Fatalf("entry %x: result %s, want a refusal", data, b)
			}
			continue
		}
		if ResultError(got) == nil {
			t.Fatalf("entry %x: result %v, want an error", data, got)
		}
	}
	if cat.Version() != 0 {
		t.Fatalf("catalog changed: version %d", cat.Version())
	}
	if n := counter(t, f.failures.WithLabelValues(failDecode)); n != 3 {
		t.Errorf("undecodable failures = %v, want 3", n)
	}
	if n := counter(t, f.failures.WithLabelValues(failUnknownType)); n != 2 {
		t.Errorf("unknown type failures = %v, want 2", n)
	}
	if n := counter(t, f.failures.WithLabelValues(failRefused)); n != 1 {
		t.Errorf("refused failures = %v, want 1", n)
	}
	if _, err := reg.Gather(); err != nil {
		t.Fatal(err)
	}
}

func TestFSMValidateRefusesWhatApplyWouldRefuse(t *testing.T) {
	f, _, _ := newTestFSM(t)
	if err := f.Register("counter", &counterMachine{typ: 2}); err != nil {
		t.Fatal(err)
	}
	good, _ := catalog.Op{Type: catalog.OpCreateAccount, Account: &catalog.Account{ID: "b"}}.Encode()
	if err := f.Validate(EncodeCommand(CommandCatalog, good), "n1"); err != nil {
		t.Fatalf("valid catalog op refused: %v", err)
	}
	if err := f.Validate(EncodeCommand(2, []byte{1}), "n1"); err != nil {
		t.Fatalf("valid service command refused: %v", err)
	}
	longID, _ := catalog.Op{Type: catalog.OpCreateAccount, Account: &catalog.Account{ID: string(make([]byte, 65))}}.Encode()
	badKind, _ := catalog.Op{Type: catalog.OpCreateResource, Resource: &catalog.Resource{
		Kind: "volume", AccountID: "a", ID: "i", Name: "x"}}.Encode()
	for _, cmd := range [][]byte{
		{0x01, 0x05, 0x78}, {9}, EncodeCommand(CommandCatalog, []byte("{")), EncodeCommand(CommandCatalog, []byte("{}")),
		EncodeCommand(CommandCatalog, longID), EncodeCommand(CommandCatalog, badKind),
		EncodeCommand(2, nil), EncodeCommand(77, []byte("x")), make([]byte, MaxCommandBytes+1),
	} {
		if err := f.Validate(cmd, "n1"); err == nil {
			t.Errorf("Validate(%.20x) = nil, want an error", cmd)
		}
	}
}

func TestFSMRegisterRefusesClashes(t *testing.T) {
	f, _, _ := newTestFSM(t)
	if err := f.Register("a", &counterMachine{typ: 2}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		typ  uint8
	}{{"b", 2}, {"a", 3}, {"catalog", 4}, {"c", 1}, {"d", 128}} {
		if err := f.Register(tc.name, &counterMachine{typ: tc.typ}); err == nil {
			t.Errorf("Register(%s, %d) = nil, want a clash", tc.name, tc.typ)
		}
	}
}

func snapshotBytes(t *testing.T, f *FSM) []byte {
	t.Helper()
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	sink := &memSink{}
	if err := snap.Persist(sink); err != nil {
		t.Fatal(err)
	}
	return sink.Bytes()
}

func TestFSMSnapshotRestoresEverySection(t *testing.T) {
	f, _, _ := newTestFSM(t)
	c1, c2 := &counterMachine{typ: 2}, &counterMachine{typ: 3}
	_ = f.Register("one", c1)
	_ = f.Register("two", c2)
	f.Apply(catalogEntry(t, 1, catalog.Op{Type: catalog.OpInit, Account: &catalog.Account{ID: "a"}}))
	f.Apply(&raft.Log{Index: 2, Data: EncodeCommand(2, []byte{7})})
	f.Apply(&raft.Log{Index: 3, Data: EncodeCommand(3, []byte{40, 2})})
	b := snapshotBytes(t, f)
	if !bytes.HasPrefix(b, []byte(snapshotMagic)) {
		t.Fatalf("snapshot does not start with its magic: %q", b[:8])
	}

	g, cat2, _ := newTestFSM(t)
	d1, d2 := &counterMachine{typ: 2}, &counterMachine{typ: 3}
	_ = g.Register("one", d1)
	_ = g.Register("two", d2)
	if err := g.Restore(io.NopCloser(bytes.NewReader(b))); err != nil {
		t.Fatal(err)
	}
	if a, ok := cat2.DefaultAccount(); !ok || a.ID != "a" || cat2.Version() != 1 {
		t.Fatalf("restored catalog: %+v %v v=%d", a, ok, cat2.Version())
	}
	if d1.total != 7 || d2.total != 42 {
		t.Fatalf("restored sections: %d %d, want 7 42", d1.total, d2.total)
	}
	if f.AppliedIndex() != 3 || g.AppliedIndex() != 3 {
		t.Fatalf("applied index %d, restored %d; want 3", f.AppliedIndex(), g.AppliedIndex())
	}
	// A node without one of the services refuses the snapshot rather than
	// diverge silently.
	h, _, _ := newTestFSM(t)
	_ = h.Register("one", &counterMachine{typ: 2})
	if err := h.Restore(io.NopCloser(bytes.NewReader(b))); err == nil {
		t.Fatal("restore with an unknown section succeeded")
	}
	// A newer format is refused by name.
	newer := append([]byte(snapshotMagic), 2)
	if err := g.Restore(io.NopCloser(bytes.NewReader(newer))); err == nil {
		t.Fatal("restore of format 2 succeeded")
	}
}

// TestFSMRestoresFormat0Snapshot restores a snapshot written before
// sections existed (the catalog's JSON alone), as a node upgraded from that
// release finds on disk or receives from a peer.
func TestFSMRestoresFormat0Snapshot(t *testing.T) {
	b, err := os.ReadFile("testdata/snapshot-format0.json")
	if err != nil {
		t.Fatal(err)
	}
	f, cat, _ := newTestFSM(t)
	if err := f.Restore(io.NopCloser(bytes.NewReader(b))); err != nil {
		t.Fatal(err)
	}
	if a, ok := cat.DefaultAccount(); !ok || a.ID != "acct0" || cat.Version() != 3 || f.AppliedIndex() != 3 {
		t.Fatalf("restored catalog: %+v %v v=%d", a, ok, cat.Version())
	}
	if _, ok := cat.Resource(catalog.KindKVNamespace, "acct0", "ns1"); !ok {
		t.Fatal("namespace ns1 missing after restore")
	}
	if _, ok := cat.TokenByHash(catalog.HashToken("ci")); !ok {
		t.Fatal("token tok2 missing after restore")
	}
	// And the restored state snapshots in the current format, unchanged.
	g, cat2, _ := newTestFSM(t)
	if err := g.Restore(io.NopCloser(bytes.NewReader(snapshotBytes(t, f)))); err != nil {
		t.Fatal(err)
	}
	var x, y bytes.Buffer
	_ = cat.Snapshot(&x)
	_ = cat2.Snapshot(&y)
	if !bytes.Equal(x.Bytes(), y.Bytes()) {
		t.Fatal("catalog changed across a format 0 -> 1 round trip")
	}
}

// FuzzFSMApply feeds arbitrary entries to two state machines: neither may
// panic, and both must end in the same state.
func FuzzFSMApply(f *testing.F) {
	f.Add([]byte{0x01, 0x05, 0x78})
	f.Add(EncodeCommand(CommandCatalog, []byte(`{"type":"create_account","account":{"id":"a"}}`)))
	f.Add(EncodeCommand(2, []byte{1, 2}))
	f.Fuzz(func(t *testing.T, data []byte) {
		var snaps [2][]byte
		for i := range snaps {
			fsm, cat, _ := newTestFSM(t)
			_ = fsm.Register("counter", &counterMachine{typ: 2})
			_ = fsm.Validate(data, "n1")
			fsm.Apply(&raft.Log{Index: 1, Data: data})
			fsm.Apply(&raft.Log{Index: 2, Data: data})
			var b bytes.Buffer
			_ = cat.Snapshot(&b)
			snaps[i] = b.Bytes()
		}
		if !bytes.Equal(snaps[0], snaps[1]) {
			t.Fatal("two state machines diverged on the same entries")
		}
	})
}

type memSink struct{ bytes.Buffer }

func (s *memSink) ID() string    { return "mem" }
func (s *memSink) Cancel() error { return nil }
func (s *memSink) Close() error  { return nil }

func counter(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
