package kv

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/edgeplane/edgeplane/pkg/api"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

func TestKVValueRoundTrip(t *testing.T) {
	e := newKVEnv(t)
	w := e.do(http.MethodPut, e.url("/values/hello"), "text/plain", "world")
	result(t, w, nil)
	w = e.get(e.url("/values/hello"))
	if w.Code != http.StatusOK || w.Body.String() != "world" {
		t.Fatalf("get = %d %q", w.Code, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/octet-stream" {
		t.Fatalf("Content-Type = %q", ct)
	}
	if w.Header().Get("expiration") != "" {
		t.Fatal("expiration header on a key that never expires")
	}
	var meta any
	result(t, e.get(e.url("/metadata/hello")), &meta)
	if meta != nil {
		t.Fatalf("metadata = %v, want null", meta)
	}
	result(t, e.do(http.MethodDelete, e.url("/values/hello"), "", ""), nil)
	wantError(t, e.get(e.url("/values/hello")), http.StatusNotFound, api.CodeKVKeyNotFound)
	wantError(t, e.get(e.url("/metadata/hello")), http.StatusNotFound, api.CodeKVKeyNotFound)
	// Deleting what is not there succeeds, as on Cloudflare.
	result(t, e.do(http.MethodDelete, e.url("/values/hello"), "", ""), nil)
}

func TestKVKeysFromPath(t *testing.T) {
	e := newKVEnv(t)
	cases := []struct{ path, key string }{
		{"dir/a%20b", "dir/a b"},
		{"dir%2Fa", "dir/a"},
		{"q%3Fx%3D1", "q?x=1"},
		{"pct%252F", "pct%2F"},
		{"a%2F..%2Fb", "a/../b"},
		{"trailing/", "trailing/"},
		{"%E2%9C%93", "✓"},
		{"plus+sign", "plus+sign"},
	}
	for i, c := range cases {
		result(t, e.do(http.MethodPut, e.url("/values/"+c.path), "", strconv.Itoa(i)), nil)
		ent, err := e.svc.Get(t.Context(), e.ns, c.key)
		if err != nil || string(ent.Value) != strconv.Itoa(i) {
			t.Fatalf("%s: stored under %q? %v", c.path, c.key, err)
		}
		if w := e.get(e.url("/values/" + url.PathEscape(c.key))); w.Body.String() != strconv.Itoa(i) {
			t.Fatalf("%s: read back %q", c.path, w.Body)
		}
	}
	// dir/a and dir%2Fa are one key.
	if w := e.get(e.url("/values/dir/a")); w.Body.String() != "1" {
		t.Fatalf("dir/a = %q", w.Body)
	}
}

func TestKVPutMultipartWithMetadataAndTTL(t *testing.T) {
	e := newKVEnv(t)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("value", "v1")
	_ = mw.WriteField("metadata", `{"owner":"me"}`)
	_ = mw.Close()
	before := time.Now().Unix()
	w := e.do(http.MethodPut, e.url("/values/k?expiration_ttl=3600&expiration=1"), mw.FormDataContentType(), buf.String())
	result(t, w, nil)
	w = e.get(e.url("/values/k?cacheTtl=60"))
	if w.Body.String() != "v1" {
		t.Fatalf("value = %q", w.Body)
	}
	exp, err := strconv.ParseInt(w.Header().Get("expiration"), 10, 64)
	if err != nil || exp < before+3600 || exp > time.Now().Unix()+3600 {
		t.Fatalf("expiration header = %q (ttl must win over expiration)", w.Header().Get("expiration"))
	}
	var meta map[string]string
	result(t, e.get(e.url("/metadata/k")), &meta)
	if meta["owner"] != "me" {
		t.Fatalf("metadata = %v", meta)
	}
	wantError(t, e.get(e.url("/values/k?cacheTtl=59")), http.StatusBadRequest, api.CodeBadRequest)
}

func TestKVUnknownAccountAndNamespace(t *testing.T) {
	e := newKVEnv(t)
	wantError(t, e.get("/client/v4/accounts/nope/storage/kv/namespaces/"+e.ns+"/values/k"), http.StatusNotFound, api.CodeInvalidIdentifier)
	wantError(t, e.get("/client/v4/accounts/nope/storage/kv/namespaces"), http.StatusNotFound, api.CodeInvalidIdentifier)
	before := e.st.snapshot()
	w := e.do(http.MethodPut, "/client/v4/accounts/"+testAccount+"/storage/kv/namespaces/nope/values/k", "", "v")
	wantError(t, w, http.StatusNotFound, api.CodeKVNamespaceNotFound)
	e.wantUnchanged(t, before)
	wantError(t, e.serve(request(http.MethodGet, e.url("/values/k"), "", nil)), http.StatusUnauthorized, api.CodeAuthentication)
}

// multipartBody builds a value+metadata multipart body.
func multipartBody(value, metadata []byte) (string, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("value", "blob")
	_, _ = fw.Write(value)
	if metadata != nil {
		_ = mw.WriteField("metadata", string(metadata))
	}
	_ = mw.Close()
	return buf.String(), mw.FormDataContentType()
}

// TestKVValueLimitsAtTheEdge: each limit passes; one past it is a 4xx
// envelope and nothing changes.
func TestKVValueLimitsAtTheEdge(t *testing.T) {
	t.Run("fake store", func(t *testing.T) { testKVValueLimitsAtTheEdge(t, newKVEnv(t)) })
	t.Run("pebble store", func(t *testing.T) { testKVValueLimitsAtTheEdge(t, newPebbleKVEnv(t)) })
}

func testKVValueLimitsAtTheEdge(t *testing.T, e *kvEnv) {
	meta := `{"a":"` + strings.Repeat("x", MaxMetadataBytes-8) + `"}`
	overMeta := `{"a":"` + strings.Repeat("x", MaxMetadataBytes-7) + `"}`
	big := string(make([]byte, MaxValueBytes))
	soon := time.Now().Unix() + 120
	okBody, okCT := multipartBody([]byte("v"), []byte(meta))
	overBody, overCT := multipartBody([]byte("v"), []byte(overMeta))
	bigMP, bigMPCT := multipartBody(make([]byte, MaxValueBytes+1), nil)
	cases := []struct {
		name         string
		path, ct     string
		body         string
		status, code int
	}{
		{"key 512", "/values/" + strings.Repeat("k", MaxKeyBytes), "", "v", 200, 0},
		{"key 513", "/values/" + strings.Repeat("k", MaxKeyBytes+1), "", "v", 400, api.CodeKVInvalidKey},
		{"key dot", "/values/%2E", "", "v", 400, api.CodeKVInvalidKey},
		{"key dotdot", "/values/%2E%2E", "", "v", 400, api.CodeKVInvalidKey},
		{"value 25MiB", "/values/big", "", big, 200, 0},
		{"value 25MiB+1", "/values/big2", "", big + "x", 413, api.CodeKVValueTooLarge},
		{"multipart value 25MiB+1", "/values/big3", bigMPCT, bigMP, 413, api.CodeKVValueTooLarge},
		{"metadata 1024", "/values/m", okCT, okBody, 200, 0},
		{"metadata 1025", "/values/m2", overCT, overBody, 400, api.CodeKVInvalidMetadata},
		{"metadata not json", "/values/m3", "multipart/form-data; boundary=X",
			"--X\r\nContent-Disposition: form-data; name=\"value\"\r\n\r\nv\r\n--X\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n{nope\r\n--X--\r\n", 400, api.CodeKVInvalidMetadata},
		{"multipart without value", "/values/m4", "multipart/form-data; boundary=X",
			"--X\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n{}\r\n--X--\r\n", 400, api.CodeBadRequest},
		{"ttl 60", "/values/t?expiration_ttl=60", "", "v", 200, 0},
		{"ttl 59", "/values/t2?expiration_ttl=59", "", "v", 400, api.CodeKVInvalidExpiration},
		{"ttl junk", "/values/t3?expiration_ttl=1h", "", "v", 400, api.CodeKVInvalidExpiration},
		{"expiration +120", fmt.Sprintf("/values/x?expiration=%d", soon), "", "v", 200, 0},
		{"expiration +59", fmt.Sprintf("/values/x2?expiration=%d", time.Now().Unix()+59), "", "v", 400, api.CodeKVInvalidExpiration},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := e.st.snapshot()
			w := e.do(http.MethodPut, e.url(c.path), c.ct, c.body)
			if c.status == 200 {
				result(t, w, nil)
				return
			}
			wantError(t, w, c.status, c.code)
			if w.Header().Get("x-should-retry") != "false" {
				t.Error("a limit error must say x-should-retry: false")
			}
			e.wantUnchanged(t, before)
		})
	}
}

