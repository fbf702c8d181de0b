// Package authz decides what a Cloudflare-style scoped API token may do.
//
// A Token carries policies in the shape of Cloudflare's POST /user/tokens
// body: each Policy allows or denies the permissions of its permission
// groups on its resources, e.g.
//
//	{"effect": "allow",
//	 "resources": {"com.cloudflare.api.account.<account id>": "*"},
//	 "permission_groups": [{"id": "f7f0eda5697f475c90846e879bab8666", "name": "Workers KV Storage Write"}]}
//
// Validate checks a token; Compile validates it once and returns an
// Evaluator whose Allowed answers a Request (account, permission, client
// IP, time) with a Decision and its reason. The rules:
//
//   - A token that is not active, not yet valid (not_before) or expired
//     (expires_on, exclusive) allows nothing. With a request_ip condition
//     the client IP must be in one of the "in" ranges (when any are given)
//     and in none of the "not_in" ranges; an unknown client IP fails both.
//   - A policy covers a request when one of its groups carries the
//     permission and one of its resources of that group's scope names the
//     request's target: com.cloudflare.api.account.<id> or
//     com.cloudflare.api.account.* for account groups,
//     com.cloudflare.api.user.<id> or com.cloudflare.api.user.* for user
//     groups, com.edgeplane.api.cluster for cluster groups (which then
//     apply to every account and user).
//   - Any covering deny policy denies, whatever the allow policies say.
//     Otherwise any covering allow policy allows. Otherwise the request is
//     denied: nothing is allowed by default.
//   - A request for every account (Request.Account empty, a listing) is
//     allowed only by com.cloudflare.api.account.* and denied by a deny
//     naming any account; the same for users.
//   - When allowing, a group's write permission also grants the read
//     permission of the same service (Cloudflare's "Edit" includes read).
//     When denying, a group denies exactly its own permissions, so a deny
//     of "Workers KV Storage Write" leaves reads alone.
//
// Evaluator.CanGrant checks that a token creating another one holds
// everything the new token would allow (no escalation through API Tokens
// Write).
//
// The package is pure logic: it keeps no state and does no I/O.
package authz
