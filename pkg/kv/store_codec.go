package kv

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/edgeplane/edgeplane/pkg/hlc"
)

// On-disk layout of the KV store (one pebble database per node).
//
// Key:   'e' | uvarint(len(ns)) | ns | user key bytes
//
// The length-prefixed namespace makes one namespace's keys contiguous and
// sorted by user key bytes, and no namespace's prefix is a prefix of
// another's, so a namespace is one key range (List, DropNamespace).
//
// Value: format byte (1) | flags byte (bit0 tombstone) | HLC (8 bytes, big
// endian) | uvarint(len(node)) | node | varint(expiration) |
// uvarint(len(metadata)+1, 0 = no metadata) | metadata | value bytes (rest).
const (
	entryTag      = 'e'
	formatV1      = 1
	flagTombstone = 1
)

// errCorrupt marks a stored record this code cannot decode.
var errCorrupt = errors.New("kv store: corrupt record")

// nsPrefix is the key prefix of every entry of ns.
func nsPrefix(ns string) []byte {
	b := make([]byte, 0, 1+binary.MaxVarintLen64+len(ns))
	b = append(b, entryTag)
	b = binary.AppendUvarint(b, uint64(len(ns)))
	return append(b, ns...)
}

// entryKey is the pebble key of (ns, key).
func entryKey(ns, key string) []byte {
	return append(nsPrefix(ns), key...)
}

// splitKey returns the namespace and user key of a pebble key.
func splitKey(k []byte) (ns, key string, err error) {
	if len(k) == 0 || k[0] != entryTag {
		return "", "", fmt.Errorf("%w: key tag", errCorrupt)
	}
	n, w := binary.Uvarint(k[1:])
	if w <= 0 || uint64(len(k)-1-w) < n {
		return "", "", fmt.Errorf("%w: key namespace length", errCorrupt)
	}
	start := 1 + w
	return string(k[start : start+int(n)]), string(k[start+int(n):]), nil
}

// prefixEnd is the smallest key greater than every key starting with p,
// or nil when there is none.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// encodeValue is the stored form of e (namespace and key live in the key).
func encodeValue(e Entry) []byte {
	b := make([]byte, 0, 2+8+2*binary.MaxVarintLen64+len(e.Version.Node)+len(e.Metadata)+len(e.Value)+binary.MaxVarintLen64)
	var flags byte
	if e.Tombstone {
		flags |= flagTombstone
	}
	b = append(b, formatV1, flags)
	b = binary.BigEndian.AppendUint64(b, uint64(e.Version.HLC))
	b = binary.AppendUvarint(b, uint64(len(e.Version.Node)))
	b = append(b, e.Version.Node...)
	b = binary.AppendVarint(b, e.Expiration)
	if e.Metadata == nil {
		b = binary.AppendUvarint(b, 0)
	} else {
		b = binary.AppendUvarint(b, uint64(len(e.Metadata))+1)
		b = append(b, e.Metadata...)
	}
	return append(b, e.Value...)
}

// decodeValue fills e from a stored value; withValue false skips copying
// the value bytes. The result never aliases v.
func decodeValue(v []byte, e *Entry, withValue bool) error {
	if len(v) < 10 || v[0] != formatV1 {
		return fmt.Errorf("%w: value header", errCorrupt)
	}
	e.Tombstone = v[1]&flagTombstone != 0
	e.Version.HLC = hlc.Timestamp(binary.BigEndian.Uint64(v[2:10]))
	rest := v[10:]
	n, w := binary.Uvarint(rest)
	if w <= 0 || uint64(len(rest)-w) < n {
		return fmt.Errorf("%w: node", errCorrupt)
	}
	e.Version.Node = string(rest[w : w+int(n)])
	rest = rest[w+int(n):]
	exp, w := binary.Varint(rest)
	if w <= 0 {
		return fmt.Errorf("%w: expiration", errCorrupt)
	}
	e.Expiration = exp
	rest = rest[w:]
	m, w := binary.Uvarint(rest)
	if w <= 0 || (m > 0 && uint64(len(rest)-w) < m-1) {
		return fmt.Errorf("%w: metadata", errCorrupt)
	}
	rest = rest[w:]
	e.Metadata = nil
	if m > 0 {
		e.Metadata = append([]byte{}, rest[:m-1]...)
		rest = rest[m-1:]
	}
	e.Value = nil
	if withValue {
		e.Value = append([]byte{}, rest...)
	}
	return nil
}

// decodeEntry rebuilds a full entry from a pebble key and value.
func decodeEntry(k, v []byte, withValue bool) (Entry, error) {
	ns, key, err := splitKey(k)
	if err != nil {
		return Entry{}, err
	}
	e := Entry{Namespace: ns, Key: key}
	if err := decodeValue(v, &e, withValue); err != nil {
		return Entry{}, fmt.Errorf("%s/%q: %w", ns, key, err)
	}
	return e, nil
}
