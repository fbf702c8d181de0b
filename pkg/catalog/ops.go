package catalog

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// OpType names a catalog operation.
type OpType string

// Catalog operations.
const (
	OpInit           OpType = "init"
	OpCreateAccount  OpType = "create_account"
	OpCreateToken    OpType = "create_token"
	OpRevokeToken    OpType = "revoke_token"
	OpCreateResource OpType = "create_resource"
	OpRenameResource OpType = "rename_resource"
	OpDeleteResource OpType = "delete_resource"
)

// Op is one catalog change, as carried in the Raft log. Which fields count
// depends on Type; At is the proposer's clock, used for every timestamp the
// operation sets.
type Op struct {
	Type     OpType    `json:"type"`
	At       time.Time `json:"at"`
	Account  *Account  `json:"account,omitempty"`
	Token    *Token    `json:"token,omitempty"`
	Resource *Resource `json:"resource,omitempty"`
}

// Encode serializes an operation for the log.
func (op Op) Encode() ([]byte, error) {
	b, err := json.Marshal(op)
	if err != nil {
		return nil, fmt.Errorf("catalog: encode %s: %w", op.Type, err)
	}
	return b, nil
}

// DecodeOp parses an operation from the log.
func DecodeOp(b []byte) (Op, error) {
	var op Op
	if err := json.Unmarshal(b, &op); err != nil {
		return op, fmt.Errorf("catalog: decode op: %w", err)
	}
	return op, nil
}

// Sentinel errors of catalog operations. They travel between nodes inside
// a Result, so check them with errors.Is.
var (
	ErrExists   = errors.New("already exists")
	ErrNotFound = errors.New("not found")
	ErrInvalid  = errors.New("invalid operation")
)

// Result is the outcome of applying one operation, as returned to the
// proposer (possibly over the network).
type Result struct {
	// Error is empty on success, else one of "exists", "not_found", "invalid".
	Error    string    `json:"error,omitempty"`
	Message  string    `json:"message,omitempty"`
	Resource *Resource `json:"resource,omitempty"`
	Version  uint64    `json:"version"`
}

// Err turns the result back into a Go error wrapping a sentinel.
func (r Result) Err() error {
	var base error
	switch r.Error {
	case "":
		return nil
	case "exists":
		base = ErrExists
	case "not_found":
		base = ErrNotFound
	default:
		base = ErrInvalid
	}
	return fmt.Errorf("%s: %w", r.Message, base)
}

// DecodeResult parses the bytes the state machine returned for an operation.
func DecodeResult(b []byte) (Result, error) {
	var r Result
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("catalog: decode result: %w", err)
	}
	return r, nil
}

func failure(code string, format string, args ...any) Result {
	return Result{Error: code, Message: fmt.Sprintf(format, args...)}
}
