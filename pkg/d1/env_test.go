package d1

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/edgeplane/edgeplane/pkg/api/apitest"
	"github.com/edgeplane/edgeplane/pkg/replication"
	"github.com/edgeplane/edgeplane/pkg/service"
	"github.com/prometheus/client_golang/prometheus"
)

// testEnv is D1 on one node without Raft: Propose applies at once with
// increasing indexes.
type testEnv struct {
	t   testing.TB
	env *apitest.Env
	m   *Module

	mu    sync.Mutex
	index uint64
}

func newTestEnv(t testing.TB, opts Options) *testEnv {
	t.Helper()
	cat := apitest.NewCatalog()
	te := &testEnv{t: t, env: apitest.NewEnv(t, cat)}
	deps := service.Deps{NodeID: apitest.Node, Region: "wnam", DataDir: t.TempDir(), Catalog: cat,
		Propose: te.propose, Raft: soloRaft(te), Registerer: prometheus.NewRegistry(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	m, err := New(deps, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	te.m = m
	te.env.Mount(serviceName, m.Resources(), m.Routes())
	return te
}

func (te *testEnv) propose(_ context.Context, cmd []byte) ([]byte, error) {
	te.mu.Lock()
	defer te.mu.Unlock()
	typ, payload, err := replication.DecodeCommand(cmd)
	if err != nil {
		return nil, err
	}
	if typ != replication.CommandType(CommandType) {
		te.t.Fatalf("command type %d", typ)
	}
	if err := te.m.ValidateCommand(payload, apitest.Node); err != nil {
		return nil, err
	}
	te.index++
	return te.m.ApplyCommand(te.index, payload)
}

func (te *testEnv) do(method, path, body string, hdr ...string) *httptest.ResponseRecorder {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := apitest.Request(method, path, apitest.Admin, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return te.env.Serve(req)
}

const dbsPath = "/client/v4/accounts/" + apitest.Account + "/d1/database"

// create makes a database and returns its id.
func (te *testEnv) create(name string) string {
	te.t.Helper()
	var db Database
	apitest.Result(te.t, te.do(http.MethodPost, dbsPath, `{"name":"`+name+`"}`), &db)
	return db.UUID
}

// query runs a /query body and returns the results.
func (te *testEnv) query(id, body string, hdr ...string) []queryResult {
	te.t.Helper()
	var out []queryResult
	apitest.Result(te.t, te.do(http.MethodPost, dbsPath+"/"+id+"/query", body, hdr...), &out)
	return out
}

// sql runs one SQL text with params.
func (te *testEnv) sql(id, sql string, params ...any) []queryResult {
	te.t.Helper()
	b, _ := json.Marshal(map[string]any{"sql": sql, "params": params})
	return te.query(id, string(b))
}

// queryResult decodes a QueryResult with object rows.
type queryResult struct {
	Results []map[string]any `json:"results"`
	Success bool             `json:"success"`
	Meta    Meta             `json:"meta"`
}
