package d1

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/edgeplane/edgeplane/pkg/api/apitest"
	"github.com/edgeplane/edgeplane/pkg/catalog"
	"github.com/edgeplane/edgeplane/pkg/replication"
	"github.com/edgeplane/edgeplane/pkg/service"
	"github.com/edgeplane/edgeplane/pkg/wire"
	"github.com/prometheus/client_golang/prometheus"
)

// ioEnv is D1 on one node without Raft whose Propose also applies catalog
// operations (read replication), served over a real listener so that the
// signed URLs the node hands out can be fetched.
type ioEnv struct {
	*testEnv
	cat *apitest.Catalog
	srv *httptest.Server
}

func newIOEnv(t testing.TB, opts Options) *ioEnv {
	t.Helper()
	cat := apitest.NewCatalog()
	te := &testEnv{t: t, env: apitest.NewEnv(t, cat)}
	e := &ioEnv{testEnv: te, cat: cat}
	propose := func(ctx context.Context, cmd []byte) ([]byte, error) {
		typ, payload, err := replication.DecodeCommand(cmd)
		if err != nil {
			return nil, err
		}
		if typ != replication.CommandCatalog {
			return te.propose(ctx, cmd)
		}
		op, err := catalog.DecodeOp(payload)
		if err != nil {
			return nil, err
		}
		if err := op.Validate(); err != nil {
			return nil, err
		}
		return json.Marshal(cat.Catalog.Apply(cat.Catalog.Version()+1, op))
	}
	deps := service.Deps{NodeID: apitest.Node, Region: "wnam", DataDir: t.TempDir(), Catalog: cat,
		Propose: propose, Raft: soloRaft(te), Registerer: prometheus.NewRegistry(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	m, err := New(deps, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	te.m = m
	te.env.Mount(serviceName, m.Resources(), m.Routes())
	e.srv = httptest.NewServer(te.env.Srv.Handler())
	t.Cleanup(e.srv.Close)
	return e
}

// httpDo sends a request over the listener; token "" sends none.
func (e *ioEnv) httpDo(method, url, token string, body []byte) (*http.Response, []byte) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, b
}

// export asks for a dump and downloads it through its signed URL, with no
// token.
func (e *ioEnv) export(id string, opts wire.D1DumpOptions) (wire.D1ExportResponse, string) {
	e.t.Helper()
	body, _ := json.Marshal(wire.D1ExportRequest{OutputFormat: "polling", DumpOptions: opts})
	var res wire.D1ExportResponse
	apitest.Result(e.t, e.do(http.MethodPost, dbsPath+"/"+id+"/export", string(body)), &res)
	if !res.Success || res.Status != "complete" || res.Result.SignedURL == "" || res.AtBookmark == "" {
		e.t.Fatalf("export answered %+v", res)
	}
	resp, dump := e.httpDo(http.MethodGet, res.Result.SignedURL, "", nil)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("download: %d %s", resp.StatusCode, dump)
	}
	return res, string(dump)
}

// importFile runs wrangler's flow (init, PUT to the upload URL, ingest)
// and returns ingest's recorder.
func (e *ioEnv) importFile(id, text string) *httptest.ResponseRecorder {
	e.t.Helper()
	sum := md5.Sum([]byte(text))
	etag := hex.EncodeToString(sum[:])
	init := e.importInit(id, etag)
	resp, b := e.httpDo(http.MethodPut, init.UploadURL, "", []byte(text))
	if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") != `"`+etag+`"` {
		e.t.Fatalf("upload: %d %q %s", resp.StatusCode, resp.Header.Get("ETag"), b)
	}
	return e.do(http.MethodPost, dbsPath+"/"+id+"/import", `{"action":"ingest","etag":"`+etag+`","filename":"`+init.Filename+`"}`)
}

func (e *ioEnv) importInit(id, etag string) wire.D1ImportResponse {
	e.t.Helper()
	var init wire.D1ImportResponse
	apitest.Result(e.t, e.do(http.MethodPost, dbsPath+"/"+id+"/import", `{"action":"init","etag":"`+etag+`"}`), &init)
	if !init.Success || init.UploadURL == "" || init.Filename == "" {
		e.t.Fatalf("init answered %+v", init)
	}
	return init
}

// userSums is Checksums without D1's own tables and the given shadow
// tables (whose layout depends on how the rows were written, not on them).
func (e *ioEnv) userSums(id string, skip ...string) map[string]string {
	e.t.Helper()
	_, sums, err := e.m.Checksums(e.t.Context(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	for name := range sums {
		if internalName(name) {
			delete(sums, name)
		}
	}
	for _, s := range skip {
		delete(sums, s)
	}
	return sums
}
