package storage

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// fullFS is a pebble file system whose writes fail with ENOSPC once full
// is set, as a disk that filled up at runtime.
type fullFS struct {
	vfs.FS
	full *atomic.Bool
}

func (fs fullFS) wrap(f vfs.File, err error) (vfs.File, error) {
	if err != nil {
		return nil, err
	}
	return fullFile{File: f, full: fs.full}, nil
}

func (fs fullFS) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	if fs.full.Load() {
		return nil, &os.PathError{Op: "create", Path: name, Err: syscall.ENOSPC}
	}
	return fs.wrap(fs.FS.Create(name, c))
}

func (fs fullFS) OpenReadWrite(name string, c vfs.DiskWriteCategory, o ...vfs.OpenOption) (vfs.File, error) {
	return fs.wrap(fs.FS.OpenReadWrite(name, c, o...))
}

func (fs fullFS) ReuseForWrite(old, new string, c vfs.DiskWriteCategory) (vfs.File, error) {
	return fs.wrap(fs.FS.ReuseForWrite(old, new, c))
}

type fullFile struct {
	vfs.File
	full *atomic.Bool
}

func (f fullFile) Write(p []byte) (int, error) {
	if f.full.Load() {
		return 0, syscall.ENOSPC
	}
	return f.File.Write(p)
}

func (f fullFile) WriteAt(p []byte, off int64) (int, error) {
	if f.full.Load() {
		return 0, syscall.ENOSPC
	}
	return f.File.WriteAt(p, off)
}

func (f fullFile) Sync() error {
	if f.full.Load() {
		return syscall.ENOSPC
	}
	return f.File.Sync()
}

func (f fullFile) SyncData() error { return f.Sync() }

func (f fullFile) SyncTo(n int64) (bool, error) {
	if f.full.Load() {
		return false, syscall.ENOSPC
	}
	return f.File.SyncTo(n)
}

