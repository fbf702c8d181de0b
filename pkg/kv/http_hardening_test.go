package kv

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/edgeplane/edgeplane/pkg/api"
	"github.com/edgeplane/edgeplane/pkg/api/apitest"
	"github.com/edgeplane/edgeplane/pkg/catalog"
	"github.com/edgeplane/edgeplane/pkg/hlc"
	"github.com/prometheus/client_golang/prometheus"
)

// TestKVInvalidUTF8IsRefusedAtTheEdge: a key or metadata of invalid UTF-8
// is 400 with the KV code on every write and read path, and changes
// nothing; the same bytes as valid UTF-8 pass.
func TestKVInvalidUTF8IsRefusedAtTheEdge(t *testing.T) {
	e := newKVEnv(t)
	before := e.st.snapshot()
	for _, c := range []struct {
		name, method, path, ct, body string
		code                         int
	}{
		{"put raw", http.MethodPut, "/values/x%FF", "", "v", api.CodeKVInvalidKey},
		{"put truncated rune", http.MethodPut, "/values/%E2%9C", "", "v", api.CodeKVInvalidKey},
		{"get", http.MethodGet, "/values/x%FF", "", "", api.CodeKVInvalidKey},
		{"delete", http.MethodDelete, "/values/x%FF", "", "", api.CodeKVInvalidKey},
		{"metadata", http.MethodGet, "/metadata/x%FF", "", "", api.CodeKVInvalidKey},
		{"bulk key", http.MethodPut, "/bulk", "application/json", "[{\"key\":\"x\xff\",\"value\":\"v\"}]", api.CodeKVInvalidKey},
		{"bulk metadata", http.MethodPut, "/bulk", "application/json", "[{\"key\":\"x\",\"value\":\"v\",\"metadata\":\"\xff\"}]", api.CodeKVInvalidMetadata},
		{"bulk delete", http.MethodPost, "/bulk/delete", "application/json", "[\"x\xff\"]", api.CodeKVInvalidKey},
		{"bulk get", http.MethodPost, "/bulk/get", "application/json", "{\"keys\":[\"x\xff\"]}", api.CodeKVInvalidKey},
		{"cursor of a non-UTF-8 key", http.MethodGet, "/keys?cursor=eP8", "", "", api.CodeKVInvalidListArgument},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, e.do(c.method, e.url(c.path), c.ct, c.body), http.StatusBadRequest, c.code)
			e.wantUnchanged(t, before)
		})
	}
	// Multipart metadata of invalid UTF-8.
	body := "--b\r\nContent-Disposition: form-data; name=\"value\"\r\n\r\nv\r\n--b\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n\"\xff\"\r\n--b--\r\n"
	wantError(t, e.do(http.MethodPut, e.url("/values/m"), "multipart/form-data; boundary=b", body), http.StatusBadRequest, api.CodeKVInvalidMetadata)
	e.wantUnchanged(t, before)
	// Valid UTF-8 (percent-encoded or not) passes and reads back.
	result(t, e.do(http.MethodPut, e.url("/values/%E2%9C%93"), "", "ok"), nil)
	if w := e.get(e.url("/values/✓")); w.Code != 200 || w.Body.String() != "ok" {
		t.Fatalf("utf-8 key: %d %s", w.Code, w.Body)
	}
}

func TestKVGarbageCursorIs400(t *testing.T) {
	e := newKVEnv(t)
	result(t, e.do(http.MethodPut, e.url("/values/a"), "", "v"), nil)
	for _, cur := range []string{"garbage!", "%%%", "not-a-cursor-at-all-" + strings.Repeat("x", 700), "____", "%%%"} {
		wantError(t, e.get(e.url("/keys?cursor="+cur)), http.StatusBadRequest, api.CodeKVInvalidListArgument)
	}
	// A cursor the service issued still pages.
	if w := e.get(e.url("/keys?cursor=" + EncodeCursor("a"))); w.Code != 200 {
		t.Fatalf("issued cursor: %d %s", w.Code, w.Body)
	}
}

