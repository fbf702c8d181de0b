package storage

import (
	"errors"
	"testing"
)

func TestOpenLocksTheDirectory(t *testing.T) {
	dir := t.TempDir()
	l, lock, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if l.RaftDir() == "" || l.AdminTokenFile() == "" {
		t.Fatal("empty layout paths")
	}
	if _, _, err := Open(dir); !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
	if err := lock.Release(); err != nil {
		t.Fatal(err)
	}
	_, lock2, err := Open(dir)
	if err != nil {
		t.Fatalf("reopen after release: %v", err)
	}
	_ = lock2.Release()
}
