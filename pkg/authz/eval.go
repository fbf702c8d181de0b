package authz

import (
	"fmt"
	"net"
	"net/netip"
	"time"
)

// Request is one action a token is asked to allow.
type Request struct {
	// Account is the account the action touches, for account-scoped
	// permissions. Empty means every account (a listing across accounts):
	// only an allow on com.cloudflare.api.account.* allows it, and a deny
	// naming any account denies it.
	Account string
	// User is the user whose tokens are touched, for user-scoped
	// permissions (Edgeplane's one user is api.UserID). Empty means every
	// user, with the same rules as an empty Account.
	User string
	// Permission is what the action needs (see PermissionFor).
	Permission Permission
	// ClientIP is the client's address; nil when unknown (then any
	// request_ip condition fails).
	ClientIP net.IP
	// Now is the time of the request; zero means time.Now().
	Now time.Time
}

// Decision is the answer to a Request.
type Decision struct {
	Allowed bool
	// Reason says why, for logs and error messages.
	Reason string
	// Policy is the index in Token.Policies of the deciding policy, or -1
	// when none decided (an inactive token, a failed condition, or no
	// policy covering the request).
	Policy int
}

func deny(policy int, format string, args ...any) Decision {
	return Decision{Reason: fmt.Sprintf(format, args...), Policy: policy}
}

// Evaluator answers requests for one validated token. It is immutable and
// safe for concurrent use; build it once per token version and cache it.
type Evaluator struct {
	c *compiled
}

// Compile validates t and returns its Evaluator. t must not be changed
// afterwards.
func Compile(t *Token) (*Evaluator, error) {
	c, err := compile(t)
	if err != nil {
		return nil, err
	}
	return &Evaluator{c: c}, nil
}

// Allowed evaluates req against t in one step: an invalid token denies
// everything. Compile once and use Evaluator.Allowed on hot paths.
func Allowed(t *Token, req Request) Decision {
	e, err := Compile(t)
	if err != nil {
		return deny(-1, "invalid token: %v", err)
	}
	return e.Allowed(req)
}

// Allowed decides req. See the package documentation for the rules.
func (e *Evaluator) Allowed(req Request) Decision {
	t := e.c.tok
	if !req.Permission.Valid() {
		return deny(-1, "unknown permission %q", req.Permission)
	}
	switch t.Status {
	case "", StatusActive:
	default:
		return deny(-1, "token is %s", t.Status)
	}
	now := req.Now
	if now.IsZero() {
		now = time.Now()
	}
	if t.NotBefore != nil && now.Before(*t.NotBefore) {
		return deny(-1, "token is not valid before %s", t.NotBefore.UTC().Format(time.RFC3339))
	}
	if t.ExpiresOn != nil && !now.Before(*t.ExpiresOn) {
		return deny(-1, "token expired on %s", t.ExpiresOn.UTC().Format(time.RFC3339))
	}
	if d, ok := e.checkIP(req.ClientIP); !ok {
		return d
	}
	for _, p := range e.c.policies {
		if p.effect == Deny && p.covers(req, true) {
			return deny(p.index, "%s on %s is denied by policy %s", req.Permission, target(req), p.name())
		}
	}
	for _, p := range e.c.policies {
		if p.effect == Allow && p.covers(req, false) {
			return Decision{Allowed: true, Policy: p.index,
				Reason: fmt.Sprintf("%s on %s is allowed by policy %s", req.Permission, target(req), p.name())}
		}
	}
	return deny(-1, "no policy of the token allows %s on %s", req.Permission, target(req))
}

func (e *Evaluator) checkIP(ip net.IP) (Decision, bool) {
	if len(e.c.in) == 0 && len(e.c.notIn) == 0 {
		return Decision{}, true
	}
	addr, ok := netip.AddrFromSlice(ip)
	if !ok {
		return deny(-1, "token is restricted by client IP and the client IP is unknown"), false
	}
	addr = addr.Unmap()
	for _, p := range e.c.notIn {
		if p.Contains(addr) {
			return deny(-1, "client IP %s is in %s, excluded by the token", addr, p), false
		}
	}
	if len(e.c.in) > 0 {
		for _, p := range e.c.in {
			if p.Contains(addr) {
				return Decision{}, true
			}
		}
		return deny(-1, "client IP %s is not in the token's allowed ranges", addr), false
	}
	return Decision{}, true
}

// covers reports whether p applies to req: a group that grants (or, for a
// deny policy, denies) the permission, with a resource of that group's
// scope naming req's target.
func (p *compiledPolicy) covers(req Request, denying bool) bool {
	for _, g := range p.groups {
		has := g.grants(req.Permission)
		if denying {
			has = g.denies(req.Permission)
		}
		if has && p.matches(g.Scope, req, denying) {
			return true
		}
	}
	return false
}

// matches reports whether p names req's target for a group of scope. An
// empty Account (User) means every account (user): only the wildcard
// allows it, and a deny naming any account (user) denies it.
func (p *compiledPolicy) matches(scope Scope, req Request, denying bool) bool {
	switch scope {
	case ScopeCluster:
		return p.cluster
	case ScopeAccount:
		return matchID(p.accounts, req.Account, denying)
	case ScopeUser:
		return matchID(p.users, req.User, denying)
	}
	return false
}

func matchID(ids map[string]bool, id string, denying bool) bool {
	if id == "" {
		if denying {
			return len(ids) > 0
		}
		return ids["*"]
	}
	return ids["*"] || ids[id]
}

func (p *compiledPolicy) name() string {
	if p.id != "" {
		return fmt.Sprintf("%q", p.id)
	}
	return fmt.Sprintf("#%d", p.index)
}

// target names what req touches, for reasons.
func target(req Request) string {
	switch req.Permission.Scope() {
	case ScopeCluster:
		return "the cluster"
	case ScopeUser:
		if req.User == "" {
			return "every user"
		}
		return "user " + req.User
	}
	if req.Account == "" {
		return "every account"
	}
	return "account " + req.Account
}