func TestKVBulkShapes(t *testing.T) {
	e := newKVEnv(t)
	before := e.st.snapshot()
	for _, c := range []struct {
		name, body string
		code       int
		msg        string
	}{
		{"item without value", `[{"key":"a","value":"1"},{"key":"b"}]`, api.CodeBadRequest, "value is missing"},
		{"item without key", `[{"value":"1"}]`, api.CodeKVInvalidKey, "missing"},
		{"object body", `{"key":"a","value":"1"}`, api.CodeMalformedJSON, "JSON array"},
		{"string body", `"x"`, api.CodeMalformedJSON, "JSON array"},
		{"array of strings", `["a"]`, api.CodeMalformedJSON, "object"},
		{"value a number", `[{"key":"a","value":1}]`, api.CodeMalformedJSON, `"value"`},
		{"unknown field", `[{"key":"a","value":"1","x":1}]`, api.CodeMalformedJSON, "unknown field"},
		{"trailing data", `[{"key":"a","value":"1"}] []`, api.CodeMalformedJSON, "single"},
		{"truncated", `[{"key":"a","value":"1"}`, api.CodeMalformedJSON, "end of input"},
		{"empty", ``, api.CodeMalformedJSON, "empty"},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := e.do(http.MethodPut, e.url("/bulk"), "application/json", c.body)
			env := wantError(t, w, http.StatusBadRequest, c.code)
			if msg := env.Errors[0].Message; !strings.Contains(msg, c.msg) || strings.Contains(msg, "wire.") || strings.Contains(msg, "[]") && c.name != "array of strings" {
				t.Fatalf("message %q, want one saying %q and no Go type", msg, c.msg)
			}
			e.wantUnchanged(t, before)
		})
	}
	for _, body := range []string{`{"keys":["a"]}`, `[1]`} {
		env := wantError(t, e.do(http.MethodPost, e.url("/bulk/delete"), "application/json", body), http.StatusBadRequest, api.CodeMalformedJSON)
		if strings.Contains(env.Errors[0].Message, "[]string") {
			t.Fatalf("bulk delete message names a Go type: %q", env.Errors[0].Message)
		}
	}
	// An explicitly empty value is a value.
	result(t, e.do(http.MethodPut, e.url("/bulk"), "application/json", `[{"key":"empty","value":""}]`), nil)
}

