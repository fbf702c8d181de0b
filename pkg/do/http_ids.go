package do

import (
	"net/http"

	"github.com/edgeplane/edgeplane/pkg/api"
	"github.com/edgeplane/edgeplane/pkg/catalog"
	"github.com/edgeplane/edgeplane/pkg/router"
	"github.com/edgeplane/edgeplane/pkg/service"
)

// idRoutes make object ids: from a name, or new unique ones.
func (m *Module) idRoutes() []service.Route {
	return []service.Route{{Pattern: "POST " + nsBase + "/{namespace_id}/ids", Access: service.AccessRead,
		Placement: router.Here(), Handler: http.HandlerFunc(m.newID)}}
}

// newID answers {"id"} for {"name": n} (the id of that name) or {} (a new
// unique id).
func (m *Module) newID(w http.ResponseWriter, r *http.Request) {
	account := r.PathValue("account_id")
	if _, ok := m.deps.Catalog.Account(account); !ok {
		api.WriteFailure(w, r, api.AccountNotFound(r))
		return
	}
	ns, ok := m.deps.Catalog.Resource(catalog.KindDONamespace, account, r.PathValue("namespace_id"))
	if !ok {
		api.WriteFailure(w, r, nsNotFound())
		return
	}
	var body struct {
		Name *string `json:"name"`
	}
	if err := decodeBody(r, &body); err != nil {
		api.WriteFailure(w, r, err)
		return
	}
	if body.Name == nil {
		api.WriteResult(w, http.StatusOK, map[string]string{"id": NewUnique(ns.ID)}, nil)
		return
	}
	if err := checkName(*body.Name); err != nil {
		api.WriteFailure(w, r, err)
		return
	}
	api.WriteResult(w, http.StatusOK, map[string]string{"id": FromName(ns.ID, *body.Name)}, nil)
}
