package authz

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"
)

// Effect is what a policy does to the permissions it covers.
type Effect string

// The effects.
const (
	Allow Effect = "allow"
	Deny  Effect = "deny"
)

// Status is a token's state. Only active tokens allow anything.
type Status string

// The statuses Cloudflare reports. The empty status counts as active.
const (
	StatusActive   Status = "active"
	StatusDisabled Status = "disabled"
	StatusExpired  Status = "expired"
)

// Token is a scoped API token in the JSON shape of Cloudflare's POST
// /user/tokens body (name, policies, not_before, expires_on,
// condition.request_ip.in/not_in) plus the id and status of its responses.
type Token struct {
	ID        string     `json:"id,omitempty"`
	Name      string     `json:"name"`
	Status    Status     `json:"status,omitempty"`
	Policies  []Policy   `json:"policies"`
	NotBefore *time.Time `json:"not_before,omitempty"`
	ExpiresOn *time.Time `json:"expires_on,omitempty"`
	Condition *Condition `json:"condition,omitempty"`
}

// Policy grants or denies its permission groups on its resources.
type Policy struct {
	ID               string            `json:"id,omitempty"`
	Effect           Effect            `json:"effect"`
	Resources        map[string]string `json:"resources"`
	PermissionGroups []GroupRef        `json:"permission_groups"`
}

// GroupRef names a permission group by id; name is informative.
type GroupRef struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// Condition restricts where a token may be used from.
type Condition struct {
	RequestIP *IPCondition `json:"request_ip,omitempty"`
}

// IPCondition lists client address ranges (CIDR, IPv4 or IPv6; a bare
// address is a single-address range).
type IPCondition struct {
	In    []string `json:"in,omitempty"`
	NotIn []string `json:"not_in,omitempty"`
}

// Edgeplane's own bounds on a token (not Cloudflare's).
const (
	MaxTokenJSON       = 64 << 10
	MaxPolicies        = 32
	MaxGroupsPerPolicy = 32
	MaxResources       = 32
	MaxCIDRs           = 256
	MaxNameLen         = 120
)

// Resource key prefixes and forms.
const (
	accountPrefix = string(ScopeAccount) + "."
	userPrefix    = string(ScopeUser) + "."
	// ClusterResource names the cluster for cluster-scoped groups.
	ClusterResource = string(ScopeCluster)
	// AllAccounts is the resource key of every account.
	AllAccounts = accountPrefix + "*"
	// AllUsers is the resource key of every user.
	AllUsers = userPrefix + "*"
)

// AccountResource is the resource key of account id.
func AccountResource(id string) string { return accountPrefix + id }

// UserResource is the resource key of user id.
func UserResource(id string) string { return userPrefix + id }

// ValidationError is a token that Validate refused; Field locates the
// problem in the JSON body (e.g. "policies[0].resources").
type ValidationError struct {
	Field   string
	Message string
}

func (e *ValidationError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// DecodeToken parses a token JSON body of at most MaxTokenJSON bytes and
// validates it.
func DecodeToken(data []byte) (*Token, error) {
	if len(data) > MaxTokenJSON {
		return nil, invalid("", "token body of %d bytes exceeds %d", len(data), MaxTokenJSON)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var t Token
	if err := dec.Decode(&t); err != nil {
		return nil, decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, invalid("", "unexpected data after the token object")
	}
	if err := Validate(&t); err != nil {
		return nil, err
	}
	return &t, nil
}

func decodeError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if strings.Contains(te.Field, "resources") {
			return invalid(te.Field, "resource values must be \"*\" (nested resources are not supported)")
		}
		return invalid(te.Field, "wrong JSON type %s, want %s", te.Value, te.Type)
	}
	var pe *time.ParseError
	if errors.As(err, &pe) {
		return invalid("", "time %q is not RFC 3339 (e.g. 2026-01-02T15:04:05Z)", pe.Value)
	}
	return invalid("", "malformed token JSON: %v", err)
}

// Validate checks a token: a name, 1 to MaxPolicies policies, each with an
// effect of allow or deny, known permission group ids, well-formed
// resources whose scopes match its groups', CIDRs that parse, a status
// Cloudflare knows, and expires_on after not_before.
func Validate(t *Token) error {
	_, err := compile(t)
	return err
}

// compiled is a validated token ready to evaluate.
type compiled struct {
	tok      *Token
	policies []compiledPolicy
	in       []netip.Prefix
	notIn    []netip.Prefix
}

type compiledPolicy struct {
	index  int
	id     string
	effect Effect
	groups []*PermissionGroup
	// accounts and users hold the ids named; "*" for all.
	accounts map[string]bool
	users    map[string]bool
	cluster  bool
}

