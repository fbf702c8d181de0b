package tlsutil

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// URI scheme and hosts of the identities this package issues.
const (
	uriScheme  = "edgeplane"
	hostNode   = "node"
	hostClient = "client"
	maxNameLen = 64
)

// Kind is what an identity names: a cluster node or an operator client.
type Kind string

// The kinds of identity.
const (
	KindNode   Kind = "node"
	KindClient Kind = "client"
)

// Identity is who a certificate belongs to.
type Identity struct {
	Kind Kind
	Name string
}

// NodeIdentity is the identity of node id.
func NodeIdentity(id string) Identity { return Identity{Kind: KindNode, Name: id} }

// ClientIdentity is the identity of operator client name.
func ClientIdentity(name string) Identity { return Identity{Kind: KindClient, Name: name} }

// URI is the identity's URI SAN: edgeplane://node/<id> or
// edgeplane://client/<name>.
func (i Identity) URI() *url.URL {
	return &url.URL{Scheme: uriScheme, Host: string(i.Kind), Path: "/" + i.Name}
}

// String is the URI form.
func (i Identity) String() string { return i.URI().String() }

// IsNode reports whether i names a node.
func (i Identity) IsNode() bool { return i.Kind == KindNode }

// Validate checks that the kind is known and the name is 1 to 64 of
// [A-Za-z0-9._-] (the node id alphabet of edged).
func (i Identity) Validate() error {
	if i.Kind != KindNode && i.Kind != KindClient {
		return fmt.Errorf("identity kind %q: want node or client", i.Kind)
	}
	if !validName(i.Name) {
		return fmt.Errorf("%s name %q: want 1 to %d of A-Z a-z 0-9 . _ -", i.Kind, i.Name, maxNameLen)
	}
	return nil
}

func validName(s string) bool {
	if s == "" || len(s) > maxNameLen {
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

// ParseIdentity parses an edgeplane://node/<id> or edgeplane://client/<name>
// URI.
func ParseIdentity(u *url.URL) (Identity, error) {
	if u == nil || u.Scheme != uriScheme {
		return Identity{}, fmt.Errorf("not an %s:// identity: %v", uriScheme, u)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return Identity{}, fmt.Errorf("identity %q has extra parts", u)
	}
	id := Identity{Kind: Kind(u.Host), Name: strings.TrimPrefix(u.Path, "/")}
	if err := id.Validate(); err != nil {
		return Identity{}, fmt.Errorf("identity %q: %w", u, err)
	}
	return id, nil
}

// ErrNoIdentity means a certificate carries no Edgeplane identity.
var ErrNoIdentity = errors.New("certificate has no edgeplane:// identity")

// IdentityFromCert returns the identity of cert: its one edgeplane:// URI
// SAN. A certificate with none, more than one, or a malformed one has no
// identity. The CommonName is not consulted.
func IdentityFromCert(cert *x509.Certificate) (Identity, error) {
	if cert == nil {
		return Identity{}, ErrNoIdentity
	}
	var found []Identity
	for _, u := range cert.URIs {
		if u.Scheme != uriScheme {
			continue
		}
		id, err := ParseIdentity(u)
		if err != nil {
			return Identity{}, err
		}
		found = append(found, id)
	}
	switch len(found) {
	case 0:
		return Identity{}, ErrNoIdentity
	case 1:
		return found[0], nil
	default:
		return Identity{}, fmt.Errorf("certificate has %d edgeplane:// identities, want one", len(found))
	}
}

// NodeIDFromCert returns the node id cert names, or an error when it names
// no node (a client certificate, or none at all).
func NodeIDFromCert(cert *x509.Certificate) (string, error) {
	id, err := IdentityFromCert(cert)
	if err != nil {
		return "", err
	}
	if !id.IsNode() {
		return "", fmt.Errorf("certificate names %s, not a node", id)
	}
	return id.Name, nil
}

// ErrUnverifiedPeer means a connection has no verified peer certificate.
var ErrUnverifiedPeer = errors.New("peer presented no verified certificate")

// PeerIdentity returns the identity of the peer of a completed handshake.
// Only a certificate that crypto/tls verified counts (cs.VerifiedChains):
// on the server side of ServerConfig that is every client; on the client
// side of ClientConfig verification is done by this package and
// VerifiedChains stays empty, so use ClientConfig's expectNodeID instead.
func PeerIdentity(cs tls.ConnectionState) (Identity, error) {
	if !cs.HandshakeComplete {
		return Identity{}, errors.New("handshake not complete")
	}
	return verifiedIdentity(cs)
}

// verifiedIdentity is PeerIdentity without the completeness check, for
// VerifyConnection callbacks (which run before the handshake completes).
func verifiedIdentity(cs tls.ConnectionState) (Identity, error) {
	if len(cs.VerifiedChains) == 0 || len(cs.VerifiedChains[0]) == 0 {
		return Identity{}, ErrUnverifiedPeer
	}
	return IdentityFromCert(cs.VerifiedChains[0][0])
}
