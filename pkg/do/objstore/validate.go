package objstore

import (
	"encoding/binary"
	"fmt"
	"unicode/utf8"
)

// MaxKeysPerCall bounds the keys of one Get, as the public API does.
const MaxKeysPerCall = 128

// Validate checks the options: valid UTF-8 keys within MaxKeyBytes, not
// both Start and StartAfter, a non-negative Limit.
func (o ListOptions) Validate() error {
	for _, k := range []string{o.Start, o.StartAfter, o.End, o.Prefix} {
		if err := ValidateKey(k); err != nil {
			return fmt.Errorf("objstore list: %w", err)
		}
	}
	if o.Start != "" && o.StartAfter != "" {
		return fmt.Errorf("objstore list: start and startAfter cannot both be set: %w", ErrInvalid)
	}
	if o.Limit < 0 {
		return fmt.Errorf("objstore list: negative limit %d: %w", o.Limit, ErrInvalid)
	}
	return nil
}

// ValidateKey checks a storage key: valid UTF-8, at most MaxKeyBytes.
func ValidateKey(k string) error {
	if len(k) > MaxKeyBytes {
		return fmt.Errorf("key of %d bytes, over %d: %w", len(k), MaxKeyBytes, ErrInvalid)
	}
	if !utf8.ValidString(k) {
		return fmt.Errorf("key is not valid UTF-8: %w", ErrInvalid)
	}
	return nil
}

// ValidateOps checks a Commit's operations: their count, kinds, keys,
// entry sizes and total size.
func ValidateOps(ops []Op) error {
	if len(ops) == 0 {
		return fmt.Errorf("no operations: %w", ErrInvalid)
	}
	if len(ops) > MaxOpsPerCommit {
		return fmt.Errorf("%d operations, over %d: %w", len(ops), MaxOpsPerCommit, ErrInvalid)
	}
	total := 0
	for i, op := range ops {
		if err := op.Validate(); err != nil {
			return fmt.Errorf("op %d: %w", i, err)
		}
		total += len(op.Key) + len(op.Value)
	}
	if total > MaxCommitBytes {
		return fmt.Errorf("operations of %d bytes, over %d: %w", total, MaxCommitBytes, ErrInvalid)
	}
	return nil
}

// Validate checks one operation.
func (op Op) Validate() error {
	switch op.Kind {
	case OpPut:
		if err := ValidateKey(op.Key); err != nil {
			return err
		}
		if n := len(op.Key) + len(op.Value); n > MaxEntryBytes {
			return fmt.Errorf("entry %q of %d bytes, over %d: %w", truncate(op.Key), n, MaxEntryBytes, ErrInvalid)
		}
	case OpDelete:
		if err := ValidateKey(op.Key); err != nil {
			return err
		}
		if len(op.Value) != 0 {
			return fmt.Errorf("delete with a value: %w", ErrInvalid)
		}
	case OpDeleteAll:
		if op.Key != "" || len(op.Value) != 0 {
			return fmt.Errorf("deleteAll with a key or value: %w", ErrInvalid)
		}
	case OpSetAlarm:
		if op.Key != "" {
			return fmt.Errorf("setAlarm with a key: %w", ErrInvalid)
		}
		if _, err := alarmValue(op.Value); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown operation kind %d: %w", op.Kind, ErrInvalid)
	}
	return nil
}

// alarmValue decodes an OpSetAlarm value: 8 bytes, big-endian, >= 0.
func alarmValue(v []byte) (int64, error) {
	if len(v) != 8 {
		return 0, fmt.Errorf("alarm value of %d bytes, want 8: %w", len(v), ErrInvalid)
	}
	at := int64(binary.BigEndian.Uint64(v))
	if at < 0 {
		return 0, fmt.Errorf("negative alarm time %d: %w", at, ErrInvalid)
	}
	return at, nil
}

func truncate(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}

// ValidateObj checks a full object key: "nsID/objectID", the namespace id
// 1 to 64 bytes of letters, digits, '-' and '_', the object id 64
// lowercase hex digits.
func ValidateObj(obj string) error {
	ns, id, ok := splitObj(obj)
	if !ok {
		return fmt.Errorf("object %q: want <namespace id>/<object id>: %w", truncate(obj), ErrInvalid)
	}
	if len(ns) == 0 || len(ns) > maxNamespaceIDBytes {
		return fmt.Errorf("object %q: namespace id of %d bytes: %w", truncate(obj), len(ns), ErrInvalid)
	}
	for _, c := range []byte(ns) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return fmt.Errorf("object %q: namespace id holds %q: %w", truncate(obj), c, ErrInvalid)
		}
	}
	if len(id) != objectIDHexLen {
		return fmt.Errorf("object %q: object id of %d characters, want %d: %w", truncate(obj), len(id), objectIDHexLen, ErrInvalid)
	}
	for _, c := range []byte(id) {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return fmt.Errorf("object %q: object id holds %q, want lowercase hex: %w", truncate(obj), c, ErrInvalid)
		}
	}
	return nil
}

// ValidateNodeID checks a node id as the protocol carries it: 1 to 128
// bytes of valid UTF-8 without control characters.
func ValidateNodeID(id string) error {
	if id == "" || len(id) > maxNodeIDBytes || !utf8.ValidString(id) {
		return fmt.Errorf("node id %q: %w", truncate(id), ErrInvalid)
	}
	for _, r := range id {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("node id %q holds a control character: %w", truncate(id), ErrInvalid)
		}
	}
	return nil
}

// ValidateReplicas checks a replica set: 1 to MaxReplicas valid, distinct
// node ids.
func ValidateReplicas(replicas []string) error {
	if len(replicas) == 0 || len(replicas) > MaxReplicas {
		return fmt.Errorf("replica set of %d nodes, want 1 to %d: %w", len(replicas), MaxReplicas, ErrInvalid)
	}
	seen := make(map[string]bool, len(replicas))
	for _, r := range replicas {
		if err := ValidateNodeID(r); err != nil {
			return fmt.Errorf("replica set: %w", err)
		}
		if seen[r] {
			return fmt.Errorf("replica set names %q twice: %w", truncate(r), ErrInvalid)
		}
		seen[r] = true
	}
	return nil
}

// validateBallot checks a ballot a caller proposes: a positive counter and
// a valid node id.
func validateBallot(b Ballot) error {
	if b.Counter == 0 {
		return fmt.Errorf("ballot with counter 0: %w", ErrInvalid)
	}
	return ValidateNodeID(b.Node)
}
