package tlsutil

import (
	"crypto/tls"
	"crypto/x509"
	"net/url"
	"testing"
)

func TestIdentityFromCert(t *testing.T) {
	u := func(s string) *url.URL {
		v, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		name string
		uris []*url.URL
		want Identity
		ok   bool
	}{
		{"node", []*url.URL{u("edgeplane://node/n1")}, NodeIdentity("n1"), true},
		{"client", []*url.URL{u("edgeplane://client/ops")}, ClientIdentity("ops"), true},
		{"other schemes ignored", []*url.URL{u("spiffe://x/y"), u("edgeplane://node/n1")}, NodeIdentity("n1"), true},
		{"none", nil, Identity{}, false},
		{"two", []*url.URL{u("edgeplane://node/a"), u("edgeplane://node/b")}, Identity{}, false},
		{"unknown kind", []*url.URL{u("edgeplane://admin/a")}, Identity{}, false},
		{"nested path", []*url.URL{u("edgeplane://node/a/b")}, Identity{}, false},
		{"empty name", []*url.URL{u("edgeplane://node/")}, Identity{}, false},
		{"query", []*url.URL{u("edgeplane://node/a?x=1")}, Identity{}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := IdentityFromCert(&x509.Certificate{URIs: c.uris})
			if (err == nil) != c.ok || got != c.want {
				t.Fatalf("got %v, %v; want %v ok=%v", got, err, c.want, c.ok)
			}
		})
	}
	// The CommonName alone is not an identity.
	if _, err := IdentityFromCert(&x509.Certificate{}); err == nil {
		t.Fatal("certificate without URI SAN had an identity")
	}
}

func TestPeerIdentityNeedsVerifiedChain(t *testing.T) {
	cert := &x509.Certificate{URIs: []*url.URL{NodeIdentity("n").URI()}}
	if _, err := PeerIdentity(tls.ConnectionState{HandshakeComplete: true, PeerCertificates: []*x509.Certificate{cert}}); err == nil {
		t.Fatal("an unverified peer certificate gave an identity")
	}
	id, err := PeerIdentity(tls.ConnectionState{HandshakeComplete: true, VerifiedChains: [][]*x509.Certificate{{cert}}})
	if err != nil || id != NodeIdentity("n") {
		t.Fatalf("got %v, %v", id, err)
	}
}
