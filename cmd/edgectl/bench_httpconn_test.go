package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestReadResponse(t *testing.T) {
	for _, tc := range []struct {
		name   string
		raw    string
		head   bool
		status int
		keep   bool
		rest   string // what must be left unread: the next response
		bad    bool
	}{
		{name: "content-length", raw: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloNEXT", status: 200, keep: true, rest: "NEXT"},
		{name: "chunked with trailer", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\nNEXT", status: 200, keep: true, rest: "NEXT"},
		{name: "chunked", raw: "HTTP/1.1 404 Not Found\r\ntransfer-encoding: Chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\nNEXT", status: 404, keep: true, rest: "NEXT"},
		{name: "connection close", raw: "HTTP/1.1 400 Bad\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", status: 400},
		{name: "http/1.0", raw: "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", status: 200},
		{name: "read to close", raw: "HTTP/1.1 200 OK\r\n\r\nall of it", status: 200},
		{name: "no body for 204", raw: "HTTP/1.1 204 No Content\r\n\r\nNEXT", status: 204, keep: true, rest: "NEXT"},
		{name: "no body for HEAD", raw: "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nNEXT", head: true, status: 200, keep: true, rest: "NEXT"},
		{name: "not http", raw: "SSH-2.0-OpenSSH\r\n\r\n", bad: true},
		{name: "bad status", raw: "HTTP/1.1 2x0 OK\r\n\r\n", bad: true},
		{name: "bad length", raw: "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", bad: true},
		{name: "header without colon", raw: "HTTP/1.1 200 OK\r\nbroken\r\n\r\n", bad: true},
		{name: "short body", raw: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", bad: true},
		{name: "truncated headers", raw: "HTTP/1.1 200 OK\r\nContent-Length: 1", bad: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := bufio.NewReader(strings.NewReader(tc.raw))
			status, keep, err := readResponse(r, tc.head)
			if tc.bad {
				if err == nil {
					t.Fatalf("accepted: status %d", status)
				}
				return
			}
			if err != nil || status != tc.status || keep != tc.keep {
				t.Fatalf("= %d, keep %v, %v; want %d, keep %v", status, keep, err, tc.status, tc.keep)
			}
			rest := make([]byte, 64)
			n, _ := r.Read(rest)
			if string(rest[:n]) != tc.rest {
				t.Fatalf("left %q unread, want %q", rest[:n], tc.rest)
			}
		})
	}
}

// TestHTTPConnAgainstNetHTTP drives a real net/http server: keep-alive
// across requests (one connection), bodies of both framings, the headers
// sent, and a reconnect after the server closes.
func TestHTTPConnAgainstNetHTTP(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer t" || r.Host == "" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/big": // past net/http's buffer: chunked
			w.Write([]byte(strings.Repeat("x", 64<<10)))
		case "/close":
			w.Header().Set("Connection", "close")
		case "/put":
			b := make([]byte, 16)
			n, _ := r.Body.Read(b)
			if r.Method != http.MethodPut || r.ContentLength != 3 || string(b[:n]) != "abc" ||
				r.Header.Get("Content-Type") != "text/plain" {
				w.WriteHeader(http.StatusBadRequest)
			}
		default:
			w.Write([]byte("ok"))
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	hdr := http.Header{}
	hdr.Set("Authorization", "Bearer t")
	hc, err := newHTTPConn(srv.URL, hdr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer hc.close()
	ctx := t.Context()
	for _, p := range []string{"/a", "/big", "/a", "/big"} {
		status, err := hc.do(ctx, http.MethodGet, p, "", nil)
		if err != nil || status != 200 {
			t.Fatalf("GET %s = %d, %v", p, status, err)
		}
	}
	first := hc.c
	if status, err := hc.do(ctx, http.MethodPut, "/put", "text/plain", []byte("abc")); err != nil || status != 200 {
		t.Fatalf("PUT = %d, %v", status, err)
	}
	if hc.c != first || conns.Load() != 1 {
		t.Fatalf("keep-alive connection was replaced (%d connections)", conns.Load())
	}
	if status, err := hc.do(ctx, http.MethodGet, "/close", "", nil); err != nil || status != 200 || hc.c != nil {
		t.Fatalf("GET /close = %d, %v, conn kept %v", status, err, hc.c != nil)
	}
	if status, err := hc.do(ctx, http.MethodGet, "/a", "", nil); err != nil || status != 200 || conns.Load() != 2 {
		t.Fatalf("GET after close = %d, %v (%d connections, want 2)", status, err, conns.Load())
	}
	if err := expect2xx("GET", "/x", 404, nil); err == nil {
		t.Fatal("404 passed expect2xx")
	}
	if err := expect2xx("GET", "/x", 0, errBadResponse); !errors.Is(err, errBadResponse) {
		t.Fatalf("expect2xx lost the error: %v", err)
	}
	if _, err := newHTTPConn("ftp://x", nil, time.Second); err == nil {
		t.Fatal("ftp:// accepted")
	}
	if _, err := newHTTPConn("http://x", http.Header{"X": {"a\r\nb"}}, time.Second); err == nil {
		t.Fatal("header with CRLF accepted")
	}
}

// FuzzReadResponse: any input either parses or errors, never panics,
// and a parsed status is a three-digit code.
func FuzzReadResponse(f *testing.F) {
	f.Add("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false)
	f.Add("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n", false)
	f.Add("HTTP/1.0 204 x\r\n\r\n", true)
	f.Fuzz(func(t *testing.T, raw string, head bool) {
		status, _, err := readResponse(bufio.NewReader(strings.NewReader(raw)), head)
		if err == nil && (status < 100 || status > 999) {
			t.Fatalf("status %d from %q", status, raw)
		}
	})
}

// TestEtcdConn: the etcd target posts base64 JSON to the v3 gateway.
func TestEtcdConn(t *testing.T) {
	var mu sync.Mutex
	got := map[string]map[string]string{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]string
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		mu.Lock()
		got[r.URL.Path] = body
		mu.Unlock()
		w.Write([]byte(`{"header":{}}`))
	}))
	defer srv.Close()
	c, err := (&etcdTarget{base: etcdBase(strings.TrimPrefix(srv.URL, "http://")), timeout: time.Second}).open(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	if err := c.put(t.Context(), "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := c.get(t.Context(), "k"); err != nil {
		t.Fatal(err)
	}
	if got["/v3/kv/put"]["key"] != "aw==" || got["/v3/kv/put"]["value"] != "dg==" || got["/v3/kv/range"]["key"] != "aw==" {
		t.Fatalf("gateway saw %v", got)
	}
}