// TestPebbleDiskFullIsFatal fills the disk under a running database: the
// next synced write must raise OnFatal with the directory and ENOSPC
// instead of panicking into the caller.
func TestPebbleDiskFullIsFatal(t *testing.T) {
	dir := t.TempDir()
	var full atomic.Bool
	fatal := make(chan error, 4)
	db, err := OpenPebbleWith(PebbleConfig{
		Dir: dir, FS: fullFS{FS: vfs.Default, full: &full},
		OnFatal: func(err error) {
			select {
			case fatal <- err:
			default:
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Set([]byte("before"), []byte("v"), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	full.Store(true)
	// The writer blocks for good once pebble gives up: run it aside.
	go func() { _ = db.Set([]byte("after"), []byte("v"), pebble.Sync) }()
	select {
	case err := <-fatal:
		var fe *FatalError
		if !errors.As(err, &fe) || fe.Path != dir {
			t.Fatalf("fatal error %v does not name %s", err, dir)
		}
		if !strings.Contains(err.Error(), "no space") {
			t.Fatalf("fatal error %q does not give the cause", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no fatal error 10 s after the disk filled up")
	}
	// The database is wedged on purpose; it is not closed.
}

func TestIsDiskFault(t *testing.T) {
	for _, err := range []error{syscall.ENOSPC, &os.PathError{Op: "write", Path: "x", Err: syscall.EIO}, syscall.EROFS} {
		if !IsDiskFault(err) {
			t.Errorf("%v: not a disk fault", err)
		}
	}
	if IsDiskFault(errors.New("boom")) || IsDiskFault(nil) {
		t.Error("plain error counted as a disk fault")
	}
}

func TestProbeDir(t *testing.T) {
	if err := ProbeDir(filepath.Join(t.TempDir(), "a", "b")); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	err := ProbeDir(filepath.Join(file, "kv"))
	if err == nil || !strings.Contains(err.Error(), file) {
		t.Fatalf("probe under a file: %v, want an error naming %s", err, file)
	}
	ro := t.TempDir()
	if err := os.Chmod(ro, 0o500); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(ro, 0o700)
	if os.Geteuid() != 0 { // root writes anyway
		if err := ProbeDir(ro); err == nil || !strings.Contains(err.Error(), ro) {
			t.Fatalf("probe of read-only dir: %v", err)
		}
	}
}

func TestClaimIdentity(t *testing.T) {
	l := Layout{Root: t.TempDir()}
	id, err := l.ClaimIdentity("n1")
	if err != nil || id.NodeID != "n1" {
		t.Fatalf("first claim: %+v %v", id, err)
	}
	if _, err := l.ClaimIdentity("n1"); err != nil {
		t.Fatalf("same node again: %v", err)
	}
	_, err = l.ClaimIdentity("n2")
	if !errors.Is(err, ErrWrongNode) || !strings.Contains(err.Error(), `"n1"`) || !strings.Contains(err.Error(), `"n2"`) {
		t.Fatalf("other node: %v, want ErrWrongNode naming n1 and n2", err)
	}
	if err := l.SetClusterID("c1"); err != nil {
		t.Fatal(err)
	}
	if err := l.SetClusterID("c2"); err == nil {
		t.Fatal("cluster id changed")
	}
	if err := os.WriteFile(l.IdentityFile(), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := l.ClaimIdentity("n1"); err == nil || !strings.Contains(err.Error(), l.IdentityFile()) {
		t.Fatalf("damaged file: %v", err)
	}
}

func TestWALTailCounterShared(t *testing.T) {
	reg := prometheus.NewRegistry()
	CountWALTailRepair(reg, "kv", true)
	CountWALTailRepair(reg, "raft", false)
	CountWALTailRepair(reg, "raft", true)
	if got := walTailRepairCount(t, reg, "kv"); got != 1 {
		t.Fatalf("kv = %v", got)
	}
	if got := walTailRepairCount(t, reg, "raft"); got != 1 {
		t.Fatalf("raft = %v", got)
	}
}

func walTailRepairCount(t *testing.T, reg prometheus.Gatherer, store string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "edge_storage_wal_tail_repairs_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if labelIs(m, "store", store) {
				return m.GetCounter().GetValue()
			}
		}
	}
	return -1
}

func labelIs(m *dto.Metric, name, value string) bool {
	for _, l := range m.GetLabel() {
		if l.GetName() == name && l.GetValue() == value {
			return true
		}
	}
	return false
}

// stallFS is a file system whose syncs hang once stalled is set, as a
// disk that stopped answering.
type stallFS struct {
	vfs.FS
	stalled *atomic.Bool
}

func (fs stallFS) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.Create(name, c)
	if err != nil {
		return nil, err
	}
	return stallFile{File: f, stalled: fs.stalled}, nil
}

func (fs stallFS) ReuseForWrite(old, new string, c vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.ReuseForWrite(old, new, c)
	if err != nil {
		return nil, err
	}
	return stallFile{File: f, stalled: fs.stalled}, nil
}

type stallFile struct {
	vfs.File
	stalled *atomic.Bool
}

func (f stallFile) Sync() error {
	if f.stalled.Load() {
		select {}
	}
	return f.File.Sync()
}

func (f stallFile) SyncData() error { return f.Sync() }

func (f stallFile) SyncTo(n int64) (bool, error) {
	if f.stalled.Load() {
		select {}
	}
	return f.File.SyncTo(n)
}

// TestPebbleDiskStallIsFatal: a WAL sync that never returns is reported
// by pebble's disk health check and, past DiskStallLimit, raised as fatal
// (writes would otherwise hang forever with the node reporting ready).
func TestPebbleDiskStallIsFatal(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for pebble's 5 s slow-disk threshold")
	}
	dir := t.TempDir()
	var stalled atomic.Bool
	fatal := make(chan error, 8)
	db, err := OpenPebbleWith(PebbleConfig{
		Dir: dir, FS: stallFS{FS: vfs.Default, stalled: &stalled}, DiskStallLimit: time.Nanosecond,
		OnFatal: func(err error) {
			select {
			case fatal <- err:
			default:
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	stalled.Store(true)
	go func() { _ = db.Set([]byte("k"), []byte("v"), pebble.Sync) }()
	select {
	case err := <-fatal:
		if !strings.Contains(err.Error(), "disk stalled") {
			t.Fatalf("fatal error %q does not say the disk stalled", err)
		}
		t.Log(err)
	case <-time.After(20 * time.Second):
		t.Fatal("no fatal error 20 s into a disk stall")
	}
}
