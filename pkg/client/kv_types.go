package client

import (
	"encoding/json"

	"github.com/edgeplane/edgeplane/pkg/wire"
)

// KVNamespace is a Workers KV namespace (the shape is in pkg/wire).
type KVNamespace = wire.KVNamespace

// KVKey is one element of a keys list.
type KVKey struct {
	// Name is the key.
	Name string `json:"name"`
	// Expiration is when the key expires, in Unix seconds; zero if never.
	Expiration int64 `json:"expiration,omitempty"`
	// Metadata is the key's metadata JSON; nil if it has none.
	Metadata json.RawMessage `json:"metadata,omitempty"`
}

// KVKeyPage is one page of a keys list.
type KVKeyPage struct {
	// Keys are the keys of this page, sorted by their bytes.
	Keys []KVKey `json:"keys"`
	// Cursor continues the list; empty when the list is complete.
	Cursor string `json:"cursor"`
}

// KVListOptions selects a page of keys.
type KVListOptions struct {
	// Prefix keeps only keys that start with it; re-send it with Cursor.
	Prefix string
	// Cursor is the Cursor of the previous page; empty for the first.
	Cursor string
	// Limit is the page size (10..1000); zero means the server's default.
	Limit int
}

// KVPutOptions are the optional parts of a value write.
type KVPutOptions struct {
	// Expiration is an absolute expiry in Unix seconds; zero for none.
	Expiration int64
	// ExpirationTTL is an expiry in seconds from now; zero for none. The
	// server prefers it to Expiration when both are set.
	ExpirationTTL int64
	// Metadata is a JSON value stored with the key; nil for none. When set
	// the write is sent as multipart/form-data with parts value and
	// metadata, as Cloudflare's API expects.
	Metadata json.RawMessage
}

// KVValue is a value read with GetValue.
type KVValue struct {
	// Value is the stored bytes.
	Value []byte
	// Expiration is the expiry in Unix seconds from the expiration
	// response header; zero when the key does not expire.
	Expiration int64
}

// KVBulkPair is one element of a bulk write (the shape is in pkg/wire).
type KVBulkPair = wire.KVBulkPair

// KVBulkResult is the result of a bulk write or delete (the shape is in pkg/wire).
type KVBulkResult = wire.KVBulkResult

// KVBulkGetOptions shape a bulk read.
type KVBulkGetOptions struct {
	// Type is "text" (default) or "json": how values are returned.
	Type string
	// WithMetadata asks for each value's metadata and expiration too.
	WithMetadata bool
}

// KVBulkGetResult is the result of a bulk read: for each key asked, its
// value (a JSON string for type text, the parsed JSON for type json, null
// for a missing key), or with metadata an object
// {"value", "metadata", "expiration"}.
type KVBulkGetResult struct {
	// Values maps each key to its JSON-encoded answer.
	Values map[string]json.RawMessage `json:"values"`
}
