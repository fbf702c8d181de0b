package storage

import (
	"errors"
	"fmt"
	"runtime/debug"
	"syscall"
)

// FatalError is a storage failure the process must not continue past: a
// write the engine could not make durable (disk full, I/O error, read-only
// file system) or an engine invariant broken by a damaged file. Path names
// the directory or file, Cause says what happened.
type FatalError struct {
	Path  string
	Cause error
}

func (e *FatalError) Error() string {
	return fmt.Sprintf("storage fault at %s: %v", e.Path, e.Cause)
}

func (e *FatalError) Unwrap() error { return e.Cause }

// FatalFunc receives a storage fault. It must return quickly and must not
// call back into the store that raised it: the daemon records the error,
// stops reporting ready and exits.
type FatalFunc func(error)

// IsDiskFault reports whether err is an operating-system error that a
// retry cannot fix while the process runs: no space or quota left, an I/O
// error, a read-only file system, or a permission denied on a file the
// store owns.
func IsDiskFault(err error) bool {
	for _, errno := range []syscall.Errno{syscall.ENOSPC, syscall.EDQUOT, syscall.EIO, syscall.EROFS, syscall.EACCES, syscall.EPERM} {
		if errors.Is(err, errno) {
			return true
		}
	}
	return false
}

// GuardFault runs fn with memory faults turned into errors: a SIGBUS or
// SIGSEGV while fn reads a memory-mapped file (a truncated or damaged
// file) becomes an error naming path instead of killing the process. It
// only covers the calling goroutine, so fn must do its mapped reads there.
func GuardFault(path string, fn func() error) (err error) {
	old := debug.SetPanicOnFault(true)
	defer func() {
		debug.SetPanicOnFault(old)
		if r := recover(); r != nil {
			if re, ok := r.(interface{ Addr() uintptr }); ok {
				err = fmt.Errorf("%s is damaged: memory fault reading it at address %#x: %v", path, re.Addr(), r)
				return
			}
			err = fmt.Errorf("%s is damaged: %v", path, r)
		}
	}()
	return fn()
}
