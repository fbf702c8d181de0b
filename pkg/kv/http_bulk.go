package kv

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"github.com/edgeplane/edgeplane/pkg/api"
	"net/http"
	"time"

	"github.com/edgeplane/edgeplane/pkg/wire"
)

// kvBulkGetBody is the body of bulk/get.
type kvBulkGetBody struct {
	Keys         []string `json:"keys"`
	Type         string   `json:"type,omitempty"`
	WithMetadata bool     `json:"withMetadata,omitempty"`
}

// kvValueWithMetadata is one value of a bulk/get with withMetadata.
type kvValueWithMetadata struct {
	Value      any             `json:"value"`
	Metadata   json.RawMessage `json:"metadata"`
	Expiration int64           `json:"expiration,omitempty"`
}

// bulkPut writes up to 10,000 pairs. Every pair is checked first; one bad
// pair refuses the request with a 400 naming it, and nothing is written.
func (h *handlers) bulkPut(w http.ResponseWriter, r *http.Request) {
	_, ns, ok := h.namespace(w, r)
	if !ok {
		return
	}
	var body []wire.KVBulkPair
	if err := api.DecodeJSON(r, &body); err != nil {
		api.WriteFailure(w, r, err)
		return
	}
	items, err := bulkEntries(body, time.Now())
	if err == nil {
		err = h.data.PutMany(r.Context(), ns.ID, items)
	}
	if err != nil {
		kvFailure(w, r, err)
		return
	}
	api.WriteResult(w, http.StatusOK, wire.KVBulkResult{SuccessfulKeyCount: len(items), UnsuccessfulKeys: []string{}}, nil)
}

// bulkEntries turns a bulk write body into entries, checking every limit.
func bulkEntries(body []wire.KVBulkPair, now time.Time) ([]Entry, error) {
	if len(body) > MaxBulkWrite {
		return nil, fmt.Errorf("%w: %d pairs, the limit is %d", ErrTooManyKeys, len(body), MaxBulkWrite)
	}
	items := make([]Entry, len(body))
	for i, b := range body {
		if err := ValidateKey(b.Key); err != nil {
			return nil, fmt.Errorf("bulk item %d: %w", i, err)
		}
		value := []byte(b.Value)
		if b.Base64 {
			var err error
			if value, err = base64.StdEncoding.DecodeString(b.Value); err != nil {
				return nil, api.BadRequest(api.CodeBadRequest, "bulk item %d (key %q): value is not valid base64", i, b.Key)
			}
		}
		if b.Expiration < 0 || b.ExpirationTTL < 0 {
			return nil, fmt.Errorf("bulk item %d (key %q): %w: negative", i, b.Key, ErrInvalidExpiration)
		}
		exp, err := ResolveExpiration(b.Expiration, b.ExpirationTTL, now)
		if err != nil {
			return nil, fmt.Errorf("bulk item %d (key %q): %w", i, b.Key, err)
		}
		var meta []byte
		if len(b.Metadata) > 0 && !bytes.Equal(b.Metadata, []byte("null")) {
			// Compact, so the 1024-byte limit counts the serialized JSON
			// and not the request's indentation.
			var buf bytes.Buffer
			if err := json.Compact(&buf, b.Metadata); err != nil {
				return nil, fmt.Errorf("bulk item %d (key %q): %w: not JSON", i, b.Key, ErrInvalidMetadata)
			}
			meta = buf.Bytes()
		}
		items[i] = Entry{Key: b.Key, Value: value, Metadata: meta, Expiration: exp}
		if err := ValidateValue(value); err != nil {
			return nil, fmt.Errorf("bulk item %d (key %q): %w", i, b.Key, err)
		}
		if err := ValidateMetadata(meta); err != nil {
			return nil, fmt.Errorf("bulk item %d (key %q): %w", i, b.Key, err)
		}
	}
	return items, nil
}

// bulkDelete deletes up to 10,000 keys (POST bulk/delete, or the legacy
// DELETE bulk), all-or-nothing.
func (h *handlers) bulkDelete(w http.ResponseWriter, r *http.Request) {
	_, ns, ok := h.namespace(w, r)
	if !ok {
		return
	}
	var keys []string
	if err := api.DecodeJSON(r, &keys); err != nil {
		api.WriteFailure(w, r, err)
		return
	}
	if err := h.data.DeleteMany(r.Context(), ns.ID, keys); err != nil {
		kvFailure(w, r, err)
		return
	}
	api.WriteResult(w, http.StatusOK, wire.KVBulkResult{SuccessfulKeyCount: len(keys), UnsuccessfulKeys: []string{}}, nil)
}

// bulkGet answers up to 100 keys: {"values": {key: value}}, null for a
// missing key; type json parses values, withMetadata wraps each value
// with its metadata and expiration.
func (h *handlers) bulkGet(w http.ResponseWriter, r *http.Request) {
	_, ns, ok := h.namespace(w, r)
	if !ok {
		return
	}
	var body kvBulkGetBody
	if err := api.DecodeJSON(r, &body); err != nil {
		api.WriteFailure(w, r, err)
		return
	}
	if body.Type != "" && body.Type != "text" && body.Type != "json" {
		api.WriteFailure(w, r, api.BadRequest(api.CodeBadRequest, "type must be text or json"))
		return
	}
	entries, err := h.data.GetMany(r.Context(), ns.ID, body.Keys)
	if err != nil {
		kvFailure(w, r, err)
		return
	}
	values := make(map[string]any, len(body.Keys))
	for _, k := range body.Keys {
		values[k] = nil
	}
	for _, e := range entries {
		var v any = string(e.Value)
		if body.Type == "json" {
			if !json.Valid(e.Value) {
				api.WriteFailure(w, r, api.BadRequest(api.CodeBadRequest, "value of key %q is not JSON; ask for type text", e.Key))
				return
			}
			v = json.RawMessage(e.Value)
		}
		if body.WithMetadata {
			v = kvValueWithMetadata{Value: v, Metadata: rawJSONOrNull(e.Metadata), Expiration: e.Expiration}
		}
		values[e.Key] = v
	}
	api.WriteResult(w, http.StatusOK, map[string]any{"values": values}, nil)
}
