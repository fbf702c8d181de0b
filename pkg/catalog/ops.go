package catalog

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/edgeplane/edgeplane/pkg/authz"
)

// OpType names a catalog operation.
type OpType string

// Catalog operations.
const (
	OpInit           OpType = "init"
	OpCreateAccount  OpType = "create_account"
	OpCreateToken    OpType = "create_token"
	OpRevokeToken    OpType = "revoke_token"
	OpRollToken      OpType = "roll_token"
	OpUpdateAccount  OpType = "update_account"
	OpDeleteAccount  OpType = "delete_account"
	OpCreateResource OpType = "create_resource"
	OpRenameResource OpType = "rename_resource"
	OpDeleteResource OpType = "delete_resource"
	// OpSetClusterID records the cluster id in a catalog initialized before
	// init carried one; the first id recorded stays.
	OpSetClusterID OpType = "set_cluster_id"
	// OpSetResourceAttrs merges Resource.Attrs into a resource's
	// attributes (an empty value removes one): D1's read_replication, a
	// Durable Object namespace's alarm webhook.
	OpSetResourceAttrs OpType = "set_resource_attrs"
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
	// ClusterID is the cluster's id, chosen once at init (OpInit,
	// OpSetClusterID).
	ClusterID string `json:"cluster_id,omitempty"`
	// Limit caps, for create_resource, the resources of the kind the
	// account may hold (0: no cap): the quota check made in order, in the
	// log, rather than on a proposer's possibly stale view.
	Limit int `json:"limit,omitempty"`
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
	// ErrInUse refuses deleting an account that still holds resources or
	// tokens.
	ErrInUse = errors.New("in use")
	// ErrQuota refuses creating a resource past its account's cap.
	ErrQuota = errors.New("quota exceeded")
)

// Result is the outcome of applying one operation, as returned to the
// proposer (possibly over the network).
type Result struct {
	// Error is empty on success, else one of "exists", "not_found",
	// "in_use", "quota", "invalid".
	Error    string    `json:"error,omitempty"`
	Message  string    `json:"message,omitempty"`
	Resource *Resource `json:"resource,omitempty"`
	Account  *Account  `json:"account,omitempty"`
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
	case "in_use":
		base = ErrInUse
	case "quota":
		base = ErrQuota
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

// Bounds of the fields of an operation, checked by Validate.
const (
	maxIDBytes   = 64
	maxNameBytes = 512
	// maxAttrValueBytes bounds one attribute's value: a URL with its
	// query (a Durable Object namespace's alarm webhook) is longer than a
	// name.
	maxAttrValueBytes = 2048
	maxAttrs          = 16
)

// Validate checks an operation's shape before it is proposed (and again on
// the leader when it arrives from another node): a known type, the fields
// that type needs, ids and names within bounds and valid UTF-8. Apply still
// refuses what conflicts with the state (a duplicate name).
func (op Op) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("catalog %s: %s: %w", op.Type, fmt.Sprintf(format, args...), ErrInvalid)
	}
	text := func(what, s string, max int, required bool) error {
		switch {
		case required && s == "":
			return bad("%s is required", what)
		case len(s) > max:
			return bad("%s is %d bytes, over %d", what, len(s), max)
		case !utf8.ValidString(s):
			return bad("%s is not valid UTF-8", what)
		}
		return nil
	}
	switch op.Type {
	case OpSetClusterID:
		return clusterID(op.ClusterID, true, bad)
	case OpUpdateAccount, OpDeleteAccount:
		if op.Account == nil {
			return bad("account is required")
		}
		return errors.Join(text("account id", op.Account.ID, maxIDBytes, true),
			text("account name", op.Account.Name, maxNameBytes, op.Type == OpUpdateAccount))
	case OpRollToken:
		if op.Token == nil {
			return bad("token is required")
		}
		if len(op.Token.Hash) != 64 {
			return bad("token hash must be 64 hex digits")
		}
		return text("token id", op.Token.ID, maxIDBytes, true)
	case OpInit, OpCreateAccount:
		if op.Account == nil {
			return bad("account is required")
		}
		if err := clusterID(op.ClusterID, false, bad); err != nil {
			return err
		}
		if err := errors.Join(text("account id", op.Account.ID, maxIDBytes, true),
			text("account name", op.Account.Name, maxNameBytes, false)); err != nil {
			return err
		}
		if op.Type == OpCreateAccount {
			return nil
		}
		if op.Token == nil {
			return nil
		}
		fallthrough
	case OpCreateToken:
		if op.Token == nil {
			return bad("token is required")
		}
		if len(op.Token.Hash) != 64 {
			return bad("token hash must be 64 hex digits")
		}
		if err := errors.Join(text("token id", op.Token.ID, maxIDBytes, true), text("token name", op.Token.Name, maxNameBytes, false),
			text("token account", op.Token.AccountID, maxIDBytes, false)); err != nil {
			return err
		}
		if len(op.Token.Policies) > 0 {
			if err := authz.Validate(op.Token.Scope()); err != nil {
				return bad("token policies: %v", err)
			}
		}
		return nil
	case OpRevokeToken:
		if op.Token == nil {
			return bad("token is required")
		}
		return text("token id", op.Token.ID, maxIDBytes, true)
	case OpCreateResource, OpRenameResource, OpDeleteResource, OpSetResourceAttrs:
		r := op.Resource
		if r == nil {
			return bad("resource is required")
		}
		if !r.Kind.valid() {
			return bad("unknown resource kind %q", r.Kind)
		}
		if len(r.Attrs) > maxAttrs {
			return bad("%d attributes, over %d", len(r.Attrs), maxAttrs)
		}
		for k, v := range r.Attrs {
			if err := errors.Join(text("attribute name", k, maxIDBytes, true), text("attribute "+k, v, maxAttrValueBytes, false)); err != nil {
				return err
			}
		}
		return errors.Join(text("account id", r.AccountID, maxIDBytes, true), text("resource id", r.ID, maxIDBytes, true),
			text("resource name", r.Name, maxNameBytes, op.Type != OpDeleteResource && op.Type != OpSetResourceAttrs))
	default:
		return bad("unknown operation")
	}
}

// clusterID checks a cluster id: 1 to 64 lowercase hex digits or dashes.
func clusterID(id string, required bool, bad func(string, ...any) error) error {
	if id == "" {
		if required {
			return bad("cluster id is required")
		}
		return nil
	}
	if len(id) > maxIDBytes {
		return bad("cluster id is %d bytes, over %d", len(id), maxIDBytes)
	}
	for _, r := range id {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r == '-') {
			return bad("cluster id %q holds %q: only lowercase hex digits and dashes", id, r)
		}
	}
	return nil
}
