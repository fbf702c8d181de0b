package wire

import "github.com/edgeplane/edgeplane/pkg/authz"

// TokenVerify is the result of GET /client/v4/user/tokens/verify.
type TokenVerify struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	NotBefore string `json:"not_before,omitempty"`
	ExpiresOn string `json:"expires_on,omitempty"`
}

// User is the result of GET /client/v4/user.
type User struct {
	ID        string `json:"id"`
	Email     string `json:"email"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Username  string `json:"username"`
	Suspended bool   `json:"suspended"`
}

// Account is one element of GET /client/v4/accounts.
type Account struct {
	ID        string         `json:"id"`
	Name      string         `json:"name"`
	Type      string         `json:"type"`
	Settings  map[string]any `json:"settings"`
	CreatedOn string         `json:"created_on"`
}

// AccountRef is the account part of a Membership.
type AccountRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Membership is one element of GET /client/v4/memberships.
type Membership struct {
	ID      string     `json:"id"`
	Status  string     `json:"status"`
	Account AccountRef `json:"account"`
	Roles   []string   `json:"roles"`
}

// Token is a catalog API token as returned by the token endpoints. Value is
// set only in the response that creates the token; the catalog keeps a hash.
type Token struct {
	ID         string           `json:"id"`
	Name       string           `json:"name"`
	Status     string           `json:"status"`
	IssuedOn   string           `json:"issued_on"`
	ModifiedOn string           `json:"modified_on,omitempty"`
	NotBefore  string           `json:"not_before,omitempty"`
	ExpiresOn  string           `json:"expires_on,omitempty"`
	Policies   []authz.Policy   `json:"policies"`
	Condition  *authz.Condition `json:"condition,omitempty"`
	// AccountID is Edgeplane's: the account the token belongs to.
	AccountID string `json:"account_id,omitempty"`
	Value     string `json:"value,omitempty"`
}
