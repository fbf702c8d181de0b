package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/edgeplane/edgeplane/pkg/catalog"
)

// Sentinel errors that WriteFailure maps to HTTP statuses. Services wrap
// them (fmt.Errorf("...: %w", api.ErrNotFound)) or return an *HTTPError.
var (
	// ErrBadRequest marks an invalid request: 400.
	ErrBadRequest = errors.New("bad request")
	// ErrNotFound marks a missing object: 404. catalog.ErrNotFound is
	// treated the same.
	ErrNotFound = errors.New("not found")
	// ErrConflict marks a conflict with existing state: 409.
	// catalog.ErrExists is treated the same.
	ErrConflict = errors.New("conflict")
	// ErrBodyTooLarge marks a request body over the route's limit: 413.
	ErrBodyTooLarge = errors.New("request body too large")
	// ErrUnavailable marks a temporary inability to serve (no leader,
	// shutting down): 503, and the client may retry.
	ErrUnavailable = errors.New("service unavailable")
)

// HTTPError is an error that knows its HTTP status and envelope code. It
// wraps a sentinel (Err) so errors.Is keeps working.
type HTTPError struct {
	// Status is the HTTP status code.
	Status int
	// Code is the envelope error code.
	Code int
	// Message is shown to the client as is.
	Message string
	// Err is the wrapped cause, usually one of the sentinels above.
	Err error
}

// Error implements error.
func (e *HTTPError) Error() string {
	if e.Err == nil {
		return e.Message
	}
	return fmt.Sprintf("%s: %v", e.Message, e.Err)
}

// Unwrap returns the cause.
func (e *HTTPError) Unwrap() error { return e.Err }

// BadRequest returns a 400 HTTPError with code and a formatted message.
func BadRequest(code int, format string, args ...any) *HTTPError {
	return &HTTPError{Status: http.StatusBadRequest, Code: code, Message: fmt.Sprintf(format, args...), Err: ErrBadRequest}
}

// tooLarge returns the 413 HTTPError for a body over limit bytes.
func tooLarge(limit int64) *HTTPError {
	return &HTTPError{
		Status:  http.StatusRequestEntityTooLarge,
		Code:    CodeBodyTooLarge,
		Message: fmt.Sprintf("request body too large: the limit is %d bytes", limit),
		Err:     ErrBodyTooLarge,
	}
}

// classify maps err to an HTTP status, an envelope code and the message the
// client sees. Client errors show err's text; server errors show a generic
// message, since internals are for the log.
func classify(err error) (status, code int, msg string) {
	var he *HTTPError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &he):
		return he.Status, he.Code, he.Message
	case errors.Is(err, ErrBodyTimeout):
		return http.StatusRequestTimeout, CodeBodyTimeout, err.Error()
	case errors.Is(err, ErrBodyIncomplete):
		return http.StatusBadRequest, CodeBodyIncomplete, err.Error()
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, CodeBodyTooLarge, tooLarge(mbe.Limit).Message
	case errors.Is(err, ErrBodyTooLarge):
		return http.StatusRequestEntityTooLarge, CodeBodyTooLarge, err.Error()
	case errors.Is(err, ErrBadRequest), errors.Is(err, catalog.ErrInvalid):
		return http.StatusBadRequest, CodeBadRequest, err.Error()
	case errors.Is(err, ErrNotFound), errors.Is(err, catalog.ErrNotFound):
		return http.StatusNotFound, CodeNotFound, err.Error()
	case errors.Is(err, ErrConflict), errors.Is(err, catalog.ErrExists):
		return http.StatusConflict, CodeConflict, err.Error()
	case errors.Is(err, ErrUnavailable), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return http.StatusServiceUnavailable, CodeUnavailable, "service unavailable, try again"
	default:
		return http.StatusInternalServerError, CodeInternal, "internal error"
	}
}
