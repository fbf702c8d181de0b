package replication

import (
	"errors"
	"fmt"
)

// envelopeVersion is the first byte of every command in the Raft log.
const envelopeVersion byte = 1

// CommandType says which state a command changes.
type CommandType uint8

// Command types. A type at or above IgnorableBase may be skipped by a node
// that does not know it (so a rolling upgrade can introduce it); an unknown
// type below it stops the node, since applying the rest of the log without
// it would diverge.
const (
	CommandCatalog CommandType = 1

	IgnorableBase CommandType = 128
)

// ErrCorruptCommand reports a log entry that cannot be decoded.
var ErrCorruptCommand = errors.New("corrupt command")

// ErrUnknownCommand reports a command type (or snapshot section) no part
// of this node owns.
var ErrUnknownCommand = errors.New("unknown command type")

// MaxCommandBytes bounds one command: a D1 batch or import is the largest.
const MaxCommandBytes = 64 << 20

// EncodeCommand wraps a payload in the versioned envelope.
func EncodeCommand(t CommandType, payload []byte) []byte {
	b := make([]byte, 0, len(payload)+2)
	b = append(b, envelopeVersion, byte(t))
	return append(b, payload...)
}

// DecodeCommand splits an envelope into its type and payload.
func DecodeCommand(b []byte) (CommandType, []byte, error) {
	if len(b) < 2 {
		return 0, nil, fmt.Errorf("decode command of %d bytes: %w", len(b), ErrCorruptCommand)
	}
	if b[0] != envelopeVersion {
		return 0, nil, fmt.Errorf("decode command: envelope version %d: %w", b[0], ErrCorruptCommand)
	}
	return CommandType(b[1]), b[2:], nil
}
