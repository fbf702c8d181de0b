package api

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/edgeplane/edgeplane/pkg/wire"
	"github.com/prometheus/client_golang/prometheus"
)

// Cluster is what the API asks of the node for cluster endpoints and readiness.
type Cluster interface {
	// Members lists the cluster's nodes as this node sees them.
	Members() []wire.Member
	// Status describes this node.
	Status() wire.Status
	// Ready is nil once joined and a Raft leader is known; the error says
	// what is missing.
	Ready() error
}

// Service names used as the "service" label of the API's own routes.
const (
	serviceSystem   = "system"
	serviceCluster  = "cluster"
	serviceIdentity = "identity"
)

// Server is the public HTTP API of one node. Its methods are safe for
// concurrent use; Mount may be called while it serves.
type Server struct {
	cfg       Config
	cluster   Cluster
	identity  Identity
	gather    prometheus.Gatherer
	log       *slog.Logger
	metrics   *metrics
	adminHash []byte         // SHA-256 of Config.AdminToken, nil when there is none
	authz     authorizer     // route permissions and the evaluator cache (authorize.go)
	mux       *http.ServeMux // the routes and a catch-all that answers 404/405 envelopes
	routes    *http.ServeMux // the routes alone: asked what a request would match
	handler   http.Handler
	mu        sync.Mutex                // serialises writers of rawTails
	rawTails  atomic.Pointer[[]rawTail] // copy-on-write, read without mu
	limits    Limits
	inflight  chan struct{} // a slot per request served, nil when unlimited
	rate      *rateLimiter  // nil when unlimited
}

// New builds the API with its own endpoints registered. Metrics go on reg;
// GET /metrics serves gather. A nil log discards.
func New(cfg Config, cl Cluster, id Identity, reg prometheus.Registerer, gather prometheus.Gatherer, log *slog.Logger) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	switch {
	case cl == nil:
		return nil, errors.New("api: cluster is required")
	case id == nil:
		return nil, errors.New("api: identity is required")
	case reg == nil:
		return nil, errors.New("api: prometheus registerer is required")
	case gather == nil:
		return nil, errors.New("api: prometheus gatherer is required")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	s := &Server{
		cfg:      cfg,
		cluster:  cl,
		identity: id,
		gather:   gather,
		log:      log.With("component", "http"),
		metrics:  m,
		mux:      http.NewServeMux(),
		routes:   http.NewServeMux(),
		limits:   cfg.Limits,
		rate:     newRateLimiter(cfg.Limits.RatePerToken, cfg.Limits.RateBurst),
	}
	if cfg.Limits.MaxInFlight > 0 {
		s.inflight = make(chan struct{}, cfg.Limits.MaxInFlight)
	}
	s.mux.HandleFunc("/", s.unmatched)
	if cfg.AdminToken != "" {
		sum := sha256.Sum256([]byte(cfg.AdminToken))
		s.adminHash = sum[:]
	}
	s.handler = s.outer(http.HandlerFunc(s.dispatch))
	s.registerSystem()
	s.registerCluster()
	s.registerIdentity()
	return s, nil
}

// Handler returns the root handler: every request goes through the
// middleware, then to its route or to a 404/405 envelope.
func (s *Server) Handler() http.Handler { return s.handler }

// Mount adds a service route (e.g. "GET /client/v4/accounts/{account_id}/storage/kv/namespaces")
// behind the same middleware: request id, logging, metrics with the given
// service name, auth, and a body limit of maxBody bytes (0 or less means
// Config.MaxBodyBytes). Like http.ServeMux.Handle it panics on an invalid
// pattern or one that conflicts with a registered route: that is a
// programming error found at startup.
func (s *Server) Mount(pattern, service string, maxBody int64, h http.Handler) {
	s.MountAccess(pattern, service, AccessDefault, maxBody, h)
}

// MountAccess is Mount for a route whose access level is not its method's
// (a read through POST: access is AccessRead).
func (s *Server) MountAccess(pattern, service string, access Access, maxBody int64, h http.Handler) {
	if maxBody <= 0 {
		maxBody = s.cfg.MaxBodyBytes
	}
	s.register(pattern, s.route(pattern, service, access != AccessSigned, access, maxBody, h))
	s.noteRawTail(pattern)
}

