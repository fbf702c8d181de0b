package consensus

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	"github.com/hashicorp/raft-wal/metadb"

	"github.com/edgeplane/edgeplane/pkg/storage"
)

type failingLogs struct {
	raft.LogStore
	err error
}

func (f failingLogs) StoreLogs([]*raft.Log) error { return f.err }

func TestFatalLogStoreRaisesDiskFaults(t *testing.T) {
	var got []error
	s := withFatal(failingLogs{err: &os.PathError{Op: "write", Path: "seg", Err: syscall.ENOSPC}}, "/d/raft/wal",
		func(err error) { got = append(got, err) })
	if err := s.StoreLogs(nil); err == nil {
		t.Fatal("error swallowed")
	}
	var fe *storage.FatalError
	if len(got) != 1 || !errors.As(got[0], &fe) || fe.Path != "/d/raft/wal" {
		t.Fatalf("fatal errors: %v", got)
	}
	s = withFatal(failingLogs{err: errors.New("closed")}, "/d", func(err error) { got = append(got, err) })
	_ = s.StoreLogs(nil)
	if len(got) != 1 {
		t.Fatal("a non-disk error was raised as fatal")
	}
	if l := withFatal(failingLogs{}, "/d", nil); l != (failingLogs{}) {
		t.Fatal("nil OnFatal should leave the store unwrapped")
	}
}

func TestOpenLogRefusesDamagedMeta(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "wal-meta.db"), []byte("not a bolt file at all"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := openLog(dir, hclog.NewNullLogger(), &metadb.BoltMetaDB{}, nil, nil)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "wal-meta.db")) {
		t.Fatalf("damaged meta: %v", err)
	}
}
