package wire

import "encoding/json"

// KVNamespace is a Workers KV namespace as the namespace endpoints return it.
type KVNamespace struct {
	// ID is the namespace's identifier, used in every KV path.
	ID string `json:"id"`
	// Title is the namespace's name, unique within its account.
	Title string `json:"title"`
	// SupportsURLEncoding says keys in paths are percent-decoded.
	SupportsURLEncoding bool `json:"supports_url_encoding"`
}

// KVBulkPair is one element of a bulk write, in Cloudflare's format.
type KVBulkPair struct {
	// Key is the key to write.
	Key string `json:"key"`
	// Value is the value: UTF-8 text, or base64 when Base64 is true.
	Value string `json:"value"`
	// Base64 says Value is base64-encoded binary.
	Base64 bool `json:"base64,omitempty"`
	// Expiration is an absolute expiry in Unix seconds; zero for none.
	Expiration int64 `json:"expiration,omitempty"`
	// ExpirationTTL is an expiry in seconds from now; zero for none.
	ExpirationTTL int64 `json:"expiration_ttl,omitempty"`
	// Metadata is a JSON value stored with the key; nil for none.
	Metadata json.RawMessage `json:"metadata,omitempty"`
}

// KVBulkResult is the result of a bulk write or delete.
type KVBulkResult struct {
	// SuccessfulKeyCount is how many keys were applied.
	SuccessfulKeyCount int `json:"successful_key_count"`
	// UnsuccessfulKeys are keys that were not applied.
	UnsuccessfulKeys []string `json:"unsuccessful_keys"`
}
