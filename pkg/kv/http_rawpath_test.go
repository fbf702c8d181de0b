package kv

import (
	"github.com/edgeplane/edgeplane/pkg/api"
	"net/http"
	"testing"
)

// Keys written with literal slashes are opaque: "a//b", "a/./b" and
// "a/../b" are keys of their own, never redirected to a cleaned path.
func TestKVKeysWithDotAndEmptySegmentsAreNotCleaned(t *testing.T) {
	e := newKVEnv(t)
	keys := []string{"a//b", "a/./b", "a/../b", "dir/", "x/.."}
	for _, k := range keys {
		w := e.do(http.MethodPut, e.url("/values/"+k), "text/plain", "v"+k)
		if w.Code != http.StatusOK {
			t.Fatalf("put %q: %d %s", k, w.Code, w.Body)
		}
	}
	for _, k := range keys {
		w := e.get(e.url("/values/" + k))
		if w.Code != http.StatusOK || w.Body.String() != "v"+k {
			t.Fatalf("get %q: %d %q", k, w.Code, w.Body)
		}
	}
	// The cleaned forms were never written.
	for _, k := range []string{"a/b", "b"} {
		wantError(t, e.get(e.url("/values/"+k)), http.StatusNotFound, api.CodeKVKeyNotFound)
	}
	if got := len(e.st.snapshot()); got != len(keys) {
		t.Fatalf("store holds %d keys, want %d", got, len(keys))
	}
	// Metadata route and deletes take the same path.
	wantError(t, e.get(e.url("/metadata/a//c")), http.StatusNotFound, api.CodeKVKeyNotFound)
	if w := e.do(http.MethodDelete, e.url("/values/a/../b"), "", ""); w.Code != http.StatusOK {
		t.Fatalf("delete: %d", w.Code)
	}
	wantError(t, e.get(e.url("/values/a/../b")), http.StatusNotFound, api.CodeKVKeyNotFound)
	// Paths outside KV are still cleaned by the mux (404, not a key lookup).
	if w := e.get("/client/v4/accounts/" + testAccount + "/storage/kv/../kv/namespaces"); w.Code == http.StatusOK {
		t.Fatal("non-KV path with .. served")
	}
}