// TestKVBulkCountLimitStreamed: 10,000 pairs pass, 10,001 are refused
// without a write.
func TestKVBulkCountLimitStreamed(t *testing.T) {
	e := newKVEnv(t)
	var b strings.Builder
	b.WriteString("[")
	for i := range MaxBulkWrite + 1 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"key":"k%d","value":"v"}`, i)
	}
	b.WriteString("]")
	before := e.st.snapshot()
	wantError(t, e.do(http.MethodPut, e.url("/bulk"), "application/json", b.String()), http.StatusBadRequest, api.CodeKVTooManyKeys)
	e.wantUnchanged(t, before)
	ok := b.String()[:strings.LastIndex(b.String(), `,{"key":"k10000"`)] + "]"
	result(t, e.do(http.MethodPut, e.url("/bulk"), "application/json", ok), nil)
}

func TestKVReplicasParamValidation(t *testing.T) {
	e := newKVEnv(t)
	before := e.st.snapshot()
	for _, q := range []string{"0", "-1", "x", "65"} {
		wantError(t, e.do(http.MethodPut, e.url("/values/a?replicas="+q), "", "v"), http.StatusBadRequest, api.CodeBadRequest)
	}
	// No replication here: 2 replicas cannot be had, 503 and nothing written.
	wantError(t, e.do(http.MethodPut, e.url("/values/a?replicas=2"), "", "v"), http.StatusServiceUnavailable, api.CodeKVReplicas)
	wantError(t, e.do(http.MethodPut, e.url("/bulk?replicas=2"), "application/json", `[{"key":"a","value":"v"}]`), http.StatusServiceUnavailable, api.CodeKVReplicas)
	e.wantUnchanged(t, before)
	result(t, e.do(http.MethodPut, e.url("/values/a?replicas=1"), "", "v"), nil)
}

// TestKVNamespaceQuota: writes pass up to the quota, the one past it is
// 413 and changes nothing; deletes always pass.
func TestKVNamespaceQuota(t *testing.T) {
	cat := newQuotaEnv(t, 1000)
	e := cat
	result(t, e.do(http.MethodPut, e.url("/values/a"), "", strings.Repeat("x", 899)), nil) // 900 bytes with the key
	before := e.st.snapshot()
	env := wantError(t, e.do(http.MethodPut, e.url("/values/b"), "", strings.Repeat("x", 100)), http.StatusRequestEntityTooLarge, api.CodeKVStorageQuota)
	if !strings.Contains(env.Errors[0].Message, "quota") {
		t.Fatalf("message %q", env.Errors[0].Message)
	}
	wantError(t, e.do(http.MethodPut, e.url("/bulk"), "application/json", `[{"key":"c","value":"`+strings.Repeat("x", 200)+`"}]`), http.StatusRequestEntityTooLarge, api.CodeKVStorageQuota)
	e.wantUnchanged(t, before)
	result(t, e.do(http.MethodPut, e.url("/values/b"), "", strings.Repeat("x", 99)), nil) // exactly 1000
	result(t, e.do(http.MethodDelete, e.url("/values/a"), "", ""), nil)
}

// newQuotaEnv is newKVEnv with a namespace quota of limit bytes.
func newQuotaEnv(t *testing.T, limit int64) *kvEnv {
	t.Helper()
	e := newKVEnv(t)
	svc, err := NewService(ServiceConfig{Storage: e.st, Clock: hlc.NewClock(nil), NodeID: testNodeID,
		Registerer: prometheus.NewRegistry(), NamespaceQuota: limit, Measure: func(string) (int64, error) { return 0, nil }})
	if err != nil {
		t.Fatal(err)
	}
	*e.svc = *svc // the mounted handlers hold e.svc
	return e
}

// TestKVNamespacesPerAccount: the 3rd namespace of an account with a cap of
// 3 is created, the 4th is 403 and creates nothing.
func TestKVNamespacesPerAccount(t *testing.T) {
	cat := newCappedEnv(t, 3)
	path := "/client/v4/accounts/" + testAccount + "/storage/kv/namespaces"
	for i := range 2 { // the env made one already
		result(t, cat.do(http.MethodPost, path, "application/json", fmt.Sprintf(`{"title":"t%d"}`, i)), nil)
	}
	wantError(t, cat.do(http.MethodPost, path, "application/json", `{"title":"one-too-many"}`), http.StatusForbidden, api.CodeQuotaExceeded)
	if n := len(cat.cat.Resources(catalog.KindKVNamespace, testAccount)); n != 3 {
		t.Fatalf("%d namespaces after a refused create, want 3", n)
	}
}

type cappedEnv struct {
	*kvEnv
	cat *apitest.Catalog
}

// newCappedEnv is newKVEnv with namespaces capped at max per account.
func newCappedEnv(t *testing.T, max int) cappedEnv {
	t.Helper()
	cat := apitest.NewCatalog()
	e := &kvEnv{Env: apitest.NewEnv(t, cat)}
	e.st = newFakeStorage()
	svc, err := NewService(ServiceConfig{Storage: e.st, Clock: hlc.NewClock(nil), NodeID: testNodeID, Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	kind := NamespaceKind
	kind.MaxPerAccount = max
	e.Mount(serviceName, []api.ResourceKind{kind}, Routes(cat, svc))
	ns, err := cat.CreateResource(context.Background(), catalog.Resource{Kind: catalog.KindKVNamespace, AccountID: testAccount, Name: "test-ns"})
	if err != nil {
		t.Fatal(err)
	}
	e.ns = ns.ID
	return cappedEnv{kvEnv: e, cat: cat}
}
