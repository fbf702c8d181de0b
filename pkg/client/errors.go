package client

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/edgeplane/edgeplane/pkg/wire"
)

// ErrNoEndpoint means no endpoint was given, or none of them answered.
var ErrNoEndpoint = errors.New("no reachable endpoint")

// ErrBadResponse means the server answered with a body that is not the JSON
// expected (for example an HTML page from a proxy).
var ErrBadResponse = errors.New("unexpected response")

// APIError is a request the server refused: the HTTP status and the errors
// array of the v4 envelope.
type APIError struct {
	// Status is the HTTP status code of the response.
	Status int
	// Errors is the envelope's errors array; it may be empty.
	Errors []wire.Error
}

// Error renders the error on one line, for example
// "HTTP 401: Authentication error (10000)"; several errors are joined with
// "; ", a zero code is left out, and an empty errors array falls back to
// the HTTP status text.
func (e *APIError) Error() string {
	if len(e.Errors) == 0 {
		text := http.StatusText(e.Status)
		if text == "" {
			text = "request failed"
		}
		return fmt.Sprintf("HTTP %d: %s", e.Status, text)
	}
	parts := make([]string, 0, len(e.Errors))
	for _, we := range e.Errors {
		if we.Code == 0 {
			parts = append(parts, oneLine(we.Message))
			continue
		}
		parts = append(parts, fmt.Sprintf("%s (%d)", oneLine(we.Message), we.Code))
	}
	return fmt.Sprintf("HTTP %d: %s", e.Status, strings.Join(parts, "; "))
}

// HasCode reports whether the envelope carried an error with this code.
func (e *APIError) HasCode(code int) bool {
	for _, we := range e.Errors {
		if we.Code == code {
			return true
		}
	}
	return false
}

// oneLine folds line breaks so that an error message stays on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
