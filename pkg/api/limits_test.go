package api

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// entered counts requests waiting in a blocking limitServer handler.
var entered atomic.Int32

// limitServer serves a Server with edit applied to its limits; the route
// PUT /client/v4/blob reads the whole body, then counts a commit.
func limitServer(t *testing.T, lim Limits, block chan struct{}) (*testEnv, *atomic.Int32, *httptest.Server) {
	t.Helper()
	env := newEnv(t, func(c *Config) { c.Limits = lim })
	entered.Store(0)
	var commits atomic.Int32
	env.srv.Mount("PUT /client/v4/blob", "blob", 1<<20, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			WriteFailure(w, r, err)
			return
		}
		if block != nil {
			entered.Add(1)
			<-block
		}
		commits.Add(1)
		WriteEmptyResult(w)
	}))
	ts := httptest.NewServer(env.srv.Handler())
	t.Cleanup(ts.Close)
	return env, &commits, ts
}

// rawRequest writes head (and body) on a fresh connection and returns
// the status line and headers of the answer, or the read error.
func rawRequest(t *testing.T, addr, head, body string, readWithin time.Duration) (string, error) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, head+body); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(readWithin))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return "", err
	}
	b, _ := io.ReadAll(resp.Body)
	return fmt.Sprintf("%d close=%v %s", resp.StatusCode, resp.Close, b), nil
}

func putHead(addr string, length int, token string) string {
	h := fmt.Sprintf("PUT /client/v4/blob HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", addr, length)
	if token != "" {
		h += "Authorization: Bearer " + token + "\r\n"
	}
	return h + "\r\n"
}

func TestStalledBodyIs408AndClosed(t *testing.T) {
	_, commits, ts := limitServer(t, Limits{BodyIdleTimeout: 200 * time.Millisecond}, nil)
	addr := ts.Listener.Addr().String()
	start := time.Now()
	got, err := rawRequest(t, addr, putHead(addr, 10, testAdmin), "abc", 5*time.Second)
	if err != nil {
		t.Fatalf("no answer to a stalled body: %v", err)
	}
	if !strings.HasPrefix(got, "408 close=true") || !strings.Contains(got, fmt.Sprint(CodeBodyTimeout)) {
		t.Fatalf("stalled body: %s", got)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("answered after %v", d)
	}
	if commits.Load() != 0 {
		t.Fatal("a stalled body committed")
	}
	// A body that trickles faster than the idle timeout is served.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _ = io.WriteString(c, putHead(addr, 4, testAdmin))
	for _, b := range "abcd" {
		time.Sleep(100 * time.Millisecond)
		_, _ = io.WriteString(c, string(b))
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("trickled body: %v %v", resp, err)
	}
}

func TestStalledBodyWithoutTokenIsAnsweredAtOnce(t *testing.T) {
	_, _, ts := limitServer(t, Limits{BodyIdleTimeout: 5 * time.Second}, nil)
	addr := ts.Listener.Addr().String()
	start := time.Now()
	got, err := rawRequest(t, addr, putHead(addr, 10, ""), "", 3*time.Second)
	if err != nil || !strings.HasPrefix(got, "401 close=true") {
		t.Fatalf("401 for a stalled body: %q %v", got, err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("401 waited %v for the body", d)
	}
}

func TestShortBodyIs400NotLoggedAsError(t *testing.T) {
	env, commits, ts := limitServer(t, Limits{}, nil)
	addr := ts.Listener.Addr().String()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(c, putHead(addr, 10, testAdmin)+"abc")
	_ = c.(*net.TCPConn).CloseWrite() // the body ends early
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	c.Close()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 400 || !strings.Contains(string(b), fmt.Sprint(CodeBodyIncomplete)) {
		t.Fatalf("short body: %d %s", resp.StatusCode, b)
	}
	if commits.Load() != 0 {
		t.Fatal("a short body committed")
	}
	if strings.Contains(env.log.String(), `"level":"ERROR"`) {
		t.Fatalf("short body logged at ERROR: %s", env.log.String())
	}
}

func TestInFlightCap(t *testing.T) {
	block := make(chan struct{})
	_, commits, ts := limitServer(t, Limits{MaxInFlight: 2}, block)
	var wg sync.WaitGroup
	codes := make(chan int, 2)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPut, ts.URL+"/client/v4/blob", strings.NewReader("x"))
			req.Header.Set("Authorization", "Bearer "+testAdmin)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	deadline := time.Now().Add(5 * time.Second)
	for entered.Load() < 2 { // both slots taken
		if time.Now().After(deadline) {
			close(block)
			t.Fatal("the 2 admitted requests never reached the handler")
		}
		time.Sleep(5 * time.Millisecond)
	}
	req, _ := http.NewRequest(http.MethodPut, ts.URL+"/client/v4/blob", strings.NewReader("x"))
	req.Header.Set("Authorization", "Bearer "+testAdmin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		close(block)
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(b), fmt.Sprint(CodeOverloaded)) {
		close(block)
		t.Fatalf("past the in-flight cap: %d %v %s", resp.StatusCode, resp.Header, b)
	}
	// The probes still answer.
	if r, err := http.Get(ts.URL + "/healthz"); err != nil || r.StatusCode != 200 {
		close(block)
		t.Fatalf("healthz while busy: %v %v", r, err)
	}
	close(block)
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != 200 {
			t.Fatalf("admitted request answered %d", c)
		}
	}
	if commits.Load() != 2 {
		t.Fatalf("commits %d, want the 2 admitted", commits.Load())
	}
}

