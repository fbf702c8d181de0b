package objstore

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// OpKind is the kind of one storage operation.
type OpKind uint8

// Operation kinds. Their numbers travel in DOOp.kind and never change.
const (
	// OpPut sets Key to Value (the value's JSON bytes).
	OpPut OpKind = 1
	// OpDelete removes Key (absent keys are no error).
	OpDelete OpKind = 2
	// OpDeleteAll removes every key of the object (not the alarm).
	OpDeleteAll OpKind = 3
	// OpSetAlarm sets the object's alarm: Value is 8 bytes, big-endian
	// milliseconds since the Unix epoch; 0 clears it.
	OpSetAlarm OpKind = 4
)

// String names the kind for errors and logs.
func (k OpKind) String() string {
	switch k {
	case OpPut:
		return "put"
	case OpDelete:
		return "delete"
	case OpDeleteAll:
		return "deleteAll"
	case OpSetAlarm:
		return "setAlarm"
	}
	return fmt.Sprintf("op(%d)", uint8(k))
}

// Op is one storage operation. A Commit applies a list of them atomically,
// in order.
type Op struct {
	Kind  OpKind
	Key   string
	Value []byte
}

// AlarmOp returns the Op that sets the alarm to at (ms since the epoch;
// 0 clears it).
func AlarmOp(at int64) Op {
	v := make([]byte, 8)
	binary.BigEndian.PutUint64(v, uint64(at))
	return Op{Kind: OpSetAlarm, Value: v}
}

// ListOptions selects the entries List returns, with the semantics of
// Durable Objects' storage.list: keys in [Start, End) (StartAfter excludes
// its key and wins over Start when both are set), beginning with Prefix,
// in ascending UTF-8 byte order (descending with Reverse), at most Limit of
// them (0: no limit).
type ListOptions struct {
	Start, StartAfter, End, Prefix string
	Reverse                        bool
	Limit                          int
}

// Entry is one key of an object and its value.
type Entry struct {
	Key   string
	Value []byte
}

// ObjectAlarm is an object with an alarm set, as held by this node.
type ObjectAlarm struct {
	// Obj is the full object key, "nsID/objectID".
	Obj string
	// At is the alarm time, ms since the Unix epoch.
	At int64
}

// Limits of the stored data, the same as the public API's.
const (
	// MaxKeyBytes bounds a key (UTF-8 bytes).
	MaxKeyBytes = 2048
	// MaxEntryBytes bounds a key plus its value.
	MaxEntryBytes = 2 << 20
	// MaxOpsPerCommit bounds the operations of one Commit (128 keys per
	// call, plus room for a transaction's alarm and deleteAll).
	MaxOpsPerCommit = 256
	// MaxCommitBytes bounds the keys and values of one Commit together,
	// so that one Accept message stays under router.MaxMessageBytes.
	MaxCommitBytes = 32 << 20
	// DefaultStorageCap is Options.StorageCap's default: 1 GiB per object.
	DefaultStorageCap = 1 << 30
	// MaxReplicas bounds a replica set.
	MaxReplicas = 16
	// maxNodeIDBytes bounds a node id.
	maxNodeIDBytes = 128
	// maxNamespaceIDBytes bounds the namespace part of an object key.
	maxNamespaceIDBytes = 64
	// objectIDHexLen is the length of an object id: 64 lowercase hex digits.
	objectIDHexLen = 64
)

// Errors of the package. Check them with errors.Is.
var (
	// ErrSuperseded: a newer ballot exists for the object; another node is
	// (or is becoming) its writer. The caller must stop serving it.
	ErrSuperseded = errors.New("objstore: superseded by a newer ballot")
	// ErrNoQuorum: not enough replicas answered in time.
	ErrNoQuorum = errors.New("objstore: no quorum of replicas")
	// ErrClosed: the Object or Store is closed, or the Object was broken by
	// a failed Commit and must be reopened.
	ErrClosed = errors.New("objstore: closed")
	// ErrInvalid: an operation, key, value or request breaks a limit or a
	// rule. Wrapped errors say which.
	ErrInvalid = errors.New("objstore: invalid")
	// ErrStorageFull: the Commit would grow the object past its storage cap.
	ErrStorageFull = errors.New("objstore: object storage cap exceeded")
)
