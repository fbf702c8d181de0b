package api

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

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

// fakeIdentity is an Identity with function fields; nil fields give a
// catalog that knows testToken and nothing else.
type fakeIdentity struct {
	verify   func(string) (string, bool)
	accounts func() []wire.Account
	tokens   func() []wire.Token
	create   func(context.Context, string) (wire.Token, error)
	revoke   func(context.Context, string) error
}

func (f *fakeIdentity) VerifyToken(token string) (string, bool) {
	if f.verify == nil {
		if token == testToken {
			return testTokenID, true
		}
		return "", false
	}
	return f.verify(token)
}

func (f *fakeIdentity) Accounts() []wire.Account {
	if f.accounts == nil {
		return nil
	}
	return f.accounts()
}

func (f *fakeIdentity) HasAccount(id string) bool {
	for _, a := range f.Accounts() {
		if a.ID == id {
			return true
		}
	}
	return false
}

func (f *fakeIdentity) Tokens() []wire.Token {
	if f.tokens == nil {
		return nil
	}
	return f.tokens()
}

func (f *fakeIdentity) CreateToken(ctx context.Context, name string) (wire.Token, error) {
	if f.create == nil {
		return wire.Token{}, errors.New("fake: create not set")
	}
	return f.create(ctx, name)
}

func (f *fakeIdentity) RevokeToken(ctx context.Context, id string) error {
	if f.revoke == nil {
		return errors.New("fake: revoke not set")
	}
	return f.revoke(ctx, id)
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
	env := &testEnv{cl: &fakeCluster{}, id: &fakeIdentity{}, reg: prometheus.NewRegistry(), log: &syncBuffer{}}
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
