package storage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// probeBytes is how much ProbeDir writes: enough that a file system with no
// free block left fails, small enough to cost nothing.
const probeBytes = 64 << 10

// ProbeDir creates dir if needed and proves it can hold data: it creates a
// file, writes and fsyncs it, then removes it. An unwritable, read-only or
// full directory is reported here, in milliseconds and naming the path,
// rather than inside a storage engine that would retry forever.
func ProbeDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("data dir %s: cannot create it: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return fmt.Errorf("data dir %s is not writable: %w", dir, err)
	}
	name := f.Name()
	defer os.Remove(name)
	_, werr := f.Write(make([]byte, probeBytes))
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		return fmt.Errorf("data dir %s cannot hold data (write and fsync of a %d KiB probe failed): %w",
			dir, probeBytes>>10, err)
	}
	if err := os.Remove(name); err != nil {
		return fmt.Errorf("data dir %s: remove probe %s: %w", dir, filepath.Base(name), err)
	}
	return nil
}
