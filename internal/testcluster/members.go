package testcluster

import (
	"context"
	"io"
	"net/http"
	"time"
)

// RemoveMember asks node via to remove member id from the cluster, as
// `edgectl members remove` does (DELETE /client/v4/cluster/members/{id},
// with ?force=true when force), again for a few seconds while it answers
// 503 (leadership moving). It returns the last status and body; a request
// that cannot be sent fails the test.
func (c *Cluster) RemoveMember(via *Member, id string, force bool) (int, string) {
	c.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, body := c.removeMemberOnce(via, id, force)
		if code != http.StatusServiceUnavailable || time.Now().After(deadline) {
			return code, body
		}
		c.t.Logf("testcluster: DELETE member %s on %s: %d %s; again", id, via.ID, code, body)
		time.Sleep(200 * time.Millisecond)
	}
}

func (c *Cluster) removeMemberOnce(via *Member, id string, force bool) (int, string) {
	c.t.Helper()
	u := via.URL() + "/client/v4/cluster/members/" + id
	if force {
		u += "?force=true"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, u, nil)
	if err != nil {
		c.t.Fatalf("testcluster: remove member %s: %v", id, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Token())
	resp, err := c.HTTPClient().Do(req)
	if err != nil {
		c.t.Fatalf("testcluster: remove member %s via %s: %v", id, via.ID, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
