package kv

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// Sentinel errors of the service's list and bulk calls; check with errors.Is.
var (
	// ErrInvalidCursor is a list cursor this service did not issue.
	ErrInvalidCursor = errors.New("invalid cursor")
	// ErrInvalidLimit is a list limit outside MinListLimit..MaxListLimit.
	ErrInvalidLimit = errors.New("invalid limit")
	// ErrTooManyKeys is a bulk request over its size limit.
	ErrTooManyKeys = errors.New("too many keys")
)

// cursorSumLen is the size of the checksum that ends every cursor.
const cursorSumLen = 4

// maxCursorLen bounds an encoded cursor: base64url of a MaxKeyBytes key
// and its checksum.
var maxCursorLen = base64.RawURLEncoding.EncodedLen(MaxKeyBytes + cursorSumLen)

// cursorTable is the CRC-32C table of cursor checksums.
var cursorTable = crc32.MakeTable(crc32.Castagnoli)

// cursorSum is the checksum that ends a cursor: CRC-32C of a fixed tag and
// the key, so a string that merely decodes to a valid key (a guess, a
// truncated or edited cursor) is refused rather than silently listing
// from somewhere else.
func cursorSum(key []byte) uint32 {
	return crc32.Update(crc32.Checksum([]byte("edgeplane kv cursor v1"), cursorTable), cursorTable, key)
}

// EncodeCursor returns the opaque list cursor that resumes after key.
func EncodeCursor(key string) string {
	b := binary.BigEndian.AppendUint32([]byte(key), cursorSum([]byte(key)))
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor returns the key a cursor resumes after; "" for the empty
// cursor (the start). Anything EncodeCursor cannot have produced for a
// valid key is ErrInvalidCursor.
func DecodeCursor(cursor string) (string, error) {
	if cursor == "" {
		return "", nil
	}
	if len(cursor) > maxCursorLen {
		return "", fmt.Errorf("%w: longer than %d characters", ErrInvalidCursor, maxCursorLen)
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(cursor)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidCursor, err)
	}
	if len(raw) <= cursorSumLen {
		return "", fmt.Errorf("%w: too short", ErrInvalidCursor)
	}
	raw, sum := raw[:len(raw)-cursorSumLen], binary.BigEndian.Uint32(raw[len(raw)-cursorSumLen:])
	if sum != cursorSum(raw) {
		return "", fmt.Errorf("%w: checksum mismatch", ErrInvalidCursor)
	}
	if err := ValidateKey(string(raw)); err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidCursor, err)
	}
	return string(raw), nil
}

// List returns up to limit live entries of ns whose key starts with prefix,
// in key byte order, resuming after cursor ("" from the start). limit 0
// means DefaultListLimit; otherwise it must lie in MinListLimit..MaxListLimit.
// The returned cursor is "" when there is nothing more; the prefix must be
// sent again with it.
func (s *Service) List(ctx context.Context, ns, prefix, cursor string, limit int) ([]Entry, string, error) {
	entries, next, err := s.list(ctx, ns, prefix, cursor, limit)
	return entries, next, s.metrics.done(opList, err)
}

func (s *Service) list(ctx context.Context, ns, prefix, cursor string, limit int) ([]Entry, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	if limit == 0 {
		limit = DefaultListLimit
	}
	if limit < MinListLimit || limit > MaxListLimit {
		return nil, "", fmt.Errorf("%w: %d is outside %d..%d", ErrInvalidLimit, limit, MinListLimit, MaxListLimit)
	}
	if len(prefix) > MaxKeyBytes {
		return nil, "", fmt.Errorf("%w: prefix of %d bytes, the limit is %d", ErrInvalidKey, len(prefix), MaxKeyBytes)
	}
	after, err := DecodeCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	entries, more, err := s.cfg.Storage.List(ns, prefix, after, limit, s.cfg.Now())
	if err != nil {
		return nil, "", fmt.Errorf("kv list: %w", err)
	}
	next := ""
	if more && len(entries) > 0 {
		next = EncodeCursor(entries[len(entries)-1].Key)
	}
	return entries, next, nil
}
