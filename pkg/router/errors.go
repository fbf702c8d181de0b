package router

import (
	"errors"
)

// ErrUnreachable means the target node could not be reached over gRPC
// (dial failure, connection refused or reset, node gone).
var ErrUnreachable = errors.New("node unreachable")

// ErrPoolClosed is returned by a Pool after Close.
var ErrPoolClosed = errors.New("router: pool closed")
