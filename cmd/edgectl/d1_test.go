package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/edgeplane/edgeplane/pkg/api/apitest"
	"github.com/edgeplane/edgeplane/pkg/d1"
	"github.com/edgeplane/edgeplane/pkg/replication"
	"github.com/edgeplane/edgeplane/pkg/service"
	"github.com/edgeplane/edgeplane/pkg/service/servicetest"
	"github.com/prometheus/client_golang/prometheus"
)

// d1Server serves D1 on one node without Raft (commands apply at once).
func d1Server(t *testing.T) []string {
	t.Helper()
	cat := apitest.NewCatalog()
	env := apitest.NewEnv(t, cat)
	var mu sync.Mutex
	var index uint64
	var m *d1.Module
	propose := func(_ context.Context, cmd []byte) ([]byte, error) {
		mu.Lock()
		defer mu.Unlock()
		_, payload, err := replication.DecodeCommand(cmd)
		if err != nil {
			return nil, err
		}
		index++
		return m.ApplyCommand(index, payload)
	}
	raft := &servicetest.Leader{ID: apitest.Node, Index: func() uint64 {
		mu.Lock()
		defer mu.Unlock()
		return index
	}}
	m, err := d1.New(service.Deps{NodeID: apitest.Node, DataDir: t.TempDir(), Catalog: cat, Propose: propose, Raft: raft,
		Registerer: prometheus.NewRegistry(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, d1.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	env.Mount("d1", m.Resources(), m.Routes())
	srv := httptest.NewServer(env.Srv.Handler())
	t.Cleanup(srv.Close)
	return []string{"--endpoint", srv.URL, "--token", apitest.Admin}
}

func TestD1Commands(t *testing.T) {
	g := d1Server(t)
	g = append(g, "d1", "--account", apitest.Account)
	out := mustKV(t, "", append(g, "create", "shop", "--location", "weur", "-o", "json")...)
	var db struct {
		UUID string `json:"uuid"`
		Name string `json:"name"`
	}
	if err := json.Unmarshal([]byte(out), &db); err != nil || db.Name != "shop" {
		t.Fatalf("create: %v %q", err, out)
	}
	out = mustKV(t, "", append(g, "execute", "shop", "--command", "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT); INSERT INTO t(name) VALUES ('ann'), (NULL)")...)
	if !strings.Contains(out, "changes 2") {
		t.Fatalf("execute: %q", out)
	}
	file := filepath.Join(t.TempDir(), "q.sql")
	if err := os.WriteFile(file, []byte("SELECT id, name FROM t ORDER BY id;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out = mustKV(t, "", append(g, "execute", db.UUID, "--file", file)...)
	if !strings.Contains(out, "ann") || !strings.Contains(out, "NULL") || !strings.Contains(out, "name") {
		t.Fatalf("select table: %q", out)
	}
	out = mustKV(t, "", append(g, "execute", "shop", "--command", "SELECT count(*) AS n FROM t", "-o", "json")...)
	if !strings.Contains(out, `"rows"`) || !strings.Contains(out, "2") {
		t.Fatalf("select json: %q", out)
	}
	out = mustKV(t, "", append(g, "list")...)
	if !strings.Contains(out, "shop") || !strings.Contains(out, db.UUID) {
		t.Fatalf("list: %q", out)
	}
	out = mustKV(t, "", append(g, "info", "shop", "-o", "json")...)
	if !strings.Contains(out, `"num_tables": 1`) {
		t.Fatalf("info: %q", out)
	}
	if _, errOut, code := runKV(t, "", append(g, "execute", "shop", "--command", "SELECT * FROM nope")...); code == 0 || !strings.Contains(errOut, "no such table") {
		t.Fatalf("bad SQL: exit %d, %q", code, errOut)
	}
	if _, _, code := runKV(t, "", append(g, "execute", "shop")...); code == 0 {
		t.Fatal("execute without SQL succeeded")
	}
	mustKV(t, "", append(g, "delete", "shop")...)
	if _, errOut, code := runKV(t, "", append(g, "info", "shop")...); code == 0 || !strings.Contains(errOut, "no database") {
		t.Fatalf("info after delete: %d %q", code, errOut)
	}
}
