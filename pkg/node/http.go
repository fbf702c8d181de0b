package node

import (
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// DefaultMaxConns caps the public HTTP connections a node keeps open.
const DefaultMaxConns = 4096

// newHTTPServer builds the public API's http.Server: a header timeout, an
// idle timeout for kept-alive connections, and a cap on open connections
// (beyond it a new connection is closed at once, before any byte is read;
// the API's own limits bound bodies, deadlines, in-flight requests and
// rates). Request and body deadlines are set per request by the API, which
// knows each route's body limit.
func (n *Node) newHTTPServer(h http.Handler) *http.Server {
	maxConns := n.cfg.MaxConns
	if maxConns == 0 {
		maxConns = DefaultMaxConns
	}
	log := n.log.With("component", "http")
	var open atomic.Int64
	var lastWarn atomic.Int64
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ConnState: func(c net.Conn, st http.ConnState) {
			if maxConns < 0 {
				return
			}
			switch st {
			case http.StateNew:
				if open.Add(1) > int64(maxConns) {
					if now := time.Now().Unix(); lastWarn.Swap(now) != now {
						log.Warn("http connection refused: at the connection cap", "max_conns", maxConns, "remote", c.RemoteAddr().String())
					}
					_ = c.Close() // counted down by StateClosed
				}
			case http.StateHijacked, http.StateClosed:
				open.Add(-1)
			}
		},
	}
}
