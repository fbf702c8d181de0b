package api

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Defaults of Limits: generous enough that no well-behaved client meets
// them, tight enough that one node survives a misbehaving one.
const (
	// DefaultBodyIdleTimeout is how long a request body may send nothing.
	DefaultBodyIdleTimeout = 10 * time.Second
	// DefaultRequestTimeout is the base of a request's total deadline.
	DefaultRequestTimeout = 30 * time.Second
	// DefaultMinBodyRate is the slowest average upload accepted: a route's
	// deadline grows by its body limit divided by this rate (a 100 MB bulk
	// write gets 30 s + 100 s).
	DefaultMinBodyRate = 1 << 20
	// DefaultMaxInFlight caps the requests one node serves at once.
	DefaultMaxInFlight = 1024
	// DefaultRatePerToken is the sustained requests per second of one
	// token (or the admin token); DefaultRateBurst the burst above it. The
	// default sits above what one node serves (about 30,000 requests a
	// second measured), so that benchmarks and single heavy clients are
	// not throttled: operators sharing a node between tenants set it lower.
	DefaultRatePerToken = 50_000
	DefaultRateBurst    = 100_000
)

// Limits bounds what one client can hold of a node. Zero fields take the
// defaults; a negative MaxInFlight or RatePerToken turns that limit off.
type Limits struct {
	// BodyIdleTimeout: a request whose body sends no byte for this long is
	// answered 408 and its connection closed.
	BodyIdleTimeout time.Duration
	// RequestTimeout plus the route's body limit at MinBodyRate is the
	// deadline for reading a request and writing its answer.
	RequestTimeout time.Duration
	// MinBodyRate in bytes per second (see RequestTimeout).
	MinBodyRate int64
	// MaxInFlight caps requests served at once (probes and /metrics
	// excepted); beyond it the answer is 503 with Retry-After.
	MaxInFlight int
	// RatePerToken and RateBurst: each authenticated principal's token
	// bucket (burst default: two seconds at the rate); beyond it the
	// answer is 429 with Retry-After.
	RatePerToken float64
	RateBurst    int
}

func (l Limits) withDefaults() Limits {
	if l.BodyIdleTimeout == 0 {
		l.BodyIdleTimeout = DefaultBodyIdleTimeout
	}
	if l.RequestTimeout == 0 {
		l.RequestTimeout = DefaultRequestTimeout
	}
	if l.MinBodyRate == 0 {
		l.MinBodyRate = DefaultMinBodyRate
	}
	if l.MaxInFlight == 0 {
		l.MaxInFlight = DefaultMaxInFlight
	}
	if l.RatePerToken == 0 {
		l.RatePerToken = DefaultRatePerToken
	}
	if l.RateBurst == 0 { // two seconds' worth
		l.RateBurst = max(1, int(2*l.RatePerToken))
	}
	return l
}

// deadline is the total time allowed to a request on a route whose body
// limit is maxBody.
func (l Limits) deadline(maxBody int64) time.Duration {
	return l.RequestTimeout + time.Duration(maxBody/l.MinBodyRate)*time.Second
}

// Sentinels of request bodies that did not arrive as announced.
var (
	// ErrBodyTimeout is a body that sent nothing for BodyIdleTimeout, or
	// did not finish by the request's deadline: 408.
	ErrBodyTimeout = errors.New("request body timed out")
	// ErrBodyIncomplete is a body that ended before its Content-Length: 400.
	ErrBodyIncomplete = errors.New("request body ended before its Content-Length")
)

// guardedBody reads a request body with an idle deadline that each read
// pushes forward (never past the request's total deadline), and names the
// ways a body can fail: ErrBodyTimeout, ErrBodyIncomplete.
type guardedBody struct {
	io.ReadCloser
	rc       *http.ResponseController
	idle     time.Duration
	deadline time.Time
	failed   error
}

func (b *guardedBody) Read(p []byte) (int, error) {
	if b.failed != nil {
		return 0, b.failed
	}
	_ = b.rc.SetReadDeadline(minTime(time.Now().Add(b.idle), b.deadline))
	n, err := b.ReadCloser.Read(p)
	if err == nil || errors.Is(err, io.EOF) {
		return n, err
	}
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		b.failed = fmt.Errorf("%w: no byte for %v, or past the request deadline", ErrBodyTimeout, b.idle)
	case errors.Is(err, io.ErrUnexpectedEOF):
		b.failed = ErrBodyIncomplete
	default:
		return n, err
	}
	return n, b.failed
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// guard sets the connection deadlines of a request on a route whose body
// limit is maxBody and wraps its body in a guardedBody. outer calls it for
// every request (deadlines persist on a kept-alive connection, so each
// request must set its own) and route again with its own limit. It does
// nothing where the writer allows no deadlines (handlers called directly).
func (s *Server) guard(w http.ResponseWriter, r *http.Request, maxBody int64) {
	rc := http.NewResponseController(w)
	deadline := time.Now().Add(s.limits.deadline(maxBody))
	if err := rc.SetWriteDeadline(deadline.Add(s.limits.RequestTimeout)); err != nil {
		return // not a real connection
	}
	_ = rc.SetReadDeadline(minTime(time.Now().Add(s.limits.BodyIdleTimeout), deadline))
	if gb, ok := r.Body.(*guardedBody); ok { // outer guarded it: the route knows better
		gb.deadline = deadline
		return
	}
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = &guardedBody{ReadCloser: r.Body, rc: rc, idle: s.limits.BodyIdleTimeout, deadline: deadline}
	}
}

// admit takes an in-flight slot, or answers 503 with Retry-After and
// returns false when the node is at MaxInFlight.
func (s *Server) admit(w http.ResponseWriter) (release func(), ok bool) {
	if s.inflight == nil {
		return func() {}, true
	}
	select {
	case s.inflight <- struct{}{}:
		return func() { <-s.inflight }, true
	default:
		s.metrics.rejected("inflight")
		w.Header().Set("Retry-After", "1")
		w.Header().Set("Connection", "close")
		WriteError(w, http.StatusServiceUnavailable, CodeOverloaded,
			fmt.Sprintf("node busy: %d requests in flight; retry later", cap(s.inflight)))
		return nil, false
	}
}

// rateLimiter keeps one token bucket per principal.
type rateLimiter struct {
	rate  float64 // tokens per second
	burst float64
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newRateLimiter(rate float64, burst int) *rateLimiter {
	if rate <= 0 {
		return nil
	}
	return &rateLimiter{rate: rate, burst: float64(burst), now: time.Now, buckets: map[string]*bucket{}}
}

// allow takes one token of principal's bucket; when empty it returns
// false and how long until a token is there.
func (l *rateLimiter) allow(principal string) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > time.Minute { // forget full buckets: bounded memory
		for k, b := range l.buckets {
			if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
				delete(l.buckets, k)
			}
		}
		l.swept = now
	}
	b := l.buckets[principal]
	if b == nil {
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[principal] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

// limitRate answers 429 with Retry-After when principal is over its rate.
func (s *Server) limitRate(w http.ResponseWriter, principal string) bool {
	if s.rate == nil {
		return true
	}
	ok, wait := s.rate.allow(principal)
	if ok {
		return true
	}
	s.metrics.rejected("rate")
	secs := max(1, int((wait+time.Second-1)/time.Second))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	WriteError(w, http.StatusTooManyRequests, CodeRateLimited,
		fmt.Sprintf("rate limited: more than %g requests per second for this token; retry after %d s", s.rate.rate, secs))
	return false
}