func compile(t *Token) (*compiled, error) {
	if t == nil {
		return nil, invalid("", "no token")
	}
	if strings.TrimSpace(t.Name) == "" {
		return nil, invalid("name", "required")
	}
	if len(t.Name) > MaxNameLen {
		return nil, invalid("name", "longer than %d bytes", MaxNameLen)
	}
	switch t.Status {
	case "", StatusActive, StatusDisabled, StatusExpired:
	default:
		return nil, invalid("status", "%q is not active, disabled or expired", t.Status)
	}
	if t.NotBefore != nil && t.ExpiresOn != nil && !t.ExpiresOn.After(*t.NotBefore) {
		return nil, invalid("expires_on", "%s is not after not_before %s",
			t.ExpiresOn.UTC().Format(time.RFC3339), t.NotBefore.UTC().Format(time.RFC3339))
	}
	if len(t.Policies) == 0 {
		return nil, invalid("policies", "at least one policy is required")
	}
	if len(t.Policies) > MaxPolicies {
		return nil, invalid("policies", "%d policies, at most %d", len(t.Policies), MaxPolicies)
	}
	c := &compiled{tok: t}
	for i := range t.Policies {
		cp, err := compilePolicy(i, &t.Policies[i])
		if err != nil {
			return nil, err
		}
		c.policies = append(c.policies, cp)
	}
	if t.Condition != nil && t.Condition.RequestIP != nil {
		var err error
		if c.in, err = parseCIDRs("condition.request_ip.in", t.Condition.RequestIP.In); err != nil {
			return nil, err
		}
		if c.notIn, err = parseCIDRs("condition.request_ip.not_in", t.Condition.RequestIP.NotIn); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func compilePolicy(i int, p *Policy) (compiledPolicy, error) {
	field := fmt.Sprintf("policies[%d]", i)
	cp := compiledPolicy{index: i, id: p.ID, effect: p.Effect, accounts: map[string]bool{}, users: map[string]bool{}}
	if p.Effect != Allow && p.Effect != Deny {
		return cp, invalid(field+".effect", "%q is not allow or deny", p.Effect)
	}
	if len(p.PermissionGroups) == 0 {
		return cp, invalid(field+".permission_groups", "at least one permission group is required")
	}
	if len(p.PermissionGroups) > MaxGroupsPerPolicy {
		return cp, invalid(field+".permission_groups", "%d groups, at most %d", len(p.PermissionGroups), MaxGroupsPerPolicy)
	}
	scopes := map[Scope]bool{}
	for j, ref := range p.PermissionGroups {
		g := groupByID(ref.ID)
		if g == nil {
			return cp, invalid(fmt.Sprintf("%s.permission_groups[%d].id", field, j), "unknown permission group %q", ref.ID)
		}
		if ref.Name != "" && ref.Name != g.Name {
			return cp, invalid(fmt.Sprintf("%s.permission_groups[%d].name", field, j), "%q is group %s, named %q", ref.Name, g.ID, g.Name)
		}
		cp.groups = append(cp.groups, g)
		scopes[g.Scope] = true
	}
	if len(p.Resources) == 0 {
		return cp, invalid(field+".resources", "at least one resource is required")
	}
	if len(p.Resources) > MaxResources {
		return cp, invalid(field+".resources", "%d resources, at most %d", len(p.Resources), MaxResources)
	}
	have := map[Scope]bool{}
	for key, val := range p.Resources {
		rf := fmt.Sprintf("%s.resources[%q]", field, key)
		if val != "*" {
			return cp, invalid(rf, "value %q: want \"*\"", val)
		}
		scope, id, err := parseResource(key)
		if err != nil {
			return cp, invalid(rf, "%v", err)
		}
		if !scopes[scope] {
			return cp, invalid(rf, "no permission group of this policy applies to %s resources", scope)
		}
		have[scope] = true
		switch scope {
		case ScopeAccount:
			cp.accounts[id] = true
		case ScopeUser:
			cp.users[id] = true
		case ScopeCluster:
			cp.cluster = true
		}
	}
	for _, g := range cp.groups {
		if !have[g.Scope] {
			return cp, invalid(field+".resources", "permission group %q needs a %s resource", g.Name, g.Scope)
		}
	}
	return cp, nil
}

// parseResource splits a resource key into its scope and id ("*" for all).
func parseResource(key string) (Scope, string, error) {
	switch {
	case key == ClusterResource:
		return ScopeCluster, "", nil
	case strings.HasPrefix(key, accountPrefix+"zone"):
		return "", "", fmt.Errorf("zone resources are not supported")
	case strings.HasPrefix(key, accountPrefix):
		id := strings.TrimPrefix(key, accountPrefix)
		if id != "*" && !validID(id) {
			return "", "", fmt.Errorf("account id %q: want * or 1 to 64 of A-Z a-z 0-9 . _ -", id)
		}
		return ScopeAccount, id, nil
	case strings.HasPrefix(key, userPrefix):
		id := strings.TrimPrefix(key, userPrefix)
		if id != "*" && !validID(id) {
			return "", "", fmt.Errorf("user id %q: want * or 1 to 64 of A-Z a-z 0-9 . _ -", id)
		}
		return ScopeUser, id, nil
	}
	return "", "", fmt.Errorf("unknown resource: want %s<id>, %s<id> (or * for all) or %s", accountPrefix, userPrefix, ClusterResource)
}

func validID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
		default:
			return false
		}
	}
	return true
}

func parseCIDRs(field string, list []string) ([]netip.Prefix, error) {
	if len(list) > MaxCIDRs {
		return nil, invalid(field, "%d ranges, at most %d", len(list), MaxCIDRs)
	}
	out := make([]netip.Prefix, 0, len(list))
	for i, s := range list {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil || a.Zone() != "" {
				return nil, invalid(fmt.Sprintf("%s[%d]", field, i), "%q is not a CIDR range or address", s)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
