package storage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// Layout names the files and folders under a node's data directory.
type Layout struct {
	Root string
}

// RaftDir holds the Raft log (raft-wal) and snapshots.
func (l Layout) RaftDir() string { return filepath.Join(l.Root, "raft") }

// AdminTokenFile holds the generated admin token (mode 0600).
func (l Layout) AdminTokenFile() string { return filepath.Join(l.Root, "admin-token") }

// lockFile is held (flock) while a process uses the directory.
func (l Layout) lockFile() string { return filepath.Join(l.Root, "LOCK") }

// ErrLocked means another process holds the data directory.
var ErrLocked = errors.New("data directory is in use by another process")

// Lock is a held data-directory lock.
type Lock struct {
	f *os.File
}

// Open creates the directory if needed and takes its lock, so a second
// edged pointed at the same directory fails fast instead of corrupting it,
// then proves the directory can hold data (see ProbeDir).
func Open(root string) (Layout, *Lock, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return Layout{}, nil, fmt.Errorf("data dir %q: %w", root, err)
	}
	l := Layout{Root: abs}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return Layout{}, nil, fmt.Errorf("create data dir: %w", err)
	}
	f, err := os.OpenFile(l.lockFile(), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return Layout{}, nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return Layout{}, nil, fmt.Errorf("data dir %s: %w", abs, ErrLocked)
		}
		return Layout{}, nil, fmt.Errorf("lock data dir %s: %w", abs, err)
	}
	lock := &Lock{f: f}
	if err := ProbeDir(abs); err != nil {
		_ = lock.Release()
		return Layout{}, nil, err
	}
	return l, lock, nil
}

// Release lets another process open the directory.
func (k *Lock) Release() error {
	if k == nil || k.f == nil {
		return nil
	}
	_ = syscall.Flock(int(k.f.Fd()), syscall.LOCK_UN)
	err := k.f.Close()
	k.f = nil
	return err
}
