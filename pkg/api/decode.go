package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// DecodeJSON decodes r's body into v strictly: one JSON value, no unknown
// fields, no trailing data, within the route's body limit (the default
// limit when r did not come through a Server). Errors are *HTTPError values
// with a message fit for the client: 400 (code 6007, wrapping
// ErrBadRequest) or 413 (wrapping ErrBodyTooLarge); pass them to
// WriteFailure.
func DecodeJSON(r *http.Request, v any) error {
	if r.Body == nil || r.Body == http.NoBody {
		return BadRequest(CodeMalformedJSON, "request body is empty; expected JSON")
	}
	body := r.Body
	limit := DefaultMaxBodyBytes
	if st := stateFrom(r.Context()); st != nil && st.limited {
		limit = st.limit
	} else {
		body = http.MaxBytesReader(nil, body, limit)
	}
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err, limit)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		if err != nil {
			return decodeError(err, limit)
		}
		return BadRequest(CodeMalformedJSON, "request body must hold a single JSON value")
	}
	return nil
}

// decodeError turns a json.Decoder error into a client-facing HTTPError.
func decodeError(err error, limit int64) *HTTPError {
	var (
		mbe  *http.MaxBytesError
		syn  *json.SyntaxError
		typ  *json.UnmarshalTypeError
		msg  string
		code = CodeMalformedJSON
	)
	switch {
	case errors.Is(err, ErrBodyTimeout):
		return &HTTPError{Status: http.StatusRequestTimeout, Code: CodeBodyTimeout, Message: err.Error(), Err: err}
	case errors.Is(err, ErrBodyIncomplete):
		return &HTTPError{Status: http.StatusBadRequest, Code: CodeBodyIncomplete, Message: err.Error(), Err: errors.Join(ErrBadRequest, err)}
	case errors.As(err, &mbe):
		return tooLarge(limit)
	case errors.Is(err, io.EOF):
		msg = "request body is empty; expected JSON"
	case errors.Is(err, io.ErrUnexpectedEOF):
		msg = "malformed JSON in request body: unexpected end of input"
	case errors.As(err, &syn):
		msg = fmt.Sprintf("malformed JSON in request body at offset %d: %v", syn.Offset, syn)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		msg = fmt.Sprintf("field %q must be %s, not %s", field, typ.Type, typ.Value)
	default:
		// Unknown fields and other decoder complaints ("json: unknown field \"x\"").
		msg = fmt.Sprintf("invalid request body: %v", err)
	}
	return &HTTPError{Status: http.StatusBadRequest, Code: code, Message: msg, Err: fmt.Errorf("%w: %w", ErrBadRequest, err)}
}
