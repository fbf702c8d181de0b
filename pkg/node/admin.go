package node

import (
	"github.com/edgeplane/edgeplane/pkg/api"
	"github.com/edgeplane/edgeplane/pkg/authz"
	"github.com/edgeplane/edgeplane/pkg/catalog"
)

// bootstrapAdminToken is the catalog token registered when the bootstrap
// node initializes the catalog: the node's admin token (from --admin-token
// or the data dir's admin-token file) as an ordinary catalog token of the
// default account with the cluster admin policies. From then on the value
// is valid only as this token: revoking or rolling it
// (PUT /client/v4/user/tokens/bootstrap-admin/value, edgectl token
// rotate-admin) ends it on every node as the catalog replicates.
func bootstrapAdminToken(account, value string) *catalog.Token {
	return &catalog.Token{
		ID: api.BootstrapTokenID, Name: "admin token of the bootstrap node", Hash: catalog.HashToken(value),
		AccountID: account, Policies: authz.AdminPolicies(),
	}
}

// AdminTokenFile is the path of the file holding this node's admin token.
// edged prints the path, never the token.
func (n *Node) AdminTokenFile() string { return n.layout.AdminTokenFile() }
