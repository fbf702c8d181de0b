package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxBenchResponse bounds a response body the load generator drains.
const maxBenchResponse = 64 << 20

// httpConn is one keep-alive HTTP/1.1 connection that sends a request and
// reads its response before the next, as wrk does. The bench uses it
// instead of net/http's Transport because the Transport's pooling and its
// two goroutines per connection cost about as much CPU per request as the
// server under test, and client and server share the machine: with it the
// bench measured the client. readResponse parses answers without
// allocating.
type httpConn struct {
	addr   string      // host:port to dial
	host   string      // Host header
	tls    *tls.Config // nil for http://
	header string      // extra header lines, each ending in CRLF
	limit  time.Duration
	c      net.Conn
	r      *bufio.Reader
	w      *bufio.Writer
}

// newHTTPConn prepares a connection to base (http:// or https:// URL)
// that sends the given headers with every request and bounds each request
// by timeout when its context has no deadline. It dials lazily.
func newHTTPConn(base string, header http.Header, timeout time.Duration) (*httpConn, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("bench endpoint %q: %w", base, err)
	}
	hc := &httpConn{host: u.Host, addr: u.Host, limit: timeout}
	switch u.Scheme {
	case "http":
		if u.Port() == "" {
			hc.addr = net.JoinHostPort(u.Hostname(), "80")
		}
	case "https":
		if u.Port() == "" {
			hc.addr = net.JoinHostPort(u.Hostname(), "443")
		}
		hc.tls = &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}
	default:
		return nil, fmt.Errorf("bench endpoint %q: scheme must be http or https", base)
	}
	var b strings.Builder
	for k, vs := range header {
		for _, v := range vs {
			if strings.ContainsAny(k+v, "\r\n") {
				return nil, fmt.Errorf("bench header %q: contains a line break", k)
			}
			b.WriteString(k + ": " + v + "\r\n")
		}
	}
	hc.header = b.String()
	return hc, nil
}

// dial opens the connection.
func (h *httpConn) dial(ctx context.Context) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", h.addr)
	if err != nil {
		return fmt.Errorf("dial %s: %w", h.addr, err)
	}
	if h.tls != nil {
		tc := tls.Client(c, h.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			c.Close()
			return fmt.Errorf("tls %s: %w", h.addr, err)
		}
		c = tc
	}
	h.c, h.r, h.w = c, bufio.NewReaderSize(c, 16<<10), bufio.NewWriterSize(c, 16<<10)
	return nil
}

// do sends one request (path already escaped; body nil for none) and
// returns the response status once its body is drained. Any error drops
// the connection; the next call dials again.
func (h *httpConn) do(ctx context.Context, method, path, contentType string, body []byte) (int, error) {
	if h.c == nil {
		if err := h.dial(ctx); err != nil {
			return 0, err
		}
	}
	status, keep, err := h.roundTrip(ctx, method, path, contentType, body)
	if err != nil || !keep {
		h.drop()
	}
	return status, err
}

// roundTrip writes the request and reads the response.
func (h *httpConn) roundTrip(ctx context.Context, method, path, contentType string, body []byte) (status int, keep bool, err error) {
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Now().Add(h.limit)
	}
	if err := h.c.SetDeadline(dl); err != nil {
		return 0, false, fmt.Errorf("%s %s: %w", method, path, err)
	}
	w := h.w
	w.WriteString(method)
	w.WriteByte(' ')
	w.WriteString(path)
	w.WriteString(" HTTP/1.1\r\nHost: ")
	w.WriteString(h.host)
	w.WriteString("\r\n")
	w.WriteString(h.header)
	if body != nil {
		if contentType != "" {
			w.WriteString("Content-Type: " + contentType + "\r\n")
		}
		w.WriteString("Content-Length: ")
		w.WriteString(strconv.Itoa(len(body)))
		w.WriteString("\r\n")
	}
	w.WriteString("\r\n")
	w.Write(body)
	if err := w.Flush(); err != nil {
		return 0, false, fmt.Errorf("%s %s: write: %w", method, path, err)
	}
	status, keep, err = readResponse(h.r, method == http.MethodHead)
	if err != nil {
		return status, false, fmt.Errorf("%s %s: %w", method, path, err)
	}
	return status, keep, nil
}

// expect2xx turns a non-2xx status into an error.
func expect2xx(method, path string, status int, err error) error {
	if err != nil {
		return err
	}
	if status < 200 || status > 299 {
		return fmt.Errorf("%s %s: HTTP %d", method, path, status)
	}
	return nil
}

// drop closes the connection, if open.
func (h *httpConn) drop() {
	if h.c != nil {
		_ = h.c.Close()
		h.c = nil
	}
}

// close ends the connection.
func (h *httpConn) close() error {
	h.drop()
	return nil
}
