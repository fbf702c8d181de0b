package router

import (
	"errors"
	"net/http"
)

// errResponseTooLarge means a handler wrote more than a forwarded response
// may carry.
var errResponseTooLarge = errors.New("forwarded response above size limit")

// memWriter is an in-memory http.ResponseWriter that buffers the whole
// response of a forwarded request, up to limit bytes of body.
type memWriter struct {
	header  http.Header
	status  int
	body    []byte
	limit   int
	overrun bool
}

var _ http.ResponseWriter = (*memWriter)(nil)

func newMemWriter(limit int) *memWriter {
	return &memWriter{header: make(http.Header), limit: limit}
}

// Header implements http.ResponseWriter.
func (m *memWriter) Header() http.Header { return m.header }

// WriteHeader implements http.ResponseWriter; only the first call counts,
// and 1xx informational statuses are ignored as net/http's writer would.
func (m *memWriter) WriteHeader(status int) {
	if m.status != 0 || (status >= 100 && status < 200) {
		return
	}
	m.status = status
}

// Write implements http.ResponseWriter.
func (m *memWriter) Write(p []byte) (int, error) {
	if m.status == 0 {
		m.WriteHeader(http.StatusOK)
	}
	if len(m.body)+len(p) > m.limit {
		m.overrun = true
		return 0, errResponseTooLarge
	}
	m.body = append(m.body, p...)
	return len(p), nil
}

// Flush implements http.Flusher as a no-op: the response leaves as one
// message when the handler returns.
func (m *memWriter) Flush() {}

// statusCode is the status the handler set, 200 if it set none.
func (m *memWriter) statusCode() int {
	if m.status == 0 {
		return http.StatusOK
	}
	return m.status
}
