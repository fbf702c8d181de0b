package api

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/edgeplane/edgeplane/pkg/wire"
)

// WriteResult answers with a successful v4 envelope carrying result (which
// may be nil) and, for lists, info.
func WriteResult(w http.ResponseWriter, status int, result any, info *wire.ResultInfo) {
	raw, err := json.Marshal(result)
	if err != nil {
		WriteError(w, http.StatusInternalServerError, CodeInternal, "internal error: result not encodable")
		return
	}
	writeEnvelope(w, status, wire.Envelope{
		Success:    true,
		Errors:     []wire.Error{},
		Messages:   []wire.Message{},
		Result:     raw,
		ResultInfo: info,
	})
}

// jsonContentType is the Content-Type value of envelopes. net/http never
// writes into a header's value slice, so every response shares this one;
// nothing may modify it.
var jsonContentType = []string{"application/json"}

// emptyResultBody is what WriteResult writes for an empty object result.
// Like jsonContentType it is shared by every response; nothing may modify it.
var emptyResultBody = []byte(`{"success":true,"errors":[],"messages":[],"result":{}}` + "\n")

// WriteEmptyResult answers 200 with a successful envelope whose result is
// an empty object, as Cloudflare does for writes: WriteResult(w, 200,
// struct{}{}, nil) without encoding the same bytes on every request.
func WriteEmptyResult(w http.ResponseWriter) {
	writeJSONBody(w, http.StatusOK, emptyResultBody)
}

// WriteError answers with a failed v4 envelope holding one error.
func WriteError(w http.ResponseWriter, status, code int, msg string) {
	WriteErrors(w, status, []wire.Error{{Code: code, Message: msg}})
}

// WriteErrors answers with a failed v4 envelope holding errs and a null
// result.
func WriteErrors(w http.ResponseWriter, status int, errs []wire.Error) {
	if errs == nil {
		errs = []wire.Error{}
	}
	writeEnvelope(w, status, wire.Envelope{
		Success:  false,
		Errors:   errs,
		Messages: []wire.Message{},
		Result:   json.RawMessage("null"),
	})
}

// WriteFailure answers for err: an *HTTPError keeps its status and code,
// the package sentinels (and the catalog's) map to 400/404/409/413/503, a
// body overrun (*http.MaxBytesError) to 413, and anything else to a 500
// whose message names only the request id. The error itself goes to the
// access log line of the request. A 503 says when to retry (Retry-After: 1)
// unless the handler set its own.
func WriteFailure(w http.ResponseWriter, r *http.Request, err error) {
	status, code, msg := classify(err)
	switch status {
	case http.StatusRequestTimeout:
		w.Header().Set("Connection", "close") // the body's rest is not coming
	case http.StatusServiceUnavailable:
		if w.Header().Get("Retry-After") == "" {
			w.Header().Set("Retry-After", "1")
		}
	}
	if st := stateFrom(r.Context()); st != nil {
		st.err = err
		if status >= http.StatusInternalServerError {
			msg = fmt.Sprintf("%s (request id %s)", msg, st.id)
		}
	}
	WriteError(w, status, code, msg)
}

// writeEnvelope encodes env with the given status.
func writeEnvelope(w http.ResponseWriter, status int, env wire.Envelope) {
	writeJSON(w, status, env)
}

// writeJSON encodes v as the whole response body with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"success":false,"errors":[{"code":1000,"message":"internal error: response not encodable"}],"messages":[],"result":null}`)
	}
	writeJSONBody(w, status, append(body, '\n'))
}

// writeJSONBody answers with status and body, an encoded JSON document
// ending in a newline.
func writeJSONBody(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h.Del("Content-Length")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// permanent reports whether a status is a client error that retrying will
// not fix: 4xx except 408 (timeout), 409 (conflict) and 429 (rate limited).
func permanent(status int) bool {
	if status < 400 || status > 499 {
		return false
	}
	switch status {
	case http.StatusRequestTimeout, http.StatusConflict, http.StatusTooManyRequests:
		return false
	}
	return true
}