func TestRateLimitPerToken(t *testing.T) {
	_, commits, ts := limitServer(t, Limits{RatePerToken: 1, RateBurst: 5}, nil)
	do := func(token string) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodPut, ts.URL+"/client/v4/blob", strings.NewReader("x"))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	for i := range 5 { // the burst passes
		if resp, b := do(testAdmin); resp.StatusCode != 200 {
			t.Fatalf("request %d within the burst: %d %s", i, resp.StatusCode, b)
		}
	}
	resp, b := do(testAdmin) // one past fails, and changes nothing
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" || !strings.Contains(b, fmt.Sprint(CodeRateLimited)) ||
		!strings.Contains(b, `"success":false`) {
		t.Fatalf("past the burst: %d %v %s", resp.StatusCode, resp.Header, b)
	}
	if commits.Load() != 5 {
		t.Fatalf("commits %d, want 5", commits.Load())
	}
	if resp, b := do(testToken); resp.StatusCode != 200 { // another token has its own bucket
		t.Fatalf("other token: %d %s", resp.StatusCode, b)
	}
}

// A request another node forwarded was counted on that node: it is not
// counted again here.
func TestRateLimitCountsForwardedRequestsOnce(t *testing.T) {
	env, commits, _ := limitServer(t, Limits{RatePerToken: 1, RateBurst: 2}, nil)
	h := env.srv.Handler()
	do := func(forwarded bool) int {
		req := httptest.NewRequest(http.MethodPut, "/client/v4/blob", strings.NewReader("x"))
		req.Header.Set("Authorization", "Bearer "+testAdmin)
		if forwarded {
			req = req.WithContext(WithForwardedFrom(req.Context(), "node-2"))
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	for i := range 10 {
		if code := do(true); code != 200 {
			t.Fatalf("forwarded request %d: %d", i, code)
		}
	}
	for i := range 2 { // the burst is intact for direct requests
		if code := do(false); code != 200 {
			t.Fatalf("direct request %d within the burst: %d", i, code)
		}
	}
	if code := do(false); code != http.StatusTooManyRequests {
		t.Fatalf("direct request past the burst: %d", code)
	}
	if commits.Load() != 12 {
		t.Fatalf("commits %d, want 12", commits.Load())
	}
}

func TestRateLimiterRefills(t *testing.T) {
	now := time.Unix(0, 0)
	l := newRateLimiter(10, 2)
	l.now = func() time.Time { return now }
	for range 2 {
		if ok, _ := l.allow("a"); !ok {
			t.Fatal("burst refused")
		}
	}
	ok, wait := l.allow("a")
	if ok || wait <= 0 || wait > 100*time.Millisecond {
		t.Fatalf("empty bucket: %v %v", ok, wait)
	}
	now = now.Add(100 * time.Millisecond)
	if ok, _ := l.allow("a"); !ok {
		t.Fatal("not refilled after 1/rate")
	}
}
