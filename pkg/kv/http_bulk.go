package kv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/edgeplane/edgeplane/pkg/api"
	"io"
	"net/http"
	"time"
	"unicode/utf8"

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
// The body is decoded as a stream (decodeBulkPut).
func (h *handlers) bulkPut(w http.ResponseWriter, r *http.Request) {
	_, ns, ok := h.namespace(w, r)
	if !ok {
		return
	}
	ctx, ok := replicasParam(w, r)
	if !ok {
		return
	}
	if r.Body == nil || r.Body == http.NoBody {
		api.WriteFailure(w, r, api.BadRequest(api.CodeMalformedJSON, "request body is empty; expected a JSON array"))
		return
	}
	items, err := decodeBulkPut(r.Body, time.Now())
	if err == nil {
		err = h.data.PutMany(ctx, ns.ID, items)
	}
	if err != nil {
		kvFailure(w, r, err)
		return
	}
	api.WriteResult(w, http.StatusOK, wire.KVBulkResult{SuccessfulKeyCount: len(items), UnsuccessfulKeys: []string{}}, nil)
}

// bulkDelete deletes up to 10,000 keys (POST bulk/delete, or the legacy
// DELETE bulk), all-or-nothing.
func (h *handlers) bulkDelete(w http.ResponseWriter, r *http.Request) {
	_, ns, ok := h.namespace(w, r)
	if !ok {
		return
	}
	ctx, ok := replicasParam(w, r)
	if !ok {
		return
	}
	if r.Body == nil || r.Body == http.NoBody {
		api.WriteFailure(w, r, api.BadRequest(api.CodeMalformedJSON, "request body is empty; expected a JSON array"))
		return
	}
	keys, err := decodeBulkKeys(r.Body)
	if err != nil {
		kvFailure(w, r, err)
		return
	}
	if err := h.data.DeleteMany(ctx, ns.ID, keys); err != nil {
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
	if r.Body != nil && r.Body != http.NoBody { // encoding/json would turn invalid UTF-8 into U+FFFD
		raw, err := io.ReadAll(r.Body)
		if err != nil {
			api.WriteFailure(w, r, err)
			return
		}
		if !utf8.Valid(raw) {
			kvFailure(w, r, fmt.Errorf("%w: request body is not valid UTF-8", ErrInvalidKey))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(raw))
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
