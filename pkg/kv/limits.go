package kv

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// Limits of Workers KV (see the Cloudflare reference), enforced on every
// write path.
const (
	MaxKeyBytes       = 512
	MaxValueBytes     = 25 << 20
	MaxMetadataBytes  = 1024
	MinExpirationTTL  = 60 // seconds
	MaxBulkWrite      = 10000
	MaxBulkGet        = 100
	MinListLimit      = 10
	MaxListLimit      = 1000
	DefaultListLimit  = 1000
	MaxNamespaceTitle = 512
)

// Sentinel errors of KV operations; check with errors.Is.
var (
	ErrInvalidKey        = errors.New("invalid key")
	ErrValueTooLarge     = errors.New("value too large")
	ErrInvalidMetadata   = errors.New("invalid metadata")
	ErrInvalidExpiration = errors.New("invalid expiration")
	ErrKeyNotFound       = errors.New("key not found")
	ErrNamespaceNotFound = errors.New("namespace not found")
)

// ValidateKey enforces Cloudflare's key rules: 1 to 512 bytes, not "." or
// "..", and valid UTF-8. A key travels in protobuf string fields (push
// replication, anti-entropy), which refuse invalid UTF-8: such a key could
// be stored but never replicated, read back by name or deleted.
func ValidateKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: empty", ErrInvalidKey)
	case len(key) > MaxKeyBytes:
		return fmt.Errorf("%w: %d bytes, the limit is %d", ErrInvalidKey, len(key), MaxKeyBytes)
	case key == "." || key == "..":
		return fmt.Errorf("%w: %q is not allowed", ErrInvalidKey, key)
	case !utf8.ValidString(key):
		return fmt.Errorf("%w: not valid UTF-8", ErrInvalidKey)
	}
	return nil
}

// ValidateValue enforces the 25 MiB value limit.
func ValidateValue(v []byte) error {
	if len(v) > MaxValueBytes {
		return fmt.Errorf("%w: %d bytes, the limit is %d", ErrValueTooLarge, len(v), MaxValueBytes)
	}
	return nil
}

// ValidateMetadata requires valid JSON of at most 1024 bytes (nil is none).
func ValidateMetadata(m []byte) error {
	if m == nil {
		return nil
	}
	if len(m) > MaxMetadataBytes {
		return fmt.Errorf("%w: %d bytes serialized, the limit is %d", ErrInvalidMetadata, len(m), MaxMetadataBytes)
	}
	if !utf8.Valid(m) { // json.Valid lets invalid UTF-8 inside strings pass
		return fmt.Errorf("%w: not valid UTF-8", ErrInvalidMetadata)
	}
	if !json.Valid(m) {
		return fmt.Errorf("%w: not JSON", ErrInvalidMetadata)
	}
	return nil
}

// ResolveExpiration turns the expiration and expiration_ttl parameters
// (0 = not given) into an absolute Unix second; ttl wins when both are
// given. Either must put the expiration at least 60 s after now.
func ResolveExpiration(expiration, ttl int64, now time.Time) (int64, error) {
	if ttl != 0 {
		if ttl < MinExpirationTTL {
			return 0, fmt.Errorf("%w: expiration_ttl %d is below the minimum of %d seconds", ErrInvalidExpiration, ttl, MinExpirationTTL)
		}
		return now.Unix() + ttl, nil
	}
	if expiration != 0 {
		if expiration < now.Unix()+MinExpirationTTL {
			return 0, fmt.Errorf("%w: expiration %d must be at least %d seconds in the future", ErrInvalidExpiration, expiration, MinExpirationTTL)
		}
		return expiration, nil
	}
	return 0, nil
}
