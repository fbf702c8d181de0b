package d1

import (
	"bytes"
	"database/sql"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgeplane/edgeplane/pkg/api/apitest"
)

// count returns the number of rows of table t in database id.
func (te *testEnv) count(id string) float64 {
	te.t.Helper()
	out := te.sql(id, "SELECT count(*) AS n FROM t")
	return out[0].Results[0]["n"].(float64)
}

// twin is a second env whose catalog knows a's database id.
func twin(t *testing.T, a *testEnv, id string) *testEnv {
	b := newTestEnv(t, Options{})
	res, _ := a.env.Cat.Resource("d1_database", apitest.Account, id)
	b.env.Cat.Catalog.Apply(100, catalogCreate(res))
	return b
}

// A prepared snapshot is the state at PrepareSnapshot, though writes
// apply before it is copied and streamed; its temporary files go at
// Release.
func TestSnapshotIsTheStateWhenPrepared(t *testing.T) {
	a := newTestEnv(t, Options{})
	id := a.create("db")
	a.sql(id, "CREATE TABLE t(v)")
	for i := range 10 {
		a.sql(id, "INSERT INTO t VALUES (?)", i)
	}
	at := a.index
	prepared, err := a.m.PrepareSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 { // applies go on while the snapshot is pending
		a.sql(id, "INSERT INTO t VALUES (?)", 100+i)
	}
	size, err := prepared.Size()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	n, err := prepared.WriteTo(&buf)
	if err != nil || n != size || int64(buf.Len()) != size {
		t.Fatalf("wrote %d of %d bytes: %v", n, size, err)
	}
	prepared.Release()
	if left, _ := filepath.Glob(filepath.Join(a.m.dir, ".snapshot-*")); len(left) != 0 {
		t.Fatalf("temporary files left after Release: %v", left)
	}

	b := twin(t, a, id)
	if err := b.m.Restore(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	if got := b.count(id); got != 10 {
		t.Fatalf("restored %v rows, want the 10 at prepare time", got)
	}
	d, _ := b.m.database(id)
	if d.applied.Load() != at {
		t.Fatalf("restored applied index %d, want %d", d.applied.Load(), at)
	}
	// The node that is already past the snapshot keeps its own file.
	if err := a.m.Restore(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	if got := a.count(id); got != 15 {
		t.Fatalf("a node past the snapshot went back to %v rows", got)
	}
}

// A section whose file does not match its hash is refused and changes
// nothing; a truncated one too.
func TestRestoreRefusesACorruptSection(t *testing.T) {
	a := newTestEnv(t, Options{})
	id := a.create("db")
	a.sql(id, "CREATE TABLE t(v)")
	a.sql(id, "INSERT INTO t VALUES (1)")
	var snap bytes.Buffer
	if err := a.m.Snapshot(&snap); err != nil {
		t.Fatal(err)
	}
	b := twin(t, a, id)
	b.sql(id, "CREATE TABLE t(v)")
	for _, bad := range [][]byte{
		flip(snap.Bytes(), snap.Len()-sha256Len-100), // a byte of the file
		snap.Bytes()[:snap.Len()-10],                 // cut short
	} {
		if err := b.m.Restore(bytes.NewReader(bad)); err == nil {
			t.Fatal("a corrupt section was restored")
		}
		if got := b.count(id); got != 0 {
			t.Fatalf("a refused restore changed the database (%v rows)", got)
		}
		if tmp, _ := filepath.Glob(filepath.Join(b.m.dir, "restore-*")); len(tmp) != 0 {
			t.Fatalf("temporary files left: %v", tmp)
		}
	}
}

const sha256Len = 32

func flip(b []byte, at int) []byte {
	c := bytes.Clone(b)
	c[at] ^= 0xff
	return c
}

// A version 1 section (an image per database, no applied index, no hash),
// as nodes wrote before, still restores.
func TestRestoreReadsVersion1(t *testing.T) {
	a := newTestEnv(t, Options{})
	id := a.create("db")
	a.sql(id, "CREATE TABLE t(v)")
	a.sql(id, "INSERT INTO t VALUES (1), (2)")
	image := filepath.Join(t.TempDir(), "image.sqlite")
	src, err := sql.Open("sqlite", dbPath(a.m.dir, id))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Exec("VACUUM INTO '" + strings.ReplaceAll(image, "'", "''") + "'"); err != nil {
		t.Fatal(err)
	}
	_ = src.Close()
	raw, err := os.ReadFile(image)
	if err != nil {
		t.Fatal(err)
	}
	v1 := binary.AppendUvarint(nil, 1)
	v1 = binary.AppendUvarint(v1, 1)
	v1 = binary.AppendUvarint(v1, uint64(len(id)))
	v1 = append(v1, id...)
	v1 = binary.AppendUvarint(v1, uint64(len(raw)))
	v1 = append(v1, raw...)

	b := twin(t, a, id)
	if err := b.m.Restore(bytes.NewReader(v1)); err != nil {
		t.Fatal(err)
	}
	if got := b.count(id); got != 2 {
		t.Fatalf("version 1 restore: %v rows", got)
	}
	if err := b.m.Restore(bytes.NewReader(binary.AppendUvarint(nil, 3))); err == nil || !strings.Contains(fmt.Sprint(err), "version 3") {
		t.Fatalf("unknown version: %v", err)
	}
}
