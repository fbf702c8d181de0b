package do

import (
	"net/http"

	"github.com/edgeplane/edgeplane/pkg/api"
	"github.com/edgeplane/edgeplane/pkg/router"
	"github.com/edgeplane/edgeplane/pkg/service"
)

// whereRoutes answer where an object lives, from the receiving node's view
// of the liveness table.
func (m *Module) whereRoutes() []service.Route {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ns, id, err := m.resolve(r)
		if err != nil {
			api.WriteFailure(w, r, err)
			return
		}
		wh, err := m.where(ns, id)
		if err != nil {
			api.WriteFailure(w, r, err)
			return
		}
		api.WriteResult(w, http.StatusOK, wh, nil)
	})
	var out []service.Route
	for _, base := range []string{objByID, objByName} {
		out = append(out, service.Route{Pattern: "GET " + base + "/where", Placement: router.Here(), Handler: h})
	}
	return out
}
