package api

import (
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/edgeplane/edgeplane/pkg/authz"
	"github.com/edgeplane/edgeplane/pkg/catalog"
)

// Access says whether a route reads or writes, which picks the permission
// it needs from its service's family (authz.PermissionFor).
type Access uint8

// Access levels of a route.
const (
	// AccessDefault decides by method: GET, HEAD and OPTIONS read, every
	// other method writes.
	AccessDefault Access = iota
	// AccessRead is a route that only reads whatever its method (KV bulk
	// get through POST).
	AccessRead
	// AccessWrite is a route that writes whatever its method.
	AccessWrite
	// AccessSigned is a route that asks for no token because it checks a
	// signature in its own URL (D1's export download and import upload,
	// as Cloudflare's signed URLs). Its handler must verify every request.
	AccessSigned
)

// caller is who authenticated a request.
type caller struct {
	principal string           // the catalog token id, or AdminPrincipal
	tok       catalog.Token    // the catalog token (ID only for the local admin token)
	ev        *authz.Evaluator // nil: the token allows nothing
	// local is the node's own admin token accepted before the catalog is
	// initialized: it may read cluster status, nothing else.
	local bool
}

// rule is what one of the API's own routes needs beyond authentication.
type rule struct {
	perm      authz.Permission // "": any valid token (the handler may filter)
	account   bool             // perm is on the path's {account_id}
	bootstrap bool             // the local admin token may call it before init
}

// ownRules are the permissions of the API's own routes. Routes mounted by
// services need their service's read or write permission on the path's
// account; a route missing here with a service that has no permission
// family needs Cluster Admin.
var ownRules = map[string]rule{
	"GET /client/v4/cluster/members": {perm: authz.ClusterRead, bootstrap: true},
	"GET /client/v4/cluster/status":  {perm: authz.ClusterRead, bootstrap: true},

	"GET /client/v4/user":                          {},
	"GET /client/v4/user/tokens/verify":            {},
	"GET /client/v4/user/tokens/permission_groups": {},
	"GET /client/v4/user/tokens":                   {perm: authz.TokensRead},
	"POST /client/v4/user/tokens":                  {perm: authz.TokensWrite},
	"GET /client/v4/user/tokens/{token_id}":        {perm: authz.TokensRead},
	"DELETE /client/v4/user/tokens/{token_id}":     {perm: authz.TokensWrite},
	"PUT /client/v4/user/tokens/{token_id}/value":  {perm: authz.TokensWrite},
	"GET /client/v4/accounts":                      {}, // filtered to the accounts the token sees
	"POST /client/v4/accounts":                     {perm: authz.ClusterWrite},
	"GET /client/v4/accounts/{account_id}":         {}, // 403 unless the token sees the account
	"PATCH /client/v4/accounts/{account_id}":       {perm: authz.AccountWrite, account: true},
	"DELETE /client/v4/accounts/{account_id}":      {perm: authz.ClusterWrite},
	"GET /client/v4/memberships":                   {}, // filtered like accounts
}

// authorizer holds the compiled evaluators of the tokens seen at the
// current catalog version.
type authorizer struct {
	mu      sync.Mutex
	version uint64
	evals   map[string]*authz.Evaluator
}