// TestKVValueOverLimitOneCode: a 26 MiB value, raw or multipart, answers
// 413 with KV's code; only a body past the route's much larger limit gets
// the generic one. Nothing changes either way.
func TestKVValueOverLimitOneCode(t *testing.T) {
	e := newKVEnv(t)
	before := e.st.snapshot()
	big := make([]byte, 26<<20)
	r := request(http.MethodPut, e.url("/values/huge"), testAdmin, bytes.NewReader(big))
	wantError(t, e.serve(r), http.StatusRequestEntityTooLarge, api.CodeKVValueTooLarge)

	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("value", "v")
	_, _ = fw.Write(big)
	_ = mw.Close()
	r = request(http.MethodPut, e.url("/values/huge"), testAdmin, &buf)
	r.Header.Set("Content-Type", mw.FormDataContentType())
	wantError(t, e.serve(r), http.StatusRequestEntityTooLarge, api.CodeKVValueTooLarge)

	// Chunked (no Content-Length): the same.
	r = request(http.MethodPut, e.url("/values/huge"), testAdmin, io.MultiReader(bytes.NewReader(big)))
	r.ContentLength = -1
	wantError(t, e.serve(r), http.StatusRequestEntityTooLarge, api.CodeKVValueTooLarge)

	// Exactly 25 MiB passes (on another namespace's env).
	if e2 := newKVEnv(t); e2.do(http.MethodPut, e2.url("/values/max"), "", string(big[:MaxValueBytes])).Code != 200 {
		t.Fatal("25 MiB value refused")
	}

	r = request(http.MethodPut, e.url("/values/huge"), testAdmin, bytes.NewReader(make([]byte, kvValueRouteLimit+1)))
	wantError(t, e.serve(r), http.StatusRequestEntityTooLarge, api.CodeBodyTooLarge)
	e.wantUnchanged(t, before)
}

