package testcluster

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/edgeplane/edgeplane/pkg/wire"
)

// call sends one API request to m and returns the status and envelope.
func call(t *testing.T, m *Member, method, path, token, body string) (int, wire.Envelope) {
	t.Helper()
	req, err := http.NewRequest(method, m.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var env wire.Envelope
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	return resp.StatusCode, env
}

// waitRefusedEverywhere waits until every node answers 401 to token, and
// fails when one still accepts it a second after since.
func waitRefusedEverywhere(t *testing.T, c *Cluster, token string, since time.Time) {
	t.Helper()
	for _, m := range c.Up() {
		for {
			code, _ := call(t, m, "GET", "/client/v4/user/tokens/verify", token, "")
			if code == http.StatusUnauthorized {
				break
			}
			if time.Since(since) > time.Second {
				t.Fatalf("%s still accepts the token %v after it was revoked (status %d)", m.ID, time.Since(since), code)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	t.Logf("measured: refused on every node %v after the revoking call returned", time.Since(since).Round(time.Millisecond))
}

// A scoped token works on every node; once revoked on one node it is
// refused by every node within a second; the bootstrap admin token, rolled,
// likewise.
func TestTokenRevocationReachesEveryNodeWithinASecond(t *testing.T) {
	c := Start(t, Options{Nodes: 3})
	c.WaitReady(20 * time.Second)
	admin := c.Token()
	acct := c.Member(0).Node().AccountID()
	body := `{"name":"kv","policies":[{"effect":"allow","resources":{"com.cloudflare.api.account.` + acct +
		`":"*"},"permission_groups":[{"id":"f7f0eda5697f475c90846e879bab8666"}]}]}`
	code, env := call(t, c.Member(0), "POST", "/client/v4/user/tokens", admin, body)
	if code != http.StatusOK {
		t.Fatalf("create token: %d %+v", code, env.Errors)
	}
	var tok wire.Token
	if err := json.Unmarshal(env.Result, &tok); err != nil {
		t.Fatal(err)
	}
	nsPath := "/client/v4/accounts/" + acct + "/storage/kv/namespaces"
	c.WaitFor("token everywhere", 5*time.Second, func() bool {
		for _, m := range c.Up() {
			if code, _ := call(t, m, "GET", nsPath, tok.Value, ""); code != http.StatusOK {
				return false
			}
		}
		return true
	})
	// Scoped: no cluster status, no token management.
	for _, p := range []string{"/client/v4/cluster/status", "/client/v4/user/tokens"} {
		if code, _ := call(t, c.Member(1), "GET", p, tok.Value, ""); code != http.StatusForbidden {
			t.Fatalf("KV token on %s: %d, want 403", p, code)
		}
	}

	code, env = call(t, c.Member(1), "DELETE", "/client/v4/user/tokens/"+tok.ID, admin, "")
	if code != http.StatusOK {
		t.Fatalf("revoke: %d %+v", code, env.Errors)
	}
	waitRefusedEverywhere(t, c, tok.Value, time.Now())

	// Rotate the bootstrap admin token from the third node.
	code, env = call(t, c.Member(2), "PUT", "/client/v4/user/tokens/bootstrap-admin/value", admin, "{}")
	if code != http.StatusOK {
		t.Fatalf("roll admin: %d %+v", code, env.Errors)
	}
	var rolled string
	if err := json.Unmarshal(env.Result, &rolled); err != nil || rolled == "" {
		t.Fatalf("rolled value %s: %v", env.Result, err)
	}
	waitRefusedEverywhere(t, c, admin, time.Now())
	for _, m := range c.Up() {
		if code, _ := call(t, m, "GET", "/client/v4/cluster/status", rolled, ""); code != http.StatusOK {
			t.Fatalf("%s refuses the rolled admin token: %d", m.ID, code)
		}
	}
}
