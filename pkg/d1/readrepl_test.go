package d1

import (
	"net/http"
	"testing"

	"github.com/edgeplane/edgeplane/pkg/api"
	"github.com/edgeplane/edgeplane/pkg/api/apitest"
)

// TestReadReplication: PUT and PATCH set the mode in the catalog entry;
// get and list show it; a database with replication disabled has its
// reads served at the primary's state (served_by_primary), and "auto"
// serves them on the replica again.
func TestReadReplication(t *testing.T) {
	e := newIOEnv(t, Options{})
	id := e.create("rr")
	e.sql(id, "CREATE TABLE t(x); INSERT INTO t VALUES (1)")
	item := dbsPath + "/" + id

	var db Database
	apitest.Result(t, e.do(http.MethodGet, item, ""), &db)
	if db.ReadReplication.Mode != ReadReplicationAuto {
		t.Fatalf("default mode %q", db.ReadReplication.Mode)
	}
	if r := e.sql(id, "SELECT x FROM t"); r[0].Meta.ServedByPrimary {
		t.Fatal("a replica read in auto mode claims the primary")
	}

	apitest.Result(t, e.do(http.MethodPut, item, `{"read_replication":{"mode":"disabled"}}`), &db)
	if db.ReadReplication.Mode != ReadReplicationDisabled || db.UUID != id || db.Name != "rr" {
		t.Fatalf("PUT answered %+v", db)
	}
	res, _ := e.cat.Resource("d1_database", apitest.Account, id)
	if res.Attrs[attrReadReplication] != ReadReplicationDisabled {
		t.Fatalf("catalog entry %+v", res)
	}
	var list []Database
	apitest.Result(t, e.do(http.MethodGet, dbsPath, ""), &list)
	if len(list) != 1 || list[0].ReadReplication.Mode != ReadReplicationDisabled {
		t.Fatalf("list %+v", list)
	}
	before := e.index
	r := e.sql(id, "SELECT x FROM t")
	// Served as a strong read on the leader: a quorum check, no log entry.
	if !r[0].Meta.ServedByPrimary || e.index != before {
		t.Fatalf("read with replication disabled: primary %v, %d commands (want a leader read, no log entry)", r[0].Meta.ServedByPrimary, e.index-before)
	}
	// PATCH without the field changes nothing; with it, switches back.
	apitest.Result(t, e.do(http.MethodPatch, item, `{}`), &db)
	if db.ReadReplication.Mode != ReadReplicationDisabled {
		t.Fatalf("empty PATCH: %+v", db)
	}
	apitest.Result(t, e.do(http.MethodPatch, item, `{"read_replication":{"mode":"auto"}}`), &db)
	if db.ReadReplication.Mode != ReadReplicationAuto {
		t.Fatalf("PATCH auto: %+v", db)
	}
	if r := e.sql(id, "SELECT x FROM t"); r[0].Meta.ServedByPrimary {
		t.Fatal("auto mode read still served by the primary")
	}

	apitest.WantError(t, e.do(http.MethodPut, item, `{}`), http.StatusBadRequest, api.CodeBadRequest)
	apitest.WantError(t, e.do(http.MethodPut, item, `{"read_replication":{"mode":"sometimes"}}`), http.StatusBadRequest, api.CodeBadRequest)
	apitest.WantError(t, e.do(http.MethodPut, item, `{"read_replication":{"mode":"auto"},"name":"x"}`), http.StatusBadRequest, api.CodeMalformedJSON)
	apitest.WantError(t, e.do(http.MethodPut, dbsPath+"/0123456789abcdef0123456789abcdef", `{"read_replication":{"mode":"auto"}}`),
		http.StatusNotFound, api.CodeD1DatabaseNotFound)
	// A read-only token cannot change it.
	ro := e.cat.Token(t, apitest.Account, "D1 Read")
	req := apitest.Request(http.MethodPut, item, ro, nil)
	if w := e.env.Serve(req); w.Code != http.StatusForbidden {
		t.Fatalf("D1 Read token: %d %s", w.Code, w.Body)
	}
}