// noteRawTail records a pattern ending in a "{name...}" wildcard.
func (s *Server) noteRawTail(pattern string) {
	_, p, _ := strings.Cut(pattern, " ")
	seg := strings.Split(strings.TrimPrefix(p, "/"), "/")
	if last := seg[len(seg)-1]; !strings.HasPrefix(last, "{") || !strings.HasSuffix(last, "...}") {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	prefix := seg[:len(seg)-1]
	var cur []rawTail
	if p := s.rawTails.Load(); p != nil {
		cur = *p
	}
	for _, t := range cur {
		if slices.Equal(t.prefix, prefix) {
			return
		}
	}
	next := append(slices.Clone(cur), rawTail{prefix: prefix})
	s.rawTails.Store(&next)
}

// handle registers one of the API's own routes.
func (s *Server) handle(pattern, service string, auth bool, h http.HandlerFunc) {
	s.register(pattern, s.route(pattern, service, auth, AccessDefault, s.cfg.MaxBodyBytes, h))
}

// handleWrite registers one of the API's own authenticated routes that
// write the catalog: served on the Raft leader.
func (s *Server) handleWrite(pattern, service string, h http.HandlerFunc) {
	s.register(pattern, s.route(pattern, service, true, AccessDefault, s.cfg.MaxBodyBytes, s.cfg.Leader(service, h)))
}

// register adds a route to both muxes.
func (s *Server) register(pattern string, h http.Handler) {
	s.routes.Handle(pattern, h)
	s.mux.Handle(pattern, h)
}

// dispatch routes r, answering unmatched requests with envelopes instead of
// ServeMux's plain-text 404 and 405. A path ServeMux would clean and
// redirect is the opaque tail of a "{name...}" route (a KV key holding "//",
// "." or ".." segments), or else matches nothing. Otherwise one match in s.mux finds the route or the catch-all.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request) {
	if path.Clean(r.URL.Path) != r.URL.Path {
		if !s.dispatchRawTail(w, r) {
			s.unmatched(w, r)
		}
		return
	}
	s.mux.ServeHTTP(w, r)
}

// unmatched answers a request no route took: 401 under /client/v4 without a
// valid token (routes are not enumerable anonymously), else 405 when the
// path exists for other methods, else 404.
func (s *Server) unmatched(w http.ResponseWriter, r *http.Request) {
	if needsAuth(r.URL.Path) {
		if _, ok := s.authenticate(r); !ok {
			if s.catalogBehind(w, r) {
				return
			}
			writeUnauthorized(w)
			return
		}
	}
	// Ask ServeMux what it would answer, to learn 404 from 405 and the
	// allowed methods, then say it as an envelope.
	h, _ := s.routes.Handler(r)
	c := &capture{header: http.Header{}}
	h.ServeHTTP(c, r)
	if c.status == http.StatusMethodNotAllowed {
		if allow := c.header.Get("Allow"); allow != "" {
			w.Header().Set("Allow", allow)
		}
		WriteError(w, http.StatusMethodNotAllowed, CodeMethodNotAllowed, "Method not allowed for this path")
		return
	}
	WriteError(w, http.StatusNotFound, CodeNoRoute, "No route for that URI")
}

// rawTail is a mounted route whose pattern ends in a "{name...}" wildcard:
// its tail is opaque (a KV key), so a path holding "//", "." or ".." in the
// tail is served as written rather than cleaned and redirected.
type rawTail struct {
	prefix []string // the pattern's path segments before the wildcard
}

// matchRawTail reports whether the escaped path p (without its leading
// "/") starts with the segments of t and has a tail after them.
func (t rawTail) match(seg []string) bool {
	if len(seg) <= len(t.prefix) {
		return false
	}
	for i, want := range t.prefix {
		if !strings.HasPrefix(want, "{") && seg[i] != want {
			return false
		}
	}
	return true
}

// dispatchRawTail serves a request whose path holds an empty, "." or ".."
// segment written with literal slashes ("a//b", "a/../b") inside the tail
// of a route mounted with a final "{name...}" wildcard. ServeMux would clean
// such a path and redirect to another resource; the route is found with a
// placeholder tail instead, and the handler (which reads the tail from the
// escaped path) serves the original request.
func (s *Server) dispatchRawTail(w http.ResponseWriter, r *http.Request) bool {
	tails := s.rawTails.Load()
	if tails == nil {
		return false
	}
	for _, t := range *tails {
		seg := strings.SplitN(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/", len(t.prefix)+1)
		if !t.match(seg) {
			continue
		}
		probe := r.Clone(r.Context())
		probe.URL = &url.URL{Path: "/" + strings.Join(seg[:len(t.prefix)], "/") + "/k"}
		h, pattern := s.routes.Handler(probe)
		if pattern == "" {
			continue
		}
		r.Pattern = pattern
		for i, want := range t.prefix {
			if name, ok := strings.CutPrefix(want, "{"); ok {
				if u, err := url.PathUnescape(seg[i]); err == nil {
					r.SetPathValue(strings.TrimSuffix(name, "}"), u)
				}
			}
		}
		h.ServeHTTP(w, r)
		return true
	}
	return false
}
