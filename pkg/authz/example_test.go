package authz_test

import (
	"fmt"
	"net"
	"time"

	"github.com/edgeplane/edgeplane/pkg/authz"
)

func ExampleCompile() {
	tok, err := authz.DecodeToken([]byte(`{
	  "name": "kv writer for acc1",
	  "policies": [{
	    "effect": "allow",
	    "resources": {"com.cloudflare.api.account.acc1": "*"},
	    "permission_groups": [{"id": "f7f0eda5697f475c90846e879bab8666", "name": "Workers KV Storage Write"}]
	  }],
	  "condition": {"request_ip": {"in": ["10.0.0.0/8"]}}
	}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	e, err := authz.Compile(tok)
	if err != nil {
		fmt.Println(err)
		return
	}
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, r := range []struct {
		account, method, ip string
	}{
		{"acc1", "PUT", "10.1.2.3"},
		{"acc1", "GET", "10.1.2.3"},
		{"acc2", "GET", "10.1.2.3"},
		{"acc1", "GET", "192.0.2.1"},
	} {
		perm, _ := authz.PermissionFor(authz.ServiceKV, r.method)
		d := e.Allowed(authz.Request{Account: r.account, Permission: perm, ClientIP: net.ParseIP(r.ip), Now: now})
		fmt.Printf("%v: %s\n", d.Allowed, d.Reason)
	}
	// Output:
	// true: kv.write on account acc1 is allowed by policy #0
	// true: kv.read on account acc1 is allowed by policy #0
	// false: no policy of the token allows kv.read on account acc2
	// false: client IP 192.0.2.1 is not in the token's allowed ranges
}
