package api

import (
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/pkg/catalog"
	"github.com/edgeplane/edgeplane/pkg/hlc"
	"github.com/edgeplane/edgeplane/pkg/kv"
	"github.com/edgeplane/edgeplane/pkg/wire"
	"github.com/prometheus/client_golang/prometheus"
)

const testAccount = "acc1"

// fakeKVNamespaces is an in-memory catalog of namespaces.
type fakeKVNamespaces struct {
	mu   sync.Mutex
	next int
	byID map[string]kvNSRecord
}

type kvNSRecord struct {
	account string
	ns      KVNamespace
}

func newFakeKVNamespaces() *fakeKVNamespaces {
	return &fakeKVNamespaces{byID: map[string]kvNSRecord{}}
}

func (f *fakeKVNamespaces) ListKVNamespaces(account string) []KVNamespace {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []KVNamespace
	for _, r := range f.byID {
		if r.account == account {
			out = append(out, r.ns)
		}
	}
	return out
}

func (f *fakeKVNamespaces) GetKVNamespace(account, id string) (KVNamespace, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.byID[id]
	if !ok || r.account != account {
		return KVNamespace{}, false
	}
	return r.ns, true
}

func (f *fakeKVNamespaces) titleTaken(account, title string) bool {
	for _, r := range f.byID {
		if r.account == account && r.ns.Title == title {
			return true
		}
	}
	return false
}

func (f *fakeKVNamespaces) CreateKVNamespace(_ context.Context, account, title string) (KVNamespace, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.titleTaken(account, title) {
		return KVNamespace{}, fmt.Errorf("kv namespace %q: %w", title, catalog.ErrExists)
	}
	f.next++
	ns := KVNamespace{ID: fmt.Sprintf("ns%04d", f.next), Title: title}
	f.byID[ns.ID] = kvNSRecord{account: account, ns: ns}
	return ns, nil
}

func (f *fakeKVNamespaces) RenameKVNamespace(_ context.Context, account, id, title string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.byID[id]
	if !ok || r.account != account {
		return catalog.ErrNotFound
	}
	if f.titleTaken(account, title) {
		return catalog.ErrExists
	}
	r.ns.Title = title
	f.byID[id] = r
	return nil
}

func (f *fakeKVNamespaces) DeleteKVNamespace(_ context.Context, account, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r, ok := f.byID[id]; !ok || r.account != account {
		return catalog.ErrNotFound
	}
	delete(f.byID, id)
	return nil
}

// fakeKVStorage is an in-memory kv.Storage: last-writer-wins Apply, raw
// Get, live-only sorted List.
type fakeKVStorage struct {
	mu      sync.Mutex
	data    map[string]map[string]kv.Entry
	applies int
}

func newFakeKVStorage() *fakeKVStorage {
	return &fakeKVStorage{data: map[string]map[string]kv.Entry{}}
}

func (f *fakeKVStorage) Apply(entries []kv.Entry) ([]bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.applies++
	out := make([]bool, len(entries))
	for i, e := range entries {
		if f.data[e.Namespace] == nil {
			f.data[e.Namespace] = map[string]kv.Entry{}
		}
		cur, ok := f.data[e.Namespace][e.Key]
		if !ok || e.Wins(cur) {
			f.data[e.Namespace][e.Key] = e
			out[i] = true
		}
	}
	return out, nil
}

func (f *fakeKVStorage) Get(ns, key string) (kv.Entry, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.data[ns][key]
	return e, ok, nil
}

func (f *fakeKVStorage) GetMany(ns string, keys []string) ([]kv.Entry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []kv.Entry
	for _, k := range keys {
		if e, ok := f.data[ns][k]; ok {
			out = append(out, e)
		}
	}
	return out, nil
}

func (f *fakeKVStorage) List(ns, prefix, startAfter string, limit int, now time.Time) ([]kv.Entry, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var keys []string
	for k, e := range f.data[ns] {
		if strings.HasPrefix(k, prefix) && k > startAfter && e.Live(now) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	more := len(keys) > limit
	if more {
		keys = keys[:limit]
	}
	out := make([]kv.Entry, len(keys))
	for i, k := range keys {
		out[i] = f.data[ns][k]
	}
	return out, more, nil
}

// snapshot returns a copy of everything stored, tombstones included, to
// show that a refused request changed nothing.
func (f *fakeKVStorage) snapshot() map[string]kv.Entry {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]kv.Entry{}
	for ns, m := range f.data {
		for k, e := range m {
			out[ns+"\x00"+k] = e
		}
	}
	return out
}

// kvEnv is a Server with KV mounted over fakes and a real kv.Service.
type kvEnv struct {
	*testEnv
	nss *fakeKVNamespaces
	st  kvDumper
	svc *kv.Service
	ns  string // id of a namespace created for the test
}

// kvDumper is a kv.Storage that can list everything it holds.
type kvDumper interface {
	kv.Storage
	snapshot() map[string]kv.Entry
}

// pebbleKVStorage is the real pebble store, dumped through ForEach.
type pebbleKVStorage struct {
	*kv.Store
	nss *fakeKVNamespaces
}

func (p pebbleKVStorage) snapshot() map[string]kv.Entry {
	out := map[string]kv.Entry{}
	p.nss.mu.Lock()
	ids := []string{"nope"}
	for id := range p.nss.byID {
		ids = append(ids, id)
	}
	p.nss.mu.Unlock()
	for _, ns := range ids {
		_ = p.ForEach(ns, false, func(e kv.Entry) error {
			out[ns+"\x00"+e.Key] = e
			return nil
		})
	}
	return out
}

// newKVEnv builds a KV test server over an in-memory fake store.
func newKVEnv(t *testing.T) *kvEnv {
	return newKVEnvWith(t, func(*fakeKVNamespaces) kvDumper { return newFakeKVStorage() })
}

// newPebbleKVEnv builds a KV test server over the real pebble store.
func newPebbleKVEnv(t *testing.T) *kvEnv {
	return newKVEnvWith(t, func(nss *fakeKVNamespaces) kvDumper {
		st, err := kv.OpenStore(kv.StoreConfig{Dir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		return pebbleKVStorage{Store: st, nss: nss}
	})
}

func newKVEnvWith(t *testing.T, storage func(*fakeKVNamespaces) kvDumper) *kvEnv {
	t.Helper()
	env := newEnv(t, nil)
	env.id.accounts = func() []wire.Account { return []wire.Account{{ID: testAccount, Name: "Acc"}} }
	e := &kvEnv{testEnv: env, nss: newFakeKVNamespaces()}
	e.st = storage(e.nss)
	svc, err := kv.NewService(kv.ServiceConfig{Storage: e.st, Clock: hlc.NewClock(nil), NodeID: testNode,
		Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	env.srv.MountKV(e.nss, svc)
	ns, err := e.nss.CreateKVNamespace(context.Background(), testAccount, "test-ns")
	if err != nil {
		t.Fatal(err)
	}
	e.ns = ns.ID
	return e
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
func (e *kvEnv) wantUnchanged(t *testing.T, before map[string]kv.Entry) {
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