// evaluator returns t's compiled policies, cached per token id and catalog
// version (any catalog change drops the cache). nil: t allows nothing,
// because it has no policies (a token from before tokens were scoped) or
// they do not compile.
func (a *authorizer) evaluator(t catalog.Token, version uint64) *authz.Evaluator {
	if len(t.Policies) == 0 {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if version > a.version || a.evals == nil {
		a.version, a.evals = version, make(map[string]*authz.Evaluator)
	}
	if version == a.version {
		if e, ok := a.evals[t.ID]; ok {
			return e
		}
	}
	e, err := authz.Compile(t.Scope())
	if err != nil {
		return nil
	}
	if version == a.version {
		a.evals[t.ID] = e
	}
	return e
}

// routePermission is the permission a mounted route of service needs.
func routePermission(service, method string, acc Access) authz.Permission {
	switch acc {
	case AccessRead:
		method = http.MethodGet
	case AccessWrite:
		method = http.MethodPost
	}
	p, err := authz.PermissionFor(authz.Service(service), method)
	if err != nil {
		return authz.ClusterWrite // a service without a permission family: operators only
	}
	return p
}

// authorize checks that c's token allows the route (a mounted route's
// permission follows from service, the method and access); when not, it
// answers 403 and returns false. Requests forwarded by a member were authorized by
// the node that received them from the client (which saw the client's
// address) and are not checked again.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, pattern, service string, access Access, c *caller) bool {
	if ForwardedFrom(r.Context()) != "" {
		return true
	}
	var d authz.Decision
	if rl, ok := ownRules[pattern]; ok {
		switch {
		case c.local && rl.bootstrap:
			return true
		case rl.perm == "" && !c.local:
			return true
		}
		account := ""
		if rl.account {
			account = r.PathValue("account_id")
		}
		d = s.decide(c, r, rl.perm, account)
	} else {
		perm := routePermission(service, r.Method, access)
		d = s.decide(c, r, perm, r.PathValue("account_id"))
	}
	if d.Allowed {
		return true
	}
	// The local admin token stands in for the cluster's tokens only on a
	// node whose catalog is empty: on a restarted one that is still
	// loading it, the client's token may well be in the part to come.
	if c.local && s.catalogBehind(w, r) {
		return false
	}
	writeForbidden(w, r, d.Reason)
	return false
}

// decide evaluates c's token for perm on account (all accounts when "").
func (s *Server) decide(c *caller, r *http.Request, perm authz.Permission, account string) authz.Decision {
	switch {
	case c == nil:
		return authz.Decision{Reason: "not authenticated"}
	case c.local:
		return authz.Decision{Reason: "the node's local admin token only reads cluster status until the catalog is initialized"}
	case c.ev == nil:
		return authz.Decision{Reason: "token " + c.tok.ID + " has no valid policies"}
	}
	return c.ev.Allowed(authz.Request{Account: account, User: UserID, Permission: perm, ClientIP: clientIP(r), Now: time.Now()})
}

// allowed reports whether the request's caller has perm on account.
func (s *Server) allowed(r *http.Request, perm authz.Permission, account string) bool {
	return s.decide(callerFrom(r), r, perm, account).Allowed
}

// clusterAdmin reports whether the request's caller holds Cluster Admin:
// it may see and manage every account and every token.
func (s *Server) clusterAdmin(r *http.Request) bool {
	return s.allowed(r, authz.ClusterWrite, "")
}

// seesAccount reports whether the request's caller may see account id:
// when its token allows some read in it (writes imply reads).
func (s *Server) seesAccount(r *http.Request, id string) bool {
	for _, p := range []authz.Permission{authz.AccountRead, authz.KVRead, authz.D1Read, authz.DORead} {
		if s.allowed(r, p, id) {
			return true
		}
	}
	return false
}

// callerFrom returns the request's authenticated caller, nil when none.
func callerFrom(r *http.Request) *caller {
	if st := stateFrom(r.Context()); st != nil {
		return st.caller
	}
	return nil
}

// clientIP is the address of the request's client, nil when unknown.
func clientIP(r *http.Request) net.IP {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return net.ParseIP(host)
}

// writeForbidden answers 403 with Cloudflare's answer to a valid token
// that lacks the permission (code 10000, "Authentication error"); the
// reason goes to the access log, not to the client.
func writeForbidden(w http.ResponseWriter, r *http.Request, reason string) {
	if st := stateFrom(r.Context()); st != nil {
		st.err = errors.New("forbidden: " + reason)
	}
	WriteError(w, http.StatusForbidden, CodeAuthentication, "Authentication error")
}
