package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// maxRESPBulk bounds a bulk reply the RESP client accepts.
const maxRESPBulk = 64 << 20

// redisTarget is a Redis server, one connection per worker, no
// pipelining: each command waits for its reply.
type redisTarget struct{ addr string }

func (t *redisTarget) name() string { return "redis" }

func (t *redisTarget) open(ctx context.Context) (benchConn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", t.addr)
	if err != nil {
		return nil, fmt.Errorf("redis dial: %w", err)
	}
	return &respConn{c: c, r: bufio.NewReader(c), w: bufio.NewWriter(c)}, nil
}

// respConn is a minimal RESP client: SET and GET only.
type respConn struct {
	c net.Conn
	r *bufio.Reader
	w *bufio.Writer
}

// command sends one command as an array of bulk strings and reads its
// reply: the bulk payload (nil for a nil bulk), or the simple string.
func (r *respConn) command(ctx context.Context, args ...[]byte) ([]byte, error) {
	if dl, ok := ctx.Deadline(); ok {
		_ = r.c.SetDeadline(dl)
	} else {
		_ = r.c.SetDeadline(time.Now().Add(defaultTimeout))
	}
	fmt.Fprintf(r.w, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(r.w, "$%d\r\n", len(a))
		r.w.Write(a)
		r.w.WriteString("\r\n")
	}
	if err := r.w.Flush(); err != nil {
		return nil, fmt.Errorf("redis write: %w", err)
	}
	return r.reply()
}

// reply reads one reply.
func (r *respConn) reply() ([]byte, error) {
	line, err := r.r.ReadSlice('\n')
	if err != nil {
		return nil, fmt.Errorf("redis read: %w", err)
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return nil, errors.New("redis read: malformed reply line")
	}
	body := line[1 : len(line)-2]
	switch line[0] {
	case '+', ':':
		return append([]byte(nil), body...), nil
	case '-':
		return nil, fmt.Errorf("redis: %s", body)
	case '$':
		n, err := strconv.Atoi(string(body))
		if err != nil || n > maxRESPBulk {
			return nil, fmt.Errorf("redis read: bad bulk length %q", body)
		}
		if n < 0 {
			return nil, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r.r, buf); err != nil {
			return nil, fmt.Errorf("redis read: %w", err)
		}
		return buf[:n], nil
	default:
		return nil, fmt.Errorf("redis read: unexpected reply type %q", line[0])
	}
}

func (r *respConn) put(ctx context.Context, key string, value []byte) error {
	_, err := r.command(ctx, []byte("SET"), []byte(key), value)
	return err
}

func (r *respConn) get(ctx context.Context, key string) error {
	v, err := r.command(ctx, []byte("GET"), []byte(key))
	if err == nil && v == nil {
		return errors.New("redis: key missing")
	}
	return err
}

func (r *respConn) close() error { return r.c.Close() }
