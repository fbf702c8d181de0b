package d1

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/pkg/api/apitest"
)

// insertRow is the command that inserts row i of table t, as
// TestSnapshotRestartAndFarBehindNode sends them.
func insertRow(id string, i int) []byte {
	return command{Account: apitest.Account, DB: id, Now: 1_700_000_000_000 + int64(i), Seed: uint64(i) * 7919,
		Stmts: []cmdStmt{{SQL: "INSERT OR IGNORE INTO t(id, v) VALUES (?, randomblob(64))",
			Params: []json.RawMessage{json.RawMessage(fmt.Sprint(i))}}}}.encode()
}

// A read on a far-behind node while a snapshot restore replaces a database's
// file (the handle closed, the file not yet replaced) must not reopen the old
// file: the handle it would leave in place writes (and, with its read
// connections, reads) the old inode after the rename, so the node applies
// the next entries to the file the snapshot replaced. With read connections
// opened in the window (a checksum), the node reports the leader's applied
// index and clock (the meta rows those entries write) with other rows: the
// divergence once seen in TestSnapshotRestartAndFarBehindNode. With the
// write connection alone (any database lookup), reads see the new file stay
// at the snapshot's index for ever. The read waits for the new file instead.
func TestReadDuringRestoreDoesNotReopenTheReplacedFile(t *testing.T) {
	readers := map[string]func(m *Module, id string) error{
		"checksum": func(m *Module, id string) error { _, _, err := m.Checksums(t.Context(), id); return err },
		"lookup":   func(m *Module, id string) error { _, err := m.database(id); return err },
	}
	for name, reader := range readers {
		t.Run(name, func(t *testing.T) { readDuringRestore(t, reader) })
	}
}

// readDuringRestore runs reader on a node while a restore swaps its
// database's file in, then checks the node applies on with the leader.
func readDuringRestore(t *testing.T, reader func(m *Module, id string) error) {
	a := newTestEnv(t, Options{})
	id := a.create("db")
	a.sql(id, "CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)")
	apply := func(te *testEnv, index uint64, payload []byte) {
		t.Helper()
		out, err := te.m.ApplyCommand(index, payload)
		var res applyResult
		if err == nil {
			err = json.Unmarshal(out, &res)
		}
		if err != nil || res.Error != "" {
			t.Fatalf("apply %d: %v %s", index, err, res.Error)
		}
	}
	next := func() uint64 { a.index++; return a.index }
	for i := range 10 {
		apply(a, next(), insertRow(id, i))
	}
	// b holds the database as of row 9, then falls far behind.
	var early bytes.Buffer
	if err := a.m.Snapshot(&early); err != nil {
		t.Fatal(err)
	}
	b := twin(t, a, id)
	if err := b.m.Restore(bytes.NewReader(early.Bytes())); err != nil {
		t.Fatal(err)
	}
	for i := 200; i < 230; i++ {
		apply(a, next(), insertRow(id, i))
	}
	var snap bytes.Buffer
	if err := a.m.Snapshot(&snap); err != nil {
		t.Fatal(err)
	}

	// A reader (a query, a checksum) comes while b swaps the file in.
	read := make(chan error, 1)
	b.m.swapHook = func(string) {
		go func() {
			read <- reader(b.m, id)
		}()
		select {
		case err := <-read: // it opened the database inside the swap
			read <- err
		case <-time.After(time.Second): // it waits for the swap to end
		}
	}
	if err := b.m.Restore(bytes.NewReader(snap.Bytes())); err != nil {
		t.Fatal(err)
	}
	b.m.swapHook = nil
	if err := <-read; err != nil {
		t.Fatalf("read during the restore: %v", err)
	}

	// Three more entries, applied by both.
	for i := 300; i < 303; i++ {
		index, payload := next(), insertRow(id, i)
		apply(a, index, payload)
		apply(b, index, payload)
	}
	ia, sa, err := a.m.Checksums(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	ib, sb, err := b.m.Checksums(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if ia != ib || fmt.Sprint(sa) != fmt.Sprint(sb) {
		t.Fatalf("replicas diverged after the restore:\n a at %d: %v\n b at %d: %v", ia, sa, ib, sb)
	}
	if got := b.count(id); got != 43 {
		t.Fatalf("b has %v rows, want 43", got)
	}
}
