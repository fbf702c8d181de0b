package d1

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/edgeplane/edgeplane/pkg/api"
	"github.com/edgeplane/edgeplane/pkg/catalog"
	"github.com/edgeplane/edgeplane/pkg/replication"
	"github.com/edgeplane/edgeplane/pkg/wire"
)

// Read replication, Cloudflare's switch: PUT or PATCH .../d1/database/{id}
// with {"read_replication": {"mode": "auto" | "disabled"}}. The mode is an
// attribute of the database's catalog entry (catalog.OpSetResourceAttrs),
// so every node knows it as soon as it applied the change.
//
// "auto" (the default) serves reads on the replica that receives them, as
// D1's reads always were. "disabled" serves every read of the database on
// the Raft leader, as `x-d1-session: first-primary` does: the router
// forwards it there (placeQuery), and the leader confirms its leadership
// with a quorum (ReadIndex) before it reads, so the read sees every write
// acknowledged before it began (served_by_primary is true).

// Read replication modes.
const (
	ReadReplicationAuto     = "auto"
	ReadReplicationDisabled = "disabled"
)

// attrReadReplication is the catalog attribute that holds the mode.
const attrReadReplication = "read_replication"

// readReplicationMode is database id's mode ("auto" when never set).
func readReplicationMode(r catalog.Resource) string {
	if m := r.Attrs[attrReadReplication]; m != "" {
		return m
	}
	return ReadReplicationAuto
}

// replicaReads reports whether reads of a database may be served by this
// replica as it is (read replication "auto").
func (m *Module) replicaReads(account, id string) bool {
	r, ok := m.deps.Catalog.Resource(catalog.KindD1Database, account, id)
	return !ok || readReplicationMode(r) != ReadReplicationDisabled
}

// primaryReads wraps a query route: a database whose read replication is
// disabled has its reads served at the leader's state (a first-primary
// session).
func (m *Module) primaryReads(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !m.replicaReads(r.PathValue("account_id"), r.PathValue("database_id")) {
			r.Header.Set(HeaderSession, "first-primary")
		}
		h.ServeHTTP(w, r)
	})
}

// readReplicationHandler serves PUT (the mode required) and PATCH (the
// mode optional) on a database.
func (m *Module) readReplicationHandler(w http.ResponseWriter, r *http.Request) {
	account, id, ok := m.target(w, r)
	if !ok {
		return
	}
	var body wire.D1ReadReplication
	if err := api.DecodeJSON(r, &body); err != nil {
		api.WriteFailure(w, r, err)
		return
	}
	if body.ReadReplication == nil {
		if r.Method == http.MethodPut {
			api.WriteFailure(w, r, api.BadRequest(api.CodeBadRequest, "read_replication is required"))
			return
		}
	} else {
		mode := body.ReadReplication.Mode
		if mode != ReadReplicationAuto && mode != ReadReplicationDisabled {
			api.WriteFailure(w, r, api.BadRequest(api.CodeBadRequest, `read_replication.mode must be "auto" or "disabled", not %q`, mode))
			return
		}
		if err := m.setAttrs(r, account, id, map[string]string{attrReadReplication: mode}); err != nil {
			api.WriteFailure(w, r, err)
			return
		}
		m.log.Info("d1 read replication", "database", id, "mode", mode)
	}
	res, ok := m.deps.Catalog.Resource(catalog.KindD1Database, account, id)
	if !ok {
		api.WriteFailure(w, r, dbNotFound())
		return
	}
	api.WriteResult(w, http.StatusOK, m.view(res), nil)
}

// setAttrs merges attrs into the database's catalog entry through Raft;
// it returns once this node applied the change.
func (m *Module) setAttrs(r *http.Request, account, id string, attrs map[string]string) error {
	op := catalog.Op{Type: catalog.OpSetResourceAttrs,
		Resource: &catalog.Resource{Kind: catalog.KindD1Database, AccountID: account, ID: id, Attrs: attrs}}
	if err := op.Validate(); err != nil {
		return api.BadRequest(api.CodeBadRequest, "%v", err)
	}
	if _, err := replication.ProposeCatalog(r.Context(), m.deps.Propose, op); err != nil {
		return fmt.Errorf("d1 set %s of %s: %w", strings.Join(mapKeys(attrs), ","), id, err)
	}
	return nil
}

func mapKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort(out)
	return out
}
