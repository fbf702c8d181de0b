package authz

import (
	"fmt"
	"net"
	"slices"
	"time"
)

// CanGrant checks that the holder of e may create (or widen a token into)
// t without escalating: everything an allow policy of t grants must be
// allowed to e itself, for a request from clientIP at now. Wildcards are
// compared as wildcards: granting com.cloudflare.api.account.* needs e to
// hold the permission on every account, not on some. Deny policies of t
// only narrow it and need nothing. The error names the first permission e
// lacks.
func (e *Evaluator) CanGrant(t *Token, clientIP net.IP, now time.Time) error {
	c, err := compile(t)
	if err != nil {
		return err
	}
	type need struct {
		perm          Permission
		account, user string
	}
	seen := map[need]bool{}
	var needs []need
	add := func(n need) {
		if !seen[n] {
			seen[n] = true
			needs = append(needs, n)
		}
	}
	for _, p := range c.policies {
		if p.effect != Allow {
			continue
		}
		for _, g := range p.groups {
			for _, perm := range grantedBy(g) {
				switch g.Scope {
				case ScopeAccount:
					for id := range p.accounts {
						add(need{perm: perm, account: wildcardToEmpty(id)})
					}
				case ScopeUser:
					for id := range p.users {
						add(need{perm: perm, user: wildcardToEmpty(id)})
					}
				case ScopeCluster:
					// Cluster groups apply to every account and user.
					add(need{perm: perm})
				}
			}
		}
	}
	for _, n := range needs {
		d := e.Allowed(Request{Account: n.account, User: n.user, Permission: n.perm, ClientIP: clientIP, Now: now})
		if !d.Allowed {
			return fmt.Errorf("cannot grant what this token does not hold: %s", d.Reason)
		}
	}
	return nil
}

// grantedBy lists what an allow of g grants: its permissions and the reads
// their writes imply.
func grantedBy(g *PermissionGroup) []Permission {
	var out []Permission
	for _, p := range g.Permissions {
		out = append(out, p)
		if r, ok := p.read(); ok && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

func wildcardToEmpty(id string) string {
	if id == "*" {
		return ""
	}
	return id
}
