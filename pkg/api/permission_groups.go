package api

import (
	"net/http"

	"github.com/edgeplane/edgeplane/pkg/authz"
)

// permissionGroup is one element of GET /client/v4/user/tokens/permission_groups:
// Cloudflare's id, name and scopes, plus Edgeplane's permissions.
type permissionGroup struct {
	ID          string             `json:"id"`
	Name        string             `json:"name"`
	Description string             `json:"description"`
	Scopes      []string           `json:"scopes"`
	Permissions []authz.Permission `json:"permissions"`
}

// registerPermissionGroups adds the list of permission groups a token's
// policies may name.
func (s *Server) registerPermissionGroups() {
	s.handle("GET /client/v4/user/tokens/permission_groups", serviceIdentity, true, s.permissionGroups)
}

func (s *Server) permissionGroups(w http.ResponseWriter, _ *http.Request) {
	groups := authz.PermissionGroups()
	out := make([]permissionGroup, 0, len(groups))
	for _, g := range groups {
		out = append(out, permissionGroup{ID: g.ID, Name: g.Name, Description: g.Description,
			Scopes: []string{string(g.Scope)}, Permissions: g.Permissions})
	}
	WriteResult(w, http.StatusOK, out, nil)
}
