package kv

import (
	"fmt"

	"github.com/edgeplane/edgeplane/pkg/storage"
)

// writeFailed wraps a failed write and, when the disk caused it (full,
// I/O error, read-only), raises it as a storage fault: the next write
// would fail the same way, and a node that keeps answering but cannot
// store anything must stop and say so rather than fail every request.
func (s *Store) writeFailed(op string, err error) error {
	if storage.IsDiskFault(err) && s.onFatal != nil {
		s.onFatal(&storage.FatalError{Path: s.dir, Cause: fmt.Errorf("kv %s: %w", op, err)})
	}
	return fmt.Errorf("kv store: %s: %w", op, err)
}
