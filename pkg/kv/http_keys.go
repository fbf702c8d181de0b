package kv

import (
	"encoding/json"
	"github.com/edgeplane/edgeplane/pkg/api"
	"net/http"
	"net/url"
	"strconv"

	"github.com/edgeplane/edgeplane/pkg/wire"
)

// kvKey is one item of a keys listing.
type kvKey struct {
	Name       string          `json:"name"`
	Expiration int64           `json:"expiration,omitempty"`
	Metadata   json.RawMessage `json:"metadata,omitempty"`
}

// listKeys answers one page of live keys in key byte order. result_info
// carries count, cursor and cursors.after (both "" when done), so that
// old and new clients can page.
func (h *handlers) listKeys(w http.ResponseWriter, r *http.Request) {
	_, ns, ok := h.namespace(w, r)
	if !ok {
		return
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil { // Query() would drop the bad pair: a garbled cursor would restart the listing
		kvFailure(w, r, badRequestErr(api.CodeKVInvalidListArgument, "malformed query string: %v", err))
		return
	}
	limit := 0
	if raw := q.Get("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < MinListLimit || n > MaxListLimit {
			kvFailure(w, r, badRequestErr(api.CodeKVInvalidListArgument, "limit must be an integer from %d to %d", MinListLimit, MaxListLimit))
			return
		}
		limit = n
	}
	entries, next, err := h.data.List(r.Context(), ns.ID, q.Get("prefix"), q.Get("cursor"), limit)
	if err != nil {
		kvFailure(w, r, err)
		return
	}
	out := make([]kvKey, len(entries))
	for i, e := range entries {
		out[i] = kvKey{Name: e.Key, Expiration: e.Expiration}
		if e.Metadata != nil {
			out[i].Metadata = e.Metadata
		}
	}
	api.WriteResult(w, http.StatusOK, out, &wire.ResultInfo{Count: len(out), Cursor: &next, Cursors: &wire.Cursors{After: next}})
}

// badRequestErr is badRequest as an error value.
func badRequestErr(code int, format string, args ...any) error {
	return api.BadRequest(code, format, args...)
}

// rawJSONOrNull returns b as raw JSON, or null when b is empty.
func rawJSONOrNull(b []byte) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage("null")
	}
	return json.RawMessage(b)
}
