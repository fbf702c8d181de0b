package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/edgeplane/edgeplane/pkg/wire"
)

// RemoveMember removes node id from the cluster's Raft configuration for
// good (DELETE /client/v4/cluster/members/{id}). Without force the node
// refuses a member that still looks live (409) and the only voter (always).
func (c *Client) RemoveMember(ctx context.Context, id string, force bool) (wire.MemberRemoval, error) {
	path := "/client/v4/cluster/members/" + url.PathEscape(id)
	if force {
		path += "?force=true"
	}
	var res wire.MemberRemoval
	if _, err := c.Do(ctx, http.MethodDelete, path, nil, &res); err != nil {
		return wire.MemberRemoval{}, fmt.Errorf("remove member %s: %w", id, err)
	}
	return res, nil
}
