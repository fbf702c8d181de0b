package kv

import (
	"context"
	"github.com/edgeplane/edgeplane/pkg/api"
	"github.com/edgeplane/edgeplane/pkg/api/apitest"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/edgeplane/edgeplane/pkg/catalog"
	"github.com/edgeplane/edgeplane/pkg/hlc"
	"github.com/edgeplane/edgeplane/pkg/wire"
	"github.com/prometheus/client_golang/prometheus"
)

// Names of the HTTP test environment.
const (
	testAccount = apitest.Account
	testAdmin   = apitest.Admin
	testNodeID  = apitest.Node
)

// KVNamespace is a namespace as the API shows it.
type KVNamespace = wire.KVNamespace

// Envelope helpers, named as the tests use them.
var (
	result    = apitest.Result
	wantError = apitest.WantError
	request   = apitest.Request
)

// kvEnv is an API server with KV's routes and namespaces mounted over an
// in-memory catalog and a real Service.
type kvEnv struct {
	*apitest.Env
	st  kvDumper
	svc *Service
	ns  string // id of a namespace created for the test
}

// kvDumper is a Storage that can list everything it holds.
type kvDumper interface {
	Storage
	snapshot() map[string]Entry
}

// pebbleKVStorage is the real pebble store, dumped through ForEach.
type pebbleKVStorage struct {
	*Store
	cat *apitest.Catalog
}

func (p pebbleKVStorage) snapshot() map[string]Entry {
	out := map[string]Entry{}
	ids := []string{"nope"}
	for _, r := range p.cat.Resources(catalog.KindKVNamespace, testAccount) {
		ids = append(ids, r.ID)
	}
	for _, ns := range ids {
		_ = p.ForEach(ns, false, func(e Entry) error {
			out[ns+"\x00"+e.Key] = e
			return nil
		})
	}
	return out
}

// newKVEnv builds a KV test server over an in-memory fake store.
func newKVEnv(t *testing.T) *kvEnv {
	return newKVEnvWith(t, func(*apitest.Catalog) kvDumper { return newFakeStorage() })
}

// newPebbleKVEnv builds a KV test server over the real pebble store.
func newPebbleKVEnv(t *testing.T) *kvEnv {
	return newKVEnvWith(t, func(cat *apitest.Catalog) kvDumper {
		st, err := OpenStore(StoreConfig{Dir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		return pebbleKVStorage{Store: st, cat: cat}
	})
}

func newKVEnvWith(t *testing.T, storage func(*apitest.Catalog) kvDumper) *kvEnv {
	t.Helper()
	cat := apitest.NewCatalog()
	e := &kvEnv{Env: apitest.NewEnv(t, cat)}
	e.st = storage(cat)
	svc, err := NewService(ServiceConfig{Storage: e.st, Clock: hlc.NewClock(nil), NodeID: testNodeID,
		Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	e.Mount(serviceName, []api.ResourceKind{NamespaceKind}, Routes(cat, svc))
	ns, err := cat.CreateResource(context.Background(), catalog.Resource{Kind: catalog.KindKVNamespace, AccountID: testAccount, Name: "test-ns"})
	if err != nil {
		t.Fatal(err)
	}
	e.ns = ns.ID
	return e
}

// serve runs r through the server.
func (e *kvEnv) serve(r *http.Request) *httptest.ResponseRecorder { return e.Serve(r) }

// get is an admin-authenticated GET.
func (e *kvEnv) get(target string) *httptest.ResponseRecorder {
	return e.Serve(request(http.MethodGet, target, testAdmin, nil))
}

// url returns the path of a KV route of the test namespace.
func (e *kvEnv) url(rest string) string {
	return "/client/v4/accounts/" + testAccount + "/storage/kv/namespaces/" + e.ns + rest
}

// do sends an admin-authenticated request with body and content type.
func (e *kvEnv) do(method, target, contentType string, body string) *httptest.ResponseRecorder {
	r := request(method, target, testAdmin, strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return e.serve(r)
}

// wantUnchanged fails when the store differs from before.
func (e *kvEnv) wantUnchanged(t *testing.T, before map[string]Entry) {
	t.Helper()
	after := e.st.snapshot()
	if len(after) != len(before) {
		t.Fatalf("store changed: %d entries, was %d", len(after), len(before))
	}
	for k, v := range before {
		if a, ok := after[k]; !ok || a.Version != v.Version {
			t.Fatalf("store changed at %q", k)
		}
	}
}
