package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/edgeplane/edgeplane/pkg/catalog"
)

// limitEnv mounts a handler with a 64-byte limit that reads the whole body
// and only then "changes state" (counts a commit).
func limitEnv(t *testing.T) (*atomic.Bool, *atomic.Int32, *httptest.Server) {
	t.Helper()
	env := newEnv(t, nil)
	var commits atomic.Int32
	var sawChunked atomic.Bool
	env.srv.Mount("PUT /client/v4/blob", "blob", 64, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > 64 {
			t.Errorf("handler ran for a declared length %d over the limit", r.ContentLength)
		}
		if r.ContentLength == -1 {
			sawChunked.Store(true)
		}
		b, err := io.ReadAll(r.Body)
		if err != nil {
			WriteFailure(w, r, err)
			return
		}
		commits.Add(1)
		WriteResult(w, http.StatusOK, len(b), nil)
	}))
	ts := httptest.NewServer(env.srv.Handler())
	t.Cleanup(ts.Close)
	return &sawChunked, &commits, ts
}

// put sends body to the test server; chunked hides the length.
func put(t *testing.T, ts *httptest.Server, body []byte, chunked bool) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader = bytes.NewReader(body)
	if chunked {
		rd = io.MultiReader(rd) // unknown length: Go sends it chunked
	}
	req, err := http.NewRequest(http.MethodPut, ts.URL+"/client/v4/blob", rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testAdmin)
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatalf("PUT: %v", err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp, out
}

func TestBodyLimitContentLength(t *testing.T) {
	_, commits, ts := limitEnv(t)
	resp, body := put(t, ts, bytes.Repeat([]byte("x"), 65), false)
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("status = %d, body %s", resp.StatusCode, body)
	}
	env := decodeEnvelope(t, body)
	if env.Errors[0].Code != CodeBodyTooLarge || !strings.Contains(env.Errors[0].Message, "64 bytes") {
		t.Fatalf("errors = %+v", env.Errors)
	}
	if resp.Header.Get("x-should-retry") != "false" {
		t.Fatal("413 without x-should-retry: false")
	}
	if n := commits.Load(); n != 0 {
		t.Fatalf("handler committed %d times", n)
	}
}

func TestBodyLimitChunked(t *testing.T) {
	sawChunked, commits, ts := limitEnv(t)
	resp, body := put(t, ts, bytes.Repeat([]byte("x"), 1000), true)
	if !sawChunked.Load() {
		t.Fatal("the request reached the handler with a known length; the test is not testing chunking")
	}
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("status = %d, body %s", resp.StatusCode, body)
	}
	if env := decodeEnvelope(t, body); env.Errors[0].Code != CodeBodyTooLarge {
		t.Fatalf("errors = %+v", env.Errors)
	}
	if n := commits.Load(); n != 0 {
		t.Fatalf("handler committed %d times", n)
	}
}

func TestBodyLimitExactlyAtLimit(t *testing.T) {
	_, commits, ts := limitEnv(t)
	for _, chunked := range []bool{false, true} {
		resp, body := put(t, ts, bytes.Repeat([]byte("x"), 64), chunked)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("chunked=%v: status = %d, body %s", chunked, resp.StatusCode, body)
		}
		var n int
		if err := json.Unmarshal(decodeEnvelope(t, body).Result, &n); err != nil || n != 64 {
			t.Fatalf("chunked=%v: result %d, err %v", chunked, n, err)
		}
	}
	if n := commits.Load(); n != 2 {
		t.Fatalf("commits = %d, want 2", n)
	}
}

func TestConfigBodyLimitOnOwnEndpoints(t *testing.T) {
	env := newEnv(t, func(c *Config) { c.MaxBodyBytes = 256 })
	var created atomic.Int32
	env.id.create = func(_ context.Context, t catalog.Token) (catalog.Token, string, error) {
		created.Add(1)
		return t, "v", nil
	}
	// Declared length over the limit: refused before the handler.
	big := `{"name":"` + strings.Repeat("n", 300) + `"}`
	w := env.serve(request(http.MethodPost, "/client/v4/user/tokens", testAdmin, strings.NewReader(big)))
	wantError(t, w, http.StatusRequestEntityTooLarge, CodeBodyTooLarge)
	// Unknown length over the limit: DecodeJSON hits the MaxBytesReader.
	r := request(http.MethodPost, "/client/v4/user/tokens", testAdmin, io.MultiReader(strings.NewReader(big)))
	r.ContentLength = -1
	w = env.serve(r)
	wantError(t, w, http.StatusRequestEntityTooLarge, CodeBodyTooLarge)
	if n := created.Load(); n != 0 {
		t.Fatalf("CreateToken called %d times", n)
	}
	// Under the limit works.
	w = env.serve(request(http.MethodPost, "/client/v4/user/tokens", testAdmin, strings.NewReader(`{"name":"ok","policies":[{"effect":"allow","resources":{"com.cloudflare.api.account.acc-default":"*"},"permission_groups":[{"id":"8b47d2786a534c08a1f94ee8f9f599ef"}]}]}`)))
	result(t, w, nil)
}

func TestMountOwnLimitAboveDefault(t *testing.T) {
	env := newEnv(t, func(c *Config) { c.MaxBodyBytes = 16 })
	env.srv.Mount("PUT /client/v4/big", "big", 1<<10, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			WriteFailure(w, r, err)
			return
		}
		WriteResult(w, http.StatusOK, len(b), nil)
	}))
	w := env.serve(request(http.MethodPut, "/client/v4/big", testAdmin, strings.NewReader(strings.Repeat("x", 1000))))
	result(t, w, nil)
	w = env.serve(request(http.MethodPut, "/client/v4/big", testAdmin, strings.NewReader(strings.Repeat("x", 1025))))
	wantError(t, w, http.StatusRequestEntityTooLarge, CodeBodyTooLarge)
}
