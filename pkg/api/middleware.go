package api

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"
)

// Labels of requests that matched no route.
const (
	unmatchedService   = "api"
	unmatchedOperation = "unmatched"
)

// outer is the layer every request passes first: request id, node header,
// panic recovery, access log and metrics. Routing happens inside it.
func (s *Server) outer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		st := &reqState{id: requestID(r), service: unmatchedService, operation: unmatchedOperation}
		w.Header().Set(HeaderRequestID, st.id)
		w.Header().Set(HeaderNode, s.cfg.NodeID)
		if ForwardedFrom(r.Context()) == "" {
			r.Header.Del(HeaderForwardedFrom) // only peers may say so, through gRPC
		}
		rw := &recorder{ResponseWriter: w}
		r = r.WithContext(withState(r.Context(), st))
		s.guard(rw, r, s.cfg.MaxBodyBytes)
		if !quiet(r.URL.Path) { // probes and scrapes answer even when busy
			release, ok := s.admit(rw)
			if !ok {
				s.finish(rw, r, st, time.Since(start))
				return
			}
			defer release()
		}

		defer func() {
			p := recover()
			if p != nil && p != http.ErrAbortHandler {
				s.log.Error("panic in http handler", "request_id", st.id, "method", r.Method,
					"path", r.URL.Path, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				if !rw.wrote {
					WriteError(rw, http.StatusInternalServerError, CodeInternal,
						fmt.Sprintf("internal error (request id %s)", st.id))
				}
			}
			s.finish(rw, r, st, time.Since(start))
			if p == http.ErrAbortHandler {
				panic(p)
			}
		}()
		next.ServeHTTP(rw, r)
	})
}

// finish writes the access log line and the metrics of one request.
func (s *Server) finish(rw *recorder, r *http.Request, st *reqState, d time.Duration) {
	status := rw.statusOrOK()
	s.metrics.observe(st.service, st.operation, status, d)

	level := slog.LevelDebug
	switch {
	case quiet(r.URL.Path): // a 503 from /readyz while starting is no error
	case status >= http.StatusInternalServerError:
		level = slog.LevelError
	case s.cfg.AccessLog:
		level = slog.LevelInfo
	}
	if !s.log.Enabled(r.Context(), level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("request_id", st.id),
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("status", status),
		slog.Int64("bytes", rw.bytes),
		slog.Duration("duration", d),
		slog.String("service", st.service),
		slog.String("operation", st.operation),
		slog.String("remote", r.RemoteAddr),
	}
	if st.err != nil {
		attrs = append(attrs, slog.String("err", st.err.Error()))
	}
	s.log.LogAttrs(r.Context(), level, "http request", attrs...)
}

// quiet reports whether path is a probe or scrape endpoint, logged at debug
// level even with the access log on, so that monitoring does not drown it.
func quiet(path string) bool {
	return path == "/healthz" || path == "/readyz" || path == "/metrics"
}

// route wraps a route's handler: it names the request for logs and metrics,
// sets the connection's deadlines (a body idle timeout and a total deadline
// that grows with maxBody), authenticates when auth is set, applies the
// principal's rate limit (once, on the node the client reached), checks the
// token allows the route (access: how a mounted route's method maps to a
// permission; the API's own routes have their rules in ownRules), and
// enforces maxBody. On 401, 403, 413 or 429 the
// handler does not run, so nothing changes; on 401 and 413 the connection
// closes rather than wait for a body nobody will read.
func (s *Server) route(pattern, service string, auth bool, access Access, maxBody int64, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := stateFrom(r.Context())
		if st == nil { // served outside Handler(): give it a private state
			st = &reqState{id: newRequestID()}
			r = r.WithContext(withState(r.Context(), st))
		}
		st.service, st.operation = service, pattern
		s.guard(w, r, maxBody)
		if auth {
			c, ok := s.authenticate(r)
			if !ok {
				if s.catalogBehind(w, r) {
					return
				}
				w.Header().Set("Connection", "close")
				writeUnauthorized(w)
				return
			}
			st.principal, st.caller = c.principal, c
			// A request forwarded by another node was counted there, where
			// the client sent it: counting it again would halve the rate
			// of every request that takes a hop.
			if ForwardedFrom(r.Context()) == "" && !s.limitRate(w, c.principal) {
				return
			}
			if !s.authorize(w, r, pattern, service, access, c) {
				return
			}
		}
		if r.ContentLength > maxBody {
			w.Header().Set("Connection", "close")
			WriteFailure(w, r, tooLarge(maxBody))
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		}
		st.limited, st.limit = true, maxBody
		h.ServeHTTP(w, r)
	})
}

// needsAuth reports whether path is under the authenticated /client/v4 tree.
func needsAuth(path string) bool {
	return path == "/client/v4" || strings.HasPrefix(path, "/client/v4/")
}
