package api

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/pkg/authz"
	"github.com/edgeplane/edgeplane/pkg/catalog"
	"github.com/edgeplane/edgeplane/pkg/wire"
	"github.com/edgeplane/edgeplane/pkg/wire/wiretest"
	"github.com/prometheus/client_golang/prometheus"
)

// testAdmin is the admin token of test servers; testToken a catalog token.
const (
	testAdmin   = "admin-secret-token"
	testToken   = "catalog-secret-token"
	testTokenID = "tok-1"
	testNode    = "node-a"
)

// fakeCluster is a Cluster with function fields; nil fields give defaults.
type fakeCluster struct {
	members func() []wire.Member
	status  func() wire.Status
	ready   func() error
}

func (f *fakeCluster) Members() []wire.Member {
	if f.members == nil {
		return nil
	}
	return f.members()
}

func (f *fakeCluster) Status() wire.Status {
	if f.status == nil {
		return wire.Status{NodeID: testNode}
	}
	return f.status()
}

func (f *fakeCluster) Ready() error {
	if f.ready == nil {
		return nil
	}
	return f.ready()
}

// fakeIdentity is a CatalogIdentity over a real catalog applied directly,
// initialized with the default account testAccount whose tokens testAdmin
// (id BootstrapTokenID) and testToken (id testTokenID) are cluster admins.
// Non-nil function fields replace CreateToken and RevokeToken.
type fakeIdentity struct {
	*CatalogIdentity
	cat    *catalog.Catalog
	mu     sync.Mutex
	index  uint64
	create func(context.Context, catalog.Token) (catalog.Token, string, error)
	revoke func(context.Context, string) error
}

const testAccount = "acc-default"

func newFakeIdentity() *fakeIdentity {
	f := &fakeIdentity{cat: catalog.New()}
	f.CatalogIdentity = &CatalogIdentity{Catalog: f.cat, Apply: f.apply}
	ctx := context.Background()
	_, _ = f.apply(ctx, catalog.Op{Type: catalog.OpInit, Account: &catalog.Account{ID: testAccount, Name: "Default"},
		Token: &catalog.Token{ID: BootstrapTokenID, Name: "admin", Hash: catalog.HashToken(testAdmin),
			AccountID: testAccount, Policies: authz.AdminPolicies()}})
	_, _ = f.apply(ctx, catalog.Op{Type: catalog.OpCreateToken, Token: &catalog.Token{ID: testTokenID, Name: "test",
		Hash: catalog.HashToken(testToken), AccountID: testAccount, Policies: authz.AdminPolicies()}})
	return f
}

func (f *fakeIdentity) apply(_ context.Context, op catalog.Op) (catalog.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.index++
	if op.At.IsZero() {
		op.At = time.Now().UTC()
	}
	res := f.cat.Apply(f.index, op)
	return res, res.Err()
}

// addAccount adds account id named name.
func (f *fakeIdentity) addAccount(id, name string) {
	_, _ = f.apply(context.Background(), catalog.Op{Type: catalog.OpCreateAccount, Account: &catalog.Account{ID: id, Name: name}})
}

func (f *fakeIdentity) CreateToken(ctx context.Context, t catalog.Token) (catalog.Token, string, error) {
	if f.create != nil {
		return f.create(ctx, t)
	}
	return f.CatalogIdentity.CreateToken(ctx, t)
}

func (f *fakeIdentity) RevokeToken(ctx context.Context, id string) error {
	if f.revoke != nil {
		return f.revoke(ctx, id)
	}
	return f.CatalogIdentity.RevokeToken(ctx, id)
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testEnv is a Server with its fakes, registry and captured log.
type testEnv struct {
	srv *Server
	cl  *fakeCluster
	id  *fakeIdentity
	reg *prometheus.Registry
	log *syncBuffer
}

// newEnv builds a Server on fresh fakes; edit may adjust the config.
func newEnv(t *testing.T, edit func(*Config)) *testEnv {
	t.Helper()
	cfg := Config{NodeID: testNode, Version: "v-test", AdminToken: testAdmin}
	if edit != nil {
		edit(&cfg)
	}
	env := &testEnv{cl: &fakeCluster{}, id: newFakeIdentity(), reg: prometheus.NewRegistry(), log: &syncBuffer{}}
	logger := slog.New(slog.NewJSONHandler(env.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := New(cfg, env.cl, env.id, env.reg, env.reg, logger)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	env.srv = srv
	return env
}

// request builds a request; token "" sends no Authorization header.
func request(method, target, token string, body io.Reader) *http.Request {
	r := httptest.NewRequest(method, target, body)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	return r
}

// serve runs r through the server's handler.
func (e *testEnv) serve(r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(w, r)
	return w
}

// get is an authenticated GET.
func (e *testEnv) get(target string) *httptest.ResponseRecorder {
	return e.serve(request(http.MethodGet, target, testAdmin, nil))
}

// envelope decodes a recorded v4 envelope strictly, failing the test when the
// body is not one.
func envelope(t *testing.T, w *httptest.ResponseRecorder) wire.Envelope {
	t.Helper()
	return decodeEnvelope(t, w.Body.Bytes())
}

func decodeEnvelope(t *testing.T, body []byte) wire.Envelope {
	t.Helper()
	return wiretest.DecodeEnvelope(t, body)
}

// wantError checks an error envelope's status and code.
func wantError(t *testing.T, w *httptest.ResponseRecorder, status, code int) wire.Envelope {
	t.Helper()
	return wiretest.WantError(t, w, status, code)
}

// result decodes a successful envelope's result into v.
func result(t *testing.T, w *httptest.ResponseRecorder, v any) wire.Envelope {
	t.Helper()
	return wiretest.Result(t, w, v)
}
