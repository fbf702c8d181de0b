package router

import (
	"encoding/json"
	"net/http"

	"github.com/edgeplane/edgeplane/pkg/wire"
)

// Error codes of the envelopes the forwarding layer writes itself. They
// mirror the HTTP status (1000 + status) so a log line is self-explaining.
const (
	// CodeBadRequest: the request body could not be read (400).
	CodeBadRequest = 1400
	// CodeBodyTooLarge: the request body is above the forwarding limit (413).
	CodeBodyTooLarge = 1413
	// CodeUnreachable: the serving node could not be reached (502).
	CodeUnreachable = 1502
	// CodeTimeout: the serving node did not answer within the deadline (504).
	CodeTimeout = 1504
	// CodeLoop: the request was already forwarded once (508).
	CodeLoop = 1508
)

// writeError writes a Cloudflare v4 error envelope with the given status.
// retry=false adds "x-should-retry: false", which the Cloudflare SDKs honour.
func writeError(w http.ResponseWriter, status, code int, msg string, retry bool) {
	body, err := json.Marshal(wire.Envelope{
		Success:  false,
		Errors:   []wire.Error{{Code: code, Message: msg}},
		Messages: []wire.Message{},
		Result:   json.RawMessage("null"),
	})
	if err != nil { // cannot happen for these types; keep the response valid
		body = []byte(`{"success":false,"errors":[{"code":1000,"message":"internal error"}],"messages":[],"result":null}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if !retry {
		h.Set("X-Should-Retry", "false")
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