func TestParseExpirationParams(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	for _, c := range []struct {
		exp, ttl string
		want     int64
		ok       bool
	}{
		{"", "", 0, true},
		{"", "60", now.Unix() + 60, true},
		{"1000060", "", 1000060, true},
		{"1000059", "", 0, false},
		{"0", "", 0, false},
		{"", "0", 0, false},
		{"", "-5", 0, false},
		{"", "99999999999999999999", 0, false},
		{"", "9223372036854775807", 0, false},
		{"1.5", "", 0, false},
	} {
		got, err := parseExpirationParams(c.exp, c.ttl, now)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("(%q,%q) = %d, %v", c.exp, c.ttl, got, err)
		}
	}
}

// TestReadLimited: the body comes back whole whatever the size hint says,
// the limit passes and one byte past it fails, and reader errors surface.
func TestReadLimited(t *testing.T) {
	body := strings.Repeat("x", 1000)
	for _, tc := range []struct {
		name  string
		body  string
		hint  int64
		limit int
		err   error
	}{
		{"exact hint", body, 1000, 2000, nil},
		{"no hint", body, -1, 2000, nil},
		{"hint too small", body, 10, 2000, nil},
		{"hint too large", body, 1500, 2000, nil},
		{"empty", "", 0, 10, nil},
		{"at the limit", body, 1000, 1000, nil},
		{"one past the limit", body + "y", 1001, 1000, errOverLimit},
		{"past the limit, no hint", body + "y", -1, 1000, errOverLimit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readLimited(strings.NewReader(tc.body), tc.hint, tc.limit)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if tc.err == nil && (string(got) != tc.body || got == nil) {
				t.Fatalf("read %d bytes (nil %v), want %d", len(got), got == nil, len(tc.body))
			}
		})
	}
	boom := errors.New("boom")
	if _, err := readLimited(io.MultiReader(strings.NewReader("ab"), iotest.ErrReader(boom)), 5, 10); !errors.Is(err, boom) {
		t.Fatalf("reader error: %v", err)
	}
}
