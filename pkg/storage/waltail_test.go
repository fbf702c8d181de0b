package storage

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/hashicorp/raft"
	raftwal "github.com/hashicorp/raft-wal"
	"github.com/hashicorp/raft-wal/metadb"
	"github.com/prometheus/client_golang/prometheus"
)

// copyDir copies the regular files of src into a new directory: the state
// a kill -9 would leave (everything written, nothing closed).
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func newestWithSuffix(t *testing.T, dir, suffix string) string {
	t.Helper()
	var names []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), suffix) {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		t.Fatalf("no *%s in %s", suffix, dir)
	}
	return filepath.Join(dir, slices.Max(names))
}

// dataEnd is the offset after the last non-zero byte of path.
func dataEnd(t *testing.T, path string) int64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return int64(len(bytes.TrimRight(b, "\x00")))
}

func TestPebbleTruncatedWALTail(t *testing.T) {
	dir := t.TempDir()
	db, err := OpenPebble(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const n = 100
	for i := range n {
		if err := db.Set(fmt.Appendf(nil, "k%03d", i), bytes.Repeat([]byte("v"), 100), pebble.Sync); err != nil {
			t.Fatal(err)
		}
	}
	crashed := copyDir(t, dir)
	if tail, err := CheckPebbleWAL(crashed); err != nil || tail != nil {
		t.Fatalf("intact crash copy: tail %+v, err %v", tail, err)
	}
	damaged := copyDir(t, dir)
	wal := newestWithSuffix(t, damaged, ".log")
	if err := os.Truncate(wal, dataEnd(t, wal)-10); err != nil {
		t.Fatal(err)
	}
	tail, err := CheckPebbleWAL(damaged)
	if err != nil {
		t.Fatal(err)
	}
	if tail == nil || tail.File != wal || tail.Records != n-1 || tail.DroppedBytes() <= 0 {
		t.Fatalf("truncated tail: %+v", tail)
	}
	reg := prometheus.NewRegistry()
	db2, err := OpenPebbleWith(PebbleConfig{Dir: damaged, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if got := walTailRepairCount(t, reg, "kv"); got != 1 {
		t.Fatalf("repairs counted: %v", got)
	}
	for i := range n - 1 {
		if _, c, err := db2.Get(fmt.Appendf(nil, "k%03d", i)); err != nil {
			t.Fatalf("k%03d lost: %v", i, err)
		} else {
			c.Close()
		}
	}
}

func TestPebbleCleanCloseHasNoDamagedTail(t *testing.T) {
	dir := t.TempDir()
	for round := range 3 {
		db, err := OpenPebble(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 50 {
			if err := db.Set(fmt.Appendf(nil, "r%d-%d", round, i), []byte("v"), pebble.Sync); err != nil {
				t.Fatal(err)
			}
		}
		if round == 1 {
			if err := db.Flush(); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if tail, err := CheckPebbleWAL(dir); err != nil || tail != nil {
			t.Fatalf("round %d: clean close reported %+v, %v", round, tail, err)
		}
	}
}

// openRaftWAL opens a raft-wal log in dir with its own meta store.
func openRaftWAL(t *testing.T, dir string) (*raftwal.WAL, *metadb.BoltMetaDB) {
	t.Helper()
	meta := &metadb.BoltMetaDB{}
	w, err := raftwal.Open(dir, raftwal.WithMetaStore(meta))
	if err != nil {
		t.Fatal(err)
	}
	return w, meta
}

func TestRaftTruncatedWALTail(t *testing.T) {
	dir := t.TempDir()
	w, meta := openRaftWAL(t, dir)
	const n = 50
	for i := 1; i <= n; i++ {
		if err := w.StoreLog(&raft.Log{Index: uint64(i), Term: 1, Type: raft.LogCommand, Data: bytes.Repeat([]byte("d"), 64)}); err != nil {
			t.Fatal(err)
		}
	}
	_ = w.Close()
	_ = meta.Close()
	if tail, err := CheckRaftWAL(dir); err != nil || tail != nil {
		t.Fatalf("intact log: %+v %v", tail, err)
	}
	if err := CheckRaftMeta(dir); err != nil {
		t.Fatalf("intact meta: %v", err)
	}
	seg := newestWithSuffix(t, dir, ".wal")
	if err := os.Truncate(seg, dataEnd(t, seg)-20); err != nil {
		t.Fatal(err)
	}
	tail, err := CheckRaftWAL(dir)
	if err != nil {
		t.Fatal(err)
	}
	if tail == nil || tail.File != seg || tail.Records >= n || tail.Records < n-2 {
		t.Fatalf("truncated raft tail: %+v", tail)
	}
	t.Logf("report: %v", tail.LogArgs())
	if tail.Dropped < 1 {
		t.Fatalf("the entry the cut went through is not counted as dropped: %+v", tail)
	}
	w, meta = openRaftWAL(t, dir)
	defer meta.Close()
	defer w.Close()
	last, _ := w.LastIndex()
	if last != uint64(tail.Records) {
		t.Fatalf("raft-wal recovered to %d, the check said %d intact entries", last, tail.Records)
	}
}

func TestRaftDamagedMetaIsAnError(t *testing.T) {
	dir := t.TempDir()
	w, meta := openRaftWAL(t, dir)
	if err := w.StoreLog(&raft.Log{Index: 1, Term: 1, Data: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	_ = meta.Close()
	path := filepath.Join(dir, raftMetaFileName)
	// Two meta pages and the freelist survive; the root page (and whatever
	// bolt maps past it) is gone.
	if err := os.Truncate(path, int64(3*os.Getpagesize())); err != nil {
		t.Fatal(err)
	}
	if err := CheckRaftMeta(dir); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("truncated meta: %v, want an error naming %s", err, path)
	}
	// Without the check, bolt maps the short file and faults; the guard
	// turns the fault into an error.
	err := GuardFault(path, func() error {
		m := &metadb.BoltMetaDB{}
		w, err := raftwal.Open(dir, raftwal.WithMetaStore(m))
		if err == nil {
			_ = w.Close()
			_ = m.Close()
		}
		return err
	})
	t.Logf("open of the truncated meta without the check: %v", err)
	if err == nil {
		t.Fatal("open of a truncated meta file succeeded")
	}

	if err := os.WriteFile(path, bytes.Repeat([]byte{0xAB}, 16384), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := CheckRaftMeta(dir); err == nil || !strings.Contains(err.Error(), "bad magic") {
		t.Fatalf("garbage meta: %v", err)
	}
}

func TestGuardFaultTurnsSIGBUSIntoError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mapped")
	if err := os.WriteFile(path, make([]byte, 8192), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	mem, err := mmap(f, 8192)
	if err != nil {
		t.Skip("mmap:", err)
	}
	defer munmap(mem)
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	err = GuardFault(path, func() error {
		faultSink = mem[4096] // beyond the end of the file now: SIGBUS
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("fault: %v", err)
	}
}

var faultSink byte

// A torn write (entry frames without their commit frame, as a crash in
// the middle of an append leaves) and garbage after the last commit are
// reported; the intact entries are counted.
func TestRaftTornWriteAndGarbage(t *testing.T) {
	dir := t.TempDir()
	w, meta := openRaftWAL(t, dir)
	for i := 1; i <= 5; i++ {
		if err := w.StoreLog(&raft.Log{Index: uint64(i), Term: 1, Data: []byte("entry")}); err != nil {
			t.Fatal(err)
		}
	}
	_ = w.Close()
	_ = meta.Close()
	seg := newestWithSuffix(t, dir, ".wal")
	end := dataEnd(t, seg)
	clean, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}

	// An entry frame (type 1, length 5, padded to 8) with no commit after it.
	torn := append([]byte{1, 0, 0, 0, 5, 0, 0, 0}, []byte("torn\x00\x00\x00\x00")...)
	b := append([]byte(nil), clean...)
	copy(b[end:], torn)
	if err := os.WriteFile(seg, b, 0o600); err != nil {
		t.Fatal(err)
	}
	tail, err := CheckRaftWAL(dir)
	if err != nil || tail == nil || tail.Records != 5 || tail.Dropped != 1 {
		t.Fatalf("torn write: %+v %v", tail, err)
	}

	b = append([]byte(nil), clean...)
	copy(b[end:], []byte{0x7f, 1, 2, 3, 4, 5, 6, 7})
	if err := os.WriteFile(seg, b, 0o600); err != nil {
		t.Fatal(err)
	}
	tail, err = CheckRaftWAL(dir)
	if err != nil || tail == nil || !strings.Contains(tail.Reason, "garbage") {
		t.Fatalf("garbage: %+v %v", tail, err)
	}
	args := fmt.Sprint(tail.LogArgs())
	if !strings.Contains(args, "dropped_records 0") {
		t.Fatalf("log args %s", args)
	}
}
