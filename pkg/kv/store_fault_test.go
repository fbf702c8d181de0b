package kv

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/edgeplane/edgeplane/pkg/hlc"
	"github.com/edgeplane/edgeplane/pkg/storage"
)

// TestStoreTruncatedWALTailIsCounted cuts the end off the WAL of a store
// that was not closed (as after kill -9): the store opens, counts the
// repair in edge_storage_wal_tail_repairs_total and keeps every entry
// before the cut.
func TestStoreTruncatedWALTailIsCounted(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenStore(StoreConfig{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n = 20
	for i := range n {
		e := Entry{Namespace: "ns", Key: fmt.Sprintf("k%02d", i), Value: []byte("v"),
			Version: Version{HLC: hlc.New(int64(i+1), 0), Node: "a"}}
		if _, err := s.Apply([]Entry{e}); err != nil {
			t.Fatal(err)
		}
	}
	// Copy the open store's files (what kill -9 leaves), then cut the
	// last bytes of the last record off the newest log.
	crashed := t.TempDir()
	var wal string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(crashed, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(e.Name(), ".log") {
			wal = max(wal, e.Name())
		}
	}
	b, _ := os.ReadFile(filepath.Join(crashed, wal))
	if err := os.Truncate(filepath.Join(crashed, wal), int64(len(bytes.TrimRight(b, "\x00"))-5)); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	s2, err := OpenStore(StoreConfig{Dir: crashed, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	mfs, _ := reg.Gather()
	repairs := -1.0
	for _, mf := range mfs {
		if mf.GetName() == "edge_storage_wal_tail_repairs_total" {
			repairs = mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	if repairs != 1 {
		t.Fatalf("repairs counted: %v, want 1", repairs)
	}
	for i := range n - 1 {
		if _, ok, err := s2.Get("ns", fmt.Sprintf("k%02d", i)); err != nil || !ok {
			t.Fatalf("k%02d lost: %v %v", i, ok, err)
		}
	}
}

func TestStoreWriteFailedRaisesDiskFaults(t *testing.T) {
	var got []error
	s := &Store{dir: "/data/kv", onFatal: func(err error) { got = append(got, err) }}
	err := s.writeFailed("commit", &os.PathError{Op: "write", Path: "000001.log", Err: syscall.ENOSPC})
	if err == nil || len(got) != 1 {
		t.Fatalf("disk full: err %v, fatal %v", err, got)
	}
	var fe *storage.FatalError
	if !errors.As(got[0], &fe) || fe.Path != "/data/kv" {
		t.Fatalf("fatal error %v does not name the store", got[0])
	}
	_ = s.writeFailed("commit", errors.New("closed"))
	if len(got) != 1 {
		t.Fatal("an error the disk did not cause was raised as fatal")
	}
}
