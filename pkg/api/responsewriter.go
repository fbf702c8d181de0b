package api

import "net/http"

// recorder wraps the ResponseWriter to remember the status and byte count
// for the access log and metrics, and to add x-should-retry: false to
// permanent errors whoever writes them.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	wrote  bool
}

// WriteHeader records the status and adds the retry hint.
func (rw *recorder) WriteHeader(status int) {
	if rw.wrote {
		return
	}
	if status >= 100 && status < 200 {
		// Informational answers (103 Early Hints) precede the real one.
		rw.ResponseWriter.WriteHeader(status)
		return
	}
	rw.wrote = true
	rw.status = status
	if permanent(status) && rw.Header().Get("x-should-retry") == "" {
		rw.Header().Set("x-should-retry", "false")
	}
	rw.ResponseWriter.WriteHeader(status)
}

// Write sends body bytes, implying 200 when no status was written.
func (rw *recorder) Write(p []byte) (int, error) {
	if !rw.wrote {
		rw.WriteHeader(http.StatusOK)
	}
	n, err := rw.ResponseWriter.Write(p)
	rw.bytes += int64(n)
	return n, err
}

// Flush lets streaming handlers push what they wrote so far.
func (rw *recorder) Flush() {
	if !rw.wrote {
		rw.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(rw.ResponseWriter).Flush()
}

// Unwrap gives http.ResponseController access to the underlying writer.
func (rw *recorder) Unwrap() http.ResponseWriter { return rw.ResponseWriter }

// statusOrOK is the status the client saw (200 when the handler wrote nothing).
func (rw *recorder) statusOrOK() int {
	if !rw.wrote {
		return http.StatusOK
	}
	return rw.status
}

// capture is a throwaway ResponseWriter used to learn what ServeMux's own
// 404/405 handler would answer, so the answer can be re-sent as an envelope.
type capture struct {
	header http.Header
	status int
}

// Header returns the captured headers.
func (c *capture) Header() http.Header { return c.header }

// Write discards the body.
func (c *capture) Write(p []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return len(p), nil
}

// WriteHeader records the status.
func (c *capture) WriteHeader(status int) {
	if c.status == 0 {
		c.status = status
	}
}
