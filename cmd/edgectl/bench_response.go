package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http/httputil"
	"strconv"
)

// errBadResponse marks an answer the load generator cannot parse.
var errBadResponse = errors.New("malformed HTTP response")

// readResponse reads one HTTP/1.x response from r and discards its body.
// It returns the status and whether the connection may carry another
// request. Bodies are framed by Content-Length or chunked encoding; a
// response framed by neither (read to close) ends the connection. noBody
// is true for a HEAD request.
func readResponse(r *bufio.Reader, noBody bool) (status int, keep bool, err error) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		return 0, false, fmt.Errorf("read status line: %w", err)
	}
	// "HTTP/1.1 200 OK\r\n"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return 0, false, fmt.Errorf("%w: status line %q", errBadResponse, line)
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil || status < 100 {
		return 0, false, fmt.Errorf("%w: status line %q", errBadResponse, line)
	}
	keep = line[7] == '1' // HTTP/1.0 closes unless told otherwise; the bench never asks
	length := int64(-1)
	chunked := false
	for {
		h, err := r.ReadSlice('\n')
		if err != nil {
			return status, false, fmt.Errorf("read header: %w", err)
		}
		h = bytes.TrimRight(h, "\r\n")
		if len(h) == 0 {
			break
		}
		colon := bytes.IndexByte(h, ':')
		if colon <= 0 {
			return status, false, fmt.Errorf("%w: header line %q", errBadResponse, h)
		}
		name, value := h[:colon], bytes.TrimSpace(h[colon+1:])
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			n, err := strconv.ParseInt(string(value), 10, 64)
			if err != nil || n < 0 {
				return status, false, fmt.Errorf("%w: Content-Length %q", errBadResponse, value)
			}
			length = n
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			if bytes.EqualFold(value, []byte("close")) {
				keep = false
			}
		}
	}
	if noBody || status == 204 || status == 304 || status < 200 {
		return status, keep, nil
	}
	switch {
	case chunked:
		n, err := io.Copy(io.Discard, io.LimitReader(httputil.NewChunkedReader(r), maxBenchResponse+1))
		if err != nil {
			return status, false, fmt.Errorf("read chunked body: %w", err)
		}
		if n > maxBenchResponse {
			return status, false, fmt.Errorf("%w: body over %d bytes", errBadResponse, maxBenchResponse)
		}
		// The trailer section ends with an empty line.
		for {
			t, err := r.ReadSlice('\n')
			if err != nil {
				return status, false, fmt.Errorf("read trailer: %w", err)
			}
			if len(bytes.TrimRight(t, "\r\n")) == 0 {
				break
			}
		}
	case length >= 0:
		if length > maxBenchResponse {
			return status, false, fmt.Errorf("%w: body of %d bytes", errBadResponse, length)
		}
		if _, err := r.Discard(int(length)); err != nil {
			return status, false, fmt.Errorf("read body: %w", err)
		}
	default:
		// Framed by the connection's end: drain it, then it is gone.
		if _, err := io.Copy(io.Discard, io.LimitReader(r, maxBenchResponse)); err != nil {
			return status, false, fmt.Errorf("read body: %w", err)
		}
		return status, false, nil
	}
	return status, keep, nil
}
